//! tmp
pub mod proto;
