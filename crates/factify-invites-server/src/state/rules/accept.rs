//! `AcceptOrganizationInvite`: a working token of the organization, for the
//! caller's email, joins the caller.

use chrono::{DateTime, Utc};

use crate::error::ApiError;
use crate::proto::{self, OrganizationInviteStatus as Status};
use crate::state::model::{same_email, Caller, State, Stored};
use crate::types::Method;
use crate::validate;

impl State {
    /// `AcceptOrganizationInvite`: needs no permission, only a valid key,
    /// whose account joins. A token that is unknown, superseded by a resend,
    /// revoked, expired, already used, or of another organization is
    /// `NOT_FOUND`; an account email other than the invitation's is
    /// `PERMISSION_DENIED`; a member already is `FAILED_PRECONDITION`.
    pub(crate) fn accept(
        &mut self,
        now: DateTime<Utc>,
        caller: &Caller,
        req: &proto::AcceptOrganizationInviteRequest,
    ) -> Result<proto::Organization, ApiError> {
        self.require(caller, Method::Accept)?;
        let input = validate::accept(req)?;
        let organization = self.organizations.get(&input.organization).ok_or_else(|| {
            ApiError::not_found(format!("organization {} not found", input.organization))
        })?;
        let invite = self
            .tokens
            .get(&input.token)
            .and_then(|id| self.invites.get(id))
            .filter(|invite| {
                invite.organization_id == input.organization
                    && invite.status(now) == Status::Pending
            })
            .ok_or_else(|| ApiError::not_found("invitation token not found or no longer valid"))?;
        if !same_email(&invite.email, &caller.account.email) {
            return Err(ApiError::insufficient_permissions(
                "this invitation is for another email address",
            ));
        }
        if organization.members.contains(&caller.account.id) {
            return Err(ApiError::precondition(format!(
                "{} is already a member of organization {}",
                caller.account.id, input.organization
            )));
        }
        let id = invite.id.clone();
        let response = organization.to_proto();
        self.unindex_pending(&id);
        if let Some(invite) = self.invites.get_mut(&id) {
            invite.stored = Stored::Accepted;
            invite.accepted = Some(Box::new((now, caller.account.to_user())));
            self.tokens.remove(&invite.token);
        }
        self.note_invite(&id);
        if let Some(organization) = self.organizations.get_mut(&input.organization) {
            organization.members.insert(caller.account.id.clone());
            if self.journaling() {
                self.journal
                    .members
                    .push((input.organization.clone(), caller.account.id.clone()));
            }
        }
        self.changed()?;
        Ok(response)
    }
}
