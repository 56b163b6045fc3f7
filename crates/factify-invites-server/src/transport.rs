//! Serving the reference server: over TCP ([`ReferenceServer::start`],
//! [`RunningServer`]) or over an in-memory pipe
//! ([`ReferenceServer::in_memory_channel`]).
//!
//! All serving goes through one function, [`serve`], which takes a stream of
//! connections and a shutdown future, so that another protocol or fault
//! injection can be added in one place.
//!
//! Like a Connect server, one port answers every protocol: hyper-util's
//! automatic connection builder speaks HTTP/1.1 and HTTP/2 (plaintext h2c,
//! detected by its preface). Paths under `/admin/` go to the admin surface
//! ([`super::admin`]); other requests are routed by their `content-type`:
//! `application/grpc-web*` through `tonic-web` and `application/grpc*`
//! directly to the gRPC services (the API, health and reflection:
//! [`super::discovery`]), `application/connect+*` (streaming) through
//! [`super::connect_streaming`] to them too, anything else to the unary
//! Connect handler ([`super::connect`]). All honour the client's deadline (`grpc-timeout`,
//! `connect-timeout-ms`). CORS ([`super::web`]), when on, wraps them all.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::{Stream, StreamExt};
use tonic::service::Routes;
use tonic::transport::{Channel, Endpoint};
use tonic_web::GrpcWebService;
use tower::Layer;

use crate::server::ReferenceServer;

/// The buffer of each direction of an in-memory connection.
const DUPLEX_BUFFER: usize = 64 * 1024;

/// Serves `server` over gRPC and Connect on every connection of `incoming`
/// until `shutdown` completes (or `incoming` ends), then lets the calls in
/// flight finish and closes the connections (graceful).
pub(crate) async fn serve<I, IO, IE, F>(server: ReferenceServer, incoming: I, shutdown: F)
where
    I: Stream<Item = Result<IO, IE>>,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    IE: std::fmt::Display,
    F: Future<Output = ()>,
{
    let (grpc, health) = super::discovery::grpc_services(&server).await;
    let grpc_web = tonic_web::GrpcWebLayer::new().layer(grpc.clone());
    let cors = server.cors.layer();
    let routed = tower::service_fn(move |request: http::Request<Incoming>| {
        let server = server.clone();
        let grpc = grpc.clone();
        let grpc_web = grpc_web.clone();
        async move { Ok::<_, Infallible>(route(server, grpc, grpc_web, request).await) }
    });
    let routed = tower::ServiceBuilder::new()
        .option_layer(cors)
        .service(routed);
    let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
        tower::ServiceExt::oneshot(routed.clone(), request)
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    tokio::pin!(incoming);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            next = incoming.next() => match next {
                Some(Ok(io)) => {
                    let connection = builder
                        .serve_connection(TokioIo::new(io), service.clone())
                        .into_owned();
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(error) = connection.await {
                            tracing::debug!(%error, "reference server connection ended with an error");
                        }
                    });
                }
                Some(Err(error)) => tracing::warn!(%error, "reference server: accepting failed"),
                None => break,
            },
            () = &mut shutdown => break,
        }
    }
    super::discovery::stopping(health).await;
    graceful.shutdown().await;
}

/// Routes one request: the admin surface by its path, then by content type
/// gRPC-Web (translated by `tonic-web`), gRPC and Connect streaming (bridged)
/// to the gRPC services (the API, health, reflection), the rest to the
/// Connect handler (unary).
async fn route(
    server: ReferenceServer,
    grpc: Routes,
    grpc_web: GrpcWebService<Routes>,
    request: http::Request<Incoming>,
) -> http::Response<tonic::body::Body> {
    if request.uri().path().starts_with(super::admin::PREFIX) {
        return super::admin::handle(server, request).await;
    }
    let content_type = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .map(http::HeaderValue::as_bytes)
        .unwrap_or_default();
    if content_type.starts_with(b"application/grpc") {
        // Only protobuf is served; a JSON codec would otherwise fail deep
        // in decoding.
        let media_type = content_type
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default();
        match media_type {
            b"application/grpc" | b"application/grpc+proto" => within_deadline(grpc, request).await,
            b"application/grpc-web"
            | b"application/grpc-web+proto"
            | b"application/grpc-web-text"
            | b"application/grpc-web-text+proto" => within_deadline(grpc_web, request).await,
            _ => unsupported_grpc_media_type(),
        }
    } else if super::connect_streaming::is_connect_streaming(content_type) {
        super::connect_streaming::handle(request, |request| within_deadline(grpc, request)).await
    } else {
        super::connect::handle(server, request).await
    }
}

/// `415` for a gRPC or gRPC-Web codec other than protobuf, naming those
/// served.
fn unsupported_grpc_media_type() -> http::Response<tonic::body::Body> {
    let mut response = http::Response::new(tonic::body::Body::empty());
    *response.status_mut() = http::StatusCode::UNSUPPORTED_MEDIA_TYPE;
    response.headers_mut().insert(
        "accept-post",
        http::HeaderValue::from_static(
            "application/grpc, application/grpc+proto, application/grpc-web, \
             application/grpc-web+proto, application/grpc-web-text, application/grpc-web-text+proto",
        ),
    );
    response
}

/// Calls a gRPC `service` under the request's `grpc-timeout`, if any.
async fn within_deadline<S>(
    service: S,
    request: http::Request<Incoming>,
) -> http::Response<tonic::body::Body>
where
    S: tower::Service<
        http::Request<Incoming>,
        Response = http::Response<tonic::body::Body>,
        Error = Infallible,
    >,
{
    let deadline = request
        .headers()
        .get("grpc-timeout")
        .and_then(|value| value.to_str().ok())
        .and_then(parse_grpc_timeout);
    let call = tower::ServiceExt::oneshot(service, request);
    let outcome = match deadline {
        Some(deadline) => match tokio::time::timeout(deadline, call).await {
            Ok(outcome) => outcome,
            Err(_) => {
                return tonic::Status::deadline_exceeded(format!(
                    "the call did not complete within its deadline of {deadline:?}"
                ))
                .into_http()
            }
        },
        None => call.await,
    };
    match outcome {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// A `grpc-timeout` value: up to 8 digits and a unit (`H`, `M`, `S`, `m`,
/// `u`, `n`).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let split = value.len().checked_sub(1)?;
    let (digits, unit) = (value.get(..split)?, value.get(split..)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
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
    task: Option<JoinHandle<()>>,
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
            if let Err(error) = task.await {
                tracing::warn!(%error, "reference server task failed");
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
        // Small unary calls: send each response at once (no Nagle delay).
        let incoming = TcpListenerStream::new(listener).map(|stream| {
            stream.inspect(|stream| {
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
        // The stream must not end after its one connection (serving would
        // then shut the connection down); it stops when it closes instead.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse() {
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(
            parse_grpc_timeout("99999999u"),
            Some(Duration::from_micros(99_999_999))
        );
        for bad in ["", "S", "5", "5s", "123456789S", "-1S", "1.5S", "5é"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad}");
        }
    }
}
