//! What is specific to the Connect protocol, beyond the behaviours that
//! every other test file shows over each protocol.
//!
//! Most tests here talk to a tiny hyper server on `127.0.0.1:0` that
//! records each request (version, path, headers, body) and answers with a
//! canned response: a proxy's HTML 502, an empty 503, a 404, a gzipped
//! success, a rate limit known only from headers. The others talk to the
//! reference server, which answers gRPC and Connect on one port.

mod common;

use std::convert::Infallible;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use bytes::Bytes;
use common::start_server;
use factify_invites::proto;
use factify_invites::retry::RetryPolicy;
use factify_invites::{
    Client, Error, HttpVersion, InviteStatus, Protocol, Reason, UnknownValue, UserType,
};
use factify_invites_server::{Fault, Method, ReferenceServer};
use http::{HeaderMap, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;

const ORG: &str = "org_01h2xcejqtf2nbrexx3vqjhp41";
const KEY: &str = "ffy_test_key";
const CREATE_PATH: &str = "/factify.api.v1beta.OrganizationInviteService/CreateOrganizationInvite";

/// One request as the canned server saw it.
#[derive(Debug, Clone)]
struct Seen {
    version: Version,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// What the canned server answers to every request.
#[derive(Debug, Clone)]
struct Canned {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Canned {
    fn new(status: u16) -> Canned {
        Canned {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Canned {
        self.headers.push((name, value.into()));
        self
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Canned {
        self.body = body.into();
        self
    }
}

/// Starts a server on `127.0.0.1:0` (HTTP/1.1 and h2c) that answers
/// `canned` to every request and records what it saw.
async fn canned_server(canned: Canned) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let canned = canned.clone();
            let record = record.clone();
            let service =
                hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let canned = canned.clone();
                    let record = record.clone();
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        record.lock().unwrap().push(Seen {
                            version: parts.version,
                            path: parts.uri.path().to_owned(),
                            headers: parts.headers,
                            body,
                        });
                        let mut response = http::Response::new(Full::new(Bytes::from(canned.body)));
                        *response.status_mut() = http::StatusCode::from_u16(canned.status).unwrap();
                        for (name, value) in canned.headers {
                            response.headers_mut().insert(name, value.parse().unwrap());
                        }
                        Ok::<_, Infallible>(response)
                    }
                });
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (endpoint, seen)
}

async fn connect_client(endpoint: &str, protocol: Protocol) -> Client {
    Client::builder()
        .endpoint(endpoint)
        .api_key(KEY)
        .protocol(protocol)
        .retry_policy(RetryPolicy::disabled())
        .connect()
        .await
        .unwrap()
}

/// A valid create response, encoded as protobuf.
fn create_response() -> Vec<u8> {
    proto::CreateOrganizationInviteResponse {
        invite: Some(common::valid_wire_invite()),
    }
    .encode_to_vec()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

// ---- the reference server: one port, both protocols ----

#[tokio::test]
async fn one_port_answers_grpc_and_both_connect_codecs() {
    let env = start_server().await;
    let endpoint = env.running.endpoint();
    for (i, protocol) in [
        Protocol::Grpc,
        Protocol::ConnectProto,
        Protocol::ConnectJson,
    ]
    .into_iter()
    .enumerate()
    {
        let client = Client::builder()
            .endpoint(&endpoint)
            .api_key(&env.fixture.admin_key)
            .protocol(protocol)
            .connect()
            .await
            .unwrap();
        assert_eq!(client.protocol(), protocol);
        let invite = client
            .create_invite(&env.fixture.organization, format!("p{i}@example.com"))
            .await
            .unwrap();
        assert_eq!(invite.status, InviteStatus::Pending, "{protocol}");
    }
    // Every protocol reached the same store and the same call counter.
    assert_eq!(env.server.call_count(Method::Create), 3);
    let all = env
        .client
        .list_invites(&env.fixture.organization)
        .await
        .unwrap();
    assert_eq!(all.items.len(), 3);
}

#[tokio::test]
async fn every_http_version_and_gzip_work_against_the_reference_server() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    let mut n = 0;
    for protocol in [Protocol::ConnectProto, Protocol::ConnectJson] {
        for http in [HttpVersion::Auto, HttpVersion::Http1, HttpVersion::Http2] {
            for gzip in [false, true] {
                n += 1;
                let client = Client::builder()
                    .endpoint(env.running.endpoint())
                    .api_key(&env.fixture.admin_key)
                    .protocol(protocol)
                    .http_version(http)
                    .gzip(gzip)
                    .connect()
                    .await
                    .unwrap();
                let invite = client
                    .create_invite(org, format!("v{n}@example.com"))
                    .message("é ✓ — unicode survives every codec")
                    .await
                    .unwrap_or_else(|err| panic!("{protocol} {http:?} gzip={gzip}: {err}"));
                assert_eq!(
                    invite.message.as_deref(),
                    Some("é ✓ — unicode survives every codec")
                );
                let err = client
                    .revoke_invite(org, "inv_01h2xcejqtf2nbrexx3vqjhp99")
                    .await
                    .unwrap_err();
                assert!(matches!(err, Error::NotFound(_)), "{err:?}");
                assert_eq!(err.reason(), Some(&Reason::ResourceNotFound));
            }
        }
    }
}

#[tokio::test]
async fn grpc_refuses_http1_and_channels_refuse_connect() {
    let err = Client::builder()
        .endpoint("http://127.0.0.1:1")
        .http_version(HttpVersion::Http1)
        .connect_lazy()
        .unwrap_err();
    assert_eq!(err.param(), Some("http_version"), "{err}");

    let server = ReferenceServer::new();
    let channel = server.in_memory_channel().await.unwrap();
    let err = Client::builder()
        .protocol(Protocol::ConnectJson)
        .build_with_channel(channel)
        .unwrap_err();
    assert_eq!(err.param(), Some("protocol"), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_fails_at_connect_before_sending() {
    // Bind then drop, so that the port is (very likely) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = Client::builder()
        .endpoint(format!("http://127.0.0.1:{port}"))
        .protocol(Protocol::ConnectProto)
        .connect()
        .await
        .unwrap_err();
    match &err {
        Error::Transport(transport) => assert!(transport.is_before_send(), "{err:?}"),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[tokio::test]
async fn responses_over_max_response_bytes_are_refused() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    for i in 0..20 {
        env.client
            .create_invite(org, format!("big{i}@example.com"))
            .await
            .unwrap();
    }
    for protocol in [Protocol::ConnectProto, Protocol::ConnectJson] {
        for gzip in [false, true] {
            let client = Client::builder()
                .endpoint(env.running.endpoint())
                .api_key(&env.fixture.admin_key)
                .protocol(protocol)
                .gzip(gzip)
                .max_response_bytes(1024)
                .connect()
                .await
                .unwrap();
            let err = client.list_invites(org).page_size(20).await.unwrap_err();
            assert!(
                matches!(err, Error::InvalidResponse { .. }),
                "{protocol} gzip={gzip}: {err:?}"
            );
        }
    }
}

#[tokio::test]
async fn retries_and_the_server_deadline_work_the_same_over_connect() {
    let env = start_server().await;
    let org = &env.fixture.organization;
    for protocol in [Protocol::ConnectProto, Protocol::ConnectJson] {
        let client = Client::builder()
            .endpoint(env.running.endpoint())
            .api_key(&env.fixture.admin_key)
            .protocol(protocol)
            .connect()
            .await
            .unwrap();
        // Two 503s with Connect error bodies, then the real answer: the
        // default policy retries the idempotent list.
        let before = env.server.call_count(Method::List);
        env.server
            .inject_faults(Some(Method::List), [Fault::Unavailable; 2]);
        client.list_invites(org).await.unwrap();
        assert_eq!(
            env.server.call_count(Method::List) - before,
            3,
            "{protocol}"
        );

        // A server slower than the call's timeout: DEADLINE_EXCEEDED.
        env.server
            .set_latency(Method::List, Duration::from_millis(300));
        let err = client
            .list_invites(org)
            .timeout(Duration::from_millis(100))
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{protocol}: {err:?}");
        env.server.set_latency(Method::List, Duration::ZERO);
    }
}

// ---- what the client sends ----

#[tokio::test]
async fn the_request_carries_the_connect_headers_and_the_deadline() {
    let (endpoint, seen) = canned_server(
        Canned::new(200)
            .header("content-type", "application/proto")
            .body(create_response()),
    )
    .await;
    let client = connect_client(&endpoint, Protocol::ConnectProto).await;
    let invite = client
        .create_invite(ORG, "ada@example.com")
        .metadata("x-trace-id", "t-1")
        .timeout(Duration::from_millis(1500))
        .await
        .unwrap();
    assert_eq!(invite.email, "ada@example.com");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.path, CREATE_PATH);
    // Plaintext with the default HttpVersion::Auto is HTTP/1.1.
    assert_eq!(request.version, Version::HTTP_11);
    let header = |name: &str| request.headers.get(name).unwrap().to_str().unwrap();
    assert_eq!(header("content-type"), "application/proto");
    assert_eq!(header("connect-protocol-version"), "1");
    assert_eq!(header("authorization"), format!("Bearer {KEY}"));
    assert_eq!(header("x-trace-id"), "t-1");
    assert!(header("user-agent").starts_with("factify-invites/"));
    let timeout: u64 = header("connect-timeout-ms").parse().unwrap();
    assert!(timeout > 1000 && timeout <= 1500, "{timeout}");
    assert!(request.headers.get("content-encoding").is_none());

    let sent = proto::CreateOrganizationInviteRequest::decode(request.body.as_ref()).unwrap();
    assert_eq!(sent.organization_id, ORG);
    assert_eq!(sent.email, "ada@example.com");
}

#[tokio::test]
async fn http_versions_are_what_the_builder_asks_for() {
    for (version, expected) in [
        (HttpVersion::Auto, Version::HTTP_11),
        (HttpVersion::Http1, Version::HTTP_11),
        (HttpVersion::Http2, Version::HTTP_2),
    ] {
        let (endpoint, seen) = canned_server(
            Canned::new(200)
                .header("content-type", "application/proto")
                .body(create_response()),
        )
        .await;
        let client = Client::builder()
            .endpoint(&endpoint)
            .protocol(Protocol::ConnectProto)
            .http_version(version)
            .connect()
            .await
            .unwrap();
        client.create_invite(ORG, "ada@example.com").await.unwrap();
        assert_eq!(seen.lock().unwrap()[0].version, expected, "{version:?}");
    }
}

#[tokio::test]
async fn json_requests_use_the_canonical_mapping() {
    let (endpoint, seen) = canned_server(
        Canned::new(200)
            .header("content-type", "application/json")
            .body(r#"{"items":[],"pagination":{"hasMore":false}}"#),
    )
    .await;
    let client = connect_client(&endpoint, Protocol::ConnectJson).await;
    let page = client
        .list_invites(ORG)
        .status(InviteStatus::Pending)
        .status(InviteStatus::Expired)
        .email_contains("acme")
        .page_size(25)
        .await
        .unwrap();
    assert!(page.items.is_empty());

    let request = seen.lock().unwrap()[0].clone();
    assert_eq!(request.headers["content-type"], "application/json");
    let json: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(json["organizationId"], ORG);
    assert_eq!(
        json["status"],
        serde_json::json!([
            "ORGANIZATION_INVITE_STATUS_PENDING",
            "ORGANIZATION_INVITE_STATUS_EXPIRED"
        ])
    );
    assert_eq!(json["pageSize"], 25);
    assert_eq!(json["email"]["contains"], "acme");
    assert!(json.get("organization_id").is_none(), "{json}");
    assert!(
        json.get("pageToken").is_none(),
        "defaults are left out: {json}"
    );
}

#[tokio::test]
async fn gzip_compresses_the_request_and_reads_a_gzipped_response() {
    let (endpoint, seen) = canned_server(
        Canned::new(200)
            .header("content-type", "application/proto")
            .header("content-encoding", "gzip")
            .body(gzip(&create_response())),
    )
    .await;
    let client = Client::builder()
        .endpoint(&endpoint)
        .protocol(Protocol::ConnectProto)
        .gzip(true)
        .connect()
        .await
        .unwrap();
    let invite = client
        .create_invite(ORG, "ada@example.com")
        .message("m".repeat(500))
        .await
        .unwrap();
    assert_eq!(invite.id.as_str(), "inv_01h2xcejqtf2nbrexx3vqjhp42");

    let request = seen.lock().unwrap()[0].clone();
    assert_eq!(request.headers["content-encoding"], "gzip");
    assert_eq!(request.headers["accept-encoding"], "gzip");
    let sent =
        proto::CreateOrganizationInviteRequest::decode(gunzip(&request.body).as_slice()).unwrap();
    assert_eq!(sent.message.as_deref(), Some("m".repeat(500).as_str()));
    assert!(request.body.len() < 200, "{} bytes", request.body.len());
}

// ---- what the client makes of what comes back ----

#[tokio::test]
async fn a_proxy_html_502_is_unavailable() {
    let (endpoint, _) = canned_server(
        Canned::new(502)
            .header("content-type", "text/html")
            .body("<html><body><h1>502 Bad Gateway</h1></body></html>"),
    )
    .await;
    let client = connect_client(&endpoint, Protocol::ConnectProto).await;
    let err = client.list_invites(ORG).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("502"), "{err}");
    assert_eq!(err.reason(), None);
}

#[tokio::test]
async fn non_connect_statuses_map_per_the_connect_table() {
    type IsExpected = fn(&Error) -> bool;
    let cases: [(Canned, IsExpected); 5] = [
        (Canned::new(503), |e| matches!(e, Error::Unavailable(_))),
        (Canned::new(404).body("404 page not found"), |e| {
            matches!(e, Error::Unimplemented(_))
        }),
        (Canned::new(401), |e| matches!(e, Error::Unauthenticated(_))),
        // JSON that is not a Connect error: the HTTP status decides.
        (
            Canned::new(403)
                .header("content-type", "application/json")
                .body(r#"{"error":"forbidden"}"#),
            |e| matches!(e, Error::PermissionDenied(_)),
        ),
        (
            Canned::new(500)
                .header("content-type", "application/json")
                .body("{not json"),
            |e| matches!(e, Error::Unknown(_)),
        ),
    ];
    for (canned, is_expected) in cases {
        let status = canned.status;
        let (endpoint, _) = canned_server(canned).await;
        let client = connect_client(&endpoint, Protocol::ConnectJson).await;
        let err = client.list_invites(ORG).await.unwrap_err();
        assert!(is_expected(&err), "HTTP {status} became {err:?}");
    }
}

#[tokio::test]
async fn a_connect_error_body_gives_code_reason_and_retry_info() {
    // {"reason":"rate_limit_exceeded","requestId":"req_..."} and a RetryInfo
    // of 3 s, base64 without padding as Connect servers write it.
    let detail = proto::ErrorDetail {
        reason: "rate_limit_exceeded".into(),
        request_id: "req_01arwx4k8xrgqskvxq69gdn019".into(),
        param: String::new(),
    }
    .encode_to_vec();
    let retry = proto::google::rpc::RetryInfo {
        retry_delay: Some(prost_types::Duration {
            seconds: 3,
            nanos: 0,
        }),
    }
    .encode_to_vec();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes);
    let body = serde_json::json!({
        "code": "resource_exhausted",
        "message": "slow down",
        "details": [
            {"type": "factify.api.v1beta.ErrorDetail", "value": b64(&detail), "debug": {}},
            {"type": "google.rpc.RetryInfo", "value": b64(&retry)},
            {"type": "google.rpc.DebugInfo", "value": "AAAA"}
        ]
    });
    let (endpoint, _) = canned_server(
        Canned::new(429)
            .header("content-type", "application/json")
            .header("x-ratelimit-reset", "60")
            .body(body.to_string()),
    )
    .await;
    let client = connect_client(&endpoint, Protocol::ConnectProto).await;
    let err = client.list_invites(ORG).await.unwrap_err();
    assert!(matches!(err, Error::ResourceExhausted(_)), "{err:?}");
    assert_eq!(err.reason(), Some(&Reason::RateLimitExceeded));
    assert_eq!(err.request_id(), Some("req_01arwx4k8xrgqskvxq69gdn019"));
    // RetryInfo wins over the header.
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    assert_eq!(
        err.to_string(),
        "RESOURCE_EXHAUSTED: slow down (reason: rate_limit_exceeded, request_id: req_01arwx4k8xrgqskvxq69gdn019)"
    );
}

#[tokio::test]
async fn rate_limit_headers_feed_retry_after_and_the_cool_down() {
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 30;
    let (endpoint, seen) = canned_server(
        Canned::new(429)
            .header("content-type", "application/json")
            .header("x-ratelimit-limit", "1000")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", reset.to_string())
            .body(r#"{"code":"resource_exhausted","message":"too many requests"}"#),
    )
    .await;
    let client = connect_client(&endpoint, Protocol::ConnectJson).await;
    let err = client.list_invites(ORG).await.unwrap_err();
    assert!(matches!(err, Error::ResourceExhausted(_)), "{err:?}");
    let wait = err.retry_after().expect("a wait from X-RateLimit-Reset");
    assert!(
        wait > Duration::from_secs(28) && wait <= Duration::from_secs(30),
        "{wait:?}"
    );

    // The client now holds off: a call whose deadline ends before the reset
    // is not sent at all, and says it is rate-limited, with the wait left.
    let err = client
        .list_invites(ORG)
        .timeout(Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ResourceExhausted(_)), "{err:?}");
    assert!(err.status().is_some_and(|status| status.is_local()));
    assert!(
        err.retry_after().is_some_and(|left| left <= wait),
        "{err:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn malformed_success_bodies_are_invalid_responses() {
    let json = |body: &'static [u8]| {
        Canned::new(200)
            .header("content-type", "application/json")
            .body(body)
    };
    let cases = [
        // A proxy's page with a 200.
        (
            Protocol::ConnectProto,
            Canned::new(200)
                .header("content-type", "text/html")
                .body("<html>hi</html>"),
        ),
        // Bytes that are not protobuf.
        (
            Protocol::ConnectProto,
            Canned::new(200)
                .header("content-type", "application/proto")
                .body(vec![0xff; 16]),
        ),
        // JSON of the wrong shape, and bytes that are not JSON.
        (Protocol::ConnectJson, json(br#"{"invite": 7}"#)),
        (Protocol::ConnectJson, json(b"\xff\xfe{")),
        // A gzip header on a body that is not gzip.
        (
            Protocol::ConnectJson,
            json(b"{}").header("content-encoding", "gzip"),
        ),
        // Valid JSON, but the invitation lacks its required fields.
        (
            Protocol::ConnectJson,
            json(br#"{"invite": {"id": "inv_01h2xcejqtf2nbrexx3vqjhp42"}}"#),
        ),
    ];
    for (i, (protocol, canned)) in cases.into_iter().enumerate() {
        let (endpoint, _) = canned_server(canned).await;
        let client = connect_client(&endpoint, protocol).await;
        let err = client
            .create_invite(ORG, "ada@example.com")
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidResponse { .. }),
            "case {i}: {err:?}"
        );
    }
}

// ---- curl: a Connect client nobody here wrote ----

/// Runs curl with `args`; `None` when curl is not installed.
async fn curl(args: Vec<String>) -> Option<(u16, HeaderMap, serde_json::Value)> {
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("curl")
            .args(["--silent", "--show-error", "--include"])
            .args(&args)
            .output()
    })
    .await
    .unwrap();
    let output = match output {
        Ok(output) => output,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("curl is not installed: skipping the curl interop checks");
            return None;
        }
        Err(err) => panic!("curl failed to start: {err}"),
    };
    assert!(
        output.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("headers, then a body");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| {
            (
                http::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
                value.trim().parse().unwrap(),
            )
        })
        .collect();
    let json = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(body).unwrap_or_else(|err| panic!("{err}: {body}"))
    };
    Some((status, headers, json))
}

fn curl_args(
    url: String,
    key: Option<&str>,
    body: serde_json::Value,
    extra: &[&str],
) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "-X".into(),
        "POST".into(),
        "-H".into(),
        "Content-Type: application/json".into(),
        "-H".into(),
        "Connect-Protocol-Version: 1".into(),
        "--data".into(),
        body.to_string(),
    ];
    if let Some(key) = key {
        args.extend(["-H".into(), format!("Authorization: Bearer {key}")]);
    }
    args.extend(extra.iter().map(|arg| arg.to_string()));
    args.push(url);
    args
}

#[tokio::test]
async fn curl_speaks_connect_json_to_the_reference_server() {
    let env = start_server().await;
    let org = env.fixture.organization.to_string();
    let key = env.fixture.admin_key.clone();
    let url = |method: &str| {
        format!(
            "{}/factify.api.v1beta.OrganizationInviteService/{method}",
            env.running.endpoint()
        )
    };

    // Success, over HTTP/1.1 and over h2c, plain and compressed.
    for (i, extra) in [
        &["--http1.1"][..],
        &["--http2-prior-knowledge"],
        &["--http1.1", "--compressed"],
    ]
    .into_iter()
    .enumerate()
    {
        let body =
            serde_json::json!({"organizationId": org, "email": format!("zed{i}@example.com")});
        let Some((status, headers, json)) = curl(curl_args(
            url("CreateOrganizationInvite"),
            Some(&key),
            body,
            extra,
        ))
        .await
        else {
            return;
        };
        assert_eq!(status, 200, "{extra:?}: {json}");
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let invite = &json["invite"];
        assert_eq!(invite["email"], format!("zed{i}@example.com"));
        assert_eq!(invite["organizationId"], org);
        assert_eq!(invite["status"], "ORGANIZATION_INVITE_STATUS_PENDING");
        assert_eq!(invite["sender"]["type"], "USER_TYPE_USER_ACCOUNT");
        let created = invite["createdAt"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(created).is_ok(),
            "{created}"
        );
    }
    assert_eq!(env.server.call_count(Method::Create), 3);

    // An error: the HTTP status of the code and the Connect error body.
    let body = serde_json::json!({"organizationId": "org_01h2xcejqtf2nbrexx3vqjhp99"});
    let (status, headers, json) = curl(curl_args(
        url("ListOrganizationInvites"),
        Some(&key),
        body,
        &[],
    ))
    .await
    .unwrap();
    assert_eq!(status, 404, "{json}");
    assert_eq!(json["code"], "not_found");
    assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
    let detail = &json["details"][0];
    assert_eq!(detail["type"], "factify.api.v1beta.ErrorDetail");
    assert!(detail["value"].as_str().is_some_and(|v| !v.is_empty()));
    assert_eq!(detail["debug"]["reason"], "resource_not_found");
    let request_id = detail["debug"]["requestId"].as_str().unwrap();
    assert_eq!(headers["x-request-id"], request_id);

    // No key: 401.
    let body = serde_json::json!({"organizationId": org});
    let (status, _, json) = curl(curl_args(url("ListOrganizationInvites"), None, body, &[]))
        .await
        .unwrap();
    assert_eq!(
        (status, json["code"].as_str()),
        (401, Some("unauthenticated"))
    );

    // A misspelled field is refused, not ignored.
    let body = serde_json::json!({"organizationId": org, "emial": "x@example.com"});
    let (status, _, json) = curl(curl_args(
        url("CreateOrganizationInvite"),
        Some(&key),
        body,
        &[],
    ))
    .await
    .unwrap();
    assert_eq!(
        (status, json["code"].as_str()),
        (400, Some("invalid_argument"))
    );

    // A rate limit: 429 with RetryInfo and the X-RateLimit headers.
    env.server.inject_faults(
        Some(Method::List),
        [factify_invites_server::Fault::RateLimited(
            Duration::from_secs(2),
        )],
    );
    let body = serde_json::json!({"organizationId": org});
    let (status, headers, json) = curl(curl_args(
        url("ListOrganizationInvites"),
        Some(&key),
        body,
        &[],
    ))
    .await
    .unwrap();
    assert_eq!(status, 429, "{json}");
    assert_eq!(json["code"], "resource_exhausted");
    assert_eq!(json["details"][1]["type"], "google.rpc.RetryInfo");
    assert_eq!(json["details"][1]["debug"]["retryDelay"], "2s");
    assert!(headers.contains_key("x-ratelimit-reset"));
    assert_eq!(headers["x-ratelimit-remaining"], "0");

    // The server enforces Connect-Timeout-Ms.
    env.server
        .set_latency(Method::List, Duration::from_millis(500));
    let body = serde_json::json!({"organizationId": org});
    let (status, _, json) = curl(curl_args(
        url("ListOrganizationInvites"),
        Some(&key),
        body,
        &["-H", "Connect-Timeout-Ms: 50"],
    ))
    .await
    .unwrap();
    assert_eq!(
        (status, json["code"].as_str()),
        (408, Some("deadline_exceeded"))
    );

    // An unknown method is a bare 404 (which clients read as unimplemented).
    let (status, _, json) = curl(curl_args(
        url("DeleteEverything"),
        Some(&key),
        serde_json::json!({}),
        &[],
    ))
    .await
    .unwrap();
    assert_eq!((status, json), (404, serde_json::Value::Null));
}

// ---- a server that speaks only HTTP/2 in the clear ----

/// The default [`HttpVersion::Auto`] sends HTTP/1.1 to `http://`; a server
/// that speaks only h2c there drops it. The error says what to set (and
/// setting it works), rather than hyper-util's bare `client error
/// (SendRequest)`.
#[tokio::test]
async fn an_h2c_only_server_gets_an_error_saying_to_choose_http2() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service =
                hyper::service::service_fn(|_: http::Request<hyper::body::Incoming>| async {
                    let mut response =
                        http::Response::new(Full::new(Bytes::from(create_response())));
                    response
                        .headers_mut()
                        .insert("content-type", "application/proto".parse().unwrap());
                    Ok::<_, Infallible>(response)
                });
            tokio::spawn(
                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    let client = connect_client(&endpoint, Protocol::ConnectProto).await;
    let err = client
        .create_invite(ORG, "ada@example.com")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("http_version(HttpVersion::Http2)"),
        "{message}"
    );
    assert_ne!(
        message,
        "transport error: CreateOrganizationInvite over Connect: client error (SendRequest)"
    );

    let client = Client::builder()
        .endpoint(&endpoint)
        .api_key(KEY)
        .protocol(Protocol::ConnectProto)
        .http_version(HttpVersion::Http2)
        .connect()
        .await
        .unwrap();
    client.create_invite(ORG, "ada@example.com").await.unwrap();
}

// ---- a newer server's enum names over JSON ----

/// A create answer in canonical JSON whose invitation has the given
/// `status` and sender `type` values (names or numbers).
fn json_invite_answer(status: serde_json::Value, user_type: serde_json::Value) -> Canned {
    let body = serde_json::json!({
        "invite": {
            "id": "inv_01h2xcejqtf2nbrexx3vqjhp42",
            "organizationId": ORG,
            "email": "ada@example.com",
            "status": status,
            "sender": {"id": "user_01h2xcejqtf2nbrexx3vqjhp40", "type": user_type, "name": "Grace"},
            "createdAt": "2025-06-15T15:06:40Z",
            "expiresAt": "2025-06-22T15:06:40.250Z",
            "aFieldFromTheFuture": {"nested": [1, 2, 3]}
        }
    });
    Canned::new(200)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
}

#[tokio::test]
async fn enum_names_this_version_does_not_know_reach_the_user_by_name() {
    let (endpoint, _) = canned_server(json_invite_answer(
        "ORGANIZATION_INVITE_STATUS_ON_HOLD".into(),
        "USER_TYPE_ROBOT".into(),
    ))
    .await;
    let client = connect_client(&endpoint, Protocol::ConnectJson).await;
    let created = client
        .create_invite(ORG, "ada@example.com")
        .await
        .expect("a newer server's enum names must not fail the call");
    assert_eq!(
        created.status,
        InviteStatus::Unknown(UnknownValue::name("ORGANIZATION_INVITE_STATUS_ON_HOLD"))
    );
    assert_eq!(
        created.sender.user_type,
        UserType::Unknown(UnknownValue::name("USER_TYPE_ROBOT"))
    );
    assert_eq!(
        created.expires_at.timestamp_subsec_millis(),
        250,
        "fractional RFC 3339 seconds are read"
    );
}

#[tokio::test]
async fn enum_numbers_over_json_are_kept_and_a_missing_status_is_still_missing() {
    // Numbers, including one in the range the reader uses for stand-ins.
    let (endpoint, _) = canned_server(json_invite_answer(i32::MIN.into(), 9.into())).await;
    let client = connect_client(&endpoint, Protocol::ConnectJson).await;
    let created = client.create_invite(ORG, "ada@example.com").await.unwrap();
    assert_eq!(
        created.status,
        InviteStatus::Unknown(UnknownValue::number(i32::MIN))
    );
    assert_eq!(
        created.sender.user_type,
        UserType::Unknown(UnknownValue::number(9))
    );

    // Known names read as themselves; an absent status is the real
    // "missing" error, not an unknown value.
    let (endpoint, _) = canned_server(json_invite_answer(
        "ORGANIZATION_INVITE_STATUS_REVOKED".into(),
        serde_json::Value::Null,
    ))
    .await;
    let client = connect_client(&endpoint, Protocol::ConnectJson).await;
    let err = client
        .create_invite(ORG, "ada@example.com")
        .await
        .unwrap_err();
    assert_eq!(err.param(), Some("invite.sender.type"), "{err:?}");
    assert!(err.to_string().contains("missing"), "{err}");
}

#[tokio::test]
async fn a_status_known_only_by_name_cannot_be_sent_as_a_filter() {
    let (endpoint, seen) = canned_server(Canned::new(500)).await;
    let client = connect_client(&endpoint, Protocol::ConnectJson).await;
    let err = client
        .list_invites(ORG)
        .status(InviteStatus::Unknown(UnknownValue::name(
            "ORGANIZATION_INVITE_STATUS_ON_HOLD",
        )))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert_eq!(err.param(), Some("status"));
    assert!(seen.lock().unwrap().is_empty(), "nothing is sent");
}

#[tokio::test]
async fn enum_numbers_this_version_does_not_know_are_kept_over_connect_proto() {
    let mut invite = common::valid_wire_invite();
    invite.status = 17;
    invite.sender.as_mut().unwrap().r#type = i32::MIN;
    let body = proto::CreateOrganizationInviteResponse {
        invite: Some(invite),
    }
    .encode_to_vec();
    let (endpoint, _) = canned_server(
        Canned::new(200)
            .header("content-type", "application/proto")
            .body(body),
    )
    .await;
    let client = connect_client(&endpoint, Protocol::ConnectProto).await;
    let created = client.create_invite(ORG, "ada@example.com").await.unwrap();
    assert_eq!(
        created.status,
        InviteStatus::Unknown(UnknownValue::number(17))
    );
    assert_eq!(
        created.sender.user_type,
        UserType::Unknown(UnknownValue::number(i32::MIN))
    );
}
