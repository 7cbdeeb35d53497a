//! Where secrets come from: the [`SecretProvider`] trait and the built-in providers.
//!
//! A provider answers one question: "what is the secret called `key`?" It returns `Ok(Some(_))`
//! with the secret, `Ok(None)` when the source does not have the key, and `Err(_)` when the
//! source itself failed. Keeping the last two apart is what lets a [`ChainProvider`] move on
//! from a missing key but stop at a broken source.

use std::fmt;
use std::sync::Arc;

pub(crate) use crate::error::quote_name;
// For files that are not secrets but must not hang or flood a read either (allowlists).
use crate::error::{Error, Result};
use crate::format::{KeyFormat, validate_format};
pub use crate::key_name::{MAX_KEY_NAME_LEN, validate_key_name};
use crate::scope::Scope;
use crate::secret::Secret;
// For the audit's allowlist, read as the providers read their files.
#[cfg(feature = "audit")]
pub(crate) use capped::{ReadError, open_regular, read_capped};

mod async_provider;
mod capped;
mod chain;
mod dotenv;
mod env;
mod file;
#[cfg(feature = "keyring")]
#[cfg_attr(docsrs, doc(cfg(feature = "keyring")))]
pub mod keyring;
mod line_ending;
mod memory;
#[cfg(any(feature = "vault", feature = "aws", feature = "azure", feature = "gcp"))]
mod remote;
mod scoped;

pub use async_provider::{AsyncSecretProvider, AsyncSecretProviderExt, BoxFuture};
pub use chain::{ChainProvider, OnError};
pub use dotenv::{DotenvOptions, DotenvProvider};
pub use env::EnvProvider;
pub use file::FileProvider;
pub use memory::MemoryProvider;
#[cfg(any(feature = "vault", feature = "aws", feature = "azure", feature = "gcp"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "vault", feature = "aws", feature = "azure", feature = "gcp")))
)]
pub use remote::RemotePolicy;
#[cfg(feature = "aws")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws")))]
pub use remote::aws;
#[cfg(feature = "azure")]
#[cfg_attr(docsrs, doc(cfg(feature = "azure")))]
pub use remote::azure;
#[cfg(feature = "gcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "gcp")))]
pub use remote::gcp;
#[cfg(feature = "vault")]
#[cfg_attr(docsrs, doc(cfg(feature = "vault")))]
pub use remote::vault;
pub use scoped::ScopedProvider;

/// A source of secrets.
///
/// Implement it for your own store; the trait is object safe, so providers of different types
/// combine as `Box<dyn SecretProvider>`.
///
/// ```
/// use keyward::{Result, Secret, SecretMeta, SecretProvider};
/// use keyward::provider::validate_key_name;
///
/// #[derive(Debug)]
/// struct Fixed;
///
/// impl SecretProvider for Fixed {
///     fn name(&self) -> &str {
///         "fixed"
///     }
///
///     fn get(&self, key: &str) -> Result<Option<Secret>> {
///         validate_key_name(key)?;
///         Ok((key == "TOKEN").then(|| Secret::new("not-a-real-token-0000", SecretMeta::new(self.name()))))
///     }
/// }
///
/// assert!(Fixed.get("TOKEN")?.is_some());
/// assert!(Fixed.get("OTHER")?.is_none());
/// # Ok::<(), keyward::Error>(())
/// ```
pub trait SecretProvider: Send + Sync + fmt::Debug {
    /// A short name for messages and [`SecretMeta::source`](crate::SecretMeta::source).
    fn name(&self) -> &str;

    /// Looks up `key`: `Ok(None)` when the source does not have it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidName`](crate::ErrorKind::InvalidName) for a key name the provider refuses; other kinds when the source
    /// fails (unreadable file, unreachable server, insecure permissions).
    fn get(&self, key: &str) -> Result<Option<Secret>>;
}

macro_rules! forward_provider {
    ($($ty:ty),*) => {$(
        impl<P: SecretProvider + ?Sized> SecretProvider for $ty {
            fn name(&self) -> &str {
                (**self).name()
            }

            fn get(&self, key: &str) -> Result<Option<Secret>> {
                (**self).get(key)
            }
        }
    )*};
}

forward_provider!(&P, Box<P>, Arc<P>);

/// Conveniences for every [`SecretProvider`].
pub trait SecretProviderExt: SecretProvider {
    /// Like [`get`](SecretProvider::get), but a missing key is an error.
    ///
    /// ```
    /// use keyward::{ErrorKind, MemoryProvider, SecretProviderExt};
    ///
    /// let provider = MemoryProvider::new();
    /// let err = provider.require("OPENAI_API_KEY").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// assert_eq!(err.to_string(), "secret `OPENAI_API_KEY` not found in memory");
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) naming the key and the provider, or the provider's own error.
    fn require(&self, key: &str) -> Result<Secret> {
        self.get(key)?
            .ok_or_else(|| Error::not_found(key, self.name()))
    }

    /// Like [`require`](SecretProviderExt::require), and the value must match one of `formats`.
    ///
    /// # Errors
    ///
    /// As `require`, and [`ErrorKind::InvalidFormat`](crate::ErrorKind::InvalidFormat) naming the expected formats (never the
    /// value) when none matches.
    fn require_format(&self, key: &str, formats: &[KeyFormat]) -> Result<Secret> {
        let secret = self.require(key)?;
        validate_format(key, self.name(), secret.expose_secret(), formats)?;
        Ok(secret)
    }

    /// Reads only the keys `scope` allows; see [`ScopedProvider`].
    ///
    /// ```
    /// use keyward::{EnvProvider, ErrorKind, Scope, SecretProvider, SecretProviderExt};
    ///
    /// let scope = Scope::for_agent("summarizer")
    ///     .with_operations(["chat"])
    ///     .allow("ANTHROPIC_API_KEY", ["chat"])
    ///     .build()?;
    /// let provider = EnvProvider::new().scoped(scope);
    /// assert_eq!(provider.get("HOME").unwrap_err().kind(), ErrorKind::PermissionDenied);
    /// # Ok::<(), keyward::Error>(())
    /// ```
    fn scoped(self, scope: Scope) -> ScopedProvider<Self>
    where
        Self: Sized,
    {
        ScopedProvider::new(self, scope)
    }

    /// Asks `self`, then `fallback` when `self` does not have the key: a two-link
    /// [`ChainProvider`], which can go on with [`ChainProvider::with`].
    ///
    /// ```
    /// use keyward::{EnvProvider, MemoryProvider, SecretProvider, SecretProviderExt};
    ///
    /// let provider = EnvProvider::new()
    ///     .with_prefix("KEYWARD_DOC_OR_")
    ///     .or(MemoryProvider::named("defaults").with("TOKEN", "not-a-real-token-000"));
    /// assert_eq!(provider.require("TOKEN")?.meta().source, "defaults");
    /// assert_eq!(provider.name(), "chain(env, defaults)");
    /// # Ok::<(), keyward::Error>(())
    /// ```
    fn or(self, fallback: impl SecretProvider + 'static) -> ChainProvider
    where
        Self: Sized + 'static,
    {
        ChainProvider::new().with(self).with(fallback)
    }
}

impl<P: SecretProvider + ?Sized> SecretProviderExt for P {}
