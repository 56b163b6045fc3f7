//! Testing your own code against this client, with no server and no socket
//! (feature `testing`).
//!
//! - **Values**: [`invite`], [`user`], [`organization`] and [`page`] make
//!   complete, valid domain values (the SPEC's example IDs, fixed times) to
//!   change field by field; [`status`] builds the [`Status`] of a service
//!   error (code, reason, request ID, field, `RetryInfo` delay) and
//!   [`transport_error`] and [`invalid_response`] the client's own errors.
//! - **A scripted client**: a [`Script`] holds, per method, the answers to
//!   give in order, and records every request it receives. Its
//!   [`Client`] is a real one: each call goes through the same checks of
//!   its arguments, retry policy, rate-limit cool-downs, error mapping and
//!   reading of the answer as over the network (answers are encoded to
//!   protobuf and decoded back), only the wire is replaced.
//!
//! # Example: the "already a member" and "rate limited" branches
//!
//! ```
//! use std::time::Duration;
//! use factify_invites::testing::{self, Request, Script};
//! use factify_invites::{Client, Code, Error, Reason};
//!
//! /// The code under test: what a user of your service is told.
//! async fn invite_colleague(client: &Client, email: &str) -> String {
//!     let org = "org_01h2xcejqtf2nbrexx3vqjhp41";
//!     match client.create_invite(org, email).await {
//!         Ok(invite) => format!("invited {}", invite.email),
//!         Err(Error::FailedPrecondition(_)) => format!("{email} is already a member"),
//!         Err(err) if err.reason() == Some(&Reason::RateLimitExceeded) => {
//!             let wait = err.retry_after().unwrap_or_default();
//!             format!("try again in {} s", wait.as_secs())
//!         }
//!         Err(err) => format!("failed: {err}"),
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let script = Script::new();
//! script
//!     .on_create_invite(Ok(testing::invite()))
//!     .on_create_invite(Err(testing::status(Code::FailedPrecondition, "already a member")
//!         .reason(Reason::PreconditionFailed)
//!         .into_error()))
//!     .on_create_invite(Err(testing::status(Code::ResourceExhausted, "slow down")
//!         .reason(Reason::RateLimitExceeded)
//!         .retry_after(Duration::from_secs(30))
//!         .into_error()));
//! // Retries are off on `script.client()`: one answer per call.
//! let client = script.client();
//!
//! assert_eq!(invite_colleague(&client, "ada@example.com").await, "invited ada@example.com");
//! assert_eq!(invite_colleague(&client, "ada@example.com").await, "ada@example.com is already a member");
//! assert_eq!(invite_colleague(&client, "bob@example.com").await, "try again in 30 s");
//!
//! // What the service sent, in order.
//! let emails: Vec<String> = script
//!     .requests()
//!     .into_iter()
//!     .filter_map(|request| match request {
//!         Request::CreateInvite(create) => Some(create.email),
//!         _ => None,
//!     })
//!     .collect();
//! assert_eq!(emails, ["ada@example.com", "ada@example.com", "bob@example.com"]);
//! assert_eq!(script.unanswered(), 0);
//! # }
//! ```
//!
//! A call for which no answer is left fails with `UNIMPLEMENTED` and a
//! message that says so; nothing panics inside the client. As over the
//! network, a `RESOURCE_EXHAUSTED` with a `RetryInfo` delay holds the
//! client's next calls back that long (use `#[tokio::test(start_paused =
//! true)]` to test what comes after one without waiting).

mod answer;
mod request;
mod values;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use prost::Message;

use crate::client::{Client, ClientBuilder};
use crate::error::{Code, Error, Result, Status};
use crate::proto;
use crate::retry::RetryPolicy;
use crate::transport::{self, Answers, Rpc};
use crate::types::{Invite, Organization, Page};
use answer::{invite_to_wire, timestamp};

pub use request::{
    AcceptInviteRequest, CreateInviteRequest, InviteActionRequest, ListInvitesRequest, Method,
    Request,
};
pub use values::{
    acceptance, invalid_response, invite, organization, page, status, transport_error, user,
    StatusBuilder,
};

/// An answer waiting in a [`Script`]: the encoded response, or the error.
type Answer = Result<Vec<u8>>;

#[derive(Debug, Default)]
struct Scripted {
    answers: Mutex<HashMap<Method, VecDeque<Answer>>>,
    requests: Mutex<Vec<Request>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Scripted answers per method, and the requests received: the server of a
/// [`Client`] with no network. See the [module docs](self) for an example.
///
/// Cloning gives another handle on the same script, so a test can keep one
/// while the code under test holds the client.
#[derive(Debug, Clone, Default)]
pub struct Script {
    inner: Arc<Scripted>,
}

impl Script {
    /// An empty script: every call fails with `UNIMPLEMENTED` until answers
    /// are added.
    pub fn new() -> Script {
        Script::default()
    }

    fn push(&self, method: Method, answer: Answer) -> &Script {
        lock(&self.inner.answers)
            .entry(method)
            .or_default()
            .push_back(answer);
        self
    }

    /// Adds the answer to the next creation not yet answered.
    pub fn on_create_invite(&self, answer: Result<Invite>) -> &Script {
        let answer = answer.map(|invite| {
            proto::CreateOrganizationInviteResponse {
                invite: Some(invite_to_wire(&invite)),
            }
            .encode_to_vec()
        });
        self.push(Method::CreateInvite, answer)
    }

    /// Adds the answer to the next page request not yet answered (a stream
    /// asks for one page after another).
    pub fn on_list_invites(&self, answer: Result<Page>) -> &Script {
        let answer = answer.map(|page| {
            proto::ListOrganizationInvitesResponse {
                items: page.items.iter().map(invite_to_wire).collect(),
                pagination: Some(proto::Pagination {
                    has_more: page.next_page_token.is_some(),
                    next_page_token: page.next_page_token.unwrap_or_default(),
                    prev_page_token: page.prev_page_token.unwrap_or_default(),
                }),
            }
            .encode_to_vec()
        });
        self.push(Method::ListInvites, answer)
    }

    /// Adds the answer to the next resend not yet answered.
    pub fn on_resend_invite(&self, answer: Result<Invite>) -> &Script {
        let answer = answer.map(|invite| {
            proto::ResendOrganizationInviteResponse {
                invite: Some(invite_to_wire(&invite)),
            }
            .encode_to_vec()
        });
        self.push(Method::ResendInvite, answer)
    }

    /// Adds the answer to the next revocation not yet answered.
    pub fn on_revoke_invite(&self, answer: Result<Invite>) -> &Script {
        let answer = answer.map(|invite| {
            proto::RevokeOrganizationInviteResponse {
                invite: Some(invite_to_wire(&invite)),
            }
            .encode_to_vec()
        });
        self.push(Method::RevokeInvite, answer)
    }

    /// Adds the answer to the next acceptance not yet answered.
    pub fn on_accept_invite(&self, answer: Result<Organization>) -> &Script {
        let answer = answer.map(|organization| {
            proto::AcceptOrganizationInviteResponse {
                organization: Some(proto::Organization {
                    id: organization.id.as_str().to_owned(),
                    name: organization.name,
                    created_at: Some(timestamp(organization.created_at)),
                    logo_image_url: organization.logo_image_url,
                }),
            }
            .encode_to_vec()
        });
        self.push(Method::AcceptInvite, answer)
    }

    /// A client answered by this script, with the builder's defaults except
    /// that it never retries: each call takes exactly one answer.
    pub fn client(&self) -> Client {
        match self.client_with(Client::builder().retry_policy(RetryPolicy::disabled())) {
            Ok(client) => client,
            Err(err) => unreachable!("the default builder is valid: {err}"),
        }
    }

    /// A client answered by this script, with `builder`'s key, timeout,
    /// retry policy and rate limit (its endpoint and protocol are not used).
    /// With retries on, each attempt takes an answer: script a failure per
    /// attempt to see the retry. A malformed key is an error, as with
    /// `connect()`.
    pub fn client_with(&self, builder: ClientBuilder) -> Result<Client> {
        builder.build_scripted(self.inner.clone())
    }

    /// Every request received, in order (one per attempt).
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.inner.requests).clone()
    }

    /// How many requests of `method` were received.
    pub fn calls(&self, method: Method) -> usize {
        lock(&self.inner.requests)
            .iter()
            .filter(|request| request.method() == method)
            .count()
    }

    /// How many scripted answers no call has taken yet.
    pub fn unanswered(&self) -> usize {
        lock(&self.inner.answers).values().map(VecDeque::len).sum()
    }
}

// The transport's names of the methods, mapped here (not in `request.rs`)
// so that only this module, the scripted client's wire, depends on the
// transport.
impl Method {
    pub(crate) fn of(rpc: Rpc) -> Method {
        match rpc {
            transport::CREATE => Method::CreateInvite,
            transport::LIST => Method::ListInvites,
            transport::RESEND => Method::ResendInvite,
            transport::REVOKE => Method::RevokeInvite,
            _ => Method::AcceptInvite,
        }
    }
}

/// The request of `rpc` encoded in `bytes`, for the record.
fn decode_request(rpc: Rpc, bytes: &[u8]) -> Option<Request> {
    request::decode(Method::of(rpc), bytes)
}

/// The wire of a scripted client: records the request, takes the next
/// answer of its method.
impl Answers for Scripted {
    fn answer(&self, rpc: Rpc, request: &[u8]) -> Result<Vec<u8>> {
        let method = Method::of(rpc);
        if let Some(request) = decode_request(rpc, request) {
            lock(&self.requests).push(request);
        }
        let answer = lock(&self.answers)
            .get_mut(&method)
            .and_then(VecDeque::pop_front);
        answer.unwrap_or_else(|| {
            Err(Error::from_status(Status::local(
                Code::Unimplemented,
                format!(
                    "testing::Script has no answer left for {} (add one with the Script's on_* methods)",
                    rpc.name
                ),
            )))
        })
    }
}
