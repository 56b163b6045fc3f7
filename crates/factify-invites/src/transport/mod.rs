//! How a request reaches the server: the methods of the service ([`Rpc`]),
//! what one call adds to the client's defaults ([`CallOptions`]), and the
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
mod status_guard;
mod status_seen;

#[cfg(feature = "connect")]
pub(crate) use connect::{ConnectConfig, ConnectTransport};
pub(crate) use grpc::GrpcTransport;

use std::future::Future;
use std::time::Duration;

use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue};

use crate::auth::ApiKey;
use crate::error::{Code, Error, Result, Status};
use crate::retry::RetryPolicy;
use factify_invites_proto::enum_names::EnumNames;

/// A message of the contract, as every protocol of this build carries it:
/// protobuf through prost, and (with the `connect` feature) the canonical
/// JSON mapping through the hand-written codec of `connect::json`.
#[cfg(feature = "connect")]
pub(crate) trait WireMessage:
    prost::Message + Default + connect::json::JsonMessage + Send + Sync + 'static
{
}
#[cfg(feature = "connect")]
impl<M> WireMessage for M where
    M: prost::Message + Default + connect::json::JsonMessage + Send + Sync + 'static
{
}
/// A message of the contract, as every protocol of this build carries it.
#[cfg(not(feature = "connect"))]
pub(crate) trait WireMessage: prost::Message + Default + Send + Sync + 'static {}
#[cfg(not(feature = "connect"))]
impl<M> WireMessage for M where M: prost::Message + Default + Send + Sync + 'static {}

/// A response as the client received it: the prost message, and the names
/// of enum values this version does not know that stand behind some of its
/// numbers (only JSON has names; the table of a protobuf response is empty).
#[derive(Debug, Default)]
pub(crate) struct Received<M> {
    /// The message.
    pub(crate) message: M,
    /// What its stand-in enum numbers stand for.
    pub(crate) names: EnumNames,
}

/// Protobuf carries no names: a `Received` decodes as its message does.
impl<M: prost::Message> prost::Message for Received<M> {
    fn encode_raw(&self, buf: &mut impl bytes::BufMut) {
        self.message.encode_raw(buf);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl bytes::Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> std::result::Result<(), prost::DecodeError> {
        self.message.merge_field(tag, wire_type, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.message.encoded_len()
    }

    fn clear(&mut self) {
        self.message.clear();
        self.names = EnumNames::default();
    }
}

/// One method of `factify.api.v1beta.OrganizationInviteService`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rpc {
    /// The method's name, such as `CreateOrganizationInvite`.
    pub(crate) name: &'static str,
    /// The HTTP path, `/<package>.<service>/<method>`.
    pub(crate) path: &'static str,
}

macro_rules! rpc {
    ($const:ident, $name:literal) => {
        pub(crate) const $const: Rpc = Rpc {
            name: $name,
            path: concat!("/factify.api.v1beta.OrganizationInviteService/", $name),
        };
    };
}

rpc!(CREATE, "CreateOrganizationInvite");
rpc!(LIST, "ListOrganizationInvites");
rpc!(RESEND, "ResendOrganizationInvite");
rpc!(REVOKE, "RevokeOrganizationInvite");
rpc!(ACCEPT, "AcceptOrganizationInvite");

/// Which directions of a call are gzip-compressed; each its own switch,
/// as responses (pages) can be large while requests never are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Compression {
    /// Compress requests.
    pub(crate) requests: bool,
    /// Ask for compressed responses.
    pub(crate) responses: bool,
}

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

/// One attempt's wire parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt<'a> {
    /// The method.
    pub(crate) rpc: Rpc,
    /// The key for this attempt, if any.
    pub(crate) api_key: Option<&'a ApiKey>,
    /// What is left of the call's deadline, sent to the server.
    pub(crate) timeout: Option<Duration>,
    /// Extra metadata.
    pub(crate) metadata: &'a [(AsciiMetadataKey, AsciiMetadataValue)],
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
    Scripted(crate::testing::ScriptTransport),
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
