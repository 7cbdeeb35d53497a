//! Each thread's own copy of the cache entries it read last, so that a cached read writes no
//! memory that other threads read.
//!
//! A read through the shards takes the shard's read lock and clones the key's `Arc`: atomic
//! read-modify-writes on cache lines that every reader shares, which cost more than the rest of
//! the read together and make two threads reading one key wait on each other. Here a thread
//! keeps a reference to each key it read, stamped with the manager's change counter, and
//! serves it again while the counter has not moved and the entry is still quiet (see
//! `Entry::quiet_until`). Every change to a shard moves the counter, after the change and
//! before the lock is released, so a copy is never trusted past a change: a reader that saw the
//! old count read the old entry, and the next read sees the new count.
//!
//! Copies hold secrets, so they do not linger past need: the first read that misses drops the
//! copies of its manager taken before the last change, and those of managers that were dropped
//! since (a global count of dropped managers tells a thread when to look). A thread that never
//! reads again keeps its copies until it ends.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use crate::rotation::ManagedKey;

/// How many keys a thread keeps, of all managers: the keys an agent uses, searched linearly.
const SLOTS: usize = 16;

/// Tells managers apart: a manager's address may be reused by the next one.
static NEXT_MANAGER: AtomicU64 = AtomicU64::new(0);

/// Managers dropped so far. A thread that sees it move drops the copies of dead managers before
/// serving another copy.
static DROPPED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COPIES: RefCell<Copies> = const {
        RefCell::new(Copies { held: Vec::new(), dropped_seen: 0 })
    };
}

/// A manager's change counter, dropped with the manager.
pub(super) struct Changes {
    manager: u64,
    count: AtomicU64,
}

impl Changes {
    pub(super) fn new() -> Changes {
        Changes {
            manager: NEXT_MANAGER.fetch_add(1, Ordering::Relaxed),
            count: AtomicU64::new(0),
        }
    }

    /// The stamp of a read starting now. Taken before the cache is looked at, so a change that
    /// lands during the read makes the copy it leaves behind stale.
    #[inline]
    pub(super) fn stamp(&self) -> Stamp {
        Stamp {
            manager: self.manager,
            count: self.count.load(Ordering::Acquire),
        }
    }

    /// Records a change to the cache; called after the change, before its lock is released.
    pub(super) fn record(&self) {
        self.count.fetch_add(1, Ordering::Release);
    }
}

impl Drop for Changes {
    fn drop(&mut self) {
        // After the manager's strong count reached zero: a thread that sees this count finds
        // the manager dead through its `Weak`.
        DROPPED.fetch_add(1, Ordering::Release);
    }
}

/// Which manager a copy came from, and how many changes that manager had seen.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    manager: u64,
    count: u64,
}

struct Copies {
    held: Vec<Held>,
    /// [`DROPPED`] when dead managers' copies were last dropped.
    dropped_seen: u64,
}

struct Held {
    stamp: Stamp,
    /// `Entry::quiet_until` when the copy was taken.
    quiet_until: i64,
    name: Box<str>,
    key: Arc<ManagedKey>,
    /// The manager, to tell whether it is still alive.
    manager: Weak<dyn Send + Sync>,
}

impl Copies {
    /// Drops the copies that can no longer be served: those of `stamp`'s manager from before
    /// its last change, and those of dead managers.
    fn tidy(&mut self, stamp: Stamp) {
        let dropped = DROPPED.load(Ordering::Acquire);
        let look_for_dead = dropped != self.dropped_seen;
        self.held.retain(|held| {
            let outdated = held.stamp.manager == stamp.manager && held.stamp != stamp;
            let dead = look_for_dead && held.manager.strong_count() == 0;
            !outdated && !dead
        });
        self.dropped_seen = dropped;
    }
}

/// Calls `f` with this thread's copy of `name` if the copy still holds at `stamp` and
/// `now_micros`; gives `f` back otherwise, after dropping the copies that cannot be served.
#[inline]
pub(super) fn read<F, R>(stamp: Stamp, name: &str, now_micros: i64, f: F) -> Result<R, F>
where
    F: FnOnce(&Arc<ManagedKey>) -> R,
{
    let mut f = Some(f);
    let served = COPIES
        .try_with(|copies| {
            // Busy only when `f` of an outer read reads again while the copies are updated,
            // which cannot happen; and then the caller reads through the shards.
            let copies = copies.try_borrow().ok()?;
            if copies.dropped_seen != DROPPED.load(Ordering::Relaxed) {
                return None;
            }
            let held = copies.held.iter().find(|held| {
                held.stamp == stamp && now_micros < held.quiet_until && same_name(&held.name, name)
            })?;
            f.take().map(|f| f(&held.key))
        })
        .ok()
        .flatten();
    match (served, f) {
        (Some(result), _) => Ok(result),
        (None, Some(f)) => {
            with_copies(|copies| copies.tidy(stamp));
            Err(f)
        }
        (None, None) => unreachable!("`f` is taken only to be called, and its result returned"),
    }
}

/// Keeps `key`, read at `stamp` from `manager` and quiet until `quiet_until`, as this thread's
/// copy of `name`.
pub(super) fn keep(
    stamp: Stamp,
    manager: Weak<dyn Send + Sync>,
    name: &str,
    quiet_until: i64,
    key: &Arc<ManagedKey>,
) {
    with_copies(|copies| {
        copies.tidy(stamp);
        copies
            .held
            .retain(|held| held.stamp != stamp || !same_name(&held.name, name));
        if copies.held.len() == SLOTS {
            copies.held.remove(0);
        }
        copies.held.push(Held {
            stamp,
            quiet_until,
            name: name.into(),
            key: key.clone(),
            manager,
        });
    });
}

/// Runs `change` on this thread's copies, unless they are in use (inside `f` of a read) or
/// being torn down with the thread.
fn with_copies(change: impl FnOnce(&mut Copies)) {
    let _ = COPIES.try_with(|copies| {
        if let Ok(mut copies) = copies.try_borrow_mut() {
            change(&mut copies);
        }
    });
}

/// `a == b`, compared a word at a time in line: key names are short, and a call to `memcmp`
/// took a tenth of a cached read.
#[inline]
fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    if a.len() < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    // Whole words, then the last eight bytes (which may overlap the last whole word).
    let tail = a.len() - 8;
    a.chunks_exact(8)
        .zip(b.chunks_exact(8))
        .all(|(x, y)| word(x) == word(y))
        && word(&a[tail..]) == word(&b[tail..])
}

#[inline]
fn word(bytes: &[u8]) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(bytes);
    u64::from_ne_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::same_name;

    #[test]
    fn names_compare_equal_exactly_when_they_are() {
        let names = [
            "",
            "A",
            "KEY",
            "API_KEY",
            "API_KEY1",
            "API_KEY2",
            "OPENAI_API_KEY",
        ];
        let longer = [
            "OPENAI_API_KEY_X",
            "OPENAI_API_KEY_Y",
            "Ñ_KEY_NAME_ÉTÉ",
            "Ñ_KEY_NAME_ÉTA",
        ];
        for a in names.iter().chain(&longer) {
            for b in names.iter().chain(&longer) {
                assert_eq!(same_name(a, b), a == b, "{a:?} vs {b:?}");
            }
        }
    }
}
