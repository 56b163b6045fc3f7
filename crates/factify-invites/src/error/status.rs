//! [`Status`]: what a failed call's status said (code, message,
//! details, retry delay), and what the client recorded about the call.

use std::fmt;
use std::time::Duration;

use prost::Message;

use crate::proto;

use super::code::{Code, Reason};
use super::detail::{ErrorDetail, ERROR_DETAIL_TYPE_URL, RETRY_INFO_TYPE_URL};

/// What a failed call's status said: code, message and details.
///
/// Every service-error variant of [`Error`](super::Error) carries one.
#[derive(Debug)]
pub struct Status {
    pub(super) code: Code,
    pub(super) message: String,
    pub(super) details: Vec<ErrorDetail>,
    pub(super) retry_after: Option<Duration>,
    pub(super) local: bool,
    /// Boxed, and only for errors of a call: keeps `Error` small.
    pub(super) call: Option<Box<CallRecord>>,
    pub(super) idempotency_key: Option<Box<str>>,
    pub(super) source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// What the client recorded about the call an error ended, so that the
/// error can answer questions only the call knows: whether repeating it is
/// safe, and where a listing resumes.
#[derive(Debug, Clone, Default)]
pub(super) struct CallRecord {
    /// Whether the call may be repeated even after the server acted (a
    /// read, or a create with its idempotency key). `false` when unknown,
    /// such as for an error made outside a call: the safe answer.
    pub(super) idempotent: bool,
    /// For an error a listing stream ended with: the page token to resume
    /// from.
    pub(super) resume_token: Option<Box<str>>,
}

/// The marker this crate's gRPC codec puts under a response it could not
/// decode: the failure is the client's verdict on the server's bytes, told
/// apart by type from a status the server sent.
#[derive(Debug)]
pub(crate) struct UndecodableResponse(pub(crate) String);

impl fmt::Display for UndecodableResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "undecodable response: {}", self.0)
    }
}

impl std::error::Error for UndecodableResponse {}

impl Status {
    /// A status with no details, for errors the client produces itself
    /// (such as its own deadline).
    pub(crate) fn local(code: Code, message: impl Into<String>) -> Status {
        Status {
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
            local: true,
            call: None,
            idempotency_key: None,
            source: None,
        }
    }

    /// Sets the error that led to this one, reachable as `source()`.
    pub(crate) fn caused_by(
        mut self,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Status {
        self.source = Some(cause.into());
        self
    }

    /// Whether the client made this status itself (its own deadline, say)
    /// rather than receiving it from the server.
    pub fn is_local(&self) -> bool {
        self.local
    }

    /// A status from its parts as a server sent them; `details` is an encoded
    /// `google.rpc.Status` (as in `grpc-status-details-bin`), whose
    /// `ErrorDetail`s and `RetryInfo` are read. Undecodable details are
    /// dropped rather than failing: the code and message still stand.
    pub(crate) fn from_parts(
        code: Code,
        message: impl Into<String>,
        details: &[u8],
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Status {
        let details = proto::google::rpc::Status::decode(details)
            .map(|rpc| rpc.details)
            .unwrap_or_default();
        Status::from_details(code, message, details, source)
    }

    /// A status from its parts as a server sent them, with the details
    /// already unpacked into `Any`s (as in a Connect error body).
    pub(crate) fn from_details(
        code: Code,
        message: impl Into<String>,
        details: impl IntoIterator<Item = prost_types::Any>,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Status {
        let mut status = Status::local(code, message);
        status.local = false;
        status.source = source;
        status.add_details(details);
        status
    }

    /// Sets the wait before retrying when the details carried none (the
    /// Connect transport reads it from `X-RateLimit-Reset` then).
    #[cfg_attr(not(feature = "connect"), allow(dead_code))]
    pub(crate) fn retry_after_or(mut self, delay: Option<Duration>) -> Status {
        if self.retry_after.is_none() {
            self.retry_after = delay;
        }
        self
    }

    /// Reads the `ErrorDetail`s and `RetryInfo` among `details`, skipping
    /// types this crate does not know and values that do not decode.
    pub(crate) fn add_details(&mut self, details: impl IntoIterator<Item = prost_types::Any>) {
        for any in details {
            match any.type_url.as_str() {
                ERROR_DETAIL_TYPE_URL => {
                    if let Ok(detail) = proto::ErrorDetail::decode(any.value.as_slice()) {
                        self.details.push(ErrorDetail::from_wire(detail));
                    }
                }
                RETRY_INFO_TYPE_URL => {
                    self.retry_after = proto::google::rpc::RetryInfo::decode(any.value.as_slice())
                        .ok()
                        .and_then(|info| info.retry_delay)
                        .and_then(non_negative_duration);
                }
                _ => {}
            }
        }
    }

    /// A refusal by the client itself while the server's rate limit (or the
    /// client's own) holds calls back: `RESOURCE_EXHAUSTED` with reason
    /// `rate_limit_exceeded` and `retry_after` the wait still left.
    pub(crate) fn local_rate_limit(message: impl Into<String>, retry_after: Duration) -> Status {
        let mut status = Status::local(Code::ResourceExhausted, message);
        status.details.push(ErrorDetail {
            reason: Reason::RateLimitExceeded,
            request_id: String::new(),
            param: String::new(),
        });
        status.retry_after = Some(retry_after);
        status
    }

    /// The status code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The server's message, meant for developers.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Every `ErrorDetail` the server attached, in order.
    pub fn details(&self) -> &[ErrorDetail] {
        &self.details
    }

    /// The first detail's reason, if the server sent one.
    pub fn reason(&self) -> Option<&Reason> {
        self.details.first().map(|detail| &detail.reason)
    }

    /// The server's request ID (`req_...`), if it sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.details
            .iter()
            .map(|detail| detail.request_id.as_str())
            .find(|id| !id.is_empty())
    }

    /// The request field at fault, for validation errors.
    pub fn param(&self) -> Option<&str> {
        self.details
            .iter()
            .map(|detail| detail.param.as_str())
            .find(|param| !param.is_empty())
    }

    /// How long the server asked to wait before retrying (`RetryInfo`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        match (self.reason(), self.request_id()) {
            (Some(reason), Some(id)) => write!(f, " (reason: {reason}, request_id: {id})"),
            (Some(reason), None) => write!(f, " (reason: {reason})"),
            (None, Some(id)) => write!(f, " (request_id: {id})"),
            (None, None) => Ok(()),
        }?;
        f.write_str(may_exist_hint(self.idempotency_key.as_deref()))
    }
}

/// What an error of a creation whose outcome is unknown adds to its message:
/// that the invitation may exist, and how to repeat the call safely.
pub(super) fn may_exist_hint(idempotency_key: Option<&str>) -> &'static str {
    match idempotency_key {
        Some(_) => {
            "; the invitation may have been created: repeat the call with the same \
             idempotency key (Error::idempotency_key) to get it without a second email"
        }
        None => "",
    }
}

/// A `google.protobuf.Duration` as a wait, `None` when negative. Not
/// prost-types' own conversion, which negates `i64::MIN` seconds (a panic in
/// debug builds); any `nanos`, in range or not, is added exactly.
pub(super) fn non_negative_duration(delay: prost_types::Duration) -> Option<Duration> {
    const NANOS_PER_SECOND: i128 = 1_000_000_000;
    let total = i128::from(delay.seconds) * NANOS_PER_SECOND + i128::from(delay.nanos);
    let seconds = u64::try_from(total / NANOS_PER_SECOND).ok()?;
    let nanos = u32::try_from(total % NANOS_PER_SECOND).ok()?;
    Some(Duration::new(seconds, nanos))
}

impl std::error::Error for Status {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|source| source as _)
    }
}
