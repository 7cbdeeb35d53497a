//! The async front door: [`AsyncSecretProvider`], for sources that answer over the network.

use std::future::Future;
use std::pin::Pin;

use crate::error::{Error, Result};
use crate::provider::SecretProvider;
use crate::secret::Secret;

/// A boxed, `Send` future, as returned by [`AsyncSecretProvider::get`].
///
/// Boxing keeps the trait object safe (`Box<dyn AsyncSecretProvider>`), and `Send` lets the
/// future move between the threads of a multi-threaded runtime.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source of secrets that is asked asynchronously.
///
/// Remote secret managers (Vault, AWS Secrets Manager) implement it natively and never block the
/// runtime thread. Every [`SecretProvider`] is also an `AsyncSecretProvider` through a blanket
/// impl: its `get` runs synchronously when the future is first polled. That is right for the
/// built-in local providers (environment, memory, files), which answer in microseconds; a
/// provider of your own that blocks for long should implement this trait itself, or be called
/// through `tokio::task::spawn_blocking`.
///
/// The semantics are those of [`SecretProvider::get`]: `Ok(None)` is "not here", `Err` is "the
/// source failed".
///
/// ```
/// use keyward::{AsyncSecretProvider, MemoryProvider};
///
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop {
/// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
/// #     }
/// # }
/// let provider = MemoryProvider::new().with("OPENAI_API_KEY", "sk-not-a-real-key-0000");
/// let boxed: Box<dyn AsyncSecretProvider> = Box::new(provider);
/// let secret = block_on(boxed.get("OPENAI_API_KEY"))?;
/// assert!(secret.is_some());
/// # Ok::<(), keyward::Error>(())
/// ```
pub trait AsyncSecretProvider: Send + Sync + std::fmt::Debug {
    /// A short name for messages and [`SecretMeta::source`](crate::SecretMeta::source).
    fn name(&self) -> &str;

    /// Looks up `key`: resolves to `Ok(None)` when the source does not have it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidName`](crate::ErrorKind::InvalidName) for a key the provider refuses,
    /// [`ErrorKind::Backend`](crate::ErrorKind::Backend) when a remote source fails or times out.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Secret>>>;
}

impl<P: SecretProvider + ?Sized> AsyncSecretProvider for P {
    fn name(&self) -> &str {
        SecretProvider::name(self)
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Secret>>> {
        // Runs on first poll, not at call time, as callers of a future expect.
        Box::pin(async move { SecretProvider::get(self, key) })
    }
}

// Trait objects forward too, so that `Box<dyn AsyncSecretProvider>` and
// `Arc<dyn AsyncSecretProvider>` can go where a provider is expected. (A generic impl for
// `Box<P>` would overlap the blanket impl above, which already covers `Box<P: SecretProvider>`.)
macro_rules! forward_async_provider {
    ($($ty:ty),*) => {$(
        impl AsyncSecretProvider for $ty {
            fn name(&self) -> &str {
                (**self).name()
            }

            fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Secret>>> {
                (**self).get(key)
            }
        }
    )*};
}

forward_async_provider!(
    Box<dyn AsyncSecretProvider>,
    std::sync::Arc<dyn AsyncSecretProvider>,
    &dyn AsyncSecretProvider
);

/// Conveniences for every [`AsyncSecretProvider`].
pub trait AsyncSecretProviderExt: AsyncSecretProvider {
    /// Like [`get`](AsyncSecretProvider::get), but a missing key is an error.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) naming the key and the provider, or
    /// the provider's own error.
    fn require<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Secret>> {
        Box::pin(async move {
            AsyncSecretProvider::get(self, key)
                .await?
                .ok_or_else(|| Error::not_found(key, AsyncSecretProvider::name(self)))
        })
    }
}

impl<P: AsyncSecretProvider + ?Sized> AsyncSecretProviderExt for P {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::ErrorKind;
    use crate::provider::MemoryProvider;

    /// Polls a future that never waits on I/O to completion.
    fn ready<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(value) => value,
            Poll::Pending => panic!("a synchronous provider's future must be ready at once"),
        }
    }

    fn provider() -> MemoryProvider {
        MemoryProvider::new().with("TOKEN", format!("tok-{}", "Zq9".repeat(6)))
    }

    #[test]
    fn every_sync_provider_is_an_async_one() {
        let boxed: Box<dyn AsyncSecretProvider> = Box::new(provider());
        assert_eq!(boxed.name(), "memory");
        let secret = ready(boxed.get("TOKEN")).unwrap().unwrap();
        assert_eq!(secret.expose_secret(), format!("tok-{}", "Zq9".repeat(6)));
        assert!(ready(boxed.get("OTHER")).unwrap().is_none());
    }

    #[test]
    fn require_turns_a_missing_key_into_not_found() {
        let provider = provider();
        let err = ready(AsyncSecretProviderExt::require(&provider, "OTHER")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(err.to_string(), "secret `OTHER` not found in memory");
        assert!(ready(AsyncSecretProviderExt::require(&provider, "TOKEN")).is_ok());
    }

    #[test]
    fn the_sync_get_runs_on_poll_not_on_call() {
        #[derive(Debug)]
        struct Counting(std::sync::atomic::AtomicUsize);
        impl SecretProvider for Counting {
            fn name(&self) -> &str {
                "counting"
            }
            fn get(&self, _key: &str) -> Result<Option<Secret>> {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(None)
            }
        }
        let provider = Counting(0.into());
        let future = AsyncSecretProvider::get(&provider, "K");
        assert_eq!(provider.0.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert!(ready(future).unwrap().is_none());
        assert_eq!(provider.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn trait_objects_are_providers_too() {
        fn provide<P: AsyncSecretProvider>(provider: P) -> Option<Secret> {
            ready(provider.get("TOKEN")).unwrap()
        }
        let boxed: Box<dyn AsyncSecretProvider> = Box::new(provider());
        let shared: std::sync::Arc<dyn AsyncSecretProvider> = std::sync::Arc::new(provider());
        assert!(provide(&*boxed).is_some());
        assert!(provide(boxed).is_some());
        assert!(provide(shared).is_some());
    }

    #[test]
    fn futures_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        let provider = provider();
        assert_send(&AsyncSecretProvider::get(&provider, "TOKEN"));
    }
}
