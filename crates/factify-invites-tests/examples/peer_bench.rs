//! This crate's client as one whole process, for `scripts/bench_peers.sh`,
//! which runs it next to Python grpcio and `@connectrpc/connect-node`
//! doing the same loop and compares the client processes' CPU per call
//! (BENCHMARKS.md, "Against the clients users would pick instead").
//!
//! ```text
//! peer_bench ENDPOINT PROTOCOL PAGE_SIZE CALLS CONCURRENCY
//! ```
//!
//! PROTOCOL is one of `grpc`, `connect-proto-h1`, `connect-proto-h2`,
//! `connect-json-h1`, `connect-json-h2`, each optionally with `+gzip`
//! (`gzip_responses(true)`: the server then compresses its responses, as
//! it does by default for grpcio and connect-node). The process connects one client,
//! then makes CALLS `ListOrganizationInvites` calls of PAGE_SIZE items,
//! from CONCURRENCY tasks sharing that client (1: a plain sequential loop),
//! and checks every page is full. It prints nothing but errors: the caller
//! reads the process's CPU time when it exits, and takes the difference
//! between two values of CALLS so that start-up and connection cancel out.
//!
//! The runtime is `#[tokio::main]`'s default (multi-threaded, one worker
//! per core), as a user's service would have it. `FACTIFY_API_KEY` and
//! `FACTIFY_ORGANIZATION_ID` default to the emulator's seeded admin key and
//! organization.

use factify_invites::{Client, HttpVersion, Protocol};

/// The wire protocol, HTTP version and response compression named on the
/// command line.
fn protocol(name: &str) -> Result<(Protocol, HttpVersion, bool), String> {
    let (wire, gzip) = match name.strip_suffix("+gzip") {
        Some(wire) => (wire, true),
        None => (name, false),
    };
    let (protocol, version) = match wire {
        "grpc" => (Protocol::Grpc, HttpVersion::Http2),
        "connect-proto-h1" => (Protocol::ConnectProto, HttpVersion::Http1),
        "connect-proto-h2" => (Protocol::ConnectProto, HttpVersion::Http2),
        "connect-json-h1" => (Protocol::ConnectJson, HttpVersion::Http1),
        "connect-json-h2" => (Protocol::ConnectJson, HttpVersion::Http2),
        _ => return Err(format!("unknown protocol {name:?}")),
    };
    Ok((protocol, version, gzip))
}

/// Makes `calls` list calls one after the other; each page must be full.
async fn run(client: Client, org: String, page_size: u32, calls: u64) -> Result<(), String> {
    for _ in 0..calls {
        let page = client
            .list_invites(org.as_str())
            .page_size(page_size)
            .send()
            .await
            .map_err(|error| error.to_string())?;
        if page.items.len() != page_size as usize {
            return Err(format!(
                "a page of {} items, {page_size} expected: seed the server first",
                page.items.len()
            ));
        }
        std::hint::black_box(page);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [endpoint, protocol_name, page_size, calls, concurrency] = args.as_slice() else {
        return Err("usage: peer_bench ENDPOINT PROTOCOL PAGE_SIZE CALLS CONCURRENCY".into());
    };
    let (protocol, http_version, gzip) = protocol(protocol_name)?;
    let page_size: u32 = page_size.parse()?;
    let calls: u64 = calls.parse()?;
    let concurrency: u64 = concurrency.parse()?;
    if concurrency == 0 {
        return Err("CONCURRENCY must be at least 1".into());
    }
    let key = std::env::var("FACTIFY_API_KEY")
        .unwrap_or_else(|_| "ffy_emulatoradmin000000000000000".to_owned());
    let org = std::env::var("FACTIFY_ORGANIZATION_ID")
        .unwrap_or_else(|_| "org_0000000000000000000000acme".to_owned());

    let client = Client::builder()
        .endpoint(endpoint)
        .api_key(key)
        .protocol(protocol)
        .http_version(http_version)
        .gzip_responses(gzip)
        .connect()
        .await?;

    // The calls are split as evenly as they go among the tasks, so the
    // total is exactly `calls` whatever the concurrency.
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..concurrency {
        let share = calls / concurrency + u64::from(task < calls % concurrency);
        tasks.spawn(run(client.clone(), org.clone(), page_size, share));
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}
