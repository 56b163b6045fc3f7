//! Serving the reference server: over TCP ([`ReferenceServer::start`],
//! [`RunningServer`]) or over an in-memory pipe
//! ([`ReferenceServer::in_memory_channel`]).
//!
//! All serving goes through one function, [`serve`], which takes a stream of
//! connections and a shutdown future, so that another protocol or fault
//! injection can be added in one place.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::{Stream, StreamExt};
use tonic::transport::server::Connected;
use tonic::transport::{Channel, Endpoint, Server};

use super::ReferenceServer;

/// The buffer of each direction of an in-memory connection.
const DUPLEX_BUFFER: usize = 64 * 1024;

/// Serves `server`'s gRPC service on every connection of `incoming` until
/// `shutdown` completes, then drains the open connections (graceful).
/// Without a shutdown, it returns once `incoming` ends and its connections
/// close.
pub(crate) async fn serve<I, IO, IE, F>(
    server: ReferenceServer,
    incoming: I,
    shutdown: F,
) -> Result<(), tonic::transport::Error>
where
    I: Stream<Item = Result<IO, IE>>,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
    IE: Into<Box<dyn std::error::Error + Send + Sync>>,
    F: Future<Output = ()>,
{
    Server::builder()
        .add_service(server.service())
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}

/// A reference server listening on a TCP address, from
/// [`ReferenceServer::start`].
///
/// Stop it with [`shutdown`](RunningServer::shutdown), which waits until the
/// server has stopped; dropping it also asks the server to stop, without
/// waiting.
pub struct RunningServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
}

impl RunningServer {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to connect to, such as `http://127.0.0.1:50051`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets calls in flight finish, and waits
    /// until the server has stopped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "reference server stopped with an error"),
                Err(error) => tracing::warn!(%error, "reference server task failed"),
            }
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningServer")
            .field("addr", &self.addr)
            .field("running", &self.stop.is_some())
            .finish()
    }
}

impl ReferenceServer {
    /// Starts serving on `127.0.0.1` at a free port, in a tokio task. The
    /// port is bound before this returns, so clients can connect at once.
    ///
    /// # Errors
    ///
    /// When the port cannot be bound.
    pub async fn start(&self) -> io::Result<RunningServer> {
        self.start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
    }

    /// Starts serving on `addr` (port 0 picks a free port), in a tokio
    /// task. The port is bound before this returns.
    ///
    /// # Errors
    ///
    /// When `addr` cannot be bound.
    pub async fn start_on(&self, addr: SocketAddr) -> io::Result<RunningServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        // TCP_NODELAY, as tonic's own `serve` sets it: without it, the last
        // small write of a response (the trailers) waits for the client's
        // delayed ACK, about 40 ms per response of more than one segment.
        // Best effort: a connection that refuses it is served all the same.
        let incoming = TcpListenerStream::new(listener).map(|conn| {
            conn.inspect(|stream| {
                let _ = stream.set_nodelay(true);
            })
        });
        let task = tokio::spawn(serve(self.clone(), incoming, async move {
            // A dropped sender also means stop.
            let _ = stopped.await;
        }));
        Ok(RunningServer {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// A channel to this server through an in-memory pipe
    /// (`tokio::io::duplex`): no socket, no port. The serving task ends
    /// when the connection closes, that is when the channel and all its
    /// clones are dropped.
    ///
    /// The channel holds one connection; if it breaks, the channel cannot
    /// reconnect.
    ///
    /// # Errors
    ///
    /// When the HTTP/2 handshake over the pipe fails.
    pub async fn in_memory_channel(&self) -> Result<Channel, tonic::transport::Error> {
        let (client, server) = tokio::io::duplex(DUPLEX_BUFFER);
        let (closed, on_close) = oneshot::channel::<()>();
        let connection = InMemoryIo {
            io: server,
            _closed: closed,
        };
        // The stream must not end after its one connection (tonic would then
        // shut the connection down); the server stops when it closes instead.
        let incoming =
            tokio_stream::once(Ok::<_, io::Error>(connection)).chain(tokio_stream::pending());
        tokio::spawn(serve(self.clone(), incoming, async move {
            let _ = on_close.await;
        }));
        let mut client = Some(client);
        Endpoint::from_static("http://in-memory.invalid")
            .connect_with_connector(tower::service_fn(move |_: http::Uri| {
                let client = client.take();
                async move {
                    client.map(TokioIo::new).ok_or_else(|| {
                        io::Error::other("the in-memory connection of this channel is closed")
                    })
                }
            }))
            .await
    }
}

/// The server's end of an in-memory connection; dropping it (when the
/// connection closes) tells the serving task to stop.
#[derive(Debug)]
struct InMemoryIo {
    io: DuplexStream,
    _closed: oneshot::Sender<()>,
}

impl Connected for InMemoryIo {
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for InMemoryIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for InMemoryIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
