//! What a server's "wait before retrying" can do to a client, over every
//! protocol: a `RetryInfo` of any size (up to `i64::MAX` seconds) is an
//! error, never a panic; a wait is capped at the client's
//! `max_retry_after` (60 s by default), so that one bad answer never stops
//! the client and its clones for longer; a rate limit that cannot be waited
//! out within the deadline is `ResourceExhausted` at once (with the
//! server's reason, request ID and wait), and so is a call refused locally
//! during the hold-off; `DeadlineExceeded` is only for time that really ran
//! out.
//!
//! The reference server and a hostile server (`common/raw.rs`) run on
//! loopback; the clock is tokio's paused one, so the minutes of waiting
//! here take no time.

mod common;
#[path = "common/raw.rs"]
mod raw;

use std::time::Duration;

use base64::Engine as _;
use factify_invites::proto;
use factify_invites::rate_limit::DEFAULT_MAX_RETRY_AFTER;
use factify_invites::retry::RetryPolicy;
use factify_invites::{Error, Protocol, Reason};
use factify_invites_server::{Fault, Method};
use prost::Message;
use raw::{Answer, RawServer};
use tokio::time::Instant;

/// Instantiates each listed test once per protocol, on a paused clock.
macro_rules! each_protocol_paused {
    ($($test:ident),+ $(,)?) => {
        mod grpc {
            $(
                #[tokio::test(start_paused = true)]
                async fn $test() {
                    $crate::common::over($crate::common::Protocol::Grpc, super::$test()).await
                }
            )+
        }
        mod connect_proto {
            $(
                #[tokio::test(start_paused = true)]
                async fn $test() {
                    $crate::common::over($crate::common::Protocol::ConnectProto, super::$test()).await
                }
            )+
        }
        mod connect_json {
            $(
                #[tokio::test(start_paused = true)]
                async fn $test() {
                    $crate::common::over($crate::common::Protocol::ConnectJson, super::$test()).await
                }
            )+
        }
    };
}

/// An encoded `google.rpc.RetryInfo` inside an `Any`.
fn retry_info(seconds: i64, nanos: i32) -> prost_types::Any {
    prost_types::Any {
        type_url: "type.googleapis.com/google.rpc.RetryInfo".into(),
        value: proto::google::rpc::RetryInfo {
            retry_delay: Some(prost_types::Duration { seconds, nanos }),
        }
        .encode_to_vec(),
    }
}

/// `RESOURCE_EXHAUSTED` with `details`, as the test's protocol sends it.
fn rate_limited(details: Vec<prost_types::Any>) -> Answer {
    let b64 = base64::engine::general_purpose::STANDARD;
    match common::protocol() {
        Protocol::Grpc => {
            let status = proto::google::rpc::Status {
                code: 8,
                message: "slow down".into(),
                details,
            };
            Answer::headers_only(
                200,
                &[
                    ("content-type", b"application/grpc"),
                    ("grpc-status", b"8"),
                    ("grpc-message", b"slow down"),
                    (
                        "grpc-status-details-bin",
                        b64.encode(status.encode_to_vec()).as_bytes(),
                    ),
                ],
            )
        }
        _ => {
            let details: Vec<_> = details
                .iter()
                .map(|any| {
                    serde_json::json!({
                        "type": any.type_url.trim_start_matches("type.googleapis.com/"),
                        "value": b64.encode(&any.value),
                    })
                })
                .collect();
            let body = serde_json::json!({
                "code": "resource_exhausted",
                "message": "slow down",
                "details": details,
            });
            Answer {
                status: 429,
                headers: vec![("content-type".into(), b"application/json".to_vec())],
                body: vec![body.to_string().into()],
                ..Answer::default()
            }
        }
    }
}

async fn extreme_retry_infos_are_errors_not_panics() {
    let server = RawServer::start(Answer::default()).await;
    let client = common::builder(&server.endpoint())
        .api_key("ffy_test")
        .retry_policy(RetryPolicy::disabled())
        .connect()
        .await
        .unwrap();
    let org = "org_01h2xcejqtf2nbrexx3vqjhp41";
    let cases = [
        (i64::MAX, 0),
        (i64::MAX, 999_999_999),
        (i64::MAX - 1, i32::MAX),
        (1_000_000_000_000, 0),
        (-1, 0),
        (i64::MIN, -999_999_999),
        (5, -1),
        (0, i32::MIN),
    ];
    for (seconds, nanos) in cases {
        server.set_answer(rate_limited(vec![retry_info(seconds, nanos)]));
        let err = client.list_invites(org).await.unwrap_err();
        assert!(
            matches!(err, Error::ResourceExhausted(_)),
            "{seconds}s {nanos}ns: {err:?}"
        );
        assert!(
            err.retry_after()
                .is_none_or(|wait| wait <= DEFAULT_MAX_RETRY_AFTER),
            "{seconds}s {nanos}ns: {:?}",
            err.retry_after()
        );
    }
}

async fn one_enormous_wait_holds_the_client_back_only_up_to_the_cap() {
    let env = common::start_server().await;
    let org = &env.fixture.organization;
    let client = env.client.clone();
    let ages = Duration::from_secs(1_000_000_000); // 31 years
    env.server
        .inject_faults(Some(Method::List), [Fault::RateLimited(ages)]);

    let err = client.list_invites(org).await.unwrap_err();
    assert!(matches!(err, Error::ResourceExhausted(_)), "{err:?}");
    assert_eq!(err.retry_after(), Some(DEFAULT_MAX_RETRY_AFTER));
    assert_eq!(env.server.call_count(Method::List), 1);

    // A clone, within the cap (40 s left, over its 30 s deadline): refused
    // without sending.
    tokio::time::advance(Duration::from_secs(20)).await;
    let err = client.clone().list_invites(org).await.unwrap_err();
    assert!(matches!(err, Error::ResourceExhausted(_)), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(40)));
    assert_eq!(env.server.call_count(Method::List), 1);

    // Past the cap, every clone calls again.
    tokio::time::advance(Duration::from_secs(41)).await;
    client.clone().list_invites(org).await.unwrap();
    env.client.list_invites(org).await.unwrap();
    assert_eq!(env.server.call_count(Method::List), 3);
}

async fn the_cap_is_a_builder_setting() {
    let env = common::start_server().await;
    let org = &env.fixture.organization;
    let client = common::builder(&env.running.endpoint())
        .api_key(&env.fixture.admin_key)
        .max_retry_after(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    env.server.inject_faults(
        Some(Method::List),
        [Fault::RateLimited(Duration::from_secs(1_000_000_000))],
    );

    // The 5 s wait fits in the 30 s deadline: the call waits and retries.
    let started = Instant::now();
    client.list_invites(org).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(6),
        "{waited:?}"
    );
    assert_eq!(env.server.call_count(Method::List), 2);
}

async fn a_rate_limit_longer_than_the_deadline_is_resource_exhausted_at_once() {
    let env = common::start_server().await;
    let org = &env.fixture.organization;
    // The SPEC's window: about 60 s, over the default 30 s deadline.
    env.server.inject_faults(
        Some(Method::List),
        [Fault::RateLimited(Duration::from_secs(60))],
    );

    let started = Instant::now();
    let err = env.client.list_invites(org).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1), "at once");
    assert!(matches!(err, Error::ResourceExhausted(_)), "{err:?}");
    let status = err.status().unwrap();
    assert!(!status.is_local());
    assert_eq!(err.reason(), Some(&Reason::RateLimitExceeded));
    assert!(
        err.request_id().is_some_and(|id| id.starts_with("req_")),
        "{err:?}"
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    // The README's arm matches.
    let matched = match &err {
        err if err.reason() == Some(&Reason::RateLimitExceeded) => err.retry_after(),
        _ => None,
    };
    assert_eq!(matched, Some(Duration::from_secs(60)));
    assert_eq!(env.server.call_count(Method::List), 1);

    // During the hold-off, a call is refused locally, as a rate limit.
    tokio::time::advance(Duration::from_secs(20)).await;
    let err = env.client.clone().list_invites(org).await.unwrap_err();
    assert!(matches!(err, Error::ResourceExhausted(_)), "{err:?}");
    assert!(err.status().unwrap().is_local(), "{err:?}");
    assert_eq!(err.reason(), Some(&Reason::RateLimitExceeded));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(40)));
    assert_eq!(env.server.call_count(Method::List), 1, "nothing sent");

    // A call whose deadline outlasts the hold-off waits it out and succeeds.
    let started = Instant::now();
    env.client
        .list_invites(org)
        .timeout(Duration::from_secs(45))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(40));
    assert_eq!(env.server.call_count(Method::List), 2);
}

async fn deadline_exceeded_says_how_long_the_call_waited() {
    let env = common::start_server().await;
    let org = &env.fixture.organization;
    env.server
        .inject_faults(Some(Method::List), [Fault::Delay(Duration::from_secs(10))]);

    let err = env
        .client
        .list_invites(org)
        .timeout(Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DeadlineExceeded(_)), "{err:?}");
    assert!(err.to_string().contains("gave up after 2"), "{err}");
}

async fn calls_that_give_up_give_their_pacer_slot_back() {
    use factify_invites::rate_limit::RateLimit;
    let env = common::start_server().await;
    let org = &env.fixture.organization;
    let client = common::builder(&env.running.endpoint())
        .api_key(&env.fixture.admin_key)
        .rate_limit(RateLimit::per_minute(60)) // one call a second
        .connect()
        .await
        .unwrap();
    let t0 = Instant::now();
    client.list_invites(org).await.unwrap();

    // The next slot (1 s) is past these deadlines: refused at once, as a
    // rate limit, with the wait left.
    for _ in 0..10 {
        let err = client
            .list_invites(org)
            .timeout(Duration::from_millis(500))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::ResourceExhausted(_)), "{err:?}");
        assert!(err.status().unwrap().is_local());
        assert_eq!(err.reason(), Some(&Reason::RateLimitExceeded));
        assert!(err.retry_after().unwrap() <= Duration::from_secs(1));
    }
    // And these are dropped while they wait for their slot.
    for _ in 0..5 {
        let waiting = async { client.list_invites(org).await };
        let outcome = tokio::time::timeout(Duration::from_millis(50), waiting).await;
        assert!(outcome.is_err(), "still waiting for its slot");
    }
    assert_eq!(env.server.call_count(Method::List), 1);

    // None of them kept a slot: the next call starts at 1 s, not 16 s.
    client.list_invites(org).await.unwrap();
    let started_at = t0.elapsed();
    assert!(
        started_at >= Duration::from_secs(1) && started_at < Duration::from_secs(2),
        "{started_at:?}"
    );
    assert_eq!(env.server.call_count(Method::List), 2);
}

each_protocol_paused!(
    calls_that_give_up_give_their_pacer_slot_back,
    extreme_retry_infos_are_errors_not_panics,
    one_enormous_wait_holds_the_client_back_only_up_to_the_cap,
    the_cap_is_a_builder_setting,
    a_rate_limit_longer_than_the_deadline_is_resource_exhausted_at_once,
    deadline_exceeded_says_how_long_the_call_waited,
);
