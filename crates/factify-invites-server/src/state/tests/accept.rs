//! Accepting an invitation.

use super::*;

#[test]
fn accept_rules() {
    let mut w = world();
    let invite = w.create("Bob@Example.com").unwrap();
    let token = w.last_token();
    let not_found = (Code::NotFound, "resource_not_found");

    // Someone else's account.
    let eve = w.account("eve@example.com", Permissions::ALL, false);
    assert_eq!(
        reason(w.accept(&eve, &token)),
        (Code::PermissionDenied, "insufficient_permissions")
    );
    // Unknown token, wrong organization, unknown organization.
    let bob = w.account("bob@example.com", Permissions::NONE, false);
    assert_eq!(reason(w.accept(&bob, "nope")), not_found);
    let other = w.state.add_organization(w.now(), "Other");
    for org in [other.to_string(), "org_01h2xcejqtf2nbrexx3vqjhp41".into()] {
        let req = proto::AcceptOrganizationInviteRequest {
            organization_id: org,
            token: token.clone(),
        };
        assert_eq!(reason(w.state.accept(w.now(), &bob, &req)), not_found);
    }
    let error = w.accept(&bob, "").unwrap_err();
    assert_eq!(
        (error.reason, error.param),
        ("invalid_field_value", Some("token"))
    );

    // Success: the email matches case-insensitively; no permission needed.
    w.clock.advance(TimeDelta::hours(1));
    let organization = w.accept(&bob, &token).unwrap();
    assert_eq!(organization.id, w.org.to_string());
    assert_eq!(organization.name, "Acme");
    assert_eq!(time(&organization.created_at), start());
    let shown = w.state.invites_of(&w.org, w.now()).remove(0);
    assert_eq!(shown.id, invite.id);
    assert_eq!(status(&shown), Status::Accepted);
    assert_eq!(time(&shown.accepted_at), w.now());
    assert_eq!(shown.accepted_by.unwrap().id, bob.account.id.to_string());
    // Bob is a member now: he can be refused as one, and the token is used.
    assert_eq!(
        reason(w.create("bob@example.com")),
        (Code::FailedPrecondition, "precondition_failed")
    );
    assert_eq!(reason(w.accept(&bob, &token)), not_found);
    // Bob can list, once given a key with permissions.
    let bob_key = w
        .state
        .add_api_key(&bob.account.id, Permissions::INVITE_ONLY);
    let bob_lister = w
        .state
        .authenticate(Some(&format!("Bearer {bob_key}")))
        .unwrap();
    let req = proto::ListOrganizationInvitesRequest {
        organization_id: w.org.to_string(),
        ..Default::default()
    };
    assert!(w.state.list(w.now(), &bob_lister, &req).is_ok());
}

#[test]
fn accept_by_a_member_already_is_a_precondition_failure() {
    let mut w = world();
    w.create("carol@example.com").unwrap();
    let token = w.last_token();
    let carol = w.account("carol@example.com", Permissions::NONE, true);
    assert_eq!(
        reason(w.accept(&carol, &token)),
        (Code::FailedPrecondition, "precondition_failed")
    );
}
