//! A guard under the tonic channel that checks a gRPC response's
//! `grpc-status-details-bin` (in its headers, for a trailers-only answer,
//! and in its trailers) before tonic reads it.
//!
//! tonic 0.14 decodes that value with `.expect(...)`: a server that sends
//! text that is not base64 panics the client (upstream,
//! <https://github.com/grpc/grpc-rust/pull/2618>, open when this was
//! written). Here such a value is dropped before tonic sees it, and a note
//! is appended to `grpc-message`, so the call still ends with the server's
//! code and message, and its error says the details were malformed. Once
//! tonic no longer panics, this module can go.

use std::pin::Pin;
use std::task::{Context, Poll};

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use bytes::Bytes;
use futures::future::MapOk;
use futures::TryFutureExt;
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use tower::Service;

/// The header tonic decodes, and would panic on.
const DETAILS: HeaderName = HeaderName::from_static("grpc-status-details-bin");
/// The header that carries the status message.
const MESSAGE: HeaderName = HeaderName::from_static("grpc-message");
/// What the call's error message gains when the details were dropped.
pub(crate) const DROPPED_NOTE: &str =
    "[the server's grpc-status-details-bin was not valid base64; its details were dropped]";

/// The same base64 tonic decodes with (standard alphabet, padding optional):
/// what this accepts, tonic accepts.
const TONIC_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Drops an undecodable `grpc-status-details-bin` from `headers`, noting it
/// in `grpc-message`.
fn guard(headers: &mut HeaderMap) {
    let decodable = headers
        .get_all(DETAILS)
        .iter()
        .all(|value| TONIC_BASE64.decode(value.as_bytes()).is_ok());
    if decodable {
        return;
    }
    headers.remove(DETAILS);
    let mut message = headers
        .get(MESSAGE)
        .map(|value| value.as_bytes().to_vec())
        .unwrap_or_default();
    if !message.is_empty() {
        message.push(b' ');
    }
    message.extend_from_slice(DROPPED_NOTE.as_bytes());
    // The old message was a valid header value, and the note is plain ASCII.
    if let Ok(value) = HeaderValue::from_bytes(&message) {
        headers.insert(MESSAGE, value);
    }
}

/// The service under [`tonic::client::Grpc`]: `inner` (the channel), with
/// every response's status headers and trailers checked.
#[derive(Debug, Clone)]
pub(crate) struct StatusGuard<S> {
    inner: S,
}

impl<S> StatusGuard<S> {
    pub(crate) fn new(inner: S) -> StatusGuard<S> {
        StatusGuard { inner }
    }
}

type Guarded<B> = fn(http::Response<B>) -> http::Response<GuardedBody<B>>;

fn guard_response<B>(mut response: http::Response<B>) -> http::Response<GuardedBody<B>> {
    guard(response.headers_mut());
    response.map(|inner| GuardedBody { inner })
}

impl<S, Req, B> Service<http::Request<Req>> for StatusGuard<S>
where
    S: Service<http::Request<Req>, Response = http::Response<B>>,
{
    type Response = http::Response<GuardedBody<B>>;
    type Error = S::Error;
    type Future = MapOk<S::Future, Guarded<B>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Req>) -> Self::Future {
        self.inner
            .call(request)
            .map_ok(guard_response as Guarded<B>)
    }
}

/// A response body whose trailers are checked as they arrive.
#[derive(Debug)]
pub(crate) struct GuardedBody<B> {
    inner: B,
}

impl<B> Body for GuardedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner)
            .poll_frame(cx)
            .map_ok(|frame| match frame.into_trailers() {
                Ok(mut trailers) => {
                    guard(&mut trailers);
                    Frame::trailers(trailers)
                }
                Err(frame) => frame,
            })
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undecodable_details_are_dropped_and_noted() {
        let mut headers = HeaderMap::new();
        headers.insert(DETAILS, HeaderValue::from_static("%%% not base64 %%%"));
        headers.insert(MESSAGE, HeaderValue::from_static("slow down"));
        guard(&mut headers);
        assert!(headers.get(DETAILS).is_none());
        assert_eq!(
            headers[MESSAGE].to_str().unwrap(),
            format!("slow down {DROPPED_NOTE}")
        );

        let mut valid = HeaderMap::new();
        valid.insert(DETAILS, HeaderValue::from_static("CAg")); // unpadded
        guard(&mut valid);
        assert_eq!(valid[DETAILS], "CAg");
        assert!(valid.get(MESSAGE).is_none());
    }
}
