//! The gate of a shared limit (feature `redis`): each call books its start
//! in Redis with one atomic Lua step, a server's hold-off is written there
//! for every replica, and while Redis is out the calls fall back to the
//! per-process pacer until a probe finds it back.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use super::config::{SharedRateLimit, FIRST_CONNECTION_TIMEOUT, MAX_SHARED_HOLD_OFF};
use super::Turn;
use crate::auth::{ApiKey, Credentials};
use crate::error::{Error, Result};

/// The furthest ahead a call books a start when it has no deadline.
const MAX_BOOKING: Duration = Duration::from_secs(120);

/// The SHA-256 of an API key, in hex: the name of its Redis keys.
fn key_fingerprint(key: &ApiKey) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.header().as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// One atomic booking: the next free start of all calls (and of
/// creations), after any hold-off, if it is within the longest wait.
/// KEYS: next free start of all calls, of creations, hold-off of all
/// calls, of creations (µs of Redis's clock). ARGV: spacing of all
/// calls, of creations (0: not a creation), longest wait (µs).
/// Returns {booked (0/1), wait in µs}.
const BOOK: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local create = tonumber(ARGV[2]) > 0
local start = now
local function after(key)
  local v = tonumber(redis.call('GET', key))
  if v and v > start then start = v end
end
after(KEYS[1]); after(KEYS[3])
if create then after(KEYS[2]); after(KEYS[4]) end
local wait = start - now
if wait > tonumber(ARGV[3]) then return {0, wait} end
local function book(key, spacing)
  local free = start + spacing
  redis.call('SET', key, string.format('%.0f', free), 'PX', math.ceil((free - now) / 1000) + 1000)
end
book(KEYS[1], tonumber(ARGV[1]))
if create then book(KEYS[2], tonumber(ARGV[2])) end
return {1, wait}
"#;

/// Moves a hold-off forward to now + ARGV[1] µs (never back).
const HOLD_OFF: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local resume = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]))
if not current or current < resume then
  redis.call('SET', KEYS[1], string.format('%.0f', resume), 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 1
"#;

/// The shared limit of one client (and its clones), or none.
#[derive(Debug, Default)]
pub(crate) struct Gate(Option<Box<Shared>>);

struct Shared {
    client: redis::Client,
    connection: Mutex<Option<ConnectionManager>>,
    all_spacing_us: u64,
    create_spacing_us: u64,
    timeout: Duration,
    probe_interval: Duration,
    key_prefix: String,
    book: Script,
    hold_off: Script,
    health: Mutex<Health>,
    probing: AtomicBool,
    /// Whether Redis ever answered: until then a step may also wait
    /// for the first connection.
    answered_once: AtomicBool,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("all_spacing_us", &self.all_spacing_us)
            .field("create_spacing_us", &self.create_spacing_us)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Whether Redis is out, since when, and when to try it again.
#[derive(Debug, Default)]
struct Health {
    out_since: Option<Instant>,
    next_probe: Option<Instant>,
}

fn spacing_us(per_minute: u32) -> u64 {
    60_000_000 / u64::from(per_minute.max(1))
}

impl Gate {
    /// The gate of `config`; the URL is checked here (without quoting
    /// it: it may hold a password).
    pub(crate) fn new(config: &SharedRateLimit) -> Result<Gate> {
        let client = redis::Client::open(config.url.as_str()).map_err(|err| {
            Error::invalid_request(
                "shared_rate_limit",
                format!("not a valid Redis URL ({})", err.category()),
            )
        })?;
        Ok(Gate(Some(Box::new(Shared {
            client,
            connection: Mutex::new(None),
            all_spacing_us: spacing_us(config.limit.requests_per_minute),
            create_spacing_us: spacing_us(config.limit.creates_per_minute),
            timeout: config.timeout,
            probe_interval: config.probe_interval,
            key_prefix: config.key_prefix.clone(),
            book: Script::new(BOOK),
            hold_off: Script::new(HOLD_OFF),
            health: Mutex::new(Health::default()),
            probing: AtomicBool::new(false),
            answered_once: AtomicBool::new(false),
        }))))
    }

    /// When a call may start: booked in Redis, or [`Turn::Local`].
    pub(crate) async fn turn(
        &self,
        credentials: &Credentials,
        create: bool,
        deadline: Option<Instant>,
    ) -> Turn {
        let Some(shared) = &self.0 else {
            return Turn::Local;
        };
        let Ok(Some(key)) = credentials.current().await else {
            return Turn::Local;
        };
        shared.turn(&key, create, deadline).await
    }

    /// Tells every replica to hold off for `delay` (a server's
    /// `RESOURCE_EXHAUSTED` with `RetryInfo`).
    pub(crate) async fn hold_off(&self, key: Option<&ApiKey>, create: bool, delay: Duration) {
        if let (Some(shared), Some(key)) = (&self.0, key) {
            shared.hold_off(key, create, delay).await;
        }
    }
}

/// What a Redis step came to.
enum Step<T> {
    Done(T),
    /// Redis was not asked: it is out and this call does not probe.
    Skipped,
    Failed,
}

impl Shared {
    fn keys(&self, key: &ApiKey) -> [String; 4] {
        let base = format!("{}:{{{}}}", self.key_prefix, key_fingerprint(key));
        [
            format!("{base}:next"),
            format!("{base}:next-create"),
            format!("{base}:hold"),
            format!("{base}:hold-create"),
        ]
    }

    async fn turn(&self, key: &ApiKey, create: bool, deadline: Option<Instant>) -> Turn {
        let now = Instant::now();
        let longest = deadline
            .map_or(MAX_BOOKING, |deadline| {
                deadline.saturating_duration_since(now)
            })
            .min(MAX_BOOKING);
        let [next, next_create, hold, hold_create] = self.keys(key);
        let mut invocation = self.book.prepare_invoke();
        invocation
            .key(next)
            .key(next_create)
            .key(hold)
            .key(hold_create)
            .arg(self.all_spacing_us)
            .arg(if create { self.create_spacing_us } else { 0 })
            .arg(u64::try_from(longest.as_micros()).unwrap_or(u64::MAX));
        let step = self
            .run(|mut connection| async move {
                invocation.invoke_async::<(i64, i64)>(&mut connection).await
            })
            .await;
        match step {
            Step::Done((booked, wait)) => {
                if booked == 0 {
                    return Turn::PastDeadline;
                }
                let wait = Duration::from_micros(u64::try_from(wait).unwrap_or(0));
                Turn::At(Instant::now() + wait)
            }
            Step::Skipped | Step::Failed => Turn::Local,
        }
    }

    async fn hold_off(&self, key: &ApiKey, create: bool, delay: Duration) {
        let delay = delay.min(MAX_SHARED_HOLD_OFF);
        let [_, _, hold, hold_create] = self.keys(key);
        let mut invocation = self.hold_off.prepare_invoke();
        invocation
            .key(if create { hold_create } else { hold })
            .arg(u64::try_from(delay.as_micros()).unwrap_or(u64::MAX));
        let _ =
            self.run(|mut connection| async move {
                invocation.invoke_async::<i64>(&mut connection).await
            })
            .await;
    }

    /// Runs one Redis step within the timeout, unless Redis is out and
    /// it is not yet time to probe it; keeps the health up to date.
    async fn run<T, F, Fut>(&self, step: F) -> Step<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let probe = {
            let health = self.health.lock().unwrap_or_else(|p| p.into_inner());
            match health.next_probe {
                None => false,
                Some(at) if Instant::now() >= at => {
                    if self.probing.swap(true, Ordering::AcqRel) {
                        return Step::Skipped;
                    }
                    true
                }
                Some(_) => return Step::Skipped,
            }
        };
        let outcome = match self.connection() {
            Ok(connection) => {
                let timeout = if self.answered_once.load(Ordering::Acquire) {
                    self.timeout
                } else {
                    self.timeout.max(FIRST_CONNECTION_TIMEOUT)
                };
                match tokio::time::timeout(timeout, step(connection)).await {
                    Ok(Ok(value)) => Ok(value),
                    Ok(Err(err)) => Err(format!("{} error", err.category())),
                    Err(_) => Err(format!("no answer within {:?}", self.timeout)),
                }
            }
            Err(err) => Err(err),
        };
        let mut health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        if probe {
            self.probing.store(false, Ordering::Release);
        }
        match outcome {
            Ok(value) => {
                self.answered_once.store(true, Ordering::Release);
                if let Some(since) = health.out_since.take() {
                    health.next_probe = None;
                    tracing::warn!(
                        outage = ?since.elapsed(),
                        "Redis is back: the rate limit is shared again"
                    );
                }
                Step::Done(value)
            }
            Err(reason) => {
                let now = Instant::now();
                if health.out_since.is_none() {
                    health.out_since = Some(now);
                    tracing::warn!(
                        reason = %reason,
                        probe_every = ?self.probe_interval,
                        "Redis failed: pacing this process alone until it is back"
                    );
                }
                health.next_probe = Some(now + self.probe_interval);
                Step::Failed
            }
        }
    }

    /// The connection (made on first use, inside the runtime; the
    /// manager reconnects by itself after a failure).
    fn connection(&self) -> std::result::Result<ConnectionManager, String> {
        let mut slot = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(connection) = &*slot {
            return Ok(connection.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|err| format!("{} error", err.category()))?;
        *slot = Some(connection.clone());
        Ok(connection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_named_by_a_hash_never_the_key() {
        let key = ApiKey::new("ffy_secret_key").unwrap();
        let name = key_fingerprint(&key);
        assert_eq!(name.len(), 64);
        assert!(!name.contains("ffy_secret_key"));
        assert_ne!(name, key_fingerprint(&ApiKey::new("ffy_other").unwrap()));
    }
}
