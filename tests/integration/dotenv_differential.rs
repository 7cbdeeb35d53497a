//! `DotenvProvider` against dotenvy 0.15.7 itself, on generated `.env` texts.
//!
//! keyward's `.env` splitter and rewriter (`src/provider/dotenv/`) copy dotenvy's private line
//! reader (`QuotedLines`, `eval_end_state`) and value parser (`parse_value`), so that each
//! statement can be handed to dotenvy alone with every `$` escaped. Cargo.toml pins dotenvy
//! (`=0.15.7`); these tests are what an upgrade must pass. They compare the provider's values
//! with dotenvy's own parse of the same text, read the way the provider keeps values (a later
//! line wins, an empty value unsets), on three generators:
//!
//! - **soup**: lines of the characters that move either state machine (quotes, backslashes,
//!   blanks of several kinds, `#`, `$`, `{`, `}`, `n`, line breaks), after key prefixes valid
//!   and not (`export` in every role, blanks around `=`, bad keys), joined by LF or CRLF, with
//!   now and then a lone CR or a byte order mark: malformed text as often as not;
//! - **statements**: well-formed files built from bare, single- and double-quoted segments with
//!   every escape dotenvy knows (`\\ \" \' \$ \n` and backslash-space), `$` and `\$`,
//!   multi-line quoted values with LF and CRLF inside, `export`, trailing comments, comment
//!   and blank lines, LF or CRLF line ends and a last line with or without one;
//! - **references**: the same statements with `${NAME}` references and expansion on, against
//!   dotenvy's own substitution (names that are not in the process environment, which dotenvy
//!   reads first and keyward never does).
//!
//! With expansion off the provider reads every `$` literally where dotenvy would substitute,
//! so dotenvy is given the text with each `$` swapped for `%` (a character neither machine
//! treats specially, and that no generator produces) and its values are swapped back.
//!
//! The provider's deliberate differences are asserted as such: a CR that ends no line is
//! refused; a last line ending in one blank, which dotenvy refuses, is read; a byte order mark
//! is skipped (dotenvy's `from_read_iter` leaves that to its caller).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use keyward::{DotenvProvider, ErrorKind, SecretProvider};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

/// The values a provider holds, or the kind of error it refused the text with.
type Reading = Result<BTreeMap<String, String>, (ErrorKind, String)>;

fn values(provider: &DotenvProvider) -> BTreeMap<String, String> {
    provider
        .keys()
        .map(|key| {
            let value = provider.get(key).unwrap().unwrap();
            (key.to_owned(), value.expose_secret().to_owned())
        })
        .collect()
}

fn ours(text: &str, expand: bool) -> Reading {
    DotenvProvider::options()
        .with_variable_expansion(expand)
        .read(text.as_bytes())
        .map(|provider| values(&provider))
        .map_err(|err| (err.kind(), err.to_string()))
}

/// dotenvy's assignments, in order, or `None` when it fails anywhere.
fn dotenvy(text: &str) -> Option<Vec<(String, String)>> {
    dotenvy::from_read_iter(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .ok()
}

/// Assignments as a provider keeps them: a later line wins, an empty value unsets the key.
fn as_provider(entries: Vec<(String, String)>) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for (key, value) in entries {
        if value.is_empty() {
            values.remove(&key);
        } else {
            values.insert(key, value);
        }
    }
    values
}

fn has_lone_cr(text: &str) -> bool {
    text.replace("\r\n", "").contains('\r')
}

/// Checks the provider's reading of `text` against dotenvy's parse of `oracle` (the same text,
/// or with its dollars swapped), whose values `back` maps to what the provider must hold.
fn agree(
    text: &str,
    oracle: &str,
    expand: bool,
    back: impl Fn(String) -> String,
) -> Result<(), TestCaseError> {
    let oracle = oracle.strip_prefix('\u{feff}').unwrap_or(oracle);
    let expected = |oracle: &str| {
        dotenvy(oracle)
            .map(|entries| as_provider(entries.into_iter().map(|(k, v)| (k, back(v))).collect()))
    };
    let actual = ours(text, expand);
    if has_lone_cr(text) {
        let Err((kind, message)) = actual else {
            return Err(TestCaseError::fail(format!(
                "a lone CR was accepted: {text:?}"
            )));
        };
        prop_assert_eq!(kind, ErrorKind::Parse);
        prop_assert!(message.contains("carriage return"), "{}", message);
        return Ok(());
    }
    match (expected(oracle), actual) {
        (Some(expected), Ok(actual)) => prop_assert_eq!(actual, expected, "{:?}", text),
        (None, Err((kind, _))) => prop_assert_eq!(kind, ErrorKind::Parse, "{:?}", text),
        // The one text dotenvy refuses and the provider reads: a last line that ends in a
        // single blank without a line break. With the break added, dotenvy agrees.
        (None, Ok(actual)) => {
            prop_assert!(
                !text.ends_with('\n') && text.ends_with(char::is_whitespace),
                "dotenvy refuses {:?}, keyward read {:?}",
                text,
                actual
            );
            prop_assert_eq!(Some(actual), expected(&format!("{oracle}\n")), "{:?}", text);
        }
        (Some(expected), Err((_, message))) => prop_assert!(
            false,
            "dotenvy read {:?}, keyward refused: {}, for {:?}",
            expected,
            message,
            text
        ),
    }
    Ok(())
}

/// `text` with every `$` read literally by dotenvy: each `$` becomes `%`, and so does `\$` in
/// the places where dotenvy takes it for an escaped dollar (`escaped_outside_single` lists
/// them, by byte offset of the backslash). Single-quoted `\$` stays two characters.
fn swap_dollars(text: &str, escaped_outside_single: &[usize]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut skip = false;
    for (at, c) in text.char_indices() {
        if skip {
            skip = false;
            out.push('%');
        } else if escaped_outside_single.contains(&at) {
            skip = true;
        } else {
            out.push(if c == '$' { '%' } else { c });
        }
    }
    out
}

fn unswap(value: String) -> String {
    value.replace('%', "$")
}

// ---------------------------------------------------------------------------------------
// soup

/// Key prefixes, valid and not: `export` as a prefix, as a key, and glued to a key.
const PREFIXES: &[&str] = &[
    "A=",
    "B = ",
    "export C=",
    "export\tD =",
    "export  export=",
    "export=",
    "export",
    "exportE=",
    "  F=",
    "\tG.h=",
    "_I=",
    "",
    "  ",
    "#",
    "  # ",
    "1J=",
    "K-L=",
    "M",
    "N ",
];

/// Characters and pairs that move dotenvy's line reader or value parser, weighted by repeats.
/// `\r` alone is rare, so that most texts are compared rather than refused.
const SOUP: &[&str] = &[
    "x", "x", "x", "n", "n", "$", "{", "}", "'", "'", "\"", "\"", "\\", "\\", " ", " ", "\t", "#",
    "#", "\n", "\n", "\r\n", "\u{a0}", "\u{85}", "\u{e9}", "=", "\r", " #", "\u{a0}#", "\u{85}#",
];

/// Only what moves the two quote machines, where they disagree on purpose (dotenvy's reader
/// takes `\'` inside single quotes for an escape, its parser does not), densely enough that
/// the sequences that tell them apart come up.
const QUOTES: &[&str] = &[
    "'", "\"", "\\", "'\\'", "\\'", "\\\"", "#", " ", "a", "\n", "\r\n",
];

fn soup() -> impl Strategy<Value = String> {
    prop_oneof![
        soup_of(SOUP, PREFIXES),
        soup_of(QUOTES, &["A=", "B='", "C=\""])
    ]
}

fn soup_of(
    tokens: &'static [&'static str],
    prefixes: &'static [&'static str],
) -> impl Strategy<Value = String> {
    let body = prop::collection::vec(prop::sample::select(tokens), 0..12).prop_map(|v| v.concat());
    let line = (prop::sample::select(prefixes), body).prop_map(|(p, b)| format!("{p}{b}"));
    let end = prop::sample::select(&["\n", "\r\n"][..]);
    (
        prop::collection::vec((line, end), 0..7),
        any::<bool>(),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(lines, last_end, bom)| {
            let mut text = String::from(if bom { "\u{feff}" } else { "" });
            let count = lines.len();
            for (i, (line, end)) in lines.into_iter().enumerate() {
                text.push_str(&line);
                if i + 1 < count || last_end {
                    text.push_str(end);
                }
            }
            // Where a `\$` is, soup cannot tell whether it is single-quoted (the statement
            // generator covers it): none here.
            while text.contains("\\$") {
                text = text.replace("\\$", "$");
            }
            text
        })
}

// ---------------------------------------------------------------------------------------
// statements

/// A piece of a value.
#[derive(Debug, Clone)]
enum Segment {
    Bare(Vec<&'static str>),
    Single(Vec<&'static str>),
    Double(Vec<&'static str>),
}

/// Bare: no blank (it would end the value) and no quote, but every escape.
const BARE: &[&str] = &[
    "a", "Z", "0", "_", ".", "/", ":", "+", "-", "=", "#", "$", "{", "}", "\u{e9}", "\\\\", "\\ ",
    "\\\"", "\\'", "\\$", "\\n",
];
/// Single-quoted: anything but `'`; dotenvy keeps backslashes here as written.
const SINGLE: &[&str] = &[
    "a", " ", "\t", "#", "$", "\"", "{", "}", "\u{e9}", "\\$", "\\a", "\n", "\r\n",
];
/// Double-quoted: every escape, `$`, blanks, `#`, `'` and raw line breaks.
const DOUBLE: &[&str] = &[
    "a", " ", "\t", "#", "'", "$", "{", "}", "\u{e9}", "\\\\", "\\\"", "\\'", "\\$", "\\n", "\\ ",
    "\n", "\r\n",
];

fn segment(bare: &'static [&'static str]) -> impl Strategy<Value = Segment> {
    let tokens =
        |set: &'static [&'static str]| prop::collection::vec(prop::sample::select(set), 0..6);
    prop_oneof![
        tokens(bare).prop_map(Segment::Bare),
        tokens(SINGLE).prop_map(Segment::Single),
        tokens(DOUBLE).prop_map(Segment::Double),
    ]
}

/// One line (or several, for a multi-line value) of a well-formed file.
#[derive(Debug, Clone)]
enum Line {
    Assignment {
        lead: &'static str,
        export: &'static str,
        key: &'static str,
        before_eq: &'static str,
        after_eq: &'static str,
        value: Vec<Segment>,
        trailing: &'static str,
    },
    Comment(&'static str),
    Blank(&'static str),
}

const KEYS: &[&str] = &["A", "B_1", "c.d", "_E", "export", "A"];

fn line(bare: &'static [&'static str]) -> impl Strategy<Value = Line> {
    let assignment = (
        prop::sample::select(&["", " ", "\t"][..]),
        prop::sample::select(&["", "", "export ", "export\t", "export  "][..]),
        prop::sample::select(KEYS),
        prop::sample::select(&["", "", " "][..]),
        prop::sample::select(&["", "", " ", "\t"][..]),
        prop::collection::vec(segment(bare), 0..4),
        prop::sample::select(
            &[
                "",
                "",
                "",
                " # a comment",
                "\t#\"c",
                " #",
                " ",
                "\u{a0}# it's",
            ][..],
        ),
    )
        .prop_map(
            |(lead, export, key, before_eq, after_eq, value, trailing)| Line::Assignment {
                lead,
                export,
                key,
                before_eq,
                after_eq,
                value,
                trailing,
            },
        );
    prop_oneof![
        6 => assignment,
        1 => prop::sample::select(&["# comment", "  # indented", "#", "# \"open 'quotes"][..])
            .prop_map(Line::Comment),
        1 => prop::sample::select(&["", "  ", "\t"][..]).prop_map(Line::Blank),
    ]
}

/// A generated file: the text, and the byte offsets of the backslashes of `\$` that are not
/// inside single quotes (dotenvy's escaped dollar).
#[derive(Debug, Clone)]
struct File {
    text: String,
    escaped_dollars: Vec<usize>,
}

fn file_from(lines: Vec<(Line, &'static str)>, last_end: bool, bom: bool) -> File {
    let mut text = String::from(if bom { "\u{feff}" } else { "" });
    let mut escaped_dollars = Vec::new();
    let count = lines.len();
    for (i, (line, end)) in lines.into_iter().enumerate() {
        match line {
            Line::Assignment {
                lead,
                export,
                key,
                before_eq,
                after_eq,
                value,
                trailing,
            } => {
                // `export export=...` reads as the key `export`; `export` alone as a key needs
                // no prefix.
                text.push_str(&format!("{lead}{export}{key}{before_eq}={after_eq}"));
                for segment in value {
                    let (open, tokens, single) = match segment {
                        Segment::Bare(tokens) => ("", tokens, false),
                        Segment::Single(tokens) => ("'", tokens, true),
                        Segment::Double(tokens) => ("\"", tokens, false),
                    };
                    text.push_str(open);
                    for token in tokens {
                        if token == "\\$" && !single {
                            escaped_dollars.push(text.len());
                        }
                        text.push_str(token);
                    }
                    text.push_str(open);
                }
                text.push_str(trailing);
            }
            Line::Comment(comment) => text.push_str(comment),
            Line::Blank(blank) => text.push_str(blank),
        }
        if i + 1 < count || last_end {
            text.push_str(end);
        }
    }
    File {
        text,
        escaped_dollars,
    }
}

fn statements(bare: &'static [&'static str]) -> impl Strategy<Value = File> {
    (
        prop::collection::vec(
            (line(bare), prop::sample::select(&["\n", "\r\n"][..])),
            0..8,
        ),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(lines, last_end, bom)| file_from(lines, last_end, bom))
}

// ---------------------------------------------------------------------------------------
// references

/// Names for `${...}`: the keys of [`REF_KEYS`] and one never set. None of them may be in the
/// process environment (checked), since dotenvy would read it there first.
const REF_NAMES: &[&str] = &["KWDIFF_A", "KWDIFF_B", "KWDIFF_C", "KWDIFF_UNSET"];

/// Bare tokens for files with references: no bare `$` (a `$` that starts no `${` reference is
/// literal to keyward and dropped by dotenvy, a difference by design), but `\$` and `${NAME}`.
const BARE_REF: &[&str] = &[
    "a",
    "0",
    "_",
    ".",
    "/",
    "#",
    "{",
    "}",
    "\u{e9}",
    "\\\\",
    "\\ ",
    "\\\"",
    "\\'",
    "\\$",
    "\\n",
    "${KWDIFF_A}",
    "${KWDIFF_B}",
    "${KWDIFF_C}",
    "${KWDIFF_UNSET}",
];
const DOUBLE_REF: &[&str] = &[
    "a",
    " ",
    "#",
    "'",
    "{",
    "}",
    "\u{e9}",
    "\\\\",
    "\\\"",
    "\\'",
    "\\$",
    "\\n",
    "\n",
    "\r\n",
    "${KWDIFF_A}",
    "${KWDIFF_B}",
    "${KWDIFF_UNSET}",
];

fn reference_file() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        prop::collection::vec(prop::sample::select(BARE_REF), 0..6).prop_map(Segment::Bare),
        // Single quotes keep `${...}` as written in both; a `\'` in them is where dotenvy's
        // reader and parser disagree, so a value put in must not move the reader.
        prop::collection::vec(
            prop::sample::select(&["a", " ", "${KWDIFF_A}", "\n", "\\'"][..]),
            0..4
        )
        .prop_map(Segment::Single),
        prop::collection::vec(prop::sample::select(DOUBLE_REF), 0..6).prop_map(Segment::Double),
    ];
    let assignment = (
        prop::sample::select(&["KWDIFF_A", "KWDIFF_B", "KWDIFF_C"][..]),
        prop::collection::vec(segment, 0..4),
    )
        .prop_map(|(key, value)| Line::Assignment {
            lead: "",
            export: "",
            key,
            before_eq: "",
            after_eq: "",
            value,
            trailing: "",
        });
    prop::collection::vec(
        (assignment, prop::sample::select(&["\n", "\r\n"][..])),
        1..7,
    )
    .prop_map(|lines| file_from(lines, true, false).text)
}

/// A value with every character a put-in value must escape, then lines whose values are soup
/// of quotes, backslashes and references: where dotenvy's reader and parser disagree about
/// single quotes (`'\'`), a value put in must leave the reader's state as the reference did.
fn reference_soup() -> impl Strategy<Value = String> {
    const FIRST: &[&str] = &["a", "'", "\\'", "\\\"", "\\\\", "\\n", "\\$", " ", "#"];
    const SOUP: &[&str] = &["'", "\\'", "'\\'", "${KWDIFF_A}", "\"", "a", "\n", "\\"];
    let first = prop::collection::vec(prop::sample::select(FIRST), 0..8);
    let line = prop::collection::vec(prop::sample::select(SOUP), 0..8);
    (first, prop::collection::vec(line, 1..4)).prop_map(|(first, lines)| {
        let mut text = format!("KWDIFF_A=\"'{}\"\n", first.concat());
        for line in lines {
            text.push_str(&format!("KWDIFF_B={}\n", line.concat()));
        }
        text
    })
}

// ---------------------------------------------------------------------------------------
// the properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Malformed text as often as not: the provider reads what dotenvy reads (dollars aside)
    /// and refuses what it refuses.
    #[test]
    fn soup_reads_like_dotenvy(text in soup()) {
        agree(&text, &swap_dollars(&text, &[]), false, unswap)?;
    }

    /// Well-formed files with every quoting, escape, comment, `export` form and line end.
    #[test]
    fn statements_read_like_dotenvy(file in statements(BARE)) {
        let oracle = swap_dollars(&file.text, &file.escaped_dollars);
        agree(&file.text, &oracle, false, unswap)?;
    }

    /// With expansion on, `${NAME}` of an earlier line (or of none) gives what dotenvy's own
    /// substitution gives, however the earlier value is quoted or escaped.
    #[test]
    fn references_expand_like_dotenvy(text in prop_oneof![reference_file(), reference_soup()]) {
        agree(&text, &text, true, |v| v)?;
    }
}

#[test]
fn reference_names_are_not_in_the_environment() {
    for name in REF_NAMES {
        assert!(
            std::env::var_os(name).is_none(),
            "`{name}` is set in the environment; dotenvy would read it instead of the file"
        );
    }
}

/// The generators are worth running: most statement files parse, and the parsed values hold
/// every feature the properties claim to cover. Counted on a fixed sample.
#[test]
fn the_generators_cover_what_they_claim() {
    const SAMPLE: usize = 2_000;
    let mut runner = TestRunner::deterministic();
    let mut parsed = 0;
    let mut seen = BTreeMap::<&str, usize>::new();
    let mut note =
        |what: &'static str, yes: bool| *seen.entry(what).or_default() += usize::from(yes);
    let strategy = statements(BARE);
    for _ in 0..SAMPLE {
        let file = strategy.new_tree(&mut runner).unwrap().current();
        let text = &file.text;
        note("CRLF line end", text.contains("\r\n"));
        note("export prefix", text.contains("export "));
        note(
            "comment line",
            text.lines().any(|l| l.trim_start().starts_with('#')),
        );
        note(
            "trailing comment",
            text.contains(" #") || text.contains("\t#"),
        );
        note("byte order mark", text.starts_with('\u{feff}'));
        note("escaped dollar", !file.escaped_dollars.is_empty());
        let oracle = swap_dollars(text, &file.escaped_dollars);
        let Some(entries) = dotenvy(oracle.strip_prefix('\u{feff}').unwrap_or(&oracle)) else {
            continue;
        };
        parsed += 1;
        let values: Vec<String> = entries.into_iter().map(|(_, v)| unswap(v)).collect();
        let any = |f: &dyn Fn(&str) -> bool| values.iter().any(|v| f(v));
        note("multi-line value", any(&|v| v.contains('\n')));
        note("CRLF inside a value", any(&|v| v.contains("\r\n")));
        note("literal dollar", any(&|v| v.contains('$')));
        note("double quote in a value", any(&|v| v.contains('"')));
        note("backslash in a value", any(&|v| v.contains('\\')));
        note("blank in a value", any(&|v| v.contains(' ')));
        note("hash in a value", any(&|v| v.contains('#')));
    }
    assert!(
        parsed * 2 > SAMPLE,
        "only {parsed} of {SAMPLE} generated files parse"
    );
    for (what, count) in &seen {
        assert!(
            *count * 50 > SAMPLE,
            "{what}: in only {count} of {SAMPLE} files"
        );
    }

    let strategy = reference_file();
    let mut expanded = 0;
    for _ in 0..SAMPLE {
        let text = strategy.new_tree(&mut runner).unwrap().current();
        let defined = ["KWDIFF_A", "KWDIFF_B"].iter().any(|name| {
            text.contains(&format!("${{{name}}}")) && text.contains(&format!("{name}="))
        });
        expanded += usize::from(defined && dotenvy(&text).is_some());
    }
    assert!(
        expanded * 5 > SAMPLE,
        "only {expanded} of {SAMPLE} reference files expand"
    );
}

/// One text of the kind the statement generator makes, spelled out: a `#` line inside a
/// multi-line double-quoted value with CRLF, a comment after one blank, and `\$` kept inside
/// single quotes over two lines.
#[test]
fn a_hash_line_inside_a_multi_line_value_is_part_of_it() {
    let text = "A=\"x\n# y\r\n\" # after\r\nexport B='p\\$\n#q'\n";
    let got = ours(text, false).unwrap();
    assert_eq!(got["A"], "x\n# y\r\n");
    assert_eq!(got["B"], "p\\$\n#q");
    agree(text, &swap_dollars(text, &[]), false, unswap).unwrap();
}
