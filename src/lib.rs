//! keyward keeps API keys and other secrets safe in LLM-agent programs.
//!
//! An agent holds keys to paid APIs and private systems, and it leaks them in three ways: through
//! its output (a model repeats a key it saw), through tool calls (a key passed to an external API
//! or written to a file) and through logs. keyward loads secrets from where they live, keeps them
//! out of `Debug` output, errors and logs, tracks their age, and catches them on their way out.
//!
//! # A tour
//!
//! Load a key through a chain of providers: the environment first, then a `.env` file, then a
//! secrets directory. The value is a [`SecretString`]: it prints as `***`, has no `Display`, and
//! is zeroized when dropped.
//!
//! ```
//! use keyward::{ChainProvider, EnvProvider, KeyFormat, MemoryProvider, SecretProviderExt};
//!
//! # let fake = format!("sk-proj-{}", "FaKe0".repeat(8));
//! let provider = ChainProvider::new()
//!     .with(EnvProvider::new().with_prefix("KEYWARD_DOC_"))
//!     .with(MemoryProvider::named("fallback").with("OPENAI_API_KEY", fake.as_str()));
//!
//! let key = provider.require_format("OPENAI_API_KEY", &[KeyFormat::OpenAi])?;
//! assert_eq!(format!("{:?}", key.value()), "***");
//! println!("loaded {} from {} ({})", key.value().masked(), key.meta().source, key.value().fingerprint());
//! # Ok::<(), keyward::Error>(())
//! ```
//!
//! Talk about a key in logs with [`mask`] and [`fingerprint`]; never with the value.
//!
//! # What is guaranteed, and what is not
//!
//! - A [`SecretString`] zeroizes its heap buffer on drop, and building one from a `String` leaves
//!   no unzeroized copy behind, even when the `String` had spare capacity. Values returned by
//!   [`EnvProvider`] and the file provider are built the same way; a test with a sniffing global
//!   allocator checks it.
//! - No type of this crate shows a secret value in `Debug`, `Display` or an [`Error`].
//! - Not guaranteed: copies keyward does not own. The process environment block keeps every
//!   variable for the life of the process; the OS page cache keeps file contents; other crates keep
//!   their own buffers (dotenvy's parser, HTTP clients, TLS). Memory is not locked against swap.
//!   See `docs/security.md` for the threat model.
//!
//! # Crate features
//!
//! | Feature | What it adds |
//! | --- | --- |
//! | `serde` | `Deserialize` for [`SecretString`]; `Serialize`/`Deserialize` for metadata and reports. Secrets are never `Serialize`. |
//! | `keyring` | `KeyringProvider`: the OS keyring (macOS Keychain, Windows Credential Manager, Linux kernel keyutils). |
//! | `audit` | `Audit`, the deployment checklist as code, and `Scanner`, a parallel scan of a project tree for hardcoded keys that honours `.gitignore` (the `ignore` crate). |
//! | `cli` | The `keyward` command: `scan`, `audit`, `redact`, `mask` and `fingerprint` (clap; implies `audit` and `serde`). |
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "audit")]
mod audit;
mod clock;
mod error;
mod format;
mod guard;
mod manager;
mod mask;
mod provider;
mod rotation;
mod scope;
mod secret;
mod usage;

#[cfg(feature = "audit")]
#[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
pub use audit::{
    Audit, AuditItem, AuditReport, AuditStatus, Check, DEFAULT_MAX_FILE_SIZE, ScanError,
    ScanFinding, ScanProgress, ScanReport, Scanner, parse_allowlist,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorKind, Result};
pub use format::KeyFormat;
pub use guard::{Confidence, Detection, DetectionKind, Detector, DetectorBuilder, LineDetection};
pub use guard::{
    DEFAULT_FRAGMENT_LEN, DEFAULT_GRACE_PERIOD, DEFAULT_MIN_SECRET_LEN, Encoding, Encodings,
    Finding, RedactingWriter, Redactor, RedactorBuilder, Replacement, SharedRedactor,
    StreamRedactor,
};
#[cfg(feature = "tracing")]
pub use guard::{RedactedEvent, RedactingMakeWriter};
pub use manager::{KeyEvent, KeyManager, KeyManagerBuilder};
pub use mask::{Fingerprint, Fingerprinter, Mask, fingerprint, mask};
#[cfg(feature = "keyring")]
#[cfg_attr(docsrs, doc(cfg(feature = "keyring")))]
pub use provider::KeyringProvider;
#[cfg(any(feature = "vault", feature = "aws", feature = "azure", feature = "gcp"))]
pub use provider::RemotePolicy;
pub use provider::{
    AsyncSecretProvider, AsyncSecretProviderExt, BoxFuture, ChainProvider, DotenvOptions,
    DotenvProvider, EnvProvider, FileProvider, MAX_KEY_NAME_LEN, MemoryProvider, OnError,
    SecretProvider, SecretProviderExt, validate_key_name,
};
#[cfg(feature = "aws")]
pub use provider::{AwsSecretsManagerBuilder, AwsSecretsManagerProvider};
#[cfg(feature = "azure")]
pub use provider::{AzureKeyVaultBuilder, AzureKeyVaultProvider};
#[cfg(feature = "vault")]
pub use provider::{DEFAULT_VAULT_FIELD, VaultBuilder, VaultProvider};
#[cfg(feature = "gcp")]
pub use provider::{GcpSecretManagerBuilder, GcpSecretManagerProvider};
pub use provider::{READ_OPERATION, ScopedProvider};
pub use rotation::{
    CreatedAt, ManagedKey, RotationEntry, RotationPolicy, RotationReport, RotationStatus,
};
pub use scope::{KeyUse, Scope, ScopeBuilder, ScopedKey};
pub use secrecy::ExposeSecret;
pub use secret::{Secret, SecretMeta, SecretString};
#[cfg(feature = "tracing")]
pub use usage::TracingAlertSink;
pub use usage::{
    Alert, AlertRule, AlertSink, DEFAULT_ALERT_COOLDOWN, DEFAULT_CAPACITY, DEFAULT_MAX_NAMES,
    FailureClass, KEY_MANAGER_AGENT, KeyId, KeyUsage, MAX_WINDOW_CALLS, NamedUsage, Outcome,
    RotationState, Trigger, Usage, UsageEvent, UsageLog, UsageLogBuilder, UsageReport, UsageStats,
};
