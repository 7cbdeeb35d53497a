//! The read path: the calling thread's copy, the shards, and on a miss a load, through either
//! front door.

use std::sync::{Arc, Weak};

use super::key_manager::{Inner, KeyManager};
use super::load::Mode;
use super::local::{self, Stamp};
use crate::error::Result;
use crate::rotation::ManagedKey;

// For links in the documentation.
#[cfg(doc)]
use crate::error::{Error, ErrorKind};
#[cfg(doc)]
use crate::provider::SecretProvider;

impl KeyManager {
    /// The key `name`: from the cache while it is fresh, else from the provider.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`] when the provider does not have the key, and the provider's
    /// [`ErrorKind::PermissionDenied`] when it refuses the credential (neither is ever hidden by
    /// a stale value, and both drop the cached one); [`ErrorKind::Expired`] for an expired key
    /// unless [`with_serve_expired`](super::KeyManagerBuilder::with_serve_expired) is set;
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
        let provider = inner.source.sync_provider("get")?;
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
        let provider = self.inner.source.sync_provider("refresh")?;
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
}
