//! [`RedactorBuilder`]: the secrets and settings of a [`Redactor`]. Setters only record;
//! [`build`](RedactorBuilder::build) checks everything and compiles the matcher.

use std::fmt;
use std::sync::Arc;

use super::{Entry, Inner, MIN_FRAGMENT_LEN, ParallelDetection, Redactor, Replacement};
use crate::error::{Error, ErrorKind, Result, quote_name};
use crate::guard::detector::Detector;
use crate::guard::encode::{self, Encoding, Encodings};
use crate::guard::hit::Origin;
use crate::guard::region::Region;
use crate::guard::scan::{Engine, SecretBytes};
use crate::guard::secret_part::secret_parts;
use crate::secret::SecretString;

/// Builds a [`Redactor`]; from [`Redactor::builder`].
///
/// Setters take and return the builder by value and only record what they are given, so they
/// may come in any order: [`build`](RedactorBuilder::build) checks the secrets against the
/// settings (a secret too short for the minimum length, an empty label, a fragment length below
/// 6) and reports the same error whatever the order of the calls.
///
/// ```
/// use keyward::{Redactor, SecretString};
///
/// let key = SecretString::from(format!("sk-proj-{}", "Ab3dEf6h".repeat(5)));
/// let pin = SecretString::from("4711-0815");
/// let redactor = Redactor::builder()
///     .with_secret("OPENAI_API_KEY", &key)
///     .with_secret("PIN", &pin)
///     .with_min_len(12) // after the secrets, and still checked
///     .build();
/// let err = redactor.unwrap_err();
/// assert!(err.to_string().contains("`PIN`"));
/// assert!(!err.to_string().contains("4711"));
/// ```
#[derive(Clone)]
pub struct RedactorBuilder {
    secrets: Vec<(Arc<str>, SecretString)>,
    min_len: usize,
    encodings: Encodings,
    fragments: bool,
    fragment_len: usize,
    replacement: Replacement,
    /// As set by [`with_unknown_detection`](RedactorBuilder::with_unknown_detection); `None`
    /// when it was not called, and detection is then on exactly when a detector was given.
    unknown_detection: Option<bool>,
    /// The detector given to [`with_detector`](RedactorBuilder::with_detector); `None` for
    /// [`Detector::new`].
    detector: Option<Detector>,
    /// When detection may run on two threads, if it may.
    parallel_detection: Option<ParallelDetection>,
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
            .field("unknown_detection", &self.detects_unknown())
            .field("detector", &self.detector)
            .field("parallel_detection", &self.parallel_detection.is_some())
            .finish()
    }
}

impl Default for RedactorBuilder {
    fn default() -> RedactorBuilder {
        RedactorBuilder {
            secrets: Vec::new(),
            min_len: Redactor::DEFAULT_MIN_SECRET_LEN,
            encodings: Encodings::ALL,
            fragments: true,
            fragment_len: Redactor::DEFAULT_FRAGMENT_LEN,
            replacement: Replacement::Label,
            unknown_detection: None,
            detector: None,
            parallel_detection: None,
        }
    }
}

impl RedactorBuilder {
    /// Registers `secret` under `label` (normally the key name, such as `OPENAI_API_KEY`).
    ///
    /// [`build`](RedactorBuilder::build) refuses an empty label and a secret shorter than the
    /// minimum length ([`with_min_len`](RedactorBuilder::with_min_len)): redacting a short value
    /// everywhere would destroy the output.
    pub fn with_secret(mut self, label: impl Into<String>, secret: &SecretString) -> Self {
        self.secrets.push((Arc::from(label.into()), secret.clone()));
        self
    }

    /// Registers several labelled secrets, in order; see
    /// [`with_secret`](RedactorBuilder::with_secret).
    pub fn with_secrets<'a, L: Into<String>>(
        self,
        secrets: impl IntoIterator<Item = (L, &'a SecretString)>,
    ) -> Self {
        secrets.into_iter().fold(self, |builder, (label, secret)| {
            builder.with_secret(label, secret)
        })
    }

    /// The minimum length of a secret in characters (default
    /// [`Redactor::DEFAULT_MIN_SECRET_LEN`], 8), checked by [`build`](RedactorBuilder::build)
    /// for every secret, whether registered before or after this call.
    pub fn with_min_len(mut self, chars: usize) -> Self {
        self.min_len = chars;
        self
    }

    /// The encodings to look for (default [`Encodings::ALL`]).
    pub fn with_encodings(mut self, encodings: Encodings) -> Self {
        self.encodings = encodings;
        self
    }

    /// Whether a long enough fragment of a secret counts as a leak (default on).
    ///
    /// The fragment search is linear in the text for secrets of random characters. A secret
    /// that repeats a block of half the fragment length at aligned places (the same 8
    /// characters written over and over) costs time in proportion to its length on text that
    /// repeats the block too; turn fragments off for such a secret (`docs/security.md`, "What
    /// is bounded").
    pub fn with_fragments(mut self, yes: bool) -> Self {
        self.fragments = yes;
        self
    }

    /// The minimum length of a fragment, in characters of the secret part of the value: after a
    /// known public prefix such as `sk-proj-`, inside a connection string's secret fields, a
    /// URL's password (default [`Redactor::DEFAULT_FRAGMENT_LEN`], 16; at least 6 while fragments
    /// are on).
    pub fn with_fragment_len(mut self, chars: usize) -> Self {
        self.fragment_len = chars;
        self
    }

    /// What a found secret is replaced with (default [`Replacement::Label`]).
    pub fn with_replacement(mut self, replacement: Replacement) -> Self {
        self.replacement = replacement;
        self
    }

    /// Whether to redact, besides the registered secrets, the secrets a [`Detector`] finds:
    /// keys of a known format and high-entropy values assigned to names like `api_key` (default
    /// off, or on once a detector is given with [`with_detector`](RedactorBuilder::with_detector);
    /// an explicit choice here wins, in whatever order the two calls come). Useful when a tool
    /// returns a file full of someone else's credentials.
    ///
    /// A detected secret is labelled with its format's name (`[REDACTED:GitHub token]`) or
    /// `unknown secret`, reported with [`Encoding::Detected`](crate::guard::Encoding::Detected),
    /// and fingerprinted by the text found; where it overlaps a registered secret, one
    /// replacement names both.
    ///
    /// Detection looks at one line at a time (lines end at `\n`), in [`Redactor::redact`] as in
    /// a [`StreamRedactor`](crate::guard::StreamRedactor), so both agree for any split of the
    /// input. Hence a key spread over several lines, such as a PEM private key, is not detected
    /// (registered secrets are found across lines as before), and a line longer than 64 KiB is
    /// looked at in 64 KiB pieces. A stream then emits whole lines only: it holds back the
    /// current line until its `\n`, at most 64 KiB, or
    /// [`finish`](crate::guard::StreamRedactor::finish). With detection off, nothing of this
    /// costs anything.
    ///
    /// ```
    /// use keyward::{Redactor, SecretString};
    ///
    /// let ours = SecretString::from(format!("sk-proj-{}", "Ab3dEf6h".repeat(5)));
    /// let theirs = format!("ghp_{}", "q7Rt2mXz9K".repeat(4)); // never registered
    /// let redactor = Redactor::builder()
    ///     .with_secret("OPENAI_API_KEY", &ours)
    ///     .with_unknown_detection(true)
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
    pub fn with_unknown_detection(mut self, yes: bool) -> Self {
        self.unknown_detection = Some(yes);
        self
    }

    /// Detects unknown secrets with `detector` instead of [`Detector::new`]: to look for some
    /// formats only, or with other thresholds for the generic rule. Giving a detector turns
    /// detection on unless [`with_unknown_detection(false)`](RedactorBuilder::with_unknown_detection)
    /// is called too, before or after.
    ///
    /// ```
    /// use keyward::{Detector, KeyFormat, Redactor};
    ///
    /// // Tokens of GitHub only: a generic `password = ...` line is left alone.
    /// let github_only = Detector::builder()
    ///     .with_formats(&[KeyFormat::GitHub])
    ///     .with_generic(false)
    ///     .build()?;
    /// let redactor = Redactor::builder().with_detector(github_only).build()?;
    /// let token = format!("ghp_{}", "q7Rt2mXz9K".repeat(4));
    /// let text = format!("GITHUB_TOKEN={token}\npassword = \"Zr4_pQ8-wX2mK9vT\"\n");
    /// assert_eq!(
    ///     redactor.redact(&text),
    ///     "GITHUB_TOKEN=[REDACTED:GitHub token]\npassword = \"Zr4_pQ8-wX2mK9vT\"\n"
    /// );
    /// # Ok::<(), keyward::Error>(())
    /// ```
    pub fn with_detector(mut self, detector: Detector) -> Self {
        self.detector = Some(detector);
        self
    }

    /// Whether detection of unknown secrets may use a second thread on long texts (default
    /// off: a library starts no thread its caller did not ask for). On, a text of 256 KiB or
    /// more (for [`redact`](Redactor::redact), [`redact_into`](Redactor::redact_into),
    /// [`find`](Redactor::find), [`check`](Redactor::check), and a stream's long pieces) is
    /// searched by the detector on a second thread while the calling thread searches for the
    /// registered secrets, then by both until every line is done. What is found is the same;
    /// on a machine with one CPU, or where the thread cannot start, it all runs on the calling
    /// thread. `keyward redact` turns it on: it redacts what it has read, up to a mebibyte, at
    /// once.
    ///
    /// With detection off, this changes nothing.
    ///
    /// ```
    /// use keyward::{Redactor, SecretString};
    ///
    /// let ours = SecretString::from(format!("sk-proj-{}", "Ab3dEf6h".repeat(5)));
    /// let redactor = Redactor::builder()
    ///     .with_secret("OPENAI_API_KEY", &ours)
    ///     .with_unknown_detection(true)
    ///     .with_parallel_detection(true)
    ///     .build()?;
    /// let theirs = format!("ghp_{}", "q7Rt2mXz9K".repeat(4)); // never registered
    /// let log = format!("fn main() {{}}\n").repeat(50_000) + &format!("token={theirs}\n");
    /// assert!(log.len() > 256 * 1024);
    /// let redacted = redactor.redact(&log);
    /// assert!(redacted.ends_with("token=[REDACTED:GitHub token]\n"));
    /// # Ok::<(), keyward::Error>(())
    /// ```
    pub fn with_parallel_detection(mut self, yes: bool) -> Self {
        self.parallel_detection = yes.then_some(ParallelDetection::DEFAULT);
        self
    }

    /// [`with_parallel_detection`](RedactorBuilder::with_parallel_detection) from texts of
    /// `min_len` bytes, in blocks of about `block_len`: for tests on short texts.
    #[cfg(test)]
    pub(crate) fn with_parallel_detection_from(mut self, min_len: usize, block_len: usize) -> Self {
        self.parallel_detection = Some(ParallelDetection { min_len, block_len });
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

    /// Whether the redactor built will detect unknown secrets.
    fn detects_unknown(&self) -> bool {
        self.unknown_detection.unwrap_or(self.detector.is_some())
    }

    /// The checks of [`build`](RedactorBuilder::build), without compiling anything: every
    /// error `build` can return for these settings and secrets, except an automaton too large.
    /// The secrets are checked in the order they were registered, then the fragment length.
    pub(crate) fn validate(&self) -> Result<()> {
        for (position, (label, secret)) in self.secrets.iter().enumerate() {
            if label.is_empty() {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "the redactor's secret number {} has an empty label: give each secret \
                         a name, such as the key's",
                        position + 1
                    ),
                ));
            }
            self.check(label, secret)?;
        }
        if self.fragments && self.fragment_len < MIN_FRAGMENT_LEN {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "fragment length {} is below the minimum of {MIN_FRAGMENT_LEN} characters \
                     (shorter fragments would match ordinary words)",
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
        if chars == 0 {
            // Whatever the minimum: an empty pattern would match between every two characters.
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "secret {} is empty: there is nothing to redact",
                    quote_name(label)
                ),
            ));
        }
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

    /// Checks the secrets and settings, and compiles the matcher.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] if a label is empty, a secret is empty or shorter than the
    /// minimum length (the message names its label, never the value), the fragment length is
    /// below 6 with fragments on, or the automaton cannot be built (more patterns than it can
    /// index). The secrets are checked in the order they were registered; the order of the
    /// other calls does not matter.
    pub fn build(self) -> Result<Redactor> {
        self.validate()?;
        self.compile()
    }

    /// What a handle that must redact its secrets whatever the settings builds when
    /// [`build`](RedactorBuilder::build) refuses them: every secret that is not empty, whatever
    /// its length or label, with a fragment length of at least 6.
    pub(crate) fn build_leniently(mut self) -> Result<Redactor> {
        self.secrets
            .retain(|(_, secret)| !secret.expose_secret().is_empty());
        if self.fragment_len < MIN_FRAGMENT_LEN {
            self.fragment_len = Redactor::DEFAULT_FRAGMENT_LEN;
        }
        self.compile()
    }

    /// Compiles the matcher for the secrets as they are.
    fn compile(self) -> Result<Redactor> {
        let detects_unknown = self.detects_unknown();
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
            let mut searched = Vec::new();
            for part in secret_parts(value) {
                let text = &value[part.range.clone()];
                if gram_len > 0 && text.chars().count() >= self.fragment_len {
                    let mut at = part.range.start;
                    while at + gram_len <= part.range.end {
                        patterns.push((
                            value.as_bytes()[at..at + gram_len].to_vec(),
                            Origin::Gram {
                                secret: index,
                                at: at as u32,
                            },
                        ));
                        at += gram_len;
                    }
                    searched.push(part.range);
                    continue;
                }
                // A password shorter than a fragment, printed on its own (without the `;` that
                // may follow it in a connection string).
                let password = text.trim_end_matches([';', ' ', '\t']);
                if gram_len > 0
                    && part.credential
                    && password.len() < value.len()
                    && password.chars().count() >= self.min_len
                {
                    patterns.push((
                        password.as_bytes().to_vec(),
                        Origin::Whole {
                            secret: index,
                            encoding: Encoding::Fragment,
                        },
                    ));
                }
            }
            entries.push(Entry {
                label: label.clone(),
                fingerprint: secret.fingerprint(),
            });
            sources.push(SecretBytes {
                value: secret.clone(),
                parts: searched.into_boxed_slice(),
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
                detector: detects_unknown.then(|| self.detector.unwrap_or_default()),
                parallel_detection: self.parallel_detection.filter(|_| several_cpus()),
            }),
        })
    }
}

/// Whether this machine runs two threads at once (as far as the process may use it).
fn several_cpus() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::format::KeyFormat;
    use crate::guard::detector::DetectorBuilder;

    /// One setter call.
    #[derive(Debug, Clone)]
    enum Setter {
        Secret(String, String),
        MinLen(usize),
        Encodings(Encodings),
        Fragments(bool),
        FragmentLen(usize),
        Replacement(Replacement),
        UnknownDetection(bool),
        Detector,
        ParallelDetection(bool),
    }

    fn apply(builder: RedactorBuilder, setter: &Setter) -> RedactorBuilder {
        match setter {
            Setter::Secret(label, value) => {
                builder.with_secret(label.as_str(), &SecretString::from(value.as_str()))
            }
            Setter::MinLen(chars) => builder.with_min_len(*chars),
            Setter::Encodings(encodings) => builder.with_encodings(*encodings),
            Setter::Fragments(yes) => builder.with_fragments(*yes),
            Setter::FragmentLen(chars) => builder.with_fragment_len(*chars),
            Setter::Replacement(replacement) => builder.with_replacement(*replacement),
            Setter::UnknownDetection(yes) => builder.with_unknown_detection(*yes),
            Setter::Detector => builder.with_detector(
                DetectorBuilder::new()
                    .with_formats(&[KeyFormat::GitHub])
                    .with_generic(false)
                    .build()
                    .unwrap(),
            ),
            Setter::ParallelDetection(yes) => builder.with_parallel_detection(*yes),
        }
    }

    /// What a build comes to: the error's kind and message, or the labels and what the
    /// redactor makes of `text`.
    fn outcome(setters: &[Setter], text: &str) -> String {
        let built = setters.iter().fold(Redactor::builder(), apply).build();
        match built {
            Ok(redactor) => format!(
                "{:?} {}",
                redactor.labels().collect::<Vec<_>>(),
                redactor.redact(text)
            ),
            Err(err) => format!("{:?}: {err}", err.kind()),
        }
    }

    fn setters() -> impl Strategy<Value = Vec<Setter>> {
        let secret = (
            prop_oneof![Just(String::new()), "[A-Z]{1,8}"],
            "[A-Za-z0-9]{0,24}",
        )
            .prop_map(|(label, value)| Setter::Secret(label, value));
        let encodings = prop_oneof![
            Just(Encodings::ALL),
            Just(Encodings::RAW),
            Just(Encodings::ALL.without(Encodings::RAW)),
        ];
        let replacement = prop_oneof![
            Just(Replacement::Label),
            Just(Replacement::Fixed),
            Just(Replacement::Fingerprint),
        ];
        let settings = (
            proptest::option::of(0..16usize),
            proptest::option::of(encodings),
            proptest::option::of(any::<bool>()),
            proptest::option::of(0..24usize),
            proptest::option::of(replacement),
            proptest::option::of(any::<bool>()),
            any::<bool>(),
            proptest::option::of(any::<bool>()),
        )
            .prop_map(
                |(min, enc, frag, frag_len, repl, detect, detector, parallel)| {
                    let mut all = Vec::new();
                    all.extend(min.map(Setter::MinLen));
                    all.extend(enc.map(Setter::Encodings));
                    all.extend(frag.map(Setter::Fragments));
                    all.extend(frag_len.map(Setter::FragmentLen));
                    all.extend(repl.map(Setter::Replacement));
                    all.extend(detect.map(Setter::UnknownDetection));
                    all.extend(detector.then_some(Setter::Detector));
                    all.extend(parallel.map(Setter::ParallelDetection));
                    all
                },
            );
        (proptest::collection::vec(secret, 0..4), settings)
            .prop_map(|(secrets, settings)| secrets.into_iter().chain(settings).collect())
    }

    /// `setters` in the order of `order` (a permutation), except that the secrets keep their
    /// order among themselves: that order is the order of the labels, which is part of the
    /// outcome.
    fn reordered(setters: &[Setter], order: &[usize]) -> Vec<Setter> {
        let mut secrets = setters.iter().filter(|s| matches!(s, Setter::Secret(..)));
        order
            .iter()
            .map(|&i| match &setters[i] {
                Setter::Secret(..) => secrets.next().unwrap().clone(),
                other => other.clone(),
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// The same secrets and settings build the same redactor, or fail with the same error,
        /// whatever the order of the setter calls.
        #[test]
        fn the_outcome_does_not_depend_on_the_order_of_the_setters(
            (setters, order) in setters().prop_flat_map(|setters| {
                let order = Just((0..setters.len()).collect::<Vec<_>>()).prop_shuffle();
                (Just(setters), order)
            })
        ) {
            let mut text = String::from("password = \"Zr4_pQ8-wX2mK9vT\" ");
            text.push_str(&format!("ghp_{} ", "q7Rt2mXz9K".repeat(4)));
            for setter in &setters {
                if let Setter::Secret(_, value) = setter {
                    text.push_str(value);
                    text.push_str(" and ");
                }
            }
            let expected = outcome(&setters, &text);
            prop_assert_eq!(outcome(&reordered(&setters, &order), &text), expected.clone());
            let mut reversed: Vec<usize> = (0..setters.len()).collect();
            reversed.reverse();
            prop_assert_eq!(outcome(&reordered(&setters, &reversed), &text), expected);
        }
    }

    #[test]
    fn each_refusal_names_what_to_fix() {
        let key = SecretString::from(format!("sk-proj-{}", "Ab3dEf6h".repeat(5)));
        let err = |builder: RedactorBuilder| builder.build().unwrap_err().to_string();
        let empty_label = err(Redactor::builder()
            .with_secret("A", &key)
            .with_secret("", &key));
        assert!(
            empty_label.contains("secret number 2 has an empty label"),
            "{empty_label}"
        );
        let empty = err(Redactor::builder()
            .with_min_len(0)
            .with_secret("EMPTY", &SecretString::from("")));
        assert!(empty.contains("`EMPTY` is empty"), "{empty}");
        let short = err(Redactor::builder()
            .with_secret("PIN", &SecretString::from("4711-0815"))
            .with_min_len(12));
        assert!(short.contains("`PIN` is too short"), "{short}");
        assert!(short.contains("9 characters, the minimum is 12"), "{short}");
        assert!(!short.contains("4711"), "{short}");
        let fragment = err(Redactor::builder().with_fragment_len(5));
        assert!(fragment.contains("fragment length 5"), "{fragment}");
        // Fragments off: their length does not matter.
        assert!(
            Redactor::builder()
                .with_fragment_len(5)
                .with_fragments(false)
                .build()
                .is_ok()
        );
    }
}
