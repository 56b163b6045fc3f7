//! The `--data` database and `--import-json`: opening the SQLite store
//! (with advice for the usual refusals) and reading an earlier version's
//! JSON data file.

use std::fs;
use std::path::{Path, PathBuf};

use factify_invites_server::{Database, DatabaseError, Snapshot};

use crate::failure::Failure;

/// A JSON data file of an earlier version, to import into a new database.
/// Unknown fields are refused, not dropped.
pub(super) fn load_json(path: &Path) -> Result<Snapshot, Failure> {
    let bytes = fs::read(path)
        .map_err(|err| Failure::usage(format!("could not read {}: {err}", path.display())))?;
    serde_json::from_slice(&bytes)
        .map_err(|err| Failure::usage(format!("{} is not a JSON data file: {err}", path.display())))
}

/// Opens the `--data` database, with what to do about the usual refusals.
pub(super) fn open_database(path: &Path) -> Result<Database, Failure> {
    Database::open(path).map_err(|err| match err {
        DatabaseError::JsonDataFile { .. } => Failure::usage(format!(
            "{err}: --data now keeps a SQLite database. Import it once into a new file: \
             factify-invites serve --data {}.db --import-json {}",
            path.with_extension("").display(),
            path.display()
        )),
        DatabaseError::Locked { .. } => Failure::usage(format!(
            "{err}; stop the other one, or give this one another --data file"
        )),
        err => Failure::usage(err.to_string()),
    })
}

/// The `--data` file as the log names it, or that there is none.
pub(super) fn data_label(path: &Option<PathBuf>) -> String {
    path.as_ref().map_or_else(
        || "(memory only)".to_owned(),
        |path| path.display().to_string(),
    )
}
