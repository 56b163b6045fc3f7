//! The domain types the client returns: [`Invite`], [`User`],
//! [`Organization`], [`InviteStatus`], [`UserType`] and [`Page`].
//!
//! They are built from the generated protobuf types by checked
//! conversions: a required field the SPEC says every response carries, when
//! missing, is an [`Error::InvalidResponse`] naming the field, never a
//! made-up default. Enum values this version does not know are kept as
//! `Unknown` with the number or name the server sent, and IDs are read
//! tolerantly (see [`crate::ids`]), so a newer server does not break an
//! older client.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::ids::{InviteId, OrganizationId, UserId};
use crate::proto;
pub(crate) use factify_invites_proto::enum_names::{EnumNames, Unknown};

/// Where an invitation stands.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InviteStatus {
    /// Sent and waiting for the invitee; its token works.
    Pending,
    /// The invitee joined the organization.
    Accepted,
    /// Its `expires_at` has passed; [resending](crate::Client::resend_invite)
    /// makes it pending again.
    Expired,
    /// Withdrawn; its token no longer works.
    Revoked,
    /// A status this version of the crate does not know (a newer server's),
    /// as it came: a number over protobuf, a name or a number over JSON.
    Unknown(UnknownValue),
}

impl InviteStatus {
    /// The status for a wire value; `None` for 0 (`UNSPECIFIED`), which no
    /// real invitation has.
    pub(crate) fn from_wire(value: i32) -> Option<InviteStatus> {
        use proto::OrganizationInviteStatus as Wire;
        Some(match Wire::try_from(value) {
            Ok(Wire::Unspecified) => return None,
            Ok(Wire::Pending) => InviteStatus::Pending,
            Ok(Wire::Accepted) => InviteStatus::Accepted,
            Ok(Wire::Expired) => InviteStatus::Expired,
            Ok(Wire::Revoked) => InviteStatus::Revoked,
            Err(_) => InviteStatus::Unknown(UnknownValue::number(value)),
        })
    }

    /// The wire value of `OrganizationInviteStatus`; `None` for an unknown
    /// status that came as a name, whose number this version cannot know.
    pub(crate) fn to_wire(&self) -> Option<i32> {
        use proto::OrganizationInviteStatus as Wire;
        Some(match self {
            InviteStatus::Pending => Wire::Pending as i32,
            InviteStatus::Accepted => Wire::Accepted as i32,
            InviteStatus::Expired => Wire::Expired as i32,
            InviteStatus::Revoked => Wire::Revoked as i32,
            InviteStatus::Unknown(value) => return value.as_number(),
        })
    }
}

/// Whether an account is a person or a machine.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserType {
    /// A person who signs in (`user_...`).
    UserAccount,
    /// A machine identity used by integrations (`svc_...`).
    ServiceAccount,
    /// A type this version of the crate does not know (a newer server's),
    /// as it came: a number over protobuf, a name or a number over JSON.
    Unknown(UnknownValue),
}

impl UserType {
    /// The type for a wire value; `None` for 0 (`UNSPECIFIED`).
    pub(crate) fn from_wire(value: i32) -> Option<UserType> {
        use proto::UserType as Wire;
        Some(match Wire::try_from(value) {
            Ok(Wire::Unspecified) => return None,
            Ok(Wire::UserAccount) => UserType::UserAccount,
            Ok(Wire::ServiceAccount) => UserType::ServiceAccount,
            Err(_) => UserType::Unknown(UnknownValue::number(value)),
        })
    }
}

/// An enum value this version of the crate does not know, kept as the
/// server sent it so that it can be logged: its number (protobuf, or a
/// number in JSON) or its name (JSON, where enums travel by name and a
/// newer server's name has no number this version could look up).
///
/// ```
/// use factify_invites::UnknownValue;
/// let value = UnknownValue::number(9);
/// assert_eq!(value.as_number(), Some(9));
/// assert_eq!(value.as_name(), None);
/// assert_eq!(value.to_string(), "9");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownValue(Unknown);

impl UnknownValue {
    /// An unknown value that came as a number.
    pub fn number(value: i32) -> UnknownValue {
        UnknownValue(Unknown::Number(value))
    }

    /// An unknown value that came as a name (over JSON).
    pub fn name(name: impl Into<Box<str>>) -> UnknownValue {
        UnknownValue(Unknown::Name(name.into()))
    }

    /// The number, when it came as one.
    pub fn as_number(&self) -> Option<i32> {
        match &self.0 {
            Unknown::Number(value) => Some(*value),
            Unknown::Name(_) => None,
        }
    }

    /// The name, when it came as one.
    pub fn as_name(&self) -> Option<&str> {
        match &self.0 {
            Unknown::Number(_) => None,
            Unknown::Name(name) => Some(name),
        }
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Unknown::Number(value) => write!(f, "{value}"),
            Unknown::Name(name) => f.write_str(name),
        }
    }
}

/// An account of Factify: a person or a service account.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The account's ID (`user_...` or `svc_...`).
    pub id: UserId,
    /// Whether the account is a person or a service account.
    pub user_type: UserType,
    /// The display name.
    pub name: String,
    /// The email address; empty if the server did not share it.
    pub email: String,
    /// The given (first) name.
    pub given_name: Option<String>,
    /// The family (last) name.
    pub family_name: Option<String>,
    /// A URL of the profile picture.
    pub profile_image_url: Option<String>,
}

/// Who accepted an invitation, and when.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    /// When the invitation was accepted.
    pub at: DateTime<Utc>,
    /// Who accepted it.
    pub by: User,
}

/// An invitation for an email address to join an organization.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// The invitation's ID.
    pub id: InviteId,
    /// The organization it invites to.
    pub organization_id: OrganizationId,
    /// The invited email address.
    pub email: String,
    /// Where it stands.
    pub status: InviteStatus,
    /// Who sent it, as they were when it was created.
    pub sender: User,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its token stops working.
    pub expires_at: DateTime<Utc>,
    /// Who accepted it and when; `Some` exactly when it was accepted.
    pub accepted: Option<Acceptance>,
    /// The sender's personal note, if any.
    pub message: Option<String>,
}

/// An organization of Factify.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// The organization's ID.
    pub id: OrganizationId,
    /// The display name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// A URL of its logo.
    pub logo_image_url: Option<String>,
}

/// One page of a list of invitations.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The page's invitations, newest first.
    pub items: Vec<Invite>,
    /// The token of the next page; `None` on the last page.
    pub next_page_token: Option<String>,
    /// The token of the previous page; `None` on the first page.
    pub prev_page_token: Option<String>,
}

impl Page {
    /// Whether more pages follow this one.
    pub fn has_more(&self) -> bool {
        self.next_page_token.is_some()
    }
}

/// Where a message sits in a response, such as `invite`, `items[3]` or
/// `items[3].sender`: written out only when an error names a field there,
/// so that converting a well-formed response builds no strings.
#[derive(Debug, Clone, Copy)]
enum At<'a> {
    /// A field of the response itself.
    Field(&'a str),
    /// An element of the response's `items`.
    Item(usize),
    /// A field of the message at another place.
    Nested(&'a At<'a>, &'a str),
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Field(name) => f.write_str(name),
            At::Item(index) => write!(f, "items[{index}]"),
            At::Nested(parent, name) => write!(f, "{parent}.{name}"),
        }
    }
}

impl At<'_> {
    /// The error for this message itself missing: `response.invite`, or
    /// `invite.sender` for a nested one.
    fn missing(&self) -> Error {
        let path = match self {
            At::Field(_) | At::Item(_) => format!("response.{self}"),
            At::Nested(..) => self.to_string(),
        };
        Error::invalid_response(path, "required field is missing")
    }

    /// The dotted path of `field` of the message here.
    fn path(&self, field: &str) -> String {
        format!("{self}.{field}")
    }
}

fn missing(at: &At<'_>, field: &str) -> Error {
    Error::invalid_response(at.path(field), "required field is missing")
}

fn non_empty(value: String, at: &At<'_>, field: &str) -> Result<String> {
    if value.is_empty() {
        Err(missing(at, field))
    } else {
        Ok(value)
    }
}

/// Reads an ID the server sent: required, and tolerantly checked (see
/// [`crate::ids`]), so that a newer server's new kind of ID is not refused.
fn server_id<T>(
    value: String,
    at: &At<'_>,
    field: &str,
    read: fn(String) -> Result<T, &'static str>,
) -> Result<T> {
    read(value).map_err(|why| Error::invalid_response(at.path(field), why))
}

fn time(value: Option<prost_types::Timestamp>, at: &At<'_>, field: &str) -> Result<DateTime<Utc>> {
    let value = value.ok_or_else(|| missing(at, field))?;
    u32::try_from(value.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(value.seconds, nanos))
        .ok_or_else(|| Error::invalid_response(at.path(field), "timestamp is out of range"))
}

/// Converts a wire `User` at `at` (such as `invite.sender`).
fn user_at(user: Option<proto::User>, at: &At<'_>, names: &EnumNames) -> Result<User> {
    let user = user.ok_or_else(|| at.missing())?;
    Ok(User {
        id: server_id(user.id, at, "id", UserId::from_server)?,
        user_type: match names.resolve(user.r#type) {
            Ok(value) => UserType::from_wire(value).ok_or_else(|| missing(at, "type"))?,
            Err(name) => UserType::Unknown(UnknownValue(name.clone())),
        },
        name: non_empty(user.name, at, "name")?,
        email: user.email,
        given_name: user.given_name,
        family_name: user.family_name,
        profile_image_url: user.profile_image_url,
    })
}

/// Converts a wire `OrganizationInvite` in the response field `parent`
/// (such as `invite`), checking every field the SPEC requires.
pub(crate) fn invite_from_wire(
    invite: Option<proto::OrganizationInvite>,
    parent: &str,
    names: &EnumNames,
) -> Result<Invite> {
    invite_at(invite, &At::Field(parent), names)
}

/// Converts a wire `OrganizationInvite` at `at`.
fn invite_at(
    invite: Option<proto::OrganizationInvite>,
    at: &At<'_>,
    names: &EnumNames,
) -> Result<Invite> {
    let invite = invite.ok_or_else(|| at.missing())?;
    let accepted = match (invite.accepted_at, invite.accepted_by) {
        (None, None) => None,
        (Some(when), Some(by)) => Some(Acceptance {
            at: time(Some(when), at, "accepted_at")?,
            by: user_at(Some(by), &At::Nested(at, "accepted_by"), names)?,
        }),
        (Some(_), None) => return Err(missing(at, "accepted_by")),
        (None, Some(_)) => return Err(missing(at, "accepted_at")),
    };
    Ok(Invite {
        id: server_id(invite.id, at, "id", InviteId::from_server)?,
        organization_id: server_id(
            invite.organization_id,
            at,
            "organization_id",
            OrganizationId::from_server,
        )?,
        email: non_empty(invite.email, at, "email")?,
        status: match names.resolve(invite.status) {
            Ok(value) => InviteStatus::from_wire(value).ok_or_else(|| missing(at, "status"))?,
            Err(name) => InviteStatus::Unknown(UnknownValue(name.clone())),
        },
        sender: user_at(invite.sender, &At::Nested(at, "sender"), names)?,
        created_at: time(invite.created_at, at, "created_at")?,
        expires_at: time(invite.expires_at, at, "expires_at")?,
        accepted,
        message: invite.message,
    })
}

/// Converts a wire `Organization` at `parent`.
pub(crate) fn organization_from_wire(
    organization: Option<proto::Organization>,
    parent: &str,
) -> Result<Organization> {
    let at = At::Field(parent);
    let organization = organization.ok_or_else(|| at.missing())?;
    Ok(Organization {
        id: server_id(organization.id, &at, "id", OrganizationId::from_server)?,
        name: organization.name,
        created_at: time(organization.created_at, &at, "created_at")?,
        logo_image_url: organization.logo_image_url,
    })
}

/// Converts a wire list response into a [`Page`].
pub(crate) fn page_from_wire(
    response: proto::ListOrganizationInvitesResponse,
    names: &EnumNames,
) -> Result<Page> {
    let items = response
        .items
        .into_iter()
        .enumerate()
        .map(|(index, invite)| invite_at(Some(invite), &At::Item(index), names))
        .collect::<Result<Vec<_>>>()?;
    let pagination = response
        .pagination
        .ok_or_else(|| At::Field("pagination").missing())?;
    let token = |value: String| (!value.is_empty()).then_some(value);
    if pagination.has_more && pagination.next_page_token.is_empty() {
        return Err(Error::invalid_response(
            "pagination.next_page_token",
            "has_more is true but no next page token was sent",
        ));
    }
    Ok(Page {
        items,
        next_page_token: token(pagination.next_page_token),
        prev_page_token: token(pagination.prev_page_token),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let invite =
            invite_from_wire(Some(wire_invite()), "invite", &EnumNames::default()).unwrap();
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
}
