//! The engine's sieved search against its scan of every byte (`scan.rs`), on redactors built
//! the way users build them: a file of its own, above `redactor.rs`, which it uses.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::hit::Hit;
use super::scan::*;
use crate::SecretString;
use crate::guard::encode::{self, Encodings};
use crate::guard::{Redactor, RedactorBuilder};

/// The hits of the sieved search and of the plain scan of every byte, in one order.
fn both(engine: &Engine, text: &str) -> (Vec<Hit>, Vec<Hit>) {
    let key = |h: &Hit| (h.range.start, h.range.end, h.secret, h.encoding);
    let mut sieved = Vec::new();
    engine.find_all(text.as_bytes(), &mut sieved);
    let mut scanned = Vec::new();
    engine.find_all_by_scan(text.as_bytes(), &mut scanned);
    sieved.sort_by_key(key);
    scanned.sort_by_key(key);
    (sieved, scanned)
}

/// A secret: a public prefix or none, then a body of key characters, sometimes with
/// characters that percent and JSON escape, sometimes with non-ASCII ones; or such a body as
/// the secret part of a connection string or a URL, with public parts on both sides.
fn secret() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(""), Just("sk-proj-"), Just("ghp_")],
        prop_oneof![
            4 => "[A-Za-z0-9]{8,48}",
            1 => "[A-Za-z0-9/+ \"\\\\<&é-]{8,30}",
            1 => "([a-z0-9]{1,5}|[日é€]){4,12}",
        ],
        0..6usize,
    )
        .prop_map(|(prefix, body, frame)| match frame {
            0 => format!("AccountName=kw;AccountKey={body};EndpointSuffix=core.windows.net"),
            1 => format!("postgres://kw:{body}@db.example.com:5432/app"),
            _ => format!("{prefix}{body}"),
        })
        .prop_filter("8 characters at least", |s| s.chars().count() >= 8)
}

/// What goes into a text: filler or a form of one of the secrets.
#[derive(Debug, Clone)]
enum Part {
    /// Prose, code or JSON.
    Filler(String),
    /// A run of key characters: the adversarial case, no separator for the sieve.
    Run(String),
    /// The `form`-th pattern of secret `secret` (every encoding, every alignment).
    Form { secret: usize, form: usize },
    /// Characters `from..to` of a secret, counted in chars.
    Fragment {
        secret: usize,
        from: usize,
        to: usize,
    },
    /// The first characters of a secret: a near miss.
    Prefix { secret: usize, chars: usize },
}

fn part() -> impl Strategy<Value = Part> {
    prop_oneof![
        3 => "[a-z ,.:\"{}=\\n]{0,40}".prop_map(Part::Filler),
        1 => "[A-Za-z0-9+/_-]{0,120}".prop_map(Part::Run),
        2 => (0..4usize, any::<usize>()).prop_map(|(secret, form)| Part::Form { secret, form }),
        2 => (0..4usize, 0..60usize, 0..60usize)
            .prop_map(|(secret, from, to)| Part::Fragment { secret, from, to }),
        1 => (0..4usize, 0..60usize).prop_map(|(secret, chars)| Part::Prefix { secret, chars }),
    ]
}

fn render(parts: &[Part], secrets: &[String], encodings: Encodings) -> String {
    let mut text = String::new();
    for part in parts {
        match part {
            Part::Filler(s) | Part::Run(s) => text.push_str(s),
            Part::Form { secret, form } => {
                let value = &secrets[secret % secrets.len()];
                let forms = encode::patterns(value, encodings);
                if let Some((pattern, _)) = forms.get(form % forms.len().max(1)) {
                    text.push_str(std::str::from_utf8(pattern).unwrap());
                }
            }
            Part::Fragment { secret, from, to } => {
                let chars: Vec<char> = secrets[secret % secrets.len()].chars().collect();
                let (from, to) = (from % chars.len(), to % (chars.len() + 1));
                text.extend(&chars[from.min(to)..from.max(to)]);
            }
            Part::Prefix { secret, chars } => {
                text.extend(secrets[secret % secrets.len()].chars().take(*chars));
            }
        }
    }
    text
}

fn builder(secrets: &[String], fragment_len: usize, encodings: Encodings) -> RedactorBuilder {
    let mut builder = Redactor::builder()
        .with_min_len(8)
        .with_fragment_len(fragment_len)
        .with_encodings(encodings);
    for (i, s) in secrets.iter().enumerate() {
        builder = builder.with_secret(format!("S{i}"), &SecretString::from(s.as_str()));
    }
    builder
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The sieved search finds exactly the hits of the scan of every byte, with secrets and
    /// their forms planted anywhere: at every offset from the sampled positions, next to
    /// separators or inside long runs of key characters, cut into fragments and prefixes.
    #[test]
    fn the_sieved_search_finds_what_the_full_scan_finds(
        secrets in proptest::collection::vec(secret(), 1..4),
        parts in proptest::collection::vec(part(), 0..12),
        shift in 0..24usize,
        fragment_len in prop_oneof![Just(16usize), 6..24usize],
        encodings in prop_oneof![
            4 => Just(Encodings::ALL),
            1 => Just(Encodings::RAW),
            1 => Just(Encodings::ALL.without(Encodings::RAW)),
        ],
        fragments in prop_oneof![4 => Just(true), 1 => Just(false)],
    ) {
        let redactor = builder(&secrets, fragment_len, encodings)
            .with_fragments(fragments)
            .build()
            .unwrap();
        let Some(engine) = redactor.engine() else { return Ok(()) };
        // The shift moves every planted form across the sampled positions.
        let text = format!("{}{}", "x".repeat(shift), render(&parts, &secrets, encodings));
        let (sieved, scanned) = both(engine, &text);
        prop_assert_eq!(sieved, scanned);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A stream's pieces, long ones searched with the sieve between their first and last
    /// separator, give the hits of the scan of every byte over the whole text: forms
    /// planted across piece boundaries and next to the separators the pieces are cut at.
    #[test]
    fn pieces_searched_with_the_sieve_find_what_the_full_scan_finds(
        secrets in proptest::collection::vec(secret(), 1..4),
        parts in proptest::collection::vec(part(), 20..80),
        cuts in proptest::collection::vec(0..4000usize, 0..60),
        fragment_len in prop_oneof![Just(16usize), 6..24usize],
    ) {
        let redactor = builder(&secrets, fragment_len, Encodings::ALL).build().unwrap();
        let engine = redactor.engine().unwrap();
        let text = render(&parts, &secrets, Encodings::ALL);
        let mut cuts: Vec<usize> = cuts
            .into_iter()
            .map(|c| c.min(text.len()))
            .chain([text.len()])
            .collect();
        cuts.sort_unstable();
        let mut state = engine.start();
        let mut pieces = Vec::new();
        let mut from = 0;
        for cut in cuts {
            engine.scan_piece(&mut state, &text.as_bytes()[..cut], 0, from, &mut pieces);
            from = cut;
        }
        engine.finish(&mut state, text.as_bytes(), 0, &mut pieces);
        let key = |h: &Hit| (h.range.start, h.range.end, h.secret, h.encoding);
        pieces.sort_by_key(key);
        let (_, scanned) = both(engine, &text);
        prop_assert_eq!(pieces, scanned);
    }
}

#[test]
fn a_key_at_every_offset_of_a_long_run_is_found_alike() {
    let key = format!("sk-proj-{}", "Qx7mWv2kZp".repeat(4));
    let redactor = builder(std::slice::from_ref(&key), 16, Encodings::ALL)
        .build()
        .unwrap();
    let engine = redactor.engine().unwrap();
    assert!(engine.is_sieved());
    let forms = encode::patterns(&key, Encodings::ALL);
    for (form, _) in &forms {
        let form = std::str::from_utf8(form).unwrap();
        for at in 0..40 {
            // inside a run of key characters, then after a separator, then a fragment
            for text in [
                format!("{}{form}{}", "a".repeat(at), "b".repeat(40 - at)),
                format!("{} {form} tail", "word ".repeat(at)),
                format!("{}{}", "Z".repeat(at), &key[8 + at / 4..8 + at / 4 + 18]),
            ] {
                let (sieved, scanned) = both(engine, &text);
                assert!(!scanned.is_empty());
                assert_eq!(sieved, scanned, "{at}");
            }
        }
    }
}
