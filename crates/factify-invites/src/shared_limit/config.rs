//! [`SharedRateLimit`], what a user sets, and the constants of its
//! defaults and bounds.

use std::fmt;
use std::time::Duration;

use crate::rate_limit::RateLimit;

/// How long a call waits for Redis before it falls back to the
/// per-process pacer, unless set with [`SharedRateLimit::with_timeout`].
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(5);

/// How often a client whose Redis failed tries it again (one call tries;
/// the others keep using the per-process pacer meanwhile).
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// The longest hold-off a server's `RetryInfo` can impose on every replica
/// through Redis; a longer one is cut to this.
pub const MAX_SHARED_HOLD_OFF: Duration = Duration::from_secs(120);

/// How long the first calls of a client wait for Redis while its
/// connection is first made (a refused connection fails at once).
pub const FIRST_CONNECTION_TIMEOUT: Duration = Duration::from_millis(250);

/// A rate limit shared through Redis by every client (in any process) that
/// uses the same API key; set it with
/// [`ClientBuilder::shared_rate_limit`](crate::ClientBuilder::shared_rate_limit).
///
/// Starts are spaced on Redis's clock; a call reaches Factify a little
/// later (the network, a busy machine). Leave a margin under the server's
/// limit, such as 90 % of it, so that such delays never bunch calls past
/// it.
///
/// ```
/// use std::time::Duration;
/// use factify_invites::rate_limit::RateLimit;
/// use factify_invites::shared_limit::SharedRateLimit;
///
/// // Ten replicas share the SPEC's limit; if Redis is out, each paces
/// // itself to a tenth of it.
/// let shared = SharedRateLimit::new("redis://127.0.0.1:6379/", RateLimit::SPEC)
///     .with_fallback(RateLimit::per_minute(100).with_creates_per_minute(10))
///     .with_timeout(Duration::from_millis(5));
/// let builder = factify_invites::Client::builder().shared_rate_limit(shared);
/// # let _ = builder;
/// ```
#[derive(Clone)]
pub struct SharedRateLimit {
    pub(crate) url: String,
    pub(crate) limit: RateLimit,
    pub(crate) fallback: Option<RateLimit>,
    pub(crate) timeout: Duration,
    pub(crate) probe_interval: Duration,
    pub(crate) key_prefix: String,
}

impl fmt::Debug for SharedRateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry Redis's password: it is not printed.
        f.debug_struct("SharedRateLimit")
            .field("limit", &self.limit)
            .field("fallback", &self.fallback)
            .field("timeout", &self.timeout)
            .field("probe_interval", &self.probe_interval)
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

impl SharedRateLimit {
    /// `limit`, shared through the Redis at `redis_url`
    /// (`redis://[:password@]host:port[/db]`). The URL is checked when the
    /// client is built; nothing connects until the first call.
    pub fn new(redis_url: impl Into<String>, limit: RateLimit) -> SharedRateLimit {
        SharedRateLimit {
            url: redis_url.into(),
            limit,
            fallback: None,
            timeout: DEFAULT_REDIS_TIMEOUT,
            probe_interval: DEFAULT_PROBE_INTERVAL,
            key_prefix: "factify-invites:rl".to_owned(),
        }
    }

    /// The per-process limit used while Redis is out (without it, the
    /// builder's [`rate_limit`](crate::ClientBuilder::rate_limit), else the
    /// shared limit itself). Set it to the shared limit divided by the
    /// number of replicas to stay under the key's limit during an outage.
    #[must_use]
    pub fn with_fallback(mut self, limit: RateLimit) -> SharedRateLimit {
        self.fallback = Some(limit);
        self
    }

    /// How long a call waits for Redis before falling back to the
    /// per-process pacer ([`DEFAULT_REDIS_TIMEOUT`] by default): the most
    /// latency a slow or dead Redis adds to a call. Until Redis first
    /// answers, the client's first calls wait up to
    /// [`FIRST_CONNECTION_TIMEOUT`] instead, while the connection is made.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> SharedRateLimit {
        self.timeout = timeout.max(Duration::from_micros(100));
        self
    }

    /// How often Redis is tried again after it failed
    /// ([`DEFAULT_PROBE_INTERVAL`] by default).
    #[must_use]
    pub fn with_probe_interval(mut self, interval: Duration) -> SharedRateLimit {
        self.probe_interval = interval;
        self
    }

    /// The prefix of the Redis keys (`factify-invites:rl` by default); the
    /// keys are `<prefix>:{<sha256 of the API key>}:...`.
    #[must_use]
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> SharedRateLimit {
        self.key_prefix = prefix.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_redis_url() {
        let shared = SharedRateLimit::new("redis://:hunter2@127.0.0.1:1/", RateLimit::SPEC);
        assert!(!format!("{shared:?}").contains("hunter2"));
    }
}
