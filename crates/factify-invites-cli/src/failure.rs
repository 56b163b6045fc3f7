//! How a command fails: the exit statuses, the [`Failure`] that ends a
//! command, and the one line a person reads for an [`Error`].

use factify_invites::Error;

/// Exit statuses, as documented in `--help` and the README.
pub(crate) mod exit {
    /// Every call (every row) succeeded.
    pub(crate) const OK: u8 = 0;
    /// The server refused the call, or some rows failed.
    pub(crate) const FAILED: u8 = 1;
    /// Bad usage or input: nothing was sent.
    pub(crate) const USAGE: u8 = 2;
    /// The server could not be reached, or refused the API key.
    pub(crate) const UNREACHABLE: u8 = 3;
}

/// A failure that ends the command, with its exit status.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: exit::USAGE,
            message: message.into(),
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure {
            code: exit_code(&error),
            message: describe(&error),
        }
    }
}

/// The exit status for an error.
fn exit_code(error: &Error) -> u8 {
    match error {
        Error::InvalidRequest { .. } => exit::USAGE,
        error if is_fatal(error) => exit::UNREACHABLE,
        _ => exit::FAILED,
    }
}

/// Errors that would fail every call alike (no server, or a refused key),
/// so that a bulk run stops at the first.
pub(crate) fn is_fatal(error: &Error) -> bool {
    matches!(
        error,
        Error::Transport(_) | Error::Unavailable(_) | Error::Unauthenticated(_)
    )
}

/// One line for a person: code, message, then reason, param and request
/// ID when the error has them. Never holds the API key (errors do not).
pub(crate) fn describe(error: &Error) -> String {
    let mut line = match (error.status(), error) {
        (Some(status), _) => format!("{}: {}", status.code(), status.message()),
        (None, Error::InvalidRequest { field, message }) => {
            format!("invalid request: {field}: {message} (not sent)")
        }
        (None, other) => other.to_string(),
    };
    let mut extra = Vec::new();
    if let Some(reason) = error.reason() {
        extra.push(format!("reason: {reason}"));
    }
    if let (Some(param), Some(_)) = (error.param(), error.status()) {
        extra.push(format!("param: {param}"));
    }
    if let Some(request_id) = error.request_id() {
        extra.push(format!("request id: {request_id}"));
    }
    if !extra.is_empty() {
        line.push_str(&format!(" ({})", extra.join(", ")));
    }
    line.replace(['\n', '\r'], " ")
}
