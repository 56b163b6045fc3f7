//! Unary overhead: `create_invite` and `revoke_invite` through the crate's
//! `Client` against the same RPC through the raw tonic-generated client, on
//! the same channel to the same reference server, in one run; ends by
//! printing the ratio of medians (crate / raw). The crate's client is also
//! measured over Connect (binary and JSON, on its own connections to the
//! same server), against the same raw gRPC baseline: the protocols side by
//! side.
//!
//! Both sides do identical work on the wire and in the server:
//!
//! - the same request fields: the raw create carries an idempotency key of
//!   the same length as the one the crate generates, and both send the
//!   `authorization` header and a 30 s `grpc-timeout`;
//! - creates go to a fresh organization each (made in criterion's untimed
//!   setup), with a fresh email, so the server never takes the resend path
//!   and never scans a growing list of pending invitations;
//! - the server runs on a [`ManualClock`] moved a day and more ahead in each
//!   setup, so the idempotency records of earlier creates expire and its
//!   per-create sweep of them stays small;
//! - each revoke gets a pending invitation seeded in the setup.
//!
//! What is left is the client side: the crate's validation, idempotency
//! key, retry loop, deadline, tracing span (no subscriber installed) and the
//! checked conversion of the response into an `Invite`.
//!
//! After criterion's runs, a paired measurement alternates crate and raw
//! calls (see `common::paired`) and prints its ratio too: on a shared
//! machine it is the steadier of the two.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use common::{human, median_ns, protocols, report, Env, RAW_TIMEOUT};
use criterion::{BatchSize, BenchmarkId, Criterion};
use factify_invites::proto;
use factify_invites::proto::organization_invite_service_client::OrganizationInviteServiceClient;
use factify_invites::{Client, Invite};
use factify_invites_server::ManualClock;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::Channel;

/// A process-wide counter for unique emails and raw idempotency keys.
static NEXT: AtomicU64 = AtomicU64::new(0);

fn next() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The untimed setup of one create: a fresh organization the admin belongs
/// to, and a fresh email.
fn fresh_create(env: &Env, clock: &ManualClock) -> (String, String) {
    // Expires every idempotency record made so far (they live 24 hours).
    clock.advance(TimeDelta::hours(25));
    let org = env.server.add_organization("Bench");
    env.server.add_member(&org, &env.fixture.admin);
    (
        org.to_string(),
        format!("invitee{:010}@bench.example", next()),
    )
}

/// The untimed setup of one revoke: a pending invitation, seeded now.
fn fresh_revoke(env: &Env, clock: &ManualClock) -> (String, String) {
    let id = env.server.seed_invite(
        &env.fixture.organization,
        &format!("revokee{:010}@bench.example", next()),
        &env.fixture.admin,
        clock.now(),
    );
    (env.fixture.organization.to_string(), id.to_string())
}

type Raw = OrganizationInviteServiceClient<Channel>;

/// One create through the crate's client.
async fn crate_create(client: Client, (org, email): (String, String)) -> Invite {
    client.create_invite(org, email).await.unwrap()
}

/// The same create through the raw client: the same fields (an idempotency
/// key of the same length as the crate's), `authorization` and deadline.
async fn raw_create(
    mut raw: Raw,
    auth: AsciiMetadataValue,
    (organization_id, email): (String, String),
) -> proto::CreateOrganizationInviteResponse {
    let key = format!("fi-{:032x}", u128::from(next()));
    let mut request = tonic::Request::new(proto::CreateOrganizationInviteRequest {
        organization_id,
        email,
        message: None,
        idempotency_key: Some(key),
    });
    request.metadata_mut().insert("authorization", auth);
    request.set_timeout(RAW_TIMEOUT);
    raw.create_organization_invite(request)
        .await
        .unwrap()
        .into_inner()
}

/// One revoke through the crate's client.
async fn crate_revoke(client: Client, (org, invite): (String, String)) -> Invite {
    client.revoke_invite(org, invite).await.unwrap()
}

/// The same revoke through the raw client.
async fn raw_revoke(
    mut raw: Raw,
    auth: AsciiMetadataValue,
    (organization_id, invite_id): (String, String),
) -> proto::RevokeOrganizationInviteResponse {
    let mut request = tonic::Request::new(proto::RevokeOrganizationInviteRequest {
        organization_id,
        invite_id,
    });
    request.metadata_mut().insert("authorization", auth);
    request.set_timeout(RAW_TIMEOUT);
    raw.revoke_organization_invite(request)
        .await
        .unwrap()
        .into_inner()
}

/// Pairs of the paired measurement after criterion's (see
/// `common::paired`): about a second per RPC.
const PAIRS: usize = 2000;

fn main() {
    common::started();
    let rt = common::runtime();
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let env = rt.block_on(Env::start_with_clock(clock.clone()));
    let raw = env.raw();
    let auth = env.raw_auth();
    let mut c: Criterion = common::criterion(Duration::from_secs(2), Duration::from_secs(6), 60);

    let mut group = c.benchmark_group("unary_create");
    for &protocol in protocols() {
        let client = rt.block_on(protocol.client(&env));
        group.bench_function(BenchmarkId::new("crate", protocol.name()), |b| {
            b.to_async(&rt).iter_batched(
                || fresh_create(&env, &clock),
                |input| crate_create(client.clone(), input),
                BatchSize::SmallInput,
            )
        });
    }
    group.bench_function(BenchmarkId::new("raw", "grpc"), |b| {
        b.to_async(&rt).iter_batched(
            || fresh_create(&env, &clock),
            |input| raw_create(raw.clone(), auth.clone(), input),
            BatchSize::SmallInput,
        )
    });
    group.finish();

    let mut group = c.benchmark_group("unary_revoke");
    for &protocol in protocols() {
        let client = rt.block_on(protocol.client(&env));
        group.bench_function(BenchmarkId::new("crate", protocol.name()), |b| {
            b.to_async(&rt).iter_batched(
                || fresh_revoke(&env, &clock),
                |input| crate_revoke(client.clone(), input),
                BatchSize::SmallInput,
            )
        });
    }
    group.bench_function(BenchmarkId::new("raw", "grpc"), |b| {
        b.to_async(&rt).iter_batched(
            || fresh_revoke(&env, &clock),
            |input| raw_revoke(raw.clone(), auth.clone(), input),
            BatchSize::SmallInput,
        )
    });
    group.finish();
    c.final_summary();

    for group in ["unary_create", "unary_revoke"] {
        let Some(raw) = median_ns(group, "raw", "grpc") else {
            continue;
        };
        for &protocol in protocols() {
            if let Some(ours) = median_ns(group, "crate", protocol.name()) {
                report(format!(
                    "{group} {} criterion: crate {} vs raw {} (medians): ratio {:.3} ({:+.1}%)",
                    protocol.name(),
                    human(ours),
                    human(raw),
                    ours / raw,
                    (ours / raw - 1.0) * 100.0
                ));
            }
        }
    }
    // Paired measurements of the groups criterion ran (not filtered out).
    let ran = |group| median_ns(group, "raw", "grpc").is_some();
    let both_ran = ran("unary_create") && ran("unary_revoke");
    for &protocol in protocols().iter().filter(|_| both_ran) {
        let client = rt.block_on(protocol.client(&env));
        let (ours, theirs) = rt.block_on(common::paired(
            PAIRS,
            || fresh_create(&env, &clock),
            |input| crate_create(client.clone(), input),
            |input| raw_create(raw.clone(), auth.clone(), input),
        ));
        report_paired("unary_create", protocol.name(), ours, theirs);
        let (ours, theirs) = rt.block_on(common::paired(
            PAIRS,
            || fresh_revoke(&env, &clock),
            |input| crate_revoke(client.clone(), input),
            |input| raw_revoke(raw.clone(), auth.clone(), input),
        ));
        report_paired("unary_revoke", protocol.name(), ours, theirs);
    }
}

fn report_paired(group: &str, protocol: &str, ours: f64, raw: f64) {
    report(format!(
        "{group} {protocol} paired ({PAIRS} alternating pairs): crate {} vs raw {} (medians): \
         ratio {:.3} ({:+.1}%)",
        human(ours),
        human(raw),
        ours / raw,
        (ours / raw - 1.0) * 100.0
    ));
}
