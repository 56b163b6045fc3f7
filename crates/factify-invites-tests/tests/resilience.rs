//! Fault injection over loopback: the reference server is told to fail,
//! rate-limit, stall or vanish, or a proxy in front of it cuts the
//! connection mid-call, and each test shows the outcome, the attempts the
//! server saw, and that no work was done twice.
//!
//! Nothing here depends on how fast a loaded two-core machine runs: waits
//! are measured only from below (a client that must wait at least the
//! server's delay), "at once" and "on time" are shown against stalls of an
//! hour, which only a hang-guard of a minute could notice, and polling for
//! the server's progress gives it a minute.

mod common;
#[path = "common/proxy.rs"]
mod proxy;

use std::time::{Duration, Instant};

use common::start_server;
use factify_invites::retry::{Jitter, RetryBudget, RetryPolicy};
use factify_invites::{Client, Error, InviteStatus};
use factify_invites_server::{Fault, Method};
use futures::TryStreamExt;
use proxy::Proxy;

/// Retries that wait little, so that tests are quick; same rules as default.
fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(50))
        .with_jitter(Jitter::Seeded(1))
}

async fn client_via(endpoint: &str, key: &str) -> Client {
    common::builder(endpoint)
        .api_key(key)
        .retry_policy(quick_retries())
        .connect()
        .await
        .unwrap()
}

/// Polls `condition` until it holds, for waiting on the server: for up to a
/// minute, so that only a server that never gets there fails the test.
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..12_000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting for {what}");
}

/// An hour: a stall no test waits out, so that a call that returns at all
/// was ended by the client's own deadline.
const AN_HOUR: Duration = Duration::from_secs(3600);

/// Runs `call`, failing the test if it takes more than a minute: the guard
/// against a hang (a call waiting out an hour-long stall), far above any
/// time a loaded machine needs for the calls here.
async fn without_hanging<T>(call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), call)
        .await
        .expect("the call hung: it waited for the server instead of its deadline")
}

async fn unavailable_is_retried_until_it_succeeds() {
    let env = start_server().await;
    let client = client_via(&env.running.endpoint(), &env.fixture.admin_key).await;
    env.server
        .inject_faults(Some(Method::Create), [Fault::Unavailable; 3]);

    let invite = client
        .create_invite(&env.fixture.organization, "una@example.com")
        .await
        .unwrap();

    assert_eq!(invite.status, InviteStatus::Pending);
    assert_eq!(
        env.server.call_count(Method::Create),
        4,
        "3 failures + 1 success"
    );
    assert_eq!(env.server.sent_emails().len(), 1);
}

async fn attempts_are_capped_and_retries_can_be_turned_off() {
    let env = start_server().await;
    let client = client_via(&env.running.endpoint(), &env.fixture.admin_key).await;
    let org = &env.fixture.organization;

    env.server
        .inject_faults(Some(Method::List), [Fault::Unavailable; 10]);
    let err = client.list_invites(org).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert_eq!(
        env.server.call_count(Method::List),
        8,
        "the default is 8 attempts"
    );

    let err = client
        .list_invites(org)
        .retry_policy(RetryPolicy::disabled())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert_eq!(
        env.server.call_count(Method::List),
        9,
        "one more attempt only"
    );
}

async fn errors_a_repeat_cannot_fix_are_never_retried() {
    let env = start_server().await;
    let client = client_via(&env.running.endpoint(), &env.fixture.admin_key).await;
    let org = &env.fixture.organization;

    let member = client.create_invite(org, &env.fixture.admin_email).await;
    assert!(matches!(member, Err(Error::FailedPrecondition(_))));
    let missing = client
        .resend_invite(org, "inv_01h2xcejqtf2nbrexx3vqjhp99")
        .await;
    assert!(matches!(missing, Err(Error::NotFound(_))));
    let stranger = client_via(&env.running.endpoint(), "ffy_unknown").await;
    assert!(matches!(
        stranger.list_invites(org).await,
        Err(Error::Unauthenticated(_))
    ));
    let cursor = client.list_invites(org).page(Some("forged")).await;
    assert!(matches!(cursor, Err(Error::InvalidArgument(_))));

    assert_eq!(env.server.call_count(Method::Create), 1);
    assert_eq!(env.server.call_count(Method::Resend), 1);
    assert_eq!(env.server.call_count(Method::List), 2);
}

async fn rate_limits_wait_at_least_the_servers_delay() {
    let env = start_server().await;
    let client = client_via(&env.running.endpoint(), &env.fixture.admin_key).await;
    env.server.inject_faults(
        Some(Method::Create),
        [Fault::RateLimited(Duration::from_millis(300))],
    );

    let started = Instant::now();
    client
        .create_invite(&env.fixture.organization, "rae@example.com")
        .await
        .unwrap();

    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(env.server.call_count(Method::Create), 2);
}

async fn after_a_rate_limit_later_calls_of_the_client_hold_off() {
    let env = start_server().await;
    let client = client_via(&env.running.endpoint(), &env.fixture.admin_key).await;
    let org = &env.fixture.organization;
    env.server.inject_faults(
        Some(Method::List),
        [Fault::RateLimited(Duration::from_millis(400))],
    );

    let started = Instant::now();
    let err = client
        .list_invites(org)
        .retry_policy(RetryPolicy::disabled())
        .await
        .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_millis(400)));

    // A clone's next call waits out the server's delay instead of hammering it.
    client.clone().list_invites(org).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(env.server.call_count(Method::List), 2);
}

async fn a_stalled_server_meets_the_deadline_with_the_last_error_attached() {
    let env = start_server().await;
    let client = client_via(&env.running.endpoint(), &env.fixture.admin_key).await;
    let org = &env.fixture.organization;

    // Plain stall of an hour: DEADLINE_EXCEEDED, ended by the client.
    env.server
        .inject_faults(Some(Method::List), [Fault::Delay(AN_HOUR)]);
    let err = without_hanging(
        client
            .list_invites(org)
            .timeout(Duration::from_millis(300))
            .send(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::DeadlineExceeded(_)), "{err:?}");

    // UNAVAILABLE, then a stall: the deadline error carries the UNAVAILABLE.
    // (A deadline long enough for the first answer on a loaded machine.)
    env.server.inject_faults(
        Some(Method::List),
        [Fault::Unavailable, Fault::Delay(AN_HOUR)],
    );
    let err = without_hanging(
        client
            .list_invites(org)
            .timeout(Duration::from_secs(2))
            .send(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::DeadlineExceeded(_)), "{err:?}");
    let cause = std::error::Error::source(&err).and_then(|cause| cause.downcast_ref::<Error>());
    assert!(matches!(cause, Some(Error::Unavailable(_))), "{err:?}");
}

async fn a_retry_that_cannot_finish_in_time_is_not_started() {
    let env = start_server().await;
    let client = client_via(&env.running.endpoint(), &env.fixture.admin_key).await;
    // The server asks for an hour, which the client cuts to its 60 s cap;
    // the call has 30 s, so the wait cannot fit and is not started.
    env.server
        .inject_faults(Some(Method::List), [Fault::RateLimited(AN_HOUR)]);

    let err = without_hanging(
        client
            .list_invites(&env.fixture.organization)
            .timeout(Duration::from_secs(30))
            .send(),
    )
    .await
    .unwrap_err();

    // Not a deadline error: the server's own answer, with its wait (cut to
    // the client's 60 s cap), at once.
    assert!(matches!(err, Error::ResourceExhausted(_)), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    assert_eq!(env.server.call_count(Method::List), 1);
}

async fn a_create_whose_answer_was_lost_is_retried_into_one_invitation() {
    let env = start_server().await;
    let proxy = Proxy::start(env.running.addr()).await;
    let client = client_via(&proxy.endpoint(), &env.fixture.admin_key).await;
    env.server
        .inject_faults(Some(Method::Create), [Fault::DelayResponse(AN_HOUR)]);

    let org = env.fixture.organization.clone();
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.create_invite(&org, "lost@example.com").await }
    });
    // The server has acted (the email is out); cut before its answer leaves.
    eventually("the first attempt to act", || {
        env.server.sent_emails().len() == 1
    })
    .await;
    proxy.cut_all();

    let invite = call.await.unwrap().unwrap();
    assert_eq!(
        env.server.call_count(Method::Create),
        2,
        "the create was retried"
    );
    assert_eq!(env.server.invites(&env.fixture.organization).len(), 1);
    assert_eq!(env.server.sent_emails().len(), 1, "exactly one email");
    assert_eq!(env.server.sent_emails()[0].invite_id, invite.id);
}

async fn a_resend_or_accept_whose_answer_was_lost_is_not_repeated() {
    let env = start_server().await;
    let proxy = Proxy::start(env.running.addr()).await;
    let client = client_via(&proxy.endpoint(), &env.fixture.admin_key).await;
    let org = env.fixture.organization.clone();
    let invite = client
        .create_invite(&org, "once@example.com")
        .await
        .unwrap();
    env.server
        .inject_faults(Some(Method::Resend), [Fault::DelayResponse(AN_HOUR)]);

    let call = tokio::spawn({
        let (client, org, id) = (client.clone(), org.clone(), invite.id.clone());
        async move { client.resend_invite(&org, &id).await }
    });
    eventually("the resend to act", || env.server.sent_emails().len() == 2).await;
    proxy.cut_all();

    let err = call.await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(env.server.call_count(Method::Resend), 1, "not retried");
    assert_eq!(
        env.server.sent_emails().len(),
        2,
        "one invitation, one resend"
    );

    // UNAVAILABLE does not prove the server did not act (a proxy may
    // answer it after forwarding): an accept is not repeated, and the error
    // says it is not safe to repeat.
    let user = env.server.add_user("Once", "once@example.com");
    let key = env.server.add_api_key(&user, Default::default());
    let joiner = client_via(&env.running.endpoint(), &key).await;
    let token = env.server.last_email_to("once@example.com").unwrap().token;
    env.server
        .inject_faults(Some(Method::Accept), [Fault::Unavailable]);
    let err = joiner.accept_invite(&org, &token).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(env.server.call_count(Method::Accept), 1);
    joiner.accept_invite(&org, token).await.unwrap();
}

async fn a_stream_cut_mid_way_resumes_from_its_last_token() {
    let env = start_server().await;
    let org = env.fixture.organization.clone();
    let start = chrono::Utc::now() - chrono::Duration::hours(1);
    for i in 0..100 {
        let at = start + chrono::Duration::seconds(i);
        env.server.seed_invite(
            &org,
            &format!("s{i:03}@example.com"),
            &env.fixture.admin,
            at,
        );
    }
    let proxy = Proxy::start(env.running.addr()).await;
    let client = client_via(&proxy.endpoint(), &env.fixture.admin_key).await;

    let mut stream = client.list_invites(&org).page_size(10).into_stream();
    let mut seen = Vec::new();
    while let Some(invite) = stream.try_next().await.unwrap() {
        seen.push(invite.email);
        if seen.len() == 35 {
            proxy.cut_all(); // mid-stream: the connection dies under the 4th page
        }
        if seen.len() == 60 {
            // and the server fails a page fetch twice
            env.server
                .inject_faults(Some(Method::List), [Fault::Unavailable; 2]);
        }
    }

    let expected: Vec<String> = (0..100)
        .rev()
        .map(|i| format!("s{i:03}@example.com"))
        .collect();
    assert_eq!(seen, expected, "every invitation once, in order");
    assert!(
        proxy.accepted() >= 2,
        "a new connection was opened after the cut"
    );
    assert!(env.server.call_count(Method::List) >= 12);
}

async fn the_client_rides_through_a_server_restart_on_the_same_port() {
    let env = start_server().await;
    let addr = env.running.addr();
    let client = common::builder(&env.running.endpoint())
        .api_key(&env.fixture.admin_key)
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(50)
                .with_initial_backoff(Duration::from_millis(10))
                .with_max_backoff(Duration::from_millis(50)),
        )
        .retry_budget(RetryBudget::unlimited())
        .connect()
        .await
        .unwrap();
    let org = env.fixture.organization.clone();

    let caller = tokio::spawn({
        let client = client.clone();
        async move {
            for i in 0..40 {
                client
                    .create_invite(&org, format!("r{i}@example.com"))
                    .await
                    .map_err(|err| format!("call {i}: {err}"))?;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Ok::<_, String>(())
        }
    });
    eventually("some calls before the restart", || {
        env.server.sent_emails().len() >= 5
    })
    .await;
    let common::TestEnv {
        server,
        running,
        fixture,
        ..
    } = env;
    running.shutdown().await;
    tokio::time::sleep(Duration::from_millis(200)).await; // down for a while
    let restarted = server.start_on(addr).await.unwrap();

    caller.await.unwrap().unwrap();
    assert_eq!(
        server.invites(&fixture.organization).len(),
        40,
        "every call landed once"
    );
    assert_eq!(server.sent_emails().len(), 40);
    restarted.shutdown().await;
}

async fn the_retry_budget_stops_retry_storms() {
    let env = start_server().await;
    let client = common::builder(&env.running.endpoint())
        .api_key(&env.fixture.admin_key)
        .retry_policy(quick_retries())
        .retry_budget(RetryBudget::new(10.0, 0.1))
        .connect()
        .await
        .unwrap();
    // The service is down for every call.
    env.server
        .inject_faults(Some(Method::List), [Fault::Unavailable; 1000]);

    for _ in 0..20 {
        let clone = client.clone();
        assert!(clone.list_invites(&env.fixture.organization).await.is_err());
    }

    let attempts = env.server.call_count(Method::List);
    // Unbounded, 20 calls of 4 attempts would be 80; the shared budget
    // allows only the first few retries once most calls fail.
    assert!((20..=30).contains(&attempts), "{attempts} attempts");
}

async fn a_client_side_rate_limit_spaces_calls() {
    use factify_invites::rate_limit::RateLimit;
    let env = start_server().await;
    let client = common::builder(&env.running.endpoint())
        .api_key(&env.fixture.admin_key)
        .rate_limit(RateLimit::per_minute(1200).with_creates_per_minute(600)) // 50 ms, 100 ms
        .connect()
        .await
        .unwrap();
    let org = &env.fixture.organization;

    let started = Instant::now();
    for i in 0..4 {
        client
            .create_invite(org, format!("paced{i}@example.com"))
            .await
            .unwrap();
    }
    // Four creations at most one per 100 ms: the last starts 300 ms in.
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(env.server.call_count(Method::Create), 4);
}

common::each_protocol!(
    unavailable_is_retried_until_it_succeeds,
    attempts_are_capped_and_retries_can_be_turned_off,
    errors_a_repeat_cannot_fix_are_never_retried,
    rate_limits_wait_at_least_the_servers_delay,
    after_a_rate_limit_later_calls_of_the_client_hold_off,
    a_stalled_server_meets_the_deadline_with_the_last_error_attached,
    a_retry_that_cannot_finish_in_time_is_not_started,
    a_create_whose_answer_was_lost_is_retried_into_one_invitation,
    a_resend_or_accept_whose_answer_was_lost_is_not_repeated,
    a_stream_cut_mid_way_resumes_from_its_last_token,
    the_client_rides_through_a_server_restart_on_the_same_port,
    the_retry_budget_stops_retry_storms,
    a_client_side_rate_limit_spaces_calls,
);
