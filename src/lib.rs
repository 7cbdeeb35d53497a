//! keyward keeps API keys and other secrets safe in LLM-agent programs.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod clock;
mod error;
mod format;
mod guard;
mod mask;
mod provider;
mod secret;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorKind, Result};
pub use format::KeyFormat;
pub use guard::{
    DEFAULT_FRAGMENT_LEN, DEFAULT_GRACE_PERIOD, DEFAULT_MIN_SECRET_LEN, Encoding, Encodings,
    Finding, RedactingWriter, Redactor, RedactorBuilder, Replacement, SharedRedactor,
    StreamRedactor,
};
#[cfg(feature = "tracing")]
pub use guard::{RedactedEvent, RedactingMakeWriter};
pub use mask::{Fingerprint, Fingerprinter, Mask, fingerprint, mask};
pub use provider::{
    ChainProvider, EnvProvider, MAX_KEY_NAME_LEN, MemoryProvider, OnError, SecretProvider,
    SecretProviderExt, validate_key_name,
};
pub use secrecy::ExposeSecret;
pub use secret::{Secret, SecretMeta, SecretString};
