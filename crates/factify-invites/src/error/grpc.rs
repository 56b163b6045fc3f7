//! gRPC's mapping: tonic's codes and statuses to [`Code`] and [`Error`],
//! classified by the types in a status's source chain.

use super::code::Code;
use super::status::{Status, UndecodableResponse};
use super::transport::{find_cause, TransportError};
use super::variants::Error;

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
