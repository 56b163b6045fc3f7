//! The business rules of the API, one module per operation: `create`,
//! `list`, `actions` (resend, revoke) and `accept`. Each is a [`State`]
//! method taking the time (`now`), the authenticated [`Caller`] and the
//! protobuf request, and returning the response or an [`ApiError`]: no
//! clock, socket, lock or global, so the rules are unit-tested directly.
//!
//! Each checks in this order: the key's permission, the request's fields,
//! the organization (unknown: `NOT_FOUND`; the caller not a member:
//! `PERMISSION_DENIED`), the invitation, then the invitation's state. The
//! checks they share are here.

use chrono::{DateTime, Utc};

use super::model::{Caller, Invite, Organization, State, Stored, INVITE_TTL};
use crate::clock::add;
use crate::error::ApiError;
use crate::generate;
use crate::ids::{InviteId, OrganizationId};
use crate::proto::{self, OrganizationInviteStatus as Status};
use crate::types::{EmailKind, SentEmail};

mod accept;
mod actions;
mod create;
mod list;

impl State {
    /// The organization `id`, which the caller must be a member of.
    fn member_organization(
        &self,
        caller: &Caller,
        id: &OrganizationId,
    ) -> Result<&Organization, ApiError> {
        let organization = self
            .organizations
            .get(id)
            .ok_or_else(|| ApiError::not_found(format!("organization {id} not found")))?;
        if organization.members.contains(&caller.account.id) {
            Ok(organization)
        } else {
            Err(ApiError::insufficient_permissions(format!(
                "{} is not a member of organization {id}",
                caller.account.id
            )))
        }
    }

    /// The invitation `id` of the organization `org`.
    fn invite_in(&self, org: &OrganizationId, id: &InviteId) -> Result<&Invite, ApiError> {
        self.invites
            .get(id)
            .filter(|invite| invite.organization_id == *org)
            .ok_or_else(|| ApiError::not_found(format!("invitation {id} not found in {org}")))
    }

    /// Gives the invitation `id` a new token and expiry, makes it pending,
    /// and records a resend email.
    fn refresh(&mut self, now: DateTime<Utc>, id: &InviteId) -> Option<proto::OrganizationInvite> {
        let invite = self.invites.get_mut(id)?;
        self.tokens.remove(&invite.token);
        invite.token = generate::invite_token();
        invite.expires_at = add(now, INVITE_TTL);
        invite.stored = Stored::Pending;
        self.tokens.insert(invite.token.clone(), id.clone());
        self.emails.push(SentEmail {
            to: invite.email.clone(),
            organization_id: invite.organization_id.clone(),
            invite_id: id.clone(),
            token: invite.token.clone(),
            kind: EmailKind::Resend,
            sent_at: now,
        });
        let invite = invite.to_proto(now);
        self.note_invite(id);
        Some(invite)
    }
}

/// A status in words, for messages.
fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pending => "pending",
        Status::Accepted => "accepted",
        Status::Expired => "expired",
        Status::Revoked => "revoked",
        Status::Unspecified => "unspecified",
    }
}
