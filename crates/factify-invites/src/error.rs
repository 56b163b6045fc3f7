//! The crate's one error type, [`Error`], and what it carries.
//!
//! A failed call is one of three things:
//!
//! - the **service said no**: one variant per status code (`NotFound`,
//!   `FailedPrecondition`, ...), each carrying a [`Status`] with the message,
//!   the parsed [`ErrorDetail`]s (reason, request ID, offending field) and the
//!   server's `RetryInfo` delay;
//! - the **request never got an answer**: [`Error::Transport`];
//! - the **client caught a problem itself**: [`Error::InvalidRequest`] (bad
//!   input, refused before anything was sent) or [`Error::InvalidResponse`]
//!   (the server answered something that breaks the contract).
//!
//! The mapping from a status code to a variant is [`Error::from_status`], in
//! one place.

use std::fmt;
use std::time::Duration;

use prost::Message;

use crate::proto;

/// The status codes shared by gRPC and Connect.
///
/// Factify's API uses a subset (see the SPEC); the others exist so that a
/// code from any server can be named.
///
/// # Spelling
///
/// Codes are written as the SPEC's table writes them: [`Code::as_str`] is the
/// Connect name (`"canceled"`, `"not_found"`) and `Display` the same in
/// capitals (`CANCELED`, `NOT_FOUND`), for every code. gRPC's documentation
/// spells code 1 `CANCELLED`; it is the same code (number 1), and
/// [`Code::from_connect_name`] accepts both spellings. The Rust variant keeps
/// tonic's name, [`Code::Cancelled`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// The call was cancelled, typically by the caller.
    Cancelled,
    /// An error the server could not classify.
    Unknown,
    /// The request was malformed.
    InvalidArgument,
    /// The deadline passed before the call completed.
    DeadlineExceeded,
    /// A resource does not exist (or is not visible to this key).
    NotFound,
    /// A resource to create exists already.
    AlreadyExists,
    /// The key lacks the permission, or the user may not do this.
    PermissionDenied,
    /// A rate limit or quota was reached.
    ResourceExhausted,
    /// The resource is not in a state that allows the operation.
    FailedPrecondition,
    /// The operation was aborted, typically by a concurrency conflict.
    Aborted,
    /// A value was outside the valid range.
    OutOfRange,
    /// The method is not implemented by this server.
    Unimplemented,
    /// An internal error of the server.
    Internal,
    /// The service is unavailable for now; a retry may succeed.
    Unavailable,
    /// Unrecoverable data loss.
    DataLoss,
    /// The request carries no valid credentials.
    Unauthenticated,
}

impl Code {
    /// Every code, in gRPC numbering order.
    pub const ALL: [Code; 16] = [
        Code::Cancelled,
        Code::Unknown,
        Code::InvalidArgument,
        Code::DeadlineExceeded,
        Code::NotFound,
        Code::AlreadyExists,
        Code::PermissionDenied,
        Code::ResourceExhausted,
        Code::FailedPrecondition,
        Code::Aborted,
        Code::OutOfRange,
        Code::Unimplemented,
        Code::Internal,
        Code::Unavailable,
        Code::DataLoss,
        Code::Unauthenticated,
    ];

    /// The code for a gRPC numeric status; `None` for 0 (OK) and for numbers
    /// no protocol defines.
    pub fn from_grpc(code: i32) -> Option<Code> {
        let index = usize::try_from(code).ok()?.checked_sub(1)?;
        Code::ALL.get(index).copied()
    }

    /// The gRPC numeric status of this code.
    pub fn grpc_code(self) -> i32 {
        match self {
            Code::Cancelled => 1,
            Code::Unknown => 2,
            Code::InvalidArgument => 3,
            Code::DeadlineExceeded => 4,
            Code::NotFound => 5,
            Code::AlreadyExists => 6,
            Code::PermissionDenied => 7,
            Code::ResourceExhausted => 8,
            Code::FailedPrecondition => 9,
            Code::Aborted => 10,
            Code::OutOfRange => 11,
            Code::Unimplemented => 12,
            Code::Internal => 13,
            Code::Unavailable => 14,
            Code::DataLoss => 15,
            Code::Unauthenticated => 16,
        }
    }

    /// The code's name in the Connect protocol, such as `"not_found"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Cancelled => "canceled",
            Code::Unknown => "unknown",
            Code::InvalidArgument => "invalid_argument",
            Code::DeadlineExceeded => "deadline_exceeded",
            Code::NotFound => "not_found",
            Code::AlreadyExists => "already_exists",
            Code::PermissionDenied => "permission_denied",
            Code::ResourceExhausted => "resource_exhausted",
            Code::FailedPrecondition => "failed_precondition",
            Code::Aborted => "aborted",
            Code::OutOfRange => "out_of_range",
            Code::Unimplemented => "unimplemented",
            Code::Internal => "internal",
            Code::Unavailable => "unavailable",
            Code::DataLoss => "data_loss",
            Code::Unauthenticated => "unauthenticated",
        }
    }

    /// The code for a Connect protocol name such as `"not_found"`; gRPC's
    /// spelling `"cancelled"` is read as [`Code::Cancelled`] too.
    pub fn from_connect_name(name: &str) -> Option<Code> {
        if name == "cancelled" {
            return Some(Code::Cancelled);
        }
        Code::ALL.into_iter().find(|code| code.as_str() == name)
    }

    /// The HTTP status a Connect server answers with for this code.
    ///
    /// These follow Factify's API contract, which matches the Connect
    /// specification except for `DEADLINE_EXCEEDED`: Factify answers it with
    /// 408 where Connect's table says 504. Clients read the code from the
    /// error body either way.
    pub fn http_status(self) -> u16 {
        match self {
            Code::Cancelled => 499,
            Code::Unknown | Code::Internal | Code::DataLoss => 500,
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => 400,
            Code::DeadlineExceeded => 408,
            Code::NotFound => 404,
            Code::AlreadyExists | Code::Aborted => 409,
            Code::PermissionDenied => 403,
            Code::ResourceExhausted => 429,
            Code::Unimplemented => 501,
            Code::Unavailable => 503,
            Code::Unauthenticated => 401,
        }
    }
}

impl Code {
    /// The code of tonic's code. `tonic::Code::Ok` never reaches here as an
    /// error; should a broken server send it with a failure, `Unknown` is
    /// the honest name.
    pub(crate) fn from_tonic(code: tonic::Code) -> Code {
        Code::from_grpc(code as i32).unwrap_or(Code::Unknown)
    }
}

/// Raw surface (feature `raw`): tonic's type, not covered by this crate's
/// semver promise.
#[cfg(feature = "raw")]
impl From<tonic::Code> for Code {
    fn from(code: tonic::Code) -> Code {
        Code::from_tonic(code)
    }
}

impl fmt::Display for Code {
    /// [`Code::as_str`] in capitals, such as `NOT_FOUND` or `CANCELED`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().to_ascii_uppercase())
    }
}

/// The machine-readable reason of an error, from its [`ErrorDetail`].
///
/// Servers may add reasons; those arrive as [`Reason::Other`], so matching
/// on this never fails on a newer server.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reason {
    /// `missing_required_field`
    MissingRequiredField,
    /// `invalid_field_value`
    InvalidFieldValue,
    /// `invalid_enum_value`
    InvalidEnumValue,
    /// `invalid_cursor`: a page token the server did not issue, or issued for
    /// other filters.
    InvalidCursor,
    /// `invalid_id_format`
    InvalidIdFormat,
    /// `precondition_failed`
    PreconditionFailed,
    /// `missing_api_key`
    MissingApiKey,
    /// `invalid_api_key`
    InvalidApiKey,
    /// `expired_api_key`
    ExpiredApiKey,
    /// `invalid_token`
    InvalidToken,
    /// `expired_token`
    ExpiredToken,
    /// `authentication_required`
    AuthenticationRequired,
    /// `insufficient_permissions`
    InsufficientPermissions,
    /// `feature_disabled`
    FeatureDisabled,
    /// `resource_not_found`
    ResourceNotFound,
    /// `resource_already_exists`
    ResourceAlreadyExists,
    /// `rate_limit_exceeded`
    RateLimitExceeded,
    /// `quota_exceeded`
    QuotaExceeded,
    /// `internal_error`
    InternalError,
    /// `unimplemented`
    Unimplemented,
    /// `service_unavailable`
    ServiceUnavailable,
    /// A reason this version of the crate does not know, as sent.
    Other(String),
}

/// The reasons this crate knows, with their wire names.
const KNOWN_REASONS: [(Reason, &str); 21] = [
    (Reason::MissingRequiredField, "missing_required_field"),
    (Reason::InvalidFieldValue, "invalid_field_value"),
    (Reason::InvalidEnumValue, "invalid_enum_value"),
    (Reason::InvalidCursor, "invalid_cursor"),
    (Reason::InvalidIdFormat, "invalid_id_format"),
    (Reason::PreconditionFailed, "precondition_failed"),
    (Reason::MissingApiKey, "missing_api_key"),
    (Reason::InvalidApiKey, "invalid_api_key"),
    (Reason::ExpiredApiKey, "expired_api_key"),
    (Reason::InvalidToken, "invalid_token"),
    (Reason::ExpiredToken, "expired_token"),
    (Reason::AuthenticationRequired, "authentication_required"),
    (Reason::InsufficientPermissions, "insufficient_permissions"),
    (Reason::FeatureDisabled, "feature_disabled"),
    (Reason::ResourceNotFound, "resource_not_found"),
    (Reason::ResourceAlreadyExists, "resource_already_exists"),
    (Reason::RateLimitExceeded, "rate_limit_exceeded"),
    (Reason::QuotaExceeded, "quota_exceeded"),
    (Reason::InternalError, "internal_error"),
    (Reason::Unimplemented, "unimplemented"),
    (Reason::ServiceUnavailable, "service_unavailable"),
];

impl Reason {
    /// The reason for a wire name; unknown names become [`Reason::Other`].
    pub fn from_wire(name: &str) -> Reason {
        KNOWN_REASONS
            .iter()
            .find(|(_, wire)| *wire == name)
            .map(|(reason, _)| reason.clone())
            .unwrap_or_else(|| Reason::Other(name.to_owned()))
    }

    /// The wire name, such as `"invalid_cursor"`.
    pub fn as_str(&self) -> &str {
        match self {
            Reason::Other(name) => name,
            known => KNOWN_REASONS
                .iter()
                .find(|(reason, _)| reason == known)
                .map_or("", |(_, wire)| wire),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `factify.api.v1beta.ErrorDetail` of a failed call.
///
/// Servers may add fields to it; to make one for a test, see
/// `testing::status` (feature `testing`).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetail {
    /// Why the call failed.
    pub reason: Reason,
    /// The server's ID of the request (`req_...`), for Factify's support;
    /// empty if the server sent none.
    pub request_id: String,
    /// The request field at fault, for validation errors; empty otherwise.
    pub param: String,
}

impl From<proto::ErrorDetail> for ErrorDetail {
    fn from(detail: proto::ErrorDetail) -> Self {
        ErrorDetail {
            reason: Reason::from_wire(&detail.reason),
            request_id: detail.request_id,
            param: detail.param,
        }
    }
}

pub(crate) use factify_invites_proto::{ERROR_DETAIL_TYPE_URL, RETRY_INFO_TYPE_URL};

/// What a failed call's status said: code, message and details.
///
/// Every service-error variant of [`Error`] carries one.
#[derive(Debug)]
pub struct Status {
    code: Code,
    message: String,
    details: Vec<ErrorDetail>,
    retry_after: Option<Duration>,
    local: bool,
    /// Boxed, and only for errors of a call: keeps `Error` small.
    call: Option<Box<CallRecord>>,
    idempotency_key: Option<Box<str>>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// What the client recorded about the call an error ended, so that the
/// error can answer questions only the call knows: whether repeating it is
/// safe, and where a listing resumes.
#[derive(Debug, Clone, Default)]
struct CallRecord {
    /// Whether the call may be repeated even after the server acted (a
    /// read, or a create with its idempotency key). `false` when unknown,
    /// such as for an error made outside a call: the safe answer.
    idempotent: bool,
    /// For an error a listing stream ended with: the page token to resume
    /// from.
    resume_token: Option<Box<str>>,
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
    pub(crate) fn caused_by(mut self, cause: Error) -> Status {
        self.source = Some(Box::new(cause));
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
                        self.details.push(detail.into());
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
fn may_exist_hint(idempotency_key: Option<&str>) -> &'static str {
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
fn non_negative_duration(delay: prost_types::Duration) -> Option<Duration> {
    const NANOS_PER_SECOND: i128 = 1_000_000_000;
    let total = i128::from(delay.seconds) * NANOS_PER_SECOND + i128::from(delay.nanos);
    let seconds = u64::try_from(total / NANOS_PER_SECOND).ok()?;
    let nanos = u32::try_from(total % NANOS_PER_SECOND).ok()?;
    Some(Duration::new(seconds, nanos))
}

/// A failure to reach the server or to get its answer: no status came back.
#[derive(Debug)]
pub struct TransportError {
    message: String,
    before_send: bool,
    call: Option<Box<CallRecord>>,
    idempotency_key: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// A failure whose timing is read from the types of its causes (see
    /// [`never_reached_the_service`]): anything not known to have happened
    /// before sending (a reset, a broken stream, a timeout) may have come
    /// after the server acted.
    pub(crate) fn new(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> TransportError {
        let source = source.into();
        TransportError {
            message: message.into(),
            before_send: never_reached_the_service(source.as_ref()),
            call: None,
            idempotency_key: None,
            source: Some(source),
        }
    }

    /// A failure known to have happened before the request was sent.
    pub(crate) fn unsent(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> TransportError {
        TransportError {
            message: message.into(),
            before_send: true,
            call: None,
            idempotency_key: None,
            source: Some(source.into()),
        }
    }

    /// Sets whether the request is known not to have been sent.
    #[cfg(feature = "testing")]
    pub(crate) fn before_send(mut self, before_send: bool) -> TransportError {
        self.before_send = before_send;
        self
    }

    /// Whether the request certainly never reached the service, so that
    /// repeating it cannot duplicate work: the connection could not be
    /// opened, or HTTP/2 refused the stream (`REFUSED_STREAM`, or a `GOAWAY`
    /// whose last stream ID excludes it).
    pub fn is_before_send(&self) -> bool {
        self.before_send
    }
}

/// The first error of type `T` in `error`'s source chain.
fn find_cause<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current = std::error::Error::source(error);
    while let Some(cause) = current {
        if let Some(found) = cause.downcast_ref::<T>() {
            return Some(found);
        }
        current = cause.source();
    }
    None
}

/// Whether an error chain shows, by the types of its causes, that the
/// request never reached the service: tonic's [`tonic::ConnectError`] or
/// hyper-util's connect error (the connection was never opened), or an
/// HTTP/2 error from the peer that refused the stream: `REFUSED_STREAM`, or
/// a `GOAWAY` (h2 reports a peer's `GOAWAY` on a stream only when its last
/// stream ID excludes that stream, or to a stream opened after it).
fn never_reached_the_service(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<tonic::ConnectError>() {
            return true;
        }
        #[cfg(feature = "connect")]
        if error
            .downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(hyper_util::client::legacy::Error::is_connect)
        {
            return true;
        }
        if let Some(h2) = error.downcast_ref::<h2::Error>() {
            let refused = h2.is_reset() && h2.reason() == Some(h2::Reason::REFUSED_STREAM);
            return h2.is_remote() && (refused || h2.is_go_away());
        }
        current = error.source();
    }
    false
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transport error: {}", self.message)?;
        f.write_str(may_exist_hint(self.idempotency_key.as_deref()))
    }
}

/// Which of the broad kinds of failure an [`Error`] is, for logs and
/// metrics: [`Error::kind`].
///
/// Servers answer with a [`Code`] ([`Error::code`]); the other kinds are the
/// client's own verdicts, which carry no code.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A status code: the service's answer, or the client's own deadline
    /// ([`Status::is_local`]). See [`Error::code`].
    Status,
    /// The server could not be reached, or the connection failed before a
    /// status came back ([`Error::Transport`]).
    Transport,
    /// The client refused the request before sending it
    /// ([`Error::InvalidRequest`]).
    InvalidRequest,
    /// The server's answer broke the contract ([`Error::InvalidResponse`]).
    InvalidResponse,
}

impl ErrorKind {
    /// A short name for logs and metric labels: `"status"`, `"transport"`,
    /// `"invalid_request"` or `"invalid_response"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Status => "status",
            ErrorKind::Transport => "transport",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::InvalidResponse => "invalid_response",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every way a call of this crate can fail.
///
/// Match on the variant for the status code, and ask the carried [`Status`]
/// (or the accessors here) for the reason, request ID and offending field.
///
/// # Example
///
/// ```no_run
/// # async fn run(client: factify_invites::Client) {
/// use factify_invites::{Error, Reason};
///
/// let org = "org_01h2xcejqtf2nbrexx3vqjhp41";
/// match client.create_invite(org, "ada@example.com").send().await {
///     Ok(invite) => println!("invited: {}", invite.id),
///     Err(Error::FailedPrecondition(status)) => println!("already a member: {status}"),
///     Err(Error::InvalidRequest { field, message }) => println!("fix {field}: {message}"),
///     Err(err) if err.reason() == Some(&Reason::RateLimitExceeded) => {
///         println!("slow down for {:?}", err.retry_after())
///     }
///     Err(err) => println!("failed: {err} (request {:?})", err.request_id()),
/// }
/// # }
/// ```
///
/// # Troubleshooting
///
/// - `UNAUTHENTICATED` with reason `missing_api_key`: the builder was given no
///   API key; `invalid_api_key`: the key is unknown or revoked.
/// - `PERMISSION_DENIED` with `insufficient_permissions`: the key's account
///   may not invite (create, list, resend) or manage (revoke) members.
/// - `INVALID_ARGUMENT` with `invalid_cursor`: a page token was reused with
///   other filters; start the list again.
/// - Quote [`Error::request_id`] to Factify's support.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `INVALID_ARGUMENT`: the server refused a field; see [`Status::param`].
    #[error(transparent)]
    InvalidArgument(Status),
    /// `FAILED_PRECONDITION`: the invitation or member is not in a state that
    /// allows this (inviting a member, revoking an accepted invitation...).
    #[error(transparent)]
    FailedPrecondition(Status),
    /// `UNAUTHENTICATED`: no API key, or an unknown one.
    #[error(transparent)]
    Unauthenticated(Status),
    /// `PERMISSION_DENIED`: the key may not do this, or the invitation is for
    /// another email.
    #[error(transparent)]
    PermissionDenied(Status),
    /// `NOT_FOUND`: unknown organization, invitation or token.
    #[error(transparent)]
    NotFound(Status),
    /// `ALREADY_EXISTS`.
    #[error(transparent)]
    AlreadyExists(Status),
    /// `RESOURCE_EXHAUSTED`: a rate limit; see [`Status::retry_after`].
    #[error(transparent)]
    ResourceExhausted(Status),
    /// `DEADLINE_EXCEEDED`: the server's, or the client's own timeout.
    #[error(transparent)]
    DeadlineExceeded(Status),
    /// `CANCELED` (gRPC's `CANCELLED`, code 1).
    #[error(transparent)]
    Cancelled(Status),
    /// `INTERNAL`: a server fault.
    #[error(transparent)]
    Internal(Status),
    /// `UNIMPLEMENTED`: the server does not offer this method.
    #[error(transparent)]
    Unimplemented(Status),
    /// `UNAVAILABLE`: the service is down or overloaded for now.
    #[error(transparent)]
    Unavailable(Status),
    /// `UNKNOWN`.
    #[error(transparent)]
    Unknown(Status),
    /// Any other status code (`ABORTED`, `OUT_OF_RANGE`, `DATA_LOSS`).
    #[error(transparent)]
    Other(Status),
    /// The server could not be reached, or the connection failed before a
    /// status came back.
    #[error(transparent)]
    Transport(TransportError),
    /// The client refused the request before sending it.
    #[error("invalid request: {field}: {message}")]
    InvalidRequest {
        /// The request field at fault, named as in the protobuf contract.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The server's answer broke the contract, such as a required field
    /// missing; no default was invented in its place.
    ///
    /// The server answered, so it may already have acted: for
    /// `create_invite`, the invitation may exist and its email may be sent.
    /// [`Error::idempotency_key`] then gives the key the call was sent with:
    /// repeat the call with it (`.idempotency_key(key)`) to get the
    /// original invitation without sending a second email.
    #[error(
        "invalid response from server: {field}: {message}{}",
        may_exist_hint(idempotency_key.as_deref())
    )]
    #[non_exhaustive]
    InvalidResponse {
        /// The response field at fault, as a path such as `invite.sender.id`.
        field: String,
        /// What is wrong with it.
        message: String,
        /// For a creation, the idempotency key it was sent with.
        idempotency_key: Option<String>,
    },
}

impl Error {
    /// The variant for a status: the one place codes map to variants.
    pub fn from_status(status: Status) -> Error {
        match status.code {
            Code::InvalidArgument => Error::InvalidArgument(status),
            Code::FailedPrecondition => Error::FailedPrecondition(status),
            Code::Unauthenticated => Error::Unauthenticated(status),
            Code::PermissionDenied => Error::PermissionDenied(status),
            Code::NotFound => Error::NotFound(status),
            Code::AlreadyExists => Error::AlreadyExists(status),
            Code::ResourceExhausted => Error::ResourceExhausted(status),
            Code::DeadlineExceeded => Error::DeadlineExceeded(status),
            Code::Cancelled => Error::Cancelled(status),
            Code::Internal => Error::Internal(status),
            Code::Unimplemented => Error::Unimplemented(status),
            Code::Unavailable => Error::Unavailable(status),
            Code::Unknown => Error::Unknown(status),
            Code::Aborted | Code::OutOfRange | Code::DataLoss => Error::Other(status),
        }
    }

    pub(crate) fn invalid_request(field: &'static str, message: impl Into<String>) -> Error {
        Error::InvalidRequest {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn invalid_response(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::InvalidResponse {
            field: field.into(),
            message: message.into(),
            idempotency_key: None,
        }
    }

    /// Records the idempotency key of a creation whose outcome is unknown
    /// (its answer could not be read, or never came), so that the caller can
    /// repeat it safely; errors that say the server did not act are left as
    /// they are.
    pub(crate) fn with_idempotency_key(mut self, key: &str) -> Error {
        match &mut self {
            Error::InvalidResponse {
                idempotency_key, ..
            } => *idempotency_key = Some(key.to_owned()),
            Error::Transport(transport) if !transport.before_send => {
                transport.idempotency_key = Some(key.to_owned())
            }
            Error::DeadlineExceeded(status)
            | Error::Cancelled(status)
            | Error::Internal(status)
            | Error::Unknown(status) => status.idempotency_key = Some(key.into()),
            _ => {}
        }
        self
    }

    /// For a creation that may have happened although this error came back
    /// (its answer could not be read, the connection broke after sending,
    /// the deadline passed, or the server failed), the idempotency key it
    /// was sent with: repeat the call with
    /// [`CreateInvite::idempotency_key`](crate::CreateInvite::idempotency_key)
    /// set to it to get the invitation if it exists, without a second email.
    /// `None` for other methods and for errors that say nothing was created.
    ///
    /// ```no_run
    /// # async fn run(client: factify_invites::Client) -> factify_invites::Result<()> {
    /// let org = "org_01h2xcejqtf2nbrexx3vqjhp41";
    /// let invite = match client.create_invite(org, "ada@example.com").await {
    ///     Err(err) if err.idempotency_key().is_some() => {
    ///         let key = err.idempotency_key().unwrap_or_default().to_owned();
    ///         client.create_invite(org, "ada@example.com").idempotency_key(key).await?
    ///     }
    ///     other => other?,
    /// };
    /// # let _ = invite; Ok(()) }
    /// ```
    pub fn idempotency_key(&self) -> Option<&str> {
        match self {
            Error::InvalidResponse {
                idempotency_key, ..
            } => idempotency_key.as_deref(),
            Error::Transport(transport) => transport.idempotency_key.as_deref(),
            other => other
                .status()
                .and_then(|status| status.idempotency_key.as_deref()),
        }
    }

    /// The status the server answered with, if it answered with one.
    pub fn status(&self) -> Option<&Status> {
        match self {
            Error::InvalidArgument(status)
            | Error::FailedPrecondition(status)
            | Error::Unauthenticated(status)
            | Error::PermissionDenied(status)
            | Error::NotFound(status)
            | Error::AlreadyExists(status)
            | Error::ResourceExhausted(status)
            | Error::DeadlineExceeded(status)
            | Error::Cancelled(status)
            | Error::Internal(status)
            | Error::Unimplemented(status)
            | Error::Unavailable(status)
            | Error::Unknown(status)
            | Error::Other(status) => Some(status),
            Error::Transport(_) | Error::InvalidRequest { .. } | Error::InvalidResponse { .. } => {
                None
            }
        }
    }

    /// Which kind of failure this is; for a [`ErrorKind::Status`], the code
    /// is [`Error::code`].
    ///
    /// ```
    /// use factify_invites::error::ErrorKind;
    /// # fn log(err: &factify_invites::Error) -> String {
    /// match err.code() {
    ///     Some(code) => format!("failed with {code}"),
    ///     None => format!("failed: {}", err.kind()), // "transport", "invalid_request"...
    /// }
    /// # }
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Transport(_) => ErrorKind::Transport,
            Error::InvalidRequest { .. } => ErrorKind::InvalidRequest,
            Error::InvalidResponse { .. } => ErrorKind::InvalidResponse,
            _ => ErrorKind::Status,
        }
    }

    /// The status code, for errors that carry one.
    pub fn code(&self) -> Option<Code> {
        self.status().map(Status::code)
    }

    /// The reason of the first [`ErrorDetail`], if any.
    pub fn reason(&self) -> Option<&Reason> {
        self.status().and_then(Status::reason)
    }

    /// The server's request ID, if any: quote it to Factify's support.
    pub fn request_id(&self) -> Option<&str> {
        self.status().and_then(Status::request_id)
    }

    /// The field at fault: the server's `param`, or the field the client
    /// refused, or the response field that broke the contract.
    pub fn param(&self) -> Option<&str> {
        match self {
            Error::InvalidRequest { field, .. } => Some(field),
            Error::InvalidResponse { field, .. } => Some(field),
            other => other.status().and_then(Status::param),
        }
    }

    /// How long the server asked to wait before retrying, if it did (at
    /// most the client's `max_retry_after`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.status().and_then(Status::retry_after)
    }

    /// Caps the server's wait at `max`: what a hostile or broken server asks
    /// for never holds a client back longer.
    pub(crate) fn cap_retry_after(mut self, max: Duration) -> Error {
        if let Some(status) = self.status_mut() {
            status.retry_after = status.retry_after.map(|wait| wait.min(max));
        }
        self
    }

    fn status_mut(&mut self) -> Option<&mut Status> {
        match self {
            Error::InvalidArgument(status)
            | Error::FailedPrecondition(status)
            | Error::Unauthenticated(status)
            | Error::PermissionDenied(status)
            | Error::NotFound(status)
            | Error::AlreadyExists(status)
            | Error::ResourceExhausted(status)
            | Error::DeadlineExceeded(status)
            | Error::Cancelled(status)
            | Error::Internal(status)
            | Error::Unimplemented(status)
            | Error::Unavailable(status)
            | Error::Unknown(status)
            | Error::Other(status) => Some(status),
            Error::Transport(_) | Error::InvalidRequest { .. } | Error::InvalidResponse { .. } => {
                None
            }
        }
    }

    /// Whether sending the same request again may succeed **and cannot
    /// duplicate work**: the same rule the client's own retries follow.
    ///
    /// - `RESOURCE_EXHAUSTED` (a rate-limit refusal: the service did not
    ///   act), and a transport failure that provably never reached the
    ///   service ([`TransportError::is_before_send`]): always.
    /// - `UNAVAILABLE`, and a transport failure that may have come after the
    ///   request was sent: only for a call that is safe to repeat (a list,
    ///   or a create, whose idempotency key makes a repeat harmless). For
    ///   resend, revoke and accept the service may have acted (a proxy can
    ///   answer 503 after forwarding), so a repeat could send a second email:
    ///   `false`.
    ///
    /// An error that did not come from a call of this client (built by
    /// hand, say) is treated as coming from a call that is not safe to
    /// repeat. A retry loop built on this never sends a second email.
    pub fn is_retryable(&self) -> bool {
        crate::retry::is_retryable(self, self.call_safety())
    }

    /// What the client recorded about the call this error ended.
    fn call_record(&self) -> Option<&CallRecord> {
        match self {
            Error::Transport(transport) => transport.call.as_deref(),
            other => other.status().and_then(|status| status.call.as_deref()),
        }
    }

    /// The record of the call this error ended, made if need be; `None`
    /// for the variants that carry none.
    fn call_record_mut(&mut self) -> Option<&mut CallRecord> {
        let slot = match self {
            Error::Transport(transport) => &mut transport.call,
            Error::InvalidArgument(status)
            | Error::FailedPrecondition(status)
            | Error::Unauthenticated(status)
            | Error::PermissionDenied(status)
            | Error::NotFound(status)
            | Error::AlreadyExists(status)
            | Error::ResourceExhausted(status)
            | Error::DeadlineExceeded(status)
            | Error::Cancelled(status)
            | Error::Internal(status)
            | Error::Unimplemented(status)
            | Error::Unavailable(status)
            | Error::Unknown(status)
            | Error::Other(status) => &mut status.call,
            Error::InvalidRequest { .. } | Error::InvalidResponse { .. } => return None,
        };
        Some(slot.get_or_insert_with(Box::default))
    }

    /// The safety of the call this error ended, as recorded by the client
    /// ([`Safety::NotIdempotent`](crate::retry::Safety) when unknown).
    fn call_safety(&self) -> crate::retry::Safety {
        match self.call_record() {
            Some(record) if record.idempotent => crate::retry::Safety::Idempotent,
            _ => crate::retry::Safety::NotIdempotent,
        }
    }

    /// Records the safety of the call this error ends, so that
    /// [`is_retryable`](Self::is_retryable) answers for that call.
    pub(crate) fn for_call(mut self, safety: crate::retry::Safety) -> Error {
        let idempotent = safety == crate::retry::Safety::Idempotent;
        // No record reads as "not idempotent": nothing to allocate for that.
        if idempotent || self.call_record().is_some() {
            if let Some(record) = self.call_record_mut() {
                record.idempotent = idempotent;
            }
        }
        self
    }

    /// Records the page token a listing that ended with this error resumes
    /// from.
    pub(crate) fn with_resume_token(mut self, token: &str) -> Error {
        if let Some(record) = self.call_record_mut() {
            record.resume_token = Some(token.into());
        }
        self
    }

    /// For an error that ended a listing stream ([`InviteStream`] or
    /// [`PageStream`]): the page token to resume from, with
    /// [`ListInvites::page_token`]. Every invitation before it was yielded,
    /// none after it, so the resumed stream yields each invitation once.
    /// The empty string means "from the first page".
    ///
    /// `None` for errors that did not end a listing, and for those a resumed
    /// listing could not get past (a bad request, a broken or repeated page
    /// token: [`Error::InvalidRequest`] and [`Error::InvalidResponse`]).
    ///
    /// ```no_run
    /// # async fn run(client: factify_invites::Client) -> factify_invites::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let request = client.list_invites("org_01h2xcejqtf2nbrexx3vqjhp41");
    /// let mut invites = request.clone().into_stream();
    /// loop {
    ///     match invites.try_next().await {
    ///         Ok(Some(invite)) => println!("{}", invite.email),
    ///         Ok(None) => break,
    ///         Err(err) => match err.resume_token() {
    ///             // Later: carry on where the listing stopped.
    ///             Some(token) => invites = request.clone().page_token(token).into_stream(),
    ///             None => return Err(err),
    ///         },
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// [`InviteStream`]: crate::pagination::InviteStream
    /// [`PageStream`]: crate::pagination::PageStream
    /// [`ListInvites::page_token`]: crate::pagination::ListInvites::page_token
    pub fn resume_token(&self) -> Option<&str> {
        self.call_record()?.resume_token.as_deref()
    }

    /// Whether the call ran out of time.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::DeadlineExceeded(_))
    }
}

/// A status that tonic made from a local failure (connection refused, reset,
/// TLS) is a [`Error::Transport`]; a status the server sent is mapped by its
/// code, as every call of the client maps it.
///
/// Raw surface (feature `raw`): tonic's type, not covered by this crate's
/// semver promise.
#[cfg(feature = "raw")]
impl From<tonic::Status> for Error {
    fn from(status: tonic::Status) -> Error {
        Error::from_tonic(status)
    }
}

impl Error {
    /// Classified by the types in the status's source chain, never by its
    /// words: this crate's codec marks a response it could not decode
    /// ([`Error::InvalidResponse`]); tonic's timer for the deadline is
    /// `DeadlineExceeded`; any other status tonic made from a local failure
    /// (it has a source: connection refused, reset, TLS) is an
    /// [`Error::Transport`]; a status the server sent keeps its code.
    pub(crate) fn from_tonic(status: tonic::Status) -> Error {
        if let Some(undecodable) = find_cause::<UndecodableResponse>(&status) {
            return Error::invalid_response("response", undecodable.0.clone());
        }
        if find_cause::<tonic::TimeoutExpired>(&status).is_some() {
            // tonic's own timer for the deadline the request carried.
            return Error::DeadlineExceeded(Status::local(
                Code::DeadlineExceeded,
                "the deadline passed before the server answered",
            ));
        }
        if std::error::Error::source(&status).is_some() {
            let message = format!("{}: {}", Code::from_tonic(status.code()), status.message());
            return Error::Transport(TransportError::new(message, status));
        }
        let code = Code::from_tonic(status.code());
        let message = status.message().to_owned();
        let details = status.details().to_vec();
        Error::from_status(Status::from_parts(
            code,
            message,
            &details,
            Some(Box::new(status)),
        ))
    }
}

impl std::error::Error for Status {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|source| source as _)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|source| source as _)
    }
}

/// The result of this crate's calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded_details(code: i32, details: Vec<prost_types::Any>) -> Vec<u8> {
        proto::google::rpc::Status {
            code,
            message: "m".into(),
            details,
        }
        .encode_to_vec()
    }

    fn error_detail(reason: &str, request_id: &str, param: &str) -> prost_types::Any {
        prost_types::Any {
            type_url: ERROR_DETAIL_TYPE_URL.into(),
            value: proto::ErrorDetail {
                reason: reason.into(),
                request_id: request_id.into(),
                param: param.into(),
            }
            .encode_to_vec(),
        }
    }

    /// One row per gRPC code: the variant it must become.
    #[test]
    fn every_code_maps_to_its_variant() {
        type IsVariant = fn(&Error) -> bool;
        let table: [(tonic::Code, IsVariant); 16] = [
            (tonic::Code::InvalidArgument, |e| {
                matches!(e, Error::InvalidArgument(_))
            }),
            (tonic::Code::FailedPrecondition, |e| {
                matches!(e, Error::FailedPrecondition(_))
            }),
            (tonic::Code::Unauthenticated, |e| {
                matches!(e, Error::Unauthenticated(_))
            }),
            (tonic::Code::PermissionDenied, |e| {
                matches!(e, Error::PermissionDenied(_))
            }),
            (tonic::Code::NotFound, |e| matches!(e, Error::NotFound(_))),
            (tonic::Code::AlreadyExists, |e| {
                matches!(e, Error::AlreadyExists(_))
            }),
            (tonic::Code::ResourceExhausted, |e| {
                matches!(e, Error::ResourceExhausted(_))
            }),
            (tonic::Code::DeadlineExceeded, |e| {
                matches!(e, Error::DeadlineExceeded(_))
            }),
            (tonic::Code::Cancelled, |e| matches!(e, Error::Cancelled(_))),
            (tonic::Code::Internal, |e| matches!(e, Error::Internal(_))),
            (tonic::Code::Unimplemented, |e| {
                matches!(e, Error::Unimplemented(_))
            }),
            (tonic::Code::Unavailable, |e| {
                matches!(e, Error::Unavailable(_))
            }),
            (tonic::Code::Unknown, |e| matches!(e, Error::Unknown(_))),
            (tonic::Code::Aborted, |e| matches!(e, Error::Other(_))),
            (tonic::Code::OutOfRange, |e| matches!(e, Error::Other(_))),
            (tonic::Code::DataLoss, |e| matches!(e, Error::Other(_))),
        ];
        for (grpc, is_variant) in table {
            let error = Error::from_tonic(tonic::Status::new(grpc, "boom"));
            assert!(is_variant(&error), "{grpc:?} became {error:?}");
            assert_eq!(error.code().map(Code::grpc_code), Some(grpc as i32));
        }
    }

    #[test]
    fn codes_round_trip_through_numbers_and_connect_names() {
        for code in Code::ALL {
            assert_eq!(Code::from_grpc(code.grpc_code()), Some(code));
            assert_eq!(Code::from_connect_name(code.as_str()), Some(code));
        }
        assert_eq!(Code::from_grpc(0), None);
        assert_eq!(Code::from_grpc(17), None);
        assert_eq!(Code::from_grpc(-1), None);
        assert_eq!(Code::NotFound.http_status(), 404);
        assert_eq!(Code::ResourceExhausted.http_status(), 429);
    }

    #[test]
    fn display_and_as_str_spell_every_code_alike() {
        for code in Code::ALL {
            assert_eq!(code.to_string(), code.as_str().to_ascii_uppercase());
        }
        assert_eq!(Code::Cancelled.to_string(), "CANCELED");
        assert_eq!(Code::from_connect_name("cancelled"), Some(Code::Cancelled));
        let error = Error::from_tonic(tonic::Status::cancelled("stop"));
        assert_eq!(error.to_string(), "CANCELED: stop");
    }

    #[test]
    fn only_errors_of_an_uncertain_creation_carry_its_key() {
        let key = "fi-0123";
        let uncertain = [
            Error::invalid_response("invite.id", "required field is missing"),
            Error::Transport(TransportError::new("reset", "connection reset")),
            Error::from_status(Status::local(Code::DeadlineExceeded, "late")),
            Error::from_status(Status::local(Code::Internal, "oops")),
        ];
        for error in uncertain {
            let error = error.with_idempotency_key(key);
            assert_eq!(error.idempotency_key(), Some(key), "{error:?}");
            assert!(
                error.to_string().contains("may have been created"),
                "{error}"
            );
        }
        // The server said no, or nothing was sent: nothing was created.
        let certain = [
            Error::from_status(Status::local(Code::FailedPrecondition, "member")),
            Error::from_status(Status::local(Code::Unavailable, "down")),
            Error::Transport(TransportError::unsent("refused", "connection refused")),
            Error::invalid_request("email", "empty"),
        ];
        for error in certain {
            let error = error.with_idempotency_key(key);
            assert_eq!(error.idempotency_key(), None, "{error:?}");
            assert!(
                !error.to_string().contains("may have been created"),
                "{error}"
            );
        }
    }

    #[test]
    fn every_error_names_its_kind() {
        let cases = [
            (
                Error::from_status(Status::local(Code::NotFound, "gone")),
                ErrorKind::Status,
                "status",
            ),
            (
                Error::Transport(TransportError::unsent("down", "refused")),
                ErrorKind::Transport,
                "transport",
            ),
            (
                Error::invalid_request("email", "empty"),
                ErrorKind::InvalidRequest,
                "invalid_request",
            ),
            (
                Error::invalid_response("invite.id", "missing"),
                ErrorKind::InvalidResponse,
                "invalid_response",
            ),
        ];
        for (error, kind, name) in cases {
            assert_eq!(error.kind(), kind, "{error:?}");
            assert_eq!(error.kind().to_string(), name);
            assert_eq!(error.code().is_some(), kind == ErrorKind::Status);
        }
    }

    #[test]
    fn details_are_read_from_the_status() {
        let retry = prost_types::Any {
            type_url: RETRY_INFO_TYPE_URL.into(),
            value: proto::google::rpc::RetryInfo {
                retry_delay: Some(prost_types::Duration {
                    seconds: 3,
                    nanos: 500_000_000,
                }),
            }
            .encode_to_vec(),
        };
        let bytes = encoded_details(
            8,
            vec![
                error_detail("rate_limit_exceeded", "req_01arwx4k8xrgqskvxq69gdn019", ""),
                retry,
            ],
        );
        let status =
            tonic::Status::with_details(tonic::Code::ResourceExhausted, "slow down", bytes.into());
        let error = Error::from_tonic(status);
        assert!(matches!(error, Error::ResourceExhausted(_)));
        assert_eq!(error.reason(), Some(&Reason::RateLimitExceeded));
        assert_eq!(error.request_id(), Some("req_01arwx4k8xrgqskvxq69gdn019"));
        assert_eq!(error.retry_after(), Some(Duration::from_millis(3500)));
        assert!(error.is_retryable());
        assert_eq!(
            error.to_string(),
            "RESOURCE_EXHAUSTED: slow down (reason: rate_limit_exceeded, request_id: req_01arwx4k8xrgqskvxq69gdn019)"
        );
        let source = std::error::Error::source(&error);
        assert!(source.is_some_and(|s| s.is::<tonic::Status>()));
    }

    #[test]
    fn unknown_reasons_and_detail_types_are_accepted() {
        let stranger = prost_types::Any {
            type_url: "type.googleapis.com/google.rpc.DebugInfo".into(),
            value: vec![1, 2, 3],
        };
        let bytes = encoded_details(
            3,
            vec![stranger, error_detail("brand_new_reason", "", "email")],
        );
        let error = Error::from_tonic(tonic::Status::with_details(
            tonic::Code::InvalidArgument,
            "bad",
            bytes.into(),
        ));
        assert_eq!(
            error.reason(),
            Some(&Reason::Other("brand_new_reason".into()))
        );
        assert_eq!(error.param(), Some("email"));
        assert!(!error.is_retryable());
    }

    #[test]
    fn garbage_details_keep_code_and_message() {
        let error = Error::from_tonic(tonic::Status::with_details(
            tonic::Code::NotFound,
            "gone",
            vec![0xff, 0xff, 0xff, 0x01].into(),
        ));
        assert!(matches!(error, Error::NotFound(_)));
        assert_eq!(error.reason(), None);
        assert_eq!(error.to_string(), "NOT_FOUND: gone");
    }

    #[test]
    fn a_servers_status_keeps_its_code_whatever_its_words() {
        let error = Error::from_tonic(tonic::Status::internal(
            "failed to decode Protobuf message: invalid wire type",
        ));
        assert!(matches!(error, Error::Internal(_)), "{error:?}");
        let error = Error::from_tonic(tonic::Status::out_of_range(
            "Error, decoded message length too large: found 9 bytes, the limit is: 4 bytes",
        ));
        assert_eq!(error.code(), Some(Code::OutOfRange), "{error:?}");
        // The marker of this crate's codec, not the words, makes a verdict
        // on the response.
        let mut marked = tonic::Status::internal("anything at all");
        marked.set_source(std::sync::Arc::new(UndecodableResponse("bad".into())));
        assert!(matches!(
            Error::from_tonic(marked),
            Error::InvalidResponse { .. }
        ));
    }

    #[test]
    fn is_retryable_answers_for_the_call_the_error_came_from() {
        use crate::retry::Safety;
        let unavailable = || Error::from_tonic(tonic::Status::unavailable("down"));
        assert!(!unavailable().is_retryable(), "unknown call: not safe");
        assert!(unavailable().for_call(Safety::Idempotent).is_retryable());
        assert!(!unavailable().for_call(Safety::NotIdempotent).is_retryable());
        let limited = Error::from_tonic(tonic::Status::resource_exhausted("slow down"));
        assert!(limited.for_call(Safety::NotIdempotent).is_retryable());
        let refused = Error::Transport(TransportError::new(
            "refused",
            tonic::ConnectError("connection refused".into()),
        ));
        assert!(refused.for_call(Safety::NotIdempotent).is_retryable());
        let invalid = Error::invalid_response("response", "bad").for_call(Safety::Idempotent);
        assert!(!invalid.is_retryable());
        assert_eq!(invalid.resume_token(), None);
        let resumable = unavailable().with_resume_token("tok_1");
        assert_eq!(resumable.resume_token(), Some("tok_1"));
        assert!(!resumable.is_retryable(), "the token changes nothing else");
    }

    #[test]
    fn retry_delays_of_any_size_are_read_without_panicking() {
        let delay =
            |seconds, nanos| non_negative_duration(prost_types::Duration { seconds, nanos });
        assert_eq!(delay(i64::MIN, 0), None);
        assert_eq!(delay(i64::MIN, -999_999_999), None);
        assert_eq!(delay(-1, 0), None);
        assert_eq!(delay(0, -1), None);
        assert_eq!(delay(5, -1), Some(Duration::new(4, 999_999_999)));
        assert_eq!(delay(0, 2_000_000_000), Some(Duration::from_secs(2)));
        assert_eq!(
            delay(i64::MAX, i32::MAX),
            Some(Duration::new(i64::MAX as u64 + 2, 147_483_647))
        );
    }

    #[test]
    fn reasons_round_trip() {
        for (reason, wire) in KNOWN_REASONS {
            assert_eq!(Reason::from_wire(wire), reason);
            assert_eq!(reason.as_str(), wire);
        }
    }
}
