//! Listing invitations: the [`ListInvites`] request builder with every
//! filter of the SPEC, and the two streams it makes, [`InviteStream`] (one
//! invitation at a time) and [`PageStream`] (whole pages).
//!
//! Both start fetching only when first polled, and dropping them stops all
//! fetching. By default they **prefetch one page**: when a page arrives that
//! has a next page, the request for that next page is started at once, in
//! a task of its own, so that it travels while the caller works on the
//! current page; a consumer that spends about as long per page as the
//! server does then reads a listing in about half the time. They never run
//! more than one page ahead, and dropping the stream aborts the page in
//! flight. The cost is at most one page fetched and not used, when the
//! caller stops early (and, for that page, one request of the rate limit):
//! [`ListInvites::prefetch`]`(false)` makes a stream strictly lazy, fetching
//! a page only when polled past the ones already received. The prefetch runs
//! as a task on the Tokio runtime the stream is polled in; polled outside
//! one (another executor), a stream falls back to lazy fetching.
//!
//! They end after the last page (an empty `next_page_token`), and after the
//! first error, which they yield once. An empty page that still has a next
//! token does not end them. An error that ends a stream carries the page
//! token to resume from ([`Error::resume_token`]): a stream started from
//! it with [`ListInvites::page_token`] yields every remaining invitation
//! exactly once. A server that hands out a page token this listing has
//! already fetched (the same token forever, or a loop) would make a stream
//! that never ends: the stream ends with [`Error::InvalidResponse`]
//! (field `next_page_token`) instead.

use std::collections::hash_map::RandomState;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::hash::BuildHasher;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll, Waker};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::{FutureExt, Stream};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::client::request::check::{check_len, checked_id};
use crate::client::Client;
use crate::error::{Error, Result, Safety};
use crate::ids::{IdError, IntoId, OrganizationId, UserId};
use crate::limits;
use crate::proto;
use crate::transport::{self, CallOptions, Received};
use crate::types::{self, Invite, InviteStatus, Page};

// The method lives with its builder, so that `client` need not import
// this module (which imports `Client`).
impl Client {
    /// Lists the organization's invitations, newest first; see
    /// [`ListInvites`] for filters, streams and pages.
    pub fn list_invites(&self, organization_id: impl IntoId<OrganizationId>) -> ListInvites {
        ListInvites::new(self.clone(), organization_id.into_id())
    }
}

/// A request to list an organization's invitations, newest first.
///
/// Set filters with the setters (all set filters apply together), then pick
/// how to read the result:
///
/// - [`into_stream`](Self::into_stream): every matching invitation, one at
///   a time, fetching pages as needed;
/// - [`pages`](Self::pages): the same, a page at a time;
/// - [`page`](Self::page): one page, from a token of an earlier page.
///
/// ```no_run
/// # async fn run(client: factify_invites::Client) -> factify_invites::Result<()> {
/// use futures::TryStreamExt;
/// use factify_invites::InviteStatus;
///
/// let mut invites = client
///     .list_invites("org_01h2xcejqtf2nbrexx3vqjhp41")
///     .status(InviteStatus::Pending)
///     .email_contains("@example.com")
///     .page_size(100)
///     .into_stream();
/// while let Some(invite) = invites.try_next().await? {
///     println!("{} {}", invite.id, invite.email);
/// }
/// # Ok(()) }
/// ```
#[must_use = "a list request does nothing until it is streamed or a page is fetched"]
#[derive(Debug, Clone)]
pub struct ListInvites {
    client: Client,
    organization_id: Result<OrganizationId, IdError>,
    statuses: Vec<InviteStatus>,
    email_contains: Option<String>,
    email_exact: Option<String>,
    sender: Option<Result<UserId, IdError>>,
    created_after: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
    page_size: Option<u32>,
    page_token: String,
    prefetch: bool,
    options: CallOptions,
}

impl ListInvites {
    pub(crate) fn new(client: Client, organization_id: Result<OrganizationId, IdError>) -> Self {
        ListInvites {
            client,
            organization_id,
            statuses: Vec::new(),
            email_contains: None,
            email_exact: None,
            sender: None,
            created_after: None,
            created_before: None,
            page_size: None,
            page_token: String::new(),
            prefetch: true,
            options: CallOptions::default(),
        }
    }

    /// Only invitations in this status; call again to allow several. No call
    /// means every status. Expired invitations are those whose `expires_at`
    /// has passed, whatever they were.
    pub fn status(mut self, status: InviteStatus) -> Self {
        self.statuses.push(status);
        self
    }

    /// Only invitations in one of these statuses.
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = InviteStatus>) -> Self {
        self.statuses.extend(statuses);
        self
    }

    /// Only invitations whose email contains this text, compared
    /// case-insensitively.
    pub fn email_contains(mut self, text: impl Into<String>) -> Self {
        self.email_contains = Some(text.into());
        self
    }

    /// Only invitations whose email is exactly this, compared
    /// case-sensitively.
    pub fn email_exact(mut self, email: impl Into<String>) -> Self {
        self.email_exact = Some(email.into());
        self
    }

    /// Only invitations sent by this account.
    pub fn sender(mut self, sender: impl IntoId<UserId>) -> Self {
        self.sender = Some(sender.into_id());
        self
    }

    /// Only invitations created at or after this instant.
    pub fn created_after(mut self, at: DateTime<Utc>) -> Self {
        self.created_after = Some(at);
        self
    }

    /// Only invitations created at or before this instant.
    pub fn created_before(mut self, at: DateTime<Utc>) -> Self {
        self.created_before = Some(at);
        self
    }

    /// How many invitations each page holds, 1 to 100; 0 (as if unset)
    /// leaves it to the server, whose default is 50.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Where the streams of this request start: the token of a page of an
    /// earlier listing with the same filters, such as the
    /// [`Error::resume_token`] of an error that ended a stream, or a
    /// [`PageStream::next_page_token`]. The empty string (the default) is
    /// the first page.
    pub fn page_token(mut self, token: impl Into<String>) -> Self {
        self.page_token = token.into();
        self
    }

    /// Whether the streams of this request fetch the next page while the
    /// caller works on the current one (on by default; see the
    /// [module docs](self)). With `false`, a page is fetched only when the
    /// stream is polled past the pages already received: nothing is fetched
    /// that is not read, at the cost of one round trip of waiting per page.
    pub fn prefetch(mut self, prefetch: bool) -> Self {
        self.prefetch = prefetch;
        self
    }

    /// The wire request for the first page, checked.
    fn request(&self) -> Result<proto::ListOrganizationInvitesRequest> {
        self.options.check()?;
        let organization_id = checked_id(self.organization_id.clone(), "organization_id")?;
        let sender_id = match &self.sender {
            Some(sender) => Some(checked_id(sender.clone(), "sender_id")?.into_string()),
            None => None,
        };
        let page_size = match self.page_size {
            // The SPEC: 0 means the server's default.
            None | Some(0) => 0,
            Some(size) => i32::try_from(size)
                .ok()
                .filter(|size| (limits::MIN_PAGE_SIZE..=limits::MAX_PAGE_SIZE).contains(size))
                .ok_or_else(|| {
                    Error::invalid_request(
                        "page_size",
                        format!(
                            "must be from {} to {} (or 0 for the server's default of {}), got {size}",
                            limits::MIN_PAGE_SIZE,
                            limits::MAX_PAGE_SIZE,
                            limits::DEFAULT_PAGE_SIZE,
                        ),
                    )
                })?,
        };
        if let Some(email) = &self.email_exact {
            check_len(email, limits::MAX_EMAIL_BYTES, "email.exact")?;
        }
        if let Some(text) = &self.email_contains {
            check_len(text, limits::MAX_EMAIL_BYTES, "email.contains")?;
        }
        if let (Some(after), Some(before)) = (self.created_after, self.created_before) {
            if after > before {
                return Err(Error::invalid_request(
                    "created",
                    format!("created_after ({after}) is later than created_before ({before})"),
                ));
            }
        }
        let timestamp = |at: DateTime<Utc>| prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: at.timestamp_subsec_nanos() as i32,
        };
        let email = (self.email_contains.is_some() || self.email_exact.is_some()).then(|| {
            proto::StringFilter {
                contains: self.email_contains.clone().unwrap_or_default(),
                exact: self.email_exact.clone().unwrap_or_default(),
            }
        });
        let created = (self.created_after.is_some() || self.created_before.is_some()).then(|| {
            proto::TimeRange {
                after: self.created_after.map(timestamp),
                before: self.created_before.map(timestamp),
            }
        });
        Ok(proto::ListOrganizationInvitesRequest {
            organization_id: organization_id.into_string(),
            status: self
                .statuses
                .iter()
                .map(|status| {
                    status.to_wire().ok_or_else(|| {
                        Error::invalid_request(
                            "status",
                            format!("{status:?} came by name; this version has no number for it"),
                        )
                    })
                })
                .collect::<Result<_>>()?,
            page_token: self.page_token.clone(),
            page_size,
            email,
            sender_id,
            created,
        })
    }

    /// Fetches one page: the first with `None`, or the page a token of an
    /// earlier page (its `next_page_token` or `prev_page_token`) points to.
    /// The filters must be the ones the token was made with. Nothing is
    /// sent until the future is awaited; a bad argument is its error.
    pub fn page(
        self,
        page_token: Option<&str>,
    ) -> impl Future<Output = Result<Page>> + Send + 'static {
        self.page_token(page_token.unwrap_or_default()).send()
    }

    /// A stream of whole pages, starting at the first (or at
    /// [`page_token`](Self::page_token)).
    pub fn pages(self) -> PageStream {
        let state = match self.request() {
            Ok(request) => State::Ready(request),
            Err(err) => State::Failed(err),
        };
        let mut fetched = FetchedTokens::default();
        if let State::Ready(request) = &state {
            fetched.insert(&request.page_token);
        }
        PageStream {
            client: self.client,
            options: self.options,
            prefetch: self.prefetch,
            state,
            fetched,
        }
    }

    /// A stream of every matching invitation, newest first (from
    /// [`page_token`](Self::page_token) on, if set).
    pub fn into_stream(self) -> InviteStream {
        InviteStream {
            pages: self.pages(),
            buffered: VecDeque::new(),
        }
    }
}

crate::client::request::call_options!(ListInvites => Page);

impl ListInvites {
    /// Fetches the first page (or the one at
    /// [`page_token`](Self::page_token)); what `.await` on the builder does.
    pub fn send(self) -> impl Future<Output = Result<Page>> + Send + 'static {
        // Checked now, sent when awaited. Not an `async fn`: the future
        // keeps only what the fetch needs, not this builder, and is smaller
        // to box and move on every call.
        let request = self.request();
        let (client, options) = (self.client, self.options);
        async move { fetch(client, request?, options).await }
    }
}

async fn fetch(
    client: Client,
    request: proto::ListOrganizationInvitesRequest,
    options: CallOptions,
) -> Result<Page> {
    let organization_id = request.organization_id.clone();
    let response: Received<proto::ListOrganizationInvitesResponse> = client
        .caller()
        .call(
            transport::LIST,
            Safety::Idempotent,
            &organization_id,
            request,
            &options,
        )
        .await?;
    types::page_from_wire(response.message, &response.names)
}

enum State {
    /// The next request to send, when polled.
    Ready(proto::ListOrganizationInvitesRequest),
    /// A page on its way, and the request it answers.
    Fetching(Fetch, proto::ListOrganizationInvitesRequest),
    /// The request could not be built: yield this error, then end.
    Failed(Error),
    /// Nothing more to fetch.
    Done,
}

/// A page on its way: polled by the stream itself (lazy), or prefetched.
enum Fetch {
    /// Makes progress only while the stream is polled.
    Inline(BoxFuture<'static, Result<Page>>),
    /// Makes progress whether or not the stream is polled, until the
    /// stream waits for it: then it becomes `Inline`.
    Spawned(Prefetch),
}

/// What a prefetch ends with: the page (or error), or the panic of the
/// fetch, to be resumed in the caller.
type Outcome = std::thread::Result<Result<Page>>;

/// A prefetched page: a fetch that a task of its own drives while the
/// stream is not waiting for it, and that the stream takes over and polls
/// itself once it is.
///
/// With the task driving the fetch to its end (and the stream joining its
/// `JoinHandle`), a consumer already waiting for the page had it decoded
/// and allocated on the worker that ran the task, handed over, and freed
/// on its own thread, and was woken from there: without work between pages
/// that made prefetch up to 13 % slower than sequential paging
/// (`BENCHMARKS.md`, section 3). Taken over, the rest of the fetch (the
/// wait, the decoding) is the consumer's, as in a lazy fetch.
struct Prefetch {
    handoff: Arc<Mutex<Handoff>>,
    task: JoinHandle<()>,
}

/// What the task and the stream share of a prefetch.
#[derive(Default)]
struct Handoff {
    /// The fetch, while the task drives it and is not polling it just now.
    future: Option<BoxFuture<'static, Result<Page>>>,
    /// How the fetch ended, when the task drove it to its end.
    outcome: Option<Outcome>,
    /// The stream, which waits for the page while the task is polling the
    /// fetch: the task hands the fetch over (or its outcome) and wakes it.
    waiting: Option<Waker>,
}

fn lock(handoff: &Mutex<Handoff>) -> MutexGuard<'_, Handoff> {
    // Nothing panics while holding it (the fetch is polled outside).
    handoff.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Dropping the stream aborts the task, so that (with the stream's own
/// handle on the fetch gone) the request in flight is cancelled rather
/// than left to finish unread.
impl Drop for Prefetch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The prefetch task: polls the fetch until it ends or the stream takes it.
fn drive(handoff: Arc<Mutex<Handoff>>) -> impl Future<Output = ()> + Send + 'static {
    std::future::poll_fn(move |cx| {
        let Some(mut future) = lock(&handoff).future.take() else {
            // Taken over by the stream.
            return Poll::Ready(());
        };
        // A panic while fetching (in a key provider, say) is kept for the
        // caller, whose panic it is, as it would be without prefetching.
        let polled =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.poll_unpin(cx)));
        let mut shared = lock(&handoff);
        let outcome = match polled {
            Ok(Poll::Pending) => {
                shared.future = Some(future);
                match shared.waiting.take() {
                    None => return Poll::Pending,
                    Some(stream) => {
                        // The stream polls it from now on, with its own waker.
                        stream.wake();
                        return Poll::Ready(());
                    }
                }
            }
            Ok(Poll::Ready(result)) => Ok(result),
            Err(panic) => Err(panic),
        };
        shared.outcome = Some(outcome);
        if let Some(stream) = shared.waiting.take() {
            stream.wake();
        }
        Poll::Ready(())
    })
}

impl Fetch {
    /// Starts fetching: prefetched when `prefetch` is on and a Tokio
    /// runtime is at hand, else as a future the stream polls.
    fn start(
        client: Client,
        request: proto::ListOrganizationInvitesRequest,
        options: CallOptions,
        prefetch: bool,
    ) -> Fetch {
        // The fetch carries the span current here (the caller's, as the
        // stream is polled inside it), so that its call is not a root span
        // of its own in traces, whoever polls it.
        let future = fetch(client, request, options).in_current_span().boxed();
        match prefetch.then(tokio::runtime::Handle::try_current) {
            Some(Ok(runtime)) => {
                let handoff = Arc::new(Mutex::new(Handoff {
                    future: Some(future),
                    ..Handoff::default()
                }));
                let task = runtime.spawn(drive(Arc::clone(&handoff)));
                Fetch::Spawned(Prefetch { handoff, task })
            }
            _ => Fetch::Inline(future),
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<Page>> {
        let prefetch = match self {
            Fetch::Inline(future) => return future.poll_unpin(cx),
            Fetch::Spawned(prefetch) => prefetch,
        };
        let mut shared = lock(&prefetch.handoff);
        if let Some(outcome) = shared.outcome.take() {
            drop(shared);
            return match outcome {
                Ok(result) => Poll::Ready(result),
                Err(panic) => std::panic::resume_unwind(panic),
            };
        }
        match shared.future.take() {
            Some(future) => {
                drop(shared);
                // The stream waits: the fetch is its own from here on (and
                // the task, aborted, will not poll it again).
                *self = Fetch::Inline(future);
                self.poll(cx)
            }
            None => {
                // The task is polling it right now: it hands the fetch
                // (or its outcome) over when done and wakes the stream.
                shared.waiting = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// The page tokens a listing has fetched, kept as hashes (8 bytes a page)
/// so that a long listing stays small; a collision of two different tokens
/// is as unlikely as a random 64-bit match.
#[derive(Default)]
struct FetchedTokens {
    hasher: RandomState,
    seen: HashSet<u64>,
}

impl FetchedTokens {
    /// Records `token`; `false` if this listing has fetched it before.
    fn insert(&mut self, token: &str) -> bool {
        self.seen.insert(self.hasher.hash_one(token))
    }
}

/// The error of a server that points a listing back to a page it has
/// already fetched: following it would never end.
fn repeated_token(token: &str) -> Error {
    let shown: String = token.chars().take(64).collect();
    let ellipsis = if shown.len() < token.len() { "..." } else { "" };
    Error::invalid_response(
        "next_page_token",
        format!(
            "the server returned page token {shown:?}{ellipsis} again, a page this listing already fetched; following it would never end"
        ),
    )
}

/// A stream of the pages of a list; made by [`ListInvites::pages`]. It
/// prefetches one page unless [`ListInvites::prefetch`]`(false)` was set;
/// see the [module docs](self).
#[must_use = "streams do nothing unless polled"]
pub struct PageStream {
    client: Client,
    options: CallOptions,
    prefetch: bool,
    state: State,
    fetched: FetchedTokens,
}

impl PageStream {
    /// The token of the next page this stream would yield: `Some("")`
    /// before the first page, `None` once it has ended. A page being
    /// prefetched has not been yielded, so this is its token. Keep it to
    /// resume a listing later with [`ListInvites::page`].
    pub fn next_page_token(&self) -> Option<&str> {
        match &self.state {
            State::Ready(request) | State::Fetching(_, request) => Some(&request.page_token),
            State::Failed(_) | State::Done => None,
        }
    }
}

impl fmt::Debug for PageStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageStream")
            .field("next_page_token", &self.next_page_token())
            .field("prefetch", &self.prefetch)
            .finish_non_exhaustive()
    }
}

impl Stream for PageStream {
    type Item = Result<Page>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.state, State::Done) {
                State::Ready(request) => {
                    // The first page (or any page of a lazy stream) is
                    // fetched by polling: nothing would overlap with it.
                    let fetch = Fetch::start(
                        this.client.clone(),
                        request.clone(),
                        this.options.clone(),
                        false,
                    );
                    this.state = State::Fetching(fetch, request);
                }
                State::Fetching(mut fetch, mut request) => {
                    let result = match fetch.poll(cx) {
                        Poll::Pending => {
                            this.state = State::Fetching(fetch, request);
                            return Poll::Pending;
                        }
                        Poll::Ready(result) => result,
                    };
                    let result = result.map_err(|err| err.with_resume_token(&request.page_token));
                    if let Ok(page) = &result {
                        if let Some(token) = &page.next_page_token {
                            if !this.fetched.insert(token) {
                                // This page is new; the next would not be.
                                this.state = State::Failed(repeated_token(token));
                                return Poll::Ready(Some(result));
                            }
                            request.page_token.clone_from(token);
                            this.state = if this.prefetch {
                                let next = Fetch::start(
                                    this.client.clone(),
                                    request.clone(),
                                    this.options.clone(),
                                    true,
                                );
                                State::Fetching(next, request)
                            } else {
                                State::Ready(request)
                            };
                        }
                    }
                    return Poll::Ready(Some(result));
                }
                State::Failed(err) => return Poll::Ready(Some(Err(err))),
                State::Done => return Poll::Ready(None),
            }
        }
    }
}

/// A stream of invitations, newest first; made by
/// [`ListInvites::into_stream`]. It prefetches one page unless
/// [`ListInvites::prefetch`]`(false)` was set; see the [module docs](self).
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct InviteStream {
    pages: PageStream,
    buffered: VecDeque<Invite>,
}

impl InviteStream {
    /// The token of the page after the invitations already received (a
    /// page being prefetched is not received yet); see
    /// [`PageStream::next_page_token`]. Invitations still buffered from the
    /// current page are not covered by it.
    pub fn next_page_token(&self) -> Option<&str> {
        self.pages.next_page_token()
    }
}

impl Stream for InviteStream {
    type Item = Result<Invite>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(invite) = this.buffered.pop_front() {
                return Poll::Ready(Some(Ok(invite)));
            }
            match ready!(Pin::new(&mut this.pages).poll_next(cx)) {
                Some(Ok(page)) => this.buffered.extend(page.items),
                Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                None => return Poll::Ready(None),
            }
        }
    }
}
