//! Known key formats, for validation and for detecting keys nobody registered.
//!
//! Each [`KeyFormat`] knows its public prefixes (which carry no secret and may show in a mask)
//! and the shape of the whole key. Shapes follow what the issuers publish; they are deliberately
//! a little loose on length, since issuers lengthen keys without notice.

use std::sync::OnceLock;

use regex::Regex;

use crate::error::{Error, ErrorKind, Result};

pub(crate) mod rule;
pub(crate) mod rule_text;
use rule::Rule;

/// A kind of API key or credential whose shape is known: one rule of the rule set.
///
/// The rules are data, in `rules/*.rules` (one file per service family), compiled into the crate;
/// `docs/formats.md` lists them with the source of each shape. The formats older versions named
/// are constants ([`KeyFormat::OpenAi`], [`KeyFormat::GitHub`] ...); every other rule is in
/// [`KeyFormat::ALL`] and found by its id with [`KeyFormat::from_id`].
///
/// ```
/// use keyward::KeyFormat;
///
/// let key = format!("ghp_{}", "a1B2".repeat(9));
/// assert_eq!(KeyFormat::detect(&key), Some(KeyFormat::GitHub));
/// assert_eq!(KeyFormat::public_prefix(&key), Some("ghp_"));
/// assert!(KeyFormat::GitHub.matches(&key));
/// assert!(!KeyFormat::OpenAi.matches(&key));
///
/// let webhook = KeyFormat::from_id("slack-webhook").unwrap();
/// assert_eq!(webhook.service(), "Slack");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyFormat(u16);

/// The named formats: constants written like the enum variants they once were.
#[allow(non_upper_case_globals)]
impl KeyFormat {
    /// OpenAI: `sk-proj-`, `sk-svcacct-`, `sk-admin-`, and legacy `sk-` keys.
    pub const OpenAi: KeyFormat = KeyFormat(rule::index_of("openai"));
    /// Anthropic: `sk-ant-api03-` and `sk-ant-admin01-` keys.
    pub const Anthropic: KeyFormat = KeyFormat(rule::index_of("anthropic"));
    /// AWS access key id: `AKIA`, `ASIA` and the other documented four-letter prefixes.
    pub const AwsAccessKeyId: KeyFormat = KeyFormat(rule::index_of("aws-access-key-id"));
    /// GitHub tokens: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`.
    pub const GitHub: KeyFormat = KeyFormat(rule::index_of("github"));
    /// Slack tokens: `xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`, `xoxe-`.
    pub const Slack: KeyFormat = KeyFormat(rule::index_of("slack"));
    /// Stripe secret and restricted keys, live and test: `sk_live_`, `rk_live_`, `sk_test_`, `rk_test_`.
    pub const Stripe: KeyFormat = KeyFormat(rule::index_of("stripe"));
    /// Google API key: `AIza` and 35 more characters.
    pub const GoogleApiKey: KeyFormat = KeyFormat(rule::index_of("google-api-key"));
    /// Hugging Face access token: `hf_`.
    pub const HuggingFace: KeyFormat = KeyFormat(rule::index_of("huggingface"));
    /// Groq API key: `gsk_`.
    pub const Groq: KeyFormat = KeyFormat(rule::index_of("groq"));
    /// A PEM-encoded private key block.
    pub const PemPrivateKey: KeyFormat = KeyFormat(rule::index_of("pem-private-key"));
    /// A JSON Web Token: three base64url parts, the first a JSON header.
    pub const Jwt: KeyFormat = KeyFormat(rule::index_of("jwt"));
}

impl KeyFormat {
    /// Every format, in detection order: a rule that wins over another on a value both match
    /// comes first.
    pub const ALL: &'static [KeyFormat] = &all_formats();

    pub(crate) fn rule(self) -> &'static Rule {
        &rule::RULES[usize::from(self.0)]
    }

    /// The position of this format in [`KeyFormat::ALL`].
    pub(crate) fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The format whose rule has this id (`"openai"`, `"slack-webhook"`, as `docs/formats.md`
    /// lists them).
    ///
    /// ```
    /// use keyward::KeyFormat;
    ///
    /// assert_eq!(KeyFormat::from_id("openai"), Some(KeyFormat::OpenAi));
    /// assert_eq!(KeyFormat::from_id("no-such-rule"), None);
    /// ```
    pub fn from_id(id: &str) -> Option<KeyFormat> {
        KeyFormat::ALL.iter().copied().find(|f| f.id() == id)
    }

    /// The rule's id, such as `"openai"` or `"slack-webhook"`: stable, lowercase.
    pub fn id(self) -> &'static str {
        self.rule().id
    }

    /// The service that issues keys of this format, such as `"OpenAI"`.
    pub fn service(self) -> &'static str {
        self.rule().service
    }

    /// Where the shape comes from: the issuer's documentation, usually a URL.
    pub fn source(self) -> &'static str {
        self.rule().source
    }

    /// A readable name, such as `"OpenAI API key"`.
    pub fn name(self) -> &'static str {
        self.rule().name
    }

    /// The prefixes keys of this format start with; they are public and carry no secret.
    pub fn prefixes(self) -> &'static [&'static str] {
        self.rule().prefixes
    }

    /// Literal strings that every key of this format starts with, case-sensitively.
    ///
    /// Scanners search for these first (cheap substring search) and try the
    /// [`pattern`](KeyFormat::pattern) only where one occurs. Unlike
    /// [`prefixes`](KeyFormat::prefixes) they may be shorter than the public prefix (`sk-`
    /// stands for every OpenAI prefix) and exist for formats without a public prefix (`eyJ`
    /// starts every JSON Web Token).
    ///
    /// ```
    /// use keyward::KeyFormat;
    ///
    /// for format in KeyFormat::ALL {
    ///     assert!(!format.keywords().is_empty());
    /// }
    /// assert_eq!(KeyFormat::Jwt.keywords(), ["eyJ"]);
    /// ```
    pub fn keywords(self) -> &'static [&'static str] {
        self.rule().keywords
    }

    /// The regular expression for a key of this format, unanchored, for scanning text.
    pub fn pattern(self) -> &'static str {
        self.rule().shape
    }

    /// Whether the whole of `value` is a key of this format.
    pub fn matches(self, value: &str) -> bool {
        // Compiled on first use, one format at a time: most programs ask about a few.
        static ANCHORED: [OnceLock<Regex>; KeyFormat::ALL.len()] =
            [const { OnceLock::new() }; KeyFormat::ALL.len()];
        ANCHORED[self.index()]
            .get_or_init(|| {
                #[allow(clippy::expect_used)] // the patterns are constants, checked by tests
                Regex::new(&format!("^(?:{})$", self.pattern())).expect("valid key pattern")
            })
            .is_match(value)
    }

    /// The format of `value`, if the whole value is a key of a known format.
    ///
    /// Only formats one of whose keywords `value` holds are tried, as the detector finds a key
    /// only where one of its keywords occurs.
    pub fn detect(value: &str) -> Option<KeyFormat> {
        KeyFormat::ALL.iter().copied().find(|f| {
            f.keywords().iter().any(|keyword| value.contains(keyword)) && f.matches(value)
        })
    }

    /// The public prefix of `value` (`"sk-proj-"`, `"AKIA"`), if `value` is a key of a known
    /// format that has one. Showing it reveals the kind of key, not the key.
    pub fn public_prefix(value: &str) -> Option<&str> {
        // Most values logged through `mask` start with no known prefix: skip the regexes.
        let has_known_prefix = KeyFormat::ALL
            .iter()
            .any(|f| f.prefixes().iter().any(|p| value.starts_with(p)));
        if !has_known_prefix {
            return None;
        }
        let format = KeyFormat::detect(value)?;
        let prefix = format.prefixes().iter().find(|p| value.starts_with(**p))?;
        Some(&value[..prefix.len()])
    }

    /// Checks that `value` is a key of one of `formats`, and says which.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidFormat`] listing the expected formats; the value is never in the
    /// message.
    pub fn validate(value: &str, formats: &[KeyFormat]) -> Result<KeyFormat> {
        if let Some(format) = formats.iter().copied().find(|f| f.matches(value)) {
            return Ok(format);
        }
        let expected: Vec<&str> = formats.iter().map(|f| f.name()).collect();
        Err(Error::new(
            ErrorKind::InvalidFormat,
            format!(
                "value does not have the expected format ({})",
                expected.join(" or ")
            ),
        ))
    }
}

/// Every rule's format, in the rules' order.
const fn all_formats() -> [KeyFormat; rule::RULE_COUNT] {
    let mut formats = [KeyFormat(0); rule::RULE_COUNT];
    let mut index = 0;
    while index < rule::RULE_COUNT {
        #[allow(clippy::cast_possible_truncation)] // `rule.rs` checks the count fits
        {
            formats[index] = KeyFormat(index as u16);
        }
        index += 1;
    }
    formats
}

/// The constant's name for the named formats (`OpenAi`), the rule id for the others.
impl std::fmt::Debug for KeyFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rule = self.rule();
        if rule.shortcut.is_empty() {
            write!(f, "KeyFormat({})", rule.id)
        } else {
            f.write_str(rule.shortcut)
        }
    }
}

impl std::fmt::Display for KeyFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Checks that `value`, the secret `key` from `source`, is a key of one of `formats`, and says
/// which: [`KeyFormat::validate`] with an error that names the key and where it came from (never
/// the value). The one wording of a format mismatch for providers and the key manager alike.
pub(crate) fn validate_format(
    key: &str,
    source: &str,
    value: &str,
    formats: &[KeyFormat],
) -> Result<KeyFormat> {
    KeyFormat::validate(value, formats).map_err(|err| Error::wrong_format(key, source, &err))
}

#[cfg(test)]
pub(crate) mod rule_tests;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::string::string_regex;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};

    use super::*;

    /// Runs `check` on keys generated from `format`'s own shape, so every branch of the
    /// pattern (every prefix, every length the shape allows) is exercised.
    fn for_generated_keys(
        format: KeyFormat,
        cases: u32,
        keep: impl Fn(&str) -> bool,
        check: impl Fn(&str) -> Result<(), TestCaseError>,
    ) {
        let strategy = string_regex(format.pattern()).unwrap();
        let strategy =
            proptest::strategy::Strategy::prop_filter(strategy, "prefix", move |k| keep(k));
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&strategy, |key| check(&key))
            .unwrap_or_else(|err| panic!("{format:?}: {err}"));
    }

    /// The longest of `format`'s prefixes that `key` starts with.
    fn longest_prefix(format: KeyFormat, key: &str) -> Option<&'static str> {
        format
            .prefixes()
            .iter()
            .copied()
            .filter(|p| key.starts_with(p))
            .max_by_key(|p| p.len())
    }

    #[test]
    fn every_pattern_compiles() {
        for format in KeyFormat::ALL {
            assert!(Regex::new(format.pattern()).is_ok(), "{format:?}");
        }
    }

    #[test]
    fn keys_generated_from_a_shape_are_detected_as_that_format() {
        for &format in KeyFormat::ALL {
            for_generated_keys(
                format,
                128,
                |_| true,
                |key| {
                    proptest::prop_assert_eq!(KeyFormat::detect(key), Some(format));
                    proptest::prop_assert!(format.matches(key));
                    proptest::prop_assert_eq!(
                        KeyFormat::validate(key, &[format]).ok(),
                        Some(format)
                    );
                    // The prefilter of a scanner must never skip a key.
                    proptest::prop_assert!(format.keywords().iter().any(|k| key.starts_with(k)));
                    Ok(())
                },
            );
        }
    }

    #[test]
    fn every_prefix_is_generated_by_the_shape_and_shown_as_public() {
        for &format in KeyFormat::ALL {
            for &prefix in format.prefixes() {
                for_generated_keys(
                    format,
                    16,
                    |key| longest_prefix(format, key) == Some(prefix),
                    |key| {
                        proptest::prop_assert_eq!(KeyFormat::detect(key), Some(format));
                        proptest::prop_assert_eq!(KeyFormat::public_prefix(key), Some(prefix));
                        Ok(())
                    },
                );
            }
        }
    }

    #[test]
    fn broken_keys_do_not_match() {
        for &format in KeyFormat::ALL {
            for_generated_keys(
                format,
                64,
                |_| true,
                |key| {
                    // A key cut short right after its keyword, or with a different first
                    // character, is not a key of the format.
                    let keyword = format
                        .keywords()
                        .iter()
                        .find(|k| key.starts_with(**k))
                        .unwrap();
                    proptest::prop_assert!(!format.matches(keyword));
                    let renamed = format!("#{}", &key[1..]);
                    proptest::prop_assert!(!format.matches(&renamed));
                    let spaced = format!(" {key}");
                    proptest::prop_assert!(!format.matches(&spaced));
                    Ok(())
                },
            );
        }
    }

    #[test]
    fn shapes_are_tight_where_issuers_publish_a_length() {
        let body = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0";
        assert!(KeyFormat::GoogleApiKey.matches(&format!("AIza{}", &body[..35])));
        assert!(!KeyFormat::GoogleApiKey.matches(&format!("AIza{}", &body[..34])));
        assert!(!KeyFormat::GoogleApiKey.matches(&format!("AIza{}", &body[..36])));
        let base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        assert!(KeyFormat::AwsAccessKeyId.matches(&format!("AKIA{}", &base32[..16])));
        assert!(!KeyFormat::AwsAccessKeyId.matches(&format!("AKIA{}", &base32[..15])));
        // lowercase and the digits 0, 1, 8, 9 are not in base32
        assert!(!KeyFormat::AwsAccessKeyId.matches("AKIAabcdefghijklmnop"));
        assert!(!KeyFormat::AwsAccessKeyId.matches("AKIA0189ABCDEFGHIJKL"));
        // a Slack token carries a numeric field after the prefix
        assert!(KeyFormat::Slack.matches(&format!("xoxb-1234567890-{}", &body[..24])));
        assert!(!KeyFormat::Slack.matches(&format!("xoxb-{}", &body[..24])));
        // publishable Stripe keys are public by design
        assert!(!KeyFormat::Stripe.matches(&format!("pk_live_{}", &body[..24])));
    }

    #[test]
    fn pem_keys_match_as_written_and_json_escaped() {
        let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC".repeat(3);
        for label in [
            "PRIVATE KEY",
            "RSA PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
            "PGP PRIVATE KEY BLOCK",
        ] {
            let pem = format!("-----BEGIN {label}-----\n{body}\n{body}\n-----END {label}-----");
            assert_eq!(
                KeyFormat::detect(&pem),
                Some(KeyFormat::PemPrivateKey),
                "{label}"
            );
            let escaped = pem.replace('\n', "\\n");
            assert_eq!(
                KeyFormat::detect(&escaped),
                Some(KeyFormat::PemPrivateKey),
                "{label}"
            );
        }
        let public = format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----");
        assert_eq!(KeyFormat::detect(&public), None);
    }

    #[test]
    fn validation_errors_name_the_formats_and_never_the_value() {
        let value = format!("ghp_{}", "Zq7".repeat(12));
        let err =
            KeyFormat::validate(&value, &[KeyFormat::OpenAi, KeyFormat::Anthropic]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidFormat);
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("OpenAI API key") && shown.contains("Anthropic API key"));
        assert!(!shown.contains(&value[4..]));
    }
}
