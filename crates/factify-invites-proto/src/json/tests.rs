use chrono::DateTime;
use proptest::prelude::*;
use prost::Message;

use crate as proto;
use crate::enum_names::EnumNames;

use super::timestamp::{canonical_timestamp, read_timestamp, MAX_SECONDS, MIN_SECONDS};
use super::write::{Object, WriteFields};
use super::JsonMessage;

/// The same message rendered by `prost-reflect` from the descriptors
/// (the route this codec replaced), as a JSON value.
fn reflect_json<M: Message>(message: &M, name: &str) -> serde_json::Value {
    let pool = prost_reflect::DescriptorPool::decode(
        &include_bytes!(concat!(env!("OUT_DIR"), "/factify_descriptor_set.bin"))[..],
    )
    .unwrap();
    let descriptor = pool
        .get_message_by_name(&format!("factify.api.v1beta.{name}"))
        .unwrap();
    let dynamic =
        prost_reflect::DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
            .unwrap();
    serde_json::to_value(&dynamic).unwrap()
}

fn ours<M: JsonMessage>(message: &M) -> Vec<u8> {
    let mut out = Vec::new();
    message.write_json(&mut out).unwrap();
    out
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z0-9_]{1,12}",
        any::<String>(),
        Just("quote\" back\\ nl\n tab\t nul\u{0} del\u{7f} é ✓ \u{2028}".to_owned()),
    ]
}

fn timestamp() -> impl Strategy<Value = Option<prost_types::Timestamp>> {
    let nanos = prop_oneof![
        Just(0),
        (0..1000i32).prop_map(|ms| ms * 1_000_000),
        (0..1_000_000i32).prop_map(|us| us * 1_000),
        0..1_000_000_000i32,
    ];
    proptest::option::of(
        (MIN_SECONDS..=MAX_SECONDS, nanos)
            .prop_map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
    )
}

fn enum_number() -> impl Strategy<Value = i32> {
    prop_oneof![0..6i32, Just(-3), Just(1_000), Just(i32::MAX)]
}

fn user() -> impl Strategy<Value = proto::User> {
    (
        text(),
        enum_number(),
        text(),
        text(),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
    )
        .prop_map(
            |(id, r#type, name, email, given, family, image)| proto::User {
                id,
                r#type,
                name,
                email,
                given_name: given,
                family_name: family,
                profile_image_url: image,
            },
        )
}

fn invite() -> impl Strategy<Value = proto::OrganizationInvite> {
    (
        (text(), text(), text(), enum_number()),
        (proptest::option::of(user()), proptest::option::of(user())),
        (timestamp(), timestamp(), timestamp()),
        proptest::option::of(text()),
    )
        .prop_map(
            |((id, org, email, status), (sender, by), (created, expires, accepted), message)| {
                proto::OrganizationInvite {
                    id,
                    organization_id: org,
                    email,
                    status,
                    sender,
                    created_at: created,
                    expires_at: expires,
                    accepted_at: accepted,
                    accepted_by: by,
                    message,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Same JSON as prost-reflect, and both renderings read back to the
    /// same message.
    #[test]
    fn pages_match_the_descriptor_driven_mapping(
        items in proptest::collection::vec(invite(), 0..4),
        has_more in any::<bool>(),
        next in text(),
    ) {
        let page = proto::ListOrganizationInvitesResponse {
            items,
            pagination: Some(proto::Pagination { has_more, next_page_token: next, prev_page_token: String::new() }),
        };
        let json = ours(&page);
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(&value, &reflect_json(&page, "ListOrganizationInvitesResponse"));
        let mut names = EnumNames::default();
        prop_assert_eq!(&proto::ListOrganizationInvitesResponse::read_json(&json, &mut names).unwrap(), &page);
        let theirs = serde_json::to_vec(&reflect_json(&page, "ListOrganizationInvitesResponse")).unwrap();
        prop_assert_eq!(&proto::ListOrganizationInvitesResponse::read_json(&theirs, &mut names).unwrap(), &page);
    }

    #[test]
    fn requests_match_the_descriptor_driven_mapping(
        org in text(),
        statuses in proptest::collection::vec(0..5i32, 0..3),
        token in text(),
        page_size in any::<i32>(),
        contains in text(),
        sender in proptest::option::of(text()),
        (after, before) in (timestamp(), timestamp()),
    ) {
        let request = proto::ListOrganizationInvitesRequest {
            organization_id: org,
            status: statuses,
            page_token: token,
            page_size,
            email: Some(proto::StringFilter { contains, exact: String::new() }),
            sender_id: sender,
            created: Some(proto::TimeRange { after, before }),
        };
        let json = ours(&request);
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(&value, &reflect_json(&request, "ListOrganizationInvitesRequest"));
        let mut names = EnumNames::default();
        prop_assert_eq!(&proto::ListOrganizationInvitesRequest::read_json(&json, &mut names).unwrap(), &request);
    }
}

#[test]
fn the_other_messages_match_the_descriptor_driven_mapping() {
    let create = proto::CreateOrganizationInviteRequest {
        organization_id: "org_1".into(),
        email: "a@b.c".into(),
        message: Some(String::new()),
        idempotency_key: Some("k".into()),
    };
    let accept = proto::AcceptOrganizationInviteResponse {
        organization: Some(proto::Organization {
            id: "org_1".into(),
            name: "Acme".into(),
            created_at: Some(prost_types::Timestamp {
                seconds: -62_135_596_800,
                nanos: 1,
            }),
            logo_image_url: Some("https://x".into()),
        }),
    };
    let value = |json: Vec<u8>| serde_json::from_slice::<serde_json::Value>(&json).unwrap();
    assert_eq!(
        value(ours(&create)),
        reflect_json(&create, "CreateOrganizationInviteRequest")
    );
    assert_eq!(
        value(ours(&accept)),
        reflect_json(&accept, "AcceptOrganizationInviteResponse")
    );
    let mut names = EnumNames::default();
    assert_eq!(
        proto::AcceptOrganizationInviteResponse::read_json(&ours(&accept), &mut names).unwrap(),
        accept
    );
}

#[test]
fn proto_field_names_offsets_nulls_and_numbers_as_strings_are_read() {
    let json =
        br#"{"organization_id": "org_1", "status": ["ORGANIZATION_INVITE_STATUS_PENDING", 3],
        "page_size": "25", "pageToken": null,
        "created": {"after": "2025-06-15T17:06:40.5+02:00"}}"#;
    let request =
        proto::ListOrganizationInvitesRequest::read_json(json, &mut EnumNames::default()).unwrap();
    assert_eq!(request.organization_id, "org_1");
    assert_eq!(request.status, vec![1, 3]);
    assert_eq!(request.page_size, 25);
    let after = request.created.unwrap().after.unwrap();
    assert_eq!((after.seconds, after.nanos), (1_750_000_000, 500_000_000));
    for bad in [
        &br#"{"status": ["ORGANIZATION_INVITE_STATUS_ON_HOLD"]}"#[..],
        br#"{"pageSize": 1.5}"#,
        br#"{"pageSize": "4294967296"}"#,
        br#"{"created": {"after": "yesterday"}}"#,
    ] {
        assert!(
            proto::ListOrganizationInvitesRequest::read_json(bad, &mut EnumNames::default())
                .is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

proptest! {
    /// The fast reader of the canonical form agrees with chrono's.
    #[test]
    fn canonical_timestamps_read_as_chrono_reads_them(
        seconds in MIN_SECONDS..=MAX_SECONDS,
        nanos in prop_oneof![Just(0u32), 0..1_000_000_000u32],
        digits in 1..=9usize,
    ) {
        let at = DateTime::from_timestamp(seconds, nanos).unwrap();
        let whole = at.format("%Y-%m-%dT%H:%M:%S").to_string();
        let fraction = format!("{nanos:09}");
        for text in [format!("{whole}Z"), format!("{whole}.{}Z", &fraction[..digits])] {
            let chrono = DateTime::parse_from_rfc3339(&text).unwrap();
            let ours = canonical_timestamp(text.as_bytes()).unwrap();
            prop_assert_eq!(
                (ours.seconds, ours.nanos as u32),
                (chrono.timestamp(), chrono.timestamp_subsec_nanos()),
                "{}", text
            );
        }
    }
}

#[test]
fn non_canonical_timestamps_go_to_chrono_or_are_refused() {
    for text in [
        "2025-02-29T00:00:00Z",
        "2025-13-01T00:00:00Z",
        "2025-01-01T24:00:00Z",
        "0000-01-01T00:00:00Z",
        "2025-01-01T00:00:00.Z",
        "2025-01-01T00:00:00.1234567890Z",
        "2025-01-01t00:00:00z",
        "2025-01-01T00:00:00+01:00",
    ] {
        assert!(canonical_timestamp(text.as_bytes()).is_none(), "{text}");
    }
    let offset = read_timestamp(Some("2025-01-01T01:00:00+01:00".into()), "x")
        .unwrap()
        .unwrap();
    assert_eq!(offset.seconds, 1_735_689_600);
    assert!(read_timestamp(Some("2025-02-29T00:00:00Z".into()), "x").is_err());
}

#[test]
fn out_of_range_timestamps_are_errors_on_write() {
    let invite = proto::OrganizationInvite {
        created_at: Some(prost_types::Timestamp {
            seconds: MAX_SECONDS + 1,
            nanos: 0,
        }),
        ..Default::default()
    };
    let mut out = Vec::new();
    assert!(WriteFields::fields(&invite, &mut Object::begin(&mut out)).is_err());
}
