//! Reading the database into the store: the small tables at once, the
//! invitations and emails a row at a time.

use std::collections::HashMap;

use rusqlite::Row;

use super::super::model::State;
use super::super::persist::{
    AccountRecord, ApiKeyRecord, EmailKindRecord, EmailRecord, IdempotencyRecord, InviteRecord,
    OrganizationRecord, ResponseRecord, Restored, SnapshotError, StoredRecord, UserRecord,
};
use super::{bad_row, from_json, from_text, time, Database, DatabaseError};

impl Database {
    /// Replaces `state`'s data with the stored store, reading invitations
    /// and emails one row at a time (a million are never held twice); on
    /// error `state` is unchanged.
    pub(super) fn load_into(&self, state: &mut State) -> Result<(), DatabaseError> {
        let invalid = |source: SnapshotError| DatabaseError::Invalid {
            path: self.path.clone(),
            source,
        };
        let restored = self.read_small().map_err(|err| self.storage(err))?;
        let mut invites = self
            .connection
            .prepare(
                "SELECT id, organization_id, email, stored, sender, created_at, expires_at,
                        accepted_at, accepted_by, message, token FROM invites",
            )
            .map_err(|err| self.storage(err))?;
        let mut emails = self
            .connection
            .prepare(
                "SELECT recipient, organization_id, invite_id, token, kind, sent_at FROM emails
                 ORDER BY seq",
            )
            .map_err(|err| self.storage(err))?;
        let invites = invites
            .query_map([], invite_row)
            .map_err(|err| self.storage(err))?;
        let emails = emails
            .query_map([], email_row)
            .map_err(|err| self.storage(err))?;
        let row_error = |err: rusqlite::Error| SnapshotError(format!("reading a row: {err}"));
        state
            .restore_from(
                restored,
                invites.map(|row| row.map_err(row_error)),
                emails.map(|row| row.map_err(row_error)),
            )
            .map_err(invalid)
    }

    /// Organizations with their members, accounts, API keys and
    /// idempotency keys.
    fn read_small(&self) -> rusqlite::Result<Restored> {
        let db = &self.connection;
        let mut members: HashMap<String, Vec<String>> = HashMap::new();
        let mut statement = db.prepare(
            "SELECT organization_id, account_id FROM members
             ORDER BY organization_id, account_id",
        )?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        for row in rows {
            let (org, account): (String, String) = row?;
            members.entry(org).or_default().push(account);
        }
        let organizations = db
            .prepare("SELECT id, name, created_at FROM organizations ORDER BY position")?
            .query_map([], |row| {
                let id: String = row.get(0)?;
                Ok(OrganizationRecord {
                    members: members.remove(&id).unwrap_or_default(),
                    id,
                    name: row.get(1)?,
                    created_at: time(row, 2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let accounts = db
            .prepare("SELECT id, name, email FROM accounts ORDER BY id")?
            .query_map([], |row| {
                Ok(AccountRecord {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    email: row.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let api_keys = db
            .prepare(
                "SELECT key, account_id, invite_members, manage_members FROM api_keys
                 ORDER BY position",
            )?
            .query_map([], |row| {
                Ok(ApiKeyRecord {
                    key: row.get(0)?,
                    account: row.get(1)?,
                    invite_members: row.get(2)?,
                    manage_members: row.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let idempotency = db
            .prepare(
                "SELECT account_id, organization_id, key, at, email, message, response
                 FROM idempotency",
            )?
            .query_map([], |row| {
                Ok(IdempotencyRecord {
                    account: row.get(0)?,
                    organization_id: row.get(1)?,
                    key: row.get(2)?,
                    at: time(row, 3)?,
                    email: row.get(4)?,
                    message: row.get(5)?,
                    response: from_json::<ResponseRecord>(&row.get::<_, String>(6)?)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Restored {
            organizations,
            accounts,
            api_keys,
            idempotency,
        })
    }
}

/// An `invites` row.
fn invite_row(row: &Row<'_>) -> rusqlite::Result<InviteRecord> {
    let stored: String = row.get(3)?;
    Ok(InviteRecord {
        id: row.get(0)?,
        organization_id: row.get(1)?,
        email: row.get(2)?,
        stored: match stored.as_str() {
            "pending" => StoredRecord::Pending,
            "accepted" => StoredRecord::Accepted,
            "revoked" => StoredRecord::Revoked,
            other => return Err(bad_row(format!("unknown invite state {other:?}"))),
        },
        sender: from_json::<UserRecord>(&row.get::<_, String>(4)?)?,
        created_at: time(row, 5)?,
        expires_at: time(row, 6)?,
        accepted_at: row
            .get::<_, Option<String>>(7)?
            .map(|text| from_text(&text).map_err(bad_row))
            .transpose()?,
        accepted_by: row
            .get::<_, Option<String>>(8)?
            .map(|text| from_json::<UserRecord>(&text))
            .transpose()?,
        message: row.get(9)?,
        token: row.get(10)?,
    })
}

/// An `emails` row.
fn email_row(row: &Row<'_>) -> rusqlite::Result<EmailRecord> {
    let kind: String = row.get(4)?;
    Ok(EmailRecord {
        to: row.get(0)?,
        organization_id: row.get(1)?,
        invite_id: row.get(2)?,
        token: row.get(3)?,
        kind: match kind.as_str() {
            "invitation" => EmailKindRecord::Invitation,
            "resend" => EmailKindRecord::Resend,
            other => return Err(bad_row(format!("unknown email kind {other:?}"))),
        },
        sent_at: time(row, 5)?,
    })
}
