//! tmp
pub mod ids;
pub mod proto;
