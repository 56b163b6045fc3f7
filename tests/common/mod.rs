//! Shared set-up of the integration tests: a reference server on a free
//! loopback port, seeded with one organization and an admin, and clients for
//! it.

#![allow(dead_code, unreachable_pub)]

use factify_invites::server::{Fixture, ReferenceServer, RunningServer};
use factify_invites::Client;

/// A running reference server, its seed, and a client with the admin's key.
pub struct TestEnv {
    pub server: ReferenceServer,
    pub running: RunningServer,
    pub fixture: Fixture,
    pub client: Client,
}

/// Starts a reference server on `127.0.0.1:0` with the default fixture.
pub async fn start_server() -> TestEnv {
    start_with(ReferenceServer::new()).await
}

/// Starts `server` on `127.0.0.1:0` after seeding it with the default fixture.
pub async fn start_with(server: ReferenceServer) -> TestEnv {
    let fixture = server.fixture();
    let running = server.start().await.expect("bind 127.0.0.1:0");
    let client = client_for(&running.endpoint(), &fixture.admin_key).await;
    TestEnv {
        server,
        running,
        fixture,
        client,
    }
}

/// A client of `endpoint` with `key`, connected over TCP.
pub async fn client_for(endpoint: &str, key: &str) -> Client {
    Client::builder()
        .endpoint(endpoint)
        .api_key(key)
        .connect()
        .await
        .expect("connect to the reference server")
}

impl TestEnv {
    /// A client of this server with another key.
    pub async fn client_with_key(&self, key: &str) -> Client {
        client_for(&self.running.endpoint(), key).await
    }

    /// A new person with a key of the given permissions, not yet a member.
    pub async fn outsider(
        &self,
        name: &str,
        email: &str,
        permissions: factify_invites::server::Permissions,
    ) -> (factify_invites::UserId, Client) {
        let user = self.server.add_user(name, email);
        let key = self.server.add_api_key(&user, permissions);
        (user, self.client_with_key(&key).await)
    }
}
