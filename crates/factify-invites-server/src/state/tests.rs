//! The store's rules, driven directly with a [`ManualClock`]: no tonic.

use std::collections::HashSet;

use chrono::{TimeDelta, TimeZone};
use tonic::Code;

use super::*;
use crate::clock::ManualClock;

/// A store with an organization, an admin member (all permissions) and a
/// clock.
struct World {
    state: State,
    clock: ManualClock,
    org: OrganizationId,
    admin_id: UserId,
    admin: Caller,
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0).unwrap()
}

fn world() -> World {
    let clock = ManualClock::new(start());
    let mut state = State::new();
    let org = state.add_organization(clock.now(), "Acme");
    let admin_id = state.add_account(clock.now(), "user", "Ada Admin", "admin@acme.example");
    assert!(state.add_member(&org, &admin_id));
    let key = state.add_api_key(&admin_id, Permissions::ALL);
    let admin = state.authenticate(Some(&format!("Bearer {key}"))).unwrap();
    World {
        state,
        clock,
        org,
        admin_id,
        admin,
    }
}

impl World {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A new account with a key of `permissions`, optionally a member.
    fn account(&mut self, email: &str, permissions: Permissions, member: bool) -> Caller {
        let id = self.state.add_account(self.now(), "user", "Someone", email);
        if member {
            self.state.add_member(&self.org, &id);
        }
        let key = self.state.add_api_key(&id, permissions);
        self.state
            .authenticate(Some(&format!("Bearer {key}")))
            .unwrap()
    }

    fn create_req(&self, email: &str) -> proto::CreateOrganizationInviteRequest {
        proto::CreateOrganizationInviteRequest {
            organization_id: self.org.to_string(),
            email: email.into(),
            ..Default::default()
        }
    }

    fn create(&mut self, email: &str) -> Result<proto::OrganizationInvite, ApiError> {
        let req = self.create_req(email);
        let (now, admin) = (self.now(), self.admin.clone());
        self.state.create(now, &admin, &req)
    }

    fn target(&self, invite: &str) -> proto::ResendOrganizationInviteRequest {
        proto::ResendOrganizationInviteRequest {
            organization_id: self.org.to_string(),
            invite_id: invite.into(),
        }
    }

    fn resend(&mut self, invite: &str) -> Result<proto::OrganizationInvite, ApiError> {
        let req = self.target(invite);
        let (now, admin) = (self.now(), self.admin.clone());
        self.state.resend(now, &admin, &req)
    }

    fn revoke(&mut self, invite: &str) -> Result<proto::OrganizationInvite, ApiError> {
        let req = proto::RevokeOrganizationInviteRequest {
            organization_id: self.org.to_string(),
            invite_id: invite.into(),
        };
        let (now, admin) = (self.now(), self.admin.clone());
        self.state.revoke(now, &admin, &req)
    }

    fn accept(&mut self, caller: &Caller, token: &str) -> Result<proto::Organization, ApiError> {
        let req = proto::AcceptOrganizationInviteRequest {
            organization_id: self.org.to_string(),
            token: token.into(),
        };
        let now = self.now();
        self.state.accept(now, caller, &req)
    }

    fn list(
        &self,
        req: proto::ListOrganizationInvitesRequest,
    ) -> Result<proto::ListOrganizationInvitesResponse, ApiError> {
        let req = proto::ListOrganizationInvitesRequest {
            organization_id: self.org.to_string(),
            ..req
        };
        self.state.list(self.now(), &self.admin, &req)
    }

    fn last_token(&self) -> String {
        self.state.sent_emails().last().unwrap().token.clone()
    }
}

fn reason(result: Result<impl std::fmt::Debug, ApiError>) -> (Code, &'static str) {
    let error = result.unwrap_err();
    (error.code, error.reason)
}

fn status(invite: &proto::OrganizationInvite) -> Status {
    Status::try_from(invite.status).unwrap()
}

fn time(invite_time: &Option<prost_types::Timestamp>) -> DateTime<Utc> {
    let t = invite_time.as_ref().unwrap();
    DateTime::from_timestamp(t.seconds, t.nanos as u32).unwrap()
}

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

/// Seeds `count` invitations, several per instant, so that ties on
/// `created_at` are broken by ID.
fn seed_many(w: &mut World, count: usize) -> Vec<String> {
    for i in 0..count {
        let at = start() + TimeDelta::seconds((i / 3) as i64);
        w.state
            .seed_invite(&w.org, &format!("user{i}@example.com"), &w.admin_id, at)
            .unwrap();
    }
    w.state
        .invites_of(&w.org, w.now())
        .into_iter()
        .map(|invite| invite.id)
        .collect()
}

fn page(w: &World, size: i32, token: &str) -> proto::ListOrganizationInvitesResponse {
    w.list(proto::ListOrganizationInvitesRequest {
        page_size: size,
        page_token: token.into(),
        ..Default::default()
    })
    .unwrap()
}

fn ids(response: &proto::ListOrganizationInvitesResponse) -> Vec<String> {
    response.items.iter().map(|i| i.id.clone()).collect()
}

#[test]
fn pagination_forward_visits_everything_once_newest_first() {
    let mut w = world();
    let all = seed_many(&mut w, 1000);
    // invites_of is the reference order: check it is newest first.
    let shown = w.state.invites_of(&w.org, w.now());
    assert!(shown.windows(2).all(|pair| {
        (time(&pair[0].created_at), &pair[0].id) > (time(&pair[1].created_at), &pair[1].id)
    }));

    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let response = page(&w, 7, &token);
        let pagination = response.pagination.clone().unwrap();
        assert_eq!(pagination.prev_page_token.is_empty(), pages == 0);
        assert_eq!(pagination.has_more, !pagination.next_page_token.is_empty());
        seen.extend(ids(&response));
        pages += 1;
        if !pagination.has_more {
            break;
        }
        assert_eq!(response.items.len(), 7);
        token = pagination.next_page_token;
    }
    assert_eq!(pages, 143);
    assert_eq!(seen, all, "no duplicate, no gap, newest first");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 1000);
}

#[test]
fn pagination_backward_and_concurrent_inserts() {
    let mut w = world();
    let all = seed_many(&mut w, 30);
    let p1 = page(&w, 7, "");
    let p2 = page(&w, 7, &p1.pagination.unwrap().next_page_token);
    let p3 = page(&w, 7, &p2.pagination.clone().unwrap().next_page_token);
    assert_eq!(ids(&p3), all[14..21]);
    let back = page(&w, 7, &p3.pagination.unwrap().prev_page_token);
    assert_eq!(ids(&back), ids(&p2));
    let first = page(&w, 7, &back.pagination.clone().unwrap().prev_page_token);
    assert_eq!(ids(&first), all[..7]);
    let first_pagination = first.pagination.unwrap();
    assert!(
        first_pagination.prev_page_token.is_empty(),
        "back at the first page"
    );
    assert!(first_pagination.has_more);
    // Forward again from a page reached backwards.
    let again = page(&w, 7, &back.pagination.unwrap().next_page_token);
    assert_eq!(ids(&again), all[14..21]);
    // A different page size with the same filters is fine.
    assert_eq!(
        ids(&page(&w, 3, &first_pagination.next_page_token)),
        all[7..10]
    );

    // New invitations while paging do not disturb older pages.
    let p1 = page(&w, 10, "");
    for i in 0..5 {
        w.clock.advance(TimeDelta::minutes(1));
        w.create(&format!("new{i}@example.com")).unwrap();
    }
    let mut token = p1.pagination.unwrap().next_page_token;
    let mut rest = Vec::new();
    while !token.is_empty() {
        let response = page(&w, 10, &token);
        rest.extend(ids(&response));
        token = response.pagination.unwrap().next_page_token;
    }
    assert_eq!(rest, all[10..]);
    // The previous page of the second page now has newer items before it.
    let p2 = page(
        &w,
        10,
        &page(&w, 10, "").pagination.unwrap().next_page_token,
    );
    assert!(!p2.pagination.unwrap().prev_page_token.is_empty());
}

#[test]
fn an_empty_page_points_back_to_its_anchor() {
    let mut w = world();
    let all = seed_many(&mut w, 5);
    let pending = |token: &str| proto::ListOrganizationInvitesRequest {
        status: vec![Status::Pending as i32],
        page_size: 2,
        page_token: token.into(),
        ..Default::default()
    };
    let p1 = w.list(pending("")).unwrap();
    assert_eq!(ids(&p1), all[..2]);
    for id in &all[2..] {
        w.revoke(id).unwrap();
    }
    let next = p1.pagination.unwrap().next_page_token;
    let empty = w.list(pending(&next)).unwrap();
    assert!(empty.items.is_empty());
    let pagination = empty.pagination.unwrap();
    assert!(!pagination.has_more && pagination.next_page_token.is_empty());
    let back = w.list(pending(&pagination.prev_page_token)).unwrap();
    assert_eq!(ids(&back), all[..2], "the anchor itself is included");
}

#[test]
fn bad_page_tokens_are_invalid_cursor() {
    let mut w = world();
    seed_many(&mut w, 20);
    let token = page(&w, 5, "").pagination.unwrap().next_page_token;
    let cursor_error = |result: Result<proto::ListOrganizationInvitesResponse, ApiError>| {
        let error = result.unwrap_err();
        (error.code, error.reason, error.param)
    };
    let expected = (Code::InvalidArgument, "invalid_cursor", Some("page_token"));

    let mut tampered = token.clone().into_bytes();
    tampered[10] = if tampered[10] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(tampered).unwrap();
    for bad in [tampered.as_str(), "garbage", "ffff"] {
        let req = proto::ListOrganizationInvitesRequest {
            page_token: bad.into(),
            ..Default::default()
        };
        assert_eq!(cursor_error(w.list(req)), expected, "{bad}");
    }
    let other_filters = [
        proto::ListOrganizationInvitesRequest {
            status: vec![Status::Pending as i32],
            ..Default::default()
        },
        proto::ListOrganizationInvitesRequest {
            email: Some(proto::StringFilter {
                contains: "user1".into(),
                exact: String::new(),
            }),
            ..Default::default()
        },
        proto::ListOrganizationInvitesRequest {
            sender_id: Some(w.admin_id.to_string()),
            ..Default::default()
        },
    ];
    for filters in other_filters {
        let req = proto::ListOrganizationInvitesRequest {
            page_token: token.clone(),
            ..filters
        };
        assert_eq!(cursor_error(w.list(req)), expected);
    }
    // Another organization, even with the same filters.
    let other = w.state.add_organization(w.now(), "Other");
    w.state.add_member(&other, &w.admin_id);
    let req = proto::ListOrganizationInvitesRequest {
        organization_id: other.to_string(),
        page_token: token.clone(),
        ..Default::default()
    };
    assert_eq!(
        cursor_error(w.state.list(w.now(), &w.admin, &req)),
        expected
    );
    // Another server instance did not issue it.
    let mut other_world = world();
    seed_many(&mut other_world, 3);
    let req = proto::ListOrganizationInvitesRequest {
        page_token: token,
        ..Default::default()
    };
    assert_eq!(cursor_error(other_world.list(req)), expected);
}

#[test]
fn filters_apply_together() {
    let mut w = world();
    let second = w.account("second@acme.example", Permissions::ALL, true);
    let t0 = start();
    let seed = |w: &mut World, email: &str, sender: &UserId, minutes: i64| {
        w.state
            .seed_invite(&w.org, email, sender, t0 + TimeDelta::minutes(minutes))
            .unwrap()
            .to_string()
    };
    let admin = w.admin_id.clone();
    let ada = seed(&mut w, "Ada@Example.com", &admin, 0);
    let bob = seed(&mut w, "bob@example.com", &admin, 10);
    let cat = seed(&mut w, "cat@other.org", &second.account.id, 20);
    let dan = seed(&mut w, "dan@example.com", &second.account.id, 30);
    w.clock.set(t0 + TimeDelta::minutes(40));
    w.revoke(&bob).unwrap();

    let run = |w: &World, req: proto::ListOrganizationInvitesRequest| ids(&w.list(req).unwrap());
    let email = |contains: &str, exact: &str| {
        Some(proto::StringFilter {
            contains: contains.into(),
            exact: exact.into(),
        })
    };
    let ts = |minutes: i64| Some(to_timestamp(t0 + TimeDelta::minutes(minutes)));
    let cases: Vec<(proto::ListOrganizationInvitesRequest, Vec<&String>)> = vec![
        (Default::default(), vec![&dan, &cat, &bob, &ada]),
        (
            proto::ListOrganizationInvitesRequest {
                status: vec![Status::Revoked as i32],
                ..Default::default()
            },
            vec![&bob],
        ),
        (
            proto::ListOrganizationInvitesRequest {
                status: vec![Status::Pending as i32, Status::Revoked as i32],
                ..Default::default()
            },
            vec![&dan, &cat, &bob, &ada],
        ),
        (
            proto::ListOrganizationInvitesRequest {
                email: email("EXAMPLE.COM", ""),
                ..Default::default()
            },
            vec![&dan, &bob, &ada],
        ),
        (
            proto::ListOrganizationInvitesRequest {
                email: email("", "ada@example.com"),
                ..Default::default()
            },
            vec![],
        ),
        (
            proto::ListOrganizationInvitesRequest {
                email: email("", "Ada@Example.com"),
                ..Default::default()
            },
            vec![&ada],
        ),
        (
            proto::ListOrganizationInvitesRequest {
                email: email("bob", "Ada@Example.com"),
                ..Default::default()
            },
            vec![],
        ),
        (
            proto::ListOrganizationInvitesRequest {
                sender_id: Some(second.account.id.to_string()),
                ..Default::default()
            },
            vec![&dan, &cat],
        ),
        (
            proto::ListOrganizationInvitesRequest {
                created: Some(proto::TimeRange {
                    after: ts(10),
                    before: ts(20),
                }),
                ..Default::default()
            },
            vec![&cat, &bob],
        ),
        (
            proto::ListOrganizationInvitesRequest {
                created: Some(proto::TimeRange {
                    after: ts(10),
                    before: None,
                }),
                sender_id: Some(w.admin_id.to_string()),
                status: vec![Status::Revoked as i32],
                email: email("BOB", ""),
                ..Default::default()
            },
            vec![&bob],
        ),
    ];
    for (req, expected) in cases {
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(run(&w, req.clone()), expected, "{req:?}");
    }
    // Expiry is seen by the status filter.
    w.clock
        .set(t0 + TimeDelta::days(7) + TimeDelta::minutes(15));
    let expired = proto::ListOrganizationInvitesRequest {
        status: vec![Status::Expired as i32],
        ..Default::default()
    };
    assert_eq!(run(&w, expired), vec![ada]);
}

#[test]
fn rate_limits_per_key_on_a_sliding_window() {
    let mut w = world();
    w.state.set_rate_limits(Some(RateLimits {
        requests_per_minute: 3,
        creates_per_minute: 1,
    }));
    let admin = w.admin.clone();
    w.state.check_rate(&admin, Method::Create, w.now()).unwrap();
    let error = w
        .state
        .check_rate(&admin, Method::Create, w.now())
        .unwrap_err();
    assert_eq!(
        (error.code, error.reason),
        (Code::ResourceExhausted, "rate_limit_exceeded")
    );
    assert_eq!(
        error.rate_limited.unwrap().retry_after,
        TimeDelta::minutes(1)
    );
    w.clock.advance(TimeDelta::seconds(20));
    w.state.check_rate(&admin, Method::List, w.now()).unwrap();
    w.state.check_rate(&admin, Method::List, w.now()).unwrap();
    let error = w
        .state
        .check_rate(&admin, Method::List, w.now())
        .unwrap_err();
    let limited = error.rate_limited.unwrap();
    assert_eq!(limited.limit, 3);
    assert_eq!(limited.retry_after, TimeDelta::seconds(40));
    // Another key has its own window.
    let other = w.account("x@acme.example", Permissions::ALL, true);
    w.state.check_rate(&other, Method::List, w.now()).unwrap();
    // The first call leaves the window after 60 seconds.
    w.clock.advance(TimeDelta::seconds(40));
    w.state.check_rate(&admin, Method::Create, w.now()).unwrap();
}

#[test]
fn calls_are_counted() {
    let mut w = world();
    w.state.count_call(Method::Create);
    w.state.count_call(Method::Create);
    w.state.count_call(Method::Accept);
    assert_eq!(w.state.call_count(Method::Create), 2);
    assert_eq!(w.state.call_count(Method::List), 0);
    assert_eq!(w.state.total_calls(), 3);
}
