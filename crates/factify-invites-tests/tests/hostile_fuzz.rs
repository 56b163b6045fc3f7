//! Hostile servers, fuzzed: one raw server per protocol (HTTP/2 for gRPC;
//! HTTP/1.1 and h2c for Connect, see `common/raw.rs`) answers every call
//! with a seeded random or mutated answer: status codes and trailers,
//! `grpc-status-details-bin` with random, valid and extreme details,
//! `RetryInfo` with extreme values, truncated and oversized frames, wrong
//! content types, random Connect error bodies and JSON, gzip bombs, stalls,
//! and page tokens that repeat forever (through `into_stream()`).
//!
//! Every call must end within its deadline (plus a grace for a loaded
//! machine) with an `Error` or a valid answer: never a panic, never a
//! success made up from an answer that is not one, never a wait longer than
//! the client's cap.
//!
//! CI runs `DEFAULT_CASES` seeded cases per protocol. The long run:
//!
//! ```text
//! FACTIFY_FUZZ_CASES=1000000 cargo test --release --test hostile_fuzz -- --nocapture
//! ```
//!
//! (`FACTIFY_FUZZ_SEED` picks another seed set, `FACTIFY_FUZZ_ONLY=<case>`
//! replays one case, `FACTIFY_FUZZ_CLIENT_PER_CASE=1` gives every case its
//! own client with the default cap on server waits); each test prints how
//! many cases it ran, what it found, and the worst lateness of a call.

mod common;
#[path = "common/raw.rs"]
mod raw;

use std::io::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use factify_invites::rate_limit::DEFAULT_MAX_RETRY_AFTER;
use factify_invites::retry::{Jitter, RetryPolicy};
use factify_invites::{proto, Client, Error, HttpVersion, Protocol};
use futures::{StreamExt, TryStreamExt};
use prost::Message;
use raw::{grpc_frame, Answer, RawServer};

/// Cases per protocol when `FACTIFY_FUZZ_CASES` is not set.
const DEFAULT_CASES: u64 = 2500;
/// Each call's deadline.
const DEADLINE: Duration = Duration::from_millis(1000);
/// How late past its deadline a call may end before it counts as a hang:
/// generous, because a loaded two-core machine can starve a task for
/// seconds; a call that never ends still shows. The report gives the worst
/// lateness measured.
const GRACE: Duration = Duration::from_secs(10);
/// The client's response limit here: small, so that oversized answers are
/// cheap to send.
const MAX_RESPONSE: usize = 64 * 1024;
/// The client's cap on server-given waits here.
const MAX_WAIT: Duration = Duration::from_millis(1);
/// Calls in flight at once.
const CONCURRENCY: usize = 24;
/// Items taken from a stream whose server may repeat its page token forever.
const STREAM_CAP: usize = 60;
const ORG: &str = "org_01h2xcejqtf2nbrexx3vqjhp41";
const CASE_HEADER: &str = "x-fuzz-case";

fn cases() -> u64 {
    std::env::var("FACTIFY_FUZZ_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn base_seed() -> u64 {
    std::env::var("FACTIFY_FUZZ_SEED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(0x00f0_22ed)
}

/// What a case's answer allows the client to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A valid answer: the call must succeed.
    Ok,
    /// Not a valid answer: the call must fail.
    Err,
    /// Random or mutated bytes that may happen to be valid.
    Either,
}

/// Which call a case makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Create,
    ListPage,
    /// `pages()`, bounded by [`STREAM_CAP`] pages: any answer.
    ListPages,
    /// `into_stream()`, bounded by [`STREAM_CAP`] items: valid pages of one
    /// or two items, whose token may repeat forever.
    ListStream,
}

/// The wire a fuzz run speaks.
#[derive(Debug, Clone, Copy)]
struct Wire {
    protocol: Protocol,
    http: HttpVersion,
}

impl Wire {
    fn json(self) -> bool {
        self.protocol == Protocol::ConnectJson
    }
}

fn rng_for(seed: u64, case: u64) -> fastrand::Rng {
    fastrand::Rng::with_seed(seed ^ case.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

fn call_for(rng: &mut fastrand::Rng) -> Call {
    match rng.u32(0..100) {
        0..45 => Call::Create,
        45..94 => Call::ListPage,
        94..97 => Call::ListPages,
        _ => Call::ListStream,
    }
}

// ---- valid answers ----------------------------------------------------

const INVITE_JSON: &str = r#"{"id":"inv_01h2xcejqtf2nbrexx3vqjhp42","organizationId":"org_01h2xcejqtf2nbrexx3vqjhp41","email":"ada@example.com","status":"ORGANIZATION_INVITE_STATUS_PENDING","sender":{"id":"user_01h2xcejqtf2nbrexx3vqjhp40","type":"USER_TYPE_USER_ACCOUNT","name":"Grace"},"createdAt":"2025-06-15T15:06:40Z","expiresAt":"2025-06-22T15:06:40Z"}"#;

/// A page token: none, one that repeats forever, or a new one each time.
fn page_token(rng: &mut fastrand::Rng) -> String {
    match rng.u32(0..4) {
        0 => String::new(),
        1 => "same-token-forever".into(),
        2 => format!("tok-{}", rng.u64(..)),
        _ => random_text(rng, 0..40),
    }
}

/// The valid success body of `call`, encoded for `wire`.
fn valid_body(wire: Wire, call: Call, rng: &mut fastrand::Rng) -> Vec<u8> {
    match call {
        Call::Create if wire.json() => format!(r#"{{"invite":{INVITE_JSON}}}"#).into_bytes(),
        Call::Create => proto::CreateOrganizationInviteResponse {
            invite: Some(common::valid_wire_invite()),
        }
        .encode_to_vec(),
        Call::ListPage | Call::ListPages | Call::ListStream => {
            let items = match call {
                Call::ListStream => rng.usize(1..3),
                _ => rng.usize(0..3),
            };
            let token = page_token(rng);
            let has_more = !token.is_empty();
            if wire.json() {
                let invites = vec![INVITE_JSON; items].join(",");
                let token = serde_json::to_string(&token).unwrap();
                format!(
                    r#"{{"items":[{invites}],"pagination":{{"hasMore":{has_more},"nextPageToken":{token}}}}}"#
                )
                .into_bytes()
            } else {
                proto::ListOrganizationInvitesResponse {
                    items: vec![common::valid_wire_invite(); items],
                    pagination: Some(proto::Pagination {
                        has_more,
                        next_page_token: token,
                        ..Default::default()
                    }),
                }
                .encode_to_vec()
            }
        }
    }
}

// ---- random pieces -----------------------------------------------------

fn random_bytes(rng: &mut fastrand::Rng, len: std::ops::Range<usize>) -> Vec<u8> {
    let len = rng.usize(len);
    std::iter::repeat_with(|| rng.u8(..)).take(len).collect()
}

/// Printable ASCII, with the odd percent escape (valid or not).
fn random_text(rng: &mut fastrand::Rng, len: std::ops::Range<usize>) -> String {
    let len = rng.usize(len);
    let mut text = String::new();
    for _ in 0..len {
        match rng.u32(0..20) {
            0 => text.push_str(["%zz", "%ff", "%C3%28", "%", "%e2%82"][rng.usize(..5)]),
            _ => text.push(rng.u8(0x20..0x7f) as char),
        }
    }
    text
}

/// Seconds and nanos of a `google.protobuf.Duration`, extreme more often
/// than not.
fn extreme_duration(rng: &mut fastrand::Rng) -> prost_types::Duration {
    let seconds = match rng.u32(0..8) {
        0 => i64::MAX,
        1 => i64::MIN,
        2 => -1,
        3 => 1_000_000_000,
        4 => rng.i64(..),
        5 => i64::MAX - rng.i64(0..1000),
        _ => rng.i64(0..120),
    };
    let nanos = match rng.u32(0..6) {
        0 => i32::MAX,
        1 => i32::MIN,
        2 => -1,
        3 => 999_999_999,
        4 => rng.i32(..),
        _ => rng.i32(0..1_000_000_000),
    };
    prost_types::Duration { seconds, nanos }
}

/// A detail: `ErrorDetail`, `RetryInfo`, an unknown type, or garbage.
fn random_detail(rng: &mut fastrand::Rng) -> prost_types::Any {
    let (type_url, value) = match rng.u32(0..5) {
        0 | 1 => (
            "type.googleapis.com/google.rpc.RetryInfo".to_owned(),
            proto::google::rpc::RetryInfo {
                retry_delay: Some(extreme_duration(rng)),
            }
            .encode_to_vec(),
        ),
        2 => (
            "type.googleapis.com/factify.api.v1beta.ErrorDetail".to_owned(),
            proto::ErrorDetail {
                reason: random_text(rng, 0..30),
                request_id: random_text(rng, 0..30),
                param: random_text(rng, 0..30),
            }
            .encode_to_vec(),
        ),
        3 => (
            "type.googleapis.com/google.rpc.RetryInfo".to_owned(),
            random_bytes(rng, 0..40),
        ),
        _ => (random_text(rng, 0..60), random_bytes(rng, 0..60)),
    };
    prost_types::Any { type_url, value }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A `grpc-status-details-bin` value: valid, random, or not base64 at all.
fn random_details_bin(rng: &mut fastrand::Rng) -> Option<Vec<u8>> {
    let details = |rng: &mut fastrand::Rng| {
        let count = rng.usize(0..4);
        proto::google::rpc::Status {
            code: rng.i32(..),
            message: random_text(rng, 0..20),
            details: (0..count).map(|_| random_detail(rng)).collect(),
        }
        .encode_to_vec()
    };
    match rng.u32(0..7) {
        0 => None,
        1 | 2 => Some(b64().encode(details(rng)).into_bytes()),
        3 => Some(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .encode(details(rng))
                .into_bytes(),
        ),
        4 => Some(b64().encode(random_bytes(rng, 0..100)).into_bytes()),
        5 => Some(random_text(rng, 0..40).into_bytes()),
        _ => Some(["A", "AB=", "====", "Zm9v!", "*", ""][rng.usize(..6)].into()),
    }
}

fn random_grpc_code(rng: &mut fastrand::Rng) -> Vec<u8> {
    match rng.u32(0..10) {
        0 => ["abc", "", "-1", "17", "99999999999", " 8", "0x8"][rng.usize(..7)].into(),
        _ => rng.u32(1..=16).to_string().into_bytes(),
    }
}

fn grpc_status(rng: &mut fastrand::Rng, code: Vec<u8>) -> Vec<(String, Vec<u8>)> {
    let mut headers = vec![("grpc-status".to_owned(), code)];
    if rng.bool() {
        headers.push((
            "grpc-message".to_owned(),
            random_text(rng, 0..60).into_bytes(),
        ));
    }
    if let Some(details) = random_details_bin(rng) {
        headers.push(("grpc-status-details-bin".to_owned(), details));
    }
    headers
}

fn mutate(rng: &mut fastrand::Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.usize(1..4) {
        match rng.u32(0..3) {
            0 if !bytes.is_empty() => {
                let at = rng.usize(..bytes.len());
                bytes[at] = rng.u8(..);
            }
            1 if !bytes.is_empty() => {
                let at = rng.usize(..bytes.len());
                bytes.truncate(at);
            }
            _ => {
                let at = rng.usize(..=bytes.len());
                bytes.insert(at, rng.u8(..));
            }
        }
    }
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// 16 MiB of zeros, gzipped (about 16 KiB): far past the response limit.
fn gzip_bomb() -> Bytes {
    static BOMB: OnceLock<Bytes> = OnceLock::new();
    BOMB.get_or_init(|| Bytes::from(gzip(&vec![0u8; 16 * 1024 * 1024])))
        .clone()
}

fn header(name: &str, value: impl Into<Vec<u8>>) -> (String, Vec<u8>) {
    (name.to_owned(), value.into())
}

// ---- gRPC answers ------------------------------------------------------

fn grpc_answer(rng: &mut fastrand::Rng, call: Call) -> (Answer, Expect) {
    let wire = Wire {
        protocol: Protocol::Grpc,
        http: HttpVersion::Http2,
    };
    let content_type = header("content-type", "application/grpc");
    let ok_trailers = vec![header("grpc-status", "0")];
    let answer = |headers, body: Vec<Bytes>, trailers| Answer {
        status: 200,
        headers,
        body,
        trailers,
        ..Answer::default()
    };
    match rng.u32(0..100) {
        0..15 => {
            let body = valid_body(wire, call, rng);
            (
                answer(
                    vec![content_type],
                    vec![grpc_frame(&body)],
                    Some(ok_trailers),
                ),
                Expect::Ok,
            )
        }
        15..35 => {
            let code = random_grpc_code(rng);
            let headers = [vec![content_type], grpc_status(rng, code)].concat();
            (answer(headers, vec![], None), Expect::Err)
        }
        35..50 => {
            let body = valid_body(wire, call, rng);
            let code = random_grpc_code(rng);
            let trailers = grpc_status(rng, code);
            (
                answer(vec![content_type], vec![grpc_frame(&body)], Some(trailers)),
                Expect::Err,
            )
        }
        50..58 => {
            // A frame cut short: its length says more than it carries.
            let body = valid_body(wire, call, rng);
            let framed = grpc_frame(&body);
            let cut = rng.usize(0..framed.len());
            (
                answer(
                    vec![content_type],
                    vec![framed.slice(..cut)],
                    Some(ok_trailers),
                ),
                Expect::Err,
            )
        }
        58..63 => {
            // A length prefix far past the limit (or u32::MAX), little data.
            let mut framed = vec![0u8];
            let length = [u32::MAX, MAX_RESPONSE as u32 + 1, 1 << 30][rng.usize(..3)];
            framed.extend_from_slice(&length.to_be_bytes());
            framed.extend(random_bytes(rng, 0..100));
            (
                answer(vec![content_type], vec![framed.into()], Some(ok_trailers)),
                Expect::Err,
            )
        }
        63..67 => {
            let big = vec![0x0a; MAX_RESPONSE + rng.usize(1..10_000)];
            (
                answer(
                    vec![content_type],
                    vec![grpc_frame(&big)],
                    Some(ok_trailers),
                ),
                Expect::Err,
            )
        }
        67..71 => {
            // The compressed flag, with no encoding (or one not offered).
            let body = valid_body(wire, call, rng);
            let mut framed = grpc_frame(&gzip(&body)).to_vec();
            framed[0] = 1;
            let mut headers = vec![content_type];
            if rng.bool() {
                headers.push(header("grpc-encoding", "gzip"));
            }
            (
                answer(headers, vec![framed.into()], Some(ok_trailers)),
                Expect::Err,
            )
        }
        71..77 => {
            let status = [200, 404, 429, 502, 503, 504, 500, 401][rng.usize(..8)];
            let content = [
                "text/html",
                "application/json",
                "",
                "application/grpc+weird",
            ][rng.usize(..4)];
            (
                Answer {
                    status,
                    headers: vec![header("content-type", content)],
                    body: vec![Bytes::from(random_text(rng, 0..200))],
                    ..Answer::default()
                },
                Expect::Either,
            )
        }
        77..83 => {
            let code = random_grpc_code(rng);
            (
                answer(
                    vec![content_type],
                    vec![Bytes::from(random_bytes(rng, 0..300))],
                    Some(grpc_status(rng, code)),
                ),
                Expect::Either,
            )
        }
        83..91 => {
            let body = valid_body(wire, call, rng);
            let framed = mutate(rng, grpc_frame(&body).to_vec());
            (
                answer(vec![content_type], vec![framed.into()], Some(ok_trailers)),
                Expect::Either,
            )
        }
        91..94 => {
            // Two messages for a unary call.
            let body = valid_body(wire, call, rng);
            (
                answer(
                    vec![content_type],
                    vec![grpc_frame(&body), grpc_frame(&body)],
                    Some(ok_trailers),
                ),
                Expect::Either,
            )
        }
        94..97 => {
            // A message, and no status at all.
            let body = valid_body(wire, call, rng);
            (
                answer(vec![content_type], vec![grpc_frame(&body)], None),
                Expect::Either,
            )
        }
        97..99 => {
            // Status headers and a body and trailers, all at once.
            let body = valid_body(wire, call, rng);
            let code = random_grpc_code(rng);
            let headers = [vec![content_type], grpc_status(rng, code.clone())].concat();
            (
                answer(
                    headers,
                    vec![grpc_frame(&body)],
                    Some(grpc_status(rng, code)),
                ),
                Expect::Either,
            )
        }
        _ => (
            Answer {
                status: 200,
                headers: vec![content_type],
                stall: true,
                ..Answer::default()
            },
            Expect::Err,
        ),
    }
}

// ---- Connect answers ---------------------------------------------------

fn random_json(rng: &mut fastrand::Rng, depth: u32) -> serde_json::Value {
    use serde_json::Value;
    match rng.u32(0..if depth > 3 { 4 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.bool()),
        2 => serde_json::json!(rng.i64(..)),
        3 => Value::String(random_text(rng, 0..30)),
        4 => Value::Array(
            (0..rng.usize(0..4))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        5 => serde_json::json!(rng.f64() * 1e300),
        _ => {
            let keys = ["code", "message", "details", "type", "value", "invite", "x"];
            Value::Object(
                (0..rng.usize(0..5))
                    .map(|_| {
                        (
                            keys[rng.usize(..keys.len())].to_owned(),
                            random_json(rng, depth + 1),
                        )
                    })
                    .collect(),
            )
        }
    }
}

fn random_connect_error_body(rng: &mut fastrand::Rng) -> Vec<u8> {
    let code = match rng.u32(0..6) {
        0 => serde_json::json!(random_text(rng, 0..20)),
        1 => random_json(rng, 2),
        _ => serde_json::json!(
            [
                "resource_exhausted",
                "unavailable",
                "not_found",
                "internal",
                "unknown",
                "canceled"
            ][rng.usize(..6)]
        ),
    };
    let details: Vec<serde_json::Value> = (0..rng.usize(0..4))
        .map(|_| {
            let any = random_detail(rng);
            let value = match rng.u32(0..5) {
                0 => serde_json::json!(random_text(rng, 0..40)),
                1 => random_json(rng, 3),
                2 => serde_json::json!(
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&any.value)
                ),
                _ => serde_json::json!(b64().encode(&any.value)),
            };
            let type_name = any
                .type_url
                .trim_start_matches("type.googleapis.com/")
                .to_owned();
            serde_json::json!({ "type": type_name, "value": value })
        })
        .collect();
    let mut body = serde_json::json!({ "code": code, "message": random_text(rng, 0..40) });
    if rng.u32(0..5) > 0 {
        body["details"] = serde_json::json!(details);
    }
    if rng.u32(0..6) == 0 {
        body = random_json(rng, 0);
    }
    body.to_string().into_bytes()
}

fn rate_limit_headers(rng: &mut fastrand::Rng) -> Vec<(String, Vec<u8>)> {
    let mut number = || match rng.u32(0..6) {
        0 => u64::MAX.to_string(),
        1 => "-5".to_owned(),
        2 => random_text(rng, 0..12),
        3 => rng.u64(1_000_000_000..u64::MAX).to_string(),
        _ => rng.u64(0..100).to_string(),
    };
    let reset = number();
    let retry = number();
    vec![
        header("x-ratelimit-reset", reset),
        header("retry-after", retry),
    ]
}

fn connect_answer(wire: Wire, rng: &mut fastrand::Rng, call: Call) -> (Answer, Expect) {
    let content_type = || {
        header(
            "content-type",
            if wire.json() {
                "application/json"
            } else {
                "application/proto"
            },
        )
    };
    let json_type = || header("content-type", "application/json");
    let error_status = |rng: &mut fastrand::Rng| {
        [
            400, 401, 403, 404, 408, 409, 429, 499, 500, 501, 502, 503, 504, 302, 418, 599,
        ][rng.usize(..16)]
    };
    let answer = |status, headers, body: Vec<u8>| Answer {
        status,
        headers,
        body: vec![Bytes::from(body)],
        ..Answer::default()
    };
    match rng.u32(0..100) {
        0..15 => {
            let body = valid_body(wire, call, rng);
            (answer(200, vec![content_type()], body), Expect::Ok)
        }
        15..38 => {
            let status = error_status(rng);
            let body = random_connect_error_body(rng);
            (answer(status, vec![json_type()], body), Expect::Err)
        }
        38..43 => {
            let status = error_status(rng);
            let content = ["text/html", "", "application/json"][rng.usize(..3)];
            let body = random_bytes(rng, 0..300);
            (
                answer(status, vec![header("content-type", content)], body),
                Expect::Err,
            )
        }
        43..50 => {
            let status = [429, 503, 429, 500][rng.usize(..4)];
            let mut headers = rate_limit_headers(rng);
            headers.push(json_type());
            let body = random_connect_error_body(rng);
            (answer(status, headers, body), Expect::Err)
        }
        50..55 => {
            // A gzip bomb as the success body.
            let headers = vec![content_type(), header("content-encoding", "gzip")];
            (
                Answer {
                    status: 200,
                    headers,
                    body: vec![gzip_bomb()],
                    ..Answer::default()
                },
                Expect::Err,
            )
        }
        55..58 => {
            // A gzip bomb as the error body.
            let headers = vec![json_type(), header("content-encoding", "gzip")];
            (
                Answer {
                    status: error_status(rng),
                    headers,
                    body: vec![gzip_bomb()],
                    ..Answer::default()
                },
                Expect::Err,
            )
        }
        58..62 => {
            let body = valid_body(wire, call, rng);
            let (encoding, body) = match rng.u32(0..3) {
                0 => ("gzip", mutate(rng, gzip(&body))),
                1 => ("gzip", body),
                _ => ("br", body),
            };
            let headers = vec![content_type(), header("content-encoding", encoding)];
            (answer(200, headers, body), Expect::Either)
        }
        62..67 => {
            let content =
                ["text/html", "", "application/grpc", "application/protobuf"][rng.usize(..4)];
            let body = valid_body(wire, call, rng);
            (
                answer(200, vec![header("content-type", content)], body),
                Expect::Err,
            )
        }
        67..71 => {
            let body = vec![b' '; MAX_RESPONSE + rng.usize(1..10_000)];
            (answer(200, vec![content_type()], body), Expect::Err)
        }
        71..79 => {
            let body = if wire.json() {
                random_json(rng, 0).to_string().into_bytes()
            } else {
                random_bytes(rng, 0..300)
            };
            (answer(200, vec![content_type()], body), Expect::Either)
        }
        79..91 => {
            let body = valid_body(wire, call, rng);
            let body = mutate(rng, body);
            (answer(200, vec![content_type()], body), Expect::Either)
        }
        91..95 => {
            // JSON nested far deeper than any parser should follow.
            let depth = rng.usize(100..20_000);
            let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes();
            let status = if rng.bool() { 200 } else { error_status(rng) };
            (answer(status, vec![json_type()], body), Expect::Err)
        }
        95..99 => {
            // Headers that say more than there is (a body cut short).
            let body = valid_body(wire, call, rng);
            let length = body.len() + rng.usize(1..1000);
            let headers = vec![content_type(), header("content-length", length.to_string())];
            (
                Answer {
                    status: 200,
                    headers,
                    body: vec![Bytes::from(body)],
                    stall: true,
                    ..Answer::default()
                },
                Expect::Err,
            )
        }
        _ => (
            Answer {
                status: 200,
                headers: vec![content_type()],
                stall: true,
                ..Answer::default()
            },
            Expect::Err,
        ),
    }
}

/// A valid success for `call` over `wire`.
fn valid_answer(wire: Wire, rng: &mut fastrand::Rng, call: Call) -> (Answer, Expect) {
    let body = valid_body(wire, call, rng);
    let answer = match wire.protocol {
        Protocol::Grpc => Answer {
            status: 200,
            headers: vec![header("content-type", "application/grpc")],
            body: vec![grpc_frame(&body)],
            trailers: Some(vec![header("grpc-status", "0")]),
            ..Answer::default()
        },
        _ => Answer {
            status: 200,
            headers: vec![header(
                "content-type",
                if wire.json() {
                    "application/json"
                } else {
                    "application/proto"
                },
            )],
            body: vec![Bytes::from(body)],
            ..Answer::default()
        },
    };
    (answer, Expect::Ok)
}

/// The call and answer of case `case`, for the server and the checker alike.
fn case(wire: Wire, seed: u64, case: u64) -> (Call, Answer, Expect) {
    let mut rng = rng_for(seed, case);
    let call = call_for(&mut rng);
    let (answer, expect) = match (wire.protocol, call) {
        (_, Call::ListStream) => valid_answer(wire, &mut rng, call),
        (Protocol::Grpc, _) => grpc_answer(&mut rng, call),
        _ => connect_answer(wire, &mut rng, call),
    };
    (call, answer, expect)
}

// ---- the run -----------------------------------------------------------

/// The most any single call ended after its deadline, in microseconds.
static WORST_LATENESS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Valid answers lost because h2's flood guard closed a shared connection
/// (see `connection_closed_for_earlier_floods`), over the binary's run.
static FLOOD_GUARD_CLOSURES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// What went wrong in one case (read through `Debug` in the report).
#[allow(dead_code)]
#[derive(Debug)]
enum Finding {
    Panic(String),
    Hang,
    Invented,
    RefusedValid(String),
    WaitOverCap(Duration),
}

async fn run_case(client: Client, wire: Wire, seed: u64, n: u64, cap: Duration) -> Option<Finding> {
    let (call, _, expect) = case(wire, seed, n);
    let tag = n.to_string();
    // Some cases retry (quickly), to reach the retry path with hostile waits.
    let policy = if n.is_multiple_of(5) {
        RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(5))
            .with_max_backoff(Duration::from_millis(20))
            .with_jitter(Jitter::Seeded(n))
    } else {
        RetryPolicy::disabled()
    };
    let started = std::time::Instant::now();
    let outcome: Result<(), Error> = match call {
        Call::Create => client
            .create_invite(ORG, "ada@example.com")
            .metadata(CASE_HEADER, &tag)
            .retry_policy(policy)
            .timeout(DEADLINE)
            .await
            .map(|_| ()),
        Call::ListPage => client
            .list_invites(ORG)
            .metadata(CASE_HEADER, &tag)
            .retry_policy(policy)
            .timeout(DEADLINE)
            .await
            .map(|_| ()),
        Call::ListPages => client
            .list_invites(ORG)
            .metadata(CASE_HEADER, &tag)
            .retry_policy(policy)
            .timeout(DEADLINE)
            .pages()
            .take(STREAM_CAP)
            .try_collect::<Vec<_>>()
            .await
            .map(|_| ()),
        Call::ListStream => {
            // A token repeated forever may never end the stream: take a
            // bounded part of it (whether a repeat is an error is pagination's
            // concern, tested there).
            let stream = client
                .list_invites(ORG)
                .metadata(CASE_HEADER, &tag)
                .retry_policy(policy)
                .timeout(DEADLINE)
                .into_stream();
            stream
                .take(STREAM_CAP)
                .try_collect::<Vec<_>>()
                .await
                .map(|_| ())
        }
    };
    if matches!(call, Call::Create | Call::ListPage) {
        let late = started.elapsed().saturating_sub(DEADLINE);
        WORST_LATENESS.fetch_max(
            late.as_micros() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }
    match (&outcome, expect) {
        (Ok(()), Expect::Err) => return Some(Finding::Invented),
        // A valid answer may still arrive too late on a loaded two-core
        // machine: running out of time is the client keeping its deadline,
        // not refusing the answer.
        (Err(err), Expect::Ok)
            if (call == Call::Create || call == Call::ListPage)
                && !err.is_timeout()
                && !connection_closed_for_earlier_floods(err) =>
        {
            return Some(Finding::RefusedValid(err.to_string()))
        }
        _ => {}
    }
    if let Err(err) = &outcome {
        let _ = (err.to_string(), err.reason(), err.request_id(), err.param());
        if let Some(wait) = err.retry_after().filter(|wait| *wait > cap) {
            return Some(Finding::WaitOverCap(wait));
        }
    }
    None
}

/// A client of `endpoint` over `wire`, with the cap `max_wait` (`None`:
/// the default).
async fn client_for(endpoint: &str, wire: Wire, max_wait: Option<Duration>) -> Client {
    let builder = Client::builder()
        .endpoint(endpoint)
        .api_key("ffy_fuzz")
        .protocol(wire.protocol)
        .http_version(wire.http)
        .max_response_bytes(MAX_RESPONSE);
    let builder = match max_wait {
        Some(max) => builder.max_retry_after(max),
        None => builder,
    };
    builder.connect().await.unwrap()
}

/// How the cases get their client.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clients {
    /// One client for every case, whose cap on server-given waits is
    /// [`MAX_WAIT`]: a case's rate limit must not hold the next back.
    Shared,
    /// A new client per case, with the default cap, so that a hostile wait
    /// meets every path (`FACTIFY_FUZZ_CLIENT_PER_CASE=1` for every test).
    PerCase,
}

async fn fuzz(wire: Wire, total: u64, clients: Clients) {
    let seed = base_seed();
    gzip_bomb(); // made once, before any call's clock starts
    let clients = match std::env::var("FACTIFY_FUZZ_CLIENT_PER_CASE").as_deref() {
        Ok("1") => Clients::PerCase,
        _ => clients,
    };
    let server = RawServer::scripted(move |parts| {
        let n = parts
            .headers
            .get(CASE_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok())
            .unwrap_or(u64::MAX);
        case(wire, seed, n).1
    })
    .await;
    let endpoint = server.endpoint();
    let shared = client_for(&endpoint, wire, Some(MAX_WAIT)).await;
    let cap = match clients {
        Clients::Shared => MAX_WAIT,
        Clients::PerCase => DEFAULT_MAX_RETRY_AFTER,
    };

    // `FACTIFY_FUZZ_ONLY=<case>` replays one case.
    let range = match std::env::var("FACTIFY_FUZZ_ONLY")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        Some(n) => n..n + 1,
        None => 0..total,
    };
    let findings: Vec<(u64, Finding)> = futures::stream::iter(range)
        .map(|n| {
            let (shared, endpoint) = (shared.clone(), endpoint.clone());
            async move {
                let task = tokio::spawn(async move {
                    let client = match clients {
                        Clients::Shared => shared,
                        Clients::PerCase => client_for(&endpoint, wire, None).await,
                    };
                    run_case(client, wire, seed, n, cap).await
                });
                let finding = match tokio::time::timeout(DEADLINE + GRACE, task).await {
                    Err(_) => Some(Finding::Hang),
                    Ok(Err(join)) if join.is_panic() => {
                        let payload = join.into_panic();
                        let message = payload
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        Some(Finding::Panic(message))
                    }
                    Ok(Err(join)) => Some(Finding::Panic(join.to_string())),
                    Ok(Ok(finding)) => finding,
                };
                finding.map(|finding| (n, finding))
            }
        })
        .buffer_unordered(CONCURRENCY)
        .filter_map(|finding| async move { finding })
        .collect()
        .await;

    let count = |pick: fn(&Finding) -> bool| findings.iter().filter(|(_, f)| pick(f)).count();
    println!(
        "{:?} over {:?}, {}: {total} hostile cases (seed {seed:#x}): {} panics, {} hangs, \
         {} invented successes, {} valid answers refused, {} waits over the cap; \
         the latest call of the binary so far ended {:?} after its deadline; \
         answers lost to h2's flood guard on a shared connection so far: {}",
        wire.protocol,
        wire.http,
        match clients {
            Clients::Shared => "one client",
            Clients::PerCase => "a client per case",
        },
        count(|f| matches!(f, Finding::Panic(_))),
        count(|f| matches!(f, Finding::Hang)),
        count(|f| matches!(f, Finding::Invented)),
        count(|f| matches!(f, Finding::RefusedValid(_))),
        count(|f| matches!(f, Finding::WaitOverCap(_))),
        Duration::from_micros(WORST_LATENESS.load(std::sync::atomic::Ordering::Relaxed)),
        FLOOD_GUARD_CLOSURES.load(std::sync::atomic::Ordering::Relaxed),
    );
    let shown: Vec<_> = findings.iter().take(10).collect();
    assert!(
        findings.is_empty(),
        "{} of {total} cases went wrong; the first: {shown:#?}",
        findings.len()
    );
    drop(server);
}

const GRPC: Wire = Wire {
    protocol: Protocol::Grpc,
    http: HttpVersion::Http2,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_over_http2() {
    fuzz(GRPC, cases(), Clients::Shared).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_proto_over_http1() {
    let wire = Wire {
        protocol: Protocol::ConnectProto,
        http: HttpVersion::Http1,
    };
    fuzz(wire, cases(), Clients::Shared).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_json_over_http1() {
    let wire = Wire {
        protocol: Protocol::ConnectJson,
        http: HttpVersion::Http1,
    };
    fuzz(wire, cases(), Clients::Shared).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_proto_over_h2c() {
    let wire = Wire {
        protocol: Protocol::ConnectProto,
        http: HttpVersion::Http2,
    };
    fuzz(wire, cases(), Clients::Shared).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_json_over_h2c() {
    let wire = Wire {
        protocol: Protocol::ConnectJson,
        http: HttpVersion::Http2,
    };
    fuzz(wire, cases(), Clients::Shared).await;
}

/// A few hundred cases per protocol, each with its own client and the
/// default cap: no hostile wait holds a client past it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_per_case_over_every_protocol() {
    for protocol in [
        Protocol::Grpc,
        Protocol::ConnectProto,
        Protocol::ConnectJson,
    ] {
        let wire = Wire {
            protocol,
            http: HttpVersion::Auto,
        };
        fuzz(wire, cases() / 10, Clients::PerCase).await;
    }
}

/// Whether the client's own HTTP/2 layer (h2) closed the connection because
/// the server had flooded it, in earlier cases on the same shared
/// connection, with frames that carry nothing (h2's guard against resource
/// exhaustion: a `GOAWAY` of its own with `ENHANCE_YOUR_CALM`, "detected
/// excessive load generating behavior"; tonic reports it as
/// `RESOURCE_EXHAUSTED: h2 protocol error`). That is the client defending
/// itself, which the calls in flight on that connection pay for, not a
/// refusal of this case's valid answer. Seen 6 times in 600,000 cases over
/// the three shared HTTP/2 clients (gRPC, Connect proto and JSON over h2c),
/// never over HTTP/1.1 or with a client per case.
fn connection_closed_for_earlier_floods(err: &Error) -> bool {
    if !matches!(err, Error::Transport(_)) {
        return false;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = cause {
        let debug = format!("{current:?}");
        if debug.contains("ENHANCE_YOUR_CALM") || debug.contains("too_many_data_frames") {
            FLOOD_GUARD_CLOSURES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return true;
        }
        cause = current.source();
    }
    false
}
