//! [`KeyManager`] itself: the state its clones share, which shard holds a name, eviction,
//! invalidation and the listings. The methods that need more than the cache live in the files
//! above: the builder (`builder`), the read path (`read`), the redactor (`redact`), preloading
//! (`preload`).

use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};

use super::cache::{Names, SHARDS, Shard};
use super::config::Config;
use super::departed::Departed;
use super::event::{EventHook, status_event};
use super::hash::NameHasher;
use super::local::Changes;
use super::source::Source;
use super::time::TimeSource;
use crate::guard::SharedRedactor;
use crate::mask::Fingerprint;
use crate::rotation::{ManagedKey, RotationPolicy, RotationReport};

// For links in the documentation.
#[cfg(doc)]
use super::KeyEvent;
#[cfg(doc)]
use crate::provider::{AsyncSecretProvider, SecretProvider};

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
    /// Drops `name` from the cache, returning whether it was there. For a value of unknown
    /// age, the time it was first seen is kept: loaded again, the same value reports the same
    /// age. The value stays known to the [redactor](Self::redactor) (and so in memory, zeroized
    /// when dropped) for the [grace period](super::KeyManagerBuilder::with_grace_period): text made
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
    pub(super) fn shard(&self, name: &str) -> &Shard {
        // Bits the shard maps do not use for their own buckets and tags.
        let hash = BuildHasherDefault::<NameHasher>::default().hash_one(name);
        &self.shards[(hash >> 32) as usize & (SHARDS - 1)]
    }

    /// Drops the keys fetched longest ago until the cache fits its capacity, sparing `keep`.
    pub(super) fn make_room(&self, keep: &str) {
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
