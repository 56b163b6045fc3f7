//! The API key and invitation tokens stay out of every `Debug` and
//! `Display` output, and the client has the traits a shared service client
//! needs.

mod common;

use factify_invites::{ApiKey, Client, ClientBuilder, Error};
use static_assertions::assert_impl_all;

assert_impl_all!(Client: Send, Sync, Clone, std::fmt::Debug);
assert_impl_all!(ClientBuilder: Send, Sync, Clone, std::fmt::Debug);
assert_impl_all!(Error: Send, Sync, std::error::Error);
assert_impl_all!(ApiKey: Send, Sync, Clone, std::fmt::Debug);
assert_impl_all!(factify_invites::InviteStream: Send, futures::Stream);
assert_impl_all!(factify_invites::PageStream: Send, futures::Stream);

const KEY: &str = "ffy_live_4f9a8b7c6d5e_super_secret";

async fn the_key_appears_in_no_debug_or_display() {
    let builder = common::builder("http://127.0.0.1:9").api_key(KEY);
    assert!(
        !format!("{builder:?}").contains("super_secret"),
        "{builder:?}"
    );
    let client = builder.connect_lazy().unwrap();
    let shown = format!("{client:?}");
    assert!(!shown.contains("super_secret"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");

    // A failing call's error does not carry it either.
    let err = client
        .list_invites("org_01h2xcejqtf2nbrexx3vqjhp41")
        .timeout(std::time::Duration::from_secs(2))
        .await
        .unwrap_err();
    for shown in [format!("{err}"), format!("{err:?}")] {
        assert!(!shown.contains("super_secret"), "{shown}");
    }
}

async fn server_errors_do_not_echo_the_key() {
    let env = common::start_server().await;
    let client = env.client_with_key(KEY).await;
    let err = client
        .list_invites(&env.fixture.organization)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)));
    for shown in [format!("{err}"), format!("{err:?}")] {
        assert!(!shown.contains("super_secret"), "{shown}");
    }
}

async fn invitation_tokens_stay_out_of_debug() {
    let env = common::start_server().await;
    env.client
        .create_invite(&env.fixture.organization, "tess@example.com")
        .await
        .unwrap();
    let token = env.server.last_email_to("tess@example.com").unwrap().token;
    let request = env.client.accept_invite(&env.fixture.organization, &token);
    let shown = format!("{request:?}");
    assert!(!shown.contains(&token), "{shown}");
    let fixture = format!("{:?}", env.fixture);
    assert!(!fixture.contains(&env.fixture.admin_key), "{fixture}");
}

common::each_protocol!(
    the_key_appears_in_no_debug_or_display,
    server_errors_do_not_echo_the_key,
    invitation_tokens_stay_out_of_debug,
);
