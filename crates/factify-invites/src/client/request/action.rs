//! [`Client::resend_invite`], [`Client::revoke_invite`] and their
//! [`InviteAction`] builder.

use crate::error::{Result, Safety};
use crate::ids::{IdError, IntoId, InviteId, OrganizationId};
use crate::proto;
use crate::transport::{self, CallOptions, Received};
use crate::types::{self, Invite};

use super::call_options;
use super::check::checked_id;
use crate::client::Client;

impl Client {
    /// Sends a pending or expired invitation again, with a new token and a
    /// refreshed expiry.
    pub fn resend_invite(
        &self,
        organization_id: impl IntoId<OrganizationId>,
        invite_id: impl IntoId<InviteId>,
    ) -> InviteAction {
        InviteAction::new(
            self.clone(),
            Action::Resend,
            organization_id.into_id(),
            invite_id.into_id(),
        )
    }

    /// Revokes a pending invitation; its token stops working.
    pub fn revoke_invite(
        &self,
        organization_id: impl IntoId<OrganizationId>,
        invite_id: impl IntoId<InviteId>,
    ) -> InviteAction {
        InviteAction::new(
            self.clone(),
            Action::Revoke,
            organization_id.into_id(),
            invite_id.into_id(),
        )
    }
}

/// Which state change an [`InviteAction`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Resend,
    Revoke,
}

/// A request to resend or revoke one invitation; send it with `.send()` or
/// `.await`. Made by [`Client::resend_invite`] and [`Client::revoke_invite`].
#[must_use = "a request does nothing until it is sent or awaited"]
#[derive(Debug)]
pub struct InviteAction {
    client: Client,
    action: Action,
    organization_id: Result<OrganizationId, IdError>,
    invite_id: Result<InviteId, IdError>,
    options: CallOptions,
}

impl InviteAction {
    fn new(
        client: Client,
        action: Action,
        organization_id: Result<OrganizationId, IdError>,
        invite_id: Result<InviteId, IdError>,
    ) -> Self {
        InviteAction {
            client,
            action,
            organization_id,
            invite_id,
            options: CallOptions::default(),
        }
    }

    /// Checks the arguments and sends the request.
    pub async fn send(self) -> Result<Invite> {
        self.options.check()?;
        let organization_id = checked_id(self.organization_id, "organization_id")?.into_string();
        let invite_id = checked_id(self.invite_id, "invite_id")?.into_string();
        let (invite, names) = match self.action {
            Action::Resend => {
                let request = proto::ResendOrganizationInviteRequest {
                    organization_id: organization_id.clone(),
                    invite_id,
                };
                let response: Received<proto::ResendOrganizationInviteResponse> = self
                    .client
                    .caller()
                    .call(
                        transport::RESEND,
                        Safety::NotIdempotent,
                        &organization_id,
                        request,
                        &self.options,
                    )
                    .await?;
                (response.message.invite, response.names)
            }
            Action::Revoke => {
                let request = proto::RevokeOrganizationInviteRequest {
                    organization_id: organization_id.clone(),
                    invite_id,
                };
                let response: Received<proto::RevokeOrganizationInviteResponse> = self
                    .client
                    .caller()
                    .call(
                        transport::REVOKE,
                        Safety::NotIdempotent,
                        &organization_id,
                        request,
                        &self.options,
                    )
                    .await?;
                (response.message.invite, response.names)
            }
        };
        types::invite_from_wire(invite, "invite", &names)
    }
}

call_options!(InviteAction => Invite);
