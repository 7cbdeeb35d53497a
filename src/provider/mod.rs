//! Where secrets come from: the [`SecretProvider`] trait and the built-in providers.
//!
//! A provider answers one question: "what is the secret called `key`?" It returns `Ok(Some(_))`
//! with the secret, `Ok(None)` when the source does not have the key, and `Err(_)` when the
//! source itself failed. Keeping the last two apart is what lets a [`ChainProvider`] move on
//! from a missing key but stop at a broken source.

use std::fmt;
use std::sync::Arc;

pub(crate) use crate::error::quote_name;
use crate::error::{Error, ErrorKind, Result};
use crate::format::KeyFormat;
use crate::scope::Scope;
use crate::secret::Secret;

mod async_provider;
mod capped;
mod chain;
mod dotenv;
mod env;
mod file;
#[cfg(feature = "keyring")]
mod keyring;
mod memory;
#[cfg(any(feature = "vault", feature = "aws", feature = "azure", feature = "gcp"))]
mod remote;
mod scoped;

pub use async_provider::{AsyncSecretProvider, AsyncSecretProviderExt, BoxFuture};
pub use chain::{ChainProvider, OnError};
pub use dotenv::{DotenvOptions, DotenvProvider};
pub use env::EnvProvider;
pub use file::FileProvider;
#[cfg(feature = "keyring")]
pub use keyring::KeyringProvider;
pub use memory::MemoryProvider;
#[cfg(any(feature = "vault", feature = "aws", feature = "azure", feature = "gcp"))]
pub use remote::RemotePolicy;
#[cfg(feature = "aws")]
pub use remote::{AwsSecretsManagerBuilder, AwsSecretsManagerProvider};
#[cfg(feature = "azure")]
pub use remote::{AzureKeyVaultBuilder, AzureKeyVaultProvider};
#[cfg(feature = "vault")]
pub use remote::{DEFAULT_VAULT_FIELD, VaultBuilder, VaultProvider};
#[cfg(feature = "gcp")]
pub use remote::{GcpSecretManagerBuilder, GcpSecretManagerProvider};
pub use scoped::{READ_OPERATION, ScopedProvider};

/// A source of secrets.
///
/// Implement it for your own store; the trait is object safe, so providers of different types
/// combine as `Box<dyn SecretProvider>`.
///
/// ```
/// use keyward::{Result, Secret, SecretMeta, SecretProvider, validate_key_name};
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
    /// [`ErrorKind::InvalidName`] for a key name the provider refuses; other kinds when the source
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
    /// [`ErrorKind::NotFound`] naming the key and the provider, or the provider's own error.
    fn require(&self, key: &str) -> Result<Secret> {
        self.get(key)?
            .ok_or_else(|| Error::not_found(key, self.name()))
    }

    /// Like [`require`](SecretProviderExt::require), and the value must match one of `formats`.
    ///
    /// # Errors
    ///
    /// As `require`, and [`ErrorKind::InvalidFormat`] naming the expected formats (never the
    /// value) when none matches.
    fn require_format(&self, key: &str, formats: &[KeyFormat]) -> Result<Secret> {
        let secret = self.require(key)?;
        validate_format(key, self.name(), secret.expose_secret(), formats)?;
        Ok(secret)
    }

    /// Reads only the keys `scope` allows; see [`ScopedProvider`].
    ///
    /// ```
    /// use keyward::{ErrorKind, EnvProvider, Scope, SecretProvider, SecretProviderExt};
    ///
    /// let scope = Scope::for_agent("summarizer")
    ///     .operations(["chat"])
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

/// The longest key name any built-in provider accepts, in bytes.
pub const MAX_KEY_NAME_LEN: usize = 512;

/// Checks a key name against the rules every built-in provider applies.
///
/// A name must be non-empty, at most [`MAX_KEY_NAME_LEN`] bytes, free of control characters
/// (NUL included) and of path separators (`/`, `\`), and must not be `.` or contain `..`: names
/// end up in file paths and URLs, where such characters change what is read.
///
/// ```
/// use keyward::{ErrorKind, validate_key_name};
///
/// assert!(validate_key_name("OPENAI_API_KEY").is_ok());
/// assert_eq!(validate_key_name("../etc/passwd").unwrap_err().kind(), ErrorKind::InvalidName);
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidName`] saying which rule the name breaks.
pub fn validate_key_name(key: &str) -> Result<()> {
    let problem = if key.is_empty() {
        "is empty"
    } else if key.len() > MAX_KEY_NAME_LEN {
        "is longer than 512 bytes"
    } else if key.contains('\0') {
        "contains a NUL byte"
    } else if key.chars().any(char::is_control) {
        "contains a control character"
    } else if key.contains(['/', '\\']) {
        "contains a path separator"
    } else if key == "." || key.contains("..") {
        "contains `..` or is `.`"
    } else {
        return Ok(());
    };
    Err(Error::new(
        ErrorKind::InvalidName,
        format!("invalid secret name {}: it {problem}", quote_name(key)),
    ))
}

/// Checks that `value`, the secret `key` from `source`, is a key of one of `formats`, and says
/// which: [`KeyFormat::validate`] with an error that names the key and where it came from (never
/// the value). The one wording of a format mismatch for providers and the key manager alike.
pub(crate) fn validate_format(
    key: &str,
    source: &str,
    value: &str,
    formats: &[KeyFormat],
) -> Result<KeyFormat> {
    KeyFormat::validate(value, formats).map_err(|err| {
        Error::new(
            err.kind(),
            format!("secret {} from {source}: {err}", quote_name(key)),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_that_change_paths_are_refused() {
        for bad in [
            "", ".", "..", "a/b", "a\\b", "a\0b", "a\nb", "x..y", "\u{7f}",
        ] {
            let err = validate_key_name(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidName, "{bad:?}");
        }
        let long = "k".repeat(MAX_KEY_NAME_LEN + 1);
        assert_eq!(
            validate_key_name(&long).unwrap_err().kind(),
            ErrorKind::InvalidName
        );
        for good in [
            "OPENAI_API_KEY",
            "db.password",
            "api-key",
            "ключ",
            ".hidden",
        ] {
            assert!(validate_key_name(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn messages_escape_the_name() {
        let err = validate_key_name("a\nforged log line").unwrap_err();
        assert!(!err.to_string().contains('\n'));
    }
}
