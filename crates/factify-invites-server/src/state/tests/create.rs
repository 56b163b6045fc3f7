//! Creation: the email, members refused, dedupe, expiry, idempotency keys.

use super::*;

#[test]
fn create_records_an_invitation_email() {
    let mut w = world();
    let invite = w.create("Bob@Example.com").unwrap();
    assert!(InviteId::parse(&invite.id).is_ok());
    assert_eq!(invite.organization_id, w.org.to_string());
    assert_eq!(invite.email, "Bob@Example.com");
    assert_eq!(status(&invite), Status::Pending);
    assert_eq!(time(&invite.created_at), w.now());
    assert_eq!(time(&invite.expires_at), w.now() + TimeDelta::days(7));
    assert_eq!(invite.accepted_at, None);
    let sender = invite.sender.unwrap();
    assert_eq!(sender.id, w.admin_id.to_string());
    assert_eq!(sender.r#type, proto::UserType::UserAccount as i32);
    assert_eq!(
        (sender.name.as_str(), sender.email.as_str()),
        ("Ada Admin", "admin@acme.example")
    );
    let emails = w.state.sent_emails();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].kind, EmailKind::Invitation);
    assert_eq!(emails[0].to, "Bob@Example.com");
    assert_eq!(emails[0].invite_id.to_string(), invite.id);
}

#[test]
fn create_refuses_members_and_dedupes_pending() {
    let mut w = world();
    assert_eq!(
        reason(w.create("ADMIN@acme.example")),
        (Code::FailedPrecondition, "precondition_failed")
    );

    let first = w.create("bob@example.com").unwrap();
    let first_token = w.last_token();
    w.clock.advance(TimeDelta::days(2));
    let again = w.create("BOB@example.COM").unwrap();
    assert_eq!(again.id, first.id, "no duplicate");
    assert_eq!(again.email, "bob@example.com");
    assert_eq!(
        time(&again.expires_at),
        w.now() + TimeDelta::days(7),
        "expiry refreshed"
    );
    assert_eq!(w.state.sent_emails().len(), 2);
    assert_eq!(w.state.sent_emails()[1].kind, EmailKind::Resend);
    assert_ne!(w.last_token(), first_token);
    assert_eq!(w.state.invites_of(&w.org, w.now()).len(), 1);

    // The superseded token no longer works; the new one does.
    let bob = w.account("bob@example.com", Permissions::NONE, false);
    assert_eq!(
        reason(w.accept(&bob, &first_token)),
        (Code::NotFound, "resource_not_found")
    );
    let token = w.last_token();
    assert!(w.accept(&bob, &token).is_ok());
}

#[test]
fn expiry_reads_as_expired_and_create_starts_anew() {
    let mut w = world();
    let invite = w.create("bob@example.com").unwrap();
    let token = w.last_token();
    w.clock
        .advance(TimeDelta::days(7) - TimeDelta::nanoseconds(1));
    assert_eq!(
        status(&w.state.invites_of(&w.org, w.now())[0]),
        Status::Pending
    );
    w.clock.advance(TimeDelta::nanoseconds(1));
    assert_eq!(
        status(&w.state.invites_of(&w.org, w.now())[0]),
        Status::Expired
    );
    let pending_only = proto::ListOrganizationInvitesRequest {
        status: vec![Status::Pending as i32],
        ..Default::default()
    };
    assert!(w.list(pending_only.clone()).unwrap().items.is_empty());

    let bob = w.account("bob@example.com", Permissions::NONE, false);
    assert_eq!(
        reason(w.accept(&bob, &token)),
        (Code::NotFound, "resource_not_found")
    );
    assert_eq!(
        reason(w.revoke(&invite.id)),
        (Code::FailedPrecondition, "precondition_failed")
    );

    let fresh = w.create("bob@example.com").unwrap();
    assert_ne!(fresh.id, invite.id, "an expired invitation is ignored");
    assert_eq!(w.list(pending_only).unwrap().items.len(), 1);
    assert_eq!(
        w.state.sent_emails().last().unwrap().kind,
        EmailKind::Invitation
    );
}

#[test]
fn idempotency_replays_refuses_mismatch_and_forgets_after_a_day() {
    let mut w = world();
    let req = proto::CreateOrganizationInviteRequest {
        idempotency_key: Some("key-1".into()),
        message: Some("Welcome".into()),
        ..w.create_req("bob@example.com")
    };
    let admin = w.admin.clone();
    let first = w.state.create(w.now(), &admin, &req).unwrap();
    w.clock.advance(TimeDelta::hours(23));
    let replay = w.state.create(w.now(), &admin, &req).unwrap();
    assert_eq!(replay, first, "the original response");
    assert_eq!(w.state.sent_emails().len(), 1, "no second email");

    let other_email = proto::CreateOrganizationInviteRequest {
        email: "carol@example.com".into(),
        ..req.clone()
    };
    let error = w.state.create(w.now(), &admin, &other_email).unwrap_err();
    assert_eq!(
        (error.reason, error.param),
        ("invalid_field_value", Some("idempotency_key"))
    );
    let other_message = proto::CreateOrganizationInviteRequest {
        message: None,
        ..req.clone()
    };
    assert!(w.state.create(w.now(), &admin, &other_message).is_err());

    // Another account's key space is separate.
    let other_admin = w.account("second@acme.example", Permissions::ALL, true);
    w.state.create(w.now(), &other_admin, &other_email).unwrap();

    // After 24 hours the key is forgotten: the pending invite is resent.
    w.clock.advance(TimeDelta::hours(1));
    let later = w.state.create(w.now(), &admin, &req).unwrap();
    assert_eq!(later.id, first.id);
    assert_ne!(later.expires_at, first.expires_at);
    assert_eq!(w.state.sent_emails().len(), 3);
    assert_eq!(w.state.sent_emails()[2].kind, EmailKind::Resend);
}
