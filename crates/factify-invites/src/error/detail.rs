//! [`ErrorDetail`], the parsed `factify.api.v1beta.ErrorDetail` of a
//! failed call.

use crate::proto;

use super::code::Reason;

/// One `factify.api.v1beta.ErrorDetail` of a failed call.
///
/// Servers may add fields to it; to make one for a test, see
/// `testing::status` (feature `testing`).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetail {
    /// Why the call failed.
    pub reason: Reason,
    /// The server's ID of the request (`req_...`), for Factify's support;
    /// empty if the server sent none.
    pub request_id: String,
    /// The request field at fault, for validation errors; empty otherwise.
    pub param: String,
}

// A method, not `From`: a public trait impl would put the generated type in
// the default public API, which keeps no tonic or prost type.
impl ErrorDetail {
    /// The detail as the wire carried it.
    pub(crate) fn from_wire(detail: proto::ErrorDetail) -> Self {
        ErrorDetail {
            reason: Reason::from_wire(&detail.reason),
            request_id: detail.request_id,
            param: detail.param,
        }
    }
}

pub(crate) use factify_invites_proto::{ERROR_DETAIL_TYPE_URL, RETRY_INFO_TYPE_URL};
