//! Each thread's own copy of the cache entries it read last, so that a cached read writes no
//! memory that other threads read.
//!
//! A read through the shards takes the shard's read lock and clones the key's `Arc`: atomic
//! read-modify-writes on cache lines that every reader shares, which cost more than the rest of
//! the read together and make two threads reading one key wait on each other. Here a thread
//! keeps a reference to each key it read, stamped with the manager's change counter, and
//! serves it again while the counter has not moved and the entry is still quiet (see
//! `Entry::quiet_until`). Every write to a shard moves the counter, after the write and before
//! the lock is released, so a copy is never trusted past a change: a reader that saw the old
//! count read the old entry, and the next read sees the new count.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::rotation::ManagedKey;

/// How many keys a thread keeps: the keys an agent uses, searched linearly.
const SLOTS: usize = 16;

/// Tells managers apart: a manager's address may be reused by the next one.
static NEXT_MANAGER: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COPIES: RefCell<Vec<Held>> = const { RefCell::new(Vec::new()) };
}

/// A manager's change counter.
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

/// Which manager a copy came from, and how many changes that manager had seen.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    manager: u64,
    count: u64,
}

struct Held {
    stamp: Stamp,
    /// `Entry::quiet_until` when the copy was taken.
    quiet_until: i64,
    name: Box<str>,
    key: Arc<ManagedKey>,
}

/// Calls `f` with this thread's copy of `name` if the copy still holds at `stamp` and
/// `now_micros`; gives `f` back otherwise.
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
            let copy = copies.iter().find(|copy| {
                copy.stamp == stamp && now_micros < copy.quiet_until && same_name(&copy.name, name)
            })?;
            f.take().map(|f| f(&copy.key))
        })
        .ok()
        .flatten();
    match (served, f) {
        (Some(result), _) => Ok(result),
        (None, Some(f)) => Err(f),
        (None, None) => unreachable!("`f` is taken only to be called, and its result returned"),
    }
}

/// Keeps `key`, read from the shard at `stamp` and quiet until `quiet_until`, as this thread's
/// copy of `name`. Copies of this manager from before `stamp` are dropped with it: they are
/// stale, and a rotated-out key should not live on in a thread that keeps reading.
pub(super) fn keep(stamp: Stamp, name: &str, quiet_until: i64, key: &Arc<ManagedKey>) {
    // Skipped while the thread's locals are being torn down, or inside `f` of a read.
    let _ = COPIES.try_with(|copies| {
        let Ok(mut copies) = copies.try_borrow_mut() else {
            return;
        };
        copies.retain(|copy| {
            copy.stamp.manager != stamp.manager || (copy.stamp == stamp && *copy.name != *name)
        });
        if copies.len() == SLOTS {
            copies.remove(0);
        }
        copies.push(Held {
            stamp,
            quiet_until,
            name: name.into(),
            key: key.clone(),
        });
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
