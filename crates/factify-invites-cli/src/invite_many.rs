//! `invite-many`: invites every row of a CSV file of `email[,message]`
//! through the library's bulk method ([`factify_invites::Client::invite_many`]),
//! after checking every row; writes a result CSV as rows finish, from which
//! an interrupted run resumes without inviting anyone twice.
//!
//! The result CSV has the columns `line,email,outcome,invite_id,code,reason,
//! param,error,request_id,run_id,idempotency_key`; `outcome` is `invited` or
//! `failed`. Each row's idempotency key derives from the run ID and the
//! row's email and message, so `--resume` (which takes the run ID from the
//! file, skips the rows it shows invited, and sends the others again) gets
//! the server's first answer for any row that was sent but not recorded.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use factify_invites::bulk::{check_run_id, idempotency_key, InviteRow, RowOutcome};
use factify_invites::rate_limit::RateLimit;
use factify_invites::shared_limit::SharedRateLimit;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::client_args::ClientArgs;
use crate::failure::{describe, exit, is_fatal, Failure};
use crate::output::{invite_json, Output};

/// Arguments of `invite-many`.
#[derive(Debug, Args)]
pub(crate) struct InviteManyArgs {
    /// The CSV file: one `email[,message]` per line; a first line
    /// `email,message` is taken as a header, lines starting with `#` are
    /// skipped. `-` or nothing reads standard input.
    #[arg(value_name = "CSV")]
    file: Option<PathBuf>,
    /// Where to write the result CSV (one line per row, written as rows
    /// finish). It must not exist, unless it is the --resume file.
    #[arg(long, value_name = "FILE", required_unless_present = "resume")]
    results: Option<PathBuf>,
    /// Resume the run recorded in this result file: same run ID, rows it
    /// shows invited are skipped, the others are sent (again). Results go
    /// to this file unless --results says otherwise.
    #[arg(long, value_name = "FILE", conflicts_with = "run_id")]
    resume: Option<PathBuf>,
    /// The run's ID, from which each row's idempotency key is derived
    /// (random by default; printed at start and kept in the result file).
    #[arg(long, value_name = "ID")]
    run_id: Option<String>,
    /// How many invitations are in flight at once.
    #[arg(long, default_value_t = 4, value_name = "N")]
    concurrency: usize,
    /// A client-side cap on creations a minute (Factify allows 100 per
    /// key); 0 turns it off, for a local emulator without limits.
    #[arg(long, default_value_t = 100, value_name = "N")]
    creates_per_minute: u32,
    /// Share the limit (--creates-per-minute, and the SPEC's 1000 calls a
    /// minute) through this Redis with every other process using the same
    /// API key, such as other `invite-many` runs on other shards of a CSV
    /// (`redis://[:password@]host:port[/db]`). If Redis fails, each
    /// process paces itself to the whole limit until it is back.
    #[arg(long, env = "FACTIFY_REDIS_URL", value_name = "URL")]
    redis: Option<String>,
    /// How long a call waits for Redis before pacing itself alone.
    #[arg(long, default_value_t = 5, value_name = "MS", requires = "redis")]
    redis_timeout_ms: u64,
    #[command(flatten)]
    client: ClientArgs,
}

/// A checked row of the input, with its line number.
#[derive(Debug)]
struct Row {
    line: u64,
    row: InviteRow,
}

/// Reads and checks every row; all the bad ones are reported together.
fn read_rows(input: impl Read) -> Result<Vec<Row>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(input);
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                problems.push(format!("line {line}: not readable as CSV: {err}"));
                continue;
            }
        };
        let line = record.position().map_or(index as u64 + 1, |p| p.line());
        let email = record.get(0).unwrap_or_default().trim();
        if index == 0 && email.eq_ignore_ascii_case("email") {
            continue;
        }
        if record.len() > 2 {
            problems.push(format!(
                "line {line}: {} fields; expected email[,message] (quote a message that holds commas)",
                record.len()
            ));
            continue;
        }
        let message = record
            .get(1)
            .filter(|message| !message.is_empty())
            .map(str::to_owned);
        let row = InviteRow::new(email, message);
        match row.validate() {
            Ok(()) => rows.push(Row { line, row }),
            Err(err) => problems.push(format!(
                "line {line}: {}: {}",
                err.param().unwrap_or("row"),
                match &err {
                    factify_invites::Error::InvalidRequest { message, .. } => message.clone(),
                    other => other.to_string(),
                } + &format!(" ({email:?})")
            )),
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

const HEADER: [&str; 11] = [
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
struct Earlier {
    run_id: String,
    /// Idempotency keys of the rows it shows invited.
    invited: HashSet<String>,
    /// Those rows, to copy into the new result file.
    records: Vec<csv::StringRecord>,
}

fn read_results(path: &Path) -> Result<Earlier, Failure> {
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
struct Results {
    writer: csv::Writer<File>,
}

impl Results {
    fn write(&mut self, record: &[String]) -> io::Result<()> {
        self.writer.write_record(record)?;
        self.writer.flush()
    }
}

fn outcome_record(line: u64, outcome: &RowOutcome, run_id: &str) -> Vec<String> {
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
fn open_results(path: &Path, earlier: Option<&Earlier>) -> Result<Results, Failure> {
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
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
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

/// Runs `invite-many`.
pub(crate) async fn run(args: InviteManyArgs) -> Result<u8, Failure> {
    let rows = match args.file.as_deref() {
        None => read_rows(io::stdin().lock()),
        Some(path) if path == Path::new("-") => read_rows(io::stdin().lock()),
        Some(path) => {
            let file = File::open(path)
                .map_err(|err| Failure::usage(format!("{}: {err}", path.display())))?;
            read_rows(file)
        }
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            return Err(Failure::usage(format!(
                "{} invalid rows; nothing was sent",
                problems.len()
            )));
        }
    };
    let earlier = args.resume.as_deref().map(read_results).transpose()?;
    let run_id = match (&earlier, &args.run_id) {
        (Some(earlier), _) => earlier.run_id.clone(),
        (None, Some(run_id)) => run_id.clone(),
        (None, None) => {
            format!("run-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ"))
                + &format!(
                    "-{:08x}",
                    std::process::id() ^ chrono::Utc::now().timestamp_subsec_nanos()
                )
        }
    };
    check_run_id(&run_id).map_err(|err| Failure::usage(describe(&err)))?;

    let (skipped, to_send): (Vec<Row>, Vec<Row>) = rows.into_iter().partition(|row| {
        earlier.as_ref().is_some_and(|earlier| {
            earlier.invited.contains(&idempotency_key(
                &run_id,
                &row.row.email,
                row.row.message.as_deref(),
            ))
        })
    });
    let results_path = match (&args.results, &args.resume) {
        (Some(path), _) | (None, Some(path)) => path.clone(),
        (None, None) => return Err(Failure::usage("--results FILE is required")),
    };
    let rate_limit = (args.creates_per_minute > 0)
        .then(|| RateLimit::SPEC.with_creates_per_minute(args.creates_per_minute));
    let client = match (&args.redis, rate_limit) {
        (Some(url), Some(limit)) => {
            let shared = SharedRateLimit::new(url, limit)
                .with_timeout(Duration::from_millis(args.redis_timeout_ms));
            (args.client.builder()?.shared_rate_limit(shared).connect()).await?
        }
        (Some(_), None) => {
            return Err(Failure::usage(
                "--redis shares a limit: it needs --creates-per-minute above 0",
            ))
        }
        (None, rate_limit) => args.client.connect(rate_limit).await?,
    };
    let mut results = open_results(&results_path, earlier.as_ref())?;

    let total = (skipped.len() + to_send.len()) as u64;
    eprintln!(
        "run {run_id}: {total} rows, {} already invited, {} to send (results: {})",
        skipped.len(),
        to_send.len(),
        results_path.display()
    );
    let progress = if io::stderr().is_terminal() {
        let bar = ProgressBar::new(total).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {msg}  [{elapsed_precise}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_position(skipped.len() as u64);
        Some(bar)
    } else {
        None
    };

    let lines: Vec<u64> = to_send.iter().map(|row| row.line).collect();
    let mut outcomes = client
        .invite_many(
            &args.client.organization,
            to_send.into_iter().map(|row| row.row),
        )
        .run_id(&run_id)
        .concurrency(args.concurrency)
        .into_stream();
    let (mut invited, mut failed, mut done) = (0u64, 0u64, skipped.len() as u64);
    let mut fatal = None;
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let outcome = tokio::select! {
            outcome = outcomes.next() => outcome,
            _ = &mut interrupted => {
                fatal = Some("interrupted".to_owned());
                break;
            }
        };
        let Some(outcome) = outcome else { break };
        let line = lines.get(outcome.index).copied().unwrap_or_default();
        done += 1;
        results
            .write(&outcome_record(line, &outcome, &run_id))
            .map_err(|err| Failure::usage(format!("{}: {err}", results_path.display())))?;
        let text = match &outcome.result {
            Ok(invite) => {
                invited += 1;
                format!("line {line}: {} invited {}", outcome.email, invite.id)
            }
            Err(err) => {
                failed += 1;
                format!("line {line}: {} failed: {}", outcome.email, describe(err))
            }
        };
        if args.client.output == Output::Json {
            let value = match &outcome.result {
                Ok(invite) => {
                    json!({"line": line, "email": outcome.email, "outcome": "invited", "invite": invite_json(invite)})
                }
                Err(err) => json!({
                    "line": line,
                    "email": outcome.email,
                    "outcome": "failed",
                    "code": err.code().map_or("INVALID_REQUEST".to_owned(), |code| code.to_string()),
                    "reason": err.reason().map(|r| r.to_string()),
                    "param": err.param(),
                    "request_id": err.request_id(),
                    "error": describe(err),
                }),
            };
            // A closed pipe (`| head`) must not abort the run.
            let _ = writeln!(io::stdout().lock(), "{value}");
        }
        match &progress {
            Some(bar) => {
                if outcome.result.is_err() {
                    bar.println(&text);
                }
                bar.set_position(done);
                bar.set_message(format!("{invited} invited, {failed} failed"));
            }
            None => eprintln!("[{done}/{total}] {text}"),
        }
        if let Err(err) = &outcome.result {
            if is_fatal(err) {
                fatal = Some(describe(err));
                break;
            }
        }
    }
    drop(outcomes);
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let left = total - done;
    let summary = format!(
        "{total} rows: {} invited ({} in an earlier run), {failed} failed, {left} not sent; results in {}",
        invited + skipped.len() as u64,
        skipped.len(),
        results_path.display()
    );
    match fatal {
        Some(reason) => {
            eprintln!("{summary}");
            Err(Failure {
                code: if reason == "interrupted" {
                    exit::FAILED
                } else {
                    exit::UNREACHABLE
                },
                message: format!(
                    "stopped ({reason}); resume with --resume {}",
                    results_path.display()
                ),
            })
        }
        None => {
            eprintln!("{summary}");
            Ok(if failed == 0 { exit::OK } else { exit::FAILED })
        }
    }
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

    #[test]
    fn rows_are_read_with_line_numbers_and_every_bad_one_reported() {
        let csv = "email,message\n# a comment\nada@example.com,\"Hi, Ada\"\n\ngrace@example.com\nnope\nx@y.co,a,b\n";
        let problems = read_rows(csv.as_bytes()).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("line 6: email:"), "{problems:?}");
        assert!(problems[1].starts_with("line 7: 3 fields"), "{problems:?}");

        let rows =
            read_rows("ada@example.com,\"Hi, Ada\"\n grace@example.com ,\n".as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].line, rows[1].line), (1, 2));
        assert_eq!(rows[0].row.message.as_deref(), Some("Hi, Ada"));
        assert_eq!(rows[1].row, InviteRow::new("grace@example.com", None));
    }
}
