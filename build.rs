//! Compiles the key-format rules in `rules/*.rules` into a Rust table (`$OUT_DIR/rules.rs`,
//! included by `src/format/rule.rs`).
//!
//! The rule files are plain text, parsed here with the standard library only, so the crate gains
//! neither a TOML dependency nor a build-dependency. A rule file that is not well formed stops
//! the build with the file, the line and what is wrong. The regular expressions themselves are
//! compiled by the tests (`every_pattern_compiles`), not here: that would need `regex` as a
//! build-dependency, compiled a second time for the build script.
//!
//! The format, one rule per block:
//!
//! ```text
//! # a comment
//! [openai]                        the rule id: lowercase letters, digits and `-`
//! name = OpenAI API key
//! service = OpenAI
//! shortcut = OpenAi               optional: the rule is also `KeyFormat::OpenAi`
//! keywords = sk-                  literal starts for the prefilter, separated by blanks
//! prefixes = sk-proj- sk-         optional: public prefixes, shown in masks
//! shape = sk-proj-[A-Za-z0-9]{20,}
//! confidence = high               high or medium
//! entropy = 3.0                   optional: bits per character the body needs at least
//! stopwords = example test        optional: a body holding one of these is not a key
//! overrides = openai              optional: rules this one beats on a value both match
//! source = https://...            where the shape comes from
//! ```

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

/// The rule files, in detection order. One per service family.
const FILES: &[&str] = &[
    "ai.rules",
    "agents.rules",
    "cloud.rules",
    "source.rules",
    "messaging.rules",
    "payments.rules",
    "saas.rules",
    "keys.rules",
];

#[derive(Default)]
struct RuleText {
    file: String,
    line: usize,
    id: String,
    fields: Vec<(String, String)>,
}

impl RuleText {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn require(&self, key: &str) -> &str {
        self.get(key).unwrap_or_else(|| {
            panic!(
                "{}:{}: rule `{}` has no `{key}`",
                self.file, self.line, self.id
            )
        })
    }

    fn list(&self, key: &str) -> Vec<&str> {
        self.get(key)
            .map(|v| v.split_whitespace().collect())
            .unwrap_or_default()
    }
}

const KEYS: &[&str] = &[
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

fn parse(file: &str, text: &str, rules: &mut Vec<RuleText>) {
    for (number, line) in text.lines().enumerate() {
        let number = number + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(id) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let valid = !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            assert!(
                valid,
                "{file}:{number}: `[{id}]` is not a rule id (a-z, 0-9, -)"
            );
            rules.push(RuleText {
                file: file.to_owned(),
                line: number,
                id: id.to_owned(),
                fields: Vec::new(),
            });
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            panic!("{file}:{number}: expected `key = value` or `[rule-id]`");
        };
        let (key, value) = (key.trim(), value.trim());
        assert!(
            KEYS.contains(&key),
            "{file}:{number}: unknown key `{key}` (known: {})",
            KEYS.join(", ")
        );
        let Some(rule) = rules.last_mut() else {
            panic!("{file}:{number}: `{key}` before the first `[rule-id]`");
        };
        assert!(
            rule.get(key).is_none(),
            "{file}:{number}: rule `{}` sets `{key}` twice",
            rule.id
        );
        rule.fields.push((key.to_owned(), value.to_owned()));
    }
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    println!("cargo::rerun-if-changed=rules");
    let mut rules = Vec::new();
    for file in FILES {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
        parse(&format!("rules/{file}"), &text, &mut rules);
    }

    let mut ids = BTreeSet::new();
    let mut shortcuts = BTreeSet::new();
    for rule in &rules {
        let at = format!("{}:{}: rule `{}`", rule.file, rule.line, rule.id);
        assert!(ids.insert(rule.id.as_str()), "{at}: the id is taken");
        if let Some(shortcut) = rule.get("shortcut") {
            assert!(shortcuts.insert(shortcut), "{at}: shortcut taken");
        }
        assert!(!rule.list("keywords").is_empty(), "{at}: no keywords");
        for key in ["name", "service", "shape", "source"] {
            rule.require(key);
        }
        let confidence = rule.require("confidence");
        assert!(
            matches!(confidence, "high" | "medium"),
            "{at}: confidence is `high` or `medium`, not `{confidence}`"
        );
        if let Some(entropy) = rule.get("entropy") {
            let bits: f64 = entropy
                .parse()
                .unwrap_or_else(|_| panic!("{at}: entropy `{entropy}` is not a number"));
            assert!(bits.is_finite() && bits >= 0.0, "{at}: entropy below 0");
        }
    }
    // A rule that overrides another is tried first, so detection order says who wins.
    for (index, rule) in rules.iter().enumerate() {
        for other in rule.list("overrides") {
            let position = rules.iter().position(|r| r.id == other);
            let Some(position) = position else {
                panic!(
                    "{}:{}: rule `{}` overrides unknown rule `{other}`",
                    rule.file, rule.line, rule.id
                );
            };
            assert!(
                position > index,
                "{}:{}: rule `{}` overrides `{other}`, so it must come before it",
                rule.file,
                rule.line,
                rule.id
            );
        }
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Generated by build.rs from rules/*.rules; do not edit."
    );
    let _ = writeln!(out, "pub(crate) static RULES: [Rule; RULE_COUNT] = [");
    let strs = |items: Vec<&str>| {
        let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
        format!("&[{}]", quoted.join(", "))
    };
    for rule in &rules {
        // Checked to parse above; `{:?}` of an `f64` always has a decimal point.
        let entropy = rule
            .get("entropy")
            .and_then(|e| e.parse::<f64>().ok())
            .map_or("None".to_owned(), |bits| format!("Some({bits:?})"));
        let confidence = match rule.require("confidence") {
            "high" => "RuleConfidence::High",
            _ => "RuleConfidence::Medium",
        };
        let _ = writeln!(
            out,
            "    Rule {{ id: {:?}, name: {:?}, service: {:?}, shortcut: {:?}, keywords: {}, \
             prefixes: {}, shape: {:?}, confidence: {confidence}, min_entropy: {entropy}, \
             stopwords: {}, overrides: {}, source: {:?}, file: {:?} }},",
            rule.id,
            rule.require("name"),
            rule.require("service"),
            rule.get("shortcut").unwrap_or(""),
            strs(rule.list("keywords")),
            strs(rule.list("prefixes")),
            rule.require("shape"),
            strs(rule.list("stopwords")),
            strs(rule.list("overrides")),
            rule.require("source"),
            rule.file,
        );
    }
    let _ = writeln!(out, "];");
    let _ = writeln!(out, "pub(crate) const RULE_COUNT: usize = {};", rules.len());
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out_dir).join("rules.rs"), out).expect("write rules.rs");
}
