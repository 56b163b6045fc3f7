//! What a scripted client sent: the methods of the service and their
//! requests, decoded from the protobuf the client encoded, as the server
//! would have received them.

use std::fmt;

use chrono::{DateTime, Utc};
use prost::Message;

use crate::proto;
use crate::types::InviteStatus;

/// One method of the service, as a [`Script`](crate::testing::Script) counts them.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `CreateOrganizationInvite`.
    CreateInvite,
    /// `ListOrganizationInvites`.
    ListInvites,
    /// `ResendOrganizationInvite`.
    ResendInvite,
    /// `RevokeOrganizationInvite`.
    RevokeInvite,
    /// `AcceptOrganizationInvite`.
    AcceptInvite,
}

/// A request a [`Script`](crate::testing::Script)'s client sent, one per
/// attempt, as the server would have received it (after the client's
/// checks, with the generated idempotency key).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A creation.
    CreateInvite(CreateInviteRequest),
    /// A page of a list.
    ListInvites(ListInvitesRequest),
    /// A resend.
    ResendInvite(InviteActionRequest),
    /// A revocation.
    RevokeInvite(InviteActionRequest),
    /// An acceptance.
    AcceptInvite(AcceptInviteRequest),
}

impl Request {
    /// The method of this request.
    pub fn method(&self) -> Method {
        match self {
            Request::CreateInvite(_) => Method::CreateInvite,
            Request::ListInvites(_) => Method::ListInvites,
            Request::ResendInvite(_) => Method::ResendInvite,
            Request::RevokeInvite(_) => Method::RevokeInvite,
            Request::AcceptInvite(_) => Method::AcceptInvite,
        }
    }
}

/// A `CreateOrganizationInvite` request.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateInviteRequest {
    /// The organization.
    pub organization_id: String,
    /// The invited address.
    pub email: String,
    /// The personal note, if any.
    pub message: Option<String>,
    /// The idempotency key: the caller's, or the one generated for the call
    /// (the same on every attempt).
    pub idempotency_key: Option<String>,
}

/// A `ListOrganizationInvites` request (one page).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListInvitesRequest {
    /// The organization.
    pub organization_id: String,
    /// The statuses asked for; empty for all.
    pub statuses: Vec<InviteStatus>,
    /// The page's token; `None` for the first page.
    pub page_token: Option<String>,
    /// The page size asked for; `None` for the server's default.
    pub page_size: Option<u32>,
    /// The `email.contains` filter.
    pub email_contains: Option<String>,
    /// The `email.exact` filter.
    pub email_exact: Option<String>,
    /// The sender filter.
    pub sender_id: Option<String>,
    /// The `created.after` filter.
    pub created_after: Option<DateTime<Utc>>,
    /// The `created.before` filter.
    pub created_before: Option<DateTime<Utc>>,
}

/// A `ResendOrganizationInvite` or `RevokeOrganizationInvite` request.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteActionRequest {
    /// The organization.
    pub organization_id: String,
    /// The invitation.
    pub invite_id: String,
}

/// An `AcceptOrganizationInvite` request.
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq)]
pub struct AcceptInviteRequest {
    /// The organization.
    pub organization_id: String,
    /// The invitation's token (redacted from `Debug`).
    pub token: String,
}

impl fmt::Debug for AcceptInviteRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptInviteRequest")
            .field("organization_id", &self.organization_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

fn from_timestamp(at: Option<prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    at.and_then(|at| DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?))
}

fn non_empty(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

/// The request of `method` encoded in `bytes`, for the record.
pub(crate) fn decode(method: Method, bytes: &[u8]) -> Option<Request> {
    Some(match method {
        Method::CreateInvite => {
            let r = proto::CreateOrganizationInviteRequest::decode(bytes).ok()?;
            Request::CreateInvite(CreateInviteRequest {
                organization_id: r.organization_id,
                email: r.email,
                message: r.message,
                idempotency_key: r.idempotency_key,
            })
        }
        Method::ListInvites => {
            let r = proto::ListOrganizationInvitesRequest::decode(bytes).ok()?;
            let email = r.email.unwrap_or_default();
            let created = r.created.unwrap_or_default();
            Request::ListInvites(ListInvitesRequest {
                organization_id: r.organization_id,
                statuses: r
                    .status
                    .into_iter()
                    .filter_map(InviteStatus::from_wire)
                    .collect(),
                page_token: non_empty(r.page_token),
                page_size: u32::try_from(r.page_size).ok().filter(|size| *size > 0),
                email_contains: non_empty(email.contains),
                email_exact: non_empty(email.exact),
                sender_id: r.sender_id,
                created_after: from_timestamp(created.after),
                created_before: from_timestamp(created.before),
            })
        }
        Method::ResendInvite => {
            let r = proto::ResendOrganizationInviteRequest::decode(bytes).ok()?;
            Request::ResendInvite(InviteActionRequest {
                organization_id: r.organization_id,
                invite_id: r.invite_id,
            })
        }
        Method::RevokeInvite => {
            let r = proto::RevokeOrganizationInviteRequest::decode(bytes).ok()?;
            Request::RevokeInvite(InviteActionRequest {
                organization_id: r.organization_id,
                invite_id: r.invite_id,
            })
        }
        Method::AcceptInvite => {
            let r = proto::AcceptOrganizationInviteRequest::decode(bytes).ok()?;
            Request::AcceptInvite(AcceptInviteRequest {
                organization_id: r.organization_id,
                token: r.token,
            })
        }
    })
}
