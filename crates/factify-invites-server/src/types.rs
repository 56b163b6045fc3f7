//! The reference server's plain data: what an API key may do
//! ([`Permissions`]), the optional [`RateLimits`], the API's [`Method`]s (for
//! call counts), the emails it records ([`SentEmail`], [`EmailKind`]) and the
//! seeded [`Fixture`].

use std::fmt;

use chrono::{DateTime, Utc};

use crate::ids::{InviteId, OrganizationId, UserId};

/// What an API key may do. Every key can accept invitations for its own
/// account; the other methods need a permission, and the key's account must
/// be a member of the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions {
    /// May create, list and resend invitations.
    pub invite_members: bool,
    /// May revoke invitations.
    pub manage_members: bool,
}

impl Permissions {
    /// Every permission.
    pub const ALL: Permissions = Permissions {
        invite_members: true,
        manage_members: true,
    };
    /// No permission: such a key can still accept invitations.
    pub const NONE: Permissions = Permissions {
        invite_members: false,
        manage_members: false,
    };
    /// May create, list and resend, but not revoke.
    pub const INVITE_ONLY: Permissions = Permissions {
        invite_members: true,
        manage_members: false,
    };
}

/// Per-API-key request limits, counted over a sliding 60-second window of
/// the server's clock. Off unless set with
/// [`ReferenceServer::with_rate_limits`](super::ReferenceServer::with_rate_limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimits {
    /// Calls of any method a key may make in any 60 seconds.
    pub requests_per_minute: u32,
    /// `CreateOrganizationInvite` calls a key may make in any 60 seconds
    /// (they count toward `requests_per_minute` too).
    pub creates_per_minute: u32,
}

impl RateLimits {
    /// The limits of the SPEC: 1000 requests and 100 creations a minute.
    pub const SPEC: RateLimits = RateLimits {
        requests_per_minute: 1000,
        creates_per_minute: 100,
    };
}

/// A method of `OrganizationInviteService`, for
/// [`ReferenceServer::call_count`](super::ReferenceServer::call_count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Method {
    /// `CreateOrganizationInvite`.
    Create,
    /// `ListOrganizationInvites`.
    List,
    /// `ResendOrganizationInvite`.
    Resend,
    /// `RevokeOrganizationInvite`.
    Revoke,
    /// `AcceptOrganizationInvite`.
    Accept,
}

impl Method {
    /// Every method.
    pub const ALL: [Method; 5] = [
        Method::Create,
        Method::List,
        Method::Resend,
        Method::Revoke,
        Method::Accept,
    ];

    /// The method's name in the protobuf service, such as
    /// `"CreateOrganizationInvite"`.
    pub fn name(self) -> &'static str {
        match self {
            Method::Create => "CreateOrganizationInvite",
            Method::List => "ListOrganizationInvites",
            Method::Resend => "ResendOrganizationInvite",
            Method::Revoke => "RevokeOrganizationInvite",
            Method::Accept => "AcceptOrganizationInvite",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an email was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailKind {
    /// The first email of a new invitation.
    Invitation,
    /// A later email with a new token: `ResendOrganizationInvite`, or a
    /// `CreateOrganizationInvite` that found a pending invitation.
    Resend,
}

/// An invitation email the server "sent" (recorded instead of delivered).
/// Its `token` is what the invitee passes to `AcceptOrganizationInvite`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    /// The address, as the invitation holds it.
    pub to: String,
    /// The organization the invitation is for.
    pub organization_id: OrganizationId,
    /// The invitation.
    pub invite_id: InviteId,
    /// The token of the email's link. Only the newest token of an invitation
    /// works.
    pub token: String,
    /// A new invitation or a resend.
    pub kind: EmailKind,
    /// When it was sent, by the server's clock.
    pub sent_at: DateTime<Utc>,
}

/// What [`ReferenceServer::fixture`](super::ReferenceServer::fixture) seeds:
/// an organization "Acme" with one member, an admin whose API key has every
/// permission. `Debug` hides the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Fixture {
    /// The organization "Acme".
    pub organization: OrganizationId,
    /// The admin, a person and a member of Acme.
    pub admin: UserId,
    /// The admin's email address.
    pub admin_email: String,
    /// The admin's API key, with [`Permissions::ALL`].
    pub admin_key: String,
}

impl fmt::Debug for Fixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixture")
            .field("organization", &self.organization)
            .field("admin", &self.admin)
            .field("admin_email", &self.admin_email)
            .field("admin_key", &"<redacted>")
            .finish()
    }
}

/// The W3C trace context a call carried (`traceparent` and `tracestate`
/// headers or metadata), as
/// [`ReferenceServer::received_traces`](super::ReferenceServer::received_traces)
/// lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceivedTrace {
    /// The method called.
    pub method: Method,
    /// The `traceparent` header: `00-<trace id>-<parent span id>-<flags>`.
    pub traceparent: String,
    /// The `tracestate` header, if any.
    pub tracestate: Option<String>,
}
