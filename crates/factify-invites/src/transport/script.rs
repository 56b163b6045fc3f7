//! The wire of a scripted client (feature `testing`): no network, each
//! attempt's request handed to a script that records it and gives back the
//! next answer of its method.
//!
//! The script itself (`testing::Script`, its answers and the requests it
//! records) is the public test aid; it plugs in here through [`Answers`],
//! so that the transport needs nothing from `testing`.

use std::fmt;
use std::sync::Arc;

use prost::Message;

use super::rpc::{Attempt, Rpc};
use crate::error::{Error, Result};

/// Where a scripted transport's answers come from.
pub(crate) trait Answers: fmt::Debug + Send + Sync {
    /// Takes the answer to the encoded `request` of `rpc`: the encoded
    /// response, or the error the call fails with.
    fn answer(&self, rpc: Rpc, request: &[u8]) -> Result<Vec<u8>>;
}

/// The transport of a client over scripted answers.
#[derive(Debug, Clone)]
pub(crate) struct ScriptTransport {
    answers: Arc<dyn Answers>,
}

impl ScriptTransport {
    /// A transport answered by `answers`.
    pub(crate) fn new(answers: Arc<dyn Answers>) -> ScriptTransport {
        ScriptTransport { answers }
    }

    /// Sends one attempt: the request is encoded as the wire would carry
    /// it, and the answer decoded as a server's response would be.
    pub(crate) async fn unary<Req, Resp>(&self, attempt: Attempt<'_>, request: Req) -> Result<Resp>
    where
        Req: Message,
        Resp: Message + Default,
    {
        let bytes = self.answers.answer(attempt.rpc, &request.encode_to_vec())?;
        Resp::decode(bytes.as_slice()).map_err(|err| {
            Error::invalid_response("response", format!("undecodable protobuf: {err}"))
        })
    }
}
