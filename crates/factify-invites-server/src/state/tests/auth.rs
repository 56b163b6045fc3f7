//! Authentication, permissions and the order of the checks.

use super::*;

#[test]
fn authentication() {
    let w = world();
    let key = &w.admin.key;
    for header in [None, Some(""), Some("Bearer"), Some("Bearer   ")] {
        let error = w.state.authenticate(header).unwrap_err();
        assert_eq!(
            (error.code, error.reason),
            (Code::Unauthenticated, "missing_api_key"),
            "{header:?}"
        );
    }
    for header in [
        "Bearer ffy_unknown".to_owned(),
        format!("Basic {key}"),
        key.clone(),
        "\u{0}".to_owned(),
    ] {
        let error = w.state.authenticate(Some(&header)).unwrap_err();
        assert_eq!(
            (error.code, error.reason),
            (Code::Unauthenticated, "invalid_api_key"),
            "{header:?}"
        );
    }
    let caller = w
        .state
        .authenticate(Some(&format!("bearer {key}")))
        .unwrap();
    assert_eq!(caller.account.id, w.admin_id);
}

#[test]
fn permissions_membership_and_check_order() {
    let mut w = world();
    let nobody = w.account("n@example.com", Permissions::NONE, true);
    let inviter = w.account("i@example.com", Permissions::INVITE_ONLY, true);
    let outsider = w.account("o@example.com", Permissions::ALL, false);
    let now = w.now();
    let req = w.create_req("bob@example.com");
    let denied = (Code::PermissionDenied, "insufficient_permissions");

    assert_eq!(reason(w.state.create(now, &nobody, &req)), denied);
    // The key's permission comes before field validation.
    let bad = proto::CreateOrganizationInviteRequest {
        organization_id: "nope".into(),
        ..req.clone()
    };
    assert_eq!(reason(w.state.create(now, &nobody, &bad)), denied);
    let list = proto::ListOrganizationInvitesRequest {
        organization_id: w.org.to_string(),
        ..Default::default()
    };
    assert_eq!(reason(w.state.list(now, &nobody, &list)), denied);
    assert!(w.state.list(now, &inviter, &list).is_ok());
    assert_eq!(reason(w.state.create(now, &outsider, &req)), denied);
    let invite = w.state.create(now, &inviter, &req).unwrap();
    assert_eq!(
        invite.sender.as_ref().unwrap().id,
        inviter.account.id.to_string()
    );
    let revoke = proto::RevokeOrganizationInviteRequest {
        organization_id: w.org.to_string(),
        invite_id: invite.id.clone(),
    };
    assert_eq!(reason(w.state.revoke(now, &inviter, &revoke)), denied);
    let resend = w.target(&invite.id);
    assert_eq!(reason(w.state.resend(now, &nobody, &resend)), denied);
    assert!(w.state.resend(now, &inviter, &resend).is_ok());

    // Field validation, then existence.
    let unknown_org = proto::CreateOrganizationInviteRequest {
        organization_id: "org_01h2xcejqtf2nbrexx3vqjhp41".into(),
        ..req.clone()
    };
    assert_eq!(
        reason(w.state.create(now, &w.admin, &unknown_org)),
        (Code::NotFound, "resource_not_found")
    );
    let both_bad = proto::CreateOrganizationInviteRequest {
        email: "bad".into(),
        ..unknown_org
    };
    assert_eq!(
        reason(w.state.create(now, &w.admin, &both_bad)),
        (Code::InvalidArgument, "invalid_field_value")
    );
}
