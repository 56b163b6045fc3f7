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

mod results;
mod rows;

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use factify_invites::bulk::{check_run_id, idempotency_key};
use factify_invites::rate_limit::RateLimit;
use factify_invites::shared_limit::SharedRateLimit;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::client_args::ClientArgs;
use crate::failure::{describe, exit, is_fatal, Failure};
use crate::output::{invite_json, Output};

use results::{open_results, outcome_record, read_results};
use rows::{read_rows, Row};

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
