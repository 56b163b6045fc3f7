//! [`ClientBuilder`]: the endpoint, key, protocol, timeouts, retries, rate
//! limits and connection settings of a [`Client`], and the defaults of each;
//! `builder/connection.rs` turns them into a connected client.

mod connection;

use std::sync::Arc;
use std::time::Duration;

use crate::auth::{ApiKey, ApiKeyProvider, Credentials};
use crate::call::{Caller, Limiter};
use crate::error::{Error, Result};
use crate::protocol::{HttpVersion, Protocol};
use crate::rate_limit::{Cooldown, RateLimit, DEFAULT_MAX_RETRY_AFTER};
use crate::retry::{BudgetState, RetryBudget, RetryPolicy};
use crate::transport::{Compression, Transport};

use super::{Client, Inner};

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
    pub(crate) fn build_scripted(
        self,
        answers: Arc<dyn crate::transport::Answers>,
    ) -> Result<Client> {
        let script = crate::transport::ScriptTransport::new(answers);
        self.finish(Transport::Scripted(script))
    }
}

// With the builder rather than with `Client`, so that `client` needs no
// import of this module (as `list_invites` lives with `ListInvites`).
impl Client {
    /// A builder with the defaults: production endpoint, gRPC, 30 s
    /// timeout.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}
