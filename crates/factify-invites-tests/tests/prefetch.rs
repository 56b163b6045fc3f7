//! The prefetched page is the caller's work: its call runs in the caller's
//! span (not as a root span of its own), and a panic while fetching it is
//! the caller's panic (not an `Error::Cancelled`).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use common::start_server;
use factify_invites::auth::{ApiKey, ApiKeyFuture, ApiKeyProvider};
use factify_invites::Client;
use futures::{FutureExt, TryStreamExt};
use tracing::Instrument;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// A span's name and its parent's name.
type NameAndParent = (String, Option<String>);

/// Records, for each new span, its name and its parent's name.
#[derive(Clone, Default)]
struct Parents(Arc<Mutex<Vec<NameAndParent>>>);

impl<S> Layer<S> for Parents
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        _attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let span = ctx.span(id).expect("a span just made");
        let parent = span.parent().map(|parent| parent.name().to_owned());
        self.0
            .lock()
            .unwrap()
            .push((span.name().to_owned(), parent));
    }
}

fn seed(env: &common::TestEnv, count: usize) {
    let start = Utc::now() - Duration::days(1);
    for i in 0..count {
        env.server.seed_invite(
            &env.fixture.organization,
            &format!("person{i:04}@example.com"),
            &env.fixture.admin,
            start + Duration::seconds(i as i64),
        );
    }
}

// A current-thread runtime: the prefetch task runs on the thread whose
// default subscriber records the spans.
#[tokio::test]
async fn prefetched_calls_run_in_the_callers_span() {
    let env = start_server().await;
    seed(&env, 25);
    let parents = Parents::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(parents.clone()));

    let count = env
        .client
        .list_invites(&env.fixture.organization)
        .page_size(5)
        .into_stream()
        .try_fold(0usize, |count, _| async move { Ok(count + 1) })
        .instrument(tracing::info_span!("caller"))
        .await
        .unwrap();
    assert!(count >= 25);

    let seen = parents.0.lock().unwrap().clone();
    let calls: Vec<_> = seen
        .iter()
        .filter(|(name, _)| name == "factify_invites.call")
        .collect();
    assert!(calls.len() >= 5, "one call per page: {seen:?}");
    for (_, parent) in &calls {
        assert_eq!(parent.as_deref(), Some("caller"), "{seen:?}");
    }
}

/// A key provider that panics on its `n`-th use.
#[derive(Debug)]
struct PanicsOnCall {
    key: ApiKey,
    calls: AtomicUsize,
    panic_on: usize,
}

impl ApiKeyProvider for PanicsOnCall {
    fn api_key(&self) -> ApiKeyFuture<'_> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if call == self.panic_on {
            panic!("the key provider broke on call {call}");
        }
        let key = self.key.clone();
        Box::pin(async move { Ok(key) })
    }
}

#[tokio::test]
async fn a_panic_while_prefetching_is_the_callers_panic() {
    let env = start_server().await;
    seed(&env, 12);
    let client = Client::builder()
        .endpoint(env.running.endpoint())
        .protocol(common::protocol())
        .api_key_provider(Arc::new(PanicsOnCall {
            key: ApiKey::new(&env.fixture.admin_key).unwrap(),
            calls: AtomicUsize::new(0),
            // The first page is fetched inline; the second is prefetched.
            panic_on: 2,
        }))
        .connect()
        .await
        .unwrap();
    let listing = client
        .list_invites(&env.fixture.organization)
        .page_size(5)
        .pages()
        .try_collect::<Vec<_>>();
    let outcome = std::panic::AssertUnwindSafe(listing).catch_unwind().await;
    let panic = match outcome {
        Err(panic) => panic,
        Ok(result) => panic!("expected the provider's panic, got {result:?}"),
    };
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("broke on call 2"), "{message:?}");
}
