//! [`SharedRedactor`]: a redactor that follows keys as they load and rotate.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::redactor::{Redactor, RedactorBuilder};
use super::stream::StreamRedactor;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::SecretString;

/// A handle to the current [`Redactor`], swapped atomically when secrets change.
///
/// Readers call [`current`](SharedRedactor::current) and keep the returned `Arc` for as long as
/// they like (a whole stream, say); writers call [`update`](SharedRedactor::update) when a key
/// is loaded or rotated. The value a key had before a rotation stays redacted for a grace period
/// ([`DEFAULT_GRACE_PERIOD`](SharedRedactor::DEFAULT_GRACE_PERIOD) unless set), because text
/// produced just before the rotation may still carry it.
///
/// Changes are batched: `update`, `remove` and `prune` only record what changed (and check
/// it), and the next `current` builds the matcher once for all of them and swaps it in. Every
/// redactor `current` returns after an `update` has returned knows the value. Building costs
/// some 60 µs per secret, so a thousand keys loaded one at a time cost one build, not a
/// thousand; a reader that calls `current` after every single change still pays one build per
/// change.
///
/// Clones share the same state.
///
/// ```
/// use keyward::{Redactor, SecretString};
/// use keyward::guard::SharedRedactor;
///
/// let shared = SharedRedactor::new(Redactor::builder());
/// let old = SecretString::from(format!("sk-proj-{}", "0ld0".repeat(10)));
/// let new = SecretString::from(format!("sk-proj-{}", "N3w0".repeat(10)));
/// shared.update("OPENAI_API_KEY", &old)?;
/// shared.update("OPENAI_API_KEY", &new)?; // rotation: the old value stays redacted a while
///
/// let text = format!("{} {}", old.expose_secret(), new.expose_secret());
/// assert_eq!(
///     shared.current().redact(&text),
///     "[REDACTED:OPENAI_API_KEY] [REDACTED:OPENAI_API_KEY]"
/// );
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Clone)]
pub struct SharedRedactor {
    inner: Arc<Shared>,
}

struct Shared {
    current: RwLock<Arc<Redactor>>,
    /// Whether the registry holds changes `current` does not have yet. Set under the registry's
    /// lock, cleared under it once `current` has them.
    stale: AtomicBool,
    /// How many matchers were built, for tests of the batching.
    builds: AtomicUsize,
    registry: Mutex<Registry>,
}

struct Registry {
    /// The settings, and the secrets given to [`SharedRedactor::new`], always redacted.
    fixed: RedactorBuilder,
    live: Vec<(String, SecretString)>,
    retired: Vec<Retired>,
    grace: Duration,
    clock: Arc<dyn Clock>,
}

impl Registry {
    /// Until when a value replaced or removed now stays redacted.
    fn grace_end(&self) -> Result<DateTime<Utc>> {
        let grace = grace_delta(self.grace)?;
        self.clock
            .now()
            .checked_add_signed(grace)
            .ok_or_else(|| grace_too_long(self.grace))
    }
}

/// `grace` as chrono counts time; an error if it is longer than chrono can count (some 292
/// million years).
fn grace_delta(grace: Duration) -> Result<TimeDelta> {
    TimeDelta::from_std(grace).map_err(|_| grace_too_long(grace))
}

fn grace_too_long(grace: Duration) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!(
            "the grace period of {} seconds is too long: a replaced value would stay redacted \
             past the latest time chrono can represent; give a shorter one (the default is {} \
             hours)",
            grace.as_secs(),
            SharedRedactor::DEFAULT_GRACE_PERIOD.as_secs() / 3600
        ),
    )
}

#[derive(Clone)]
struct Retired {
    label: String,
    value: SecretString,
    until: DateTime<Utc>,
}

impl fmt::Debug for SharedRedactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedRedactor")
            .field("current", &self.current())
            .finish()
    }
}

impl SharedRedactor {
    /// A handle whose redactors use the settings of `builder`; the secrets already in `builder`
    /// are always redacted, the others come and go with [`update`](SharedRedactor::update) and
    /// [`remove`](SharedRedactor::remove).
    ///
    /// If `builder` cannot build (a secret shorter than the minimum length, an empty label, a
    /// fragment length below 6), the handle still redacts its secrets that are not empty, with
    /// a fragment length that builds, and the next `update` reports the error.
    pub fn new(builder: RedactorBuilder) -> SharedRedactor {
        // Failing closed: a handle that silently redacted none of the secrets it was given
        // would let exactly those through.
        let current = builder
            .clone()
            .build()
            .or_else(|_| builder.clone().build_leniently())
            .unwrap_or_default();
        SharedRedactor {
            inner: Arc::new(Shared {
                current: RwLock::new(Arc::new(current)),
                stale: AtomicBool::new(false),
                builds: AtomicUsize::new(0),
                registry: Mutex::new(Registry {
                    fixed: builder,
                    live: Vec::new(),
                    retired: Vec::new(),
                    grace: SharedRedactor::DEFAULT_GRACE_PERIOD,
                    clock: Arc::new(SystemClock),
                }),
            }),
        }
    }

    /// How long a replaced value stays redacted unless
    /// [`with_grace_period`](SharedRedactor::with_grace_period) says otherwise: answers and logs
    /// written just before a rotation may still carry the old key.
    pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(24 * 60 * 60);

    /// Sets how long a replaced or removed value stays redacted (default
    /// [`DEFAULT_GRACE_PERIOD`](SharedRedactor::DEFAULT_GRACE_PERIOD), 24 hours).
    ///
    /// A span longer than chrono can add to the current time (some 262,000 years) is not
    /// applied: every later [`update`](SharedRedactor::update) and
    /// [`remove`](SharedRedactor::remove) then fails with an error that says so, and leaves the
    /// handle unchanged.
    ///
    /// ```
    /// use std::time::Duration;
    /// use keyward::guard::SharedRedactor;
    /// use keyward::{Redactor, SecretString};
    ///
    /// let shared = SharedRedactor::new(Redactor::builder())
    ///     .with_grace_period(Duration::from_secs(10 * 60));
    /// let key = SecretString::from(format!("sk-proj-{}", "N3w0".repeat(10)));
    /// shared.update("OPENAI_API_KEY", &key)?;
    ///
    /// let forever = SharedRedactor::new(Redactor::builder()).with_grace_period(Duration::MAX);
    /// let err = forever.update("OPENAI_API_KEY", &key).unwrap_err();
    /// assert!(err.to_string().contains("grace period"));
    /// # Ok::<(), keyward::Error>(())
    /// ```
    pub fn with_grace_period(self, grace: Duration) -> SharedRedactor {
        self.registry().grace = grace;
        self
    }

    /// Sets the clock the grace period is measured with (a
    /// [`ManualClock`](crate::clock::ManualClock) in tests; an `Arc` of one, to keep a handle
    /// that moves it).
    pub fn with_clock(self, clock: impl Clock + 'static) -> SharedRedactor {
        self.registry().clock = Arc::new(clock);
        self
    }

    /// The redactor to use now. Keep it for a whole message or stream: it does not change
    /// under you, and the next call returns the newest one. Builds the matcher first if
    /// anything changed since the last call.
    pub fn current(&self) -> Arc<Redactor> {
        if self.inner.stale.load(Ordering::Acquire) {
            self.refresh();
        }
        self.inner
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Builds the matcher for the registry's secrets and makes it current. Every change was
    /// checked when it was recorded, so building can only fail on an automaton too large to
    /// index, far beyond any real set of keys; then the previous redactor stays, and the next
    /// call tries again.
    fn refresh(&self) {
        let mut registry = self.registry();
        // Another reader may have built it while this one waited for the lock.
        if !self.inner.stale.load(Ordering::Acquire) {
            return;
        }
        let now = registry.clock.now();
        registry.retired.retain(|r| r.until > now);
        let mut builder = registry.fixed.clone();
        for (label, value) in &registry.live {
            builder = builder.with_secret(label.as_str(), value);
        }
        for r in &registry.retired {
            builder = builder.with_secret(r.label.as_str(), &r.value);
        }
        self.inner.builds.fetch_add(1, Ordering::Relaxed);
        if let Ok(redactor) = builder.build() {
            *self
                .inner
                .current
                .write()
                .unwrap_or_else(PoisonError::into_inner) = Arc::new(redactor);
            self.inner.stale.store(false, Ordering::Release);
        }
    }

    /// A [`StreamRedactor`] over the current redactor.
    pub fn stream(&self) -> StreamRedactor {
        self.current().stream()
    }

    /// Sets the value of `label`, as when a key is loaded or rotated. A different previous
    /// value stays redacted for the grace period.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] if the value is too short to redact, the settings given to
    /// [`new`](SharedRedactor::new) cannot build, or the grace period is too long to count; the
    /// handle is then unchanged.
    pub fn update(&self, label: &str, value: &SecretString) -> Result<()> {
        self.update_all([(label, value)])
    }

    /// Sets several values at once, all or none. Each works as in
    /// [`update`](SharedRedactor::update).
    ///
    /// # Errors
    ///
    /// As `update`, for the first value refused; then none of them is applied.
    pub fn update_all<'a>(
        &self,
        values: impl IntoIterator<Item = (&'a str, &'a SecretString)>,
    ) -> Result<()> {
        let mut registry = self.registry();
        // A builder that cannot build is reported here, not first by a reader.
        registry.fixed.validate()?;
        let until = registry.grace_end()?;
        let mut live = registry.live.clone();
        let mut retired = registry.retired.clone();
        let mut changed = false;
        for (label, value) in values {
            registry.fixed.check(label, value)?;
            match live.iter_mut().find(|(l, _)| l == label) {
                Some((_, old)) if old == value => continue,
                Some((_, old)) => {
                    let old = std::mem::replace(old, value.clone());
                    retired.push(Retired {
                        label: label.to_owned(),
                        value: old,
                        until,
                    });
                }
                None => live.push((label.to_owned(), value.clone())),
            }
            // A value that comes back is live again, not retired.
            retired.retain(|r| !(r.label == label && r.value == *value));
            changed = true;
        }
        if changed {
            registry.live = live;
            registry.retired = retired;
            self.mark_stale();
        }
        Ok(())
    }

    /// Keeps values redacted until the time given with each, without making them live: for
    /// values that were in use elsewhere (a key manager's cache) before they reached this
    /// handle. A value live under the same label is left alone; one already retired keeps the
    /// later of its two times. The next [`current`](SharedRedactor::current) builds the
    /// matcher, if something changed.
    ///
    /// # Errors
    ///
    /// As [`update`](SharedRedactor::update); then none of them is applied.
    pub(crate) fn retire_all<'a>(
        &self,
        values: impl IntoIterator<Item = (&'a str, &'a SecretString, DateTime<Utc>)>,
    ) -> Result<()> {
        let mut registry = self.registry();
        let now = registry.clock.now();
        // Usually every value is known already (live, as the manager loaded it): then nothing
        // is copied.
        let news: Vec<_> = values
            .into_iter()
            .filter(|&(label, value, until)| {
                until > now
                    && !registry.live.iter().any(|(l, v)| l == label && v == value)
                    && !registry
                        .retired
                        .iter()
                        .any(|r| r.label == label && r.value == *value && r.until >= until)
            })
            .collect();
        if news.is_empty() {
            return Ok(());
        }
        for &(label, value, _) in &news {
            registry.fixed.check(label, value)?;
        }
        for (label, value, until) in news {
            match registry
                .retired
                .iter_mut()
                .find(|r| r.label == label && r.value == *value)
            {
                Some(known) => known.until = known.until.max(until),
                None => registry.retired.push(Retired {
                    label: label.to_owned(),
                    value: value.clone(),
                    until,
                }),
            }
        }
        self.mark_stale();
        Ok(())
    }

    /// Removes `label`; its value stays redacted for the grace period. Returns whether it was
    /// there.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] if the grace period is too long to count; the value then
    /// stays live.
    pub fn remove(&self, label: &str) -> Result<bool> {
        let mut registry = self.registry();
        let Some(index) = registry.live.iter().position(|(l, _)| l == label) else {
            return Ok(false);
        };
        let until = registry.grace_end()?;
        let (label, value) = registry.live.remove(index);
        registry.retired.push(Retired {
            label,
            value,
            until,
        });
        self.mark_stale();
        Ok(true)
    }

    /// Stops redacting replaced values whose grace period is over; returns how many. Also done
    /// whenever the matcher is built.
    ///
    /// # Errors
    ///
    /// None today; kept so that a future check can report one.
    pub fn prune(&self) -> Result<usize> {
        let mut registry = self.registry();
        let before = registry.retired.len();
        let now = registry.clock.now();
        registry.retired.retain(|r| r.until > now);
        let pruned = before - registry.retired.len();
        if pruned > 0 {
            self.mark_stale();
        }
        Ok(pruned)
    }

    /// Records that the registry changed; the caller holds its lock.
    fn mark_stale(&self) {
        self.inner.stale.store(true, Ordering::Release);
    }

    /// How many matchers this handle has built since it was made.
    #[cfg(test)]
    fn builds(&self) -> usize {
        self.inner.builds.load(Ordering::Relaxed)
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        // Every write to the registry is a single assignment, so a panic elsewhere cannot leave
        // it half-changed.
        self.inner
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::clock::ManualClock;

    fn key(tag: &str) -> SecretString {
        SecretString::from(format!("sk-proj-{}", tag.repeat(10)))
    }

    #[test]
    fn a_builder_that_cannot_build_still_redacts_its_secrets() {
        let fixed = key("Fx9q");
        let text = format!("a {} b", fixed.expose_secret());
        let unbuildable = [
            Redactor::builder()
                .with_secret("FIXED", &fixed)
                .with_fragment_len(3),
            Redactor::builder()
                .with_secret("FIXED", &fixed)
                .with_min_len(200),
            Redactor::builder()
                .with_secret("", &key("N0n4"))
                .with_secret("FIXED", &fixed),
            Redactor::builder()
                .with_secret("FIXED", &fixed)
                .with_secret("EMPTY", &SecretString::from("")),
        ];
        for builder in unbuildable {
            assert!(builder.clone().build().is_err());
            let shared = SharedRedactor::new(builder);
            assert_eq!(shared.current().redact(&text), "a [REDACTED:FIXED] b");
            // The misconfiguration is still reported.
            assert!(shared.update("LIVE", &key("Lv7w")).is_err());
        }
    }

    #[test]
    fn old_value_is_redacted_until_the_grace_period_ends() {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let shared = SharedRedactor::new(Redactor::builder())
            .with_grace_period(Duration::from_secs(10 * 60))
            .with_clock(clock.clone());
        let (old, new) = (key("aB1c"), key("dE2f"));
        shared.update("OPENAI", &old).unwrap();
        let before_rotation = shared.current();
        shared.update("OPENAI", &new).unwrap();
        let both = format!("{} {}", old.expose_secret(), new.expose_secret());

        // a reader that kept the old redactor is not affected by the swap
        assert!(before_rotation.redact(&both).contains(new.expose_secret()));
        assert_eq!(shared.current().len(), 2);
        assert_eq!(
            shared.current().redact(&both),
            "[REDACTED:OPENAI] [REDACTED:OPENAI]"
        );

        clock.advance(TimeDelta::minutes(11));
        assert_eq!(shared.prune().unwrap(), 1);
        let after = shared.current().redact(&both).into_owned();
        assert_eq!(after, format!("{} [REDACTED:OPENAI]", old.expose_secret()));
    }

    #[test]
    fn a_rejected_update_leaves_the_handle_unchanged() {
        let shared = SharedRedactor::new(Redactor::builder());
        shared.update("A", &key("aB1c")).unwrap();
        let err = shared
            .update("B", &SecretString::from("short"))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(shared.current().labels().collect::<Vec<_>>(), ["A"]);
    }

    #[test]
    fn remove_keeps_the_value_for_the_grace_period_and_swaps_are_seen_by_clones() {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let shared = SharedRedactor::new(Redactor::builder()).with_clock(clock.clone());
        let reader = shared.clone();
        let k = key("zZ9y");
        shared.update("K", &k).unwrap();
        assert!(reader.current().is_leak(k.expose_secret()));
        assert!(shared.remove("K").unwrap());
        assert!(!shared.remove("K").unwrap());
        assert!(reader.current().is_leak(k.expose_secret()));
        let grace = TimeDelta::from_std(SharedRedactor::DEFAULT_GRACE_PERIOD).unwrap();
        clock.advance(grace + TimeDelta::seconds(1));
        shared.prune().unwrap();
        assert!(!reader.current().is_leak(k.expose_secret()));
    }

    #[test]
    fn update_all_applies_everything_or_nothing() {
        let shared = SharedRedactor::new(Redactor::builder());
        let (a, b) = (key("aB1c"), key("dE2f"));
        let short = SecretString::from("short");
        let err = shared.update_all([("A", &a), ("B", &short)]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(shared.current().is_empty());
        shared.update_all([("A", &a), ("B", &b)]).unwrap();
        assert_eq!(shared.current().labels().collect::<Vec<_>>(), ["A", "B"]);
        // rotating back to an old value makes it live, not a second retired copy
        shared.update("A", &b).unwrap();
        shared.update("A", &a).unwrap();
        assert_eq!(
            shared.current().len(),
            3,
            "A (live), B (live), b retired from A"
        );
    }

    #[test]
    fn retired_values_stay_until_their_own_time_and_never_displace_live_ones() {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let shared = SharedRedactor::new(Redactor::builder()).with_clock(clock.clone());
        let (live, old, older) = (key("Lv1e"), key("0ld1"), key("0ld2"));
        shared.update("K", &live).unwrap();
        let start = clock.now();
        shared
            .retire_all([
                ("K", &live, start + TimeDelta::minutes(1)),
                ("K", &old, start + TimeDelta::minutes(30)),
                ("J", &older, start + TimeDelta::minutes(10)),
                ("J", &older, start + TimeDelta::minutes(20)),
                ("X", &key("Gone"), start),
            ])
            .unwrap();
        let before = shared.current();
        assert_eq!(before.len(), 3, "K live, K and J retired; X already over");
        // Nothing new: not rebuilt.
        shared
            .retire_all([("J", &older, start + TimeDelta::minutes(5))])
            .unwrap();
        assert!(Arc::ptr_eq(&before, &shared.current()));

        clock.advance(TimeDelta::minutes(25));
        shared.prune().unwrap();
        let now = shared.current();
        assert!(now.is_leak(live.expose_secret()) && now.is_leak(old.expose_secret()));
        assert!(!now.is_leak(older.expose_secret()), "J had until minute 20");
        clock.advance(TimeDelta::days(2));
        shared.prune().unwrap();
        let now = shared.current();
        assert!(
            now.is_leak(live.expose_secret()),
            "live values never expire"
        );
        assert!(!now.is_leak(old.expose_secret()));
    }

    #[test]
    fn updates_from_many_threads_all_land() {
        let shared = SharedRedactor::new(Redactor::builder());
        std::thread::scope(|s| {
            for t in 0..4 {
                let shared = shared.clone();
                s.spawn(move || {
                    for i in 0..5 {
                        let v = SecretString::from(format!("thread{t}-secret-{i:04}-xxxxxxxx"));
                        shared.update(&format!("T{t}"), &v).unwrap();
                    }
                });
            }
        });
        // 4 live values plus 4 x 4 retired ones
        assert_eq!(shared.current().len(), 20);
    }

    #[test]
    fn changes_are_built_once_by_the_next_reader() {
        let shared = SharedRedactor::new(Redactor::builder());
        let keys: Vec<SecretString> = (0..2000)
            .map(|i| SecretString::from(format!("key-{i:05}-FaKe0FaKe0FaKe0")))
            .collect();
        // 2,000 one-at-a-time updates took 129 s when each rebuilt the matcher.
        for (i, key) in keys.iter().enumerate() {
            shared.update(&format!("K{i}"), key).unwrap();
        }
        assert_eq!(shared.builds(), 0);
        let current = shared.current();
        assert_eq!(shared.builds(), 1);
        assert_eq!(current.len(), 2000);
        assert!(current.is_leak(keys[0].expose_secret()));
        assert!(current.is_leak(keys[1999].expose_secret()));
        // Nothing changed: no build; a change: exactly one more, seen by the next reader.
        let _ = shared.current();
        assert_eq!(shared.builds(), 1);
        let new = SecretString::from("key-new-FaKe0FaKe0FaKe0");
        shared.update("NEW", &new).unwrap();
        assert!(shared.current().is_leak(new.expose_secret()));
        assert_eq!(shared.builds(), 2);
        shared.remove("NEW").unwrap();
        shared.prune().unwrap();
        let _ = shared.current();
        assert_eq!(shared.builds(), 3);
    }

    #[test]
    fn readers_on_other_threads_see_every_update_that_returned() {
        let shared = SharedRedactor::new(Redactor::builder());
        std::thread::scope(|s| {
            for t in 0..2 {
                let shared = shared.clone();
                s.spawn(move || {
                    for i in 0..40 {
                        let v = SecretString::from(format!("thread{t}-secret-{i:04}-xxxxxxxx"));
                        shared.update(&format!("T{t}-{i}"), &v).unwrap();
                        assert!(shared.current().is_leak(v.expose_secret()));
                    }
                });
            }
        });
    }

    /// Any span of time is taken; one too long for chrono to count from now is refused by the
    /// changes that would retire a value, with an error that says so, never a panic, and the
    /// handle stays as it was.
    #[test]
    fn a_grace_period_too_long_to_count_is_refused_not_a_panic() {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let year = Duration::from_secs(365 * 24 * 60 * 60);
        for (grace, fits) in [
            (Duration::ZERO, true),
            (year * 1000, true),
            // fits chrono's `TimeDelta`, not its calendar: now + 300,000 years overflows
            (year * 300_000, false),
            (Duration::from_secs(u64::MAX), false),
            (Duration::MAX, false),
        ] {
            let shared = SharedRedactor::new(Redactor::builder())
                .with_grace_period(grace)
                .with_clock(clock.clone());
            let k = key("Gr4c");
            let result = shared.update("K", &k);
            assert_eq!(result.is_ok(), fits, "{grace:?}");
            if let Err(err) = result {
                assert_eq!(err.kind(), ErrorKind::InvalidInput);
                assert!(err.to_string().contains("grace period"), "{err}");
                assert!(shared.current().is_empty());
                continue;
            }
            assert!(shared.remove("K").unwrap());
            // retired until now plus the grace: a zero grace ends at once
            assert_eq!(
                shared.current().is_leak(k.expose_secret()),
                !grace.is_zero()
            );
        }
        // A grace that fits today may not fit at a later time: then `remove` keeps the value live.
        let shared = SharedRedactor::new(Redactor::builder())
            .with_grace_period(year * 1000)
            .with_clock(clock.clone());
        let k = key("L4te");
        shared.update("K", &k).unwrap();
        clock.set(DateTime::<Utc>::MAX_UTC - TimeDelta::days(1));
        let err = shared.remove("K").unwrap_err();
        assert!(err.to_string().contains("grace period"), "{err}");
        assert_eq!(shared.current().labels().collect::<Vec<_>>(), ["K"]);
    }
}
