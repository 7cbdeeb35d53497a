//! Finding secrets nobody registered: keys of a known format, and high-entropy values assigned to
//! names such as `api_key` or `password`.
//!
//! Two prefilters find every place worth a closer look: one the literal starts of the rule
//! set's key formats (`sk-`, `ghp_`, `AKIA`, `-----BEGIN `, `eyJ` ...: `keywords.rs`, Teddy
//! searchers whose buckets are planned for ordinary text), one secret-sounding words (`key`,
//! `token`, `secret`, `pass` ... in lower, upper and capitalized case). Only there does the
//! detector run a format's regular expression, anchored and on a bounded window, or parse an
//! assignment by hand. Both are case-sensitive, so they run on aho-corasick's vectorized Teddy
//! searcher (one case-insensitive automaton over both was three times slower on source code,
//! where `key` and `token` are everywhere).
//!
//! The cost stays linear in the length of the text, whatever the text: the work per candidate
//! is bounded by a window (1 KiB after a keyword, 16 KiB for a PEM block, 515 bytes for an
//! assigned value), and what must be read further is read once per scan: runs of PEM
//! characters, names, the text between detections (for line starts: a `LineCursor`; for
//! line numbers in reports: `LineNumbers`). Where one candidate failed, later keywords inside it that would fail the same
//! way are skipped (`dead_until`), so text made of one keyword over and over does not read a
//! window per keyword where it need not. `linear_tests.rs` counts the bytes read on adversarial
//! lines at several sizes.
//!
//! Users' own rules ([`RuleSet`], given to [`DetectorBuilder::with_rules`]) run beside the
//! built-in ones: one more case-insensitive automaton over their keywords, then each rule's
//! regular expression on the lines near its keywords (see [`RuleSet`] for the cost).
//!
//! One concept per file in `detector/`: `detection.rs` the results, `builder.rs` the settings,
//! `keywords.rs` (with `byte_frequency.rs`) the prefilter of the formats' literals,
//! `formats.rs` the keys of a known format, `assignment.rs` the generic rule,
//! `plausibility.rs` the heuristics both use to reject what is not a secret, `line_cursor.rs`
//! line starts, lines and columns, `text.rs` the byte class they share, `work.rs` the byte count the
//! linearity tests read; for users' rules, `rule_spec.rs` a rule as written, `gitleaks.rs` the
//! TOML format, `rule_set.rs` the compiled rules and keyward's format, `custom.rs` the matching.

mod assignment;
mod builder;
mod byte_frequency;
mod custom;
mod detection;
mod formats;
#[cfg(feature = "toml")]
mod gitleaks;
mod keywords;
mod line_cursor;
mod plausibility;
mod probes;
mod rule_set;
mod rule_spec;
mod text;
mod work;

pub use builder::DetectorBuilder;
use detection::without_overlaps;
pub use detection::{Confidence, Detection, DetectionKind, LineDetection};
use line_cursor::LineNumbers;
pub use rule_set::{Rule, RuleSet, RuleSetBuilder};
use work::examined;

use crate::format::KeyFormat;

/// Finds secrets nobody registered: keys of the [`KeyFormat`]s, and high-entropy values assigned
/// to secret-sounding names.
///
/// A detector is a small immutable configuration over automata and regular expressions compiled
/// once per process; it is cheap to create, clone and share between threads.
///
/// ```
/// use keyward::{Detector, KeyFormat};
/// use keyward::guard::Confidence;
///
/// let key = format!("ghp_{}", "a1B2".repeat(9));
/// let text = format!("export GITHUB_TOKEN={key}\nAPI_SECRET = \"Zr4_pQ8-wX2mK9vT\"\n");
/// let found = Detector::new().find(&text);
/// assert_eq!(found.len(), 2);
/// assert_eq!(found[0].format(), Some(KeyFormat::GitHub));
/// assert_eq!(found[0].confidence(), Confidence::High);
/// assert_eq!(&text[found[0].range()], key);
/// assert_eq!(found[1].format(), None); // the generic assignment rule
/// assert_eq!(&text[found[1].range()], "Zr4_pQ8-wX2mK9vT");
/// // Debug shows a masked preview, never the secret
/// assert!(!format!("{found:?}").contains(&key));
/// ```
///
/// What it ignores, to keep false positives down: a key glued to a longer word or base64 blob
/// (`task-...`, image data), placeholders (`sk-xxxx...`, `your-key-here`, `<API_KEY>`, `${VAR}`,
/// `{{key}}`, `changeme`, `EXAMPLE`, runs of one character), sequences (`abcdef`, `123456`), UUIDs,
/// hashes on lock-file lines (`checksum = "..."`, `"integrity": "sha512-..."`), and values of
/// generic assignments that look like code (identifiers, function calls, paths, URLs). Generic
/// values made only of letters are ignored too, which misses passphrases of plain words.
///
/// A bare value (not quoted) assigned in code or configuration (`token = v`, `key: v`) must end
/// its line; written `NAME=v`, with nothing in between, as in shell lines, `.env` files, log
/// fields and query strings, it may be followed by a blank, `;`, `,`, `|` or `&` and more text,
/// so every assignment of `export A_KEY=v1; B_TOKEN=v2 ./run.sh` is found.
///
/// The work is linear in the length of the text, however long its lines and however many
/// candidates they hold: counting each regular expression as reading its whole window (it
/// stops sooner), at most about 350 bytes are read per byte of text, the worst case being a
/// three-byte keyword over and over (`sk-sk-sk-...`); ordinary text costs a few.
#[derive(Debug, Clone)]
pub struct Detector {
    /// Bit `i % 64` of word `i / 64` enables `KeyFormat::ALL[i]`.
    formats: [u64; FORMAT_WORDS],
    generic: bool,
    min_entropy: f64,
    min_generic_len: usize,
    min_confidence: Confidence,
    /// The user's own rules, if any.
    rules: Option<RuleSet>,
}

/// Whether `text`, typed where a name or a fingerprint belongs, looks like a key itself: the
/// default [`Detector`] finds one in it. A message about such text must not repeat it: someone
/// may have passed `--env "$OPENAI_API_KEY"` for `--env OPENAI_API_KEY`, written a key where a
/// `.env` line's name goes, or pasted a key into an allowlist of fingerprints.
///
/// ```
/// use keyward::guard::looks_like_key;
///
/// assert!(looks_like_key(&format!("ghp_{}", "a1B2".repeat(9))));
/// assert!(!looks_like_key("GITHUB_TOKEN"));
/// ```
pub fn looks_like_key(text: &str) -> bool {
    Detector::new().is_match(text)
}

/// The words of `Detector::formats`: one bit per format.
const FORMAT_WORDS: usize = KeyFormat::ALL.len().div_ceil(64);

impl Default for Detector {
    fn default() -> Self {
        Detector::new()
    }
}

impl Detector {
    /// A detector for every known format and the generic assignment rule, with the default
    /// thresholds of [`DetectorBuilder`].
    pub fn new() -> Detector {
        builder::DEFAULT
    }

    /// A builder to choose formats, switch the generic rule, or change its thresholds.
    pub fn builder() -> DetectorBuilder {
        DetectorBuilder::new()
    }

    /// Every secret in `text`, in order, without overlaps.
    ///
    /// When a key of a known format is also the value of a generic assignment, the format wins.
    pub fn find(&self, text: &str) -> Vec<Detection> {
        self.find_at(text, None)
    }

    /// [`find`](Detector::find) in a file at `path` (relative, `/`-separated), for the user's
    /// rules and allowlists that name paths.
    pub(crate) fn find_at(&self, text: &str, path: Option<&str>) -> Vec<Detection> {
        let mut keys = self.find_keys(text);
        if let Some(rules) = &self.rules {
            keys = merge_keys(keys, rules.find(text, path));
        }
        let generic = if self.generic {
            examined(text.len());
            self.find_assignments(text, &keys)
        } else {
            Vec::new()
        };
        let mut found = resolve_overlaps(keys, generic);
        found.retain(|d| d.confidence >= self.min_confidence);
        if let Some(rules) = &self.rules {
            // A gitleaks file's global allowlists cover the built-in rules too, as they cover
            // gitleaks' default rules when a file extends them.
            rules.excuse_built_in(text, path, &mut found);
        }
        found
    }

    /// The start of every keyword in `text` that a built-in rule or the generic rule starts
    /// from, in order; `None` with the user's rules, which may have no keyword.
    ///
    /// For a search line by line: a line that holds none has no detection. No keyword holds a
    /// line break, so a line searched alone holds the keywords found in it within the whole
    /// text (the cut of an over-long line, which is no line break, is the caller's to mind).
    pub(crate) fn keyword_starts(&self, text: &str) -> Option<Vec<usize>> {
        if self.rules.is_some() {
            return None;
        }
        let mut starts = Vec::new();
        Detector::push_keyword_starts(text.as_bytes(), &mut starts);
        if self.generic {
            Detector::push_name_keyword_starts(text, &mut starts);
            starts.sort_unstable();
        }
        Some(starts)
    }

    /// Whether `text` contains a secret this detector finds.
    pub fn is_match(&self, text: &str) -> bool {
        !self.find(text).is_empty()
    }

    /// Like [`find`](Detector::find), with the line and column of each detection.
    ///
    /// The text is scanned whole, not line by line, so a PEM key spanning lines is found; line
    /// numbers are then counted once over the text.
    ///
    /// ```
    /// use keyward::Detector;
    ///
    /// let text = format!("[default]\nregion = eu-west-1\nkey = AKIA{}\n", "Q7ZR3MXK2WPL5TYB");
    /// let found = Detector::new().find_with_lines(&text);
    /// assert_eq!((found[0].line(), found[0].column()), (3, 7));
    /// ```
    pub fn find_with_lines(&self, text: &str) -> Vec<LineDetection> {
        self.find_with_lines_at(text, None)
    }

    /// [`find_with_lines`](Detector::find_with_lines) in a file at `path`, as
    /// [`find_at`](Detector::find_at).
    pub(crate) fn find_with_lines_at(&self, text: &str, path: Option<&str>) -> Vec<LineDetection> {
        let mut numbers = LineNumbers::new(text);
        self.find_at(text, path)
            .into_iter()
            .map(|detection| {
                let (line, column) = numbers.of(detection.range.start);
                LineDetection {
                    line,
                    column,
                    detection,
                }
            })
            .collect()
    }
}

/// Merges the keys of known formats and the matches of the user's rules (each in order, without
/// overlaps): on an overlap the earlier start wins, then the longer, then the known format.
fn merge_keys(keys: Vec<Detection>, rules: Vec<Detection>) -> Vec<Detection> {
    if rules.is_empty() {
        return keys;
    }
    // Known formats listed first: one wins over a rule's match of the same range.
    without_overlaps(keys.into_iter().chain(rules).collect())
}

/// Merges the keys and the generic assignments (each in order, without overlaps) and drops
/// overlaps between them; a key of a known format beats a generic assignment.
fn resolve_overlaps(keys: Vec<Detection>, generic: Vec<Detection>) -> Vec<Detection> {
    let mut kept: Vec<Detection> = Vec::with_capacity(keys.len() + generic.len());
    let mut keys = keys.into_iter().peekable();
    let mut generic = generic.into_iter().peekable();
    // In order of start, a key before a generic assignment at the same start.
    let merged = std::iter::from_fn(|| match (keys.peek(), generic.peek()) {
        (Some(key), Some(assignment)) if assignment.range.start < key.claimed.start => {
            generic.next()
        }
        (Some(_), _) => keys.next(),
        (None, _) => generic.next(),
    });
    for detection in merged {
        match kept.last_mut() {
            Some(last) if detection.claimed.start < last.claimed.end => {
                let last_is_generic = last.kind == DetectionKind::GenericAssignment;
                if last_is_generic && detection.kind != DetectionKind::GenericAssignment {
                    *last = detection;
                }
            }
            _ => kept.push(detection),
        }
    }
    kept
}

#[cfg(test)]
mod assignment_tests;
#[cfg(test)]
mod custom_tests;
#[cfg(all(test, feature = "toml"))]
mod gitleaks_tests;
#[cfg(test)]
mod linear_tests;
#[cfg(test)]
mod rules_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detections_are_send_sync_and_detectors_cheap_to_share() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Detector>();
        assert_send_sync::<Detection>();
        assert_send_sync::<LineDetection>();
        assert_send_sync::<DetectorBuilder>();
    }
}
