//! `keyward scan --min-confidence`: the default leaves out low-confidence detections (short or
//! modest-entropy values assigned to secret-like names, which in dependency sources are nearly
//! all placeholders and test vectors), `--min-confidence low` shows them, and a key of a known
//! format is reported at every level. Runs the binary, so it has a process of its own.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn scan(dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyward"))
        .arg("scan")
        .args(extra)
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The findings of a JSON scan, as (path, line, kind, confidence, fingerprint).
fn findings(output: &Output) -> Vec<(String, u64, String, String, String)> {
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
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
fn corpus() -> tempfile::TempDir {
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
    std::fs::write(dir.path().join("settings.py"), text).unwrap();
    let github = format!("ghp_{}", "a1B2".repeat(9));
    std::fs::write(
        dir.path().join("deploy.sh"),
        format!("export GITHUB_TOKEN={github}\n"),
    )
    .unwrap();
    dir
}

#[test]
fn default_reports_exactly_the_medium_and_high_findings_of_a_low_scan() {
    let dir = corpus();
    let low = scan(dir.path(), &["--format", "json", "--min-confidence", "low"]);
    assert_eq!(low.status.code(), Some(1));
    let all = findings(&low);
    // The corpus must hold every level, or the comparisons below prove nothing.
    for level in ["low", "medium", "high"] {
        let count = all.iter().filter(|f| f.3 == level).count();
        assert!(count > 0, "no {level}-confidence finding in the corpus");
    }
    let at_least = |levels: &[&str]| -> Vec<_> {
        all.iter()
            .filter(|f| levels.contains(&f.3.as_str()))
            .cloned()
            .collect()
    };

    let default = scan(dir.path(), &["--format", "json"]);
    assert_eq!(default.status.code(), Some(1));
    assert_eq!(findings(&default), at_least(&["medium", "high"]));

    let high = scan(
        dir.path(),
        &["--format", "json", "--min-confidence", "high"],
    );
    assert_eq!(high.status.code(), Some(1));
    assert_eq!(findings(&high), at_least(&["high"]));
}

#[test]
fn a_low_confidence_finding_alone_passes_by_default_and_fails_with_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 0x2545_f491_4f6c_dd1d;
    // 14 random characters with a digit (a value of letters alone reads as a name): above
    // the generic rule's 12, below the 20 that make it medium.
    let value = format!("{}7", generated(&mut state, 13, ALNUM));
    std::fs::write(
        dir.path().join("config.toml"),
        format!("password = \"{value}\"\n"),
    )
    .unwrap();

    let default = scan(dir.path(), &[]);
    let text = String::from_utf8(default.stdout).unwrap();
    assert_eq!(default.status.code(), Some(0), "{text}");
    assert!(text.contains("0 keys found"), "{text}");

    let low = scan(dir.path(), &["--min-confidence", "low"]);
    let text = String::from_utf8(low.stdout).unwrap();
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
fn a_known_format_key_is_reported_at_every_level() {
    let dir = tempfile::tempdir().unwrap();
    let key = format!("ghp_{}", "a1B2".repeat(9));
    std::fs::write(dir.path().join("ci.env"), format!("GITHUB_TOKEN={key}\n")).unwrap();
    for extra in [
        &[][..],
        &["--min-confidence", "low"],
        &["--min-confidence", "high"],
    ] {
        let output = scan(dir.path(), extra);
        let text = String::from_utf8(output.stdout).unwrap();
        assert_eq!(output.status.code(), Some(1), "{extra:?}: {text}");
        assert!(
            text.starts_with("ci.env:1:14: GitHub token (high confidence)"),
            "{extra:?}: {text}"
        );
        assert!(!text.contains(&key));
    }
}
