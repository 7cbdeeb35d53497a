//! [`KeyManager`] itself: the state its clones share, the read path (the thread's copy, the
//! shards, a load), invalidation and the listings.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use chrono::{DateTime, Utc};

use super::builder::{Config, KeyManagerBuilder};
use super::cache::{Names, Shard};
use super::event::{EventHook, status_event};
use super::load::Mode;
use super::local::{self, Changes, Stamp};
use super::redact::Departed;
use super::source::Source;
use super::time::TimeSource;
use crate::error::Result;
use crate::guard::SharedRedactor;
use crate::mask::Fingerprint;
use crate::provider::{AsyncSecretProvider, SecretProvider};
use crate::rotation::{ManagedKey, RotationPolicy, RotationReport};

// For links in the documentation.
#[cfg(doc)]
use super::KeyEvent;
#[cfg(doc)]
use crate::error::{Error, ErrorKind};
#[cfg(doc)]
use crate::provider::validate_key_name;

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
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) source: Source,
    pub(super) clock: TimeSource,
    pub(super) config: Config,
    pub(super) hooks: Box<[EventHook]>,
    pub(super) shards: Box<[Shard]>,
    /// Moves on every change to the shards: tells each thread's copies of entries when they
    /// are stale.
    pub(super) changes: Changes,
    /// Entries across all shards, to enforce the capacity without locking every shard.
    pub(super) len: AtomicUsize,
    /// When each value of unknown age was first seen, by key name and fingerprint of the
    /// value: kept when the entry is invalidated or evicted, so that the age it reports does
    /// not start again. Bounded (see [`Inner::first_seen`]).
    pub(super) first_seen: Mutex<Names<(Fingerprint, DateTime<Utc>)>>,
    /// Made on the first call to [`KeyManager::redactor`], so that a program that does not use
    /// it does not rebuild a matcher on every load.
    pub(super) redactor: OnceLock<SharedRedactor>,
    /// Values that left the cache before the redactor was made, for it to know when it is.
    pub(super) departed: Mutex<Departed>,
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
    /// unless [`with_serve_expired`](KeyManagerBuilder::with_serve_expired) is set;
    /// [`ErrorKind::Parse`] for a companion creation date that is not a date; the provider's
    /// error when a fetch fails and the error is not [temporary](Error::is_temporary) or no
    /// value younger than `max_stale` is cached. [`ErrorKind::InvalidInput`] for a manager
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
    pub(super) fn keep_copy(
        &self,
        stamp: Stamp,
        name: &str,
        quiet_until: i64,
        key: &Arc<ManagedKey>,
    ) {
        let manager: Weak<dyn Send + Sync> = Arc::downgrade(&self.inner) as Weak<Inner>;
        local::keep(stamp, manager, name, quiet_until, key);
    }

    /// [`get`](Self::get) handing the cached `Arc` to `f`: served from the thread's copy when it
    /// still holds, else through the shards (which renews the copy) and, on a miss, the provider.
    #[inline]
    pub(super) fn read<R>(&self, name: &str, f: impl FnOnce(&Arc<ManagedKey>) -> R) -> Result<R> {
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

impl Inner {
    pub(super) fn policy_for(&self, name: &str) -> RotationPolicy {
        self.config
            .policies
            .get(name)
            .copied()
            .unwrap_or(self.config.default_policy)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::manager::KeyEvent;

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
}
