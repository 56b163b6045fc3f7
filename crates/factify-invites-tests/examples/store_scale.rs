//! The reference server's store at one size, in a process of its own, for
//! the figures of BENCHMARKS.md that criterion cannot give: a million
//! invitations, and the process's peak memory.
//!
//! It fills one organization with N invitations through the create call
//! (each with its email, as `serve` would hold them), optionally attaches
//! a SQLite database as `serve --data` does (one transaction writes the
//! whole store), then times 1,000 creates and 1,000 first pages of 100
//! (median and 99th percentile), reopens the database into a new server in
//! a child process (a restart of `serve --data`: its own peak memory), and
//! prints the peak resident memory (`VmHWM` of `/proc/self/status`).
//!
//! ```sh
//! cargo run --release --example store_scale -- 1000000
//! cargo run --release --example store_scale -- 1000000 --data /tmp/store.db
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use factify_invites::proto::organization_invite_service_server::OrganizationInviteService;
use factify_invites::proto::{CreateOrganizationInviteRequest, ListOrganizationInvitesRequest};
use factify_invites_server::{Database, Fixture, ReferenceServer};

fn authorized<T>(key: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {key}").parse().expect("a header value"),
    );
    request
}

async fn create(server: &ReferenceServer, fixture: &Fixture, n: usize) {
    let request = authorized(
        &fixture.admin_key,
        CreateOrganizationInviteRequest {
            organization_id: fixture.organization.to_string(),
            email: format!("invitee{n:08}@scale.example"),
            ..Default::default()
        },
    );
    server
        .create_organization_invite(request)
        .await
        .expect("a create");
}

async fn list(server: &ReferenceServer, fixture: &Fixture) {
    let request = authorized(
        &fixture.admin_key,
        ListOrganizationInvitesRequest {
            organization_id: fixture.organization.to_string(),
            page_size: 100,
            ..Default::default()
        },
    );
    let page = server
        .list_organization_invites(request)
        .await
        .expect("a list")
        .into_inner();
    assert_eq!(page.items.len(), 100);
}

/// A field of `/proc/self/status` in MiB, such as `VmHWM`.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Median and 99th percentile of `times`.
fn spread(times: &mut [Duration]) -> String {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    format!("median {:?}, p99 {:?}", at(0.5), at(0.99))
}

fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// The child: loads the database at `path` into a new server, as `serve
/// --data` does at start, and reports the time and its peak memory.
fn load(path: &Path) {
    let start = Instant::now();
    let server = ReferenceServer::new();
    server
        .attach_database(Database::open(path).expect("reopen the database"))
        .expect("load the store");
    let invites = server.invite_count();
    println!(
        "RESULT sqlite {invites}: reopened (a restart of serve) in {:.1?}, peak RSS {:.0} MiB",
        start.elapsed(),
        status_mib("VmHWM")
    );
    server.detach_database();
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let [flag, path] = &std::env::args().skip(1).collect::<Vec<_>>()[..] {
        if flag == "--load" {
            return load(Path::new(path));
        }
    }
    let mut args = std::env::args().skip(1);
    let size: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .expect("usage: store_scale N [--data FILE]");
    let data = match (args.next().as_deref(), args.next()) {
        (Some("--data"), Some(path)) => Some(PathBuf::from(path)),
        (None, _) => None,
        _ => panic!("usage: store_scale N [--data FILE]"),
    };
    let mode = if data.is_some() { "sqlite" } else { "memory" };

    let server = ReferenceServer::new();
    let fixture = server.fixture();
    let start = Instant::now();
    for n in 0..size {
        create(&server, &fixture, n).await;
    }
    println!(
        "RESULT {mode} {size}: filled in {:.1?}, RSS {:.0} MiB",
        start.elapsed(),
        status_mib("VmRSS")
    );
    if let Some(path) = &data {
        remove_database(path);
        let start = Instant::now();
        server
            .attach_database(Database::open(path).expect("open the database"))
            .expect("write the store");
        let bytes = std::fs::metadata(path).map_or(0, |meta| meta.len());
        println!(
            "RESULT {mode} {size}: written in {:.1?}, file {:.0} MiB",
            start.elapsed(),
            bytes as f64 / (1024.0 * 1024.0)
        );
    }

    let mut creates = Vec::with_capacity(1000);
    for n in size..size + 1000 {
        let start = Instant::now();
        create(&server, &fixture, n).await;
        creates.push(start.elapsed());
    }
    let mut lists = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let start = Instant::now();
        list(&server, &fixture).await;
        lists.push(start.elapsed());
    }
    println!("RESULT {mode} {size}: create {}", spread(&mut creates));
    println!(
        "RESULT {mode} {size}: list first page {}",
        spread(&mut lists)
    );

    if let Some(path) = &data {
        server.detach_database();
        let status = std::process::Command::new(std::env::current_exe().expect("this program"))
            .arg("--load")
            .arg(path)
            .status()
            .expect("run the loading child");
        assert!(status.success(), "the store loads back");
        remove_database(path);
    }
    println!(
        "RESULT {mode} {size}: peak RSS {:.0} MiB",
        status_mib("VmHWM")
    );
}
