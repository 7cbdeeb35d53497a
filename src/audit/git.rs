//! Whether secret files are kept out of git, asked of git itself.
//!
//! Gitignore semantics have corners (negations, anchoring, directory-only patterns, nested
//! `.gitignore` files) that a re-implementation gets subtly wrong, so the audit asks git:
//! `git ls-files` for the secret files the project holds (tracked, or untracked and not
//! ignored), and `git check-ignore` both on those and on one name per pattern of the checklist,
//! so that a rule missing for a file that does not exist yet is found too.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

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

/// Whether the file at `path` (relative, `/`-separated) is one a project must keep out of git,
/// by the patterns of the checklist: `.env` and `.env.*` but the templates, `*.key`,
/// `*_key.txt`, anything under a `secrets/` directory, `credentials.json`. Every name of
/// [`MUST_BE_IGNORED`] is one.
pub(super) fn is_secret_file(path: &str) -> bool {
    let mut components = path.rsplit('/');
    let name = components.next().unwrap_or(path);
    let env_file = name == ".env" || (name.starts_with(".env.") && !TEMPLATES.contains(&name));
    env_file
        || name.ends_with(".key")
        || name.ends_with("_key.txt")
        || name == "credentials.json"
        || components.any(|dir| dir == "secrets")
}

/// What git said about a project.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum GitCheck {
    /// git could not be run at all.
    NoGit(String),
    /// The directory is not inside a git work tree.
    NotARepository,
    /// The secret files in the project that git does not ignore; the names of
    /// [`MUST_BE_IGNORED`] that git would not ignore and that no file of the project has (a rule
    /// missing for a file to come); and the `.env*` files git already tracks.
    Checked {
        not_ignored: Vec<String>,
        probed: Vec<String>,
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

    // Tracked files, and untracked ones git does not ignore: the files a commit could take.
    let files = match run(
        git,
        dir,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    ) {
        Ok(output) if output.status.success() => output,
        Ok(output) => return GitCheck::Failed(failure("git ls-files", &output)),
        Err(err) => return GitCheck::Failed(format!("git ls-files could not run: {err}")),
    };
    let mut existing: Vec<String> = String::from_utf8_lossy(&files.stdout)
        .split('\0')
        .filter(|path| is_secret_file(path))
        .map(str::to_owned)
        .collect();
    // Tracked files come first, then untracked; a conflicted file once per stage.
    existing.sort();
    existing.dedup();

    // `--no-index`: a tracked `.env` still counts as ignored by the patterns; being tracked is
    // reported separately below. Paths go in on stdin: a project may hold many key files.
    let asked: Vec<&str> = MUST_BE_IGNORED
        .iter()
        .copied()
        .chain(existing.iter().map(String::as_str))
        .collect();
    let ignored = match run_with_input(
        git,
        dir,
        &["check-ignore", "--no-index", "--stdin", "-z"],
        &asked,
    ) {
        // 0: some paths are ignored, 1: none is
        Ok(output) if matches!(output.status.code(), Some(0 | 1)) => output,
        Ok(output) => return GitCheck::Failed(failure("git check-ignore", &output)),
        Err(err) => return GitCheck::Failed(format!("git check-ignore could not run: {err}")),
    };
    let ignored = String::from_utf8_lossy(&ignored.stdout);
    let ignored: HashSet<&str> = ignored.split('\0').collect();
    let probed = MUST_BE_IGNORED
        .iter()
        .filter(|path| !ignored.contains(**path) && !existing.iter().any(|file| file == **path))
        .map(|path| path.to_string())
        .collect();
    let not_ignored = existing
        .into_iter()
        .filter(|path| !ignored.contains(path.as_str()))
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
        probed,
        tracked,
    }
}

fn run(git: &OsStr, dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    command(git, dir).args(args).output()
}

fn command(git: &OsStr, dir: &Path) -> Command {
    let mut command = Command::new(git);
    command
        .arg("-C")
        .arg(dir)
        // The project's own ignore files decide, not the auditor's global excludes file, which
        // the rest of the team does not have.
        .args(["-c", "core.excludesFile="])
        // The audited repository's own config must not run commands for us: an fsmonitor hook
        // would run on `ls-files`.
        .args(["-c", "core.fsmonitor=false"]);
    command
}

/// [`run`], with `paths` written to git's standard input, each ended by a NUL (for `--stdin
/// -z`). A thread writes while this one reads, so that neither pipe can fill and stall git.
fn run_with_input(
    git: &OsStr,
    dir: &Path,
    args: &[&str],
    paths: &[&str],
) -> std::io::Result<Output> {
    let mut child = command(git, dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdin = child.stdin.take();
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> std::io::Result<()> {
            let Some(mut stdin) = stdin else {
                return Ok(());
            };
            for path in paths {
                match stdin.write_all(path.as_bytes()).and(stdin.write_all(b"\0")) {
                    // git stopped reading: its status and stderr say why.
                    Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                    other => other?,
                }
            }
            Ok(())
        });
        let output = child.wait_with_output()?;
        match writer.join() {
            Ok(written) => written.map(|()| output),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

fn failure(what: &str, output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr.lines().next().unwrap_or("").trim();
    format!("{what} failed ({}): {first}", output.status)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The patterns hold in any directory, and only on the name (or a `secrets` directory).
    #[test]
    fn secret_files_are_known_by_name_in_any_directory() {
        let secret = [
            ".env",
            ".env.local",
            ".env.production",
            ".env.staging.local",
            "server.key",
            "openai_key.txt",
            "credentials.json",
            "secrets/token",
            "secrets/nested/token",
        ];
        let not_secret = [
            ".env.example",
            ".env.sample",
            ".env.template",
            ".envrc",
            "env",
            "keys.rs",
            "key.txt",
            "credentials.json.md",
            "secrets",
            "my_secrets/token",
            "src/secrets.rs",
        ];
        assert!(MUST_BE_IGNORED.iter().all(|path| is_secret_file(path)));
        proptest!(|(dirs in proptest::collection::vec("[a-z_.]{1,8}", 0..4))| {
            prop_assume!(!dirs.iter().any(|dir| dir == "secrets"));
            let prefix: String = dirs.iter().map(|dir| format!("{dir}/")).collect();
            for name in secret {
                prop_assert!(is_secret_file(&format!("{prefix}{name}")), "{}{}", prefix, name);
            }
            for name in not_secret {
                prop_assert!(!is_secret_file(&format!("{prefix}{name}")), "{}{}", prefix, name);
            }
        });
    }
}
