//! `keyward scan`'s precision: findings in test paths and test-environment keys are lowered one
//! confidence level, never hidden at `low`, and every finding names its rule and why it is as
//! sure as it is. Checked on a generated tree: every test directory and test file convention,
//! and look-alikes that are not tests, each holding keys of every confidence.
#![cfg(feature = "audit")]
#![allow(clippy::unwrap_used)]

use std::path::Path;

use keyward::audit::{ScanFinding, Scanner};
use keyward::guard::Confidence;

/// A key of each confidence the detector gives, as (line, rule, confidence outside tests).
fn keys() -> Vec<(String, &'static str, Confidence)> {
    vec![
        (
            format!("export GITHUB_TOKEN=ghp_{}", "q7Rz2LmX9vKp".repeat(3)),
            "github",
            Confidence::High,
        ),
        (
            format!(
                "MISTRAL_API_KEY={}",
                "Tq8wZ3nRk5Yp".repeat(3)[..32].to_owned()
            ),
            "mistral",
            Confidence::Medium,
        ),
        (
            // Built here, so that the repository's own audit does not find them in this file.
            format!(
                "client_secret = \"{}\"",
                ["Zr4_pQ8", "-wX2mK9", "vTy6Lb"].concat()
            ),
            "generic",
            Confidence::Medium,
        ),
        (
            format!("password = \"{}\"", ["h7Kq2", "zX9mP4w"].concat()),
            "generic",
            Confidence::Low,
        ),
    ]
}

/// Where tests live, and names that only look like it.
const TEST_PATHS: &[&str] = &[
    "tests/config.env",
    "test/config.env",
    "crate/src/test/config.env",
    "pkg/testdata/config.env",
    "web/fixtures/config.env",
    "web/__fixtures__/config.env",
    "web/__tests__/config.env",
    "web/__mocks__/config.env",
    "spec/config.env",
    "server/handler_test.go",
    "app/test_settings.py",
    "app/settings_test.py",
    "ui/login.spec.ts",
    "ui/login.test.js",
    "lib/user_spec.rb",
    "src/main/java/ConfigTest.java",
];
const OTHER_PATHS: &[&str] = &[
    "config.env",
    "src/latest/config.env",
    "src/contest.env",
    "attestation/config.env",
    "testing.md",
    "spec.md",
    "docs/testimonials/config.env",
];

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text: String = keys()
        .iter()
        .map(|(line, ..)| format!("{line}\n"))
        .collect();
    for path in TEST_PATHS.iter().chain(OTHER_PATHS) {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &text).unwrap();
    }
    dir
}

fn lower(confidence: Confidence) -> Confidence {
    match confidence {
        Confidence::High => Confidence::Medium,
        _ => Confidence::Low,
    }
}

fn in_file<'a>(findings: &'a [ScanFinding], path: &str) -> Vec<&'a ScanFinding> {
    findings
        .iter()
        .filter(|f| f.path() == Path::new(path))
        .collect()
}

#[test]
fn findings_in_test_paths_are_lowered_one_level_and_kept_at_low() {
    let dir = tree();
    let all = Scanner::new().scan(dir.path()).unwrap();
    for (paths, in_tests) in [(TEST_PATHS, true), (OTHER_PATHS, false)] {
        for path in paths {
            let found = in_file(all.findings(), path);
            assert_eq!(found.len(), keys().len(), "{path}: {found:?}");
            for (finding, (_, rule, detected)) in found.iter().zip(keys()) {
                assert_eq!(finding.rule(), rule, "{path}");
                let expected = if in_tests { lower(detected) } else { detected };
                assert_eq!(finding.confidence(), expected, "{path} {rule}");
                let lowered = finding.why().contains("lowered from");
                assert_eq!(lowered, in_tests, "{path}: {}", finding.why());
                if in_tests {
                    assert!(finding.why().contains("under a test path"), "{path}");
                }
            }
        }
    }
}

#[test]
fn the_default_medium_leaves_fixtures_medium_findings_out() {
    let dir = tree();
    let medium = Scanner::new()
        .with_min_confidence(Confidence::Medium)
        .scan(dir.path())
        .unwrap();
    for path in TEST_PATHS {
        let found = in_file(medium.findings(), path);
        // Only the key of a distinctive format is left, at medium.
        let rules: Vec<&str> = found.iter().map(|f| f.rule()).collect();
        assert_eq!(rules, ["github"], "{path}");
        assert_eq!(found[0].confidence(), Confidence::Medium);
    }
    for path in OTHER_PATHS {
        let rules: Vec<&str> = in_file(medium.findings(), path)
            .iter()
            .map(|f| f.rule())
            .collect();
        assert_eq!(rules, ["github", "mistral", "generic"], "{path}");
    }
}

#[test]
fn a_test_environment_key_is_lowered_outside_test_paths_too() {
    let dir = tempfile::tempdir().unwrap();
    let body = "Qw3rTy7uIo9pAs2dFg5hJk8l";
    std::fs::write(
        dir.path().join("pay.env"),
        format!("STRIPE=sk_test_{body}\nSTRIPE_LIVE=sk_live_{body}\n"),
    )
    .unwrap();
    let report = Scanner::new().scan(dir.path()).unwrap();
    let found = report.findings();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].confidence(), Confidence::Medium);
    assert!(
        found[0]
            .why()
            .contains("a key for a test environment (`sk_test_`)")
    );
    assert_eq!(found[1].confidence(), Confidence::High);
    assert!(found[1].why().contains("distinctive prefix"));
}

#[test]
fn the_text_report_says_which_rule_and_why() {
    let dir = tree();
    let text = Scanner::new().scan(dir.path()).unwrap().to_string();
    assert!(text.contains("[rule `mistral`: a Mistral API key by a shape of medium confidence"));
    assert!(text.contains("; lowered from high to medium: under a test path (`tests`)]"));
    assert!(text.contains("[rule `generic`: a short or modest-entropy value"));
}

#[cfg(feature = "serde")]
#[test]
fn the_json_report_has_the_rule_and_why_of_each_finding() {
    let dir = tree();
    let report = Scanner::new().scan(dir.path()).unwrap();
    let json = serde_json::to_value(&report).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), report.findings().len());
    for (value, finding) in findings.iter().zip(report.findings()) {
        assert_eq!(value["rule"], finding.rule());
        assert_eq!(value["why"], finding.why());
        assert_eq!(value["confidence"], finding.confidence().to_string());
    }
}
