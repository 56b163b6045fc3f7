//! Bulk invitations (`Client::invite_many`) against the reference server:
//! per-row outcomes and errors, idempotent re-runs and resumed runs, and
//! the concurrency bound (seen on a paused clock, where time only moves
//! when every task waits).

mod common;

use std::collections::HashSet;
use std::time::Duration;

use factify_invites::bulk::{idempotency_key, RowOutcome};
use factify_invites::{Client, Error, InviteRow};
use factify_invites_server::{Method, ReferenceServer};
use futures::StreamExt;

fn team(n: usize) -> Vec<InviteRow> {
    (0..n)
        .map(|i| InviteRow::new(format!("person{i}@example.com"), None))
        .collect()
}

async fn run_all(run: factify_invites::InviteMany) -> Vec<RowOutcome> {
    let mut outcomes: Vec<RowOutcome> = run.into_stream().collect().await;
    outcomes.sort_by_key(|outcome| outcome.index);
    outcomes
}

#[tokio::test]
async fn each_row_gets_its_own_outcome() {
    let env = common::start_server().await;
    let org = &env.fixture.organization;
    let rows = vec![
        InviteRow::new("ada@example.com", Some("Welcome, Ada".into())),
        InviteRow::new("not an email", None),
        InviteRow::new(env.fixture.admin_email.clone(), None), // a member already
        InviteRow::new("grace@example.com", Some("x".repeat(2001))),
        InviteRow::new("linus@example.com", None),
    ];
    let run = env.client.invite_many(org, rows);

    let invalid = run.validate();
    let bad: Vec<_> = invalid
        .iter()
        .map(|row| (row.index, row.error.param()))
        .collect();
    assert_eq!(bad, vec![(1, Some("email")), (3, Some("message"))]);

    let outcomes = run_all(run).await;
    assert_eq!(outcomes.len(), 5);
    let ada = outcomes[0].result.as_ref().expect("ada is invited");
    assert_eq!(ada.email, "ada@example.com");
    assert_eq!(ada.message.as_deref(), Some("Welcome, Ada"));
    assert!(matches!(
        outcomes[1].result,
        Err(Error::InvalidRequest { field: "email", .. })
    ));
    assert!(matches!(
        outcomes[2].result,
        Err(Error::FailedPrecondition(_))
    ));
    assert!(outcomes[2]
        .result
        .as_ref()
        .unwrap_err()
        .request_id()
        .is_some());
    assert!(matches!(
        outcomes[3].result,
        Err(Error::InvalidRequest {
            field: "message",
            ..
        })
    ));
    assert!(outcomes[4].result.is_ok());
    // Rows refused by the client never reached the server.
    assert_eq!(env.server.call_count(Method::Create), 3);
    assert_eq!(env.server.sent_emails().len(), 2);
}

#[tokio::test]
async fn rerunning_a_run_sends_no_second_email() {
    let env = common::start_server().await;
    let org = &env.fixture.organization;
    let rows = team(20);

    let first = env
        .client
        .invite_many(org, rows.clone())
        .run_id("onboarding-1")
        .concurrency(5);
    let keys = first.idempotency_keys();
    assert_eq!(
        keys[0],
        idempotency_key("onboarding-1", "person0@example.com", None)
    );
    let first = run_all(first).await;
    assert!(first.iter().all(|outcome| outcome.result.is_ok()));
    assert_eq!(env.server.sent_emails().len(), 20);

    let again = run_all(
        env.client
            .invite_many(org, rows.clone())
            .run_id("onboarding-1"),
    )
    .await;
    for (a, b) in first.iter().zip(&again) {
        let (a, b) = (a.result.as_ref().unwrap(), b.result.as_ref().unwrap());
        assert_eq!(a.id, b.id, "the same invitation is answered");
        assert_eq!(a.expires_at, b.expires_at, "and it was not resent");
    }
    assert_eq!(env.server.sent_emails().len(), 20, "no second email");
    assert_eq!(env.server.invites(org).len(), 20);

    // A new run is a new request: pending invitations are resent (the
    // server's rule), still without duplicates.
    run_all(env.client.invite_many(org, rows).run_id("onboarding-2")).await;
    assert_eq!(env.server.sent_emails().len(), 40);
    assert_eq!(env.server.invites(org).len(), 20);
}

#[tokio::test]
async fn an_interrupted_run_resumes_without_duplicates() {
    let env = common::start_server().await;
    let org = &env.fixture.organization;
    let rows = team(30);

    // Stop after 10 outcomes, as a crash would.
    let run = env
        .client
        .invite_many(org, rows.clone())
        .concurrency(3)
        .run_id("resumable");
    let run_id = run.current_run_id().to_owned();
    let done: Vec<_> = run.into_stream().take(10).collect().await;
    assert_eq!(done.len(), 10);

    let resumed = run_all(env.client.invite_many(org, rows).run_id(run_id)).await;
    assert!(resumed.iter().all(|outcome| outcome.result.is_ok()));
    let emails: Vec<_> = env.server.sent_emails().into_iter().map(|e| e.to).collect();
    let distinct: HashSet<_> = emails.iter().collect();
    assert_eq!(emails.len(), 30, "each person got exactly one email");
    assert_eq!(distinct.len(), 30);
    assert_eq!(env.server.invites(org).len(), 30);
}

#[tokio::test]
async fn a_bad_run_id_or_organization_fails_every_row_unsent() {
    let env = common::start_server().await;
    let outcomes = run_all(
        env.client
            .invite_many(&env.fixture.organization, team(3))
            .run_id("has spaces"),
    )
    .await;
    assert!(outcomes.iter().all(|o| matches!(
        o.result,
        Err(Error::InvalidRequest {
            field: "run_id",
            ..
        })
    )));
    let outcomes = run_all(env.client.invite_many("org_nope", team(2))).await;
    assert!(outcomes.iter().all(|o| matches!(
        o.result,
        Err(Error::InvalidRequest {
            field: "organization_id",
            ..
        })
    )));
    assert_eq!(env.server.call_count(Method::Create), 0);
}

/// With a paused clock, time moves only when every task waits, so the
/// elapsed time counts the waves of calls exactly: 12 rows of one second
/// each, 3 at a time, take 4 seconds; all at once they would take 1.
#[tokio::test(start_paused = true)]
async fn concurrency_is_bounded() {
    let server = ReferenceServer::new();
    let fixture = server.fixture();
    server.set_latency(Method::Create, Duration::from_secs(1));
    let channel = server.in_memory_channel().await.expect("in-memory channel");
    let client = Client::builder()
        .api_key(&fixture.admin_key)
        .build_with_channel(channel)
        .expect("client");

    for (concurrency, seconds) in [(3, 4), (12, 1), (5, 3)] {
        let started = tokio::time::Instant::now();
        let outcomes = run_all(
            client
                .invite_many(&fixture.organization, team(12))
                .concurrency(concurrency),
        )
        .await;
        let elapsed = started.elapsed();
        assert!(outcomes.iter().all(|o| o.result.is_ok()));
        assert!(
            elapsed >= Duration::from_secs(seconds) && elapsed < Duration::from_secs(seconds + 1),
            "concurrency {concurrency}: {elapsed:?}"
        );
    }
}
