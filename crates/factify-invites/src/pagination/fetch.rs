//! Fetching one page of a listing, and the prefetch: a page fetched by a
//! task of its own while the caller works on the current one, handed over
//! to the stream once it waits for it.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::client::Client;
use crate::error::{Result, Safety};
use crate::proto;
use crate::transport::{self, CallOptions, Received};
use crate::types::{self, Page};

/// Fetches one page: one call of `ListOrganizationInvites`, with its
/// retries, read into a [`Page`].
pub(crate) async fn fetch_page(
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

/// A page on its way: polled by the stream itself (lazy), or prefetched.
pub(crate) enum Fetch {
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
pub(crate) struct Prefetch {
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
    pub(crate) fn start(
        client: Client,
        request: proto::ListOrganizationInvitesRequest,
        options: CallOptions,
        prefetch: bool,
    ) -> Fetch {
        // The fetch carries the span current here (the caller's, as the
        // stream is polled inside it), so that its call is not a root span
        // of its own in traces, whoever polls it.
        let future = fetch_page(client, request, options)
            .in_current_span()
            .boxed();
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

    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<Page>> {
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
