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

/// The longest wait the client takes from a server's answer (`RetryInfo`,
/// or Connect's `X-RateLimit-Reset` and `Retry-After`) unless the builder
/// sets another with `max_retry_after`: Factify's rate-limit window is a
/// minute, so a longer wait is a broken or hostile answer, and must not hold
/// the client and its clones back for longer.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// `from + delay`, or the furthest instant this platform can name when that
/// overflows: a server-given delay must never panic the client.
pub(crate) fn instant_after(from: Instant, delay: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    from.checked_add(delay)
        .or_else(|| from.checked_add(YEAR))
        .unwrap_or(from)
}

/// Spaces events at least `interval` apart.
#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Duration,
    state: Mutex<PacerState>,
}

#[derive(Debug, Default)]
struct PacerState {
    /// The first start after every booked slot.
    next_free: Option<Instant>,
    /// Booked slots, still ahead, that their calls gave back.
    returned: Vec<Instant>,
}

/// A booked start of a [`Pacer`]; dropped before its start comes (its call
/// gave up, or was dropped while waiting), it goes back to the pacer, so an
/// abandoned call never pushes later ones back.
#[derive(Debug)]
pub(crate) struct Reservation<'a> {
    pacer: &'a Pacer,
    start: Instant,
}

impl Reservation<'_> {
    /// When the call may start.
    pub(crate) fn start(&self) -> Instant {
        self.start
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.start > Instant::now() {
            self.pacer.give_back(self.start);
        }
    }
}

impl Pacer {
    pub(crate) fn per_minute(rate: u32) -> Pacer {
        Pacer {
            interval: Duration::from_secs(60) / rate.max(1),
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PacerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Books the earliest free start: a slot another call gave back, or the
    /// next one after every booked slot. The caller waits until then, and
    /// keeps the [`Reservation`] until it does.
    pub(crate) fn reserve(&self) -> Reservation<'_> {
        let now = Instant::now();
        let mut state = self.state();
        // A returned slot whose time has passed was simply not used.
        state.returned.retain(|slot| *slot >= now);
        let earliest = (0..state.returned.len()).min_by_key(|&index| state.returned[index]);
        let start = match earliest {
            Some(index) => state.returned.swap_remove(index),
            None => {
                let start = state.next_free.map_or(now, |free| free.max(now));
                state.next_free = Some(instant_after(start, self.interval));
                start
            }
        };
        Reservation { pacer: self, start }
    }

    /// Frees the booked slot at `start`: the last one shortens the booking
    /// (and any returned slots it then ends on); another is kept for the
    /// next call.
    fn give_back(&self, start: Instant) {
        let mut state = self.state();
        let state = &mut *state;
        if state.next_free != Some(instant_after(start, self.interval)) {
            state.returned.push(start);
            return;
        }
        state.next_free = Some(start);
        while let Some(index) = state
            .returned
            .iter()
            .position(|slot| state.next_free == Some(instant_after(*slot, self.interval)))
        {
            state.next_free = Some(state.returned.swap_remove(index));
        }
    }
}

/// When the server last asked every call to hold off until.
#[derive(Debug, Default)]
pub(crate) struct Cooldown {
    until: Mutex<Option<Instant>>,
}

impl Cooldown {
    /// Records a server's "retry after `delay`" (already capped by the
    /// caller; an overflowing one still never panics).
    pub(crate) fn hold_off(&self, delay: Duration) {
        let until = instant_after(Instant::now(), delay);
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
        let slots: Vec<_> = (0..4).map(|_| pacer.reserve()).collect();
        let offsets: Vec<_> = slots.iter().map(|slot| slot.start() - start).collect();
        assert_eq!(offsets, [0, 100, 200, 300].map(Duration::from_millis));
        tokio::time::advance(Duration::from_secs(5)).await;
        drop(slots); // all in the past: nothing to give back
        assert_eq!(
            pacer.reserve().start(),
            Instant::now(),
            "an idle pacer starts at once"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn abandoned_reservations_go_back_to_the_pacer() {
        let pacer = Pacer::per_minute(60); // one a second
        let t0 = Instant::now();
        let first = pacer.reserve();
        let second = pacer.reserve();
        let third = pacer.reserve();
        assert_eq!(third.start(), t0 + Duration::from_secs(2));

        // A slot in the middle is taken by the next call.
        drop(second);
        assert_eq!(pacer.reserve().start(), t0 + Duration::from_secs(1));
        // The one it left is free again (the booking shrank): so is the last.
        drop(third);
        let again = pacer.reserve();
        assert_eq!(again.start(), t0 + Duration::from_secs(1));
        assert_eq!(pacer.reserve().start(), t0 + Duration::from_secs(2));
        drop(first);

        // A hundred calls that give up do not push the next one back.
        let abandoned: Vec<_> = (0..100).map(|_| pacer.reserve()).collect();
        drop(abandoned);
        assert!(pacer.reserve().start() <= t0 + Duration::from_secs(3));
        drop(again);
    }

    #[tokio::test(start_paused = true)]
    async fn an_overflowing_wait_is_no_panic() {
        let cooldown = Cooldown::default();
        cooldown.hold_off(Duration::MAX);
        assert!(cooldown.resume_at().is_some_and(|at| at > Instant::now()));
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
