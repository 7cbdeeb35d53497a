use std::collections::HashMap;
use std::fmt;

use crate::error::Result;
use crate::provider::{SecretProvider, validate_key_name};
use crate::secret::{Secret, SecretMeta, SecretString};

/// Secrets held in memory: for tests, and for programs that receive secrets some other way.
///
/// ```
/// use keyward::{MemoryProvider, SecretProvider};
///
/// let provider = MemoryProvider::new().with("OPENAI_API_KEY", "sk-test-not-a-real-key-000000");
/// assert!(provider.get("OPENAI_API_KEY")?.is_some());
/// assert!(provider.get("OTHER")?.is_none());
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Default, Clone)]
pub struct MemoryProvider {
    name: String,
    secrets: HashMap<String, Secret>,
}

impl MemoryProvider {
    /// An empty provider named `memory`.
    pub fn new() -> MemoryProvider {
        MemoryProvider::named("memory")
    }

    /// An empty provider with another name, to tell several apart in [`SecretMeta::source`].
    pub fn named(name: impl Into<String>) -> MemoryProvider {
        MemoryProvider {
            name: name.into(),
            secrets: HashMap::new(),
        }
    }

    /// Adds a secret, builder style.
    pub fn with(
        mut self,
        key: impl Into<String>,
        value: impl Into<SecretString>,
    ) -> MemoryProvider {
        self.insert(key, value);
        self
    }

    /// Adds or replaces a secret with metadata naming this provider.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<SecretString>) {
        let meta = SecretMeta::new(self.name.clone());
        self.secrets.insert(key.into(), Secret::new(value, meta));
    }

    /// Adds or replaces a secret with metadata of your own (version, creation time); the
    /// metadata's `source` is set to this provider's name.
    pub fn insert_secret(&mut self, key: impl Into<String>, mut secret: Secret) {
        secret.meta_mut().source.clone_from(&self.name);
        self.secrets.insert(key.into(), secret);
    }

    /// Removes a secret, returning it.
    pub fn remove(&mut self, key: &str) -> Option<Secret> {
        self.secrets.remove(key)
    }

    /// The number of secrets held.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Whether no secret is held.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

impl fmt::Debug for MemoryProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<&String> = self.secrets.keys().collect();
        keys.sort();
        f.debug_struct("MemoryProvider")
            .field("name", &self.name)
            .field("keys", &keys)
            .finish()
    }
}

impl SecretProvider for MemoryProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, key: &str) -> Result<Option<Secret>> {
        validate_key_name(key)?;
        Ok(self.secrets.get(key).cloned())
    }
}
