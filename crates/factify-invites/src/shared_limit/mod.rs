//! A rate limit shared by every process that calls Factify with one API
//! key, kept in Redis (feature `redis`): [`SharedRateLimit`] configures it,
//! and the crate-private `Gate` is what a call asks "when may I start?"
//! and tells "the server said hold off".
//!
//! Factify's limits are per key, while
//! [`RateLimit`](crate::rate_limit::RateLimit) paces one process: ten
//! replicas pacing themselves to the full limit send ten times it. Here the
//! replicas book their starts in Redis instead, one atomic Lua step per
//! call (a GCRA that spaces starts `60 s / rate` apart, for all calls and
//! for creations apart, as the SPEC counts them). Starts are booked in the
//! order the requests reach Redis, so no replica starves while others keep
//! sending. A `RESOURCE_EXHAUSTED` with a `RetryInfo` that one replica
//! receives is written to Redis too (capped at [`MAX_SHARED_HOLD_OFF`]),
//! and every replica holds off until then.
//!
//! Keys are named after a SHA-256 of the API key, never the key itself.
//!
//! Redis is a help, not a dependency of every call: each Redis step has a
//! timeout ([`DEFAULT_REDIS_TIMEOUT`], 5 ms; [`FIRST_CONNECTION_TIMEOUT`]
//! while the first connection is made); when it fails or times out the
//! call falls back to the per-process pacer, a warning is logged once for
//! the outage, and Redis is left alone (no added latency) until a single
//! probe, every [`DEFAULT_PROBE_INTERVAL`], finds it back.

#[cfg(feature = "redis")]
mod config;
#[cfg(feature = "redis")]
mod with_redis;
#[cfg(not(feature = "redis"))]
mod without_redis;

#[cfg(feature = "redis")]
pub use config::{
    SharedRateLimit, DEFAULT_PROBE_INTERVAL, DEFAULT_REDIS_TIMEOUT, FIRST_CONNECTION_TIMEOUT,
    MAX_SHARED_HOLD_OFF,
};
#[cfg(feature = "redis")]
pub(crate) use with_redis::Gate;
#[cfg(not(feature = "redis"))]
pub(crate) use without_redis::Gate;

use tokio::time::Instant;

/// When a call may start, as the shared limit says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) enum Turn {
    /// Booked: start at this instant.
    At(Instant),
    /// The next free start is past the call's deadline; nothing was booked.
    PastDeadline,
    /// No shared limit for this call (none set, no API key, or Redis is
    /// out): pace it with the per-process pacer.
    Local,
}
