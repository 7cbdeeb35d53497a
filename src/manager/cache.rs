//! The cache: shards of entries, and what an entry knows about when it must be looked at
//! again. Eviction, which tells the redactor, is the manager's (`key_manager`).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use chrono::{DateTime, TimeDelta, Utc};

use super::config::Config;
use super::event::KeyEvent;
use super::flight::{Flight, Join};
use super::hash::NameHasher;
use super::local::Changes;
use super::lock::lock;
use super::time::micros;
use crate::rotation::{ManagedKey, RotationStatus, earlier};

// For links in the documentation.
#[cfg(doc)]
use super::local;

/// Shards of the cache; a power of two so that the shard is picked with a mask.
pub(super) const SHARDS: usize = 16;

pub(super) type Names<V> = HashMap<String, V, BuildHasherDefault<NameHasher>>;

#[derive(Default)]
pub(super) struct Shard {
    pub(super) entries: RwLock<Names<Entry>>,
    pub(super) flights: Mutex<HashMap<String, Arc<Flight>>>,
}

pub(super) struct Entry {
    pub(super) key: Arc<ManagedKey>,
    /// Until this time (microseconds since the epoch) a read needs no thought: the value is fresh
    /// (or stale and not yet due for a retry) and its rotation status cannot have changed. The
    /// fast path compares only this.
    pub(super) quiet_until: i64,
    pub(super) fresh_until: DateTime<Utc>,
    /// Set while a stale value is served after a failed refresh: the next attempt's time.
    pub(super) retry_at: Option<DateTime<Utc>>,
    pub(super) retired: Option<RetiredKey>,
    /// The status last announced by an event, so each change is announced once.
    pub(super) announced: AtomicU8,
}

pub(super) struct RetiredKey {
    pub(super) key: Arc<ManagedKey>,
    pub(super) until: DateTime<Utc>,
}

impl Shard {
    pub(super) fn read(&self) -> std::sync::RwLockReadGuard<'_, Names<Entry>> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entries, to change: `changes` records the change when the lock is released.
    pub(super) fn write<'a>(&'a self, changes: &'a Changes) -> EntriesWrite<'a> {
        EntriesWrite {
            entries: self.entries.write().unwrap_or_else(PoisonError::into_inner),
            changes,
            changed: false,
        }
    }

    /// The cached key when it may be served without a fetch, with a status to announce.
    pub(super) fn lookup(
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
    pub(super) fn quiet(&self, name: &str, now_micros: i64) -> Option<(Arc<ManagedKey>, i64)> {
        let entries = self.read();
        let entry = entries.get(name)?;
        (now_micros < entry.quiet_until).then(|| (entry.key.clone(), entry.quiet_until))
    }

    /// Joins the flight for `name`, or starts it.
    ///
    /// With `recheck`, the cache is looked at again under the flights lock first: a flight is
    /// removed only after its value is stored, so a thread that missed just before another
    /// finished finds the value here instead of fetching it a second time.
    pub(super) fn join_flight(
        &self,
        name: &str,
        recheck: Option<(DateTime<Utc>, &Config)>,
    ) -> Join {
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
pub(super) struct EntriesWrite<'a> {
    pub(super) entries: std::sync::RwLockWriteGuard<'a, Names<Entry>>,
    pub(super) changes: &'a Changes,
    pub(super) changed: bool,
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

impl Entry {
    pub(super) fn new(
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
    pub(super) fn announce(&self, status: RotationStatus) -> Option<RotationStatus> {
        let code = status_code(status);
        if self.announced.load(Ordering::Relaxed) == code {
            return None;
        }
        let previous = self.announced.swap(code, Ordering::Relaxed);
        (previous != code && status.needs_attention()).then_some(status)
    }

    /// The keys of an entry that leaves the cache at `now`, each with the time until which it
    /// stays redacted: the current one for the grace period, a retired one until its own end.
    pub(super) fn departing(
        self,
        now: DateTime<Utc>,
        grace: TimeDelta,
    ) -> Vec<(Arc<ManagedKey>, DateTime<Utc>)> {
        let mut keys = vec![(self.key, now + grace)];
        keys.extend(self.retired.map(|retired| (retired.key, retired.until)));
        keys
    }

    /// Drops the retired value once its grace period is over.
    pub(super) fn retired_ended(&self, now: DateTime<Utc>) -> bool {
        self.retired.as_ref().is_some_and(|r| now >= r.until)
    }

    pub(super) fn expire_retired(&mut self, now: DateTime<Utc>) -> Option<KeyEvent> {
        if self.retired_ended(now) {
            let retired = self.retired.take()?;
            return Some(KeyEvent::Retired { key: retired.key });
        }
        None
    }
}

/// The end of the fast path for `key` served until `served_until`: the next time its status can
/// change. An expired key never takes the fast path, so it is refused on every read.
pub(super) fn quiet_until(
    key: &ManagedKey,
    now: DateTime<Utc>,
    served_until: DateTime<Utc>,
) -> DateTime<Utc> {
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

pub(super) fn status_code(status: RotationStatus) -> u8 {
    match status {
        RotationStatus::Current => 0,
        RotationStatus::Unknown => 1,
        RotationStatus::DueSoon => 2,
        RotationStatus::Due => 3,
        _ => 4,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rotation::{CreatedAt, RotationPolicy};
    use crate::secret::Secret;

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
