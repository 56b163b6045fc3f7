//! The reference server's Connect face: unary Connect requests
//! (`application/proto` or `application/json`, optionally gzipped, over
//! HTTP/1.1 or HTTP/2) dispatched into the same
//! [`OrganizationInviteService`] methods that gRPC reaches, so counting,
//! faults, authentication, rate limits and rules are shared.
//!
//! Answers the Connect way: `200` with the encoded response, or the HTTP
//! status of the error's code with a JSON error body whose `details` carry
//! the `ErrorDetail` (and `RetryInfo`) as base64 `value`s with a readable
//! `debug` copy. The status's metadata (`x-request-id`, `x-ratelimit-*`)
//! becomes response headers.
//!
//! Choices where the Connect specification leaves room: only `POST` (no
//! `GET` for side-effect-free methods); a missing `Connect-Protocol-Version`
//! is accepted (so a bare `curl` works), a wrong one is
//! `invalid_argument`; unknown JSON fields are `invalid_argument`; an
//! unknown method is a bare `404`; an unsupported content type a bare
//! `415`; request bodies over 4 MiB are `resource_exhausted`.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, ACCEPT_ENCODING, ALLOW, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use prost::Message;
use tonic::metadata::MetadataMap;

use crate::proto;
use crate::proto::organization_invite_service_server::OrganizationInviteService;
use crate::server::ReferenceServer;
use factify_invites::Code;
use factify_invites_proto::json::JsonMessage;
use factify_invites_proto::wire::{self, Codec, GunzipError};

/// A message of the contract as the Connect face carries it: protobuf
/// through prost, JSON through the contract crate's codec.
pub(crate) trait WireMessage:
    prost::Message + Default + JsonMessage + Send + Sync + 'static
{
}
impl<M> WireMessage for M where M: prost::Message + Default + JsonMessage + Send + Sync + 'static {}

/// The descriptors of the contract, decoded once: the `debug` rendering of
/// error details in Connect error bodies.
fn pool() -> Option<&'static prost_reflect::DescriptorPool> {
    static POOL: OnceLock<Option<prost_reflect::DescriptorPool>> = OnceLock::new();
    POOL.get_or_init(|| prost_reflect::DescriptorPool::decode(proto::FILE_DESCRIPTOR_SET).ok())
        .as_ref()
}

/// The JSON of an error detail, for the `debug` member of a Connect error
/// body; `None` for a type the contract does not describe.
pub(crate) fn detail_debug_json(any: &prost_types::Any) -> Option<serde_json::Value> {
    let name = any.type_url.rsplit('/').next()?;
    let descriptor = pool()?.get_message_by_name(name)?;
    let dynamic = prost_reflect::DynamicMessage::decode(descriptor, any.value.as_slice()).ok()?;
    serde_json::to_value(&dynamic).ok()
}

/// The largest request body accepted, after decompression.
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

type Body = tonic::body::Body;

/// Answers one Connect request.
pub(crate) async fn handle(server: ReferenceServer, request: Request<Incoming>) -> Response<Body> {
    let method = request
        .uri()
        .path()
        .strip_prefix('/')
        .and_then(|path| path.strip_prefix(wire::SERVICE))
        .and_then(|path| path.strip_prefix('/'))
        .unwrap_or_default()
        .to_owned();
    match method.as_str() {
        "CreateOrganizationInvite" => {
            unary(request, |r| async move {
                server.create_organization_invite(r).await
            })
            .await
        }
        "ListOrganizationInvites" => {
            unary(request, |r| async move {
                server.list_organization_invites(r).await
            })
            .await
        }
        "ResendOrganizationInvite" => {
            unary(request, |r| async move {
                server.resend_organization_invite(r).await
            })
            .await
        }
        "RevokeOrganizationInvite" => {
            unary(request, |r| async move {
                server.revoke_organization_invite(r).await
            })
            .await
        }
        "AcceptOrganizationInvite" => {
            unary(request, |r| async move {
                server.accept_organization_invite(r).await
            })
            .await
        }
        _ => bare(StatusCode::NOT_FOUND),
    }
}

/// One unary call: check the protocol headers, read and decode the body,
/// call the service under the client's deadline, encode the outcome.
async fn unary<Req, Resp, F, Fut>(request: Request<Incoming>, call: F) -> Response<Body>
where
    Req: WireMessage,
    Resp: WireMessage,
    F: FnOnce(tonic::Request<Req>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
{
    let (parts, body) = request.into_parts();
    if parts.method != http::Method::POST {
        let mut response = bare(StatusCode::METHOD_NOT_ALLOWED);
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let headers = &parts.headers;
    let Some(codec) = header_str(headers, CONTENT_TYPE.as_str()).and_then(Codec::from_content_type)
    else {
        let mut response = bare(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        response.headers_mut().insert(
            "accept-post",
            HeaderValue::from_static("application/json, application/proto"),
        );
        return response;
    };
    if let Some(version) = header_str(headers, wire::PROTOCOL_VERSION_HEADER) {
        if version != wire::PROTOCOL_VERSION {
            return error(
                Code::InvalidArgument,
                &format!("connect-protocol-version must be 1, got {version:?}"),
            );
        }
    }
    let deadline = match header_str(headers, wire::TIMEOUT_HEADER) {
        None => None,
        Some(value) => match wire::parse_timeout_ms(value) {
            Some(deadline) => Some(deadline),
            None => {
                return error(
                    Code::InvalidArgument,
                    &format!("connect-timeout-ms must be 1 to 10 digits, got {value:?}"),
                )
            }
        },
    };
    let gzipped = match header_str(headers, CONTENT_ENCODING.as_str()).map(str::trim) {
        None | Some("") | Some("identity") => false,
        Some(encoding) if encoding.eq_ignore_ascii_case("gzip") => true,
        Some(other) => {
            let mut response = error(
                Code::Unimplemented,
                &format!("content-encoding {other:?} is not supported: use gzip or identity"),
            );
            response
                .headers_mut()
                .insert("accept-encoding", HeaderValue::from_static("gzip"));
            return response;
        }
    };
    let respond_gzipped =
        header_str(headers, ACCEPT_ENCODING.as_str()).is_some_and(wire::accepts_gzip);

    let bytes = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.is::<LengthLimitError>() => return too_large(),
        Err(err) => {
            return error(
                Code::InvalidArgument,
                &format!("the request body could not be read: {err}"),
            )
        }
    };
    let bytes = if gzipped {
        match wire::gunzip(&bytes, MAX_REQUEST_BYTES) {
            Ok(bytes) => Bytes::from(bytes),
            Err(GunzipError::TooLarge) => return too_large(),
            Err(GunzipError::Corrupt(err)) => {
                return error(Code::InvalidArgument, &format!("invalid gzip body: {err}"))
            }
        }
    } else {
        bytes
    };
    let message: Req = match wire::decode(codec, &bytes) {
        Ok(message) => message,
        Err(err) => return error(Code::InvalidArgument, &format!("the request is {err}")),
    };

    // The headers become the call's metadata: `authorization` included.
    let request = tonic::Request::from_parts(
        MetadataMap::from_headers(parts.headers),
        http::Extensions::default(),
        message,
    );
    let outcome = match deadline {
        Some(deadline) => match tokio::time::timeout(deadline, call(request)).await {
            Ok(outcome) => outcome,
            Err(_) => return deadline_exceeded(deadline),
        },
        None => call(request).await,
    };
    match outcome {
        Ok(response) => success(codec, response, respond_gzipped),
        Err(status) => status_response(&status),
    }
}

/// `200` with the encoded response and the response metadata as headers.
fn success<Resp: WireMessage>(
    codec: Codec,
    response: tonic::Response<Resp>,
    gzipped: bool,
) -> Response<Body> {
    let (metadata, message, _) = response.into_parts();
    let mut body = match wire::encode(codec, &message) {
        Ok(body) => body,
        Err(err) => {
            return error(
                Code::Internal,
                &format!("encoding the response failed: {err}"),
            )
        }
    };
    let mut headers = metadata.into_headers();
    if gzipped {
        if let Ok(packed) = wire::gzip(&body) {
            body = packed;
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(codec.content_type()));
    let mut response = Response::new(Body::new(Full::new(Bytes::from(body))));
    *response.headers_mut() = headers;
    response
}

/// A service error as a Connect error: the code's HTTP status, the JSON
/// error body with the status's details, and its metadata as headers.
fn status_response(status: &tonic::Status) -> Response<Body> {
    let code = Code::from(status.code());
    let details = proto::google::rpc::Status::decode(status.details())
        .map(|rpc| rpc.details)
        .unwrap_or_default();
    let mut response = json_error(code, status.message(), &details);
    let mut headers = status.metadata().clone().into_headers();
    headers.extend(std::mem::take(response.headers_mut()));
    *response.headers_mut() = headers;
    response
}

fn deadline_exceeded(deadline: Duration) -> Response<Body> {
    error(
        Code::DeadlineExceeded,
        &format!("the call did not complete within its deadline of {deadline:?}"),
    )
}

fn too_large() -> Response<Body> {
    error(
        Code::ResourceExhausted,
        &format!("the request body is larger than {MAX_REQUEST_BYTES} bytes"),
    )
}

/// A Connect error without details.
fn error(code: Code, message: &str) -> Response<Body> {
    json_error(code, message, &[])
}

fn json_error(code: Code, message: &str, details: &[prost_types::Any]) -> Response<Body> {
    let body = wire::error_body(code.as_str(), message, details, detail_debug_json);
    let mut response = Response::new(Body::new(Full::new(Bytes::from(body))));
    *response.status_mut() =
        StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(wire::JSON_CONTENT_TYPE),
    );
    response
}

/// A status with no body, for requests that are not Connect calls.
fn bare(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}
