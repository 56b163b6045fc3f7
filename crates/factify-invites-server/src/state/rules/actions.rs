//! `ResendOrganizationInvite` and `RevokeOrganizationInvite`: what each
//! invitation state allows.

use chrono::{DateTime, Utc};

use super::status_word;
use crate::error::ApiError;
use crate::proto::{self, OrganizationInviteStatus as Status};
use crate::state::model::{Caller, State, Stored};
use crate::types::Method;
use crate::validate;

impl State {
    /// `ResendOrganizationInvite`: a pending or expired invitation gets a new
    /// token (the old one stops working) and expiry, and an email; revoked
    /// or accepted is `FAILED_PRECONDITION`.
    pub(crate) fn resend(
        &mut self,
        now: DateTime<Utc>,
        caller: &Caller,
        req: &proto::ResendOrganizationInviteRequest,
    ) -> Result<proto::OrganizationInvite, ApiError> {
        self.require(caller, Method::Resend)?;
        let target = validate::invite_ref(&req.organization_id, &req.invite_id)?;
        self.member_organization(caller, &target.organization)?;
        let invite = self.invite_in(&target.organization, &target.invite)?;
        match invite.status(now) {
            Status::Pending | Status::Expired => {
                let invite = self
                    .refresh(now, &target.invite)
                    .ok_or_else(|| ApiError::not_found("invitation not found"))?;
                self.changed()?;
                Ok(invite)
            }
            status => Err(ApiError::precondition(format!(
                "invitation {} is {}; only pending or expired invitations can be resent",
                target.invite,
                status_word(status)
            ))),
        }
    }

    /// `RevokeOrganizationInvite`: only a pending invitation (not expired)
    /// can be revoked; its token stops working.
    pub(crate) fn revoke(
        &mut self,
        now: DateTime<Utc>,
        caller: &Caller,
        req: &proto::RevokeOrganizationInviteRequest,
    ) -> Result<proto::OrganizationInvite, ApiError> {
        self.require(caller, Method::Revoke)?;
        let target = validate::invite_ref(&req.organization_id, &req.invite_id)?;
        self.member_organization(caller, &target.organization)?;
        let status = self
            .invite_in(&target.organization, &target.invite)?
            .status(now);
        if status != Status::Pending {
            return Err(ApiError::precondition(format!(
                "invitation {} is {}; only pending invitations can be revoked",
                target.invite,
                status_word(status)
            )));
        }
        self.unindex_pending(&target.invite);
        let invite = self
            .invites
            .get_mut(&target.invite)
            .ok_or_else(|| ApiError::not_found("invitation not found"))?;
        invite.stored = Stored::Revoked;
        self.tokens.remove(&invite.token);
        let invite = invite.to_proto(now);
        self.note_invite(&target.invite);
        self.changed()?;
        Ok(invite)
    }
}
