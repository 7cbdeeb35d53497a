//! The `keyward` binary, run for real on fixture trees made here.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use keyward::fingerprint;

fn keyward(args: &[&str], stdin: &str) -> Output {
    keyward_with_env(args, &[], stdin)
}

fn keyward_with_env(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let written = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    // A command that fails on its arguments exits before reading stdin.
    if let Err(err) = written {
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    }
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn github_key() -> String {
    format!("ghp_{}", "a1B2".repeat(9))
}

fn write(dir: &Path, path: &str, contents: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

fn tree_with_key() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let key = github_key();
    write(dir.path(), "src/lib.rs", "pub fn answer() -> u32 { 42 }\n");
    write(
        dir.path(),
        "scripts/release.sh",
        &format!("#!/bin/sh\n\nexport GITHUB_TOKEN={key}\n"),
    );
    (dir, key)
}

#[test]
fn scan_exits_1_on_findings_and_prints_them_masked() {
    let (dir, key) = tree_with_key();
    let output = keyward(&["scan", dir.path().to_str().unwrap()], "");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("scripts/release.sh:3:21: GitHub"),
        "{text}"
    );
    assert!(text.contains(&fingerprint(&key).to_string()));
    assert!(text.contains("2 files scanned"), "{text}");
    assert!(!text.contains(&key));
    // stderr is not a terminal here: no progress line
    assert_eq!(stderr(&output), "");
}

#[test]
fn scan_exits_0_on_a_clean_tree() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.py",
        "import os\nkey = os.environ['OPENAI_API_KEY']\n",
    );
    let output = keyward(&["scan", dir.path().to_str().unwrap()], "");
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn scan_writes_json() {
    let (dir, key) = tree_with_key();
    let output = keyward(
        &["scan", "--format", "json", dir.path().to_str().unwrap()],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let finding = &json["findings"][0];
    assert_eq!(finding["path"], "scripts/release.sh");
    assert_eq!(finding["line"], 3);
    assert_eq!(finding["kind"], "GitHub token");
    assert_eq!(finding["fingerprint"], fingerprint(&key).to_string());
    assert_eq!(json["files_scanned"], 2);
    assert!(!stdout(&output).contains(&key));
}

#[test]
fn scan_allowlist_takes_fingerprints_and_refuses_keys() {
    let (dir, key) = tree_with_key();
    let list = dir.path().join("allow.txt");
    std::fs::write(&list, format!("# revoked 2026-01\n{}\n", fingerprint(&key))).unwrap();
    let output = keyward(
        &[
            "scan",
            "--allowlist",
            list.to_str().unwrap(),
            dir.path().join("scripts").to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("1 allowlisted"));

    // a key pasted where its fingerprint belongs: refused, and not echoed
    std::fs::write(&list, format!("{key}\n")).unwrap();
    let output = keyward(
        &[
            "scan",
            "--allowlist",
            list.to_str().unwrap(),
            dir.path().to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("line 1") && err.contains("looks like a key"),
        "{err}"
    );
    assert!(!err.contains(&key));
}

/// A file that cannot be read is not a clean result. Permissions do not stop root, so the test
/// reads a file whose every read fails: `/proc/self/mem` at offset 0.
#[cfg(target_os = "linux")]
#[test]
fn scan_exits_2_when_a_file_cannot_be_read() {
    let output = keyward(&["scan", "/proc/self/mem"], "");
    let (out, err) = (stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(2), "{out}");
    assert!(
        out.contains("not scanned") && out.contains("1 unreadable"),
        "{out}"
    );
    assert!(err.contains("could not be read"), "{err}");
}

#[test]
fn scan_of_a_missing_path_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = keyward(&["scan", dir.path().join("nope").to_str().unwrap()], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot scan"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn audit_prints_the_checklist_and_fails_on_a_key() {
    let (dir, key) = tree_with_key();
    let output = keyward(&["audit", dir.path().to_str().unwrap()], "");
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("[FAIL] 1. no hardcoded keys"), "{text}");
    assert!(text.contains("[----] 4. a rotation policy"), "{text}");
    assert!(!text.contains(&key));

    let output = keyward(
        &["audit", "--format", "json", dir.path().to_str().unwrap()],
        "",
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 8);
    assert_eq!(json["items"][0]["status"], "fail");
}

#[test]
fn audit_passes_a_clean_repository() {
    let dir = tempfile::tempdir().unwrap();
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(git.success());
    write(
        dir.path(),
        ".gitignore",
        ".env*\n!.env.example\n*.key\n*_key.txt\nsecrets/\ncredentials.json\n",
    );
    let output = keyward(&["audit", dir.path().to_str().unwrap()], "");
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("[PASS] 3. secret files are ignored by git"),
        "{text}"
    );
}

#[test]
fn mask_and_fingerprint_read_secrets_from_stdin() {
    let key = github_key();
    let output = keyward(&["fingerprint"], &format!("{key}\n"));
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), format!("{}\n", fingerprint(&key)));

    let other = format!("sk-proj-{}", "Ab3d".repeat(10));
    let output = keyward(&["mask"], &format!("{key}\r\n{other}\n"));
    assert_eq!(
        stdout(&output),
        format!("{}\n{}\n", keyward::mask(&key), keyward::mask(&other))
    );
    assert!(!stdout(&output).contains(&key));

    // --whole: one secret spanning lines
    let pem = "line one\nline two";
    let output = keyward(&["fingerprint", "--whole"], &format!("{pem}\n"));
    assert_eq!(stdout(&output), format!("{}\n", fingerprint(pem)));
}

#[test]
fn mask_without_input_exits_2_and_secrets_are_not_taken_from_argv() {
    let output = keyward(&["mask"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no secret on stdin"));

    let output = keyward(&["fingerprint", &github_key()], "");
    assert_eq!(output.status.code(), Some(2), "argv must not be accepted");
}

#[test]
fn redact_filters_named_secrets_from_env_dotenv_and_files_and_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let from_env = format!("env-secret-{}", "Qw3r".repeat(5));
    let from_dotenv = format!("dotenv-secret-{}", "Ty6u".repeat(5));
    let from_file = format!("file-secret-{}", "Io9p".repeat(5));
    let unknown = github_key();
    write(
        dir.path(),
        "app.env",
        &format!("DB_PASSWORD={from_dotenv}\nLOG_LEVEL=info\n"),
    );
    write(dir.path(), "secrets/api_token", &from_file);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let secrets = dir.path().join("secrets");
        std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(
            secrets.join("api_token"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    let input = format!(
        "starting with {from_env}\nconnecting with password {from_dotenv}\nlevel info\ntoken {from_file} and {unknown}\nlast line without newline {from_env}"
    );
    let output = keyward_with_env(
        &[
            "redact",
            "--env",
            "KEYWARD_TEST_SECRET",
            "--dotenv",
            dir.path().join("app.env").to_str().unwrap(),
            "--files",
            dir.path().join("secrets").to_str().unwrap(),
        ],
        &[("KEYWARD_TEST_SECRET", &from_env)],
        &input,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "starting with [REDACTED:KEYWARD_TEST_SECRET]\n\
         connecting with password [REDACTED:DB_PASSWORD]\n\
         level info\n\
         token [REDACTED:api_token] and [REDACTED:GitHub token]\n\
         last line without newline [REDACTED:KEYWARD_TEST_SECRET]"
    );
    // the short value was skipped, and said so without showing it
    let err = stderr(&output);
    assert!(err.contains("not redacting `LOG_LEVEL`"), "{err}");
    assert!(!err.contains("info"), "{err}");
}

#[test]
fn redact_flushes_each_line_as_it_arrives() {
    use std::io::{BufRead, BufReader};

    let secret = format!("env-secret-{}", "Qw3r".repeat(5));
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["redact", "--env", "KEYWARD_TEST_SECRET"])
        .env("KEYWARD_TEST_SECRET", &secret)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for i in 0..3 {
        writeln!(stdin, "line {i}: {secret}").unwrap();
        stdin.flush().unwrap();
        // answered before stdin is closed: the filter does not wait for the end
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, format!("line {i}: [REDACTED:KEYWARD_TEST_SECRET]\n"));
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn redact_refuses_a_missing_or_short_variable() {
    let output = keyward_with_env(&["redact", "--env", "KEYWARD_TEST_UNSET_VAR"], &[], "x\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("`KEYWARD_TEST_UNSET_VAR` is not set"));

    let output = keyward_with_env(
        &["redact", "--env", "KEYWARD_TEST_SHORT"],
        &[("KEYWARD_TEST_SHORT", "abc")],
        "abc\n",
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("shorter than"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn redact_without_names_still_catches_known_formats() {
    let key = github_key();
    let output = keyward(&["redact"], &format!("pushing with {key}\n"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "pushing with [REDACTED:GitHub token]\n");
}

/// One line of 8 MB full of keys: each detection used to go back to the line start, which made
/// this take minutes (77 s in a release build); now it takes seconds in a debug build.
#[test]
fn redact_catches_every_key_on_a_line_of_megabytes() {
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next_key = move || {
        let body: String = (0..16)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(BASE32[(state % 32) as usize])
            })
            .collect();
        format!("AKIA{body}")
    };
    // Random ids the detector takes for keys on their own (a few read as placeholders).
    let detector = keyward::Detector::new();
    let keys: Vec<String> = std::iter::repeat_with(&mut next_key)
        .filter(|key| detector.is_match(key))
        .take(400_000)
        .collect();
    let line = keys.join(" ") + "\n";
    assert!(line.len() > 8_000_000);
    let output = keyward(&["redact"], &line);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let expected = vec!["[REDACTED:AWS access key id]"; keys.len()].join(" ") + "\n";
    assert!(stdout(&output) == expected, "not every key was redacted");
}
