//! The search for wrapped base64 and hex (`wrapped.rs`), which jumps from one line break
//! after a run to the next, against the same search taking every byte: a file of its own,
//! above `redactor.rs`, which builds the search the way users build it.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::encode::{self, Encoding, Encodings};
use super::hit::Hit;
use super::wrapped::Wrapped;
use crate::SecretString;
use crate::guard::Redactor;

fn redactor(secrets: &[String]) -> Redactor {
    let mut builder = Redactor::builder().with_min_len(8);
    for (i, s) in secrets.iter().enumerate() {
        builder = builder.with_secret(format!("S{i}"), &SecretString::from(s.as_str()));
    }
    builder.build().unwrap()
}

fn sorted(mut hits: Vec<Hit>) -> Vec<Hit> {
    hits.sort_by_key(|h| (h.range.start, h.range.end, h.secret, h.encoding));
    hits
}

/// What goes into a text: filler, or a form of a secret wrapped onto lines.
#[derive(Debug, Clone)]
enum Part {
    /// Prose, code, JSON, and every byte a line break is made of.
    Filler(String),
    /// The `form`-th pattern of secret `secret` (its base64 and hex among them), after `lead`,
    /// cut into lines of `width` characters ended by `eol` and indented by `indent`.
    Wrapped {
        secret: usize,
        form: usize,
        lead: &'static str,
        width: usize,
        eol: &'static str,
        indent: &'static str,
    },
}

fn part() -> impl Strategy<Value = Part> {
    prop_oneof![
        2 => "([a-zA-Z0-9+/_-]{1,12}|[ \t]{1,3}|\n|\r\n|\\\\n|\\\\r\\\\n|\r|\\\\|[,.:;\"={}()]){0,16}"
            .prop_map(Part::Filler),
        // Long lines, which the search crosses with `memchr3`, and long runs before a break.
        1 => "[A-Za-z0-9+/]{60,300}".prop_map(Part::Filler),
        1 => "[a-z .]{60,300}".prop_map(Part::Filler),
        1 => (
            0..3usize,
            any::<usize>(),
            prop_oneof![Just(""), Just("\n"), Just("\""), Just("="), Just(" "), Just(": "), Just("\n  ")],
            1..80usize,
            prop_oneof![Just("\n"), Just("\r\n"), Just("\\n"), Just("\\r\\n")],
            prop_oneof![3 => Just(""), 1 => Just("  "), 1 => Just("\t")],
        )
            .prop_map(|(secret, form, lead, width, eol, indent)| Part::Wrapped {
                secret,
                form,
                lead,
                width,
                eol,
                indent,
            }),
    ]
}

fn render(parts: &[Part], secrets: &[String]) -> String {
    let mut text = String::new();
    for part in parts {
        match part {
            Part::Filler(s) => text.push_str(s),
            Part::Wrapped {
                secret,
                form,
                lead,
                width,
                eol,
                indent,
            } => {
                let forms = encode::patterns(&secrets[secret % secrets.len()], Encodings::ALL);
                let form = std::str::from_utf8(&forms[form % forms.len()].0).unwrap();
                text.push_str(lead);
                for (k, line) in form.as_bytes().chunks(*width).enumerate() {
                    if k > 0 {
                        text.push_str(eol);
                        text.push_str(indent);
                    }
                    text.push_str(std::str::from_utf8(line).unwrap());
                }
            }
        }
    }
    text
}

/// Feeds `text` cut at `cuts` (sorted) with `feed`, as a stream does: the hits, and after each
/// piece the first offset a later hit could start at.
fn fed(wrapped: &Wrapped, text: &[u8], cuts: &[usize], by_byte: bool) -> (Vec<Hit>, Vec<usize>) {
    let mut state = wrapped.start();
    let mut hits = Vec::new();
    let mut pending = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain([&text.len()]) {
        if by_byte {
            wrapped.feed_by_byte(&mut state, &text[..cut], 0, from, &mut hits);
        } else {
            wrapped.feed(&mut state, &text[..cut], 0, from, &mut hits);
        }
        pending.push(wrapped.pending_from(&state));
        from = cut;
    }
    (sorted(hits), pending)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Jumping over the line breaks that end no run finds what taking every byte finds, in one
    /// piece or cut anywhere, and leaves the same text pending after each piece; passing over
    /// the breaks the sieve says no pattern crosses finds what stepping through them finds.
    #[test]
    fn the_search_that_jumps_finds_what_the_search_of_every_byte_finds(
        secrets in proptest::collection::vec("[A-Za-z0-9]{16,40}", 1..3),
        parts in proptest::collection::vec(part(), 0..24),
        cuts in proptest::collection::vec(0..3000usize, 0..5),
    ) {
        let redactor = redactor(&secrets);
        let wrapped = redactor.engine().unwrap().wrapped().unwrap();
        let text = render(&parts, &secrets);
        let text = text.as_bytes();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(text.len())).collect();
        cuts.sort_unstable();

        let (whole, _) = fed(wrapped, text, &[], false);
        let (whole_by_byte, _) = fed(wrapped, text, &[], true);
        prop_assert_eq!(&whole, &whole_by_byte);
        // The sieve passes over line breaks no pattern crosses, and misses none that one does.
        let (stepped_through, _) = fed(&wrapped.without_sieve(), text, &[], false);
        prop_assert_eq!(&whole, &stepped_through);
        let (pieces, pending) = fed(wrapped, text, &cuts, false);
        let (pieces_by_byte, pending_by_byte) = fed(wrapped, text, &cuts, true);
        prop_assert_eq!(&pieces, &pieces_by_byte);
        prop_assert_eq!(pending, pending_by_byte);
        // The state carried between pieces is the state of the one-shot search.
        prop_assert_eq!(&pieces, &whole);
        // A byte at a time, as a stream of the smallest pieces: the sieve is never asked about
        // a word it has not seen enough of.
        let every: Vec<usize> = (1..text.len()).collect();
        let (bytes, _) = fed(wrapped, text, &every, false);
        prop_assert_eq!(bytes, whole);
    }
}

/// The line breaks of a 64-byte block and of the short block at the end of a text, at every
/// position, each kind of line-break character.
#[test]
fn a_line_break_at_any_offset_of_a_block_is_seen() {
    let secret = "Qx7mWv2kZp".repeat(2);
    let redactor = redactor(std::slice::from_ref(&secret));
    let wrapped = redactor.engine().unwrap().wrapped().unwrap();
    let forms = encode::patterns(&secret, Encodings::ALL);
    let (base64, _) = forms
        .iter()
        .find(|(_, encoding)| *encoding == Encoding::Base64)
        .unwrap();
    let encoded = std::str::from_utf8(base64).unwrap();
    for eol in ["\n", "\r\n", "\\n"] {
        for pad in 0..200 {
            for split in 1..encoded.len() {
                // After a line of punctuation, then at the end of a long run of key characters.
                let (before, after) = (&encoded[..split], &encoded[split..]);
                for text in [
                    format!("{}\n{before}{eol}{after}\n", ".".repeat(pad)),
                    format!("{}{before}{eol}{after}\n", "a".repeat(pad)),
                ] {
                    let (hits, _) = fed(wrapped, text.as_bytes(), &[], false);
                    let (by_byte, _) = fed(wrapped, text.as_bytes(), &[], true);
                    assert_eq!(hits.len(), 1, "{pad} {split} {eol:?}");
                    assert_eq!(hits, by_byte, "{pad} {split} {eol:?}");
                }
            }
        }
    }
}
