//! The manager's clock, read cheaply on the fast path.

use std::sync::Arc;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};

use crate::clock::{Clock, SystemClock};

/// The manager's clock.
///
/// The default system clock is read as a `SystemTime` on the fast path: turning it into a chrono
/// `DateTime` costs about as much as the rest of a cached read (see `docs/benchmarks.md`).
#[derive(Debug, Clone)]
pub(super) enum TimeSource {
    System,
    Injected(Arc<dyn Clock>),
}

impl TimeSource {
    pub(super) fn now(&self) -> DateTime<Utc> {
        match self {
            TimeSource::System => SystemClock.now(),
            TimeSource::Injected(clock) => clock.now(),
        }
    }

    /// Microseconds since the Unix epoch, as [`micros`] counts them, for the cache's freshness
    /// checks. On Linux the system time comes from the coarse clock: it lags by at most one tick
    /// (a few milliseconds), which is nothing against a TTL of minutes, and costs a tenth of a
    /// precise read (see docs/benchmarks.md) on the hot path of every cached `get`.
    #[inline]
    pub(super) fn now_micros(&self) -> i64 {
        match self {
            TimeSource::System => coarse_system_micros(),
            TimeSource::Injected(clock) => micros(clock.now()),
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(clippy::useless_conversion)] // `tv_nsec` is a 32-bit `c_long` on some targets
#[inline]
pub(super) fn coarse_system_micros() -> i64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    now.tv_sec.saturating_mul(1_000_000) + i64::from(now.tv_nsec) / 1_000
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(super) fn coarse_system_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|since| i64::try_from(since.as_micros()).ok())
        .unwrap_or_else(|| micros(SystemClock.now()))
}

/// Microseconds since the Unix epoch; a time compared with it must be rounded down too, so that
/// `micros(a) < micros(b)` implies `a < b`.
pub(super) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}
