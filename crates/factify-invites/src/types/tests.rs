//! The domain types' unit tests: the checked conversions from the wire,
//! each missing field named by its path, unknown values kept as sent.

use super::*;
use crate::error::{Error, Result};
use factify_invites_proto::enum_names::EnumNames;

fn wire_user() -> proto::User {
    proto::User {
        id: "user_01h2xcejqtf2nbrexx3vqjhp40".into(),
        r#type: proto::UserType::UserAccount as i32,
        name: "Ada".into(),
        email: "ada@example.com".into(),
        ..Default::default()
    }
}

fn wire_invite() -> proto::OrganizationInvite {
    let at = prost_types::Timestamp {
        seconds: 1_700_000_000,
        nanos: 0,
    };
    proto::OrganizationInvite {
        id: "inv_01h2xcejqtf2nbrexx3vqjhp42".into(),
        organization_id: "org_01h2xcejqtf2nbrexx3vqjhp41".into(),
        email: "bob@example.com".into(),
        status: proto::OrganizationInviteStatus::Pending as i32,
        sender: Some(wire_user()),
        created_at: Some(at),
        expires_at: Some(prost_types::Timestamp {
            seconds: at.seconds + 7 * 86_400,
            nanos: 0,
        }),
        ..Default::default()
    }
}

fn field_of(result: Result<Invite>) -> String {
    match result {
        Err(Error::InvalidResponse { field, .. }) => field,
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
}

#[test]
fn a_complete_invite_converts() {
    let invite = invite_from_wire(Some(wire_invite()), "invite", &EnumNames::default()).unwrap();
    assert_eq!(invite.status, InviteStatus::Pending);
    assert_eq!(invite.sender.user_type, UserType::UserAccount);
    assert_eq!((invite.expires_at - invite.created_at).num_days(), 7);
    assert!(invite.accepted.is_none());
}

#[test]
fn each_missing_required_field_is_named() {
    type Breakage = fn(&mut proto::OrganizationInvite);
    let cases: [(Breakage, &str); 11] = [
        (|i| i.id.clear(), "invite.id"),
        (|i| i.organization_id.clear(), "invite.organization_id"),
        (|i| i.email.clear(), "invite.email"),
        (|i| i.status = 0, "invite.status"),
        (|i| i.sender = None, "invite.sender"),
        (|i| i.created_at = None, "invite.created_at"),
        (|i| i.expires_at = None, "invite.expires_at"),
        (
            |i| i.sender.as_mut().unwrap().id.clear(),
            "invite.sender.id",
        ),
        (
            |i| i.sender.as_mut().unwrap().r#type = 0,
            "invite.sender.type",
        ),
        (
            |i| i.sender.as_mut().unwrap().name.clear(),
            "invite.sender.name",
        ),
        (
            |i| i.accepted_at = Some(prost_types::Timestamp::default()),
            "invite.accepted_by",
        ),
    ];
    for (break_it, expected) in cases {
        let mut wire = wire_invite();
        break_it(&mut wire);
        assert_eq!(
            field_of(invite_from_wire(
                Some(wire),
                "invite",
                &EnumNames::default()
            )),
            expected
        );
    }
    assert_eq!(
        field_of(invite_from_wire(None, "invite", &EnumNames::default())),
        "response.invite"
    );
}

#[test]
fn malformed_values_are_errors_not_panics() {
    let mut wire = wire_invite();
    wire.id = "inv_\n".into();
    assert_eq!(
        field_of(invite_from_wire(
            Some(wire),
            "invite",
            &EnumNames::default()
        )),
        "invite.id"
    );
    let mut wire = wire_invite();
    wire.created_at = Some(prost_types::Timestamp {
        seconds: i64::MAX,
        nanos: -1,
    });
    assert_eq!(
        field_of(invite_from_wire(
            Some(wire),
            "invite",
            &EnumNames::default()
        )),
        "invite.created_at"
    );
}

#[test]
fn unknown_enum_values_are_kept() {
    let mut wire = wire_invite();
    wire.status = 42;
    wire.sender.as_mut().unwrap().r#type = 9;
    let invite = invite_from_wire(Some(wire), "invite", &EnumNames::default()).unwrap();
    assert_eq!(
        invite.status,
        InviteStatus::Unknown(UnknownValue::number(42))
    );
    assert_eq!(
        invite.sender.user_type,
        UserType::Unknown(UnknownValue::number(9))
    );
    assert_eq!(
        InviteStatus::Unknown(UnknownValue::number(42)).to_wire(),
        Some(42)
    );
}

#[test]
fn stand_ins_resolve_to_their_names_and_reserved_numbers_stay_numbers() {
    let mut names = EnumNames::default();
    let robot = names.stand_in_for_name("USER_TYPE_ROBOT").unwrap();
    let escaped = names.number(i32::MIN + 1).unwrap();
    assert_eq!(names.number(7).unwrap(), 7);
    let mut wire = wire_invite();
    wire.status = escaped;
    wire.sender.as_mut().unwrap().r#type = robot;
    let invite = invite_from_wire(Some(wire.clone()), "invite", &names).unwrap();
    assert_eq!(
        invite.sender.user_type,
        UserType::Unknown(UnknownValue::name("USER_TYPE_ROBOT"))
    );
    assert_eq!(
        invite.status,
        InviteStatus::Unknown(UnknownValue::number(i32::MIN + 1))
    );
    assert_eq!(invite.status.to_wire(), Some(i32::MIN + 1));
    assert_eq!(UnknownValue::name("X").to_string(), "X");
    assert_eq!(
        InviteStatus::Unknown(UnknownValue::name("X")).to_wire(),
        None
    );
    // A protobuf response has no table: the same numbers are numbers.
    let invite = invite_from_wire(Some(wire), "invite", &EnumNames::default()).unwrap();
    assert_eq!(
        invite.sender.user_type,
        UserType::Unknown(UnknownValue::number(robot))
    );
}

#[test]
fn a_broken_item_of_a_page_is_named_by_its_index() {
    let mut broken = wire_invite();
    broken.sender.as_mut().unwrap().id = "user nope".into();
    let response = proto::ListOrganizationInvitesResponse {
        items: vec![wire_invite(), broken],
        pagination: Some(proto::Pagination::default()),
    };
    match page_from_wire(response, &EnumNames::default()) {
        Err(Error::InvalidResponse { field, .. }) => assert_eq!(field, "items[1].sender.id"),
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
    let mut accepted = wire_invite();
    accepted.accepted_at = accepted.created_at;
    accepted.accepted_by = Some(proto::User {
        name: String::new(),
        ..wire_user()
    });
    assert_eq!(
        field_of(invite_from_wire(
            Some(accepted),
            "invite",
            &EnumNames::default()
        )),
        "invite.accepted_by.name"
    );
}

#[test]
fn ids_of_a_newer_server_are_read_as_sent() {
    let mut wire = wire_invite();
    wire.sender.as_mut().unwrap().id = "bot_01h2xcejqtf2nbrexx3vqjhp40".into();
    wire.id = "inv_0123456789abcdefghijklmnopqrstuv".into();
    let invite = invite_from_wire(Some(wire), "invite", &EnumNames::default()).unwrap();
    assert_eq!(invite.sender.id.as_str(), "bot_01h2xcejqtf2nbrexx3vqjhp40");
    assert_eq!(invite.sender.id.prefix(), "bot");
    assert_eq!(invite.id.as_str(), "inv_0123456789abcdefghijklmnopqrstuv");
}

#[test]
fn has_more_without_a_token_is_invalid() {
    let response = proto::ListOrganizationInvitesResponse {
        items: vec![],
        pagination: Some(proto::Pagination {
            has_more: true,
            ..Default::default()
        }),
    };
    assert!(matches!(
        page_from_wire(response, &EnumNames::default()),
        Err(Error::InvalidResponse { .. })
    ));
}
