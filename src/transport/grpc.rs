//! The gRPC transport: tonic's generic unary call over a [`Channel`].

use std::future::Future;

use futures::future::Either;
use futures::FutureExt;
use tonic::client::Grpc;
use tonic::codec::CompressionEncoding;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;

use super::{Attempt, Compression};
use crate::error::{Code, Error, Result, Status, TransportError};

/// gRPC over one tonic [`Channel`] (one HTTP/2 connection).
#[derive(Debug, Clone)]
pub(crate) struct GrpcTransport {
    grpc: Grpc<Channel>,
}

impl GrpcTransport {
    /// Wraps `channel`, refusing responses over `max_response_bytes`
    /// (decompressed), compressing as `compression` says.
    pub(crate) fn new(
        channel: Channel,
        max_response_bytes: usize,
        compression: Compression,
    ) -> GrpcTransport {
        let mut grpc = Grpc::new(channel).max_decoding_message_size(max_response_bytes);
        if compression.requests {
            grpc = grpc.send_compressed(CompressionEncoding::Gzip);
        }
        if compression.responses {
            grpc = grpc.accept_compressed(CompressionEncoding::Gzip);
        }
        GrpcTransport { grpc }
    }

    /// Sends one request and waits for its response, for at most `timeout`
    /// (also sent to the server as the gRPC deadline).
    ///
    /// The request is prepared here and the returned future is the call
    /// itself, under its deadline: not an `async fn`, whose state would hold
    /// the request a second time, making the future every call moves and
    /// boxes larger.
    pub(crate) fn unary<Req, Resp>(
        &self,
        attempt: Attempt<'_>,
        request: Req,
    ) -> impl Future<Output = Result<Resp>> + Send + 'static
    where
        Req: super::WireMessage,
        Resp: super::WireMessage,
    {
        let Attempt {
            rpc,
            api_key,
            timeout,
            metadata,
        } = attempt;
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
                Error::Transport(TransportError::unsent(
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
            Some(limit) => Either::Left(tokio::time::timeout(limit, call).map(move |outcome| {
                outcome.unwrap_or_else(|_| {
                    Err(Error::DeadlineExceeded(Status::local(
                        Code::DeadlineExceeded,
                        format!("{} did not answer within {limit:?}", rpc.name),
                    )))
                })
            })),
            None => Either::Right(call),
        }
    }
}
