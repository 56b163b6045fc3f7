//! What every transport shares: the methods of the service ([`Rpc`]), one
//! attempt's wire parameters ([`Attempt`]), the messages a protocol carries
//! ([`WireMessage`]) and what comes back ([`Received`]), and which
//! directions are compressed. A leaf of `transport`: the protocols
//! (`grpc`, `connect`, `script`) import it, and it imports none of them.

use std::time::Duration;

use tonic::metadata::{AsciiMetadataKey, AsciiMetadataValue};

use crate::auth::ApiKey;
use factify_invites_proto::enum_names::EnumNames;

/// A message of the contract, as every protocol of this build carries it:
/// protobuf through prost, and (with the `connect` feature) the canonical
/// JSON mapping through the hand-written codec of `factify_invites_proto::json`.
#[cfg(feature = "connect")]
pub(crate) trait WireMessage:
    prost::Message + Default + factify_invites_proto::json::JsonMessage + Send + Sync + 'static
{
}
#[cfg(feature = "connect")]
impl<M> WireMessage for M where
    M: prost::Message + Default + factify_invites_proto::json::JsonMessage + Send + Sync + 'static
{
}
/// A message of the contract, as every protocol of this build carries it.
#[cfg(not(feature = "connect"))]
pub(crate) trait WireMessage: prost::Message + Default + Send + Sync + 'static {}
#[cfg(not(feature = "connect"))]
impl<M> WireMessage for M where M: prost::Message + Default + Send + Sync + 'static {}

/// A response as the client received it: the prost message, and the names
/// of enum values this version does not know that stand behind some of its
/// numbers (only JSON has names; the table of a protobuf response is empty).
#[derive(Debug, Default)]
pub(crate) struct Received<M> {
    /// The message.
    pub(crate) message: M,
    /// What its stand-in enum numbers stand for.
    pub(crate) names: EnumNames,
}

/// Protobuf carries no names: a `Received` decodes as its message does.
impl<M: prost::Message> prost::Message for Received<M> {
    fn encode_raw(&self, buf: &mut impl bytes::BufMut) {
        self.message.encode_raw(buf);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl bytes::Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> std::result::Result<(), prost::DecodeError> {
        self.message.merge_field(tag, wire_type, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.message.encoded_len()
    }

    fn clear(&mut self) {
        self.message.clear();
        self.names = EnumNames::default();
    }
}

/// One method of `factify.api.v1beta.OrganizationInviteService`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rpc {
    /// The method's name, such as `CreateOrganizationInvite`.
    pub(crate) name: &'static str,
    /// The HTTP path, `/<package>.<service>/<method>`.
    pub(crate) path: &'static str,
}

macro_rules! rpc {
    ($const:ident, $name:literal) => {
        pub(crate) const $const: Rpc = Rpc {
            name: $name,
            path: concat!("/factify.api.v1beta.OrganizationInviteService/", $name),
        };
    };
}

rpc!(CREATE, "CreateOrganizationInvite");
rpc!(LIST, "ListOrganizationInvites");
rpc!(RESEND, "ResendOrganizationInvite");
rpc!(REVOKE, "RevokeOrganizationInvite");
rpc!(ACCEPT, "AcceptOrganizationInvite");

/// Which directions of a call are gzip-compressed; each its own switch,
/// as responses (pages) can be large while requests never are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Compression {
    /// Compress requests.
    pub(crate) requests: bool,
    /// Ask for compressed responses.
    pub(crate) responses: bool,
}

/// One attempt's wire parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt<'a> {
    /// The method.
    pub(crate) rpc: Rpc,
    /// The key for this attempt, if any.
    pub(crate) api_key: Option<&'a ApiKey>,
    /// What is left of the call's deadline, sent to the server.
    pub(crate) timeout: Option<Duration>,
    /// Extra metadata.
    pub(crate) metadata: &'a [(AsciiMetadataKey, AsciiMetadataValue)],
}
