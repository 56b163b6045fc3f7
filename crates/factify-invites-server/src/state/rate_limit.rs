//! The optional rate limits: a sliding window per API key of all calls,
//! and of creations, on the server's time.

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};

use super::model::{Caller, RateWindow, State};
use crate::clock::add;
use crate::error::{ApiError, RateLimited};
use crate::types::{Method, RateLimits};

/// The width of the rate-limit window.
pub(crate) const RATE_WINDOW: TimeDelta = TimeDelta::minutes(1);

impl State {
    /// Turns on (or off, with `None`) rate limiting.
    pub(crate) fn set_rate_limits(&mut self, limits: Option<RateLimits>) {
        self.rate_limits = limits;
        self.windows.clear();
    }

    /// Narrows (or widens) the rate-limit window from its 60 seconds, so
    /// that a test sees a whole window in seconds.
    pub(crate) fn set_rate_window(&mut self, window: TimeDelta) {
        self.rate_window = Some(window);
        self.windows.clear();
    }

    /// How many calls the rate limits refused.
    pub(crate) fn rate_limited_count(&self) -> u64 {
        self.rate_limited
    }

    /// Admits a call of `method` by `caller` at `now` under the rate limits,
    /// if any: a sliding 60-second window per API key of all calls, and of
    /// creations. A refused call does not count.
    pub(crate) fn check_rate(
        &mut self,
        caller: &Caller,
        method: Method,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let Some(limits) = self.rate_limits else {
            return Ok(());
        };
        let width = self.rate_window.unwrap_or(RATE_WINDOW);
        let result = Self::admit(
            self.windows.entry(caller.key.clone()).or_default(),
            limits,
            width,
            method,
            now,
        );
        if result.is_err() {
            self.rate_limited += 1;
        }
        result
    }

    fn admit(
        window: &mut RateWindow,
        limits: RateLimits,
        width: TimeDelta,
        method: Method,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let since = now
            .checked_sub_signed(width)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        for calls in [&mut window.all, &mut window.creates] {
            while calls.front().is_some_and(|t| *t <= since) {
                calls.pop_front();
            }
        }
        let refuse = |calls: &VecDeque<DateTime<Utc>>, limit: u32, what: &str| {
            if calls.len() < usize::try_from(limit).unwrap_or(usize::MAX) {
                return Ok(());
            }
            // The oldest call leaves the window at `oldest + width`.
            let reset_at = calls.front().map_or(add(now, width), |t| add(*t, width));
            Err(ApiError::rate_limited(
                what,
                RateLimited {
                    limit,
                    retry_after: (reset_at - now).max(TimeDelta::milliseconds(1)),
                    reset_at,
                },
            ))
        };
        refuse(&window.all, limits.requests_per_minute, "requests")?;
        if method == Method::Create {
            refuse(&window.creates, limits.creates_per_minute, "creations")?;
            window.creates.push_back(now);
        }
        window.all.push_back(now);
        Ok(())
    }
}
