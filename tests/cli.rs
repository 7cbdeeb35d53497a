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

/// `keyward args` started with `env` added, its stdin, stdout and stderr piped.
fn spawn(args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn keyward_with_env(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = spawn(args, env);
    // Written from a thread: `redact` streams its output, so a large input would fill the
    // output pipe while this thread was still writing, and both would wait for ever.
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    let writer = std::thread::spawn(move || input.write_all(stdin.as_bytes()));
    let output = child.wait_with_output().unwrap();
    // A command that fails on its arguments exits before reading stdin.
    if let Err(err) = writer.join().unwrap() {
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    }
    output
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

/// A file name is the one text of a report its author did not write: control characters in it
/// are shown escaped, so it cannot forge report lines, and one that is not UTF-8 does not fail
/// the JSON report.
#[cfg(unix)]
#[test]
fn scan_and_audit_escape_file_names_and_write_any_name_in_json() {
    use std::os::unix::ffi::OsStrExt;

    let dir = tempfile::tempdir().unwrap();
    let key = github_key();
    let forged = "a\r\u{1b}[2Kb\nforged.rs:1:1: all clear";
    write(dir.path(), forged, &format!("TOKEN={key}\n"));
    let path = dir.path().to_str().unwrap();
    for command in ["scan", "audit"] {
        let output = keyward(&[command, path], "");
        assert_eq!(
            output.status.code(),
            Some(1),
            "{command}: {}",
            stderr(&output)
        );
        let text = stdout(&output);
        assert!(!text.contains(['\r', '\u{1b}']), "{command}: {text:?}");
        assert!(
            text.contains("a\\r\\u{1b}[2Kb\\nforged.rs:1:1: all clear:1:7: GitHub token"),
            "{command}: {text}"
        );
        assert!(
            !text.lines().any(|line| line.starts_with("forged.rs")),
            "{text}"
        );
    }

    let bad = dir.path().join(std::ffi::OsStr::from_bytes(b"bad\xff.sh"));
    std::fs::write(&bad, format!("TOKEN={key}\n")).unwrap();
    let output = keyward(&["scan", "--format", "json", path], "");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let paths: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["a\r\u{1b}[2Kb\nforged.rs:1:1: all clear", "bad\u{fffd}.sh"]
    );
    let output = keyward(&["audit", "--format", "json", path], "");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap();
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

/// The output of `child` if it ends within `seconds`; else it is killed and the test fails
/// (a command that waits for ever must fail its test, not hang it).
fn output_within(mut child: std::process::Child, seconds: u64, what: &str) -> Output {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{what}: still running after {seconds} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// An allowlist is read as the rule files are: at most 4 MiB, and only a regular file (a FIFO
/// with no writer would block the read for ever).
#[test]
fn scan_allowlist_is_capped_and_must_be_a_regular_file() {
    let (dir, _) = tree_with_key();
    let tree = dir.path().join("src");
    let list = dir.path().join("allow.txt");
    let line = "# a comment, and nothing else\n";
    std::fs::write(&list, line.repeat(4 * 1024 * 1024 / line.len() + 1)).unwrap();
    let output = keyward(
        &[
            "scan",
            "--allowlist",
            list.to_str().unwrap(),
            tree.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(
        err.contains("allowlist `") && err.contains("is larger than 4 MiB"),
        "{err}"
    );

    let missing = dir.path().join("missing.txt");
    let output = keyward(
        &[
            "scan",
            "--allowlist",
            missing.to_str().unwrap(),
            tree.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("could not read allowlist `") && err.contains("missing.txt"),
        "{err}"
    );
    assert!(err.contains("No such file"), "{err}");

    #[cfg(unix)]
    {
        let fifo = dir.path().join("fifo.txt");
        let made = Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|status| status.success());
        if made {
            for command in ["scan", "audit"] {
                let child = spawn(
                    &[
                        command,
                        "--allowlist",
                        fifo.to_str().unwrap(),
                        tree.to_str().unwrap(),
                    ],
                    &[],
                );
                let output = output_within(child, 30, command);
                let err = stderr(&output);
                assert_eq!(output.status.code(), Some(2), "{command}: {err}");
                assert!(err.contains("must be a regular file"), "{command}: {err}");
            }
        }
    }
}

/// `--threads` takes at most 256: ten thousand threads stalled the scan.
#[test]
fn scan_refuses_more_than_256_threads() {
    let (dir, _) = tree_with_key();
    let path = dir.path().to_str().unwrap();
    let output = output_within(
        spawn(&["scan", "--threads", "10000", path], &[]),
        30,
        "scan",
    );
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("from 1 to 256, or 0 for one per core"),
        "{err}"
    );
    let output = keyward(&["scan", "--threads", "256", path], "");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let output = keyward(&["scan", "--help"], "");
    assert!(
        stdout(&output).contains("at most 256"),
        "{}",
        stdout(&output)
    );
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

/// The findings of a JSON scan, as (path, line, kind, confidence, fingerprint).
fn findings(output: &Output) -> Vec<(String, u64, String, String, String)> {
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["kind"].as_str().unwrap().to_owned(),
                f["confidence"].as_str().unwrap().to_owned(),
                f["fingerprint"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A fake value of `len` characters from a fixed xorshift stream, over `alphabet`: random
/// enough for the entropy rule, the same on every run.
fn generated(state: &mut u64, len: usize, alphabet: &[u8]) -> String {
    (0..len)
        .map(|_| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            alphabet[(*state % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/// A tree of assignments of every length from 12 to 48 characters, random and digit-heavy, to
/// several secret-like names, plus one GitHub token: detections at all three levels.
fn tree_at_every_confidence() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15;
    let names = ["api_key", "client_secret", "password", "AUTH_TOKEN"];
    let mut text = String::new();
    for len in 12..=48 {
        let name = names[len % names.len()];
        let random = generated(&mut state, len, ALNUM);
        // Mostly digits: long but of modest entropy, like a numeric test vector.
        let digits = generated(&mut state, len, b"00112233445566778899af");
        text.push_str(&format!("{name} = \"{random}\"\n{name} = \"{digits}\"\n"));
    }
    write(dir.path(), "settings.py", &text);
    let key = github_key();
    write(
        dir.path(),
        "deploy.sh",
        &format!("export GITHUB_TOKEN={key}\n"),
    );
    dir
}

/// `scan` leaves out low-confidence detections by default (short or modest-entropy values
/// assigned to secret-like names: in dependency sources nearly all placeholders and test
/// vectors, see docs/benchmarks.md); the default reports exactly the medium and high findings
/// of a `--min-confidence low` scan, and `high` exactly the high ones.
#[test]
fn scan_reports_medium_confidence_and_above_by_default() {
    let dir = tree_at_every_confidence();
    let path = dir.path().to_str().unwrap();
    let low = keyward(
        &["scan", "--format", "json", "--min-confidence", "low", path],
        "",
    );
    assert_eq!(low.status.code(), Some(1));
    let all = findings(&low);
    // The tree must hold every level, or the comparisons below prove nothing.
    for level in ["low", "medium", "high"] {
        let count = all.iter().filter(|f| f.3 == level).count();
        assert!(count > 0, "no {level}-confidence finding in the tree");
    }
    let at = |levels: &[&str]| -> Vec<_> {
        all.iter()
            .filter(|f| levels.contains(&f.3.as_str()))
            .cloned()
            .collect()
    };
    let default = keyward(&["scan", "--format", "json", path], "");
    assert_eq!(default.status.code(), Some(1));
    assert_eq!(findings(&default), at(&["medium", "high"]));
    let high = keyward(
        &["scan", "--format", "json", "--min-confidence", "high", path],
        "",
    );
    assert_eq!(high.status.code(), Some(1));
    assert_eq!(findings(&high), at(&["high"]));
}

#[test]
fn scan_passes_a_low_confidence_finding_by_default_and_fails_it_with_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 0x2545_f491_4f6c_dd1d;
    // 14 random characters with a digit (a value of letters alone reads as a name): above
    // the generic rule's 12, below the 20 that make it medium.
    let value = format!("{}7", generated(&mut state, 13, ALNUM));
    write(
        dir.path(),
        "config.toml",
        &format!("password = \"{value}\"\n"),
    );
    let path = dir.path().to_str().unwrap();

    let default = keyward(&["scan", path], "");
    let text = stdout(&default);
    assert_eq!(default.status.code(), Some(0), "{text}");
    assert!(text.contains("0 keys found"), "{text}");

    let low = keyward(&["scan", "--min-confidence", "low", path], "");
    let text = stdout(&low);
    assert_eq!(low.status.code(), Some(1), "{text}");
    assert!(
        text.starts_with(
            "config.toml:1:13: secret assigned to a secret-like name (low confidence)"
        ),
        "{text}"
    );
    assert!(!text.contains(&value));
}

#[test]
fn scan_reports_a_known_format_key_at_every_level() {
    let dir = tempfile::tempdir().unwrap();
    let key = github_key();
    write(dir.path(), "ci.env", &format!("GITHUB_TOKEN={key}\n"));
    let path = dir.path().to_str().unwrap();
    for level in [None, Some("low"), Some("medium"), Some("high")] {
        let mut args = vec!["scan"];
        if let Some(level) = level {
            args.extend(["--min-confidence", level]);
        }
        args.push(path);
        let output = keyward(&args, "");
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{level:?}: {text}");
        assert!(
            text.starts_with("ci.env:1:14: GitHub token (high confidence)"),
            "{level:?}: {text}"
        );
        assert!(!text.contains(&key));
    }
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

/// `mask` and `fingerprint` read at most 1 MiB, and refuse more, or text that is not UTF-8,
/// with an error that shows none of it.
#[test]
fn mask_and_fingerprint_refuse_more_than_a_mebibyte_or_bytes_that_are_not_text() {
    let key = github_key();
    let almost = format!("{key}\n{}", "y".repeat(1024 * 1024 - key.len() - 1));
    let output = keyward(&["fingerprint"], &almost);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).starts_with(&format!("{}\n", fingerprint(&key))));

    for command in ["mask", "fingerprint"] {
        let output = keyward(&[command, "--whole"], &format!("{almost}y"));
        assert_eq!(output.status.code(), Some(2), "{command}");
        let err = stderr(&output);
        assert!(err.contains("more than 1 MiB"), "{command}: {err}");
        assert!(stdout(&output).is_empty(), "{command}");
    }

    let mut child = spawn(&["mask"], &[]);
    let mut input = child.stdin.take().unwrap();
    input.write_all(key.as_bytes()).unwrap();
    input.write_all(b"\xff\n").unwrap();
    drop(input);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("not UTF-8 text (an invalid byte at offset 40)"),
        "{err}"
    );
    assert!(!err.contains(&key[..12]), "{err}");
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
        // (A line that ends in a long word, such as the key, would wait for the next line's
        // first characters: it may be base64 that goes on there.)
        writeln!(stdin, "line {i}: {secret} done").unwrap();
        stdin.flush().unwrap();
        // answered before stdin is closed: the filter does not wait for the end
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(
            line,
            format!("line {i}: [REDACTED:KEYWARD_TEST_SECRET] done\n")
        );
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

/// What detection in `redact` does not catch is said where a user looks: in its help, and in
/// docs/security.md's list of what is not caught.
#[test]
fn redact_help_and_the_threat_model_say_what_detection_misses() {
    let output = keyward(&["redact", "--help"], "");
    let help = stdout(&output);
    assert!(
        help.contains("PEM private key") && help.contains("64 KiB"),
        "{help}"
    );
    let security = include_str!("../docs/security.md");
    let not_caught = security
        .split("Not caught:")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .unwrap();
    assert!(
        not_caught.contains("multi-line PEM private key"),
        "{not_caught}"
    );
    assert!(not_caught.contains("longer than 64 KiB"), "{not_caught}");
}

/// `--env "$KEY"` for `--env KEY`, and a `.env` line whose name is a key: the key is not repeated
/// on stderr, nor in the labels of what is redacted.
#[test]
fn redact_does_not_repeat_a_name_that_looks_like_a_key() {
    let key = github_key();
    let output = keyward_with_env(
        &["redact", "--env", "KEYWARD_TEST_SET", "--env", &key],
        &[("KEYWARD_TEST_SET", &"x".repeat(20))],
        "x\n",
    );
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(!err.contains(&key) && !err.contains(&key[..20]), "{err}");
    assert!(
        err.contains("the 2nd name given to --env looks like a key"),
        "{err}"
    );
    assert!(err.contains("not its value"), "{err}");

    // A value the provider refuses as a name (base64 holds `/`) is not repeated either.
    let value = format!(
        "{}/{}+{}",
        "Zq7x".repeat(5),
        "Pw4m".repeat(4),
        "Hn2k".repeat(2)
    );
    let output = keyward_with_env(&["redact", "--env", &value], &[], "x\n");
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(!err.contains(&value[..16]), "{err}");
    assert!(
        err.contains("the 1st name given to --env cannot be a variable's name"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let other = format!("ghp_{}", "Wd5s".repeat(9));
    let long_value = format!("dotenv-secret-{}", "Ty6u".repeat(5));
    write(
        dir.path(),
        "app.env",
        &format!("export {key}=1\n{other}={long_value}\nDB_USER=app\n"),
    );
    let output = keyward(
        &[
            "redact",
            "--no-detect",
            "--dotenv",
            dir.path().join("app.env").to_str().unwrap(),
        ],
        &format!("password {long_value}\n"),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "password [REDACTED:name withheld]\n");
    let err = stderr(&output);
    assert!(
        !err.contains(&key[..20]) && !err.contains(&other[..20]),
        "{err}"
    );
    assert!(
        err.contains("not redacting a value whose name looks like a key (not shown)"),
        "{err}"
    );
    assert!(err.contains("not redacting `DB_USER`"), "{err}");
}

/// A variable filled from a file made with `echo` (a Kubernetes secret) ends in a line ending:
/// one is dropped, as for a file of --files, so a password of 8 to 15 characters (too short
/// for fragments) is still found.
#[test]
fn redact_drops_one_line_ending_from_a_variable_as_from_a_file() {
    let password = format!("{}{}", "Pw4m".repeat(2), "Zq");
    for ending in ["\n", "\r\n"] {
        let value = format!("{password}{ending}");
        let output = keyward_with_env(
            &["redact", "--env", "KEYWARD_TEST_PASSWORD"],
            &[("KEYWARD_TEST_PASSWORD", &value)],
            &format!("login with {password} ok\n"),
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(
            stdout(&output),
            "login with [REDACTED:KEYWARD_TEST_PASSWORD] ok\n",
            "{ending:?}"
        );
    }
    // One, no more: a value of a line ending and no more is not set.
    let output = keyward_with_env(
        &["redact", "--env", "KEYWARD_TEST_PASSWORD"],
        &[("KEYWARD_TEST_PASSWORD", "\n")],
        "x\n",
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not set"),
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

#[cfg(unix)]
#[path = "common/secret_volume.rs"]
mod secret_volume;

/// The reproduction, step by step: a Kubernetes secret volume is all symlinks, and
/// `--files` used to keep regular files only, so it redacted nothing and exited 0.
#[cfg(unix)]
#[test]
fn redact_reads_a_kubernetes_secret_volume() {
    use std::os::unix::fs::symlink;

    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("k");
    let secret = format!("sk-proj-{}", "FaKe0".repeat(8));
    fs_mkdir(&k.join("..2024"));
    secret_volume::set_mode(&k, 0o700);
    std::fs::write(k.join("..2024/API_TOKEN"), &secret).unwrap();
    secret_volume::set_mode(&k.join("..2024/API_TOKEN"), 0o600);
    symlink("..2024", k.join("..data")).unwrap();
    symlink("..data/API_TOKEN", k.join("API_TOKEN")).unwrap();

    let input = format!("value {secret}\n");
    let output = keyward(&["redact", "--files", k.to_str().unwrap()], &input);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.starts_with("value [REDACTED:API_TOKEN"), "{out}");
    assert!(!out.contains(&secret[8..16]), "{out}");

    let output = keyward(
        &["redact", "--no-detect", "--files", k.to_str().unwrap()],
        &input,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "value [REDACTED:API_TOKEN]\n");
}

#[cfg(unix)]
fn fs_mkdir(path: &Path) {
    std::fs::create_dir_all(path).unwrap();
}

/// Generated volumes: one to four keys, `..data` reached through zero to two more hops; every
/// value is redacted. A symlink out of the volume makes the command fail without output.
#[cfg(unix)]
#[test]
fn redact_reads_generated_secret_volumes_and_refuses_an_escaping_link() {
    for keys in 1..=4 {
        for hops in 0..=2 {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("volume");
            fs_mkdir(&root);
            let secrets: Vec<(String, String)> = (0..keys)
                .map(|i| {
                    let tag = ["Qw3r", "Ty6u", "Io9p", "As2d"][i];
                    (
                        format!("KEY_{i}"),
                        format!("vol-secret-{i}-{}", tag.repeat(5)),
                    )
                })
                .collect();
            let pairs: Vec<(&str, &str)> = secrets
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            secret_volume::kubernetes_volume(&root, &pairs, hops, 0o600);
            let input: String = secrets
                .iter()
                .map(|(_, value)| format!("line with {value} in it\n"))
                .collect();
            let expected: String = secrets
                .iter()
                .map(|(key, _)| format!("line with [REDACTED:{key}] in it\n"))
                .collect();
            let args = ["redact", "--no-detect", "--files", root.to_str().unwrap()];
            let output = keyward(&args, &input);
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            assert_eq!(stdout(&output), expected, "{keys} keys, {hops} hops");

            let outside = dir.path().join("outside");
            std::fs::write(&outside, &secrets[0].1).unwrap();
            secret_volume::set_mode(&outside, 0o600);
            std::os::unix::fs::symlink("../outside", root.join("ESCAPE")).unwrap();
            let output = keyward(&args, &input);
            assert_eq!(output.status.code(), Some(2), "{keys} keys, {hops} hops");
            assert_eq!(stdout(&output), "");
            let err = stderr(&output);
            assert!(err.contains("outside the secrets directory"), "{err}");
            assert!(!err.contains(&secrets[0].1), "{err}");
        }
    }
}

/// A source that yields nothing is a mistake (a wrong path, a volume not mounted yet), not a
/// pass: the command fails before copying anything.
#[test]
fn redact_refuses_a_source_that_yields_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let empty_dir = dir.path().join("empty");
    std::fs::create_dir(&empty_dir).unwrap();
    let dotted_dir = dir.path().join("dotted");
    write(&dotted_dir, ".hidden", "x");
    write(&dotted_dir, "EMPTY", "");
    #[cfg(unix)]
    for (path, mode) in [
        (empty_dir.clone(), 0o700),
        (dotted_dir.clone(), 0o700),
        (dotted_dir.join("EMPTY"), 0o600),
    ] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    for (name, text) in [
        ("empty.env", ""),
        ("comments.env", "# nothing here\n\n"),
        ("blank_values.env", "A=\nB=''\n"),
        ("short_values.env", "LOG_LEVEL=info\nPORT=8080\n"),
    ] {
        write(dir.path(), name, text);
    }
    let cases = [
        ("--files", "empty", "holds no secret"),
        ("--files", "dotted", "holds no secret"),
        ("--dotenv", "empty.env", "holds no secret"),
        ("--dotenv", "comments.env", "holds no secret"),
        ("--dotenv", "blank_values.env", "holds no secret"),
        (
            "--dotenv",
            "short_values.env",
            "no value of at least 8 characters",
        ),
    ];
    let unknown = github_key();
    for (flag, name, says) in cases {
        let path = dir.path().join(name);
        for detect in [true, false] {
            let mut args = vec!["redact", flag, path.to_str().unwrap()];
            if !detect {
                args.push("--no-detect");
            }
            let output = keyward(&args, &format!("{unknown}\n"));
            let err = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{name}: {err}");
            assert!(err.contains(says) && err.contains(name), "{name}: {err}");
            assert_eq!(stdout(&output), "", "{name}");
        }
    }
}

/// The peak resident memory of process `pid` so far (`VmHWM`), in bytes.
#[cfg(target_os = "linux")]
fn peak_memory(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .unwrap();
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib * 1024
}

/// One line of about 50 MB goes through with the memory of a few chunks: stdin is read in
/// fixed-size pieces and streamed, never held a line at a time (a 100 MB line used to take
/// 313 MB). The line mixes multi-byte characters (split between reads), a named secret at
/// every 64 KiB boundary and keys of a known format; the output must equal what the library
/// makes of the whole text at once.
#[cfg(target_os = "linux")]
#[test]
fn redact_streams_a_huge_line_in_bounded_memory() {
    use std::io::Read;
    use std::sync::mpsc;

    const SIZE: usize = 50 << 20;
    let secret = format!("env-secret-{}", "Qw3r".repeat(5));
    let words = [
        "alpha",
        "caf\u{e9}",
        "\u{1f511}",
        "x=1",
        "token:",
        "gamma-delta",
    ];
    let mut line = String::with_capacity(SIZE + 1024);
    let mut state: u32 = 1;
    let mut next_boundary = 1 << 16;
    while line.len() < SIZE {
        if line.len() + secret.len() / 2 >= next_boundary {
            line.push_str(&secret);
            next_boundary += 1 << 16;
        } else if line.len() % (1 << 20) < 8 {
            line.push_str(&github_key());
        } else {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            line.push_str(words[(state >> 16) as usize % words.len()]);
        }
        line.push(' ');
    }
    let input = format!("{line}\nafter {secret}\n");
    let expected = keyward::Redactor::builder()
        .with_secret(
            "KEYWARD_TEST_SECRET",
            &keyward::SecretString::from(secret.as_str()),
        )
        .with_unknown_detection(true)
        .build()
        .unwrap()
        .redact(&input)
        .into_owned();
    assert!(expected.matches("[REDACTED:KEYWARD_TEST_SECRET]").count() > 700);
    assert!(expected.contains("[REDACTED:GitHub token]"));
    drop(line);

    let mut child = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["redact", "--env", "KEYWARD_TEST_SECRET"])
        .env("KEYWARD_TEST_SECRET", &secret)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (close, closed) = mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        stdin.write_all(input.as_bytes()).unwrap();
        // Kept open until the huge line has come out, so the child is still there to measure.
        let _ = closed.recv();
    });
    let first_line_len = expected.find('\n').unwrap() + 1;
    let mut output = vec![0; first_line_len];
    stdout.read_exact(&mut output).unwrap();
    let peak = peak_memory(child.id());
    close.send(()).unwrap();
    writer.join().unwrap();
    stdout.read_to_end(&mut output).unwrap();
    assert!(child.wait().unwrap().success());

    assert!(
        output == expected.as_bytes(),
        "the output differs from Redactor::redact"
    );
    // The input alone is 50 MiB; the old line-at-a-time reader peaked at three times that.
    // Measured above what the same command holds for one short line (its compiled rules, which
    // grow with the rule set, not with the input).
    let fixed = redact_peak_for_one_short_line(&secret);
    assert!(
        peak < fixed + (8 << 20),
        "peak memory {} MiB for a 50 MiB line, {} MiB for a short one",
        peak >> 20,
        fixed >> 20
    );
}

/// The peak memory of `keyward redact` once it has written its answer to one short line.
#[cfg(target_os = "linux")]
fn redact_peak_for_one_short_line(secret: &str) -> u64 {
    use std::io::Read;

    let mut child = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["redact", "--env", "KEYWARD_TEST_SECRET"])
        .env("KEYWARD_TEST_SECRET", secret)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Not ending in the key: a long last word waits for the next line (it may be base64 that
    // goes on there), and this line must come out while the command still runs.
    let line = format!("short {} {secret} done\n", github_key());
    stdin.write_all(line.as_bytes()).unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut output = Vec::new();
    let mut byte = [0; 1];
    while !output.ends_with(b"\n") {
        stdout.read_exact(&mut byte).unwrap();
        output.push(byte[0]);
    }
    let peak = peak_memory(child.id());
    drop(stdin);
    assert!(child.wait().unwrap().success());
    peak
}

/// `--dotenv` on a FIFO used to wait forever for a writer. A writer is started anyway, so that
/// a regression reads the secret and fails the assertion rather than hanging the test.
#[cfg(unix)]
#[test]
fn redact_refuses_a_fifo_as_dotenv_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.env");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|status| status.success());
    if !made {
        eprintln!("skipped: no mkfifo");
        return;
    }
    let secret = format!("dotenv-secret-{}", "Ty6u".repeat(5));
    let text = format!("KEY={secret}\n");
    let writer = {
        let (fifo, text) = (fifo.clone(), text.clone());
        std::thread::spawn(move || std::fs::write(fifo, text))
    };
    let output = keyward(
        &["redact", "--dotenv", fifo.to_str().unwrap()],
        &format!("{secret}\n"),
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert_eq!(stdout(&output), "");
    // Release the writer.
    assert_eq!(std::fs::read_to_string(&fifo).unwrap(), text);
    writer.join().unwrap().unwrap();
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

/// `--check` turns the filter into a gate: exit 1 when anything was redacted, naming what on
/// stderr (names and formats, never values), with the redacted text still on stdout.
#[test]
fn redact_check_exits_1_when_anything_was_redacted_and_names_it() {
    let named = format!("env-secret-{}", "Qw3r".repeat(5));
    let unknown = github_key();
    let args = ["redact", "--check", "--env", "KEYWARD_TEST_SECRET"];
    let env = [("KEYWARD_TEST_SECRET", named.as_str())];

    let output = keyward_with_env(&args, &env, &format!("a {named} and {unknown}\n"));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "a [REDACTED:KEYWARD_TEST_SECRET] and [REDACTED:GitHub token]\n"
    );
    let err = stderr(&output);
    assert!(err.contains("`KEYWARD_TEST_SECRET`"), "{err}");
    assert!(err.contains("`GitHub token` (detected)"), "{err}");
    assert!(!err.contains(&named) && !err.contains(&unknown), "{err}");

    // Split across reads, at the very end, or only detected: still found.
    let output = keyward_with_env(&args, &env, &format!("ends with {named}"));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let output = keyward_with_env(
        &["redact", "--check"],
        &[],
        &format!("detected {unknown}\n"),
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));

    // Clean text passes, and without --check a redaction is no failure.
    let output = keyward_with_env(&args, &env, "nothing to see\n");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "nothing to see\n");
    assert_eq!(stderr(&output), "");
    let output = keyward_with_env(&args[..1], &env, &format!("{unknown}\n"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// Runs `keyward redact` with `args`, writing `first` and then filler lines until it stops
/// reading (at most 64 MiB); reads its first line of output, then closes its stdout. Returns
/// that line, the exit code, stderr, and whether it stopped reading before the filler ran out.
fn redact_until_the_reader_leaves(args: &[&str], env: &[(&str, &str)], first: &str) -> Closed {
    use std::io::{BufRead, BufReader, Read};

    let args: Vec<&str> = std::iter::once("redact")
        .chain(args.iter().copied())
        .collect();
    let mut child = spawn(&args, env);
    let mut stdin = child.stdin.take().unwrap();
    let first = first.to_owned();
    let writer = std::thread::spawn(move || {
        stdin.write_all(first.as_bytes())?;
        let filler = "a line of ordinary log text, nothing secret in it\n".repeat(1000);
        for _ in 0..(64 << 20) / filler.len() {
            stdin.write_all(filler.as_bytes())?;
        }
        Ok::<(), std::io::Error>(())
    });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // the reader goes away, as `head -1` does
    let code = child.wait().unwrap().code();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let stopped_reading = match writer.join().unwrap() {
        Ok(()) => false,
        Err(err) => {
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
            true
        }
    };
    Closed {
        line,
        code,
        stderr,
        stopped_reading,
    }
}

struct Closed {
    line: String,
    code: Option<i32>,
    stderr: String,
    stopped_reading: bool,
}

#[test]
fn redact_stops_quietly_when_its_reader_goes_away() {
    let named = format!("env-secret-{}", "Qw3r".repeat(5));
    let env = [("KEYWARD_TEST_SECRET", named.as_str())];
    let args = ["--env", "KEYWARD_TEST_SECRET"];
    let check = ["--check", "--env", "KEYWARD_TEST_SECRET"];
    for detect in [true, false] {
        let with = |args: &[&'static str]| {
            let mut args = args.to_vec();
            if !detect {
                args.push("--no-detect");
            }
            args
        };
        // `keyward redact | head -1`: no error, whatever was redacted.
        for first in ["the first line\n".to_owned(), format!("key {named} here\n")] {
            let closed = redact_until_the_reader_leaves(&with(&args), &env, &first);
            assert!(closed.line.starts_with(&first[..3]), "{}", closed.line);
            assert!(!closed.line.contains(&named), "{}", closed.line);
            assert_eq!(closed.code, Some(0), "{}", closed.stderr);
            assert_eq!(closed.stderr, "");
            assert!(closed.stopped_reading, "it read all of the input");
        }

        // With --check, a secret redacted before the reader left fails the check...
        let closed =
            redact_until_the_reader_leaves(&with(&check), &env, &format!("key {named} here\n"));
        assert_eq!(closed.line, "key [REDACTED:KEYWARD_TEST_SECRET] here\n");
        assert_eq!(closed.code, Some(1), "{}", closed.stderr);
        assert!(
            closed.stderr.contains("`KEYWARD_TEST_SECRET`"),
            "{}",
            closed.stderr
        );
        assert!(closed.stopped_reading, "it read all of the input");

        // ... and nothing redacted is no pass, since the rest was not checked.
        let closed = redact_until_the_reader_leaves(&with(&check), &env, "the first line\n");
        assert_eq!(closed.code, Some(2), "{}", closed.stderr);
        assert!(closed.stderr.contains("not checked"), "{}", closed.stderr);
        assert!(!closed.stderr.contains("Broken pipe"), "{}", closed.stderr);
        assert!(closed.stopped_reading, "it read all of the input");
    }
}

#[test]
fn mask_and_scan_keep_their_verdict_when_stdout_is_closed() {
    // stdout is closed before the command writes: it reads stdin first.
    let mut child = spawn(&["mask"], &[]);
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..1000 {
        writeln!(stdin, "sk-test-not-a-real-key-{i:08}").unwrap();
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");

    // A scan's exit status is its verdict, read or not: here, 1 for the key it found.
    let (dir, _key) = tree_with_key();
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["scan", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
}

/// A key's creation date beside it in a .env file (the companion the key manager reads) is no
/// secret: redacting it would garble every such date in the output.
#[test]
fn redact_dotenv_leaves_creation_dates_alone() {
    let dir = tempfile::tempdir().unwrap();
    let key = format!("dotenv-secret-{}", "Ty6u".repeat(5));
    let not_a_date = format!("odd-value-{}", "Zx8c".repeat(5));
    write(
        dir.path(),
        "app.env",
        &format!(
            "OPENAI_API_KEY={key}\nOPENAI_API_KEY_CREATED_AT=2025-11-01\n\
             DB_PASSWORD_CREATED_AT=2026-01-31T12:00:00Z\nODD_CREATED_AT={not_a_date}\n"
        ),
    );
    let output = keyward(
        &[
            "redact",
            "--no-detect",
            "--dotenv",
            dir.path().join("app.env").to_str().unwrap(),
        ],
        &format!(
            "key {key} made 2025-11-01, password made 2026-01-31T12:00:00Z, odd {not_a_date}\n"
        ),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "key [REDACTED:OPENAI_API_KEY] made 2025-11-01, password made 2026-01-31T12:00:00Z, \
         odd [REDACTED:ODD_CREATED_AT]\n"
    );
    let err = stderr(&output);
    assert!(
        err.contains("not redacting `OPENAI_API_KEY_CREATED_AT`")
            && err.contains("not redacting `DB_PASSWORD_CREATED_AT`"),
        "{err}"
    );
    assert!(!err.contains("ODD_CREATED_AT"), "{err}");

    // A file of dates only holds no secret.
    write(dir.path(), "dates.env", "A_CREATED_AT=2025-11-01\n");
    let output = keyward(
        &[
            "redact",
            "--dotenv",
            dir.path().join("dates.env").to_str().unwrap(),
        ],
        "x\n",
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

/// The audit names the secret files the project holds apart from the names it only probed.
#[test]
fn audit_lists_existing_secret_files_apart_from_probed_names() {
    let dir = tempfile::tempdir().unwrap();
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(git.success());
    write(dir.path(), ".gitignore", ".env\n");
    write(dir.path(), ".env", "LOG_LEVEL=info\n");
    write(dir.path(), "deploy/server.key", "not a real key\n");
    let output = keyward(&["audit", dir.path().to_str().unwrap()], "");
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("\n         not ignored: deploy/server.key\n"),
        "{text}"
    );
    assert!(
        text.contains("\n         probed, would not be ignored: .env.local\n"),
        "{text}"
    );
    assert!(!text.contains("not ignored: .env\n"), "{text}");
}

/// Kubernetes mounts secret files 0644 by default: `--readable-by-others` accepts them, and the
/// error without it names that flag.
#[cfg(unix)]
#[test]
fn redact_accepts_files_readable_by_others_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let secret = format!("sk-proj-{}", "R3adAbl".repeat(6));
    for (mode, name) in [(0o644, "WORLD_TOKEN"), (0o640, "GROUP_TOKEN")] {
        let path = dir.path().join(name);
        std::fs::write(&path, &secret).unwrap();
        secret_volume::set_mode(&path, mode);
    }
    let input = format!("value {secret}\n");
    let root = dir.path().to_str().unwrap();

    let output = keyward(&["redact", "--files", root], &input);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("--readable-by-others"), "{message}");
    assert!(!message.contains(&secret[8..20]), "{message}");
    assert!(stdout(&output).is_empty());

    let output = keyward(
        &[
            "redact",
            "--no-detect",
            "--readable-by-others",
            "--files",
            root,
        ],
        &input,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.starts_with("value [REDACTED:"), "{out}");
    assert!(!out.contains(&secret[8..20]), "{out}");
}

/// A rule file in gitleaks' layout and one in keyward's, written here, and a tree holding a key
/// of each (generated, obviously fake) plus one in a `vendor/` directory the gitleaks file's
/// global allowlist excuses.
fn tree_with_rule_files() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 0x2545_f491_4f6c_dd1d;
    let acme = format!(
        "acmefake_{}",
        generated(&mut state, 32, b"abcdefghijkmnopqrstuvwxyz23456789")
    );
    let widget = format!("wdgfake-{}", generated(&mut state, 24, ALNUM));
    write(
        dir.path(),
        "rules/team.toml",
        "title = \"team rules\"\n\n[extend]\nuseDefault = true\n\n[allowlist]\n\
         paths = ['''(?:^|/)vendor/''']\n\n[[rules]]\nid = \"acme-fake-key\"\n\
         description = \"Acme fake key\"\nregex = '''acmefake_[a-z0-9]{32}'''\n\
         keywords = [\"acmefake_\"]\n",
    );
    write(
        dir.path(),
        "rules/widget.rules",
        "[widget-fake-token]\nname = Widget fake token\nkeywords = wdgfake-\n\
         shape = wdgfake-[A-Za-z0-9]{24}\n",
    );
    write(dir.path(), "src/app.py", &format!("client(\"{acme}\")\n"));
    write(dir.path(), "src/log.txt", &format!("sent {widget} ok\n"));
    write(
        dir.path(),
        "vendor/lib.py",
        &format!("client(\"{acme}\")\n"),
    );
    (dir, acme, widget)
}

#[test]
fn scan_with_rule_files_names_the_rule_ids() {
    let (dir, acme, widget) = tree_with_rule_files();
    let root = dir.path().join("src");
    let rules = |name: &str| dir.path().join("rules").join(name).display().to_string();
    // without the rules: nothing the built-in rules know
    let output = keyward(&["scan", root.to_str().unwrap()], "");
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let output = keyward(
        &[
            "scan",
            "--format",
            "json",
            "--rules",
            &rules("team.toml"),
            "--rules",
            &rules("widget.rules"),
            dir.path().to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let found: Vec<(String, String)> = findings(&output)
        .into_iter()
        .map(|(path, _, kind, _, _)| (path, kind))
        .collect();
    // the copy under vendor/ is excused by the gitleaks file's global allowlist
    assert_eq!(
        found,
        [
            (
                "src/app.py".to_owned(),
                "Acme fake key (rule `acme-fake-key`)".to_owned()
            ),
            (
                "src/log.txt".to_owned(),
                "Widget fake token (rule `widget-fake-token`)".to_owned()
            ),
        ]
    );
    let text = stdout(&output);
    assert!(!text.contains(&acme) && !text.contains(&widget), "{text}");
}

#[test]
fn redact_with_rule_files_labels_with_the_rule_ids() {
    let (dir, acme, widget) = tree_with_rule_files();
    let rules = |name: &str| dir.path().join("rules").join(name).display().to_string();
    let output = keyward(
        &[
            "redact",
            "--rules",
            &rules("team.toml"),
            "--rules",
            &rules("widget.rules"),
        ],
        &format!("a {acme}\nb {widget} c\n"),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "a [REDACTED:acme-fake-key]\nb [REDACTED:widget-fake-token] c\n"
    );
}

#[test]
fn a_broken_rule_file_exits_2_naming_the_file_and_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "bad.toml",
            "[[rules]]\nid = \"broken\"\nregex = '''(unclosed'''\n",
            "rule `broken`: its regular expression does not compile",
        ),
        (
            "bad.rules",
            "[broken]\nshape = x\nflavour = y\n",
            "unknown key `flavour`",
        ),
        (
            "unknown.toml",
            "[[rules]]\nid = \"x\"\nregex = 'x'\nvalidate = true\n",
            "rule `x`: unknown key `validate`",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        for command in ["scan", "redact"] {
            let output = keyward(
                &[
                    command,
                    "--rules",
                    path.to_str().unwrap(),
                    dir.path().to_str().unwrap(),
                ][..if command == "scan" { 4 } else { 3 }],
                "",
            );
            assert_eq!(output.status.code(), Some(2), "{command} {name}");
            let err = stderr(&output);
            assert!(
                err.contains(name) && err.contains(expected),
                "{command} {name}: {err}"
            );
        }
    }
    let missing = dir.path().join("missing.toml");
    let output = keyward(&["scan", "--rules", missing.to_str().unwrap(), "."], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("missing.toml"),
        "{}",
        stderr(&output)
    );
}

/// A rule's pattern may hold a literal token (a gitleaks allowlist's): an error about it says
/// what is wrong and where, with the rule and the file, never the pattern.
#[test]
fn a_rule_that_does_not_compile_is_reported_without_its_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let token = format!("tok_{}", "Zq7xPw4m".repeat(3));
    let cases = [
        (
            "rule.toml",
            format!("[[rules]]\nid = \"broken\"\nregex = '''(?:{token}'''\n"),
            "rule `broken`: its regular expression does not compile: unclosed group (at character 1)",
        ),
        (
            "allow.toml",
            format!(
                "[[rules]]\nid = \"acme\"\nregex = 'acme_[a-z]{{8}}'\n[rules.allowlist]\n\
                 regexes = ['''{token}[z-a]''']\n"
            ),
            "rule `acme`: its allowlist regex does not compile: invalid character class range",
        ),
        (
            "mine.rules",
            format!("[broken]\nshape = {token}\\q\n"),
            "rule `broken`: its regular expression does not compile: unrecognized escape sequence (at character 29)",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let output = keyward(&["redact", "--rules", path.to_str().unwrap()], "");
        assert_eq!(output.status.code(), Some(2), "{name}");
        let err = stderr(&output);
        assert!(
            err.contains(name) && err.contains(expected),
            "{name}: {err}"
        );
        assert!(!err.contains(&token[4..16]), "{name}: {err}");
    }
}

#[test]
fn audit_with_rule_files_fails_on_what_they_find() {
    let (dir, acme, _) = tree_with_rule_files();
    let rules = dir.path().join("rules").join("team.toml");
    let root = dir.path().join("src");
    let output = keyward(&["audit", root.to_str().unwrap()], "");
    assert!(stdout(&output).contains("[PASS] 1."), "{}", stdout(&output));
    let output = keyward(
        &[
            "audit",
            "--rules",
            rules.to_str().unwrap(),
            root.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("[FAIL] 1."), "{text}");
    assert!(text.contains("rule `acme-fake-key`"), "{text}");
    assert!(!text.contains(&acme), "{text}");
}

/// A fixture under `tests/` counts one level lower: the default leaves its medium finding out and
/// fails the scan only on the real file; `--min-confidence low` shows both, each saying which
/// rule matched and why, in text and JSON.
#[test]
fn scan_lowers_fixtures_and_says_which_rule_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 0x3c6e_f372_fe94_f82b;
    let value = generated(&mut state, 32, ALNUM);
    let line = format!("MISTRAL_API_KEY={value}\n");
    write(dir.path(), "tests/fixtures/agent.env", &line);
    let path = dir.path().to_str().unwrap();

    let default = keyward(&["scan", "--format", "json", path], "");
    assert_eq!(default.status.code(), Some(0), "{}", stdout(&default));
    assert!(findings(&default).is_empty());

    write(dir.path(), "agent.env", &line);
    let default = keyward(&["scan", path], "");
    let text = stdout(&default);
    assert_eq!(default.status.code(), Some(1), "{text}");
    assert!(
        // The key, not its name: `MISTRAL_API_KEY=` is the first 16 columns.
        text.starts_with("agent.env:1:17: Mistral API key (medium confidence)"),
        "{text}"
    );
    assert!(text.contains("[rule `mistral`: a Mistral API key by a shape of medium confidence"));
    assert!(!text.contains("tests/fixtures"), "{text}");
    assert!(!text.contains(&value));

    let low = keyward(
        &["scan", "--format", "json", "--min-confidence", "low", path],
        "",
    );
    let json: serde_json::Value = serde_json::from_slice(&low.stdout).unwrap();
    let all = json["findings"].as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["path"], "tests/fixtures/agent.env");
    assert_eq!(all[1]["rule"], "mistral");
    assert_eq!(all[1]["confidence"], "low");
    let why = all[1]["why"].as_str().unwrap();
    assert!(
        why.ends_with("; lowered from medium to low: under a test path (`tests`)"),
        "{why}"
    );
    assert!(
        !low.stdout
            .windows(value.len())
            .any(|w| w == value.as_bytes())
    );
}
