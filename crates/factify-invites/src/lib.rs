//! # factify-invites
//!
//! A typed, async client for Factify's organization invitations API
//! (`factify.api.v1beta.OrganizationInviteService`) over gRPC or the
//! Connect protocol. The in-memory reference server to test your own
//! services against is the
//! [`factify-invites-server`](https://docs.rs/factify-invites-server) crate.
//!
//! - [`Client`]: cheap to clone, `Send + Sync`, one HTTP/2 connection shared
//!   by every clone; built with [`Client::builder`].
//! - gRPC or Connect (binary or JSON, HTTP/1.1 or HTTP/2), chosen with
//!   [`ClientBuilder::protocol`]: see [`Protocol`] for when to prefer which.
//! - Request builders for every method ([`Client::create_invite`],
//!   [`Client::list_invites`], [`Client::resend_invite`],
//!   [`Client::revoke_invite`], [`Client::accept_invite`]) that check their
//!   arguments before anything is sent.
//! - Typed IDs ([`OrganizationId`], [`InviteId`], [`UserId`]) and domain
//!   types ([`Invite`], [`User`], [`Organization`]) checked on the way in.
//! - One [`Error`] enum: a variant per status code, each with the server's
//!   reason, request ID and offending field.
//! - Pagination as a [`futures::Stream`] that fetches the next page while
//!   you work on the current one.
//! - Bulk invitations ([`Client::invite_many`]): many rows, bounded
//!   concurrency, idempotent per row, resumable per run.
//!
//! ## Quickstart
//!
//! ```no_run
//! use factify_invites::{Client, InviteStatus, OrganizationId};
//! use futures::TryStreamExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let (endpoint, api_key) = ("http://127.0.0.1:50051", "ffy_emulatoradmin000000000000000");
//! let org: OrganizationId = "org_0000000000000000000000acme".parse()?;
//! let client = Client::builder()
//!     .endpoint(endpoint) // https://api.factify.com by default
//!     .api_key(api_key)
//!     .connect()
//!     .await?;
//!
//! let invite = client
//!     .create_invite(&org, "ada@example.com")
//!     .message("Welcome aboard!")
//!     .await?;
//! assert_eq!(invite.status, InviteStatus::Pending);
//!
//! let pending: Vec<_> = client
//!     .list_invites(&org)
//!     .status(InviteStatus::Pending)
//!     .into_stream()
//!     .try_collect()
//!     .await?;
//! assert_eq!(pending, vec![invite]);
//! # Ok(()) }
//! ```
//!
//! ## Feature flags
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tls` | yes | rustls for `https://` endpoints, trusting the webpki roots |
//! | `tls-native-roots` | no | also trust the platform's root certificates |
//! | `connect` | yes | the Connect protocol ([`Protocol::ConnectProto`], [`Protocol::ConnectJson`]) through hyper, with gzip and the canonical JSON mapping |
//! | `raw` | no | the tonic/prost surface, **outside the semver promise**: `proto` (generated types and stubs), `ClientBuilder::build_with_channel(tonic Channel)`, `From<tonic::Status> for Error`, `From<tonic::Code> for Code` |
//! | `testing` | no | [`testing`]: builders of domain values and errors, and a [`Client`] over scripted answers with no network, to unit-test your own code (no dependencies) |
//! | `redis` | no | [`shared_limit::SharedRateLimit`]: one rate limit for every process that uses an API key, kept in Redis (the `redis` crate) |
//! | `otel` | no | [`telemetry`]: gRPC's OpenTelemetry client metrics (gRFC A66) and the crate's own through your `MeterProvider` ([`ClientBuilder::meter_provider`]); the `opentelemetry` API crate |
//!
//! Users keep the default (or build gRPC-only with
//! `default-features = false, features = ["tls"]`). The reference server
//! (`factify-invites-server`) and the `factify-invites` command
//! (`factify-invites-cli`) are crates of their own: nothing of theirs is
//! compiled into this one.
//!
//! ## Building blocks published on purpose
//!
//! A few functions serve tools built on the client (the `factify-invites`
//! command and the reference server use them) as much as the client itself,
//! and are public so that every tool applies the same rules:
//!
//! - [`bulk::idempotency_key`] and [`bulk::check_run_id`]: the idempotency
//!   key of a bulk row (so that a resumed run repeats no invitation) and
//!   the shape of a run ID;
//! - [`limits`]: the contract's size limits and [`limits::is_email`], the
//!   shape check of an address that the server applies too;
//! - [`ids`]: the typed IDs and their parsers.
//!
//! They follow this crate's semver promise like the rest of its API.

pub mod auth;
pub mod bulk;
mod call;
pub mod client;
pub mod error;
pub mod ids;
pub mod limits;
pub mod pagination;
#[cfg(feature = "raw")]
pub mod proto;
#[cfg(not(feature = "raw"))]
mod proto;
pub mod protocol;
pub mod rate_limit;
pub mod retry;
pub mod shared_limit;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
mod transport;
pub mod types;

pub use auth::ApiKey;
pub use bulk::{InviteMany, InviteRow, RowOutcome};
pub use client::{AcceptInvite, Client, ClientBuilder, CreateInvite, InviteAction};
pub use error::{Code, Error, ErrorDetail, ErrorKind, Reason, Result, Status};
pub use ids::{IdError, IntoId, InviteId, OrganizationId, UserId};
pub use pagination::{InviteStream, ListInvites, PageStream};
pub use protocol::{HttpVersion, Protocol};
pub use types::{
    Acceptance, Invite, InviteStatus, Organization, Page, UnknownValue, User, UserType,
};
