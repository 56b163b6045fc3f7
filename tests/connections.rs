//! Connection sharing: a client and all its clones multiplex their calls on
//! one HTTP/2 connection (gRPC, and Connect over HTTP/2). A TCP proxy between
//! the client and a reference server on loopback counts the connections the
//! client opens.

mod common;
#[path = "common/proxy.rs"]
mod proxy;

use common::start_server;
use factify_invites::server::Method;
use factify_invites::{Client, ClientBuilder, HttpVersion, Protocol};
use proxy::Proxy;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_of_a_grpc_client_share_one_connection() {
    // `connect()` opens the connection every call then uses.
    clones_share_one_connection(Client::builder(), 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_of_a_connect_client_over_http2_share_one_connection() {
    // `connect()` probes the server with a connection it closes; the pool
    // opens the one the calls use.
    clones_share_one_connection(
        Client::builder()
            .protocol(Protocol::ConnectProto)
            .http_version(HttpVersion::Http2),
        1,
    )
    .await;
}

/// Makes 1,280 calls from 64 clones at once and checks that they opened
/// exactly `opened_by_calls` connections beyond those `connect()` opened.
async fn clones_share_one_connection(builder: ClientBuilder, opened_by_calls: usize) {
    let env = start_server().await;
    let org = env.fixture.organization.to_string();
    let proxy = Proxy::start(env.running.addr()).await;
    let client = builder
        .endpoint(proxy.endpoint())
        .api_key(&env.fixture.admin_key)
        .connect()
        .await
        .unwrap();
    let at_connect = proxy.accepted();

    // 64 clones, each in its own task, 10 calls each, many at once.
    let tasks: Vec<_> = (0..64)
        .map(|task| {
            let client = client.clone();
            let org = org.clone();
            tokio::spawn(async move {
                for call in 0..10 {
                    client
                        .create_invite(&org, format!("clone{task}.call{call}@example.com"))
                        .await
                        .unwrap();
                    client.list_invites(&org).page_size(5).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    assert_eq!(env.server.call_count(Method::Create), 640);
    assert_eq!(env.server.call_count(Method::List), 640);
    assert_eq!(
        proxy.accepted() - at_connect,
        opened_by_calls,
        "every clone's calls went over one connection"
    );
}

#[tokio::test]
async fn separately_built_clients_open_their_own_connections() {
    // The contrast that makes the test above meaningful: the proxy does see
    // a second client's connection.
    let env = start_server().await;
    let proxy = Proxy::start(env.running.addr()).await;
    let connect = || {
        Client::builder()
            .endpoint(proxy.endpoint())
            .api_key(&env.fixture.admin_key)
            .connect()
    };
    let (first, second) = (connect().await.unwrap(), connect().await.unwrap());
    first.list_invites(&env.fixture.organization).await.unwrap();
    second
        .list_invites(&env.fixture.organization)
        .await
        .unwrap();
    assert_eq!(proxy.accepted(), 2);
}

/// How long after every open connection freezes (the sockets stay open and
/// carry nothing) the client answers again: calls of 1 s each, repeated
/// until one succeeds. Also returns how many calls failed meanwhile.
async fn recovery_after_freeze(builder: ClientBuilder) -> (Duration, usize) {
    let env = start_server().await;
    let org = env.fixture.organization.to_string();
    let proxy = Proxy::start(env.running.addr()).await;
    let client = builder
        .endpoint(proxy.endpoint())
        .api_key(&env.fixture.admin_key)
        .connect()
        .await
        .unwrap();
    client.list_invites(&org).await.unwrap();

    proxy.freeze_all();
    let frozen_at = std::time::Instant::now();
    let mut failed = 0;
    loop {
        let call = client
            .list_invites(&org)
            .timeout(Duration::from_secs(1))
            .await;
        match call {
            Ok(_) => break,
            Err(_) => failed += 1,
        }
        // Far beyond any recovery the keep-alive promises: give up, so a
        // regression fails rather than hangs.
        assert!(
            frozen_at.elapsed() < Duration::from_secs(120),
            "the client never recovered from a frozen connection"
        );
    }
    let recovery = frozen_at.elapsed();
    eprintln!("recovered from a frozen connection after {recovery:?} ({failed} calls failed)");
    (recovery, failed)
}

/// The bound asserted on recovery from a frozen connection: the keep-alive
/// (5 s between pings, 5 s for the answer) detects it within 10 s; the rest
/// is slack for a loaded two-core machine. The old 30 s + 20 s keep-alive
/// took about 48 s.
const RECOVERY_BOUND: Duration = Duration::from_secs(25);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grpc_client_replaces_a_frozen_connection() {
    let (recovery, _) = recovery_after_freeze(Client::builder()).await;
    assert!(recovery < RECOVERY_BOUND, "recovery took {recovery:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_http2_client_replaces_a_frozen_connection() {
    let (recovery, _) = recovery_after_freeze(
        Client::builder()
            .protocol(Protocol::ConnectProto)
            .http_version(HttpVersion::Http2),
    )
    .await;
    assert!(recovery < RECOVERY_BOUND, "recovery took {recovery:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_http1_call_that_times_out_does_not_return_its_connection_to_the_pool() {
    // One frozen keep-alive connection in the pool: the call that draws it
    // times out, and the connection is closed rather than pooled again, so
    // the next call opens a fresh one.
    let (recovery, failed) =
        recovery_after_freeze(Client::builder().protocol(Protocol::ConnectProto)).await;
    assert!(failed <= 2, "{failed} calls drew the frozen connection");
    assert!(recovery < RECOVERY_BOUND, "recovery took {recovery:?}");
}
