//! Seeding: organizations, accounts, members, API keys and invitations put
//! in directly (by the server's owner, not the API), with chosen or fresh
//! IDs.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::model::{email_key, Account, ApiKey, Organization, State};
use crate::generate;
use crate::ids::{InviteId, OrganizationId, UserId};
use crate::types::Permissions;

impl State {
    /// Adds an organization with a given ID (replacing one with that ID).
    pub(crate) fn insert_organization(
        &mut self,
        id: OrganizationId,
        name: &str,
        created_at: DateTime<Utc>,
    ) {
        let position = self.next_position;
        self.next_position += 1;
        self.organizations.insert(
            id.clone(),
            Organization {
                id,
                position,
                name: name.to_owned(),
                created_at,
                members: BTreeSet::new(),
                invites: BTreeSet::new(),
            },
        );
        self.note_seed();
    }

    /// Adds an account with a given ID (replacing one with that ID).
    pub(crate) fn insert_account(&mut self, id: UserId, name: &str, email: &str) {
        let account = Account {
            id: id.clone(),
            name: name.to_owned(),
            email: email.to_owned(),
        };
        if let Some(old) = self.accounts.insert(id.clone(), account) {
            let key = email_key(&old.email);
            if let Some(ids) = self.accounts_by_email.get_mut(&key) {
                ids.remove(&id);
                if ids.is_empty() {
                    self.accounts_by_email.remove(&key);
                }
            }
        }
        self.accounts_by_email
            .entry(email_key(email))
            .or_default()
            .insert(id);
        self.note_seed();
    }

    /// Registers a given API key for `user` (replacing that key's owner and
    /// permissions if it exists).
    pub(crate) fn insert_api_key(&mut self, key: &str, user: &UserId, permissions: Permissions) {
        let position = self.next_position;
        self.next_position += 1;
        self.api_keys.insert(
            key.to_owned(),
            ApiKey {
                account: user.clone(),
                permissions,
                position,
            },
        );
        self.note_seed();
    }

    /// Adds an organization created at `now`.
    pub(crate) fn add_organization(&mut self, now: DateTime<Utc>, name: &str) -> OrganizationId {
        let id = generate::typed_id("org", now, OrganizationId::parse);
        self.insert_organization(id.clone(), name, now);
        id
    }

    /// Adds an account; `prefix` is `user` or `svc`.
    pub(crate) fn add_account(
        &mut self,
        now: DateTime<Utc>,
        prefix: &str,
        name: &str,
        email: &str,
    ) -> UserId {
        let id = generate::typed_id(prefix, now, UserId::parse);
        self.insert_account(id.clone(), name, email);
        id
    }

    /// Makes `user` a member of `org`; false when either is unknown.
    pub(crate) fn add_member(&mut self, org: &OrganizationId, user: &UserId) -> bool {
        match self.organizations.get_mut(org) {
            Some(organization) if self.accounts.contains_key(user) => {
                organization.members.insert(user.clone());
                self.note_seed();
                true
            }
            _ => false,
        }
    }

    /// Issues a key for `user` (which authenticates only while the account
    /// exists).
    pub(crate) fn add_api_key(&mut self, user: &UserId, permissions: Permissions) -> String {
        let key = generate::api_key();
        self.insert_api_key(&key, user, permissions);
        key
    }

    /// Inserts a pending invitation created at `created_at`, without an
    /// email; `None` when the organization is unknown. An unknown sender is
    /// snapshotted with its ID as its name and no email.
    pub(crate) fn seed_invite(
        &mut self,
        org: &OrganizationId,
        email: &str,
        sender: &UserId,
        created_at: DateTime<Utc>,
    ) -> Option<InviteId> {
        if !self.organizations.contains_key(org) {
            return None;
        }
        let sender = match self.accounts.get(sender) {
            Some(account) => account.to_user(),
            None => Account {
                id: sender.clone(),
                name: sender.to_string(),
                email: String::new(),
            }
            .to_user(),
        };
        let invite = self.insert_invite(created_at, org, email, sender, None);
        Some(invite)
    }
}
