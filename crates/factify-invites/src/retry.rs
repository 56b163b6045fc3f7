//! Retries: the [`RetryPolicy`] (which failures, how many attempts, how
//! long to wait), its exponential backoff with full jitter, and the
//! [`RetryBudget`] shared by a client's clones that stops retry storms.
//!
//! What each method may retry depends on what repeating it can do: a
//! request the server may already have acted on is retried only when
//! repeating it cannot duplicate work (see the table in [`crate::Client`]).

use std::sync::Mutex;
use std::time::Duration;

/// How the random part of each backoff is drawn.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// "Full jitter": each wait is uniform between zero and the backoff, so
    /// that clients failing together do not retry together. The default.
    #[default]
    Full,
    /// Full jitter from a fixed seed, so that a test sees the same waits on
    /// every run.
    Seeded(u64),
    /// No randomness: each wait is the whole backoff.
    None,
}

/// When and how often a failed call is tried again.
///
/// The default retries `RESOURCE_EXHAUSTED` (waiting at least the
/// server's `RetryInfo` delay) and failures that provably never reached
/// the service (a connection that could not be opened, a stream HTTP/2
/// refused), and, for calls that are safe to repeat (list, and create with
/// its idempotency key), also `UNAVAILABLE` and connections lost mid-call;
/// up to 8 attempts in all, waiting 100 ms, 200 ms, 400 ms... (at most
/// 5 s) with full jitter, never past the call's deadline, and only while
/// the client's [`RetryBudget`] allows. Eight attempts let a call ride
/// through 30 % of failing attempts (0.3⁸: fewer than one failed call in
/// 10,000); the budget, not the attempt count, is what protects a dead
/// service. Errors that a repeat cannot fix (`INVALID_ARGUMENT`,
/// `FAILED_PRECONDITION`, `PERMISSION_DENIED`, `UNAUTHENTICATED`,
/// `NOT_FOUND`...) are never retried.
///
/// ```
/// use std::time::Duration;
/// use factify_invites::retry::RetryPolicy;
///
/// let patient = RetryPolicy::default()
///     .with_max_attempts(8)
///     .with_max_backoff(Duration::from_secs(10))
///     .with_max_elapsed(Duration::from_secs(60));
/// let never = RetryPolicy::disabled();
/// # let _ = (patient, never);
/// ```
///
/// The fields are private: the `with_*` setters are the only way in, so that
/// every policy holds their checks (at least one attempt, a finite
/// multiplier of at least 1). Read them back with the getters.
///
/// ```compile_fail
/// let mut policy = factify_invites::retry::RetryPolicy::default();
/// policy.max_attempts = 0; // private: use `with_max_attempts`, which keeps it >= 1
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 turns retries off.
    pub(crate) max_attempts: u32,
    /// The backoff before the first retry.
    pub(crate) initial_backoff: Duration,
    /// The most any one backoff may grow to.
    pub(crate) max_backoff: Duration,
    /// How much each backoff grows over the one before.
    pub(crate) multiplier: f64,
    /// A cap on the time from the first attempt to the start of the last,
    /// on top of the call's deadline; `None` leaves only the deadline.
    pub(crate) max_elapsed: Option<Duration>,
    /// How the waits are randomized.
    pub(crate) jitter: Jitter,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            multiplier: 2.0,
            max_elapsed: None,
            jitter: Jitter::Full,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries: every call makes exactly one attempt.
    pub fn disabled() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Sets the number of attempts in all (at least 1).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first backoff.
    #[must_use]
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Sets the largest backoff.
    #[must_use]
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Sets the growth factor of the backoff (at least 1).
    #[must_use]
    pub fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() {
            multiplier.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// Caps the time spent retrying, from the first attempt.
    #[must_use]
    pub fn with_max_elapsed(mut self, limit: Duration) -> Self {
        self.max_elapsed = Some(limit);
        self
    }

    /// Sets how waits are randomized.
    #[must_use]
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Attempts in all, the first included (at least 1; 1: no retries).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff before the first retry.
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The most any one backoff may grow to.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// How much each backoff grows over the one before (finite, at least 1).
    pub fn multiplier(&self) -> f64 {
        self.multiplier
    }

    /// The cap on the time spent retrying, if any.
    pub fn max_elapsed(&self) -> Option<Duration> {
        self.max_elapsed
    }

    /// How the waits are randomized.
    pub fn jitter(&self) -> Jitter {
        self.jitter
    }

    /// The backoff ceiling before retry number `retry` (1 for the first).
    pub(crate) fn backoff_ceiling(&self, retry: u32) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let factor = self.multiplier.powi(exponent);
        let ceiling = self.initial_backoff.as_secs_f64() * factor;
        if !ceiling.is_finite() || ceiling >= self.max_backoff.as_secs_f64() {
            self.max_backoff
        } else {
            Duration::from_secs_f64(ceiling.max(0.0))
        }
    }
}

/// The random source of one logical call's backoffs.
#[derive(Debug)]
pub(crate) struct Backoff {
    rng: Option<fastrand::Rng>,
}

impl Backoff {
    pub(crate) fn new(jitter: Jitter) -> Backoff {
        let rng = match jitter {
            Jitter::Full => Some(fastrand::Rng::new()),
            Jitter::Seeded(seed) => Some(fastrand::Rng::with_seed(seed)),
            Jitter::None => None,
        };
        Backoff { rng }
    }

    /// The wait before retry number `retry`: uniform in `[0, ceiling]` with
    /// jitter, the ceiling without.
    pub(crate) fn wait(&mut self, policy: &RetryPolicy, retry: u32) -> Duration {
        let ceiling = policy.backoff_ceiling(retry);
        match &mut self.rng {
            Some(rng) => ceiling.mul_f64(rng.f64()),
            None => ceiling,
        }
    }
}

/// Limits retries when most calls are failing, so that a struggling or
/// dead service does not get several times its normal load from retries,
/// while a service that fails some calls at random is ridden through.
///
/// A retry quota shared by every clone of a client, in the spirit of AWS's
/// standard retry quota and Finagle's and Linkerd's ratio budgets:
///
/// - the quota starts full, with [`max_tokens`](Self::with_max_tokens)
///   retries (100 by default);
/// - a retry takes one token before it is sent, and is not sent without one
///   (the call then returns its last error);
/// - every call that succeeds puts back [`ratio`](Self::with_ratio) of a
///   token (0.2 by default), and a call that succeeded **on a retry** also
///   gets back the token of that retry: a retry that worked is free, a
///   retry that failed is paid for;
/// - first attempts never wait for the quota.
///
/// What that gives, with the defaults (the figures are from
/// `tests/resilience.rs`):
///
/// - with 30 % of attempts failing at random (`UNAVAILABLE` before the
///   server acts), a call spends about 0.13 failed retries on average and
///   earns 0.2, so the quota never runs out: 1,000 of 1,000 creates
///   succeed, with one email each;
/// - against a service that is completely down nothing is earned: once the
///   100 tokens are spent every call makes one attempt, so 1,000 calls cost
///   at most 1,100 attempts (1.1 per call), however many attempts the
///   [`RetryPolicy`] allows;
/// - in a partial outage, failed retries stay under 20 % of the successful
///   calls, plus the quota.
///
/// Unlike Linkerd there is no floor of retries per second: a quiet client
/// whose quota is empty retries again as soon as one call succeeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    max_tokens: f64,
    ratio: f64,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            max_tokens: 100.0,
            ratio: 0.2,
        }
    }
}

impl RetryBudget {
    /// A quota of `max_tokens` retries, earning `ratio` of a retry per
    /// successful call. Negative or non-finite values count as 0.
    pub fn new(max_tokens: f64, ratio: f64) -> Self {
        RetryBudget::default()
            .with_max_tokens(max_tokens)
            .with_ratio(ratio)
    }

    /// A quota that never holds a retry back (only the [`RetryPolicy`]
    /// limits retries).
    pub fn unlimited() -> Self {
        RetryBudget {
            max_tokens: f64::INFINITY,
            ratio: 0.0,
        }
    }

    /// Sets how many retries the quota holds, and starts with (100 by
    /// default).
    #[must_use]
    pub fn with_max_tokens(mut self, max_tokens: f64) -> Self {
        self.max_tokens = if max_tokens.is_nan() {
            0.0
        } else {
            max_tokens.max(0.0)
        };
        self
    }

    /// Sets what each successful call earns, in retries (0.2 by default):
    /// the share of successful calls that failed retries may reach in a
    /// long outage.
    #[must_use]
    pub fn with_ratio(mut self, ratio: f64) -> Self {
        self.ratio = if ratio.is_finite() {
            ratio.max(0.0)
        } else {
            0.0
        };
        self
    }

    /// How many retries the quota holds.
    pub fn max_tokens(&self) -> f64 {
        self.max_tokens
    }

    /// What each successful call earns, in retries.
    pub fn ratio(&self) -> f64 {
        self.ratio
    }
}

/// The live token count of a [`RetryBudget`].
#[derive(Debug)]
pub(crate) struct BudgetState {
    budget: RetryBudget,
    tokens: Mutex<f64>,
}

impl BudgetState {
    pub(crate) fn new(budget: RetryBudget) -> Self {
        BudgetState {
            budget,
            tokens: Mutex::new(budget.max_tokens),
        }
    }

    fn with_tokens<T>(&self, f: impl FnOnce(&mut f64) -> T) -> T {
        let mut tokens = self
            .tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut tokens)
    }

    /// Records a successful call; `on_retry` when the attempt that
    /// succeeded was a retry, whose token comes back.
    pub(crate) fn on_success(&self, on_retry: bool) {
        let budget = self.budget;
        let earned = budget.ratio + if on_retry { 1.0 } else { 0.0 };
        self.with_tokens(|tokens| *tokens = (*tokens + earned).min(budget.max_tokens));
    }

    /// Takes the token of one retry; `false` (and nothing taken) when the
    /// quota has none left.
    pub(crate) fn try_take_retry(&self) -> bool {
        self.with_tokens(|tokens| {
            if *tokens >= 1.0 {
                *tokens -= 1.0;
                true
            } else {
                false
            }
        })
    }

    #[cfg(test)]
    fn tokens(&self) -> f64 {
        self.with_tokens(|tokens| *tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_by_the_multiplier_up_to_the_cap() {
        let policy = RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(100))
            .with_multiplier(2.0)
            .with_max_backoff(Duration::from_millis(700));
        let ceilings: Vec<_> = (1..=5)
            .map(|n| policy.backoff_ceiling(n).as_millis())
            .collect();
        assert_eq!(ceilings, vec![100, 200, 400, 700, 700]);
        assert_eq!(policy.backoff_ceiling(u32::MAX), Duration::from_millis(700));
    }

    #[test]
    fn seeded_jitter_repeats_and_stays_under_the_ceiling() {
        let policy = RetryPolicy::default().with_jitter(Jitter::Seeded(7));
        let draw = || {
            let mut backoff = Backoff::new(policy.jitter);
            (1..=6)
                .map(|n| backoff.wait(&policy, n))
                .collect::<Vec<_>>()
        };
        let first = draw();
        assert_eq!(first, draw(), "the same seed gives the same waits");
        for (n, wait) in (1..=6).zip(&first) {
            assert!(*wait <= policy.backoff_ceiling(n), "{wait:?}");
        }
        assert!(
            first.windows(2).any(|w| w[0] != w[1]),
            "waits vary: {first:?}"
        );
        let mut other = Backoff::new(Jitter::Seeded(8));
        assert_ne!(first[0], other.wait(&policy, 1));
    }

    #[test]
    fn no_jitter_waits_the_whole_backoff() {
        let policy = RetryPolicy::default().with_jitter(Jitter::None);
        let mut backoff = Backoff::new(policy.jitter);
        assert_eq!(backoff.wait(&policy, 2), Duration::from_millis(200));
    }

    #[test]
    fn a_dead_service_gets_no_retries_once_the_quota_is_spent() {
        let budget = BudgetState::new(RetryBudget::new(3.0, 0.2));
        let allowed: Vec<bool> = (0..6).map(|_| budget.try_take_retry()).collect();
        assert_eq!(allowed, vec![true, true, true, false, false, false]);
        assert_eq!(budget.tokens(), 0.0);
    }

    #[test]
    fn successes_earn_the_ratio_and_a_successful_retry_is_refunded() {
        let budget = BudgetState::new(RetryBudget::new(10.0, 0.25));
        assert!(budget.try_take_retry());
        budget.on_success(true);
        assert_eq!(budget.tokens(), 10.0, "refunded, and capped at the size");
        for _ in 0..10 {
            assert!(budget.try_take_retry());
        }
        assert!(!budget.try_take_retry());
        for _ in 0..4 {
            budget.on_success(false);
        }
        assert_eq!(budget.tokens(), 1.0, "four successes earn one retry");
        assert!(budget.try_take_retry());
    }

    #[test]
    fn budget_settings_refuse_nonsense() {
        let budget = RetryBudget::new(f64::NAN, f64::INFINITY);
        assert_eq!((budget.max_tokens(), budget.ratio()), (0.0, 0.0));
        let budget = RetryBudget::new(-1.0, -0.5);
        assert_eq!((budget.max_tokens(), budget.ratio()), (0.0, 0.0));
        assert!(BudgetState::new(RetryBudget::unlimited()).try_take_retry());
    }

    #[test]
    fn setters_check_and_getters_read_back() {
        let policy = RetryPolicy::default()
            .with_max_attempts(0)
            .with_multiplier(f64::NAN)
            .with_initial_backoff(Duration::from_millis(5))
            .with_max_backoff(Duration::from_millis(50))
            .with_max_elapsed(Duration::from_secs(1))
            .with_jitter(Jitter::None);
        assert_eq!(policy.max_attempts(), 1);
        assert_eq!(policy.multiplier(), 1.0);
        assert_eq!(policy.initial_backoff(), Duration::from_millis(5));
        assert_eq!(policy.max_backoff(), Duration::from_millis(50));
        assert_eq!(policy.max_elapsed(), Some(Duration::from_secs(1)));
        assert_eq!(policy.jitter(), Jitter::None);
        assert_eq!(
            RetryPolicy::default().with_multiplier(0.5).multiplier(),
            1.0
        );
    }

    #[test]
    fn disabled_means_one_attempt() {
        assert_eq!(RetryPolicy::disabled().max_attempts, 1);
        assert_eq!(RetryPolicy::default().with_max_attempts(0).max_attempts, 1);
    }
}
