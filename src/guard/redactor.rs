//! [`Redactor`]: finds known secrets, in every common encoding, and replaces them.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use super::detector::{Detection, Detector};
use super::encode::{self, Encoding, Encodings};
use super::overlay::Overlay;
use super::region::{Detected, Region, Source, add_detected_region, add_region};
use super::scan::{Engine, Hit, Origin, SecretBytes};
use super::stream::StreamRedactor;
use crate::error::{Error, ErrorKind, Result, quote_name};
use crate::format::KeyFormat;
use crate::mask::{Fingerprint, fingerprint};
use crate::secret::SecretString;

/// Default minimum length of a registered secret, in characters.
pub const DEFAULT_MIN_SECRET_LEN: usize = 8;
/// Default minimum length of a leaked fragment, in characters after the public prefix.
pub const DEFAULT_FRAGMENT_LEN: usize = 16;
/// The smallest fragment length the builder accepts: shorter ones would match ordinary words.
const MIN_FRAGMENT_LEN: usize = 6;
/// With detection on, the detector sees one line at a time; a line longer than this many bytes
/// is cut (at a character boundary) and its rest taken as the next line, so a stream never holds
/// back more than this for detection.
pub(crate) const DETECT_LINE_CAP: usize = 64 * 1024;
/// The label of a secret the generic assignment rule of the detector found.
const UNKNOWN_SECRET_LABEL: &str = "unknown secret";

/// What a found secret is replaced with.
///
/// ```
/// use keyward::{Redactor, SecretString};
/// use keyward::guard::Replacement;
///
/// let key = SecretString::from(format!("sk-proj-{}", "Ab3d".repeat(10)));
/// let text = format!("key={}", key.expose_secret());
/// let labels = Redactor::builder().secret("OPENAI_API_KEY", &key)?.build()?;
/// assert_eq!(labels.redact(&text), "key=[REDACTED:OPENAI_API_KEY]");
/// let fixed = Redactor::builder()
///     .replacement(Replacement::Fixed)
///     .secret("OPENAI_API_KEY", &key)?
///     .build()?;
/// assert_eq!(fixed.redact(&text), "key=[REDACTED]");
/// let fp = Redactor::builder()
///     .replacement(Replacement::Fingerprint)
///     .secret("OPENAI_API_KEY", &key)?
///     .build()?;
/// assert_eq!(fp.redact(&text), format!("key=[REDACTED:{}]", key.fingerprint()));
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Replacement {
    /// `[REDACTED:LABEL]`: tells a model *which* key was withheld, so it does not take the
    /// placeholder for a mistake of the user. The default.
    #[default]
    Label,
    /// `[REDACTED]`.
    Fixed,
    /// `[REDACTED:<fingerprint>]`, joinable with logs that carry fingerprints.
    Fingerprint,
}

/// One place where a registered secret occurs in a text, or, with
/// [`detect_unknown`](RedactorBuilder::detect_unknown) on, a secret the detector found.
///
/// It carries the label and the fingerprint of the secret, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    range: Range<usize>,
    label: Arc<str>,
    encoding: Encoding,
    fingerprint: Fingerprint,
}

impl Finding {
    /// The byte range in the text; always on `char` boundaries.
    pub fn range(&self) -> Range<usize> {
        self.range.clone()
    }

    /// The label the secret was registered with; for a detected secret, the name of its format
    /// (such as `OpenAI API key`) or `unknown secret` for a value assigned to a secret-like name.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// How the secret appeared: as written, encoded, or as a fragment.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The fingerprint of the whole secret (also for a fragment); for a detected secret, the
    /// fingerprint of the text found.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }
}

/// Builds a [`Redactor`]; from [`Redactor::builder`].
///
/// Settings apply to all secrets and may be given in any order; secrets are checked against the
/// minimum length when they are added and again by [`build`](RedactorBuilder::build).
#[derive(Clone)]
pub struct RedactorBuilder {
    secrets: Vec<(Arc<str>, SecretString)>,
    min_len: usize,
    encodings: Encodings,
    fragments: bool,
    fragment_len: usize,
    replacement: Replacement,
    detect_unknown: bool,
    /// The detector [`detect_unknown`](RedactorBuilder::detect_unknown) uses; `None` for
    /// [`Detector::new`].
    detector: Option<Detector>,
}

impl fmt::Debug for RedactorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels: Vec<&str> = self.secrets.iter().map(|(l, _)| &**l).collect();
        f.debug_struct("RedactorBuilder")
            .field("labels", &labels)
            .field("min_len", &self.min_len)
            .field("encodings", &self.encodings)
            .field("fragments", &self.fragments)
            .field("fragment_len", &self.fragment_len)
            .field("replacement", &self.replacement)
            .field("detect_unknown", &self.detect_unknown)
            .field("detector", &self.detector)
            .finish()
    }
}

impl Default for RedactorBuilder {
    fn default() -> RedactorBuilder {
        RedactorBuilder {
            secrets: Vec::new(),
            min_len: DEFAULT_MIN_SECRET_LEN,
            encodings: Encodings::ALL,
            fragments: true,
            fragment_len: DEFAULT_FRAGMENT_LEN,
            replacement: Replacement::Label,
            detect_unknown: false,
            detector: None,
        }
    }
}

impl RedactorBuilder {
    /// Registers `secret` under `label` (normally the key name, such as `OPENAI_API_KEY`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] if the label is empty or the secret is shorter than the
    /// minimum length: redacting a short value everywhere would destroy the output. The message
    /// names the label, never the value.
    pub fn secret(mut self, label: impl Into<String>, secret: &SecretString) -> Result<Self> {
        let label: Arc<str> = Arc::from(label.into());
        self.check(&label, secret)?;
        self.secrets.push((label, secret.clone()));
        Ok(self)
    }

    /// Registers a secret checked before (with [`check`](RedactorBuilder::check));
    /// [`build`](RedactorBuilder::build) checks it again.
    pub(crate) fn push_secret(mut self, label: &str, secret: &SecretString) -> Self {
        self.secrets.push((Arc::from(label), secret.clone()));
        self
    }

    /// Registers several labelled secrets; see [`secret`](RedactorBuilder::secret).
    ///
    /// # Errors
    ///
    /// As [`secret`](RedactorBuilder::secret), for the first secret that is refused.
    pub fn secrets<'a, L: Into<String>>(
        self,
        secrets: impl IntoIterator<Item = (L, &'a SecretString)>,
    ) -> Result<Self> {
        secrets
            .into_iter()
            .try_fold(self, |builder, (label, secret)| {
                builder.secret(label, secret)
            })
    }

    /// The minimum length of a secret in characters (default 8).
    pub fn min_len(mut self, chars: usize) -> Self {
        self.min_len = chars;
        self
    }

    /// The encodings to look for (default [`Encodings::ALL`]).
    pub fn encodings(mut self, encodings: Encodings) -> Self {
        self.encodings = encodings;
        self
    }

    /// Whether a long enough fragment of a secret counts as a leak (default on).
    pub fn fragments(mut self, yes: bool) -> Self {
        self.fragments = yes;
        self
    }

    /// The minimum length of a fragment, in characters after a known public prefix such as
    /// `sk-proj-` (default 16, at least 6).
    pub fn fragment_len(mut self, chars: usize) -> Self {
        self.fragment_len = chars;
        self
    }

    /// What a found secret is replaced with (default [`Replacement::Label`]).
    pub fn replacement(mut self, replacement: Replacement) -> Self {
        self.replacement = replacement;
        self
    }

    /// Whether to redact, besides the registered secrets, the secrets a [`Detector`] finds:
    /// keys of a known format and high-entropy values assigned to names like `api_key` (default
    /// off). Useful when a tool returns a file full of someone else's credentials.
    ///
    /// A detected secret is labelled with its format's name (`[REDACTED:GitHub token]`) or
    /// `unknown secret`, reported with [`Encoding::Detected`], and fingerprinted by the text
    /// found; where it overlaps a registered secret, one replacement names both.
    ///
    /// Detection looks at one line at a time (lines end at `\n`), in [`Redactor::redact`] as in
    /// a [`StreamRedactor`], so both agree for any split of the input. Hence a key spread over
    /// several lines, such as a PEM private key, is not detected (registered secrets are found
    /// across lines as before), and a line longer than 64 KiB is looked at in 64 KiB pieces. A
    /// stream then emits whole lines only: it holds back the current line until its `\n`, at
    /// most 64 KiB, or [`finish`](StreamRedactor::finish). With detection off, nothing of
    /// this costs anything.
    ///
    /// ```
    /// use keyward::{Redactor, SecretString};
    ///
    /// let ours = SecretString::from(format!("sk-proj-{}", "Ab3dEf6h".repeat(5)));
    /// let theirs = format!("ghp_{}", "q7Rt2mXz9K".repeat(4)); // never registered
    /// let redactor = Redactor::builder()
    ///     .secret("OPENAI_API_KEY", &ours)?
    ///     .detect_unknown(true)
    ///     .build()?;
    /// let file = format!(
    ///     "OPENAI_API_KEY={}\nGITHUB_TOKEN={theirs}\npassword = \"Zr4_pQ8-wX2mK9vT\"\n",
    ///     ours.expose_secret()
    /// );
    /// assert_eq!(
    ///     redactor.redact(&file),
    ///     "OPENAI_API_KEY=[REDACTED:OPENAI_API_KEY,OpenAI API key]\n\
    ///      GITHUB_TOKEN=[REDACTED:GitHub token]\n\
    ///      password = \"[REDACTED:unknown secret]\"\n"
    /// );
    /// # Ok::<(), keyward::Error>(())
    /// ```
    pub fn detect_unknown(mut self, yes: bool) -> Self {
        self.detect_unknown = yes;
        self
    }

    /// Turns [`detect_unknown`](RedactorBuilder::detect_unknown) on with `detector` instead of
    /// [`Detector::new`]: to look for some formats only, or with other thresholds for the
    /// generic rule. A later `detect_unknown(false)` turns detection off again; the detector
    /// is kept for a `detect_unknown(true)` after it.
    ///
    /// ```
    /// use keyward::{Detector, KeyFormat, Redactor};
    ///
    /// // Tokens of GitHub only: a generic `password = ...` line is left alone.
    /// let github_only = Detector::builder()
    ///     .formats(&[KeyFormat::GitHub])
    ///     .generic(false)
    ///     .build();
    /// let redactor = Redactor::builder().detector(github_only).build()?;
    /// let token = format!("ghp_{}", "q7Rt2mXz9K".repeat(4));
    /// let text = format!("GITHUB_TOKEN={token}\npassword = \"Zr4_pQ8-wX2mK9vT\"\n");
    /// assert_eq!(
    ///     redactor.redact(&text),
    ///     "GITHUB_TOKEN=[REDACTED:GitHub token]\npassword = \"Zr4_pQ8-wX2mK9vT\"\n"
    /// );
    /// # Ok::<(), keyward::Error>(())
    /// ```
    pub fn detector(mut self, detector: Detector) -> Self {
        self.detect_unknown = true;
        self.detector = Some(detector);
        self
    }

    /// The secrets registered so far.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Whether no secret is registered yet.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// The checks of [`build`](RedactorBuilder::build), without compiling anything: every
    /// error `build` can return for these settings and secrets, except an automaton too large.
    pub(crate) fn validate(&self) -> Result<()> {
        for (label, secret) in &self.secrets {
            self.check(label, secret)?;
        }
        if self.fragments && self.fragment_len < MIN_FRAGMENT_LEN {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "fragment length {} is below the minimum of {MIN_FRAGMENT_LEN} characters",
                    self.fragment_len
                ),
            ));
        }
        Ok(())
    }

    /// Whether `secret` could be registered as `label` with these settings.
    pub(crate) fn check(&self, label: &str, secret: &SecretString) -> Result<()> {
        if label.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "a secret for the redactor needs a non-empty label",
            ));
        }
        let chars = secret.expose_secret().chars().count();
        if chars < self.min_len {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "secret {} is too short to redact: {chars} characters, the minimum is {} \
                     (redacting short values everywhere would destroy the output)",
                    quote_name(label),
                    self.min_len
                ),
            ));
        }
        Ok(())
    }

    /// Compiles the matcher.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] if a secret is shorter than the minimum length, the fragment
    /// length is below 6, or the automaton cannot be built (more patterns than it can index).
    pub fn build(self) -> Result<Redactor> {
        self.validate()?;
        // Any fragment of 2k-1 bytes or more contains one of the aligned k-grams.
        let gram_len = if self.fragments {
            self.fragment_len.div_ceil(2)
        } else {
            0
        };
        let mut patterns = Vec::new();
        let mut entries = Vec::with_capacity(self.secrets.len());
        let mut sources = Vec::with_capacity(self.secrets.len());
        for (index, (label, secret)) in self.secrets.iter().enumerate() {
            let index = u32::try_from(index).map_err(|_| {
                Error::new(ErrorKind::InvalidInput, "too many secrets for one redactor")
            })?;
            let value = secret.expose_secret();
            for (pattern, encoding) in encode::patterns(value, self.encodings) {
                patterns.push((
                    pattern,
                    Origin::Whole {
                        secret: index,
                        encoding,
                    },
                ));
            }
            let body_start = KeyFormat::public_prefix(value).map_or(0, str::len);
            if gram_len > 0 && value[body_start..].chars().count() >= self.fragment_len {
                let mut at = body_start;
                while at + gram_len <= value.len() {
                    patterns.push((
                        value.as_bytes()[at..at + gram_len].to_vec(),
                        Origin::Gram {
                            secret: index,
                            at: at as u32,
                        },
                    ));
                    at += gram_len;
                }
            }
            entries.push(Entry {
                label: label.clone(),
                fingerprint: secret.fingerprint(),
            });
            sources.push(SecretBytes {
                value: secret.clone(),
                body_start,
            });
        }
        let engine = if patterns.is_empty() {
            None
        } else {
            Some(Engine::new(patterns, sources, gram_len, self.fragment_len)?)
        };
        let piece_len = Region::piece_len(engine.as_ref().map_or(0, Engine::max_pattern_len));
        Ok(Redactor {
            overlay: None,
            inner: Arc::new(Inner {
                piece_len,
                entries,
                engine,
                replacement: self.replacement,
                encodings: self.encodings,
                fragments: self.fragments,
                detector: self
                    .detect_unknown
                    .then(|| self.detector.unwrap_or_default()),
            }),
        })
    }
}

struct Entry {
    label: Arc<str>,
    fingerprint: Fingerprint,
}

struct Inner {
    entries: Vec<Entry>,
    engine: Option<Engine>,
    replacement: Replacement,
    encodings: Encodings,
    fragments: bool,
    /// With [`RedactorBuilder::detect_unknown`] on.
    detector: Option<Detector>,
    /// [`Region::piece_len`] for the longest pattern.
    piece_len: usize,
}

/// Finds registered secrets in text, as written, encoded or in fragments, and replaces them.
///
/// A `Redactor` is immutable, `Send + Sync`, and cheap to clone (the compiled matcher is shared).
/// One Aho-Corasick automaton holds every pattern of every secret, so the cost of a search hardly
/// depends on how many secrets are registered.
///
/// What it finds, for each secret of at least 8 characters:
/// - the secret as written;
/// - base64 (standard and URL-safe, padded or not) of the secret alone or inside a larger blob,
///   at any of the three byte alignments; the one or two characters at each end that depend on
///   the neighbouring bytes stay in the output;
/// - hex (lower and upper case), percent-encoding and JSON string escaping, as the common
///   encoders write them (Python, JavaScript, Go, .NET, PHP, serde_json: either hex case, `+` or
///   `%20` for a space, with or without `\/`, HTML-safe and ASCII-only escapes);
/// - base64 and hex broken onto lines at any width (`base64`, MIME, PEM, `xxd -p`), also with
///   JSON-escaped line ends and indentation;
/// - any contiguous fragment of at least 16 characters, not counting a public prefix such as
///   `sk-proj-` (so a model that prints half a key is caught).
///
/// With [`detect_unknown`](RedactorBuilder::detect_unknown) on, it also redacts the secrets
/// nobody registered that a [`Detector`] finds, line by line.
///
/// ```
/// use keyward::{ErrorKind, Redactor, SecretString};
///
/// let key = SecretString::from(format!("sk-proj-{}", "Ab3dEf6h".repeat(5)));
/// let redactor = Redactor::builder().secret("OPENAI_API_KEY", &key)?.build()?;
///
/// let reply = format!("Sure! Your key is {}.", key.expose_secret());
/// assert_eq!(redactor.redact(&reply), "Sure! Your key is [REDACTED:OPENAI_API_KEY].");
///
/// // half of the key is a leak too
/// let half = &key.expose_secret()[..30];
/// assert_eq!(redactor.redact(half), "[REDACTED:OPENAI_API_KEY]");
///
/// let err = redactor.check(&reply).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Leak);
/// assert!(err.to_string().contains("OPENAI_API_KEY"));
/// assert!(!err.to_string().contains(key.expose_secret()));
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Clone)]
pub struct Redactor {
    inner: Arc<Inner>,
    /// Set only by [`Redactor::with_overlay`], for the agent edge.
    overlay: Option<Arc<Overlay>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels: Vec<&str> = self.inner.entries.iter().map(|e| &*e.label).collect();
        f.debug_struct("Redactor")
            .field("labels", &labels)
            .field("encodings", &self.inner.encodings)
            .field("fragments", &self.inner.fragments)
            .field("replacement", &self.inner.replacement)
            .field("detect_unknown", &self.detects_unknown())
            .finish()
    }
}

impl Default for Redactor {
    /// A redactor with no secrets: it changes nothing.
    fn default() -> Redactor {
        Redactor {
            overlay: None,
            inner: Arc::new(Inner {
                entries: Vec::new(),
                engine: None,
                replacement: Replacement::Label,
                encodings: Encodings::ALL,
                fragments: true,
                detector: None,
                piece_len: Region::piece_len(0),
            }),
        }
    }
}

impl Redactor {
    /// A builder with the default settings and no secrets.
    pub fn builder() -> RedactorBuilder {
        RedactorBuilder::default()
    }

    /// The number of registered secrets.
    pub fn len(&self) -> usize {
        self.inner.entries.len()
    }

    /// Whether no secret is registered.
    pub fn is_empty(&self) -> bool {
        self.inner.entries.is_empty()
    }

    /// The labels of the registered secrets, in registration order.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.inner.entries.iter().map(|e| &*e.label)
    }

    /// `text` with every occurrence of a registered secret (and, with detection on, every
    /// detected secret) replaced; borrowed when nothing matched. Overlapping occurrences (a key
    /// and a fragment of it, two keys that share characters) become one replacement naming all
    /// their labels.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let hits = self.hits(text);
        let mut regions = Vec::new();
        for hit in hits {
            add_region(&mut regions, hit);
        }
        self.detect(text, |range, detected| {
            add_detected_region(&mut regions, range, detected)
        });
        if regions.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        self.render(text, 0, &regions, &mut out, |_| {});
        Cow::Owned(out)
    }

    /// Every occurrence of a registered secret (and, with detection on, every detected secret),
    /// ordered by position. An occurrence inside a larger one of the same secret (a fragment of
    /// a key that is there whole) is left out.
    pub fn find(&self, text: &str) -> Vec<Finding> {
        let mut hits = self.hits(text);
        hits.sort_by(|a, b| {
            (a.range.start, std::cmp::Reverse(a.range.end))
                .cmp(&(b.range.start, std::cmp::Reverse(b.range.end)))
        });
        // Sorted by start, so a hit lies inside an earlier one of its secret exactly when it
        // ends before the furthest end seen for that secret.
        let mut furthest = vec![0usize; self.inner.entries.len()];
        let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
        for hit in hits {
            let end = &mut furthest[hit.secret as usize];
            if hit.range.end > *end {
                *end = hit.range.end;
                kept.push(hit);
            }
        }
        let mut findings: Vec<Finding> = kept
            .into_iter()
            .map(|hit| {
                let entry = &self.inner.entries[hit.secret as usize];
                Finding {
                    range: hit.range,
                    label: entry.label.clone(),
                    encoding: hit.encoding,
                    fingerprint: entry.fingerprint,
                }
            })
            .collect();
        let known = findings.len();
        self.detect(text, |range, detected| {
            findings.push(Finding {
                range,
                label: Arc::from(detected.label),
                encoding: Encoding::Detected,
                fingerprint: detected.fingerprint,
            })
        });
        if findings.len() > known {
            // Stable: at the same range, a registered secret comes before a detected one.
            findings.sort_by_key(|f| (f.range.start, std::cmp::Reverse(f.range.end)));
        }
        findings
    }

    /// Whether `text` contains a registered secret (or, with detection on, a detected one).
    pub fn is_leak(&self, text: &str) -> bool {
        if !self.hits(text).is_empty() {
            return true;
        }
        let mut detected = false;
        self.detect(text, |_, _| detected = true);
        detected
    }

    /// Checks that `text` contains no registered secret (and, with detection on, no detected
    /// one), for callers that refuse to send rather than redact.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Leak`] naming the labels of the secrets found and how they appeared (never
    /// their values); a detected secret is named by its format, such as
    /// `` `GitHub token` (detected) ``.
    pub fn check(&self, text: &str) -> Result<()> {
        let findings = self.find(text);
        if findings.is_empty() {
            return Ok(());
        }
        let mut found: Vec<(&str, Vec<Encoding>)> = Vec::new();
        for finding in &findings {
            match found.iter_mut().find(|(l, _)| *l == finding.label()) {
                Some((_, encodings)) => {
                    if !encodings.contains(&finding.encoding) {
                        encodings.push(finding.encoding);
                    }
                }
                None => found.push((finding.label(), vec![finding.encoding])),
            }
        }
        let listed: Vec<String> = found
            .iter()
            .map(|(label, encodings)| {
                let names: Vec<&str> = encodings.iter().map(|e| e.name()).collect();
                format!("{} ({})", quote_name(label), names.join(", "))
            })
            .collect();
        Err(Error::new(
            ErrorKind::Leak,
            format!("potential secret leak detected: {}", listed.join(", ")),
        ))
    }

    /// A [`StreamRedactor`] for text that arrives in pieces, such as model tokens.
    pub fn stream(&self) -> StreamRedactor {
        StreamRedactor::new(self.clone())
    }

    pub(crate) fn engine(&self) -> Option<&Engine> {
        self.inner.engine.as_ref()
    }

    /// The same matcher with `overlay` laid over it: a registered secret found as written and
    /// whole is replaced by the text `whole` gives for its label (if any) instead of a marker,
    /// and `detector` (if any) finds unknown keys, leaving those texts alone. Costs one pass
    /// over the labels; nothing is compiled.
    pub(crate) fn with_overlay(
        &self,
        whole: impl Fn(&str) -> Option<Arc<str>>,
        detector: Option<Detector>,
    ) -> Redactor {
        let whole = self.inner.entries.iter().map(|e| whole(&e.label)).collect();
        Redactor {
            inner: Arc::clone(&self.inner),
            overlay: Some(Arc::new(Overlay::new(whole, detector))),
        }
    }

    /// The detector in use: the overlay's if it has one, else the redactor's own.
    fn detector(&self) -> Option<&Detector> {
        match &self.overlay {
            Some(overlay) if overlay.detector().is_some() => overlay.detector(),
            _ => self.inner.detector.as_ref(),
        }
    }

    /// Whether [`RedactorBuilder::detect_unknown`] is on (or an overlay brings a detector).
    pub(crate) fn detects_unknown(&self) -> bool {
        self.detector().is_some()
    }

    /// Calls `found` with the absolute range of every secret the detector finds in `text`, line
    /// by line (see [`detection_line`]); does nothing when detection is off.
    fn detect(&self, text: &str, mut found: impl FnMut(Range<usize>, Detected)) {
        if !self.detects_unknown() {
            return;
        }
        let mut start = 0;
        while let Some((end, next)) = detection_line(text, start, start, true) {
            self.detect_in_line(&text[start..end], start, &mut found);
            if end == text.len() {
                break;
            }
            start = next;
        }
    }

    /// Calls `found` with the range (shifted by `offset`) and description of every secret the
    /// detector finds in `line`, a whole detection line.
    pub(crate) fn detect_in_line(
        &self,
        line: &str,
        offset: usize,
        mut found: impl FnMut(Range<usize>, Detected),
    ) {
        let Some(detector) = self.detector() else {
            return;
        };
        for detection in detector.find(line) {
            let range = detection.range();
            let text = &line[range.clone()];
            if let Some(overlay) = &self.overlay
                && overlay.is_own_text(text)
            {
                continue;
            }
            let detected = detected(&detection, text);
            found(range.start + offset..range.end + offset, detected);
        }
    }

    fn hits(&self, text: &str) -> Vec<Hit> {
        let mut hits = Vec::new();
        if let Some(engine) = &self.inner.engine {
            let mut state = engine.start();
            engine.scan(&mut state, text.as_bytes(), 0, 0, &mut hits);
            engine.finish(&mut state, text.as_bytes(), 0, &mut hits);
            if let Some(wrapped) = engine.wrapped() {
                wrapped.feed(&mut wrapped.start(), text.as_bytes(), 0, 0, &mut hits);
            }
        }
        hits
    }

    /// Appends `text` (which starts at absolute offset `base`) to `out` with `regions` replaced;
    /// the regions lie inside the text and are sorted. A region is replaced piece by piece
    /// ([`Region::piece_len`]).
    /// Calls `replaced` with the sources of each replacement written.
    pub(crate) fn render(
        &self,
        text: &str,
        base: usize,
        regions: &[Region],
        out: &mut String,
        mut replaced: impl FnMut(&[Source]),
    ) {
        let mut at = 0;
        for region in regions {
            let (start, end) = (region.range.start - base, region.range.end - base);
            out.push_str(&text[at..start]);
            let mut piece = region.range.start;
            while piece < region.range.end {
                let piece_end = region.piece_end(piece, self.inner.piece_len, text, base);
                let sources = region.sources_in(piece..piece_end);
                match self.whole_text(region, piece..piece_end) {
                    Some(whole) => out.push_str(whole),
                    None => self.push_replacement(&sources, out),
                }
                replaced(&sources);
                piece = piece_end;
            }
            at = end;
        }
        out.push_str(&text[at..]);
    }

    /// The overlay's text for `piece` of `region`: only where the piece is the whole region
    /// and the region is one registered secret as written.
    fn whole_text(&self, region: &Region, piece: Range<usize>) -> Option<&str> {
        let overlay = self.overlay.as_ref()?;
        if piece != region.range {
            return None;
        }
        overlay.whole(region.whole_raw()?)
    }

    /// What a replacement names for `source`: the label of a registered secret, or the format
    /// of a detected one (with `true`).
    pub(crate) fn source_label(&self, source: &Source) -> (Arc<str>, bool) {
        match source {
            Source::Registered(s) => (self.inner.entries[*s as usize].label.clone(), false),
            Source::Detected(d) => (Arc::from(d.label), true),
        }
    }

    /// The longest piece a region is replaced in ([`Region::piece_len`]).
    pub(crate) fn piece_len(&self) -> usize {
        self.inner.piece_len
    }

    fn push_replacement(&self, sources: &[Source], out: &mut String) {
        if self.inner.replacement == Replacement::Fixed {
            out.push_str("[REDACTED]");
            return;
        }
        let mut names: Vec<String> = sources
            .iter()
            .map(|source| match (self.inner.replacement, source) {
                (Replacement::Fingerprint, Source::Registered(s)) => {
                    self.inner.entries[*s as usize].fingerprint.to_string()
                }
                (Replacement::Fingerprint, Source::Detected(d)) => d.fingerprint.to_string(),
                (_, Source::Registered(s)) => self.inner.entries[*s as usize].label.to_string(),
                (_, Source::Detected(d)) => d.label.to_string(),
            })
            .collect();
        names.sort();
        names.dedup();
        out.push_str("[REDACTED:");
        out.push_str(&names.join(","));
        out.push(']');
    }
}

/// What to call a secret the detector found, and the fingerprint of the text found.
fn detected(detection: &Detection, value: &str) -> Detected {
    Detected {
        label: detection
            .format()
            .map_or(UNKNOWN_SECRET_LABEL, KeyFormat::name),
        fingerprint: fingerprint(value),
    }
}

/// Where the detection line starting at `start` ends, and where the next one starts.
///
/// A line ends before its `\n`; one longer than [`DETECT_LINE_CAP`] bytes is cut after the last
/// space or tab within the cap (at the last character boundary if it has none), and the next
/// line starts at the cut. `text[start..searched]`
/// is known to hold no `\n`. `None` when the line may still grow: `text` is not `complete` (more
/// may follow) and neither a `\n` nor the cap was reached. One-shot and stream redaction both
/// cut lines here, which keeps their detections equal.
pub(crate) fn detection_line(
    text: &str,
    start: usize,
    searched: usize,
    complete: bool,
) -> Option<(usize, usize)> {
    // A `\n` right after a line of exactly the cap still ends it.
    let limit = text.len().min(start + DETECT_LINE_CAP + 1);
    let from = searched.max(start).min(limit);
    if let Some(at) = text.as_bytes()[from..limit]
        .iter()
        .position(|&b| b == b'\n')
    {
        return Some((from + at, from + at + 1));
    }
    if text.len() > start + DETECT_LINE_CAP {
        let mut cut = start + DETECT_LINE_CAP;
        // After the last blank within the cap, if any: a key straddling the cap is then seen
        // whole on the next line (keys hold no blanks).
        if let Some(at) = text.as_bytes()[start..cut]
            .iter()
            .rposition(|&b| b == b' ' || b == b'\t')
        {
            cut = start + at + 1;
        }
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        return Some((cut, cut));
    }
    complete.then_some((text.len(), text.len()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(body: &str) -> SecretString {
        SecretString::from(format!("sk-proj-{body}"))
    }

    #[test]
    fn redactor_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Redactor>();
        assert_send_sync::<RedactorBuilder>();
    }

    #[test]
    fn short_secret_is_refused_by_label_not_value() {
        let short = SecretString::from("hunter2");
        let err = Redactor::builder()
            .secret("DB_PASSWORD", &short)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("DB_PASSWORD"));
        assert!(!err.to_string().contains("hunter2"));
        // raising the minimum after registration is caught by build
        let ok = SecretString::from("hunter22");
        let err = Redactor::builder()
            .secret("A", &ok)
            .unwrap()
            .min_len(12)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("`A`"));
    }

    #[test]
    fn detection_lines_end_at_newlines_or_the_cap() {
        let cap = DETECT_LINE_CAP;
        assert_eq!(detection_line("ab\ncd", 0, 0, false), Some((2, 3)));
        assert_eq!(detection_line("ab\ncd", 3, 3, false), None);
        assert_eq!(detection_line("ab\ncd", 3, 3, true), Some((5, 5)));
        // a `\n` right after exactly the cap ends the line there
        let exact = format!("{}\nx", "a".repeat(cap));
        assert_eq!(detection_line(&exact, 0, 0, false), Some((cap, cap + 1)));
        // a longer line is cut at the cap, moved back to a character boundary
        let long = format!("{}é{}", "a".repeat(cap - 1), "b".repeat(10));
        assert_eq!(detection_line(&long, 0, 0, false), Some((cap - 1, cap - 1)));
        assert_eq!(detection_line(&long, cap - 1, cap - 1, false), None);
        // only the bytes after `searched` are looked at again
        assert_eq!(detection_line("abcd", 0, 4, false), None);
    }

    #[test]
    fn debug_shows_labels_not_values() {
        let k = key(&"Zq9x".repeat(8));
        let r = Redactor::builder()
            .secret("OPENAI", &k)
            .unwrap()
            .build()
            .unwrap();
        let debug = format!("{r:?}");
        assert!(debug.contains("OPENAI"));
        assert!(!debug.contains("Zq9x"));
    }
}
