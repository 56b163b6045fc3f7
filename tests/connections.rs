//! Connection sharing: a client and all its clones multiplex their calls on
//! one HTTP/2 connection. A counting TCP proxy between the client and a
//! reference server on loopback counts the connections the client opens.

mod common;
#[path = "common/proxy.rs"]
mod proxy;

use common::start_server;
use factify_invites::server::Method;
use factify_invites::Client;
use proxy::CountingProxy;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_of_a_client_share_one_connection() {
    let env = start_server().await;
    let org = env.fixture.organization.to_string();
    let proxy = CountingProxy::start(env.running.addr()).await.unwrap();
    let client = Client::builder()
        .endpoint(proxy.endpoint())
        .api_key(&env.fixture.admin_key)
        .connect()
        .await
        .unwrap();
    assert_eq!(proxy.accepted(), 1, "connect() opens the connection");

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
        proxy.accepted(),
        1,
        "every clone's calls went over the one connection"
    );
}

#[tokio::test]
async fn separately_built_clients_open_their_own_connections() {
    // The contrast that makes the test above meaningful: the proxy does see
    // a second client's connection.
    let env = start_server().await;
    let proxy = CountingProxy::start(env.running.addr()).await.unwrap();
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
