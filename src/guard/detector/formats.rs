//! Keys of a known format: where to look (the prefilter over the formats' literal starts) and
//! how to confirm a key there (each format's regular expression, anchored on a bounded window,
//! with the boundary, placeholder and lock-file checks).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{LazyLock, OnceLock};

use regex::Regex;

use super::Detector;
use super::detection::{Confidence, Detection, DetectionKind};
use super::keywords::KeywordSearcher;
use super::line_cursor::LineCursor;
use super::plausibility::{is_placeholder, is_repetitive, shannon_entropy};
use super::text::is_word_byte;
use super::work::examined;
use crate::format::KeyFormat;
use crate::format::rule::RuleConfidence;

impl Detector {
    /// Keys of the enabled formats, in order.
    pub(super) fn find_keys(&self, text: &str) -> Vec<Detection> {
        // Each of the prefilter's searchers reads the text once.
        examined(text.len() * FORMAT_KEYWORDS.searcher.passes());
        let mut found: Vec<Detection> = Vec::new();
        let mut dead_until = [0; KeyFormat::ALL.len()];
        let mut pem_run = PemRun::default();
        let mut lines = LineCursor::new(text);
        for (start, literal) in FORMAT_KEYWORDS.searcher.hits(text.as_bytes()) {
            // a keyword inside the last key is part of it
            if found.last().is_some_and(|last| start < last.claimed.end) {
                continue;
            }
            let formats = &FORMAT_KEYWORDS.formats[literal];
            if let Some(detection) = self.match_format(
                text,
                start,
                formats,
                &mut dead_until,
                &mut pem_run,
                &mut lines,
            ) {
                found.push(detection);
            }
        }
        found
    }

    /// Appends the start of every keyword hit of the built-in formats in `text`: where
    /// [`find_keys`](Detector::find_keys) looks, and all it looks at.
    pub(super) fn push_keyword_starts(text: &[u8], starts: &mut Vec<usize>) {
        starts.extend(FORMAT_KEYWORDS.searcher.hits(text).map(|(start, _)| start));
    }

    fn is_enabled(&self, index: usize) -> bool {
        self.formats[index / 64] & (1 << (index % 64)) != 0
    }

    /// A key of one of `formats` (indices into `KeyFormat::ALL`) starting at `start`.
    ///
    /// `dead_until[i]` is where the run of key characters in which format `i` last failed ends:
    /// a later keyword inside that run fails the same way. Skipping it keeps text made of
    /// repeated keywords (`sk-proj-sk-proj-...`, PEM headers without a footer) linear.
    fn match_format(
        &self,
        text: &str,
        start: usize,
        formats: &[usize],
        dead_until: &mut [usize],
        pem_run: &mut PemRun,
        lines: &mut LineCursor<'_>,
    ) -> Option<Detection> {
        for &index in formats {
            if !self.is_enabled(index) || start < dead_until[index] {
                continue;
            }
            let format = KeyFormat::ALL[index];
            let scanner = scanner(index);
            if scanner.needs_boundaries && !boundary_before(text.as_bytes(), start) {
                // Inside a longer word or a base64 blob: `task-...`, image data.
                return None;
            }
            let mut window_end = floor_char_boundary(text, start + scanner.max_len);
            if format == KeyFormat::PemPrivateKey {
                pem_run.update(text, start);
                if pem_run.last_footer.is_none_or(|footer| footer < start) {
                    dead_until[index] = pem_run.end;
                    continue;
                }
                window_end = window_end.min(pem_run.end);
            }
            // Where a failed token's first part ends (see `jwt_parts`).
            let mut first_part_end = window_end;
            if format == KeyFormat::Jwt {
                // Read no further than the token can reach: a window per `eyJ` of 16 KiB
                // would make a line of short `eyJ...` words quadratic.
                (first_part_end, window_end) = jwt_parts(text, start, window_end);
            }
            // What the regular expression may read, at most.
            examined(window_end - start);
            let Some((matched, secret)) = scanner.find(&text[start..window_end]) else {
                match format {
                    KeyFormat::PemPrivateKey => dead_until[index] = window_end,
                    KeyFormat::Jwt => dead_until[index] = first_part_end,
                    _ => {}
                }
                continue;
            };
            let end = start + matched.end;
            if scanner.needs_boundaries && !boundary_after(text.as_bytes(), end) {
                dead_until[index] = end;
                continue;
            }
            // The key itself: for a rule that finds it by its name, what follows the name.
            let key = start + secret.start..start + secret.end;
            let value = &text[key.clone()];
            examined(value.len());
            let Some(confidence) = format_confidence(format, value) else {
                // A keyword inside a placeholder is part of it (`tfp_x-tfp_x-...`): trying each
                // would read a window per keyword.
                dead_until[index] = end;
                continue;
            };
            if lines.on_lock_file_hash_line(start) {
                return None;
            }
            return Some(
                Detection::new(text, key, DetectionKind::Format(format), confidence)
                    .claiming(start..end),
            );
        }
        None
    }
}

/// The literal starts of key formats, each with the formats to try where it occurs.
struct FormatKeywords {
    searcher: KeywordSearcher,
    /// Per literal, indices into `KeyFormat::ALL`, most specific first.
    formats: Vec<Vec<usize>>,
}

static FORMAT_KEYWORDS: LazyLock<FormatKeywords> = LazyLock::new(|| {
    // Each keyword with the formats it starts, in the order of `ALL`.
    let mut literals: Vec<&'static str> = Vec::new();
    let mut formats_of: HashMap<&'static str, Vec<usize>> = HashMap::new();
    for (i, format) in KeyFormat::ALL.iter().enumerate() {
        for &literal in format.keywords() {
            let formats = formats_of.entry(literal).or_insert_with(|| {
                literals.push(literal);
                Vec::new()
            });
            if formats.last() != Some(&i) {
                formats.push(i);
            }
        }
    }
    // `sk-ant-` is also where an `sk-` key would start: try every format whose keyword begins
    // the literal, most specific first as `ALL` orders them.
    let formats = literals
        .iter()
        .map(|literal| {
            let mut formats: Vec<usize> = (1..=literal.len())
                .filter_map(|len| literal.get(..len).and_then(|start| formats_of.get(start)))
                .flatten()
                .copied()
                .collect();
            formats.sort_unstable();
            formats.dedup();
            formats
        })
        .collect();
    FormatKeywords {
        searcher: KeywordSearcher::new(&literals),
        formats,
    }
});

struct Scanner {
    /// The format's pattern, anchored at the keyword.
    regex: Regex,
    /// How far past the keyword a key can reach; bounds the work per keyword.
    max_len: usize,
    /// Whether a key must not be glued to the word before or after it.
    needs_boundaries: bool,
    /// The `secret` group of a rule that finds a key by the name it is assigned to
    /// (`MISTRAL_API_KEY=...`): the key is that group, not the whole match.
    secret: Option<usize>,
}

impl Scanner {
    /// The match at the start of `window` and, within it, the key.
    fn find(&self, window: &str) -> Option<(Range<usize>, Range<usize>)> {
        match self.secret {
            None => self.regex.find(window).map(|m| (m.range(), m.range())),
            Some(group) => {
                let captures = self.regex.captures(window)?;
                Some((captures.get(0)?.range(), captures.get(group)?.range()))
            }
        }
    }
}

/// Each format's scanner, compiled the first time one of its keywords occurs: a rule set of
/// hundreds of regular expressions costs nothing, in time or memory, for the rules whose
/// keywords a program's text never holds.
static SCANNERS: [OnceLock<Scanner>; KeyFormat::ALL.len()] =
    [const { OnceLock::new() }; KeyFormat::ALL.len()];

fn scanner(index: usize) -> &'static Scanner {
    SCANNERS[index].get_or_init(|| {
        let format = KeyFormat::ALL[index];
        let pem = format == KeyFormat::PemPrivateKey;
        // An 8192-bit RSA key is about 6.5 KB of PEM. A JWT carries its claims: access tokens
        // of Microsoft Entra ID and of Kubernetes service accounts run 1 to 3 KB, and claims
        // of groups and roles grow them further.
        let max_len = if pem || format == KeyFormat::Jwt {
            16 * 1024
        } else {
            1024
        };
        #[allow(clippy::expect_used)] // constant patterns, checked by format's tests
        let regex = Regex::new(&format!(r"\A(?:{})", format.pattern()))
            .expect("key format patterns compile");
        let secret = regex
            .capture_names()
            .position(|name| name == Some("secret"));
        Scanner {
            secret,
            regex,
            max_len,
            needs_boundaries: !pem,
        }
    })
}

/// Whether a key may start at `start`: not inside a longer word, except after an escape such as
/// the `\n` of a JSON string.
fn boundary_before(bytes: &[u8], start: usize) -> bool {
    match start.checked_sub(1).map(|i| bytes[i]) {
        None => true,
        Some(byte) if !is_word_byte(byte) => true,
        Some(byte) => byte.is_ascii_alphabetic() && start >= 2 && bytes[start - 2] == b'\\',
    }
}

/// Whether a key may end at `end`: a longer run of key characters is something else.
fn boundary_after(bytes: &[u8], end: usize) -> bool {
    bytes.get(end).is_none_or(|&byte| !is_word_byte(byte))
}

/// The run of PEM characters around the last `-----BEGIN ` seen, computed once per run so
/// that many headers in one run cost one pass.
#[derive(Default)]
struct PemRun {
    end: usize,
    /// Where the last `-----END ` in the run starts.
    last_footer: Option<usize>,
}

impl PemRun {
    fn update(&mut self, text: &str, start: usize) {
        if start < self.end {
            return; // same run, same end
        }
        self.end = pem_run_end(text.as_bytes(), start);
        // Once to find the end, once more for the footer.
        examined(2 * (self.end - start));
        self.last_footer = text[start..self.end]
            .rfind("-----END ")
            .map(|offset| start + offset);
    }
}

/// The end of the run of characters a PEM block can hold, starting at `start`: ASCII letters,
/// digits, whitespace, `+/=:,-`, backslashes and quotes (a key written as string literals), and
/// (to never stop short of the pattern's Unicode `\s`) any non-ASCII byte. Always a character
/// boundary.
fn pem_run_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|&b| {
            b.is_ascii()
                && !b.is_ascii_alphanumeric()
                && !b.is_ascii_whitespace()
                && b != b'\x0b'
                && !matches!(
                    b,
                    b'+' | b'/' | b'=' | b':' | b',' | b'-' | b'\\' | b'"' | b'\''
                )
        })
        .map_or(bytes.len(), |offset| start + offset)
}

/// Where the first part of a JSON Web Token starting at `start` ends, and where the token ends
/// at the latest (after its third part: three runs of base64url joined by two dots, or where a
/// run stops short of its dot), both within `limit`.
///
/// An `eyJ` inside the first part (after a `-`) sees the same text after it, with a shorter
/// first part: if the token at `start` did not match, neither does it. Skipping those keeps a
/// line of `eyJ-eyJ-...` from reading a whole window per keyword.
fn jwt_parts(text: &str, start: usize, limit: usize) -> (usize, usize) {
    let bytes = &text.as_bytes()[..limit];
    let first_part_end = start + base64url_run(&bytes[start..]);
    let mut end = first_part_end;
    for _ in 1..3 {
        if bytes.get(end) != Some(&b'.') {
            break;
        }
        end += 1 + base64url_run(&bytes[end + 1..]);
    }
    (first_part_end, end)
}

/// The length of the run of base64url characters at the start of `bytes`.
fn base64url_run(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        .count()
}

/// The largest character boundary of `text` at or before `index`.
fn floor_char_boundary(text: &str, index: usize) -> usize {
    if index >= text.len() {
        return text.len();
    }
    let mut index = index;
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// The confidence in a match of `format`'s shape, or `None` if it is a placeholder, an example
/// or too plain for its rule.
fn format_confidence(format: KeyFormat, value: &str) -> Option<Confidence> {
    match format {
        KeyFormat::PemPrivateKey => {
            // After `-----BEGIN ... KEY-----`, whatever the line ending.
            let header_end = value[5..].find("-----")? + 10;
            let footer = value.rfind("-----END")?;
            let body: String = value[header_end..footer]
                .replace("\\n", "\n")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/')
                .collect();
            // A real key has hundreds of base64 characters; `...` or a short stub is an example.
            (body.len() >= 64 && !is_repetitive(&body)).then_some(Confidence::High)
        }
        KeyFormat::Jwt => {
            // Header and payload are JSON and may repeat; the signature is random.
            let signature = value.rsplit('.').next().unwrap_or(value);
            (!is_placeholder(signature)).then_some(Confidence::Medium)
        }
        _ => {
            let rule = format.rule();
            // The body: what follows the longest public prefix or keyword (both fixed text).
            let prefix = format
                .prefixes()
                .iter()
                .chain(format.keywords())
                .filter(|p| value.starts_with(**p))
                .max_by_key(|p| p.len())
                .map_or(0, |p| p.len());
            let body = &value[prefix..];
            if is_placeholder(body) || has_stopword(body, rule.stopwords) {
                return None;
            }
            if rule
                .min_entropy
                .is_some_and(|bits| shannon_entropy(body) < bits)
            {
                return None;
            }
            let legacy_openai = format == KeyFormat::OpenAi && prefix == "sk-".len();
            // Legacy OpenAI keys embed `T3BlbkFJ` (base64 of "OpenAI"); other `sk-` strings abound.
            if legacy_openai && !body.contains("T3BlbkFJ") {
                return Some(Confidence::Medium);
            }
            Some(match rule.confidence {
                RuleConfidence::High => Confidence::High,
                RuleConfidence::Medium => Confidence::Medium,
            })
        }
    }
}

/// Whether `body` holds one of a rule's stopwords, in any case.
fn has_stopword(body: &str, stopwords: &[&str]) -> bool {
    stopwords.iter().any(|word| {
        body.as_bytes()
            .windows(word.len())
            .any(|window| window.eq_ignore_ascii_case(word.as_bytes()))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    use aho_corasick::{AhoCorasickBuilder, MatchKind};

    /// Every literal, as `FormatKeywords` numbers them.
    fn all_literals() -> Vec<&'static str> {
        let mut literals: Vec<&str> = Vec::new();
        for literal in KeyFormat::ALL.iter().flat_map(|f| f.keywords()) {
            if !literals.contains(literal) {
                literals.push(literal);
            }
        }
        literals
    }

    proptest! {
        /// The prefilter reports what one leftmost-longest automaton over every keyword
        /// would: the same starts, the same literals.
        #[test]
        fn prefilter_reports_what_one_automaton_would(
            pieces in proptest::collection::vec(
                (0..400usize, "[a-zA-Z0-9_.:/+$ -]{0,3}"),
                0..40,
            ),
        ) {
            let literals = all_literals();
            let text: String = pieces
                .iter()
                .map(|(i, filler)| format!("{}{filler}", literals[i % literals.len()]))
                .collect();
            let one = AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&literals)
                .unwrap();
            let expected: Vec<(usize, usize)> = one
                .find_iter(&text)
                .map(|hit| (hit.start(), hit.pattern().as_usize()))
                .collect();
            let found: Vec<(usize, usize)> =
                FORMAT_KEYWORDS.searcher.hits(text.as_bytes()).collect();
            prop_assert_eq!(found, expected);
        }
    }

    #[test]
    fn the_rule_sets_keywords_are_searched_in_three_passes() {
        // A pass reads the whole text: the rule set's speed depends on how few there are. The
        // probes shared by keywords fit two searchers of four-byte probes and one of the
        // three-byte keywords, where the keywords' first four bytes needed three and one
        // (docs/benchmarks.md). A fourth pass means the rules outgrew the plan.
        let passes = FORMAT_KEYWORDS.searcher.passes();
        assert!(passes <= 3, "{passes} passes");
    }

    proptest! {
        /// A private key written in code as one string literal per line, in the quoting of C,
        /// Python, JavaScript or a JSON array, is found from its header to its footer.
        #[test]
        fn pem_keys_written_as_string_literals_are_found(
            lines in proptest::collection::vec("[A-Za-z0-9+/]{16,64}", 3..20),
            style in 0..4usize,
        ) {
            let (open, close) = [("\"", "\\n\"\n"), ("'", "\\n'\n"), ("\"", "\\n\" +\n"), ("\"", "\",\n")][style];
            let mut text = String::from("const KEY = ");
            for line in std::iter::once("-----BEGIN PRIVATE KEY-----")
                .chain(lines.iter().map(String::as_str))
                .chain(std::iter::once("-----END PRIVATE KEY-----"))
            {
                text.push_str(&format!("    {open}{line}{close}"));
            }
            let body: usize = lines.iter().map(String::len).sum();
            prop_assume!(body >= 64 && !is_repetitive(&lines.concat()));
            let found = Detector::new().find(&text);
            prop_assert_eq!(found.len(), 1, "{:?}", found);
            let range = found[0].range();
            prop_assert!(text[range.clone()].starts_with("-----BEGIN PRIVATE KEY-----"));
            prop_assert!(text[range].ends_with("-----END PRIVATE KEY-----"));
        }
    }

    #[test]
    fn boundaries_reject_glued_keys_but_allow_escapes() {
        assert!(boundary_before(b"=sk-", 1));
        assert!(!boundary_before(b"task-", 2));
        assert!(boundary_before(b"\\nsk-", 2));
        assert!(boundary_after(b"abc.", 3));
        assert!(!boundary_after(b"abcd", 3));
    }
}
