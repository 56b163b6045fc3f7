//! [`Code`], the status codes of gRPC and Connect, and [`Reason`], the
//! machine-readable reason of Factify's `ErrorDetail`.

use std::fmt;

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

impl fmt::Display for Code {
    /// [`Code::as_str`] in capitals, such as `NOT_FOUND` or `CANCELED`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().to_ascii_uppercase())
    }
}

/// The machine-readable reason of an error, from its [`ErrorDetail`](super::ErrorDetail).
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
pub(crate) const KNOWN_REASONS: [(Reason, &str); 21] = [
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
