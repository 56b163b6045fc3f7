//! tmp
pub mod ids;
pub mod limits;
pub mod proto;
