//! One logical call: the client-side rate limit and the server's
//! cool-down, the key for each attempt, the attempts themselves under one
//! overall deadline, retries with backoff, and the `tracing` span that
//! records it all.
//!
//! What may be retried depends on the method ([`Safety`]); every attempt
//! sends what is left of the deadline, and a retry that cannot start before
//! the deadline is not started: the caller gets `DeadlineExceeded` carrying
//! the last underlying error as its `source()`.

use std::time::Duration;

use tokio::time::Instant;
use tracing::{field, Instrument};

use crate::auth::Credentials;
use crate::error::{Code, Error, Result, Status};
use crate::rate_limit::{Cooldown, Pacer, RateLimit};
use crate::retry::{self, Backoff, BudgetState, RetryPolicy, Safety};
use crate::transport::{self, Attempt, CallOptions, Rpc, Transport, WireMessage};

/// What every call of a client (and its clones) shares.
#[derive(Debug)]
pub(crate) struct Caller {
    pub(crate) transport: Transport,
    pub(crate) credentials: Credentials,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) budget: BudgetState,
    /// The server's last "retry after" for every method.
    pub(crate) cooldown: Cooldown,
    /// The server's last "retry after" for creations, which have their own,
    /// lower limit: a refused creation does not hold back reads.
    pub(crate) create_cooldown: Cooldown,
    pub(crate) limiter: Option<Limiter>,
}

/// The client-side pacers of a [`RateLimit`].
#[derive(Debug)]
pub(crate) struct Limiter {
    all: Pacer,
    creates: Pacer,
}

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Limiter {
        Limiter {
            all: Pacer::per_minute(limit.requests_per_minute),
            creates: Pacer::per_minute(limit.creates_per_minute),
        }
    }
}

/// The `DeadlineExceeded` of a call that ran out of time, carrying the
/// error that made it retry (if any).
fn deadline_error(rpc: Rpc, limit: Option<Duration>, last: Option<Error>) -> Error {
    let message = match limit {
        Some(limit) => format!(
            "{} did not complete within its deadline of {limit:?}",
            rpc.name
        ),
        None => format!("{} did not complete within its deadline", rpc.name),
    };
    let status = Status::local(Code::DeadlineExceeded, message);
    Error::DeadlineExceeded(match last {
        Some(last) => status.caused_by(last),
        None => status,
    })
}

impl Caller {
    /// Sends `request` as one logical call of `rpc`.
    pub(crate) async fn call<Req, Resp>(
        &self,
        rpc: Rpc,
        safety: Safety,
        organization_id: &str,
        request: Req,
        options: &CallOptions,
    ) -> Result<Resp>
    where
        Req: WireMessage + Clone,
        Resp: WireMessage,
    {
        let span = tracing::info_span!(
            "factify_invites.call",
            method = rpc.name,
            organization_id,
            attempts = field::Empty,
            code = field::Empty,
            request_id = field::Empty,
        );
        async {
            let (attempts, result) = self.attempts(rpc, safety, request, options).await;
            let span = tracing::Span::current();
            span.record("attempts", attempts);
            match &result {
                Ok(_) => span.record("code", "ok"),
                Err(err) => {
                    if let Some(id) = err.request_id() {
                        span.record("request_id", id);
                    }
                    span.record(
                        "code",
                        err.code().map_or("client_error", |code| code.as_str()),
                    )
                }
            };
            result
        }
        .instrument(span)
        .await
    }

    /// The attempts of one call; returns how many were sent, and the outcome.
    async fn attempts<Req, Resp>(
        &self,
        rpc: Rpc,
        safety: Safety,
        request: Req,
        options: &CallOptions,
    ) -> (u32, Result<Resp>)
    where
        Req: WireMessage + Clone,
        Resp: WireMessage,
    {
        let limit = options.timeout.or(self.timeout);
        let started = Instant::now();
        let deadline = limit.map(|limit| started + limit);
        let policy = options.retry.as_ref().unwrap_or(&self.retry);
        // Drawn only when a retry is needed: most calls never wait.
        let mut backoff: Option<Backoff> = None;
        let mut last_error: Option<Error> = None;
        let mut attempts = 0;

        loop {
            if !self.wait_for_turn(rpc, deadline).await {
                return (attempts, Err(deadline_error(rpc, limit, last_error)));
            }
            let api_key = match self.credentials.current().await {
                Ok(key) => key,
                Err(err) => return (attempts, Err(err)),
            };
            let remaining =
                deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
            if remaining == Some(Duration::ZERO) {
                return (attempts, Err(deadline_error(rpc, limit, last_error)));
            }
            attempts += 1;
            let attempt = Attempt {
                rpc,
                api_key: api_key.as_ref(),
                timeout: remaining,
                metadata: &options.metadata,
            };
            let error = match self.transport.unary(attempt, request.clone()).await {
                Ok(response) => {
                    self.budget.on_success();
                    return (attempts, Ok(response));
                }
                Err(error) => error,
            };
            if let Some(delay) = error.retry_after() {
                if rpc == transport::CREATE {
                    self.create_cooldown.hold_off(delay);
                } else {
                    self.cooldown.hold_off(delay);
                }
            }
            // The attempt used up the deadline: say so, with what came before.
            if let Error::DeadlineExceeded(status) = &error {
                if status.is_local() && last_error.is_some() {
                    return (attempts, Err(deadline_error(rpc, limit, last_error)));
                }
            }
            if !retry::is_retryable(&error, safety) || attempts >= policy.max_attempts {
                return (attempts, Err(error));
            }
            if !self.budget.on_failure_may_retry() {
                tracing::debug!(error = %error, "retry budget exhausted; not retrying");
                return (attempts, Err(error));
            }
            let wait = backoff
                .get_or_insert_with(|| Backoff::new(policy.jitter))
                .wait(policy, attempts)
                .max(error.retry_after().unwrap_or_default());
            if policy
                .max_elapsed
                .is_some_and(|cap| started.elapsed() + wait > cap)
            {
                return (attempts, Err(error));
            }
            if deadline.is_some_and(|deadline| Instant::now() + wait >= deadline) {
                return (attempts, Err(deadline_error(rpc, limit, Some(error))));
            }
            tracing::debug!(attempt = attempts, ?wait, error = %error, "retrying");
            tokio::time::sleep(wait).await;
            last_error = Some(error);
        }
    }

    /// Waits for the server's cool-down and the client's pacers; `false`
    /// when that wait would pass the deadline (then nothing is sent).
    async fn wait_for_turn(&self, rpc: Rpc, deadline: Option<Instant>) -> bool {
        let mut start = self.cooldown.resume_at();
        if rpc == transport::CREATE {
            start = start.max(self.create_cooldown.resume_at());
        }
        if let Some(limiter) = &self.limiter {
            let mut slot = limiter.all.reserve();
            if rpc == transport::CREATE {
                slot = slot.max(limiter.creates.reserve());
            }
            start = Some(start.map_or(slot, |start| start.max(slot)));
        }
        let Some(start) = start else {
            return true;
        };
        if deadline.is_some_and(|deadline| start >= deadline) {
            return false;
        }
        if start > Instant::now() {
            tracing::debug!(wait = ?(start - Instant::now()), "waiting for the rate limit");
            tokio::time::sleep_until(start).await;
        }
        true
    }
}
