//! `serve`: the reference server as a long-lived local emulator, with a
//! seed file (or a default seed with fixed IDs and keys), optional
//! persistence to a SQLite database written in a transaction before every
//! change is answered (and locked against a second emulator), a log line
//! per call, and a clean stop on Ctrl-C (or SIGTERM).

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use factify_invites::{OrganizationId, UserId};
use factify_invites_server::{
    CorsOrigins, Database, DatabaseError, Permissions, RateLimits, ReferenceServer, Snapshot,
};
use serde::Deserialize;

use crate::failure::{exit, Failure};

/// The seed file's format (JSON, or TOML for a `.toml` file): organizations,
/// accounts and API keys. IDs and keys are optional (generated when absent);
/// give them to hard-code them in other programs' test settings.
///
/// ```toml
/// [[organizations]]
/// id = "org_0000000000000000000000acme"   # optional
/// name = "Acme"
///
/// [[accounts]]
/// id = "user_00000000000000000000000ada"  # optional; svc_... for a service account
/// name = "Ada Admin"
/// email = "admin@acme.example"
/// member_of = ["Acme"]                    # organization names or IDs
///
/// [[api_keys]]
/// account = "admin@acme.example"          # an account's email or ID
/// key = "ffy_emulatoradmin000000000000000" # optional
/// permissions = ["invite_members", "manage_members"]  # none: accept only
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Seed {
    #[serde(default)]
    organizations: Vec<SeedOrganization>,
    #[serde(default)]
    accounts: Vec<SeedAccount>,
    #[serde(default)]
    api_keys: Vec<SeedApiKey>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedOrganization {
    id: Option<String>,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedAccount {
    id: Option<String>,
    name: String,
    email: String,
    #[serde(default)]
    service_account: bool,
    #[serde(default)]
    member_of: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedApiKey {
    account: String,
    key: Option<String>,
    #[serde(default)]
    permissions: Vec<SeedPermission>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SeedPermission {
    InviteMembers,
    ManageMembers,
}

/// The default seed: fixed IDs and keys, so that other programs' tests can
/// hard-code them.
const DEFAULT_SEED: &str = r#"
[[organizations]]
id = "org_0000000000000000000000acme"
name = "Acme"

[[accounts]]
id = "user_00000000000000000000000ada"
name = "Ada Admin"
email = "admin@acme.example"
member_of = ["Acme"]

[[accounts]]
id = "user_000000000000000000000grace"
name = "Grace Hopper"
email = "grace@example.com"

[[api_keys]]
account = "admin@acme.example"
key = "ffy_emulatoradmin000000000000000"
permissions = ["invite_members", "manage_members"]

[[api_keys]]
account = "grace@example.com"
key = "ffy_emulatorgrace000000000000000"
"#;

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

/// A `--clock-offset`: an optional sign, whole number and unit.
fn parse_offset(text: &str) -> Result<TimeDelta, String> {
    let invalid = || format!("{text:?} is not a duration such as 8d, -36h, 90m, 1w or 30s");
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let split = rest.len().checked_sub(1).ok_or_else(invalid)?;
    let (digits, unit) = (
        rest.get(..split).ok_or_else(invalid)?,
        rest.get(split..).ok_or_else(invalid)?,
    );
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let amount: i64 = digits.parse().map_err(|_| invalid())?;
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(invalid()),
    };
    let seconds = amount.checked_mul(seconds_per_unit).ok_or_else(invalid)?;
    let offset = TimeDelta::try_seconds(seconds).ok_or_else(invalid)?;
    let offset = if negative { -offset } else { offset };
    match Utc::now().checked_add_signed(offset) {
        Some(start) if clock_range_holds(start) => Ok(offset),
        _ => Err(format!(
            "{text:?} moves the clock outside 1970 to 9999 (what IDs and JSON timestamps hold)"
        )),
    }
}

fn parse_start_time(text: &str) -> Result<DateTime<Utc>, String> {
    let time = DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|err| {
            format!("{text:?} is not an RFC 3339 time such as 2030-01-01T00:00:00Z: {err}")
        })?;
    if clock_range_holds(time) {
        Ok(time)
    } else {
        Err(format!(
            "{text:?} is before 1970 (IDs hold milliseconds since 1970)"
        ))
    }
}

/// Whether the emulator's clock may show `time`: from 1970 (IDs) to the
/// end of 9999 (protobuf's JSON timestamps).
fn clock_range_holds(time: DateTime<Utc>) -> bool {
    (0..=253_402_300_799).contains(&time.timestamp())
}

fn usage(message: String) -> Failure {
    Failure::usage(message)
}

impl Seed {
    fn load(path: &Path) -> Result<Seed, Failure> {
        let text = fs::read_to_string(path)
            .map_err(|err| usage(format!("could not read {}: {err}", path.display())))?;
        let is_toml = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
        if is_toml {
            toml::from_str(&text)
                .map_err(|err| usage(format!("{} is not a valid seed: {err}", path.display())))
        } else {
            serde_json::from_str(&text)
                .map_err(|err| usage(format!("{} is not a valid seed: {err}", path.display())))
        }
    }

    fn default_seed() -> Result<Seed, Failure> {
        toml::from_str(DEFAULT_SEED).map_err(|err| usage(format!("default seed: {err}")))
    }

    /// Seeds `server`; every reference is checked, and the first bad one
    /// is reported.
    fn apply(&self, server: &ReferenceServer) -> Result<(), Failure> {
        let mut organizations: HashMap<String, OrganizationId> = HashMap::new();
        let mut names = std::collections::HashSet::new();
        for org in &self.organizations {
            // Members refer to organizations by name: two of one name would
            // make `member_of` ambiguous.
            if !names.insert(org.name.as_str()) {
                return Err(usage(format!(
                    "seed: two organizations are named {:?}; names must be unique, as \
                     `member_of` refers to organizations by name",
                    org.name
                )));
            }
            let id = match &org.id {
                Some(id) => {
                    let id = OrganizationId::parse(id)
                        .map_err(|err| usage(format!("seed: organization {id:?}: {err}")))?;
                    server.add_organization_with_id(&id, &org.name);
                    id
                }
                None => server.add_organization(&org.name),
            };
            organizations.insert(org.name.clone(), id.clone());
            organizations.insert(id.to_string(), id);
        }
        let mut accounts: HashMap<String, UserId> = HashMap::new();
        for account in &self.accounts {
            if !factify_invites::limits::is_email(&account.email) {
                return Err(usage(format!(
                    "seed: account {:?}: {:?} is not an email address",
                    account.name, account.email
                )));
            }
            let id = match &account.id {
                Some(id) => {
                    let id = UserId::parse(id)
                        .map_err(|err| usage(format!("seed: account {id:?}: {err}")))?;
                    server.add_account_with_id(&id, &account.name, &account.email);
                    id
                }
                None if account.service_account => {
                    server.add_service_account(&account.name, &account.email)
                }
                None => server.add_user(&account.name, &account.email),
            };
            for org in &account.member_of {
                let org = organizations.get(org).ok_or_else(|| {
                    usage(format!(
                        "seed: account {:?} is a member of unknown organization {org:?}",
                        account.email
                    ))
                })?;
                server.add_member(org, &id);
            }
            accounts.insert(account.email.to_lowercase(), id.clone());
            accounts.insert(id.to_string(), id);
        }
        for api_key in &self.api_keys {
            let account = accounts
                .get(&api_key.account.to_lowercase())
                .or_else(|| accounts.get(&api_key.account))
                .ok_or_else(|| {
                    usage(format!(
                        "seed: an API key of unknown account {:?}",
                        api_key.account
                    ))
                })?;
            let mut permissions = Permissions::NONE;
            for permission in &api_key.permissions {
                match permission {
                    SeedPermission::InviteMembers => permissions.invite_members = true,
                    SeedPermission::ManageMembers => permissions.manage_members = true,
                }
            }
            match &api_key.key {
                Some(key) => {
                    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
                        return Err(usage(format!(
                            "seed: the API key of {:?} must be visible ASCII without spaces",
                            api_key.account
                        )));
                    }
                    server.add_api_key_with(account, key, permissions);
                }
                None => {
                    server.add_api_key(account, permissions);
                }
            }
        }
        Ok(())
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

/// A JSON data file of an earlier version, to import into a new database.
/// Unknown fields are refused, not dropped.
fn load_json(path: &Path) -> Result<Snapshot, Failure> {
    let bytes =
        fs::read(path).map_err(|err| usage(format!("could not read {}: {err}", path.display())))?;
    serde_json::from_slice(&bytes)
        .map_err(|err| usage(format!("{} is not a JSON data file: {err}", path.display())))
}

/// Opens the `--data` database, with what to do about the usual refusals.
fn open_database(path: &Path) -> Result<Database, Failure> {
    Database::open(path).map_err(|err| match err {
        DatabaseError::JsonDataFile { .. } => usage(format!(
            "{err}: --data now keeps a SQLite database. Import it once into a new file: \
             factify-invites serve --data {}.db --import-json {}",
            path.with_extension("").display(),
            path.display()
        )),
        DatabaseError::Locked { .. } => usage(format!(
            "{err}; stop the other one, or give this one another --data file"
        )),
        err => usage(err.to_string()),
    })
}

/// What the server holds, for people to start calling at once.
fn describe_seed(snapshot: &Snapshot, invites: usize, endpoint: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let names: HashMap<&str, String> = snapshot
        .accounts()
        .iter()
        .map(|account| {
            (
                account.id.as_str(),
                format!("{} <{}>", account.name, account.email),
            )
        })
        .collect();
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    for org in snapshot.organizations() {
        lines.push(format!("organization {}  {}", org.id, org.name));
        for member in &org.members {
            lines.push(format!("  member {member}  {}", name(member)));
        }
    }
    for account in snapshot.accounts() {
        let member = snapshot
            .organizations()
            .iter()
            .any(|org| org.members.contains(&account.id));
        if !member {
            lines.push(format!(
                "account {}  {} <{}>  (no organization)",
                account.id, account.name, account.email
            ));
        }
    }
    for key in snapshot.api_keys() {
        let mut can = Vec::new();
        if key.invite_members {
            can.push("invite_members");
        }
        if key.manage_members {
            can.push("manage_members");
        }
        let can = if can.is_empty() {
            "accept only".to_owned()
        } else {
            can.join(", ")
        };
        lines.push(format!(
            "api key {}  {}  ({can})",
            key.key,
            name(&key.account)
        ));
    }
    if invites > 0 {
        lines.push(format!("{invites} invitations"));
    }
    // The first seeded organization, with a key that may list it.
    let first = snapshot.organizations().first();
    let key = first.and_then(|org| {
        snapshot
            .api_keys()
            .iter()
            .find(|key| key.invite_members && org.members.contains(&key.account))
    });
    if let (Some(org), Some(key)) = (first, key) {
        lines.push(format!(
            "try: FACTIFY_ENDPOINT={endpoint} FACTIFY_API_KEY={} FACTIFY_ORGANIZATION_ID={} factify-invites list",
            key.key, org.id
        ));
    }
    lines
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

/// Registers for Ctrl-C and SIGTERM at once, and returns what waits for
/// either: registered before the banner is printed, a signal sent as soon
/// as a harness has read it is a clean stop, not the default death.
#[cfg(unix)]
fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let registered = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    );
    async move {
        match registered {
            (Ok(mut interrupt), Ok(mut term)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

/// Waits for Ctrl-C.
#[cfg(not(unix))]
fn stop_signal() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs `serve` until Ctrl-C.
pub(crate) async fn run(args: ServeArgs) -> Result<u8, Failure> {
    init_logging();
    let cors = if args.cors_origins.is_empty() {
        CorsOrigins::ANY
    } else {
        CorsOrigins::list(&args.cors_origins)
            .map_err(|err| usage(format!("--cors-origin: {err}")))?
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
            return Err(usage(format!(
                "{} already holds data; --import-json only starts a new database",
                data_label(&args.data)
            )));
        }
        server
            .restore(load_json(json)?)
            .map_err(|err| usage(format!("{}: {err}", json.display())))?;
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
            .map_err(|err| usage(err.to_string()))?;
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

fn data_label(path: &Option<PathBuf>) -> String {
    path.as_ref().map_or_else(
        || "(memory only)".to_owned(),
        |path| path.display().to_string(),
    )
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
    fn clock_offsets_parse_with_sign_and_unit() {
        assert_eq!(parse_offset("8d"), Ok(TimeDelta::days(8)));
        assert_eq!(parse_offset("-36h"), Ok(TimeDelta::hours(-36)));
        assert_eq!(parse_offset("+90m"), Ok(TimeDelta::minutes(90)));
        assert_eq!(parse_offset("1w"), Ok(TimeDelta::weeks(1)));
        assert_eq!(parse_offset("30s"), Ok(TimeDelta::seconds(30)));
        for bad in [
            "",
            "d",
            "8",
            "8x",
            "1.5d",
            "--1d",
            "99999999999999999999d",
            "9223372036854775807w",
            "-100000w",
            "1000000w",
        ] {
            assert!(parse_offset(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn start_times_before_1970_are_refused() {
        assert!(parse_start_time("2030-01-01T00:00:00Z").is_ok());
        assert!(parse_start_time("1969-12-31T23:59:59Z").is_err());
        assert!(parse_start_time("tomorrow").is_err());
    }

    #[test]
    fn the_default_seed_has_its_documented_ids_and_keys() {
        let server = ReferenceServer::new();
        Seed::default_seed().unwrap().apply(&server).unwrap();
        let snapshot = server.snapshot();
        assert_eq!(
            snapshot.organizations()[0].id,
            "org_0000000000000000000000acme"
        );
        assert_eq!(
            snapshot.organizations()[0].members,
            ["user_00000000000000000000000ada"]
        );
        let keys: Vec<_> = snapshot.api_keys().iter().map(|k| k.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "ffy_emulatoradmin000000000000000",
                "ffy_emulatorgrace000000000000000"
            ]
        );
    }
}
