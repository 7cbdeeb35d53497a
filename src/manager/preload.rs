//! Preloading: every key of a list loaded at start-up, with one error naming all that failed.

use std::sync::Arc;

use super::join::join_all;
use super::key_manager::KeyManager;
use crate::error::{Error, ErrorKind, Result, quote_name};
use crate::rotation::ManagedKey;

// For links in the documentation.
#[cfg(doc)]
use crate::provider::{AsyncSecretProvider, SecretProvider};

/// The keys a preload got and the ones it did not, for one error that lists them all.
#[derive(Default)]
pub(super) struct Preload {
    pub(super) keys: Vec<Arc<ManagedKey>>,
    pub(super) failures: Vec<(String, Error)>,
}

impl Preload {
    pub(super) fn add(&mut self, name: &str, result: Result<Arc<ManagedKey>>) {
        match result {
            Ok(key) => self.keys.push(key),
            Err(err) => self.failures.push((name.to_owned(), err)),
        }
    }

    pub(super) fn finish(self, provider: &str) -> Result<Vec<Arc<ManagedKey>>> {
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

impl KeyManager {
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
        self.inner.source.sync_provider("preload")?;
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
}
