//! The `factify-invites` binary run as a process: `serve` on a free port
//! (its first stdout line gives the address, so there is no waiting on a
//! timer), then every client subcommand against it, their JSON output
//! parsed back, `invite-many` with validation, results and resume, and
//! persistence across a restart of `serve`.
//!
//! `cargo test` builds the binary: these are the tests of the crate that
//! owns it.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_factify-invites");
const ORG: &str = "org_0000000000000000000000acme";
const ADMIN_KEY: &str = "ffy_emulatoradmin000000000000000";
const GRACE_KEY: &str = "ffy_emulatorgrace000000000000000";

/// A fresh directory under the target dir, removed first if left over.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running `serve`, killed on drop.
struct Serve {
    child: Child,
    endpoint: String,
    /// Everything `serve` printed to stdout, the first line included.
    banner: Vec<String>,
    log: PathBuf,
}

impl Serve {
    fn start(dir: &Path, args: &[&str]) -> Serve {
        let log = dir.join(format!("serve-{}.log", fastrand_suffix()));
        let mut child = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start serve");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let endpoint = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}: {}", read(&log)))
            .to_owned();
        // The seed follows at once; read it until the "try:" line or EOF.
        let mut banner = vec![first.trim().to_owned()];
        for line in stdout.by_ref().lines() {
            let line = line.unwrap();
            let last = line.starts_with("try:");
            banner.push(line);
            if last {
                break;
            }
        }
        // Keep draining so the pipe never fills.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Serve {
            child,
            endpoint,
            banner,
            log,
        }
    }

    /// Runs the binary as a client of this server with the admin's key.
    fn cli(&self, args: &[&str]) -> Output {
        self.cli_with_key(ADMIN_KEY, args)
    }

    fn cli_with_key(&self, key: &str, args: &[&str]) -> Output {
        client(&self.endpoint, key, args)
    }

    /// Sends a signal with `kill` and waits for the exit.
    fn signal(mut self, signal: &str) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap()
    }

    fn log(&self) -> String {
        read(&self.log)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fastrand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn client(endpoint: &str, key: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("FACTIFY_ENDPOINT", endpoint)
        .env("FACTIFY_API_KEY", key)
        .env("FACTIFY_ORGANIZATION_ID", ORG)
        .stdin(Stdio::null())
        .output()
        .expect("run factify-invites")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

/// Parses one JSON object per line.
fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect()
}

fn json(text: &str) -> Value {
    let mut lines = json_lines(text);
    assert_eq!(lines.len(), 1, "{text}");
    lines.remove(0)
}

#[test]
fn serve_prints_address_and_seed_logs_calls_and_stops_on_ctrl_c() {
    let dir = scratch("serve");
    let serve = Serve::start(&dir, &[]);
    assert!(serve.endpoint.starts_with("http://127.0.0.1:"));
    let banner = serve.banner.join("\n");
    for expected in [ORG, ADMIN_KEY, GRACE_KEY, "Acme", "admin@acme.example"] {
        assert!(
            banner.contains(expected),
            "{expected} missing from:\n{banner}"
        );
    }
    ok(serve.cli(&["list"]));
    let refused = serve.cli_with_key("ffy_wrong", &["list"]);
    assert_eq!(refused.status.code(), Some(3));
    let log = serve.log();
    assert_eq!(
        log.matches("call method=ListOrganizationInvites").count(),
        2,
        "a line per call:\n{log}"
    );
    assert!(log.contains("invalid_api_key"), "{log}");

    let status = serve.signal("-INT");
    assert!(status.success(), "Ctrl-C is a clean stop: {status:?}");
}

#[test]
fn every_subcommand_prints_a_table_or_json() {
    let dir = scratch("subcommands");
    let serve = Serve::start(&dir, &["--data", dir.join("data.db").to_str().unwrap()]);

    let table = ok(serve.cli(&["create", "ada@example.com", "--message", "Welcome, Ada"]));
    assert!(table.contains("email        ada@example.com"), "{table}");
    assert!(table.contains("status       pending"), "{table}");
    let grace = json(&ok(serve.cli(&[
        "create",
        "grace@example.com",
        "--output",
        "json",
        "--idempotency-key",
        "g1",
    ])));
    assert_eq!(grace["email"], "grace@example.com");
    assert_eq!(grace["status"], "pending");
    assert_eq!(grace["sender"]["id"], "user_00000000000000000000000ada");
    let grace_id = grace["id"].as_str().unwrap().to_owned();
    // The same idempotency key answers with the same invitation.
    let again = json(&ok(serve.cli(&[
        "create",
        "grace@example.com",
        "--output",
        "json",
        "--idempotency-key",
        "g1",
    ])));
    assert_eq!(again, grace);

    // list: every page, filters, limit.
    for i in 0..7 {
        ok(serve.cli(&["create", &format!("team{i}@corp.example")]));
    }
    let all = json_lines(&ok(serve.cli(&[
        "list",
        "--output",
        "json",
        "--page-size",
        "3",
    ])));
    assert_eq!(all.len(), 9);
    assert_eq!(all[8]["email"], "ada@example.com", "newest first");
    let corp = json_lines(&ok(serve.cli(&[
        "list",
        "--output",
        "json",
        "--email-contains",
        "CORP.example",
    ])));
    assert_eq!(corp.len(), 7);
    let limited = json_lines(&ok(serve.cli(&["list", "--output", "json", "--limit", "2"])));
    assert_eq!(limited.len(), 2);
    let by_admin = json_lines(&ok(serve.cli(&[
        "list",
        "--output",
        "json",
        "--sender",
        "user_00000000000000000000000ada",
        "--created-after",
        "2000-01-01T00:00:00Z",
    ])));
    assert_eq!(by_admin.len(), 9);
    let future = ok(serve.cli(&[
        "list",
        "--created-after",
        "2999-01-01T00:00:00Z",
        "--output",
        "json",
    ]));
    assert!(future.is_empty(), "{future}");
    let table = ok(serve.cli(&["list", "--limit", "3"]));
    assert!(table.starts_with("ID "), "{table}");
    assert_eq!(table.lines().count(), 4, "a header and 3 rows:\n{table}");

    // resend, revoke, and the error line of a refused call.
    let resent = json(&ok(serve.cli(&["resend", &grace_id, "--output", "json"])));
    assert_eq!(resent["id"], grace_id.as_str());
    let ada_id = all[8]["id"].as_str().unwrap();
    let revoked = json(&ok(serve.cli(&["revoke", ada_id, "--output", "json"])));
    assert_eq!(revoked["status"], "revoked");
    let pending = json_lines(&ok(
        serve.cli(&["list", "--status", "pending", "--output", "json"])
    ));
    assert_eq!(pending.len(), 8);
    let revoked_again = serve.cli(&["revoke", ada_id]);
    assert_eq!(revoked_again.status.code(), Some(1));
    let line = stderr(&revoked_again);
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(line.starts_with("error: FAILED_PRECONDITION: "), "{line}");
    assert!(line.contains("reason: precondition_failed"), "{line}");
    assert!(line.contains("request id: req_"), "{line}");
    let bad_id = serve.cli(&["resend", "inv_nope"]);
    assert_eq!(bad_id.status.code(), Some(2));
    assert!(stderr(&bad_id).contains("invite_id"), "{}", stderr(&bad_id));

    // accept: the token is what the email carried; the emulator keeps its
    // emails in the data file, a SQLite database any reader can open while
    // it runs.
    let data = rusqlite::Connection::open(dir.join("data.db")).unwrap();
    let token: String = data
        .query_row(
            "SELECT token FROM emails WHERE recipient = ?1 ORDER BY seq DESC LIMIT 1",
            ["grace@example.com"],
            |row| row.get(0),
        )
        .unwrap();
    drop(data);
    let joined = json(&ok(
        serve.cli_with_key(GRACE_KEY, &["accept", &token, "--output", "json"])
    ));
    assert_eq!(joined["id"], ORG);
    assert_eq!(joined["name"], "Acme");
    // Accepted already: the token no longer works.
    let again = serve.cli_with_key(GRACE_KEY, &["accept", &token]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).starts_with("error: NOT_FOUND: "),
        "{}",
        stderr(&again)
    );
}

/// Tokens are URL-safe base64, so one in 64 starts with `-`: it is a
/// token, not an option.
#[test]
fn a_token_starting_with_a_dash_is_a_token() {
    let dir = scratch("dash-token");
    let serve = Serve::start(&dir, &[]);
    let refused = serve.cli_with_key(GRACE_KEY, &["accept", "-Dnot-a-real-token"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).starts_with("error: NOT_FOUND: "),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn the_api_key_is_never_echoed() {
    let dir = scratch("secrets");
    let serve = Serve::start(&dir, &[]);
    let secret = "ffy_TopSecretValue1234567890abcdef";
    let refused = serve.cli_with_key(secret, &["create", "ada@example.com"]);
    assert_eq!(refused.status.code(), Some(3));
    let key_file = dir.join("key");
    std::fs::write(&key_file, format!("{secret}\n")).unwrap();
    let from_file = Command::new(BIN)
        .args([
            "list",
            "--api-key-file",
            key_file.to_str().unwrap(),
            "--org",
            ORG,
        ])
        .args(["--endpoint", &serve.endpoint])
        .env_remove("FACTIFY_API_KEY")
        .output()
        .unwrap();
    assert_eq!(from_file.status.code(), Some(3));
    let help = client(&serve.endpoint, secret, &["list", "--help"]);
    for output in [&refused, &from_file, &help] {
        assert!(!stdout(output).contains(secret) && !stderr(output).contains(secret));
    }
    assert!(stdout(&help).contains("--api-key-file"));

    let no_key = Command::new(BIN)
        .args(["list", "--org", ORG, "--endpoint", &serve.endpoint])
        .env_remove("FACTIFY_API_KEY")
        .output()
        .unwrap();
    assert_eq!(no_key.status.code(), Some(2));
    assert!(stderr(&no_key).contains("FACTIFY_API_KEY"));
    let unreachable = client("http://127.0.0.1:1", ADMIN_KEY, &["list"]);
    assert_eq!(
        unreachable.status.code(),
        Some(3),
        "{}",
        stderr(&unreachable)
    );
}

#[test]
fn every_subcommand_has_help() {
    for command in [
        "serve",
        "create",
        "list",
        "resend",
        "revoke",
        "accept",
        "invite-many",
    ] {
        let help = Command::new(BIN)
            .args([command, "--help"])
            .output()
            .unwrap();
        assert!(help.status.success(), "{command}");
        assert!(
            stdout(&help).contains("Usage: factify-invites"),
            "{command}"
        );
    }
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(stdout(&help).contains("Exit status:"));
    let help = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(
        stdout(&help).contains("gRPC and Connect on one port"),
        "{}",
        stdout(&help)
    );
}

/// 500 rows, of which 7 are bad: a report with every bad line number and
/// nothing sent; then the good ones, one of them a member already.
#[test]
fn invite_many_validates_everything_first_then_sends() {
    let dir = scratch("bulk500");
    let serve = Serve::start(&dir, &[]);
    let bad_lines: HashMap<usize, &str> = HashMap::from([
        (17, "not-an-email"),
        (42, "two@@example.com"),
        (99, "ok@example.com,hi,extra"),
        (200, ",a message without an address"),
        (314, "spaces in@example.com"),
        (420, "late@"),
        (501, "long@example.com,LONG"),
    ]);
    let mut csv = String::from("email,message\n");
    let mut good = String::new();
    for line in 2..=501 {
        let row = match bad_lines.get(&line) {
            Some(&"long@example.com,LONG") => format!("long@example.com,{}", "x".repeat(2001)),
            Some(row) => (*row).to_owned(),
            None if line == 250 => "admin@acme.example".to_owned(),
            None if line % 3 == 0 => format!("\"person{line}@example.com\",\"Hi, person {line}\""),
            None => format!("person{line}@example.com"),
        };
        csv.push_str(&row);
        csv.push('\n');
        if !bad_lines.contains_key(&line) {
            good.push_str(&row);
            good.push('\n');
        }
    }
    let input = dir.join("team.csv");
    std::fs::write(&input, &csv).unwrap();
    let results = dir.join("results.csv");
    let refused = serve.cli(&[
        "invite-many",
        input.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let report = stderr(&refused);
    let mut reported: Vec<usize> = report
        .lines()
        .filter_map(|line| line.strip_prefix("line "))
        .map(|rest| rest.split(':').next().unwrap().parse().unwrap())
        .collect();
    reported.sort();
    let mut expected: Vec<usize> = bad_lines.keys().copied().collect();
    expected.sort();
    assert_eq!(reported, expected, "{report}");
    assert!(report.contains("nothing was sent"), "{report}");
    assert!(!results.exists(), "no result file for a refused input");
    assert!(ok(serve.cli(&["list", "--output", "json"])).is_empty());

    // The good rows, from stdin.
    let mut child = Command::new(BIN)
        .args(["invite-many", "-", "--results", results.to_str().unwrap()])
        .args([
            "--creates-per-minute",
            "0",
            "--concurrency",
            "8",
            "--output",
            "json",
        ])
        .env("FACTIFY_ENDPOINT", &serve.endpoint)
        .env("FACTIFY_API_KEY", ADMIN_KEY)
        .env("FACTIFY_ORGANIZATION_ID", ORG)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), good.as_bytes()).unwrap();
    let sent = child.wait_with_output().unwrap();
    assert_eq!(
        sent.status.code(),
        Some(1),
        "one row failed: {}",
        stderr(&sent)
    );
    let per_row = json_lines(&stdout(&sent));
    assert_eq!(per_row.len(), 493);
    let failures: Vec<_> = stderr(&sent)
        .lines()
        .filter(|line| line.contains(" failed: "))
        .map(str::to_owned)
        .collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("admin@acme.example failed: FAILED_PRECONDITION"));

    let mut reader = csv::Reader::from_path(&results).unwrap();
    let records: Vec<HashMap<String, String>> = reader.deserialize().map(Result::unwrap).collect();
    assert_eq!(records.len(), 493);
    let failed: Vec<_> = records
        .iter()
        .filter(|r| r["outcome"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["email"], "admin@acme.example");
    assert_eq!(failed[0]["code"], "FAILED_PRECONDITION");
    assert_eq!(failed[0]["reason"], "precondition_failed");
    assert!(failed[0]["request_id"].starts_with("req_"));
    assert!(records
        .iter()
        .filter(|r| r["outcome"] == "invited")
        .all(|r| r["invite_id"].starts_with("inv_")));

    let listed = json_lines(&ok(serve.cli(&["list", "--output", "json"])));
    assert_eq!(listed.len(), 492);
    let with_message = listed
        .iter()
        .find(|invite| invite["email"] == "person3@example.com")
        .unwrap();
    assert_eq!(with_message["message"], "Hi, person 3");
}

/// A run that stopped part-way (its result file lost the last rows it had
/// sent, as a crash between sending and recording would) is resumed:
/// every address ends up invited exactly once, and the rows sent twice got
/// the server's first answer rather than a resend.
#[test]
fn an_interrupted_run_resumes_without_inviting_anyone_twice() {
    let dir = scratch("resume");
    let serve = Serve::start(&dir, &[]);
    let rows: Vec<String> = (0..120).map(|i| format!("member{i}@example.com")).collect();
    let full = dir.join("full.csv");
    let part = dir.join("part.csv");
    std::fs::write(&full, rows.join("\n")).unwrap();
    std::fs::write(&part, rows[..50].join("\n")).unwrap();
    let results = dir.join("results.csv");
    let results_arg = results.to_str().unwrap();

    let first = serve.cli(&[
        "invite-many",
        part.to_str().unwrap(),
        "--results",
        results_arg,
        "--creates-per-minute",
        "0",
    ]);
    ok(first);
    // Lose the last 10 recorded rows.
    let recorded = read(&results);
    let kept: Vec<&str> = recorded.lines().take(1 + 40).collect();
    std::fs::write(&results, kept.join("\n") + "\n").unwrap();
    let before: HashMap<String, Value> = json_lines(&ok(serve.cli(&["list", "--output", "json"])))
        .into_iter()
        .map(|invite| (invite["email"].as_str().unwrap().to_owned(), invite))
        .collect();
    assert_eq!(before.len(), 50);

    // A fresh run over the same file is refused: it would lose the run ID.
    let clash = serve.cli(&[
        "invite-many",
        full.to_str().unwrap(),
        "--results",
        results_arg,
    ]);
    assert_eq!(clash.status.code(), Some(2));

    let resumed = serve.cli(&[
        "invite-many",
        full.to_str().unwrap(),
        "--resume",
        results_arg,
        "--creates-per-minute",
        "0",
    ]);
    let log = stderr(&resumed);
    ok(resumed);
    assert!(
        log.contains("120 rows, 40 already invited, 80 to send"),
        "{log}"
    );

    let after = json_lines(&ok(serve.cli(&["list", "--output", "json"])));
    assert_eq!(after.len(), 120);
    let emails: HashSet<_> = after.iter().map(|i| i["email"].as_str().unwrap()).collect();
    assert_eq!(emails.len(), 120, "each address once");
    for invite in &after {
        if let Some(earlier) = before.get(invite["email"].as_str().unwrap()) {
            assert_eq!(invite, earlier, "not resent: same invitation, same expiry");
        }
    }
    let records: Vec<HashMap<String, String>> = csv::Reader::from_path(&results)
        .unwrap()
        .deserialize()
        .map(Result::unwrap)
        .collect();
    assert_eq!(records.len(), 120);
    assert!(records.iter().all(|r| r["outcome"] == "invited"));
    let runs: HashSet<_> = records.iter().map(|r| r["run_id"].clone()).collect();
    assert_eq!(runs.len(), 1, "one run ID throughout");
}

#[test]
fn invitations_survive_a_restart_of_serve() {
    let dir = scratch("persist");
    let data = dir.join("data.db");
    let data_arg = data.to_str().unwrap();
    let serve = Serve::start(&dir, &["--data", data_arg]);
    let ada = json(&ok(serve.cli(&[
        "create",
        "ada@example.com",
        "--output",
        "json",
    ])));
    let bob = json(&ok(serve.cli(&[
        "create",
        "bob@example.com",
        "--output",
        "json",
    ])));
    ok(serve.cli(&["revoke", bob["id"].as_str().unwrap()]));
    let before = ok(serve.cli(&["list", "--output", "json"]));
    // A crash, not a clean stop: SIGKILL.
    drop(serve);

    let seed = dir.join("ignored.toml");
    std::fs::write(&seed, "[[organizations]]\nname = \"Other\"\n").unwrap();
    let serve = Serve::start(
        &dir,
        &["--data", data_arg, "--seed", seed.to_str().unwrap()],
    );
    assert!(
        serve.banner.join("\n").contains("2 invitations"),
        "{:?}",
        serve.banner
    );
    let after = ok(serve.cli(&["list", "--output", "json"]));
    assert_eq!(after, before);
    let listed = json_lines(&after);
    assert_eq!(listed[0]["status"], "revoked");
    assert_eq!(listed[1], ada);
    // The restored server goes on changing and saving.
    ok(serve.cli(&["resend", ada["id"].as_str().unwrap()]));
    let status = serve.signal("-TERM");
    assert!(status.success());
    let saved = rusqlite::Connection::open(&data).unwrap();
    let emails: i64 = saved
        .query_row("SELECT count(*) FROM emails", [], |row| row.get(0))
        .unwrap();
    assert_eq!(emails, 3);
}

#[test]
fn serve_takes_a_seed_file_in_toml_or_json() {
    let dir = scratch("seed");
    let toml = dir.join("seed.toml");
    std::fs::write(
        &toml,
        r#"
[[organizations]]
id = "org_01h2xcejqtf2nbrexx3vqjhp41"
name = "Globex"

[[accounts]]
name = "Hank Scorpio"
email = "hank@globex.example"
member_of = ["Globex"]

[[api_keys]]
account = "hank@globex.example"
key = "ffy_hank"
permissions = ["invite_members"]
"#,
    )
    .unwrap();
    let serve = Serve::start(&dir, &["--seed", toml.to_str().unwrap()]);
    let globex = ["--org", "org_01h2xcejqtf2nbrexx3vqjhp41"];
    let created = json(&ok(serve.cli_with_key(
        "ffy_hank",
        &[
            &["create", "bart@example.com", "--output", "json"][..],
            &globex[..],
        ]
        .concat(),
    )));
    assert_eq!(created["sender"]["name"], "Hank Scorpio");
    // No manage_members: revoking is refused.
    let refused = serve.cli_with_key(
        "ffy_hank",
        &[
            &["revoke", created["id"].as_str().unwrap()][..],
            &globex[..],
        ]
        .concat(),
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("PERMISSION_DENIED"));
    drop(serve);

    let json_seed = dir.join("seed.json");
    std::fs::write(
        &json_seed,
        r#"{"organizations": [{"name": "Initech"}],
            "accounts": [{"name": "Bill", "email": "bill@initech.example", "member_of": ["Initech"]}],
            "api_keys": [{"account": "bill@initech.example", "permissions": ["invite_members", "manage_members"]}]}"#,
    )
    .unwrap();
    let serve = Serve::start(&dir, &["--seed", json_seed.to_str().unwrap()]);
    let banner = serve.banner.join("\n");
    assert!(
        banner.contains("Initech") && banner.contains("api key ffy_"),
        "{banner}"
    );

    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"api_keys": [{"account": "nobody@example.com"}]}"#).unwrap();
    let refused = Command::new(BIN)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--seed",
            bad.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("nobody@example.com"));
}
