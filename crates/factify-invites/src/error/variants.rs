//! The [`Error`] enum: one variant per status code and the client's own
//! verdicts, its [`ErrorKind`], and what every error answers (code, reason,
//! request ID, field, wait, idempotency key, resume token).

use std::fmt;
use std::time::Duration;

use super::code::{Code, Reason};
use super::status::{may_exist_hint, CallRecord, Status};
use super::transport::TransportError;

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

/// The status inside an error that carries one, by reference or mutable
/// reference as `$error` is: one list of the variants for both, which names
/// every variant so that a new one must be sorted here.
macro_rules! status_of {
    ($error:expr) => {
        match $error {
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
    };
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
        status_of!(self)
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

    /// The reason of the first [`ErrorDetail`](super::ErrorDetail), if any.
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
        status_of!(self)
    }

    /// What the client recorded about the call this error ended.
    pub(super) fn call_record(&self) -> Option<&CallRecord> {
        match self {
            Error::Transport(transport) => transport.call.as_deref(),
            other => other.status().and_then(|status| status.call.as_deref()),
        }
    }

    /// The record of the call this error ended, made if need be; `None`
    /// for the variants that carry none.
    pub(super) fn call_record_mut(&mut self) -> Option<&mut CallRecord> {
        let slot = match self {
            Error::Transport(transport) => &mut transport.call,
            other => &mut other.status_mut()?.call,
        };
        Some(slot.get_or_insert_with(Box::default))
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

/// The result of this crate's calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;
