//! The stack's own CPU per call (issue 12, item 5): a sequential gRPC list
//! call at page size 1, the crate's client against a raw tonic client, on
//! a current-thread and on a multi-threaded runtime.
//!
//! The reference server runs in a **child process** (this same bench
//! binary, told so by an environment variable), so that all of this
//! process's CPU time is the client's: the caller's task, tonic's channel
//! worker (a `tower::buffer::Buffer`), the HTTP/2 connection task, the
//! runtime's own threads. It is the sum over this process's threads of
//! `/proc/self/task/*/schedstat` (nanoseconds on the CPU); the runtime's
//! threads live for the whole measurement. Load from other processes
//! stretches wall time, not this CPU time.
//!
//! The calls run in a task spawned on the runtime, as in a service that
//! calls from its own tasks. Clients, each with a connection of its own:
//!
//! - `raw`: the tonic-generated client over `Endpoint::connect()` (tonic's
//!   `Channel`: every request goes through its buffer worker task), with
//!   the same headers as the crate's (authorization, `grpc-timeout`);
//! - `raw_h2`: the same generated client over hyper's HTTP/2
//!   `SendRequest` used as the tower service, without a buffer worker:
//!   what that hop costs;
//! - `crate`: the crate's `Client` (default settings: 30 s deadline);
//! - `crate_no_timeout`: the same with `no_timeout()`: what the crate's
//!   deadline timer (and tonic's own, armed from `grpc-timeout`) costs.
//!
//! Each round makes `CALLS` calls per client, the clients alternating ABBA;
//! the report gives medians over the rounds, per runtime flavour.
//!
//! `cargo bench --bench call_cpu` (Linux: it reads `/proc`).

mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use common::{median, report, Env, ServerProcess};
use factify_invites::proto;
use factify_invites::proto::organization_invite_service_client::OrganizationInviteServiceClient;
use tonic::metadata::AsciiMetadataValue;

/// Set in the child process, which serves.
const SERVER_ENV: &str = "FACTIFY_BENCH_CALL_CPU_SERVER";
const CALLS: u32 = 400;
const ROUNDS: usize = 10;

/// This process's CPU time so far, in nanoseconds: the sum over its live
/// threads.
fn process_cpu_ns() -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task (Linux)") {
        let path = task.expect("a thread").path().join("schedstat");
        // A thread that ended between the listing and the read.
        let Ok(stat) = std::fs::read_to_string(path) else {
            continue;
        };
        total += stat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())
            .expect("schedstat's first field: nanoseconds on the CPU");
    }
    total
}

/// The child: a reference server on a two-worker runtime with a few
/// invitations; prints `<endpoint> <organization> <key>` and serves until
/// its stdin closes.
fn serve() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let env = rt.block_on(Env::start());
    env.seed(10, chrono::Utc::now());
    common::announce_and_serve(&env);
}

/// hyper's HTTP/2 client connection as the tower service under tonic's
/// generated client: requests go straight to the connection, with no
/// buffer worker in between.
#[derive(Clone)]
struct H2(hyper::client::conn::http2::SendRequest<tonic::body::Body>);

impl tower::Service<http::Request<tonic::body::Body>> for H2 {
    type Response = http::Response<hyper::body::Incoming>;
    type Error = hyper::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(self.0.send_request(request))
    }
}

/// One way of making the call.
#[derive(Clone)]
enum Caller {
    Raw(OrganizationInviteServiceClient<tonic::transport::Channel>),
    RawH2(OrganizationInviteServiceClient<H2>),
    Crate(factify_invites::Client),
}

const NAMES: [&str; 4] = ["raw", "raw_h2", "crate", "crate_no_timeout"];

async fn connect(name: &str, endpoint: &str, key: &str) -> Caller {
    let builder = || {
        factify_invites::Client::builder()
            .endpoint(endpoint)
            .api_key(key)
    };
    match name {
        "raw" => Caller::Raw(OrganizationInviteServiceClient::new(
            tonic::transport::Endpoint::from_shared(endpoint.to_owned())
                .expect("the server's URL")
                .connect()
                .await
                .expect("connect"),
        )),
        "raw_h2" => {
            let address = endpoint.trim_start_matches("http://");
            let stream = tokio::net::TcpStream::connect(address)
                .await
                .expect("connect");
            stream.set_nodelay(true).expect("TCP_NODELAY");
            let (send, connection) = hyper::client::conn::http2::handshake(
                hyper_util::rt::TokioExecutor::new(),
                hyper_util::rt::TokioIo::new(stream),
            )
            .await
            .expect("an HTTP/2 handshake");
            tokio::spawn(connection);
            Caller::RawH2(OrganizationInviteServiceClient::with_origin(
                H2(send),
                endpoint.parse().expect("the server's URL"),
            ))
        }
        "crate" => Caller::Crate(builder().connect().await.expect("a client")),
        "crate_no_timeout" => {
            Caller::Crate(builder().no_timeout().connect().await.expect("a client"))
        }
        _ => unreachable!("a client of NAMES"),
    }
}

fn raw_request(
    org: &str,
    auth: &AsciiMetadataValue,
) -> tonic::Request<proto::ListOrganizationInvitesRequest> {
    let mut request = tonic::Request::new(proto::ListOrganizationInvitesRequest {
        organization_id: org.to_owned(),
        page_size: 1,
        ..Default::default()
    });
    request.metadata_mut().insert("authorization", auth.clone());
    request.set_timeout(common::RAW_TIMEOUT);
    request
}

/// Makes `CALLS` calls of page size 1; returns the process's CPU per call.
async fn cpu_per_call(caller: Caller, org: String, auth: AsciiMetadataValue) -> f64 {
    let before = process_cpu_ns();
    for _ in 0..CALLS {
        let items = match &caller {
            Caller::Raw(raw) => {
                let mut raw = raw.clone();
                let response = raw
                    .list_organization_invites(raw_request(&org, &auth))
                    .await;
                response.expect("a page").into_inner().items.len()
            }
            Caller::RawH2(raw) => {
                let mut raw = raw.clone();
                let response = raw
                    .list_organization_invites(raw_request(&org, &auth))
                    .await;
                response.expect("a page").into_inner().items.len()
            }
            Caller::Crate(client) => {
                let page = client.list_invites(&org).page_size(1).send().await;
                page.expect("a page").items.len()
            }
        };
        assert_eq!(items, 1);
    }
    (process_cpu_ns() - before) as f64 / f64::from(CALLS)
}

fn measure(flavour: &str, rt: &tokio::runtime::Runtime, endpoint: &str, org: &str, key: &str) {
    let auth: AsciiMetadataValue = format!("Bearer {key}").parse().expect("a header value");
    let mut clients = Vec::new();
    for name in NAMES {
        let caller = rt.block_on(connect(name, endpoint, key));
        // Warm: the connection open, buffers grown.
        rt.block_on(rt.spawn(cpu_per_call(caller.clone(), org.to_owned(), auth.clone())))
            .expect("the warm-up");
        clients.push((name, caller, Vec::with_capacity(ROUNDS)));
    }
    for round in 0..ROUNDS {
        let mut order: Vec<usize> = (0..clients.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for index in order {
            let (_, caller, samples) = &mut clients[index];
            let task = rt.spawn(cpu_per_call(caller.clone(), org.to_owned(), auth.clone()));
            samples.push(rt.block_on(task).expect("the calls"));
        }
    }
    let mut raw = f64::NAN;
    for (name, _, samples) in &mut clients {
        let value = median(samples);
        if *name == "raw" {
            raw = value;
        }
        report(format!(
            "call CPU per list call (page size 1), {flavour}, {name}: {:.1} µs ({:.2} of raw; \
             median of {ROUNDS} rounds of {CALLS} calls; min {:.1}, max {:.1})",
            value / 1e3,
            value / raw,
            samples[0] / 1e3,
            samples[samples.len() - 1] / 1e3,
        ));
    }
}

fn main() {
    if std::env::var_os(SERVER_ENV).is_some() {
        serve();
        return;
    }
    let server = ServerProcess::start(SERVER_ENV, "1");
    let (endpoint, org, key) = (&server.endpoint, &server.org, &server.key);

    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    measure("current-thread", &current, endpoint, org, key);
    drop(current);
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a multi-threaded runtime");
    measure("multi-thread (2 workers)", &multi, endpoint, org, key);
    drop(multi);

    drop(server);
}
