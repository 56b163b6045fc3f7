//! The reference server's snapshots (feature `persist`): a change hook that
//! sees every change before the call is answered, a failing hook that keeps
//! the change unacknowledged, and a restored server that answers repeats of
//! idempotent requests as the first one did.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use factify_invites::retry::RetryPolicy;
use factify_invites::Error;
use factify_invites_server::{ReferenceServer, Snapshot};

#[tokio::test]
async fn every_change_is_seen_before_it_is_answered() {
    let env = common::start_server().await;
    let org = &env.fixture.organization;
    let saved: Arc<Mutex<Option<Snapshot>>> = Arc::default();
    let calls = Arc::new(AtomicUsize::new(0));
    {
        let (saved, calls) = (saved.clone(), calls.clone());
        env.server.on_change(move |snapshot| {
            calls.fetch_add(1, Ordering::SeqCst);
            *saved.lock().unwrap() = Some(snapshot.clone());
            Ok(())
        });
    }

    let invite = env
        .client
        .create_invite(org, "ada@example.com")
        .idempotency_key("k1")
        .await
        .unwrap();
    let last = saved.lock().unwrap().clone().expect("a snapshot was taken");
    assert_eq!(last.invite_count(), 1, "saved before the answer arrived");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // An idempotent repeat and a list change nothing.
    env.client
        .create_invite(org, "ada@example.com")
        .idempotency_key("k1")
        .await
        .unwrap();
    let _ = env.client.list_invites(org).page(None).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    env.client.resend_invite(org, &invite.id).await.unwrap();
    env.client.revoke_invite(org, &invite.id).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        env.server.snapshot(),
        *saved.lock().unwrap().as_ref().unwrap()
    );
}

#[tokio::test]
async fn a_change_that_cannot_be_saved_is_not_acknowledged() {
    let env = common::start_server().await;
    let org = &env.fixture.organization;
    let broken = Arc::new(AtomicBool::new(true));
    let saves = Arc::new(AtomicUsize::new(0));
    {
        let (broken, saves) = (broken.clone(), saves.clone());
        env.server.on_change(move |_| {
            if broken.load(Ordering::SeqCst) {
                return Err(std::io::Error::other("disk full"));
            }
            saves.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
    }
    let create = || {
        env.client
            .create_invite(org, "ada@example.com")
            .idempotency_key("k1")
            .retry_policy(RetryPolicy::disabled())
    };
    let err = create().await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err}");

    // Still broken: the repeat is not acknowledged either.
    assert!(matches!(create().await, Err(Error::Unavailable(_))));

    broken.store(false, Ordering::SeqCst);
    let invite = create().await.unwrap();
    assert_eq!(saves.load(Ordering::SeqCst), 1, "the repeat saved first");
    assert_eq!(env.server.sent_emails().len(), 1);
    assert_eq!(env.server.invites(org)[0].id, invite.id.to_string());
}

#[tokio::test]
async fn a_restored_server_answers_repeats_like_the_first() {
    let env = common::start_server().await;
    let org = &env.fixture.organization;
    let first = env
        .client
        .create_invite(org, "ada@example.com")
        .idempotency_key("k1")
        .await
        .unwrap();
    let json = serde_json::to_vec(&env.server.snapshot()).unwrap();
    env.running.shutdown().await;

    let server = ReferenceServer::new();
    server
        .restore(serde_json::from_slice(&json).unwrap())
        .unwrap();
    let running = server.start().await.unwrap();
    let client = common::client_for(&running.endpoint(), &env.fixture.admin_key).await;
    let again = client
        .create_invite(org, "ada@example.com")
        .idempotency_key("k1")
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(server.sent_emails().len(), 1, "no second email");

    // The invitation's token still works after the restart.
    let token = server.last_email_to("ada@example.com").unwrap().token;
    let ada = server.add_user("Ada", "ada@example.com");
    let key = server.add_api_key(&ada, factify_invites_server::Permissions::NONE);
    let ada = common::client_for(&running.endpoint(), &key).await;
    let joined = ada.accept_invite(org, token).await.unwrap();
    assert_eq!(&joined.id, org);
}
