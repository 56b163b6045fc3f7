//! tmp
pub mod ids;
pub mod limits;
pub mod proto;
#[cfg(feature = "test-server")]
pub mod server;
