use std::fmt;
use std::sync::Arc;

use crate::error::Result;
use crate::provider::{SecretProvider, SecretProviderExt};
use crate::scope::{Scope, ScopedKey};
use crate::secret::Secret;
use crate::usage::{KeyId, Outcome, Usage, UsageLog};

/// A provider that reads only the keys a [`Scope`] allows; made by
/// [`SecretProviderExt::scoped`].
///
/// Any other key is refused with [`ErrorKind::PermissionDenied`](crate::ErrorKind) naming the
/// agent and the key, before the inner provider is asked, and the denial is recorded to the
/// usage log when one is attached (operation [`Scope::READ_OPERATION`], no fingerprint: the value is
/// never read).
///
/// ```
/// use keyward::{ErrorKind, MemoryProvider, Scope, SecretProvider, SecretProviderExt};
///
/// let scope = Scope::for_agent("researcher")
///     .with_operations(["chat"])
///     .allow("OPENAI_API_KEY", ["chat"])
///     .build()?;
/// let provider = MemoryProvider::new()
///     .with("OPENAI_API_KEY", format!("sk-proj-{}", "Ab3d".repeat(10)))
///     .with("AWS_SECRET_ACCESS_KEY", "not-a-real-aws-secret-0000000000000000000")
///     .scoped(scope);
///
/// assert!(provider.get("OPENAI_API_KEY")?.is_some());
/// let err = provider.get("AWS_SECRET_ACCESS_KEY").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::PermissionDenied);
/// assert_eq!(err.to_string(), "agent `researcher` may not read secret `AWS_SECRET_ACCESS_KEY`");
///
/// let key = provider.key("OPENAI_API_KEY")?;
/// assert!(key.require("chat").is_ok());
/// # Ok::<(), keyward::Error>(())
/// ```
pub struct ScopedProvider<P> {
    inner: P,
    scope: Scope,
    log: Option<Arc<UsageLog>>,
}

impl<P: SecretProvider> ScopedProvider<P> {
    /// Applies `scope` to `inner`.
    pub fn new(inner: P, scope: Scope) -> ScopedProvider<P> {
        ScopedProvider {
            inner,
            scope,
            log: None,
        }
    }

    /// Records denials to `log`, and attaches it to the keys made by
    /// [`key`](ScopedProvider::key).
    pub fn with_usage_log(mut self, log: Arc<UsageLog>) -> ScopedProvider<P> {
        self.log = Some(log);
        self
    }

    /// The scope applied.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The provider inside.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// Reads `key` and bundles it with the operations the scope allows on it, with this
    /// provider's usage log attached.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::PermissionDenied`](crate::ErrorKind) when the scope does not allow the key,
    /// [`ErrorKind::NotFound`](crate::ErrorKind) when the inner provider does not have it, or the
    /// inner provider's error.
    pub fn key(&self, key: &str) -> Result<ScopedKey> {
        let secret = self.require(key)?;
        let scoped = self.scope.key(key, secret.into_value())?;
        Ok(match &self.log {
            Some(log) => scoped.with_usage_log(Arc::clone(log)),
            None => scoped,
        })
    }
}

impl<P: SecretProvider> SecretProvider for ScopedProvider<P> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn get(&self, key: &str) -> Result<Option<Secret>> {
        if let Err(denied) = self.scope.check_key(key) {
            if let Some(log) = &self.log {
                log.record(
                    Usage::new(
                        &KeyId::unread(key),
                        Arc::clone(self.scope.agent_arc()),
                        Scope::READ_OPERATION,
                    )
                    .with_outcome(Outcome::Denied),
                );
            }
            return Err(denied);
        }
        self.inner.get(key)
    }
}

impl<P: fmt::Debug> fmt::Debug for ScopedProvider<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedProvider")
            .field("inner", &self.inner)
            .field("scope", &self.scope)
            .field("usage_log", &self.log.is_some())
            .finish()
    }
}
