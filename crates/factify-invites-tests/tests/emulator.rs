//! The reference server as an emulator for clients in any language, over a
//! real socket on `127.0.0.1:0`: the admin surface (`/admin/v1/emails`,
//! `/admin/v1/clock`, `/admin/v1/reset`) spoken as plain HTTP/1.1 JSON,
//! server reflection and health with the clients that `tonic-reflection`
//! and `tonic-health` ship, gRPC-Web (binary and text) framed by hand as a
//! browser library frames it, and CORS preflights.

mod common;

use base64::Engine;
use bytes::{Buf, Bytes};
use chrono::{DateTime, TimeDelta, Utc};
use factify_invites::proto;
use factify_invites::InviteStatus;
use factify_invites_server::{CorsOrigins, Permissions, ReferenceServer, RunningServer};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use prost::Message;
use serde_json::{json, Value};

const SERVICE: &str = "factify.api.v1beta.OrganizationInviteService";

/// One HTTP/1.1 answer.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!("not JSON ({err}): {}", String::from_utf8_lossy(&self.body))
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends one HTTP/1.1 request to `running` on a fresh connection.
async fn http(
    running: &RunningServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Answer {
    let stream = tokio::net::TcpStream::connect(running.addr())
        .await
        .unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", running.addr().to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(body.into())).unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(running: &RunningServer, path: &str) -> Answer {
    http(running, Method::GET, path, &[], Bytes::new()).await
}

async fn post_json(running: &RunningServer, path: &str, body: Value) -> Answer {
    http(
        running,
        Method::POST,
        path,
        &[("content-type", "application/json")],
        body.to_string(),
    )
    .await
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().expect("a time string"))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

#[tokio::test]
async fn the_outbox_gives_each_emails_token_filtered_by_recipient() {
    let env = common::start_server().await;
    let org = env.fixture.organization.to_string();
    let grace = env.server.add_user("Grace Hopper", "grace@example.com");
    let grace_key = env.server.add_api_key(&grace, Permissions::NONE);
    env.client
        .create_invite(&org, "Grace@Example.com")
        .send()
        .await
        .unwrap();
    env.client
        .create_invite(&org, "linus+test@example.com")
        .send()
        .await
        .unwrap();
    // A create on a pending invitation resends it: a second email.
    env.client
        .create_invite(&org, "grace@example.com")
        .send()
        .await
        .unwrap();

    let all = get(&env.running, "/admin/v1/emails").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.header("content-type"), Some("application/json"));
    assert_eq!(all.json()["emails"].as_array().unwrap().len(), 3);

    let to_grace = get(&env.running, "/admin/v1/emails?to=GRACE%40example.com").await;
    let emails = to_grace.json()["emails"].as_array().unwrap().clone();
    assert_eq!(emails.len(), 2, "{emails:?}");
    assert_eq!(emails[0]["kind"], "invitation");
    assert_eq!(emails[1]["kind"], "resend");
    assert_eq!(emails[0]["to"], "Grace@Example.com");
    assert_eq!(emails[0]["organizationId"], org.as_str());
    assert_eq!(emails[0]["inviteId"], emails[1]["inviteId"]);
    assert_ne!(emails[0]["token"], emails[1]["token"]);
    time(&emails[1]["sentAt"]);

    // A `+` in the query stays a `+`.
    let plus = get(&env.running, "/admin/v1/emails?to=linus+test@example.com").await;
    assert_eq!(plus.json()["emails"].as_array().unwrap().len(), 1);
    let by_invite = get(
        &env.running,
        &format!(
            "/admin/v1/emails?invite_id={}&organization_id={org}",
            emails[0]["inviteId"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(by_invite.json()["emails"].as_array().unwrap().len(), 2);

    // The newest token, read over HTTP, accepts the invitation.
    let token = emails[1]["token"].as_str().unwrap();
    let grace_client = env.client_with_key(&grace_key).await;
    let accepted = grace_client.accept_invite(&org, token).send().await;
    assert!(accepted.is_ok(), "{accepted:?}");
}

#[tokio::test]
async fn the_admin_clock_moves_the_servers_time_and_invitations_expire() {
    let env = common::start_server().await;
    let org = env.fixture.organization.to_string();
    let invite = env
        .client
        .create_invite(&org, "ada@example.com")
        .send()
        .await
        .unwrap();

    let before = get(&env.running, "/admin/v1/clock").await.json();
    assert_eq!(before["shiftSeconds"], 0);
    let moved = post_json(
        &env.running,
        "/admin/v1/clock",
        json!({ "advanceSeconds": 8 * 24 * 3600 }),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK);
    let moved = moved.json();
    assert_eq!(moved["shiftSeconds"], 8 * 24 * 3600);
    assert!(time(&moved["now"]) >= time(&before["now"]) + TimeDelta::days(8));
    assert!(env.server.now() >= time(&moved["now"]));

    let listed = env
        .client
        .list_invites(&org)
        .page(None)
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|item| item.id == invite.id)
        .unwrap();
    assert_eq!(listed.status, InviteStatus::Expired);

    // Setting the time: new records carry it.
    let set = post_json(
        &env.running,
        "/admin/v1/clock",
        json!({ "now": "2030-01-01T00:00:00Z" }),
    )
    .await;
    let set_to = time(&set.json()["now"]);
    assert!(set_to >= "2030-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap());
    assert!(set_to < "2030-01-01T00:01:00Z".parse::<DateTime<Utc>>().unwrap());
    let fresh = env
        .client
        .create_invite(&org, "later@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        fresh.created_at.format("%Y-%m-%d").to_string(),
        "2030-01-01"
    );
}

#[tokio::test]
async fn reset_returns_to_the_remembered_seed_and_its_clock() {
    let server = ReferenceServer::new();
    let fixture = server.fixture();
    server.advance_time(TimeDelta::hours(1));
    server.remember_seed();
    let running = server.start().await.unwrap();
    let client = common::client_for(&running.endpoint(), &fixture.admin_key).await;
    let org = fixture.organization.to_string();
    client
        .create_invite(&org, "ada@example.com")
        .send()
        .await
        .unwrap();
    server.advance_time(TimeDelta::days(8));

    let reset = http(&running, Method::POST, "/admin/v1/reset", &[], Bytes::new()).await;
    assert_eq!(reset.status, StatusCode::OK, "{:?}", reset.body);
    assert_eq!(reset.json()["shiftSeconds"], 3600);
    assert_eq!(server.time_shift(), TimeDelta::hours(1));
    assert!(server.invites(&fixture.organization).is_empty());
    assert!(server.sent_emails().is_empty());
    let outbox = get(&running, "/admin/v1/emails").await.json();
    assert_eq!(outbox["emails"], json!([]));
    // The seed's key still works after the reset.
    client
        .create_invite(&org, "again@example.com")
        .send()
        .await
        .unwrap();
    running.shutdown().await;
}

#[tokio::test]
async fn bad_admin_requests_are_refused_naming_what_is_wrong() {
    let env = common::start_server().await;
    let cases = [
        (
            json!({ "advanceSeconds": 1.5 }),
            "advanceSeconds",
            StatusCode::BAD_REQUEST,
        ),
        (json!({ "now": "tomorrow" }), "now", StatusCode::BAD_REQUEST),
        (
            json!({ "now": "1969-12-31T23:59:59Z" }),
            "between 1970",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "advanceSeconds": 400_000_i64 * 365 * 86_400 }),
            "advanceSeconds",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "advanceSeconds": i64::MAX }),
            "advanceSeconds",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "advance": 5 }),
            "unknown field \"advance\"",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "now": "2030-01-01T00:00:00Z", "advanceSeconds": 1 }),
            "exactly one",
            StatusCode::BAD_REQUEST,
        ),
        (json!([1]), "JSON object", StatusCode::BAD_REQUEST),
    ];
    for (body, says, status) in cases {
        let answer = post_json(&env.running, "/admin/v1/clock", body.clone()).await;
        assert_eq!(answer.status, status, "{body}");
        let message = answer.json()["error"].as_str().unwrap().to_owned();
        assert!(message.contains(says), "{body}: {message}");
    }
    assert_eq!(env.server.time_shift(), TimeDelta::zero());

    let unknown = get(&env.running, "/admin/v1/emails?recipient=a@b.example").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.json()["error"]
        .as_str()
        .unwrap()
        .contains("recipient"));
    let bad_escape = get(&env.running, "/admin/v1/emails?to=%zz").await;
    assert_eq!(bad_escape.status, StatusCode::BAD_REQUEST);
    let missing = get(&env.running, "/admin/v1/outbox").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.json()["error"]
        .as_str()
        .unwrap()
        .contains("/admin/v1/emails"));
    let wrong = http(
        &env.running,
        Method::DELETE,
        "/admin/v1/reset",
        &[],
        Bytes::new(),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.header("allow"), Some("POST"));
}

#[tokio::test]
async fn reflection_v1_and_v1alpha_list_and_describe_the_service() {
    use tonic_reflection::pb::v1;
    use tonic_reflection::pb::v1alpha;

    let env = common::start_server().await;
    let channel = tonic::transport::Endpoint::from_shared(env.running.endpoint())
        .unwrap()
        .connect()
        .await
        .unwrap();

    let mut client = v1::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let requests = [
        v1::server_reflection_request::MessageRequest::ListServices(String::new()),
        v1::server_reflection_request::MessageRequest::FileContainingSymbol(SERVICE.to_owned()),
    ]
    .map(|message| v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(message),
    });
    let mut answers = client
        .server_reflection_info(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let listed = answers.message().await.unwrap().unwrap();
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        listed.message_response
    else {
        panic!("not a list: {listed:?}")
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    for name in [
        SERVICE,
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
    ] {
        assert!(names.contains(&name), "{name} not in {names:?}");
    }
    let file = answers.message().await.unwrap().unwrap();
    let Some(v1::server_reflection_response::MessageResponse::FileDescriptorResponse(files)) =
        file.message_response
    else {
        panic!("not a file: {file:?}")
    };
    let service_file =
        prost_types::FileDescriptorProto::decode(files.file_descriptor_proto[0].as_slice())
            .unwrap();
    let service = &service_file.service[0];
    assert_eq!(service.name(), "OrganizationInviteService");
    assert!(service
        .method
        .iter()
        .any(|m| m.name() == "AcceptOrganizationInvite"));

    let mut old = v1alpha::server_reflection_client::ServerReflectionClient::new(channel);
    let mut answers = old
        .server_reflection_info(tokio_stream::iter([v1alpha::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(
                v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
            ),
        }]))
        .await
        .unwrap()
        .into_inner();
    let listed = format!("{:?}", answers.message().await.unwrap().unwrap());
    assert!(listed.contains(SERVICE), "{listed}");
}

#[tokio::test]
async fn health_answers_serving_for_the_server_and_the_api() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    let env = common::start_server().await;
    let channel = tonic::transport::Endpoint::from_shared(env.running.endpoint())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    for service in ["", SERVICE] {
        let answer = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.status(), ServingStatus::Serving, "{service:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "no.such.Service".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
}

/// A gRPC(-Web) length-prefixed message frame.
fn frame(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![flags];
    out.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Splits a gRPC-Web body into its message payloads and its trailers.
fn unframe(mut body: Bytes) -> (Vec<Bytes>, Vec<(String, String)>) {
    let mut messages = Vec::new();
    let mut trailers = Vec::new();
    while body.has_remaining() {
        let flags = body.get_u8();
        let len = body.get_u32() as usize;
        let payload = body.split_to(len);
        if flags & 0x80 != 0 {
            for line in String::from_utf8(payload.to_vec()).unwrap().split("\r\n") {
                if let Some((name, value)) = line.split_once(':') {
                    trailers.push((name.trim().to_lowercase(), value.trim().to_owned()));
                }
            }
        } else {
            messages.push(payload);
        }
    }
    (messages, trailers)
}

fn trailer<'a>(trailers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    trailers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn grpc_web_answers_in_grpc_web_with_trailers_in_the_body() {
    let env = common::start_server().await;
    let bearer = format!("Bearer {}", env.fixture.admin_key);
    let path = format!("/{SERVICE}/CreateOrganizationInvite");
    let request = proto::CreateOrganizationInviteRequest {
        organization_id: env.fixture.organization.to_string(),
        email: "web@example.com".into(),
        ..Default::default()
    };
    let answer = http(
        &env.running,
        Method::POST,
        &path,
        &[
            ("content-type", "application/grpc-web+proto"),
            ("x-grpc-web", "1"),
            ("authorization", &bearer),
        ],
        frame(0, &request.encode_to_vec()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header("content-type"),
        Some("application/grpc-web+proto")
    );
    let (messages, trailers) = unframe(answer.body.clone());
    assert_eq!(trailer(&trailers, "grpc-status"), Some("0"), "{trailers:?}");
    let created = proto::CreateOrganizationInviteResponse::decode(messages[0].clone()).unwrap();
    assert_eq!(created.invite.unwrap().email, "web@example.com");

    // An error keeps its code and ErrorDetail in the body's trailers.
    let unknown = proto::ListOrganizationInvitesRequest {
        organization_id: "org_01h2xcejqtf2nbrexx3vqjhp99".into(),
        ..Default::default()
    };
    let answer = http(
        &env.running,
        Method::POST,
        &format!("/{SERVICE}/ListOrganizationInvites"),
        &[
            ("content-type", "application/grpc-web-text+proto"),
            ("accept", "application/grpc-web-text"),
            ("authorization", &bearer),
        ],
        base64::engine::general_purpose::STANDARD.encode(frame(0, &unknown.encode_to_vec())),
    )
    .await;
    assert_eq!(
        answer.header("content-type"),
        Some("application/grpc-web-text+proto")
    );
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(answer.body.as_ref())
        .unwrap();
    let (messages, mut trailers) = unframe(Bytes::from(decoded));
    assert!(messages.is_empty());
    // A "trailers-only" answer carries them as headers instead.
    for (name, value) in &answer.headers {
        if name.as_str().starts_with("grpc-") {
            trailers.push((name.to_string(), value.to_str().unwrap().to_owned()));
        }
    }
    assert_eq!(trailer(&trailers, "grpc-status"), Some("5"), "{trailers:?}");
    let details = trailer(&trailers, "grpc-status-details-bin").expect("details");
    let details = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(details.trim_end_matches('='))
        .unwrap();
    let status = proto::google::rpc::Status::decode(details.as_slice()).unwrap();
    assert!(status.details[0].type_url.ends_with("ErrorDetail"));
}

#[tokio::test]
async fn cors_answers_preflights_for_allowed_origins_only() {
    let server =
        ReferenceServer::new().with_cors(CorsOrigins::list(["http://localhost:5173"]).unwrap());
    let fixture = server.fixture();
    let running = server.start().await.unwrap();
    let path = format!("/{SERVICE}/CreateOrganizationInvite");
    let preflight = |origin: &'static str| {
        let running = &running;
        let path = path.clone();
        async move {
            http(
                running,
                Method::OPTIONS,
                &path,
                &[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                    (
                        "access-control-request-headers",
                        "content-type,authorization,x-grpc-web,connect-protocol-version",
                    ),
                ],
                Bytes::new(),
            )
            .await
        }
    };
    let allowed = preflight("http://localhost:5173").await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    let allowed_headers = allowed.header("access-control-allow-headers").unwrap();
    for name in [
        "authorization",
        "content-type",
        "x-grpc-web",
        "connect-protocol-version",
    ] {
        assert!(allowed_headers.contains(name), "{allowed_headers}");
    }
    let other = preflight("http://evil.example").await;
    assert_eq!(other.header("access-control-allow-origin"), None);

    // A real call from the allowed origin exposes what clients read.
    let bearer = format!("Bearer {}", fixture.admin_key);
    let call = http(
        &running,
        Method::POST,
        &path,
        &[
            ("origin", "http://localhost:5173"),
            ("content-type", "application/json"),
            ("authorization", &bearer),
        ],
        json!({ "organizationId": "org_01h2xcejqtf2nbrexx3vqjhp99", "email": "a@b.example" })
            .to_string(),
    )
    .await;
    assert_eq!(call.status, StatusCode::NOT_FOUND);
    assert_eq!(
        call.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    let exposed = call.header("access-control-expose-headers").unwrap();
    assert!(exposed.contains("grpc-status") && exposed.contains("x-request-id"));
    running.shutdown().await;

    // Without CORS (the library's default), no Access-Control header.
    let env = common::start_server().await;
    let plain = http(
        &env.running,
        Method::OPTIONS,
        &path,
        &[
            ("origin", "http://localhost:5173"),
            ("access-control-request-method", "POST"),
        ],
        Bytes::new(),
    )
    .await;
    assert_eq!(plain.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn connect_streaming_reaches_the_grpc_services_with_an_end_of_stream() {
    use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

    let env = common::start_server().await;
    let request = HealthCheckRequest {
        service: SERVICE.to_owned(),
    };
    let answer = http(
        &env.running,
        Method::POST,
        "/grpc.health.v1.Health/Check",
        &[("content-type", "application/connect+proto")],
        frame(0, &request.encode_to_vec()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header("content-type"),
        Some("application/connect+proto")
    );
    let mut body = answer.body.clone();
    assert_eq!(body.get_u8(), 0);
    let len = body.get_u32() as usize;
    let message = body.split_to(len);
    let health = HealthCheckResponse::decode(message).unwrap();
    assert_eq!(health.status, 1, "SERVING");
    assert_eq!(body.get_u8(), 0x02, "end of stream");
    let len = body.get_u32() as usize;
    let end = body.split_to(len);
    assert_eq!(end.as_ref(), b"{}");
    assert!(!body.has_remaining());

    // An error is the end-of-stream envelope's `error`.
    let unknown = HealthCheckRequest {
        service: "no.such.Service".to_owned(),
    };
    let answer = http(
        &env.running,
        Method::POST,
        "/grpc.health.v1.Health/Check",
        &[("content-type", "application/connect+proto")],
        frame(0, &unknown.encode_to_vec()),
    )
    .await;
    let mut body = answer.body.clone();
    assert_eq!(body.get_u8(), 0x02);
    let len = body.get_u32() as usize;
    let end: Value = serde_json::from_slice(&body[..len]).unwrap();
    assert_eq!(end["error"]["code"], "not_found", "{end}");

    let json = http(
        &env.running,
        Method::POST,
        "/grpc.health.v1.Health/Check",
        &[("content-type", "application/connect+json")],
        "{}",
    )
    .await;
    assert_eq!(json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        json.header("accept-post"),
        Some("application/connect+proto")
    );
}

#[tokio::test]
async fn grpc_and_grpc_web_with_another_codec_are_a_clear_415() {
    let env = common::start_server().await;
    for content_type in ["application/grpc-web+json", "application/grpc+json"] {
        let answer = http(
            &env.running,
            Method::POST,
            &format!("/{SERVICE}/ListOrganizationInvites"),
            &[("content-type", content_type)],
            frame(0, b"{}"),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
        assert!(answer
            .header("accept-post")
            .unwrap()
            .contains("application/grpc-web+proto"));
    }
}

#[tokio::test]
async fn a_health_watch_sees_not_serving_and_ends_when_the_server_stops() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    let server = ReferenceServer::new();
    let running = server.start().await.unwrap();
    let channel = tonic::transport::Endpoint::from_shared(running.endpoint())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut watch = HealthClient::new(channel)
        .watch(HealthCheckRequest {
            service: SERVICE.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = watch.message().await.unwrap().unwrap();
    assert_eq!(first.status(), ServingStatus::Serving);

    // The stop must not wait for the watcher (a guard against a hang, not
    // a timing assertion).
    let stopping = tokio::spawn(running.shutdown());
    let stopped = async {
        let next = watch.message().await.unwrap().unwrap();
        assert_eq!(next.status(), ServingStatus::NotServing);
        assert!(watch.message().await.unwrap().is_none(), "the watch ends");
        stopping.await.unwrap();
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), stopped)
        .await
        .expect("the server stopped with a watcher connected");
}
