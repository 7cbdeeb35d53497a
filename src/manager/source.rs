//! Where the keys come from: a blocking or an async provider, and which doors each opens.

use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result, quote_name};
use crate::provider::{AsyncSecretProvider, SecretProvider, validate_key_name};

/// Where the manager's keys come from, and so which front doors can ask for them.
pub(super) enum Source {
    /// Answers [`KeyManager::get`](crate::KeyManager::get) and
    /// [`KeyManager::get_async`](crate::KeyManager::get_async) (which calls it inline).
    Sync(Arc<dyn SecretProvider>),
    /// Answers [`KeyManager::get_async`](crate::KeyManager::get_async) only: `get` would have to
    /// block on a future.
    Async(Arc<dyn AsyncSecretProvider>),
}

impl Source {
    pub(super) fn name(&self) -> &str {
        match self {
            Source::Sync(provider) => SecretProvider::name(&**provider),
            Source::Async(provider) => AsyncSecretProvider::name(&**provider),
        }
    }

    /// The sync provider, for the blocking front door; `door` names the method refused.
    #[inline]
    pub(super) fn sync_provider(&self, door: &str) -> Result<&dyn SecretProvider> {
        match self {
            Source::Sync(provider) => Ok(&**provider),
            Source::Async(provider) => Err(blocking_door_closed(door, &**provider)),
        }
    }

    /// The names the manager refuses before asking the provider. Local sources get
    /// [`validate_key_name`]; remote names have separators, and their providers check them.
    pub(super) fn check_name(&self, name: &str) -> Result<()> {
        match self {
            Source::Sync(_) => validate_key_name(name),
            Source::Async(_) if name.is_empty() || name.chars().any(char::is_control) => {
                Err(Error::new(
                    ErrorKind::InvalidName,
                    format!(
                        "invalid secret name {}: it is empty or contains a control character",
                        quote_name(name)
                    ),
                ))
            }
            Source::Async(_) => Ok(()),
        }
    }
}

/// The error of a blocking call on a manager built over an async provider.
#[cold]
pub(super) fn blocking_door_closed(door: &str, provider: &dyn AsyncSecretProvider) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!(
            "KeyManager::{door} cannot ask the async provider {} without blocking a thread: call \
             KeyManager::{door}_async, or build the manager with KeyManager::builder from a \
             SecretProvider",
            provider.name()
        ),
    )
}
