//! `keyward redact`: stdin to stdout through a [`StreamRedactor`] for the named secrets, then the
//! [`Detector`] for keys nobody named, one line at a time.

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use keyward::{
    DEFAULT_MIN_SECRET_LEN, Detector, DotenvProvider, EnvProvider, FileProvider, Redactor,
    SecretProvider, SecretString, StreamRedactor,
};

use super::Failure;

pub(crate) fn run(
    env: &[String],
    dotenv: &[PathBuf],
    files: &[PathBuf],
    detect: bool,
) -> Result<ExitCode, Failure> {
    let secrets = load_secrets(env, dotenv, files)?;
    if secrets.is_empty() && !detect {
        return Err(Failure(
            "nothing to redact: name secrets with --env, --dotenv or --files, or allow detection"
                .to_owned(),
        ));
    }
    let redactor = Redactor::builder()
        .secrets(secrets.iter().map(|(label, value)| (label.as_str(), value)))?
        .build()?;
    let detector = detect.then(Detector::new);
    let mut filter = LineFilter {
        stream: redactor.stream(),
        detector,
        pending: String::new(),
    };

    let stdin = io::stdin().lock();
    let mut out = io::stdout().lock();
    let mut input = stdin;
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = input
            .read_until(b'\n', &mut line)
            .map_err(|err| Failure(format!("cannot read stdin: {err}")))?;
        if read == 0 {
            break;
        }
        // Output that is not UTF-8 is passed on with the bad bytes replaced.
        let text = String::from_utf8_lossy(&line);
        let ready = filter.push(&text);
        if !ready.is_empty() {
            out.write_all(ready.as_bytes())?;
            out.flush()?;
        }
    }
    out.write_all(filter.finish().as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The named secrets: `(label, value)`.
fn load_secrets(
    env: &[String],
    dotenv: &[PathBuf],
    files: &[PathBuf],
) -> Result<Vec<(String, SecretString)>, Failure> {
    let mut secrets = Vec::new();
    let environment = EnvProvider::new();
    for name in env {
        let secret = environment
            .get(name)?
            .ok_or_else(|| Failure(format!("environment variable `{name}` is not set")))?;
        if secret.value().expose_secret().chars().count() < DEFAULT_MIN_SECRET_LEN {
            return Err(Failure(format!(
                "`{name}` is shorter than {DEFAULT_MIN_SECRET_LEN} characters: redacting it everywhere would garble the output"
            )));
        }
        secrets.push((name.clone(), secret.into_value()));
    }
    for path in dotenv {
        let provider = DotenvProvider::from_path(path)?;
        let names: Vec<String> = provider.keys().map(str::to_owned).collect();
        add_all(&mut secrets, &provider, names, path)?;
    }
    for dir in files {
        let provider = FileProvider::new(dir)?;
        let mut names = Vec::new();
        let entries = std::fs::read_dir(dir)
            .map_err(|err| Failure(format!("cannot list `{}`: {err}", dir.display())))?;
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_file()
                && let Some(name) = entry.file_name().to_str()
                && !name.starts_with('.')
            {
                names.push(name.to_owned());
            }
        }
        names.sort();
        add_all(&mut secrets, &provider, names, dir)?;
    }
    Ok(secrets)
}

/// Adds every key of `provider`, skipping (with a note) values too short to be secrets, such as
/// `LOG_LEVEL=info` in a .env file.
fn add_all(
    secrets: &mut Vec<(String, SecretString)>,
    provider: &dyn SecretProvider,
    names: Vec<String>,
    from: &Path,
) -> Result<(), Failure> {
    for name in names {
        let Some(secret) = provider.get(&name)? else {
            continue;
        };
        if secret.value().expose_secret().chars().count() < DEFAULT_MIN_SECRET_LEN {
            eprintln!(
                "keyward: not redacting `{name}` from {}: shorter than {DEFAULT_MIN_SECRET_LEN} characters",
                from.display()
            );
            continue;
        }
        secrets.push((name, secret.into_value()));
    }
    Ok(())
}

/// The stream redactor, then the detector on whole lines: a key of a known format is only
/// recognised whole, so the detector waits for the end of its line.
struct LineFilter {
    stream: StreamRedactor,
    detector: Option<Detector>,
    /// Redacted text of the current, unfinished line.
    pending: String,
}

impl LineFilter {
    /// Takes more input; returns the complete lines that are now safe to write.
    fn push(&mut self, piece: &str) -> String {
        self.stream.push_into(piece, &mut self.pending);
        match self.pending.rfind('\n') {
            Some(end) => {
                let rest = self.pending.split_off(end + 1);
                let lines = std::mem::replace(&mut self.pending, rest);
                self.detect(lines)
            }
            None => String::new(),
        }
    }

    /// Ends the input: everything left, redacted.
    fn finish(&mut self) -> String {
        self.stream.finish_into(&mut self.pending);
        let rest = std::mem::take(&mut self.pending);
        self.detect(rest)
    }

    fn detect(&self, text: String) -> String {
        let Some(detector) = &self.detector else {
            return text;
        };
        let found = detector.find(&text);
        if found.is_empty() {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for detection in found {
            let range = detection.range();
            out.push_str(&text[at..range.start]);
            match detection.format() {
                Some(format) => out.push_str(&format!("[REDACTED:{}]", format.name())),
                None => out.push_str("[REDACTED]"),
            }
            at = range.end;
        }
        out.push_str(&text[at..]);
        out
    }
}
