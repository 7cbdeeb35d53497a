//! The rules behind `KeyFormat`: one per key format, written as data in `rules/*.rules` (one
//! file per service family) and compiled into [`RULES`] by `build.rs`.

/// How sure a match of a rule's shape makes the detector, before its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleConfidence {
    /// A shape others share (JSON Web Tokens).
    Medium,
    /// A distinctive prefix or structure.
    High,
}

/// One key format, as its rule file writes it.
#[derive(Debug)]
pub(crate) struct Rule {
    /// Stable, lowercase, such as `openai` or `slack-webhook`.
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) service: &'static str,
    /// The `KeyFormat` constant naming this rule, or empty.
    pub(crate) shortcut: &'static str,
    /// Literal starts of every key, for the prefilter.
    pub(crate) keywords: &'static [&'static str],
    /// Public prefixes, longest first where one begins another.
    pub(crate) prefixes: &'static [&'static str],
    /// The whole key, unanchored.
    pub(crate) shape: &'static str,
    pub(crate) confidence: RuleConfidence,
    /// Bits per character the key without its prefix needs at least.
    pub(crate) min_entropy: Option<f64>,
    /// A key whose body holds one of these (any case) is an example, not a key.
    pub(crate) stopwords: &'static [&'static str],
    #[cfg_attr(not(test), allow(dead_code))] // read by the tests that check the winners
    /// Ids of rules this one beats on a value both match; it comes before them in `RULES`.
    pub(crate) overrides: &'static [&'static str],
    /// Where the shape comes from.
    pub(crate) source: &'static str,
    #[cfg_attr(not(test), allow(dead_code))] // read by the test that writes docs/formats.md
    /// The rule file, such as `rules/ai.rules`.
    pub(crate) file: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/rules.rs"));

/// The index in [`RULES`] of the rule with `id`; a compile error in a constant if there is none.
pub(crate) const fn index_of(id: &str) -> u16 {
    let mut index = 0;
    while index < RULE_COUNT {
        if eq(RULES[index].id.as_bytes(), id.as_bytes()) {
            #[allow(clippy::cast_possible_truncation)] // `u16` holds every index: see below
            return index as u16;
        }
        index += 1;
    }
    panic!("no rule with this id in rules/*.rules");
}

const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

// A `KeyFormat` is a `u16` index.
const _: () = assert!(RULE_COUNT <= u16::MAX as usize);
