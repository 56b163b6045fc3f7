//! The test aids of feature `testing`: domain values and errors built by
//! hand, and a client over scripted answers that goes through the same
//! checks, retries and reading of answers as a networked one, with no
//! server and no socket.

use std::time::Duration;

use factify_invites::retry::{Jitter, RetryPolicy};
use factify_invites::testing::{self, Method, Request, Script};
use factify_invites::{Client, Code, Error, ErrorKind, InviteStatus, Reason};
use futures::TryStreamExt;

const ORG: &str = "org_01h2xcejqtf2nbrexx3vqjhp41";
const INVITE: &str = "inv_01h2xcejqtf2nbrexx3vqjhp42";

static_assertions::assert_impl_all!(Script: Send, Sync, Clone, std::fmt::Debug);

#[test]
fn errors_are_built_with_everything_a_server_sends() {
    let err = testing::status(Code::ResourceExhausted, "slow down")
        .reason(Reason::RateLimitExceeded)
        .request_id("req_01arwx4k8xrgqskvxq69gdn019")
        .param("email")
        .retry_after(Duration::from_millis(1500))
        .into_error();
    assert!(matches!(err, Error::ResourceExhausted(_)), "{err:?}");
    assert_eq!(err.reason(), Some(&Reason::RateLimitExceeded));
    assert_eq!(err.request_id(), Some("req_01arwx4k8xrgqskvxq69gdn019"));
    assert_eq!(err.param(), Some("email"));
    assert_eq!(err.retry_after(), Some(Duration::from_millis(1500)));
    assert!(err.is_retryable());
    assert!(!err.status().unwrap().is_local());

    let bare = testing::status(Code::NotFound, "gone").build();
    assert_eq!(bare.code(), Code::NotFound);
    assert_eq!(bare.reason(), None);

    let unsent = testing::transport_error("refused", true);
    let lost = testing::transport_error("reset", false);
    assert_eq!(unsent.kind(), ErrorKind::Transport);
    assert!(matches!(&unsent, Error::Transport(t) if t.is_before_send()));
    assert!(matches!(&lost, Error::Transport(t) if !t.is_before_send()));
    let bad = testing::invalid_response("invite.id", "required field is missing");
    assert_eq!(bad.kind(), ErrorKind::InvalidResponse);
    assert_eq!(bad.param(), Some("invite.id"));
}

#[test]
fn values_are_complete_and_can_be_changed() {
    let mut accepted = testing::invite();
    accepted.status = InviteStatus::Accepted;
    accepted.accepted = Some(testing::acceptance(accepted.created_at, testing::user()));
    assert_eq!(accepted.email, "ada@example.com");
    assert_eq!((accepted.expires_at - accepted.created_at).num_days(), 7);
    let page = testing::page(vec![testing::invite(), accepted], Some("t2"));
    assert!(page.has_more());
    assert_eq!(testing::organization().id.as_str(), ORG);
}

#[tokio::test]
async fn answers_come_back_as_scripted_and_requests_are_recorded() {
    let script = Script::new();
    let mut accepted = testing::invite();
    accepted.status = InviteStatus::Accepted;
    accepted.accepted = Some(testing::acceptance(accepted.created_at, testing::user()));
    accepted.message = Some("Welcome".into());
    script
        .on_create_invite(Ok(accepted.clone()))
        .on_revoke_invite(Err(testing::status(Code::FailedPrecondition, "accepted")
            .reason(Reason::PreconditionFailed)
            .into_error()))
        .on_accept_invite(Ok(testing::organization()));
    let client = script.client();

    let created = client
        .create_invite(ORG, "ada@example.com")
        .message("Welcome")
        .await
        .unwrap();
    assert_eq!(created, accepted, "the answer survives the wire round trip");
    let err = client.revoke_invite(ORG, INVITE).await.unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err:?}");
    assert_eq!(err.reason(), Some(&Reason::PreconditionFailed));
    let joined = client.accept_invite(ORG, "secret-token").await.unwrap();
    assert_eq!(joined, testing::organization());

    let requests = script.requests();
    assert_eq!(requests.len(), 3);
    match &requests[0] {
        Request::CreateInvite(create) => {
            assert_eq!(create.organization_id, ORG);
            assert_eq!(create.email, "ada@example.com");
            assert_eq!(create.message.as_deref(), Some("Welcome"));
            let key = create.idempotency_key.as_deref().unwrap_or_default();
            assert!(!key.is_empty(), "a generated key is sent");
        }
        other => panic!("expected a creation, got {other:?}"),
    }
    match &requests[1] {
        Request::RevokeInvite(revoke) => assert_eq!(revoke.invite_id, INVITE),
        other => panic!("expected a revocation, got {other:?}"),
    }
    let debug = format!("{:?}", requests[2]);
    assert!(!debug.contains("secret-token"), "{debug}");
    assert_eq!(script.calls(Method::AcceptInvite), 1);
    assert_eq!(script.unanswered(), 0);
}

#[tokio::test]
async fn the_clients_checks_run_before_the_script_is_asked() {
    let script = Script::new();
    script.on_create_invite(Ok(testing::invite()));
    let client = script.client();
    let err = client
        .create_invite("org_bad", "ada@example.com")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidRequest {
                field: "organization_id",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(script.requests().is_empty());
    assert_eq!(script.unanswered(), 1);
}

#[tokio::test]
async fn a_call_with_no_answer_left_is_unimplemented_not_a_panic() {
    let script = Script::new();
    let err = script
        .client()
        .resend_invite(ORG, INVITE)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unimplemented(_)), "{err:?}");
    assert!(err.to_string().contains("no answer left"), "{err}");
    assert_eq!(script.calls(Method::ResendInvite), 1);
}

/// With the builder's retry policy, each attempt takes an answer, and every
/// attempt of a creation carries the same idempotency key.
#[tokio::test(start_paused = true)]
async fn retries_take_the_next_answer_with_the_same_key() {
    let script = Script::new();
    script
        .on_create_invite(Err(testing::status(Code::Unavailable, "down").into_error()))
        .on_create_invite(Err(testing::transport_error("reset", false)))
        .on_create_invite(Ok(testing::invite()));
    let client = script
        .client_with(
            Client::builder().retry_policy(RetryPolicy::default().with_jitter(Jitter::None)),
        )
        .unwrap();
    client.create_invite(ORG, "ada@example.com").await.unwrap();
    let keys: Vec<_> = script
        .requests()
        .into_iter()
        .map(|request| match request {
            Request::CreateInvite(create) => create.idempotency_key,
            other => panic!("expected a creation, got {other:?}"),
        })
        .collect();
    assert_eq!(keys.len(), 3);
    assert!(
        keys.iter().all(|key| key.is_some() && *key == keys[0]),
        "{keys:?}"
    );
}

/// A stream follows the scripted pages' tokens, and the requests say so.
#[tokio::test]
async fn a_stream_reads_scripted_pages_in_order() {
    let script = Script::new();
    let mut second = testing::invite();
    second.email = "bob@example.com".into();
    script
        .on_list_invites(Ok(testing::page(vec![testing::invite()], Some("page-2"))))
        .on_list_invites(Ok(testing::page(vec![second], None)));
    let emails: Vec<String> = script
        .client()
        .list_invites(ORG)
        .status(InviteStatus::Pending)
        .page_size(1)
        .into_stream()
        .map_ok(|invite| invite.email)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(emails, ["ada@example.com", "bob@example.com"]);
    let tokens: Vec<_> = script
        .requests()
        .into_iter()
        .map(|request| match request {
            Request::ListInvites(list) => {
                assert_eq!(list.statuses, [InviteStatus::Pending]);
                assert_eq!(list.page_size, Some(1));
                list.page_token
            }
            other => panic!("expected a list, got {other:?}"),
        })
        .collect();
    assert_eq!(tokens, [None, Some("page-2".to_owned())]);
}

/// A malformed answer is read as strictly as one from the network.
#[tokio::test]
async fn a_scripted_answer_is_checked_like_a_real_one() {
    let script = Script::new();
    let mut broken = testing::invite();
    broken.sender.name.clear();
    script.on_create_invite(Ok(broken));
    let err = script
        .client()
        .create_invite(ORG, "ada@example.com")
        .await
        .unwrap_err();
    assert_eq!(err.param(), Some("invite.sender.name"));
    assert!(err.idempotency_key().is_some());
}
