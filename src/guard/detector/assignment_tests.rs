//! Several assignments on one line, each found: generated lines of any number of assignments,
//! to names built from the detector's own word list, written bare, quoted or as flags, between
//! any of the separators shells, `.env` files, logs and query strings use.

#![allow(clippy::unwrap_used)]

use std::ops::Range;

use proptest::prelude::*;

use super::assignment::SECRET_NAME_WORDS;
use super::*;

/// Words a secret name may start with; none of them makes a name public or a test fixture.
const NAME_PREFIXES: &[&str] = &[
    "db", "api", "service", "github", "openai", "prod", "app", "stripe", "slack", "aws", "client",
];

/// A secret-sounding name: up to two prefix words and a word of `SECRET_NAME_WORDS`, in one of
/// the ways names are written.
fn secret_name() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(proptest::sample::select(NAME_PREFIXES), 0..=2),
        proptest::sample::select(SECRET_NAME_WORDS),
        0..5usize,
    )
        .prop_map(|(prefixes, last, style)| {
            let words: Vec<&str> = prefixes.into_iter().chain([last]).collect();
            match style {
                0 => words.join("_").to_ascii_uppercase(),
                1 => words.join("_"),
                2 => words.join("-"),
                3 => words.join("."),
                _ => {
                    let mut camel = words[0].to_owned();
                    for word in &words[1..] {
                        camel.push_str(&word[..1].to_ascii_uppercase());
                        camel.push_str(&word[1..]);
                    }
                    camel
                }
            }
        })
}

/// A random value the detector finds when it is the only thing assigned.
fn secret_value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9!@#%^*+=_]{11,40}".prop_filter("found on its own", |value| {
        let line = format!("TOKEN={value}");
        let found = Detector::new().find(&line);
        found.len() == 1 && found[0].range() == ("TOKEN=".len()..line.len())
    })
}

/// How an assignment is written: `(before the value, after the value)`.
fn assignment_form(name: &str, form: usize) -> (String, String) {
    match form {
        0 => (format!("{name}="), String::new()),
        1 => (format!("{name}=\""), "\"".to_owned()),
        2 => (format!("{name}='"), "'".to_owned()),
        3 => (format!("\"{name}="), "\"".to_owned()),
        4 => (format!("'{name}="), "'".to_owned()),
        _ => (format!("--{name}="), String::new()),
    }
}

const SEPARATORS: &[&str] = &[
    " ", "  ", "\t", ";", "; ", " ; ", "&&", " && ", ",", ", ", " | ",
];
const LINE_STARTS: &[&str] = &["", "export ", "env ", "  ", "RUN ", "docker run -e "];
const LINE_ENDS: &[&str] = &[
    "",
    " ./run.sh",
    " && make deploy",
    "; echo done",
    " # rotated monthly",
    "\n",
    "\r\n",
    " python app.py --verbose",
];

/// A generated line and the ranges of the values assigned on it.
fn line_of_assignments() -> impl Strategy<Value = (String, Vec<Range<usize>>)> {
    let assignment = (0..3usize, 0..6usize, secret_value());
    (
        proptest::collection::vec(secret_name(), 1..=3),
        proptest::collection::vec((assignment, proptest::sample::select(SEPARATORS)), 1..8),
        proptest::sample::select(LINE_STARTS),
        proptest::sample::select(LINE_ENDS),
    )
        .prop_map(|(names, assignments, start, end)| {
            // Names come from a small pool, so one often comes back (`password=a password=b`).
            let mut line = start.to_owned();
            let mut ranges = Vec::new();
            for (i, ((name, form, value), separator)) in assignments.iter().enumerate() {
                if i > 0 {
                    line.push_str(separator);
                }
                let (before, after) = assignment_form(&names[name % names.len()], *form);
                line.push_str(&before);
                ranges.push(line.len()..line.len() + value.len());
                line.push_str(value);
                line.push_str(&after);
            }
            line.push_str(end);
            (line, ranges)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn every_assignment_on_a_line_is_found((line, ranges) in line_of_assignments()) {
        let found: Vec<Range<usize>> = Detector::new().find(&line).iter().map(Detection::range).collect();
        prop_assert_eq!(found, ranges, "in {:?}", line);
    }
}

#[test]
fn assignments_before_a_command_are_found() {
    let (first, second) = ("Zr4_pQ8wX2mK9vT3", "Hq7_nB2cV5xL8kJ1");
    for line in [
        format!("API_KEY={first} SECRET_TOKEN={second} ./run.sh"),
        format!("password={first} password={second}"),
        format!("password={first}, password={second}"),
        format!("export DB_PASSWORD={first}; SLACK_TOKEN={second} make"),
        format!("API_KEY={first}&&SECRET={second}"),
        format!("{{\"cmd\": \"API_KEY={first}\\nSECRET={second}\\n\"}}"),
    ] {
        let found: Vec<&str> = Detector::new()
            .find(&line)
            .iter()
            .map(|d| &line[d.range()])
            .collect();
        assert_eq!(found, [first, second], "{line:?}");
    }
}

#[test]
fn code_with_glued_assignments_is_left_alone() {
    for text in [
        "key=Utf8SuffixKey(x);",
        "token=next_token9(x)",
        "let token=tokens[9];",
        "key=Key2{a: 1}",
        "if (token=read_token2)",
        "a.apiKey=e.apiKey;",
    ] {
        let found = Detector::new().find(text);
        assert!(found.is_empty(), "{found:?} in {text:?}");
    }
}
