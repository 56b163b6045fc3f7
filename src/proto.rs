//! **Raw surface (feature `raw`), not covered by this crate's semver
//! promise**: the protobuf types and tonic stubs generated from `proto/` at
//! build time.
//!
//! Most users need none of this: the [`Client`](crate::Client) speaks in the
//! domain types of [`crate::types`]. It is here for advanced use, such as
//! calling the raw tonic client or implementing the service yourself. These
//! are tonic's and prost's types: a new major version of either changes them
//! in a minor release of this crate. Without the `raw` feature (or
//! `test-server`, which turns it on) this module is private.

#![cfg_attr(not(feature = "raw"), allow(unreachable_pub, dead_code))]

/// The Factify API, package `factify.api.v1beta`.
pub mod factify {
    /// The Factify API, package `factify.api.v1beta`.
    pub mod api {
        /// The Factify API, package `factify.api.v1beta`.
        pub mod v1beta {
            #![allow(missing_docs, clippy::all, unreachable_pub)]
            tonic::include_proto!("factify.api.v1beta");
        }
    }
}

/// Google's error model, package `google.rpc`.
pub mod google {
    /// Google's error model, package `google.rpc`.
    pub mod rpc {
        #![allow(missing_docs, clippy::all, unreachable_pub)]
        tonic::include_proto!("google.rpc");
    }
}

pub use factify::api::v1beta::*;

/// The encoded `google.protobuf.FileDescriptorSet` of this crate's `.proto`
/// files and everything they import (`factify.api.v1beta`, `google.rpc`,
/// `google.protobuf`), compiled at build time: what server reflection
/// serves and the Connect protocol's JSON mapping reads names from.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/factify_descriptor_set.bin"));
