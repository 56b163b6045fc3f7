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

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use prost::Message;

use crate::client::{Client, ClientBuilder};
use crate::error::{
    Code, Error, Reason, Result, Status, TransportError, ERROR_DETAIL_TYPE_URL, RETRY_INFO_TYPE_URL,
};
use crate::ids::{InviteId, OrganizationId, UserId};
use crate::proto;
use crate::retry::RetryPolicy;
use crate::transport::{self, Answers, Rpc};
use crate::types::{
    Acceptance, Invite, InviteStatus, Organization, Page, UnknownValue, User, UserType,
};

// ---- values ----

/// A fixed instant (2025-06-15 15:06:40 UTC), so that values made here are
/// the same on every run.
fn fixed_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000, 0).unwrap_or_default()
}

fn example_id<T>(parse: fn(&str) -> Result<T, crate::IdError>, value: &str) -> T {
    match parse(value) {
        Ok(id) => id,
        Err(err) => unreachable!("the SPEC's example ID {value} is valid: {err}"),
    }
}

/// A person: `user_01h2xcejqtf2nbrexx3vqjhp40`, "Grace Hopper",
/// `grace@example.com`. Change its public fields as needed.
pub fn user() -> User {
    User {
        id: example_id(UserId::parse, "user_01h2xcejqtf2nbrexx3vqjhp40"),
        user_type: UserType::UserAccount,
        name: "Grace Hopper".to_owned(),
        email: "grace@example.com".to_owned(),
        given_name: Some("Grace".to_owned()),
        family_name: Some("Hopper".to_owned()),
        profile_image_url: None,
    }
}

/// A pending invitation `inv_01h2xcejqtf2nbrexx3vqjhp42` of
/// `ada@example.com` to `org_01h2xcejqtf2nbrexx3vqjhp41`, sent by [`user`],
/// expiring 7 days after it was created. Change its public fields as needed
/// (an accepted one: set `status` and `accepted` with [`acceptance`]).
pub fn invite() -> Invite {
    let created_at = fixed_time();
    Invite {
        id: example_id(InviteId::parse, "inv_01h2xcejqtf2nbrexx3vqjhp42"),
        organization_id: example_id(OrganizationId::parse, "org_01h2xcejqtf2nbrexx3vqjhp41"),
        email: "ada@example.com".to_owned(),
        status: InviteStatus::Pending,
        sender: user(),
        created_at,
        expires_at: created_at + chrono::Duration::days(7),
        accepted: None,
        message: None,
    }
}

/// That `by` accepted an invitation `at`, for [`Invite::accepted`].
pub fn acceptance(at: DateTime<Utc>, by: User) -> Acceptance {
    Acceptance { at, by }
}

/// The organization `org_01h2xcejqtf2nbrexx3vqjhp41`, "Example Inc.".
pub fn organization() -> Organization {
    Organization {
        id: example_id(OrganizationId::parse, "org_01h2xcejqtf2nbrexx3vqjhp41"),
        name: "Example Inc.".to_owned(),
        created_at: fixed_time(),
        logo_image_url: None,
    }
}

/// A page of `items`, followed by the page of `next_page_token` if any.
pub fn page(items: Vec<Invite>, next_page_token: Option<&str>) -> Page {
    Page {
        items,
        next_page_token: next_page_token.map(str::to_owned),
        prev_page_token: None,
    }
}

/// Starts the [`Status`] of a service error with `code` and `message`;
/// finish it with [`StatusBuilder::into_error`] (or
/// [`build`](StatusBuilder::build)).
pub fn status(code: Code, message: impl Into<String>) -> StatusBuilder {
    StatusBuilder {
        code,
        message: message.into(),
        detail: None,
        retry_after: None,
    }
}

/// A [`Status`] as a server would send it; made by [`status`].
#[must_use]
#[derive(Debug, Clone)]
pub struct StatusBuilder {
    code: Code,
    message: String,
    detail: Option<proto::ErrorDetail>,
    retry_after: Option<Duration>,
}

impl StatusBuilder {
    fn detail(&mut self) -> &mut proto::ErrorDetail {
        self.detail.get_or_insert_with(proto::ErrorDetail::default)
    }

    /// The machine-readable reason of its `ErrorDetail`.
    pub fn reason(mut self, reason: Reason) -> Self {
        self.detail().reason = reason.as_str().to_owned();
        self
    }

    /// The server's request ID (`req_...`).
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.detail().request_id = id.into();
        self
    }

    /// The request field at fault.
    pub fn param(mut self, field: impl Into<String>) -> Self {
        self.detail().param = field.into();
        self
    }

    /// The `RetryInfo` delay: how long the server asks to wait.
    pub fn retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }

    /// The status, as [`Error::status`] would give it.
    pub fn build(self) -> Status {
        let mut details = Vec::new();
        if let Some(detail) = self.detail {
            details.push(prost_types::Any {
                type_url: ERROR_DETAIL_TYPE_URL.to_owned(),
                value: detail.encode_to_vec(),
            });
        }
        if let Some(delay) = self.retry_after {
            let info = proto::google::rpc::RetryInfo {
                retry_delay: prost_types::Duration::try_from(delay).ok(),
            };
            details.push(prost_types::Any {
                type_url: RETRY_INFO_TYPE_URL.to_owned(),
                value: info.encode_to_vec(),
            });
        }
        Status::from_details(self.code, self.message, details, None)
    }

    /// The error of this status: the variant of its code, as a call would
    /// return it ([`Error::from_status`]).
    pub fn into_error(self) -> Error {
        Error::from_status(self.build())
    }
}

/// An [`Error::Transport`]: the connection failed before the request was
/// sent (`before_send`, so that retrying is safe), or after (the server may
/// have acted).
pub fn transport_error(message: impl Into<String>, before_send: bool) -> Error {
    let message = message.into();
    let cause = message.clone();
    Error::Transport(TransportError::unsent(message, cause).before_send(before_send))
}

/// An [`Error::InvalidResponse`] naming the response `field` at fault.
pub fn invalid_response(field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::invalid_response(field, message)
}

// ---- what a scripted client received ----

/// One method of the service, as a [`Script`] counts them.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `CreateOrganizationInvite`.
    CreateInvite,
    /// `ListOrganizationInvites`.
    ListInvites,
    /// `ResendOrganizationInvite`.
    ResendInvite,
    /// `RevokeOrganizationInvite`.
    RevokeInvite,
    /// `AcceptOrganizationInvite`.
    AcceptInvite,
}

impl Method {
    fn of(rpc: Rpc) -> Method {
        match rpc {
            transport::CREATE => Method::CreateInvite,
            transport::LIST => Method::ListInvites,
            transport::RESEND => Method::ResendInvite,
            transport::REVOKE => Method::RevokeInvite,
            _ => Method::AcceptInvite,
        }
    }
}

/// A request a [`Script`]'s client sent, one per attempt, as the server
/// would have received it (after the client's checks, with the generated
/// idempotency key).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A creation.
    CreateInvite(CreateInviteRequest),
    /// A page of a list.
    ListInvites(ListInvitesRequest),
    /// A resend.
    ResendInvite(InviteActionRequest),
    /// A revocation.
    RevokeInvite(InviteActionRequest),
    /// An acceptance.
    AcceptInvite(AcceptInviteRequest),
}

impl Request {
    /// The method of this request.
    pub fn method(&self) -> Method {
        match self {
            Request::CreateInvite(_) => Method::CreateInvite,
            Request::ListInvites(_) => Method::ListInvites,
            Request::ResendInvite(_) => Method::ResendInvite,
            Request::RevokeInvite(_) => Method::RevokeInvite,
            Request::AcceptInvite(_) => Method::AcceptInvite,
        }
    }
}

/// A `CreateOrganizationInvite` request.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateInviteRequest {
    /// The organization.
    pub organization_id: String,
    /// The invited address.
    pub email: String,
    /// The personal note, if any.
    pub message: Option<String>,
    /// The idempotency key: the caller's, or the one generated for the call
    /// (the same on every attempt).
    pub idempotency_key: Option<String>,
}

/// A `ListOrganizationInvites` request (one page).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListInvitesRequest {
    /// The organization.
    pub organization_id: String,
    /// The statuses asked for; empty for all.
    pub statuses: Vec<InviteStatus>,
    /// The page's token; `None` for the first page.
    pub page_token: Option<String>,
    /// The page size asked for; `None` for the server's default.
    pub page_size: Option<u32>,
    /// The `email.contains` filter.
    pub email_contains: Option<String>,
    /// The `email.exact` filter.
    pub email_exact: Option<String>,
    /// The sender filter.
    pub sender_id: Option<String>,
    /// The `created.after` filter.
    pub created_after: Option<DateTime<Utc>>,
    /// The `created.before` filter.
    pub created_before: Option<DateTime<Utc>>,
}

/// A `ResendOrganizationInvite` or `RevokeOrganizationInvite` request.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteActionRequest {
    /// The organization.
    pub organization_id: String,
    /// The invitation.
    pub invite_id: String,
}

/// An `AcceptOrganizationInvite` request.
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq)]
pub struct AcceptInviteRequest {
    /// The organization.
    pub organization_id: String,
    /// The invitation's token (redacted from `Debug`).
    pub token: String,
}

impl fmt::Debug for AcceptInviteRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptInviteRequest")
            .field("organization_id", &self.organization_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

fn from_timestamp(at: Option<prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    at.and_then(|at| DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?))
}

fn non_empty(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

/// The request of `rpc` encoded in `bytes`, for the record.
fn decode_request(rpc: Rpc, bytes: &[u8]) -> Option<Request> {
    Some(match Method::of(rpc) {
        Method::CreateInvite => {
            let r = proto::CreateOrganizationInviteRequest::decode(bytes).ok()?;
            Request::CreateInvite(CreateInviteRequest {
                organization_id: r.organization_id,
                email: r.email,
                message: r.message,
                idempotency_key: r.idempotency_key,
            })
        }
        Method::ListInvites => {
            let r = proto::ListOrganizationInvitesRequest::decode(bytes).ok()?;
            let email = r.email.unwrap_or_default();
            let created = r.created.unwrap_or_default();
            Request::ListInvites(ListInvitesRequest {
                organization_id: r.organization_id,
                statuses: r
                    .status
                    .into_iter()
                    .filter_map(InviteStatus::from_wire)
                    .collect(),
                page_token: non_empty(r.page_token),
                page_size: u32::try_from(r.page_size).ok().filter(|size| *size > 0),
                email_contains: non_empty(email.contains),
                email_exact: non_empty(email.exact),
                sender_id: r.sender_id,
                created_after: from_timestamp(created.after),
                created_before: from_timestamp(created.before),
            })
        }
        Method::ResendInvite => {
            let r = proto::ResendOrganizationInviteRequest::decode(bytes).ok()?;
            Request::ResendInvite(InviteActionRequest {
                organization_id: r.organization_id,
                invite_id: r.invite_id,
            })
        }
        Method::RevokeInvite => {
            let r = proto::RevokeOrganizationInviteRequest::decode(bytes).ok()?;
            Request::RevokeInvite(InviteActionRequest {
                organization_id: r.organization_id,
                invite_id: r.invite_id,
            })
        }
        Method::AcceptInvite => {
            let r = proto::AcceptOrganizationInviteRequest::decode(bytes).ok()?;
            Request::AcceptInvite(AcceptInviteRequest {
                organization_id: r.organization_id,
                token: r.token,
            })
        }
    })
}

// ---- domain values to the wire, for the scripted answers ----

fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// What an unknown value given by name is answered as: the scripted client
/// speaks protobuf, which carries enum numbers only, so the test reads it
/// back as `UnknownValue::number(i32::MIN)`. Script unknown values by
/// number to compare them whole.
const NAMED_UNKNOWN: i32 = i32::MIN;

fn unknown_to_wire(value: &UnknownValue) -> i32 {
    value.as_number().unwrap_or(NAMED_UNKNOWN)
}

fn user_to_wire(user: &User) -> proto::User {
    proto::User {
        id: user.id.as_str().to_owned(),
        r#type: match &user.user_type {
            UserType::UserAccount => proto::UserType::UserAccount as i32,
            UserType::ServiceAccount => proto::UserType::ServiceAccount as i32,
            UserType::Unknown(value) => unknown_to_wire(value),
        },
        name: user.name.clone(),
        email: user.email.clone(),
        given_name: user.given_name.clone(),
        family_name: user.family_name.clone(),
        profile_image_url: user.profile_image_url.clone(),
    }
}

fn invite_to_wire(invite: &Invite) -> proto::OrganizationInvite {
    proto::OrganizationInvite {
        id: invite.id.as_str().to_owned(),
        organization_id: invite.organization_id.as_str().to_owned(),
        email: invite.email.clone(),
        status: match &invite.status {
            InviteStatus::Unknown(value) => unknown_to_wire(value),
            known => known.to_wire().unwrap_or(NAMED_UNKNOWN),
        },
        sender: Some(user_to_wire(&invite.sender)),
        created_at: Some(timestamp(invite.created_at)),
        expires_at: Some(timestamp(invite.expires_at)),
        accepted_at: invite.accepted.as_ref().map(|a| timestamp(a.at)),
        accepted_by: invite.accepted.as_ref().map(|a| user_to_wire(&a.by)),
        message: invite.message.clone(),
    }
}

// ---- the script ----

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
