//! Staying under Factify's rate limits: the server's cool-down (after a
//! `RESOURCE_EXHAUSTED` that says how long to wait, every clone of the
//! client waits that long before its next call) and an opt-in client-side
//! [`RateLimit`] that spaces calls evenly.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A client-side cap on the call rate, opt-in on the builder.
///
/// Calls are spaced evenly (a call may start once `60 s / rate` has passed
/// since the previous start), so no 60-second window ever holds more than
/// the rate: a client under this limit never meets the server's. Waiting
/// counts against each call's deadline.
///
/// ```
/// use factify_invites::rate_limit::RateLimit;
///
/// let spec = RateLimit::SPEC; // 1000 calls and 100 creations a minute
/// let gentle = RateLimit::per_minute(600).with_creates_per_minute(60);
/// # let _ = (spec, gentle);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Calls a minute, of every method together.
    pub requests_per_minute: u32,
    /// Of those, `CreateOrganizationInvite` calls a minute.
    pub creates_per_minute: u32,
}

impl RateLimit {
    /// Factify's published limits for one API key: 1000 requests a minute,
    /// 100 of them creations.
    pub const SPEC: RateLimit = RateLimit {
        requests_per_minute: 1000,
        creates_per_minute: 100,
    };

    /// `requests` calls a minute, with creations at the SPEC's share (a
    /// tenth, at least one).
    pub fn per_minute(requests: u32) -> RateLimit {
        RateLimit {
            requests_per_minute: requests.max(1),
            creates_per_minute: (requests / 10).max(1),
        }
    }

    /// Sets the cap on creations a minute.
    #[must_use]
    pub fn with_creates_per_minute(mut self, creates: u32) -> RateLimit {
        self.creates_per_minute = creates.max(1);
        self
    }
}

/// Spaces events at least `interval` apart.
#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Duration,
    next_free: Mutex<Option<Instant>>,
}

impl Pacer {
    pub(crate) fn per_minute(rate: u32) -> Pacer {
        Pacer {
            interval: Duration::from_secs(60) / rate.max(1),
            next_free: Mutex::new(None),
        }
    }

    /// Books the next free start and returns it; the caller waits until then.
    pub(crate) fn reserve(&self) -> Instant {
        let now = Instant::now();
        let mut next_free = self.next_free.lock().unwrap_or_else(|p| p.into_inner());
        let start = next_free.map_or(now, |free| free.max(now));
        *next_free = Some(start + self.interval);
        start
    }
}

/// When the server last asked every call to hold off until.
#[derive(Debug, Default)]
pub(crate) struct Cooldown {
    until: Mutex<Option<Instant>>,
}

impl Cooldown {
    /// Records a server's "retry after `delay`".
    pub(crate) fn hold_off(&self, delay: Duration) {
        let until = Instant::now() + delay;
        let mut current = self.until.lock().unwrap_or_else(|p| p.into_inner());
        if current.is_none_or(|current| current < until) {
            *current = Some(until);
        }
    }

    /// The instant calls may resume, if it is still ahead.
    pub(crate) fn resume_at(&self) -> Option<Instant> {
        let until = *self.until.lock().unwrap_or_else(|p| p.into_inner());
        until.filter(|until| *until > Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pacer_spaces_reservations_evenly() {
        let pacer = Pacer::per_minute(600); // one every 100 ms
        let start = Instant::now();
        let slots: Vec<_> = (0..4).map(|_| pacer.reserve() - start).collect();
        assert_eq!(slots, [0, 100, 200, 300].map(Duration::from_millis));
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(
            pacer.reserve(),
            Instant::now(),
            "an idle pacer starts at once"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn cooldown_keeps_the_latest_deadline() {
        let cooldown = Cooldown::default();
        assert!(cooldown.resume_at().is_none());
        cooldown.hold_off(Duration::from_secs(2));
        cooldown.hold_off(Duration::from_secs(1));
        assert_eq!(
            cooldown.resume_at(),
            Some(Instant::now() + Duration::from_secs(2))
        );
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(cooldown.resume_at().is_none());
    }

    #[test]
    fn presets_match_the_spec() {
        assert_eq!(RateLimit::SPEC.requests_per_minute, 1000);
        assert_eq!(RateLimit::SPEC.creates_per_minute, 100);
        assert_eq!(RateLimit::per_minute(50).creates_per_minute, 5);
    }
}
