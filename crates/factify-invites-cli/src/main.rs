//! `factify-invites`: a local emulator of Factify's invitations API for any
//! language (`serve`), and an operator's command line for the real one
//! (`create`, `list`, `resend`, `revoke`, `accept`, `invite-many`).
//!
//! The `factify-invites-cli` crate: `cargo install factify-invites-cli`, or
//! from a checkout `cargo install --path crates/factify-invites-cli`.
//!
//! Exit status: 0 success; 1 the server refused the call, or some rows of
//! `invite-many` failed; 2 bad usage or input (nothing was sent); 3 the
//! server could not be reached or refused the API key.

mod client_args;
mod failure;
mod invite_many;
mod output;
mod serve;

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use factify_invites::InviteStatus;
use futures::StreamExt;

use client_args::ClientArgs;
use failure::{exit, Failure};

const EXIT_CODES: &str = "\
Exit status:
  0  success (for invite-many: every row succeeded)
  1  the server refused the call (for invite-many: some rows failed)
  2  bad usage or input, such as invalid CSV rows: nothing was sent
  3  the server could not be reached, or it refused the API key";

/// Factify invitations from the command line: run a local emulator of the
/// API, or create, list, resend, revoke and accept invitations, and invite a
/// whole team from a CSV file.
#[derive(Debug, Parser)]
#[command(name = "factify-invites", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the reference server as a local emulator: gRPC and Connect on one port.
    Serve(serve::ServeArgs),
    /// Invite an email address to the organization.
    #[command(after_help = EXIT_CODES)]
    Create(CreateArgs),
    /// List the organization's invitations, newest first, every page.
    #[command(after_help = EXIT_CODES)]
    List(ListArgs),
    /// Send an invitation again, with a new token and expiry.
    #[command(after_help = EXIT_CODES)]
    Resend(InviteIdArgs),
    /// Revoke a pending invitation.
    #[command(after_help = EXIT_CODES)]
    Revoke(InviteIdArgs),
    /// Accept an invitation as the API key's account.
    #[command(after_help = EXIT_CODES)]
    Accept(AcceptArgs),
    /// Invite everyone in a CSV file of `email[,message]`, resumably.
    #[command(after_help = EXIT_CODES)]
    InviteMany(invite_many::InviteManyArgs),
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// The address to invite.
    email: String,
    /// A personal note for the email (at most 2000 bytes).
    #[arg(long)]
    message: Option<String>,
    /// Makes the call safe to repeat: a repeat within 24 hours returns the
    /// first invitation without a second email.
    #[arg(long)]
    idempotency_key: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StatusArg {
    Pending,
    Accepted,
    Expired,
    Revoked,
}

impl From<StatusArg> for InviteStatus {
    fn from(status: StatusArg) -> Self {
        match status {
            StatusArg::Pending => InviteStatus::Pending,
            StatusArg::Accepted => InviteStatus::Accepted,
            StatusArg::Expired => InviteStatus::Expired,
            StatusArg::Revoked => InviteStatus::Revoked,
        }
    }
}

fn rfc3339(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|err| format!("not an RFC 3339 time such as 2024-06-01T00:00:00Z: {err}"))
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only these statuses (repeat, or separate with commas).
    #[arg(long, value_enum, value_delimiter = ',')]
    status: Vec<StatusArg>,
    /// Only emails containing this text (case-insensitive).
    #[arg(long, value_name = "TEXT")]
    email_contains: Option<String>,
    /// Only invitations sent by this account (`user_...` or `svc_...`).
    #[arg(long, value_name = "USER_ID")]
    sender: Option<String>,
    /// Only invitations created at or after this time (RFC 3339).
    #[arg(long, value_parser = rfc3339, value_name = "TIME")]
    created_after: Option<DateTime<Utc>>,
    /// Only invitations created at or before this time (RFC 3339).
    #[arg(long, value_parser = rfc3339, value_name = "TIME")]
    created_before: Option<DateTime<Utc>>,
    /// Stop after this many invitations.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Invitations per page fetched (1 to 100).
    #[arg(long, default_value_t = 100, value_name = "N")]
    page_size: u32,
    #[command(flatten)]
    client: ClientArgs,
}

#[derive(Debug, Args)]
struct InviteIdArgs {
    /// The invitation (`inv_...`).
    invite_id: String,
    #[command(flatten)]
    client: ClientArgs,
}

#[derive(Debug, Args)]
struct AcceptArgs {
    /// The token from the invitation email's link. It may start with `-`
    /// (tokens are URL-safe base64).
    #[arg(allow_hyphen_values = true)]
    token: String,
    #[command(flatten)]
    client: ClientArgs,
}

async fn create(args: CreateArgs) -> Result<u8, Failure> {
    let client = args.client.connect(None).await?;
    let mut request = client.create_invite(&args.client.organization, args.email);
    if let Some(message) = args.message {
        request = request.message(message);
    }
    if let Some(key) = args.idempotency_key {
        request = request.idempotency_key(key);
    }
    let invite = request.await?;
    args.client.output.invite(&invite);
    Ok(exit::OK)
}

async fn list(args: ListArgs) -> Result<u8, Failure> {
    let client = args.client.connect(None).await?;
    let mut request = client
        .list_invites(&args.client.organization)
        .statuses(args.status.iter().copied().map(InviteStatus::from))
        .page_size(args.page_size);
    if let Some(text) = args.email_contains {
        request = request.email_contains(text);
    }
    if let Some(sender) = args.sender {
        request = request.sender(sender);
    }
    if let Some(after) = args.created_after {
        request = request.created_after(after);
    }
    if let Some(before) = args.created_before {
        request = request.created_before(before);
    }
    let mut invites = request.into_stream().take(args.limit.unwrap_or(usize::MAX));
    let mut table = args.client.output.list();
    while let Some(invite) = invites.next().await {
        table.row(&invite?);
    }
    table.finish();
    Ok(exit::OK)
}

async fn resend(args: InviteIdArgs) -> Result<u8, Failure> {
    let client = args.client.connect(None).await?;
    let invite = client
        .resend_invite(&args.client.organization, args.invite_id)
        .await?;
    args.client.output.invite(&invite);
    Ok(exit::OK)
}

async fn revoke(args: InviteIdArgs) -> Result<u8, Failure> {
    let client = args.client.connect(None).await?;
    let invite = client
        .revoke_invite(&args.client.organization, args.invite_id)
        .await?;
    args.client.output.invite(&invite);
    Ok(exit::OK)
}

async fn accept(args: AcceptArgs) -> Result<u8, Failure> {
    let client = args.client.connect(None).await?;
    let organization = client
        .accept_invite(&args.client.organization, args.token)
        .await?;
    args.client.output.organization(&organization);
    Ok(exit::OK)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: could not start the async runtime: {err}");
            return ExitCode::from(exit::UNREACHABLE);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Create(args) => create(args).await,
            Command::List(args) => list(args).await,
            Command::Resend(args) => resend(args).await,
            Command::Revoke(args) => revoke(args).await,
            Command::Accept(args) => accept(args).await,
            Command::InviteMany(args) => invite_many::run(args).await,
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
