//! Providers for remote secret managers, behind the `vault` and `aws` features.
//!
//! They implement [`AsyncSecretProvider`](crate::AsyncSecretProvider) natively and share one
//! [`RemotePolicy`] for timeouts and retries, so that every backend fails the same way.

mod policy;
#[cfg(feature = "vault")]
mod vault;

pub use policy::RemotePolicy;
#[cfg(feature = "vault")]
pub use vault::{DEFAULT_VAULT_FIELD, VaultBuilder, VaultProvider};
