//! The [`Client`] and its [`ClientBuilder`] (`builder.rs`), and one request
//! builder per method under `request/`: [`CreateInvite`], [`InviteAction`]
//! (resend and revoke), [`AcceptInvite`]; listing is in
//! [`crate::pagination`], bulk invitations in [`crate::bulk`].
//!
//! Request builders collect typed, optional arguments with `#[must_use]`
//! setters and check everything in `send()` (or `.await`), before anything
//! reaches the network: a bad ID, email or size is an
//! [`Error::InvalidRequest`](crate::Error::InvalidRequest) naming the field.
//! Each request module adds its method to [`Client`] itself, so this module
//! names none of them but through the re-exports below.

mod builder;
pub(crate) mod request;

pub use builder::{
    ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_ENDPOINT, DEFAULT_HTTP2_KEEP_ALIVE_INTERVAL,
    DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT, DEFAULT_MAX_CONNECTIONS_PER_HOST, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
};
pub use request::{AcceptInvite, CreateInvite, InviteAction};

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::call::Caller;
use crate::error::Result;
use crate::protocol::Protocol;

/// A boxed future of this crate's request builders.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'static>>;

/// The client of Factify's `OrganizationInviteService`.
///
/// # Pooling and cloning
///
/// Over gRPC, a `Client` holds one HTTP/2 connection, which multiplexes
/// every call; over Connect, a pool of keep-alive connections (one, over
/// HTTP/2; at most
/// [`max_connections_per_host`](ClientBuilder::max_connections_per_host),
/// 64 by default, over HTTP/1.1, where calls beyond that wait for a free
/// connection inside their deadline). An HTTP/2 connection that stops
/// carrying bytes is detected by keep-alive pings and replaced, within 10 s
/// by default
/// ([`http2_keep_alive_interval`](ClientBuilder::http2_keep_alive_interval)).
/// Cloning is cheap (a reference count) and every clone shares them: build
/// one client per process and clone it into each task, rather than building
/// one per request.
///
/// # Retries, deadlines and idempotency
///
/// Each call is one logical call with one deadline (the builder's
/// `timeout`, 30 s by default, or the call's own), covering every attempt
/// and every wait; each attempt sends what is left as its gRPC deadline.
/// Failed attempts are retried under the [`RetryPolicy`](crate::retry::RetryPolicy) only when
/// repeating them cannot duplicate work:
///
/// | method | retried on | why it is safe |
/// |---|---|---|
/// | `create_invite` | `UNAVAILABLE`, `RESOURCE_EXHAUSTED`, any connection failure | every attempt carries the same idempotency key (the caller's, or one generated per call), so the server answers a repeat with the original invitation and sends no second email |
/// | `list_invites` (and each page of a stream) | the same | a read; a stream retries the failed page from its token, so no invitation is seen twice or skipped |
/// | `resend_invite`, `revoke_invite`, `accept_invite` | `RESOURCE_EXHAUSTED` (a rate-limit refusal), and failures that provably never reached the service: the connection could not be opened, or HTTP/2 refused the stream (`REFUSED_STREAM`, a `GOAWAY` that excludes it) | not idempotent (a second email, a second state change). `UNAVAILABLE` is not retried for them: a proxy or server can act and then answer it (over Connect, 502/503/504), and a connection lost after sending may come after the server acted. The error is returned, and its [`Error::is_retryable`](crate::Error::is_retryable) is `false` |
///
/// [`Error::is_retryable`](crate::Error::is_retryable) follows the same rule, for the call the error
/// came from: a retry loop built on it never sends a second email. Retries
/// are also limited by the client's [`RetryBudget`](crate::retry::RetryBudget)
/// (100 retries, 0.2 earned per successful call, a successful retry
/// refunded), shared by its clones: a dead service gets about one attempt
/// per call once it is spent.
///
/// `INVALID_ARGUMENT`, `FAILED_PRECONDITION`, `PERMISSION_DENIED`,
/// `UNAUTHENTICATED`, `NOT_FOUND` and the rest are never retried. After a
/// `RESOURCE_EXHAUSTED` with a `RetryInfo`, every clone of the client waits
/// that long before its next call (creations and other calls separately,
/// as the SPEC limits them separately).
///
/// # Example
///
/// ```no_run
/// # async fn run() -> factify_invites::Result<()> {
/// use futures::TryStreamExt;
/// use factify_invites::{Client, InviteStatus};
///
/// let client = Client::builder().from_env().connect().await?;
/// let org = "org_01h2xcejqtf2nbrexx3vqjhp41";
///
/// let invite = client
///     .create_invite(org, "ada@example.com")
///     .message("Welcome aboard!")
///     .await?;
///
/// let pending: Vec<_> = client
///     .list_invites(org)
///     .status(InviteStatus::Pending)
///     .into_stream()
///     .try_collect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    caller: Caller,
    endpoint: String,
    protocol: Protocol,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let caller = &self.inner.caller;
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint)
            .field("protocol", &self.inner.protocol)
            .field("timeout", &caller.timeout)
            .field("credentials", &caller.credentials)
            .field("retry", &caller.retry)
            .field("rate_limit", &caller.limiter.is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The wire protocol this client speaks.
    pub fn protocol(&self) -> Protocol {
        self.inner.protocol
    }

    /// What sends this client's calls: its key, deadline, retries and
    /// rate limits, shared by every clone.
    pub(crate) fn caller(&self) -> &Caller {
        &self.inner.caller
    }
}
