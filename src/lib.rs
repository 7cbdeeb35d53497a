//! keyward keeps API keys and other secrets safe in LLM-agent programs.
//!
//! An agent holds keys to paid APIs and private systems, and it leaks them in three ways: through
//! its output (a model repeats a key it saw), through tool calls (a key passed to an external API
//! or written to a file) and through logs. keyward loads secrets from where they live, keeps them
//! out of `Debug` output, errors and logs, tracks their age, scopes who may use them, records
//! their use, and catches them on their way out.
//!
//! # A tour
//!
//! **Load** a key through a chain of providers: the environment first, then a `.env` file, then
//! a secrets directory ([`EnvProvider`], [`DotenvProvider`], [`FileProvider`], [`ChainProvider`];
//! remote managers behind features). Sources that only some machines have are
//! [`DotenvProvider::optional`] and [`FileProvider::optional`]: absent, they serve nothing. The value is a [`SecretString`]: it prints as `***`, has no
//! `Display` and no `Serialize`, and is zeroized when dropped.
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
//! **Cache and rotate** with a [`KeyManager`]: cached reads, one provider call when many threads
//! miss at once, the last good value served for a while when the source fails, and a
//! [`RotationReport`](rotation::RotationReport) of which keys are due, with their real age where the source knows it.
//! [`KeyManager::with_key`] lends a cached key without handing out an `Arc`, for code that reads
//! it on every request (some 7 ns, a sixth of `std::env::var`). Remote managers are async: build
//! with [`KeyManager::builder_async`] and read with [`KeyManager::get_async`], the same cache
//! behind a second front door.
//!
//! **Guard** what leaves the process: [`KeyManager::redactor`] knows every value the manager
//! handed out, as written, base64-, hex-, percent- or JSON-encoded, or as a long fragment, also
//! split across streamed chunks ([`StreamRedactor`]); a [`Detector`] finds keys nobody
//! registered by their format.
//!
//! ```
//! use keyward::{KeyManager, MemoryProvider};
//!
//! # let fake = format!("sk-proj-{}", "FaKe0".repeat(8));
//! let manager = KeyManager::builder(MemoryProvider::new().with("OPENAI_API_KEY", fake.as_str())).build()?;
//! let key = manager.get("OPENAI_API_KEY")?;
//! let redactor = manager.redactor().current();
//!
//! let model_output = format!("Sure! Your key is {}.", key.secret().expose_secret());
//! assert_eq!(redactor.redact(&model_output), "Sure! Your key is [REDACTED:OPENAI_API_KEY].");
//! assert!(redactor.check(&model_output).is_err()); // or refuse to send it at all
//! # Ok::<(), keyward::Error>(())
//! ```
//!
//! **Scope and monitor**: a [`Scope`] says which keys an agent may read and what it may do with
//! them; a [`UsageLog`] records each use (never the value) and raises alerts on failures, bursts,
//! due keys and denials. Talk about a key in logs with [`mask`] and [`fingerprint`].
//!
//! **Keep keys out of the model's context** with an [`edge::Edge`]: the model sees handles,
//! [`edge::Edge::to_model`] turns keys in tool results into them, and
//! [`edge::Edge::restore`] gives a tool's arguments the real key only for the tools, and with
//! `edge-http` the hosts, the key is bound to.
//!
//! **Audit** before deploying (feature `audit`): `Audit` runs the checklist — no hardcoded keys,
//! secret files ignored by git, keys from real sources, rotation, monitoring, redacted logs,
//! scopes, alerts — and the `keyward` command (feature `cli`) runs it from a shell.
//!
//! # What is guaranteed, and what is not
//!
//! - A [`SecretString`] zeroizes its heap buffer on drop, and building one from a `String` leaves
//!   no unzeroized copy behind, even when the `String` had spare capacity. Values returned by
//!   [`EnvProvider`] and [`FileProvider`] are built the same way; a test with a sniffing global
//!   allocator checks it.
//! - No type of this crate shows a secret value in `Debug`, `Display` or an [`Error`]; a test
//!   provokes every error kind from inputs that contain a secret.
//! - Not guaranteed: copies keyward does not own. The process environment block keeps every
//!   variable for the life of the process; the OS page cache keeps file contents; other crates keep
//!   their own buffers (dotenvy's parser, HTTP clients and TLS for the remote providers, the
//!   redactor's compiled automaton tables). Memory is not locked against swap. The guard finds
//!   the encodings it knows, not every transformation of a key. See `docs/security.md` for the
//!   threat model.
//!
//! # Crate features
//!
//! The default build has no async runtime and no HTTP client.
//!
//! | Feature | What it adds |
//! | --- | --- |
//! | `serde` | `Deserialize` for [`SecretString`]; `Serialize` for metadata, reports, usage events and alerts. Secrets are never `Serialize`. |
//! | `tracing` | [`guard::RedactingMakeWriter`] (redacts every log line of `tracing-subscriber`'s fmt layer) and [`usage::TracingAlertSink`]. |
//! | `edge-http` | The agent edge's HTTP side: [`edge::Edge::prepare_request`] checks a tool's request against the keys' bindings and puts the keys in (the `url` crate only). |
//! | `reqwest` | [`edge::EdgeMiddleware`]: the agent edge as a `reqwest-middleware` middleware, for any client built on it (implies `edge-http`). |
//! | `vault` | [`provider::vault`]: HashiCorp Vault and OpenBao KV v2 (reqwest with rustls, tokio timers). |
//! | `aws` | [`provider::aws`]: AWS Secrets Manager through the official SDK (rustls). |
//! | `azure` | [`provider::azure`]: Azure Key Vault over its REST API. |
//! | `gcp` | [`provider::gcp`]: Google Cloud Secret Manager over its REST API. |
//! | `keyring` | [`provider::keyring`]: the OS keyring (macOS Keychain, Windows Credential Manager, Linux kernel keyutils). |
//! | `audit` | [`audit`]: `Audit`, the deployment checklist as code, and `Scanner`, a parallel scan of a project tree for hardcoded keys that honours `.gitignore` (the `ignore` crate). |
//! | `edge-http` | [`edge::Binding::allows`] and [`edge::Edge::prepare_request`]: the agent edge's check of a tool's HTTP request against the key's bindings (the `url` crate). |
//! | `toml` | [`guard::RuleSet`] reads rule files in the gitleaks / Betterleaks TOML format (`.gitleaks.toml`), besides keyward's own format; see `docs/rules.md` (the `toml` crate). |
//! | `testing` | [`testing`]: the provider conformance suite, for the tests of your own provider. |
//! | `cli` | The `keyward` command: `scan`, `audit`, `redact`, `mask` and `fingerprint` (clap; implies `audit`, `serde` and `toml`). |
//!
//! `docs/providers.md` compares the providers: address syntax, authentication, metadata and how
//! each is tested.
#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's code blocks run as doctests, so that the tour it shows cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

// The same for the guide to users' own detection rules.
#[cfg(doctest)]
#[doc = include_str!("../docs/rules.md")]
struct RulesDoctests;

#[cfg(feature = "audit")]
#[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
pub mod audit;
pub mod clock;
pub mod edge;
mod error;
mod format;
pub mod guard;
mod key_name;
pub mod manager;
mod mask;
pub mod provider;
pub mod rotation;
pub mod scope;
mod secret;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod usage;
mod wipe;

// The names of the tour; everything else is in the module named after its concept.
pub use error::{Error, ErrorKind, Result};
pub use format::KeyFormat;
pub use guard::{Detector, Redactor, StreamRedactor};
pub use manager::KeyManager;
pub use mask::{Fingerprint, Fingerprinter, Mask, fingerprint, mask};
pub use provider::{
    AsyncSecretProvider, AsyncSecretProviderExt, ChainProvider, DotenvProvider, EnvProvider,
    FileProvider, MemoryProvider, SecretProvider, SecretProviderExt,
};
pub use rotation::{ManagedKey, RotationPolicy};
pub use scope::Scope;
pub use secrecy::ExposeSecret;
pub use secret::{Secret, SecretMeta, SecretString};
pub use usage::UsageLog;

/// The date and time crate keyward's instants come from (`DateTime<Utc>`), re-exported so that
/// code reading [`SecretMeta::created_at`] or a [`rotation::RotationReport`] needs no chrono
/// dependency of its own.
pub use chrono;
