//! **Raw surface (feature `raw`), not covered by this crate's semver
//! promise**: the protobuf types and tonic stubs of the
//! [`factify-invites-proto`](factify_invites_proto) crate, generated from
//! its `proto/` at build time.
//!
//! Most users need none of this: the [`Client`](crate::Client) speaks in the
//! domain types of [`crate::types`]. It is here for advanced use, such as
//! calling the raw tonic client or implementing the service yourself. These
//! are tonic's and prost's types: a new major version of either changes them
//! in a minor release of this crate. Without the `raw` feature this module is
//! private.

#![cfg_attr(
    not(feature = "raw"),
    allow(unreachable_pub, dead_code, unused_imports)
)]

pub use factify_invites_proto::factify::api::v1beta::*;
pub use factify_invites_proto::{factify, google, FILE_DESCRIPTOR_SET};
