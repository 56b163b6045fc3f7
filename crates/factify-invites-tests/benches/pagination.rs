//! Pagination: streaming 10,000 invitations in pages of 100.
//!
//! - `pagination_10k`: items per second with nothing in the way, for the
//!   crate's `InviteStream` with prefetch (the default) and without, and a
//!   raw tonic loop over page tokens.
//! - `pagination_10k_2ms`: the server takes 2 ms more per page
//!   (`set_latency(Method::List, 2 ms)`) and the consumer works 2 ms on each
//!   page (a `tokio::time::sleep`, standing for I/O such as writing the page
//!   to a database; a busy loop would instead take one of the machine's two
//!   cores from the server). The prefetching stream, whose next page
//!   travels while the consumer works, against the strictly sequential one
//!   (`prefetch(false)`); target ≥ 1.8x.
//!
//! Paired measurements follow (see `common::paired`): prefetching against
//! sequential with the delay, then without the delay both prefetching
//! against sequential (nothing to overlap: the cost of the hand-off) and
//! the crate's sequential stream against the raw loop. Last, the bound on the gain: one page in flight
//! turns `fetch + work` per page into `max(fetch, work)`, so the bench times
//! a page fetched under the delay and the consumer's 2 ms of work and prints
//! `(fetch + work) / max(fetch, work)`.

mod common;

use std::time::Duration;

use common::{human, median_ns, protocols, report, Env};
use criterion::{BenchmarkId, Criterion, Throughput};
use factify_invites::proto;
use factify_invites::proto::organization_invite_service_client::OrganizationInviteServiceClient;
use factify_invites_server::Method;
use futures::TryStreamExt;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::Channel;

const TOTAL: u64 = 10_000;
const PAGE: u32 = 100;
const DELAY: Duration = Duration::from_millis(2);
/// Pairs of the paired measurements after criterion's.
const DELAY_PAIRS: usize = 6;
const RAW_PAIRS: usize = 30;
const CALIBRATION_PAIRS: usize = 100;

/// Streams every invitation through the crate's client; returns the count.
async fn stream_items(client: &factify_invites::Client, org: &str, prefetch: bool) -> u64 {
    client
        .list_invites(org)
        .page_size(PAGE)
        .prefetch(prefetch)
        .into_stream()
        .try_fold(0, |count, invite| {
            std::hint::black_box(invite);
            async move { Ok(count + 1) }
        })
        .await
        .unwrap()
}

/// Streams every page, working `DELAY` on each; returns the item count.
async fn stream_pages_working(client: &factify_invites::Client, org: &str, prefetch: bool) -> u64 {
    client
        .list_invites(org)
        .page_size(PAGE)
        .prefetch(prefetch)
        .pages()
        .try_fold(0, |count, page| async move {
            tokio::time::sleep(DELAY).await;
            Ok(count + page.items.len() as u64)
        })
        .await
        .unwrap()
}

/// Lists every invitation with the raw client, page token after page
/// token; returns the count.
async fn raw_items(
    mut raw: OrganizationInviteServiceClient<Channel>,
    auth: AsciiMetadataValue,
    org: &str,
) -> u64 {
    let mut page_token = String::new();
    let mut count = 0;
    loop {
        let mut request = tonic::Request::new(proto::ListOrganizationInvitesRequest {
            organization_id: org.to_owned(),
            page_size: PAGE as i32,
            page_token,
            ..Default::default()
        });
        request.metadata_mut().insert("authorization", auth.clone());
        request.set_timeout(common::RAW_TIMEOUT);
        let response = raw.list_organization_invites(request).await.unwrap();
        let response = response.into_inner();
        count += response.items.len() as u64;
        std::hint::black_box(response.items);
        page_token = response.pagination.unwrap_or_default().next_page_token;
        if page_token.is_empty() {
            return count;
        }
    }
}

fn main() {
    common::started();
    let rt = common::runtime();
    let env = rt.block_on(Env::start());
    env.seed(TOTAL as usize, chrono::Utc::now());
    let org = env.fixture.organization.to_string();
    let mut c: Criterion = common::criterion(Duration::from_secs(1), Duration::from_secs(6), 20);

    let mut group = c.benchmark_group("pagination_10k");
    group.throughput(Throughput::Elements(TOTAL));
    for &protocol in protocols() {
        let client = rt.block_on(protocol.client(&env));
        for (name, prefetch) in [("prefetch", true), ("sequential", false)] {
            group.bench_function(
                BenchmarkId::new(format!("crate_{name}"), protocol.name()),
                |b| {
                    b.to_async(&rt).iter(|| async {
                        assert_eq!(stream_items(&client, &org, prefetch).await, TOTAL);
                    })
                },
            );
        }
    }
    let raw = env.raw();
    let auth = env.raw_auth();
    group.bench_function(BenchmarkId::new("raw", "grpc"), |b| {
        b.to_async(&rt).iter(|| async {
            assert_eq!(raw_items(raw.clone(), auth.clone(), &org).await, TOTAL);
        })
    });
    group.finish();

    env.server.set_latency(Method::List, DELAY);
    // Each iteration takes about half a second: fewer, longer samples
    // (the command line still has the last word).
    let mut c = c
        .sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .configure_from_args();
    let mut group = c.benchmark_group("pagination_10k_2ms");
    group.throughput(Throughput::Elements(TOTAL));
    for &protocol in protocols() {
        let client = rt.block_on(protocol.client(&env));
        for (name, prefetch) in [("prefetch", true), ("sequential", false)] {
            group.bench_function(
                BenchmarkId::new(format!("crate_{name}"), protocol.name()),
                |b| {
                    b.to_async(&rt).iter(|| async {
                        assert_eq!(stream_pages_working(&client, &org, prefetch).await, TOTAL);
                    })
                },
            );
        }
    }
    group.finish();
    c.final_summary();

    // Paired measurements (see `common::paired`), with the delay still on,
    // then without it.
    let mut paired_delay = Vec::new();
    let ran = |group| median_ns(group, "crate_prefetch", protocols()[0].name()).is_some();
    for &protocol in protocols().iter().filter(|_| ran("pagination_10k_2ms")) {
        let client = rt.block_on(protocol.client(&env));
        let (prefetch, sequential) = rt.block_on(common::paired(
            DELAY_PAIRS,
            || (),
            |()| stream_pages_working(&client, &org, true),
            |()| stream_pages_working(&client, &org, false),
        ));
        paired_delay.push((protocol.name(), prefetch, sequential));
    }
    // What bounds the gain: with one page in flight, a page takes
    // max(fetch, work) instead of fetch + work, so prefetching is at best
    // (fetch + work) / max(fetch, work) times faster.
    let mut bounds = Vec::new();
    for &protocol in protocols().iter().filter(|_| ran("pagination_10k_2ms")) {
        let client = rt.block_on(protocol.client(&env));
        let (fetch, work) = rt.block_on(common::paired(
            CALIBRATION_PAIRS,
            || (),
            |()| client.list_invites(&org).page_size(PAGE).page(None),
            |()| tokio::time::sleep(DELAY),
        ));
        bounds.push((protocol.name(), fetch, work));
    }
    env.server.set_latency(Method::List, Duration::ZERO);
    // Prefetch against sequential with nothing to overlap (no delay, no
    // work): what the spawned task and its hand-off cost.
    let mut paired_nodelay = Vec::new();
    for &protocol in protocols().iter().filter(|_| ran("pagination_10k")) {
        let client = rt.block_on(protocol.client(&env));
        let (prefetch, sequential) = rt.block_on(common::paired(
            RAW_PAIRS,
            || (),
            |()| stream_items(&client, &org, true),
            |()| stream_items(&client, &org, false),
        ));
        paired_nodelay.push((protocol.name(), prefetch, sequential));
    }
    let mut paired_raw = Vec::new();
    for &protocol in protocols().iter().filter(|_| ran("pagination_10k")) {
        let client = rt.block_on(protocol.client(&env));
        let (ours, theirs) = rt.block_on(common::paired(
            RAW_PAIRS,
            || (),
            |()| stream_items(&client, &org, false),
            |()| raw_items(raw.clone(), auth.clone(), &org),
        ));
        paired_raw.push((protocol.name(), ours, theirs));
    }

    let items_per_s = |ns: f64| TOTAL as f64 * 1e9 / ns;
    let raw = median_ns("pagination_10k", "raw", "grpc");
    for &protocol in protocols() {
        let p = protocol.name();
        let prefetch = median_ns("pagination_10k", "crate_prefetch", p);
        let sequential = median_ns("pagination_10k", "crate_sequential", p);
        if let (Some(prefetch), Some(sequential), Some(raw)) = (prefetch, sequential, raw) {
            report(format!(
                "pagination_10k {p}: crate prefetch {:.0} items/s ({}), crate sequential {:.0} \
                 items/s ({}), raw {:.0} items/s ({}); raw/crate-sequential {:.3}",
                items_per_s(prefetch),
                human(prefetch),
                items_per_s(sequential),
                human(sequential),
                items_per_s(raw),
                human(raw),
                raw / sequential
            ));
        }
        let prefetch = median_ns("pagination_10k_2ms", "crate_prefetch", p);
        let sequential = median_ns("pagination_10k_2ms", "crate_sequential", p);
        if let (Some(prefetch), Some(sequential)) = (prefetch, sequential) {
            report(format!(
                "pagination_10k_2ms {p}: prefetch {} ({:.0} items/s) vs sequential {} \
                 ({:.0} items/s): prefetch is {:.2}x faster",
                human(prefetch),
                items_per_s(prefetch),
                human(sequential),
                items_per_s(sequential),
                sequential / prefetch
            ));
        }
    }
    for (p, prefetch, sequential) in paired_delay {
        report(format!(
            "pagination_10k_2ms {p} paired ({DELAY_PAIRS} alternating pairs): prefetch {} vs \
             sequential {} (medians): prefetch is {:.2}x faster",
            human(prefetch),
            human(sequential),
            sequential / prefetch
        ));
    }
    for (p, fetch, work) in bounds {
        report(format!(
            "pagination_10k_2ms {p}: one page fetched with the 2 ms delay takes {} and the \
             consumer's 2 ms of work (tokio sleep) {} (medians of {CALIBRATION_PAIRS}): one page of \
             prefetch can be at most {:.2}x faster",
            human(fetch),
            human(work),
            (fetch + work) / fetch.max(work)
        ));
    }
    for (p, prefetch, sequential) in paired_nodelay {
        report(format!(
            "pagination_10k {p} paired ({RAW_PAIRS} alternating pairs), no delay and no work: \
             prefetch {} vs sequential {} (medians): sequential/prefetch {:.3}",
            human(prefetch),
            human(sequential),
            sequential / prefetch
        ));
    }
    for (p, ours, theirs) in paired_raw {
        report(format!(
            "pagination_10k {p} paired ({RAW_PAIRS} alternating pairs): crate sequential {} vs \
             raw {} (medians): raw/crate {:.3}",
            human(ours),
            human(theirs),
            theirs / ours
        ));
    }
}
