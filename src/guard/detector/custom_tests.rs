//! Users' own rules in the detector: keyward's format gets the built-in rules' checks, keywords
//! gate each rule to the lines near them, and the work stays linear in the text (counted, not
//! timed) whatever the text does to the keywords.

#![allow(clippy::unwrap_used)]

use super::custom::REACH;
use super::{Detector, RuleSet, work};

const ACME: &str = "[acme-token]\nname = Acme token\nkeywords = acme_\nprefixes = acme_\n\
                    shape = acme_[A-Za-z0-9]{24}\nstopwords = fixture\nentropy = 3.0\n";

fn detector(text: &str) -> Detector {
    let rules = RuleSet::builder()
        .with_rules_text("acme.rules", text)
        .build()
        .unwrap();
    rules_only(rules)
}

/// The user's rules only: no built-in format, no generic rule.
pub(super) fn rules_only(rules: RuleSet) -> Detector {
    Detector::builder()
        .with_formats(&[])
        .with_generic(false)
        .with_rules(rules)
        .build()
        .unwrap()
}

#[test]
fn keyward_format_rules_get_the_checks_of_the_built_in_rules() {
    let detector = detector(ACME);
    let key = format!("acme_{}", "Qz7Xw2Rt".repeat(3));
    let found = detector.find(&format!("token = {key};"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule().unwrap().id(), "acme-token");
    // placeholders, stopwords (any case) and low entropy are not keys
    for fake in [
        format!("acme_{}", "x".repeat(24)),
        format!("acme_{}", "YourKeyHere0123456789abc"),
        format!("acme_FIXTURE{}", "Qz7Xw2Rt9Lm4Np6Vb"),
        format!("acme_{}", "abab".repeat(6)),
    ] {
        assert!(detector.find(&fake).is_empty(), "{fake}");
    }
}

#[test]
fn a_rule_runs_only_on_the_lines_near_its_keywords() {
    let detector = detector("[near]\nkeywords = zzkw\nshape = q[0-9]{8}\n");
    let filler = "ordinary words on a line\n".repeat(2 * REACH / 25);
    // on the keyword's line, or within the reach of it
    assert_eq!(detector.find("zzkw q70394185").len(), 1);
    assert_eq!(detector.find("q70394185\nZZKW").len(), 1);
    // far from any keyword: not looked at
    assert!(
        detector
            .find(&format!("zzkw\n{filler}q70394185"))
            .is_empty()
    );
    // a rule without keywords reads everything
    let everywhere = self::detector("[everywhere]\nshape = q[0-9]{8}\n");
    assert_eq!(
        everywhere.find(&format!("zzkw\n{filler}q70394185")).len(),
        1
    );
}

/// The bytes read for `text` by the user's rules, per byte of it: the built-in formats' passes
/// (which run even with no format on) are not counted.
fn work_per_byte(detector: &Detector, text: &str) -> f64 {
    let baseline = Detector::builder()
        .with_formats(&[])
        .with_generic(false)
        .build()
        .unwrap();
    let count = |detector: &Detector| {
        work::count(|| {
            detector.find(text);
        })
    };
    (count(detector) - count(&baseline)) as f64 / text.len() as f64
}

#[test]
fn keywords_over_and_over_cost_linear_work() {
    let detector = detector(ACME);
    for unit in [
        "acme_",
        "ACME_acme_",
        "acme_Qz7Xw2Rt9Lm4Np6Vb8Hc3Jd ",
        "acme_\n",
        "acme_x ",
    ] {
        let small = work_per_byte(&detector, &unit.repeat(20_000));
        let large = work_per_byte(&detector, &unit.repeat(80_000));
        // Each byte is read a bounded number of times: the automaton's pass, the windows'
        // line search, the regex on the merged windows, each match once.
        assert!(large <= 8.0, "{unit:?}: {large} bytes read per byte");
        assert!(large <= small * 1.1 + 0.1, "{unit:?}: {small} then {large}");
    }
}

#[test]
fn many_rules_without_their_keywords_cost_one_pass() {
    let rules: String = (0..200)
        .map(|i| format!("[rule-{i}]\nkeywords = kw{i}zz\nshape = kw{i}zz[0-9]{{8}}\n"))
        .collect();
    let detector = detector(&rules);
    let text = include_str!("../redactor.rs");
    // the keyword automaton's pass only
    assert!(work_per_byte(&detector, text) <= 1.01);
}
