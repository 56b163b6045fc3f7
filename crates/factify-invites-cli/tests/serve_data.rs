//! `factify-invites serve --data` as a process: a `SIGKILL` in the middle
//! of a burst of creates loses no acknowledged create and leaves no
//! temporary file; a second `serve` on the same data file refuses to start
//! (and starts once the first is killed); a JSON data file of an earlier
//! version is refused with the command that imports it, and imported
//! strictly; and the seed's rules: organizations in seed order, no two of
//! one name.
//!
//! Each test runs the binary on `127.0.0.1:0` in its own directory under
//! the target dir and reads the address from its first stdout line.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use factify_invites::{Client, OrganizationId};
use futures::TryStreamExt;

const BIN: &str = env!("CARGO_BIN_EXE_factify-invites");
const ORG: &str = "org_0000000000000000000000acme";
const ADMIN_KEY: &str = "ffy_emulatoradmin000000000000000";

/// A fresh directory under the target dir.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-data-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running `serve`, killed on drop.
struct Serve {
    child: Child,
    endpoint: String,
    banner: Vec<String>,
}

impl Serve {
    /// Starts `serve` with `args`; `Err` with its output when it exits
    /// before printing its address.
    fn try_start(args: &[&str]) -> Result<Serve, Output> {
        let mut child = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start serve");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let Some(endpoint) = first.trim().strip_prefix("listening on ") else {
            let mut rest = Vec::new();
            let _ = stdout.read_to_end(&mut rest);
            let mut output = child.wait_with_output().unwrap();
            output.stdout = [first.into_bytes(), rest].concat();
            return Err(output);
        };
        let endpoint = endpoint.to_owned();
        let mut banner = Vec::new();
        for line in stdout.by_ref().lines() {
            let line = line.unwrap();
            let last = line.starts_with("try:");
            banner.push(line);
            if last {
                break;
            }
        }
        let mut stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        Ok(Serve {
            child,
            endpoint,
            banner,
        })
    }

    #[track_caller]
    fn start(args: &[&str]) -> Serve {
        Serve::try_start(args).unwrap_or_else(|output| {
            panic!(
                "serve did not start: {:?}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
        })
    }

    /// Sends `signal` and waits for the exit.
    fn signal(mut self, signal: &str) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn client(endpoint: &str) -> Client {
    Client::builder()
        .endpoint(endpoint)
        .api_key(ADMIN_KEY)
        .connect()
        .await
        .unwrap()
}

/// Every invitation ID the server lists.
async fn listed(endpoint: &str) -> HashSet<String> {
    let org = OrganizationId::parse(ORG).unwrap();
    client(endpoint)
        .await
        .list_invites(&org)
        .page_size(100)
        .into_stream()
        .map_ok(|invite| invite.id.to_string())
        .try_collect()
        .await
        .unwrap()
}

/// The names in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_sigkill_during_a_burst_of_creates_loses_nothing_acknowledged() {
    let dir = scratch("kill");
    let data = dir.join("data.db");
    let data_arg = data.to_str().unwrap();
    let serve = Serve::start(&["--data", data_arg]);
    let rt = runtime();
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    // Four writers create as fast as they can; the kill lands while they
    // are in flight, after at least 40 acknowledgements.
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (endpoint, acknowledged) = (serve.endpoint.clone(), acknowledged.clone());
            rt.spawn(async move {
                let client = client(&endpoint).await;
                let org = OrganizationId::parse(ORG).unwrap();
                for i in 0.. {
                    let email = format!("w{writer}-{i}@example.com");
                    match client
                        .create_invite(&org, email)
                        .retry_policy(factify_invites::retry::RetryPolicy::disabled())
                        .await
                    {
                        Ok(invite) => acknowledged.lock().unwrap().push(invite.id.to_string()),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 40 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let status = serve.signal("-KILL");
    assert!(!status.success());
    for writer in writers {
        rt.block_on(writer).unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 40);
    assert!(
        !files_in(&dir).iter().any(|name| name.contains(".tmp")),
        "{:?}",
        files_in(&dir)
    );

    let serve = Serve::start(&["--data", data_arg]);
    let stored = rt.block_on(listed(&serve.endpoint));
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged creates lost: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    // A clean stop folds SQLite's journal into the file: nothing else is
    // left beside it.
    assert!(serve.signal("-TERM").success());
    assert_eq!(files_in(&dir), ["data.db"]);
}

#[test]
fn a_second_serve_on_the_same_data_refuses_to_start() {
    let dir = scratch("lock");
    let data = dir.join("data.db");
    let data_arg = data.to_str().unwrap();
    let first = Serve::start(&["--data", data_arg]);
    let refused = Serve::try_start(&["--data", data_arg])
        .err()
        .expect("a second serve on the same data file must not start");
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("in use by another process") && message.contains(data_arg),
        "{message}"
    );
    // The lock dies with its process, SIGKILL included.
    assert!(!first.signal("-KILL").success());
    let again = Serve::start(&["--data", data_arg]);
    assert!(again.signal("-TERM").success());
}

#[test]
fn a_json_data_file_is_refused_with_how_to_import_it_and_imported_strictly() {
    let dir = scratch("json");
    let old = dir.join("data.json");
    // A data file of the version before the database, as it wrote it.
    let json = r#"{"version":1,"organizations":[{"id":"org_0000000000000000000000acme","name":"Acme","created_at":"2024-05-01T00:00:00Z","members":["user_00000000000000000000000ada"]}],"accounts":[{"id":"user_00000000000000000000000ada","name":"Ada Admin","email":"admin@acme.example"}],"api_keys":[{"key":"ffy_emulatoradmin000000000000000","account":"user_00000000000000000000000ada","invite_members":true,"manage_members":true}],"invites":[{"id":"inv_01hx0000000000000000000000","organization_id":"org_0000000000000000000000acme","email":"old@example.com","stored":"pending","sender":{"id":"user_00000000000000000000000ada","user_type":1,"name":"Ada Admin","email":"admin@acme.example"},"created_at":"2024-05-01T00:00:00Z","expires_at":"2024-05-08T00:00:00Z","token":"tok_old"}],"idempotency":[],"emails":[]}"#;
    std::fs::write(&old, json).unwrap();
    let refused = Serve::try_start(&["--data", old.to_str().unwrap()])
        .err()
        .expect("a JSON data file is no database");
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("--import-json"), "{message}");
    assert_eq!(
        std::fs::read_to_string(&old).unwrap(),
        json,
        "left as it was"
    );

    // A field this version does not know is refused, not dropped.
    let unknown = dir.join("unknown.json");
    std::fs::write(
        &unknown,
        json.replace(r#""token":"tok_old""#, r#""token":"tok_old","priority":3"#),
    )
    .unwrap();
    let data = dir.join("data.db");
    let refused = Serve::try_start(&[
        "--data",
        data.to_str().unwrap(),
        "--import-json",
        unknown.to_str().unwrap(),
    ])
    .err()
    .expect("an unknown field is refused");
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("priority"), "{message}");

    let _ = std::fs::remove_file(&data);
    let serve = Serve::start(&[
        "--data",
        data.to_str().unwrap(),
        "--import-json",
        old.to_str().unwrap(),
    ]);
    let rt = runtime();
    assert_eq!(
        rt.block_on(listed(&serve.endpoint)),
        HashSet::from(["inv_01hx0000000000000000000000".to_owned()])
    );
    assert!(serve.signal("-TERM").success());
    // Imported once: the database now has data, so a second import is
    // refused rather than mixed in.
    let refused = Serve::try_start(&[
        "--data",
        data.to_str().unwrap(),
        "--import-json",
        old.to_str().unwrap(),
    ])
    .err()
    .expect("a second import is refused");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("already holds data"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn serve_shows_organizations_in_seed_order_and_refuses_duplicate_names() {
    let dir = scratch("seed-order");
    let seed = dir.join("seed.toml");
    // Zeta's ID sorts after Alpha's, but Zeta is seeded first.
    std::fs::write(
        &seed,
        r#"
[[organizations]]
id = "org_0000000000000000000000zeta"
name = "Zeta"

[[organizations]]
id = "org_0000000000000000000000abcd"
name = "Alpha"

[[accounts]]
name = "Zed"
email = "zed@zeta.example"
member_of = ["Zeta", "Alpha"]

[[api_keys]]
account = "zed@zeta.example"
key = "ffy_zed"
permissions = ["invite_members"]
"#,
    )
    .unwrap();
    let serve = Serve::start(&["--seed", seed.to_str().unwrap()]);
    let organizations: Vec<_> = serve
        .banner
        .iter()
        .filter(|line| line.starts_with("organization "))
        .collect();
    assert!(organizations[0].contains("Zeta"), "{:?}", serve.banner);
    assert!(organizations[1].contains("Alpha"), "{:?}", serve.banner);
    let try_line = serve.banner.last().unwrap();
    assert!(
        try_line.contains("FACTIFY_ORGANIZATION_ID=org_0000000000000000000000zeta"),
        "{try_line}"
    );
    drop(serve);

    std::fs::write(
        &seed,
        "[[organizations]]\nname = \"Acme\"\n\n[[organizations]]\nname = \"Acme\"\n",
    )
    .unwrap();
    let refused = Serve::try_start(&["--seed", seed.to_str().unwrap()])
        .err()
        .expect("two organizations of one name are refused");
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains(r#"two organizations are named "Acme""#),
        "{message}"
    );
}
