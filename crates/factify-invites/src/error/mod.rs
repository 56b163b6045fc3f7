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
//!
//! One file per concept, each importing only the ones before it: `code.rs`
//! ([`Code`], [`Reason`]), `detail.rs` ([`ErrorDetail`]), `status.rs`
//! ([`Status`] and what the client recorded about the call), `transport.rs`
//! ([`TransportError`]), `variants.rs` (the [`Error`] enum and its
//! accessors), `retryable.rs` (whether an error may be repeated, the rule
//! the client's retries follow too) and `grpc.rs` (tonic's statuses mapped).
//! This file only declares and re-exports them.

mod code;
mod detail;
mod grpc;
mod retryable;
mod status;
#[cfg(test)]
mod tests;
mod transport;
mod variants;

pub use code::{Code, Reason};
pub use detail::ErrorDetail;
// Outside this module only the test builders of `testing` need them.
#[cfg(feature = "testing")]
pub(crate) use detail::{ERROR_DETAIL_TYPE_URL, RETRY_INFO_TYPE_URL};
pub(crate) use retryable::Safety;
pub use status::Status;
pub(crate) use status::UndecodableResponse;
pub use transport::TransportError;
pub use variants::{Error, ErrorKind, Result};
