//! keyward's own rule-file format, parsed with the standard library only: by `build.rs` for the
//! built-in rules (`rules/*.rules`, compiled into the crate) and at run time for users' own
//! rules ([`RuleSet`](crate::guard::RuleSet)). One parser and one set of checks serve both, so
//! a rule file a user copies from `rules/` reads the same way in their program.
//!
//! The format, one rule per block:
//!
//! ```text
//! # a comment
//! [openai]                        the rule id: lowercase letters, digits and `-`
//! name = OpenAI API key
//! service = OpenAI
//! shortcut = OpenAi               built-in only: the rule is also `KeyFormat::OpenAi`
//! keywords = sk-                  literal starts for the prefilter, separated by blanks
//! prefixes = sk-proj- sk-         optional: public prefixes, shown in masks
//! shape = sk-proj-[A-Za-z0-9]{20,}
//! confidence = high               high or medium
//! entropy = 3.0                   optional: bits per character the body needs at least
//! stopwords = example test        optional: a body holding one of these is not a key
//! overrides = openai              built-in only: rules this one beats on a value both match
//! source = https://...            where the shape comes from
//! ```
//!
//! A key that has no shape of its own is found by the name it is assigned to: such a rule's
//! shape holds the name, the assignment and the key, with the key in a group named `secret`
//! (`MISTRAL_API_KEY\s*=\s*(?P<secret>[A-Za-z0-9]{32})`); only that group is reported, redacted
//! and fingerprinted, and the name stays readable.
//!
//! Built-in rules must have every field but `shortcut`, `prefixes`, `entropy`, `stopwords` and
//! `overrides`; a user's rule needs only `shape` (and `keywords`, to be cheap: see
//! [`RuleSet`](crate::guard::RuleSet)).
//!
//! Errors are plain strings that start with `file:line: rule `id``, so that `build.rs` can
//! panic with them and the crate can wrap them in its own error.

// build.rs reads the built-in side of this file, the crate the user side.
#![allow(dead_code)]

use std::collections::BTreeSet;

/// One `[id]` block as written: its fields in order, not yet checked.
#[derive(Debug, Default)]
pub(crate) struct RuleText {
    pub(crate) file: String,
    /// The line of the `[id]` header, from 1.
    pub(crate) line: usize,
    pub(crate) id: String,
    pub(crate) fields: Vec<(String, String)>,
}

impl RuleText {
    /// The value of `key`, if the rule sets it.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The blank-separated words of `key`; empty when it is not set.
    pub(crate) fn list(&self, key: &str) -> Vec<&str> {
        self.get(key)
            .map(|v| v.split_whitespace().collect())
            .unwrap_or_default()
    }

    /// `file:line: rule `id``, the start of every message about this rule.
    pub(crate) fn at(&self) -> String {
        format!("{}:{}: rule `{}`", self.file, self.line, self.id)
    }

    /// The minimum entropy, checked by [`check`].
    pub(crate) fn entropy(&self) -> Option<f64> {
        self.get("entropy").and_then(|e| e.parse().ok())
    }
}

/// Whose rules these are: the checks differ in what is required and allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// `rules/*.rules`, compiled into the crate.
    BuiltIn,
    /// A user's own rule file, loaded at run time.
    User,
}

/// Every key a rule may set.
pub(crate) const KEYS: &[&str] = &[
    "name",
    "service",
    "shortcut",
    "keywords",
    "prefixes",
    "shape",
    "confidence",
    "entropy",
    "stopwords",
    "overrides",
    "source",
];

/// The rules of one file, in order. `file` names it in messages.
///
/// # Errors
///
/// The first line that is neither blank, a comment, a `[rule-id]` nor a `key = value` of a
/// known key, or that sets a key twice.
pub(crate) fn parse(file: &str, text: &str) -> Result<Vec<RuleText>, String> {
    let mut rules: Vec<RuleText> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let number = number + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(id) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if !is_rule_id(id) {
                return Err(format!(
                    "{file}:{number}: `[{}]` is not a rule id (a-z, 0-9, -)",
                    id.chars().take(64).collect::<String>()
                ));
            }
            rules.push(RuleText {
                file: file.to_owned(),
                line: number,
                id: id.to_owned(),
                fields: Vec::new(),
            });
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!(
                "{file}:{number}: expected `key = value` or `[rule-id]`"
            ));
        };
        let (key, value) = (key.trim(), value.trim());
        if !KEYS.contains(&key) {
            return Err(format!(
                "{file}:{number}: unknown key `{}` (known: {})",
                key.chars().take(64).collect::<String>(),
                KEYS.join(", ")
            ));
        }
        let Some(rule) = rules.last_mut() else {
            return Err(format!(
                "{file}:{number}: `{key}` before the first `[rule-id]`"
            ));
        };
        if rule.get(key).is_some() {
            return Err(format!(
                "{file}:{number}: rule `{}` sets `{key}` twice",
                rule.id
            ));
        }
        rule.fields.push((key.to_owned(), value.to_owned()));
    }
    Ok(rules)
}

/// Whether `id` is a rule id: lowercase ASCII letters, digits and `-`, not empty.
pub(crate) fn is_rule_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Checks the rules of every file of one rule set together: unique ids, the fields each
/// origin requires and allows, well-formed values, and (built-in) that a rule comes before the
/// rules it overrides. The shapes are regular expressions, compiled elsewhere.
///
/// # Errors
///
/// The first problem, naming the file, the line and the rule.
pub(crate) fn check(rules: &[RuleText], origin: Origin) -> Result<(), String> {
    let mut ids = BTreeSet::new();
    let mut shortcuts = BTreeSet::new();
    for rule in rules {
        let at = rule.at();
        if !ids.insert(rule.id.as_str()) {
            return Err(format!("{at}: the id is taken by an earlier rule"));
        }
        let required: &[&str] = match origin {
            Origin::BuiltIn => &[
                "name",
                "service",
                "shape",
                "source",
                "keywords",
                "confidence",
            ],
            Origin::User => &["shape"],
        };
        for key in required {
            if rule.get(key).is_none_or(str::is_empty) {
                return Err(format!("{at} has no `{key}`"));
            }
        }
        if origin == Origin::User {
            for key in ["shortcut", "overrides"] {
                if rule.get(key).is_some() {
                    return Err(format!(
                        "{at}: `{key}` is for the built-in rules only; remove it"
                    ));
                }
            }
        }
        if let Some(shortcut) = rule.get("shortcut")
            && !shortcuts.insert(shortcut)
        {
            return Err(format!("{at}: the shortcut `{shortcut}` is taken"));
        }
        if let Some(confidence) = rule.get("confidence")
            && !matches!(confidence, "high" | "medium")
        {
            return Err(format!(
                "{at}: confidence is `high` or `medium`, not `{confidence}`"
            ));
        }
        if let Some(entropy) = rule.get("entropy") {
            match entropy.parse::<f64>() {
                Ok(bits) if bits.is_finite() && bits >= 0.0 => {}
                _ => {
                    return Err(format!(
                        "{at}: entropy `{entropy}` is not a number of bits per character, 0 or more"
                    ));
                }
            }
        }
    }
    // A rule that overrides another is tried first, so detection order says who wins.
    for (index, rule) in rules.iter().enumerate() {
        for other in rule.list("overrides") {
            let Some(position) = rules.iter().position(|r| r.id == other) else {
                return Err(format!("{}: overrides unknown rule `{other}`", rule.at()));
            };
            if position <= index {
                return Err(format!(
                    "{}: overrides `{other}`, so it must come before it",
                    rule.at()
                ));
            }
        }
    }
    Ok(())
}
