//! Memory: the client's peak heap while streaming 10,000 and 100,000
//! invitations in pages of 100 stays flat: O(page size), not O(total).
//!
//! Method: a counting global allocator (`peak_alloc`, wrapping the system
//! allocator) tracks the bytes currently allocated and their peak. The
//! reference server, whose store of 100,000 invitations is itself large,
//! runs in a **child process** (this same bench binary, told so by an
//! environment variable), so every byte counted here is the client's:
//! the runtime, the connection, the stream and the pages. After connecting
//! and reading one page (to warm the connection's buffers), the bench takes
//! the bytes allocated as its baseline, resets the peak, streams every
//! invitation (each dropped once counted), and reports the peak minus the
//! baseline: the most the stream held above what the client holds at rest.
//! It also reports what one page of 100 invitations takes once converted
//! (`Page`), to express the peak in pages.
//!
//! Not a criterion benchmark: it prints its figures (lines starting with
//! `RESULT`) and fails if the peak for 100,000 is not within 1.5x of the
//! peak for 10,000.

mod common;

use common::{protocols, report, Env, Protocol, ServerProcess};
use futures::TryStreamExt;
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// Set in the child process to the number of invitations to seed.
const SERVER_ENV: &str = "FACTIFY_BENCH_MEMORY_SERVER";
const PAGE: u32 = 100;

/// The child: seeds `total` invitations, serves them on loopback, prints
/// `<endpoint> <organization> <key>`, and serves until its stdin closes.
fn serve(total: usize) {
    let rt = common::runtime();
    let env = rt.block_on(Env::start());
    env.seed(total, chrono::Utc::now());
    common::announce_and_serve(&env);
}

/// What one streaming run measured, in bytes above the baseline.
struct Measured {
    items: u64,
    peak: usize,
    left: isize,
    page: usize,
}

async fn measure(
    protocol: Protocol,
    endpoint: &str,
    org: &str,
    key: &str,
    prefetch: bool,
) -> Measured {
    let client = protocol.client_of(endpoint, key, None).await;
    let list = || client.list_invites(org).page_size(PAGE).prefetch(prefetch);
    // Warm the connection and the codec buffers with one page.
    drop(list().page(None).await.unwrap());

    // One page held: its converted size.
    let before = ALLOC.current_usage();
    let page = list().page(None).await.unwrap();
    let page_bytes = ALLOC.current_usage().saturating_sub(before);
    assert_eq!(page.items.len(), PAGE as usize);
    drop(page);

    let baseline = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let items = list()
        .into_stream()
        .try_fold(0u64, |count, invite| {
            drop(invite);
            async move { Ok(count + 1) }
        })
        .await
        .unwrap();
    let peak = ALLOC.peak_usage().saturating_sub(baseline);
    let left = ALLOC.current_usage() as isize - baseline as isize;
    Measured {
        items,
        peak,
        left,
        page: page_bytes,
    }
}

fn main() {
    if let Ok(total) = std::env::var(SERVER_ENV) {
        serve(total.parse().expect("a number of invitations"));
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut peaks = Vec::new();
    for &protocol in protocols() {
        for total in [10_000u64, 100_000] {
            let server = ServerProcess::start(SERVER_ENV, &total.to_string());
            let (endpoint, org, key) = (&server.endpoint, &server.org, &server.key);
            for prefetch in [true, false] {
                let m = rt.block_on(measure(protocol, endpoint, org, key, prefetch));
                assert_eq!(m.items, total);
                report(format!(
                    "memory {} {total:>6} items, prefetch {prefetch:>5}: peak {} bytes above \
                     baseline ({:.1} pages of {} bytes, {} bytes/invite held); {} bytes left after",
                    protocol.name(),
                    m.peak,
                    m.peak as f64 / m.page as f64,
                    m.page,
                    m.page / PAGE as usize,
                    m.left
                ));
                peaks.push((protocol.name(), prefetch, total, m.peak));
            }
            drop(server);
        }
    }
    for &protocol in protocols() {
        for prefetch in [true, false] {
            let peak = |total| {
                peaks
                    .iter()
                    .find(|p| p.0 == protocol.name() && p.1 == prefetch && p.2 == total)
                    .map(|p| p.3 as f64)
                    .expect("both runs measured")
            };
            let ratio = peak(100_000) / peak(10_000);
            report(format!(
                "memory {} prefetch {prefetch}: peak(100k) / peak(10k) = {ratio:.2}",
                protocol.name()
            ));
            assert!(
                ratio < 1.5,
                "peak memory grows with the number of items streamed"
            );
        }
    }
}
