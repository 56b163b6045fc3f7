//! The result CSV: one line per row as it finishes, read back by
//! `--resume` for the run ID and the rows already invited, and rewritten
//! atomically when a run resumes.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use factify_invites::bulk::RowOutcome;

use crate::failure::Failure;

/// The result CSV's columns, in order (see the module doc of `invite_many`).
pub(super) const HEADER: [&str; 11] = [
    "line",
    "email",
    "outcome",
    "invite_id",
    "code",
    "reason",
    "param",
    "error",
    "request_id",
    "run_id",
    "idempotency_key",
];

/// What a result file says about an earlier run.
#[derive(Debug)]
pub(super) struct Earlier {
    pub(super) run_id: String,
    /// Idempotency keys of the rows it shows invited.
    pub(super) invited: HashSet<String>,
    /// Those rows, to copy into the new result file.
    pub(super) records: Vec<csv::StringRecord>,
}

pub(super) fn read_results(path: &Path) -> Result<Earlier, Failure> {
    let bad = |message: String| Failure::usage(format!("{}: {message}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(|err| bad(err.to_string()))?;
    let headers = reader
        .headers()
        .map_err(|err| bad(err.to_string()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|header| header == name)
            .ok_or_else(|| {
                bad(format!(
                    "not a result file of invite-many (no {name} column)"
                ))
            })
    };
    let (outcome, run, key) = (
        column("outcome")?,
        column("run_id")?,
        column("idempotency_key")?,
    );
    let mut run_id: Option<String> = None;
    let mut invited = HashSet::new();
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|err| bad(err.to_string()))?;
        let this_run = record.get(run).unwrap_or_default();
        match &run_id {
            None => run_id = Some(this_run.to_owned()),
            Some(run_id) if run_id != this_run => {
                return Err(bad(format!(
                    "rows of two runs ({run_id} and {this_run}); resume one run at a time"
                )))
            }
            Some(_) => {}
        }
        if record.get(outcome) == Some("invited") {
            invited.insert(record.get(key).unwrap_or_default().to_owned());
            records.push(record);
        }
    }
    let run_id = run_id.ok_or_else(|| {
        bad("holds no rows, so no run ID: start again with --run-id if you know it".to_owned())
    })?;
    Ok(Earlier {
        run_id,
        invited,
        records,
    })
}

/// The result file being written: flushed after every row, so an
/// interrupted run leaves every finished row on disk.
pub(super) struct Results {
    writer: csv::Writer<File>,
}

impl Results {
    pub(super) fn write(&mut self, record: &[String]) -> io::Result<()> {
        self.writer.write_record(record)?;
        self.writer.flush()
    }
}

/// One finished row as a line of the result CSV.
pub(super) fn outcome_record(line: u64, outcome: &RowOutcome, run_id: &str) -> Vec<String> {
    let mut record = vec![line.to_string(), outcome.email.clone()];
    match &outcome.result {
        Ok(invite) => record.extend([
            "invited".into(),
            invite.id.to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            // The library does not surface a success's request ID; the
            // invitation ID identifies it.
            String::new(),
        ]),
        Err(err) => record.extend([
            "failed".into(),
            String::new(),
            err.code()
                .map_or("INVALID_REQUEST".to_owned(), |code| code.to_string()),
            err.reason().map(|r| r.to_string()).unwrap_or_default(),
            err.param().unwrap_or_default().to_owned(),
            error_message(err),
            err.request_id().unwrap_or_default().to_owned(),
        ]),
    }
    record.extend([run_id.to_owned(), outcome.idempotency_key.clone()]);
    record
}

/// The error's message alone (code, reason and request ID have columns).
fn error_message(err: &factify_invites::Error) -> String {
    match err {
        factify_invites::Error::InvalidRequest { field, message } => format!("{field}: {message}"),
        other => other
            .status()
            .map_or_else(|| other.to_string(), |status| status.message().to_owned()),
    }
}

/// Opens the result file: a new one (refusing to overwrite), or the resumed
/// one rewritten atomically with the rows it showed invited.
pub(super) fn open_results(path: &Path, earlier: Option<&Earlier>) -> Result<Results, Failure> {
    let failed = |err: io::Error| Failure::usage(format!("{}: {err}", path.display()));
    match earlier {
        Some(earlier) => {
            let mut copy = csv::Writer::from_writer(Vec::new());
            copy.write_record(HEADER)
                .map_err(io::Error::from)
                .map_err(failed)?;
            for record in &earlier.records {
                copy.write_record(record)
                    .map_err(io::Error::from)
                    .map_err(failed)?;
            }
            let bytes = copy.into_inner().map_err(|err| failed(err.into_error()))?;
            write_atomically(path, &bytes).map_err(failed)?;
            let file = OpenOptions::new().append(true).open(path).map_err(failed)?;
            Ok(Results {
                writer: csv::Writer::from_writer(file),
            })
        }
        None => {
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|err| {
                    if err.kind() == io::ErrorKind::AlreadyExists {
                        Failure::usage(format!(
                            "{} exists: pass it to --resume to continue that run, or choose another --results file",
                            path.display()
                        ))
                    } else {
                        failed(err)
                    }
                })?;
            let mut results = Results {
                writer: csv::Writer::from_writer(file),
            };
            results.write(&HEADER.map(String::from)).map_err(failed)?;
            Ok(results)
        }
    }
}

/// Writes `bytes` to `path` so that a crash at any point leaves either the
/// old file or the new one, whole: a temporary file in the same directory,
/// flushed to disk, renamed over `path`, then the directory flushed so the
/// rename itself is durable.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("the data path has no file name"))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".tmp-{}", std::process::id()));
    let temp = dir.join(temp_name);
    let result = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)?;
        #[cfg(unix)]
        File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_the_file_and_leave_no_temporary() {
        let dir = std::env::temp_dir().join(format!("fi-atomic-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data.json");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }
}
