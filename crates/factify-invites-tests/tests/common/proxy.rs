//! A TCP proxy on `127.0.0.1:0` in front of a server, that a test can tell
//! to cut every open connection at once (the peer sees a reset), to show a
//! connection failing in the middle of a call or of a paginated stream; or
//! to freeze them (the sockets stay open and carry no more bytes, as when a
//! NAT or a peer silently drops a connection); and that counts the
//! connections clients open, and the most open at once (as the proxy sees
//! them, or as the client's kernel does).

#![allow(unreachable_pub, dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
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

/// How many sockets of this machine are connected to `127.0.0.1:<port>`
/// and not closed by their own side (the kernel's view, at once), from
/// `/proc/net/tcp`; `None` where it cannot be read.
///
/// The kernel writes that table a page at a time while connections come
/// and go (on the whole machine), so one reading can list a socket twice,
/// or list one that closed beside the one that replaced it: sockets are
/// counted by address, and [`ClientSockets`] keeps the smaller of two
/// readings in a row.
fn client_sockets_to(port: u16) -> Option<usize> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let remote = format!("0100007F:{port:04X}");
    // A socket listed twice (the table changed under the reading) counts
    // once: by its own address.
    let sockets: std::collections::HashSet<&str> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split_whitespace().skip(1);
            let (local, peer, state) = (fields.next()?, fields.next()?, fields.next()?);
            (peer == remote && state == "01").then_some(local)
        })
        .collect();
    Some(sockets.len())
}

/// Watches, from a thread of its own, how many client sockets are
/// connected to the proxy: the client's own count, as its kernel sees it,
/// without waiting for the proxy to hear of closed connections.
pub struct ClientSockets {
    running: Arc<std::sync::atomic::AtomicBool>,
    sampler: std::thread::JoinHandle<Option<usize>>,
}

impl ClientSockets {
    /// Stops watching; the most client sockets seen open at once, or
    /// `None` where the kernel's table cannot be read (not Linux).
    pub fn peak(self) -> Option<usize> {
        self.running.store(false, Ordering::SeqCst);
        self.sampler.join().expect("socket sampler")
    }
}

/// The proxy; dropping it stops it and cuts its connections.
pub struct Proxy {
    addr: SocketAddr,
    counters: Arc<Counters>,
    connections: Arc<Mutex<Vec<Connection>>>,
    acceptor: JoinHandle<()>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Proxy {
    /// Starts forwarding `127.0.0.1:<free port>` to `upstream`, on a
    /// thread and runtime of its own: like a proxy on another machine, it
    /// keeps up (and keeps real time) while the test's runtime is busy or
    /// its clock paused.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("test-proxy")
            .enable_all()
            .build()
            .expect("proxy runtime");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("proxy address");
        let listener = {
            let _inside = runtime.enter();
            TcpListener::from_std(listener).expect("proxy listener")
        };
        let counters = Arc::new(Counters::default());
        let connections: Arc<Mutex<Vec<Connection>>> = Arc::default();
        let acceptor = runtime.spawn({
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
                        let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                            return;
                        };
                        // Forward small writes at once, as the ends do.
                        let _ = inbound.set_nodelay(true);
                        let _ = outbound.set_nodelay(true);
                        let (mut from_client, mut to_client) = inbound.split();
                        let (mut from_server, mut to_server) = outbound.split();
                        // The connection counts as open until the client
                        // closes its end: a server may notice later.
                        let upstream = async move {
                            let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
                            drop(guard);
                            let _ = to_server.shutdown().await;
                        };
                        let downstream = async move {
                            let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                            let _ = to_client.shutdown().await;
                        };
                        let freeze = async move {
                            let _ = frozen.wait_for(|frozen| *frozen).await;
                        };
                        tokio::select! {
                            _ = async { tokio::join!(upstream, downstream) } => return,
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
            runtime: Some(runtime),
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

    /// How many connections are open now (the client has not closed them).
    pub fn open(&self) -> usize {
        self.counters.open.load(Ordering::SeqCst)
    }

    /// The most connections that were open at once (that the client had
    /// not closed). The proxy hears of a close when its task next runs: on
    /// a busy machine, a connection the client just closed may still count
    /// when the next one is accepted.
    pub fn peak_open(&self) -> usize {
        self.counters.peak_open.load(Ordering::SeqCst)
    }

    /// Starts counting the client sockets connected to the proxy, every
    /// 10 ms or so, until [`ClientSockets::peak`].
    pub fn watch_client_sockets(&self) -> ClientSockets {
        let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let port = self.addr.port();
        let sampler = std::thread::spawn({
            let running = running.clone();
            move || {
                let mut peak = client_sockets_to(port)?;
                while running.load(Ordering::SeqCst) {
                    let first = client_sockets_to(port)?;
                    let second = client_sockets_to(port)?;
                    peak = peak.max(first.min(second));
                    // Each reading costs the kernel a walk of every socket:
                    // leave the two cores to the test between them.
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Some(peak)
            }
        });
        ClientSockets { running, sampler }
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
        if let Some(runtime) = self.runtime.take() {
            // Drops the proxy's tasks, and so its sockets, without blocking.
            runtime.shutdown_background();
        }
    }
}
