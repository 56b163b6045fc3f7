//! An in-memory reference server of the Factify invitations API, for tests
//! of the [`factify-invites`](factify_invites) client and of services that
//! use it.
//!
//! [`ReferenceServer`] implements the whole contract of `SPEC.md` in memory:
//! API keys with permissions, organizations and members, invitations with
//! their 7-day expiry, deduplication, resend, revoke and accept, filtered
//! keyset pagination with tamper-evident page tokens, idempotency keys,
//! optional rate limits, and errors with `ErrorDetail` (and `RetryInfo`)
//! details. Emails are recorded rather than sent, so a test reads the
//! invitation token from [`ReferenceServer::sent_emails`].
//!
//! Seed it, then serve it: on a free TCP port with
//! [`start`](ReferenceServer::start) (gRPC and the Connect protocol on the
//! same port, HTTP/1.1 and HTTP/2, like a Connect server), over an
//! in-memory pipe with
//! [`in_memory_channel`](ReferenceServer::in_memory_channel), or mounted in
//! your own `tonic` server with [`service`](ReferenceServer::service). Time
//! comes from a [`Clock`]; give it a [`ManualClock`] to test expiry without
//! waiting, or move it with [`set_time`](ReferenceServer::set_time) and
//! [`advance_time`](ReferenceServer::advance_time).
//!
//! On the same port it also serves gRPC-Web, server reflection, the gRPC
//! health service, optional CORS ([`ReferenceServer::with_cors`]) and an
//! admin surface over plain HTTP and JSON (`/admin/v1/emails`,
//! `/admin/v1/clock`, `/admin/v1/reset`) for tests in other languages: see
//! the README's section on the emulator.
//!
//! # Example
//!
//! ```
//! use factify_invites::proto::organization_invite_service_client::OrganizationInviteServiceClient;
//! use factify_invites::proto::CreateOrganizationInviteRequest;
//! use factify_invites_server::{EmailKind, ReferenceServer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = ReferenceServer::new();
//! let fixture = server.fixture();
//! let running = server.start().await?;
//!
//! let mut client = OrganizationInviteServiceClient::connect(running.endpoint()).await?;
//! let mut request = tonic::Request::new(CreateOrganizationInviteRequest {
//!     organization_id: fixture.organization.to_string(),
//!     email: "grace@example.com".into(),
//!     ..Default::default()
//! });
//! request
//!     .metadata_mut()
//!     .insert("authorization", format!("Bearer {}", fixture.admin_key).parse()?);
//! let invite = client.create_organization_invite(request).await?.into_inner().invite;
//!
//! let email = server.last_email_to("Grace@Example.com").expect("an email was sent");
//! assert_eq!(email.kind, EmailKind::Invitation);
//! assert_eq!(Some(email.invite_id.to_string()), invite.map(|i| i.id));
//! running.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Choices where the SPEC is silent
//!
//! - **Order of checks**: authentication, rate limits, the key's permission,
//!   the request's fields (in field-number order), the organization
//!   (unknown: `NOT_FOUND`; the key's account not a member:
//!   `PERMISSION_DENIED`), the invitation, then its state.
//! - **Authentication**: no `authorization` header or an empty bearer key is
//!   `missing_api_key`; any other value that is not `Bearer <key>` of this
//!   server is `invalid_api_key`.
//! - **Idempotency**: keys are scoped to the key's account and the
//!   organization and remembered 24 hours from first use. A repeat with the
//!   same email and message returns the first response as it was; the same
//!   key with another email or message is `INVALID_ARGUMENT`
//!   (`invalid_field_value`, param `idempotency_key`). Failed calls are not
//!   remembered. An empty key or message counts as none.
//! - **Create on a pending invitation** resends it and keeps its message
//!   and sender; the new request's message is not used.
//! - **Tokens**: only the newest token of an invitation works; a resend
//!   supersedes the previous one. An empty or over-long token is
//!   `invalid_field_value` on `token`. A token of another organization is
//!   `NOT_FOUND`; the email check (`PERMISSION_DENIED`) comes before the
//!   membership check (`FAILED_PRECONDITION`).
//! - **Resend** of an expired invitation does not check for another pending
//!   invitation to the same email.
//! - **Lists**: an empty `sender_id` or empty `StringFilter` field is unset;
//!   repeated statuses are deduplicated; a malformed timestamp names
//!   `created.after` or `created.before`. Page tokens are tied to the
//!   organization and filters but not to the page size, never expire, and
//!   are refused by another server instance. `prev_page_token` is empty
//!   when no matching invitation is newer than the page's first one.
//! - **Persistence** (feature `persist`): [`ReferenceServer::snapshot`],
//!   [`ReferenceServer::restore`] and [`ReferenceServer::on_change`], a hook
//!   told of every change before the call is answered (with the whole
//!   store: fine for a test, linear in its size); or
//!   [`ReferenceServer::attach_database`], which writes only what each call
//!   changed to a locked SQLite [`Database`], in a transaction, before the
//!   call is answered.
//! - **Rate limits** (opt-in) are a sliding 60-second window per API key on
//!   the server's clock; refused calls do not count. Errors also carry the
//!   `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset`
//!   metadata. Every error carries `x-request-id` metadata too.

// What the server shares with the client, under the names the modules
// below use: the typed IDs and the contract's limits from the client crate,
// the generated code from the contract's crate.
use factify_invites::{ids, limits};
use factify_invites_proto as proto;

mod admin;
mod clock;
mod connect;
mod connect_streaming;
mod cursor;
mod discovery;
mod error;
mod faults;
mod generate;
mod list;
mod server;
mod service;
mod state;
mod transport;
mod types;
mod validate;
mod web;

pub use clock::{Clock, ManualClock, SystemClock};
pub use faults::Fault;
pub use server::ReferenceServer;
#[cfg(feature = "persist")]
pub use state::database::{Database, DatabaseError};
#[cfg(feature = "persist")]
pub use state::persist::{
    AccountRecord, ApiKeyRecord, OrganizationRecord, Snapshot, SnapshotError,
};
pub use transport::RunningServer;
pub use types::{EmailKind, Fixture, Method, Permissions, RateLimits, ReceivedTrace, SentEmail};
pub use web::{CorsOrigins, InvalidOrigin};

#[cfg(test)]
mod tests;
