//! Concurrency: 1, 16 and 256 concurrent callers (tokio tasks) sharing one
//! client, and so one HTTP/2 connection, against the same with the raw
//! tonic client on the same channel; requests per second, and the ratio
//! crate / raw. Before measuring, it checks through a counting TCP proxy
//! that 256 clones of one client making 5,120 calls open exactly one
//! connection.
//!
//! The call is `ListOrganizationInvites` of one item (a read whose server
//! work does not grow as the benchmark runs), with the same request,
//! `authorization` header and 30 s deadline on both sides. One iteration is
//! one round of `callers` requests, one from each caller; criterion's
//! throughput is requests per second. A paired measurement follows (see
//! `common::paired`): batches of 512 calls, crate and raw alternately.

mod common;

use std::time::{Duration, Instant};

use common::proxy::Proxy;
use common::{median_ns, report, Env, Protocol, RAW_TIMEOUT};
use criterion::{BenchmarkId, Criterion, Throughput};
use factify_invites::proto;
use factify_invites::proto::organization_invite_service_client::OrganizationInviteServiceClient;
use factify_invites::Client;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::Channel;

const CALLERS: [u64; 3] = [1, 16, 256];

/// gRPC only: its one HTTP/2 connection is what this bench is about (and
/// the raw client's protocol). Connect over plaintext HTTP/1.1 uses a pool
/// of connections instead; adding it here is adding it to this list.
const CONCURRENCY_PROTOCOLS: &[Protocol] = &[Protocol::Grpc];

/// Runs `callers` tasks of `rounds` sequential calls each and returns the
/// time until all finished.
async fn run_callers<F, Fut>(callers: u64, rounds: u64, call: F) -> Duration
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let call = call.clone();
            tokio::spawn(async move {
                for _ in 0..rounds {
                    call().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a caller panicked");
    }
    start.elapsed()
}

/// 256 clones of one client, 20 calls each, through a counting proxy:
/// returns the connections the proxy accepted.
async fn connections_used(env: &Env, org: &str) -> usize {
    let proxy = Proxy::start(env.running.addr()).await;
    let client = Client::builder()
        .endpoint(proxy.endpoint())
        .api_key(&env.fixture.admin_key)
        .connect()
        .await
        .expect("connect through the proxy");
    let org = org.to_owned();
    run_callers(256, 20, move || {
        let client = client.clone();
        let org = org.clone();
        async move {
            client.list_invites(org).page_size(1).await.unwrap();
        }
    })
    .await;
    proxy.accepted()
}

/// `callers` tasks of `rounds` calls each through clones of the crate's
/// client; the time until all finished.
async fn crate_batch(client: Client, org: String, callers: u64, rounds: u64) -> Duration {
    run_callers(callers, rounds, move || {
        let client = client.clone();
        let org = org.clone();
        async move {
            client.list_invites(org).page_size(1).await.unwrap();
        }
    })
    .await
}

/// The same through the raw client: same request, header and deadline.
async fn raw_batch(
    env_raw: Raw,
    auth: AsciiMetadataValue,
    org: String,
    callers: u64,
    rounds: u64,
) -> Duration {
    run_callers(callers, rounds, move || {
        let (mut raw, auth) = (env_raw.clone(), auth.clone());
        let organization_id = org.clone();
        async move {
            let mut request = tonic::Request::new(proto::ListOrganizationInvitesRequest {
                organization_id,
                page_size: 1,
                ..Default::default()
            });
            request.metadata_mut().insert("authorization", auth);
            request.set_timeout(RAW_TIMEOUT);
            raw.list_organization_invites(request).await.unwrap();
        }
    })
    .await
}

type Raw = OrganizationInviteServiceClient<Channel>;

/// Batches of each side in the paired measurement after criterion's.
const PAIRS: usize = 30;
/// Requests per batch of the paired measurement.
const BATCH: u64 = 512;

fn main() {
    common::started();
    let rt = common::runtime();
    let env = rt.block_on(Env::start());
    env.seed(10, chrono::Utc::now());
    let org = env.fixture.organization.to_string();

    if !common::profiling() {
        let connections = rt.block_on(connections_used(&env, &org));
        report(format!(
            "connections: 256 clones of one client, 5120 calls: {connections} TCP \
             connection(s) accepted"
        ));
        assert_eq!(
            connections, 1,
            "clones of a client must share its connection"
        );
    }

    let raw = env.raw();
    let auth = env.raw_auth();
    let mut c: Criterion = common::criterion(Duration::from_secs(1), Duration::from_secs(5), 30);
    let mut group = c.benchmark_group("concurrency");
    for callers in CALLERS {
        group.throughput(Throughput::Elements(callers));
        for &protocol in CONCURRENCY_PROTOCOLS {
            let client = rt.block_on(protocol.client(&env));
            group.bench_function(
                BenchmarkId::new(format!("crate_{}", protocol.name()), callers),
                |b| {
                    b.to_async(&rt).iter_custom(|rounds| {
                        crate_batch(client.clone(), org.clone(), callers, rounds)
                    })
                },
            );
        }
        group.bench_function(BenchmarkId::new("raw_grpc", callers), |b| {
            b.to_async(&rt).iter_custom(|rounds| {
                raw_batch(raw.clone(), auth.clone(), org.clone(), callers, rounds)
            })
        });
    }
    group.finish();
    c.final_summary();

    for callers in CALLERS {
        let param = callers.to_string();
        let Some(theirs) = median_ns("concurrency", "raw_grpc", &param) else {
            continue;
        };
        let rps = |ns_per_round: f64| callers as f64 * 1e9 / ns_per_round;
        for &protocol in CONCURRENCY_PROTOCOLS {
            let function = format!("crate_{}", protocol.name());
            if let Some(ours) = median_ns("concurrency", &function, &param) {
                report(format!(
                    "concurrency {callers:>3} callers {} criterion: crate {:.0} req/s vs raw \
                     {:.0} req/s (medians): ratio {:.3}",
                    protocol.name(),
                    rps(ours),
                    rps(theirs),
                    theirs / ours
                ));
            }
        }
    }
    for callers in CALLERS {
        if median_ns("concurrency", "raw_grpc", &callers.to_string()).is_none() {
            continue; // filtered out on the command line
        }
        let rounds = (BATCH / callers).max(1);
        let rps = |ns_per_batch: f64| (callers * rounds) as f64 * 1e9 / ns_per_batch;
        for &protocol in CONCURRENCY_PROTOCOLS {
            let client = rt.block_on(protocol.client(&env));
            let (ours, theirs) = rt.block_on(common::paired(
                PAIRS,
                || (),
                |()| crate_batch(client.clone(), org.clone(), callers, rounds),
                |()| raw_batch(raw.clone(), auth.clone(), org.clone(), callers, rounds),
            ));
            report(format!(
                "concurrency {callers:>3} callers {} paired ({PAIRS} alternating batches of \
                 {} calls): crate {:.0} req/s vs raw {:.0} req/s (medians): ratio {:.3}",
                protocol.name(),
                callers * rounds,
                rps(ours),
                rps(theirs),
                theirs / ours
            ));
        }
    }
}
