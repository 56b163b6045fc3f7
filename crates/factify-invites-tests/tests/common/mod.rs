//! Shared set-up of the integration tests: a reference server on a free
//! loopback port, seeded with one organization and an admin, and clients for
//! it.
//!
//! The clients speak the protocol of the running test: a test listed in
//! [`each_protocol!`] runs once per protocol (`grpc::name`,
//! `connect_proto::name`, `connect_json::name`), and every client the
//! helpers here build in it speaks that protocol; elsewhere, gRPC.

#![allow(dead_code, unreachable_pub, unused_macros, unused_imports)]

use std::future::Future;

pub use factify_invites::Protocol;
use factify_invites::{Client, ClientBuilder};
use factify_invites_server::{Fixture, ReferenceServer, RunningServer};

tokio::task_local! {
    /// The protocol of the clients built by the helpers in this test.
    static PROTOCOL: Protocol;
}

/// Runs `test` with every client that the helpers build speaking `protocol`.
pub async fn over<F: Future>(protocol: Protocol, test: F) -> F::Output {
    PROTOCOL.scope(protocol, test).await
}

/// The protocol of the running test: set by [`each_protocol!`], gRPC
/// otherwise (and in tasks spawned by a test, which do not inherit it).
pub fn protocol() -> Protocol {
    PROTOCOL.try_with(|protocol| *protocol).unwrap_or_default()
}

/// A client builder for `endpoint` in the test's protocol.
pub fn builder(endpoint: &str) -> ClientBuilder {
    Client::builder().endpoint(endpoint).protocol(protocol())
}

/// Instantiates each listed `async fn` test once per protocol, as
/// `grpc::<name>`, `connect_proto::<name>` and `connect_json::<name>`.
macro_rules! each_protocol {
    ($($test:ident),+ $(,)?) => {
        /// The tests over gRPC.
        mod grpc {
            $(
                #[tokio::test]
                async fn $test() {
                    $crate::common::over($crate::common::Protocol::Grpc, super::$test()).await
                }
            )+
        }
        /// The tests over the Connect protocol with binary protobuf.
        mod connect_proto {
            $(
                #[tokio::test]
                async fn $test() {
                    $crate::common::over($crate::common::Protocol::ConnectProto, super::$test()).await
                }
            )+
        }
        /// The tests over the Connect protocol with JSON.
        mod connect_json {
            $(
                #[tokio::test]
                async fn $test() {
                    $crate::common::over($crate::common::Protocol::ConnectJson, super::$test()).await
                }
            )+
        }
    };
}
pub(crate) use each_protocol;

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

/// A client of `endpoint` with `key`, connected over TCP in the test's
/// protocol.
pub async fn client_for(endpoint: &str, key: &str) -> Client {
    builder(endpoint)
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
        permissions: factify_invites_server::Permissions,
    ) -> (factify_invites::UserId, Client) {
        let user = self.server.add_user(name, email);
        let key = self.server.add_api_key(&user, permissions);
        (user, self.client_with_key(&key).await)
    }
}

/// A complete, valid wire invitation (every field the SPEC requires), for
/// hand-made servers that answer with it or break it.
pub fn valid_wire_invite() -> factify_invites::proto::OrganizationInvite {
    use factify_invites::proto;
    let at = prost_types::Timestamp {
        seconds: 1_750_000_000,
        nanos: 0,
    };
    proto::OrganizationInvite {
        id: "inv_01h2xcejqtf2nbrexx3vqjhp42".into(),
        organization_id: "org_01h2xcejqtf2nbrexx3vqjhp41".into(),
        email: "ada@example.com".into(),
        status: proto::OrganizationInviteStatus::Pending as i32,
        sender: Some(proto::User {
            id: "user_01h2xcejqtf2nbrexx3vqjhp40".into(),
            r#type: proto::UserType::UserAccount as i32,
            name: "Grace".into(),
            ..Default::default()
        }),
        created_at: Some(at),
        expires_at: Some(prost_types::Timestamp {
            seconds: at.seconds + 604_800,
            nanos: 0,
        }),
        ..Default::default()
    }
}
