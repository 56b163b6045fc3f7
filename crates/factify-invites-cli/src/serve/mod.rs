//! `serve`: the reference server as a long-lived local emulator, with a
//! seed file (or a default seed with fixed IDs and keys), optional
//! persistence to a SQLite database written in a transaction before every
//! change is answered (and locked against a second emulator), a log line
//! per call, and a clean stop on Ctrl-C (or SIGTERM).

mod banner;
mod clock;
mod data;
mod seed;
mod signals;

use std::io::{self, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use factify_invites_server::{CorsOrigins, Database, RateLimits, ReferenceServer};

use crate::failure::{exit, Failure};

use banner::describe_seed;
use clock::{parse_offset, parse_start_time};
use data::{data_label, load_json, open_database};
use seed::Seed;
use signals::stop_signal;

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on; port 0 picks a free port. The first line
    /// printed is `listening on http://<address>`.
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: SocketAddr,
    /// Seed from this file (JSON, or TOML if it ends in .toml):
    /// organizations, accounts (members) and API keys. Without it, a
    /// default seed with fixed IDs and keys is used and printed.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Keep the data in this SQLite database: loaded at start if it holds
    /// data (the seed is then not applied), and every change written to it
    /// in a transaction before the call is answered. Only one emulator may
    /// use a data file at a time; a second one refuses to start.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Start a new --data database from this JSON data file of an earlier
    /// version (instead of the seed); the JSON file is left as it is.
    #[arg(long, value_name = "FILE", requires = "data")]
    import_json: Option<PathBuf>,
    /// Enforce Factify's rate limits (1000 calls and 100 creations a minute
    /// per key); off by default.
    #[arg(long)]
    rate_limits: bool,
    /// Start the emulator's clock this far from the machine's, such as
    /// `8d`, `-36h`, `90m`, `1w`, `30s` (units s, m, h, d, w); it then
    /// runs at the normal pace. The admin surface moves it later
    /// (`POST /admin/v1/clock`).
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = parse_offset, conflicts_with = "start_time")]
    clock_offset: Option<TimeDelta>,
    /// Start the emulator's clock at this RFC 3339 time, such as
    /// `2030-01-01T00:00:00Z`; it then runs at the normal pace.
    #[arg(long, value_name = "TIME", value_parser = parse_start_time)]
    start_time: Option<DateTime<Utc>>,
    /// Let browsers on this origin call the emulator (CORS), such as
    /// `http://localhost:5173`; repeat for more. Without it any origin may
    /// (`*`), as befits an emulator on a test machine.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // One line per call (INFO), and why a call was refused (DEBUG of
        // the server module: code, reason, request ID).
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new("info,factify_invites_server=debug")
        });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// Runs `serve` until Ctrl-C.
pub(crate) async fn run(args: ServeArgs) -> Result<u8, Failure> {
    init_logging();
    let cors = if args.cors_origins.is_empty() {
        CorsOrigins::ANY
    } else {
        CorsOrigins::list(&args.cors_origins)
            .map_err(|err| Failure::usage(format!("--cors-origin: {err}")))?
    };
    let server = ReferenceServer::new().with_cors(cors);
    let server = if args.rate_limits {
        server.with_rate_limits(RateLimits::SPEC)
    } else {
        server
    };
    // The clock is set before seeding, so seeded records carry its time.
    if let Some(offset) = args.clock_offset {
        server.advance_time(offset);
    }
    if let Some(start) = args.start_time {
        server.set_time(start);
    }
    let database = args.data.as_deref().map(open_database).transpose()?;
    let fresh = database.as_ref().is_none_or(Database::is_empty);
    if let Some(json) = &args.import_json {
        if !fresh {
            return Err(Failure::usage(format!(
                "{} already holds data; --import-json only starts a new database",
                data_label(&args.data)
            )));
        }
        server
            .restore(load_json(json)?)
            .map_err(|err| Failure::usage(format!("{}: {err}", json.display())))?;
    } else if fresh {
        let seed = match &args.seed {
            Some(path) => Seed::load(path)?,
            None => Seed::default_seed()?,
        };
        seed.apply(&server)?;
    } else if args.seed.is_some() {
        tracing::warn!("the data file holds data: it is used and --seed is ignored");
    }
    if fresh {
        // What `POST /admin/v1/reset` returns to.
        server.remember_seed();
    }
    if let Some(database) = database {
        // A new database gets the seed, so that a restart finds the same
        // keys; one with data replaces the (empty) store.
        server
            .attach_database(database)
            .map_err(|err| Failure::usage(err.to_string()))?;
        if !fresh {
            // The first seed is not kept apart from what was done since:
            // a reset returns to the organizations, accounts and keys.
            server.remember_accounts_as_seed();
        }
    }

    let stop = stop_signal();
    let running = server.start_on(args.addr).await.map_err(|err| Failure {
        code: exit::UNREACHABLE,
        message: format!("could not listen on {}: {err}", args.addr),
    })?;
    let endpoint = running.endpoint();
    {
        let mut out = io::stdout().lock();
        // The first line is for programs (tests read the port from it).
        let _ = writeln!(out, "listening on {endpoint}");
        // Without the invitations: a million of them would cost a second
        // copy of the store just to count them.
        let seed = server.seed_snapshot();
        for line in describe_seed(&seed, server.invite_count(), &endpoint) {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }
    tracing::info!(
        %endpoint,
        data = %data_label(&args.data),
        now = %server.now().to_rfc3339(),
        "serving; admin surface at {endpoint}/admin/v1/; Ctrl-C stops"
    );
    stop.await;
    tracing::info!("stopping: finishing the calls in flight");
    running.shutdown().await;
    // Closes the database: its WAL is folded in and its lock released.
    server.detach_database();
    tracing::info!("stopped");
    Ok(exit::OK)
}
