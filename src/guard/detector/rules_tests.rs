//! Every rule of the rule set, through the detector, both ways: keys generated from its shape
//! are found whole and attributed to it; placeholders, truncated keys, hashes, UUIDs and base64
//! of ordinary text are not.

#![allow(clippy::unwrap_used)]

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use sha2::{Digest, Sha256};

use super::Detector;
use super::plausibility::is_placeholder;
use crate::format::KeyFormat;
use crate::format::rule_tests::generated_keys;
use crate::guard::encode::base64;

/// What follows the longest public prefix (or keyword) `key` starts with.
fn body_start(format: KeyFormat, key: &str) -> usize {
    format
        .prefixes()
        .iter()
        .chain(format.keywords())
        .filter(|p| key.starts_with(**p))
        .map(|p| p.len())
        .max()
        .unwrap_or(0)
}

/// Keys of every format as the detector would see them, placeholders left out (a body
/// generated from a URL rule's shape is now and then all punctuation).
fn keys(count: usize) -> Vec<(KeyFormat, String)> {
    let mut keys = Vec::new();
    for &format in KeyFormat::ALL {
        if format == KeyFormat::PemPrivateKey {
            continue; // its own tests in format.rs and linear_tests.rs
        }
        let generated = generated_keys(format, count);
        let real: Vec<String> = generated
            .into_iter()
            .filter(|key| !is_placeholder(&key[body_start(format, key)..]))
            .collect();
        assert!(
            real.len() * 16 >= count * 15,
            "{format:?}: most keys are placeholders"
        );
        keys.extend(real.into_iter().map(|key| (format, key)));
    }
    keys
}

#[test]
fn generated_keys_of_every_rule_are_found_whole_in_text() {
    let detector = Detector::new();
    for (format, key) in keys(48) {
        let winner = KeyFormat::detect(&key);
        for (before, after) in [("", ""), ("key: ", "\n"), ("\"", "\","), ("x = '", "' # y")] {
            let text = format!("{before}{key}{after}");
            let found = detector.find(&text);
            assert_eq!(
                found.len(),
                1,
                "{format:?} in {before:?}…{after:?}: {found:?}"
            );
            assert_eq!(found[0].format(), winner, "{format:?}");
            let secret = key_range(format, &key);
            assert_eq!(
                found[0].range(),
                before.len() + secret.start..before.len() + secret.end,
                "{format:?}"
            );
        }
    }
}

/// Where the key itself is in `value`, a whole match of `format`: the `secret` group of a rule
/// that finds a key by its name (the name is not part of the key), else all of it.
fn key_range(format: KeyFormat, value: &str) -> std::ops::Range<usize> {
    if !format.pattern().contains("(?P<secret>") {
        return 0..value.len();
    }
    let regex = regex::Regex::new(&format!("^(?:{})$", format.pattern())).unwrap();
    let secret = regex.captures(value).and_then(|c| c.name("secret"));
    let secret = secret.unwrap_or_else(|| panic!("{format:?}: no secret group matched"));
    assert!(secret.start() > 0, "{format:?}: the name comes first");
    secret.range()
}

#[test]
fn placeholders_in_the_shape_of_every_rule_are_not_found() {
    let detector = Detector::new();
    let formats_only = Detector::builder().with_generic(false).build().unwrap();
    for (format, key) in keys(16) {
        let start = body_start(format, &key);
        let body: String = key[start..]
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { 'x' } else { c })
            .collect();
        let placeholder = format!("{}{body}", &key[..start]);
        assert!(
            detector.find(&placeholder).is_empty(),
            "{format:?}: {placeholder}"
        );
    }
    for &format in KeyFormat::ALL {
        for keyword in format.keywords() {
            for filler in [
                "YOUR_API_KEY",
                "YOUR_API_KEY_HERE_0123456789_abcdefghij_0123456789",
                "<your-key-here>",
                "${API_KEY}",
                "{{ api_key }}",
                "...",
                "********************************",
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                "0000000000000000000000000000000000000000000000000000000000000000000000000000",
                "EXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLE",
            ] {
                // The generic rule may take such a value for a password; no rule may claim it.
                let text = format!("api_key = \"{keyword}{filler}\"");
                let found = formats_only.find(&text);
                assert!(found.is_empty(), "{format:?} {keyword}{filler}: {found:?}");
            }
        }
    }
}

#[test]
fn truncated_keys_of_every_rule_are_not_found() {
    let formats_only = Detector::builder().with_generic(false).build().unwrap();
    for (format, key) in keys(16) {
        let keyword = format
            .keywords()
            .iter()
            .find(|k| key.starts_with(**k))
            .unwrap();
        // Seven characters past the keyword: what documentation shows of a key.
        let cut = (keyword.len() + 7).min(key.len() - 1);
        let cut = (0..=cut).rev().find(|&i| key.is_char_boundary(i)).unwrap();
        for truncated in [key[..cut].to_owned(), format!("{}...", &key[..cut])] {
            let found = formats_only.find(&truncated);
            assert!(found.is_empty(), "{format:?}: {found:?}");
        }
    }
}

#[test]
fn hashes_uuids_and_base64_of_text_match_no_rule() {
    let formats_only = Detector::builder().with_generic(false).build().unwrap();
    let words = proptest::collection::vec("[a-z]{1,9}", 4..40);
    let mut runner = TestRunner::deterministic();
    for _ in 0..512 {
        let sentence = words.new_tree(&mut runner).unwrap().current().join(" ");
        let hash = hex::encode(Sha256::digest(sentence.as_bytes()));
        let short = &hash[..40];
        let uuid = format!(
            "{}-{}-{}-{}-{}",
            &hash[..8],
            &hash[8..12],
            &hash[12..16],
            &hash[16..20],
            &hash[20..32]
        );
        let blob = base64(sentence.as_bytes());
        for text in [
            format!("sha256:{hash}"),
            format!("commit {short}"),
            format!("id = \"{uuid}\""),
            format!("{{\"data\": \"{blob}\"}}"),
            format!("{sentence}\n{blob}\n{hash}"),
        ] {
            let found = formats_only.find(&text);
            assert!(found.is_empty(), "{text}: {found:?}");
        }
    }
}

/// Rules of bare random keys take them only after the name the issuer documents: the value alone,
/// or after a longer name, is not theirs.
#[test]
fn context_rules_take_a_value_only_after_its_documented_name() {
    let formats_only = Detector::builder().with_generic(false).build().unwrap();
    let context_rules: Vec<KeyFormat> = KeyFormat::ALL
        .iter()
        .copied()
        .filter(|f| {
            f.rule()
                .shape
                .contains(r#"["']?\]?[ \t]{0,3}(?:=>|:=|=|:)"#)
        })
        .collect();
    assert!(context_rules.len() >= 40, "{}", context_rules.len());
    for (format, key) in keys(16) {
        if !context_rules.contains(&format) {
            continue;
        }
        let name = format
            .prefixes()
            .iter()
            .find(|p| key.starts_with(**p))
            .unwrap();
        let value =
            key[name.len()..].trim_start_matches(['"', '\'', ']', ' ', '\t', '=', ':', '>']);
        let claimed_by = |text: &str| {
            formats_only
                .find(text)
                .iter()
                .any(|d| d.format() == Some(format))
        };
        assert!(claimed_by(&key), "{format:?}");
        assert!(!claimed_by(value), "{format:?}: the value alone");
        assert!(
            !claimed_by(&format!("MY_{key}")),
            "{format:?}: a longer name"
        );
        // Where the shape has a fixed length, one more character makes it no key of the rule.
        let longer = format!("{key}0");
        assert!(
            format.matches(&longer) || !claimed_by(&longer),
            "{format:?}: a longer value"
        );
    }
}

/// A rule's minimum entropy (bits per character of the body) is read from its rule file and
/// applied: a value in the shape but too plain is not a key.
#[test]
fn a_rule_minimum_entropy_rejects_plain_values() {
    let mistral = KeyFormat::from_id("mistral").unwrap();
    assert_eq!(mistral.rule().min_entropy, Some(3.0));
    let formats_only = Detector::builder().with_generic(false).build().unwrap();
    // Two bits per character, neither a run nor a sequence: only the entropy rejects it.
    let plain = format!("MISTRAL_API_KEY={}", "a7Q2".repeat(8));
    assert!(mistral.matches(&plain));
    assert!(formats_only.find(&plain).is_empty());
    let random = format!(
        "MISTRAL_API_KEY={}",
        "a7Q2xK9mPz4L".repeat(3)[..32].to_owned()
    );
    assert_eq!(formats_only.find(&random)[0].format(), Some(mistral));
}
