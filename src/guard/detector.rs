//! Finding secrets nobody registered: keys of a known format, and high-entropy values assigned to
//! names such as `api_key` or `password`.
//!
//! Two Aho-Corasick automata find every place worth a closer look: one the literal starts of key
//! formats (`sk-`, `ghp_`, `AKIA`, `-----BEGIN `, `eyJ` ...), one secret-sounding words (`key`,
//! `token`, `secret`, `pass` ... in lower, upper and capitalized case). Only there does the
//! detector run a format's regular expression, anchored and on a bounded window, or parse an
//! assignment by hand. Both automata are small and case-sensitive, so they run on the vectorized
//! Teddy searcher (one case-insensitive automaton over both was three times slower on source
//! code, where `key` and `token` are everywhere).
//!
//! The cost stays linear in the length of the text, whatever the text: the work per candidate
//! is bounded by a window (1 KiB after a keyword, 16 KiB for a PEM block, 515 bytes for an
//! assigned value), and what must be read further is read once per scan: runs of PEM
//! characters, names, the text between detections (for line starts and numbers: a
//! `LineCursor`). Where one candidate failed, later keywords inside it that would fail the same
//! way are skipped (`dead_until`), so text made of one keyword over and over does not read a
//! window per keyword where it need not. `linear_tests.rs` counts the bytes read on adversarial
//! lines at several sizes.

use std::fmt;
use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;

use crate::format::KeyFormat;
use crate::mask::mask;

/// What a [`Detection`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DetectionKind {
    /// A key of a known format, found by its prefix and shape.
    Format(KeyFormat),
    /// A high-entropy value assigned to a secret-sounding name (`API_KEY = "..."`,
    /// `"token": "..."`, `password: ...`, `--api-key ...`, each of `API_KEY=... TOKEN=...
    /// ./run.sh`). The range covers the value only.
    GenericAssignment,
}

impl DetectionKind {
    /// The key format, if the detection is one.
    pub fn format(self) -> Option<KeyFormat> {
        match self {
            DetectionKind::Format(format) => Some(format),
            DetectionKind::GenericAssignment => None,
        }
    }
}

impl fmt::Display for DetectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DetectionKind::Format(format) => f.write_str(format.name()),
            DetectionKind::GenericAssignment => {
                f.write_str("secret assigned to a secret-like name")
            }
        }
    }
}

/// How sure the detector is that a detection is a real secret; ordered `Low < Medium < High`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Confidence {
    /// A plausible secret by context and entropy alone: short, or of modest entropy.
    Low,
    /// A likely secret: a long high-entropy assignment, or a format whose prefix is shared with
    /// other things (legacy `sk-` keys, JSON Web Tokens).
    Medium,
    /// A key of a format with a distinctive prefix or structure.
    High,
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        })
    }
}

/// A secret found in text: where, what kind, how sure, and a masked preview.
///
/// It never holds the secret itself; `Debug` shows the masked preview only. Slice the scanned
/// text with [`range`](Detection::range) to get at the value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Detection {
    range: Range<usize>,
    kind: DetectionKind,
    confidence: Confidence,
    preview: String,
}

impl Detection {
    fn new(text: &str, range: Range<usize>, kind: DetectionKind, confidence: Confidence) -> Self {
        examined(range.len());
        let preview = mask(&text[range.clone()]);
        Detection {
            range,
            kind,
            confidence,
            preview,
        }
    }

    /// The byte range of the secret in the scanned text; both ends are character boundaries.
    pub fn range(&self) -> Range<usize> {
        self.range.clone()
    }

    /// What was found.
    pub fn kind(&self) -> DetectionKind {
        self.kind
    }

    /// The key format, if the detection is a key of a known format.
    pub fn format(&self) -> Option<KeyFormat> {
        self.kind.format()
    }

    /// How sure the detector is.
    pub fn confidence(&self) -> Confidence {
        self.confidence
    }

    /// The secret masked by [`mask`](crate::mask): safe to log.
    pub fn preview(&self) -> &str {
        &self.preview
    }
}

impl fmt::Debug for Detection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detection")
            .field("range", &self.range)
            .field("kind", &self.kind)
            .field("confidence", &self.confidence)
            .field("preview", &self.preview)
            .finish()
    }
}

/// A [`Detection`] with the line and column where it starts, for reports on files.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineDetection {
    line: usize,
    column: usize,
    detection: Detection,
}

impl LineDetection {
    /// The line the secret starts on, counting from 1. Lines end at `\n`.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column the secret starts at, in characters, counting from 1.
    pub fn column(&self) -> usize {
        self.column
    }

    /// The detection, with its byte range in the whole text.
    pub fn detection(&self) -> &Detection {
        &self.detection
    }

    /// The detection, with its byte range in the whole text.
    pub fn into_detection(self) -> Detection {
        self.detection
    }
}

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
    /// Bit `i` enables `KeyFormat::ALL[i]`.
    formats: u64,
    generic: bool,
    min_entropy: f64,
    min_generic_len: usize,
    min_confidence: Confidence,
}

// `Detector::formats` has one bit per format.
const _: () = assert!(KeyFormat::ALL.len() <= 64);

impl Default for Detector {
    fn default() -> Self {
        Detector::new()
    }
}

impl Detector {
    /// A detector for every known format and the generic assignment rule, with the default
    /// thresholds of [`DetectorBuilder`].
    pub fn new() -> Detector {
        Detector::builder().build()
    }

    /// A builder to choose formats, switch the generic rule, or change its thresholds.
    pub fn builder() -> DetectorBuilder {
        DetectorBuilder::new()
    }

    /// Every secret in `text`, in order, without overlaps.
    ///
    /// When a key of a known format is also the value of a generic assignment, the format wins.
    pub fn find(&self, text: &str) -> Vec<Detection> {
        // Each automaton reads the text once.
        examined(text.len());
        let keys = self.find_keys(text);
        let generic = if self.generic {
            examined(text.len());
            self.find_assignments(text, &keys)
        } else {
            Vec::new()
        };
        let mut found = resolve_overlaps(keys, generic);
        found.retain(|d| d.confidence >= self.min_confidence);
        found
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
        let mut lines = LineCursor::new(text);
        self.find(text)
            .into_iter()
            .map(|detection| {
                lines.advance(detection.range.start);
                LineDetection {
                    line: lines.line(),
                    column: lines.column(),
                    detection,
                }
            })
            .collect()
    }

    /// Keys of the enabled formats, in order.
    fn find_keys(&self, text: &str) -> Vec<Detection> {
        let mut found: Vec<Detection> = Vec::new();
        let mut dead_until = [0; KeyFormat::ALL.len()];
        let mut pem_run = PemRun::default();
        let mut lines = LineCursor::new(text);
        for hit in FORMAT_KEYWORDS.automaton.find_iter(text) {
            let start = hit.start();
            // a keyword inside the last key is part of it
            if found.last().is_some_and(|last| start < last.range.end) {
                continue;
            }
            let formats = &FORMAT_KEYWORDS.formats[hit.pattern().as_usize()];
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

    /// Values assigned to secret-sounding names, outside the `keys` already found.
    fn find_assignments(&self, text: &str, keys: &[Detection]) -> Vec<Detection> {
        let mut found = Vec::new();
        let mut keys = keys.iter().peekable();
        // `SECRET_KEY` holds two keywords, one name; keywords inside a value are not names.
        let mut name_end = 0;
        let mut lines = LineCursor::new(text);
        for hit in NAME_KEYWORDS_AUTOMATON.find_iter(text) {
            let start = hit.start();
            while keys.next_if(|key| key.range.end <= start).is_some() {}
            if start < name_end || keys.peek().is_some_and(|key| key.range.start <= start) {
                continue;
            }
            let name = identifier_around(text.as_bytes(), start, hit.end());
            name_end = name.end;
            let mut scanned_to = name.end;
            if let Some(detection) = self.match_assignment(text, name, &mut scanned_to, &mut lines)
            {
                found.push(detection);
            }
            name_end = name_end.max(scanned_to);
        }
        found
    }

    fn is_enabled(&self, index: usize) -> bool {
        self.formats & (1 << index) != 0
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
            let scanner = &SCANNERS[index];
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
            // What the regular expression may read, at most.
            examined(window_end - start);
            let Some(found) = scanner.regex.find(&text[start..window_end]) else {
                match format {
                    KeyFormat::PemPrivateKey => dead_until[index] = window_end,
                    KeyFormat::Jwt => {
                        dead_until[index] = jwt_first_part_end(text, start, window_end)
                    }
                    _ => {}
                }
                continue;
            };
            let end = start + found.end();
            if scanner.needs_boundaries && !boundary_after(text.as_bytes(), end) {
                dead_until[index] = end;
                continue;
            }
            let value = &text[start..end];
            examined(value.len());
            let Some(confidence) = format_confidence(format, value) else {
                continue;
            };
            if lines.on_lock_file_hash_line(start) {
                return None;
            }
            return Some(Detection::new(
                text,
                start..end,
                DetectionKind::Format(format),
                confidence,
            ));
        }
        None
    }

    /// The value assigned to the identifier at `name`, if the name sounds secret and the value
    /// looks like a secret.
    fn match_assignment(
        &self,
        text: &str,
        name: Range<usize>,
        scanned_to: &mut usize,
        lines: &mut LineCursor<'_>,
    ) -> Option<Detection> {
        examined(name.len());
        if !is_secret_name(&text[name.clone()]) || is_fixture_name(&text[name.clone()]) {
            return None;
        }
        let bytes = text.as_bytes();
        // `arn:aws:secretsmanager:...:secret:name`: a segment of a colon path, not a name.
        if name.start > 0 && bytes[name.start - 1] == b':' {
            return None;
        }
        let is_flag = bytes[name.start] == b'-';
        let value = assigned_value(text, name.end, is_flag, scanned_to)?;
        let value_text = &text[value.clone()];
        examined(value_text.len());
        let chars = value_text.chars().count();
        if chars < self.min_generic_len || chars > MAX_GENERIC_LEN {
            return None;
        }
        if !looks_like_secret_value(value_text) {
            return None;
        }
        let entropy = shannon_entropy(value_text);
        if entropy < self.min_entropy || lines.on_lock_file_hash_line(value.start) {
            return None;
        }
        let confidence = if chars >= 20 && entropy >= 3.5 {
            Confidence::Medium
        } else {
            Confidence::Low
        };
        Some(Detection::new(
            text,
            value,
            DetectionKind::GenericAssignment,
            confidence,
        ))
    }
}

/// Builds a [`Detector`].
///
/// ```
/// use keyward::{Detector, KeyFormat};
/// use keyward::guard::Confidence;
///
/// let detector = Detector::builder()
///     .formats(&[KeyFormat::OpenAi, KeyFormat::Anthropic])
///     .generic(false)
///     .min_confidence(Confidence::Medium)
///     .build();
/// let github = format!("token: ghp_{}", "a1B2".repeat(9));
/// assert!(!detector.is_match(&github));
/// ```
#[derive(Debug, Clone)]
pub struct DetectorBuilder {
    detector: Detector,
}

impl Default for DetectorBuilder {
    fn default() -> Self {
        DetectorBuilder::new()
    }
}

impl DetectorBuilder {
    /// Every format, the generic rule on, minimum entropy 3.0 bits per character, minimum
    /// generic value length 12 characters, every confidence reported.
    pub fn new() -> DetectorBuilder {
        DetectorBuilder {
            detector: Detector {
                formats: (1 << KeyFormat::ALL.len()) - 1,
                generic: true,
                min_entropy: 3.0,
                min_generic_len: 12,
                min_confidence: Confidence::Low,
            },
        }
    }

    /// Looks for these formats only (none, if empty).
    pub fn formats(mut self, formats: &[KeyFormat]) -> DetectorBuilder {
        self.detector.formats = KeyFormat::ALL
            .iter()
            .enumerate()
            .filter(|(_, format)| formats.contains(format))
            .fold(0, |bits, (index, _)| bits | 1 << index);
        self
    }

    /// Whether the generic assignment rule runs; on by default.
    pub fn generic(mut self, enabled: bool) -> DetectorBuilder {
        self.detector.generic = enabled;
        self
    }

    /// The Shannon entropy, in bits per character, a generic value needs at least (default 3.0;
    /// a random 12-character alphanumeric string has about 3.4, `hunter2hunter2` has 2.8).
    pub fn min_entropy(mut self, bits_per_char: f64) -> DetectorBuilder {
        self.detector.min_entropy = bits_per_char;
        self
    }

    /// The number of characters a generic value needs at least (default 12).
    pub fn min_generic_len(mut self, chars: usize) -> DetectorBuilder {
        self.detector.min_generic_len = chars;
        self
    }

    /// Reports only detections at least this sure (default: all).
    pub fn min_confidence(mut self, confidence: Confidence) -> DetectorBuilder {
        self.detector.min_confidence = confidence;
        self
    }

    /// The detector.
    pub fn build(self) -> Detector {
        self.detector
    }
}

/// Generic values longer than this are data, not a credential someone typed.
const MAX_GENERIC_LEN: usize = 512;

/// The last word of a name that makes it secret-sounding, lowercase.
const SECRET_NAME_WORDS: &[&str] = &[
    "key",
    "apikey",
    "secretkey",
    "accesskey",
    "privatekey",
    "token",
    "authtoken",
    "accesstoken",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "pass",
    "pwd",
    "auth",
    "authorization",
    "credential",
    "credentials",
];

/// Words whose presence anywhere in a name makes it public: `public_key`, `publishable_key`.
const PUBLIC_NAME_WORDS: &[&str] = &["public", "pub", "publishable"];

/// The prefilter's words for the generic rule; every word of `SECRET_NAME_WORDS` contains one.
const NAME_KEYWORDS: &[&str] = &[
    "key",
    "token",
    "secret",
    "pass",
    "pwd",
    "auth",
    "credential",
];

/// The literal starts of key formats, each with the formats to try where it occurs.
struct FormatKeywords {
    automaton: AhoCorasick,
    /// Per pattern, indices into `KeyFormat::ALL`, most specific first.
    formats: Vec<Vec<usize>>,
}

static FORMAT_KEYWORDS: LazyLock<FormatKeywords> = LazyLock::new(|| {
    let mut literals: Vec<&'static str> = Vec::new();
    for format in KeyFormat::ALL {
        for &literal in format.keywords() {
            if !literals.contains(&literal) {
                literals.push(literal);
            }
        }
    }
    // `sk-ant-` is also where an `sk-` key would start: try every format whose keyword begins
    // the literal, most specific first as `ALL` orders them.
    let formats = literals
        .iter()
        .map(|literal| {
            (0..KeyFormat::ALL.len())
                .filter(|&i| {
                    KeyFormat::ALL[i]
                        .keywords()
                        .iter()
                        .any(|k| literal.starts_with(k))
                })
                .collect()
        })
        .collect();
    #[allow(clippy::expect_used)] // a few dozen short constant patterns, exercised by every test
    let automaton = AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&literals)
        .expect("format keyword automaton builds");
    FormatKeywords { automaton, formats }
});

/// `NAME_KEYWORDS` as written in names: `api_key`, `API_KEY`, `apiKey`.
static NAME_KEYWORDS_AUTOMATON: LazyLock<AhoCorasick> = LazyLock::new(|| {
    let variants = NAME_KEYWORDS.iter().flat_map(|word| {
        let mut capitalized = (*word).to_owned();
        capitalized[..1].make_ascii_uppercase();
        [(*word).to_owned(), word.to_ascii_uppercase(), capitalized]
    });
    #[allow(clippy::expect_used)] // 21 short constant patterns, exercised by every test
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(variants)
        .expect("name keyword automaton builds")
});

struct Scanner {
    /// The format's pattern, anchored at the keyword.
    regex: Regex,
    /// How far past the keyword a key can reach; bounds the work per keyword.
    max_len: usize,
    /// Whether a key must not be glued to the word before or after it.
    needs_boundaries: bool,
}

static SCANNERS: LazyLock<Vec<Scanner>> = LazyLock::new(|| {
    KeyFormat::ALL
        .iter()
        .map(|&format| {
            let pem = format == KeyFormat::PemPrivateKey;
            #[allow(clippy::expect_used)] // constant patterns, checked by format's tests
            let regex = Regex::new(&format!(r"\A(?:{})", format.pattern()))
                .expect("key format patterns compile");
            Scanner {
                regex,
                // An 8192-bit RSA key is about 6.5 KB of PEM.
                max_len: if pem { 16 * 1024 } else { 1024 },
                needs_boundaries: !pem,
            }
        })
        .collect()
});

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
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
/// digits, whitespace, `+/=:,-` and backslashes, and (to never stop short of the pattern's
/// Unicode `\s`) any non-ASCII byte. Always a character boundary.
fn pem_run_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|&b| {
            b.is_ascii()
                && !b.is_ascii_alphanumeric()
                && !b.is_ascii_whitespace()
                && b != b'\x0b'
                && !matches!(b, b'+' | b'/' | b'=' | b':' | b',' | b'-' | b'\\')
        })
        .map_or(bytes.len(), |offset| start + offset)
}

/// Where the first part of a JSON Web Token starting at `start` ends: at the first byte, up to
/// `limit`, that is not base64url.
///
/// An `eyJ` inside that part (after a `-`) sees the same text after it, with a shorter first
/// part: if the token at `start` did not match, neither does it. Skipping those keeps a line of
/// `eyJ-eyJ-...` from reading a whole window per keyword.
fn jwt_first_part_end(text: &str, start: usize, limit: usize) -> usize {
    let is_base64url = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_');
    let from = start + "eyJ".len();
    let run = text.as_bytes()[from..limit]
        .iter()
        .take_while(|b| is_base64url(b))
        .count();
    examined(run);
    from + run
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

/// The confidence in a match of `format`'s shape, or `None` if it is a placeholder.
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
            let prefix = format
                .prefixes()
                .iter()
                .filter(|p| value.starts_with(**p))
                .max_by_key(|p| p.len())
                .map_or(0, |p| p.len());
            let body = &value[prefix..];
            if is_placeholder(body) {
                return None;
            }
            let legacy_openai = format == KeyFormat::OpenAi && prefix == "sk-".len();
            // Legacy OpenAI keys embed `T3BlbkFJ` (base64 of "OpenAI"); other `sk-` strings abound.
            if legacy_openai && !body.contains("T3BlbkFJ") {
                Some(Confidence::Medium)
            } else {
                Some(Confidence::High)
            }
        }
    }
}

/// Substrings that mark a value as an example, anywhere and in any case. Long enough that a
/// random key of 100 characters contains one by chance less than once in 100,000 (`xxxx` would
/// be once in 10,000; runs of one character are caught by `is_repetitive` instead).
const PLACEHOLDER_SUBSTRINGS: &[&str] = &[
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "redacted",
    "replace",
    "dummy",
    "sample",
    "yourkey",
    "yourtoken",
    "your_",
    "your-",
    "insert",
    "keyhere",
];

/// Words that mark a value as an example when they stand alone between separators. At least
/// three letters: a two-letter word between `-` and `_` turns up in long random keys.
const PLACEHOLDER_WORDS: &[&str] = &[
    "your", "here", "fake", "test", "mock", "todo", "foo", "bar", "none", "null", "nil", "key",
    "token", "secret", "password", "api",
];

/// An automaton finding any of `patterns` in any ASCII case: one pass over a candidate and no
/// allocation, where lowercasing it and searching for each pattern in turn was most of the cost
/// of a line full of keys.
fn any_case(patterns: &[&str]) -> AhoCorasick {
    #[allow(clippy::expect_used)] // short constant patterns, exercised by every test
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .build(patterns)
        .expect("constant patterns build")
}

/// Whether `value` (a key without its public prefix, or an assigned value) is a placeholder,
/// a sequence or too repetitive to be a real secret.
fn is_placeholder(value: &str) -> bool {
    static SUBSTRINGS: LazyLock<AhoCorasick> = LazyLock::new(|| any_case(PLACEHOLDER_SUBSTRINGS));
    SUBSTRINGS.is_match(value)
        || value
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| {
                PLACEHOLDER_WORDS
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case(word))
            })
        || is_repetitive(value)
}

/// Whether `value` is mostly one character, a sequence, or a few characters over and over.
///
/// Word lists are left out: a PEM body has so many characters that it holds `dummy` or `sample`
/// by chance once in a few thousand keys.
fn is_repetitive(value: &str) -> bool {
    let bytes = value.as_bytes();
    let min_same_run = (bytes.len() / 4).max(5);
    let min_sequence = (bytes.len() / 4).max(6);
    let mut distinct = [false; 256];
    let mut distinct_count = 0;
    let mut same_run = 1;
    let mut up_run = 1;
    let mut down_run = 1;
    for (i, &byte) in bytes.iter().enumerate() {
        if !distinct[usize::from(byte)] {
            distinct[usize::from(byte)] = true;
            distinct_count += 1;
        }
        if i == 0 {
            continue;
        }
        let prev = bytes[i - 1];
        same_run = if byte == prev { same_run + 1 } else { 1 };
        let sequential = byte.is_ascii_alphanumeric() && prev.is_ascii_alphanumeric();
        up_run = if sequential && byte == prev.wrapping_add(1) {
            up_run + 1
        } else {
            1
        };
        down_run = if sequential && byte.wrapping_add(1) == prev {
            down_run + 1
        } else {
            1
        };
        // `xxxxx`, `00000`; `abcdef`, `123456`, `987654`; a long key may hold a short run
        // by chance (`123456` in a Slack team id), a placeholder is mostly run
        if same_run >= min_same_run || up_run >= min_sequence || down_run >= min_sequence {
            return true;
        }
    }
    distinct_count < 4
}

/// Whether `value` looks like a secret rather than code, a word, a path or a placeholder.
fn looks_like_secret_value(value: &str) -> bool {
    static TEMPLATES: LazyLock<AhoCorasick> = LazyLock::new(|| {
        any_case(&[
            "${",
            "{{",
            "}}",
            "%(",
            "$(",
            "<%",
            "process.env",
            "os.environ",
            "getenv",
            "env[",
            "://",
        ])
    });
    if TEMPLATES.is_match(value)
        || value.starts_with(['$', '<', '{', '%', '[', '(', '*', '/', '.', '~'])
        || value.ends_with('>')
        || value.contains(char::is_whitespace)
    {
        return false;
    }
    if is_placeholder(value)
        || is_uuid(value)
        || is_file_name(value)
        || is_date_or_version(value)
        || is_words(value)
        || has_template_variable(value)
        || value.contains("::")
    {
        return false;
    }
    let mut lower_case = false;
    let mut upper_case = false;
    let mut digit = false;
    let mut other = false;
    for c in value.chars() {
        match c {
            'a'..='z' => lower_case = true,
            'A'..='Z' => upper_case = true,
            '0'..='9' => digit = true,
            // Separators of identifiers, paths and words carry no secret by themselves.
            '_' | '-' | '.' | ':' => {}
            _ => other = true,
        }
    }
    // `config.apiKey`, `Some-Header`, `snake_case_name`: letters and separators only.
    if !digit && !other {
        return false;
    }
    let classes = [lower_case, upper_case, digit, other]
        .iter()
        .filter(|&&c| c)
        .count();
    classes >= 2
}

/// `2024-05-27T07:32:00Z`, `1.88.0`, `10.0.0.1`: digits and date, time or version punctuation.
fn is_date_or_version(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | '.' | 'T' | 'Z' | '+' | '/'))
}

/// `x-hello-world-64`, `my_app.prod`: separated words of one case and numbers, as names are.
fn is_words(value: &str) -> bool {
    let mut parts = value
        .split(['-', '_', '.', ':', '/'])
        .filter(|p| !p.is_empty());
    let all_words = parts.clone().all(|part| {
        let rest = part.get(1..).unwrap_or("");
        part.bytes().all(|b| b.is_ascii_digit())
            || part.bytes().all(|b| b.is_ascii_lowercase())
            || part.bytes().all(|b| b.is_ascii_uppercase())
            || (part.starts_with(|c: char| c.is_ascii_uppercase())
                && rest.bytes().all(|b| b.is_ascii_lowercase()))
    });
    parts.nth(1).is_some() && all_words
}

/// `$HOME`, `$API_KEY`: a shell variable, though not the `$2b$12$...` of a bcrypt hash.
fn has_template_variable(value: &str) -> bool {
    value.split('$').skip(1).any(|after| {
        after.len() >= 3
            && after
                .bytes()
                .take(3)
                .all(|b| b.is_ascii_uppercase() || b == b'_')
    })
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `server.pem`, `keys/prod.json`: a name with a short alphabetic extension.
fn is_file_name(value: &str) -> bool {
    value.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && (2..=4).contains(&ext.len())
            && ext.bytes().all(|b| b.is_ascii_lowercase())
    })
}

/// A position moving forward through a text, with the line it is on.
///
/// Detections come in order, so each byte between them is read once, however long the line:
/// going back to the line start for every detection made a line full of keys quadratic.
struct LineCursor<'t> {
    text: &'t str,
    at: usize,
    /// The line `at` is on, counting from 1.
    line: usize,
    line_start: usize,
    /// Characters from `line_start` to `at`.
    column: usize,
    /// Whether the current line records a package hash, once asked.
    hash_line: Option<bool>,
}

impl<'t> LineCursor<'t> {
    fn new(text: &'t str) -> Self {
        LineCursor {
            text,
            at: 0,
            line: 1,
            line_start: 0,
            column: 0,
            hash_line: None,
        }
    }

    /// Moves to `to`, a character boundary at or after the current position.
    fn advance(&mut self, to: usize) {
        debug_assert!(to >= self.at, "a line cursor only moves forward");
        let gap = &self.text.as_bytes()[self.at..to];
        examined(gap.len());
        let chars = |bytes: &[u8]| bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count();
        match gap.iter().rposition(|&b| b == b'\n') {
            Some(last) => {
                self.line += gap.iter().filter(|&&b| b == b'\n').count();
                self.line_start = self.at + last + 1;
                self.column = chars(&gap[last + 1..]);
                self.hash_line = None;
            }
            None => self.column += chars(gap),
        }
        self.at = to;
    }

    /// The line of the current position, counting from 1.
    fn line(&self) -> usize {
        self.line
    }

    /// The column of the current position, in characters, counting from 1.
    fn column(&self) -> usize {
        self.column + 1
    }

    /// Moves to `at` and says whether its line records a package hash: `checksum = "..."` in
    /// `Cargo.lock`, `"integrity": "sha512-..."` in `package-lock.json`, `integrity sha512-...`
    /// in `yarn.lock`.
    fn on_lock_file_hash_line(&mut self, at: usize) -> bool {
        const HASH_WORDS: &[&str] = &[
            "checksum",
            "integrity",
            "shasum",
            "sha1",
            "sha256",
            "sha384",
            "sha512",
        ];
        self.advance(at);
        let (text, line_start) = (self.text, self.line_start);
        let starts_with_hash_word = *self.hash_line.get_or_insert_with(|| {
            let line = text[line_start..].trim_start_matches([' ', '\t', '"']);
            examined(text.len() - line_start - line.len());
            // The longest hash word and one byte after it: no need to read further.
            let head = &line.as_bytes()[..line.len().min(10)];
            let word_end = head
                .iter()
                .position(|&b| !is_word_byte(b))
                .unwrap_or(head.len());
            HASH_WORDS
                .iter()
                .any(|w| w.as_bytes().eq_ignore_ascii_case(&head[..word_end]))
        });
        starts_with_hash_word
            || ["sha1-", "sha256-", "sha384-", "sha512-"]
                .iter()
                .any(|p| text[..at].ends_with(p))
    }
}

/// The identifier around the keyword at `start..end`: letters, digits, `_`, `-` and `.`, so
/// `OPENAI_API_KEY`, `x-api-key`, `--api-key` and `config.token` are whole names.
fn identifier_around(bytes: &[u8], start: usize, end: usize) -> Range<usize> {
    let is_name_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let mut from = start;
    while from > 0 && is_name_byte(bytes[from - 1]) {
        from -= 1;
    }
    let mut to = end;
    while to < bytes.len() && is_name_byte(bytes[to]) {
        to += 1;
    }
    examined(to - from);
    from..to
}

/// Whether `name`'s last word is secret-sounding and no word says it is public: `API_KEY`,
/// `apiKey`, `client_secret` and `--auth-token` are; `token_count`, `keyboard` and
/// `public_key` are not.
fn is_secret_name(name: &str) -> bool {
    // Called for every keyword in the text: no allocation on the way to a "no".
    let Some(last) = words(name).last() else {
        return false;
    };
    SECRET_NAME_WORDS
        .iter()
        .any(|w| w.eq_ignore_ascii_case(last))
        && !words(name).any(|word| {
            PUBLIC_NAME_WORDS
                .iter()
                .any(|p| p.eq_ignore_ascii_case(word))
        })
}

/// Whether `name` marks its value as a test fixture: `TEST_API_KEY`, `fakeToken`, `mock_secret`.
fn is_fixture_name(name: &str) -> bool {
    const FIXTURE_WORDS: &[&str] = &[
        "test", "fake", "dummy", "mock", "example", "sample", "fixture",
    ];
    words(name).any(|word| FIXTURE_WORDS.iter().any(|f| f.eq_ignore_ascii_case(word)))
}

/// The words of an ASCII identifier, split at `_`, `-`, `.` and case changes: `APIKey` is
/// `API` and `Key`.
fn words(name: &str) -> impl Iterator<Item = &str> {
    let bytes = name.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() && !bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i >= bytes.len() {
            return None;
        }
        let start = i;
        i += 1;
        let starts_word = |i: usize| {
            bytes[i].is_ascii_uppercase()
                && (!bytes[i - 1].is_ascii_uppercase()
                    || bytes.get(i + 1).is_some_and(u8::is_ascii_lowercase))
        };
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() && !starts_word(i) {
            i += 1;
        }
        name.get(start..i)
    })
}

/// The range of the value assigned after a name ending at `at`, in the syntaxes of code,
/// config files and command lines: `= v`, `: v`, `:= v`, `=> v`, `== v`, quoted or bare,
/// after an optional closing quote or `]` of the name and an optional `Bearer`/`Basic`/`Token`
/// scheme; with `is_flag`, also `--name v`.
///
/// `scanned_to` is set to where the search for the value stopped, found or not: keywords before
/// it were read as part of this value (`token="api_key=...` with no closing quote), and reading
/// them again for every keyword would make such text quadratic.
///
/// A bare value written `NAME=value`, with nothing in between, may be followed by more text:
/// that is how shell lines (`API_KEY=v SECRET=w ./run.sh`, `export A=v; B=w`), `.env` files,
/// log fields (`user=bob token=v status=200`) and query strings put several on one line.
fn assigned_value(
    text: &str,
    at: usize,
    is_flag: bool,
    scanned_to: &mut usize,
) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let mut i = at;
    // The closing quote of a quoted name, maybe escaped: `"api_key":`, `\"api_key\":`, `['key']`.
    if bytes.get(i) == Some(&b'\\') && bytes.get(i + 1) == Some(&b'"') {
        i += 2;
    } else if matches!(bytes.get(i), Some(b'"' | b'\'' | b'`')) {
        i += 1;
    }
    if bytes.get(i) == Some(&b']') {
        i += 1;
    }
    let after_name = i;
    i = skip_blanks(bytes, i);
    let separator_at = i;
    let rest = &bytes[i..];
    // `auth::Scheme` is a path, not an assignment.
    if rest.starts_with(b"::") {
        return None;
    }
    // `==` compares in code (`if token == "..."`); in `KEY==v` the value starts with `=`.
    let comparison = rest.starts_with(b"==") && matches!(rest.get(2), Some(b' ' | b'"' | b'\''));
    let separator = if rest.starts_with(b":=") || rest.starts_with(b"=>") || comparison {
        2
    } else if rest.starts_with(b"=") || rest.starts_with(b":") {
        1
    } else if is_flag && i > after_name {
        0
    } else {
        return None;
    };
    let value_at = separator_at + separator;
    i = skip_blanks(bytes, value_at);
    // Nothing between name, `=` and value: no quote or `]` after the name, no blanks, no scheme.
    let mut glued =
        separator_at == at && separator == 1 && rest.first() == Some(&b'=') && i == value_at;
    for scheme in ["bearer ", "basic ", "token "] {
        let end = i + scheme.len();
        if bytes.len() >= end && bytes[i..end].eq_ignore_ascii_case(scheme.as_bytes()) {
            i = skip_blanks(bytes, end);
            glued = false;
            break;
        }
    }
    let syntax = if glued {
        Syntax::Glued
    } else if is_flag {
        Syntax::Flag
    } else {
        Syntax::Spaced
    };
    let value = quoted_or_bare_value(bytes, i, syntax, scanned_to);
    examined(scanned_to.saturating_sub(i));
    value
}

/// How a value was assigned, which decides what may follow a bare value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// `key = v`, `key: v`, `"key" => v`: code and config files, where a bare value ends its
    /// line (or a quoted command, query parameter or comment).
    Spaced,
    /// `NAME=v` with nothing between name, `=` and value: shell, `.env`, log fields and query
    /// strings, where a bare value may be followed by a blank, `;`, `,`, `|` or an escaped
    /// line end, and then anything.
    Glued,
    /// `--name v`: a command-line flag, whose value may be followed by more arguments.
    Flag,
}

fn skip_blanks(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    examined(i - from);
    i
}

/// The value starting at `i`: inside quotes (`"v"`, `'v'`, `` `v` ``, `\"v\"`) or a bare run up
/// to whitespace or punctuation. Every end it returns is at an ASCII byte or the end of the
/// text, so the range is on character boundaries.
///
/// Secrets written in code are string literals; a bare value must end its line (`.env`, YAML,
/// headers), a quoted command (`"Authorization: Bearer v"`), a query parameter (`&`) or a
/// comment, or be a command-line flag's argument. That leaves out `key: Type,`,
/// `let token = next_token;` and `fn f(key: Key<'a>)`.
fn quoted_or_bare_value(
    bytes: &[u8],
    i: usize,
    syntax: Syntax,
    scanned_to: &mut usize,
) -> Option<Range<usize>> {
    // A longer value is rejected anyway; do not read further.
    let limit = bytes.len().min(i + MAX_GENERIC_LEN + 3);
    *scanned_to = limit;
    let first = *bytes.get(i)?;
    if first == b'\\' && bytes.get(i + 1) == Some(&b'"') {
        let start = i + 2;
        let end = (start..limit.saturating_sub(1))
            .find(|&j| (bytes[j] == b'\\' && bytes[j + 1] == b'"') || bytes[j] == b'\n')?;
        *scanned_to = end;
        return (bytes[end] == b'\\').then_some(start..end);
    }
    if matches!(first, b'"' | b'\'' | b'`') {
        let start = i + 1;
        let end = (start..limit).find(|&j| bytes[j] == first || bytes[j] == b'\n')?;
        *scanned_to = end;
        return (bytes[end] == first).then_some(start..end);
    }
    let is_value_byte = |b: u8| {
        !b.is_ascii_whitespace()
            && !matches!(
                b,
                b'"' | b'\''
                    | b'`'
                    | b','
                    | b';'
                    | b'('
                    | b')'
                    | b'['
                    | b']'
                    | b'{'
                    | b'}'
                    | b'<'
                    | b'>'
                    | b'&'
                    | b'|'
                    | b'\\'
            )
    };
    let mut end = i;
    while end < limit && is_value_byte(bytes[end]) {
        end += 1;
    }
    let run_end = end;
    *scanned_to = run_end;
    // Prose ends a sentence after the value: "the key is: Zr4pQ8wX2mK9vT."
    while end > i && matches!(bytes[end - 1], b'.' | b':') {
        end -= 1;
    }
    let next = skip_blanks(bytes, run_end);
    let ends_statement = match bytes.get(next) {
        None | Some(b'\r' | b'\n' | b'#' | b'"' | b'\'' | b'`' | b'&') => true,
        Some(_) if syntax == Syntax::Glued => match bytes[run_end] {
            b';' | b',' | b'|' => true,
            // `\n`, `\"`: a line end or quote escaped in a JSON string or a log line
            b'\\' => matches!(
                bytes.get(run_end + 1),
                Some(b'n' | b'r' | b't' | b'"' | b'\'')
            ),
            other => other.is_ascii_whitespace(),
        },
        Some(_) => syntax == Syntax::Flag && next > run_end,
    };
    if !ends_statement {
        return None;
    }
    // Stop at a character boundary even if the value runs into multi-byte text.
    while end > i && end < bytes.len() && (bytes[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    (end > i).then_some(i..end)
}

/// Shannon entropy of the characters of `value`, in bits per character.
fn shannon_entropy(value: &str) -> f64 {
    let entropy = |counts: &mut dyn Iterator<Item = usize>, total: usize| -> f64 {
        let total = total as f64;
        counts
            .map(|count| {
                let p = count as f64 / total;
                -p * p.log2()
            })
            .sum()
    };
    if value.is_ascii() {
        // Nearly every candidate: count bytes, no allocation.
        let mut counts = [0usize; 128];
        for &byte in value.as_bytes() {
            counts[usize::from(byte)] += 1;
        }
        return entropy(&mut counts.into_iter().filter(|&c| c > 0), value.len());
    }
    let mut chars: Vec<char> = value.chars().collect();
    chars.sort_unstable();
    entropy(
        &mut chars.chunk_by(|a, b| a == b).map(<[char]>::len),
        chars.len(),
    )
}

/// Merges the keys and the generic assignments (each in order, without overlaps) and drops
/// overlaps between them; a key of a known format beats a generic assignment.
fn resolve_overlaps(keys: Vec<Detection>, generic: Vec<Detection>) -> Vec<Detection> {
    let mut kept: Vec<Detection> = Vec::with_capacity(keys.len() + generic.len());
    let mut keys = keys.into_iter().peekable();
    let mut generic = generic.into_iter().peekable();
    // In order of start, a key before a generic assignment at the same start.
    let merged = std::iter::from_fn(|| match (keys.peek(), generic.peek()) {
        (Some(key), Some(assignment)) if assignment.range.start < key.range.start => generic.next(),
        (Some(_), _) => keys.next(),
        (None, _) => generic.next(),
    });
    for detection in merged {
        match kept.last_mut() {
            Some(last) if detection.range.start < last.range.end => {
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

/// Counts `bytes` read by the detector (its automata's one pass each included), so tests can
/// check that the work stays linear in the text without timing anything.
#[cfg(test)]
fn examined(bytes: usize) {
    work::EXAMINED.with(|count| count.set(count.get() + bytes));
}

#[cfg(not(test))]
#[inline(always)]
fn examined(_bytes: usize) {}

#[cfg(test)]
mod work {
    use std::cell::Cell;

    thread_local! {
        /// Bytes read by the detector on this thread; see `examined`.
        pub(super) static EXAMINED: Cell<usize> = const { Cell::new(0) };
    }

    /// What `run` costs in bytes read.
    pub(super) fn count(run: impl FnOnce()) -> usize {
        let before = EXAMINED.with(Cell::get);
        run();
        EXAMINED.with(Cell::get) - before
    }
}

#[cfg(test)]
mod assignment_tests;
#[cfg(test)]
mod linear_tests;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_words() {
        let split = |name| words(name).collect::<Vec<_>>();
        assert_eq!(split("OPENAI_API_KEY"), ["OPENAI", "API", "KEY"]);
        assert_eq!(split("apiKey"), ["api", "Key"]);
        assert_eq!(split("--auth-token"), ["auth", "token"]);
        assert_eq!(split("X509Key"), ["X509", "Key"]);
        assert_eq!(split("config.clientSecret"), ["config", "client", "Secret"]);
        assert_eq!(split("APIKey"), ["API", "Key"]);
    }

    #[test]
    fn secret_names_end_in_a_secret_word() {
        for name in [
            "API_KEY",
            "apiKey",
            "token",
            "client_secret",
            "DB_PASSWORD",
            "--api-key",
            "x-api-key",
            "Authorization",
            "aws_secret_access_key",
            "APIKEY",
            "APIKey",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "token_count",
            "max_tokens",
            "keyboard",
            "monkey",
            "public_key",
            "key_id",
            "bypass",
            "passenger",
            "author",
            "secretKeyRef",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn the_name_prefilter_sees_every_secret_word() {
        for word in SECRET_NAME_WORDS {
            for written in [word.to_string(), word.to_ascii_uppercase()] {
                assert!(NAME_KEYWORDS_AUTOMATON.is_match(&written), "{written}");
            }
        }
    }

    #[test]
    fn entropy_counts_bits_per_character() {
        assert_eq!(shannon_entropy(""), 0.0);
        assert_eq!(shannon_entropy("aaaa"), 0.0);
        assert!((shannon_entropy("abab") - 1.0).abs() < 1e-9);
        assert!((shannon_entropy("abcdefgh") - 3.0).abs() < 1e-9);
    }

    #[test]
    fn placeholders_sequences_and_repetition_are_recognised() {
        for value in [
            "xxxxxxxxxxxxxxxxxxxx",
            "your-api-key-here",
            "EXAMPLEKEY12345",
            "abcdefghij0Q",
            "Zq0123456789",
            "Q9876543210z",
            "a1a1a1a1a1a1",
            "MY_SECRET_TOKEN",
            "changeme123!",
            "0000000AbC9",
        ] {
            assert!(is_placeholder(value), "{value}");
        }
        for value in ["Ab3dAb3dAb3dAb3d", "Zr4_pQ8-wX2mK9vT", "a1B2a1B2a1B2"] {
            assert!(!is_placeholder(value), "{value}");
        }
    }

    #[test]
    fn assigned_values_are_found_in_many_syntaxes() {
        let cases = [
            ("API_KEY = \"V4lue9xQ\"", "V4lue9xQ"),
            ("api_key='V4lue9xQ'", "V4lue9xQ"),
            ("\"token\": \"V4lue9xQ\",", "V4lue9xQ"),
            ("{\\\"token\\\": \\\"V4lue9xQ\\\"}", "V4lue9xQ"),
            ("password: V4lue9xQ\n", "V4lue9xQ"),
            ("secret := `V4lue9xQ`", "V4lue9xQ"),
            ("'key' => 'V4lue9xQ'", "V4lue9xQ"),
            ("config[\"api_key\"] = \"V4lue9xQ\"", "V4lue9xQ"),
            ("Authorization: Bearer V4lue9xQ", "V4lue9xQ"),
            ("--api-key V4lue9xQ --verbose", "V4lue9xQ"),
            ("--api-key=V4lue9xQ", "V4lue9xQ"),
            ("?token=V4lue9xQ&page=2", "V4lue9xQ"),
            ("the key: V4lue9xQ.", "V4lue9xQ"),
            ("curl -H \"Authorization: Bearer V4lue9xQ\" x", "V4lue9xQ"),
            ("TOKEN=V4lue9xQ # rotated monthly", "V4lue9xQ"),
            ("API_KEY=V4lue9xQ SECRET=x ./run.sh", "V4lue9xQ"),
            ("password=V4lue9xQ;password=x", "V4lue9xQ"),
            ("token=V4lue9xQ, user=bob", "V4lue9xQ"),
            ("TOKEN=V4lue9xQ|tee log", "V4lue9xQ"),
            ("\"cmd\": \"TOKEN=V4lue9xQ\\nX=1\"", "V4lue9xQ"),
            ("--auth=Bearer V4lue9xQ --verbose", "V4lue9xQ"),
        ];
        for (text, value) in cases {
            let bytes = text.as_bytes();
            let start = NAME_KEYWORDS_AUTOMATON.find(text).unwrap();
            let name = identifier_around(bytes, start.start(), start.end());
            let is_flag = bytes[name.start] == b'-';
            let range = assigned_value(text, name.end, is_flag, &mut 0);
            assert_eq!(range.map(|r| &text[r]), Some(value), "{text}");
        }
    }

    #[test]
    fn code_after_a_secret_name_is_not_an_assignment() {
        for text in [
            "pub aio_key: crate::__u32,",
            "key: Utf8SuffixKey,",
            "fn from(key: PrivatePkcs1KeyDer<'a>) -> Self {",
            "let token = next_token9;",
            "let key = Utf8SuffixKey {",
            "pub use auth::SchemeV2;",
            "let token = make_token2(x);",
            "token=make_token2(x);",
            "key=keys[2];",
            "token = next_token9 and more",
            "Authorization=Bearer V4lue9xQ more",
        ] {
            let name_hit = NAME_KEYWORDS_AUTOMATON.find(text).unwrap();
            let name = identifier_around(text.as_bytes(), name_hit.start(), name_hit.end());
            assert_eq!(
                assigned_value(text, name.end, false, &mut 0),
                None,
                "{text}"
            );
        }
    }

    #[test]
    fn code_is_not_an_assigned_value() {
        for value in [
            "config.apiKey",
            "String",
            "snake_case_name",
            "${OPENAI_API_KEY}",
            "<API_KEY>",
            "{{ api_key }}",
            "keys/server.pem",
            "https://example.org/a1",
            "550e8400-e29b-41d4-a716-446655440000",
            "process.env.KEY1",
        ] {
            assert!(!looks_like_secret_value(value), "{value}");
        }
        for value in [
            "Zr4_pQ8-wX2mK9vT",
            "9f86d081884c7d659a2feaa0c55ad015",
            "Tr0ub4dor&3x",
        ] {
            assert!(looks_like_secret_value(value), "{value}");
        }
    }

    #[test]
    fn lock_file_hash_lines_are_recognised() {
        let cargo = "name = \"x\"\nchecksum = \"9f86d081884c7d65\"\n";
        let on_hash_line = |text, at| LineCursor::new(text).on_lock_file_hash_line(at);
        assert!(on_hash_line(cargo, cargo.find("9f86").unwrap()));
        let npm = "  \"integrity\": \"sha512-Zr4pQ8wX\",";
        assert!(on_hash_line(npm, npm.find("Zr4").unwrap()));
        let env = "TOKEN=Zr4pQ8wX";
        assert!(!on_hash_line(env, env.find("Zr4").unwrap()));
    }

    #[test]
    fn boundaries_reject_glued_keys_but_allow_escapes() {
        assert!(boundary_before(b"=sk-", 1));
        assert!(!boundary_before(b"task-", 2));
        assert!(boundary_before(b"\\nsk-", 2));
        assert!(boundary_after(b"abc.", 3));
        assert!(!boundary_after(b"abcd", 3));
    }

    #[test]
    fn detections_are_send_sync_and_detectors_cheap_to_share() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Detector>();
        assert_send_sync::<Detection>();
        assert_send_sync::<LineDetection>();
        assert_send_sync::<DetectorBuilder>();
    }
}
