//! # factify-invites
//!
//! A typed, async client for Factify's organization invitations API
//! (`factify.api.v1beta.OrganizationInviteService`) over gRPC or the
//! Connect protocol, and an in-memory reference server to test your own
//! services against.
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
//! ```
//! use factify_invites::{Client, InviteStatus};
//! use futures::TryStreamExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = factify_invites::server::ReferenceServer::new();
//! # let fixture = server.fixture();
//! # let running = server.start().await?;
//! # let (endpoint, api_key, org) = (running.endpoint(), fixture.admin_key, fixture.organization);
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
//! | `test-server` | no | [`server`]: the in-memory reference server, for tests (serves gRPC and Connect on one port; turns on `connect` and `raw`) |
//! | `persist` | no | `test-server` plus `server::Snapshot` (serde): save and restore the reference server's store, or keep it in a SQLite database (`server::Database`, compiled in through `rusqlite`) that one process at a time may hold |
//! | `redis` | no | [`shared_limit::SharedRateLimit`]: one rate limit for every process that uses an API key, kept in Redis (the `redis` crate) |
//! | `otel` | no | [`telemetry`]: gRPC's OpenTelemetry client metrics (gRFC A66) and the crate's own through your `MeterProvider` ([`ClientBuilder::meter_provider`]); the `opentelemetry` API crate |
//! | `cli` | no | `persist` plus the `factify-invites` binary (emulator and operator's CLI); pulls in clap, csv, indicatif, serde_json, toml, tracing-subscriber |
//!
//! Client-only users keep the default (or build gRPC-only with
//! `default-features = false, features = ["tls"]`); tests enable
//! `test-server` in `[dev-dependencies]`.

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
#[cfg(feature = "test-server")]
pub mod server;
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

/// The README's code blocks, compiled (and run, unless `no_run`) as doc
/// tests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
