//! Telling a status the server sent from one tonic made itself.
//!
//! tonic reports both the same way: a `tonic::Status` with no source, such
//! as `INTERNAL` or `OUT_OF_RANGE` for a response it refused (an oversized
//! frame, a bad compression flag, a body that ends mid-message). The only
//! sure difference is whether the server gave a status: a `grpc-status` in
//! the response headers (trailers-only) or trailers, or an HTTP status
//! other than 200 (a proxy's 503, which tonic maps to a code as the gRPC
//! specification says). [`Watched`] wraps the channel and records that in a
//! per-call [`StatusSeen`], so that the client classifies by what happened
//! on the wire, not by tonic's words.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use tonic::body::Body;
use tonic::transport::Channel;

/// Whether the server gave a status for one call (a `grpc-status`, or an
/// HTTP status other than 200); set by [`Watched`] when the call's request
/// carries it as an extension.
#[derive(Debug, Clone, Default)]
pub(crate) struct StatusSeen(Arc<AtomicBool>);

impl StatusSeen {
    /// Whether the server gave a status.
    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Release);
    }

    fn note(&self, headers: &HeaderMap) {
        if headers.contains_key("grpc-status") {
            self.set();
        }
    }
}

/// A [`Channel`] whose responses report a server's `grpc-status` to the
/// call's [`StatusSeen`].
#[derive(Debug, Clone)]
pub(crate) struct Watched(pub(crate) Channel);

impl tower::Service<http::Request<Body>> for Watched {
    type Response = http::Response<WatchedBody>;
    type Error = tonic::transport::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let seen = request.extensions().get::<StatusSeen>().cloned();
        let response = self.0.call(request);
        Box::pin(async move {
            let response = response.await?;
            if let Some(seen) = &seen {
                if response.status() != http::StatusCode::OK {
                    seen.set();
                }
                seen.note(response.headers());
            }
            Ok(response.map(|body| WatchedBody { body, seen }))
        })
    }
}

/// A response body that reports a `grpc-status` in its trailers.
#[derive(Debug)]
pub(crate) struct WatchedBody {
    body: Body,
    seen: Option<StatusSeen>,
}

impl http_body::Body for WatchedBody {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, tonic::Status>>> {
        let frame = ready!(Pin::new(&mut self.body).poll_frame(cx));
        if let (Some(Ok(frame)), Some(seen)) = (&frame, &self.seen) {
            if let Some(trailers) = frame.trailers_ref() {
                seen.note(trailers);
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
