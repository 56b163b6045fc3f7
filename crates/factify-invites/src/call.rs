//! One logical call: the client-side rate limit and the server's
//! cool-down, the key for each attempt, the attempts themselves under one
//! overall deadline, retries with backoff, and the `tracing` span that
//! records it all.
//!
//! What may be retried depends on the method ([`Safety`]); every attempt
//! sends what is left of the deadline. A wait that cannot end before the
//! deadline is not started: a retry's gets the last error at once (the
//! server's `RESOURCE_EXHAUSTED` with its reason and wait, say), and a
//! hold-off's a local `RESOURCE_EXHAUSTED` saying how long is left.
//! `DeadlineExceeded` means time really ran out; its message says after how
//! long, and its `source()` is the error that made the call retry.

use std::time::Duration;

use tokio::time::Instant;
use tracing::{field, Instrument};

use crate::auth::Credentials;
use crate::error::{Code, Error, Result, Safety, Status};
use crate::rate_limit::{self, Cooldown, Pacer, RateLimit, Reservation};
use crate::retry::{Backoff, BudgetState, RetryPolicy};
use crate::shared_limit::{self, Turn};
use crate::telemetry::{self, Metrics, Outcome};
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
    /// The longest server-given wait taken: longer ones are cut to it.
    pub(crate) max_retry_after: Duration,
    /// The rate limit shared with other processes through Redis, if any;
    /// `limiter` paces the calls it does not take.
    pub(crate) shared: shared_limit::Gate,
    /// The OpenTelemetry instruments, if the user passed a meter provider.
    pub(crate) metrics: Metrics,
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

/// An attempt's or a call's outcome, for the metrics.
fn outcome<T>(result: &Result<T>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(err) => Outcome::Failed(err.code()),
    }
}

/// The `DeadlineExceeded` of a call that ran out of time after `waited`,
/// carrying the error that made it retry (if any).
fn deadline_error(
    rpc: Rpc,
    limit: Option<Duration>,
    waited: Duration,
    last: Option<Error>,
) -> Error {
    let message = match limit {
        Some(limit) => format!(
            "{} did not complete within its deadline of {limit:?} (gave up after {waited:?})",
            rpc.name
        ),
        None => format!(
            "{} did not complete within its deadline (gave up after {waited:?})",
            rpc.name
        ),
    };
    let status = Status::local(Code::DeadlineExceeded, message);
    Error::DeadlineExceeded(match last {
        Some(last) => status.caused_by(last),
        None => status,
    })
}

/// The local `RESOURCE_EXHAUSTED` status of a call refused before sending,
/// because the server's hold-off (or the client's own rate limit) lasts
/// past its deadline: the caller learns at once how long to wait.
fn refusal_status(rpc: Rpc, why: &str, wait: Duration) -> Status {
    Status::local_rate_limit(
        format!(
            "{} not sent: {why} for another {wait:?}, past the call's deadline",
            rpc.name
        ),
        wait,
    )
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
            let started = self.metrics.start();
            let (attempts, result) = self.attempts(rpc, safety, request, options).await;
            // The error answers `is_retryable()` for this call's safety.
            let result = result.map_err(|err| err.for_call(safety));
            self.metrics.call_ended(rpc, started, outcome(&result));
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
        let deadline = limit.map(|limit| rate_limit::instant_after(started, limit));
        let policy = options.retry.as_ref().unwrap_or(&self.retry);
        // Drawn only when a retry is needed: most calls never wait.
        let mut backoff: Option<Backoff> = None;
        let mut last_error: Option<Error> = None;
        let mut attempts = 0;

        loop {
            if let Err(refusal) = self.wait_for_turn(rpc, deadline).await {
                let refusal = match last_error {
                    Some(last) => refusal.caused_by(last),
                    None => refusal,
                };
                return (attempts, Err(Error::ResourceExhausted(refusal)));
            }
            let api_key = match self.credentials.current().await {
                Ok(key) => key,
                Err(err) => return (attempts, Err(err)),
            };
            let remaining =
                deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
            if remaining == Some(Duration::ZERO) {
                let waited = started.elapsed();
                return (
                    attempts,
                    Err(deadline_error(rpc, limit, waited, last_error)),
                );
            }
            attempts += 1;
            // The caller's trace context travels with each attempt.
            let traced = telemetry::trace_headers().map(|trace| {
                let mut metadata = options.metadata.clone();
                metadata.extend(trace);
                metadata
            });
            let attempt = Attempt {
                rpc,
                api_key: api_key.as_ref(),
                timeout: remaining,
                metadata: traced.as_ref().unwrap_or(&options.metadata),
            };
            if attempts > 1 {
                self.metrics.retry(rpc);
            }
            self.metrics.attempt_started(rpc);
            let attempt_started = self.metrics.start();
            let result = self.transport.unary(attempt, request.clone()).await;
            let response = result.as_ref().ok();
            let ended = outcome(&result);
            self.metrics
                .attempt_ended(rpc, attempt_started, ended, &request, response);
            let error = match result {
                Ok(response) => {
                    self.budget.on_success(attempts > 1);
                    return (attempts, Ok(response));
                }
                // The one place a server's wait (RetryInfo, or Connect's
                // rate-limit headers) is capped: nothing below, and nothing
                // the caller sees, is longer.
                Err(error) => error.cap_retry_after(self.max_retry_after),
            };
            if let Some(delay) = error.retry_after() {
                if error.code() == Some(Code::ResourceExhausted) {
                    let create = rpc == transport::CREATE;
                    self.shared.hold_off(api_key.as_ref(), create, delay).await;
                }
                if rpc == transport::CREATE {
                    self.create_cooldown.hold_off(delay);
                } else {
                    self.cooldown.hold_off(delay);
                }
            }
            // The attempt used up the deadline: say so, how long the call
            // waited, and what came before.
            if let Error::DeadlineExceeded(status) = &error {
                if status.is_local() {
                    let waited = started.elapsed();
                    return (
                        attempts,
                        Err(deadline_error(rpc, limit, waited, last_error)),
                    );
                }
            }
            if !error.is_retryable_for(safety) || attempts >= policy.max_attempts {
                return (attempts, Err(error));
            }
            let wait = backoff
                .get_or_insert_with(|| Backoff::new(policy.jitter))
                .wait(policy, attempts)
                .max(error.retry_after().unwrap_or_default());
            if policy
                .max_elapsed
                .is_some_and(|cap| started.elapsed().saturating_add(wait) > cap)
            {
                return (attempts, Err(error));
            }
            // A wait that cannot fit in what is left of the deadline is not
            // started: the caller gets the server's answer (its reason,
            // request ID and wait) now, not a deadline error later.
            if deadline
                .is_some_and(|deadline| rate_limit::instant_after(Instant::now(), wait) >= deadline)
            {
                return (attempts, Err(error));
            }
            // Taken last: a retry that is not sent costs no token.
            if !self.budget.try_take_retry() {
                self.metrics.budget_refused(rpc);
                tracing::debug!(error = %error, "retry budget exhausted; not retrying");
                return (attempts, Err(error));
            }
            tracing::debug!(attempt = attempts, ?wait, error = %error, "retrying");
            tokio::time::sleep(wait).await;
            last_error = Some(error);
        }
    }

    /// Waits for the server's cool-down and the client's pacers; refuses
    /// (with the local `RESOURCE_EXHAUSTED` status to return, nothing sent)
    /// when that wait would pass the deadline. A pacer slot booked here is
    /// given back if the call refuses, or is dropped while it waits.
    async fn wait_for_turn(&self, rpc: Rpc, deadline: Option<Instant>) -> Result<(), Status> {
        let past_deadline = |start: Instant| deadline.is_some_and(|deadline| start >= deadline);
        let mut hold_off = self.cooldown.resume_at();
        if rpc == transport::CREATE {
            hold_off = hold_off.max(self.create_cooldown.resume_at());
        }
        if let Some(until) = hold_off.filter(|until| past_deadline(*until)) {
            let wait = until.saturating_duration_since(Instant::now());
            return Err(refusal_status(rpc, "the server asked to hold off", wait));
        }
        let turn = self
            .shared
            .turn(&self.credentials, rpc == transport::CREATE, deadline)
            .await;
        let shared_slot = match turn {
            Turn::At(slot) => Some(slot),
            Turn::PastDeadline => {
                // Redis knows how far past; the deadline is a lower bound.
                let wait = deadline.map_or(Duration::ZERO, |deadline| {
                    deadline.saturating_duration_since(Instant::now())
                });
                return Err(refusal_status(
                    rpc,
                    "the shared rate limit has no free slot",
                    wait,
                ));
            }
            Turn::Local => None,
        };
        // Held until the call may start; dropped sooner, they give the slots
        // back. The per-process pacer takes the calls the shared limit does not.
        let (all, creates) = match (&self.limiter, turn) {
            (Some(limiter), Turn::Local) => (
                Some(limiter.all.reserve()),
                (rpc == transport::CREATE).then(|| limiter.creates.reserve()),
            ),
            _ => (None, None),
        };
        let slot = all.iter().chain(&creates).map(Reservation::start).max();
        let Some(start) = hold_off.max(slot).max(shared_slot) else {
            return Ok(());
        };
        if past_deadline(start) {
            let wait = start.saturating_duration_since(Instant::now());
            return Err(refusal_status(
                rpc,
                "the client's rate limit has no free slot",
                wait,
            ));
        }
        if start > Instant::now() {
            self.metrics.rate_limit_wait(rpc, start - Instant::now());
            tracing::debug!(wait = ?(start - Instant::now()), "waiting for the rate limit");
            tokio::time::sleep_until(start).await;
        }
        Ok(())
    }
}
