//! The bound on a Connect client's connections: at most
//! `max_connections_per_host` connections open to the server at once (idle
//! ones included), and, while calls are known to go over HTTP/1.1, at most
//! that many calls in flight; the others wait, inside their deadline, for a
//! free connection.
//!
//! hyper-util's pool has a limit on *idle* connections only: every call in
//! flight that finds none idle opens one more. Two permits close that gap.
//! A [`LimitedConnector`] under the pool holds one permit per open socket
//! (given back when hyper drops the socket), so no race inside the pool can
//! open more. A [`CallGate`] in front of it admits as many HTTP/1.1 calls
//! as there are connections, so that a waiting call queues (first come,
//! first served) rather than asking for a connection it cannot get. Once a
//! response says the server speaks HTTP/2, every call shares one
//! multiplexed connection and the gate stands open.
//!
//! An HTTP/1.1 call that runs out of time on a connection is a sign that
//! the path to the server may be dead (a NAT or a peer that dropped its
//! connections without a word): its connection is closed, and the idle
//! ones, likely dead too, are forgotten with it ([`Connections`]), so that
//! each of them does not cost one more call its deadline. HTTP/2 has its
//! keep-alive pings for that.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::Full;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connect, Connected, Connection};
use hyper_util::client::legacy::{Builder, Client};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::Service;

/// A boxed error of a connector.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Admits calls while HTTP/1.1 is in use: at most one per connection.
#[derive(Debug)]
pub(crate) struct CallGate {
    permits: Arc<Semaphore>,
    /// Set once a response came over HTTP/2: the gate then admits everyone.
    multiplexed: AtomicBool,
}

impl CallGate {
    /// A gate for `max` connections; open from the start if the transport
    /// speaks HTTP/2 only.
    pub(crate) fn new(max: usize, http2_only: bool) -> CallGate {
        CallGate {
            permits: Arc::new(Semaphore::new(max)),
            multiplexed: AtomicBool::new(http2_only),
        }
    }

    /// Waits for a turn; the call keeps the permit until its response has
    /// been read whole (or it is dropped). `None` over HTTP/2.
    pub(crate) async fn enter(&self) -> Option<OwnedSemaphorePermit> {
        if self.multiplexed.load(Ordering::Relaxed) {
            return None;
        }
        // The semaphore is never closed.
        self.permits.clone().acquire_owned().await.ok()
    }

    /// Whether calls are known to share one HTTP/2 connection.
    pub(crate) fn is_multiplexed(&self) -> bool {
        self.multiplexed.load(Ordering::Relaxed)
    }

    /// Records the HTTP version of a response.
    pub(crate) fn saw(&self, version: http::Version) {
        if version == http::Version::HTTP_2 {
            self.multiplexed.store(true, Ordering::Relaxed);
        }
    }
}

/// hyper-util's pooled client, replaced by a fresh one (with an empty
/// pool, over the same connector and so the same limit) to forget every
/// idle connection at once.
pub(crate) struct Connections<C> {
    builder: Builder,
    connector: C,
    client: RwLock<Client<C, Full<Bytes>>>,
}

impl<C> fmt::Debug for Connections<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connections").finish_non_exhaustive()
    }
}

impl<C: Connect + Clone + Send + Sync + 'static> Connections<C> {
    /// A pool built by `builder` over `connector`.
    pub(crate) fn new(builder: Builder, connector: C) -> Connections<C> {
        let client = RwLock::new(builder.build(connector.clone()));
        Connections {
            builder,
            connector,
            client,
        }
    }

    /// The current client (a cheap clone: its pool is shared).
    pub(crate) fn client(&self) -> Client<C, Full<Bytes>> {
        self.client
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Forgets the idle connections: later calls open new ones. Calls in
    /// flight keep theirs, which close when they end.
    pub(crate) fn forget_idle(&self) {
        let fresh = self.builder.build(self.connector.clone());
        *self.client.write().unwrap_or_else(PoisonError::into_inner) = fresh;
    }
}

/// A connector that opens a connection only while fewer than the maximum
/// are open.
#[derive(Debug, Clone)]
pub(crate) struct LimitedConnector<C> {
    inner: C,
    permits: Arc<Semaphore>,
    max: usize,
    /// How long a connection attempt waits for another connection to close.
    wait: Duration,
}

impl<C> LimitedConnector<C> {
    /// Limits `inner` to `max` open connections; an attempt waits at most
    /// `wait` for one of them to close.
    pub(crate) fn new(inner: C, max: usize, wait: Duration) -> LimitedConnector<C> {
        LimitedConnector {
            inner,
            permits: Arc::new(Semaphore::new(max)),
            max,
            wait,
        }
    }
}

/// No connection closed in time to make room for a new one.
#[derive(Debug)]
struct PoolFull {
    max: usize,
    wait: Duration,
}

impl fmt::Display for PoolFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "all {} connections to the server (max_connections_per_host) stayed busy for {:?}",
            self.max, self.wait
        )
    }
}

impl std::error::Error for PoolFull {}

impl<C> Service<Uri> for LimitedConnector<C>
where
    C: Service<Uri> + Clone + Send + 'static,
    C::Future: Send,
    C::Response: Send,
    C::Error: Into<BoxError>,
{
    type Response = Counted<C::Response>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        // The connector that was polled ready makes the call; a clone
        // takes its place (tower's convention).
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let permits = self.permits.clone();
        let (max, wait) = (self.max, self.wait);
        Box::pin(async move {
            let permit = match tokio::time::timeout(wait, permits.acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                // The semaphore is never closed; a timeout is a full pool.
                Ok(Err(_)) | Err(_) => return Err(Box::new(PoolFull { max, wait }) as BoxError),
            };
            let io = inner.call(uri).await.map_err(Into::into)?;
            Ok(Counted {
                io,
                _permit: permit,
            })
        })
    }
}

/// A connection that holds its place in the limit until hyper drops it.
#[derive(Debug)]
pub(crate) struct Counted<T> {
    io: T,
    _permit: OwnedSemaphorePermit,
}

impl<T: Connection> Connection for Counted<T> {
    fn connected(&self) -> Connected {
        self.io.connected()
    }
}

impl<T: Read + Unpin> Read for Counted<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: Write + Unpin> Write for Counted<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    /// A connector whose connections are plain tokens.
    #[derive(Debug, Clone)]
    struct Tokens;

    impl Service<Uri> for Tokens {
        type Response = ();
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<Result<(), Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Uri) -> Self::Future {
            std::future::ready(Ok(()))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_beyond_the_limit_waits_for_one_to_close() {
        let connector = LimitedConnector::new(Tokens, 2, Duration::from_secs(10));
        let uri = Uri::from_static("http://127.0.0.1:1");
        let open = |connector: &LimitedConnector<Tokens>| connector.clone().oneshot(uri.clone());
        let first = open(&connector).await.unwrap();
        let _second = open(&connector).await.unwrap();

        let third = tokio::spawn(open(&connector));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!third.is_finished(), "a third connection opened beside two");
        drop(first);
        third
            .await
            .unwrap()
            .expect("the closed connection made room");
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_finds_no_room_in_time_is_an_error() {
        let connector = LimitedConnector::new(Tokens, 1, Duration::from_secs(10));
        let uri = Uri::from_static("http://127.0.0.1:1");
        let _only = connector.clone().oneshot(uri.clone()).await.unwrap();
        let err = connector.clone().oneshot(uri).await.unwrap_err();
        assert!(
            err.to_string().contains("max_connections_per_host"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_gate_admits_one_call_per_connection_until_http2_is_seen() {
        let gate = CallGate::new(1, false);
        let turn = gate.enter().await;
        assert!(turn.is_some());
        let waiting = tokio::time::timeout(Duration::from_millis(10), gate.enter()).await;
        assert!(waiting.is_err(), "a second HTTP/1.1 call got in");
        gate.saw(http::Version::HTTP_2);
        assert!(
            gate.enter().await.is_none(),
            "HTTP/2 multiplexes: no turn needed"
        );
        assert!(CallGate::new(1, true).enter().await.is_none());
    }
}
