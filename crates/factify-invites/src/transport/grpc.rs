//! The gRPC transport: tonic's generic unary call over a [`Channel`], with
//! a [`StatusGuard`] between them that keeps a server's undecodable status
//! details from panicking tonic.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use tonic::client::Grpc;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;

use super::rpc::{Attempt, Compression, WireMessage};
use super::status_guard::StatusGuard;
use super::status_seen::{StatusSeen, Watched};
use crate::error::{Error, Result, TransportError, UndecodableResponse};

/// gRPC over one tonic [`Channel`] (one HTTP/2 connection).
#[derive(Debug, Clone)]
pub(crate) struct GrpcTransport {
    grpc: Grpc<StatusGuard<Watched>>,
}

impl GrpcTransport {
    /// Wraps `channel`, refusing responses over `max_response_bytes`
    /// (decompressed), compressing as `compression` says.
    pub(crate) fn new(
        channel: Channel,
        max_response_bytes: usize,
        compression: Compression,
    ) -> GrpcTransport {
        let mut grpc = Grpc::new(StatusGuard::new(Watched(channel)))
            .max_decoding_message_size(max_response_bytes);
        if compression.requests {
            grpc = grpc.send_compressed(CompressionEncoding::Gzip);
        }
        if compression.responses {
            grpc = grpc.accept_compressed(CompressionEncoding::Gzip);
        }
        GrpcTransport { grpc }
    }

    /// Sends one request and waits for its response. The attempt's timeout
    /// is sent to the server as the gRPC deadline (`grpc-timeout`); the
    /// caller enforces it ([`super::within_deadline`]).
    ///
    /// The request is prepared here and the returned future is the call
    /// itself: not an `async fn`, whose state would hold the request a
    /// second time, making the future every call moves and boxes larger.
    pub(crate) fn unary<Req, Resp>(
        &self,
        attempt: Attempt<'_>,
        request: Req,
    ) -> impl Future<Output = Result<Resp>> + Send + 'static
    where
        Req: WireMessage,
        Resp: WireMessage,
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
        let seen = StatusSeen::default();
        request.extensions_mut().insert(seen.clone());

        let mut grpc = self.grpc.clone();
        async move {
            grpc.ready().await.map_err(|err| {
                Error::Transport(TransportError::unsent(
                    "the connection to the server is not ready",
                    err,
                ))
            })?;
            let codec = MarkingCodec::<Req, Resp>(PhantomData);
            let response = grpc
                .unary(request, PathAndQuery::from_static(rpc.path), codec)
                .await
                .map_err(|status| classify(status, seen.get()))?;
            Ok(response.into_inner())
        }
    }
}

/// The error of a failed call: a status tonic made itself about a 200
/// response (no source, and no `grpc-status` came from the server: an
/// oversized or malformed frame, a body that ended mid-message) is the
/// client's verdict on the response; anything else (a status the server
/// gave, a transport failure) is classified by [`Error::from`].
fn classify(status: tonic::Status, server_sent_status: bool) -> Error {
    let made_by_tonic = std::error::Error::source(&status).is_none() && !server_sent_status;
    if made_by_tonic {
        return Error::invalid_response("response", status.message().to_owned());
    }
    Error::from_tonic(status)
}

/// prost's codec, whose decoder marks a response it cannot decode with
/// [`UndecodableResponse`], so that the error is told by type from a status
/// the server sent with the same words.
struct MarkingCodec<Req, Resp>(PhantomData<(Req, Resp)>);

impl<Req, Resp> Codec for MarkingCodec<Req, Resp>
where
    Req: prost::Message + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    type Encode = Req;
    type Decode = Resp;
    type Encoder = tonic_prost::ProstEncoder<Req>;
    type Decoder = MarkingDecoder<Resp>;

    fn encoder(&mut self) -> Self::Encoder {
        tonic_prost::ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        MarkingDecoder(PhantomData)
    }
}

/// The decoder of [`MarkingCodec`].
struct MarkingDecoder<Resp>(PhantomData<Resp>);

impl<Resp: prost::Message + Default> Decoder for MarkingDecoder<Resp> {
    type Item = Resp;
    type Error = tonic::Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Resp>, tonic::Status> {
        Resp::decode(buf).map(Some).map_err(|err| {
            let message = format!("undecodable protobuf: {err}");
            let mut status = tonic::Status::internal(message.clone());
            status.set_source(Arc::new(UndecodableResponse(message)));
            status
        })
    }
}
