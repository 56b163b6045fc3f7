//! The domain types the client returns: [`Invite`], [`User`],
//! [`Organization`], [`InviteStatus`], [`UserType`] and [`Page`].
//!
//! They are built from the generated protobuf types by checked
//! conversions: a required field the SPEC says every response carries, when
//! missing, is an [`Error::InvalidResponse`](crate::Error::InvalidResponse) naming the field, never a
//! made-up default. Enum values this version does not know are kept as
//! `Unknown` with the number or name the server sent, and IDs are read
//! tolerantly (see [`crate::ids`]), so a newer server does not break an
//! older client.
//!
//! The conversions are in `from_wire.rs`.

mod from_wire;
#[cfg(test)]
mod tests;

use std::fmt;

use chrono::{DateTime, Utc};

use crate::ids::{InviteId, OrganizationId, UserId};
use crate::proto;
use factify_invites_proto::enum_names::Unknown;
pub(crate) use from_wire::{invite_from_wire, organization_from_wire, page_from_wire};

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
