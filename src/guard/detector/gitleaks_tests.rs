//! Rules in the gitleaks TOML format: `tests/rules/gitleaks.toml` (twenty rules in the layout
//! of gitleaks' own configuration) finds the keys generated from each rule's shape, whole or
//! by its secret group; its allowlists excuse what they say and nothing else; and every
//! malformed file is an error naming the file and the rule.

#![allow(clippy::unwrap_used)]

use proptest::strategy::{Strategy, ValueTree};
use proptest::string::string_regex;
use proptest::test_runner::TestRunner;

use super::custom_tests::rules_only;
use super::{DetectionKind, Detector, RuleSet};
use crate::error::ErrorKind;

const FILE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/rules/gitleaks.toml"
));

fn rules() -> RuleSet {
    RuleSet::builder()
        .with_toml_text("gitleaks.toml", FILE)
        .build()
        .unwrap()
}

/// `count` strings generated from `pattern`, the same on every run.
fn generated(pattern: &str, count: usize) -> Vec<String> {
    let strategy = string_regex(pattern).unwrap();
    let mut runner = TestRunner::deterministic();
    (0..count)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// Per rule: the shape of the secret, the text around it (`{}` is the secret) and the path of
/// the file it is in.
const CASES: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "acme-api-key",
        "acme_(live|test)_[a-z0-9]{32}",
        "ACME_KEY={}\n",
        None,
    ),
    (
        "widget-token",
        "[A-Za-z0-9]{40}",
        "Widget-Token: \"{}\"",
        None,
    ),
    (
        "orbit-secret",
        "[0-9a-f]{48}",
        "orbit_secret={} # rotate",
        None,
    ),
    ("nimbus-pat", "npat_[A-Za-z0-9]{36}", "token: {}", None),
    (
        "zephyr-webhook",
        "https://hooks\\.zephyr\\.test/services/[A-Z0-9]{9}/[A-Za-z0-9]{24}",
        "post to {} now",
        None,
    ),
    (
        "quartz-db-url",
        "[A-Za-z0-9]{8,30}",
        "DB=quartz://admin:{}@db.internal.test/app",
        None,
    ),
    ("ember-key", "EMBR[A-Z2-7]{28}", "key {}", None),
    (
        "lattice-token",
        "lat_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[{}]",
        None,
    ),
    (
        "pylon-env-key",
        "[A-Za-z0-9]{20,64}",
        "PYLON_KEY={}\n",
        Some("deploy/.env"),
    ),
    (
        "glacier-secret",
        "[A-Za-z0-9/+]{40}",
        "GLACIER_SECRET_KEY = '{}'",
        None,
    ),
    (
        "tundra-code",
        "tundra-[a-z]{4}-[0-9]{6}",
        "code {} end",
        None,
    ),
    (
        "fjord-key",
        "fjk_[A-Za-z0-9]{30}",
        "k={}",
        Some("fixtures/a.rs"),
    ),
    (
        "harbor-token",
        "hbr_[A-Za-z0-9]{32}",
        "h = {} # harbor",
        None,
    ),
    ("beacon-key", "bcn_[A-Za-z0-9]{30}", "fixture-only {}", None),
    ("comet-key", "comet_sk_[A-Za-z0-9]{24}", "{}", None),
    (
        "delta-api-key",
        "[A-Za-z0-9]{16,64}",
        "delta_api_key = {}\n",
        None,
    ),
    (
        "ridge-token",
        "rdg[0-9]{2}\\.[A-Za-z0-9_-]{43}",
        "Bearer {}",
        None,
    ),
    ("summit-key", "sm1t-[A-Za-z0-9]{20}", "s: {}", None),
    ("canyon-key", "[a-f0-9]{32}", "cny_test_{}", None),
    (
        "prairie-private-key",
        "-----BEGIN PRAIRIE KEY-----\n[A-Za-z0-9+/]{64}\n[A-Za-z0-9+/]{20}==\n-----END PRAIRIE KEY-----",
        "key:\n{}\n",
        None,
    ),
];

#[test]
fn the_gitleaks_layout_loads_twenty_rules_with_their_descriptions() {
    let rules = rules();
    assert_eq!(rules.len(), 20);
    let ids: Vec<&str> = rules.rules().iter().map(|r| r.id()).collect();
    let cases: Vec<&str> = CASES.iter().map(|c| c.0).collect();
    assert_eq!(ids, cases);
    assert_eq!(rules.rules()[0].description(), "Acme API key");
    assert_eq!(rules.rules()[0].keywords(), ["acme_live_", "acme_test_"]);
    assert!(rules.rules()[10].keywords().is_empty());
}

#[test]
fn each_rule_finds_the_secrets_generated_from_its_shape() {
    let detector = rules_only(rules());
    for &(id, shape, around, path) in CASES {
        for secret in generated(shape, 24) {
            let (before, after) = around.split_once("{}").unwrap();
            let text = format!("line one\n{before}{secret}{after}\nline three");
            let found = detector.find_at(&text, path);
            assert_eq!(found.len(), 1, "{id}: {found:?}");
            let DetectionKind::Rule(rule) = found[0].kind() else {
                panic!("{id}: {found:?}");
            };
            assert_eq!(rule.id(), id);
            assert_eq!(&text[found[0].range()], secret, "{id}");
            assert!(!format!("{found:?}").contains(&secret), "{id}");
        }
    }
}

#[test]
fn keywords_match_in_any_case_and_the_regex_decides() {
    let detector = rules_only(rules());
    let key = format!("EMBR{}", "QZ7X".repeat(7));
    // The keyword is `embr`: the upper-case key wakes the rule.
    assert_eq!(detector.find(&format!("k {key}")).len(), 1);
    // The regex is case-sensitive: a lower-case body is no Ember key.
    assert!(
        detector
            .find(&format!("k {}", key.to_lowercase()))
            .is_empty()
    );
}

#[test]
fn allowlists_excuse_what_they_name_and_nothing_else() {
    let detector = rules_only(rules());
    let found = |text: &str, path: Option<&str>| detector.find_at(text, path).len();
    let body = "Qz7Xw2Rt9Lm4Np6Vb8Hc3Jd5Kf1Gs0Ty";
    // per-rule stopwords (any case)
    assert_eq!(found(&format!("npat_{}", &body[..36 - 6]), None), 0); // too short
    assert_eq!(found(&format!("npat_SAMPLE{}", &body[..30]), None), 0);
    assert_eq!(found(&format!("npat_{}{}", &body[..30], "Zz9Yy8"), None), 1);
    // regexTarget = "match"
    assert_eq!(found(&format!("quartz://admin:{body}@localhost"), None), 0);
    assert_eq!(found(&format!("quartz://admin:{body}@db.test"), None), 1);
    // condition = "AND": both the path and the line marker
    let fjord = format!("fjk_{}", &body[..30]);
    assert_eq!(found(&format!("{fjord} FIXTURE"), Some("fixtures/x.rs")), 0);
    assert_eq!(found(&format!("{fjord} FIXTURE"), Some("src/x.rs")), 1);
    assert_eq!(found(&fjord, Some("fixtures/x.rs")), 1);
    // regexTarget = "line"
    let harbor = format!("hbr_{body}");
    assert_eq!(found(&format!("{harbor} # harbor:ignore"), None), 0);
    assert_eq!(found(&format!("{harbor}\n# harbor:ignore"), None), 1);
    // a publishable key
    assert_eq!(found(&format!("comet_pk_{}", &body[..24]), None), 0);
    // global: paths, regexes, stopwords
    let beacon = format!("bcn_{}", &body[..30]);
    assert_eq!(found(&beacon, Some("vendor/lib.js")), 0);
    assert_eq!(found(&beacon, Some("src/vendors.js")), 1);
    assert_eq!(found(&format!("delta_api_key = GlobalOK{body}"), None), 0);
    assert_eq!(
        found(&format!("delta_api_key = x{body}NotASecret"), None),
        0
    );
    // a global allowlist with `targetRules` applies to those rules only
    let summit = format!("sm1t-{}", &body[..20]);
    assert_eq!(found(&format!("fixture-only {summit}"), None), 0);
    assert_eq!(found(&format!("fixture-only {beacon}"), None), 1);
}

#[test]
fn entropy_path_and_secret_group_behave_as_in_gitleaks() {
    let detector = rules_only(rules());
    // entropy: at or below the rule's is not a secret
    assert!(
        detector
            .find(&format!("widget_token = {}", "ab".repeat(20)))
            .is_empty()
    );
    // path: a rule with a `path` runs only on files whose path matches
    let pylon = format!("PYLON_KEY={}", "Qz7Xw2Rt9Lm4Np6Vb8Hc");
    assert_eq!(detector.find_at(&pylon, Some(".env")).len(), 1);
    assert!(
        detector
            .find_at(&pylon, Some("src/.env.example"))
            .is_empty()
    );
    assert!(detector.find(&pylon).is_empty());
    // no secretGroup: the first group that matched
    let live = "0123456789abcdef".repeat(3);
    let text = format!("cny_live_{}", &live[..40]);
    assert_eq!(&text[detector.find(&text)[0].range()], &live[..40]);
}

#[test]
fn a_rule_beats_the_generic_rule_on_the_same_value() {
    let detector = Detector::builder().with_rules(rules()).build().unwrap();
    let text = format!("delta_api_key = {}", "Qz7Xw2Rt9Lm4".repeat(2));
    // Without the rules, the generic rule finds the value.
    assert_eq!(
        Detector::new().find(&text)[0].kind(),
        DetectionKind::GenericAssignment
    );
    let found = detector.find(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule().map(|r| r.id()), Some("delta-api-key"));
}

/// Each malformed file and what its error must say (besides the file's name).
const MALFORMED: &[(&str, &str)] = &[
    (
        "[[rules]]\nid = \"a\"\nregex = '''(unclosed'''\n",
        "rule `a`: its regular expression does not compile",
    ),
    (
        "[[rules]]\nid = \"a\"\nregex = 'x'\ncolour = 'red'\n",
        "rule `a`: unknown key `colour`",
    ),
    ("colour = 'red'\n", "unknown top-level key `colour`"),
    (
        "[[rules]]\nid = \"a\"\nregex = '(x)'\nsecretGroup = 2\n",
        "rule `a`: `secretGroup = 2`, but its regular expression has 1 capture group",
    ),
    (
        "[[rules]]\nid = \"a\"\nregex = 'x'\nsecretGroup = -1\n",
        "rule `a`: `secretGroup` is not a number",
    ),
    (
        "[[rules]]\nid = \"\"\nregex = 'x'\n",
        "rule number 1 has an empty id",
    ),
    ("[[rules]]\nregex = 'x'\n", "rule number 1 has an empty id"),
    (
        "[[rules]]\nid = \"a\"\nregex = 'x'\n[[rules]]\nid = \"a\"\nregex = 'y'\n",
        "rule `a`: the id is taken",
    ),
    ("[[rules]]\nid = \"a\"\n", "rule `a`: it has no `regex`"),
    (
        "[[rules]]\nid = \"a\"\npath = 'x'\n",
        "it has a `path` and no `regex`",
    ),
    (
        "[[rules]]\nid = \"a b\"\nregex = 'x'\n",
        "rule `a b`: an id is at most",
    ),
    (
        "[[rules]]\nid = \"a\"\nregex = 'x'\nentropy = -1.0\n",
        "rule `a`: entropy -1 is not 0 or more",
    ),
    (
        "[[rules]]\nid = \"a\"\nregex = 'x'\nkeywords = 'x'\n",
        "rule `a`: `keywords` is not an array",
    ),
    (
        "[[rules]]\nid = \"a\"\nregex = 'x'\n[rules.allowlist]\ncommits = ['abc']\n",
        "rule `a`: [rules.allowlist]: `commits` is not supported",
    ),
    (
        "[[rules]]\nid = \"a\"\nregex = 'x'\n[rules.allowlist]\nregexTarget = 'all'\n",
        "`regexTarget` is",
    ),
    (
        "[[rules]]\nid = \"a\"\nregex = 'x'\n[rules.allowlist]\nregexes = ['(']\n",
        "rule `a`: its allowlist regex does not compile",
    ),
    (
        "[[rules]]\nid = \"a\"\nregex = 'x'\n[rules.allowlist]\ntargetRules = ['a']\n",
        "unknown key `targetRules`",
    ),
    (
        "[[rules]]\nid = \"a\"\nregex = 'x'\npath = '('\n",
        "rule `a`: its path does not compile",
    ),
    (
        "[allowlist]\npaths = ['(']\n",
        "its allowlist path does not compile",
    ),
    ("[allowlist]\nfoo = 1\n", "[allowlist]: unknown key `foo`"),
    (
        "[extend]\npath = 'other.toml'\n",
        "`[extend] path` is not supported",
    ),
    (
        "[extend]\ndisabledRules = ['x']\n",
        "`[extend] disabledRules` is not supported",
    ),
    (
        "[[rules]]\nid = \"a\"\nregex = '''(?:a{1000}){1000}'''\n",
        "rule `a`: its regular expression does not compile",
    ),
    ("[[rules]\n", "not a gitleaks TOML rule file"),
];

#[test]
fn every_malformed_file_is_an_error_naming_the_file_and_the_rule() {
    for &(text, expected) in MALFORMED {
        let err = RuleSet::builder()
            .with_toml_text("team.toml", text)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Parse, "{text}");
        let message = err.to_string();
        assert!(message.starts_with("team.toml: "), "{text}: {message}");
        assert!(message.contains(expected), "{text}: {message}");
    }
}

/// What is wrong and where, from the regex crate's parser; never the pattern, which may hold a
/// literal token (the regex crate's own message quotes it).
#[test]
fn a_regex_error_says_what_is_wrong_without_the_pattern() {
    let token = format!("tok_{}", "Zq7xPw4m".repeat(3));
    let err = RuleSet::builder()
        .with_toml_text(
            "t.toml",
            format!("[[rules]]\nid = 'a'\nregex = '{token}[z-a]'\n"),
        )
        .build()
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("invalid character class range") && message.contains("(at character 30)"),
        "{message}"
    );
    assert!(!message.contains(&token[4..]), "{message}");
    let err = RuleSet::builder()
        .with_toml_text(
            "t.toml",
            format!("[[rules]]\nid = 'a'\nregex = '''(?x)\n{token}\n  (a'''\n"),
        )
        .build()
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("unclosed group (on line 3 of it, at character 3)"),
        "{message}"
    );
    assert!(!message.contains(&token[4..]), "{message}");
    let err = RuleSet::builder()
        .with_toml_text(
            "t.toml",
            "[[rules]]\nid = 'a'\nregex = '''(?:a{1000}){1000}'''\n",
        )
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("size limit"), "{err}");
}

#[test]
fn extend_use_default_is_accepted_and_ids_are_unique_across_formats() {
    let set = RuleSet::builder()
        .with_toml_text(
            "a.toml",
            "[extend]\nuseDefault = true\n[[rules]]\nid = 'x'\nregex = 'x1'\n",
        )
        .with_rules_text("b.rules", "[y]\nshape = y1\n")
        .build()
        .unwrap();
    assert_eq!(set.len(), 2);
    let err = RuleSet::builder()
        .with_toml_text("a.toml", "[[rules]]\nid = 'x'\nregex = 'x1'\n")
        .with_rules_text("b.rules", "[x]\nshape = y1\n")
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the id is taken by a rule of `a.toml`"),
        "{err}"
    );
}

/// Regular expressions in the style of gitleaks' own default rules (Unicode `\w`, long
/// alternations, bounded repetitions) compile within the size bound.
#[test]
fn gitleaks_style_expressions_compile_within_the_bound() {
    let generic = r#"(?i)[\w.-]{0,50}?(?:access|auth|(?-i:[Aa]pi|API)|credential|creds|key|passw(?:or)?d|secret|token)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([\w.=-]{10,150}|[a-z0-9][a-z0-9+/]{11,}={0,3})(?:[\x60'"\s;]|\\[nr]|$)"#;
    let named = r#"(?i)[\w.-]{0,50}?(?:heroku)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12})(?:[\x60'"\s;]|\\[nr]|$)"#;
    let private = r"(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S-]{64,}?KEY(?: BLOCK)?-----";
    for (id, regex) in [
        ("generic-api-key", generic),
        ("heroku-api-key", named),
        ("private-key", private),
    ] {
        let text = format!("[[rules]]\nid = '{id}'\nregex = '''{regex}'''\nkeywords = ['key']\n");
        let set = RuleSet::builder().with_toml_text("g.toml", text).build();
        assert!(set.is_ok(), "{id}: {:?}", set.err());
    }
}

mod go_syntax {
    use proptest::prelude::*;
    use regex::Regex;

    use super::super::gitleaks::from_go;

    #[test]
    fn perl_classes_become_ascii_classes_inside_and_outside_brackets() {
        assert_eq!(from_go(r"\w+"), "[[:word:]]+");
        assert_eq!(from_go(r"[\w.-]{0,50}"), "[[:word:].-]{0,50}");
        assert_eq!(from_go(r"[^\s\D]"), "[^[:space:][:^digit:]]");
        assert_eq!(from_go(r"\bkey\B"), r"(?-u:\b)key\B");
        // escaped backslashes, literal `]` first in a class, POSIX classes: untouched
        assert_eq!(
            from_go(r"\\w[]\w][[:alpha:]\d]"),
            r"\\w[][:word:]][[:alpha:][:digit:]]"
        );
    }

    proptest! {
        /// On ASCII text, a gitleaks expression and its rewrite find the same matches: RE2's
        /// ASCII classes and the regex crate's Unicode ones agree there.
        #[test]
        fn the_rewrite_finds_what_the_original_finds_on_ascii(
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just(r"\w"), Just(r"\d"), Just(r"\s"), Just(r"\W"), Just(r"\D"), Just(r"\S"),
                    Just(r"\b"), Just(r"[\w.-]"), Just(r"[^\s]"), Just(r"[a\d]"), Just("a"),
                    Just("."), Just("{0,3}"), Just("+?"), Just("(?i)k"), Just(r"\\"),
                ],
                1..8,
            ),
            haystack in "[ -~\t\n]{0,60}",
        ) {
            let pattern: String = pieces.concat();
            // Not every concatenation is an expression (a repetition of nothing): skip those.
            let Ok(original) = Regex::new(&pattern) else { return Ok(()) };
            let rewritten = Regex::new(&from_go(&pattern)).unwrap();
            let ranges = |r: &Regex| r.find_iter(&haystack).map(|m| m.range()).collect::<Vec<_>>();
            prop_assert_eq!(ranges(&original), ranges(&rewritten), "{}", pattern);
        }
    }
}

#[test]
fn global_allowlists_cover_the_built_in_rules_too() {
    let detector = Detector::builder().with_rules(rules()).build().unwrap();
    let github = format!("ghp_{}", "a1B2".repeat(9));
    let text = format!("token {github}\n");
    assert_eq!(detector.find_at(&text, Some("src/a.rs")).len(), 1);
    // the file's global `paths`
    assert!(detector.find_at(&text, Some("vendor/a.rs")).is_empty());
    // global stopwords, on a generic assignment
    let generic = format!("api_secret = \"{}NotASecret\"", "Qz7Xw2Rt9Lm4");
    assert_eq!(Detector::new().find(&generic).len(), 1);
    assert!(detector.find(&generic).is_empty());
    // a global allowlist with `targetRules` covers only those rules
    assert_eq!(detector.find(&format!("fixture-only {github}")).len(), 1);
}
