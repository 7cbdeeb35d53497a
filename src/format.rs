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
                shape: r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{20,}(?:T3BlbkFJ[A-Za-z0-9]{20,})?)",
            },
            KeyFormat::Anthropic => &Spec {
                name: "Anthropic API key",
                prefixes: &["sk-ant-admin01-", "sk-ant-api03-"],
                shape: r"sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{32,}",
            },
            KeyFormat::AwsAccessKeyId => &Spec {
                name: "AWS access key id",
                prefixes: &[
                    "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "AROA",
                    "APKA", "ASCA",
                ],
                shape: r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z2-7]{16}",
            },
            KeyFormat::GitHub => &Spec {
                name: "GitHub token",
                prefixes: &["github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
                shape: r"(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})",
            },
            KeyFormat::Slack => &Spec {
                name: "Slack token",
                prefixes: &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-"],
                shape: r"xox[bpares]-[A-Za-z0-9-]{10,250}",
            },
            KeyFormat::Stripe => &Spec {
                name: "Stripe API key",
                prefixes: &["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
                shape: r"[sr]k_(?:live|test)_[A-Za-z0-9]{20,247}",
            },
            KeyFormat::GoogleApiKey => &Spec {
                name: "Google API key",
                prefixes: &["AIza"],
                shape: r"AIza[A-Za-z0-9_-]{35}",
            },
            KeyFormat::HuggingFace => &Spec {
                name: "Hugging Face token",
                prefixes: &["hf_"],
                shape: r"hf_[A-Za-z0-9]{30,}",
            },
            KeyFormat::Groq => &Spec {
                name: "Groq API key",
                prefixes: &["gsk_"],
                shape: r"gsk_[A-Za-z0-9]{48,}",
            },
            KeyFormat::PemPrivateKey => &Spec {
                name: "PEM private key",
                prefixes: &[],
                shape: r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\sA-Za-z0-9+/=:,-]+?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----",
            },
            KeyFormat::Jwt => &Spec {
                name: "JSON Web Token",
                prefixes: &[],
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
