//! A rule as a rule file writes it, before compiling: what keyward's format (`rule_set.rs`)
//! and the gitleaks TOML format (`gitleaks.rs`) both read into, and what `rule_set.rs`
//! compiles into a [`Rule`](super::Rule).

use std::fmt;

use crate::error::{Error, ErrorKind, quote_name};
use crate::format::rule::RuleConfidence;

/// A minimum Shannon entropy, in bits per character.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entropy {
    pub(super) bits: f64,
    /// gitleaks keeps a secret only above its `entropy`; keyward's format at or above.
    pub(super) strict: bool,
}

/// The checks of keyward's format: what the built-in rules check, as they do it.
#[derive(Debug, Clone, Default)]
pub(super) struct BuiltinChecks {
    /// Literal starts (public prefixes and keywords, as written): the body follows the longest.
    pub(super) prefixes: Vec<String>,
    /// Lowercase.
    pub(super) stopwords: Vec<String>,
}

/// What an allowlist regular expression is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "toml"), allow(dead_code))] // only gitleaks files choose a target
pub(super) enum Target {
    Secret,
    Match,
    Line,
}

/// One rule as either format gives it, before compiling.
pub(super) struct RuleSpec {
    pub(super) id: String,
    pub(super) description: String,
    pub(super) regex: String,
    pub(super) secret_group: Option<usize>,
    pub(super) keywords: Vec<String>,
    pub(super) entropy: Option<Entropy>,
    pub(super) confidence: RuleConfidence,
    pub(super) builtin_checks: Option<BuiltinChecks>,
    pub(super) path: Option<String>,
    pub(super) allowlists: Vec<AllowlistSpec>,
}

/// An allowlist as written, before compiling.
#[derive(Debug, Default)]
pub(super) struct AllowlistSpec {
    pub(super) all: bool,
    pub(super) regexes: Vec<String>,
    pub(super) target: Option<Target>,
    pub(super) stopwords: Vec<String>,
    pub(super) paths: Vec<String>,
    pub(super) rules: Vec<String>,
}

/// What one file gives: its rules and its global allowlists.
#[derive(Default)]
pub(super) struct FileSpec {
    pub(super) rules: Vec<RuleSpec>,
    pub(super) global: Vec<AllowlistSpec>,
}

/// An error about rule `id` of file `name`.
pub(super) fn rule_error(name: &str, id: &str, problem: impl fmt::Display) -> Error {
    Error::new(
        ErrorKind::Parse,
        format!("{name}: rule {}: {problem}", quote_name(id)),
    )
}
