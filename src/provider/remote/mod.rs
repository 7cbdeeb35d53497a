//! Providers for remote secret managers, behind the `vault`, `aws`, `azure` and `gcp` features.
//!
//! They implement [`AsyncSecretProvider`](crate::AsyncSecretProvider) natively and share one
//! [`RemotePolicy`] for timeouts and retries, so that every backend fails the same way.

#[cfg(feature = "aws")]
mod aws;
#[cfg(feature = "azure")]
mod azure;
#[cfg(any(feature = "azure", feature = "gcp"))]
mod bearer;
#[cfg(feature = "gcp")]
mod crc32c;
#[cfg(feature = "gcp")]
mod gcp;
#[cfg(feature = "gcp")]
mod gcp_credentials;
mod policy;
#[cfg(feature = "vault")]
mod vault;

#[cfg(feature = "aws")]
pub use aws::{AwsSecretsManagerBuilder, AwsSecretsManagerProvider};
#[cfg(feature = "azure")]
pub use azure::{AzureKeyVaultBuilder, AzureKeyVaultProvider};
#[cfg(feature = "gcp")]
pub use gcp::{GcpSecretManagerBuilder, GcpSecretManagerProvider};
pub use policy::RemotePolicy;
#[cfg(feature = "vault")]
pub use vault::{DEFAULT_VAULT_FIELD, VaultBuilder, VaultProvider};
