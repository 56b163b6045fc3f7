//! What the client repeats, and how much, over loopback against the
//! reference server's seeded random faults: calls that are not idempotent
//! (resend, revoke, accept) are repeated only when the request provably
//! never reached the service, so answers lost after the server acted never
//! send a second email; `Error::is_retryable()` says the same; and the
//! retry budget rides through 30 % of failing attempts while keeping a dead
//! service's load near one attempt per call.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::start_server;
use factify_invites::retry::{Jitter, RetryBudget, RetryPolicy};
use factify_invites::{Client, Error};
use factify_invites_server::{Fault, Method};
use futures::{stream, StreamExt};

/// The default policy and budget, with short waits so that tests are quick.
fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(4))
        .with_jitter(Jitter::Seeded(3))
}

async fn quick_client(env: &common::TestEnv) -> Client {
    common::builder(&env.running.endpoint())
        .api_key(&env.fixture.admin_key)
        .retry_policy(quick_retries())
        .connect()
        .await
        .unwrap()
}

/// How many emails went to each address.
fn emails_per_address(env: &common::TestEnv) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for email in env.server.sent_emails() {
        *counts.entry(email.to.clone()).or_default() += 1;
    }
    counts
}

/// 200 resends, 30 % of whose answers are lost after the server acted
/// (`UNAVAILABLE`, over Connect a 503): each sends exactly one email, and
/// the failures say they are not safe to repeat. Revokes likewise.
async fn answers_lost_after_acting_never_send_a_second_email() {
    let env = start_server().await;
    let client = quick_client(&env).await;
    let org = env.fixture.organization.clone();
    let invites: Vec<_> = stream::iter(0..200)
        .map(|i| {
            let (client, org) = (client.clone(), org.clone());
            async move {
                client
                    .create_invite(&org, format!("lost{i:03}@example.com"))
                    .await
                    .unwrap()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;

    env.server
        .inject_random_faults(Some(Method::Resend), Fault::UnavailableAfterActing, 0.3, 11);
    let outcomes: Vec<_> = stream::iter(&invites)
        .map(|invite| client.resend_invite(&org, &invite.id).send())
        .buffer_unordered(8)
        .collect()
        .await;

    let failures: Vec<&Error> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(
        (30..=90).contains(&failures.len()),
        "about 30 % of 200 answers lost: {}",
        failures.len()
    );
    for err in &failures {
        assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
        assert!(!err.is_retryable(), "the resend may have acted: {err:?}");
    }
    assert_eq!(
        env.server.call_count(Method::Resend),
        200,
        "no resend was repeated"
    );
    let emails = emails_per_address(&env);
    eprintln!(
        "lost answers: {} of 200 resends failed; emails per address: {:?}",
        failures.len(),
        emails
            .values()
            .fold(HashMap::<usize, usize>::new(), |mut counts, n| {
                *counts.entry(*n).or_default() += 1;
                counts
            })
    );
    assert_eq!(emails.len(), 200);
    let repeated: Vec<_> = emails.iter().filter(|(_, n)| **n != 2).collect();
    assert!(
        repeated.is_empty(),
        "one invitation and one resend each: {repeated:?}"
    );

    env.server
        .inject_random_faults(Some(Method::Revoke), Fault::UnavailableAfterActing, 0.3, 12);
    for invite in &invites[..50] {
        if let Err(err) = client.revoke_invite(&org, &invite.id).await {
            assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
            assert!(!err.is_retryable());
        }
    }
    assert_eq!(env.server.call_count(Method::Revoke), 50, "none repeated");
}

/// What provably never reached the service is still retried for calls that
/// are not idempotent: a rate-limit refusal, and a connection refused.
async fn failures_before_the_service_acted_are_still_retried() {
    let env = start_server().await;
    let client = quick_client(&env).await;
    let org = env.fixture.organization.clone();
    let invite = client
        .create_invite(&org, "unsent@example.com")
        .await
        .unwrap();

    env.server.inject_faults(
        Some(Method::Resend),
        [Fault::RateLimited(Duration::from_millis(5)); 2],
    );
    client.resend_invite(&org, &invite.id).await.unwrap();
    assert_eq!(env.server.call_count(Method::Resend), 3, "2 refusals + 1");
    assert_eq!(emails_per_address(&env)["unsent@example.com"], 2);

    // UNAVAILABLE before acting is not told apart from after acting: a
    // resend is not repeated, and the error says so; a list is.
    env.server
        .inject_faults(Some(Method::Resend), [Fault::Unavailable]);
    let err = client.resend_invite(&org, &invite.id).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(env.server.call_count(Method::Resend), 4);
    env.server
        .inject_faults(Some(Method::List), [Fault::Unavailable; 8]);
    let err = client.list_invites(&org).await.unwrap_err();
    assert!(err.is_retryable(), "a list may be repeated: {err:?}");

    // Nothing listens: the connection is refused before anything is sent.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let nowhere = common::builder(&format!("http://127.0.0.1:{port}"))
        .api_key(&env.fixture.admin_key)
        .retry_policy(RetryPolicy::disabled())
        .connect_lazy()
        .unwrap();
    let err = nowhere.resend_invite(&org, &invite.id).await.unwrap_err();
    match &err {
        Error::Transport(transport) => assert!(transport.is_before_send(), "{err:?}"),
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert!(err.is_retryable(), "never sent, so safe to repeat");
}

/// 1,000 creates with 30 % of attempts answered `UNAVAILABLE` before the
/// server acts: every call succeeds (the issue asks for at least 999), with
/// one invitation and one email each, under the default budget.
async fn thirty_percent_unavailable_is_ridden_through() {
    let env = start_server().await;
    let client = quick_client(&env).await;
    let org = env.fixture.organization.clone();
    env.server
        .inject_random_faults(Some(Method::Create), Fault::Unavailable, 0.3, 21);

    let outcomes: Vec<_> = stream::iter(0..1000)
        .map(|i| {
            let (client, org) = (client.clone(), org.clone());
            async move {
                client
                    .create_invite(&org, format!("flaky{i:04}@example.com"))
                    .await
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;

    let succeeded = outcomes.iter().filter(|o| o.is_ok()).count();
    let failed: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(
        succeeded >= 999,
        "{succeeded} of 1000, such as {:?}",
        &failed[..failed.len().min(2)]
    );
    assert_eq!(
        env.server.invites(&env.fixture.organization).len(),
        succeeded
    );
    assert_eq!(env.server.sent_emails().len(), succeeded, "no duplicates");
    let attempts = env.server.call_count(Method::Create);
    eprintln!("30 % UNAVAILABLE: {succeeded} of 1000 creates succeeded in {attempts} attempts");
    assert!(
        (1200..=1700).contains(&attempts),
        "about 1.43 attempts per call: {attempts}"
    );
}

/// A service that answers every call `UNAVAILABLE`: once the budget's 100
/// retries are spent, each call makes one attempt, although the policy
/// allows 8: at most 1.1 attempts per call over 1,000 calls.
async fn a_dead_service_costs_about_one_attempt_per_call() {
    let env = start_server().await;
    let client = quick_client(&env).await;
    env.server
        .inject_random_faults(Some(Method::List), Fault::Unavailable, 1.0, 1);

    let failures = stream::iter(0..1000)
        .map(|_| client.list_invites(&env.fixture.organization).send())
        .buffer_unordered(16)
        .filter(|outcome| std::future::ready(outcome.is_err()))
        .count()
        .await;

    assert_eq!(failures, 1000);
    let attempts = env.server.call_count(Method::List);
    eprintln!("dead service: {attempts} attempts for 1000 calls");
    assert!(
        (1000..=1100).contains(&attempts),
        "{attempts} attempts for 1000 calls"
    );

    // The budget is the client's: a fresh one lets a call use its 8.
    let fresh = common::builder(&env.running.endpoint())
        .api_key(&env.fixture.admin_key)
        .retry_policy(quick_retries())
        .retry_budget(RetryBudget::default())
        .connect()
        .await
        .unwrap();
    fresh
        .list_invites(&env.fixture.organization)
        .await
        .unwrap_err();
    assert_eq!(env.server.call_count(Method::List), attempts + 8);
}

common::each_protocol!(
    answers_lost_after_acting_never_send_a_second_email,
    failures_before_the_service_acted_are_still_retried,
    thirty_percent_unavailable_is_ridden_through,
    a_dead_service_costs_about_one_attempt_per_call,
);
