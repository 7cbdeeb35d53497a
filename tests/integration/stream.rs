//! Integration tests of `StreamRedactor`: any split of the input gives the one-shot result.
#![allow(clippy::unwrap_used)]

use keyward::guard::RedactorBuilder;
use keyward::{Redactor, SecretString};
use proptest::prelude::*;

/// Standard base64 of `bytes`, unpadded.
fn base64(bytes: &[u8]) -> String {
    crate::common::base64(bytes, false, false)
}

use crate::common::cut_points;

/// Streams `text` cut at `cuts` (byte offsets, moved down to char boundaries).
fn stream_with_cuts(redactor: &Redactor, text: &str, cuts: &[usize]) -> String {
    let points = cut_points(text, cuts);
    let mut stream = redactor.stream();
    let mut out = String::new();
    let mut at = 0;
    for p in points {
        out += &stream.push(&text[at..p]);
        at = p;
    }
    out + &stream.finish()
}

fn stream_by_chars(redactor: &Redactor, text: &str) -> String {
    let mut stream = redactor.stream();
    let mut out = String::new();
    let mut buf = [0u8; 4];
    for c in text.chars() {
        out += &stream.push(c.encode_utf8(&mut buf));
    }
    out + &stream.finish()
}

/// A piece of a generated text: filler, or a secret in some form.
#[derive(Debug, Clone)]
enum Piece {
    Filler(String),
    Whole(usize),
    Fragment(usize, usize, usize),
    Base64(usize, String),
    Hex(usize),
    /// A secret with one character changed: a near miss.
    Broken(usize, usize),
    /// Text as is: an unregistered key of some format, or a secret-like assignment, for the
    /// detector.
    Unknown(String),
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        4 => "[a-dA-D0-3 _\\-é日\n]{0,12}".prop_map(Piece::Filler),
        1 => (0..3usize).prop_map(Piece::Whole),
        2 => (0..3usize, 0..40usize, 6..40usize).prop_map(|(s, a, l)| Piece::Fragment(s, a, l)),
        1 => (0..3usize, "[a-z]{0,4}").prop_map(|(s, p)| Piece::Base64(s, p)),
        1 => (0..3usize).prop_map(Piece::Hex),
        1 => (0..3usize, 0..40usize).prop_map(|(s, i)| Piece::Broken(s, i)),
    ]
}

fn render(pieces: &[Piece], secrets: &[String]) -> String {
    let mut text = String::new();
    for piece in pieces {
        match piece {
            Piece::Filler(f) => text.push_str(f),
            Piece::Whole(s) => text.push_str(&secrets[*s]),
            Piece::Fragment(s, a, l) => {
                let chars: Vec<char> = secrets[*s].chars().collect();
                let a = (*a).min(chars.len() - 1);
                let e = (a + l).min(chars.len());
                text.extend(&chars[a..e]);
            }
            Piece::Base64(s, p) => text.push_str(&base64(format!("{p}{}", secrets[*s]).as_bytes())),
            Piece::Hex(s) => text.extend(secrets[*s].bytes().map(|b| format!("{b:02x}"))),
            Piece::Broken(s, i) => {
                let mut chars: Vec<char> = secrets[*s].chars().collect();
                let i = i % chars.len();
                chars[i] = if chars[i] == 'x' { 'y' } else { 'x' };
                text.extend(chars);
            }
            Piece::Unknown(u) => text.push_str(u),
        }
    }
    text
}

fn secrets_strategy() -> impl Strategy<Value = Vec<String>> {
    // A small alphabet shared with the filler, so near misses and overlaps are common.
    proptest::collection::vec("(sk-proj-)?[a-dA-D0-3_\\-é日]{10,30}", 3)
}

/// A builder with `secrets` labelled `S0`, `S1`, ... and fragments of `fragment_len`.
fn builder(secrets: &[String], fragment_len: usize) -> RedactorBuilder {
    secrets.iter().enumerate().fold(
        Redactor::builder().with_fragment_len(fragment_len),
        |builder, (i, s)| builder.with_secret(format!("S{i}"), &SecretString::from(s.as_str())),
    )
}

fn build(secrets: &[String], fragment_len: usize) -> Redactor {
    builder(secrets, fragment_len).build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Issue 15: pieces of hundreds of bytes or more (a log piped through `keyward redact`) are
    /// searched with the sieve between their first and last separator; the output is still the
    /// one-shot output, with secrets planted across the pieces' edges.
    #[test]
    fn long_pieces_give_the_one_shot_result(
        secrets in secrets_strategy(),
        pieces in proptest::collection::vec(piece(), 40..160),
        cuts in proptest::collection::vec(0..3000usize, 0..5),
        fragment_len in 6..20usize,
        detection in any::<bool>(),
    ) {
        let redactor = builder(&secrets, fragment_len)
            .with_unknown_detection(detection)
            .build()
            .unwrap();
        let text = render(&pieces, &secrets);
        let whole = redactor.redact(&text).into_owned();
        prop_assert_eq!(&stream_with_cuts(&redactor, &text, &cuts), &whole);
        prop_assert_eq!(&stream_with_cuts(&redactor, &text, &[]), &whole);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_split_gives_the_one_shot_result(
        secrets in secrets_strategy(),
        pieces in proptest::collection::vec(piece(), 0..12),
        cuts in proptest::collection::vec(0..400usize, 0..12),
        fragment_len in 6..20usize,
    ) {
        let redactor = build(&secrets, fragment_len);
        let text = render(&pieces, &secrets);
        let whole = redactor.redact(&text).into_owned();
        prop_assert_eq!(&stream_with_cuts(&redactor, &text, &cuts), &whole);
        prop_assert_eq!(&stream_by_chars(&redactor, &text), &whole);
        for s in &secrets {
            prop_assert!(!whole.contains(s.as_str()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn every_single_split_point_gives_the_one_shot_result(
        secrets in secrets_strategy(),
        pieces in proptest::collection::vec(piece(), 0..8),
    ) {
        let redactor = build(&secrets, 16);
        let text = render(&pieces, &secrets);
        let whole = redactor.redact(&text).into_owned();
        for cut in 0..=text.len() {
            if text.is_char_boundary(cut) {
                prop_assert_eq!(&stream_with_cuts(&redactor, &text, &[cut]), &whole, "cut at {}", cut);
            }
        }
    }
}

#[test]
fn prose_is_emitted_up_to_the_current_word() {
    let key = SecretString::from(format!("sk-proj-{}", "Ab3dEf6hIj9l".repeat(4)));
    let redactor = Redactor::builder().with_secret("K", &key).build().unwrap();
    let mut stream = redactor.stream();
    let mut out = String::new();
    for word in "It is a fine day for a walk along the river. ".split_inclusive(' ') {
        out += &stream.push(word);
        // everything up to the last space is out
        assert!(stream.held_back() <= 8, "held back {}", stream.held_back());
    }
    assert_eq!(out, "It is a fine day for a walk along the river. ");
}

#[test]
fn a_key_split_across_model_tokens_never_shows_in_any_emitted_piece() {
    let key = SecretString::from(format!("sk-proj-{}", "Ab3dEf6hIj9l".repeat(4)));
    let redactor = Redactor::builder().with_secret("K", &key).build().unwrap();
    let reply = format!("Here it is: {} (do not share)", key.expose_secret());
    for size in 1..8 {
        let mut stream = redactor.stream();
        let mut out = String::new();
        for chunk in reply.as_bytes().chunks(size) {
            let piece = stream.push(std::str::from_utf8(chunk).unwrap());
            // no emitted piece ends with the start of the key
            assert!(!piece.contains("sk-proj-Ab3d"), "size {size}: {piece:?}");
            out += &piece;
        }
        out += &stream.finish();
        assert_eq!(out, "Here it is: [REDACTED:K] (do not share)");
    }
}

#[test]
fn a_stream_without_secrets_passes_text_through() {
    let redactor = Redactor::default();
    let mut stream = redactor.stream();
    assert_eq!(stream.push("anything"), "anything");
    assert_eq!(stream.finish(), "");
}

#[test]
fn long_streams_in_small_pieces_match_one_shot() {
    // Long enough that the stream drops emitted text from its buffer several times.
    let secrets: Vec<String> = (0..5)
        .map(|i| format!("sk-proj-{i}{}", "Zq8wXe4r".repeat(5)))
        .collect();
    let redactor = build(&secrets, 16);
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str("some words and code(x) = ");
        match i % 7 {
            0 => text.push_str(&secrets[i % 5]),
            3 => text.push_str(&secrets[i % 5][5..30]),
            5 => text.push_str(&base64(secrets[i % 5].as_bytes())),
            _ => text.push_str("Zq8wXe4rZq8w é;\n"),
        }
    }
    let whole = redactor.redact(&text).into_owned();
    for size in [1, 3, 4, 7, 64, 5000] {
        let cuts: Vec<usize> = (size..text.len()).step_by(size).collect();
        assert_eq!(
            stream_with_cuts(&redactor, &text, &cuts),
            whole,
            "pieces of {size}"
        );
    }
}

#[path = "../../fuzz/common/stream_redactor.rs"]
mod fuzz_property;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The fuzz target's property, on random inputs (libFuzzer needs nightly; this runs anywhere).
    #[test]
    fn fuzz_property_holds_on_random_inputs(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        fuzz_property::check_stream_redactor(&data);
    }
}

#[test]
fn fuzz_property_holds_on_seed_inputs() {
    // secrets spliced whole, in parts and across cut markers
    fuzz_property::check_stream_redactor(&[0, 5, 20, 30, 40, 1, 2, 3, 0xF0, 0xF4, 0xF1, 0x41]);
    fuzz_property::check_stream_redactor(&[
        2, 0, 0x95, 7, 9, 4, 4, 4, 0xF3, 0, 2, 30, 0xF4, 0xF0, 0xF5,
    ]);
    let mut long = vec![1, 10, 31, 31, 31, 9, 8, 7];
    for i in 0..200u8 {
        long.extend([i, 0xF4, 0xF0 + i % 3, 0xF6, 0xF3, i, i / 2, 25]);
    }
    fuzz_property::check_stream_redactor(&long);
}

// --- with unknown detection on: detection is line by line in both paths, so they still agree ---

/// Fake keys of several formats nobody registered, and secret-like assignments.
fn unknown_secret() -> impl Strategy<Value = String> {
    prop_oneof![
        "ghp_[A-Za-z0-9]{36}",
        "AKIA[A-Z2-7]{16}",
        "sk-proj-[A-Za-z0-9_-]{40}",
        "xoxb-[0-9]{10}-[A-Za-z0-9]{24}",
        "AIza[A-Za-z0-9_-]{35}",
        "gsk_[A-Za-z0-9]{52}",
        "(api_key|password|AUTH_TOKEN|client_secret)( = \"|: |=)[A-Za-z0-9_+/-]{12,40}\"?",
    ]
}

fn detect_piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        3 => piece(),
        // mostly set apart from the filler, so that the detector takes it for a key
        1 => ("[ \n=]?", unknown_secret(), "[ \n,]?")
            .prop_map(|(before, u, after)| Piece::Unknown(format!("{before}{u}{after}"))),
    ]
}

fn build_detecting(secrets: &[String], fragment_len: usize) -> Redactor {
    builder(secrets, fragment_len)
        .with_unknown_detection(true)
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn with_detection_any_split_gives_the_one_shot_result(
        secrets in secrets_strategy(),
        pieces in proptest::collection::vec(detect_piece(), 0..12),
        cuts in proptest::collection::vec(0..400usize, 0..12),
        fragment_len in 6..20usize,
    ) {
        let redactor = build_detecting(&secrets, fragment_len);
        let text = render(&pieces, &secrets);
        let whole = redactor.redact(&text).into_owned();
        prop_assert_eq!(&stream_with_cuts(&redactor, &text, &cuts), &whole);
        prop_assert_eq!(&stream_by_chars(&redactor, &text), &whole);
        for s in &secrets {
            prop_assert!(!whole.contains(s.as_str()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn with_detection_every_single_split_point_gives_the_one_shot_result(
        secrets in secrets_strategy(),
        pieces in proptest::collection::vec(detect_piece(), 0..8),
    ) {
        let redactor = build_detecting(&secrets, 16);
        let text = render(&pieces, &secrets);
        let whole = redactor.redact(&text).into_owned();
        for cut in 0..=text.len() {
            if text.is_char_boundary(cut) {
                prop_assert_eq!(&stream_with_cuts(&redactor, &text, &[cut]), &whole, "cut at {}", cut);
            }
        }
    }
}

/// A redactor of `key`, registered as `OPENAI_API_KEY`, that detects unknown keys too.
fn detecting_with_openai_key(key: &SecretString) -> Redactor {
    Redactor::builder()
        .with_secret("OPENAI_API_KEY", key)
        .with_unknown_detection(true)
        .build()
        .unwrap()
}

#[test]
fn with_detection_unregistered_keys_are_redacted_in_any_pieces() {
    let gh = format!("ghp_{}", "q7Rt2mXz9K".repeat(4)[..36].to_owned());
    let aws = format!("AKIA{}", "Q7ZR3MXK2WPL5TYB");
    let ours = SecretString::from(format!("sk-proj-{}", "Ab3dEf6hIj9l".repeat(4)));
    let redactor = detecting_with_openai_key(&ours);
    let text = format!(
        "GITHUB_TOKEN={gh}\nmine: {}\naws = {aws}\npassword = \"Zr4_pQ8-wX2mK9vT\"",
        ours.expose_secret()
    );
    let want = "GITHUB_TOKEN=[REDACTED:GitHub token]\n\
                mine: [REDACTED:OPENAI_API_KEY,OpenAI API key]\n\
                aws = [REDACTED:AWS access key id]\n\
                password = \"[REDACTED:unknown secret]\"";
    assert_eq!(redactor.redact(&text), want);
    for size in 1..9 {
        let cuts: Vec<usize> = (size..text.len()).step_by(size).collect();
        assert_eq!(
            stream_with_cuts(&redactor, &text, &cuts),
            want,
            "pieces of {size}"
        );
    }
}

#[test]
fn with_detection_a_stream_emits_whole_lines() {
    let redactor = Redactor::builder()
        .with_unknown_detection(true)
        .build()
        .unwrap();
    let gh = format!("ghp_{}", "q7Rt2mXz9K".repeat(4)[..36].to_owned());
    let mut stream = redactor.stream();
    // nothing of the current line is out before its end: it could still be a key
    assert_eq!(stream.push("first line\nsecond "), "first line\n");
    assert_eq!(stream.push(&gh[..20]), "");
    assert_eq!(stream.held_back(), 7 + 20);
    assert_eq!(
        stream.push(&format!("{} end\nthird", &gh[20..])),
        "second [REDACTED:GitHub token] end\n"
    );
    assert_eq!(stream.finish(), "third");
}

#[test]
fn with_detection_long_lines_are_cut_alike_in_both_paths() {
    let redactor = Redactor::builder()
        .with_unknown_detection(true)
        .build()
        .unwrap();
    let gh = format!("ghp_{}", "q7Rt2mXz9K".repeat(4)[..36].to_owned());
    let cap = 64 * 1024;
    let mut text = String::new();
    // keys around the 64 KiB cut of a long line, multi-byte characters at the cut, and a line
    // of exactly the cap
    for (filler, shift) in [("a", 0usize), ("é", 1), ("日", 2), ("b ", 3)] {
        let line: String = filler.repeat(cap / filler.len() + 30);
        let mut at = cap - 20 - shift;
        while !line.is_char_boundary(at) {
            at -= 1;
        }
        text.push_str(&line[..at]);
        text.push(' ');
        text.push_str(&gh);
        text.push(' ');
        text.push_str(&line[at..]);
        text.push(' ');
        text.push_str(&gh);
        text.push('\n');
    }
    text.push_str(&"c".repeat(cap));
    text.push('\n');
    text.push_str(&gh);
    let whole = redactor.redact(&text).into_owned();
    // a line over the cap is cut after its last blank, so a key across the cap is seen whole:
    // every key is redacted
    assert_eq!(whole.matches("[REDACTED:GitHub token]").count(), 9);
    for size in [1, 7, 4096, 70_000] {
        let cuts: Vec<usize> = (size..text.len()).step_by(size).collect();
        assert_eq!(
            stream_with_cuts(&redactor, &text, &cuts),
            whole,
            "pieces of {size}"
        );
    }
}

/// With detection on, a line that never ends is held back up to the detector's cap (64 KiB),
/// not whole, however small the pieces: past the cap it is cut and emitted.
#[test]
fn with_detection_small_pieces_of_a_long_line_are_held_back_up_to_the_cap() {
    let redactor = Redactor::builder()
        .with_unknown_detection(true)
        .build()
        .unwrap();
    let cap = 64 * 1024;
    let mut stream = redactor.stream();
    let mut out = String::new();
    let mut max_held = 0;
    for _ in 0..3 * cap / 5 {
        out += &stream.push("word ");
        max_held = max_held.max(stream.held_back());
    }
    assert!(max_held <= cap + 5, "held back {max_held} bytes");
    assert!(out.len() >= cap, "only {} bytes out", out.len());
    out += &stream.finish();
    assert_eq!(out, "word ".repeat(3 * cap / 5));
}

/// With detection on, a line held back for a registered key's base64 that may go on across the
/// line break comes out as soon as the next line shows it does not, before that line ends.
#[test]
fn with_detection_a_line_held_for_a_wrapped_key_comes_out_once_it_is_not_one() {
    let key = SecretString::from(format!("sk-proj-{}", "Wq4zR8tY2uI6oP0a".repeat(3)));
    let redactor = detecting_with_openai_key(&key);
    let encoded = base64(key.expose_secret().as_bytes());
    // as `base64` prints it: lines of the encoding alone
    let first = format!("{}\n", &encoded[..40]);
    let mut stream = redactor.stream();
    let mut out = stream.push(&first);
    // the next line starts as the base64 would go on: the first line may end inside it
    out += &stream.push(&encoded[40..44]);
    assert!(out.len() < first.len(), "the first line is held back");
    for piece in ["!", " not", " a", " key"] {
        out += &stream.push(piece);
    }
    assert_eq!(out, first, "the first line is out before the second ends");
    out += &stream.finish();
    assert_eq!(
        out,
        redactor.redact(&format!("{first}{}! not a key", &encoded[40..44]))
    );
}

/// A secret made of a repeated block (`hunter2hunter2...`, `0000...`, a key that repeats its own
/// half), and a text that repeats the block: the hits overlap without end.
fn repeating_secret() -> impl Strategy<Value = (String, usize)> {
    ("[a-zA-Z0-9]{1,9}", 2..6usize).prop_filter_map("at least 8 characters", |(block, times)| {
        let secret = block.repeat(times);
        (secret.len() >= 8).then_some((secret, block.len()))
    })
}

/// The most a stream may hold back for a redactor whose longest pattern has `max_pattern` bytes:
/// a piece of a region (see `Region::piece_len`), plus the longest pattern, plus what fragments
/// and a split UTF-8 character add.
fn hold_back_bound(max_pattern: usize) -> usize {
    (4 * max_pattern).max(4096) + 2 * max_pattern + 64
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Issue 11, item 3: nothing emitted and memory growing without bound on repeats of a block
    /// of the secret. Hold-back stays bounded, whatever the piece sizes, and the output is still
    /// the one-shot output.
    #[test]
    fn hold_back_is_bounded_on_repeats_of_a_secrets_block(
        (secret, block) in repeating_secret(),
        repeats in 2_000..6_000usize,
        piece in 1..40usize,
        fragments in any::<bool>(),
        prefix in "[ a-z]{0,3}",
    ) {
        let key = SecretString::from(secret.clone());
        let redactor = Redactor::builder()
            .with_fragments(fragments)
            .with_secret("K", &key)
            .build()
            .unwrap();
        let text = format!("{prefix}{}", secret[..block].repeat(repeats));
        // Base64 and JSON forms are at most a few times longer than the secret.
        let bound = hold_back_bound(4 * secret.len() + 16);
        let mut stream = redactor.stream();
        let mut out = String::new();
        for chunk in text.as_bytes().chunks(piece) {
            out += &stream.push(std::str::from_utf8(chunk).unwrap());
            prop_assert!(
                stream.held_back() <= bound,
                "held back {} bytes (bound {bound})",
                stream.held_back()
            );
        }
        out += &stream.finish();
        prop_assert_eq!(&out, &redactor.redact(&text).into_owned());
        prop_assert!(!out.contains(&secret));
    }
}

#[test]
fn a_long_run_of_a_repeating_secret_is_redacted_piece_by_piece() {
    let secret = "hunter2".repeat(3);
    let key = SecretString::from(secret.clone());
    let redactor = Redactor::builder().with_secret("PW", &key).build().unwrap();
    // 1.5 million pushes of `hunter2` held 10.5 MB before.
    let mut stream = redactor.stream();
    let mut emitted = 0usize;
    let mut max_held = 0;
    for _ in 0..1_500_000 {
        let out = stream.push("hunter2");
        assert!(!out.contains("hunter2"));
        emitted += out.len();
        max_held = max_held.max(stream.held_back());
    }
    let rest = stream.finish();
    assert!(rest.starts_with("[REDACTED:PW]") && !rest.contains("hunter2"));
    assert!(emitted > 0, "nothing emitted before the end");
    assert!(
        max_held <= hold_back_bound(3 * secret.len() + 16),
        "held {max_held}"
    );
    // A short run is still one replacement.
    let text = format!("say {} twice", secret.repeat(2));
    assert_eq!(redactor.redact(&text), "say [REDACTED:PW] twice");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A stream says what it replaced, whatever the split: as many redactions as the one-shot
    /// output has replacements, the labels the one-shot findings name, and `check` refuses
    /// exactly when something was replaced.
    #[test]
    fn a_stream_counts_and_names_what_it_replaced(
        secrets in secrets_strategy(),
        pieces in proptest::collection::vec(piece(), 0..10),
        cuts in proptest::collection::vec(0..300usize, 0..10),
    ) {
        let redactor = build(&secrets, 16);
        let text = render(&pieces, &secrets);
        let whole = redactor.redact(&text).into_owned();
        let mut stream = redactor.stream();
        let mut at = 0;
        for p in cut_points(&text, &cuts) {
            let _ = stream.push(&text[at..p]);
            at = p;
        }
        let _ = stream.finish();
        prop_assert_eq!(stream.redactions(), whole.matches("[REDACTED:").count());
        let mut named: Vec<String> = redactor.find(&text).iter().map(|f| f.label().to_owned()).collect();
        named.sort();
        named.dedup();
        let mut found: Vec<String> = stream.found().map(str::to_owned).collect();
        found.sort();
        prop_assert_eq!(&found, &named);
        prop_assert_eq!(stream.check().is_err(), whole != text);
        if let Err(err) = stream.check() {
            for s in &secrets {
                prop_assert!(!err.to_string().contains(s.as_str()));
            }
        }
    }
}

/// Issue 15: a log read in 64 KiB chunks (as `keyward redact` reads it) goes through the sieve;
/// what the stream holds back stays bounded as it does for small pieces.
#[test]
fn long_pieces_of_code_are_not_held_back() {
    let secrets: Vec<String> = (0..100)
        .map(|i| format!("sk-proj-{}{i:03}", "Qx7mWv2kZp9LrT4b".repeat(2)))
        .collect();
    let redactor = build(&secrets, 16);
    let lines = [
        "fn main() {\n",
        "    let value = compute(argument, other_value)\n",
        "        .map(|x| x + 1)\n",
        "    // a comment that ends in a word\n",
        "    println!(\"{}\\n\", value);\n",
        "}\n",
    ];
    let text: String = (0..40_000).map(|i| lines[i % lines.len()]).collect();
    let mut stream = redactor.stream();
    let mut out = String::new();
    let mut max_held = 0;
    for chunk in text.as_bytes().chunks(64 * 1024) {
        stream.push_into(std::str::from_utf8(chunk).unwrap(), &mut out);
        max_held = max_held.max(stream.held_back());
    }
    stream.finish_into(&mut out);
    assert_eq!(out, text);
    assert!(
        max_held <= hold_back_bound(4 * 60),
        "held back {max_held} bytes"
    );
}
