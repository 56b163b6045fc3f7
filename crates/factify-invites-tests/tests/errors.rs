//! Every error case of the SPEC, over loopback against the reference server,
//! mapped to its `Error` variant with its reason, param and request ID.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{start_server, start_with};
use factify_invites::retry::RetryPolicy;
use factify_invites::{Error, InviteStatus, Reason};
use factify_invites_server::{ManualClock, Permissions, RateLimits, ReferenceServer};

/// Asserts the parts every server error must carry.
fn assert_detail(error: &Error, reason: Reason, param: Option<&str>) {
    assert_eq!(error.reason(), Some(&reason), "{error}");
    assert_eq!(error.param(), param, "{error}");
    let request_id = error.request_id().expect("a request id");
    assert!(
        request_id.starts_with("req_") && request_id.len() == 30,
        "{request_id}"
    );
    let line = error.to_string();
    assert!(
        line.contains(reason.as_str()) && line.contains(request_id),
        "{line}"
    );
}

async fn inviting_a_member_is_failed_precondition() {
    let env = start_server().await;
    let err = env
        .client
        .create_invite(&env.fixture.organization, &env.fixture.admin_email)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err:?}");
    assert_detail(&err, Reason::PreconditionFailed, None);
}

async fn resend_and_revoke_refuse_revoked_invites() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    let invite = env
        .client
        .create_invite(org, "ivy@example.com")
        .await
        .unwrap();
    env.client.revoke_invite(org, &invite.id).await.unwrap();

    let resend = env.client.resend_invite(org, &invite.id).await.unwrap_err();
    assert!(matches!(resend, Error::FailedPrecondition(_)), "{resend:?}");
    assert_detail(&resend, Reason::PreconditionFailed, None);

    let revoke = env.client.revoke_invite(org, &invite.id).await.unwrap_err();
    assert!(matches!(revoke, Error::FailedPrecondition(_)), "{revoke:?}");
}

async fn missing_and_unknown_keys_are_unauthenticated() {
    let env = start_server().await;
    let org = &env.fixture.organization;

    let anonymous = common::builder(&env.running.endpoint())
        .connect()
        .await
        .unwrap();
    let err = anonymous.list_invites(org).await.unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)), "{err:?}");
    assert_detail(&err, Reason::MissingApiKey, None);

    let stranger = env.client_with_key("ffy_not_a_key_of_this_server").await;
    let err = stranger.list_invites(org).await.unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)), "{err:?}");
    assert_detail(&err, Reason::InvalidApiKey, None);
}

async fn keys_without_the_permission_are_denied() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    let invite = env
        .client
        .create_invite(org, "jay@example.com")
        .await
        .unwrap();

    let reader = env.server.add_user("Reader", "reader@acme.test");
    env.server.add_member(org, &reader);
    let no_perms = env
        .client_with_key(&env.server.add_api_key(&reader, Permissions::NONE))
        .await;
    let err = no_perms
        .create_invite(org, "kim@example.com")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
    assert_detail(&err, Reason::InsufficientPermissions, None);

    // Inviting does not allow revoking: that needs permission to manage members.
    let inviter = env
        .client_with_key(&env.server.add_api_key(&reader, Permissions::INVITE_ONLY))
        .await;
    inviter.resend_invite(org, &invite.id).await.unwrap();
    let err = inviter.revoke_invite(org, &invite.id).await.unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
}

async fn accepting_with_another_email_is_denied() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    env.client
        .create_invite(org, "lee@example.com")
        .await
        .unwrap();
    let token = env.server.last_email_to("lee@example.com").unwrap().token;

    let (_, mallory) = env
        .outsider("Mallory", "mallory@example.com", Permissions::NONE)
        .await;
    let err = mallory.accept_invite(org, &token).await.unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
    assert_detail(&err, Reason::InsufficientPermissions, None);
}

async fn accepting_as_a_member_already_is_failed_precondition() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    let (lee, lee_client) = env
        .outsider("Lee", "lee@example.com", Permissions::NONE)
        .await;
    env.client
        .create_invite(org, "lee@example.com")
        .await
        .unwrap();
    let token = env.server.last_email_to("lee@example.com").unwrap().token;
    env.server.add_member(org, &lee);

    let err = lee_client.accept_invite(org, &token).await.unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err:?}");
    assert_detail(&err, Reason::PreconditionFailed, None);
}

async fn unknown_organizations_invites_and_tokens_are_not_found() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    let unknown_org = "org_01h2xcejqtf2nbrexx3vqjhp99";

    let err = env.client.list_invites(unknown_org).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_detail(&err, Reason::ResourceNotFound, None);

    let err = env
        .client
        .revoke_invite(org, "inv_01h2xcejqtf2nbrexx3vqjhp99")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");

    // An invitation of another organization is not found in this one.
    let other_org = env.server.add_organization("Globex");
    env.server.add_member(&other_org, &env.fixture.admin);
    let elsewhere = env
        .client
        .create_invite(&other_org, "max@example.com")
        .await
        .unwrap();
    let err = env
        .client
        .resend_invite(org, &elsewhere.id)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");

    let (_, max) = env
        .outsider("Max", "max@example.com", Permissions::NONE)
        .await;
    let err = max.accept_invite(org, "no-such-token").await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

async fn revoked_and_expired_tokens_are_not_found_and_expiry_reads_as_expired() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let env = start_with(ReferenceServer::with_clock(clock.clone())).await;
    let org = &env.fixture.organization;
    let (_, nia) = env
        .outsider("Nia", "nia@example.com", Permissions::NONE)
        .await;

    let revoked = env
        .client
        .create_invite(org, "nia@example.com")
        .await
        .unwrap();
    let revoked_token = env.server.last_email_to("nia@example.com").unwrap().token;
    env.client.revoke_invite(org, &revoked.id).await.unwrap();
    let err = nia.accept_invite(org, &revoked_token).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");

    let expiring = env
        .client
        .create_invite(org, "nia@example.com")
        .await
        .unwrap();
    assert_ne!(
        expiring.id, revoked.id,
        "a revoked invitation is not reused"
    );
    let token = env.server.last_email_to("nia@example.com").unwrap().token;
    clock.advance_std(Duration::from_secs(7 * 24 * 3600 + 1));

    let err = nia.accept_invite(org, &token).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let expired = env
        .client
        .list_invites(org)
        .status(InviteStatus::Expired)
        .await
        .unwrap();
    assert_eq!(expired.items.len(), 1);
    assert_eq!(expired.items[0].id, expiring.id);

    // Revoking an expired invitation is refused; resending revives it.
    let err = env
        .client
        .revoke_invite(org, &expiring.id)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err:?}");
    let revived = env.client.resend_invite(org, &expiring.id).await.unwrap();
    assert_eq!(revived.status, InviteStatus::Pending);
    let fresh = env.server.last_email_to("nia@example.com").unwrap().token;
    nia.accept_invite(org, &fresh).await.unwrap();
}

async fn server_side_validation_names_the_field() {
    let env = start_server().await;
    let org = &env.fixture.organization;

    // A status this client can express but the server does not know.
    let err = env
        .client
        .list_invites(org)
        .status(InviteStatus::Unknown(
            factify_invites::UnknownValue::number(99),
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    assert_detail(&err, Reason::InvalidEnumValue, Some("status"));

    // A page token the server never issued.
    let err = env
        .client
        .list_invites(org)
        .page(Some("forged"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    assert_detail(&err, Reason::InvalidCursor, Some("page_token"));

    // The same idempotency key for another request.
    env.client
        .create_invite(org, "oz@example.com")
        .idempotency_key("k1")
        .await
        .unwrap();
    let err = env
        .client
        .create_invite(org, "pat@example.com")
        .idempotency_key("k1")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    assert_detail(&err, Reason::InvalidFieldValue, Some("idempotency_key"));
}

async fn a_token_used_with_other_filters_is_an_invalid_cursor() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    for i in 0..3 {
        env.client
            .create_invite(org, format!("q{i}@example.com"))
            .await
            .unwrap();
    }
    let first = env.client.list_invites(org).page_size(1).await.unwrap();
    let token = first.next_page_token.expect("more pages");
    let err = env
        .client
        .list_invites(org)
        .page_size(1)
        .email_contains("q1")
        .page(Some(&token))
        .await
        .unwrap_err();
    assert_detail(&err, Reason::InvalidCursor, Some("page_token"));
}

async fn rate_limits_are_resource_exhausted_with_retry_info() {
    let server = ReferenceServer::new().with_rate_limits(RateLimits {
        requests_per_minute: 1000,
        creates_per_minute: 2,
    });
    let env = start_with(server).await;
    let org = &env.fixture.organization;
    env.client
        .create_invite(org, "r1@example.com")
        .await
        .unwrap();
    env.client
        .create_invite(org, "r2@example.com")
        .await
        .unwrap();

    // With retries off, the server's answer comes back as it is.
    let err = env
        .client
        .create_invite(org, "r3@example.com")
        .retry_policy(RetryPolicy::disabled())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ResourceExhausted(_)), "{err:?}");
    assert_detail(&err, Reason::RateLimitExceeded, None);
    let wait = err.retry_after().expect("RetryInfo");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    assert!(err.is_retryable());
    // Reads are under the general limit, still open.
    env.client.list_invites(org).await.unwrap();
}

common::each_protocol!(
    inviting_a_member_is_failed_precondition,
    resend_and_revoke_refuse_revoked_invites,
    missing_and_unknown_keys_are_unauthenticated,
    keys_without_the_permission_are_denied,
    accepting_with_another_email_is_denied,
    accepting_as_a_member_already_is_failed_precondition,
    unknown_organizations_invites_and_tokens_are_not_found,
    revoked_and_expired_tokens_are_not_found_and_expiry_reads_as_expired,
    server_side_validation_names_the_field,
    a_token_used_with_other_filters_is_an_invalid_cursor,
    rate_limits_are_resource_exhausted_with_retry_info,
);
