//! The added cost per call of the rate limit shared through Redis (feature
//! `redis`) against the per-process pacer and against no limit: one
//! `ListOrganizationInvites` page over gRPC to the reference server, with
//! limits so high that no call ever waits, so what is measured is the
//! limiter's own work (for the shared one: a SHA-256 of the key and one
//! `EVALSHA` round trip to a `redis-server` on loopback).
//!
//! `redis_down` is the shared limit with its Redis down (a closed loopback
//! port): the steady cost of an outage, calls paced by the fallback while
//! one probe a second finds Redis still out.
//!
//! The same call is also measured with OpenTelemetry metrics on (feature
//! `otel`: an SDK meter provider with a periodic reader exporting to
//! memory once a minute, so the calls pay for the aggregation only): the per-call cost of the metrics.
//!
//! Needs Debian's `redis-server` on the `PATH` (started here on a free
//! loopback port). Ends by printing, per mode, criterion's median latency
//! and the process's CPU time per call (client and reference server, which
//! does the same work in every mode; Redis's own CPU is not counted).

#[path = "../tests/common/redis_server.rs"]
mod redis_server;

mod common;

use std::time::{Duration, Instant};

use common::{human, median_ns, report, Env};
use criterion::{BenchmarkId, Criterion};
use factify_invites::rate_limit::RateLimit;
use factify_invites::shared_limit::SharedRateLimit;
use factify_invites::Client;

/// A limit no bench reaches: the limiters never make a call wait.
fn unreachable_limit() -> RateLimit {
    RateLimit::per_minute(u32::MAX).with_creates_per_minute(u32::MAX)
}

async fn list(client: &Client, env: &Env) {
    client
        .list_invites(&env.fixture.organization)
        .page_size(1)
        .page(None)
        .await
        .expect("a page");
}

/// This process's CPU time (user and system) so far, from `/proc`.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis: utime is the 12th,
    // stime the 13th (in clock ticks of 10 ms).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn main() {
    common::started();
    let rt = common::runtime();
    let redis = rt.block_on(redis_server::RedisServer::start());
    let env = rt.block_on(Env::start());
    let builder = || {
        Client::builder()
            .endpoint(env.running.endpoint())
            .api_key(&env.fixture.admin_key)
    };
    let meter_provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_reader(
            opentelemetry_sdk::metrics::PeriodicReader::builder(
                opentelemetry_sdk::metrics::InMemoryMetricExporter::default(),
            )
            .build(),
        )
        .build();
    // A loopback port nobody listens on: a Redis that is down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port");
    let modes: Vec<(&str, Client)> = rt.block_on(async {
        vec![
            ("none", builder().connect().await.unwrap()),
            (
                "local",
                builder()
                    .rate_limit(unreachable_limit())
                    .connect()
                    .await
                    .unwrap(),
            ),
            (
                "redis_down",
                builder()
                    .shared_rate_limit(
                        SharedRateLimit::new(format!("redis://{closed}/"), unreachable_limit())
                            .with_timeout(Duration::from_millis(50)),
                    )
                    .connect()
                    .await
                    .unwrap(),
            ),
            (
                "metrics",
                builder()
                    .meter_provider(&meter_provider)
                    .connect()
                    .await
                    .unwrap(),
            ),
            (
                "redis",
                builder()
                    .shared_rate_limit(
                        SharedRateLimit::new(redis.url(), unreachable_limit())
                            .with_timeout(Duration::from_millis(50)),
                    )
                    .connect()
                    .await
                    .unwrap(),
            ),
        ]
    });
    let mut c: Criterion = common::criterion(Duration::from_secs(2), Duration::from_secs(5), 60);
    let mut group = c.benchmark_group("limiter_list");
    for (name, client) in &modes {
        group.bench_function(BenchmarkId::new("crate", *name), |b| {
            b.to_async(&rt).iter(|| list(client, &env))
        });
    }
    group.finish();
    c.final_summary();

    let none = median_ns("limiter_list", "crate", "none");
    for (name, _) in &modes {
        if let (Some(base), Some(ours)) = (none, median_ns("limiter_list", "crate", name)) {
            report(format!(
                "limiter_list {name}: median {} ({:+} against no limiter)",
                human(ours),
                human(ours - base)
            ));
        }
    }
    // CPU per call: sequential calls, a few thousand per mode.
    const CALLS: u32 = 3000;
    for (name, client) in &modes {
        let (cpu, wall) = rt.block_on(async {
            let (cpu, wall) = (cpu_time(), Instant::now());
            for _ in 0..CALLS {
                list(client, &env).await;
            }
            (cpu_time() - cpu, wall.elapsed())
        });
        report(format!(
            "limiter_list {name}: {} CPU and {} wall per call (mean of {CALLS})",
            human(cpu.as_nanos() as f64 / f64::from(CALLS)),
            human(wall.as_nanos() as f64 / f64::from(CALLS)),
        ));
    }
    drop(redis);
}
