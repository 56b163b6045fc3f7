//! The reference server's SQLite database (feature `persist`): [`Database`],
//! where `factify-invites serve --data` keeps its store, and
//! [`ReferenceServer::attach_database`], which loads it and writes every
//! change into it, in one transaction, before the call is answered. The
//! choices (SQLite, the lock, the schema check) are on [`Database`].

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, Row};

use super::persist::SnapshotError;

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
///
/// [`ReferenceServer`]: crate::ReferenceServer
/// [`ReferenceServer::attach_database`]: crate::ReferenceServer::attach_database
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
}

mod read;
mod write;

#[cfg(test)]
mod tests;
