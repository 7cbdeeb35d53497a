//! The deployment audit: the pre-deployment checklist for an agent's keys, as code.
//!
//! Some items look at the project directory (keys written in files, git's ignore rules); the
//! others look at the running program (where its keys come from, their rotation, usage
//! monitoring, redaction, scopes, alerts) and say "not checked" when the audit is run without
//! one, as `keyward audit` does.

mod fixture;
mod git;
mod report;
mod scan;
mod shown;

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use crate::guard::Redactor;
use crate::manager::KeyManager;
use crate::rotation::CreatedAt;
use crate::rotation::RotationStatus;
use crate::scope::Scope;
use crate::usage::UsageLog;

pub use report::{AuditItem, AuditReport, AuditStatus, Check};
pub use scan::{
    ScanError, ScanFinding, ScanProgress, ScanReport, Scanner, parse_allowlist, read_allowlist,
};

use git::GitCheck;

/// Key sources that are the environment, files or a secrets manager: the names of this crate's
/// providers.
const EXTERNAL_SOURCES: [&str; 6] = [
    "env",
    "dotenv",
    "file",
    "keyring",
    "vault",
    "aws-secrets-manager",
];

/// The label of the usage log's overflow rows, which is no agent's name.
const OVERFLOW_ROW: &str = "(other)";

/// The pre-deployment checklist, run against a project directory and, optionally, the running
/// program's [`KeyManager`], [`UsageLog`] and [`Scope`]s.
///
/// | # | item | needs |
/// | --- | --- | --- |
/// | 1 | no hardcoded keys in the project's files | the directory |
/// | 2 | keys come from the environment, files or a secrets manager | a key manager |
/// | 3 | `.env`, `.env.local`, `.env.*.local`, `*.key`, `*_key.txt`, `secrets/`, `credentials.json` are ignored by git; no `.env*` file is tracked | git |
/// | 4 | a rotation policy covers every managed key and none is due or expired | a key manager |
/// | 5 | usage monitoring is attached | the program |
/// | 6 | logs pass through a redactor that catches every managed key | the program's log redactor |
/// | 7 | every agent reads keys through a scope | scopes or agents |
/// | 8 | at least one alert rule is active | the program |
///
/// Items 5, 6 and 8 are "not checked" when the audit is given nothing of the program (no key
/// manager, usage log or scope); once it is given any of them, it expects to be told about the
/// rest, and a missing usage log or redactor fails.
///
/// ```
/// use keyward::audit::{Audit, AuditStatus, Check};
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("main.py"), "key = os.environ['OPENAI_API_KEY']\n")?;
/// let report = Audit::new(dir.path()).run();
/// assert_eq!(report.status(Check::HardcodedKeys), AuditStatus::Pass);
/// assert_eq!(report.status(Check::Rotation), AuditStatus::NotChecked);
/// println!("{report}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Audit<'a> {
    project: PathBuf,
    scanner: Scanner,
    git: OsString,
    manager: Option<&'a KeyManager>,
    usage: Option<&'a UsageLog>,
    scopes: Vec<Scope>,
    agents: BTreeSet<String>,
    logs_redacted: Option<bool>,
    log_redactor: Option<&'a Redactor>,
}

impl<'a> Audit<'a> {
    /// An audit of the project in `project_dir`.
    pub fn new(project_dir: impl Into<PathBuf>) -> Audit<'a> {
        Audit {
            project: project_dir.into(),
            scanner: Scanner::new(),
            git: OsString::from("git"),
            manager: None,
            usage: None,
            scopes: Vec::new(),
            agents: BTreeSet::new(),
            logs_redacted: None,
            log_redactor: None,
        }
    }

    /// The program's key manager: checks where its keys come from and their rotation.
    pub fn with_manager(mut self, manager: &'a KeyManager) -> Audit<'a> {
        self.manager = Some(manager);
        self
    }

    /// The program's usage log: checks that it is attached and has alert rules, and that every
    /// agent it has seen has a scope.
    pub fn with_usage_log(mut self, usage: &'a UsageLog) -> Audit<'a> {
        self.usage = Some(usage);
        self
    }

    /// The scopes the program's agents read keys through.
    pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Audit<'a> {
        self.scopes.extend(scopes);
        self
    }

    /// The program's agents: each must have a scope. Agents seen by the usage log are added
    /// to these.
    pub fn with_agents<I>(mut self, agents: I) -> Audit<'a>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.agents.extend(agents.into_iter().map(Into::into));
        self
    }

    /// The redactor the program's log writer goes through (the one given to its
    /// [`RedactingWriter`](crate::guard::RedactingWriter), or the current one of a
    /// [`SharedRedactor`](crate::guard::SharedRedactor)): the audit checks that it catches every key
    /// of the key manager.
    pub fn with_log_redactor(mut self, redactor: &'a Redactor) -> Audit<'a> {
        self.log_redactor = Some(redactor);
        self
    }

    /// Declares whether the program's logs pass through a redactor, for programs that redact
    /// by other means than a [`Redactor`] the audit can be given. Neither declared nor given,
    /// the item fails when the audit is given the program, and is not checked otherwise.
    pub fn with_logs_redacted(mut self, redacted: bool) -> Audit<'a> {
        self.logs_redacted = Some(redacted);
        self
    }

    /// Scans files with this scanner (its detector, allowlist, size cap, threads).
    pub fn with_scanner(mut self, scanner: Scanner) -> Audit<'a> {
        self.scanner = scanner;
        self
    }

    /// Runs `git` from this path instead of finding it on `PATH`.
    pub fn with_git(mut self, git: impl Into<OsString>) -> Audit<'a> {
        self.git = git.into();
        self
    }

    /// Runs every item of the checklist.
    ///
    /// It reads the project's files and runs git; nothing is written. Problems along the way
    /// (an unreadable directory, git missing) become the verdict of the item concerned.
    pub fn run(&self) -> AuditReport {
        let items = vec![
            self.check_hardcoded_keys(),
            self.check_key_sources(),
            self.check_git_ignore(),
            self.check_rotation(),
            self.check_usage_monitoring(),
            self.check_log_redaction(),
            self.check_scopes(),
            self.check_alerts(),
        ];
        AuditReport::new(self.project.clone(), items)
    }

    /// Whether the audit was given anything of a running program.
    fn has_program(&self) -> bool {
        self.manager.is_some() || self.usage.is_some() || !self.scopes.is_empty()
    }

    fn not_running(&self, check: Check, what: &str) -> AuditItem {
        AuditItem::new(
            check,
            AuditStatus::NotChecked,
            format!("no running program: pass its {what} to the audit"),
        )
    }

    fn check_hardcoded_keys(&self) -> AuditItem {
        let check = Check::HardcodedKeys;
        let report = match self.scanner.scan(&self.project) {
            Ok(report) => report,
            Err(err) => return AuditItem::new(check, AuditStatus::Fail, err.to_string()),
        };
        let mut details: Vec<String> = report
            .findings()
            .iter()
            .map(ScanFinding::to_string)
            .collect();
        details.extend(report.errors().iter().map(ScanError::to_string));
        let status = if !report.is_clean() {
            AuditStatus::Fail
        } else if !report.errors().is_empty() {
            AuditStatus::Warn
        } else {
            AuditStatus::Pass
        };
        AuditItem::new(check, status, report.summary()).with_details(details)
    }

    fn check_key_sources(&self) -> AuditItem {
        let check = Check::KeySources;
        let Some(manager) = self.manager else {
            return self.not_running(check, "KeyManager");
        };
        let keys = manager.keys();
        if keys.is_empty() {
            return AuditItem::new(
                check,
                AuditStatus::Warn,
                format!(
                    "the key manager (provider `{}`) holds no keys yet: audit after `preload`",
                    manager.provider_name()
                ),
            );
        }
        let mut in_memory = Vec::new();
        let mut unknown = Vec::new();
        for key in &keys {
            let source = key.source();
            if source == "memory" {
                in_memory.push(format!("{}: from `{source}`", key.name()));
            } else if !EXTERNAL_SOURCES.contains(&source) {
                unknown.push(format!("{}: from `{source}`", key.name()));
            }
        }
        if !in_memory.is_empty() {
            let reason = format!(
                "{} of {} keys come from program memory (a `MemoryProvider`), which means a key in the code or a test fixture",
                in_memory.len(),
                keys.len()
            );
            return AuditItem::new(check, AuditStatus::Fail, reason).with_details(in_memory);
        }
        if !unknown.is_empty() {
            let reason = format!(
                "{} of {} keys come from sources the audit does not know; make sure they are not in the code",
                unknown.len(),
                keys.len()
            );
            return AuditItem::new(check, AuditStatus::Warn, reason).with_details(unknown);
        }
        let sources: BTreeSet<&str> = keys.iter().map(|key| key.source()).collect();
        let sources: Vec<&str> = sources.into_iter().collect();
        AuditItem::new(
            check,
            AuditStatus::Pass,
            format!("{} keys, from {}", keys.len(), sources.join(", ")),
        )
    }

    fn check_git_ignore(&self) -> AuditItem {
        let check = Check::GitIgnore;
        match git::check(OsStr::new(&self.git), &self.project) {
            GitCheck::NoGit(err) => AuditItem::new(
                check,
                AuditStatus::NotChecked,
                format!("git could not be run ({err}); install git to check ignore rules"),
            ),
            GitCheck::NotARepository => AuditItem::new(
                check,
                AuditStatus::Warn,
                "not a git repository, so no ignore rule protects secret files; check this in the repository the project is deployed from",
            ),
            GitCheck::Failed(err) => AuditItem::new(check, AuditStatus::Warn, err),
            GitCheck::Checked {
                not_ignored,
                probed,
                tracked,
            } => {
                if not_ignored.is_empty() && probed.is_empty() && tracked.is_empty() {
                    return AuditItem::new(
                        check,
                        AuditStatus::Pass,
                        format!(
                            "git ignores {}, and tracks no `.env` file",
                            git::MUST_BE_IGNORED.join(", ")
                        ),
                    );
                }
                let mut problems = Vec::new();
                let mut details = Vec::new();
                if !not_ignored.is_empty() {
                    problems.push(format!(
                        "git does not ignore {}, in the project now",
                        not_ignored.join(", ")
                    ));
                    details.extend(
                        not_ignored
                            .iter()
                            .map(|path| format!("not ignored: {path}")),
                    );
                }
                if !probed.is_empty() {
                    problems.push(format!(
                        "no rule would keep {} out of git (names probed for the checklist's \
                         patterns; no such file yet)",
                        probed.join(", ")
                    ));
                    details.extend(
                        probed
                            .iter()
                            .map(|path| format!("probed, would not be ignored: {path}")),
                    );
                }
                if !tracked.is_empty() {
                    problems.push(format!(
                        "git tracks {} (remove with `git rm --cached` and rotate what it held)",
                        tracked.join(", ")
                    ));
                    details.extend(tracked.iter().map(|path| format!("tracked: {path}")));
                }
                AuditItem::new(check, AuditStatus::Fail, problems.join("; ")).with_details(details)
            }
        }
    }

    fn check_rotation(&self) -> AuditItem {
        let check = Check::Rotation;
        let Some(manager) = self.manager else {
            return self.not_running(check, "KeyManager");
        };
        let keys = manager.keys();
        if keys.is_empty() {
            return AuditItem::new(
                check,
                AuditStatus::Warn,
                "the key manager holds no keys yet: audit after `preload`",
            );
        }
        let report = manager.rotation_report();
        let mut failing = Vec::new();
        let mut warning = Vec::new();
        for entry in report.entries() {
            let line = format!("{}: {}", entry.name, entry.status);
            match entry.status {
                RotationStatus::Due | RotationStatus::Expired => failing.push(line),
                RotationStatus::DueSoon => warning.push(line),
                _ if matches!(entry.created_at, CreatedAt::Unknown { .. }) => warning.push(format!(
                    "{}: age unknown (give the source's creation time or a `_CREATED_AT` companion key)",
                    entry.name
                )),
                _ => {}
            }
        }
        if !failing.is_empty() {
            let reason = format!("{} keys due for rotation or expired", failing.len());
            failing.extend(warning);
            return AuditItem::new(check, AuditStatus::Fail, reason).with_details(failing);
        }
        if !warning.is_empty() {
            let reason = format!(
                "{} keys due soon or of unknown age; none is due yet",
                warning.len()
            );
            return AuditItem::new(check, AuditStatus::Warn, reason).with_details(warning);
        }
        let policies: BTreeSet<u64> = keys
            .iter()
            .map(|key| key.policy().rotate_after().as_secs() / 86_400)
            .collect();
        let policies: Vec<String> = policies.iter().map(|days| format!("{days} days")).collect();
        AuditItem::new(
            check,
            AuditStatus::Pass,
            format!(
                "{} keys, rotated every {}, none due",
                keys.len(),
                policies.join(" or ")
            ),
        )
    }

    fn check_usage_monitoring(&self) -> AuditItem {
        let check = Check::UsageMonitoring;
        if !self.has_program() {
            return self.not_running(check, "UsageLog");
        }
        let Some(usage) = self.usage else {
            return AuditItem::new(
                check,
                AuditStatus::Fail,
                "the audit was given no UsageLog: key use is not monitored",
            );
        };
        let report = usage.report();
        if let Some(manager) = self.manager {
            let keys = manager.keys();
            let recorded: BTreeSet<&str> = report.keys.iter().map(|k| k.label.as_str()).collect();
            let unrecorded: Vec<String> = keys
                .iter()
                .map(|key| key.name())
                .filter(|name| !recorded.contains(name))
                .map(str::to_owned)
                .collect();
            if !keys.is_empty() && unrecorded.len() == keys.len() {
                return AuditItem::new(
                    check,
                    AuditStatus::Warn,
                    "the usage log has recorded none of the key manager's keys: register `log.record_key_event` with `KeyManagerBuilder::on_event`",
                )
                .with_details(unrecorded);
            }
        }
        AuditItem::new(
            check,
            AuditStatus::Pass,
            format!(
                "a usage log is attached ({} uses of {} keys recorded)",
                report.total.uses,
                report.keys.len()
            ),
        )
    }

    fn check_log_redaction(&self) -> AuditItem {
        let check = Check::LogRedaction;
        if let Some(redactor) = self.log_redactor {
            return self.check_redactor(redactor);
        }
        match self.logs_redacted {
            Some(true) => AuditItem::new(
                check,
                AuditStatus::Pass,
                "the program declares its logs pass through a redactor",
            ),
            Some(false) => AuditItem::new(
                check,
                AuditStatus::Fail,
                "the program declares its logs do not pass through a redactor: wrap the log writer in a RedactingWriter",
            ),
            None if self.has_program() => AuditItem::new(
                check,
                AuditStatus::Fail,
                "the audit was given no log redactor (`Audit::with_log_redactor`)",
            ),
            None => self.not_running(check, "log redactor"),
        }
    }

    /// Whether `redactor` catches every key the manager holds, by value: a key loaded or
    /// rotated after the redactor was built is missing from it.
    fn check_redactor(&self, redactor: &Redactor) -> AuditItem {
        let check = Check::LogRedaction;
        if redactor.is_empty() {
            return AuditItem::new(
                check,
                AuditStatus::Fail,
                "the log redactor knows no secret, so it redacts nothing",
            );
        }
        let Some(manager) = self.manager else {
            return AuditItem::new(
                check,
                AuditStatus::Pass,
                format!("logs pass through a redactor of {} secrets", redactor.len()),
            );
        };
        let keys = manager.keys();
        let missing: Vec<String> = keys
            .iter()
            .filter(|key| {
                let print = key.fingerprint();
                !redactor
                    .find(key.expose_secret())
                    .iter()
                    .any(|found| found.fingerprint() == print)
            })
            .map(|key| format!("{}: not known to the log redactor", key.name()))
            .collect();
        if !missing.is_empty() {
            return AuditItem::new(
                check,
                AuditStatus::Fail,
                format!(
                    "the log redactor misses {} of the key manager's {} keys: keep it current with a SharedRedactor fed by the manager's events",
                    missing.len(),
                    keys.len()
                ),
            )
            .with_details(missing);
        }
        AuditItem::new(
            check,
            AuditStatus::Pass,
            format!(
                "logs pass through a redactor that knows all {} of the key manager's keys",
                keys.len()
            ),
        )
    }

    fn check_scopes(&self) -> AuditItem {
        let check = Check::Scopes;
        let mut agents = self.agents.clone();
        if let Some(usage) = self.usage {
            agents.extend(
                usage
                    .report()
                    .agents
                    .into_iter()
                    .filter(|row| !row.overflow)
                    .map(|row| row.name)
                    .filter(|name| name != OVERFLOW_ROW),
            );
        }
        if agents.is_empty() && self.scopes.is_empty() {
            return self.not_running(check, "agents or scopes");
        }
        let scoped: BTreeSet<&str> = self.scopes.iter().map(Scope::agent).collect();
        let unscoped: Vec<String> = agents
            .iter()
            .filter(|agent| !scoped.contains(agent.as_str()))
            .map(|agent| format!("{agent}: no scope"))
            .collect();
        if !unscoped.is_empty() {
            return AuditItem::new(
                check,
                AuditStatus::Fail,
                format!("{} agents read keys without a scope", unscoped.len()),
            )
            .with_details(unscoped);
        }
        let unbounded: Vec<String> = self
            .scopes
            .iter()
            .filter(|scope| scope.grants().any(|(pattern, _)| pattern == "*"))
            .map(|scope| format!("{}: may read every key (`*`)", scope.agent()))
            .collect();
        if !unbounded.is_empty() {
            return AuditItem::new(
                check,
                AuditStatus::Warn,
                format!(
                    "{} scopes grant every key: name the keys or a narrower pattern",
                    unbounded.len()
                ),
            )
            .with_details(unbounded);
        }
        AuditItem::new(
            check,
            AuditStatus::Pass,
            format!(
                "{} agents, each with a scope ({} scopes)",
                agents.len().max(scoped.len()),
                self.scopes.len()
            ),
        )
    }

    fn check_alerts(&self) -> AuditItem {
        let check = Check::Alerts;
        if !self.has_program() {
            return self.not_running(check, "UsageLog");
        }
        let Some(usage) = self.usage else {
            return AuditItem::new(
                check,
                AuditStatus::Fail,
                "the audit was given no UsageLog, so no alert rule",
            );
        };
        let rules: Vec<String> = usage.rules().map(ToString::to_string).collect();
        if rules.is_empty() {
            return AuditItem::new(
                check,
                AuditStatus::Fail,
                "the usage log has no alert rule: add one with `UsageLogBuilder::with_rule`",
            );
        }
        AuditItem::new(
            check,
            AuditStatus::Pass,
            format!("{} alert rules active", rules.len()),
        )
        .with_details(rules)
    }
}
