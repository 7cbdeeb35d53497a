//! Whether secret files are kept out of git, asked of git itself.
//!
//! Gitignore semantics have corners (negations, anchoring, directory-only patterns, nested
//! `.gitignore` files) that a re-implementation gets subtly wrong, so the audit runs
//! `git check-ignore` on files that do not exist yet and `git ls-files` for the ones already
//! tracked.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

/// Files a project must keep out of git, as paths relative to the project directory:
/// one for each pattern of the checklist (`.env`, `.env.local`, `.env.*.local`, `*.key`,
/// `*_key.txt`, `secrets/`, `credentials.json`).
pub(super) const MUST_BE_IGNORED: [&str; 7] = [
    ".env",
    ".env.local",
    ".env.production.local",
    "server.key",
    "api_key.txt",
    "secrets/x",
    "credentials.json",
];

/// `.env*` files that hold no secrets and are meant to be committed.
const TEMPLATES: [&str; 3] = [".env.example", ".env.sample", ".env.template"];

/// What git said about a project.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum GitCheck {
    /// git could not be run at all.
    NoGit(String),
    /// The directory is not inside a git work tree.
    NotARepository,
    /// The paths of [`MUST_BE_IGNORED`] that git would not ignore, and the `.env*` files git
    /// already tracks.
    Checked {
        not_ignored: Vec<String>,
        tracked: Vec<String>,
    },
    /// git ran but failed.
    Failed(String),
}

pub(super) fn check(git: &OsStr, dir: &Path) -> GitCheck {
    let inside = match run(git, dir, &["rev-parse", "--is-inside-work-tree"]) {
        Ok(output) => output,
        Err(err) => return GitCheck::NoGit(err.to_string()),
    };
    if !inside.status.success() {
        // git 2.35.2 and later refuse a repository owned by another user; that is not the
        // absence of one, and the fix is the user's call.
        if String::from_utf8_lossy(&inside.stderr).contains("dubious ownership") {
            return GitCheck::Failed(format!(
                "git refuses to read the repository at `{}`: it belongs to another user (git's \
                 \"dubious ownership\" check); run the audit as its owner, or, if you trust it, \
                 `git config --global --add safe.directory {}`",
                dir.display(),
                dir.display()
            ));
        }
        return GitCheck::NotARepository;
    }
    if String::from_utf8_lossy(&inside.stdout).trim() != "true" {
        return GitCheck::NotARepository;
    }

    // `--no-index`: a tracked `.env` still counts as ignored by the patterns; being tracked is
    // reported separately below.
    let mut args = vec!["check-ignore", "--no-index", "--"];
    args.extend(MUST_BE_IGNORED);
    let ignored = match run(git, dir, &args) {
        // 0: some paths are ignored, 1: none is
        Ok(output) if matches!(output.status.code(), Some(0 | 1)) => output,
        Ok(output) => return GitCheck::Failed(failure("git check-ignore", &output)),
        Err(err) => return GitCheck::Failed(format!("git check-ignore could not run: {err}")),
    };
    let ignored = String::from_utf8_lossy(&ignored.stdout);
    let ignored: Vec<&str> = ignored.lines().map(str::trim).collect();
    let not_ignored = MUST_BE_IGNORED
        .iter()
        .filter(|path| !ignored.contains(path))
        .map(|path| path.to_string())
        .collect();

    let tracked = match run(git, dir, &["ls-files", "-z", "--", ".env*", "**/.env*"]) {
        Ok(output) if output.status.success() => output,
        Ok(output) => return GitCheck::Failed(failure("git ls-files", &output)),
        Err(err) => return GitCheck::Failed(format!("git ls-files could not run: {err}")),
    };
    let tracked = String::from_utf8_lossy(&tracked.stdout)
        .split('\0')
        .filter(|path| !path.is_empty())
        .filter(|path| {
            let name = path.rsplit('/').next().unwrap_or(path);
            name.starts_with(".env") && !TEMPLATES.contains(&name)
        })
        .map(str::to_owned)
        .collect();
    GitCheck::Checked {
        not_ignored,
        tracked,
    }
}

fn run(git: &OsStr, dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new(git)
        .arg("-C")
        .arg(dir)
        // The project's own ignore files decide, not the auditor's global excludes file, which
        // the rest of the team does not have.
        .args(["-c", "core.excludesFile="])
        // The audited repository's own config must not run commands for us: an fsmonitor hook
        // would run on `ls-files`.
        .args(["-c", "core.fsmonitor=false"])
        .args(args)
        .output()
}

fn failure(what: &str, output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr.lines().next().unwrap_or("").trim();
    format!("{what} failed ({}): {first}", output.status)
}
