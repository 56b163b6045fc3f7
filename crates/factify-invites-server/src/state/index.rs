//! The store's indexes kept in step with its invitations: by organization
//! in list order, by working token, the stored-pending ones by organization
//! and email, and the shared sender snapshots; rebuilt whole after a
//! restore.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::model::{email_key, Invite, State, Stored, INVITE_TTL};
use crate::clock::add;
use crate::cursor::Anchor;
use crate::generate;
use crate::ids::{InviteId, OrganizationId};
use crate::proto;

impl State {
    pub(super) fn insert_invite(
        &mut self,
        now: DateTime<Utc>,
        org: &OrganizationId,
        email: &str,
        sender: proto::User,
        message: Option<String>,
    ) -> InviteId {
        let id = generate::typed_id("inv", now, InviteId::parse);
        let sender = intern(&mut self.senders, sender);
        let invite = Invite {
            id: id.clone(),
            organization_id: org.clone(),
            email: email.to_owned(),
            stored: Stored::Pending,
            sender,
            created_at: now,
            expires_at: add(now, INVITE_TTL),
            accepted: None,
            message,
            token: generate::invite_token(),
        };
        if let Some(organization) = self.organizations.get_mut(org) {
            organization.invites.insert(invite.key());
        }
        insert_sorted(
            self.pending_by_email
                .entry((org.clone(), email_key(email)))
                .or_default(),
            invite.key(),
        );
        self.tokens.insert(invite.token.clone(), id.clone());
        self.invites.insert(id.clone(), invite);
        self.note_invite(&id);
        id
    }

    /// Takes the invitation `id` (no longer stored as pending) out of the
    /// dedupe index.
    pub(super) fn unindex_pending(&mut self, id: &InviteId) {
        let Some(invite) = self.invites.get(id) else {
            return;
        };
        let key = (invite.organization_id.clone(), email_key(&invite.email));
        if let Some(keys) = self.pending_by_email.get_mut(&key) {
            if let Ok(at) = keys.binary_search(&invite.key()) {
                keys.remove(at);
            }
            if keys.is_empty() {
                self.pending_by_email.remove(&key);
            }
        }
    }

    /// Rebuilds every index from the organizations, accounts, invitations
    /// and idempotency keys (after a restore), and the next position.
    #[cfg_attr(not(feature = "persist"), allow(dead_code))]
    pub(super) fn rebuild_indexes(&mut self) {
        self.accounts_by_email.clear();
        for account in self.accounts.values() {
            self.accounts_by_email
                .entry(email_key(&account.email))
                .or_default()
                .insert(account.id.clone());
        }
        self.tokens.clear();
        self.pending_by_email.clear();
        self.senders.clear();
        for organization in self.organizations.values_mut() {
            organization.invites.clear();
        }
        for invite in self.invites.values_mut() {
            match self.senders.get(&invite.sender.id) {
                Some(shared) if **shared == *invite.sender => invite.sender = shared.clone(),
                _ => {
                    self.senders
                        .insert(invite.sender.id.clone(), invite.sender.clone());
                }
            }
            if let Some(organization) = self.organizations.get_mut(&invite.organization_id) {
                organization.invites.insert(invite.key());
            }
            if invite.stored == Stored::Pending {
                self.tokens.insert(invite.token.clone(), invite.id.clone());
                insert_sorted(
                    self.pending_by_email
                        .entry((invite.organization_id.clone(), email_key(&invite.email)))
                        .or_default(),
                    invite.key(),
                );
            }
        }
        self.idempotency_by_age = self
            .idempotency
            .iter()
            .map(|(scope, record)| (record.at, scope.clone()))
            .collect();
        let positions = self.organizations.values().map(|org| org.position);
        let key_positions = self.api_keys.values().map(|key| key.position);
        self.next_position = positions.chain(key_positions).max().map_or(0, |p| p + 1);
    }
}

/// The shared copy of `user` (as a sender snapshot): the cached one when it
/// is equal, else `user`, cached from now on.
pub(super) fn intern(
    senders: &mut HashMap<String, Arc<proto::User>>,
    user: proto::User,
) -> Arc<proto::User> {
    match senders.get(&user.id) {
        Some(shared) if **shared == user => shared.clone(),
        _ => {
            let shared = Arc::new(user);
            senders.insert(shared.id.clone(), shared.clone());
            shared
        }
    }
}

/// Inserts `key` into the sorted `keys`, unless it is there.
fn insert_sorted(keys: &mut Vec<Anchor>, key: Anchor) {
    if let Err(at) = keys.binary_search(&key) {
        keys.insert(at, key);
    }
}
