//! Listing invitations: the [`ListInvites`] request builder with every
//! filter of the SPEC (re-exported here; it lives with the other request
//! builders), and the two streams it makes, [`InviteStream`] (one
//! invitation at a time) and [`PageStream`] (whole pages). Fetching a page,
//! and prefetching the next one, is in `fetch.rs`.
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

pub(crate) mod fetch;

use std::collections::hash_map::RandomState;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::hash::BuildHasher;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures::Stream;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::proto;
use crate::transport::CallOptions;
use crate::types::{Invite, Page};
use fetch::Fetch;

// The request builder lives with the other request builders
// (`client/request/list.rs`); it is named here too, next to its streams.
pub use crate::client::request::ListInvites;

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
    /// The stream of a listing that starts with `first`, or that yields
    /// the error of building it, once.
    pub(crate) fn new(
        client: Client,
        options: CallOptions,
        prefetch: bool,
        first: Result<proto::ListOrganizationInvitesRequest>,
    ) -> PageStream {
        let state = match first {
            Ok(request) => State::Ready(request),
            Err(err) => State::Failed(err),
        };
        let mut fetched = FetchedTokens::default();
        if let State::Ready(request) = &state {
            fetched.insert(&request.page_token);
        }
        PageStream {
            client,
            options,
            prefetch,
            state,
            fetched,
        }
    }

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
    pub(crate) fn new(pages: PageStream) -> InviteStream {
        InviteStream {
            pages,
            buffered: VecDeque::new(),
        }
    }

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
