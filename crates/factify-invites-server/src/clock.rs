//! Time for the reference server: the [`Clock`] trait, the real
//! [`SystemClock`], and the [`ManualClock`] that tests move by hand.
//!
//! Every rule that depends on time (expiry after 7 days, the 24-hour
//! idempotency window, rate-limit windows, `created_at` of new records and the
//! time part of new IDs) reads the server's clock, so a test can jump a week
//! ahead without sleeping.

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

/// A source of the current time for the [`ReferenceServer`](super::ReferenceServer).
pub trait Clock: Send + Sync + Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's wall clock, [`Utc::now`]. The default of
/// [`ReferenceServer::new`](super::ReferenceServer::new).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move: share it with the server as
/// an `Arc` and call [`advance`](ManualClock::advance) or
/// [`set`](ManualClock::set) from the test.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use factify_invites_server::{ManualClock, ReferenceServer};
///
/// let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()));
/// let server = ReferenceServer::with_clock(clock.clone());
/// clock.advance(TimeDelta::days(8)); // every pending invitation is now expired
/// # let _ = server;
/// assert_eq!(clock.now(), Utc.with_ymd_and_hms(2024, 1, 9, 0, 0, 0).unwrap());
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock showing `start` until moved.
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock {
            now: Mutex::new(start),
        }
    }

    /// Sets the time to `time` (it may go backwards).
    pub fn set(&self, time: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = time;
    }

    /// Moves the time by `by` (negative goes backwards), saturating at the
    /// ends of [`DateTime`]'s range. A [`std::time::Duration`] converts with
    /// `TimeDelta::from_std(d)`, or use [`advance_std`](Self::advance_std).
    pub fn advance(&self, by: TimeDelta) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now
            .checked_add_signed(by)
            .unwrap_or(if by < TimeDelta::zero() {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            });
    }

    /// Moves the time forward by a [`std::time::Duration`], saturating.
    pub fn advance_std(&self, by: std::time::Duration) {
        self.advance(TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX));
    }

    /// The time the clock shows.
    pub fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        ManualClock::now(self)
    }
}

/// The server's clock as its calls read it: a [`Clock`] moved by a shift
/// that the admin surface (`/admin/v1/clock`) and
/// [`ReferenceServer::set_time`](super::ReferenceServer::set_time) set, so
/// time keeps flowing at the base clock's pace from wherever it was moved
/// to. The shift starts at zero.
#[derive(Debug)]
pub(crate) struct ShiftedClock {
    base: Arc<dyn Clock>,
    shift: Mutex<TimeDelta>,
}

impl ShiftedClock {
    pub(crate) fn new(base: Arc<dyn Clock>) -> Self {
        ShiftedClock {
            base,
            shift: Mutex::new(TimeDelta::zero()),
        }
    }

    /// How far this clock is ahead of its base (negative: behind).
    pub(crate) fn shift(&self) -> TimeDelta {
        *self.shift.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_shift(&self, shift: TimeDelta) {
        *self.shift.lock().unwrap_or_else(PoisonError::into_inner) = shift;
    }

    /// Moves the time by `by`, saturating instead of overflowing.
    pub(crate) fn advance(&self, by: TimeDelta) {
        let mut shift = self.shift.lock().unwrap_or_else(PoisonError::into_inner);
        *shift = shift.checked_add(&by).unwrap_or(if by < TimeDelta::zero() {
            TimeDelta::MIN
        } else {
            TimeDelta::MAX
        });
    }

    /// Makes the clock show `time` now.
    pub(crate) fn set(&self, time: DateTime<Utc>) {
        self.set_shift(time.signed_duration_since(self.base.now()));
    }
}

impl ShiftedClock {
    /// The base clock's time plus the shift, saturating.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        let base = self.base.now();
        let shift = self.shift();
        base.checked_add_signed(shift)
            .unwrap_or(if shift < TimeDelta::zero() {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            })
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        ShiftedClock::now(self)
    }
}

/// `time + by`, saturating at the end of [`DateTime`]'s range instead of
/// panicking, for clocks set to extreme values.
pub(crate) fn add(time: DateTime<Utc>, by: TimeDelta) -> DateTime<Utc> {
    time.checked_add_signed(by)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn manual_clock_moves_only_when_told_and_saturates() {
        let start = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(Clock::now(&clock), start);
        clock.advance(TimeDelta::hours(1));
        clock.advance_std(std::time::Duration::from_secs(60));
        assert_eq!(clock.now(), start + TimeDelta::minutes(61));
        clock.set(start);
        assert_eq!(clock.now(), start);
        clock.advance(TimeDelta::MAX);
        assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
        assert_eq!(
            add(clock.now(), TimeDelta::days(7)),
            DateTime::<Utc>::MAX_UTC
        );
    }

    #[test]
    fn a_shifted_clock_follows_its_base_from_where_it_was_moved() {
        let start = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        let base = Arc::new(ManualClock::new(start));
        let clock = ShiftedClock::new(base.clone());
        assert_eq!(Clock::now(&clock), start);
        clock.advance(TimeDelta::days(8));
        base.advance(TimeDelta::seconds(5));
        assert_eq!(
            Clock::now(&clock),
            start + TimeDelta::days(8) + TimeDelta::seconds(5)
        );
        let target = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        clock.set(target);
        assert_eq!(Clock::now(&clock), target);
        base.advance(TimeDelta::seconds(1));
        assert_eq!(Clock::now(&clock), target + TimeDelta::seconds(1));
        clock.advance(TimeDelta::MAX);
        clock.advance(TimeDelta::MAX);
        assert_eq!(Clock::now(&clock), DateTime::<Utc>::MAX_UTC);
        clock.set_shift(TimeDelta::zero());
        assert_eq!(Clock::now(&clock), start + TimeDelta::seconds(6));
    }
}
