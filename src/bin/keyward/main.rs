//! `keyward`: scan a tree for hardcoded keys, audit a project before deployment, and mask or
//! fingerprint a secret read from stdin.
//!
//! The logic lives in the library ([`keyward::audit::Scanner`], [`keyward::audit::Audit`], [`keyward::mask`],
//! [`keyward::fingerprint`]); this file parses arguments and prints.
//!
//! Exit status: 0 when all is well, 1 when a scan finds keys, an audit item fails or
//! `redact --check` redacts something, 2 on errors (bad arguments, unreadable files). An output
//! closed by its reader (`keyward redact | head`) is no error: `redact` stops reading and exits
//! 0, or with `--check` 1 if it redacted something before, else 2 (the rest was not checked).

mod read_ahead;
mod redact;
mod wiped_text;
mod write_behind;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use keyward::audit::{Audit, ScanProgress, Scanner, read_allowlist};
use keyward::guard::{Confidence, RuleSet};
use keyward::{Detector, fingerprint, mask};

use wiped_text::{ReadWiped, read_wiped};

#[derive(Parser)]
#[command(
    name = "keyward",
    version,
    about = "Keep API keys out of code, logs and agent output"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan a directory tree for hardcoded keys (honours .gitignore); exit 1 when keys are found.
    Scan {
        /// The directory or file to scan.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// A file of fingerprints (16 hex characters each, one a line, `#` comments) of keys
        /// not to report, at most 4 MiB. Fingerprints, never keys: `keyward fingerprint` makes
        /// them.
        #[arg(long, value_name = "FILE")]
        allowlist: Option<PathBuf>,
        /// Report only detections at least this sure. `medium` by default: every key of a
        /// known format and long random values assigned to secret-like names. `low` adds short
        /// or modest-entropy assigned values, which in most code trees are placeholders and test
        /// vectors (see docs/benchmarks.md, "keyward scan on the cargo registry"). Findings in
        /// test paths (`tests/`, `testdata/`, `fixtures/`, `*_test.go`, `test_*.py` ...) and
        /// keys for test environments (`sk_test_` ...) count one level lower; each finding says
        /// which rule matched and why.
        #[arg(long, value_enum, default_value_t = MinConfidence::Medium)]
        min_confidence: MinConfidence,
        /// Skip files larger than this many bytes.
        #[arg(long, value_name = "BYTES", default_value_t = keyward::audit::Scanner::DEFAULT_MAX_FILE_SIZE)]
        max_file_size: u64,
        /// Threads to scan with, at most 256; 0 means one per core.
        #[arg(long, default_value_t = 0, value_parser = parse_threads)]
        threads: usize,
        /// A file of your own detection rules (repeatable): `.toml` in the gitleaks /
        /// Betterleaks format (`.gitleaks.toml`), any other name in keyward's rule format
        /// (docs/rules.md). Findings of these rules name the rule's id.
        #[arg(long = "rules", value_name = "FILE")]
        rules: Vec<PathBuf>,
    },
    /// Run the deployment checklist on a project directory; exit 1 when an item fails.
    Audit {
        /// The project directory.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// A file of fingerprints of keys the hardcoded-key scan should not report, at most
        /// 4 MiB.
        #[arg(long, value_name = "FILE")]
        allowlist: Option<PathBuf>,
        /// A file of your own detection rules (repeatable): `.toml` in the gitleaks /
        /// Betterleaks format (`.gitleaks.toml`), any other name in keyward's rule format
        /// (docs/rules.md). Findings of these rules name the rule's id.
        #[arg(long = "rules", value_name = "FILE")]
        rules: Vec<PathBuf>,
    },
    /// Copy stdin to stdout with secrets redacted, as it arrives: the named secrets (as written
    /// or encoded) and keys of known formats nobody named. For piping an agent's output or logs.
    /// Memory stays bounded however long a line is. A named source that yields no secret is
    /// an error.
    ///
    /// Detection looks at one line at a time, cut at 64 KiB: it misses a key spread over lines
    /// (a PEM private key; name its file with --files instead) and one that straddles the cut
    /// of a longer line with no space or tab before the key. Named secrets are found anywhere.
    ///
    /// Each line comes out once it is complete, except a line whose last word may be base64 or
    /// hex going on on the next line (a line of such characters alone, a word after `=` or a
    /// quote, or one of 16 characters or more): it waits for the next line's first characters,
    /// or the end of the input.
    Redact {
        /// Environment variables holding secrets to redact (repeatable). One line ending (`\n`
        /// or `\r\n`) at the end of a value is dropped, as for --files: a Kubernetes secret
        /// made with `echo` carries it.
        #[arg(long = "env", value_name = "NAME", num_args = 1..)]
        env: Vec<String>,
        /// A .env file; every value in it is redacted, except values too short to be secrets.
        #[arg(long, value_name = "FILE")]
        dotenv: Vec<PathBuf>,
        /// A secrets directory (one secret per file, as mounted by Docker or Kubernetes),
        /// read as `FileProvider` reads it: every file and symlink in it whose name does not
        /// start with `.` is redacted, and one it refuses is an error.
        #[arg(long, value_name = "DIR")]
        files: Vec<PathBuf>,
        /// Accept secret files that other users may read (mode 0644 or 0640), as Kubernetes
        /// mounts them by default; without it such a file is an error.
        #[arg(long)]
        readable_by_others: bool,
        /// Do not look for keys of known formats, only for the named secrets.
        #[arg(long, conflicts_with = "rules")]
        no_detect: bool,
        /// A file of your own detection rules (repeatable), as for `scan`: what they find is
        /// redacted too, labelled with the rule's id.
        #[arg(long = "rules", value_name = "FILE")]
        rules: Vec<PathBuf>,
        /// Exit 1 when anything was redacted, naming on stderr what was found (names and
        /// formats, never values); the redacted text is still written to stdout. If stdout is
        /// closed before the end of stdin (`| head`), exits 2 unless something was redacted
        /// before: the rest was not checked.
        #[arg(long)]
        check: bool,
    },
    /// Print a masked form of the secret read from stdin (one per line), safe to log. Reads
    /// at most 1 MiB.
    Mask {
        /// Read all of stdin as one secret (a PEM key), not one secret per line.
        #[arg(long)]
        whole: bool,
    },
    /// Print the fingerprint of the secret read from stdin (one per line), for allowlists and
    /// for telling keys apart in logs. Reads at most 1 MiB.
    Fingerprint {
        /// Read all of stdin as one secret (a PEM key), not one secret per line.
        #[arg(long)]
        whole: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum MinConfidence {
    /// Also short or modest-entropy values assigned to secret-like names.
    Low,
    /// Keys of known formats, and long random values assigned to secret-like names.
    Medium,
    /// Keys of formats with a distinctive prefix or structure only.
    High,
}

impl From<MinConfidence> for Confidence {
    fn from(value: MinConfidence) -> Confidence {
        match value {
            MinConfidence::Low => Confidence::Low,
            MinConfidence::Medium => Confidence::Medium,
            MinConfidence::High => Confidence::High,
        }
    }
}

/// A failure to report on stderr with exit status 2.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(err: E) -> Failure {
        Failure(err.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan {
            path,
            format,
            allowlist,
            min_confidence,
            max_file_size,
            threads,
            rules,
        } => scanner(allowlist.as_deref(), min_confidence.into(), &rules).and_then(|scanner| {
            let scanner = scanner
                .with_max_file_size(max_file_size)
                .with_threads(threads);
            scan(&path, format, &scanner)
        }),
        Command::Audit {
            path,
            format,
            allowlist,
            rules,
        } => scanner(allowlist.as_deref(), Confidence::Low, &rules)
            .and_then(|scanner| audit(&path, format, scanner)),
        Command::Redact {
            env,
            dotenv,
            files,
            readable_by_others,
            no_detect,
            check,
            rules,
        } => {
            let sources = redact::Sources {
                env: &env,
                dotenv: &dotenv,
                files: &files,
                readable_by_others,
            };
            detector(Confidence::Low, &rules)
                .and_then(|detector| redact::run(&sources, (!no_detect).then_some(detector), check))
        }
        Command::Mask { whole } => each_secret(whole, mask),
        Command::Fingerprint { whole } => {
            each_secret(whole, |secret| fingerprint(secret).to_string())
        }
    };
    match result {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("keyward: {message}");
            ExitCode::from(2)
        }
    }
}

/// The detector: every built-in rule, and the user's rule files if any.
fn detector(min_confidence: Confidence, rules: &[PathBuf]) -> Result<Detector, Failure> {
    let mut builder = Detector::builder().with_min_confidence(min_confidence);
    if !rules.is_empty() {
        let set = rules
            .iter()
            .fold(RuleSet::builder(), |set, path| set.with_file(path))
            .build()?;
        builder = builder.with_rules(set);
    }
    Ok(builder.build()?)
}

fn scanner(
    allowlist: Option<&Path>,
    min_confidence: Confidence,
    rules: &[PathBuf],
) -> Result<Scanner, Failure> {
    // Every detection, so that the scanner lowers test fixtures before it filters.
    let detector = detector(Confidence::Low, rules)?;
    let mut scanner = Scanner::new()
        .with_detector(detector)
        .with_min_confidence(min_confidence);
    if let Some(path) = allowlist {
        let list = read_allowlist(path).map_err(|err| with_cause(&err))?;
        scanner = scanner.with_allowlist(list);
    }
    Ok(scanner)
}

fn scan(path: &Path, format: Format, scanner: &Scanner) -> Result<ExitCode, Failure> {
    let progress = ScanProgress::default();
    let report = with_progress_line(&progress, || scanner.scan_with_progress(path, &progress))?;
    match format {
        Format::Text => print(&report)?,
        Format::Json => print(serde_json::to_string_pretty(&report)?)?,
    }
    // A file that could not be read was not checked: as a gate, that must not pass.
    Ok(if !report.is_clean() {
        ExitCode::FAILURE
    } else if !report.errors().is_empty() {
        eprintln!(
            "keyward: {} file(s) could not be read and were not scanned",
            report.errors().len()
        );
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn audit(path: &Path, format: Format, scanner: Scanner) -> Result<ExitCode, Failure> {
    let report = Audit::new(path).with_scanner(scanner).run();
    match format {
        Format::Text => print(&report)?,
        Format::Json => print(serde_json::to_string_pretty(&report)?)?,
    }
    Ok(if report.is_passing() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The most threads `scan --threads` takes: more only adds contention (and thousands of
/// threads can stall the machine).
const MAX_THREADS: usize = 256;

/// Parses `--threads`: a number from 0 (one per core) to [`MAX_THREADS`].
fn parse_threads(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(threads) if threads <= MAX_THREADS => Ok(threads),
        _ => Err(format!(
            "expected a number of threads from 1 to {MAX_THREADS}, or 0 for one per core"
        )),
    }
}

/// A library error's message, with the operating system's reason when it has one (a message
/// of the library names the file; its cause says why it could not be read).
fn with_cause(err: &keyward::Error) -> Failure {
    use std::error::Error as _;

    match err.source() {
        Some(cause) => Failure(format!("{err}: {cause}")),
        None => Failure(err.to_string()),
    }
}

/// Runs `work`, showing files and bytes scanned on stderr while it runs, but only when stderr
/// is a terminal and the scan takes longer than a moment.
fn with_progress_line<T>(progress: &ScanProgress, work: impl FnOnce() -> T) -> T {
    const FIRST_AFTER: Duration = Duration::from_millis(500);
    const EVERY: Duration = Duration::from_millis(200);
    if !io::stderr().is_terminal() {
        return work();
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let start = Instant::now();
            let mut shown = false;
            std::thread::sleep(FIRST_AFTER);
            while !done.load(Ordering::Relaxed) {
                let seconds = start.elapsed().as_secs_f64();
                let megabytes = progress.bytes() as f64 / 1e6;
                eprint!(
                    "\rscanning: {} files, {megabytes:.1} MB, {:.0} MB/s ",
                    progress.files(),
                    megabytes / seconds
                );
                shown = true;
                std::thread::sleep(EVERY);
            }
            if shown {
                // clear the line for the report
                eprint!("\r{:60}\r", "");
            }
        });
        let result = work();
        done.store(true, Ordering::Relaxed);
        result
    })
}

/// The most `mask` and `fingerprint` read from stdin: many times any key or PEM file, and a
/// bound on what a mistaken pipe (`cat big.log | keyward mask`) makes them hold.
const MAX_SECRETS_INPUT: usize = 1024 * 1024;

/// Reads secrets from stdin, one per line or all of it as one, and prints `show(secret)` for
/// each. Secrets never come from argv, which other users see in process lists and shells keep
/// in their history.
fn each_secret(whole: bool, show: impl Fn(&str) -> String) -> Result<ExitCode, Failure> {
    let mut stdin = io::stdin().lock();
    if stdin.is_terminal() {
        eprintln!(
            "keyward: reading the secret from stdin (it is shown as you type); end with Ctrl-D"
        );
    }
    // Wiped when dropped, as is every buffer it outgrows; an error drops it here, wiped too.
    let input = read_wiped(&mut stdin, MAX_SECRETS_INPUT).map_err(|err| match err {
        ReadWiped::TooLarge => Failure(format!(
            "stdin holds more than {} MiB, more than any secret: pipe in the secrets alone, one a \
             line (or one PEM key with --whole)",
            MAX_SECRETS_INPUT >> 20
        )),
        ReadWiped::Io(err) => Failure(format!("cannot read the secret from stdin: {err}")),
    })?;
    let text = std::str::from_utf8(&input).map_err(|err| {
        Failure(format!(
            "the input on stdin is not UTF-8 text (an invalid byte at offset {})",
            err.valid_up_to()
        ))
    })?;
    let secrets: Vec<&str> = if whole {
        let one = text.strip_suffix('\n').unwrap_or(text);
        vec![one.strip_suffix('\r').unwrap_or(one)]
    } else {
        text.lines().filter(|line| !line.is_empty()).collect()
    };
    if secrets.iter().all(|secret| secret.is_empty()) {
        return Err(Failure(
            "no secret on stdin: pipe it in, e.g. `keyward fingerprint < key.txt`".to_owned(),
        ));
    }
    let lines: Vec<String> = secrets.into_iter().map(show).collect();
    print(lines.join("\n"))?;
    Ok(ExitCode::SUCCESS)
}

/// Prints `text` and a newline to stdout. A reader that went away early (`keyward scan |
/// head`) is no failure: the command's verdict, its exit status, still stands.
fn print(text: impl std::fmt::Display) -> Result<(), Failure> {
    match writeln!(io::stdout().lock(), "{text}") {
        Err(err) if output_closed(&err) => Ok(()),
        result => Ok(result?),
    }
}

/// Whether `err` says that the reader of the output closed it.
fn output_closed(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::BrokenPipe
}
