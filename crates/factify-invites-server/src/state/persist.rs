//! Snapshots of the reference server's store (feature `persist`): the
//! [`Snapshot`] type (serde), [`ReferenceServer::snapshot`],
//! [`ReferenceServer::restore`] and [`ReferenceServer::on_change`], with
//! which the `factify-invites serve` emulator keeps its data across
//! restarts.
//!
//! A snapshot holds what a restart must keep: organizations and members,
//! accounts, API keys and their permissions, invitations (with their working
//! token), the remembered idempotency keys, and the recorded emails. It
//! leaves out call counts, rate-limit windows, injected faults and the
//! page-token key: page tokens of an earlier process are refused
//! (`invalid_cursor`) after a restore, so a client lists again from the
//! start.
//!
//! The format is versioned (`"version": 1`); field names are stable, times
//! are RFC 3339 strings, and a field this version does not know is refused
//! rather than dropped. Organizations and API keys keep the order they were
//! added in (seed order).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::{IdempotentCreate, Invite, Stored};
use crate::proto;
use crate::types::{EmailKind, SentEmail};
use crate::validate::{timestamp, to_timestamp};

/// The snapshot format this version writes and reads.
pub(super) const VERSION: u32 = 1;

/// The saved store of a [`ReferenceServer`]: organizations and members,
/// accounts, API keys, invitations with their working tokens, idempotency
/// keys and recorded emails (not call counts, rate-limit windows, faults or
/// the page-token key, so page tokens of an earlier process are refused).
/// Versioned (`"version": 1`); times are RFC 3339 strings.
///
/// Serialize it with any serde format; `Debug` shows only counts, since it
/// holds API keys and invitation tokens. Deserializing refuses fields this
/// version does not know, rather than drop them on the next save.
///
/// [`ReferenceServer`]: crate::ReferenceServer
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub(super) version: u32,
    pub(super) organizations: Vec<OrganizationRecord>,
    pub(super) accounts: Vec<AccountRecord>,
    pub(super) api_keys: Vec<ApiKeyRecord>,
    pub(super) invites: Vec<InviteRecord>,
    #[serde(default)]
    pub(super) idempotency: Vec<IdempotencyRecord>,
    #[serde(default)]
    pub(super) emails: Vec<EmailRecord>,
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("version", &self.version)
            .field("organizations", &self.organizations.len())
            .field("accounts", &self.accounts.len())
            .field("api_keys", &self.api_keys.len())
            .field("invites", &self.invites.len())
            .field("emails", &self.emails.len())
            .finish_non_exhaustive()
    }
}

impl Snapshot {
    /// The organizations, in the order they were added (seed order).
    pub fn organizations(&self) -> &[OrganizationRecord] {
        &self.organizations
    }

    /// The accounts (people and service accounts), sorted by ID.
    pub fn accounts(&self) -> &[AccountRecord] {
        &self.accounts
    }

    /// The API keys, in the order they were added (seed order).
    pub fn api_keys(&self) -> &[ApiKeyRecord] {
        &self.api_keys
    }

    /// How many invitations the snapshot holds.
    pub fn invite_count(&self) -> usize {
        self.invites.len()
    }

    /// How many emails the snapshot holds.
    pub fn email_count(&self) -> usize {
        self.emails.len()
    }
}

/// An organization in a [`Snapshot`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationRecord {
    /// `org_...`.
    pub id: String,
    /// The display name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The IDs of its members, sorted.
    pub members: Vec<String>,
}

/// An account in a [`Snapshot`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountRecord {
    /// `user_...` or `svc_...`.
    pub id: String,
    /// The display name.
    pub name: String,
    /// The (verified) email address.
    pub email: String,
}

/// An API key in a [`Snapshot`].
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyRecord {
    /// The key itself.
    pub key: String,
    /// The account it acts as.
    pub account: String,
    /// May create, list and resend invitations.
    pub invite_members: bool,
    /// May revoke invitations.
    pub manage_members: bool,
}

impl fmt::Debug for ApiKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyRecord")
            .field("key", &"<redacted>")
            .field("account", &self.account)
            .field("invite_members", &self.invite_members)
            .field("manage_members", &self.manage_members)
            .finish()
    }
}

/// A `User` as an invitation shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UserRecord {
    pub(super) id: String,
    /// The wire value of `UserType`.
    pub(super) user_type: i32,
    pub(super) name: String,
    pub(super) email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) profile_image_url: Option<String>,
}

impl From<&proto::User> for UserRecord {
    fn from(user: &proto::User) -> Self {
        UserRecord {
            id: user.id.clone(),
            user_type: user.r#type,
            name: user.name.clone(),
            email: user.email.clone(),
            given_name: user.given_name.clone(),
            family_name: user.family_name.clone(),
            profile_image_url: user.profile_image_url.clone(),
        }
    }
}

impl From<UserRecord> for proto::User {
    fn from(user: UserRecord) -> Self {
        proto::User {
            id: user.id,
            r#type: user.user_type,
            name: user.name,
            email: user.email,
            given_name: user.given_name,
            family_name: user.family_name,
            profile_image_url: user.profile_image_url,
        }
    }
}

/// The stored state of an invitation (expiry is derived from the clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum StoredRecord {
    Pending,
    Accepted,
    Revoked,
}

/// An invitation as stored, with its working token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InviteRecord {
    pub(super) id: String,
    pub(super) organization_id: String,
    pub(super) email: String,
    pub(super) stored: StoredRecord,
    pub(super) sender: UserRecord,
    pub(super) created_at: DateTime<Utc>,
    pub(super) expires_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) accepted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) accepted_by: Option<UserRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) message: Option<String>,
    pub(super) token: String,
}

/// An `OrganizationInvite` exactly as a response carried it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ResponseRecord {
    pub(super) id: String,
    pub(super) organization_id: String,
    pub(super) email: String,
    /// The wire value of `OrganizationInviteStatus`.
    pub(super) status: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sender: Option<UserRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) accepted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) accepted_by: Option<UserRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) message: Option<String>,
}

fn from_timestamp(value: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    value.and_then(|value| timestamp(value, "timestamp").ok())
}

impl From<&proto::OrganizationInvite> for ResponseRecord {
    fn from(invite: &proto::OrganizationInvite) -> Self {
        ResponseRecord {
            id: invite.id.clone(),
            organization_id: invite.organization_id.clone(),
            email: invite.email.clone(),
            status: invite.status,
            sender: invite.sender.as_ref().map(UserRecord::from),
            created_at: from_timestamp(invite.created_at.as_ref()),
            expires_at: from_timestamp(invite.expires_at.as_ref()),
            accepted_at: from_timestamp(invite.accepted_at.as_ref()),
            accepted_by: invite.accepted_by.as_ref().map(UserRecord::from),
            message: invite.message.clone(),
        }
    }
}

impl From<ResponseRecord> for proto::OrganizationInvite {
    fn from(record: ResponseRecord) -> Self {
        proto::OrganizationInvite {
            id: record.id,
            organization_id: record.organization_id,
            email: record.email,
            status: record.status,
            sender: record.sender.map(Into::into),
            created_at: record.created_at.map(to_timestamp),
            expires_at: record.expires_at.map(to_timestamp),
            accepted_at: record.accepted_at.map(to_timestamp),
            accepted_by: record.accepted_by.map(Into::into),
            message: record.message,
        }
    }
}

/// A remembered idempotency key and the response it answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct IdempotencyRecord {
    pub(super) account: String,
    pub(super) organization_id: String,
    pub(super) key: String,
    pub(super) at: DateTime<Utc>,
    pub(super) email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) message: Option<String>,
    pub(super) response: ResponseRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum EmailKindRecord {
    Invitation,
    Resend,
}

/// A recorded email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EmailRecord {
    pub(super) to: String,
    pub(super) organization_id: String,
    pub(super) invite_id: String,
    pub(super) token: String,
    pub(super) kind: EmailKindRecord,
    pub(super) sent_at: DateTime<Utc>,
}

impl From<&Invite> for InviteRecord {
    fn from(invite: &Invite) -> Self {
        InviteRecord {
            id: invite.id.to_string(),
            organization_id: invite.organization_id.to_string(),
            email: invite.email.clone(),
            stored: match invite.stored {
                Stored::Pending => StoredRecord::Pending,
                Stored::Accepted => StoredRecord::Accepted,
                Stored::Revoked => StoredRecord::Revoked,
            },
            sender: UserRecord::from(invite.sender.as_ref()),
            created_at: invite.created_at,
            expires_at: invite.expires_at,
            accepted_at: invite.accepted.as_ref().map(|accepted| accepted.0),
            accepted_by: invite
                .accepted
                .as_ref()
                .map(|accepted| UserRecord::from(&accepted.1)),
            message: invite.message.clone(),
            token: invite.token.clone(),
        }
    }
}

impl IdempotencyRecord {
    pub(super) fn new(
        (account, org, key): &super::model::IdempotencyScope,
        record: &IdempotentCreate,
    ) -> Self {
        IdempotencyRecord {
            account: account.to_string(),
            organization_id: org.to_string(),
            key: key.clone(),
            at: record.at,
            email: record.email.clone(),
            message: record.message.clone(),
            response: ResponseRecord::from(&record.response),
        }
    }
}

impl From<&SentEmail> for EmailRecord {
    fn from(email: &SentEmail) -> Self {
        EmailRecord {
            to: email.to.clone(),
            organization_id: email.organization_id.to_string(),
            invite_id: email.invite_id.to_string(),
            token: email.token.clone(),
            kind: match email.kind {
                EmailKind::Invitation => EmailKindRecord::Invitation,
                EmailKind::Resend => EmailKindRecord::Resend,
            },
            sent_at: email.sent_at,
        }
    }
}

/// The parts of a [`Snapshot`] that are small enough to hold whole while
/// restoring (not the invitations and emails).
#[derive(Debug)]
pub(super) struct Restored {
    pub(super) organizations: Vec<OrganizationRecord>,
    pub(super) accounts: Vec<AccountRecord>,
    pub(super) api_keys: Vec<ApiKeyRecord>,
    pub(super) idempotency: Vec<IdempotencyRecord>,
}

/// Why a [`Snapshot`] could not be restored; the server is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid snapshot: {0}")]
pub struct SnapshotError(pub(super) String);

fn parse<T>(
    value: &str,
    what: &str,
    parse: impl Fn(&str) -> Result<T, crate::ids::IdError>,
) -> Result<T, SnapshotError> {
    parse(value).map_err(|err| SnapshotError(format!("{what} {value:?}: {err}")))
}

mod restore;
