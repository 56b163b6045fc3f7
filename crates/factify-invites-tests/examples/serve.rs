//! Serves the in-memory reference server on a TCP port, gRPC and Connect
//! on the same port, seeded with the default fixture, until killed: for
//! trying other clients (`buf curl`, `grpcurl`, `curl`, the quickstart)
//! against it.
//!
//! ```text
//! cargo run --example serve                 # a free port on 127.0.0.1
//! FACTIFY_SERVE_ADDR=127.0.0.1:8080 cargo run --example serve
//! ```
//!
//! It prints the settings a client needs, in the environment variables
//! the crate and the quickstart read:
//!
//! ```text
//! FACTIFY_ENDPOINT=http://127.0.0.1:41234
//! FACTIFY_API_KEY=ffy_...
//! FACTIFY_ORGANIZATION_ID=org_...
//! ```

use std::io::Write;
use std::net::SocketAddr;

use factify_invites_server::ReferenceServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::var("FACTIFY_SERVE_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:0".to_owned())
        .parse()?;
    let server = ReferenceServer::new();
    let fixture = server.fixture();
    let running = server.start_on(addr).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "FACTIFY_ENDPOINT={}", running.endpoint())?;
    writeln!(out, "FACTIFY_API_KEY={}", fixture.admin_key)?;
    writeln!(out, "FACTIFY_ORGANIZATION_ID={}", fixture.organization)?;
    out.flush()?;
    drop(out);
    // Serve until the process is killed.
    std::future::pending::<()>().await;
    Ok(())
}
