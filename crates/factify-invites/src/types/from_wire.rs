//! The checked conversions from the generated protobuf types: a required
//! field that is missing is an [`Error::InvalidResponse`] naming its path in
//! the response (`items[3].sender.id`), never a made-up default.

use std::fmt;

use chrono::{DateTime, Utc};

use super::{Acceptance, Invite, InviteStatus, Organization, Page, UnknownValue, User, UserType};
use crate::error::{Error, Result};
use crate::ids::{InviteId, OrganizationId, UserId};
use crate::proto;
use factify_invites_proto::enum_names::EnumNames;

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
