//! keyward keeps API keys and other secrets safe in LLM-agent programs.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod error;
mod format;
mod mask;
mod provider;
mod scope;
mod secret;
mod usage;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorKind, Result};
pub use format::KeyFormat;
pub use mask::{Fingerprint, Fingerprinter, Mask, fingerprint, mask};
pub use provider::{
    ChainProvider, EnvProvider, MAX_KEY_NAME_LEN, MemoryProvider, OnError, SecretProvider,
    SecretProviderExt, validate_key_name,
};
pub use provider::{READ_OPERATION, ScopedProvider};
pub use scope::{KeyUse, Scope, ScopeBuilder, ScopedKey};
pub use secrecy::ExposeSecret;
pub use secret::{Secret, SecretMeta, SecretString};
#[cfg(feature = "tracing")]
pub use usage::TracingAlertSink;
pub use usage::{
    Alert, AlertRule, AlertSink, DEFAULT_ALERT_COOLDOWN, DEFAULT_CAPACITY, DEFAULT_MAX_NAMES,
    FailureClass, KeyId, KeyUsage, MAX_WINDOW_CALLS, NamedUsage, Outcome, RotationState, Trigger,
    Usage, UsageEvent, UsageLog, UsageLogBuilder, UsageReport, UsageStats,
};
