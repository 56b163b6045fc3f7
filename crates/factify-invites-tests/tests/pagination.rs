//! Listing over loopback: every invitation exactly once across many small
//! pages, filters, page tokens both ways, and streams that prefetch one page
//! (or, with `prefetch(false)`, fetch lazily) and stop when dropped (counted
//! by the server's call counter).

mod common;

use std::collections::HashSet;

use chrono::{Duration, Utc};
use common::start_server;
use factify_invites::{Invite, InviteStatus};
use factify_invites_server::{Fault, Method};
use futures::{StreamExt, TryStreamExt};

/// Seeds `count` invitations one second apart from a day ago, the newest
/// last; returns their IDs and the first one's creation time.
fn seed_from(
    env: &common::TestEnv,
    count: usize,
) -> (Vec<factify_invites::InviteId>, chrono::DateTime<Utc>) {
    let start = Utc::now() - Duration::days(1);
    let ids = (0..count)
        .map(|i| {
            env.server.seed_invite(
                &env.fixture.organization,
                &format!("person{i:04}@example.com"),
                &env.fixture.admin,
                start + Duration::seconds(i as i64),
            )
        })
        .collect();
    (ids, start)
}

fn seed(env: &common::TestEnv, count: usize) -> Vec<factify_invites::InviteId> {
    seed_from(env, count).0
}

async fn streams_1200_invites_with_no_duplicate_and_no_gap() {
    let env = start_server().await;
    let mut expected = seed(&env, 1200);
    expected.reverse(); // newest first

    let invites: Vec<Invite> = env
        .client
        .list_invites(&env.fixture.organization)
        .page_size(7)
        .into_stream()
        .try_collect()
        .await
        .unwrap();

    let got: Vec<_> = invites.iter().map(|invite| invite.id.clone()).collect();
    assert_eq!(got, expected);
    assert_eq!(env.server.call_count(Method::List), 1200_u64.div_ceil(7));
}

async fn filters_apply_together_across_pages() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    let (ids, start) = seed_from(&env, 1000);
    // Revoke every tenth invitation.
    for id in ids.iter().step_by(10) {
        env.client.revoke_invite(org, id).await.unwrap();
    }
    let other_sender = env.server.add_user("Other", "other@acme.test");
    env.server.add_member(org, &other_sender);
    let by_other = env
        .server
        .seed_invite(org, "person9999@example.com", &other_sender, start);

    let revoked: Vec<Invite> = env
        .client
        .list_invites(org)
        .status(InviteStatus::Revoked)
        .page_size(9)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(revoked.len(), 100);
    assert!(revoked
        .iter()
        .all(|invite| invite.status == InviteStatus::Revoked));
    assert_eq!(
        revoked.iter().map(|i| &i.id).collect::<HashSet<_>>().len(),
        100
    );

    // person01xx: 100 invitations, 10 of them revoked; contains is case-insensitive.
    let pending_01: Vec<Invite> = env
        .client
        .list_invites(org)
        .status(InviteStatus::Pending)
        .email_contains("PERSON01")
        .page_size(4)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pending_01.len(), 90);

    let exact = env
        .client
        .list_invites(org)
        .email_exact("person0042@example.com")
        .await
        .unwrap();
    assert_eq!(exact.items.len(), 1);
    let exact_case = env
        .client
        .list_invites(org)
        .email_exact("PERSON0042@example.com")
        .await
        .unwrap();
    assert!(exact_case.items.is_empty(), "exact is case-sensitive");

    let from_other = env
        .client
        .list_invites(org)
        .sender(&other_sender)
        .await
        .unwrap();
    assert_eq!(
        from_other.items.iter().map(|i| &i.id).collect::<Vec<_>>(),
        vec![&by_other]
    );

    // Seconds 100..=199 inclusive.
    let window: Vec<Invite> = env
        .client
        .list_invites(org)
        .created_after(start + Duration::seconds(100))
        .created_before(start + Duration::seconds(199))
        .page_size(33)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(window.len(), 100);
    assert!(window
        .windows(2)
        .all(|w| w[0].created_at >= w[1].created_at));
}

/// Waits (at most ten seconds) until `done` holds: for a request the
/// stream started in a task of its own to reach the server.
async fn wait_until(mut done: impl FnMut() -> bool) {
    let wait = async {
        while !done() {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), wait)
        .await
        .expect("the condition did not hold within ten seconds");
}

async fn dropping_a_stream_stops_fetching() {
    let env = start_server().await;
    seed(&env, 100);

    // Strictly lazy: a page is fetched only when the stream reaches it.
    let mut stream = env
        .client
        .list_invites(&env.fixture.organization)
        .page_size(10)
        .prefetch(false)
        .into_stream();
    assert_eq!(
        env.server.call_count(Method::List),
        0,
        "nothing fetched before polling"
    );
    let first_fifteen: Vec<_> = stream.by_ref().take(15).try_collect().await.unwrap();
    assert_eq!(first_fifteen.len(), 15);
    drop(stream);

    assert_eq!(env.server.call_count(Method::List), 2);
}

async fn a_prefetching_stream_runs_one_page_ahead_and_never_past_the_end() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    seed(&env, 100);
    let lists = || env.server.call_count(Method::List);

    let mut stream = env.client.list_invites(org).page_size(10).into_stream();
    assert_eq!(lists(), 0, "nothing fetched before polling");
    let first: Vec<_> = stream.by_ref().take(15).try_collect().await.unwrap();
    // Pages 1 and 2 were read; page 3 was requested as soon as page 2 came.
    wait_until(|| lists() == 3).await;
    assert_eq!(stream.next_page_token().map(str::is_empty), Some(false));
    // A round trip later the stream has asked for nothing more: it waits
    // for page 3 to be read before it requests page 4.
    env.client.list_invites(org).page_size(1).await.unwrap();
    assert_eq!(lists(), 4);

    let rest: Vec<_> = stream.try_collect().await.unwrap();
    let ids: HashSet<_> = first.iter().chain(&rest).map(|invite| &invite.id).collect();
    assert_eq!(ids.len(), 100);
    assert_eq!(
        lists(),
        10 + 1,
        "ten pages for the stream (none past the last), and the one call"
    );
}

async fn dropping_a_prefetching_stream_cancels_the_page_in_flight() {
    let env = start_server().await;
    seed(&env, 100);
    // Pages 1 and 2 are answered at once; page 3 would take a minute.
    env.server.inject_faults(
        Some(Method::List),
        [
            Fault::Delay(std::time::Duration::ZERO),
            Fault::Delay(std::time::Duration::ZERO),
            Fault::Delay(std::time::Duration::from_secs(60)),
        ],
    );

    let mut stream = env
        .client
        .list_invites(&env.fixture.organization)
        .page_size(10)
        .into_stream();
    let first: Vec<_> = stream.by_ref().take(15).try_collect().await.unwrap();
    assert_eq!(first.len(), 15);
    // The request for page 3 has reached the server, which holds it.
    wait_until(|| env.server.call_count(Method::List) == 3).await;
    drop(stream);

    // A graceful shutdown waits for the calls in flight: it ends within
    // seconds only because dropping the stream cancelled page 3.
    tokio::time::timeout(std::time::Duration::from_secs(10), env.running.shutdown())
        .await
        .expect("the server still had the prefetched page in flight");
}

async fn pages_and_tokens_walk_both_ways() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    seed(&env, 25);

    let pages: Vec<_> = env
        .client
        .list_invites(org)
        .page_size(10)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages.iter().map(|p| p.items.len()).collect::<Vec<_>>(),
        vec![10, 10, 5]
    );
    assert!(pages[0].prev_page_token.is_none());
    assert!(pages[2].next_page_token.is_none());

    let second = env
        .client
        .list_invites(org)
        .page_size(10)
        .page(pages[0].next_page_token.as_deref())
        .await
        .unwrap();
    assert_eq!(second, pages[1]);

    let back = env
        .client
        .list_invites(org)
        .page_size(10)
        .page(pages[2].prev_page_token.as_deref())
        .await
        .unwrap();
    assert_eq!(back.items, pages[1].items);
}

async fn the_stream_reports_where_to_resume() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    seed(&env, 12);

    let mut pages = env.client.list_invites(org).page_size(5).pages();
    assert_eq!(pages.next_page_token(), Some(""));
    let first = pages.try_next().await.unwrap().unwrap();
    let resume = pages.next_page_token().unwrap().to_owned();
    assert_eq!(Some(&resume), first.next_page_token.as_ref());
    drop(pages);

    let rest: Vec<_> = env
        .client
        .list_invites(org)
        .page_size(5)
        .page(Some(&resume))
        .await
        .unwrap()
        .items;
    assert_eq!(rest.len(), 5);
    assert!(rest.iter().all(|invite| !first.items.contains(invite)));
}

async fn an_empty_list_is_one_empty_page() {
    let env = start_server().await;
    let invites: Vec<_> = env
        .client
        .list_invites(&env.fixture.organization)
        .into_stream()
        .collect()
        .await;
    assert!(invites.is_empty());
    assert_eq!(env.server.call_count(Method::List), 1);
}

common::each_protocol!(
    streams_1200_invites_with_no_duplicate_and_no_gap,
    filters_apply_together_across_pages,
    dropping_a_stream_stops_fetching,
    a_prefetching_stream_runs_one_page_ahead_and_never_past_the_end,
    dropping_a_prefetching_stream_cancels_the_page_in_flight,
    pages_and_tokens_walk_both_ways,
    the_stream_reports_where_to_resume,
    an_empty_list_is_one_empty_page,
);
