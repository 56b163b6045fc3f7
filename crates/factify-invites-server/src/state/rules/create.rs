//! `CreateOrganizationInvite`: the dedupe of a pending invitation, the
//! refusal of members, and idempotency keys.

use chrono::{DateTime, Utc};

use crate::clock::add;
use crate::error::ApiError;
use crate::proto::{self, OrganizationInviteStatus as Status};
use crate::state::model::{
    email_key, Caller, IdempotencyScope, IdempotentCreate, State, IDEMPOTENCY_TTL,
};
use crate::types::{EmailKind, Method, SentEmail};
use crate::validate::{self, CreateInput};

impl State {
    /// `CreateOrganizationInvite`.
    ///
    /// With an idempotency key (scoped to the caller's account and the
    /// organization), a repeat within 24 hours with the same email (exact)
    /// and message returns the first response unchanged and does nothing;
    /// with a different email or message it is `invalid_field_value` on
    /// `idempotency_key`. Only successes are remembered, and a key is
    /// forgotten 24 hours after its first use.
    pub(crate) fn create(
        &mut self,
        now: DateTime<Utc>,
        caller: &Caller,
        req: &proto::CreateOrganizationInviteRequest,
    ) -> Result<proto::OrganizationInvite, ApiError> {
        self.require(caller, Method::Create)?;
        let input = validate::create(req)?;
        self.member_organization(caller, &input.organization)?;

        self.forget_idempotency_keys(now);
        let scope = input
            .idempotency_key
            .clone()
            .map(|key| (caller.account.id.clone(), input.organization.clone(), key));
        if let Some(record) = scope.as_ref().and_then(|s| self.idempotency.get(s)) {
            return if record.email == input.email && record.message == input.message {
                let response = record.response.clone();
                self.flush()?;
                Ok(response)
            } else {
                Err(ApiError::invalid_value(
                    "idempotency_key",
                    "`idempotency_key` was already used with a different request",
                ))
            };
        }

        let response = self.create_or_resend(now, caller, &input)?;
        if let Some(scope) = scope {
            self.remember_idempotency_key(
                scope,
                IdempotentCreate {
                    at: now,
                    email: input.email,
                    message: input.message,
                    response: response.clone(),
                },
            );
        }
        self.changed()?;
        Ok(response)
    }

    /// Forgets the idempotency keys first used 24 hours or more before
    /// `now`, oldest first, so the cost is that of the keys forgotten.
    fn forget_idempotency_keys(&mut self, now: DateTime<Utc>) {
        while let Some((at, scope)) = self.idempotency_by_age.first().cloned() {
            if add(at, IDEMPOTENCY_TTL) > now {
                break;
            }
            self.idempotency_by_age.pop_first();
            if self
                .idempotency
                .get(&scope)
                .is_some_and(|record| record.at == at)
            {
                self.idempotency.remove(&scope);
                if self.journaling() {
                    self.journal.idempotency.insert(scope);
                }
            }
        }
    }

    fn remember_idempotency_key(&mut self, scope: IdempotencyScope, record: IdempotentCreate) {
        self.idempotency_by_age.insert((record.at, scope.clone()));
        if self.journaling() {
            self.journal.idempotency.insert(scope.clone());
        }
        self.idempotency.insert(scope, record);
    }

    /// A member's email is refused; a pending invitation for the email is
    /// resent (keeping its message and sender); otherwise a new one is made.
    fn create_or_resend(
        &mut self,
        now: DateTime<Utc>,
        caller: &Caller,
        input: &CreateInput,
    ) -> Result<proto::OrganizationInvite, ApiError> {
        let organization = self.member_organization(caller, &input.organization)?;
        let email = email_key(&input.email);
        let is_member = self
            .accounts_by_email
            .get(&email)
            .is_some_and(|ids| ids.iter().any(|id| organization.members.contains(id)));
        if is_member {
            return Err(ApiError::precondition(format!(
                "{} is already a member of organization {}",
                input.email, input.organization
            )));
        }
        let pending = self
            .pending_by_email
            .get(&(input.organization.clone(), email))
            .into_iter()
            .flat_map(|keys| keys.iter().rev())
            .filter_map(|(_, id)| self.invites.get(id))
            .find(|invite| invite.status(now) == Status::Pending)
            .map(|invite| invite.id.clone());
        let id = match pending {
            Some(id) => {
                return self
                    .refresh(now, &id)
                    .ok_or_else(|| ApiError::not_found(format!("invitation {id} not found")))
            }
            None => self.insert_invite(
                now,
                &input.organization,
                &input.email,
                caller.account.to_user(),
                input.message.clone(),
            ),
        };
        let invite = self
            .invites
            .get(&id)
            .ok_or_else(|| ApiError::not_found(format!("invitation {id} not found")))?;
        self.emails.push(SentEmail {
            to: invite.email.clone(),
            organization_id: invite.organization_id.clone(),
            invite_id: id.clone(),
            token: invite.token.clone(),
            kind: EmailKind::Invitation,
            sent_at: now,
        });
        Ok(invite.to_proto(now))
    }
}
