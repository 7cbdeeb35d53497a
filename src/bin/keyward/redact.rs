//! `keyward redact`: stdin to stdout through the library's [`StreamRedactor`], which finds the
//! named secrets and, with detection on, keys of known formats nobody named.
//!
//! Stdin is read in fixed-size chunks, never a line at a time, so memory stays bounded however
//! long a line is: the stream holds back at most the current line up to 64 KiB (with
//! detection) or the start of a possible secret.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use keyward::guard::looks_like_key;
use keyward::rotation::CreatedAt;
use keyward::{
    Detector, DotenvProvider, EnvProvider, ErrorKind, FileProvider, Redactor, SecretProvider,
    SecretString, StreamRedactor,
};
use zeroize::Zeroizing;

use super::read_ahead::ReadAhead;
use super::wiped_text::reserve_wiped;
use super::write_behind::WriteBehind;
use super::{Failure, output_closed};

/// How much of stdin is read at a time: a pipe hands over what it has (at most 64 KiB on
/// Linux), so a live log is not held back.
const READ: usize = 64 * 1024;

/// How much of stdin is redacted at once, at most, when it comes faster than it is redacted:
/// long enough for the detector to share between two threads, and each chunk's output is one
/// or two writes (with 64 KiB chunks, writing 138 MB of redacted text to a file took a third
/// more system time than with 1 MiB).
const CHUNK: usize = 1024 * 1024;

/// Values shorter than this are not redacted: the redactor would refuse them.
const MIN_LEN: usize = Redactor::DEFAULT_MIN_SECRET_LEN;

/// Where the named secrets come from.
pub(crate) struct Sources<'a> {
    /// Environment variables.
    pub(crate) env: &'a [String],
    /// `.env` files: every value.
    pub(crate) dotenv: &'a [PathBuf],
    /// Secrets directories: every file.
    pub(crate) files: &'a [PathBuf],
    /// Whether files of the secrets directories may be readable by other users.
    pub(crate) readable_by_others: bool,
}

/// Redacts stdin to stdout; `detector`, if any, finds the secrets nobody named.
pub(crate) fn run(
    sources: &Sources<'_>,
    detector: Option<Detector>,
    check: bool,
) -> Result<ExitCode, Failure> {
    let secrets = load_secrets(sources)?;
    let detect = detector.is_some();
    if secrets.is_empty() && !detect {
        return Err(Failure(
            "nothing to redact: name secrets with --env, --dotenv or --files, or allow detection"
                .to_owned(),
        ));
    }
    let mut redactor = Redactor::builder()
        .with_secrets(secrets.iter().map(|(label, value)| (label.as_str(), value)))
        .with_unknown_detection(detect)
        // What was read meanwhile is redacted at once, up to a mebibyte: long enough to share
        // between two threads when the input comes fast.
        .with_parallel_detection(true);
    if let Some(detector) = detector {
        redactor = redactor.with_detector(detector);
    }
    let redactor = redactor.build()?;
    let mut stream = redactor.stream();
    if copy(io::stdin(), io::stdout(), &mut stream)? == Copied::Partly {
        // `keyward redact | head`: whoever reads the output has what they wanted.
        if !check {
            return Ok(ExitCode::SUCCESS);
        }
        // What was held back is searched too, so that the verdict covers all that was read.
        let mut unsent = Zeroizing::new(String::with_capacity(stream.held_back() + 4096));
        stream.finish_into(&mut unsent);
        if let Err(found) = stream.check() {
            eprintln!("keyward: {found}");
            return Ok(ExitCode::FAILURE);
        }
        return Err(Failure(
            "stdout was closed before the end of stdin: the rest of stdin was not checked"
                .to_owned(),
        ));
    }
    if check {
        // The stream's own verdict: it names labels and formats, never values.
        if let Err(found) = stream.check() {
            eprintln!("keyward: {found}");
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How much of the input [`copy`] passed on.
#[derive(Debug, PartialEq, Eq)]
enum Copied {
    /// All of it, to its end.
    Everything,
    /// What came before the output was closed by its reader; the rest was not read. (An
    /// output closed after the end of the input was read is [`Copied::Everything`].)
    Partly,
}

/// Copies `input` to `output` through `stream`, flushing whatever is ready after each chunk.
/// The input is read (and checked for UTF-8) and the output written on threads of their own
/// ([`ReadAhead`], [`WriteBehind`]), while the chunk between them is redacted. An output closed
/// by its reader ends the copy early; any other error fails it.
fn copy(
    input: impl Read + Send + 'static,
    output: impl Write + Send + 'static,
    stream: &mut StreamRedactor,
) -> Result<Copied, Failure> {
    let mut output = WriteBehind::start(output)
        .map_err(|err| Failure(format!("cannot start a thread to write stdout: {err}")))?;
    let mut input = ReadAhead::start(input, READ, CHUNK);
    while let Some(text) = input.next() {
        let text = text.map_err(|err| Failure(format!("cannot read stdin: {err}")))?;
        let mut out = output.buffer();
        // Room for the text, what was held back and replacements longer than what they
        // replace, so that the output buffer does not grow in the stream, which would free it
        // unwiped: it may hold up to 16 bytes past what was emitted, the start of a secret
        // maybe (`StreamRedactor::push_into`).
        reserve_wiped(
            &mut out,
            text.len() + text.len() / 4 + stream.held_back() + 4096,
        );
        stream.push_into(text, &mut out);
        if let Err(err) = output.write(out) {
            return closed(err, Copied::Partly);
        }
    }
    let mut out = output.buffer();
    reserve_wiped(&mut out, stream.held_back() + 4096);
    stream.finish_into(&mut out);
    // Closed now, the output missed its end, but all of the input went through the stream.
    match output.write(out).and_then(|()| output.finish()) {
        Ok(()) => Ok(Copied::Everything),
        Err(err) => closed(err, Copied::Everything),
    }
}

/// `copied` if `err` says the output's reader went away, else the error.
fn closed(err: io::Error, copied: Copied) -> Result<Copied, Failure> {
    match output_closed(&err) {
        true => Ok(copied),
        false => Err(err.into()),
    }
}

/// The named secrets: `(label, value)`. Every source must yield at least one: a source that
/// yields nothing is a mistake (a wrong path, a secret volume not mounted yet), and redacting
/// nothing from it would pass the secret it was meant to catch.
fn load_secrets(sources: &Sources<'_>) -> Result<Vec<(String, SecretString)>, Failure> {
    let Sources {
        env,
        dotenv,
        files,
        readable_by_others,
    } = *sources;
    let mut secrets = Vec::new();
    // As a file of --files is read: `echo` put a newline there, and it is no part of the secret.
    let environment = EnvProvider::new().with_trimmed_line_ending(true);
    for (index, name) in env.iter().enumerate() {
        let given = || format!("the {} name given to --env", ordinal(index + 1));
        let shown = shown_name(name).unwrap_or_else(given);
        let secret = match environment.get(name) {
            Ok(Some(secret)) => secret,
            Ok(None) if looks_like_key(name) => {
                return Err(Failure(format!(
                    "{shown} looks like a key itself (not shown) and is not set: {ENV_VALUE_HINT}"
                )));
            }
            Ok(None) => {
                return Err(Failure(format!("environment variable {shown} is not set")));
            }
            // The provider's message quotes the name, and a name it refuses (one holding `/`
            // or `=`, as base64 does) is more likely a value than a name.
            Err(err) if err.kind() == ErrorKind::InvalidName || looks_like_key(name) => {
                return Err(Failure(format!(
                    "{} cannot be a variable's name (not shown): {ENV_VALUE_HINT}",
                    given()
                )));
            }
            Err(err) => return Err(err.into()),
        };
        if secret.value().expose_secret().chars().count() < MIN_LEN {
            return Err(Failure(format!(
                "{shown} is shorter than {MIN_LEN} characters: redacting it everywhere would garble the output"
            )));
        }
        secrets.push((label(name), secret.into_value()));
    }
    for path in dotenv {
        let provider = DotenvProvider::from_path(path)?;
        let names: Vec<String> = provider.keys().map(str::to_owned).collect();
        let source = format!(".env file `{}`", path.display());
        add_all(&mut secrets, &provider, names, &source)?;
    }
    for dir in files {
        // The provider's own listing: the command reads a directory exactly as it does.
        let provider = FileProvider::new(dir)?.with_readable_by_others(readable_by_others);
        let names = provider.keys().map_err(|err| with_cli_fix(&err))?;
        let source = format!("secrets directory `{}`", dir.display());
        add_all(&mut secrets, &provider, names, &source)?;
    }
    Ok(secrets)
}

/// What to do about a value passed where `--env` wants a name.
const ENV_VALUE_HINT: &str = "--env takes a variable's name (`--env OPENAI_API_KEY`), not its \
                              value (`--env \"$OPENAI_API_KEY\"`)";

/// The label of a secret in `[REDACTED:...]` and in `--check`'s verdict, which both reach the
/// output: its name, unless the name looks like a key itself.
const WITHHELD: &str = "name withheld";

/// `name` quoted and escaped for a message, or `None` when it looks like a key and must not be
/// shown (the guard that keeps keys pasted into an allowlist out of its errors).
fn shown_name(name: &str) -> Option<String> {
    (!looks_like_key(name)).then(|| format!("`{}`", name.escape_debug()))
}

/// The label for the secret called `name`: see [`WITHHELD`].
fn label(name: &str) -> String {
    shown_name(name).map_or_else(|| WITHHELD.to_owned(), |_| name.to_owned())
}

/// `1st`, `2nd`, `3rd`, `4th`, ... `11th`, `21st`.
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The library's message, with the command's own way out where the library names a method.
fn with_cli_fix(err: &keyward::Error) -> Failure {
    if err.kind() == ErrorKind::InsecurePermissions {
        Failure(format!(
            "{err} (with `keyward redact`: --readable-by-others)"
        ))
    } else {
        Failure(err.to_string())
    }
}

/// Adds every key of `provider`, skipping (with a note) values too short to be secrets, such as
/// `LOG_LEVEL=info` in a .env file, and keys' creation dates. Fails when nothing is left to add.
fn add_all(
    secrets: &mut Vec<(String, SecretString)>,
    provider: &dyn SecretProvider,
    names: Vec<String>,
    source: &str,
) -> Result<(), Failure> {
    if names.is_empty() {
        return Err(Failure(format!(
            "{source} holds no secret, so nothing would be redacted from it; check the path"
        )));
    }
    let before = secrets.len();
    for name in names {
        let shown = shown_name(&name)
            .unwrap_or_else(|| "a value whose name looks like a key (not shown)".to_owned());
        let secret = match provider.get(&name) {
            Ok(Some(secret)) => secret,
            Ok(None) => continue,
            // The provider's message would quote the name.
            Err(err) if shown_name(&name).is_none() => {
                return Err(Failure(format!(
                    "{source}: cannot read {shown} ({})",
                    err.kind()
                )));
            }
            Err(err) => return Err(with_cli_fix(&err)),
        };
        if secret.value().expose_secret().chars().count() < MIN_LEN {
            eprintln!(
                "keyward: not redacting {shown} from {source}: shorter than {MIN_LEN} characters"
            );
            continue;
        }
        if is_creation_date(&name, secret.value().expose_secret()) {
            eprintln!(
                "keyward: not redacting {shown} from {source}: a key's creation date, not a secret"
            );
            continue;
        }
        secrets.push((label(&name), secret.into_value()));
    }
    if secrets.len() == before {
        return Err(Failure(format!(
            "{source} holds no value of at least {MIN_LEN} characters, so nothing \
             would be redacted from it"
        )));
    }
    Ok(())
}

/// Whether `name=value` is the creation date kept beside a key (`OPENAI_API_KEY_CREATED_AT=
/// 2025-11-01`, the companion the key manager reads): no secret, and redacting it would garble
/// every such date in the output. A value that is not a date is kept as a secret.
fn is_creation_date(name: &str, value: &str) -> bool {
    name.ends_with(CreatedAt::DEFAULT_COMPANION_SUFFIX)
        && CreatedAt::parse_companion(name, value).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every date the key manager reads as a companion is one here, in both its forms; a value
    /// that is not a date, or a name without the suffix, is not.
    #[test]
    fn creation_dates_are_the_companions_the_manager_reads() {
        use chrono::{TimeZone, Utc};
        use proptest::prelude::*;

        let at = (0i64..4_102_444_800).prop_filter_map("a time chrono can hold", |secs| {
            Utc.timestamp_opt(secs, 0).single()
        });
        proptest!(|(at in at, value in "[A-Za-z0-9_-]{8,60}")| {
            let name = format!("OPENAI_API_KEY{}", CreatedAt::DEFAULT_COMPANION_SUFFIX);
            let plain = at.format("%Y-%m-%d").to_string();
            let rfc3339 = at.to_rfc3339();
            prop_assert!(is_creation_date(&name, &plain));
            prop_assert!(is_creation_date(&name, &rfc3339));
            prop_assert!(!is_creation_date("OPENAI_API_KEY", &plain));
            prop_assert!(!is_creation_date("CREATED_AT", &plain));
            prop_assert_eq!(
                is_creation_date(&name, &value),
                CreatedAt::parse_companion(&name, &value).is_ok()
            );
            let key_like = format!("sk-{value}");
            prop_assert!(!is_creation_date(&name, &key_like));
        });
    }
}
