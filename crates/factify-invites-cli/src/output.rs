//! Printing results: a table for people, or JSON (one object per line) for
//! programs such as `jq`.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use clap::ValueEnum;
use factify_invites::{Invite, InviteStatus, Organization, User, UserType};
use serde_json::{json, Value};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// Aligned columns for people.
    Table,
    /// One JSON object per line.
    Json,
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn status_word(status: &InviteStatus) -> String {
    match status {
        InviteStatus::Pending => "pending".into(),
        InviteStatus::Accepted => "accepted".into(),
        InviteStatus::Expired => "expired".into(),
        InviteStatus::Revoked => "revoked".into(),
        InviteStatus::Unknown(value) => format!("unknown({value})"),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn user_json(user: &User) -> Value {
    let kind = match &user.user_type {
        UserType::UserAccount => "user_account".to_owned(),
        UserType::ServiceAccount => "service_account".to_owned(),
        UserType::Unknown(value) => format!("unknown({value})"),
        other => format!("{other:?}").to_lowercase(),
    };
    json!({
        "id": user.id.as_str(),
        "type": kind,
        "name": user.name,
        "email": user.email,
    })
}

/// An invitation as a JSON object; times in RFC 3339.
pub(crate) fn invite_json(invite: &Invite) -> Value {
    let mut value = json!({
        "id": invite.id.as_str(),
        "organization_id": invite.organization_id.as_str(),
        "email": invite.email,
        "status": status_word(&invite.status),
        "sender": user_json(&invite.sender),
        "created_at": time(invite.created_at),
        "expires_at": time(invite.expires_at),
    });
    if let Some(message) = &invite.message {
        value["message"] = json!(message);
    }
    if let Some(accepted) = &invite.accepted {
        value["accepted_at"] = json!(time(accepted.at));
        value["accepted_by"] = user_json(&accepted.by);
    }
    value
}

fn print_line(line: &str) {
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

impl Output {
    /// Prints one invitation: a field per line, or one JSON object.
    pub(crate) fn invite(self, invite: &Invite) {
        match self {
            Output::Json => print_line(&invite_json(invite).to_string()),
            Output::Table => {
                let mut rows = vec![
                    ("id", invite.id.to_string()),
                    ("organization", invite.organization_id.to_string()),
                    ("email", invite.email.clone()),
                    ("status", status_word(&invite.status)),
                    (
                        "sender",
                        format!(
                            "{} <{}> ({})",
                            invite.sender.name, invite.sender.email, invite.sender.id
                        ),
                    ),
                    ("created", time(invite.created_at)),
                    ("expires", time(invite.expires_at)),
                ];
                if let Some(message) = &invite.message {
                    rows.push(("message", message.clone()));
                }
                if let Some(accepted) = &invite.accepted {
                    rows.push((
                        "accepted",
                        format!(
                            "{} by {} ({})",
                            time(accepted.at),
                            accepted.by.name,
                            accepted.by.id
                        ),
                    ));
                }
                for (name, value) in rows {
                    print_line(&format!("{name:<13}{value}"));
                }
            }
        }
    }

    /// Prints an organization.
    pub(crate) fn organization(self, organization: &Organization) {
        match self {
            Output::Json => print_line(
                &json!({
                    "id": organization.id.as_str(),
                    "name": organization.name,
                    "created_at": time(organization.created_at),
                })
                .to_string(),
            ),
            Output::Table => {
                print_line(&format!("{:<13}{}", "joined", organization.id));
                print_line(&format!("{:<13}{}", "name", organization.name));
                print_line(&format!(
                    "{:<13}{}",
                    "created",
                    time(organization.created_at)
                ));
            }
        }
    }

    /// A list printer, fed one invitation at a time as pages arrive.
    pub(crate) fn list(self) -> ListPrinter {
        ListPrinter {
            output: self,
            rows: 0,
        }
    }
}

/// Prints a list as it streams: the table's columns are fixed so that
/// nothing waits for the last page.
#[derive(Debug)]
pub(crate) struct ListPrinter {
    output: Output,
    rows: usize,
}

impl ListPrinter {
    pub(crate) fn row(&mut self, invite: &Invite) {
        match self.output {
            Output::Json => print_line(&invite_json(invite).to_string()),
            Output::Table => {
                if self.rows == 0 {
                    print_line(&format!(
                        "{:<30}  {:<32}  {:<8}  {:<20}  {:<20}  SENDER",
                        "ID", "EMAIL", "STATUS", "CREATED", "EXPIRES"
                    ));
                }
                print_line(&format!(
                    "{:<30}  {:<32}  {:<8}  {:<20}  {:<20}  {}",
                    invite.id,
                    invite.email,
                    status_word(&invite.status),
                    time(invite.created_at),
                    time(invite.expires_at),
                    invite.sender.name
                ));
            }
        }
        self.rows += 1;
    }

    pub(crate) fn finish(self) {
        if self.output == Output::Table {
            let noun = if self.rows == 1 {
                "invitation"
            } else {
                "invitations"
            };
            eprintln!("{} {noun}", self.rows);
        }
    }
}
