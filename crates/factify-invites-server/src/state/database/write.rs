//! Writing the store: what the journal says changed, in one transaction,
//! and the change hook that does it after every call.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use rusqlite::{params, Transaction};

use super::super::model::{ChangeFn, Journal, State};
use super::super::persist::{
    EmailKindRecord, EmailRecord, IdempotencyRecord, InviteRecord, StoredRecord,
};
use super::{json, to_text, Database, DatabaseError};

impl Database {
    /// Writes what `journal` says changed in `state`, in one transaction:
    /// committed (and on disk) when this returns `Ok`, not at all otherwise.
    fn write(&mut self, state: &State, journal: &Journal) -> rusqlite::Result<()> {
        let transaction = self.connection.transaction()?;
        if journal.full {
            transaction.execute_batch(
                "DELETE FROM invites; DELETE FROM emails; DELETE FROM idempotency;",
            )?;
            write_seed(&transaction, state)?;
            for invite in state.invites.values() {
                put_invite(&transaction, &InviteRecord::from(invite))?;
            }
            for (scope, record) in &state.idempotency {
                put_idempotency(&transaction, &IdempotencyRecord::new(scope, record))?;
            }
            for email in &state.emails {
                put_email(&transaction, &EmailRecord::from(email))?;
            }
        } else {
            if journal.seed {
                write_seed(&transaction, state)?;
            }
            for id in &journal.invites {
                if let Some(invite) = state.invites.get(id) {
                    put_invite(&transaction, &InviteRecord::from(invite))?;
                }
            }
            let mut add_member = transaction.prepare_cached(
                "INSERT OR IGNORE INTO members (organization_id, account_id) VALUES (?1, ?2)",
            )?;
            for (org, account) in &journal.members {
                add_member.execute(params![org.as_str(), account.as_str()])?;
            }
            drop(add_member);
            for scope in &journal.idempotency {
                match state.idempotency.get(scope) {
                    Some(record) => {
                        put_idempotency(&transaction, &IdempotencyRecord::new(scope, record))?
                    }
                    None => {
                        transaction
                            .prepare_cached(
                                "DELETE FROM idempotency
                                 WHERE account_id = ?1 AND organization_id = ?2 AND key = ?3",
                            )?
                            .execute(params![scope.0.as_str(), scope.1.as_str(), scope.2])?;
                    }
                }
            }
            for email in state.emails.iter().skip(journal.emails_stored) {
                put_email(&transaction, &EmailRecord::from(email))?;
            }
        }
        transaction
            .prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES ('stored_at', ?1)")?
            .execute([to_text(Utc::now())])?;
        transaction.commit()
    }
}

/// Rewrites the organizations, accounts, members and API keys (a seed is
/// small; members added by accepts are written one by one instead).
fn write_seed(transaction: &Transaction<'_>, state: &State) -> rusqlite::Result<()> {
    transaction.execute_batch(
        "DELETE FROM organizations; DELETE FROM accounts; DELETE FROM members;
         DELETE FROM api_keys;",
    )?;
    let mut organizations: Vec<_> = state.organizations.values().collect();
    organizations.sort_by_key(|org| org.position);
    for org in organizations {
        transaction
            .prepare_cached(
                "INSERT INTO organizations (position, id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                i64::try_from(org.position).unwrap_or(i64::MAX),
                org.id.as_str(),
                org.name,
                to_text(org.created_at)
            ])?;
        for member in &org.members {
            transaction
                .prepare_cached(
                    "INSERT INTO members (organization_id, account_id) VALUES (?1, ?2)",
                )?
                .execute(params![org.id.as_str(), member.as_str()])?;
        }
    }
    for account in state.accounts.values() {
        transaction
            .prepare_cached("INSERT INTO accounts (id, name, email) VALUES (?1, ?2, ?3)")?
            .execute(params![account.id.as_str(), account.name, account.email])?;
    }
    for (key, api_key) in &state.api_keys {
        transaction
            .prepare_cached(
                "INSERT INTO api_keys (position, key, account_id, invite_members, manage_members)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                i64::try_from(api_key.position).unwrap_or(i64::MAX),
                key,
                api_key.account.as_str(),
                api_key.permissions.invite_members,
                api_key.permissions.manage_members
            ])?;
    }
    Ok(())
}

fn put_invite(transaction: &Transaction<'_>, invite: &InviteRecord) -> rusqlite::Result<()> {
    let stored = match invite.stored {
        StoredRecord::Pending => "pending",
        StoredRecord::Accepted => "accepted",
        StoredRecord::Revoked => "revoked",
    };
    transaction
        .prepare_cached(
            "INSERT OR REPLACE INTO invites (id, organization_id, email, stored, sender,
                 created_at, expires_at, accepted_at, accepted_by, message, token)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            invite.id,
            invite.organization_id,
            invite.email,
            stored,
            json(&invite.sender)?,
            to_text(invite.created_at),
            to_text(invite.expires_at),
            invite.accepted_at.map(to_text),
            invite.accepted_by.as_ref().map(json).transpose()?,
            invite.message,
            invite.token,
        ])?;
    Ok(())
}

fn put_email(transaction: &Transaction<'_>, email: &EmailRecord) -> rusqlite::Result<()> {
    let kind = match email.kind {
        EmailKindRecord::Invitation => "invitation",
        EmailKindRecord::Resend => "resend",
    };
    transaction
        .prepare_cached(
            "INSERT INTO emails (recipient, organization_id, invite_id, token, kind, sent_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            email.to,
            email.organization_id,
            email.invite_id,
            email.token,
            kind,
            to_text(email.sent_at)
        ])?;
    Ok(())
}

fn put_idempotency(
    transaction: &Transaction<'_>,
    record: &IdempotencyRecord,
) -> rusqlite::Result<()> {
    transaction
        .prepare_cached(
            "INSERT OR REPLACE INTO idempotency
                 (account_id, organization_id, key, at, email, message, response)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            record.account,
            record.organization_id,
            record.key,
            to_text(record.at),
            record.email,
            record.message,
            json(&record.response)?,
        ])?;
    Ok(())
}

impl State {
    /// Keeps the store in `database` from now on (see
    /// [`ReferenceServer::attach_database`](crate::ReferenceServer::attach_database)):
    /// loads it, or writes the store into it when it is new, then sets the
    /// change hook that writes every change.
    pub(crate) fn attach_database(&mut self, mut database: Database) -> Result<(), DatabaseError> {
        self.set_on_change(None);
        if database.empty {
            let journal = Journal {
                full: true,
                ..Journal::default()
            };
            database
                .write(self, &journal)
                .map_err(|err| database.storage(err))?;
            database.empty = false;
        } else {
            database.load_into(self)?;
        }
        let database = Arc::new(Mutex::new(database));
        let hook: ChangeFn = Arc::new(move |state: &State, journal: &Journal| {
            let write = || {
                let mut database = database.lock().unwrap_or_else(PoisonError::into_inner);
                database
                    .write(state, journal)
                    .map_err(|err| format!("{}: {err}", database.path.display()))
            };
            let multi_threaded = tokio::runtime::Handle::try_current().is_ok_and(|handle| {
                handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
            });
            if multi_threaded {
                tokio::task::block_in_place(write)
            } else {
                write()
            }
        });
        self.set_on_change(Some(hook));
        Ok(())
    }
}
