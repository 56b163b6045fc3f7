//! The rate limit shared through Redis (feature `redis`), against a real
//! `redis-server` and the reference server with its per-key rate limits
//! scaled down to a 2-second window (40 calls, 10 of them creations).
//!
//! Each "replica" is a separately built `Client` (its own connections,
//! pacer and cool-down), as a process of its own would have; they share
//! one API key. The reference server counts and refuses per key: its
//! refusal count is the measure.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use factify_invites::rate_limit::RateLimit;
use factify_invites::retry::RetryPolicy;
use factify_invites::shared_limit::{SharedRateLimit, MAX_SHARED_HOLD_OFF};
use factify_invites::{Client, Code, OrganizationId};
use factify_invites_server::{Fault, RateLimits, ReferenceServer, RunningServer};
use tokio::time::Instant;

#[path = "common/redis_server.rs"]
mod redis_server;
use redis_server::RedisServer;

/// The server's window in these tests.
const WINDOW: Duration = Duration::from_secs(2);
/// The server's limits per [`WINDOW`]: 1200 and 300 a minute.
const SERVER_LIMITS: RateLimits = RateLimits {
    requests_per_minute: 40,
    creates_per_minute: 10,
};

/// The clients' limit: 90 % of the server's, in calls a minute (the margin
/// absorbs the jitter between booking a start and reaching the server).
fn client_limit() -> RateLimit {
    RateLimit::per_minute(40 * 60 / 2 * 9 / 10).with_creates_per_minute(10 * 60 / 2 * 9 / 10)
}

struct Env {
    server: ReferenceServer,
    running: RunningServer,
    key: String,
    org: OrganizationId,
}

async fn start_server(limited: bool) -> Env {
    let mut server = ReferenceServer::new();
    if limited {
        server = server
            .with_rate_limits(SERVER_LIMITS)
            .with_rate_limit_window(WINDOW);
    }
    let fixture = server.fixture();
    let running = server.start().await.expect("bind 127.0.0.1:0");
    Env {
        server,
        running,
        key: fixture.admin_key,
        org: fixture.organization,
    }
}

/// How a replica paces itself.
#[derive(Clone)]
enum Pacing {
    /// Alone, with a per-process pacer at the clients' limit.
    Local,
    /// Through Redis, falling back to a per-process share of the limit.
    Shared(SharedRateLimit),
}

async fn replica(env: &Env, pacing: &Pacing) -> Client {
    let builder = Client::builder()
        .endpoint(env.running.endpoint())
        .api_key(&env.key);
    let builder = match pacing {
        Pacing::Local => builder.rate_limit(client_limit()),
        Pacing::Shared(shared) => builder.shared_rate_limit(shared.clone()),
    };
    builder.connect().await.expect("connect")
}

/// What a run of replicas came to.
#[derive(Debug)]
struct Run {
    /// Calls each replica completed successfully.
    per_replica: Vec<u64>,
    /// Calls that failed, by their code.
    failures: Vec<String>,
    /// Calls admitted and refused by the server.
    admitted: u64,
    refused: u64,
    elapsed: Duration,
    started: Instant,
    length: Duration,
    /// The slowest call, start to answer.
    slowest: Duration,
    /// When each successful call was answered.
    answered_at: Vec<Instant>,
}

impl Run {
    /// Successful calls a minute while the replicas were calling (the
    /// calls still queued at the end are left out).
    fn rate_per_minute(&self) -> f64 {
        let answered = self.answered_between(self.started, self.started + self.length);
        answered as f64 * 60.0 / self.length.as_secs_f64()
    }

    /// Successful calls answered between `from` and `to`.
    fn answered_between(&self, from: Instant, to: Instant) -> usize {
        self.answered_at
            .iter()
            .filter(|at| **at >= from && **at < to)
            .count()
    }

    /// The longest time without any answer from `from` on (to the next
    /// answer after `from`, and between answers until `to`).
    fn longest_silence(&self, from: Instant, to: Instant) -> Duration {
        let mut times: Vec<Instant> = self.answered_at.clone();
        times.sort();
        let mut last = from;
        let mut longest = Duration::ZERO;
        for at in times.into_iter().filter(|at| *at >= from && *at < to) {
            longest = longest.max(at - last);
            last = at;
        }
        longest
    }
}

/// Runs `replicas` clients, each with two tasks calling in a loop (three
/// lists, then a creation) for `length`; `during` runs meanwhile.
async fn run<F: std::future::Future<Output = ()>>(
    env: &Env,
    replicas: usize,
    pacing: Pacing,
    length: Duration,
    during: F,
) -> Run {
    let before = (env.server.total_calls(), env.server.rate_limited_count());
    let started = Instant::now();
    let end = started + length;
    let failures = Arc::new(Mutex::new(Vec::new()));
    let slowest = Arc::new(Mutex::new(Duration::ZERO));
    let email_seq = Arc::new(AtomicU64::new(0));
    let answered_at = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    let mut counts = Vec::new();
    for _ in 0..replicas {
        let client = replica(env, &pacing).await;
        let done = Arc::new(AtomicU64::new(0));
        counts.push(done.clone());
        for _ in 0..2 {
            let (client, org, done) = (client.clone(), env.org.clone(), done.clone());
            let (failures, slowest, email_seq, answered_at) = (
                failures.clone(),
                slowest.clone(),
                email_seq.clone(),
                answered_at.clone(),
            );
            handles.push(tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < end {
                    n += 1;
                    let call_started = Instant::now();
                    let result = if n.is_multiple_of(4) {
                        let seq = email_seq.fetch_add(1, Ordering::Relaxed);
                        client
                            .create_invite(&org, format!("user{seq}@example.com"))
                            .await
                            .map(drop)
                    } else {
                        client
                            .list_invites(&org)
                            .page_size(1)
                            .page(None)
                            .await
                            .map(drop)
                    };
                    let took = call_started.elapsed();
                    {
                        let mut slowest = slowest.lock().unwrap();
                        *slowest = (*slowest).max(took);
                    }
                    match result {
                        Ok(()) => {
                            done.fetch_add(1, Ordering::Relaxed);
                            answered_at.lock().unwrap().push(Instant::now());
                        }
                        Err(err) => failures.lock().unwrap().push(format!(
                            "{}: {err}",
                            err.code().map_or("local", |code| code.as_str())
                        )),
                    }
                }
            }));
        }
    }
    during.await;
    for handle in handles {
        handle.await.expect("a replica's task panicked");
    }
    let elapsed = started.elapsed();
    let total = env.server.total_calls() - before.0;
    let refused = env.server.rate_limited_count() - before.1;
    let failures = std::mem::take(&mut *failures.lock().unwrap());
    let slowest = *slowest.lock().unwrap();
    let answered_at = std::mem::take(&mut *answered_at.lock().unwrap());
    Run {
        per_replica: counts.iter().map(|c| c.load(Ordering::Relaxed)).collect(),
        failures,
        admitted: total - refused,
        refused,
        elapsed,
        started,
        length,
        slowest,
        answered_at,
    }
}

/// The shared limit of `replicas` replicas, waiting `timeout` for Redis.
fn shared_with(redis: &RedisServer, replicas: u32, timeout: Duration) -> SharedRateLimit {
    let limit = client_limit();
    SharedRateLimit::new(redis.url(), limit)
        .with_timeout(timeout)
        .with_probe_interval(Duration::from_millis(200))
        // During an outage each replica paces itself to its share.
        .with_fallback(
            RateLimit::per_minute(limit.requests_per_minute / replicas)
                .with_creates_per_minute(limit.creates_per_minute / replicas),
        )
}

/// The shared limit of `replicas` replicas, for tests where Redis stays
/// up: a loaded two-core machine can be slower than the 5 ms default, and
/// these tests are not about falling back.
fn shared(redis: &RedisServer, replicas: u32) -> SharedRateLimit {
    shared_with(redis, replicas, Duration::from_millis(500))
}

/// The shared limit for the tests of a failing Redis: a short timeout.
fn shared_failing(redis: &RedisServer, replicas: u32) -> SharedRateLimit {
    shared_with(redis, replicas, Duration::from_millis(50))
}

/// Asserts that a run stayed within the server's limit and that no replica
/// starved.
fn assert_within_limit_and_fair(run: &Run) {
    assert_eq!(run.refused, 0, "the server refused calls: {run:?}");
    assert!(run.failures.is_empty(), "calls failed: {run:?}");
    let windows = run.elapsed.as_secs_f64() / WINDOW.as_secs_f64();
    let most = (f64::from(SERVER_LIMITS.requests_per_minute) * (windows + 1.0)) as u64;
    assert!(
        run.admitted <= most,
        "{} calls > {most}: {run:?}",
        run.admitted
    );
    let total: u64 = run.per_replica.iter().sum();
    let fair = total / run.per_replica.len() as u64;
    for (i, done) in run.per_replica.iter().enumerate() {
        assert!(
            *done >= fair / 3,
            "replica {i} starved: {done} calls against a fair share of {fair}: {run:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_a_key_through_redis_stay_within_the_limit() {
    if redis_server::skipped() {
        return;
    }
    let redis = RedisServer::start().await;
    let env = start_server(true).await;
    let run = run(
        &env,
        4,
        Pacing::Shared(shared(&redis, 4)),
        Duration::from_secs(4),
        async {},
    )
    .await;
    eprintln!(
        "4 replicas, shared: {} admitted ({:.0}/min), {} refused, slowest {:?}",
        run.admitted,
        run.rate_per_minute(),
        run.refused,
        run.slowest
    );
    assert_within_limit_and_fair(&run);
    // The limit is used, not just respected: at least half of it.
    let least = run.elapsed.as_secs_f64() * f64::from(client_limit().requests_per_minute) / 120.0;
    assert!(run.admitted as f64 >= least, "{run:?}");
}

/// What the shared limit is for: replicas that pace themselves alone send
/// their number times the limit, and the server refuses the excess.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_pacing_alone_overrun_the_key_limit() {
    let env = start_server(true).await;
    let run = run(&env, 4, Pacing::Local, Duration::from_secs(3), async {}).await;
    eprintln!(
        "4 replicas, local pacers: {} admitted ({:.0}/min), {} refused",
        run.admitted,
        run.rate_per_minute(),
        run.refused
    );
    assert!(run.refused > 0, "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_off_received_by_one_replica_holds_every_replica() {
    if redis_server::skipped() {
        return;
    }
    let redis = RedisServer::start().await;
    let env = start_server(false).await;
    let pacing = Pacing::Shared(shared(&redis, 2));
    let first = replica(&env, &pacing).await;
    let second = replica(&env, &pacing).await;
    env.server
        .inject_faults(None, [Fault::RateLimited(Duration::from_secs(1))]);
    // The hold-off is stored after this instant, and lasts 1 s from then.
    let before = Instant::now();
    let err = first
        .list_invites(&env.org)
        .retry_policy(RetryPolicy::disabled())
        .page(None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(Code::ResourceExhausted), "{err}");
    let holds = redis.keys("factify-invites:rl:*:hold").await;
    assert_eq!(holds.len(), 1, "{holds:?}");
    let ttl: i64 = redis.query(&["PTTL", &holds[0]]).await;
    assert!(ttl > 0 && ttl <= 2_000, "{ttl}");

    // The other replica has never been refused, yet waits out the hold-off.
    second
        .list_invites(&env.org)
        .page(None)
        .await
        .expect("after the hold-off");
    assert!(
        before.elapsed() >= Duration::from_millis(950),
        "answered {:?} after the hold-off began",
        before.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_enormous_retry_info_holds_replicas_off_for_the_cap_at_most() {
    if redis_server::skipped() {
        return;
    }
    let redis = RedisServer::start().await;
    let env = start_server(false).await;
    let client = replica(&env, &Pacing::Shared(shared(&redis, 1))).await;
    env.server.inject_faults(
        None,
        [Fault::RateLimited(Duration::from_secs(1_000_000_000))],
    );
    let err = client
        .list_invites(&env.org)
        .retry_policy(RetryPolicy::disabled())
        .page(None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(Code::ResourceExhausted), "{err}");
    let holds = redis.keys("factify-invites:rl:*:hold").await;
    assert_eq!(holds.len(), 1, "{holds:?}");
    let ttl: i64 = redis.query(&["PTTL", &holds[0]]).await;
    let cap = i64::try_from(MAX_SHARED_HOLD_OFF.as_millis()).unwrap() + 1_000;
    assert!(ttl > 0 && ttl <= cap, "{ttl} > {cap}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_keys_name_a_hash_of_the_api_key_never_the_key() {
    if redis_server::skipped() {
        return;
    }
    let redis = RedisServer::start().await;
    let env = start_server(false).await;
    let client = replica(&env, &Pacing::Shared(shared(&redis, 1))).await;
    client
        .create_invite(&env.org, "ada@example.com")
        .await
        .unwrap();
    let keys = redis.keys("*").await;
    assert!(keys.len() >= 2, "{keys:?}");
    for key in &keys {
        assert!(!key.contains(&env.key), "{key}");
        assert!(key.starts_with("factify-invites:rl:{"), "{key}");
    }
}

/// The `tracing` output of the test's thread, as text.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures warnings on this thread (the tests below run on a
    /// current-thread runtime, so every task logs here).
    fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    fn count(&self, text: &str) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .matches(text)
            .count()
    }
}

#[tokio::test]
async fn redis_killed_mid_run_falls_back_then_shares_again() {
    if redis_server::skipped() {
        return;
    }
    let (logs, _guard) = Logs::capture();
    let mut redis = RedisServer::start().await;
    let env = start_server(true).await;
    let pacing = Pacing::Shared(shared_failing(&redis, 2));
    let mut outage = None;
    let run = run(&env, 2, pacing, Duration::from_millis(4500), async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        redis.kill();
        let killed = Instant::now();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        redis.restart().await;
        outage = Some((killed, Instant::now()));
    })
    .await;
    let (killed, restarted) = outage.unwrap();
    let during = run.answered_between(killed, restarted);
    eprintln!(
        "Redis killed: {} calls answered in the {:?} outage, longest silence after the kill {:?}, \
         {} refused, slowest call {:?}",
        during,
        restarted - killed,
        run.longest_silence(killed, restarted),
        run.refused,
        run.slowest,
    );
    assert!(run.failures.is_empty(), "{run:?}");
    assert!(during >= 5, "the replicas stopped with Redis: {run:?}");
    // Once per outage and replica, not once per call.
    let warnings = logs.count("Redis failed");
    assert!(
        (2..=4).contains(&warnings),
        "{warnings} warnings for {during} calls"
    );
    assert!(
        logs.count("Redis is back") >= 2,
        "{}",
        logs.count("Redis is back")
    );
    // The restarted (empty) Redis holds bookings again.
    let booked = redis.keys("factify-invites:rl:*:next").await;
    assert_eq!(booked.len(), 1, "{booked:?}");
    // A few calls of the switch-over may meet the server's limit (each
    // replica's pacer starts afresh); retries absorbed them.
    assert!(run.refused <= 6, "{run:?}");
}

#[tokio::test]
async fn a_slow_redis_does_not_hold_calls_back() {
    if redis_server::skipped() {
        return;
    }
    let (logs, _guard) = Logs::capture();
    let redis = RedisServer::start().await;
    let env = start_server(true).await;
    let pacing = Pacing::Shared(shared_failing(&redis, 2));
    let mut pause = None;
    let run = run(&env, 2, pacing, Duration::from_millis(3500), async {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        // Redis answers nothing for 1.5 s (then everything it queued).
        let _: () = redis.query(&["CLIENT", "PAUSE", "1500", "ALL"]).await;
        let paused = Instant::now();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        pause = Some((paused, Instant::now()));
    })
    .await;
    let (paused, resumed) = pause.unwrap();
    let during = run.answered_between(paused, resumed);
    eprintln!(
        "Redis paused: {} calls answered in the {:?} pause, longest silence {:?}, {} refused, \
         slowest call {:?}",
        during,
        resumed - paused,
        run.longest_silence(paused, resumed),
        run.refused,
        run.slowest,
    );
    assert!(run.failures.is_empty(), "{run:?}");
    assert!(during >= 5, "the replicas waited for Redis: {run:?}");
    let warnings = logs.count("Redis failed");
    assert!(
        (2..=4).contains(&warnings),
        "{warnings} warnings for {during} calls"
    );
    assert!(run.refused <= 6, "{run:?}");
}

/// The closing note's figures: refusals and achieved rate for 1, 4 and 16
/// replicas sharing a key, with and without the shared limit. Run with
/// `cargo test --test shared_limit -- --ignored --nocapture figures`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints figures; about 40 s"]
async fn figures_for_1_4_and_16_replicas() {
    let redis = RedisServer::start().await;
    eprintln!(
        "server limit {} calls / {} creations per {WINDOW:?} ({}/min); clients at 90 %",
        SERVER_LIMITS.requests_per_minute,
        SERVER_LIMITS.creates_per_minute,
        SERVER_LIMITS.requests_per_minute * 30
    );
    for replicas in [1u32, 4, 16] {
        for (name, pacing) in [
            ("local pacers", Pacing::Local),
            ("shared (Redis)", Pacing::Shared(shared(&redis, replicas))),
        ] {
            let env = start_server(true).await;
            let run = run(
                &env,
                replicas as usize,
                pacing,
                Duration::from_secs(6),
                async {},
            )
            .await;
            eprintln!(
                "{replicas:>2} replicas, {name:<14}: {:>4} admitted, {:>4.0}/min, \
                 {:>4} RESOURCE_EXHAUSTED, {} failed, slowest {:?}",
                run.admitted,
                run.rate_per_minute(),
                run.refused,
                run.failures.len(),
                run.slowest
            );
        }
    }
}

/// The closing note's fallback figures: what a call costs when Redis dies
/// (killed: connections refused) or hangs (`SIGSTOP`), with the default
/// 5 ms timeout and limits no call reaches (so no pacing wait is counted).
/// Run with `cargo test --test shared_limit -- --ignored --nocapture fallback`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints figures"]
async fn fallback_figures() {
    let mut redis = RedisServer::start().await;
    let env = start_server(false).await;
    let limit = RateLimit::per_minute(u32::MAX).with_creates_per_minute(u32::MAX);
    let client = Client::builder()
        .endpoint(env.running.endpoint())
        .api_key(&env.key)
        .shared_rate_limit(SharedRateLimit::new(redis.url(), limit))
        .connect()
        .await
        .unwrap();
    let call = || async {
        let started = Instant::now();
        client
            .list_invites(&env.org)
            .page_size(1)
            .page(None)
            .await
            .unwrap();
        started.elapsed()
    };
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let mut up = Vec::new();
    for _ in 0..50 {
        up.push(call().await);
    }
    eprintln!("Redis up: median call {:?}", median(up));

    redis.signal("-STOP");
    let first = call().await;
    let mut next = Vec::new();
    for _ in 0..20 {
        next.push(call().await);
    }
    eprintln!(
        "Redis hung (SIGSTOP): first call {first:?}, then median {:?}",
        median(next)
    );
    redis.signal("-CONT");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let bookings = || async {
        let stats: String = redis.query(&["INFO", "commandstats"]).await;
        stats
            .lines()
            .find_map(|line| line.strip_prefix("cmdstat_evalsha:calls="))
            .and_then(|rest| rest.split(',').next())
            .map_or(0u64, |n| n.parse().unwrap())
    };
    let before = bookings().await;
    let mut back = Vec::new();
    for _ in 0..20 {
        back.push(call().await);
    }
    eprintln!(
        "Redis resumed: median call {:?}, {} of 20 calls booked in Redis",
        median(back),
        bookings().await - before
    );

    redis.kill();
    let first = call().await;
    let mut next = Vec::new();
    for _ in 0..20 {
        next.push(call().await);
    }
    eprintln!(
        "Redis killed: first call {first:?}, then median {:?}",
        median(next)
    );
}
