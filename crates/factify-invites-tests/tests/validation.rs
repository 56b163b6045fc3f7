//! Bad input is refused by the client with an `InvalidRequest` naming the
//! field, and nothing reaches the server (its call counter stays at zero).

mod common;

use common::start_server;
use factify_invites::{Error, Result};

fn field_of<T: std::fmt::Debug>(result: Result<T>) -> &'static str {
    match result {
        Err(Error::InvalidRequest { field, .. }) => field,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

async fn every_bad_argument_is_refused_before_the_network() {
    let env = start_server().await;
    let client = &env.client;
    let org = env.fixture.organization.as_str();
    let invite = "inv_01h2xcejqtf2nbrexx3vqjhp42";

    let cases: Vec<(&str, &'static str)> = vec![
        (
            "create: malformed org",
            field_of(client.create_invite("org_nope", "a@example.com").await),
        ),
        (
            "create: invite id as org",
            field_of(client.create_invite(invite, "a@example.com").await),
        ),
        (
            "create: not an email",
            field_of(client.create_invite(org, "not-an-email").await),
        ),
        (
            "create: empty email",
            field_of(client.create_invite(org, "").await),
        ),
        (
            "create: message too long",
            field_of(
                client
                    .create_invite(org, "a@example.com")
                    .message("x".repeat(2001))
                    .await,
            ),
        ),
        (
            "create: key too long",
            field_of(
                client
                    .create_invite(org, "a@example.com")
                    .idempotency_key("k".repeat(256))
                    .await,
            ),
        ),
        (
            "create: bad metadata",
            field_of(
                client
                    .create_invite(org, "a@example.com")
                    .metadata("bad key", "v")
                    .await,
            ),
        ),
        (
            "resend: malformed invite",
            field_of(client.resend_invite(org, "inv_123").await),
        ),
        (
            "revoke: malformed org",
            field_of(client.revoke_invite("ORG_X", invite).await),
        ),
        (
            "accept: empty token",
            field_of(client.accept_invite(org, "").await),
        ),
        (
            "accept: token too long",
            field_of(client.accept_invite(org, "t".repeat(129)).await),
        ),
        (
            "list: page size 101",
            field_of(client.list_invites(org).page_size(101).await),
        ),
        (
            "list: malformed sender",
            field_of(client.list_invites(org).sender("user_x").await),
        ),
        (
            "list: inverted range",
            field_of(
                client
                    .list_invites(org)
                    .created_after(chrono::Utc::now())
                    .created_before(chrono::Utc::now() - chrono::Duration::hours(1))
                    .await,
            ),
        ),
    ];
    let expected = [
        "organization_id",
        "organization_id",
        "email",
        "email",
        "message",
        "idempotency_key",
        "metadata",
        "invite_id",
        "organization_id",
        "token",
        "token",
        "page_size",
        "sender_id",
        "created",
    ];
    for ((case, field), expected) in cases.iter().zip(expected) {
        assert_eq!(*field, expected, "{case}");
    }
    assert_eq!(
        env.server.total_calls(),
        0,
        "no request may reach the server"
    );
}

async fn limits_are_inclusive() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    let invite = env
        .client
        .create_invite(org, "edge@example.com")
        .message("m".repeat(2000))
        .idempotency_key("k".repeat(255))
        .await
        .unwrap();
    assert_eq!(invite.message.map(|m| m.len()), Some(2000));
    let page = env.client.list_invites(org).page_size(100).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(env.server.total_calls(), 2);
}

/// The SPEC: a page size of 0 means the server's default of 50, so it is
/// sent, not refused.
async fn page_size_zero_is_the_servers_default() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    let start = chrono::Utc::now() - chrono::Duration::days(1);
    for i in 0..60 {
        env.server.seed_invite(
            org,
            &format!("p{i}@example.com"),
            &env.fixture.admin,
            start + chrono::Duration::seconds(i),
        );
    }
    let page = env.client.list_invites(org).page_size(0).await.unwrap();
    assert_eq!(page.items.len(), 50);
    assert!(page.has_more());
    assert_eq!(env.server.total_calls(), 1);
}

async fn a_stream_with_bad_filters_yields_one_error_and_ends() {
    use futures::StreamExt;
    let env = start_server().await;
    let mut stream = env.client.list_invites("org_bad").into_stream();
    let first = stream.next().await.expect("one item");
    assert!(matches!(
        first,
        Err(Error::InvalidRequest {
            field: "organization_id",
            ..
        })
    ));
    assert!(stream.next().await.is_none());
    assert_eq!(env.server.total_calls(), 0);
}

async fn a_malformed_api_key_fails_at_build_without_quoting_it() {
    let result = common::builder("http://127.0.0.1:1")
        .api_key("ffy_secret with spaces")
        .connect_lazy();
    let err = result.unwrap_err();
    assert_eq!(err.param(), Some("api_key"));
    assert!(!err.to_string().contains("ffy_secret"), "{err}");
}

async fn a_malformed_endpoint_is_named() {
    for endpoint in ["not a url", "ftp://example.com"] {
        let err = common::builder(endpoint).connect_lazy().unwrap_err();
        assert_eq!(err.param(), Some("endpoint"), "{endpoint}: {err}");
    }
}

common::each_protocol!(
    every_bad_argument_is_refused_before_the_network,
    limits_are_inclusive,
    page_size_zero_is_the_servers_default,
    a_stream_with_bad_filters_yields_one_error_and_ends,
    a_malformed_api_key_fails_at_build_without_quoting_it,
    a_malformed_endpoint_is_named,
);

/// Outside a Tokio runtime, `connect_lazy()` over gRPC is a clear error
/// naming the runtime (it used to panic inside tonic); over Connect it
/// works anywhere.
#[test]
fn connect_lazy_outside_a_runtime_is_an_error_or_works_never_a_panic() {
    let err = factify_invites::Client::builder()
        .endpoint("http://127.0.0.1:1")
        .connect_lazy()
        .unwrap_err();
    assert_eq!(err.param(), Some("runtime"), "{err}");
    assert!(err.to_string().contains("Tokio runtime"), "{err}");
    for protocol in [
        factify_invites::Protocol::ConnectProto,
        factify_invites::Protocol::ConnectJson,
    ] {
        factify_invites::Client::builder()
            .endpoint("http://127.0.0.1:1")
            .protocol(protocol)
            .connect_lazy()
            .unwrap();
    }
}
