//! The reference server's SQLite database (feature `persist`): [`Database`],
//! where `factify-invites serve --data` keeps its store, and
//! [`ReferenceServer::attach_database`], which loads it and writes every
//! change into it, in one transaction, before the call is answered. The
//! choices (SQLite, the lock, the schema check) are on [`Database`].

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::model::{ChangeFn, Journal, State};
use super::persist::{AccountRecord, ApiKeyRecord, OrganizationRecord, SnapshotError};
use super::persist::{
    EmailKindRecord, EmailRecord, IdempotencyRecord, InviteRecord, ResponseRecord, Restored,
    StoredRecord, UserRecord,
};

/// The schema this version writes and reads.
const SCHEMA_VERSION: &str = "1";

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The tables and their columns, in order; checked at open.
const TABLES: &[(&str, &[&str])] = &[
    ("meta", &["key", "value"]),
    ("organizations", &["position", "id", "name", "created_at"]),
    ("accounts", &["id", "name", "email"]),
    ("members", &["organization_id", "account_id"]),
    (
        "api_keys",
        &[
            "position",
            "key",
            "account_id",
            "invite_members",
            "manage_members",
        ],
    ),
    (
        "invites",
        &[
            "id",
            "organization_id",
            "email",
            "stored",
            "sender",
            "created_at",
            "expires_at",
            "accepted_at",
            "accepted_by",
            "message",
            "token",
        ],
    ),
    (
        "emails",
        &[
            "seq",
            "recipient",
            "organization_id",
            "invite_id",
            "token",
            "kind",
            "sent_at",
        ],
    ),
    (
        "idempotency",
        &[
            "account_id",
            "organization_id",
            "key",
            "at",
            "email",
            "message",
            "response",
        ],
    ),
];

const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE organizations (
    position INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE accounts (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE members (
    organization_id TEXT NOT NULL, account_id TEXT NOT NULL,
    PRIMARY KEY (organization_id, account_id)) WITHOUT ROWID;
CREATE TABLE api_keys (
    position INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL,
    invite_members INTEGER NOT NULL, manage_members INTEGER NOT NULL);
CREATE TABLE invites (
    id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, email TEXT NOT NULL,
    stored TEXT NOT NULL, sender TEXT NOT NULL, created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL, accepted_at TEXT, accepted_by TEXT, message TEXT,
    token TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE emails (
    seq INTEGER PRIMARY KEY, recipient TEXT NOT NULL, organization_id TEXT NOT NULL,
    invite_id TEXT NOT NULL, token TEXT NOT NULL, kind TEXT NOT NULL,
    sent_at TEXT NOT NULL);
CREATE TABLE idempotency (
    account_id TEXT NOT NULL, organization_id TEXT NOT NULL, key TEXT NOT NULL,
    at TEXT NOT NULL, email TEXT NOT NULL, message TEXT, response TEXT NOT NULL,
    PRIMARY KEY (account_id, organization_id, key)) WITHOUT ROWID;
";

/// Why a [`Database`] could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseError {
    /// Another process (another emulator) has the database open.
    #[error(
        "{} is in use by another process (another `factify-invites serve`?); \
         only one emulator may use a data file at a time",
        .path.display()
    )]
    Locked {
        /// The database file.
        path: PathBuf,
    },
    /// The file holds JSON: a data file of a version before the database.
    #[error(
        "{} is a JSON data file of an earlier version, not a SQLite database",
        .path.display()
    )]
    JsonDataFile {
        /// The JSON file.
        path: PathBuf,
    },
    /// The file is neither SQLite nor JSON.
    #[error("{} is not a SQLite database", .path.display())]
    NotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// The database is of a schema this version does not read, or its
    /// tables were changed; it is left as it is.
    #[error("{}: {message}", .path.display())]
    Unsupported {
        /// The database file.
        path: PathBuf,
        /// What does not match.
        message: String,
    },
    /// A stored row is malformed.
    #[error("{}: {source}", .path.display())]
    Invalid {
        /// The database file.
        path: PathBuf,
        /// What is wrong with it.
        source: SnapshotError,
    },
    /// SQLite or the file system failed.
    #[error("{}: {message}", .path.display())]
    Storage {
        /// The database file.
        path: PathBuf,
        /// SQLite's or the system's message.
        message: String,
    },
}

impl DatabaseError {
    /// Whether another process holds the database.
    pub fn is_locked(&self) -> bool {
        matches!(self, DatabaseError::Locked { .. })
    }

    /// Whether the file is a JSON data file of an earlier version.
    pub fn is_json_data_file(&self) -> bool {
        matches!(self, DatabaseError::JsonDataFile { .. })
    }
}

/// A SQLite database file holding a [`ReferenceServer`]'s store, opened
/// and locked by this process. Give it to
/// [`ReferenceServer::attach_database`].
///
/// Why SQLite (through `rusqlite`, compiled in): a change costs a few row
/// writes whatever the store holds (the JSON file it replaces was rewritten
/// whole), a commit is durable once it returns (WAL, `synchronous=FULL`), a
/// crash at any point leaves the last commit (no temporary files of ours),
/// and every language can read the file (`sqlite3 data.db`) while the
/// emulator runs. `redb` would do the first three, but only from Rust.
///
/// One process at a time: [`Database::open`] takes an exclusive `flock(2)`
/// on the file, which the kernel releases when the process ends, `SIGKILL`
/// included; a second opener gets [`DatabaseError::Locked`]. SQLite's own
/// locks are `fcntl` locks, which `flock` does not disturb, so readers such
/// as the `sqlite3` shell still work.
///
/// The schema is versioned (`meta.schema_version`); a database of another
/// version, or whose tables have columns this version does not know, is
/// refused rather than rewritten without them. Tables: `organizations`,
/// `accounts`, `members`, `api_keys`, `invites`, `emails` (the outbox, with
/// tokens), `idempotency`, `meta`.
///
/// ```
/// use factify_invites_server::{Database, ReferenceServer};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = std::env::temp_dir().join(format!("doc-{}.db", std::process::id()));
/// # let _ = std::fs::remove_file(&path);
/// let server = ReferenceServer::new();
/// let database = Database::open(&path)?;
/// if database.is_empty() {
///     server.fixture(); // seed only a new database
/// }
/// server.attach_database(database)?;
/// // A second opener is refused while this one holds it.
/// assert!(Database::open(&path).unwrap_err().is_locked());
/// server.detach_database();
/// # std::fs::remove_file(&path)?;
/// # Ok(())
/// # }
/// ```
pub struct Database {
    connection: Connection,
    path: PathBuf,
    empty: bool,
    /// Holds the `flock`; dropped after the connection (field order).
    _lock: File,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .field("empty", &self.empty)
            .finish_non_exhaustive()
    }
}

fn to_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn from_text(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|err| format!("time {text:?}: {err}"))
}

/// A row's problem (a malformed time or JSON column), as SQLite's error,
/// so reading stops at it.
fn bad_row(message: String) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(message.into())
}

fn json<T: serde::Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|err| bad_row(err.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|err| bad_row(format!("{text:?}: {err}")))
}

fn time(row: &Row<'_>, index: usize) -> rusqlite::Result<DateTime<Utc>> {
    from_text(&row.get::<_, String>(index)?).map_err(bad_row)
}

impl Database {
    /// Opens the database at `path`, creating it if there is no file, and
    /// locks it for this process until the `Database` is dropped (or
    /// detached from its server).
    ///
    /// # Errors
    ///
    /// [`DatabaseError::Locked`] when another process holds it;
    /// [`DatabaseError::JsonDataFile`] for a JSON data file of an earlier
    /// version; [`DatabaseError::NotADatabase`] for any other file that is
    /// not SQLite; [`DatabaseError::Unsupported`] for another schema
    /// version or changed tables; [`DatabaseError::Storage`] when the file
    /// cannot be opened or written.
    pub fn open(path: impl AsRef<Path>) -> Result<Database, DatabaseError> {
        let path = path.as_ref().to_path_buf();
        let storage = |err: &dyn fmt::Display| DatabaseError::Storage {
            path: path.clone(),
            message: err.to_string(),
        };
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|err| storage(&err))?;
        match fs4::FileExt::try_lock(&lock) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => return Err(DatabaseError::Locked { path }),
            Err(fs4::TryLockError::Error(err)) => return Err(storage(&err)),
        }
        let mut head = Vec::with_capacity(SQLITE_HEADER.len());
        (&mut lock)
            .take(SQLITE_HEADER.len() as u64)
            .read_to_end(&mut head)
            .map_err(|err| storage(&err))?;
        if !head.is_empty() && head != SQLITE_HEADER {
            let first = head.iter().find(|b| !b.is_ascii_whitespace());
            return Err(if first == Some(&b'{') {
                DatabaseError::JsonDataFile { path }
            } else {
                DatabaseError::NotADatabase { path }
            });
        }
        let connection = Connection::open(&path).map_err(|err| storage(&err))?;
        // WAL: one fsync per commit, and readers beside the writer;
        // synchronous=FULL: a commit survives power loss, not only a crash.
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| connection.pragma_update(None, "synchronous", "FULL"))
            .map_err(|err| storage(&err))?;
        let mut database = Database {
            connection,
            path,
            empty: true,
            _lock: lock,
        };
        database.prepare_schema()?;
        Ok(database)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether no store was ever written to it (a new file): seed the
    /// server before attaching it then.
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    fn storage(&self, err: impl fmt::Display) -> DatabaseError {
        DatabaseError::Storage {
            path: self.path.clone(),
            message: err.to_string(),
        }
    }

    fn unsupported(&self, message: String) -> DatabaseError {
        DatabaseError::Unsupported {
            path: self.path.clone(),
            message,
        }
    }

    /// Creates the tables of a new file, or checks those of an existing one.
    fn prepare_schema(&mut self) -> Result<(), DatabaseError> {
        let has_meta: bool = self
            .connection
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map(|count| count > 0)
            .map_err(|err| self.storage(err))?;
        if !has_meta {
            let tables: i64 = self
                .connection
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                    [],
                    |row| row.get(0),
                )
                .map_err(|err| self.storage(err))?;
            if tables > 0 {
                return Err(self.unsupported(
                    "this SQLite database is not a factify-invites store (it has no `meta` table)"
                        .to_owned(),
                ));
            }
            let transaction =
                self.connection
                    .transaction()
                    .map_err(|err| DatabaseError::Storage {
                        path: self.path.clone(),
                        message: err.to_string(),
                    })?;
            transaction
                .execute_batch(SCHEMA)
                .and_then(|()| {
                    transaction.execute(
                        "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                        [SCHEMA_VERSION],
                    )
                })
                .and_then(|_| transaction.commit())
                .map_err(|err| DatabaseError::Storage {
                    path: self.path.clone(),
                    message: err.to_string(),
                })?;
            return Ok(());
        }
        let meta = |key: &str| {
            self.connection
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                    row.get::<_, String>(0)
                })
                .optional()
                .map_err(|err| self.storage(err))
        };
        let version = meta("schema_version")?;
        if version.as_deref() != Some(SCHEMA_VERSION) {
            return Err(self.unsupported(format!(
                "schema version {} is not supported (this build reads version {SCHEMA_VERSION})",
                version.as_deref().unwrap_or("(none)")
            )));
        }
        self.empty = meta("stored_at")?.is_none();
        for (table, expected) in TABLES {
            let mut statement = self
                .connection
                .prepare("SELECT name FROM pragma_table_info(?1)")
                .map_err(|err| self.storage(err))?;
            let columns: Vec<String> = statement
                .query_map([table], |row| row.get(0))
                .and_then(Iterator::collect)
                .map_err(|err| self.storage(err))?;
            if columns != *expected {
                return Err(self.unsupported(format!(
                    "table `{table}` has columns {columns:?}, this version knows {expected:?}; \
                     refusing to rewrite it without the others"
                )));
            }
        }
        Ok(())
    }

    /// Replaces `state`'s data with the stored store, reading invitations
    /// and emails one row at a time (a million are never held twice); on
    /// error `state` is unchanged.
    fn load_into(&self, state: &mut State) -> Result<(), DatabaseError> {
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
        let row_error =
            |err: rusqlite::Error| super::persist::SnapshotError(format!("reading a row: {err}"));
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

#[cfg(test)]
mod tests;
