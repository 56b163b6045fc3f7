//! # factify-invites-proto
//!
//! The protobuf contract of Factify's organization invitations API
//! (`factify.api.v1beta.OrganizationInviteService`), compiled at build time
//! from `proto/` (prost types, tonic stubs and the descriptor set), and the
//! Connect protocol's unary wire format: the two crates that speak the
//! contract, the client [`factify-invites`](https://docs.rs/factify-invites)
//! and the reference server
//! [`factify-invites-server`](https://docs.rs/factify-invites-server), share
//! this code so that they cannot drift apart.
//!
//! **Most users want `factify-invites`, not this crate.** Its types are
//! tonic's and prost's: a new major version of either changes them in a
//! minor release of this crate, and the `json` and `wire` modules serve the
//! two crates above first. The client re-exports the generated code as
//! `factify_invites::proto` behind its `raw` feature.
//!
//! | feature | what it adds |
//! |---|---|
//! | `connect` | [`json`] (the canonical JSON mapping, by hand) and [`wire`] (codecs, gzip, headers, error bodies); pulls in serde, serde_json, flate2, base64, chrono |
//! | `server` | the tonic server stubs (`organization_invite_service_server`) |

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

pub mod enum_names;
#[cfg(feature = "connect")]
pub mod json;
#[cfg(feature = "connect")]
pub mod wire;

pub use factify::api::v1beta::*;

/// The encoded `google.protobuf.FileDescriptorSet` of the `.proto` files
/// and everything they import (`factify.api.v1beta`, `google.rpc`,
/// `google.protobuf`), compiled at build time: what server reflection
/// serves and what renders error details as JSON.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/factify_descriptor_set.bin"));

/// The `google.protobuf.Any` type URL of Factify's `ErrorDetail`.
pub const ERROR_DETAIL_TYPE_URL: &str = "type.googleapis.com/factify.api.v1beta.ErrorDetail";
/// The `google.protobuf.Any` type URL of `google.rpc.RetryInfo`.
pub const RETRY_INFO_TYPE_URL: &str = "type.googleapis.com/google.rpc.RetryInfo";
