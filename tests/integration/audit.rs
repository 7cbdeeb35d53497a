//! The deployment audit on fixture trees made here: each checklist item passing and failing.
#![cfg(feature = "audit")]
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};
use keyward::audit::{Audit, AuditStatus, Check, Scanner};
use keyward::clock::ManualClock;
use keyward::usage::{AlertRule, KeyId, Usage};
use keyward::{
    DotenvProvider, KeyManager, MemoryProvider, Redactor, Scope, SecretString, UsageLog,
    fingerprint,
};
use tempfile::TempDir;

fn openai_key() -> String {
    format!("sk-proj-{}", "Ab3d".repeat(10))
}

fn github_key() -> String {
    format!("ghp_{}", "a1B2".repeat(9))
}

fn write(dir: &Path, path: &str, contents: impl AsRef<[u8]>) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// A git repository whose .gitignore covers every secret file of the checklist.
fn good_repo() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    write(
        dir.path(),
        ".gitignore",
        ".env\n.env.*\n!.env.example\n*.key\n*_key.txt\nsecrets/\ncredentials.json\ntarget/\n",
    );
    write(
        dir.path(),
        "src/main.rs",
        "fn main() { let key = std::env::var(\"OPENAI_API_KEY\"); }\n",
    );
    dir
}

fn status(report: &keyward::audit::AuditReport, check: Check) -> AuditStatus {
    report.status(check)
}

// 1. hardcoded keys

#[test]
fn a_clean_tree_passes_the_key_scan() {
    let dir = good_repo();
    let report = Audit::new(dir.path()).run();
    let item = report.item(Check::HardcodedKeys).unwrap();
    assert_eq!(item.status, AuditStatus::Pass, "{report}");
    assert!(item.reason.contains("2 files scanned"), "{}", item.reason);
}

#[test]
fn a_key_in_a_file_fails_with_file_line_format_and_a_masked_preview() {
    let dir = good_repo();
    let key = openai_key();
    write(
        dir.path(),
        "src/client.py",
        format!("import os\n\nclient = OpenAI(api_key=\"{key}\")\n"),
    );
    let report = Audit::new(dir.path()).run();
    let item = report.item(Check::HardcodedKeys).unwrap();
    assert_eq!(item.status, AuditStatus::Fail);
    assert_eq!(item.details.len(), 1, "{:?}", item.details);
    let detail = &item.details[0];
    assert!(detail.starts_with("src/client.py:3:26: OpenAI"), "{detail}");
    assert!(detail.contains(&fingerprint(&key).to_string()), "{detail}");
    assert!(!report.to_string().contains(&key));
    assert!(!format!("{report:?}").contains(&key));
    assert_eq!(report.exit_code(), 1);
    assert!(!report.is_passing());
}

#[test]
fn the_scan_honours_gitignore_and_skips_binaries_and_large_files() {
    let dir = good_repo();
    // a key where it belongs: an ignored .env file
    write(
        dir.path(),
        ".env",
        format!("OPENAI_API_KEY={}\n", openai_key()),
    );
    write(dir.path(), "target/debug/out.txt", github_key());
    let mut binary = github_key().into_bytes();
    binary.insert(0, 0);
    write(dir.path(), "logo.png", binary);
    write(
        dir.path(),
        "big.json",
        format!("{}{}", " ".repeat(2048), github_key()),
    );
    let report = Scanner::new()
        .with_max_file_size(1024)
        .scan(dir.path())
        .unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.skipped_binary(), 1);
    assert_eq!(report.skipped_large(), 1);
    // .gitignore and src/main.rs
    assert_eq!(report.files_scanned(), 2);

    // without the size cap the large file is read, and its key found
    let report = Scanner::new().scan(dir.path()).unwrap();
    assert_eq!(report.findings().len(), 1, "{report}");
    assert_eq!(report.findings()[0].path(), Path::new("big.json"));
}

#[test]
fn allowlisted_fingerprints_are_not_reported() {
    let dir = good_repo();
    let key = github_key();
    write(dir.path(), "docs/revoked.md", format!("old token: {key}\n"));
    let scanner = Scanner::new().with_allowlist([fingerprint(&key)]);
    let report = Audit::new(dir.path()).with_scanner(scanner).run();
    assert_eq!(status(&report, Check::HardcodedKeys), AuditStatus::Pass);
    assert!(
        report
            .item(Check::HardcodedKeys)
            .unwrap()
            .reason
            .contains("1 allowlisted")
    );
}

#[test]
fn one_thread_and_two_find_the_same_keys() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..40 {
        let body = if i % 7 == 0 {
            format!("token = \"{}\"\n", github_key())
        } else {
            "let x = 1;\n".repeat(50)
        };
        write(dir.path(), &format!("d{}/f{i}.rs", i % 5), body);
    }
    let one = Scanner::new().with_threads(1).scan(dir.path()).unwrap();
    let two = Scanner::new().with_threads(2).scan(dir.path()).unwrap();
    assert_eq!(one.findings().len(), 6);
    assert_eq!(one, two);
}

#[test]
fn a_single_file_can_be_scanned_and_is_named_by_its_file_name() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "notes.txt", format!("\n{}\n", github_key()));
    let report = Scanner::new().scan(&dir.path().join("notes.txt")).unwrap();
    assert_eq!(report.findings().len(), 1);
    assert_eq!(report.findings()[0].path(), Path::new("notes.txt"));
    assert_eq!(report.findings()[0].line(), 2);
}

#[test]
fn gitignore_outside_a_repository_does_not_hide_files() {
    // outside a repository a .gitignore keeps nothing out of a commit, so the file is scanned
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".gitignore", "deploy.sh\n");
    write(dir.path(), "deploy.sh", format!("TOKEN={}\n", github_key()));
    assert_eq!(Scanner::new().scan(dir.path()).unwrap().findings().len(), 1);
    git(dir.path(), &["init", "-q"]);
    assert!(Scanner::new().scan(dir.path()).unwrap().is_clean());
}

#[test]
fn a_missing_directory_fails_the_scan_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let report = Audit::new(&missing).run();
    let item = report.item(Check::HardcodedKeys).unwrap();
    assert_eq!(item.status, AuditStatus::Fail);
    assert!(item.reason.contains("nope"), "{}", item.reason);
}

// 2. key sources and 4. rotation

fn clock_at(days_after_new_year: i64) -> ManualClock {
    ManualClock::new(
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + TimeDelta::days(days_after_new_year),
    )
}

/// A manager over a .env file whose key was created on 2026-01-01.
fn dotenv_manager(dir: &Path, clock: ManualClock) -> KeyManager {
    write(
        dir,
        "run/.env",
        format!(
            "OPENAI_API_KEY={}\nOPENAI_API_KEY_CREATED_AT=2026-01-01\n",
            openai_key()
        ),
    );
    let provider = DotenvProvider::from_path(dir.join("run/.env")).unwrap();
    let manager = KeyManager::builder(provider)
        .with_clock(clock)
        .build()
        .unwrap();
    manager.get("OPENAI_API_KEY").unwrap();
    manager
}

#[test]
fn keys_from_a_dotenv_file_pass_and_keys_in_memory_fail() {
    let dir = good_repo();
    let outside = tempfile::tempdir().unwrap();
    let manager = dotenv_manager(outside.path(), clock_at(10));
    let report = Audit::new(dir.path()).with_manager(&manager).run();
    let item = report.item(Check::KeySources).unwrap();
    assert_eq!(item.status, AuditStatus::Pass, "{report}");
    assert!(item.reason.contains("dotenv"));

    let manager =
        KeyManager::builder(MemoryProvider::new().with("OPENAI_API_KEY", openai_key().as_str()))
            .build()
            .unwrap();
    manager.get("OPENAI_API_KEY").unwrap();
    let report = Audit::new(dir.path()).with_manager(&manager).run();
    let item = report.item(Check::KeySources).unwrap();
    assert_eq!(item.status, AuditStatus::Fail);
    assert_eq!(item.details, ["OPENAI_API_KEY: from `memory`"]);

    let manager = KeyManager::builder(
        MemoryProvider::named("company-vault").with("OPENAI_API_KEY", openai_key().as_str()),
    )
    .build()
    .unwrap();
    manager.get("OPENAI_API_KEY").unwrap();
    let report = Audit::new(dir.path()).with_manager(&manager).run();
    assert_eq!(status(&report, Check::KeySources), AuditStatus::Warn);
}

#[test]
fn an_empty_manager_warns_and_no_manager_is_not_checked() {
    let dir = good_repo();
    let manager = KeyManager::builder(MemoryProvider::new()).build().unwrap();
    let report = Audit::new(dir.path()).with_manager(&manager).run();
    assert_eq!(status(&report, Check::KeySources), AuditStatus::Warn);
    assert_eq!(status(&report, Check::Rotation), AuditStatus::Warn);

    let report = Audit::new(dir.path()).run();
    for check in [Check::KeySources, Check::Rotation] {
        let item = report.item(check).unwrap();
        assert_eq!(item.status, AuditStatus::NotChecked);
        assert!(
            item.reason.contains("no running program"),
            "{}",
            item.reason
        );
    }
}

#[test]
fn rotation_passes_when_current_warns_when_due_soon_and_fails_when_due() {
    let dir = good_repo();
    let outside = tempfile::tempdir().unwrap();
    for (days, expected) in [
        (10, AuditStatus::Pass),
        (80, AuditStatus::Warn),
        (100, AuditStatus::Fail),
    ] {
        let manager = dotenv_manager(outside.path(), clock_at(days));
        let report = Audit::new(dir.path()).with_manager(&manager).run();
        let item = report.item(Check::Rotation).unwrap();
        assert_eq!(item.status, expected, "day {days}: {report}");
        if expected == AuditStatus::Fail {
            assert_eq!(item.details, ["OPENAI_API_KEY: due"]);
        }
    }
}

#[test]
fn a_key_of_unknown_age_warns() {
    let dir = good_repo();
    let manager = KeyManager::builder(MemoryProvider::new().with("TOKEN", "not-a-real-token-00"))
        .build()
        .unwrap();
    manager.get("TOKEN").unwrap();
    let report = Audit::new(dir.path()).with_manager(&manager).run();
    let item = report.item(Check::Rotation).unwrap();
    assert_eq!(item.status, AuditStatus::Warn);
    assert!(
        item.details[0].contains("age unknown"),
        "{:?}",
        item.details
    );
}

// 3. git

#[test]
fn a_complete_gitignore_passes() {
    let dir = good_repo();
    write(dir.path(), ".env.example", "OPENAI_API_KEY=\n");
    git(dir.path(), &["add", ".gitignore", ".env.example"]);
    let report = Audit::new(dir.path()).run();
    assert_eq!(
        status(&report, Check::GitIgnore),
        AuditStatus::Pass,
        "{report}"
    );
}

#[test]
fn missing_ignore_rules_fail_and_name_the_files() {
    let dir = good_repo();
    // `.env` only: `.env.local` and the rest are not covered; `secret` is not `secrets/`
    write(dir.path(), ".gitignore", ".env\nsecret/\n");
    let report = Audit::new(dir.path()).run();
    let item = report.item(Check::GitIgnore).unwrap();
    assert_eq!(item.status, AuditStatus::Fail);
    assert_eq!(
        item.details,
        [
            "probed, would not be ignored: .env.local",
            "probed, would not be ignored: .env.production.local",
            "probed, would not be ignored: server.key",
            "probed, would not be ignored: api_key.txt",
            "probed, would not be ignored: secrets/x",
            "probed, would not be ignored: credentials.json",
        ]
    );
    // None of these files exists: the reason says they were probed, not found.
    assert!(item.reason.contains("names probed"), "{}", item.reason);
    assert!(
        !item.reason.contains("in the project now"),
        "{}",
        item.reason
    );
}

/// "not ignored" lists the secret files the project holds, wherever they are, by git's own
/// rules; the probed names are listed apart, and only where no such file exists.
#[test]
fn secret_files_that_exist_are_listed_apart_from_the_probed_names() {
    let dir = good_repo();
    write(dir.path(), ".gitignore", ".env\n*.key\ntarget/\n");
    let files = [
        (".env", true),
        (".env.example", false),
        (".env.staging", false),
        ("deploy/server.key", true),
        ("config/.env.production.local", false),
        ("config/secrets/db_password", false),
        ("services/api/credentials.json", false),
        ("tools/openai_key.txt", false),
        ("target/debug/cache.key", true),
        ("src/keys.rs", true),
    ];
    for (path, _) in files {
        write(dir.path(), path, "not a real secret\n");
    }
    // A tracked file that no rule covers counts too.
    git(dir.path(), &["add", "services/api/credentials.json"]);
    let report = Audit::new(dir.path()).run();
    let item = report.item(Check::GitIgnore).unwrap();
    assert_eq!(item.status, AuditStatus::Fail);
    assert_eq!(
        item.details,
        [
            "not ignored: .env.staging",
            "not ignored: config/.env.production.local",
            "not ignored: config/secrets/db_password",
            "not ignored: services/api/credentials.json",
            "not ignored: tools/openai_key.txt",
            "probed, would not be ignored: .env.local",
            "probed, would not be ignored: .env.production.local",
            "probed, would not be ignored: api_key.txt",
            "probed, would not be ignored: secrets/x",
            "probed, would not be ignored: credentials.json",
        ],
        "{}",
        item.reason
    );
    assert!(
        item.reason.contains("in the project now"),
        "{}",
        item.reason
    );

    // Once the rules cover them, nothing is listed, and the files still exist.
    write(
        dir.path(),
        ".gitignore",
        ".env*\n!.env.example\n*.key\n*_key.txt\nsecrets/\ncredentials.json\ntarget/\n",
    );
    git(
        dir.path(),
        &["rm", "-q", "--cached", "services/api/credentials.json"],
    );
    let report = Audit::new(dir.path()).run();
    let item = report.item(Check::GitIgnore).unwrap();
    assert_eq!(item.status, AuditStatus::Pass, "{report}");
    assert!(dir.path().join("config/.env.production.local").exists());
}

#[test]
fn gitignore_semantics_come_from_git_negations_and_nested_files_included() {
    let dir = good_repo();
    // a later negation re-includes one of the files
    write(
        dir.path(),
        ".gitignore",
        ".env*\n*.key\n*_key.txt\nsecrets/\ncredentials.json\n!.env.local\n",
    );
    let report = Audit::new(dir.path()).run();
    let item = report.item(Check::GitIgnore).unwrap();
    assert_eq!(item.details, ["probed, would not be ignored: .env.local"]);

    // a project in a subdirectory, covered by the repository's root .gitignore
    write(
        dir.path(),
        ".gitignore",
        ".env*\n*.key\n*_key.txt\nsecrets/\ncredentials.json\n",
    );
    std::fs::create_dir_all(dir.path().join("services/agent")).unwrap();
    let report = Audit::new(dir.path().join("services/agent")).run();
    assert_eq!(
        status(&report, Check::GitIgnore),
        AuditStatus::Pass,
        "{report}"
    );
}

#[test]
fn a_tracked_env_file_fails_even_when_ignored_now() {
    let dir = good_repo();
    write(dir.path(), "deploy/.env.production", "LOG_LEVEL=info\n");
    write(dir.path(), ".env.sample", "OPENAI_API_KEY=\n");
    git(
        dir.path(),
        &["add", "-f", "deploy/.env.production", ".env.sample"],
    );
    let report = Audit::new(dir.path()).run();
    let item = report.item(Check::GitIgnore).unwrap();
    assert_eq!(item.status, AuditStatus::Fail);
    assert_eq!(item.details, ["tracked: deploy/.env.production"]);
    assert!(item.reason.contains("git rm --cached"));
}

#[test]
fn no_repository_warns_and_no_git_is_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    let report = Audit::new(dir.path()).run();
    let item = report.item(Check::GitIgnore).unwrap();
    assert_eq!(item.status, AuditStatus::Warn);
    assert!(item.reason.contains("not a git repository"));

    let report = Audit::new(dir.path())
        .with_git(dir.path().join("no-such-git"))
        .run();
    let item = report.item(Check::GitIgnore).unwrap();
    assert_eq!(item.status, AuditStatus::NotChecked);
    assert!(
        item.reason.contains("git could not be run"),
        "{}",
        item.reason
    );
}

#[test]
#[cfg(unix)]
fn a_repository_of_another_user_is_not_called_no_repository() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    // git's ownership check needs the repository to belong to someone else: as root, give it
    // to `nobody`; as anyone else, this cannot be set up.
    if std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).is_err() {
        eprintln!("skipping: cannot give a directory to another user (not root)");
        return;
    }
    let report = Audit::new(dir.path()).run();
    let item = report.item(Check::GitIgnore).unwrap();
    assert_eq!(item.status, AuditStatus::Warn);
    assert!(item.reason.contains("dubious ownership"), "{}", item.reason);
    assert!(item.reason.contains("safe.directory"), "{}", item.reason);
    assert!(!item.reason.contains("not a git repository"));
}

// 5. usage monitoring, 6. redaction, 7. scopes, 8. alerts

fn alerting_log() -> UsageLog {
    UsageLog::builder()
        .with_rule(AlertRule::failure_rate(0.5, Duration::from_secs(300), 4))
        .with_rule(AlertRule::Denied)
        .on_alert(|_| {})
        .build()
        .unwrap()
}

#[test]
fn program_items_are_not_checked_without_a_program() {
    let dir = good_repo();
    let report = Audit::new(dir.path()).run();
    for check in [
        Check::UsageMonitoring,
        Check::LogRedaction,
        Check::Scopes,
        Check::Alerts,
    ] {
        assert_eq!(status(&report, check), AuditStatus::NotChecked, "{check}");
    }
    // the project items passed, nothing failed
    assert!(report.is_passing(), "{report}");
    assert_eq!(report.exit_code(), 0);
}

#[test]
fn a_fully_wired_program_passes_every_item() {
    let dir = good_repo();
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        ".env",
        format!(
            "OPENAI_API_KEY={}\nOPENAI_API_KEY_CREATED_AT=2026-01-01\n",
            openai_key()
        ),
    );
    let log = Arc::new(alerting_log());
    let manager =
        KeyManager::builder(DotenvProvider::from_path(outside.path().join(".env")).unwrap())
            .with_clock(clock_at(5))
            .on_event({
                let log = log.clone();
                move |event| log.record_key_event(event)
            })
            .build()
            .unwrap();
    let key = manager.get("OPENAI_API_KEY").unwrap();
    let scope = Scope::for_agent("researcher")
        .with_operations(["chat"])
        .allow("OPENAI_API_KEY", ["chat"])
        .build()
        .unwrap();
    log.record(Usage::new(
        &KeyId::new("OPENAI_API_KEY", key.value()),
        "researcher",
        "chat",
    ));

    let report = Audit::new(dir.path())
        .with_manager(&manager)
        .with_usage_log(&log)
        .with_scopes([scope])
        .with_logs_redacted(true)
        .run();
    for item in report.items() {
        assert_eq!(item.status, AuditStatus::Pass, "{report}");
    }
    let text = report.to_string();
    assert!(
        text.contains("[PASS] 8. at least one alert rule is active"),
        "{text}"
    );
    assert!(
        text.ends_with("PASSED: 8 passed, 0 warnings, 0 failed, 0 not checked"),
        "{text}"
    );
}

#[test]
fn a_usage_log_that_never_heard_of_the_managers_keys_warns() {
    let dir = good_repo();
    let outside = tempfile::tempdir().unwrap();
    let manager = dotenv_manager(outside.path(), clock_at(5));
    let log = alerting_log();
    let report = Audit::new(dir.path())
        .with_manager(&manager)
        .with_usage_log(&log)
        .run();
    let item = report.item(Check::UsageMonitoring).unwrap();
    assert_eq!(item.status, AuditStatus::Warn);
    assert!(item.reason.contains("record_key_event"));

    let report = Audit::new(dir.path()).with_manager(&manager).run();
    assert_eq!(status(&report, Check::UsageMonitoring), AuditStatus::Fail);
    assert_eq!(status(&report, Check::Alerts), AuditStatus::Fail);
}

#[test]
fn log_redaction_is_declared_by_the_program() {
    let dir = good_repo();
    let log = alerting_log();
    let audit = Audit::new(dir.path()).with_usage_log(&log);
    assert_eq!(
        status(&audit.clone().run(), Check::LogRedaction),
        AuditStatus::Fail
    );
    assert_eq!(
        status(
            &audit.clone().with_logs_redacted(false).run(),
            Check::LogRedaction
        ),
        AuditStatus::Fail
    );
    assert_eq!(
        status(&audit.with_logs_redacted(true).run(), Check::LogRedaction),
        AuditStatus::Pass
    );
}

#[test]
fn the_log_redactor_must_catch_every_managed_key() {
    let dir = good_repo();
    let outside = tempfile::tempdir().unwrap();
    let manager = dotenv_manager(outside.path(), clock_at(5));
    let empty = Redactor::builder().build().unwrap();
    let report = Audit::new(dir.path())
        .with_manager(&manager)
        .with_log_redactor(&empty)
        .run();
    let item = report.item(Check::LogRedaction).unwrap();
    assert_eq!(item.status, AuditStatus::Fail);
    assert!(item.reason.contains("knows no secret"), "{}", item.reason);

    // a redactor built before the key was rotated knows only the old value
    let old = SecretString::from(format!("sk-proj-{}", "Zz9y".repeat(10)));
    let stale = Redactor::builder()
        .with_secret("OPENAI_API_KEY", &old)
        .build()
        .unwrap();
    let report = Audit::new(dir.path())
        .with_manager(&manager)
        .with_log_redactor(&stale)
        .run();
    let item = report.item(Check::LogRedaction).unwrap();
    assert_eq!(item.status, AuditStatus::Fail);
    assert_eq!(
        item.details,
        ["OPENAI_API_KEY: not known to the log redactor"]
    );

    let current = SecretString::from(openai_key());
    let redactor = Redactor::builder()
        .with_secret("openai", &current)
        .build()
        .unwrap();
    let report = Audit::new(dir.path())
        .with_manager(&manager)
        .with_log_redactor(&redactor)
        .run();
    assert_eq!(
        status(&report, Check::LogRedaction),
        AuditStatus::Pass,
        "{report}"
    );
}

#[test]
fn agents_without_a_scope_fail_and_scopes_of_every_key_warn() {
    let dir = good_repo();
    let log = alerting_log();
    let value = SecretString::from(openai_key());
    let key = KeyId::new("OPENAI_API_KEY", &value);
    log.record(Usage::new(&key, "researcher", "chat"));
    log.record(Usage::new(&key, "writer", "chat"));
    let researcher = Scope::for_agent("researcher")
        .with_operations(["chat"])
        .allow("OPENAI_API_KEY", ["chat"])
        .build()
        .unwrap();

    // `writer` was seen by the usage log and has no scope; `planner` was declared
    let report = Audit::new(dir.path())
        .with_usage_log(&log)
        .with_scopes([researcher.clone()])
        .with_agents(["planner"])
        .run();
    let item = report.item(Check::Scopes).unwrap();
    assert_eq!(item.status, AuditStatus::Fail);
    assert_eq!(item.details, ["planner: no scope", "writer: no scope"]);

    let writer = Scope::for_agent("writer")
        .with_operations(["chat"])
        .allow("*", ["chat"])
        .build()
        .unwrap();
    let report = Audit::new(dir.path())
        .with_usage_log(&log)
        .with_scopes([researcher.clone(), writer])
        .run();
    let item = report.item(Check::Scopes).unwrap();
    assert_eq!(item.status, AuditStatus::Warn);
    assert_eq!(item.details, ["writer: may read every key (`*`)"]);

    let writer = Scope::for_agent("writer")
        .with_operations(["chat"])
        .allow("OPENAI_API_KEY", ["chat"])
        .build()
        .unwrap();
    let report = Audit::new(dir.path())
        .with_usage_log(&log)
        .with_scopes([researcher, writer])
        .run();
    assert_eq!(status(&report, Check::Scopes), AuditStatus::Pass);
}

#[test]
fn an_alert_rule_is_required() {
    let dir = good_repo();
    let silent = UsageLog::new();
    let report = Audit::new(dir.path()).with_usage_log(&silent).run();
    let item = report.item(Check::Alerts).unwrap();
    assert_eq!(item.status, AuditStatus::Fail);
    assert!(item.reason.contains("no alert rule"));

    let log = alerting_log();
    let report = Audit::new(dir.path()).with_usage_log(&log).run();
    let item = report.item(Check::Alerts).unwrap();
    assert_eq!(item.status, AuditStatus::Pass);
    assert_eq!(item.details.len(), 2);
}

#[cfg(feature = "serde")]
#[test]
fn the_report_serializes_without_values() {
    let dir = good_repo();
    let key = openai_key();
    write(
        dir.path(),
        "config.yaml",
        format!("openai:\n  api_key: {key}\n"),
    );
    let report = Audit::new(dir.path()).run();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["items"][0]["check"], "hardcoded_keys");
    assert_eq!(json["items"][0]["status"], "fail");
    assert_eq!(json["items"][1]["status"], "not_checked");
    assert!(!json.to_string().contains(&key));
}
