//! keyward keeps API keys and other secrets safe in LLM-agent programs.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod error;
mod format;
mod mask;
mod provider;
mod secret;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorKind, Result};
pub use format::KeyFormat;
pub use mask::{Fingerprint, Fingerprinter, Mask, fingerprint, mask};
#[cfg(any(feature = "vault", feature = "aws", feature = "azure", feature = "gcp"))]
pub use provider::RemotePolicy;
pub use provider::{
    AsyncSecretProvider, AsyncSecretProviderExt, BoxFuture, ChainProvider, EnvProvider,
    MAX_KEY_NAME_LEN, MemoryProvider, OnError, SecretProvider, SecretProviderExt,
    validate_key_name,
};
#[cfg(feature = "azure")]
pub use provider::{AzureKeyVaultBuilder, AzureKeyVaultProvider};
#[cfg(feature = "vault")]
pub use provider::{DEFAULT_VAULT_FIELD, VaultBuilder, VaultProvider};
#[cfg(feature = "gcp")]
pub use provider::{GcpSecretManagerBuilder, GcpSecretManagerProvider};
pub use secrecy::ExposeSecret;
pub use secret::{Secret, SecretMeta, SecretString};
