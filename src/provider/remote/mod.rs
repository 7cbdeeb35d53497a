//! Providers for remote secret managers, behind the `vault` and `aws` features.
//!
//! They implement [`AsyncSecretProvider`](crate::AsyncSecretProvider) natively and share one
//! [`RemotePolicy`] for timeouts and retries, so that every backend fails the same way.

#[cfg(feature = "aws")]
mod aws;
mod policy;
#[cfg(feature = "vault")]
mod vault;

#[cfg(feature = "aws")]
pub use aws::{AwsSecretsManagerBuilder, AwsSecretsManagerProvider};
pub use policy::RemotePolicy;
#[cfg(feature = "vault")]
pub use vault::{DEFAULT_VAULT_FIELD, VaultBuilder, VaultProvider};
