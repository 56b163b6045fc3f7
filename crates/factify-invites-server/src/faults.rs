//! Faults the reference server can be told to show, so that a client's
//! resilience can be tested against a real socket: answers of
//! `UNAVAILABLE` or `RESOURCE_EXHAUSTED` that act on nothing, delays, and a
//! steady latency per method.
//!
//! Faults are queued: each call (of the method a fault names, or of any
//! method) takes the next matching fault. A call that finds none queued may
//! draw one at random, at a set rate from a seeded generator
//! ([`ReferenceServer::inject_random_faults`](super::ReferenceServer::inject_random_faults)),
//! so that a test of many calls sees the same faults on every run. Faulted calls still count in
//! [`ReferenceServer::call_count`](super::ReferenceServer::call_count), so a
//! test sees every attempt the server received.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::types::Method;

/// One misbehaviour of the reference server, for one call.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer `UNAVAILABLE` (reason `service_unavailable`) without acting.
    Unavailable,
    /// Answer `RESOURCE_EXHAUSTED` (reason `rate_limit_exceeded`) with a
    /// `RetryInfo` of this delay, without acting.
    RateLimited(Duration),
    /// Wait this long, then act and answer as usual (a client whose deadline
    /// is shorter gives up first).
    Delay(Duration),
    /// Act at once, then hold the answer this long: a connection lost in
    /// the meantime leaves the client unsure whether the server acted (it
    /// did).
    DelayResponse(Duration),
    /// Act (create, send the email, change the state), then answer
    /// `UNAVAILABLE` (over Connect, HTTP 503) instead of the result: what a
    /// proxy or load balancer does when the answer is lost on its way back.
    /// A client that repeats a call it cannot safely repeat does the work
    /// twice.
    UnavailableAfterActing,
}

/// Faults drawn at random, at a rate, for the calls that find none queued.
#[derive(Debug)]
struct RandomFaults {
    method: Option<Method>,
    fault: Fault,
    rate: f64,
    rng: fastrand::Rng,
}

/// The queued faults and steady latencies of one server.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    queue: Mutex<VecDeque<(Option<Method>, Fault)>>,
    random: Mutex<Vec<RandomFaults>>,
    latency: Mutex<HashMap<Method, Duration>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Faults {
    /// Queues `faults` for the next calls of `method` (or of any method).
    pub(crate) fn push(&self, method: Option<Method>, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.queue).extend(faults.into_iter().map(|fault| (method, fault)));
    }

    /// From now on, gives `fault` to each call of `method` (or of any
    /// method) that finds no fault queued, with probability `rate`, drawn
    /// from a generator seeded with `seed`. A rate of 0 removes the
    /// random faults of that method.
    pub(crate) fn set_random(&self, method: Option<Method>, fault: Fault, rate: f64, seed: u64) {
        let mut random = lock(&self.random);
        random.retain(|entry| entry.method != method);
        if rate > 0.0 {
            random.push(RandomFaults {
                method,
                fault,
                rate: rate.min(1.0),
                rng: fastrand::Rng::with_seed(seed),
            });
        }
    }

    /// Takes the first queued fault that applies to a call of `method`, or
    /// else draws a random one.
    pub(crate) fn take(&self, method: Method) -> Option<Fault> {
        let applies = |target: Option<Method>| target.is_none_or(|target| target == method);
        let mut queue = lock(&self.queue);
        if let Some(index) = queue.iter().position(|(target, _)| applies(*target)) {
            return queue.remove(index).map(|(_, fault)| fault);
        }
        drop(queue);
        let mut random = lock(&self.random);
        let entry = random.iter_mut().find(|entry| applies(entry.method))?;
        (entry.rng.f64() < entry.rate).then_some(entry.fault)
    }

    /// How many faults are still queued.
    pub(crate) fn pending(&self) -> usize {
        lock(&self.queue).len()
    }

    pub(crate) fn set_latency(&self, method: Method, latency: Duration) {
        lock(&self.latency).insert(method, latency);
    }

    pub(crate) fn latency(&self, method: Method) -> Duration {
        lock(&self.latency)
            .get(&method)
            .copied()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_go_to_the_calls_they_name_in_order() {
        let faults = Faults::default();
        faults.push(
            Some(Method::Create),
            [Fault::Unavailable, Fault::Unavailable],
        );
        faults.push(None, [Fault::Delay(Duration::from_millis(5))]);
        assert_eq!(
            faults.take(Method::List),
            Some(Fault::Delay(Duration::from_millis(5)))
        );
        assert_eq!(faults.take(Method::List), None);
        assert_eq!(faults.take(Method::Create), Some(Fault::Unavailable));
        assert_eq!(faults.pending(), 1);
    }

    #[test]
    fn random_faults_come_at_their_rate_and_repeat_with_the_seed() {
        let draw = |seed| {
            let faults = Faults::default();
            faults.set_random(Some(Method::Resend), Fault::Unavailable, 0.3, seed);
            (0..1000)
                .map(|_| faults.take(Method::Resend).is_some())
                .collect::<Vec<_>>()
        };
        let first = draw(5);
        assert_eq!(first, draw(5));
        let hits = first.iter().filter(|hit| **hit).count();
        assert!((250..=350).contains(&hits), "{hits} of 1000");
        let faults = Faults::default();
        faults.set_random(Some(Method::Resend), Fault::Unavailable, 1.0, 1);
        assert_eq!(faults.take(Method::List), None, "another method");
        faults.push(Some(Method::Resend), [Fault::Delay(Duration::ZERO)]);
        assert_eq!(
            faults.take(Method::Resend),
            Some(Fault::Delay(Duration::ZERO)),
            "queued faults come first"
        );
        faults.set_random(Some(Method::Resend), Fault::Unavailable, 0.0, 1);
        assert_eq!(
            faults.take(Method::Resend),
            None,
            "a rate of 0 removes them"
        );
    }
}
