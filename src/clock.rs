//! Time, injected: rotation, expiry and usage windows ask a [`Clock`], so tests move time by hand.
//!
//! Spans of time in settings (a cache TTL, a grace period, a rotation period, a usage window) are
//! `std::time::Duration`s; instants are `chrono::DateTime<Utc>`. The builders check the spans
//! when they build: one longer than 100,000 years cannot be added to a time, and is refused with
//! an error naming the setting.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::error::{Error, ErrorKind, Result};

/// The longest span a setting may have: 100,000 years. Twice that added to today is still a
/// time chrono can hold (its times end in the year 262,143), so no sum of settings overflows.
const MAX_SPAN_YEARS: u64 = 100_000;
const MAX_SPAN: Duration = Duration::from_secs(MAX_SPAN_YEARS * 366 * 86_400);

/// `duration` as a chrono span, for the setting called `what` (`the cache TTL`, ...).
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`] when it is longer than 100,000 years, naming `what`.
pub(crate) fn span(what: &str, duration: Duration) -> Result<TimeDelta> {
    TimeDelta::from_std(duration)
        .ok()
        .filter(|_| duration <= MAX_SPAN)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "{what} of {} seconds is too long: at most {MAX_SPAN_YEARS} years",
                    duration.as_secs()
                ),
            )
        })
}

/// `duration` as a chrono span, the longest chrono has when it is longer: for arithmetic that
/// saturates anyway (see `rotation::later`), on settings that may not have been checked.
pub(crate) fn saturating_span(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to: for tests of rotation and expiry, without sleeping.
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use keyward::clock::{Clock, ManualClock};
///
/// let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
/// let clock = ManualClock::new(start);
/// clock.advance(TimeDelta::days(90));
/// assert_eq!(clock.now(), start + TimeDelta::days(90));
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock stopped at `now`.
    pub fn new(now: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Mutex::new(now),
        }
    }

    /// Sets the time.
    pub fn set(&self, now: DateTime<Utc>) {
        *self.lock() = now;
    }

    /// Moves the time by `delta` (backwards when negative).
    pub fn advance(&self, delta: TimeDelta) {
        let mut now = self.lock();
        *now += delta;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        // A panic while holding this lock cannot leave a half-written time behind.
        self.now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}
