//! Scanning a project tree for hardcoded keys: walk it with the `ignore` crate (honouring
//! `.gitignore`, as ripgrep does), run the [`Detector`] over every text file, and keep a masked
//! preview and a fingerprint of each key found, never the key.
//!
//! The walk runs on several threads (`ignore`'s parallel walker); each thread reuses one read
//! buffer, and the only shared state is a few atomic counters and the list of findings, which
//! is short in any tree worth deploying.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use ignore::{WalkBuilder, WalkState};

use super::fixture::Lowered;
use super::shown::{escaped, shown_path};
use crate::error::{Error, ErrorKind, Result};
use crate::format::rule::RuleConfidence;
use crate::guard::{Confidence, DetectionKind, Detector, looks_like_key};
use crate::mask::{Fingerprint, fingerprint};
use crate::provider::{self, ReadError, open_regular};

/// How many leading bytes are looked at to tell a binary file (a NUL byte among them), as git does.
const BINARY_SNIFF_LEN: usize = 8000;

/// Walks a directory tree and reports the keys written in its files.
///
/// Inside a git repository, files ignored by `.gitignore` and `.git/info/exclude` are skipped
/// (git does not commit them either); `.ignore` files are honoured everywhere. The `.git`
/// directory is skipped; other hidden files, such as a `.env` that git would commit, are
/// scanned. Symbolic links are not followed. Binary files (a NUL byte in the first
/// 8000 bytes) and files above [`with_max_file_size`](Scanner::with_max_file_size) are
/// counted but not scanned.
///
/// ```
/// use keyward::audit::Scanner;
///
/// let dir = tempfile::tempdir()?;
/// let key = format!("ghp_{}", "a1B2".repeat(9));
/// std::fs::write(dir.path().join("deploy.sh"), format!("export GITHUB_TOKEN={key}\n"))?;
///
/// let report = Scanner::new().scan(dir.path())?;
/// assert_eq!(report.findings().len(), 1);
/// let finding = &report.findings()[0];
/// assert_eq!((finding.path().to_str(), finding.line()), (Some("deploy.sh"), 1));
/// assert!(!report.to_string().contains(&key)); // masked
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Scanner {
    detector: Detector,
    allowlist: HashSet<Fingerprint>,
    max_file_size: u64,
    threads: usize,
    min_confidence: Confidence,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new()
    }
}

impl Scanner {
    /// Files larger than this are skipped by default: generated bundles and data, not code.
    pub const DEFAULT_MAX_FILE_SIZE: u64 = 1024 * 1024;

    /// A scanner with the default [`Detector`], no allowlist, files up to
    /// [`Scanner::DEFAULT_MAX_FILE_SIZE`], and one thread per available core.
    pub fn new() -> Scanner {
        Scanner {
            detector: Detector::new(),
            allowlist: HashSet::new(),
            max_file_size: Scanner::DEFAULT_MAX_FILE_SIZE,
            threads: 0,
            min_confidence: Confidence::Low,
        }
    }

    /// Uses another detector (other formats, thresholds or minimum confidence).
    pub fn with_detector(mut self, detector: Detector) -> Scanner {
        self.detector = detector;
        self
    }

    /// Does not report keys with these fingerprints: known test keys, revoked keys kept in docs.
    ///
    /// An allowlist holds fingerprints, never values; see [`parse_allowlist`].
    pub fn with_allowlist(mut self, allowlist: impl IntoIterator<Item = Fingerprint>) -> Scanner {
        self.allowlist.extend(allowlist);
        self
    }

    /// Skips files larger than `bytes` (default [`Scanner::DEFAULT_MAX_FILE_SIZE`]).
    pub fn with_max_file_size(mut self, bytes: u64) -> Scanner {
        self.max_file_size = bytes;
        self
    }

    /// Reports only findings at least this sure (default: all), judged after a finding in a test
    /// path or of a test-environment key is lowered one level.
    ///
    /// Give the scanner a detector of minimum confidence `Low` (the default) and set the minimum
    /// here: a detector that drops findings itself drops them before they are lowered.
    ///
    /// ```
    /// use keyward::audit::Scanner;
    /// use keyward::guard::Confidence;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let key = format!("MISTRAL_API_KEY={}", "Qx7vK2mZp9LrT4wY".repeat(2));
    /// std::fs::create_dir(dir.path().join("tests"))?;
    /// std::fs::write(dir.path().join("tests/fixture.env"), &key)?;
    /// std::fs::write(dir.path().join("app.env"), &key)?;
    ///
    /// let report = Scanner::new().with_min_confidence(Confidence::Medium).scan(dir.path())?;
    /// assert_eq!(report.findings().len(), 1); // the fixture is lowered to `low`
    /// assert_eq!(report.findings()[0].rule(), "mistral");
    /// let all = Scanner::new().scan(dir.path())?;
    /// assert_eq!(all.findings().len(), 2);
    /// assert!(all.findings()[1].why().contains("under a test path (`tests`)"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_min_confidence(mut self, confidence: Confidence) -> Scanner {
        self.min_confidence = confidence;
        self
    }

    /// Walks with `threads` threads; 0 (the default) means one per available core.
    pub fn with_threads(mut self, threads: usize) -> Scanner {
        self.threads = threads;
        self
    }

    /// Scans the tree under `root` (or the single file `root`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] when `root` does not exist or cannot be read. Files that cannot be read
    /// during the walk do not stop it: they are listed in [`ScanReport::errors`].
    pub fn scan(&self, root: &Path) -> Result<ScanReport> {
        self.scan_with_progress(root, &ScanProgress::default())
    }

    /// Like [`scan`](Scanner::scan), counting files and bytes into `progress` as it goes, so
    /// that another thread can show how far the scan is.
    ///
    /// # Errors
    ///
    /// As [`scan`](Scanner::scan).
    pub fn scan_with_progress(&self, root: &Path, progress: &ScanProgress) -> Result<ScanReport> {
        std::fs::metadata(root).map_err(|err| {
            Error::new(
                ErrorKind::Io,
                format!("cannot scan `{}`: {err}", root.display()),
            )
            .with_source(err)
        })?;
        let collected = Collected::default();
        WalkBuilder::new(root)
            .hidden(false)
            .filter_entry(|entry| entry.file_name() != ".git")
            .threads(self.threads)
            .build_parallel()
            .run(|| {
                let mut buffer = Vec::new();
                let collected = &collected;
                Box::new(move |entry| {
                    match entry {
                        Ok(entry) if entry.file_type().is_some_and(|t| t.is_file()) => {
                            self.scan_file(root, entry.path(), &mut buffer, collected, progress);
                        }
                        Ok(_) => {}
                        Err(err) => collected.walk_error(root, &err),
                    }
                    WalkState::Continue
                })
            });
        Ok(collected.into_report())
    }

    fn scan_file(
        &self,
        root: &Path,
        path: &Path,
        buffer: &mut Vec<u8>,
        collected: &Collected,
        progress: &ScanProgress,
    ) {
        let relative = path.strip_prefix(root).unwrap_or(path);
        let relative = if relative.as_os_str().is_empty() {
            // `root` is the file itself
            path.file_name().map_or(path, Path::new)
        } else {
            relative
        };
        match read_capped(path, self.max_file_size, buffer) {
            Ok(true) => {}
            Ok(false) => {
                collected.skipped_large.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(err) => {
                collected.error(relative, err.to_string());
                return;
            }
        }
        let bytes = buffer.len() as u64;
        for (files_read, bytes_read) in [
            (&progress.files, &progress.bytes),
            (&collected.files, &collected.bytes),
        ] {
            files_read.fetch_add(1, Ordering::Relaxed);
            bytes_read.fetch_add(bytes, Ordering::Relaxed);
        }
        if buffer[..buffer.len().min(BINARY_SNIFF_LEN)].contains(&0) {
            collected.skipped_binary.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // Latin-1 and other non-UTF-8 text is still scanned; invalid bytes become U+FFFD.
        // `str::from_utf8` first: it checks ASCII a word at a time, where the lossy conversion
        // walks every byte (an eighth of a scan's time on the registry's sources).
        let text = match std::str::from_utf8(buffer) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(buffer),
        };
        // Rules and allowlists with a `path` see it as gitleaks does: relative, `/`-separated.
        let shown = relative.to_string_lossy();
        let shown = if std::path::MAIN_SEPARATOR == '/' {
            shown
        } else {
            shown.replace(std::path::MAIN_SEPARATOR, "/").into()
        };
        let detections = self.detector.find_with_lines_at(&text, Some(&shown));
        if detections.is_empty() {
            return;
        }
        let mut findings = Vec::new();
        let mut allowlisted = 0;
        for found in detections {
            let detection = found.detection();
            let value = &text[detection.range()];
            let print = fingerprint(value);
            if self.allowlist.contains(&print) {
                allowlisted += 1;
                continue;
            }
            let detected = detection.confidence();
            let lowered = Lowered::of(relative, value);
            let confidence = lowered.map_or(detected, |_| Lowered::lower(detected));
            if confidence < self.min_confidence {
                continue;
            }
            let mut why = why_detected(detection.kind(), detected);
            if let Some(lowered) = lowered {
                why.push_str(&format!(
                    "; lowered from {detected} to {confidence}: {}",
                    lowered.describe()
                ));
            }
            findings.push(ScanFinding {
                path: relative.to_path_buf(),
                line: found.line(),
                column: found.column(),
                kind: detection.kind(),
                rule: detection.kind().format().map_or("generic", |f| f.id()),
                confidence,
                why,
                preview: detection.preview().to_owned(),
                fingerprint: print,
            });
        }
        collected
            .allowlisted
            .fetch_add(allowlisted, Ordering::Relaxed);
        if !findings.is_empty() {
            collected.lock().findings.extend(findings);
        }
    }
}

/// Why the detector is as sure as it is of a detection of `kind`.
fn why_detected(kind: DetectionKind, confidence: Confidence) -> String {
    match (kind, confidence) {
        (DetectionKind::Format(format), Confidence::High) => {
            format!("a {} by its distinctive prefix or structure", format.name())
        }
        (DetectionKind::Format(format), _) if format.rule().confidence == RuleConfidence::High => {
            format!("a {} by a prefix other strings share", format.name())
        }
        (DetectionKind::Format(format), _) => format!(
            "a {} by a shape of medium confidence (a bare key after the name its issuer \
             documents, or a shape other tokens share)",
            format.name()
        ),
        (_, Confidence::Low) => {
            "a short or modest-entropy value assigned to a secret-like name".to_owned()
        }
        _ => "a long high-entropy value assigned to a secret-like name".to_owned(),
    }
}

/// Reads `path` into `buffer` unless it is larger than `cap`; `Ok(false)` when it is.
fn read_capped(path: &Path, cap: u64, buffer: &mut Vec<u8>) -> std::io::Result<bool> {
    buffer.clear();
    let file = File::open(path)?;
    // `take` guards against a file that grew after its size was read.
    let read = file.take(cap.saturating_add(1)).read_to_end(buffer)?;
    Ok(read as u64 <= cap)
}

/// Counters a running scan updates, for a progress display on another thread.
#[derive(Debug, Default)]
pub struct ScanProgress {
    files: AtomicU64,
    bytes: AtomicU64,
}

impl ScanProgress {
    /// Files read so far.
    pub fn files(&self) -> u64 {
        self.files.load(Ordering::Relaxed)
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

#[derive(Default)]
struct Collected {
    files: AtomicU64,
    bytes: AtomicU64,
    skipped_binary: AtomicU64,
    skipped_large: AtomicU64,
    allowlisted: AtomicU64,
    shared: Mutex<Shared>,
}

#[derive(Default)]
struct Shared {
    findings: Vec<ScanFinding>,
    errors: Vec<ScanError>,
}

impl Collected {
    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        // A panicking detector thread leaves complete findings behind; keep them.
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn error(&self, path: &Path, message: String) {
        self.lock().errors.push(ScanError {
            path: path.to_path_buf(),
            message,
        });
    }

    /// An error of the walk itself (a directory that cannot be listed, a broken ignore file),
    /// under the path it names when it names one.
    fn walk_error(&self, root: &Path, err: &ignore::Error) {
        let mut inner = err;
        let mut path = root;
        loop {
            match inner {
                ignore::Error::WithPath { path: at, err } => {
                    path = at.strip_prefix(root).unwrap_or(at);
                    inner = err;
                }
                ignore::Error::WithDepth { err, .. }
                | ignore::Error::WithLineNumber { err, .. } => {
                    inner = err;
                }
                _ => break,
            }
        }
        self.error(path, inner.to_string());
    }

    fn into_report(self) -> ScanReport {
        let shared = self
            .shared
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let mut findings = shared.findings;
        findings.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        let mut errors = shared.errors;
        errors.sort();
        let skipped_binary = self.skipped_binary.into_inner();
        ScanReport {
            findings,
            files_scanned: self.files.into_inner() - skipped_binary,
            bytes_scanned: self.bytes.into_inner(),
            skipped_binary,
            skipped_large: self.skipped_large.into_inner(),
            allowlisted: self.allowlisted.into_inner(),
            errors,
        }
    }
}

/// A key found in a file: where, what kind, a masked preview and a fingerprint. Never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ScanFinding {
    #[cfg_attr(feature = "serde", serde(serialize_with = "super::shown::lossy_path"))]
    path: PathBuf,
    line: usize,
    column: usize,
    #[cfg_attr(feature = "serde", serde(serialize_with = "as_display"))]
    kind: DetectionKind,
    rule: &'static str,
    #[cfg_attr(feature = "serde", serde(serialize_with = "as_display"))]
    confidence: Confidence,
    why: String,
    preview: String,
    fingerprint: Fingerprint,
}

#[cfg(feature = "serde")]
fn as_display<T: fmt::Display, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

impl ScanFinding {
    /// The file, relative to the scanned directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The line the key starts on, from 1.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column the key starts at, in characters, from 1.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What was found: a key format, a secret assigned to a secret-like name, or a match of
    /// one of the user's own rules (shown with its id).
    pub fn kind(&self) -> DetectionKind {
        self.kind.clone()
    }

    /// The id of the rule that matched (`"openai"`, `"mistral"`, as `docs/formats.md` lists
    /// them), or `"generic"` for a secret assigned to a secret-like name.
    pub fn rule(&self) -> &'static str {
        self.rule
    }

    /// How sure the scan is: the detector's confidence, one level lower for a file under a test
    /// path or a key for a test environment.
    pub fn confidence(&self) -> Confidence {
        self.confidence
    }

    /// Why the confidence is what it is, in one sentence: what the rule saw and whether the
    /// finding was lowered.
    pub fn why(&self) -> &str {
        &self.why
    }

    /// The key masked: safe to print.
    pub fn preview(&self) -> &str {
        &self.preview
    }

    /// The key's fingerprint, for an allowlist.
    ///
    /// A plain SHA-256 [`fingerprint`](crate::fingerprint): a short password found by the
    /// generic rule can be recovered from it by trying guesses, so treat a report of private
    /// code as private too.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }
}

impl fmt::Display for ScanFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {} ({} confidence) {} fingerprint {} [rule `{}`: {}]",
            shown_path(&self.path),
            self.line,
            self.column,
            self.kind,
            self.confidence,
            self.preview,
            self.fingerprint,
            self.rule,
            self.why
        )
    }
}

/// What a [`Scanner`] found, and how much it looked at.
///
/// `Display` prints one line per finding and a summary line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ScanReport {
    findings: Vec<ScanFinding>,
    files_scanned: u64,
    bytes_scanned: u64,
    skipped_binary: u64,
    skipped_large: u64,
    allowlisted: u64,
    errors: Vec<ScanError>,
}

/// A file or directory a [`Scanner`] could not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ScanError {
    #[cfg_attr(feature = "serde", serde(serialize_with = "super::shown::lossy_path"))]
    path: PathBuf,
    message: String,
}

impl ScanError {
    /// The file or directory, relative to the scanned directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: not scanned: {}",
            shown_path(&self.path),
            escaped(&self.message)
        )
    }
}

impl ScanReport {
    /// The keys found, sorted by file, line and column.
    pub fn findings(&self) -> &[ScanFinding] {
        &self.findings
    }

    /// Whether no key was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Text files scanned.
    pub fn files_scanned(&self) -> u64 {
        self.files_scanned
    }

    /// Bytes read, binary files included.
    pub fn bytes_scanned(&self) -> u64 {
        self.bytes_scanned
    }

    /// Files skipped as binary.
    pub fn skipped_binary(&self) -> u64 {
        self.skipped_binary
    }

    /// Files skipped for their size.
    pub fn skipped_large(&self) -> u64 {
        self.skipped_large
    }

    /// Keys found but not reported because their fingerprint is allowlisted.
    pub fn allowlisted(&self) -> u64 {
        self.allowlisted
    }

    /// Files and directories that could not be read, with the reason.
    pub fn errors(&self) -> &[ScanError] {
        &self.errors
    }

    /// One line about what was scanned: files, bytes, skipped files.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{} files scanned ({}), {} {} found",
            self.files_scanned,
            human_bytes(self.bytes_scanned),
            self.findings.len(),
            if self.findings.len() == 1 {
                "key"
            } else {
                "keys"
            },
        );
        for (count, what) in [
            (self.allowlisted, "allowlisted"),
            (self.skipped_binary, "binary files skipped"),
            (self.skipped_large, "large files skipped"),
            (self.errors.len() as u64, "unreadable"),
        ] {
            if count > 0 {
                text.push_str(&format!(", {count} {what}"));
            }
        }
        text
    }
}

impl fmt::Display for ScanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        for error in &self.errors {
            writeln!(f, "{error}")?;
        }
        write!(f, "{}", self.summary())
    }
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The largest allowlist [`read_allowlist`] reads: as for a file of rules.
const MAX_ALLOWLIST_LEN: usize = 4 * 1024 * 1024;

/// Reads and parses the allowlist file at `path` (see [`parse_allowlist`]), a regular file of
/// at most 4 MiB.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("allowlist.txt");
/// std::fs::write(&path, "2cf24dba5fb0a30e  # docs/example.md\n")?;
/// assert_eq!(keyward::audit::read_allowlist(&path)?, [keyward::fingerprint("hello")]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::Io`] when it cannot be read, or is not a regular file: a FIFO or a device is
/// refused before it is opened (a FIFO would block the read until a writer came, for ever if
/// none does). [`ErrorKind::InvalidInput`] when it is larger than 4 MiB.
/// [`ErrorKind::Parse`] naming the file when it is not UTF-8 text or, as [`parse_allowlist`],
/// a line is not a fingerprint.
pub fn read_allowlist(path: &Path) -> Result<Vec<Fingerprint>> {
    let shown = format!("allowlist `{}`", path.to_string_lossy().escape_debug());
    let file = open_regular(path, &shown)?.map_err(|err| Error::io(&shown, err))?;
    let size_hint = file
        .metadata()
        .map_or(0, |meta| usize::try_from(meta.len()).unwrap_or(usize::MAX));
    let bytes =
        provider::read_capped(file, MAX_ALLOWLIST_LEN, size_hint).map_err(|err| match err {
            ReadError::TooLarge => Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "{shown} is larger than {} MiB: an allowlist holds a fingerprint a line",
                    MAX_ALLOWLIST_LEN >> 20
                ),
            ),
            ReadError::Io(err) => Error::io(&shown, err),
        })?;
    let text = std::str::from_utf8(&bytes).map_err(|err| {
        Error::new(
            ErrorKind::Parse,
            format!(
                "{shown} is not UTF-8 text (an invalid byte at offset {})",
                err.valid_up_to()
            ),
        )
    })?;
    parse_allowlist(text).map_err(|err| Error::new(err.kind(), format!("{shown}: {err}")))
}

/// Parses an allowlist: one [`Fingerprint`] (16 hex characters, as printed by `keyward scan`
/// and `keyward fingerprint`) per line; blank lines and text after `#` are ignored.
///
/// ```
/// let list = keyward::audit::parse_allowlist("# test keys\n2cf24dba5fb0a30e  # docs/example.md\n")?;
/// assert_eq!(list, [keyward::fingerprint("hello")]);
/// # Ok::<(), keyward::Error>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::Parse`] naming the first line that is not a fingerprint. The line itself is not
/// echoed: someone may have pasted a key where its fingerprint belongs.
pub fn parse_allowlist(text: &str) -> Result<Vec<Fingerprint>> {
    let mut list = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or_default().trim();
        if entry.is_empty() {
            continue;
        }
        let print = entry.parse::<Fingerprint>().map_err(|_| {
            let hint = if looks_like_key(entry) {
                ": it looks like a key itself; put its fingerprint here instead (`keyward fingerprint` reads the key from stdin)"
            } else {
                ""
            };
            Error::new(
                ErrorKind::Parse,
                format!(
                    "allowlist line {} is not a fingerprint of 16 hexadecimal characters ({} characters){hint}",
                    number + 1,
                    entry.chars().count()
                ),
            )
        })?;
        list.push(print);
    }
    Ok(list)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_cannot_be_read_is_listed_and_the_scan_goes_on() {
        // Running as root, permissions cannot make a file unreadable; one that vanished
        // between the walk and the read fails the same way.
        let dir = tempfile::tempdir().unwrap();
        let collected = Collected::default();
        let progress = ScanProgress::default();
        let gone = dir.path().join("sub").join("gone.rs");
        Scanner::new().scan_file(dir.path(), &gone, &mut Vec::new(), &collected, &progress);
        let report = collected.into_report();
        assert_eq!(report.errors().len(), 1);
        assert_eq!(report.errors()[0].path(), Path::new("sub/gone.rs"));
        assert!(report.to_string().starts_with("sub/gone.rs: not scanned: "));
        assert!(
            report.summary().ends_with("1 unreadable"),
            "{}",
            report.summary()
        );
        assert_eq!(progress.files(), 0);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn allowlists_take_fingerprints_and_never_echo_a_value() {
        let print = fingerprint("x");
        let list = parse_allowlist(&format!("\n  {print}  # why\n# only a comment\n")).unwrap();
        assert_eq!(list, [print]);

        let key = format!("sk-proj-{}", "Ab3d".repeat(10));
        let err = parse_allowlist(&format!("{print}\n{key}\n")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Parse);
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(err.to_string().contains("looks like a key"), "{err}");
        assert!(!err.to_string().contains(&key));
    }
}
