//! Every method's success path over real loopback TCP against the reference
//! server, and the whole invitation lifecycle end to end: create, dedupe,
//! list, resend, revoke, accept.

mod common;

use common::start_server;
use factify_invites::{InviteStatus, UserType};
use factify_invites_server::{EmailKind, Method, Permissions};
use futures::TryStreamExt;

async fn create_returns_a_pending_invite_and_sends_one_email() {
    let env = start_server().await;
    let org = &env.fixture.organization;

    let invite = env
        .client
        .create_invite(org, "bob@example.com")
        .message("Welcome to Acme")
        .await
        .unwrap();

    assert_eq!(invite.organization_id, *org);
    assert_eq!(invite.email, "bob@example.com");
    assert_eq!(invite.status, InviteStatus::Pending);
    assert_eq!(invite.sender.id, env.fixture.admin);
    assert_eq!(invite.sender.user_type, UserType::UserAccount);
    assert_eq!(invite.message.as_deref(), Some("Welcome to Acme"));
    assert_eq!((invite.expires_at - invite.created_at).num_days(), 7);
    assert!(invite.accepted.is_none());

    let emails = env.server.sent_emails();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].to, "bob@example.com");
    assert_eq!(emails[0].invite_id, invite.id);
    assert_eq!(emails[0].kind, EmailKind::Invitation);
}

async fn creating_again_for_a_pending_email_resends_instead_of_duplicating() {
    let env = start_server().await;
    let org = &env.fixture.organization;

    let first = env
        .client
        .create_invite(org, "carol@example.com")
        .await
        .unwrap();
    let second = env
        .client
        .create_invite(org, "CAROL@Example.com")
        .await
        .unwrap();

    assert_eq!(first.id, second.id);
    assert!(second.expires_at >= first.expires_at);
    let all: Vec<_> = env
        .client
        .list_invites(org)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    let emails = env.server.sent_emails();
    assert_eq!(emails.len(), 2);
    assert_eq!(emails[1].kind, EmailKind::Resend);
    assert_ne!(emails[0].token, emails[1].token);
}

async fn idempotency_key_replays_the_original_without_a_second_email() {
    let env = start_server().await;
    let org = &env.fixture.organization;

    let first = env
        .client
        .create_invite(org, "dan@example.com")
        .idempotency_key("signup-42")
        .await
        .unwrap();
    let replay = env
        .client
        .create_invite(org, "dan@example.com")
        .idempotency_key("signup-42")
        .await
        .unwrap();

    assert_eq!(first, replay);
    assert_eq!(env.server.sent_emails().len(), 1);
}

async fn resend_refreshes_the_token_and_revoke_ends_it() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    let invite = env
        .client
        .create_invite(org, "erin@example.com")
        .await
        .unwrap();

    let resent = env.client.resend_invite(org, &invite.id).await.unwrap();
    assert_eq!(resent.id, invite.id);
    assert_eq!(resent.status, InviteStatus::Pending);
    assert_eq!(env.server.sent_emails().len(), 2);

    let revoked = env.client.revoke_invite(org, &invite.id).await.unwrap();
    assert_eq!(revoked.status, InviteStatus::Revoked);
    assert_eq!(env.server.call_count(Method::Revoke), 1);
}

async fn create_accept_and_list_end_to_end() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    let (frank, frank_client) = env
        .outsider("Frank", "frank@example.com", Permissions::NONE)
        .await;

    let invite = env
        .client
        .create_invite(org, "frank@example.com")
        .await
        .unwrap();
    let email = env
        .server
        .last_email_to("frank@example.com")
        .expect("an email was sent");
    assert_eq!(email.invite_id, invite.id);

    let joined = frank_client.accept_invite(org, &email.token).await.unwrap();
    assert_eq!(joined.id, *org);
    assert_eq!(joined.name, "Acme");

    let accepted: Vec<_> = env
        .client
        .list_invites(org)
        .status(InviteStatus::Accepted)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(accepted.len(), 1);
    let acceptance = accepted[0]
        .accepted
        .as_ref()
        .expect("accepted_at and accepted_by");
    assert_eq!(acceptance.by.id, frank);
    assert!(acceptance.at >= accepted[0].created_at);

    // Now a member: inviting Frank again is a failed precondition.
    let again = env.client.create_invite(org, "frank@example.com").await;
    assert!(
        matches!(again, Err(factify_invites::Error::FailedPrecondition(_))),
        "{again:?}"
    );
}

async fn per_call_metadata_and_timeout_are_accepted() {
    let env = start_server().await;
    let invite = env
        .client
        .create_invite(&env.fixture.organization, "gina@example.com")
        .metadata("x-trace-id", "abc123")
        .timeout(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(invite.email, "gina@example.com");
}

#[tokio::test]
async fn in_memory_channel_serves_without_a_socket() {
    let server = factify_invites_server::ReferenceServer::new();
    let fixture = server.fixture();
    let channel = server.in_memory_channel().await.unwrap();
    let client = factify_invites::Client::builder()
        .api_key(&fixture.admin_key)
        .build_with_channel(channel)
        .unwrap();

    let invite = client
        .create_invite(&fixture.organization, "hal@example.com")
        .await
        .unwrap();
    let page = client.list_invites(&fixture.organization).await.unwrap();
    assert_eq!(page.items, vec![invite]);
    assert!(!page.has_more());
}

async fn clones_share_one_client_and_run_concurrently() {
    let env = start_server().await;
    let org = env.fixture.organization.clone();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let client = env.client.clone();
            let org = org.clone();
            tokio::spawn(async move {
                client
                    .create_invite(&org, format!("user{i}@example.com"))
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(env.server.call_count(Method::Create), 20);
    let page = env.client.list_invites(&org).page_size(100).await.unwrap();
    assert_eq!(page.items.len(), 20);
}

common::each_protocol!(
    create_returns_a_pending_invite_and_sends_one_email,
    creating_again_for_a_pending_email_resends_instead_of_duplicating,
    idempotency_key_replays_the_original_without_a_second_email,
    resend_refreshes_the_token_and_revoke_ends_it,
    create_accept_and_list_end_to_end,
    per_call_metadata_and_timeout_are_accepted,
    clones_share_one_client_and_run_concurrently,
);
