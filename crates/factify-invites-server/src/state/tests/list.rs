//! Listing: keyset pagination both ways, page tokens, filters.

use super::*;

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
