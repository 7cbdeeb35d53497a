//! [`KeyManager`]: a cache in front of a [`SecretProvider`] or an [`AsyncSecretProvider`] that
//! knows how old its keys are.
//!
//! Reads of cached keys take a read lock on one of 16 shards, so readers never block each other
//! and readers of different keys rarely share a lock; a thread that reads a key again is served
//! from its own copy while the cache has not changed (`local`), touching no lock at all. A miss
//! is loaded once however many threads and tasks miss at the same time (single-flight). When the
//! provider fails for a while ([`Error::is_temporary`]), the last good value is served for a
//! while (stale-on-error) and an event says so; when it answers that the key is gone or no longer
//! the caller's to read (not found, a refused credential), the cached value is dropped at once.
//! Events go to hooks registered on the builder, which is how the leak guard and the usage log
//! follow the keys without the manager knowing them.
//!
//! There are two front doors, [`KeyManager::get`] and [`KeyManager::get_async`], onto one cache.
//! A load is three steps: join the flight (`start_load`), ask the provider (`fetch` or
//! `fetch_async`, no lock held), and store what it said (`land`: cache update under one shard's
//! write lock, waiters released, events emitted). Only the middle step differs between the doors;
//! what to make of a cached entry and of a fetch result is decided in one place for both.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError, RwLock, Weak};
use std::task::{Context, Poll, Waker};
#[cfg(not(any(target_os = "linux", target_os = "android")))]
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeDelta, Utc};

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, ErrorKind, Result};
use crate::guard::{Redactor, SharedRedactor};
use crate::mask::Fingerprint;
use crate::provider::{
    AsyncSecretProvider, MAX_KEY_NAME_LEN, SecretProvider, quote_name, validate_key_name,
};
use crate::rotation::{
    CreatedAt, ManagedKey, RotationPolicy, RotationReport, RotationStatus, earlier,
    parse_created_at,
};
use crate::secret::{Secret, SecretString};

mod join;
mod local;
use join::join_all;
use local::{Changes, Stamp};

/// Shards of the cache; a power of two so that the shard is picked with a mask.
const SHARDS: usize = 16;

/// Something that happened to a key, for the hooks registered with
/// [`KeyManagerBuilder::on_event`].
///
/// Events carry the [`ManagedKey`] where one exists, value included, because some subscribers
/// need it (the leak guard keeps its list of values to redact current from `Loaded` and
/// `Rotated`). `Debug` never shows a value.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum KeyEvent {
    /// A key was fetched for the first time (or again after it was evicted or invalidated).
    Loaded {
        /// The key.
        key: Arc<ManagedKey>,
    },
    /// A cached key was fetched again and is unchanged.
    Refreshed {
        /// The key.
        key: Arc<ManagedKey>,
    },
    /// A fetch returned a different value or version: the key was rotated at the source.
    Rotated {
        /// The value held until now.
        old: Arc<ManagedKey>,
        /// The value from the source.
        new: Arc<ManagedKey>,
        /// Until when the manager keeps the old value in
        /// [`retired_keys`](KeyManager::retired_keys).
        grace_until: DateTime<Utc>,
    },
    /// The grace period of a rotated-out value ended.
    Retired {
        /// The old value.
        key: Arc<ManagedKey>,
    },
    /// A refresh failed with a [temporary](Error::is_temporary) error and the last good value is
    /// served instead.
    StaleServed {
        /// The value served.
        key: Arc<ManagedKey>,
        /// The kind of the refresh error.
        error_kind: ErrorKind,
        /// The message of the refresh error.
        message: String,
        /// After this time the error is returned instead.
        stale_until: DateTime<Utc>,
    },
    /// A key came within its policy's warning period.
    DueSoon {
        /// The key.
        key: Arc<ManagedKey>,
    },
    /// A key is due for rotation.
    Due {
        /// The key.
        key: Arc<ManagedKey>,
    },
    /// A key is past its expiry date or maximum age.
    Expired {
        /// The key.
        key: Arc<ManagedKey>,
    },
    /// Fetching a key failed.
    RefreshFailed {
        /// The key's name.
        name: String,
        /// The kind of the error.
        error_kind: ErrorKind,
        /// The message of the error.
        message: String,
    },
}

impl KeyEvent {
    /// The name of the key the event is about.
    pub fn name(&self) -> &str {
        match self {
            KeyEvent::RefreshFailed { name, .. } => name,
            KeyEvent::Rotated { new: key, .. }
            | KeyEvent::Loaded { key }
            | KeyEvent::Refreshed { key }
            | KeyEvent::Retired { key }
            | KeyEvent::StaleServed { key, .. }
            | KeyEvent::DueSoon { key }
            | KeyEvent::Due { key }
            | KeyEvent::Expired { key } => key.name(),
        }
    }

    /// The key the event is about (the new one for `Rotated`), where there is one.
    pub fn key(&self) -> Option<&Arc<ManagedKey>> {
        match self {
            KeyEvent::RefreshFailed { .. } => None,
            KeyEvent::Rotated { new: key, .. }
            | KeyEvent::Loaded { key }
            | KeyEvent::Refreshed { key }
            | KeyEvent::Retired { key }
            | KeyEvent::StaleServed { key, .. }
            | KeyEvent::DueSoon { key }
            | KeyEvent::Due { key }
            | KeyEvent::Expired { key } => Some(key),
        }
    }
}

type EventHook = Arc<dyn Fn(&KeyEvent) + Send + Sync>;

/// Builds a [`KeyManager`]; see [`KeyManager::builder`] and [`KeyManager::builder_async`].
#[must_use]
pub struct KeyManagerBuilder {
    source: Source,
    clock: TimeSource,
    config: Config,
    hooks: Vec<EventHook>,
}

#[derive(Debug, Clone)]
struct Config {
    ttl: TimeDelta,
    capacity: usize,
    default_policy: RotationPolicy,
    policies: HashMap<String, RotationPolicy>,
    max_stale: TimeDelta,
    stale_retry: TimeDelta,
    serve_expired: bool,
    grace_period: TimeDelta,
    created_at_suffix: Option<String>,
}

impl KeyManagerBuilder {
    fn new(source: Source) -> KeyManagerBuilder {
        KeyManagerBuilder {
            source,
            clock: TimeSource::System,
            config: Config {
                ttl: TimeDelta::minutes(5),
                capacity: 1024,
                default_policy: RotationPolicy::default(),
                policies: HashMap::new(),
                max_stale: TimeDelta::hours(1),
                stale_retry: TimeDelta::seconds(30),
                serve_expired: false,
                grace_period: TimeDelta::hours(24),
                created_at_suffix: Some(CreatedAt::DEFAULT_COMPANION_SUFFIX.to_owned()),
            },
            hooks: Vec::new(),
        }
    }

    /// Sets the clock (default: [`SystemClock`]). Pass an `Arc<ManualClock>` and keep a clone to
    /// move time in tests.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> KeyManagerBuilder {
        self.clock = TimeSource::Injected(Arc::new(clock));
        self
    }

    /// Sets how long a fetched key is served from the cache before it is fetched again
    /// (default: 5 minutes).
    pub fn with_ttl(mut self, ttl: TimeDelta) -> KeyManagerBuilder {
        self.config.ttl = ttl;
        self
    }

    /// Sets how many keys the cache holds (default: 1024). When it is full, the key fetched
    /// longest ago is dropped.
    pub fn with_capacity(mut self, capacity: usize) -> KeyManagerBuilder {
        self.config.capacity = capacity;
        self
    }

    /// Sets the rotation policy of keys without a policy of their own.
    pub fn with_policy(mut self, policy: RotationPolicy) -> KeyManagerBuilder {
        self.config.default_policy = policy;
        self
    }

    /// Sets the rotation policy of the key `name`.
    pub fn with_policy_for(
        mut self,
        name: impl Into<String>,
        policy: RotationPolicy,
    ) -> KeyManagerBuilder {
        self.config.policies.insert(name.into(), policy);
        self
    }

    /// Sets how long after a key stopped being fresh its last good value may be served while the
    /// provider fails temporarily (default: 1 hour). Zero turns stale serving off.
    ///
    /// Only errors that are [temporary](Error::is_temporary) are covered: a timeout, an
    /// unreachable server, a 5xx or 429. A refused credential ([`ErrorKind::PermissionDenied`])
    /// or a deleted key ([`ErrorKind::NotFound`]) reaches the caller at once and drops the cached
    /// value, so that a revoked token stops serving the key on the next fetch.
    pub fn with_max_stale(mut self, max_stale: TimeDelta) -> KeyManagerBuilder {
        self.config.max_stale = max_stale;
        self
    }

    /// Sets how long a stale value is served before the provider is asked again (default: 30
    /// seconds, at most the TTL), so that a failing provider is not asked on every read.
    pub fn with_stale_retry_interval(mut self, interval: TimeDelta) -> KeyManagerBuilder {
        self.config.stale_retry = interval;
        self
    }

    /// Serves expired keys, with an [`KeyEvent::Expired`] event, instead of refusing them with
    /// [`ErrorKind::Expired`] (the default).
    pub fn serve_expired(mut self, serve: bool) -> KeyManagerBuilder {
        self.config.serve_expired = serve;
        self
    }

    /// Sets how long a rotated-out value stays in [`KeyManager::retired_keys`] (default: 24
    /// hours), so that output still carrying it is caught while it may still work.
    pub fn with_grace_period(mut self, grace: TimeDelta) -> KeyManagerBuilder {
        self.config.grace_period = grace;
        self
    }

    /// Sets the suffix of the companion key that holds a key's creation date when the provider's
    /// metadata does not (default: `_CREATED_AT`, as in `OPENAI_API_KEY_CREATED_AT`).
    pub fn with_created_at_suffix(mut self, suffix: impl Into<String>) -> KeyManagerBuilder {
        self.config.created_at_suffix = Some(suffix.into());
        self
    }

    /// Never looks up companion creation-date keys.
    pub fn without_created_at_companion(mut self) -> KeyManagerBuilder {
        self.config.created_at_suffix = None;
        self
    }

    /// Calls `hook` for every [`KeyEvent`].
    ///
    /// Hooks run on the thread (or in the task) that caused the event, after the manager has
    /// released its locks, so they may call the manager. Keep them quick and non-blocking: a
    /// slow hook slows that read, and in a task it holds up the runtime thread.
    pub fn on_event(
        mut self,
        hook: impl Fn(&KeyEvent) + Send + Sync + 'static,
    ) -> KeyManagerBuilder {
        self.hooks.push(Arc::new(hook));
        self
    }

    /// Calls `hook(old, new)` when a key is found rotated at the source.
    pub fn on_rotated(
        self,
        hook: impl Fn(&ManagedKey, &ManagedKey) + Send + Sync + 'static,
    ) -> KeyManagerBuilder {
        self.on_event(move |event| {
            if let KeyEvent::Rotated { old, new, .. } = event {
                hook(old, new);
            }
        })
    }

    /// Builds the manager.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for a TTL that is not positive, a capacity of zero, a negative
    /// duration, or a rotation policy that fails [`RotationPolicy::validate`].
    pub fn build(self) -> Result<KeyManager> {
        let config = self.config;
        let invalid = |what: &str| Err(Error::new(ErrorKind::InvalidInput, what.to_owned()));
        if config.ttl <= TimeDelta::zero() {
            return invalid("the cache ttl must be positive");
        }
        if config.capacity == 0 {
            return invalid("the cache capacity must be at least 1");
        }
        if config.max_stale < TimeDelta::zero()
            || config.stale_retry < TimeDelta::zero()
            || config.grace_period < TimeDelta::zero()
        {
            return invalid(
                "max_stale, the stale retry interval and the grace period must not be negative",
            );
        }
        config.default_policy.validate()?;
        for (name, policy) in &config.policies {
            policy.validate().map_err(|err| {
                Error::new(err.kind(), format!("{err} (for {})", quote_name(name)))
            })?;
        }
        let shards = (0..SHARDS).map(|_| Shard::default()).collect();
        Ok(KeyManager {
            inner: Arc::new(Inner {
                source: self.source,
                clock: self.clock,
                config,
                hooks: self.hooks.into(),
                shards,
                changes: Changes::new(),
                len: AtomicUsize::new(0),
                first_seen: Mutex::default(),
                redactor: OnceLock::new(),
                departed: Mutex::default(),
            }),
        })
    }
}

impl fmt::Debug for KeyManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyManagerBuilder")
            .field("provider", &self.source.name())
            .field("clock", &self.clock)
            .field("config", &self.config)
            .field("hooks", &self.hooks.len())
            .finish()
    }
}

/// A cache of keys in front of a [`SecretProvider`] or an [`AsyncSecretProvider`], with rotation
/// tracking.
///
/// Two front doors share the cache: [`get`](Self::get) for blocking code and
/// [`get_async`](Self::get_async) for async code (see [`builder_async`](Self::builder_async) for
/// remote providers). Cloning is cheap and shares the cache.
///
/// ```
/// use std::sync::Arc;
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use keyward::{KeyManager, MemoryProvider};
/// use keyward::clock::ManualClock;
/// use keyward::rotation::RotationStatus;
///
/// let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()));
/// let provider = MemoryProvider::new()
///     .with("OPENAI_API_KEY", "sk-test-not-a-real-key-000000")
///     .with("OPENAI_API_KEY_CREATED_AT", "2025-11-01");
/// let manager = KeyManager::builder(provider).with_clock(clock.clone()).build()?;
///
/// let key = manager.get("OPENAI_API_KEY")?;
/// assert_eq!(key.age_at(clock.now()).map(|age| age.num_days()), Some(61));
/// assert_eq!(key.status_at(clock.now()), RotationStatus::Current);
/// clock.advance(TimeDelta::days(20));
/// println!("{}", manager.rotation_report()); // OPENAI_API_KEY  due soon  81 days ...
/// # use keyward::clock::Clock;
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Clone)]
pub struct KeyManager {
    inner: Arc<Inner>,
}

struct Inner {
    source: Source,
    clock: TimeSource,
    config: Config,
    hooks: Box<[EventHook]>,
    shards: Box<[Shard]>,
    /// Moves on every change to the shards: tells each thread's copies of entries when they
    /// are stale.
    changes: Changes,
    /// Entries across all shards, to enforce the capacity without locking every shard.
    len: AtomicUsize,
    /// When each value of unknown age was first seen, by key name and fingerprint of the
    /// value: kept when the entry is invalidated or evicted, so that the age it reports does
    /// not start again. Bounded (see [`Inner::first_seen`]).
    first_seen: Mutex<Names<(Fingerprint, DateTime<Utc>)>>,
    /// Made on the first call to [`KeyManager::redactor`], so that a program that does not use
    /// it does not rebuild a matcher on every load.
    redactor: OnceLock<SharedRedactor>,
    /// Values that left the cache before the redactor was made, for it to know when it is.
    departed: Mutex<Departed>,
}

/// Values handed out that left the cache (evicted, invalidated, deleted at the source, or a
/// retired value displaced by a newer rotation) while there was no redactor yet, each until its
/// grace period ends: [`KeyManager::redactor`], called later, must still know them. One entry
/// per name and value, so memory grows with the distinct values that left within a grace
/// period, not with how often they left.
#[derive(Default)]
struct Departed {
    keys: Names<Vec<(Arc<ManagedKey>, DateTime<Utc>)>>,
    /// How many names were kept at the last full pruning; the next waits until there are
    /// twice as many, so that pruning costs O(1) a departure, amortised.
    pruned_len: usize,
}

impl Departed {
    /// Keeps each key until the time given with it.
    fn add(&mut self, keys: Vec<(Arc<ManagedKey>, DateTime<Utc>)>, now: DateTime<Utc>) {
        for (key, until) in keys {
            if until <= now || !redactable(key.secret().value()) {
                continue;
            }
            let known = self.keys.entry(key.name().to_owned()).or_default();
            known.retain(|(_, until)| *until > now);
            match known
                .iter_mut()
                .find(|(other, _)| other.secret().value() == key.secret().value())
            {
                Some((_, known_until)) => *known_until = (*known_until).max(until),
                None => known.push((key, until)),
            }
        }
        if self.keys.len() > 2 * self.pruned_len.max(16) {
            self.keys.retain(|_, known| {
                known.retain(|(_, until)| *until > now);
                !known.is_empty()
            });
            self.pruned_len = self.keys.len();
        }
    }

    /// Everything kept, leaving the list empty.
    fn take(&mut self) -> Vec<(Arc<ManagedKey>, DateTime<Utc>)> {
        self.pruned_len = 0;
        std::mem::take(&mut self.keys)
            .into_values()
            .flatten()
            .collect()
    }
}

type Names<V> = HashMap<String, V, BuildHasherDefault<NameHasher>>;

#[derive(Default)]
struct Shard {
    entries: RwLock<Names<Entry>>,
    flights: Mutex<HashMap<String, Arc<Flight>>>,
}

struct Entry {
    key: Arc<ManagedKey>,
    /// Until this time (microseconds since the epoch) a read needs no thought: the value is fresh
    /// (or stale and not yet due for a retry) and its rotation status cannot have changed. The
    /// fast path compares only this.
    quiet_until: i64,
    fresh_until: DateTime<Utc>,
    /// Set while a stale value is served after a failed refresh: the next attempt's time.
    retry_at: Option<DateTime<Utc>>,
    retired: Option<RetiredKey>,
    /// The status last announced by an event, so each change is announced once.
    announced: AtomicU8,
}

struct RetiredKey {
    key: Arc<ManagedKey>,
    until: DateTime<Utc>,
}

/// The manager's clock.
///
/// The default system clock is read as a `SystemTime` on the fast path: turning it into a chrono
/// `DateTime` costs about as much as the rest of a cached read (see `docs/benchmarks.md`).
#[derive(Debug, Clone)]
enum TimeSource {
    System,
    Injected(Arc<dyn Clock>),
}

impl TimeSource {
    fn now(&self) -> DateTime<Utc> {
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
    fn now_micros(&self) -> i64 {
        match self {
            TimeSource::System => coarse_system_micros(),
            TimeSource::Injected(clock) => micros(clock.now()),
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(clippy::useless_conversion)] // `tv_nsec` is a 32-bit `c_long` on some targets
#[inline]
fn coarse_system_micros() -> i64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    now.tv_sec.saturating_mul(1_000_000) + i64::from(now.tv_nsec) / 1_000
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn coarse_system_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|since| i64::try_from(since.as_micros()).ok())
        .unwrap_or_else(|| micros(SystemClock.now()))
}

/// Microseconds since the Unix epoch; a time compared with it must be rounded down too, so that
/// `micros(a) < micros(b)` implies `a < b`.
fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// FxHash, the hasher of rustc: a few cycles for a short key name where SipHash takes tens of
/// nanoseconds. It does not resist chosen collisions, which is acceptable here because only names
/// the provider returned a value for are stored, and at most `capacity` of them.
#[derive(Default, Clone, Copy)]
struct NameHasher(u64);

impl NameHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(NameHasher::SEED);
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // Built in a register: copying into a stack buffer and reading it back as one word
            // stalls store forwarding, which showed as a tenth of the cached read.
            let word = rest
                .iter()
                .enumerate()
                .fold(0, |word, (i, byte)| word | u64::from(*byte) << (8 * i));
            self.add(word);
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// What a load produced.
#[derive(Clone)]
enum Loaded {
    Fresh(Arc<ManagedKey>),
    /// The refresh failed; this is the last good value, still within `max_stale`.
    Stale(Arc<ManagedKey>, Error),
}

/// What the caller wants from a load.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A read: a fresh cached value will do, and a stale one when the refresh fails.
    Get,
    /// A forced fetch: refresh errors are returned.
    Refresh,
}

/// Where the manager's keys come from, and so which front doors can ask for them.
enum Source {
    /// Answers [`KeyManager::get`] and [`KeyManager::get_async`] (which calls it inline).
    Sync(Arc<dyn SecretProvider>),
    /// Answers [`KeyManager::get_async`] only: `get` would have to block on a future.
    Async(Arc<dyn AsyncSecretProvider>),
}

impl Source {
    fn name(&self) -> &str {
        match self {
            Source::Sync(provider) => SecretProvider::name(&**provider),
            Source::Async(provider) => AsyncSecretProvider::name(&**provider),
        }
    }
}

/// One fetch of one key that every caller missing the key waits for: threads on the condvar,
/// tasks through their wakers.
#[derive(Default)]
struct Flight {
    state: Mutex<FlightState>,
    done: Condvar,
}

enum FlightState {
    /// The fetch is under way; the wakers of the tasks waiting for it.
    Pending(Vec<Waker>),
    /// The fetch is over, with this result for everyone.
    Landed(Result<Loaded>),
    /// The fetching task was cancelled (its future dropped) before it finished. Nothing was
    /// fetched, so the waiters start over and one of them fetches.
    Abandoned,
}

impl Default for FlightState {
    fn default() -> FlightState {
        FlightState::Pending(Vec::new())
    }
}

impl Flight {
    /// Ends the flight and wakes every waiter, threads and tasks. The first outcome stands.
    fn settle(&self, outcome: FlightState) {
        let mut state = lock(&self.state);
        let FlightState::Pending(wakers) = &mut *state else {
            return;
        };
        let wakers = std::mem::take(wakers);
        *state = outcome;
        drop(state);
        self.done.notify_all();
        wakers.into_iter().for_each(Waker::wake);
    }

    /// The flight's result for a waiting thread; `None` when it was abandoned.
    fn wait(&self) -> Option<Result<Loaded>> {
        let mut state = lock(&self.state);
        loop {
            match &*state {
                FlightState::Pending(_) => {
                    state = self
                        .done
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                FlightState::Landed(result) => return Some(result.clone()),
                FlightState::Abandoned => return None,
            }
        }
    }

    /// The flight's result for a waiting task, without blocking its thread.
    fn wait_async(&self) -> FlightWait<'_> {
        FlightWait {
            flight: self,
            slot: None,
        }
    }
}

/// The future of [`Flight::wait_async`]: resolves as [`Flight::wait`] returns.
struct FlightWait<'a> {
    flight: &'a Flight,
    /// Where this task's waker sits in the flight's list, once registered. The list only grows
    /// while the flight is pending, so the index stays valid.
    slot: Option<usize>,
}

impl Future for FlightWait<'_> {
    type Output = Option<Result<Loaded>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let flight = self.flight;
        let mut state = lock(&flight.state);
        let wakers = match &mut *state {
            FlightState::Pending(wakers) => wakers,
            FlightState::Landed(result) => return Poll::Ready(Some(result.clone())),
            FlightState::Abandoned => return Poll::Ready(None),
        };
        match self.slot.and_then(|slot| wakers.get_mut(slot)) {
            Some(waker) => waker.clone_from(cx.waker()),
            None => {
                self.slot = Some(wakers.len());
                wakers.push(cx.waker().clone());
            }
        }
        Poll::Pending
    }
}

/// Held by the caller that fetches. Dropping it ends the flight: with the result that
/// [`land`](Inner::land) put in it, else as abandoned (a cancelled task) or failed (a panicking
/// provider), so that waiters are never left behind.
struct FlightLead<'a> {
    inner: &'a Inner,
    shard: &'a Shard,
    name: &'a str,
    flight: Arc<Flight>,
    result: Option<Result<Loaded>>,
}

impl Drop for FlightLead<'_> {
    fn drop(&mut self) {
        // Out of the map first: a waiter that starts over must not find this flight again.
        {
            let mut flights = lock(&self.shard.flights);
            if flights
                .get(self.name)
                .is_some_and(|flight| Arc::ptr_eq(flight, &self.flight))
            {
                flights.remove(self.name);
            }
        }
        let outcome = match self.result.take() {
            Some(result) => FlightState::Landed(result),
            None if std::thread::panicking() => FlightState::Landed(Err(Error::new(
                ErrorKind::Backend,
                format!(
                    "provider {} panicked while loading {}",
                    self.inner.source.name(),
                    quote_name(self.name)
                ),
            ))),
            None => FlightState::Abandoned,
        };
        self.flight.settle(outcome);
    }
}

/// A value fetched from the provider, before it is stored.
struct Fetched {
    secret: Secret,
    created_at: Option<CreatedAt>,
}

impl Fetched {
    /// The creation time comes from the metadata, else from the companion key's answer (its
    /// name and value), else it is unknown.
    fn new(secret: Secret, companion: Option<(String, Option<Secret>)>) -> Result<Fetched> {
        let created_at = match (secret.meta().created_at, companion) {
            (Some(at), _) => Some(CreatedAt::Metadata { at }),
            (None, Some((key, Some(date)))) => {
                let at = parse_created_at(&key, date.expose_secret())?;
                Some(CreatedAt::Companion { key, at })
            }
            (None, _) => None,
        };
        Ok(Fetched { secret, created_at })
    }
}

/// The first step of a load, as [`Inner::start_load`] found it.
enum Start<'a> {
    /// Answered without a fetch (a refused name, or a value stored meanwhile).
    Done(Result<Arc<ManagedKey>>),
    /// Another caller is fetching: wait for its result.
    Wait(Arc<Flight>),
    /// This caller fetches.
    Lead(FlightLead<'a>),
}

/// The keys a preload got and the ones it did not, for one error that lists them all.
#[derive(Default)]
struct Preload {
    keys: Vec<Arc<ManagedKey>>,
    failures: Vec<(String, Error)>,
}

impl Preload {
    fn add(&mut self, name: &str, result: Result<Arc<ManagedKey>>) {
        match result {
            Ok(key) => self.keys.push(key),
            Err(err) => self.failures.push((name.to_owned(), err)),
        }
    }

    fn finish(self, provider: &str) -> Result<Vec<Arc<ManagedKey>>> {
        let failures = self.failures;
        if failures.is_empty() {
            return Ok(self.keys);
        }
        let kind = failures
            .iter()
            .map(|(_, err)| err.kind())
            .find(|kind| *kind != ErrorKind::NotFound)
            .unwrap_or(ErrorKind::NotFound);
        let list: Vec<String> = failures
            .iter()
            .map(|(name, err)| match err.kind() {
                ErrorKind::NotFound => format!("{} (not found)", quote_name(name)),
                _ => format!("{} ({err})", quote_name(name)),
            })
            .collect();
        // Worth trying again only if every failure is.
        let temporary = failures.iter().all(|(_, err)| err.is_temporary());
        Err(Error::new(
            kind,
            format!(
                "{} of {} secrets could not be loaded from {provider}: {}",
                failures.len(),
                failures.len() + self.keys.len(),
                list.join(", ")
            ),
        )
        .with_temporary(temporary))
    }
}

/// Locks a mutex; a poisoned one is still consistent, as no code that can panic runs under it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl KeyManager {
    /// Starts building a manager in front of `provider` (any [`SecretProvider`], including
    /// `Box<dyn SecretProvider>` and `Arc<dyn SecretProvider>`).
    ///
    /// Such a manager answers both [`get`](Self::get) and [`get_async`](Self::get_async).
    pub fn builder(provider: impl SecretProvider + 'static) -> KeyManagerBuilder {
        KeyManagerBuilder::new(Source::Sync(Arc::new(provider)))
    }

    /// Starts building a manager in front of an [`AsyncSecretProvider`], such as a remote
    /// secrets manager.
    ///
    /// Such a manager answers [`get_async`](Self::get_async) and the other `_async` methods; its
    /// blocking [`get`](Self::get) and [`refresh`](Self::refresh) return an
    /// [`ErrorKind::InvalidInput`] error rather than block a thread (perhaps a runtime's) on the
    /// network. A provider that implements [`SecretProvider`] too is better passed to
    /// [`builder`](Self::builder), which opens both doors.
    ///
    /// Key names are left to the provider to check: remote names such as
    /// `prod/api-keys#OPENAI_API_KEY` have separators that [`validate_key_name`] refuses for
    /// local sources. The manager itself refuses only empty names and names with control
    /// characters.
    ///
    /// ```
    /// use keyward::{AsyncSecretProvider, KeyManager, Result, Secret, SecretMeta};
    /// use keyward::provider::BoxFuture;
    ///
    /// /// A remote source, reduced to its async `get`.
    /// #[derive(Debug)]
    /// struct Remote;
    ///
    /// impl AsyncSecretProvider for Remote {
    ///     fn name(&self) -> &str {
    ///         "remote"
    ///     }
    ///
    ///     fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Secret>>> {
    ///         Box::pin(async move {
    ///             Ok((key == "prod/api#OPENAI").then(|| {
    ///                 Secret::new("sk-not-a-real-key-0000", SecretMeta::new("remote"))
    ///             }))
    ///         })
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<()> {
    /// let manager = KeyManager::builder_async(Remote).build()?;
    /// let key = manager.get_async("prod/api#OPENAI").await?;
    /// assert_eq!(key.source(), "remote");
    /// // The blocking door is closed rather than blocking a runtime thread.
    /// assert!(manager.get("prod/api#OPENAI").is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder_async(provider: impl AsyncSecretProvider + 'static) -> KeyManagerBuilder {
        KeyManagerBuilder::new(Source::Async(Arc::new(provider)))
    }

    /// The key `name`: from the cache while it is fresh, else from the provider.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`] when the provider does not have the key, and the provider's
    /// [`ErrorKind::PermissionDenied`] when it refuses the credential (neither is ever hidden by
    /// a stale value, and both drop the cached one); [`ErrorKind::Expired`] for an expired key
    /// unless [`serve_expired`](KeyManagerBuilder::serve_expired) is set; [`ErrorKind::Parse`] for
    /// a companion creation date that is not a date; the provider's error when a fetch fails and
    /// the error is not [temporary](Error::is_temporary) or no value younger than `max_stale` is
    /// cached. [`ErrorKind::InvalidInput`] for a manager
    /// built with [`builder_async`](Self::builder_async): call [`get_async`](Self::get_async).
    ///
    /// A cached read is served from the calling thread's own copy while the cache has not
    /// changed, as [`with_key`](Self::with_key) describes; [`with_key`](Self::with_key) is
    /// faster still, as it hands out no `Arc`.
    pub fn get(&self, name: &str) -> Result<Arc<ManagedKey>> {
        self.read(name, Arc::clone)
    }

    /// Calls `f` with the key `name`, as [`get`](Self::get) would return it, without handing
    /// out an `Arc`: the fastest cached read, for code that reads a key on every request.
    ///
    /// Each thread keeps its own reference to the keys it read last (up to 16, of all
    /// managers), and serves a cached read from it while the cache has not changed: such a read
    /// writes no memory that other threads touch, where `get` increments the key's shared
    /// reference count (and the caller's drop decrements it). `docs/benchmarks.md` has the
    /// figures. Hits, misses, events and errors are those of `get`, which keeps the same copies.
    ///
    /// A thread drops its stale references when a read of its misses after a change (or after
    /// a manager was dropped), and all of them when it ends. Until then a key rotated out of the
    /// cache, or of a dropped manager, stays in that thread's memory, unused and zeroized when
    /// dropped, as it would in a caller holding the `Arc` from `get`.
    ///
    /// ```
    /// use keyward::{KeyManager, MemoryProvider, SecretString};
    ///
    /// let provider = MemoryProvider::new()
    ///     .with("OPENAI_API_KEY", SecretString::from(format!("sk-{}", "x".repeat(40))));
    /// let manager = KeyManager::builder(provider).build()?;
    ///
    /// // Borrow the value for the request being built; nothing outlives the closure.
    /// let header_len = manager.with_key("OPENAI_API_KEY", |key| {
    ///     "Bearer ".len() + key.expose_secret().len()
    /// })?;
    /// assert_eq!(header_len, 50);
    /// # Ok::<(), keyward::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get); `f` is not called then.
    pub fn with_key<R>(&self, name: &str, f: impl FnOnce(&ManagedKey) -> R) -> Result<R> {
        self.read(name, |key: &Arc<ManagedKey>| f(key))
    }

    /// Keeps `key`, quiet until `quiet_until` at `stamp`, as this thread's copy of `name`.
    fn keep_copy(&self, stamp: Stamp, name: &str, quiet_until: i64, key: &Arc<ManagedKey>) {
        let manager: Weak<dyn Send + Sync> = Arc::downgrade(&self.inner) as Weak<Inner>;
        local::keep(stamp, manager, name, quiet_until, key);
    }

    /// [`get`](Self::get) handing the cached `Arc` to `f`: served from the thread's copy when it
    /// still holds, else through the shards (which renews the copy) and, on a miss, the provider.
    #[inline]
    fn read<R>(&self, name: &str, f: impl FnOnce(&Arc<ManagedKey>) -> R) -> Result<R> {
        let inner = &*self.inner;
        let provider = inner.sync_provider("get")?;
        let (stamp, now) = (inner.changes.stamp(), inner.clock.now_micros());
        let f = match local::read(stamp, name, now, f) {
            Ok(result) => return Ok(result),
            Err(f) => f,
        };
        let shard = inner.shard(name);
        let key = match shard.quiet(name, now) {
            Some((key, quiet_until)) => {
                self.keep_copy(stamp, name, quiet_until, &key);
                key
            }
            None => match inner.lookup(shard, name) {
                Some(delivered) => delivered?,
                None => inner.load(provider, shard, name, Mode::Get)?,
            },
        };
        Ok(f(&key))
    }

    /// The key `name`, as [`get`](Self::get) returns it, from async code: the same cache,
    /// single-flight, stale-on-error, expiry and rotation tracking.
    ///
    /// A key that is not cached is fetched once however many tasks and threads ask for it at
    /// the same time; the others wait for that fetch without blocking their thread. With a
    /// [`SecretProvider`] behind the manager, its `get` is called inline (the local providers
    /// answer in microseconds). The future is `Send`, never blocks on a lock held across a
    /// fetch, and works on any executor; the remote providers need tokio.
    ///
    /// If the task that fetches is cancelled, one of the waiting callers fetches instead.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get), without the [`ErrorKind::InvalidInput`] for async providers.
    pub async fn get_async(&self, name: &str) -> Result<Arc<ManagedKey>> {
        let inner = &*self.inner;
        let (stamp, now) = (inner.changes.stamp(), inner.clock.now_micros());
        if let Ok(key) = local::read(stamp, name, now, Arc::clone) {
            return Ok(key);
        }
        let shard = inner.shard(name);
        if let Some((key, quiet_until)) = shard.quiet(name, now) {
            self.keep_copy(stamp, name, quiet_until, &key);
            return Ok(key);
        }
        match inner.lookup(shard, name) {
            Some(delivered) => delivered,
            None => inner.load_async(shard, name, Mode::Get).await,
        }
    }

    /// Fetches `name` from the provider now, whatever the cache holds.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get), except that a failed fetch is always an error, even when a stale
    /// value is cached (the stale value stays cached for `get`).
    pub fn refresh(&self, name: &str) -> Result<Arc<ManagedKey>> {
        let provider = self.inner.sync_provider("refresh")?;
        let shard = self.inner.shard(name);
        self.inner.load(provider, shard, name, Mode::Refresh)
    }

    /// Fetches `name` from the provider now, as [`refresh`](Self::refresh) does, from async
    /// code.
    ///
    /// # Errors
    ///
    /// As [`refresh`](Self::refresh), without the [`ErrorKind::InvalidInput`] for async
    /// providers.
    pub async fn refresh_async(&self, name: &str) -> Result<Arc<ManagedKey>> {
        let shard = self.inner.shard(name);
        self.inner.load_async(shard, name, Mode::Refresh).await
    }

    /// Drops `name` from the cache, returning whether it was there. For a value of unknown
    /// age, the time it was first seen is kept: loaded again, the same value reports the same
    /// age. The value stays known to the [redactor](Self::redactor) (and so in memory, zeroized
    /// when dropped) for the [grace period](KeyManagerBuilder::with_grace_period): text made
    /// while it was in use may still carry it.
    pub fn invalidate(&self, name: &str) -> bool {
        let inner = &*self.inner;
        let removed = inner.shard(name).write(&inner.changes).remove(name);
        let Some(entry) = removed else {
            return false;
        };
        inner.len.fetch_sub(1, Ordering::Relaxed);
        inner.depart(entry.departing(inner.clock.now(), inner.config.grace_period));
        true
    }

    /// Loads every key in `names`, for a start-up check that fails fast.
    ///
    /// ```
    /// use keyward::{ErrorKind, KeyManager, MemoryProvider};
    ///
    /// let provider = MemoryProvider::new().with("A_KEY", "not-a-real-key-000000");
    /// let manager = KeyManager::builder(provider).build()?;
    /// let err = manager.preload(["A_KEY", "B_KEY", "C_KEY"]).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// assert_eq!(err.to_string(), "2 of 3 secrets could not be loaded from memory: `B_KEY` (not found), `C_KEY` (not found)");
    /// # Ok::<(), keyward::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// One error listing every key that failed, with the reason for each: of kind
    /// [`ErrorKind::NotFound`] when all failures are missing keys, else the kind of the first
    /// other failure.
    pub fn preload<I>(&self, names: I) -> Result<Vec<Arc<ManagedKey>>>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.inner.sync_provider("preload")?;
        let mut preload = Preload::default();
        for name in names {
            let name = name.as_ref();
            preload.add(name, self.get(name));
        }
        preload.finish(self.provider_name())
    }

    /// Loads every key in `names`, as [`preload`](Self::preload) does, from async code. From
    /// an [`AsyncSecretProvider`], the keys are fetched in batches of
    /// [`PRELOAD_AT_ONCE`](Self::PRELOAD_AT_ONCE) at the same time, so that a start-up waits
    /// for a few round trips to a remote manager rather than one per key; a [`SecretProvider`]
    /// is asked inline, one key after the other.
    ///
    /// # Errors
    ///
    /// As [`preload`](Self::preload), without the [`ErrorKind::InvalidInput`] for async
    /// providers.
    pub async fn preload_async<I>(&self, names: I) -> Result<Vec<Arc<ManagedKey>>>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let names: Vec<String> = names.into_iter().map(|n| n.as_ref().to_owned()).collect();
        let mut preload = Preload::default();
        for batch in names.chunks(Self::PRELOAD_AT_ONCE) {
            let results = join_all(batch.iter().map(|name| self.get_async(name))).await;
            for (name, result) in batch.iter().zip(results) {
                preload.add(name, result);
            }
        }
        preload.finish(self.provider_name())
    }

    /// How many keys [`preload_async`](Self::preload_async) fetches at the same time: enough
    /// to hide round trips, few enough not to flood a secret manager's rate limit.
    pub const PRELOAD_AT_ONCE: usize = 8;

    /// Every key in the cache, sorted by name.
    pub fn keys(&self) -> Vec<Arc<ManagedKey>> {
        let mut keys: Vec<Arc<ManagedKey>> = self
            .inner
            .shards
            .iter()
            .flat_map(|shard| {
                shard
                    .read()
                    .values()
                    .map(|entry| entry.key.clone())
                    .collect::<Vec<_>>()
            })
            .collect();
        keys.sort_by(|a, b| a.name().cmp(b.name()));
        keys
    }

    /// Rotated-out values still within their grace period; ended ones are dropped with a
    /// [`KeyEvent::Retired`] event.
    pub fn retired_keys(&self) -> Vec<Arc<ManagedKey>> {
        let now = self.inner.clock.now();
        let mut kept = Vec::new();
        let mut events = Vec::new();
        for shard in self.inner.shards.iter() {
            let mut entries = shard.write(&self.inner.changes);
            if entries.values().any(|entry| entry.retired_ended(now)) {
                events.extend(entries.values_mut().filter_map(|e| e.expire_retired(now)));
            }
            kept.extend(
                entries
                    .values()
                    .filter_map(|entry| Some(entry.retired.as_ref()?.key.clone())),
            );
        }
        self.inner.emit(events);
        kept.sort_by(|a, b| a.name().cmp(b.name()));
        kept
    }

    /// A redactor that knows every value this manager has handed out, and stays current as
    /// keys load and rotate: a rotated-out value stays redacted for the manager's
    /// [grace period](KeyManagerBuilder::with_grace_period). Check model output, tool-call
    /// arguments and log lines with it before they leave the process.
    ///
    /// Made on the first call and shared by later calls. It knows the keys cached then, and
    /// also those handed out earlier that have left the cache since (evicted by the capacity,
    /// [invalidated](Self::invalidate), deleted at the source, rotated out twice): each of
    /// those until the grace period after it left, which the manager keeps them for until
    /// the redactor is made. A value shorter than the redactor's minimum (8 characters)
    /// cannot be redacted without destroying ordinary text, and is left out.
    ///
    /// ```
    /// use keyward::{KeyManager, MemoryProvider};
    ///
    /// let key = format!("sk-proj-{}", "FaKe0".repeat(8));
    /// let manager = KeyManager::builder(MemoryProvider::new().with("OPENAI_API_KEY", key.as_str())).build()?;
    /// manager.get("OPENAI_API_KEY")?;
    /// let reply = format!("sure, the key is {key}");
    /// assert_eq!(manager.redactor().current().redact(&reply), "sure, the key is [REDACTED:OPENAI_API_KEY]");
    /// # Ok::<(), keyward::Error>(())
    /// ```
    pub fn redactor(&self) -> SharedRedactor {
        let inner = &*self.inner;
        let mut made_here = false;
        let redactor = inner.redactor.get_or_init(|| {
            made_here = true;
            // A negative grace retires at once, as a zero one does. One the redactor cannot count
            // from now would make it refuse every update, and the manager does not see those
            // errors: keys would go unredacted. 10,000 years is as long, and always counts.
            const LONGEST: std::time::Duration =
                std::time::Duration::from_secs(10_000 * 365 * 24 * 60 * 60);
            let grace = inner.config.grace_period.to_std().unwrap_or_default();
            let shared =
                SharedRedactor::new(Redactor::builder()).with_grace_period(grace.min(LONGEST));
            let shared = match &inner.clock {
                TimeSource::System => shared,
                TimeSource::Injected(clock) => shared.with_clock(clock.clone()),
            };
            self.seed(&shared);
            shared
        });
        if made_here {
            // Once more now that it is published: a key loaded between the first seeding and
            // publication sent its event to no redactor. Later loads reach it through `emit`.
            // Unchanged values cost nothing.
            self.seed(redactor);
        }
        redactor.clone()
    }

    /// Gives `redactor` every value the manager holds, retired ones included, and those that
    /// left the cache, each until its grace period ends.
    fn seed(&self, redactor: &SharedRedactor) {
        let departed = lock(&self.inner.departed).take();
        let departed = departed
            .iter()
            .map(|(key, until)| (key.name(), key.secret().value(), *until));
        // Values shorter than the minimum were left out, so this cannot fail.
        let _ = redactor.retire_all(departed);
        let retired = self.retired_keys();
        let current = self.keys();
        for keys in [&retired, &current] {
            let values = keys
                .iter()
                .filter(|key| redactable(key.secret().value()))
                .map(|key| (key.name(), key.secret().value()));
            // Values shorter than the minimum were filtered out, so this cannot fail.
            let _ = redactor.update_all(values);
        }
    }

    /// Which keys need rotation: every cached key with its status, age, due date and source.
    ///
    /// Keys whose status changed since it was last announced get their
    /// [`DueSoon`](KeyEvent::DueSoon), [`Due`](KeyEvent::Due) or [`Expired`](KeyEvent::Expired)
    /// event, so a periodic report also drives alerts.
    pub fn rotation_report(&self) -> RotationReport {
        let now = self.inner.clock.now();
        let mut keys = Vec::new();
        let mut events = Vec::new();
        for shard in self.inner.shards.iter() {
            for entry in shard.read().values() {
                if let Some(status) = entry.announce(entry.key.status_at(now)) {
                    events.extend(status_event(status, &entry.key));
                }
                keys.push(entry.key.clone());
            }
        }
        self.inner.emit(events);
        RotationReport::new(now, keys.iter().map(Arc::as_ref))
    }

    /// The number of cached keys.
    pub fn len(&self) -> usize {
        self.inner.len.load(Ordering::Relaxed)
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rotation policy that applies to `name`.
    pub fn policy_for(&self, name: &str) -> RotationPolicy {
        self.inner.policy_for(name)
    }

    /// The provider's name.
    pub fn provider_name(&self) -> &str {
        self.inner.source.name()
    }
}

impl fmt::Debug for KeyManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyManager")
            .field("provider", &self.inner.source.name())
            .field("clock", &self.inner.clock)
            .field("config", &self.inner.config)
            .field("hooks", &self.inner.hooks.len())
            .field("len", &self.len())
            .finish()
    }
}

impl Shard {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Names<Entry>> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entries, to change: `changes` records the change when the lock is released.
    fn write<'a>(&'a self, changes: &'a Changes) -> EntriesWrite<'a> {
        EntriesWrite {
            entries: self.entries.write().unwrap_or_else(PoisonError::into_inner),
            changes,
            changed: false,
        }
    }

    /// The cached key when it may be served without a fetch, with a status to announce.
    fn lookup(
        &self,
        name: &str,
        now: DateTime<Utc>,
        config: &Config,
    ) -> Option<(Arc<ManagedKey>, Option<RotationStatus>)> {
        let entries = self.read();
        let entry = entries.get(name)?;
        let servable = now < entry.fresh_until
            || entry.retry_at.is_some_and(|retry_at| {
                now < retry_at && now < entry.fresh_until + config.max_stale
            });
        if !servable {
            return None;
        }
        let announce = entry.announce(entry.key.status_at(now));
        Some((entry.key.clone(), announce))
    }

    /// The fast path: the cached key when nothing about it can have changed by `now_micros`,
    /// and until when that holds.
    fn quiet(&self, name: &str, now_micros: i64) -> Option<(Arc<ManagedKey>, i64)> {
        let entries = self.read();
        let entry = entries.get(name)?;
        (now_micros < entry.quiet_until).then(|| (entry.key.clone(), entry.quiet_until))
    }

    /// Joins the flight for `name`, or starts it.
    ///
    /// With `recheck`, the cache is looked at again under the flights lock first: a flight is
    /// removed only after its value is stored, so a thread that missed just before another
    /// finished finds the value here instead of fetching it a second time.
    fn join_flight(&self, name: &str, recheck: Option<(DateTime<Utc>, &Config)>) -> Join {
        let mut flights = lock(&self.flights);
        if let Some(flight) = flights.get(name) {
            return Join::Wait(flight.clone());
        }
        if let Some((key, announce)) =
            recheck.and_then(|(now, config)| self.lookup(name, now, config))
        {
            return Join::Hit(key, announce);
        }
        let flight = Arc::new(Flight::default());
        flights.insert(name.to_owned(), flight.clone());
        Join::Lead(flight)
    }
}

/// A write lock on a shard's entries that, if they were borrowed mutably, records a change for
/// the threads' copies ([`local`]) before other threads can read them. Code that may change
/// nothing looks first through `Deref`, so that a miss does not make every thread's copies stale.
struct EntriesWrite<'a> {
    entries: std::sync::RwLockWriteGuard<'a, Names<Entry>>,
    changes: &'a Changes,
    changed: bool,
}

impl std::ops::Deref for EntriesWrite<'_> {
    type Target = Names<Entry>;

    fn deref(&self) -> &Names<Entry> {
        &self.entries
    }
}

impl std::ops::DerefMut for EntriesWrite<'_> {
    fn deref_mut(&mut self) -> &mut Names<Entry> {
        self.changed = true;
        &mut self.entries
    }
}

impl Drop for EntriesWrite<'_> {
    fn drop(&mut self) {
        // Runs before `entries` is dropped, so while the lock is still held.
        if self.changed {
            self.changes.record();
        }
    }
}

/// How a thread that missed takes part in a load.
enum Join {
    /// The key was stored meanwhile.
    Hit(Arc<ManagedKey>, Option<RotationStatus>),
    /// Another thread is fetching: wait for its result.
    Wait(Arc<Flight>),
    /// This thread fetches.
    Lead(Arc<Flight>),
}

impl Entry {
    fn new(
        key: Arc<ManagedKey>,
        now: DateTime<Utc>,
        fresh_until: DateTime<Utc>,
        status: RotationStatus,
    ) -> Entry {
        Entry {
            quiet_until: micros(quiet_until(&key, now, fresh_until)),
            key,
            fresh_until,
            retry_at: None,
            retired: None,
            announced: AtomicU8::new(status_code(status)),
        }
    }

    /// Records `status` as announced; returns it when it changed and deserves an event.
    fn announce(&self, status: RotationStatus) -> Option<RotationStatus> {
        let code = status_code(status);
        if self.announced.load(Ordering::Relaxed) == code {
            return None;
        }
        let previous = self.announced.swap(code, Ordering::Relaxed);
        (previous != code && status.needs_attention()).then_some(status)
    }

    /// The keys of an entry that leaves the cache at `now`, each with the time until which it
    /// stays redacted: the current one for the grace period, a retired one until its own end.
    fn departing(
        self,
        now: DateTime<Utc>,
        grace: TimeDelta,
    ) -> Vec<(Arc<ManagedKey>, DateTime<Utc>)> {
        let mut keys = vec![(self.key, now + grace)];
        keys.extend(self.retired.map(|retired| (retired.key, retired.until)));
        keys
    }

    /// Drops the retired value once its grace period is over.
    fn retired_ended(&self, now: DateTime<Utc>) -> bool {
        self.retired.as_ref().is_some_and(|r| now >= r.until)
    }

    fn expire_retired(&mut self, now: DateTime<Utc>) -> Option<KeyEvent> {
        if self.retired_ended(now) {
            let retired = self.retired.take()?;
            return Some(KeyEvent::Retired { key: retired.key });
        }
        None
    }
}

/// The end of the fast path for `key` served until `served_until`: the next time its status can
/// change. An expired key never takes the fast path, so it is refused on every read.
fn quiet_until(key: &ManagedKey, now: DateTime<Utc>, served_until: DateTime<Utc>) -> DateTime<Utc> {
    if key.is_expired_at(now) {
        return now;
    }
    let due = key.due_at_latest();
    [earlier(due, key.policy().warn_before()), due]
        .into_iter()
        .chain(key.expired_from())
        .filter(|at| *at > now)
        .fold(served_until, DateTime::min)
}

/// Whether the redactor accepts `value`: it counts characters, not bytes.
fn redactable(value: &SecretString) -> bool {
    value.expose_secret().chars().count() >= Redactor::DEFAULT_MIN_SECRET_LEN
}

/// Keeps `redactor` current with the value an event carries.
fn redact_from(redactor: &SharedRedactor, event: &KeyEvent) {
    let key = match event {
        KeyEvent::Loaded { key }
        | KeyEvent::Refreshed { key }
        | KeyEvent::StaleServed { key, .. }
        | KeyEvent::Rotated { new: key, .. } => key,
        _ => return,
    };
    let value = key.secret().value();
    if redactable(value) {
        // Only a value below the minimum is refused, and that was checked.
        let _ = redactor.update(key.name(), value);
    }
}

fn refresh_failed(name: &str, err: &Error) -> KeyEvent {
    KeyEvent::RefreshFailed {
        name: name.to_owned(),
        error_kind: err.kind(),
        message: err.message().to_owned(),
    }
}

fn status_code(status: RotationStatus) -> u8 {
    match status {
        RotationStatus::Current => 0,
        RotationStatus::Unknown => 1,
        RotationStatus::DueSoon => 2,
        RotationStatus::Due => 3,
        _ => 4,
    }
}

fn status_event(status: RotationStatus, key: &Arc<ManagedKey>) -> Option<KeyEvent> {
    let key = key.clone();
    match status {
        RotationStatus::DueSoon => Some(KeyEvent::DueSoon { key }),
        RotationStatus::Due => Some(KeyEvent::Due { key }),
        RotationStatus::Expired => Some(KeyEvent::Expired { key }),
        _ => None,
    }
}

/// The error of a blocking call on a manager built over an async provider.
#[cold]
fn blocking_door_closed(door: &str, provider: &dyn AsyncSecretProvider) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!(
            "KeyManager::{door} cannot ask the async provider {} without blocking a thread: call \
             KeyManager::{door}_async, or build the manager with KeyManager::builder from a \
             SecretProvider",
            provider.name()
        ),
    )
}

/// Errors that take a key away from the caller: it was deleted at the source, or the source
/// refused the credential (a revoked token, a withdrawn permission). Its cached value is dropped
/// rather than kept for stale-on-error, which serves only through [`Error::is_temporary`] errors.
fn withdraws(err: &Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::NotFound | ErrorKind::PermissionDenied
    )
}

impl Inner {
    fn shard(&self, name: &str) -> &Shard {
        // Bits the shard maps do not use for their own buckets and tags.
        let hash = BuildHasherDefault::<NameHasher>::default().hash_one(name);
        &self.shards[(hash >> 32) as usize & (SHARDS - 1)]
    }

    /// The creation time to report for a value of `name` whose source does not say: the time
    /// it was first seen, remembered by fingerprint across invalidation and eviction. The same
    /// value under a new version keeps its time: the key itself is as old as it was.
    fn first_seen(&self, name: &str, value: &SecretString, now: DateTime<Utc>) -> CreatedAt {
        let fingerprint = value.fingerprint();
        let mut seen = lock(&self.first_seen);
        if let Some((known, at)) = seen.get(name)
            && *known == fingerprint
        {
            return CreatedAt::Unknown { first_seen: *at };
        }
        // A few times the cache's capacity: names the cache keeps plus some it dropped. When
        // full, the value seen longest ago goes (a scan, but only when a new value arrives).
        if seen.len() >= self.config.capacity.saturating_mul(4).max(64)
            && !seen.contains_key(name)
            && let Some(oldest) = seen
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(name, _)| name.clone())
        {
            seen.remove(&oldest);
        }
        seen.insert(name.to_owned(), (fingerprint, now));
        CreatedAt::Unknown { first_seen: now }
    }

    fn policy_for(&self, name: &str) -> RotationPolicy {
        self.config
            .policies
            .get(name)
            .copied()
            .unwrap_or(self.config.default_policy)
    }

    fn emit(&self, events: impl IntoIterator<Item = KeyEvent>) {
        let redactor = self.redactor.get();
        if self.hooks.is_empty() && redactor.is_none() {
            return;
        }
        for event in events {
            if let Some(redactor) = redactor {
                redact_from(redactor, &event);
            }
            for hook in self.hooks.iter() {
                hook(&event);
            }
        }
    }

    /// Keeps the keys that left the cache known to the redactor, each until the time given:
    /// given to it now if it exists, else kept for it ([`Departed`]).
    fn depart(&self, keys: Vec<(Arc<ManagedKey>, DateTime<Utc>)>) {
        if keys.is_empty() {
            return;
        }
        let mut departed = lock(&self.departed);
        // Looked at under the lock that `seed` empties the list under once the redactor is
        // published: a departure either sees the redactor or is emptied into it.
        if let Some(redactor) = self.redactor.get() {
            drop(departed);
            let keys = keys
                .iter()
                .filter(|(key, _)| redactable(key.secret().value()))
                .map(|(key, until)| (key.name(), key.secret().value(), *until));
            // Values shorter than the minimum were filtered out, so this cannot fail.
            let _ = redactor.retire_all(keys);
            return;
        }
        departed.add(keys, self.clock.now());
    }

    /// The sync provider, for the blocking front door; `door` names the method refused.
    #[inline]
    fn sync_provider(&self, door: &str) -> Result<&dyn SecretProvider> {
        match &self.source {
            Source::Sync(provider) => Ok(&**provider),
            Source::Async(provider) => Err(blocking_door_closed(door, &**provider)),
        }
    }

    /// The names the manager refuses before asking the provider. Local sources get
    /// [`validate_key_name`]; remote names have separators, and their providers check them.
    fn check_name(&self, name: &str) -> Result<()> {
        match self.source {
            Source::Sync(_) => validate_key_name(name),
            Source::Async(_) if name.is_empty() || name.chars().any(char::is_control) => {
                Err(Error::new(
                    ErrorKind::InvalidName,
                    format!(
                        "invalid secret name {}: it is empty or contains a control character",
                        quote_name(name)
                    ),
                ))
            }
            Source::Async(_) => Ok(()),
        }
    }

    /// A read that the fast path could not answer, served from the cache when the entry allows
    /// it; `None` when the provider must be asked. Kept out of line so that the fast path stays
    /// small.
    #[cold]
    #[inline(never)]
    fn lookup(&self, shard: &Shard, name: &str) -> Option<Result<Arc<ManagedKey>>> {
        let now = self.clock.now();
        let (key, announce) = shard.lookup(name, now, &self.config)?;
        Some(self.deliver(key, announce, now))
    }

    /// Hands a key to the caller: announces a status change, refuses an expired key.
    fn deliver(
        &self,
        key: Arc<ManagedKey>,
        announce: Option<RotationStatus>,
        now: DateTime<Utc>,
    ) -> Result<Arc<ManagedKey>> {
        if let Some(status) = announce {
            self.emit(status_event(status, &key));
        }
        if !self.config.serve_expired && key.is_expired_at(now) {
            return Err(self.expired_error(&key));
        }
        Ok(key)
    }

    fn expired_error(&self, key: &ManagedKey) -> Error {
        let why = match (key.expires_at(), key.policy().max_age()) {
            (Some(at), _) if key.expired_from() == Some(at) => {
                format!("the source's expiry date {}", at.format("%Y-%m-%d"))
            }
            (_, Some(max)) => format!("the maximum age of {} days", max.num_days()),
            _ => "its expiry date".to_owned(),
        };
        Error::new(
            ErrorKind::Expired,
            format!(
                "secret {} from {} is expired: it is past {why}; rotate it at the source",
                quote_name(key.name()),
                key.source()
            ),
        )
    }

    /// Fetches `name` once for every thread that wants it now, stores the result, and hands it
    /// back the way `mode` asks. The blocking twin of [`load_async`](Inner::load_async).
    fn load(
        &self,
        provider: &dyn SecretProvider,
        shard: &Shard,
        name: &str,
        mode: Mode,
    ) -> Result<Arc<ManagedKey>> {
        loop {
            match self.start_load(shard, name, mode) {
                Start::Done(result) => return result,
                Start::Wait(flight) => match flight.wait() {
                    Some(result) => return self.finish(result, mode),
                    None => continue,
                },
                Start::Lead(lead) => {
                    let fetched = self.fetch(provider, name);
                    return self.land(lead, fetched, mode);
                }
            }
        }
    }

    /// [`load`](Inner::load) for async callers: waits for another caller's fetch without
    /// blocking the thread, and asks an async provider without blocking on it.
    async fn load_async(&self, shard: &Shard, name: &str, mode: Mode) -> Result<Arc<ManagedKey>> {
        loop {
            match self.start_load(shard, name, mode) {
                Start::Done(result) => return result,
                Start::Wait(flight) => match flight.wait_async().await {
                    Some(result) => return self.finish(result, mode),
                    // The fetching task was cancelled: start over.
                    None => continue,
                },
                Start::Lead(lead) => {
                    let fetched = match &self.source {
                        Source::Sync(provider) => self.fetch(&**provider, name),
                        Source::Async(provider) => self.fetch_async(&**provider, name).await,
                    };
                    return self.land(lead, fetched, mode);
                }
            }
        }
    }

    /// The first step of a load: a refused name, a value stored meanwhile, another caller's
    /// flight to wait for, or the lead of a new one.
    fn start_load<'a>(&'a self, shard: &'a Shard, name: &'a str, mode: Mode) -> Start<'a> {
        if let Err(err) = self.check_name(name) {
            return Start::Done(Err(err));
        }
        let now = self.clock.now();
        let recheck = (mode == Mode::Get).then_some((now, &self.config));
        match shard.join_flight(name, recheck) {
            Join::Hit(key, announce) => Start::Done(self.deliver(key, announce, now)),
            Join::Wait(flight) => Start::Wait(flight),
            Join::Lead(flight) => Start::Lead(FlightLead {
                inner: self,
                shard,
                name,
                flight,
                result: None,
            }),
        }
    }

    /// The last step of a load: stores what the provider said, releases the waiters with it,
    /// emits the events, and hands the key back the way `mode` asks.
    fn land(
        &self,
        mut lead: FlightLead<'_>,
        fetched: Result<Option<Fetched>>,
        mode: Mode,
    ) -> Result<Arc<ManagedKey>> {
        let (result, events) = self.store(lead.shard, lead.name, fetched);
        lead.result = Some(result.clone());
        drop(lead);
        self.emit(events);
        self.finish(result, mode)
    }

    fn finish(&self, result: Result<Loaded>, mode: Mode) -> Result<Arc<ManagedKey>> {
        let now = self.clock.now();
        match (result?, mode) {
            (Loaded::Fresh(key), _) | (Loaded::Stale(key, _), Mode::Get) => {
                self.deliver(key, None, now)
            }
            (Loaded::Stale(_, err), Mode::Refresh) => Err(err),
        }
    }

    /// Asks `provider` for `name` and, when its metadata has no creation time, for the
    /// companion creation-date key. Takes no lock.
    fn fetch(&self, provider: &dyn SecretProvider, name: &str) -> Result<Option<Fetched>> {
        let Some(secret) = provider.get(name)? else {
            return Ok(None);
        };
        let companion = match self.companion_of(name, &secret) {
            Some(companion) => {
                let date = provider.get(&companion)?;
                Some((companion, date))
            }
            None => None,
        };
        Fetched::new(secret, companion).map(Some)
    }

    /// [`fetch`](Inner::fetch) through the async door: the same two questions, awaited.
    async fn fetch_async(
        &self,
        provider: &dyn AsyncSecretProvider,
        name: &str,
    ) -> Result<Option<Fetched>> {
        let Some(secret) = provider.get(name).await? else {
            return Ok(None);
        };
        let companion = match self.companion_of(name, &secret) {
            Some(companion) => {
                let date = provider.get(&companion).await?;
                Some((companion, date))
            }
            None => None,
        };
        Fetched::new(secret, companion).map(Some)
    }

    /// The companion key to ask for `name`'s creation date: only when the metadata of `secret`
    /// has none and the companion's name is not too long.
    fn companion_of(&self, name: &str, secret: &Secret) -> Option<String> {
        let suffix = self.config.created_at_suffix.as_deref()?;
        (secret.meta().created_at.is_none() && name.len() + suffix.len() <= MAX_KEY_NAME_LEN)
            .then(|| format!("{name}{suffix}"))
    }

    /// Stores what a fetch produced under the shard's write lock; returns the events to emit
    /// once the lock is released.
    fn store(
        &self,
        shard: &Shard,
        name: &str,
        fetched: Result<Option<Fetched>>,
    ) -> (Result<Loaded>, Vec<KeyEvent>) {
        let now = self.clock.now();
        let mut events = Vec::new();
        let mut entries = shard.write(&self.changes);
        let err = match fetched {
            Ok(Some(fetched)) => {
                let mut displaced = Vec::new();
                let (key, inserted) = self.store_value(
                    &mut entries,
                    name,
                    fetched,
                    now,
                    &mut events,
                    &mut displaced,
                );
                drop(entries);
                self.depart(displaced);
                if inserted {
                    self.make_room(name);
                }
                return (Ok(Loaded::Fresh(key)), events);
            }
            Ok(None) => Error::not_found(name, self.source.name()),
            Err(err) => err,
        };
        events.push(refresh_failed(name, &err));
        // Deleted at the source, or no longer ours to read: a cached value must not outlive
        // that, not even to cover a later outage.
        if withdraws(&err) {
            let removed = if entries.contains_key(name) {
                entries.remove(name)
            } else {
                None
            };
            drop(entries);
            if let Some(entry) = removed {
                self.len.fetch_sub(1, Ordering::Relaxed);
                self.depart(entry.departing(now, self.config.grace_period));
            }
            return (Err(err), events);
        }
        let stale = entries.get(name).is_some_and(|entry| {
            err.is_temporary() && now < entry.fresh_until + self.config.max_stale
        });
        let Some(entry) = stale.then(|| entries.get_mut(name)).flatten() else {
            return (Err(err), events);
        };
        let stale_until = entry.fresh_until + self.config.max_stale;
        let retry = self.config.stale_retry.min(self.config.ttl);
        let retry_at = (now + retry).min(stale_until);
        entry.retry_at = Some(retry_at);
        entry.quiet_until = micros(quiet_until(&entry.key, now, retry_at));
        events.push(KeyEvent::StaleServed {
            key: entry.key.clone(),
            error_kind: err.kind(),
            message: err.message().to_owned(),
            stale_until,
        });
        (Ok(Loaded::Stale(entry.key.clone(), err)), events)
    }

    /// Stores a fetched value; returns the key and whether the entry is new. A retired value
    /// that a second rotation pushes out before its grace period ended goes to `displaced`.
    fn store_value(
        &self,
        entries: &mut Names<Entry>,
        name: &str,
        fetched: Fetched,
        now: DateTime<Utc>,
        events: &mut Vec<KeyEvent>,
        displaced: &mut Vec<(Arc<ManagedKey>, DateTime<Utc>)>,
    ) -> (Arc<ManagedKey>, bool) {
        let policy = self.policy_for(name);
        let fresh_until = now + self.config.ttl;
        let previous = entries.get_mut(name);
        let first_seen = || self.first_seen(name, fetched.secret.value(), now);
        let Some(entry) = previous else {
            let created_at = fetched.created_at.clone().unwrap_or_else(first_seen);
            let key = Arc::new(ManagedKey::new(
                name,
                fetched.secret,
                created_at,
                now,
                policy,
            ));
            let status = key.status_at(now);
            events.push(KeyEvent::Loaded { key: key.clone() });
            events.extend(status_event(status, &key));
            entries.insert(
                name.to_owned(),
                Entry::new(key.clone(), now, fresh_until, status),
            );
            self.len.fetch_add(1, Ordering::Relaxed);
            return (key, true);
        };
        if let Some(event) = entry.expire_retired(now) {
            events.push(event);
        }
        let rotated = fetched.secret.value() != entry.key.value()
            || fetched.secret.meta().version.as_deref() != entry.key.version();
        let key = if rotated {
            let created_at = fetched.created_at.clone().unwrap_or_else(first_seen);
            let key = Arc::new(ManagedKey::new(
                name,
                fetched.secret,
                created_at,
                now,
                policy,
            ));
            let grace_until = now + self.config.grace_period;
            let old = std::mem::replace(&mut entry.key, key.clone());
            events.push(KeyEvent::Rotated {
                old: old.clone(),
                new: key.clone(),
                grace_until,
            });
            let pushed_out = entry.retired.replace(RetiredKey {
                key: old,
                until: grace_until,
            });
            displaced.extend(pushed_out.map(|retired| (retired.key, retired.until)));
            key
        } else {
            // The same key: keep its first-seen time rather than restarting the count.
            let created_at = fetched
                .created_at
                .unwrap_or_else(|| entry.key.created_at().clone());
            let key = Arc::new(ManagedKey::new(
                name,
                fetched.secret,
                created_at,
                now,
                policy,
            ));
            entry.key = key.clone();
            events.push(KeyEvent::Refreshed { key: key.clone() });
            key
        };
        entry.fresh_until = fresh_until;
        entry.retry_at = None;
        entry.quiet_until = micros(quiet_until(&key, now, fresh_until));
        if let Some(status) = entry.announce(key.status_at(now)) {
            events.extend(status_event(status, &key));
        }
        (key, false)
    }

    /// Drops the keys fetched longest ago until the cache fits its capacity, sparing `keep`.
    fn make_room(&self, keep: &str) {
        let mut evicted = Vec::new();
        while self.len.load(Ordering::Relaxed) > self.config.capacity {
            let oldest = self
                .shards
                .iter()
                .enumerate()
                .filter_map(|(index, shard)| {
                    shard
                        .read()
                        .iter()
                        .filter(|(name, _)| name.as_str() != keep)
                        .min_by_key(|(_, entry)| entry.key.fetched_at())
                        .map(|(name, entry)| (entry.key.fetched_at(), index, name.clone()))
                })
                .min();
            let Some((_, index, name)) = oldest else {
                break;
            };
            let removed = self.shards[index].write(&self.changes).remove(&name);
            if let Some(entry) = removed {
                self.len.fetch_sub(1, Ordering::Relaxed);
                evicted.extend(entry.departing(self.clock.now(), self.config.grace_period));
            }
        }
        self.depart(evicted);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn manager_and_events_are_send_and_sync() {
        assert_send_sync::<KeyManager>();
        assert_send_sync::<KeyEvent>();
        assert_send_sync::<ManagedKey>();
    }

    /// Every change makes each thread's copies stale, so what changes nothing must not count:
    /// a thread polling an optional key would otherwise slow every other thread's reads.
    #[test]
    fn misses_and_listings_are_not_changes() {
        let key = format!("sk-{}", "x".repeat(40));
        let provider = crate::MemoryProvider::new().with("A", key.as_str());
        let manager = KeyManager::builder(provider).build().unwrap();
        manager.get("A").unwrap();
        let stamp = manager.inner.changes.stamp();
        assert!(manager.get("MISSING").is_err());
        manager.retired_keys();
        manager.keys();
        manager.rotation_report();
        assert!(manager.inner.changes.stamp() == stamp);
        manager.refresh("A").unwrap();
        assert!(manager.inner.changes.stamp() != stamp);
    }

    /// Keys that leave the cache again and again are kept once per name and value, and those
    /// whose grace period ended are let go: the list for the redactor does not grow with use.
    #[test]
    fn departed_keys_are_kept_once_and_let_go_after_the_grace_period() {
        let clock = Arc::new(crate::clock::ManualClock::new(Utc::now()));
        let mut provider = crate::MemoryProvider::new();
        let names: Vec<String> = (0..40).map(|i| format!("KEY_{i}")).collect();
        for name in &names {
            provider = provider.with(name, format!("sk-{name}-{}", "x".repeat(30)).as_str());
        }
        let manager = KeyManager::builder(provider)
            .with_clock(clock.clone())
            .with_capacity(1)
            .with_grace_period(TimeDelta::minutes(10))
            .build()
            .unwrap();
        let kept = || {
            let departed = lock(&manager.inner.departed);
            departed.keys.values().map(Vec::len).sum::<usize>()
        };
        for _ in 0..50 {
            for name in &names[..3] {
                manager.get(name).unwrap();
            }
        }
        assert_eq!(
            kept(),
            3,
            "one entry per name and value, however often it left"
        );
        // Past the grace period, new departures let the old ones go.
        clock.advance(TimeDelta::minutes(11));
        for name in &names[3..] {
            manager.get(name).unwrap();
        }
        let departed = lock(&manager.inner.departed);
        assert!(
            !departed.keys.contains_key("KEY_0") && !departed.keys.contains_key("KEY_1"),
            "ended, and let go by a pruning"
        );
        drop(departed);
        assert_eq!(kept(), 37, "KEY_2 to KEY_38 left within the grace period");
    }

    #[test]
    fn name_hashes_depend_on_every_byte() {
        let hash = |name: &str| BuildHasherDefault::<NameHasher>::default().hash_one(name);
        let names = [
            "",
            "A",
            "B",
            "AB",
            "BA",
            "KEY_0",
            "KEY_1",
            "OPENAI_API_KEY",
            "OPENAI_API_KEZ",
            "OPENAI_API_KE",
            "OPENAI_A",
            "OPENAI_B",
            "OPENAI_A\0",
        ];
        let hashes: HashSet<u64> = names.iter().map(|name| hash(name)).collect();
        assert_eq!(hashes.len(), names.len());
        assert_eq!(
            hash("OPENAI_API_KEY"),
            hash(&String::from("OPENAI_API_KEY"))
        );
    }

    #[test]
    fn announce_reports_each_change_once() {
        let secret = Secret::new("x", crate::SecretMeta::new("memory"));
        let now = DateTime::UNIX_EPOCH;
        let key = Arc::new(ManagedKey::new(
            "K",
            secret,
            CreatedAt::Unknown { first_seen: now },
            now,
            RotationPolicy::default(),
        ));
        let entry = Entry::new(key, now, now, RotationStatus::Current);
        assert_eq!(entry.announce(RotationStatus::Current), None);
        assert_eq!(
            entry.announce(RotationStatus::DueSoon),
            Some(RotationStatus::DueSoon)
        );
        assert_eq!(entry.announce(RotationStatus::DueSoon), None);
        assert_eq!(
            entry.announce(RotationStatus::Due),
            Some(RotationStatus::Due)
        );
        assert_eq!(entry.announce(RotationStatus::Current), None);
    }
}
