//! `factify-invites invite-many` as processes sharing one rate limit
//! through Redis (feature `redis` of the client), against a real
//! `redis-server` and the reference server. The library's own shared-limit
//! tests are in `crates/factify-invites-tests/tests/shared_limit.rs`; this
//! one is here because only this crate's tests can run its binary.

use std::time::Duration;

use factify_invites_server::{Method, RateLimits, ReferenceServer};

// The same helper as the library's tests: one copy, in the tests crate.
#[path = "../../factify-invites-tests/tests/common/redis_server.rs"]
mod redis_server;
use redis_server::RedisServer;

/// The server's rate-limit window in this test.
const WINDOW: Duration = Duration::from_secs(2);

/// `factify-invites invite-many` run as three processes, one per shard of
/// a CSV, with one key and one Redis: together they stay within the
/// creation limit, and every row is invited exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_many_processes_on_shards_share_one_limit_through_redis() {
    if redis_server::skipped() {
        return;
    }
    const SHARDS: usize = 3;
    const ROWS: usize = 10;
    let redis = RedisServer::start().await;
    // 20 creations (and 40 calls) per 2 s: 600 a minute; the processes
    // share 450 a minute (the margin absorbs a loaded machine's stalls
    // between booking a start and reaching the server).
    let server = ReferenceServer::new()
        .with_rate_limits(RateLimits {
            requests_per_minute: 40,
            creates_per_minute: 20,
        })
        .with_rate_limit_window(WINDOW);
    let fixture = server.fixture();
    let running = server.start().await.expect("bind 127.0.0.1:0");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("shared-limit-cli");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let mut children = Vec::new();
    for shard in 0..SHARDS {
        let csv: String = (0..ROWS)
            .map(|row| format!("shard{shard}-row{row}@example.com\n"))
            .collect();
        let input = dir.join(format!("shard{shard}.csv"));
        std::fs::write(&input, csv).unwrap();
        let results = dir.join(format!("results{shard}.csv"));
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_factify-invites"))
            .arg("invite-many")
            .arg(&input)
            .arg("--results")
            .arg(&results)
            .args(["--creates-per-minute", "450", "--concurrency", "4"])
            // Redis stays up: a long timeout, so that a loaded machine
            // never makes a process pace itself alone at the whole limit.
            .args(["--redis", &redis.url(), "--redis-timeout-ms", "1000"])
            .args(["--output", "json"])
            .env("FACTIFY_ENDPOINT", running.endpoint())
            .env("FACTIFY_API_KEY", &fixture.admin_key)
            .env("FACTIFY_ORGANIZATION_ID", fixture.organization.to_string())
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start invite-many");
        children.push(tokio::task::spawn_blocking(move || {
            child.wait_with_output().unwrap()
        }));
    }
    for child in children {
        let output = child.await.unwrap();
        assert!(
            output.status.success(),
            "invite-many failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(server.rate_limited_count(), 0);
    assert_eq!(
        server.call_count(Method::Create),
        (SHARDS * ROWS) as u64,
        "a row was sent twice"
    );
    let mut emails: Vec<String> = server
        .invites(&fixture.organization)
        .into_iter()
        .map(|invite| invite.email)
        .collect();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), SHARDS * ROWS);
}
