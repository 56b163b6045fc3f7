//! Connect's error responses mapped to [`Error`]: the error body when there
//! is one, else the HTTP status, and the wait that rate-limit headers ask
//! for. gRPC's mapping is in `error/grpc.rs`; this one lives next to its
//! protocol.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::HeaderMap;
use hyper::body::Incoming;

use super::body::{decompress, header_str, read_body};
use super::wire::{self, Codec};
use crate::error::{Code, Error, Status};

/// How much of an error response is read to look for a Connect error
/// body; the rest of a large error page is not needed.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// `X-RateLimit-Reset` values below this are read as seconds to wait
/// rather than Unix seconds (some servers send a delta).
const UNIX_SECONDS_FLOOR: u64 = 1_000_000_000;

/// The code a client infers from the HTTP status of a response that is not
/// a Connect error (a proxy's error page, an empty 503): the table of the
/// Connect specification, which follows gRPC's, plus 408, which Factify's
/// contract uses for `DEADLINE_EXCEEDED` (and which a proxy sends when a
/// request took too long).
pub(super) fn code_for_http_status(status: u16) -> Code {
    match status {
        408 => Code::DeadlineExceeded,
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 | 502 | 503 | 504 => Code::Unavailable,
        _ => Code::Unknown,
    }
}

/// The error of a non-200 response: from its Connect error body if it has
/// one, else from its HTTP status.
pub(super) async fn error_from_response(parts: http::response::Parts, body: Incoming) -> Error {
    let status = parts.status;
    let inferred = code_for_http_status(status.as_u16());
    // Only a JSON body can be a Connect error; an unreadable one is treated
    // as no body (the HTTP status still says what happened).
    let is_json = header_str(&parts.headers, &CONTENT_TYPE).and_then(Codec::from_content_type)
        == Some(Codec::Json);
    let parsed = match is_json {
        true => read_body(body, ERROR_BODY_LIMIT)
            .await
            .ok()
            .and_then(|bytes| decompress(&parts.headers, bytes, ERROR_BODY_LIMIT).ok())
            .and_then(|bytes| wire::parse_error_body(&bytes)),
        false => None,
    };
    let status = match parsed {
        Some(body) => Status::from_details(
            Code::from_connect_name(&body.code).unwrap_or(inferred),
            body.message,
            body.details,
            None,
        ),
        None => Status::from_details(
            inferred,
            format!("HTTP {status} without a Connect error body"),
            Vec::new(),
            None,
        ),
    };
    let status = match status.code() {
        Code::ResourceExhausted | Code::Unavailable => {
            status.retry_after_or(retry_after_from_headers(&parts.headers, SystemTime::now()))
        }
        _ => status,
    };
    Error::from_status(status)
}

/// The wait that rate-limit headers ask for: `X-RateLimit-Reset` (Unix
/// seconds, or seconds to wait when small), else `Retry-After` (seconds).
/// `None` without a usable header. The caller caps the wait (the client's
/// `max_retry_after`), as it does `RetryInfo`'s.
pub(super) fn retry_after_from_headers(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let number =
        |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let wait = if let Some(reset) = number("x-ratelimit-reset") {
        if reset >= UNIX_SECONDS_FLOOR {
            let now = now.duration_since(UNIX_EPOCH).ok()?;
            Duration::from_secs(reset).checked_sub(now)?
        } else {
            Duration::from_secs(reset)
        }
    } else {
        Duration::from_secs(number(RETRY_AFTER.as_str())?)
    };
    Some(wait)
}
