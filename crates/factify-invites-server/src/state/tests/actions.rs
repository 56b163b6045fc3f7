//! Resend and revoke.

use super::*;

#[test]
fn resend_serves_pending_and_expired_only() {
    let mut w = world();
    let invite = w.create("bob@example.com").unwrap();
    let old_token = w.last_token();
    w.clock.advance(TimeDelta::days(10));
    let resent = w.resend(&invite.id).unwrap();
    assert_eq!(status(&resent), Status::Pending, "expired becomes pending");
    assert_eq!(time(&resent.expires_at), w.now() + TimeDelta::days(7));
    assert_eq!(
        w.state.sent_emails().last().unwrap().kind,
        EmailKind::Resend
    );
    assert_ne!(w.last_token(), old_token);
    assert!(w.resend(&invite.id).is_ok(), "pending can be resent");

    w.revoke(&invite.id).unwrap();
    assert_eq!(
        reason(w.resend(&invite.id)),
        (Code::FailedPrecondition, "precondition_failed")
    );

    w.create("carol@example.com").unwrap();
    let carol_invite = w.state.sent_emails().last().unwrap().invite_id.to_string();
    let carol = w.account("carol@example.com", Permissions::NONE, false);
    let token = w.last_token();
    w.accept(&carol, &token).unwrap();
    assert_eq!(
        reason(w.resend(&carol_invite)),
        (Code::FailedPrecondition, "precondition_failed")
    );

    // Unknown, or of another organization: not found.
    assert_eq!(
        reason(w.resend("inv_01h2xcejqtf2nbrexx3vqjhp42")),
        (Code::NotFound, "resource_not_found")
    );
    let other = w.state.add_organization(w.now(), "Other");
    w.state.add_member(&other, &w.admin_id);
    let req = proto::ResendOrganizationInviteRequest {
        organization_id: other.to_string(),
        invite_id: invite.id.clone(),
    };
    let (now, admin) = (w.now(), w.admin.clone());
    assert_eq!(
        reason(w.state.resend(now, &admin, &req)),
        (Code::NotFound, "resource_not_found")
    );
    let bad = proto::ResendOrganizationInviteRequest {
        invite_id: "inv_x".into(),
        ..req
    };
    let error = w.state.resend(now, &admin, &bad).unwrap_err();
    assert_eq!(
        (error.reason, error.param),
        ("invalid_id_format", Some("invite_id"))
    );
}

#[test]
fn revoke_only_pending() {
    let mut w = world();
    let invite = w.create("bob@example.com").unwrap();
    let token = w.last_token();
    let revoked = w.revoke(&invite.id).unwrap();
    assert_eq!(status(&revoked), Status::Revoked);
    assert_eq!(
        reason(w.revoke(&invite.id)),
        (Code::FailedPrecondition, "precondition_failed")
    );
    let bob = w.account("bob@example.com", Permissions::NONE, false);
    assert_eq!(
        reason(w.accept(&bob, &token)),
        (Code::NotFound, "resource_not_found")
    );
    // A revoked invitation is ignored by create.
    let fresh = w.create("bob@example.com").unwrap();
    assert_ne!(fresh.id, invite.id);
    let token = w.last_token();
    w.accept(&bob, &token).unwrap();
    assert_eq!(
        reason(w.revoke(&fresh.id)),
        (Code::FailedPrecondition, "precondition_failed")
    );
}
