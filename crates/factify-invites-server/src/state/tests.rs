//! The store's rules, driven directly with a [`ManualClock`]: no tonic. The
//! world every test starts from is here; the tests are by concept, next to
//! the module they test.

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use tonic::Code;

use super::model::{Caller, State};
use crate::clock::ManualClock;
use crate::error::ApiError;
use crate::ids::{InviteId, OrganizationId, UserId};
use crate::proto::{self, OrganizationInviteStatus as Status};
use crate::types::{EmailKind, Method, Permissions, RateLimits};
use crate::validate::to_timestamp;

mod accept;
mod actions;
mod auth;
mod create;
mod list;
mod rate_limit;

/// A store with an organization, an admin member (all permissions) and a
/// clock.
struct World {
    state: State,
    clock: ManualClock,
    org: OrganizationId,
    admin_id: UserId,
    admin: Caller,
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0).unwrap()
}

fn world() -> World {
    let clock = ManualClock::new(start());
    let mut state = State::new();
    let org = state.add_organization(clock.now(), "Acme");
    let admin_id = state.add_account(clock.now(), "user", "Ada Admin", "admin@acme.example");
    assert!(state.add_member(&org, &admin_id));
    let key = state.add_api_key(&admin_id, Permissions::ALL);
    let admin = state.authenticate(Some(&format!("Bearer {key}"))).unwrap();
    World {
        state,
        clock,
        org,
        admin_id,
        admin,
    }
}

impl World {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A new account with a key of `permissions`, optionally a member.
    fn account(&mut self, email: &str, permissions: Permissions, member: bool) -> Caller {
        let id = self.state.add_account(self.now(), "user", "Someone", email);
        if member {
            self.state.add_member(&self.org, &id);
        }
        let key = self.state.add_api_key(&id, permissions);
        self.state
            .authenticate(Some(&format!("Bearer {key}")))
            .unwrap()
    }

    fn create_req(&self, email: &str) -> proto::CreateOrganizationInviteRequest {
        proto::CreateOrganizationInviteRequest {
            organization_id: self.org.to_string(),
            email: email.into(),
            ..Default::default()
        }
    }

    fn create(&mut self, email: &str) -> Result<proto::OrganizationInvite, ApiError> {
        let req = self.create_req(email);
        let (now, admin) = (self.now(), self.admin.clone());
        self.state.create(now, &admin, &req)
    }

    fn target(&self, invite: &str) -> proto::ResendOrganizationInviteRequest {
        proto::ResendOrganizationInviteRequest {
            organization_id: self.org.to_string(),
            invite_id: invite.into(),
        }
    }

    fn resend(&mut self, invite: &str) -> Result<proto::OrganizationInvite, ApiError> {
        let req = self.target(invite);
        let (now, admin) = (self.now(), self.admin.clone());
        self.state.resend(now, &admin, &req)
    }

    fn revoke(&mut self, invite: &str) -> Result<proto::OrganizationInvite, ApiError> {
        let req = proto::RevokeOrganizationInviteRequest {
            organization_id: self.org.to_string(),
            invite_id: invite.into(),
        };
        let (now, admin) = (self.now(), self.admin.clone());
        self.state.revoke(now, &admin, &req)
    }

    fn accept(&mut self, caller: &Caller, token: &str) -> Result<proto::Organization, ApiError> {
        let req = proto::AcceptOrganizationInviteRequest {
            organization_id: self.org.to_string(),
            token: token.into(),
        };
        let now = self.now();
        self.state.accept(now, caller, &req)
    }

    fn list(
        &self,
        req: proto::ListOrganizationInvitesRequest,
    ) -> Result<proto::ListOrganizationInvitesResponse, ApiError> {
        let req = proto::ListOrganizationInvitesRequest {
            organization_id: self.org.to_string(),
            ..req
        };
        self.state.list(self.now(), &self.admin, &req)
    }

    fn last_token(&self) -> String {
        self.state.sent_emails().last().unwrap().token.clone()
    }
}

fn reason(result: Result<impl std::fmt::Debug, ApiError>) -> (Code, &'static str) {
    let error = result.unwrap_err();
    (error.code, error.reason)
}

fn status(invite: &proto::OrganizationInvite) -> Status {
    Status::try_from(invite.status).unwrap()
}

fn time(invite_time: &Option<prost_types::Timestamp>) -> DateTime<Utc> {
    let t = invite_time.as_ref().unwrap();
    DateTime::from_timestamp(t.seconds, t.nanos as u32).unwrap()
}
