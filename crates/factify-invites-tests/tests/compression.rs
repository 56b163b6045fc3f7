//! Compression, each direction its own switch, over every protocol: bytes
//! counted on the wire by a loopback proxy between the client and the
//! reference server (which answers gzip when asked, over gRPC as over
//! Connect).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{Duration, Utc};
use common::start_server;
use factify_invites::{Client, Protocol};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bytes that went through the proxy, each way.
#[derive(Default)]
struct Counts {
    up: AtomicUsize,
    down: AtomicUsize,
}

/// Copies `from` to `to`, counting into `count`.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    count: Arc<Counts>,
    up: bool,
) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        if up {
            count.up.fetch_add(read, Ordering::SeqCst);
        } else {
            count.down.fetch_add(read, Ordering::SeqCst);
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// A proxy on `127.0.0.1:0` to `upstream` that counts bytes.
async fn counting_proxy(upstream: std::net::SocketAddr) -> (String, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let counts = Arc::new(Counts::default());
    let total = counts.clone();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let Ok(outbound) = TcpStream::connect(upstream).await else {
                continue;
            };
            let (in_read, in_write) = inbound.into_split();
            let (out_read, out_write) = outbound.into_split();
            tokio::spawn(pump(in_read, out_write, total.clone(), true));
            tokio::spawn(pump(out_read, in_write, total.clone(), false));
        }
    });
    (endpoint, counts)
}

/// Bytes down and up for listing one page of 100 through a fresh proxy.
async fn page_bytes(
    env: &common::TestEnv,
    protocol: Protocol,
    gzip_requests: bool,
    gzip_responses: bool,
) -> (usize, usize) {
    let upstream = env
        .running
        .endpoint()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let (endpoint, counts) = counting_proxy(upstream).await;
    let client = Client::builder()
        .endpoint(endpoint)
        .api_key(&env.fixture.admin_key)
        .protocol(protocol)
        .gzip_requests(gzip_requests)
        .gzip_responses(gzip_responses)
        .connect()
        .await
        .unwrap();
    let page = client
        .list_invites(&env.fixture.organization)
        .page_size(100)
        .send()
        .await
        .unwrap();
    assert_eq!(page.items.len(), 100);
    (
        counts.down.load(Ordering::SeqCst),
        counts.up.load(Ordering::SeqCst),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_are_compressed_on_the_wire_only_when_asked_over_every_protocol() {
    let env = start_server().await;
    let start = Utc::now() - Duration::days(1);
    for i in 0..100 {
        env.server.seed_invite(
            &env.fixture.organization,
            &format!("person{i:04}@example.com"),
            &env.fixture.admin,
            start + Duration::seconds(i),
        );
    }
    for protocol in [
        Protocol::Grpc,
        Protocol::ConnectProto,
        Protocol::ConnectJson,
    ] {
        let (plain, _) = page_bytes(&env, protocol, false, false).await;
        let (gzipped, _) = page_bytes(&env, protocol, false, true).await;
        assert!(
            gzipped * 3 < plain,
            "{protocol:?}: {gzipped} bytes gzipped against {plain} plain"
        );
        // Requests compressed too: the server reads them (a gRPC server
        // that could not would answer UNIMPLEMENTED).
        let (both, _) = page_bytes(&env, protocol, true, true).await;
        assert!(both * 3 < plain, "{protocol:?}: {both} against {plain}");
    }
}
