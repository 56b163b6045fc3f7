//! The reference server's store at scale: the cost of one create and of
//! listing the first page, in an organization holding 1,000, 10,000 and
//! 100,000 invitations, memory-only and with a SQLite database attached
//! (what `factify-invites serve --data` does: one transaction, fsynced,
//! per create).
//!
//! Calls go through the generated tonic service trait that
//! `ReferenceServer` implements (authentication, rules, request IDs,
//! everything but the socket), so the figures are the store's own cost.
//! The store is filled through the same create call (invitations and their
//! emails). A create adds an invitation, so the measured organization
//! grows while criterion runs: each size gets a time budget for about N/10
//! creates (flat sampling, 10 samples; at most 3 s), so every figure is at
//! N to about 1.1 x N invitations (1.2 x if creates run twice as fast as
//! budgeted). Putting the store back to its seed instead (a `restore`)
//! would free the old store's memory first, and the allocator's state after
//! freeing 100,000 invitations' strings doubles the cost of the next
//! creates: that would measure glibc, not the store. For the same reason
//! every store stays alive until the bench ends, so no measurement follows
//! the freeing of another.
//!
//! It ends with `RESULT` lines and fails if a create at 100,000
//! invitations costs more than 1.5 x one at 1,000, memory-only or with the
//! database. Peak memory and a million invitations are measured by
//! `examples/store_scale.rs` (a process per size; see BENCHMARKS.md).

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{human, median_ns, report};
use criterion::{BenchmarkId, Criterion, SamplingMode};
use factify_invites::proto::organization_invite_service_server::OrganizationInviteService;
use factify_invites::proto::{CreateOrganizationInviteRequest, ListOrganizationInvitesRequest};
use factify_invites_server::{Database, Fixture, ReferenceServer};

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
/// How much slower a create at 100,000 invitations may be than at 1,000.
const FLAT: f64 = 1.5;

fn authorized<T>(key: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {key}").parse().expect("a header value"),
    );
    request
}

/// A store of `size` invitations in the fixture organization, each made by
/// a create (so with its email), and its snapshot to go back to.
struct Store {
    server: ReferenceServer,
    fixture: Fixture,
    next: u64,
    /// The database file, when one is attached.
    data: Option<PathBuf>,
}

impl Store {
    async fn new(size: usize, with_database: bool) -> Store {
        let server = ReferenceServer::new();
        let fixture = server.fixture();
        let mut store = Store {
            server,
            fixture,
            next: 0,
            data: None,
        };
        for _ in 0..size {
            store.create().await;
        }
        if with_database {
            let path = std::env::temp_dir().join(format!(
                "factify-bench-store-{}-{size}.db",
                std::process::id()
            ));
            remove_database(&path);
            let database = Database::open(&path).expect("open the bench database");
            store
                .server
                .attach_database(database)
                .expect("write the seeded store");
            store.data = Some(path);
        }
        store
    }

    async fn create(&mut self) {
        self.next += 1;
        let request = authorized(
            &self.fixture.admin_key,
            CreateOrganizationInviteRequest {
                organization_id: self.fixture.organization.to_string(),
                email: format!("invitee{:08}@bench.example", self.next),
                ..Default::default()
            },
        );
        self.server
            .create_organization_invite(request)
            .await
            .expect("a create");
    }

    /// `iters` creates, timed.
    async fn time_creates(&mut self, iters: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..iters {
            self.create().await;
        }
        start.elapsed()
    }

    async fn list_first_page(&self) {
        let request = authorized(
            &self.fixture.admin_key,
            ListOrganizationInvitesRequest {
                organization_id: self.fixture.organization.to_string(),
                page_size: 100,
                ..Default::default()
            },
        );
        let page = self
            .server
            .list_organization_invites(request)
            .await
            .expect("a list")
            .into_inner();
        assert_eq!(page.items.len(), 100);
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.server.detach_database();
        if let Some(path) = &self.data {
            remove_database(path);
        }
    }
}

fn remove_database(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// What a create costs roughly, to budget about `size / 10` of them.
fn budget(with_database: bool, size: usize) -> Duration {
    let per_create = if with_database {
        Duration::from_millis(4)
    } else {
        Duration::from_micros(5)
    };
    (per_create * u32::try_from(size / 10).unwrap_or(u32::MAX)).min(Duration::from_secs(3))
}

fn bench(c: &mut Criterion) {
    // One thread: the database's writes then run on it directly.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut alive = Vec::new();
    for (mode, with_database) in [("memory", false), ("sqlite", true)] {
        for size in SIZES {
            let mut store = rt.block_on(Store::new(size, with_database));
            let budget = budget(with_database, size);
            let mut group = c.benchmark_group("store_create");
            group
                .sampling_mode(SamplingMode::Flat)
                .sample_size(10)
                .warm_up_time(budget / 5)
                .measurement_time(budget * 4 / 5);
            group.bench_function(BenchmarkId::new(mode, size), |b| {
                b.iter_custom(|iters| rt.block_on(store.time_creates(iters)));
            });
            group.finish();
            let mut group = c.benchmark_group("store_list");
            group.bench_function(BenchmarkId::new(mode, size), |b| {
                b.iter(|| rt.block_on(store.list_first_page()));
            });
            group.finish();
            alive.push(store);
        }
    }
}

fn summary() {
    let mut failed = Vec::new();
    for mode in ["memory", "sqlite"] {
        let figures: Vec<_> = SIZES
            .iter()
            .map(|size| {
                (
                    median_ns("store_create", mode, &size.to_string()),
                    median_ns("store_list", mode, &size.to_string()),
                )
            })
            .collect();
        for (size, (create, list)) in SIZES.iter().zip(&figures) {
            if let (Some(create), Some(list)) = (create, list) {
                report(format!(
                    "{mode} at {size} invitations: create {}, list first page of 100 {}",
                    human(*create),
                    human(*list)
                ));
            }
        }
        if let (Some(small), Some(large)) = (figures[0].0, figures[2].0) {
            let ratio = large / small;
            report(format!(
                "{mode}: create at 100,000 / at 1,000 = {ratio:.2} (limit {FLAT})"
            ));
            if ratio > FLAT {
                failed.push(format!("{mode} {ratio:.2}"));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "a create at 100,000 invitations costs more than {FLAT} x one at 1,000: {failed:?}"
    );
}

fn main() {
    common::started();
    let mut c = common::criterion(Duration::from_millis(500), Duration::from_secs(3), 20);
    bench(&mut c);
    c.final_summary();
    if !std::env::args().any(|arg| arg == "--profile-time") {
        summary();
    }
}
