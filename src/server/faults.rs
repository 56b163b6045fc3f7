//! Faults the reference server can be told to show, so that a client's
//! resilience can be tested against a real socket: answers of
//! `UNAVAILABLE` or `RESOURCE_EXHAUSTED` that act on nothing, delays, and a
//! steady latency per method.
//!
//! Faults are queued: each call (of the method a fault names, or of any
//! method) takes the next matching fault. Faulted calls still count in
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
}

/// The queued faults and steady latencies of one server.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    queue: Mutex<VecDeque<(Option<Method>, Fault)>>,
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

    /// Takes the first queued fault that applies to a call of `method`.
    pub(crate) fn take(&self, method: Method) -> Option<Fault> {
        let mut queue = lock(&self.queue);
        let index = queue
            .iter()
            .position(|(target, _)| target.is_none_or(|target| target == method))?;
        queue.remove(index).map(|(_, fault)| fault)
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
}
