//! The detector's work is linear in its input, whatever the input: counted in bytes read (see
//! `examined`), never timed.
//!
//! Each family of adversarial lines is scanned at three sizes; the bytes read per input byte must
//! stay under one bound and must not grow with the size. Lines full of detections are the ones
//! that were quadratic (each detection went back to the start of its line), so most families
//! also check every detection's place.

#![allow(clippy::unwrap_used)]

use proptest::strategy::{Strategy, ValueTree};
use proptest::string::string_regex;
use proptest::test_runner::TestRunner;

use super::assignment::{NAME_KEYWORDS, NAME_KEYWORDS_AUTOMATON};
use super::*;

/// The smallest size of a generated line; each family runs at 1, 2 and 4 times this.
const BASE_LEN: usize = 32 * 1024;

/// Bytes the detector may read per byte of input. A regular expression is counted as reading
/// its whole window (1 KiB for most formats), though it stops where the key cannot go on: the
/// worst case is a three-byte keyword repeated (`sk-sk-sk-...`), 1024 / 3 = 342 per byte.
const MAX_WORK_PER_BYTE: f64 = 350.0;

/// `unit` repeated to at least `len` bytes.
fn repeat_to(unit: &str, len: usize) -> String {
    unit.repeat(len.div_ceil(unit.len()))
}

/// Scans `line(len)` at three sizes with `detector`, checks each result with `check`, and checks
/// that the work per byte stays under the bound and does not grow with the size.
fn assert_linear(
    family: &str,
    detector: &Detector,
    line: impl Fn(usize) -> String,
    check: impl Fn(&str, &[LineDetection]),
) {
    let mut per_byte = Vec::new();
    for scale in [1, 2, 4] {
        let text = line(scale * BASE_LEN);
        let mut found = Vec::new();
        let work = work::count(|| found = detector.find_with_lines(&text));
        check(&text, &found);
        check_places(family, &text, &found);
        per_byte.push(work as f64 / text.len() as f64);
    }
    assert!(
        per_byte.iter().all(|&w| w <= MAX_WORK_PER_BYTE),
        "{family}: bytes read per byte {per_byte:?}"
    );
    // Quadratic work per byte is four times as much at four times the size. Linear work per
    // byte varies a little: windows cut by the end of the text, a name found in a random run.
    assert!(
        per_byte[2] <= per_byte[0] * 1.5 + 2.5,
        "{family}: bytes read per byte grow with the size: {per_byte:?}"
    );
}

/// Detections are in order, apart, on character boundaries, at the right line and column.
fn check_places(family: &str, text: &str, found: &[LineDetection]) {
    let mut previous_end = 0;
    for line_detection in found {
        let range = line_detection.detection().range();
        assert!(
            range.start >= previous_end && range.start < range.end,
            "{family}"
        );
        assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
        previous_end = range.end;
    }
    // Lines and columns, counted the slow way on a sample.
    for line_detection in found.iter().step_by(found.len() / 16 + 1) {
        let before = &text[..line_detection.detection().range().start];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        assert_eq!(line_detection.line(), before.matches('\n').count() + 1);
        assert_eq!(
            line_detection.column(),
            before[line_start..].chars().count() + 1
        );
    }
}

/// For every keyword of every format, a key starting with it that the detector finds whole,
/// generated from the format's own shape and written on one line (a PEM key or the private
/// lines of a PuTTY key JSON-escaped, a PEM body long enough to be taken for a real one).
fn one_key_per_keyword() -> Vec<(KeyFormat, String)> {
    let detector = Detector::new();
    let mut runner = TestRunner::deterministic();
    let mut keys = Vec::new();
    let putty = KeyFormat::from_id("putty-private-key").unwrap();
    for &format in KeyFormat::ALL {
        let shape = if format == KeyFormat::PemPrivateKey {
            r"-----BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY-----(\\n[A-Za-z0-9+/]{64}){6}\\n-----END PRIVATE KEY-----"
        } else if format == putty {
            r"Private-Lines: [1-9](\\n[A-Za-z0-9+/]{64}){1,6}\\nPrivate-MAC: [0-9a-f]{64}"
        } else {
            format.pattern()
        };
        let shape = string_regex(shape).unwrap();
        for keyword in format.keywords() {
            let key = (0..20_000)
                .map(|_| shape.new_tree(&mut runner).unwrap().current())
                .find(|key| {
                    let found = detector.find(key);
                    key.starts_with(keyword)
                        && found.len() == 1
                        && found[0].format() == Some(format)
                        && found[0].claimed == (0..key.len())
                })
                .unwrap_or_else(|| panic!("no {format:?} key starting with {keyword:?}"));
            keys.push((format, key));
        }
    }
    keys
}

#[test]
fn a_line_full_of_keys_costs_linear_work() {
    let detector = Detector::new();
    for (format, key) in one_key_per_keyword() {
        for separator in [" ", ",", "\",\""] {
            let unit = format!("{key}{separator}");
            assert_linear(
                &format!("{format:?} keys split by {separator:?}"),
                &detector,
                |len| repeat_to(&unit, len),
                |text, found| {
                    assert_eq!(found.len(), text.len() / unit.len(), "{format:?}");
                    for (i, line_detection) in found.iter().enumerate() {
                        let detection = line_detection.detection();
                        assert_eq!(detection.format(), Some(format));
                        let start = i * unit.len();
                        assert_eq!(detection.claimed, start..start + key.len());
                        let key_start = detection.range().start;
                        assert_eq!(
                            (line_detection.line(), line_detection.column()),
                            (1, key_start + 1)
                        );
                    }
                },
            );
        }
    }
}

#[test]
fn a_line_of_repeated_jwt_headers_costs_linear_work() {
    // Three parts make a token, so every third header starts one.
    let unit = "eyJhbGciOiJIUzI1NiJ9.";
    assert_linear(
        "repeated JWT headers",
        &Detector::new(),
        |len| repeat_to(unit, len),
        |text, found| {
            assert_eq!(found.len(), text.len() / unit.len() / 3);
            for (i, line_detection) in found.iter().enumerate() {
                let start = 3 * i * unit.len();
                let detection = line_detection.detection();
                assert_eq!(detection.format(), Some(KeyFormat::Jwt));
                assert_eq!(detection.range(), start..start + 3 * unit.len() - 1);
            }
        },
    );
}

#[test]
fn lines_of_bare_keywords_cost_linear_work() {
    let detector = Detector::new();
    let permissive = Detector::builder()
        .with_min_generic_len(1)
        .with_min_entropy(0.0)
        .build()
        .unwrap();
    let mut units: Vec<String> = Vec::new();
    let format_keywords = KeyFormat::ALL.iter().flat_map(|format| format.keywords());
    for literal in format_keywords.chain(NAME_KEYWORDS) {
        for separator in ["", "-", " "] {
            units.push(format!("{literal}{separator}"));
        }
    }
    units.extend(
        [
            "-----BEGIN PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----AAAA",
            "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n",
            "sk-proj-example-",
            "xoxb-1-",
            ".eyJ",
            "eyJhbGciOiJIUzI1NiJ9.eyJ",
            "checksum = ",
            "sha512-",
            "key.",
            "token_",
            "AuthA",
            "secret=\\n",
        ]
        .map(str::to_owned),
    );
    for unit in &units {
        // Without thresholds the assignment parser looks at far more values.
        let names = NAME_KEYWORDS_AUTOMATON.is_match(unit);
        for detector in [&detector, &permissive]
            .into_iter()
            .take(1 + usize::from(names))
        {
            assert_linear(
                &format!("{unit:?} repeated"),
                detector,
                |len| repeat_to(unit, len),
                |_, _| {},
            );
        }
    }
    // A PEM header run with a footer only at the very end.
    assert_linear(
        "PEM headers, one footer",
        &detector,
        |len| repeat_to("-----BEGIN PRIVATE KEY-----AAAA", len) + "-----END FOO-----",
        |_, _| {},
    );
}

#[test]
fn lines_of_assignments_cost_linear_work() {
    let value = "Zr4_pQ8-wX2mK9vT";
    let permissive = Detector::builder()
        .with_min_generic_len(1)
        .with_min_entropy(0.0)
        .build()
        .unwrap();
    for (unit, found_each) in [
        (format!("API_KEY={value} "), true),
        (format!("token: \"{value}\", "), true),
        (format!("password={value};"), true),
        (format!("--api-key {value} "), true),
        ("key=".to_owned(), false),
        ("token:".to_owned(), false),
        ("\"token\": \"".to_owned(), false),
        ("password = ".to_owned(), false),
        ("api_key ".to_owned(), false),
        ("--token ".to_owned(), false),
        (format!("token=\"{}", "api_key ".repeat(20)), false),
        ("SECRET_KEY=abc ".to_owned(), false),
    ] {
        for detector in [&Detector::new(), &permissive] {
            assert_linear(
                &format!("{unit:?} repeated"),
                detector,
                |len| repeat_to(&unit, len),
                |text, found| {
                    if found_each {
                        assert_eq!(found.len(), text.len() / unit.len(), "{unit:?}");
                        let offset = unit.find(value).unwrap();
                        for (i, line_detection) in found.iter().enumerate() {
                            let start = i * unit.len() + offset;
                            let range = line_detection.detection().range();
                            assert_eq!(range, start..start + value.len());
                        }
                    }
                },
            );
        }
    }
    // A value run far longer than any value, full of names.
    assert_linear(
        "one value of names",
        &Detector::new(),
        |len| format!("key={}", repeat_to("AkeyBtoken.", len)),
        |_, found| assert!(found.is_empty()),
    );
    // Blanks after names and separators.
    assert_linear(
        "blanks around assignments",
        &Detector::new(),
        |len| {
            repeat_to(
                &format!("token{}={}x", " ".repeat(300), " ".repeat(300)),
                len,
            )
        },
        |_, _| {},
    );
}

#[test]
fn runs_of_key_characters_cost_linear_work() {
    let mut runner = TestRunner::deterministic();
    let mut random = |pattern: &str, len: usize| {
        let chunk = string_regex(pattern).unwrap();
        let mut text = String::with_capacity(len);
        while text.len() < len {
            text.push_str(&chunk.new_tree(&mut runner).unwrap().current());
        }
        text
    };
    let alphanumeric = random("[A-Za-z0-9]{1024}", 4 * BASE_LEN);
    let base64 = random("[A-Za-z0-9+/]{1024}", 4 * BASE_LEN);
    let base32 = random("[A-Z2-7]{1024}", 4 * BASE_LEN);
    for (family, run) in [
        ("alphanumeric", alphanumeric.clone()),
        ("base64", base64),
        ("AKIA and base32", format!("AKIA{base32}")),
        ("sk- and alphanumeric", format!("sk-{alphanumeric}")),
        ("ghp_ and alphanumeric", format!("ghp_{alphanumeric}")),
        ("key= and alphanumeric", format!("key={alphanumeric}")),
        ("one letter", "A".repeat(4 * BASE_LEN)),
    ] {
        assert_linear(
            family,
            &Detector::new(),
            |len| run[..len].to_owned(),
            |_, found| assert!(found.is_empty(), "{family}: {found:?}"),
        );
    }
}

/// Counted as a window each, regular expressions would hide a token re-read from every `eyJ` in
/// it: a failed token must make the detector skip the `eyJ`s inside its first part.
#[test]
fn a_token_that_failed_is_not_tried_again_from_inside() {
    let detector = Detector::new();
    for text in [
        repeat_to("eyJ-", 4 * BASE_LEN),
        format!("eyJhbGciOiJIUzI1NiJ9.{}", repeat_to("eyJ-", 4 * BASE_LEN)),
        repeat_to(&format!("{}.x", "eyJ-".repeat(100)), 4 * BASE_LEN),
    ] {
        let work = work::count(|| assert!(detector.find(&text).is_empty()));
        // One pass per automaton of the rules' literals (five for the ~300 literals of 207
        // rules), one for the names, and the token's first part read once.
        assert!(
            work <= 10 * text.len(),
            "{} bytes read for {} bytes",
            work,
            text.len()
        );
    }
}

/// Ordinary text (this crate's own sources, full of `key`, `token` and `secret`) costs a few
/// bytes read per byte: the automata's pass each (five for the ~300 literals of the rules, one
/// for the names), and short looks at names and values.
#[test]
fn ordinary_text_costs_a_few_bytes_read_per_byte() {
    let text = [
        include_str!("../detector.rs"),
        include_str!("../redactor.rs"),
        include_str!("../../manager.rs"),
        include_str!("../../../README.md"),
    ]
    .concat();
    let work = work::count(|| {
        Detector::new().find_with_lines(&text);
    });
    let per_byte = work as f64 / text.len() as f64;
    assert!(per_byte <= 8.0, "{per_byte} bytes read per byte");
}
