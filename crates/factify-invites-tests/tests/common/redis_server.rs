//! A real `redis-server` (Debian's package) on a free loopback port, for
//! the tests of the shared rate limit: started without persistence, killed
//! and restarted on the same port, paused, and stopped when dropped.
//!
//! Include it with `#[path = "common/redis_server.rs"] mod redis_server;`.
//! Without `redis-server` on the `PATH` the tests fail and say how to
//! install it, unless `FACTIFY_SKIP_REDIS_TESTS=1` (which `.ci/run` sets,
//! and announces, only when it could not install it).

#![allow(dead_code, unreachable_pub)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running (or killed) `redis-server`.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

/// Whether the Redis tests are to be skipped (only when `.ci/run` could
/// not install `redis-server` and said so).
pub fn skipped() -> bool {
    if std::env::var_os("FACTIFY_SKIP_REDIS_TESTS").is_some_and(|v| v == "1") {
        eprintln!("FACTIFY_SKIP_REDIS_TESTS=1: skipping a test that needs redis-server");
        return true;
    }
    false
}

impl RedisServer {
    /// Starts `redis-server` on a free loopback port and waits until it
    /// answers `PING`.
    pub async fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let mut server = RedisServer { port, child: None };
        server.restart().await;
        server
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (SIGKILL: no goodbye to its clients).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops (`SIGSTOP`) or resumes (`SIGCONT`) the server: a Redis that
    /// hangs, its connections open and silent.
    pub fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            let status = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .expect("run kill");
            assert!(status.success(), "kill {signal} failed");
        }
    }

    /// Starts the server again on the same port (empty: nothing is saved).
    pub async fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "could not start redis-server ({err}): install Debian's `redis-server` \
                     (apt-get install redis-server), or set FACTIFY_SKIP_REDIS_TESTS=1"
                )
            });
        self.child = Some(child);
        // redis-server has no readiness signal: ask until it answers.
        for _ in 0..500 {
            if self.ping().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("redis-server on port {} did not answer PING", self.port);
    }

    /// A fresh connection of its own.
    pub async fn connection(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        redis::Client::open(self.url())?
            .get_multiplexed_async_connection()
            .await
    }

    async fn ping(&self) -> redis::RedisResult<String> {
        let mut connection = self.connection().await?;
        redis::cmd("PING").query_async(&mut connection).await
    }

    /// Runs one command and returns its answer.
    pub async fn query<T: redis::FromRedisValue>(&self, args: &[&str]) -> T {
        let mut connection = self.connection().await.expect("connect to redis");
        let mut cmd = redis::cmd(args[0]);
        for arg in &args[1..] {
            cmd.arg(*arg);
        }
        cmd.query_async(&mut connection)
            .await
            .unwrap_or_else(|err| panic!("redis {args:?}: {err}"))
    }

    /// The keys under `pattern`.
    pub async fn keys(&self, pattern: &str) -> Vec<String> {
        self.query(&["KEYS", pattern]).await
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
