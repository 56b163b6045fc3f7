//! The emulator's admin surface: plain HTTP and JSON under `/admin/v1/`, on
//! the same port as the API, for tests in any language (curl, Python's
//! `urllib`, `fetch`). Like the Firebase Auth emulator's out-of-band codes
//! and Stripe's test clocks, it lets a test read what the server "sent" and
//! move time, without a Rust harness.
//!
//! | request | answer |
//! |---|---|
//! | `GET /admin/v1/emails` (`?to=`, `?organization_id=`, `?invite_id=`) | `{"emails": [...]}`, oldest first |
//! | `GET /admin/v1/clock` | `{"now": "<RFC 3339>", "shiftSeconds": n}` |
//! | `POST /admin/v1/clock` with `{"advanceSeconds": n}` or `{"now": "<RFC 3339>"}` | the clock as by `GET` |
//! | `POST /admin/v1/reset` | `{"now": ...}` after returning to the seed |
//!
//! The clock stays between 1970 and the end of year 9999 (what IDs and
//! protobuf's JSON timestamps can hold); a move outside is refused.
//!
//! Each email is `{"to", "organizationId", "inviteId", "token", "kind"
//! ("invitation" or "resend"), "sentAt"}`. `to` compares
//! case-insensitively; a `+` in a query stays a `+` (emails hold no spaces),
//! other bytes may be percent-encoded. Errors are
//! `{"error": "<message naming the field>"}` with status 400, 404 (unknown
//! path), 405 (wrong method, with `Allow`) or 501 (reset without the
//! `persist` feature). There is no authentication: the admin surface is for
//! an emulator on a test machine, like the API keys it serves.

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::{json, Map, Value};

use super::types::{EmailKind, SentEmail};
use crate::server::ReferenceServer;

/// The path prefix of the admin surface.
pub(crate) const PREFIX: &str = "/admin/";

/// The largest admin request body read.
const MAX_BODY_BYTES: usize = 64 * 1024;

type Body = tonic::body::Body;

/// Answers one request under [`PREFIX`].
pub(crate) async fn handle(server: ReferenceServer, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let method = request.method().clone();
    match path.trim_end_matches('/') {
        "/admin/v1/emails" => match method {
            Method::GET => emails(&server, &query),
            _ => not_allowed("GET"),
        },
        "/admin/v1/clock" => match method {
            Method::GET => json_response(StatusCode::OK, clock_json(&server)),
            Method::POST => match read_json(request).await {
                Ok(body) => set_clock(&server, &body),
                Err(response) => response,
            },
            _ => not_allowed("GET, POST"),
        },
        "/admin/v1/reset" => match method {
            Method::POST => reset(&server),
            _ => not_allowed("POST"),
        },
        _ => error(
            StatusCode::NOT_FOUND,
            format!(
                "no admin endpoint {path}; there are /admin/v1/emails, /admin/v1/clock and /admin/v1/reset"
            ),
        ),
    }
}

fn emails(server: &ReferenceServer, query: &str) -> Response<Body> {
    let mut to = None;
    let mut organization = None;
    let mut invite = None;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(value) = percent_decode(value) else {
            return error(
                StatusCode::BAD_REQUEST,
                format!("query parameter {name}: malformed percent-encoding"),
            );
        };
        match name {
            "to" => to = Some(value.to_lowercase()),
            "organization_id" => organization = Some(value),
            "invite_id" => invite = Some(value),
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "unknown query parameter {name:?}; filters are to, organization_id and invite_id"
                    ),
                )
            }
        }
    }
    let matching: Vec<Value> = server
        .sent_emails()
        .iter()
        .filter(|email| to.as_ref().is_none_or(|to| email.to.to_lowercase() == *to))
        .filter(|email| {
            organization
                .as_ref()
                .is_none_or(|org| email.organization_id.as_str() == org)
        })
        .filter(|email| {
            invite
                .as_ref()
                .is_none_or(|id| email.invite_id.as_str() == id)
        })
        .map(email_json)
        .collect();
    json_response(StatusCode::OK, json!({ "emails": matching }))
}

fn email_json(email: &SentEmail) -> Value {
    json!({
        "to": email.to,
        "organizationId": email.organization_id.as_str(),
        "inviteId": email.invite_id.as_str(),
        "token": email.token,
        "kind": match email.kind {
            EmailKind::Invitation => "invitation",
            EmailKind::Resend => "resend",
        },
        "sentAt": rfc3339(email.sent_at),
    })
}

fn clock_json(server: &ReferenceServer) -> Value {
    json!({
        "now": rfc3339(server.now()),
        "shiftSeconds": server.time_shift().num_seconds(),
    })
}

/// `{"advanceSeconds": n}` (an integer, negative goes back) or
/// `{"now": "<RFC 3339>"}`: exactly one.
fn set_clock(server: &ReferenceServer, body: &Map<String, Value>) -> Response<Body> {
    if let Some(name) = body
        .keys()
        .find(|name| !matches!(name.as_str(), "advanceSeconds" | "now"))
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("unknown field {name:?}; give advanceSeconds or now"),
        );
    }
    match (body.get("advanceSeconds"), body.get("now")) {
        (Some(seconds), None) => {
            let target = seconds
                .as_i64()
                .and_then(TimeDelta::try_seconds)
                .and_then(|by| server.now().checked_add_signed(by).map(|to| (by, to)));
            match target {
                Some((by, to)) if in_range(to) => server.advance_time(by),
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "advanceSeconds: {seconds} is not a whole number of seconds that \
                             keeps the clock between {MIN_TIME} and {MAX_TIME}"
                        ),
                    )
                }
            }
        }
        (None, Some(now)) => {
            let time = now
                .as_str()
                .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
                .map(|time| time.with_timezone(&Utc));
            match time {
                Some(time) if in_range(time) => server.set_time(time),
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "now: {now} is not an RFC 3339 time between {MIN_TIME} and {MAX_TIME}, \
                             such as \"2030-01-01T00:00:00Z\""
                        ),
                    )
                }
            }
        }
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "give exactly one of advanceSeconds and now".to_owned(),
            )
        }
    }
    tracing::info!(now = %rfc3339(server.now()), "admin: the clock was moved");
    json_response(StatusCode::OK, clock_json(server))
}

#[cfg(feature = "persist")]
fn reset(server: &ReferenceServer) -> Response<Body> {
    match server.reset_to_seed() {
        Ok(()) => {
            tracing::info!("admin: reset to the seed");
            json_response(StatusCode::OK, clock_json(server))
        }
        Err(message) => error(StatusCode::SERVICE_UNAVAILABLE, message),
    }
}

#[cfg(not(feature = "persist"))]
fn reset(_: &ReferenceServer) -> Response<Body> {
    error(
        StatusCode::NOT_IMPLEMENTED,
        "reset needs the crate feature `persist`".to_owned(),
    )
}

/// Reads a JSON object body, or the error response to answer.
async fn read_json(request: Request<Incoming>) -> Result<Map<String, Value>, Response<Body>> {
    let bytes = match Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(err) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!("could not read the request body: {err}"),
            ))
        }
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object".to_owned(),
        )),
        Err(err) => Err(error(
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {err}"),
        )),
    }
}

/// Decodes `%XX` escapes; `+` stays `+`. `None` for a bad escape or bytes
/// that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let hex = bytes.get(index + 1..index + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(byte);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The clock's range through the admin surface: IDs hold milliseconds
/// since 1970, and protobuf's JSON timestamps end with year 9999.
const MIN_TIME: &str = "1970-01-01T00:00:00Z";
const MAX_TIME: &str = "9999-12-31T23:59:59Z";

fn in_range(time: DateTime<Utc>) -> bool {
    let bound = |text: &str| DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc));
    matches!((bound(MIN_TIME), bound(MAX_TIME)), (Ok(min), Ok(max)) if (min..=max).contains(&time))
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn json_response(status: StatusCode, value: Value) -> Response<Body> {
    let mut response = Response::new(Body::new(Full::new(Bytes::from(value.to_string()))));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error(status: StatusCode, message: String) -> Response<Body> {
    json_response(status, json!({ "error": message }))
}

fn not_allowed(allow: &'static str) -> Response<Body> {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("this admin endpoint answers {allow}"),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_plus_and_refuses_bad_escapes() {
        assert_eq!(
            percent_decode("a+b%40example.com").as_deref(),
            Some("a+b@example.com")
        );
        assert_eq!(percent_decode("%2B").as_deref(), Some("+"));
        for bad in ["%", "%4", "%zz", "%ff"] {
            assert_eq!(percent_decode(bad), None, "{bad}");
        }
    }
}
