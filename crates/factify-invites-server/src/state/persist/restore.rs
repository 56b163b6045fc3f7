//! The store to a [`Snapshot`] and back: whole, or (from a database) with
//! the invitations and emails a row at a time.

use super::super::model::{Account, ApiKey, IdempotentCreate, Invite, Organization, State, Stored};
use super::{
    parse, AccountRecord, ApiKeyRecord, EmailKindRecord, EmailRecord, IdempotencyRecord,
    InviteRecord, OrganizationRecord, Restored, Snapshot, SnapshotError, StoredRecord, VERSION,
};
use crate::ids::{InviteId, OrganizationId, UserId};
use crate::types::{EmailKind, Permissions, SentEmail};

impl State {
    /// The snapshot of this store, in a stable order.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut snapshot = self.seed_snapshot();
        let mut invites: Vec<_> = self.invites.values().map(InviteRecord::from).collect();
        invites.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let mut idempotency: Vec<_> = self
            .idempotency
            .iter()
            .map(|(scope, record)| IdempotencyRecord::new(scope, record))
            .collect();
        idempotency.sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
        snapshot.invites = invites;
        snapshot.idempotency = idempotency;
        snapshot.emails = self.emails.iter().map(EmailRecord::from).collect();
        snapshot
    }

    /// The organizations, accounts and API keys only.
    pub(crate) fn seed_snapshot(&self) -> Snapshot {
        let mut organizations: Vec<_> = self.organizations.values().collect();
        organizations.sort_by_key(|org| org.position);
        let organizations = organizations
            .into_iter()
            .map(|org| OrganizationRecord {
                id: org.id.to_string(),
                name: org.name.clone(),
                created_at: org.created_at,
                members: org.members.iter().map(ToString::to_string).collect(),
            })
            .collect();
        let mut accounts: Vec<_> = self
            .accounts
            .values()
            .map(|account| AccountRecord {
                id: account.id.to_string(),
                name: account.name.clone(),
                email: account.email.clone(),
            })
            .collect();
        accounts.sort_by(|a, b| a.id.cmp(&b.id));
        let mut api_keys: Vec<_> = self.api_keys.iter().collect();
        api_keys.sort_by_key(|(_, api_key)| api_key.position);
        let api_keys = api_keys
            .into_iter()
            .map(|(key, api_key)| ApiKeyRecord {
                key: key.clone(),
                account: api_key.account.to_string(),
                invite_members: api_key.permissions.invite_members,
                manage_members: api_key.permissions.manage_members,
            })
            .collect();
        Snapshot {
            version: VERSION,
            organizations,
            accounts,
            api_keys,
            invites: Vec::new(),
            idempotency: Vec::new(),
            emails: Vec::new(),
        }
    }

    /// Replaces the stored data with `snapshot`'s, after checking every ID
    /// in it; on error nothing changes. Call counts, rate limits, the
    /// page-token key and the change hook stay as they were.
    pub(crate) fn restore(&mut self, snapshot: Snapshot) -> Result<(), SnapshotError> {
        if snapshot.version != VERSION {
            return Err(SnapshotError(format!(
                "version {} is not supported (this build reads version {VERSION})",
                snapshot.version
            )));
        }
        self.restore_from(
            Restored {
                organizations: snapshot.organizations,
                accounts: snapshot.accounts,
                api_keys: snapshot.api_keys,
                idempotency: snapshot.idempotency,
            },
            snapshot.invites.into_iter().map(Ok),
            snapshot.emails.into_iter().map(Ok),
        )
    }

    /// [`restore`](Self::restore) with the invitations and emails given
    /// one at a time (read from a database), so that a million of them are
    /// never held twice; on error nothing changes.
    pub(in crate::state) fn restore_from(
        &mut self,
        snapshot: Restored,
        invite_records: impl IntoIterator<Item = Result<InviteRecord, SnapshotError>>,
        email_records: impl IntoIterator<Item = Result<EmailRecord, SnapshotError>>,
    ) -> Result<(), SnapshotError> {
        let mut accounts = std::collections::HashMap::new();
        for record in snapshot.accounts {
            let id = parse(&record.id, "account", UserId::parse)?;
            accounts.insert(
                id.clone(),
                Account {
                    id,
                    name: record.name,
                    email: record.email,
                },
            );
        }
        let mut organizations = std::collections::HashMap::new();
        for (position, record) in (0u64..).zip(snapshot.organizations) {
            let id = parse(&record.id, "organization", OrganizationId::parse)?;
            let members = record
                .members
                .iter()
                .map(|member| parse(member, "member", UserId::parse))
                .collect::<Result<_, _>>()?;
            organizations.insert(
                id.clone(),
                Organization {
                    id,
                    position,
                    name: record.name,
                    created_at: record.created_at,
                    members,
                    invites: Default::default(),
                },
            );
        }
        let mut api_keys = std::collections::HashMap::new();
        for (position, record) in (0u64..).zip(snapshot.api_keys) {
            let account = parse(&record.account, "API key account", UserId::parse)?;
            let permissions = Permissions {
                invite_members: record.invite_members,
                manage_members: record.manage_members,
            };
            api_keys.insert(
                record.key,
                ApiKey {
                    account,
                    permissions,
                    position,
                },
            );
        }
        let mut invites = std::collections::HashMap::new();
        let mut senders = std::collections::HashMap::new();
        for record in invite_records {
            let record = record?;
            let id = parse(&record.id, "invitation", InviteId::parse)?;
            let organization_id = parse(
                &record.organization_id,
                "invitation organization",
                OrganizationId::parse,
            )?;
            organizations.get(&organization_id).ok_or_else(|| {
                SnapshotError(format!(
                    "invitation {id} is of unknown organization {organization_id}"
                ))
            })?;
            let stored = match record.stored {
                StoredRecord::Pending => Stored::Pending,
                StoredRecord::Accepted => Stored::Accepted,
                StoredRecord::Revoked => Stored::Revoked,
            };
            let accepted = match (record.accepted_at, record.accepted_by) {
                (Some(at), Some(by)) => Some(Box::new((at, by.into()))),
                (None, None) => None,
                _ => {
                    return Err(SnapshotError(format!(
                        "invitation {id} has only one of accepted_at and accepted_by"
                    )))
                }
            };
            let invite = Invite {
                id: id.clone(),
                organization_id,
                email: record.email,
                stored,
                sender: crate::state::index::intern(&mut senders, record.sender.into()),
                created_at: record.created_at,
                expires_at: record.expires_at,
                accepted,
                message: record.message,
                token: record.token,
            };
            invites.insert(id, invite);
        }
        let mut idempotency = std::collections::HashMap::new();
        for record in snapshot.idempotency {
            let account = parse(&record.account, "idempotency account", UserId::parse)?;
            let organization = parse(
                &record.organization_id,
                "idempotency organization",
                OrganizationId::parse,
            )?;
            idempotency.insert(
                (account, organization, record.key),
                IdempotentCreate {
                    at: record.at,
                    email: record.email,
                    message: record.message,
                    response: record.response.into(),
                },
            );
        }
        let mut emails = Vec::new();
        for record in email_records {
            let record = record?;
            emails.push(SentEmail {
                to: record.to,
                organization_id: parse(
                    &record.organization_id,
                    "email organization",
                    OrganizationId::parse,
                )?,
                invite_id: parse(&record.invite_id, "email invitation", InviteId::parse)?,
                token: record.token,
                kind: match record.kind {
                    EmailKindRecord::Invitation => EmailKind::Invitation,
                    EmailKindRecord::Resend => EmailKind::Resend,
                },
                sent_at: record.sent_at,
            });
        }
        self.organizations = organizations;
        self.accounts = accounts;
        self.api_keys = api_keys;
        self.invites = invites;
        self.idempotency = idempotency;
        self.emails = emails;
        self.rebuild_indexes();
        self.windows.clear();
        if self.journaling() {
            // Whatever was stored is replaced: write it all, now if the
            // store can (else with the next change, which fails until then).
            self.journal.full = true;
            let _ = self.changed();
        }
        Ok(())
    }
}

impl State {
    /// [`restore`](Self::restore), then tells the change hook, so that a
    /// data file holds the restored store.
    pub(crate) fn restore_and_store(&mut self, snapshot: Snapshot) -> Result<(), String> {
        self.restore(snapshot).map_err(|err| err.to_string())?;
        self.changed().map_err(|err| err.message)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::ReferenceServer;

    #[test]
    fn a_snapshot_restores_to_an_equal_store_and_survives_json() {
        let server = ReferenceServer::new();
        let fixture = server.fixture();
        let at = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
        server.seed_invite(
            &fixture.organization,
            "seeded@example.com",
            &fixture.admin,
            at,
        );
        let snapshot = server.snapshot();
        assert_eq!(snapshot.organizations().len(), 1);
        assert_eq!(snapshot.api_keys()[0].key, fixture.admin_key);
        assert!(!format!("{snapshot:?}").contains(&fixture.admin_key));

        let json = serde_json::to_string(&snapshot).unwrap();
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, snapshot);
        let other = ReferenceServer::new();
        other.restore(back).unwrap();
        assert_eq!(other.snapshot(), snapshot);
        assert_eq!(
            other.invites(&fixture.organization),
            server.invites(&fixture.organization)
        );
    }

    #[test]
    fn a_bad_snapshot_changes_nothing() {
        let server = ReferenceServer::new();
        server.fixture();
        let before = server.snapshot();
        let mut bad = before.clone();
        bad.accounts[0].id = "user_nope".into();
        assert!(server.restore(bad).is_err());
        let mut newer = before.clone();
        newer.version = 2;
        assert!(server.restore(newer).is_err());
        assert_eq!(server.snapshot(), before);
    }
}
