//! The [`Client`], its [`ClientBuilder`], and one request builder per
//! method: [`CreateInvite`], [`InviteAction`] (resend and revoke),
//! [`AcceptInvite`]; listing is in [`crate::pagination`].
//!
//! Request builders collect typed, optional arguments with `#[must_use]`
//! setters and check everything in `send()` (or `.await`), before anything
//! reaches the network: a bad ID, email or size is an
//! [`Error::InvalidRequest`] naming the field.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::auth::{ApiKey, ApiKeyProvider, Credentials};
use crate::call::{Caller, Limiter};
use crate::error::{Error, Result};
use crate::ids::{IdError, IntoId, InviteId, OrganizationId};
use crate::limits;
use crate::pagination::ListInvites;
use crate::proto;
use crate::protocol::{HttpVersion, Protocol};
use crate::rate_limit::{Cooldown, RateLimit, DEFAULT_MAX_RETRY_AFTER};
use crate::retry::{BudgetState, RetryBudget, RetryPolicy, Safety};
use crate::transport::{self, CallOptions, Compression, GrpcTransport, Received, Transport};
use crate::types::{self, Invite, Organization};

/// Factify's production endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://api.factify.com";
/// The per-call timeout when the builder sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take when the builder sets no limit.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response the client accepts when the builder sets no limit.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// How long an HTTP/2 connection with calls in flight may stay silent
/// before the client sends a keep-alive `PING`, when the builder sets no
/// interval.
pub const DEFAULT_HTTP2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(5);
/// How long the client waits for the answer to a keep-alive `PING` before
/// it closes the connection (and the next call opens a new one), when the
/// builder sets no limit.
pub const DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);
/// The most connections a Connect client over HTTP/1.1 opens to its
/// server when the builder sets no limit.
pub const DEFAULT_MAX_CONNECTIONS_PER_HOST: usize = 64;

/// A boxed future of this crate's request builders.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'static>>;

/// Builds a [`Client`]: endpoint, API key, timeouts and user agent.
///
/// ```no_run
/// # async fn run() -> factify_invites::Result<()> {
/// use std::time::Duration;
///
/// let client = factify_invites::Client::builder()
///     .api_key(std::env::var("FACTIFY_API_KEY").unwrap_or_default())
///     .timeout(Duration::from_secs(10))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    endpoint: String,
    credentials: Result<Credentials, String>,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    keep_alive_interval: Duration,
    keep_alive_timeout: Duration,
    max_connections_per_host: usize,
    user_agent: String,
    retry: RetryPolicy,
    retry_budget: RetryBudget,
    rate_limit: Option<RateLimit>,
    max_retry_after: Duration,
    #[cfg(feature = "redis")]
    shared_rate_limit: Option<crate::shared_limit::SharedRateLimit>,
    #[cfg(feature = "otel")]
    meter: Option<opentelemetry::metrics::Meter>,
    allow_insecure_http: bool,
    max_response_bytes: usize,
    protocol: Protocol,
    http_version: HttpVersion,
    compression: Compression,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            credentials: Ok(Credentials::None),
            timeout: Some(DEFAULT_TIMEOUT),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            keep_alive_interval: DEFAULT_HTTP2_KEEP_ALIVE_INTERVAL,
            keep_alive_timeout: DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT,
            max_connections_per_host: DEFAULT_MAX_CONNECTIONS_PER_HOST,
            user_agent: concat!("factify-invites/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            retry_budget: RetryBudget::default(),
            rate_limit: None,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
            #[cfg(feature = "redis")]
            shared_rate_limit: None,
            #[cfg(feature = "otel")]
            meter: None,
            allow_insecure_http: false,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            protocol: Protocol::default(),
            http_version: HttpVersion::default(),
            compression: Compression::default(),
        }
    }
}

impl ClientBuilder {
    /// The server's URL; `https://api.factify.com` by default. `http://`
    /// URLs speak plaintext (HTTP/2 for gRPC; HTTP/1.1 for Connect unless
    /// [`HttpVersion::Http2`]), for local servers.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// The wire protocol: [`Protocol::Grpc`] by default, or the Connect
    /// protocol with binary or JSON bodies (feature `connect`). The API,
    /// errors, retries and pagination are the same over each; see
    /// [`Protocol`] for when to prefer which.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// The HTTP version of the Connect protocol; [`HttpVersion::Auto`] by
    /// default (ALPN over TLS, HTTP/1.1 over plaintext). gRPC always speaks
    /// HTTP/2 and refuses [`HttpVersion::Http1`] at `connect()`.
    pub fn http_version(mut self, version: HttpVersion) -> Self {
        self.http_version = version;
        self
    }

    /// Asks the server for gzip-compressed responses, over every protocol
    /// (`grpc-accept-encoding: gzip` over gRPC, `accept-encoding: gzip`
    /// over Connect), and reads them; a server may still answer
    /// uncompressed. Off by default, as it costs CPU on both ends (about
    /// 36 µs to inflate a page of 100 on the client, measured in
    /// `BENCHMARKS.md`) and pays only where the network is the bottleneck:
    /// turn it on when listing a lot over a WAN, where it shrinks a page
    /// more than 3 times. The decompressed size is held to
    /// [`max_response_bytes`](Self::max_response_bytes).
    pub fn gzip_responses(mut self, enabled: bool) -> Self {
        self.compression.responses = enabled;
        self
    }

    /// Compresses requests with gzip, over every protocol (`grpc-encoding`
    /// over gRPC, `content-encoding` over Connect). Off by default, and
    /// rarely worth it: this API's requests are a few hundred bytes, which
    /// gzip does not shrink but does spend CPU on. The server must accept
    /// gzip (gRPC servers answer `UNIMPLEMENTED` otherwise).
    pub fn gzip_requests(mut self, enabled: bool) -> Self {
        self.compression.requests = enabled;
        self
    }

    /// Both [`gzip_requests`](Self::gzip_requests) and
    /// [`gzip_responses`](Self::gzip_responses).
    pub fn gzip(self, enabled: bool) -> Self {
        self.gzip_requests(enabled).gzip_responses(enabled)
    }

    /// The API key, sent as `authorization: Bearer <key>` on every call.
    /// A malformed key is reported by `connect()`, without quoting it.
    pub fn api_key(mut self, key: impl AsRef<str>) -> Self {
        self.credentials = ApiKey::new(key)
            .map(Credentials::Static)
            .map_err(|err| err.to_string());
        self
    }

    /// Asks `provider` for the key before every attempt, for keys that
    /// rotate while the client runs. Replaces [`ClientBuilder::api_key`].
    pub fn api_key_provider(mut self, provider: Arc<dyn ApiKeyProvider>) -> Self {
        self.credentials = Ok(Credentials::Provider(provider));
        self
    }

    /// The retry policy of every call (calls can override it); see
    /// [`RetryPolicy`] for the default. [`RetryPolicy::disabled`] turns
    /// retries off.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The retry budget shared by this client's clones; see [`RetryBudget`].
    pub fn retry_budget(mut self, budget: RetryBudget) -> Self {
        self.retry_budget = budget;
        self
    }

    /// Keeps this client under `limit` by spacing its calls (off by
    /// default); [`RateLimit::SPEC`] is Factify's published limit.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// The longest wait the client takes from a server's answer
    /// (`RetryInfo`, or Connect's `X-RateLimit-Reset` and `Retry-After`);
    /// [`DEFAULT_MAX_RETRY_AFTER`] (60 s, Factify's rate-limit window) by
    /// default. A longer wait is cut to this, in what
    /// [`Error::retry_after`] reports and in how long the client and its
    /// clones hold off: one broken or hostile answer never stops them for
    /// longer.
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Shares a rate limit through Redis with every client, in any process,
    /// that uses the same API key (feature `redis`); see
    /// [`SharedRateLimit`](crate::shared_limit::SharedRateLimit). While
    /// Redis is out, calls are paced by the shared limit's fallback, else
    /// this builder's [`rate_limit`](Self::rate_limit), else the shared
    /// limit itself, per process.
    #[cfg(feature = "redis")]
    pub fn shared_rate_limit(mut self, limit: crate::shared_limit::SharedRateLimit) -> Self {
        self.shared_rate_limit = Some(limit);
        self
    }

    /// Records gRPC's client metrics (gRFC A66) and this crate's own
    /// through `provider` (feature `otel`); see [`telemetry`](crate::telemetry)
    /// for the instruments. Without one, nothing is recorded.
    ///
    /// `opentelemetry`'s types are part of this method's signature: the
    /// feature follows that crate's 0.x releases (0.33 now), a semver
    /// promise kept only through this feature.
    #[cfg(feature = "otel")]
    pub fn meter_provider<P>(mut self, provider: &P) -> Self
    where
        P: opentelemetry::metrics::MeterProvider + ?Sized,
    {
        let scope = opentelemetry::InstrumentationScope::builder("factify-invites")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        self.meter = Some(provider.meter_with_scope(scope));
        self
    }

    /// Allows sending the API key over plaintext `http://` to a host that is
    /// not loopback. Off by default: the key would cross the network in the
    /// clear, so such an endpoint is refused unless you say so here.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The largest response accepted, in bytes (4 MiB by default); a larger
    /// one is refused with [`Error::InvalidResponse`].
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The default limit on each call, sent as its gRPC deadline (or
    /// Connect's `Connect-Timeout-Ms`); 30 s by default. Calls can override
    /// it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Removes the default per-call limit: calls wait as long as the server
    /// takes, unless a call sets its own.
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// How long establishing the connection may take; 10 s by default.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long an HTTP/2 connection (gRPC, or Connect over HTTP/2) with
    /// calls in flight may go without receiving anything before the client
    /// sends a keep-alive `PING`; 5 s by default
    /// ([`DEFAULT_HTTP2_KEEP_ALIVE_INTERVAL`]). With
    /// [`http2_keep_alive_timeout`](Self::http2_keep_alive_timeout), this
    /// bounds how long a connection that silently stopped carrying bytes
    /// (a dropped NAT entry, a frozen peer) fails calls before it is closed
    /// and replaced: 10 s by default. An idle connection is not pinged.
    /// Servers that police pings (grpc-go's default policy allows one every
    /// 5 minutes while no data flows) may close a connection pinged more
    /// often during a call that stays silent for several intervals: raise
    /// the interval for such servers and long calls. [`Duration::ZERO`]
    /// turns the pings off (a frozen connection then fails calls until the
    /// operating system gives up on it).
    pub fn http2_keep_alive_interval(mut self, interval: Duration) -> Self {
        self.keep_alive_interval = interval;
        self
    }

    /// How long the client waits for the answer to a keep-alive `PING`
    /// before it closes the connection; 5 s by default
    /// ([`DEFAULT_HTTP2_KEEP_ALIVE_TIMEOUT`]). See
    /// [`http2_keep_alive_interval`](Self::http2_keep_alive_interval).
    /// [`Duration::ZERO`] is refused when the client is built: no answer
    /// could arrive in time, and every ping would close the connection.
    pub fn http2_keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.keep_alive_timeout = timeout;
        self
    }

    /// The most connections a Connect client over HTTP/1.1 (and its
    /// clones) opens to its server at once, idle ones included; 64 by
    /// default ([`DEFAULT_MAX_CONNECTIONS_PER_HOST`]). An HTTP/1.1
    /// connection carries one call at a time, so at most this many calls
    /// are in flight: the others wait for a free connection, within their
    /// deadline. Over HTTP/2 (gRPC, or Connect when HTTP/2 is chosen or
    /// negotiated) every call shares one multiplexed connection. `0` is
    /// refused when the client is built.
    pub fn max_connections_per_host(mut self, max: usize) -> Self {
        self.max_connections_per_host = max;
        self
    }

    /// The `user-agent` sent with each call; `factify-invites/<version>` by
    /// default. Not applied by [`ClientBuilder::build_with_channel`], whose
    /// channel is configured by its owner.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Takes the endpoint from `FACTIFY_ENDPOINT` and the key from
    /// `FACTIFY_API_KEY`, where set.
    pub fn from_env(mut self) -> Self {
        if let Ok(endpoint) = std::env::var("FACTIFY_ENDPOINT") {
            self = self.endpoint(endpoint);
        }
        if let Ok(key) = std::env::var("FACTIFY_API_KEY") {
            self = self.api_key(key);
        }
        self
    }

    /// The endpoint's URL, checked: a scheme this build can speak, and no
    /// key sent in the clear beyond loopback unless allowed.
    fn checked_uri(&self) -> Result<http::Uri> {
        let invalid = |message: String| Error::invalid_request("endpoint", message);
        let uri: http::Uri = self
            .endpoint
            .parse()
            .map_err(|err| invalid(format!("{:?} is not a valid URL: {err}", self.endpoint)))?;
        match uri.scheme_str() {
            Some("http") => {
                let loopback = uri.host().is_some_and(is_loopback);
                let has_key = matches!(&self.credentials, Ok(credentials) if credentials.is_some());
                if has_key && !loopback && !self.allow_insecure_http {
                    return Err(invalid(format!(
                        "refusing to send the API key over plaintext http:// to {:?}, which is not \
                         loopback: use https://, or allow_insecure_http(true) if the network is trusted",
                        uri.host().unwrap_or_default()
                    )));
                }
            }
            Some("https") => {
                #[cfg(not(feature = "tls"))]
                return Err(invalid(
                    "https:// endpoints need the crate's `tls` feature".to_owned(),
                ));
            }
            _ => {
                return Err(invalid(format!(
                    "{:?} must start with http:// or https://",
                    self.endpoint
                )))
            }
        }
        Ok(uri)
    }

    fn endpoint_config(&self) -> Result<Endpoint> {
        if self.http_version == HttpVersion::Http1 {
            return Err(Error::invalid_request(
                "http_version",
                "gRPC needs HTTP/2: choose a Connect protocol for HTTP/1.1",
            ));
        }
        let uri = self.checked_uri()?;
        let https = uri.scheme_str() == Some("https");
        let mut endpoint = Endpoint::from(uri)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.clone())
            .map_err(|_| Error::invalid_request("user_agent", "not a valid header value"))?;
        if let Some((interval, timeout)) = self.keep_alive()? {
            endpoint = endpoint
                .http2_keep_alive_interval(interval)
                .keep_alive_timeout(timeout);
        }
        if https {
            #[cfg(feature = "tls")]
            {
                // The webpki roots, and the platform's with `tls-native-roots`.
                let tls = tonic::transport::ClientTlsConfig::new().with_enabled_roots();
                endpoint = endpoint.tls_config(tls).map_err(|err| {
                    Error::invalid_request("endpoint", format!("TLS setup failed: {err}"))
                })?;
            }
        }
        Ok(endpoint)
    }

    /// The HTTP/2 keep-alive: its interval and timeout, or `None` when
    /// turned off.
    fn keep_alive(&self) -> Result<Option<(Duration, Duration)>> {
        if self.keep_alive_interval.is_zero() {
            return Ok(None);
        }
        if self.keep_alive_timeout.is_zero() {
            return Err(Error::invalid_request(
                "http2_keep_alive_timeout",
                "must be longer than zero",
            ));
        }
        Ok(Some((self.keep_alive_interval, self.keep_alive_timeout)))
    }

    /// The Connect transport of this builder, for a Connect protocol.
    #[cfg(feature = "connect")]
    fn connect_transport(&self) -> Result<Option<transport::ConnectTransport>> {
        use transport::connect::wire::Codec;
        let codec = match self.protocol {
            Protocol::Grpc => return Ok(None),
            Protocol::ConnectProto => Codec::Proto,
            Protocol::ConnectJson => Codec::Json,
        };
        let config = transport::ConnectConfig {
            endpoint: self.checked_uri()?,
            codec,
            http: self.http_version,
            compression: self.compression,
            connect_timeout: self.connect_timeout,
            keep_alive: self.keep_alive()?,
            max_connections: self.max_connections_per_host,
            user_agent: http::HeaderValue::try_from(self.user_agent.as_str())
                .map_err(|_| Error::invalid_request("user_agent", "not a valid header value"))?,
            max_response_bytes: self.max_response_bytes,
        };
        transport::ConnectTransport::new(config).map(Some)
    }

    fn finish(self, transport: Transport) -> Result<Client> {
        let credentials = self
            .credentials
            .map_err(|message| Error::invalid_request("api_key", message))?;
        #[cfg(feature = "redis")]
        let (shared, rate_limit) = match &self.shared_rate_limit {
            Some(config) => (
                crate::shared_limit::Gate::new(config)?,
                // While Redis is out, pace the process alone.
                config.fallback.or(self.rate_limit).or(Some(config.limit)),
            ),
            None => (crate::shared_limit::Gate::default(), self.rate_limit),
        };
        #[cfg(not(feature = "redis"))]
        let (shared, rate_limit) = (crate::shared_limit::Gate, self.rate_limit);
        #[cfg(feature = "otel")]
        let metrics = match &self.meter {
            Some(meter) => {
                crate::telemetry::Metrics::new(meter, &self.endpoint, self.protocol.as_str())
            }
            None => crate::telemetry::Metrics::default(),
        };
        #[cfg(not(feature = "otel"))]
        let metrics = crate::telemetry::Metrics;
        Ok(Client {
            inner: Arc::new(Inner {
                caller: Caller {
                    transport,
                    credentials,
                    timeout: self.timeout,
                    retry: self.retry,
                    budget: BudgetState::new(self.retry_budget),
                    cooldown: Cooldown::default(),
                    create_cooldown: Cooldown::default(),
                    limiter: rate_limit.map(Limiter::new),
                    max_retry_after: self.max_retry_after,
                    shared,
                    metrics,
                },
                endpoint: self.endpoint,
                protocol: self.protocol,
            }),
        })
    }

    /// A client over scripted answers, with no network (feature `testing`).
    #[cfg(feature = "testing")]
    pub(crate) fn build_scripted(self, script: crate::testing::ScriptTransport) -> Result<Client> {
        self.finish(Transport::Scripted(script))
    }

    fn finish_grpc(self, channel: Channel) -> Result<Client> {
        let transport = Transport::Grpc(GrpcTransport::new(
            channel,
            self.max_response_bytes,
            self.compression,
        ));
        self.finish(transport)
    }

    /// Connects now, so that an unreachable server fails here rather than
    /// on the first call.
    pub async fn connect(self) -> Result<Client> {
        self.credentials
            .clone()
            .map_err(|message| Error::invalid_request("api_key", message))?;
        #[cfg(feature = "connect")]
        if let Some(connect) = self.connect_transport()? {
            connect.probe().await?;
            return self.finish(Transport::Connect(Box::new(connect)));
        }
        let endpoint = self.endpoint_config()?;
        let channel = endpoint.connect().await.map_err(|err| {
            Error::Transport(crate::error::TransportError::new(
                format!("could not connect to {}", self.endpoint),
                err,
            ))
        })?;
        self.finish_grpc(channel)
    }

    /// Builds the client without connecting: the connection is made by the
    /// first call, and remade after failures.
    ///
    /// Over gRPC this must be called inside a Tokio runtime (tonic starts
    /// the connection's task here); outside one it returns an
    /// [`Error::InvalidRequest`] for the field `runtime` instead of
    /// panicking. Over Connect it may be called anywhere. Calls, over every
    /// protocol, run inside a Tokio runtime.
    pub fn connect_lazy(self) -> Result<Client> {
        #[cfg(feature = "connect")]
        if let Some(connect) = self.connect_transport()? {
            return self.finish(Transport::Connect(Box::new(connect)));
        }
        let endpoint = self.endpoint_config()?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::invalid_request(
                "runtime",
                "connect_lazy() over gRPC must be called inside a Tokio runtime \
                 (from async code, or within Runtime::enter)",
            ));
        }
        let channel = endpoint.connect_lazy();
        self.finish_grpc(channel)
    }

    /// Builds the client over a tonic [`Channel`] you configured yourself
    /// (your own TLS, proxies, interceptors' transport, or an in-memory
    /// channel). The endpoint, connect timeout and user agent of this
    /// builder are not used. A channel speaks gRPC only: with a Connect
    /// [`protocol`](Self::protocol) this is an [`Error::InvalidRequest`].
    ///
    /// Raw surface (feature `raw`): its argument is tonic's type, so it is
    /// not covered by this crate's semver promise.
    #[cfg(feature = "raw")]
    pub fn build_with_channel(self, channel: Channel) -> Result<Client> {
        if self.protocol != Protocol::Grpc {
            return Err(Error::invalid_request(
                "protocol",
                "build_with_channel takes a tonic Channel, which speaks gRPC only",
            ));
        }
        self.finish_grpc(channel)
    }
}

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
/// Failed attempts are retried under the [`RetryPolicy`] only when
/// repeating them cannot duplicate work:
///
/// | method | retried on | why it is safe |
/// |---|---|---|
/// | `create_invite` | `UNAVAILABLE`, `RESOURCE_EXHAUSTED`, any connection failure | every attempt carries the same idempotency key (the caller's, or one generated per call), so the server answers a repeat with the original invitation and sends no second email |
/// | `list_invites` (and each page of a stream) | the same | a read; a stream retries the failed page from its token, so no invitation is seen twice or skipped |
/// | `resend_invite`, `revoke_invite`, `accept_invite` | `RESOURCE_EXHAUSTED` (a rate-limit refusal), and failures that provably never reached the service: the connection could not be opened, or HTTP/2 refused the stream (`REFUSED_STREAM`, a `GOAWAY` that excludes it) | not idempotent (a second email, a second state change). `UNAVAILABLE` is not retried for them: a proxy or server can act and then answer it (over Connect, 502/503/504), and a connection lost after sending may come after the server acted. The error is returned, and its [`Error::is_retryable`] is `false` |
///
/// [`Error::is_retryable`] follows the same rule, for the call the error
/// came from: a retry loop built on it never sends a second email. Retries
/// are also limited by the client's [`RetryBudget`]
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

/// Whether `host` (from a URI, IPv6 in brackets) is this machine.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Client {
    /// A builder with the defaults: production endpoint, gRPC, 30 s
    /// timeout.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The wire protocol this client speaks.
    pub fn protocol(&self) -> Protocol {
        self.inner.protocol
    }

    /// Invites `email` to the organization; see [`CreateInvite`].
    pub fn create_invite(
        &self,
        organization_id: impl IntoId<OrganizationId>,
        email: impl Into<String>,
    ) -> CreateInvite {
        CreateInvite {
            client: self.clone(),
            organization_id: organization_id.into_id(),
            email: email.into(),
            message: None,
            idempotency_key: None,
            options: CallOptions::default(),
        }
    }

    /// Lists the organization's invitations, newest first; see
    /// [`ListInvites`] for filters, streams and pages.
    pub fn list_invites(&self, organization_id: impl IntoId<OrganizationId>) -> ListInvites {
        ListInvites::new(self.clone(), organization_id.into_id())
    }

    /// Sends a pending or expired invitation again, with a new token and a
    /// refreshed expiry.
    pub fn resend_invite(
        &self,
        organization_id: impl IntoId<OrganizationId>,
        invite_id: impl IntoId<InviteId>,
    ) -> InviteAction {
        InviteAction::new(
            self.clone(),
            Action::Resend,
            organization_id.into_id(),
            invite_id.into_id(),
        )
    }

    /// Revokes a pending invitation; its token stops working.
    pub fn revoke_invite(
        &self,
        organization_id: impl IntoId<OrganizationId>,
        invite_id: impl IntoId<InviteId>,
    ) -> InviteAction {
        InviteAction::new(
            self.clone(),
            Action::Revoke,
            organization_id.into_id(),
            invite_id.into_id(),
        )
    }

    /// Joins the organization as the key's account, with the token of an
    /// invitation email; see [`AcceptInvite`].
    pub fn accept_invite(
        &self,
        organization_id: impl IntoId<OrganizationId>,
        token: impl Into<String>,
    ) -> AcceptInvite {
        AcceptInvite {
            client: self.clone(),
            organization_id: organization_id.into_id(),
            token: token.into(),
            options: CallOptions::default(),
        }
    }

    /// Invites every row (an email and an optional message) with bounded
    /// concurrency and per-row idempotency keys derived from the run; see
    /// [`InviteMany`](crate::bulk::InviteMany) and the [`bulk`](crate::bulk)
    /// module.
    pub fn invite_many<R: Into<crate::bulk::InviteRow>>(
        &self,
        organization_id: impl IntoId<OrganizationId>,
        rows: impl IntoIterator<Item = R>,
    ) -> crate::bulk::InviteMany {
        crate::bulk::InviteMany::new(
            self.clone(),
            organization_id.into_id(),
            rows.into_iter().map(Into::into).collect(),
        )
    }

    /// What sends this client's calls: its key, deadline, retries and
    /// rate limits, shared by every clone.
    pub(crate) fn caller(&self) -> &Caller {
        &self.inner.caller
    }
}

/// Turns a parsed ID into the request's, or the field's error.
pub(crate) fn checked_id<T>(id: Result<T, IdError>, field: &'static str) -> Result<T> {
    id.map_err(|err| Error::invalid_request(field, err.to_string()))
}

/// Checks that `value` has at most `max` bytes.
pub(crate) fn check_len(value: &str, max: usize, field: &'static str) -> Result<()> {
    if value.len() > max {
        return Err(Error::invalid_request(
            field,
            format!("must be at most {max} bytes, got {}", value.len()),
        ));
    }
    Ok(())
}

/// Checks that `email` looks like an address.
pub(crate) fn check_email(email: &str, field: &'static str) -> Result<()> {
    if email.is_empty() {
        return Err(Error::invalid_request(field, "must not be empty"));
    }
    if !limits::is_email(email) {
        return Err(Error::invalid_request(field, "is not an email address"));
    }
    Ok(())
}

/// Adds `timeout` and `metadata` setters to a request builder with an
/// `options: CallOptions` field, and makes it awaitable through `send()`.
macro_rules! call_options {
    ($builder:ident => $output:ty) => {
        impl $builder {
            /// Overrides the client's default timeout for this call only.
            pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
                self.options.timeout = Some(timeout);
                self
            }

            /// Overrides the client's retry policy for this call only.
            pub fn retry_policy(mut self, policy: $crate::retry::RetryPolicy) -> Self {
                self.options.retry = Some(policy);
                self
            }

            /// Adds a metadata entry (an HTTP header) to this call, such as a
            /// tracing header. An invalid key or value is reported by `send()`.
            pub fn metadata(mut self, key: &str, value: &str) -> Self {
                self.options.add_metadata(key, value);
                self
            }
        }

        impl std::future::IntoFuture for $builder {
            type Output = $crate::Result<$output>;
            type IntoFuture = $crate::client::BoxFuture<$output>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.send())
            }
        }
    };
}
pub(crate) use call_options;

/// A request to invite an email address; send it with `.send()` or `.await`.
///
/// If the address already has a pending invitation, the server resends that
/// one (new token, refreshed expiry) and returns it: no duplicate is made.
#[must_use = "a request does nothing until it is sent or awaited"]
#[derive(Debug)]
pub struct CreateInvite {
    client: Client,
    organization_id: Result<OrganizationId, IdError>,
    email: String,
    message: Option<String>,
    idempotency_key: Option<String>,
    options: CallOptions,
}

impl CreateInvite {
    /// A personal note for the email, at most 2000 bytes.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Makes the call safe to repeat: the server answers a repeat with the
    /// same key within 24 hours with the original invitation and sends no
    /// second email. At most 255 bytes.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    fn request(&mut self) -> Result<proto::CreateOrganizationInviteRequest> {
        self.options.check()?;
        let organization_id = checked_id(self.organization_id.clone(), "organization_id")?;
        check_email(&self.email, "email")?;
        if let Some(message) = &self.message {
            check_len(message, limits::MAX_MESSAGE_BYTES, "message")?;
        }
        if let Some(key) = &self.idempotency_key {
            if key.is_empty() {
                return Err(Error::invalid_request(
                    "idempotency_key",
                    "must not be empty",
                ));
            }
            check_len(key, limits::MAX_IDEMPOTENCY_KEY_BYTES, "idempotency_key")?;
        }
        Ok(proto::CreateOrganizationInviteRequest {
            organization_id: organization_id.into_string(),
            email: std::mem::take(&mut self.email),
            message: self.message.take(),
            idempotency_key: Some(
                self.idempotency_key
                    .take()
                    .unwrap_or_else(generated_idempotency_key),
            ),
        })
    }

    /// Checks the arguments and sends the request.
    pub async fn send(mut self) -> Result<Invite> {
        let request = self.request()?;
        let organization_id = request.organization_id.clone();
        let key = request.idempotency_key.clone().unwrap_or_default();
        // Past this point the server may have created the invitation (and
        // sent its email): an error whose outcome is unknown carries the key,
        // so that the caller can repeat the call without a second email.
        let response: Received<proto::CreateOrganizationInviteResponse> = self
            .client
            .caller()
            .call(
                transport::CREATE,
                Safety::Idempotent,
                &organization_id,
                request,
                &self.options,
            )
            .await
            .map_err(|err| err.with_idempotency_key(&key))?;
        types::invite_from_wire(response.message.invite, "invite", &response.names)
            .map_err(|err| err.with_idempotency_key(&key))
    }
}

call_options!(CreateInvite => Invite);

/// A fresh idempotency key for one logical create: 128 random bits.
fn generated_idempotency_key() -> String {
    format!("fi-{:032x}", fastrand::u128(..))
}

/// Which state change an [`InviteAction`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Resend,
    Revoke,
}

/// A request to resend or revoke one invitation; send it with `.send()` or
/// `.await`. Made by [`Client::resend_invite`] and [`Client::revoke_invite`].
#[must_use = "a request does nothing until it is sent or awaited"]
#[derive(Debug)]
pub struct InviteAction {
    client: Client,
    action: Action,
    organization_id: Result<OrganizationId, IdError>,
    invite_id: Result<InviteId, IdError>,
    options: CallOptions,
}

impl InviteAction {
    fn new(
        client: Client,
        action: Action,
        organization_id: Result<OrganizationId, IdError>,
        invite_id: Result<InviteId, IdError>,
    ) -> Self {
        InviteAction {
            client,
            action,
            organization_id,
            invite_id,
            options: CallOptions::default(),
        }
    }

    /// Checks the arguments and sends the request.
    pub async fn send(self) -> Result<Invite> {
        self.options.check()?;
        let organization_id = checked_id(self.organization_id, "organization_id")?.into_string();
        let invite_id = checked_id(self.invite_id, "invite_id")?.into_string();
        let (invite, names) = match self.action {
            Action::Resend => {
                let request = proto::ResendOrganizationInviteRequest {
                    organization_id: organization_id.clone(),
                    invite_id,
                };
                let response: Received<proto::ResendOrganizationInviteResponse> = self
                    .client
                    .caller()
                    .call(
                        transport::RESEND,
                        Safety::NotIdempotent,
                        &organization_id,
                        request,
                        &self.options,
                    )
                    .await?;
                (response.message.invite, response.names)
            }
            Action::Revoke => {
                let request = proto::RevokeOrganizationInviteRequest {
                    organization_id: organization_id.clone(),
                    invite_id,
                };
                let response: Received<proto::RevokeOrganizationInviteResponse> = self
                    .client
                    .caller()
                    .call(
                        transport::REVOKE,
                        Safety::NotIdempotent,
                        &organization_id,
                        request,
                        &self.options,
                    )
                    .await?;
                (response.message.invite, response.names)
            }
        };
        types::invite_from_wire(invite, "invite", &names)
    }
}

call_options!(InviteAction => Invite);

/// A request to accept an invitation as the key's account; send it with
/// `.send()` or `.await`. Answers the organization joined.
#[must_use = "a request does nothing until it is sent or awaited"]
pub struct AcceptInvite {
    client: Client,
    organization_id: Result<OrganizationId, IdError>,
    token: String,
    options: CallOptions,
}

impl fmt::Debug for AcceptInvite {
    // The invitation token grants membership: keep it out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptInvite")
            .field("organization_id", &self.organization_id)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl AcceptInvite {
    /// Checks the arguments and sends the request.
    pub async fn send(self) -> Result<Organization> {
        self.options.check()?;
        let organization_id = checked_id(self.organization_id, "organization_id")?.into_string();
        if self.token.is_empty() {
            return Err(Error::invalid_request("token", "must not be empty"));
        }
        check_len(&self.token, limits::MAX_TOKEN_BYTES, "token")?;
        let request = proto::AcceptOrganizationInviteRequest {
            organization_id: organization_id.clone(),
            token: self.token,
        };
        let response: proto::AcceptOrganizationInviteResponse = self
            .client
            .caller()
            .call(
                transport::ACCEPT,
                Safety::NotIdempotent,
                &organization_id,
                request,
                &self.options,
            )
            .await?;
        types::organization_from_wire(response.organization, "organization")
    }
}

call_options!(AcceptInvite => Organization);
