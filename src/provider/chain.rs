use std::fmt;

use crate::error::Result;
use crate::provider::SecretProvider;
use crate::secret::Secret;

/// What a [`ChainProvider`] does when a provider fails (returns `Err`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnError {
    /// Return the error: a broken source must not be hidden by a later one (the default).
    #[default]
    Stop,
    /// Try the next provider; if none has the key, return the first error.
    Continue,
}

/// Tries providers in order and returns the first that has the key: "environment first, then
/// the secrets manager".
///
/// `Ok(None)` moves on to the next provider. An error stops the chain unless
/// [`on_error(OnError::Continue)`](ChainProvider::with_on_error) is set. The answer's
/// [`SecretMeta::source`](crate::SecretMeta::source) names the provider that answered.
///
/// ```
/// use keyward::{ChainProvider, EnvProvider, MemoryProvider, SecretProvider, SecretProviderExt};
///
/// let chain = ChainProvider::new()
///     .with(EnvProvider::new().with_prefix("KEYWARD_DOC_EXAMPLE_"))
///     .with(MemoryProvider::named("fallback").with("TOKEN", "not-a-real-token-0000"));
/// let token = chain.get("TOKEN")?.expect("the fallback has it");
/// assert_eq!(token.meta().source, "fallback");
/// let err = chain.require("MISSING").unwrap_err();
/// assert_eq!(err.to_string(), "secret `MISSING` not found in chain(env, fallback)");
/// # Ok::<(), keyward::Error>(())
/// ```
pub struct ChainProvider {
    providers: Vec<Box<dyn SecretProvider>>,
    on_error: OnError,
    /// `chain(env, dotenv, file)`: tells a reader of "not found in ..." where the chain looked.
    name: String,
}

impl Default for ChainProvider {
    fn default() -> ChainProvider {
        ChainProvider {
            providers: Vec::new(),
            on_error: OnError::default(),
            name: "chain()".to_owned(),
        }
    }
}

impl ChainProvider {
    /// An empty chain; it has no key until providers are added.
    pub fn new() -> ChainProvider {
        ChainProvider::default()
    }

    /// Appends a provider, asked after those already in the chain.
    pub fn with(mut self, provider: impl SecretProvider + 'static) -> ChainProvider {
        self.push(provider);
        self
    }

    /// Appends a provider, asked after those already in the chain.
    pub fn push(&mut self, provider: impl SecretProvider + 'static) {
        self.providers.push(Box::new(provider));
        let names: Vec<&str> = self.providers.iter().map(|p| p.name()).collect();
        self.name = format!("chain({})", names.join(", "));
    }

    /// What to do when a provider fails.
    pub fn with_on_error(mut self, on_error: OnError) -> ChainProvider {
        self.on_error = on_error;
        self
    }

    /// The providers, in the order they are asked.
    pub fn providers(&self) -> impl Iterator<Item = &dyn SecretProvider> {
        self.providers.iter().map(|p| &**p)
    }
}

impl fmt::Debug for ChainProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainProvider")
            .field("providers", &self.providers)
            .field("on_error", &self.on_error)
            .finish()
    }
}

impl SecretProvider for ChainProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, key: &str) -> Result<Option<Secret>> {
        let mut first_error = None;
        for provider in &self.providers {
            match provider.get(key) {
                Ok(Some(secret)) => return Ok(Some(secret)),
                Ok(None) => {}
                Err(err) if self.on_error == OnError::Continue => {
                    first_error.get_or_insert(err);
                }
                Err(err) => return Err(err),
            }
        }
        first_error.map_or(Ok(None), Err)
    }
}
