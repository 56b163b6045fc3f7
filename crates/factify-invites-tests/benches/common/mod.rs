//! Shared set-up of the benchmarks: a reference server on a free loopback
//! port, the crate's client and the raw tonic-generated client on the same
//! channel, the protocols to compare, criterion's configuration, and a way
//! to read criterion's medians back to print ratios.
//!
//! Every bench is one `[[bench]]` target with `harness = false` (see
//! `BENCHMARKS.md`); each includes this module with `mod common;` and uses
//! the parts it needs.

#![allow(dead_code, unreachable_pub)]

#[path = "../../tests/common/proxy.rs"]
pub mod proxy;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::Criterion;
use factify_invites::proto::organization_invite_service_client::OrganizationInviteServiceClient;
use factify_invites::{Client, Protocol as Wire};
use factify_invites_server::{Clock, Fixture, ReferenceServer, RunningServer, SystemClock};
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::{Channel, Endpoint};

/// The wire protocols the crate's client is measured over.
///
/// The raw tonic client is the baseline of every comparison and speaks
/// gRPC only; the crate's client is measured once per protocol, side by
/// side. Adding one means a variant here, its `name`, its arm in
/// [`Protocol::client`], and listing it in [`protocols`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// gRPC over HTTP/2, on the same tonic channel as the raw client.
    Grpc,
    /// Connect with binary protobuf bodies, with the client's default HTTP
    /// version (HTTP/1.1 over plaintext `http://`, a keep-alive pool).
    ConnectProto,
    /// Connect with JSON bodies, likewise.
    ConnectJson,
}

/// The protocols the unary, pagination and memory benches iterate over.
pub fn protocols() -> &'static [Protocol] {
    &[
        Protocol::Grpc,
        Protocol::ConnectProto,
        Protocol::ConnectJson,
    ]
}

impl Protocol {
    /// The name used in benchmark IDs, such as `grpc`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::ConnectProto => "connect_proto",
            Protocol::ConnectJson => "connect_json",
        }
    }

    /// The crate's client of `env`'s server over this protocol, with the
    /// fixture admin's key and otherwise default settings (30 s timeout,
    /// default retry policy). Over gRPC it shares the raw client's channel.
    pub async fn client(self, env: &Env) -> Client {
        self.client_of(
            &env.running.endpoint(),
            &env.fixture.admin_key,
            Some(&env.channel),
        )
        .await
    }

    /// The crate's client of the server at `endpoint`: over gRPC on
    /// `channel` when given, else connecting its own.
    pub async fn client_of(self, endpoint: &str, key: &str, channel: Option<&Channel>) -> Client {
        let builder = Client::builder().endpoint(endpoint).api_key(key);
        let built = match (self, channel) {
            (Protocol::Grpc, Some(channel)) => builder.build_with_channel(channel.clone()),
            (Protocol::Grpc, None) => builder.connect().await,
            (Protocol::ConnectProto, _) => builder.protocol(Wire::ConnectProto).connect().await,
            (Protocol::ConnectJson, _) => builder.protocol(Wire::ConnectJson).connect().await,
        };
        built.expect("a client of the bench server")
    }
}

/// A reference server on loopback, its fixture, and one channel to it.
pub struct Env {
    pub server: ReferenceServer,
    pub running: RunningServer,
    pub fixture: Fixture,
    /// One HTTP/2 connection, shared by the crate's and the raw client.
    pub channel: Channel,
}

impl Env {
    /// Starts a reference server on the system clock.
    pub async fn start() -> Env {
        Env::start_with_clock(Arc::new(SystemClock)).await
    }

    /// Starts a reference server on `clock` on `127.0.0.1:0` and connects
    /// one channel to it.
    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> Env {
        let server = ReferenceServer::with_clock(clock);
        let fixture = server.fixture();
        let running = server.start().await.expect("bind 127.0.0.1:0");
        let channel = Endpoint::from_shared(running.endpoint())
            .expect("the server's URL")
            .connect()
            .await
            .expect("connect to the reference server");
        Env {
            server,
            running,
            fixture,
            channel,
        }
    }

    /// The raw tonic-generated client on the shared channel.
    pub fn raw(&self) -> OrganizationInviteServiceClient<Channel> {
        OrganizationInviteServiceClient::new(self.channel.clone())
    }

    /// The `authorization` header a raw caller sends, parsed once as a
    /// careful user of the raw client would (the crate also parses it once).
    pub fn raw_auth(&self) -> AsciiMetadataValue {
        format!("Bearer {}", self.fixture.admin_key)
            .parse()
            .expect("a header value")
    }

    /// Seeds `count` pending invitations in the fixture organization, one
    /// second apart, ending now.
    pub fn seed(&self, count: usize, now: chrono::DateTime<chrono::Utc>) {
        for i in 0..count {
            self.server.seed_invite(
                &self.fixture.organization,
                &format!("seeded{i:07}@bench.example"),
                &self.fixture.admin,
                now - chrono::TimeDelta::seconds((count - i) as i64),
            );
        }
    }
}

/// The deadline the raw client sends, to match the crate's default
/// (`DEFAULT_TIMEOUT`, 30 s): both sides then send the same headers.
pub const RAW_TIMEOUT: Duration = factify_invites::client::DEFAULT_TIMEOUT;

/// A multi-threaded runtime with one worker per core of this machine (2),
/// shared by the server and the clients, as in a service's own tests.
///
/// `BENCH_WORKERS=N` sets the number of workers, and `BENCH_WORKERS=0` a
/// current-thread runtime (everything on one thread), to tell a cost of
/// crossing threads from others.
pub fn runtime() -> tokio::runtime::Runtime {
    let workers = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|workers| workers.parse::<usize>().ok());
    let mut builder = match workers {
        Some(0) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    if let Some(workers) = workers.filter(|workers| *workers > 0) {
        builder.worker_threads(workers);
    }
    builder.enable_all().build().expect("a tokio runtime")
}

/// Where criterion writes its results: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else the workspace's `target/criterion`.
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")));
    target.join("criterion")
}

/// Criterion with this project's defaults (no plots, results where
/// [`median_ns`] reads them) and a bench's timing, which the command line
/// can override (`cargo bench --bench NAME -- --measurement-time 2`).
pub fn criterion(warm_up: Duration, measurement: Duration, samples: usize) -> Criterion {
    Criterion::default()
        .output_directory(&criterion_dir())
        .without_plots()
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        .sample_size(samples)
        .configure_from_args()
}

/// When this bench process started: estimates older than this are from an
/// earlier run and are not reported as this run's.
pub fn started() -> SystemTime {
    static STARTED: std::sync::OnceLock<SystemTime> = std::sync::OnceLock::new();
    *STARTED.get_or_init(SystemTime::now)
}

/// The median time per iteration, in nanoseconds, that criterion measured
/// in this run for `group/function/parameter`; `None` when that benchmark
/// did not run (filtered out on the command line).
pub fn median_ns(group: &str, function: &str, parameter: &str) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(function)
        .join(parameter)
        .join("new/estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < started() {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

/// Formats nanoseconds with a unit that suits them.
pub fn human(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// Prints one line of the summary a bench ends with (figures for
/// `BENCHMARKS.md`), marked so that it is easy to find in criterion's output.
pub fn report(line: impl AsRef<str>) {
    println!("RESULT {}", line.as_ref());
}

/// The median of `values` (sorted in place); `NaN` when empty.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// A paired A/B measurement to go with criterion's: runs `a` and `b`
/// alternately `rounds` times each (in the order ABBA, so neither is
/// always first), timing each run, and returns the median nanoseconds of
/// each. Criterion measures one function after the other, minutes apart;
/// on a machine shared with other work, load that drifts in between shows
/// up as a difference. Pairs see the same load, so their ratio is the
/// steadier figure. `setup` runs untimed before each run and its output is
/// passed to the run.
pub async fn paired<S, I, A, FA, B, FB>(rounds: usize, setup: S, a: A, b: B) -> (f64, f64)
where
    S: Fn() -> I,
    A: Fn(I) -> FA,
    FA: std::future::Future,
    B: Fn(I) -> FB,
    FB: std::future::Future,
{
    let (mut a_ns, mut b_ns) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for round in 0..rounds {
        for a_now in [round % 2 == 0, round % 2 == 1] {
            let input = setup();
            let start = std::time::Instant::now();
            if a_now {
                std::hint::black_box(a(input).await);
                a_ns.push(start.elapsed().as_nanos() as f64);
            } else {
                std::hint::black_box(b(input).await);
                b_ns.push(start.elapsed().as_nanos() as f64);
            }
        }
    }
    (median(&mut a_ns), median(&mut b_ns))
}

/// Whether criterion was asked to profile (`--profile-time N`, as under
/// `valgrind --tool=callgrind`): then a bench runs only the routine being
/// profiled, without its checks and paired measurements.
pub fn profiling() -> bool {
    std::env::args().any(|arg| arg == "--profile-time")
}

/// A reference server in a child process of the running bench, so that its
/// CPU and allocations are not counted with the client's. The bench runs
/// itself again with `env` set to `value`; the child calls
/// [`announce_and_serve`]. Dropping this closes the child's stdin, which
/// stops it, and waits for it.
pub struct ServerProcess {
    child: std::process::Child,
    /// The child's loopback endpoint.
    pub endpoint: String,
    /// The seeded organization.
    pub org: String,
    /// The seeded admin key.
    pub key: String,
}

impl ServerProcess {
    /// Starts the child and reads its `<endpoint> <organization> <key>` line.
    pub fn start(env: &str, value: &str) -> ServerProcess {
        use std::io::{BufRead, BufReader};
        use std::process::{Command, Stdio};

        let exe = std::env::current_exe().expect("this bench's path");
        let mut child = Command::new(&exe)
            .env(env, value)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server process");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("the child's stdout"))
            .read_line(&mut line)
            .expect("the server's address");
        let mut fields = line.split_whitespace().map(str::to_owned);
        let mut field = |name: &str| {
            fields
                .next()
                .unwrap_or_else(|| panic!("no {name} in {line:?}"))
        };
        let (endpoint, org, key) = (field("endpoint"), field("organization"), field("key"));
        ServerProcess {
            child,
            endpoint,
            org,
            key,
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take()); // the child exits
        let _ = self.child.wait();
    }
}

/// The child's side of [`ServerProcess`]: prints `<endpoint> <organization>
/// <key>` of `env`'s server and serves until the parent closes this
/// process's stdin (or dies).
pub fn announce_and_serve(env: &Env) {
    use std::io::{Read, Write};

    println!(
        "{} {} {}",
        env.running.endpoint(),
        env.fixture.organization,
        env.fixture.admin_key
    );
    std::io::stdout().flush().expect("write to the parent");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
