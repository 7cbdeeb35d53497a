//! Leak prevention: catch secrets on their way out of the process.
//!
//! Secrets leave an agent through model output, tool-call arguments and logs. The guard checks
//! all three against every registered secret:
//!
//! - [`Redactor`] finds known secrets, as written, encoded (base64, hex, percent, JSON) or as a
//!   long enough fragment, and replaces or reports them.
//! - [`StreamRedactor`] does the same for text that arrives in pieces, holding back only the
//!   bytes that could still turn out to be a secret.
//! - [`RedactingWriter`] wraps any [`std::io::Write`]; with the `tracing` feature,
//!   [`RedactingMakeWriter`] wraps a `tracing-subscriber` writer so every formatted log line is
//!   redacted.
//! - [`Detector`] finds keys nobody registered, by their format or by a generic assignment of a
//!   high-entropy value to a name like `api_key`, and what your own rules describe ([`RuleSet`]:
//!   keyward's rule format or gitleaks' `.gitleaks.toml`, see `docs/rules.md`). With
//!   [`RedactorBuilder::with_unknown_detection`], a [`Redactor`] (and its streams) redacts what the
//!   detector finds too, looking at one line at a time: for tool output full of someone else's
//!   credentials.
//! - [`SharedRedactor`] is a handle that stays current as keys load and rotate.
//!
//! What is not guaranteed: a secret transformed in ways not listed (reversed, split by other
//! text, compressed, encrypted, or re-encoded twice, except standard base64 with its `+` and `/`
//! escaped for a URL or a JSON string) is not found; a fragment shorter than the
//! fragment length is not found; base64 leaves the one or two characters at each end of the
//! encoded secret that also depend on neighbouring bytes; base64 or hex wrapped onto lines is
//! not found when its first line has fewer than 16 base64/hex characters after a word and a
//! space (encoders write lines of 60 to 76). Detection of unregistered secrets works line by
//! line, so it misses a key spread over several lines (a PEM private key) and one cut by the
//! 64 KiB limit on a line with no space or tab before it. The compiled automaton encodes the
//! secrets in its transition tables, which are freed but not wiped when the last clone of a
//! [`Redactor`] is dropped (the secrets' own copies and the pattern lists are wiped).
//! `docs/security.md` lists every form and every bound.
//!
//! Its files are in layers, each using only those below it; the order lives in
//! `tests/integration/layers.rs`, which checks it.

mod detection_line;
mod detector;
mod encode;
mod hit;
mod overlay;
mod patterns;
mod received;
mod redactor;
mod region;
mod scan;
#[cfg(test)]
mod scan_tests;
pub(crate) mod secret_part;
mod shared;
mod sieve;
mod stream;
#[cfg(feature = "tracing")]
mod tracing;
mod wrapped;
#[cfg(test)]
mod wrapped_tests;
mod writer;

pub use detector::{
    Confidence, Detection, DetectionKind, Detector, DetectorBuilder, LineDetection, Rule, RuleSet,
    RuleSetBuilder, looks_like_key,
};
#[cfg(feature = "edge-http")]
pub(crate) use encode::base64;
pub(crate) use encode::describe_found;
pub use encode::{Encoding, Encodings};
pub use redactor::{Finding, Redactor, RedactorBuilder, Replacement};
pub use shared::SharedRedactor;
pub use stream::StreamRedactor;
#[cfg(feature = "tracing")]
pub use tracing::{RedactedEvent, RedactingMakeWriter};
pub use writer::RedactingWriter;
