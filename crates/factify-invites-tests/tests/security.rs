//! Keys and secrets: a rotating key provider asked before every attempt,
//! plaintext `http://` refused off loopback, and responses over the size
//! limit refused.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use common::start_server;
use factify_invites::auth::{ApiKeyFuture, ApiKeyProvider};
use factify_invites::retry::{Jitter, RetryPolicy};
use factify_invites::{ApiKey, Client, Error};
use factify_invites_server::{Fault, Method, Permissions};

/// Hands out the current key and counts how often it was asked.
#[derive(Debug)]
struct Rotating {
    key: RwLock<ApiKey>,
    asked: AtomicUsize,
}

impl ApiKeyProvider for Rotating {
    fn api_key(&self) -> ApiKeyFuture<'_> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        let key = self.key.read().unwrap().clone();
        Box::pin(async move { Ok(key) })
    }
}

async fn a_key_provider_is_asked_per_attempt_and_rotation_takes_effect() {
    let env = start_server().await;
    let provider = Arc::new(Rotating {
        key: RwLock::new(ApiKey::new(&env.fixture.admin_key).unwrap()),
        asked: AtomicUsize::new(0),
    });
    let client = common::builder(&env.running.endpoint())
        .api_key_provider(provider.clone())
        .retry_policy(
            RetryPolicy::default()
                .with_jitter(Jitter::None)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .connect()
        .await
        .unwrap();
    let org = &env.fixture.organization;

    env.server
        .inject_faults(Some(Method::List), [Fault::Unavailable; 2]);
    client.list_invites(org).await.unwrap();
    assert_eq!(provider.asked.load(Ordering::SeqCst), 3, "once per attempt");

    // Rotate to a key of an account that is not a member: calls now use it.
    let other = env.server.add_user("Other", "other@example.com");
    let other_key = env.server.add_api_key(&other, Permissions::ALL);
    *provider.key.write().unwrap() = ApiKey::new(other_key).unwrap();
    let err = client.list_invites(org).await.unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
}

async fn plaintext_http_off_loopback_is_refused_unless_allowed() {
    let refused = common::builder("http://invites.internal.example:8080")
        .api_key("ffy_secret")
        .connect_lazy()
        .unwrap_err();
    assert_eq!(refused.param(), Some("endpoint"));
    assert!(refused.to_string().contains("plaintext"), "{refused}");
    assert!(!refused.to_string().contains("ffy_secret"));

    for loopback in ["http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1"] {
        Client::builder()
            .endpoint(loopback)
            .api_key("ffy_secret")
            .connect_lazy()
            .unwrap_or_else(|err| panic!("{loopback}: {err}"));
    }
    common::builder("http://invites.internal.example:8080")
        .api_key("ffy_secret")
        .allow_insecure_http(true)
        .connect_lazy()
        .unwrap();
    // Without a key there is nothing to leak.
    common::builder("http://invites.internal.example:8080")
        .connect_lazy()
        .unwrap();
}

async fn responses_over_the_size_limit_are_refused() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    let start = chrono::Utc::now() - chrono::Duration::hours(1);
    for i in 0..100 {
        let at = start + chrono::Duration::seconds(i);
        env.server.seed_invite(
            org,
            &format!("big{i:03}@example.com"),
            &env.fixture.admin,
            at,
        );
    }
    let small = common::builder(&env.running.endpoint())
        .api_key(&env.fixture.admin_key)
        .max_response_bytes(4 * 1024)
        .connect()
        .await
        .unwrap();

    let err = small.list_invites(org).page_size(100).await.unwrap_err();
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
    assert_eq!(err.param(), Some("response"));
    assert_eq!(
        env.server.call_count(Method::List),
        1,
        "a refused response is not retried"
    );
    // Small pages fit.
    assert_eq!(
        small
            .list_invites(org)
            .page_size(5)
            .await
            .unwrap()
            .items
            .len(),
        5
    );
}

common::each_protocol!(
    a_key_provider_is_asked_per_attempt_and_rotation_takes_effect,
    plaintext_http_off_loopback_is_refused_unless_allowed,
    responses_over_the_size_limit_are_refused,
);
