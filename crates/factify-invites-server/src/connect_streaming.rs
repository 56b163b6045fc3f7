//! Connect streaming calls (`application/connect+proto`) to the gRPC
//! services that stream: server reflection (what `buf curl` uses by
//! default, over Connect) and health's `Watch`. The API's own methods are
//! unary and served by [`super::connect`].
//!
//! Connect's streaming envelopes are gRPC's length-prefixed frames, so a
//! call is bridged rather than reimplemented: the request goes to the gRPC
//! services with its content type and deadline (`connect-timeout-ms`)
//! rewritten, and the answer's messages pass through; its gRPC status
//! (trailers, or headers for a trailers-only answer) becomes Connect's
//! end-of-stream envelope (flag `0x02`, a JSON `{"error": ...}` or `{}`).
//! Only the binary codec is served: `application/connect+json` is answered
//! `415` with `Accept-Post`.

use bytes::{BufMut, Bytes, BytesMut};
use futures::stream;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use prost::Message;

use crate::proto;
use factify_invites::Code;
use factify_invites_proto::wire;

type Body = tonic::body::Body;

/// The one content type served.
const CONTENT_TYPE_PROTO: &str = "application/connect+proto";
/// The flag of Connect's end-of-stream envelope.
const END_STREAM: u8 = 0x02;

/// Whether `content_type` is a Connect streaming one.
pub(crate) fn is_connect_streaming(content_type: &[u8]) -> bool {
    content_type.starts_with(b"application/connect+")
}

/// Translates one Connect streaming request for `call` (the gRPC services
/// under the deadline) and its answer back.
pub(crate) async fn handle<F, Fut>(request: Request<Incoming>, call: F) -> Response<Body>
where
    F: FnOnce(Request<Incoming>) -> Fut,
    Fut: std::future::Future<Output = Response<Body>>,
{
    let (mut parts, body) = request.into_parts();
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if content_type != CONTENT_TYPE_PROTO {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        response
            .headers_mut()
            .insert("accept-post", HeaderValue::from_static(CONTENT_TYPE_PROTO));
        return response;
    }
    if parts.method != http::Method::POST {
        return end_with(&tonic::Status::unimplemented(
            "Connect streaming calls are POST requests",
        ));
    }
    let headers = &mut parts.headers;
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/grpc+proto"),
    );
    headers.insert("te", HeaderValue::from_static("trailers"));
    if let Some(timeout) = headers.remove(wire::TIMEOUT_HEADER) {
        match timeout.to_str().ok().and_then(wire::parse_timeout_ms) {
            Some(deadline) => {
                let value = grpc_timeout(deadline);
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert("grpc-timeout", value);
                }
            }
            None => {
                return end_with(&tonic::Status::invalid_argument(format!(
                    "connect-timeout-ms must be 1 to 10 digits, got {timeout:?}"
                )))
            }
        }
    }
    for (connect, grpc) in [
        ("connect-content-encoding", "grpc-encoding"),
        ("connect-accept-encoding", "grpc-accept-encoding"),
    ] {
        if let Some(value) = headers.remove(connect) {
            headers.insert(grpc, value);
        }
    }

    let response = call(Request::from_parts(parts, body)).await;
    let (mut parts, body) = response.into_parts();
    // A trailers-only answer: the status is in the headers.
    let early = tonic::Status::from_header_map(&parts.headers);
    for name in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
        parts.headers.remove(name);
    }
    parts.status = StatusCode::OK;
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_PROTO));
    if let Some(status) = early {
        return Response::from_parts(parts, Body::new(end_stream(&status)));
    }
    let frames = stream::unfold(Some(body), |body| async move {
        let mut body = body?;
        let end = match body.frame().await {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => return Some((Ok::<_, tonic::Status>(Frame::data(data)), Some(body))),
                Err(frame) => {
                    let trailers = frame.into_trailers().unwrap_or_default();
                    status_of(&trailers)
                }
            },
            Some(Err(status)) => status,
            None => tonic::Status::internal("the answer ended without a gRPC status"),
        };
        Some((Ok(Frame::data(end_envelope(&end))), None))
    });
    Response::from_parts(parts, Body::new(StreamBody::new(frames)))
}

/// The status in gRPC trailers; a missing one is an internal error.
fn status_of(trailers: &HeaderMap) -> tonic::Status {
    tonic::Status::from_header_map(trailers)
        .unwrap_or_else(|| tonic::Status::internal("the answer's trailers hold no gRPC status"))
}

/// A whole answer that is only an end-of-stream envelope.
fn end_with(status: &tonic::Status) -> Response<Body> {
    let mut response = Response::new(Body::new(end_stream(status)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_PROTO));
    response
}

fn end_stream(status: &tonic::Status) -> http_body_util::Full<Bytes> {
    http_body_util::Full::new(end_envelope(status))
}

/// Connect's end-of-stream envelope for `status`: `{}` for OK, else
/// `{"error": {"code", "message", "details"}}`.
fn end_envelope(status: &tonic::Status) -> Bytes {
    let json = if status.code() == tonic::Code::Ok {
        b"{}".to_vec()
    } else {
        let details = proto::google::rpc::Status::decode(status.details())
            .map(|rpc| rpc.details)
            .unwrap_or_default();
        let error = wire::error_body(
            Code::from(status.code()).as_str(),
            status.message(),
            &details,
            super::connect::detail_debug_json,
        );
        let mut json = b"{\"error\":".to_vec();
        json.extend_from_slice(&error);
        json.push(b'}');
        json
    };
    let mut envelope = BytesMut::with_capacity(5 + json.len());
    envelope.put_u8(END_STREAM);
    envelope.put_u32(u32::try_from(json.len()).unwrap_or(u32::MAX));
    envelope.put_slice(&json);
    envelope.freeze()
}

/// A `grpc-timeout` value for `deadline`: milliseconds when they fit the
/// header's 8 digits, else seconds.
fn grpc_timeout(deadline: std::time::Duration) -> String {
    let millis = deadline.as_millis();
    if millis <= 99_999_999 {
        format!("{millis}m")
    } else {
        format!("{}S", deadline.as_secs().min(99_999_999))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_envelopes_carry_the_status_as_connect_json() {
        let ok = end_envelope(&tonic::Status::ok(""));
        assert_eq!(ok.as_ref(), b"\x02\x00\x00\x00\x02{}");
        let failed = end_envelope(&tonic::Status::not_found("no such file"));
        assert_eq!(failed[0], END_STREAM);
        let json: serde_json::Value = serde_json::from_slice(&failed[5..]).unwrap();
        assert_eq!(json["error"]["code"], "not_found");
        assert_eq!(json["error"]["message"], "no such file");
        assert_eq!(
            u32::from_be_bytes(failed[1..5].try_into().unwrap()) as usize,
            failed.len() - 5
        );
    }

    #[test]
    fn deadlines_fit_the_grpc_timeout_header() {
        use std::time::Duration;
        assert_eq!(grpc_timeout(Duration::from_millis(1500)), "1500m");
        assert_eq!(
            grpc_timeout(Duration::from_millis(9_999_999_999)),
            "9999999S"
        );
    }
}
