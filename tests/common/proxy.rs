//! A TCP proxy on `127.0.0.1:0` in front of a server, that a test can tell
//! to cut every open connection at once (the peer sees a reset), to show a
//! connection failing in the middle of a call or of a paginated stream; or
//! to freeze them (the sockets stay open and carry no more bytes, as when a
//! NAT or a peer silently drops a connection); and that counts the
//! connections clients open, and the most open at once.

#![allow(unreachable_pub, dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One forwarded connection: its task, and the switch that freezes it.
struct Connection {
    task: JoinHandle<()>,
    freeze: watch::Sender<bool>,
}

/// Counts a connection as open while it lives.
struct OpenGuard(Arc<Counters>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Default)]
struct Counters {
    accepted: AtomicUsize,
    open: AtomicUsize,
    peak_open: AtomicUsize,
}

/// The proxy; dropping it stops it and cuts its connections.
pub struct Proxy {
    addr: SocketAddr,
    counters: Arc<Counters>,
    connections: Arc<Mutex<Vec<Connection>>>,
    acceptor: JoinHandle<()>,
}

impl Proxy {
    /// Starts forwarding `127.0.0.1:<free port>` to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let counters = Arc::new(Counters::default());
        let connections: Arc<Mutex<Vec<Connection>>> = Arc::default();
        let acceptor = tokio::spawn({
            let counters = counters.clone();
            let connections = connections.clone();
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    counters.accepted.fetch_add(1, Ordering::SeqCst);
                    let open = counters.open.fetch_add(1, Ordering::SeqCst) + 1;
                    counters.peak_open.fetch_max(open, Ordering::SeqCst);
                    let guard = OpenGuard(counters.clone());
                    let (freeze, mut frozen) = watch::channel(false);
                    let task = tokio::spawn(async move {
                        let _guard = guard;
                        let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                            return;
                        };
                        let forward = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                        let freeze = async move {
                            let _ = frozen.wait_for(|frozen| *frozen).await;
                        };
                        tokio::select! {
                            _ = forward => return,
                            _ = freeze => {}
                        }
                        // Frozen: hold both sockets open, carrying nothing,
                        // until the test cuts them or drops the proxy.
                        std::future::pending::<()>().await;
                    });
                    let mut connections = connections.lock().unwrap();
                    connections.retain(|connection| !connection.task.is_finished());
                    connections.push(Connection { task, freeze });
                }
            }
        });
        Proxy {
            addr,
            counters,
            connections,
            acceptor,
        }
    }

    /// The proxy's `http://` endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections clients have opened through the proxy.
    pub fn accepted(&self) -> usize {
        self.counters.accepted.load(Ordering::SeqCst)
    }

    /// How many connections are open now.
    pub fn open(&self) -> usize {
        self.counters.open.load(Ordering::SeqCst)
    }

    /// The most connections that were open at once.
    pub fn peak_open(&self) -> usize {
        self.counters.peak_open.load(Ordering::SeqCst)
    }

    /// Cuts every open connection: both sockets are dropped mid-stream.
    pub fn cut_all(&self) {
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.task.abort();
        }
    }

    /// Freezes every open connection: from now on it carries no bytes in
    /// either direction, but both sockets stay open (no FIN, no reset).
    /// Connections opened later are forwarded normally.
    pub fn freeze_all(&self) {
        for connection in self.connections.lock().unwrap().iter() {
            let _ = connection.freeze.send(true);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.cut_all();
    }
}
