//! Bulk invitations: [`Client::invite_many`] sends one
//! `CreateOrganizationInvite` per row of (email, optional message), a few at
//! a time, and yields each row's outcome as a [`futures::Stream`], so a
//! service can invite a whole team without writing its own loop.
//!
//! # Idempotent per row, resumable per run
//!
//! Every bulk run has a *run ID* ([`InviteMany::run_id`]; a random one if
//! you set none, readable with [`InviteMany::current_run_id`]). Each row's
//! idempotency key is derived from the run ID and the row's email and
//! message only ([`idempotency_key`]), never from its position or the time:
//! run the same rows again under the same run ID within 24 hours (after a
//! crash, a `Ctrl-C`, or to retry the rows that failed) and the server
//! answers the rows it already handled with their original invitation,
//! without a second email. Two identical rows in one run share a key, so
//! the second is answered like the first.
//!
//! After 24 hours the server forgets the keys; a pending invitation is then
//! still not duplicated (a create for an address with a pending invitation
//! resends that one), but its invitee gets another email.
//!
//! # Rate limits
//!
//! Calls go through the client like any other: its retries, its server
//! cool-down (after a `RESOURCE_EXHAUSTED`, every clone waits as long as the
//! server asked), and its client-side [`RateLimit`](crate::rate_limit::RateLimit)
//! if it has one. Factify allows 100 creations a minute per key, so for
//! bulk runs against Factify build the client with
//! `.rate_limit(RateLimit::SPEC)`: rows are then spaced 600 ms apart, and the
//! concurrency only hides latency, it never exceeds the limit.
//!
//! # Example
//!
//! ```no_run
//! # async fn run() -> factify_invites::Result<()> {
//! use futures::StreamExt;
//! use factify_invites::{rate_limit::RateLimit, Client};
//!
//! let client = Client::builder()
//!     .from_env()
//!     .rate_limit(RateLimit::SPEC)
//!     .connect()
//!     .await?;
//! let rows = vec![
//!     ("ada@example.com", Some("Welcome, Ada!")),
//!     ("grace@example.com", None),
//! ];
//! let run = client
//!     .invite_many("org_01h2xcejqtf2nbrexx3vqjhp41", rows)
//!     .run_id("onboarding-2024-06") // the same ID again resumes without duplicates
//!     .concurrency(4);
//! let mut outcomes = run.into_stream();
//! while let Some(outcome) = outcomes.next().await {
//!     match outcome.result {
//!         Ok(invite) => println!("row {}: {} invited as {}", outcome.index, outcome.email, invite.id),
//!         Err(err) => println!("row {}: {} failed: {err}", outcome.index, outcome.email),
//!     }
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt};

use crate::client::request::check::{check_email, check_len, checked_id};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ids::{IdError, IntoId, OrganizationId};
use crate::limits;
use crate::retry::RetryPolicy;
use crate::types::Invite;

mod run_id;

use run_id::generated_run_id;
pub use run_id::{check_run_id, idempotency_key, MAX_RUN_ID_BYTES};

// The method lives with its builder, so that `client` need not import
// this module (which imports `Client`).
impl Client {
    /// Invites every row (an email and an optional message) with bounded
    /// concurrency and per-row idempotency keys derived from the run; see
    /// [`InviteMany`] and the [`bulk`](crate::bulk)
    /// module.
    pub fn invite_many<R: Into<InviteRow>>(
        &self,
        organization_id: impl IntoId<OrganizationId>,
        rows: impl IntoIterator<Item = R>,
    ) -> InviteMany {
        InviteMany::new(
            self.clone(),
            organization_id.into_id(),
            rows.into_iter().map(Into::into).collect(),
        )
    }
}

/// How many rows are in flight at once when [`InviteMany::concurrency`] is
/// not set.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// One row of a bulk run: an email address and an optional message.
///
/// Converts from `&str` / `String` (no message) and from
/// `(email, Option<message>)` tuples, or [`InviteRow::new`] (fields may be
/// added, so it is not built with a struct literal).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InviteRow {
    /// The address to invite.
    pub email: String,
    /// The personal note for the email, at most 2000 bytes; an empty one is
    /// the same as none.
    pub message: Option<String>,
}

impl InviteRow {
    /// A row for `email` with an optional `message`.
    pub fn new(email: impl Into<String>, message: Option<String>) -> Self {
        InviteRow {
            email: email.into(),
            message,
        }
    }

    /// Checks the row as `CreateOrganizationInvite` will: the email's
    /// shape and the message's size. The error names the field
    /// (`email` or `message`).
    pub fn validate(&self) -> Result<()> {
        check_email(&self.email, "email")?;
        if let Some(message) = &self.message {
            check_len(message, limits::MAX_MESSAGE_BYTES, "message")?;
        }
        Ok(())
    }
}

impl From<&str> for InviteRow {
    fn from(email: &str) -> Self {
        InviteRow::new(email, None)
    }
}

impl From<String> for InviteRow {
    fn from(email: String) -> Self {
        InviteRow::new(email, None)
    }
}

impl<E: Into<String>, M: Into<String>> From<(E, Option<M>)> for InviteRow {
    fn from((email, message): (E, Option<M>)) -> Self {
        InviteRow::new(email, message.map(Into::into))
    }
}

/// A row that [`InviteMany::validate`] refused.
#[non_exhaustive]
#[derive(Debug)]
pub struct RowError {
    /// The row's position among the rows given, from 0.
    pub index: usize,
    /// The row's email, as given.
    pub email: String,
    /// What is wrong with it: an [`Error::InvalidRequest`] naming the field.
    pub error: Error,
}

/// The outcome of one row of a bulk run.
#[non_exhaustive]
#[derive(Debug)]
pub struct RowOutcome {
    /// The row's position among the rows given, from 0. Outcomes arrive in
    /// the order calls finish, not in row order.
    pub index: usize,
    /// The row's email, as given.
    pub email: String,
    /// The idempotency key the row was sent with.
    pub idempotency_key: String,
    /// The invitation (new, or the one the server already had for the key
    /// or for a pending invitation to the address), or why the row failed.
    /// A row that fails validation fails with [`Error::InvalidRequest`]
    /// without being sent.
    pub result: Result<Invite>,
}
/// A bulk run of invitations, made by [`Client::invite_many`]; see the
/// [module docs](self). Set options, optionally [`validate`](Self::validate),
/// then [`into_stream`](Self::into_stream).
#[must_use = "a bulk run does nothing until it is streamed"]
#[derive(Debug, Clone)]
pub struct InviteMany {
    client: Client,
    organization_id: Result<OrganizationId, IdError>,
    rows: Vec<InviteRow>,
    run_id: String,
    concurrency: usize,
    timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
}

impl InviteMany {
    pub(crate) fn new(
        client: Client,
        organization_id: Result<OrganizationId, IdError>,
        rows: Vec<InviteRow>,
    ) -> Self {
        InviteMany {
            client,
            organization_id,
            rows,
            run_id: generated_run_id(),
            concurrency: DEFAULT_CONCURRENCY,
            timeout: None,
            retry: None,
        }
    }

    /// The run's ID, from which every row's idempotency key is derived; a
    /// random one by default. Give the same ID to resume a run without
    /// inviting anyone twice. See [`check_run_id`] for its shape; a bad one
    /// fails every row with [`Error::InvalidRequest`] on `run_id`.
    pub fn run_id(mut self, run_id: impl Into<String>) -> Self {
        self.run_id = run_id.into();
        self
    }

    /// The run ID in use: save it to resume this run later.
    pub fn current_run_id(&self) -> &str {
        &self.run_id
    }

    /// How many rows are in flight at once; 4 by default, at least 1.
    pub fn concurrency(mut self, limit: usize) -> Self {
        self.concurrency = limit.max(1);
        self
    }

    /// The timeout of each row's call (including its retries and rate-limit
    /// waits); the client's by default.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The retry policy of each row's call; the client's by default.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The rows, in the order given.
    pub fn rows(&self) -> &[InviteRow] {
        &self.rows
    }

    /// Every row's idempotency key, in row order.
    pub fn idempotency_keys(&self) -> Vec<String> {
        self.rows
            .iter()
            .map(|row| idempotency_key(&self.run_id, &row.email, row.message.as_deref()))
            .collect()
    }

    /// Checks every row, without sending anything, and returns all the bad
    /// ones (empty when all are good). Does not check the organization ID or
    /// the run ID, which [`check`](Self::check) does.
    pub fn validate(&self) -> Vec<RowError> {
        self.rows
            .iter()
            .enumerate()
            .filter_map(|(index, row)| {
                row.validate().err().map(|error| RowError {
                    index,
                    email: row.email.clone(),
                    error,
                })
            })
            .collect()
    }

    /// Checks what applies to the whole run: the organization ID and the
    /// run ID.
    pub fn check(&self) -> Result<()> {
        checked_id(self.organization_id.clone(), "organization_id")?;
        check_run_id(&self.run_id)
    }

    /// Starts the run: a stream of one [`RowOutcome`] per row, in the order
    /// the calls finish, with at most [`concurrency`](Self::concurrency)
    /// calls in flight. Nothing is sent until the stream is polled; dropping
    /// it stops sending (calls in flight are cancelled; the run can be
    /// resumed with the same run ID).
    pub fn into_stream(self) -> BulkStream {
        // A bad run ID would give keys the server refuses (or, if empty,
        // keys shared with other runs): every row is refused with it.
        let run_id_problem = match check_run_id(&self.run_id) {
            Err(Error::InvalidRequest { message, .. }) => Some(message),
            _ => None,
        };
        let InviteMany {
            client,
            organization_id,
            rows,
            run_id,
            concurrency,
            timeout,
            retry,
        } = self;
        let calls = rows.into_iter().enumerate().map(move |(index, row)| {
            let key = idempotency_key(&run_id, &row.email, row.message.as_deref());
            let request = match (&run_id_problem, &organization_id) {
                (Some(message), _) => Err(Error::invalid_request("run_id", message.clone())),
                (None, Err(err)) => Err(Error::invalid_request("organization_id", err.to_string())),
                (None, Ok(organization_id)) => {
                    let mut request = client
                        .create_invite(organization_id, row.email.clone())
                        .idempotency_key(key.clone());
                    if let Some(message) = row.message.filter(|message| !message.is_empty()) {
                        request = request.message(message);
                    }
                    if let Some(timeout) = timeout {
                        request = request.timeout(timeout);
                    }
                    if let Some(policy) = &retry {
                        request = request.retry_policy(policy.clone());
                    }
                    Ok(request)
                }
            };
            async move {
                let result = match request {
                    Ok(request) => request.send().await,
                    Err(err) => Err(err),
                };
                RowOutcome {
                    index,
                    email: row.email,
                    idempotency_key: key,
                    result,
                }
            }
        });
        BulkStream {
            inner: stream::iter(calls).buffer_unordered(concurrency).boxed(),
        }
    }
}

/// The outcomes of a bulk run, one per row, from
/// [`InviteMany::into_stream`].
#[must_use = "streams do nothing unless polled"]
pub struct BulkStream {
    inner: BoxStream<'static, RowOutcome>,
}

impl fmt::Debug for BulkStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkStream").finish_non_exhaustive()
    }
}

impl Stream for BulkStream {
    type Item = RowOutcome;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RowOutcome>> {
        self.inner.poll_next_unpin(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_validate_like_create() {
        assert!(InviteRow::from("ada@example.com").validate().is_ok());
        let err = InviteRow::from("not-an-email").validate().unwrap_err();
        assert_eq!(err.param(), Some("email"));
        let long = InviteRow::new("ada@example.com", Some("x".repeat(2001)));
        assert_eq!(long.validate().unwrap_err().param(), Some("message"));
    }
}
