//! How a request reaches the server: the methods of the service ([`Rpc`],
//! in `rpc.rs` with the other types every transport shares), what one call
//! adds to the client's defaults ([`CallOptions`]), and the
//! [`Transport`] that sends one attempt.
//!
//! Keeping the wire behind one generic unary call means the authorization
//! header, deadline, extra metadata and error mapping are written once per
//! protocol, not once per method; retries, rate limits and pagination sit
//! above it and so work the same over every protocol.
//!
//! An attempt's deadline is enforced by one timer, [`within_deadline`], the
//! same for every protocol; the server is told the deadline
//! (`grpc-timeout`, `Connect-Timeout-Ms`) so that it can stop working on a
//! call nobody waits for, but a client must not depend on a server (or a
//! frozen connection) to end its calls.

#[cfg(feature = "connect")]
pub(crate) mod connect;
mod grpc;
mod rpc;
#[cfg(feature = "testing")]
mod script;
mod status_guard;
mod status_seen;

#[cfg(feature = "connect")]
pub(crate) use connect::{ConnectConfig, ConnectTransport};
pub(crate) use grpc::GrpcTransport;
pub(crate) use rpc::{
    Attempt, Compression, Received, Rpc, WireMessage, ACCEPT, CREATE, LIST, RESEND, REVOKE,
};
#[cfg(feature = "testing")]
pub(crate) use script::{Answers, ScriptTransport};

use std::future::Future;
use std::time::Duration;

use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue};

use crate::error::{Code, Error, Result, Status};
use crate::retry::RetryPolicy;

/// What a single call adds to the client's defaults.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallOptions {
    /// Overrides the client's default timeout for this call.
    pub(crate) timeout: Option<Duration>,
    /// Extra request metadata (HTTP headers).
    pub(crate) metadata: Vec<(AsciiMetadataKey, AsciiMetadataValue)>,
    /// Overrides the client's retry policy for this call.
    pub(crate) retry: Option<RetryPolicy>,
    /// What was wrong with the first invalid metadata entry, reported by
    /// `send()` so that a builder chain never fails half-way.
    pub(crate) invalid_metadata: Option<String>,
}

impl CallOptions {
    /// Records a metadata pair, or the error of the first invalid one.
    pub(crate) fn add_metadata(&mut self, key: &str, value: &str) {
        if self.invalid_metadata.is_some() {
            return;
        }
        match (
            AsciiMetadataKey::from_bytes(key.as_bytes()),
            AsciiMetadataValue::try_from(value),
        ) {
            (Ok(key), Ok(value)) => self.metadata.push((key, value)),
            (Err(_), _) => {
                self.invalid_metadata = Some(format!("{key:?} is not a valid ASCII metadata key"))
            }
            (_, Err(_)) => {
                self.invalid_metadata = Some(format!(
                    "the value of {key:?} is not valid ASCII header text"
                ))
            }
        }
    }

    /// The error of the first invalid metadata entry, if any.
    pub(crate) fn check(&self) -> Result<()> {
        match &self.invalid_metadata {
            Some(message) => Err(Error::invalid_request("metadata", message.clone())),
            None => Ok(()),
        }
    }
}

/// The wire under the client: the protocol chosen on the builder.
#[derive(Debug, Clone)]
pub(crate) enum Transport {
    /// gRPC over HTTP/2, through tonic.
    Grpc(GrpcTransport),
    /// The Connect protocol over HTTP/1.1 or HTTP/2, through hyper.
    #[cfg(feature = "connect")]
    Connect(Box<ConnectTransport>),
    /// Scripted answers and no network, for users' tests.
    #[cfg(feature = "testing")]
    Scripted(ScriptTransport),
}

impl Transport {
    /// Sends one attempt and waits for its response, for at most
    /// `attempt.timeout`: connecting, waiting for a pooled connection,
    /// sending and reading the whole response all count.
    pub(crate) async fn unary<Req, Resp>(&self, attempt: Attempt<'_>, request: Req) -> Result<Resp>
    where
        Req: WireMessage,
        Resp: WireMessage,
    {
        let (rpc, limit) = (attempt.rpc, attempt.timeout);
        match self {
            Transport::Grpc(grpc) => {
                within_deadline(rpc, limit, grpc.unary(attempt, request)).await
            }
            #[cfg(feature = "connect")]
            Transport::Connect(connect) => {
                let on_wire = std::sync::atomic::AtomicBool::new(false);
                let outcome =
                    within_deadline(rpc, limit, connect.unary(attempt, request, &on_wire)).await;
                let timed_out =
                    matches!(&outcome, Err(Error::DeadlineExceeded(status)) if status.is_local());
                if timed_out && on_wire.load(std::sync::atomic::Ordering::Relaxed) {
                    connect.after_timeout();
                }
                outcome
            }
            #[cfg(feature = "testing")]
            Transport::Scripted(script) => script.unary(attempt, request).await,
        }
    }
}

/// Runs `attempt` for at most `limit`: the one client-side timer of an
/// attempt, over every protocol.
///
/// tonic's channel arms a timer of its own from the `grpc-timeout` header
/// (and answers `TimeoutExpired` when it fires). This timer starts before
/// the attempt does, so its deadline is never later than tonic's, and it
/// is polled before the attempt, so when both have fired (in the same
/// tick) this one decides: a call that runs out of time always ends with
/// the same local `DeadlineExceeded` and the same message.
pub(crate) async fn within_deadline<T>(
    rpc: Rpc,
    limit: Option<Duration>,
    attempt: impl Future<Output = Result<T>>,
) -> Result<T> {
    let Some(limit) = limit else {
        return attempt.await;
    };
    let expired = tokio::time::sleep(limit);
    tokio::select! {
        biased;
        () = expired => Err(Error::DeadlineExceeded(Status::local(
            Code::DeadlineExceeded,
            format!("{} did not answer within {limit:?}", rpc.name),
        ))),
        outcome = attempt => outcome,
    }
}
