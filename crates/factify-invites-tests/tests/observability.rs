//! Observability: each logical call has a `tracing` span naming the
//! method, organization, attempt count, outcome code and request ID, with
//! retries logged at debug, and never the key or the invitation's message.
//!
//! Alone in its test binary: `tracing` caches per-callsite interest across
//! threads, so a thread-local subscriber is only reliable without other
//! tests running in the same process.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::start_server;
use factify_invites::retry::RetryPolicy;
use factify_invites::Client;
use factify_invites_server::{Fault, Method};

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn each_call_has_a_span_without_secrets() {
    let env = start_server().await;
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let captured = captured.clone();
            move || captured.clone()
        })
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let client = Client::builder()
        .endpoint(env.running.endpoint())
        .api_key(&env.fixture.admin_key)
        .retry_policy(RetryPolicy::default().with_initial_backoff(Duration::from_millis(1)))
        .connect()
        .await
        .unwrap();
    env.server
        .inject_faults(Some(Method::Create), [Fault::Unavailable]);
    client
        .create_invite(&env.fixture.organization, "span@example.com")
        .message("a private note for Span")
        .await
        .unwrap();
    let err = client
        .resend_invite(&env.fixture.organization, "inv_01h2xcejqtf2nbrexx3vqjhp99")
        .await
        .unwrap_err();

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("factify_invites.call"), "{log}");
    assert!(log.contains("method=\"CreateOrganizationInvite\""), "{log}");
    assert!(
        log.contains(&format!("organization_id=\"{}\"", env.fixture.organization)),
        "{log}"
    );
    assert!(log.contains("attempts=2"), "{log}");
    assert!(log.contains("code=\"ok\""), "{log}");
    assert!(
        log.contains("retrying"),
        "retries are logged at debug: {log}"
    );
    assert!(log.contains("code=\"not_found\""), "{log}");
    assert!(log.contains(err.request_id().unwrap()), "{log}");
    assert!(
        !log.contains(&env.fixture.admin_key),
        "the key leaked: {log}"
    );
    assert!(!log.contains("private note"), "the message leaked: {log}");
}
