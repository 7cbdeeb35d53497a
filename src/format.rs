//! Known key formats, for validation and for detecting keys nobody registered.
//!
//! Each [`KeyFormat`] knows its public prefixes (which carry no secret and may show in a mask)
//! and the shape of the whole key. Shapes follow what the issuers publish; they are deliberately
//! a little loose on length, since issuers lengthen keys without notice.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::{Error, ErrorKind, Result};

/// A kind of API key or credential whose shape is known.
///
/// ```
/// use keyward::KeyFormat;
///
/// let key = format!("ghp_{}", "a1B2".repeat(9));
/// assert_eq!(KeyFormat::detect(&key), Some(KeyFormat::GitHub));
/// assert_eq!(KeyFormat::public_prefix(&key), Some("ghp_"));
/// assert!(KeyFormat::GitHub.matches(&key));
/// assert!(!KeyFormat::OpenAi.matches(&key));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KeyFormat {
    /// OpenAI: `sk-proj-`, `sk-svcacct-`, `sk-admin-`, and legacy `sk-` keys.
    OpenAi,
    /// Anthropic: `sk-ant-api03-` and `sk-ant-admin01-` keys.
    Anthropic,
    /// AWS access key id: `AKIA`, `ASIA` and the other documented four-letter prefixes.
    AwsAccessKeyId,
    /// GitHub tokens: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`.
    GitHub,
    /// Slack tokens: `xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`, `xoxe-`.
    Slack,
    /// Stripe secret and restricted keys, live and test: `sk_live_`, `rk_live_`, `sk_test_`, `rk_test_`.
    Stripe,
    /// Google API key: `AIza` and 35 more characters.
    GoogleApiKey,
    /// Hugging Face access token: `hf_`.
    HuggingFace,
    /// Groq API key: `gsk_`.
    Groq,
    /// A PEM-encoded private key block.
    PemPrivateKey,
    /// A JSON Web Token: three base64url parts, the first a JSON header.
    Jwt,
}

struct Spec {
    name: &'static str,
    /// Longest first, so the first prefix that matches is the most specific.
    prefixes: &'static [&'static str],
    /// Literal strings every key of this format starts with, for a substring prefilter: a
    /// scanner looks for these first and runs the shape only where one occurs.
    keywords: &'static [&'static str],
    /// The whole key, anchored by the caller.
    shape: &'static str,
}

impl KeyFormat {
    /// Every format, in detection order (more specific formats before looser ones).
    pub const ALL: &'static [KeyFormat] = &[
        KeyFormat::Anthropic,
        KeyFormat::OpenAi,
        KeyFormat::AwsAccessKeyId,
        KeyFormat::GitHub,
        KeyFormat::Slack,
        KeyFormat::Stripe,
        KeyFormat::GoogleApiKey,
        KeyFormat::HuggingFace,
        KeyFormat::Groq,
        KeyFormat::PemPrivateKey,
        KeyFormat::Jwt,
    ];

    fn spec(self) -> &'static Spec {
        match self {
            KeyFormat::OpenAi => &Spec {
                name: "OpenAI API key",
                prefixes: &["sk-svcacct-", "sk-admin-", "sk-proj-", "sk-"],
                keywords: &["sk-"],
                shape: r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{20,}(?:T3BlbkFJ[A-Za-z0-9]{20,})?)",
            },
            KeyFormat::Anthropic => &Spec {
                name: "Anthropic API key",
                prefixes: &["sk-ant-admin01-", "sk-ant-api03-"],
                keywords: &["sk-ant-"],
                shape: r"sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{32,}",
            },
            KeyFormat::AwsAccessKeyId => &Spec {
                name: "AWS access key id",
                prefixes: &[
                    "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "AROA",
                    "APKA", "ASCA",
                ],
                keywords: &[
                    "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "AROA",
                    "APKA", "ASCA",
                ],
                shape: r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z2-7]{16}",
            },
            KeyFormat::GitHub => &Spec {
                name: "GitHub token",
                prefixes: &["github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
                keywords: &["github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
                shape: r"(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})",
            },
            KeyFormat::Slack => &Spec {
                name: "Slack token",
                prefixes: &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-"],
                keywords: &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-"],
                // Every Slack token has a numeric team or version field after the prefix.
                shape: r"xox[bpares]-[0-9]{1,16}-[A-Za-z0-9-]{8,250}",
            },
            KeyFormat::Stripe => &Spec {
                name: "Stripe API key",
                prefixes: &["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
                keywords: &["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
                shape: r"[sr]k_(?:live|test)_[A-Za-z0-9]{20,247}",
            },
            KeyFormat::GoogleApiKey => &Spec {
                name: "Google API key",
                prefixes: &["AIza"],
                keywords: &["AIza"],
                shape: r"AIza[A-Za-z0-9_-]{35}",
            },
            KeyFormat::HuggingFace => &Spec {
                name: "Hugging Face token",
                prefixes: &["hf_"],
                keywords: &["hf_"],
                shape: r"hf_[A-Za-z0-9]{30,}",
            },
            KeyFormat::Groq => &Spec {
                name: "Groq API key",
                prefixes: &["gsk_"],
                keywords: &["gsk_"],
                shape: r"gsk_[A-Za-z0-9]{48,}",
            },
            KeyFormat::PemPrivateKey => &Spec {
                name: "PEM private key",
                prefixes: &[],
                keywords: &["-----BEGIN "],
                // `\\` in the body admits a key pasted into a JSON string with `\n` escapes.
                shape: r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\sA-Za-z0-9+/=:,\\-]+?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
            },
            KeyFormat::Jwt => &Spec {
                name: "JSON Web Token",
                prefixes: &[],
                // A JSON header `{"` always encodes to `eyJ`.
                keywords: &["eyJ"],
                shape: r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}",
            },
        }
    }

    /// A readable name, such as `"OpenAI API key"`.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The prefixes keys of this format start with; they are public and carry no secret.
    pub fn prefixes(self) -> &'static [&'static str] {
        self.spec().prefixes
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
        self.spec().keywords
    }

    /// The regular expression for a key of this format, unanchored, for scanning text.
    pub fn pattern(self) -> &'static str {
        self.spec().shape
    }

    /// Whether the whole of `value` is a key of this format.
    pub fn matches(self, value: &str) -> bool {
        static ANCHORED: LazyLock<Vec<Regex>> = LazyLock::new(|| {
            KeyFormat::ALL
                .iter()
                .map(|format| {
                    #[allow(clippy::expect_used)] // the patterns are constants, checked by tests
                    Regex::new(&format!("^(?:{})$", format.pattern())).expect("valid key pattern")
                })
                .collect()
        });
        let index = KeyFormat::ALL
            .iter()
            .position(|f| *f == self)
            .unwrap_or_default();
        ANCHORED[index].is_match(value)
    }

    /// The format of `value`, if the whole value is a key of a known format.
    pub fn detect(value: &str) -> Option<KeyFormat> {
        KeyFormat::ALL.iter().copied().find(|f| f.matches(value))
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
