//! [`Client::accept_invite`] and its [`AcceptInvite`] builder.

use std::fmt;

use crate::error::{Error, Result, Safety};
use crate::ids::{IdError, IntoId, OrganizationId};
use crate::limits;
use crate::proto;
use crate::transport::{self, CallOptions};
use crate::types::{self, Organization};

use super::call_options;
use super::check::{check_len, checked_id};
use crate::client::Client;

impl Client {
    /// Joins the organization as the key's account, with the token of an
    /// invitation email; see [`AcceptInvite`].
    pub fn accept_invite(
        &self,
        organization_id: impl IntoId<OrganizationId>,
        token: impl Into<String>,
    ) -> AcceptInvite {
        AcceptInvite {
            client: self.clone(),
            organization_id: organization_id.into_id(),
            token: token.into(),
            options: CallOptions::default(),
        }
    }
}

/// A request to accept an invitation as the key's account; send it with
/// `.send()` or `.await`. Answers the organization joined.
#[must_use = "a request does nothing until it is sent or awaited"]
pub struct AcceptInvite {
    client: Client,
    organization_id: Result<OrganizationId, IdError>,
    token: String,
    options: CallOptions,
}

impl fmt::Debug for AcceptInvite {
    // The invitation token grants membership: keep it out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptInvite")
            .field("organization_id", &self.organization_id)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl AcceptInvite {
    /// Checks the arguments and sends the request.
    pub async fn send(self) -> Result<Organization> {
        self.options.check()?;
        let organization_id = checked_id(self.organization_id, "organization_id")?.into_string();
        if self.token.is_empty() {
            return Err(Error::invalid_request("token", "must not be empty"));
        }
        check_len(&self.token, limits::MAX_TOKEN_BYTES, "token")?;
        let request = proto::AcceptOrganizationInviteRequest {
            organization_id: organization_id.clone(),
            token: self.token,
        };
        let response: proto::AcceptOrganizationInviteResponse = self
            .client
            .caller()
            .call(
                transport::ACCEPT,
                Safety::NotIdempotent,
                &organization_id,
                request,
                &self.options,
            )
            .await?;
        types::organization_from_wire(response.organization, "organization")
    }
}

call_options!(AcceptInvite => Organization);
