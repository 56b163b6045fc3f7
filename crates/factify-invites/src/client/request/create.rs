//! [`Client::create_invite`] and its [`CreateInvite`] builder.

use crate::error::{Error, Result, Safety};
use crate::ids::{IdError, IntoId, OrganizationId};
use crate::limits;
use crate::proto;
use crate::transport::{self, CallOptions, Received};
use crate::types::{self, Invite};

use super::call_options;
use super::check::{check_email, check_len, checked_id};
use crate::client::Client;

impl Client {
    /// Invites `email` to the organization; see [`CreateInvite`].
    pub fn create_invite(
        &self,
        organization_id: impl IntoId<OrganizationId>,
        email: impl Into<String>,
    ) -> CreateInvite {
        CreateInvite {
            client: self.clone(),
            organization_id: organization_id.into_id(),
            email: email.into(),
            message: None,
            idempotency_key: None,
            options: CallOptions::default(),
        }
    }
}

/// A request to invite an email address; send it with `.send()` or `.await`.
///
/// If the address already has a pending invitation, the server resends that
/// one (new token, refreshed expiry) and returns it: no duplicate is made.
#[must_use = "a request does nothing until it is sent or awaited"]
#[derive(Debug)]
pub struct CreateInvite {
    client: Client,
    organization_id: Result<OrganizationId, IdError>,
    email: String,
    message: Option<String>,
    idempotency_key: Option<String>,
    options: CallOptions,
}

impl CreateInvite {
    /// A personal note for the email, at most 2000 bytes.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Makes the call safe to repeat: the server answers a repeat with the
    /// same key within 24 hours with the original invitation and sends no
    /// second email. At most 255 bytes.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    fn request(&mut self) -> Result<proto::CreateOrganizationInviteRequest> {
        self.options.check()?;
        let organization_id = checked_id(self.organization_id.clone(), "organization_id")?;
        check_email(&self.email, "email")?;
        if let Some(message) = &self.message {
            check_len(message, limits::MAX_MESSAGE_BYTES, "message")?;
        }
        if let Some(key) = &self.idempotency_key {
            if key.is_empty() {
                return Err(Error::invalid_request(
                    "idempotency_key",
                    "must not be empty",
                ));
            }
            check_len(key, limits::MAX_IDEMPOTENCY_KEY_BYTES, "idempotency_key")?;
        }
        Ok(proto::CreateOrganizationInviteRequest {
            organization_id: organization_id.into_string(),
            email: std::mem::take(&mut self.email),
            message: self.message.take(),
            idempotency_key: Some(
                self.idempotency_key
                    .take()
                    .unwrap_or_else(generated_idempotency_key),
            ),
        })
    }

    /// Checks the arguments and sends the request.
    pub async fn send(mut self) -> Result<Invite> {
        let request = self.request()?;
        let organization_id = request.organization_id.clone();
        let key = request.idempotency_key.clone().unwrap_or_default();
        // Past this point the server may have created the invitation (and
        // sent its email): an error whose outcome is unknown carries the key,
        // so that the caller can repeat the call without a second email.
        let response: Received<proto::CreateOrganizationInviteResponse> = self
            .client
            .caller()
            .call(
                transport::CREATE,
                Safety::Idempotent,
                &organization_id,
                request,
                &self.options,
            )
            .await
            .map_err(|err| err.with_idempotency_key(&key))?;
        types::invite_from_wire(response.message.invite, "invite", &response.names)
            .map_err(|err| err.with_idempotency_key(&key))
    }
}

call_options!(CreateInvite => Invite);

/// A fresh idempotency key for one logical create: 128 random bits.
fn generated_idempotency_key() -> String {
    format!("fi-{:032x}", fastrand::u128(..))
}
