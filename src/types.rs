//! The domain types the client returns: [`Invite`], [`User`],
//! [`Organization`], [`InviteStatus`], [`UserType`] and [`Page`].
//!
//! They are built from the generated protobuf types by checked
//! conversions: a required field the SPEC says every response carries, when
//! missing, is an [`Error::InvalidResponse`] naming the field, never a
//! made-up default. Enum values this version does not know are kept as
//! `Unknown(n)`, and IDs are read tolerantly (see [`crate::ids`]), so a
//! newer server does not break an older client.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::ids::{InviteId, OrganizationId, UserId};
use crate::proto;

/// Where an invitation stands.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// A status this version of the crate does not know, with its wire value.
    Unknown(i32),
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
            Err(_) => InviteStatus::Unknown(value),
        })
    }

    /// The wire value of `OrganizationInviteStatus`.
    pub(crate) fn to_wire(self) -> i32 {
        use proto::OrganizationInviteStatus as Wire;
        match self {
            InviteStatus::Pending => Wire::Pending as i32,
            InviteStatus::Accepted => Wire::Accepted as i32,
            InviteStatus::Expired => Wire::Expired as i32,
            InviteStatus::Revoked => Wire::Revoked as i32,
            InviteStatus::Unknown(value) => value,
        }
    }
}

/// Whether an account is a person or a machine.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserType {
    /// A person who signs in (`user_...`).
    UserAccount,
    /// A machine identity used by integrations (`svc_...`).
    ServiceAccount,
    /// A type this version of the crate does not know, with its wire value.
    Unknown(i32),
}

impl UserType {
    /// The type for a wire value; `None` for 0 (`UNSPECIFIED`).
    pub(crate) fn from_wire(value: i32) -> Option<UserType> {
        use proto::UserType as Wire;
        Some(match Wire::try_from(value) {
            Ok(Wire::Unspecified) => return None,
            Ok(Wire::UserAccount) => UserType::UserAccount,
            Ok(Wire::ServiceAccount) => UserType::ServiceAccount,
            Err(_) => UserType::Unknown(value),
        })
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
fn user_at(user: Option<proto::User>, at: &At<'_>) -> Result<User> {
    let user = user.ok_or_else(|| at.missing())?;
    Ok(User {
        id: server_id(user.id, at, "id", UserId::from_server)?,
        user_type: UserType::from_wire(user.r#type).ok_or_else(|| missing(at, "type"))?,
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
) -> Result<Invite> {
    invite_at(invite, &At::Field(parent))
}

/// Converts a wire `OrganizationInvite` at `at`.
fn invite_at(invite: Option<proto::OrganizationInvite>, at: &At<'_>) -> Result<Invite> {
    let invite = invite.ok_or_else(|| at.missing())?;
    let accepted = match (invite.accepted_at, invite.accepted_by) {
        (None, None) => None,
        (Some(when), Some(by)) => Some(Acceptance {
            at: time(Some(when), at, "accepted_at")?,
            by: user_at(Some(by), &At::Nested(at, "accepted_by"))?,
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
        status: InviteStatus::from_wire(invite.status).ok_or_else(|| missing(at, "status"))?,
        sender: user_at(invite.sender, &At::Nested(at, "sender"))?,
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
pub(crate) fn page_from_wire(response: proto::ListOrganizationInvitesResponse) -> Result<Page> {
    let items = response
        .items
        .into_iter()
        .enumerate()
        .map(|(index, invite)| invite_at(Some(invite), &At::Item(index)))
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
        let invite = invite_from_wire(Some(wire_invite()), "invite").unwrap();
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
            assert_eq!(field_of(invite_from_wire(Some(wire), "invite")), expected);
        }
        assert_eq!(
            field_of(invite_from_wire(None, "invite")),
            "response.invite"
        );
    }

    #[test]
    fn malformed_values_are_errors_not_panics() {
        let mut wire = wire_invite();
        wire.id = "inv_\n".into();
        assert_eq!(
            field_of(invite_from_wire(Some(wire), "invite")),
            "invite.id"
        );
        let mut wire = wire_invite();
        wire.created_at = Some(prost_types::Timestamp {
            seconds: i64::MAX,
            nanos: -1,
        });
        assert_eq!(
            field_of(invite_from_wire(Some(wire), "invite")),
            "invite.created_at"
        );
    }

    #[test]
    fn unknown_enum_values_are_kept() {
        let mut wire = wire_invite();
        wire.status = 42;
        wire.sender.as_mut().unwrap().r#type = 9;
        let invite = invite_from_wire(Some(wire), "invite").unwrap();
        assert_eq!(invite.status, InviteStatus::Unknown(42));
        assert_eq!(invite.sender.user_type, UserType::Unknown(9));
        assert_eq!(InviteStatus::Unknown(42).to_wire(), 42);
    }

    #[test]
    fn a_broken_item_of_a_page_is_named_by_its_index() {
        let mut broken = wire_invite();
        broken.sender.as_mut().unwrap().id = "user nope".into();
        let response = proto::ListOrganizationInvitesResponse {
            items: vec![wire_invite(), broken],
            pagination: Some(proto::Pagination::default()),
        };
        match page_from_wire(response) {
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
            field_of(invite_from_wire(Some(accepted), "invite")),
            "invite.accepted_by.name"
        );
    }

    #[test]
    fn ids_of_a_newer_server_are_read_as_sent() {
        let mut wire = wire_invite();
        wire.sender.as_mut().unwrap().id = "bot_01h2xcejqtf2nbrexx3vqjhp40".into();
        wire.id = "inv_0123456789abcdefghijklmnopqrstuv".into();
        let invite = invite_from_wire(Some(wire), "invite").unwrap();
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
            page_from_wire(response),
            Err(Error::InvalidResponse { .. })
        ));
    }
}
