//! How a request reaches the server: one generic unary call over a tonic
//! [`Channel`], shared by every method of the client.
//!
//! Keeping the wire in one place means the authorization header, deadline,
//! extra metadata and error mapping are written once, not once per method.

use std::time::Duration;

use tonic::client::Grpc;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue};
use tonic::transport::Channel;

use crate::auth::ApiKey;
use crate::error::{Code, Error, Result, Status};

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

/// What a single call adds to the client's defaults.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallOptions {
    /// Overrides the client's default timeout for this call.
    pub(crate) timeout: Option<Duration>,
    /// Extra request metadata (HTTP headers).
    pub(crate) metadata: Vec<(AsciiMetadataKey, AsciiMetadataValue)>,
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

/// The wire under the client.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    grpc: Grpc<Channel>,
}

impl Transport {
    pub(crate) fn grpc(channel: Channel) -> Transport {
        Transport {
            grpc: Grpc::new(channel),
        }
    }

    /// Sends one request and waits for its response, for at most `timeout`
    /// (also sent to the server as the gRPC deadline).
    pub(crate) async fn unary<Req, Resp>(
        &self,
        rpc: Rpc,
        request: Req,
        api_key: Option<&ApiKey>,
        timeout: Option<Duration>,
        metadata: &[(AsciiMetadataKey, AsciiMetadataValue)],
    ) -> Result<Resp>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let mut request = tonic::Request::new(request);
        let headers = request.metadata_mut();
        for (key, value) in metadata {
            headers.insert(key.clone(), value.clone());
        }
        if let Some(key) = api_key {
            headers.insert("authorization", key.header().clone());
        }
        if let Some(timeout) = timeout {
            request.set_timeout(timeout);
        }

        let mut grpc = self.grpc.clone();
        let call = async move {
            grpc.ready().await.map_err(|err| {
                Error::Transport(crate::error::TransportError::new(
                    "the connection to the server is not ready",
                    err,
                ))
            })?;
            let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
            let response = grpc
                .unary(request, PathAndQuery::from_static(rpc.path), codec)
                .await?;
            Ok(response.into_inner())
        };
        match timeout {
            // The server enforces the deadline it was sent, but a stalled
            // connection would never answer: the client keeps its own timer.
            Some(limit) => tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
                Err(Error::DeadlineExceeded(Status::local(
                    Code::DeadlineExceeded,
                    format!("{} did not answer within {limit:?}", rpc.name),
                )))
            }),
            None => call.await,
        }
    }
}
