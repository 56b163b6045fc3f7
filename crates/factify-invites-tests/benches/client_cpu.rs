//! Client CPU per call, by protocol: the client's own work, not the
//! server's, and not wall time.
//!
//! The reference server runs on its own runtime in other threads; the
//! client runs on a current-thread runtime on the bench's main thread, so
//! every piece of client work (the call, hyper's or tonic's connection
//! task, the codec) runs on that one thread, and the thread's CPU time
//! (`/proc/thread-self/schedstat`, nanoseconds) is the client's CPU. Load
//! from other processes changes wall time, not this thread's CPU time,
//! which is why this figure holds on a shared machine where timings do not.
//!
//! Each round lists the first page (100 invitations, page size 100)
//! `CALLS` times per protocol, the protocols in ABBA order; the report
//! gives each protocol's median over the rounds and the ratio of
//! Connect+JSON to Connect+proto (issue 12's target: at most 1.5). gRPC and
//! Connect+proto also run with `gzip_responses(true)`, for the cost of
//! inflating pages (the server compresses them when asked).
//!
//! `cargo bench --bench client_cpu` (Linux only: it reads `/proc`).

mod common;

use std::time::Duration;

use common::{median, protocols, report, Env, Protocol};

const PAGE: u32 = 100;
const CALLS: u32 = 200;
const ROUNDS: usize = 12;

/// The CPU time this thread has used, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("/proc/thread-self/schedstat (Linux)");
    stat.split_whitespace()
        .next()
        .and_then(|ns| ns.parse().ok())
        .expect("schedstat's first field: nanoseconds on the CPU")
}

/// Lists the first page `CALLS` times; returns the client's CPU per call.
async fn cpu_per_call(client: &factify_invites::Client, org: &str) -> f64 {
    let before = thread_cpu_ns();
    for _ in 0..CALLS {
        let page = client
            .list_invites(org)
            .page_size(PAGE)
            .send()
            .await
            .expect("a page");
        assert_eq!(page.items.len(), PAGE as usize);
        std::hint::black_box(page);
    }
    (thread_cpu_ns() - before) as f64 / f64::from(CALLS)
}

fn main() {
    // The server: its own runtime and threads, kept until the end.
    let (ready, endpoint) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let runtime = common::runtime();
        runtime.block_on(async move {
            let env = Env::start().await;
            env.seed(PAGE as usize, chrono::Utc::now());
            ready
                .send((
                    env.running.endpoint(),
                    env.fixture.admin_key.clone(),
                    env.fixture.organization.to_string(),
                ))
                .unwrap();
            let _ = stopped.await;
        });
    });
    let (endpoint, key, org) = endpoint.recv().expect("the server started");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    runtime.block_on(async {
        let mut clients = Vec::new();
        let variants = protocols()
            .iter()
            .map(|&protocol| (protocol, false))
            .chain([(Protocol::Grpc, true), (Protocol::ConnectProto, true)]);
        // `CLIENT_CPU_ONLY=connect_json` measures one protocol (to profile it).
        let only = std::env::var("CLIENT_CPU_ONLY").ok();
        for (protocol, gzip) in variants {
            if only.as_deref().is_some_and(|only| only != protocol.name() || gzip) {
                continue;
            }
            let wire = match protocol {
                Protocol::Grpc => factify_invites::Protocol::Grpc,
                Protocol::ConnectProto => factify_invites::Protocol::ConnectProto,
                Protocol::ConnectJson => factify_invites::Protocol::ConnectJson,
            };
            let client = factify_invites::Client::builder()
                .endpoint(&endpoint)
                .api_key(&key)
                .protocol(wire)
                .gzip_responses(gzip)
                .connect()
                .await
                .expect("a client of the bench server");
            // Warm: connections open, pools and caches filled.
            for _ in 0..20 {
                client.list_invites(&org).page_size(PAGE).send().await.unwrap();
            }
            clients.push(((protocol, gzip), client, Vec::with_capacity(ROUNDS)));
        }
        for round in 0..ROUNDS {
            let mut order: Vec<usize> = (0..clients.len()).collect();
            if round % 2 == 1 {
                order.reverse();
            }
            for index in order {
                let (_, client, samples) = &mut clients[index];
                samples.push(cpu_per_call(client, &org).await);
            }
        }
        let mut medians = Vec::new();
        for ((protocol, gzip), _, samples) in &mut clients {
            let value = median(samples);
            report(format!(
                "client CPU per list call (page size {PAGE}), {}{}: {:.1} µs (median of {ROUNDS} rounds of {CALLS} calls; min {:.1}, max {:.1})",
                protocol.name(),
                if *gzip { " + gzip_responses" } else { "" },
                value / 1e3,
                samples[0] / 1e3,
                samples[samples.len() - 1] / 1e3,
            ));
            medians.push(((*protocol, *gzip), value));
        }
        let of = |wanted: Protocol| {
            medians
                .iter()
                .find(|(variant, _)| *variant == (wanted, false))
                .map(|(_, value)| *value)
        };
        if let (Some(json), Some(proto)) = (of(Protocol::ConnectJson), of(Protocol::ConnectProto)) {
            report(format!(
                "Connect+JSON / Connect+proto client CPU: {:.2} (target ≤ 1.5)",
                json / proto
            ));
        }
        if let (Some(proto), Some(grpc)) = (of(Protocol::ConnectProto), of(Protocol::Grpc)) {
            report(format!("Connect+proto / gRPC client CPU: {:.2}", proto / grpc));
        }
    });
    let _ = stop.send(());
    server.join().expect("the server thread");
    std::thread::sleep(Duration::from_millis(10));
}
