//! Detection around keywords ([`Redactor::detect_around`]) against detection line by line
//! ([`Redactor::detect_line_by_line`]), the plain reading of the detection lines: the same
//! detections, in the same order, for any text, start and end of the text.
#![allow(clippy::unwrap_used)]

use std::ops::Range;

use proptest::prelude::*;

use super::Redactor;
use crate::guard::detection_line::{Block, DETECT_LINE_CAP, Lines, lines_block};
use crate::guard::region::Detected;

/// A line of text: words, and perhaps a key of a known format or an assignment of a
/// random-looking value (all fake, built here).
pub(super) fn line() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("the"),
        Just("token"),
        Just("key"),
        Just("password"),
        Just("="),
        Just("\"x\""),
        Just("fn"),
        Just("{"),
    ];
    let found = prop_oneof![
        Just(String::new()),
        Just(format!("AKIA{}", "Q7ZR3MXK2WPL5TYB")),
        Just(format!("ghp_{}", &"q7Rt2mXz9K".repeat(4)[..36])),
        Just(format!("password = \"{}\"", "Zq8xWv3kLp".repeat(2))),
    ];
    (prop::collection::vec(word, 0..8), found, 0..8usize).prop_map(|(words, found, at)| {
        let mut words: Vec<String> = words.into_iter().map(str::to_owned).collect();
        let at = at.min(words.len());
        words.insert(at, found);
        words.join(" ")
    })
}

fn detector() -> Redactor {
    Redactor::builder()
        .with_unknown_detection(true)
        .build()
        .unwrap()
}

/// What one way of detecting calls `found` with, and what it returns.
type Outcome = (Vec<(Range<usize>, Detected)>, usize);

fn both(r: &Redactor, text: &str, start: usize, complete: bool) -> (Option<Outcome>, Outcome) {
    let detector = r.detector().unwrap();
    let lines = Lines {
        text,
        start,
        searched: start,
        complete,
        offset: 7,
    };
    let mut around = Vec::new();
    let after = match lines.block() {
        Block::Uncut { end, after } => {
            let keywords = detector.keyword_starts(&text[start..end]).unwrap();
            r.detect_around(detector, lines, end, &keywords, |range, d| {
                around.push((range, d))
            });
            Some(after)
        }
        Block::Empty => Some(start),
        Block::MayBeCut => None,
    };
    let mut by_line = Vec::new();
    let by_line_after = r.detect_line_by_line(detector, lines, |range, d| by_line.push((range, d)));
    (after.map(|after| (around, after)), (by_line, by_line_after))
}

proptest! {
    #[test]
    fn around_keywords_finds_what_line_by_line_finds(
        lines in prop::collection::vec(line(), 0..10),
        ends_in_break in any::<bool>(),
        skipped_lines in 0..3usize,
        complete in any::<bool>(),
    ) {
        let mut text = lines.join("\n");
        if ends_in_break {
            text.push('\n');
        }
        let start = text
            .match_indices('\n')
            .nth(skipped_lines.saturating_sub(1))
            .filter(|_| skipped_lines > 0)
            .map_or(0, |(at, _)| at + 1);
        let (around, by_line) = both(&detector(), &text, start, complete);
        prop_assert_eq!(around.unwrap(), by_line);
    }
}

/// The property does not hold for want of keys: the generated ones are found.
#[test]
fn the_generated_lines_hold_keys_that_are_found() {
    let r = detector();
    let text = format!("a line\nthe key AKIA{} here\n", "Q7ZR3MXK2WPL5TYB");
    let (around, by_line) = both(&r, &text, 0, false);
    assert_eq!(by_line.0.len(), 1);
    assert_eq!(around.unwrap(), by_line);
}

#[test]
fn lines_longer_than_the_cap_go_line_by_line_and_are_found() {
    let r = detector();
    let key = format!("AKIA{}", "Q7ZR3MXK2WPL5TYB");
    let filler = "word ".repeat(DETECT_LINE_CAP / 5 + 10);
    for text in [
        format!("{key}\n{filler}{key}\nend {key}"),
        format!("{filler}{key}"),
        format!("short {key}\n{filler}"),
    ] {
        for complete in [false, true] {
            let (around, by_line) = both(&r, &text, 0, complete);
            assert!(around.is_none(), "a long line must not be taken as uncut");
            assert!(!complete || !by_line.0.is_empty(), "the key is not found");
        }
    }
    // Up to the cap, the lines are the `\n`-separated ones; one byte more and they are cut.
    for len in [DETECT_LINE_CAP / 2, DETECT_LINE_CAP - 1, DETECT_LINE_CAP] {
        let line = format!("{} {key}", "w".repeat(len - key.len() - 1));
        for text in [format!("{line}\n{line}\n"), format!("a\n{line}\nb {key}")] {
            for complete in [false, true] {
                let (around, by_line) = both(&r, &text, 0, complete);
                assert_eq!(around.unwrap(), by_line, "{len} {complete}");
                assert!(!by_line.0.is_empty(), "{len} {complete}");
            }
        }
    }
    let line = "w".repeat(DETECT_LINE_CAP + 1);
    for text in [
        format!("a\n{line}\nb"),
        format!("{line}\n"),
        format!("a\n{line}"),
    ] {
        assert_eq!(lines_block(&text, 0, 0, true), Block::MayBeCut);
    }
}

#[test]
fn a_block_ends_at_the_last_break_or_the_end_of_a_complete_text() {
    assert_eq!(
        lines_block("ab\ncd", 0, 0, false),
        Block::Uncut { end: 2, after: 3 }
    );
    assert_eq!(
        lines_block("ab\ncd", 0, 0, true),
        Block::Uncut { end: 5, after: 5 }
    );
    assert_eq!(lines_block("ab\ncd", 3, 3, false), Block::Empty);
    assert_eq!(lines_block("", 0, 0, false), Block::Empty);
    assert_eq!(
        lines_block("", 0, 0, true),
        Block::Uncut { end: 0, after: 0 }
    );
    let long = "x".repeat(DETECT_LINE_CAP + 1);
    assert_eq!(lines_block(&long, 0, 0, false), Block::MayBeCut);
    assert_eq!(
        lines_block(&format!("a\n{long}"), 0, 0, false),
        Block::MayBeCut
    );
}
