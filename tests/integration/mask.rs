//! Properties of `mask` over arbitrary Unicode.
#![allow(clippy::unwrap_used)]

use keyward::Mask;
use keyward::{KeyFormat, mask};
use proptest::prelude::*;

const FILLER: &str = "****";

/// Splits a masked value into (prefix, head, tail) around the filler.
fn parts<'a>(value: &str, masked: &'a str) -> (&'a str, &'a str, &'a str) {
    let prefix_len = KeyFormat::public_prefix(value).map_or(0, str::len);
    let (prefix, rest) = masked.split_at(prefix_len);
    let at = rest.find(FILLER).unwrap();
    (prefix, &rest[..at], &rest[at + FILLER.len()..])
}

/// Any printable Unicode but `*`, so the filler can be found again in the output.
const TEXT: &str = "[^*\\p{C}]";

proptest! {
    #[test]
    fn never_reveals_more_than_a_quarter(value in format!("{TEXT}{{0,80}}").as_str()) {
        let masked = mask(&value);
        let (prefix, head, tail) = parts(&value, &masked);
        let rest = &value[prefix.len()..];
        let n = rest.chars().count();
        let shown = head.chars().count() + tail.chars().count();
        prop_assert!(shown <= n / 4, "{shown} of {n}");
        if n < 12 {
            prop_assert_eq!(shown, 0);
        }
        prop_assert!(rest.starts_with(head));
        prop_assert!(rest.ends_with(tail));
    }

    #[test]
    fn the_length_does_not_show_beyond_the_revealed_ends(
        head in format!("{TEXT}{{2}}").as_str(),
        middle in format!("{TEXT}{{20,60}}").as_str(),
        extra in format!("{TEXT}{{1,40}}").as_str(),
        tail in format!("{TEXT}{{4}}").as_str(),
    ) {
        let short = format!("{head}{middle}{tail}");
        let long = format!("{head}{middle}{extra}{tail}");
        prop_assume!(KeyFormat::public_prefix(&short).is_none() && KeyFormat::public_prefix(&long).is_none());
        prop_assert_eq!(mask(&short), mask(&long));
    }

    #[test]
    fn custom_policies_keep_the_quarter_rule(value in format!("{TEXT}{{0,80}}").as_str(), head in 0usize..20, tail in 0usize..20) {
        let masked = Mask::new().with_head(head).with_tail(tail).with_prefix_shown(false).apply(&value);
        let at = masked.find(FILLER).unwrap();
        let shown = masked.chars().count() - FILLER.chars().count();
        prop_assert!(shown <= value.chars().count() / 4);
        prop_assert!(value.starts_with(&masked[..at]));
    }
}

#[test]
fn known_public_prefixes_show() {
    let key = format!("sk-ant-api03-{}", "AbCd3".repeat(10));
    assert!(mask(&key).starts_with("sk-ant-api03-"));
    let aws = format!("AKIA{}", "ABCDEFGHIJKLMNOP");
    assert_eq!(mask(&aws), "AKIA****MNOP");
}
