//! A server that breaks the contract, or a newer one: the client answers
//! with `InvalidResponse` naming the field, never a panic or an invented
//! default, accepts enum values and IDs it does not know, and when a
//! creation's answer cannot be read, says that the invitation may exist and
//! gives the idempotency key to repeat the call with.
//!
//! The server here is a tiny hyper server on `127.0.0.1:0` that speaks
//! gRPC, Connect+proto and Connect+JSON (chosen by each request's content
//! type), answers every call with a canned invitation which each test
//! breaks in its own way, and records the idempotency keys it was sent.
//! Every test runs over each protocol.

mod common;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use common::each_protocol;
use factify_invites::proto;
use factify_invites::{Client, Error, InviteStatus, UnknownValue, UserType};
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;
use serde_json::{json, Map, Value};

/// The idempotency keys of the creations a stub server received.
type SeenKeys = Arc<Mutex<Vec<String>>>;

/// The method a request path names.
fn method_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

fn timestamp_json(at: &prost_types::Timestamp) -> Value {
    let at = chrono::DateTime::from_timestamp(at.seconds, at.nanos as u32).unwrap();
    json!(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// An enum value in the canonical JSON mapping: its name when this version
/// knows it, its number otherwise.
fn enum_json(name: Option<&str>, value: i32) -> Value {
    name.map_or(json!(value), |name| json!(name))
}

fn user_json(user: &proto::User) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(user.id));
    let kind = proto::UserType::try_from(user.r#type).ok();
    out.insert(
        "type".into(),
        enum_json(kind.map(|k| k.as_str_name()), user.r#type),
    );
    out.insert("name".into(), json!(user.name));
    if !user.email.is_empty() {
        out.insert("email".into(), json!(user.email));
    }
    Value::Object(out)
}

/// `invite` in the canonical proto3 JSON mapping (defaults left out).
fn invite_json(invite: &proto::OrganizationInvite) -> Value {
    let mut out = Map::new();
    for (name, value) in [
        ("id", &invite.id),
        ("organizationId", &invite.organization_id),
        ("email", &invite.email),
    ] {
        if !value.is_empty() {
            out.insert(name.into(), json!(value));
        }
    }
    if invite.status != 0 {
        let status = proto::OrganizationInviteStatus::try_from(invite.status).ok();
        out.insert(
            "status".into(),
            enum_json(status.map(|s| s.as_str_name()), invite.status),
        );
    }
    if let Some(sender) = &invite.sender {
        out.insert("sender".into(), user_json(sender));
    }
    for (name, value) in [
        ("createdAt", &invite.created_at),
        ("expiresAt", &invite.expires_at),
        ("acceptedAt", &invite.accepted_at),
    ] {
        if let Some(at) = value {
            out.insert(name.into(), timestamp_json(at));
        }
    }
    if let Some(by) = &invite.accepted_by {
        out.insert("acceptedBy".into(), user_json(by));
    }
    Value::Object(out)
}

/// The answer to `method`, as protobuf bytes and as JSON.
fn answer(method: &str, invite: &proto::OrganizationInvite) -> (Vec<u8>, Value) {
    match method {
        "ListOrganizationInvites" => {
            let items = vec![common::valid_wire_invite(), invite.clone()];
            let json = json!({
                "items": items.iter().map(invite_json).collect::<Vec<_>>(),
                "pagination": {},
            });
            let wire = proto::ListOrganizationInvitesResponse {
                items,
                pagination: Some(proto::Pagination::default()),
            };
            (wire.encode_to_vec(), json)
        }
        // A resend answered with no invitation at all.
        "ResendOrganizationInvite" => (
            proto::ResendOrganizationInviteResponse { invite: None }.encode_to_vec(),
            json!({}),
        ),
        // An organization without its required `created_at`.
        "AcceptOrganizationInvite" => {
            let id = "org_01h2xcejqtf2nbrexx3vqjhp41";
            let wire = proto::AcceptOrganizationInviteResponse {
                organization: Some(proto::Organization {
                    id: id.into(),
                    ..Default::default()
                }),
            };
            (
                wire.encode_to_vec(),
                json!({ "organization": { "id": id } }),
            )
        }
        // Create and revoke answer with the invitation.
        _ => (
            proto::CreateOrganizationInviteResponse {
                invite: Some(invite.clone()),
            }
            .encode_to_vec(),
            json!({ "invite": invite_json(invite) }),
        ),
    }
}

/// The idempotency key of a create request's body in `content_type`.
fn idempotency_key_of(content_type: &str, body: &[u8]) -> Option<String> {
    if content_type.starts_with("application/json") {
        let value: Value = serde_json::from_slice(body).ok()?;
        return value["idempotencyKey"].as_str().map(str::to_owned);
    }
    let message = if content_type.starts_with("application/grpc") {
        body.get(5..)?
    } else {
        body
    };
    proto::CreateOrganizationInviteRequest::decode(message)
        .ok()?
        .idempotency_key
}

type Body = BoxBody<Bytes, Infallible>;

/// The response to one request, in the protocol of its content type.
fn respond(
    content_type: &str,
    method: &str,
    invite: &proto::OrganizationInvite,
) -> http::Response<Body> {
    let (wire, json) = answer(method, invite);
    let response = http::Response::builder().status(200);
    if content_type.starts_with("application/grpc") {
        let mut frame = BytesMut::with_capacity(5 + wire.len());
        frame.put_u8(0);
        frame.put_u32(wire.len() as u32);
        frame.put_slice(&wire);
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", "0".parse().unwrap());
        let frames = vec![
            Ok::<_, Infallible>(Frame::data(frame.freeze())),
            Ok(Frame::trailers(trailers)),
        ];
        let body = StreamBody::new(futures::stream::iter(frames));
        response
            .header("content-type", "application/grpc")
            .body(body.boxed())
            .unwrap()
    } else if content_type.starts_with("application/json") {
        response
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(json.to_string())).boxed())
            .unwrap()
    } else {
        response
            .header("content-type", "application/proto")
            .body(Full::new(Bytes::from(wire)).boxed())
            .unwrap()
    }
}

/// Serves `invite` for every call on a fresh loopback port, in whichever
/// protocol each request speaks; returns a client in the test's protocol
/// and the idempotency keys of the creations received.
async fn serve(invite: proto::OrganizationInvite) -> (Client, SeenKeys) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = SeenKeys::default();
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let invite = invite.clone();
            let record = record.clone();
            let service =
                hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let invite = invite.clone();
                    let record = record.clone();
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let content_type = parts
                            .headers
                            .get("content-type")
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        let method = method_of(parts.uri.path());
                        if method == "CreateOrganizationInvite" {
                            if let Some(key) = idempotency_key_of(&content_type, &body) {
                                record.lock().unwrap().push(key);
                            }
                        }
                        Ok::<_, Infallible>(respond(&content_type, method, &invite))
                    }
                });
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let client = common::builder(&format!("http://{addr}"))
        .api_key("ffy_test")
        .connect()
        .await
        .unwrap();
    (client, seen)
}

const ORG: &str = "org_01h2xcejqtf2nbrexx3vqjhp41";
const INVITE: &str = "inv_01h2xcejqtf2nbrexx3vqjhp42";

each_protocol!(
    a_missing_required_field_is_an_invalid_response,
    a_missing_sender_name_or_organization_field_is_named,
    an_unusable_id_from_the_server_is_an_invalid_response,
    unknown_enum_values_are_accepted,
    ids_of_a_newer_server_are_accepted,
    an_unreadable_creation_carries_its_idempotency_key,
);

fn field_of<T: std::fmt::Debug>(result: factify_invites::Result<T>) -> String {
    match result {
        Err(Error::InvalidResponse { field, .. }) => field,
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
}

async fn a_missing_required_field_is_an_invalid_response() {
    let mut invite = common::valid_wire_invite();
    invite.created_at = None;
    let (client, _) = serve(invite).await;
    assert_eq!(
        field_of(client.create_invite(ORG, "ada@example.com").await),
        "invite.created_at"
    );
    assert_eq!(
        field_of(client.revoke_invite(ORG, INVITE).await),
        "invite.created_at"
    );
    // In a list, the path says which item.
    assert_eq!(
        field_of(client.list_invites(ORG).await),
        "items[1].created_at"
    );
}

async fn a_missing_sender_name_or_organization_field_is_named() {
    let mut invite = common::valid_wire_invite();
    invite.sender.as_mut().unwrap().name.clear();
    let (client, _) = serve(invite).await;
    assert_eq!(
        field_of(client.create_invite(ORG, "ada@example.com").await),
        "invite.sender.name"
    );
    assert_eq!(
        field_of(client.resend_invite(ORG, INVITE).await),
        "response.invite"
    );
    assert_eq!(
        field_of(client.accept_invite(ORG, "t").await),
        "organization.created_at"
    );
}

async fn an_unusable_id_from_the_server_is_an_invalid_response() {
    // Not an ID at all: whitespace and a control character.
    let mut invite = common::valid_wire_invite();
    invite.id = "inv 1\u{7}".into();
    let (client, _) = serve(invite).await;
    let err = client
        .create_invite(ORG, "ada@example.com")
        .await
        .unwrap_err();
    assert_eq!(err.param(), Some("invite.id"));
    assert!(err.to_string().contains("invalid response"), "{err}");
    // Bounded: a server cannot make IDs of any length.
    let mut invite = common::valid_wire_invite();
    invite.sender.as_mut().unwrap().id = format!("user_{}", "0".repeat(300));
    let (client, _) = serve(invite).await;
    assert_eq!(
        field_of(client.revoke_invite(ORG, INVITE).await),
        "invite.sender.id"
    );
}

async fn unknown_enum_values_are_accepted() {
    let mut invite = common::valid_wire_invite();
    invite.status = 17;
    invite.sender.as_mut().unwrap().r#type = 5;
    let (client, _) = serve(invite).await;
    let created = client.create_invite(ORG, "ada@example.com").await.unwrap();
    assert_eq!(
        created.status,
        InviteStatus::Unknown(UnknownValue::number(17))
    );
    assert_eq!(
        created.sender.user_type,
        UserType::Unknown(UnknownValue::number(5))
    );
}

/// A newer server with a third kind of account (`bot_`) and IDs of another
/// shape: every call that mentions them still succeeds, and the IDs are kept
/// as sent (so they can be passed back).
async fn ids_of_a_newer_server_are_accepted() {
    let mut invite = common::valid_wire_invite();
    invite.sender.as_mut().unwrap().id = "bot_01h2xcejqtf2nbrexx3vqjhp40".into();
    invite.id = "inv_2026-v2-0000000000000000000000000000".into();
    let (client, _) = serve(invite).await;
    let created = client.create_invite(ORG, "ada@example.com").await.unwrap();
    assert_eq!(created.sender.id.as_str(), "bot_01h2xcejqtf2nbrexx3vqjhp40");
    assert_eq!(created.sender.id.prefix(), "bot");
    assert_eq!(
        created.id.as_str(),
        "inv_2026-v2-0000000000000000000000000000"
    );
    let page = client.list_invites(ORG).send().await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[1].sender.id, created.sender.id);
    // The ID read from the server can be passed back as it is.
    client.revoke_invite(ORG, &created.id).await.unwrap();
    // The caller's own input is still checked strictly.
    let err = client
        .list_invites(ORG)
        .sender("bot_01h2xcejqtf2nbrexx3vqjhp40")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidRequest {
                field: "sender_id",
                ..
            }
        ),
        "{err:?}"
    );
}

/// The server created the invitation but its answer cannot be read: the
/// error says the invitation may exist, and carries the key that was sent,
/// the caller's own or the generated one.
async fn an_unreadable_creation_carries_its_idempotency_key() {
    let mut invite = common::valid_wire_invite();
    invite.created_at = None;
    let (client, seen) = serve(invite).await;

    let err = client
        .create_invite(ORG, "ada@example.com")
        .await
        .unwrap_err();
    let generated = seen
        .lock()
        .unwrap()
        .last()
        .cloned()
        .expect("a key was sent");
    assert_eq!(err.idempotency_key(), Some(generated.as_str()));
    let message = err.to_string();
    assert!(message.contains("may have been created"), "{message}");
    assert!(message.contains("idempotency key"), "{message}");

    let err = client
        .create_invite(ORG, "ada@example.com")
        .idempotency_key("onboarding-ada")
        .await
        .unwrap_err();
    assert_eq!(err.idempotency_key(), Some("onboarding-ada"));
    assert_eq!(
        seen.lock().unwrap().last().map(String::as_str),
        Some("onboarding-ada")
    );

    // Other methods have no key, and say nothing of one.
    let err = client.revoke_invite(ORG, INVITE).await.unwrap_err();
    assert_eq!(err.idempotency_key(), None);
    assert!(!err.to_string().contains("may have been created"), "{err}");
}
