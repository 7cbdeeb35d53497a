//! Masks and fingerprints: ways to talk about a secret in logs without showing it.

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind};
use crate::format::KeyFormat;

/// Masks `value` by the default policy of [`Mask`]: safe to log.
///
/// At most a quarter of the characters show (never any of a value shorter than 12), the filler
/// has a fixed width so the length does not show, and a known public prefix such as `sk-proj-`
/// stays readable since it tells only what kind of key it is.
///
/// ```
/// use keyward::mask;
///
/// assert_eq!(mask("short-pass"), "****");
/// assert_eq!(mask("abcdefghijklmnopqrstuvwx"), "ab****uvwx");
/// let openai = format!("sk-proj-{}", "Ab3dEf6hIj9lMn2pQr5tUv8x");
/// assert_eq!(mask(&openai), "sk-proj-Ab****Uv8x");
/// ```
pub fn mask(value: &str) -> String {
    Mask::new().apply(value)
}

/// A masking policy: how many characters may show at each end.
///
/// Whatever is asked for, at most a quarter of the characters after the public prefix show, and
/// none of a value shorter than [`with_min_len`](Mask::with_min_len), unless the policy is built
/// with the explicitly named [`unsafe_ignore_quarter_rule`](Mask::unsafe_ignore_quarter_rule).
///
/// Setters take and return the policy by value, as builders do; every value is valid, so there
/// is no `build` step: [`apply`](Mask::apply) uses the policy as set.
///
/// ```
/// use keyward::Mask;
///
/// let four_and_four = Mask::new().with_head(4).with_tail(4);
/// assert_eq!(four_and_four.apply("0123456789abcdefghijklmnopqrstuv"), "0123****stuv");
/// // the quarter rule wins over the request: 16 characters show at most 4
/// assert_eq!(four_and_four.apply("0123456789abcdef"), "****cdef");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    head: usize,
    tail: usize,
    min_len: usize,
    filler: String,
    show_prefix: bool,
    quarter_rule: bool,
}

impl Default for Mask {
    fn default() -> Mask {
        Mask::new()
    }
}

impl Mask {
    /// The default policy: up to 2 characters at the start and 4 at the end, filler `****`.
    pub fn new() -> Mask {
        Mask {
            head: 2,
            tail: 4,
            min_len: 12,
            filler: "****".to_owned(),
            show_prefix: true,
            quarter_rule: true,
        }
    }

    /// How many characters may show at the start (after a public prefix).
    pub fn with_head(mut self, chars: usize) -> Mask {
        self.head = chars;
        self
    }

    /// How many characters may show at the end.
    pub fn with_tail(mut self, chars: usize) -> Mask {
        self.tail = chars;
        self
    }

    /// Values with fewer characters than this (after a public prefix) show nothing; at least 12
    /// unless the quarter rule is off.
    pub fn with_min_len(mut self, chars: usize) -> Mask {
        self.min_len = chars;
        self
    }

    /// The text that stands for the hidden part; its width never depends on the value.
    pub fn with_filler(mut self, filler: impl Into<String>) -> Mask {
        self.filler = filler.into();
        self
    }

    /// Whether a known public prefix (`sk-ant-api03-`, `ghp_`) shows; on by default.
    pub fn with_prefix_shown(mut self, show: bool) -> Mask {
        self.show_prefix = show;
        self
    }

    /// Lets [`with_head`](Mask::with_head) and [`with_tail`](Mask::with_tail) show more than a
    /// quarter of the value, and values shorter than 12 characters show at all. The result can
    /// reveal enough of a secret to guess the rest: use it only for values that are not secret.
    ///
    /// Named apart from the `with_*` setters on purpose: a review or a `grep unsafe_` should
    /// find every policy that can show a secret.
    pub fn unsafe_ignore_quarter_rule(mut self) -> Mask {
        self.quarter_rule = false;
        self
    }

    /// Masks `value` by this policy.
    pub fn apply(&self, value: &str) -> String {
        let prefix = if self.show_prefix {
            KeyFormat::public_prefix(value).unwrap_or("")
        } else {
            ""
        };
        let rest = &value[prefix.len()..];
        let chars = rest.chars().count();
        let (head, tail) = if self.quarter_rule {
            if chars < self.min_len.max(12) {
                (0, 0)
            } else {
                let budget = chars / 4;
                let tail = self.tail.min(budget);
                (self.head.min(budget - tail), tail)
            }
        } else if chars < self.min_len {
            (0, 0)
        } else {
            let tail = self.tail.min(chars);
            (self.head.min(chars - tail), tail)
        };
        let head_end = char_boundary_after(rest, head);
        let tail_start = char_boundary_after(rest, chars - tail);
        let mut out = String::with_capacity(prefix.len() + self.filler.len() + 4 * (head + tail));
        out.push_str(prefix);
        out.push_str(&rest[..head_end]);
        out.push_str(&self.filler);
        out.push_str(&rest[tail_start..]);
        out
    }
}

/// The byte offset after the first `chars` characters of `s`.
fn char_boundary_after(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(i, _)| i)
}

/// A short, stable identifier of a secret, safe to log: the first 8 bytes of a SHA-256 digest
/// (or of an HMAC-SHA256 with a [`Fingerprinter`]), shown as 16 lowercase hex characters.
///
/// The plain form equals `hashlib.sha256(key.encode()).hexdigest()[:16]` in Python, so logs of
/// programs in different languages can be joined on it.
///
/// ```
/// use keyward::fingerprint;
///
/// assert_eq!(fingerprint("hello").to_string(), "2cf24dba5fb0a30e");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 8]);

impl Fingerprint {
    /// The 8 bytes behind the 16 hex characters.
    pub fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }

    fn from_digest(digest: &[u8]) -> Fingerprint {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(&digest[..8]);
        Fingerprint(bytes)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 16];
        // The buffer is exactly twice the input, so encoding cannot fail.
        hex::encode_to_slice(self.0, &mut buf).map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = Error;

    /// Parses the 16 hex characters of the `Display` form, as found in allowlists.
    fn from_str(s: &str) -> Result<Fingerprint, Error> {
        let mut bytes = [0; 8];
        hex::decode_to_slice(s.trim(), &mut bytes).map_err(|_| {
            Error::new(
                ErrorKind::Parse,
                "a fingerprint is 16 hexadecimal characters",
            )
        })?;
        Ok(Fingerprint(bytes))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The SHA-256 [`Fingerprint`] of `value`'s UTF-8 bytes.
///
/// A plain hash of a short or guessable secret can be reversed by trying candidates; use a
/// [`Fingerprinter`] with a key of your own for those.
pub fn fingerprint(value: &str) -> Fingerprint {
    Fingerprint::from_digest(&Sha256::digest(value.as_bytes()))
}

/// Keyed fingerprints (HMAC-SHA256), as Vault's audit log makes them: without the key, nobody can
/// test guesses against a fingerprint.
///
/// ```
/// use keyward::Fingerprinter;
///
/// let fingerprinter = Fingerprinter::new(b"a key kept by the log pipeline");
/// let a = fingerprinter.fingerprint("short-pw");
/// assert_eq!(a, fingerprinter.fingerprint("short-pw"));
/// assert_ne!(a, keyward::fingerprint("short-pw"));
/// ```
#[derive(Clone)]
pub struct Fingerprinter {
    mac: Hmac<Sha256>,
}

impl Fingerprinter {
    /// A fingerprinter keyed with `key` (any length; 32 random bytes is a good choice).
    pub fn new(key: &[u8]) -> Fingerprinter {
        Fingerprinter {
            mac: <Hmac<Sha256> as Mac>::new_from_slice(key)
                .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length")),
        }
    }

    /// The keyed [`Fingerprint`] of `value`.
    pub fn fingerprint(&self, value: &str) -> Fingerprint {
        let mut mac = self.mac.clone();
        mac.update(value.as_bytes());
        Fingerprint::from_digest(&mac.finalize().into_bytes())
    }
}

impl fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fingerprinter { .. }")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_matches_other_tools() {
        // sha256("") = e3b0c44298fc1c149afbf4c8996fb924...
        assert_eq!(fingerprint("").to_string(), "e3b0c44298fc1c14");
        let parsed: Fingerprint = "e3b0c44298fc1c14".parse().unwrap();
        assert_eq!(parsed, fingerprint(""));
        assert!("xyz".parse::<Fingerprint>().is_err());
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        // key "Jefe", data "what do ya want for nothing?" -> 5bdcc146bf60754e...
        let f = Fingerprinter::new(b"Jefe");
        assert_eq!(
            f.fingerprint("what do ya want for nothing?").to_string(),
            "5bdcc146bf60754e"
        );
    }

    #[test]
    fn short_values_show_nothing_and_the_length_never_shows() {
        assert_eq!(mask(""), "****");
        assert_eq!(mask("a"), "****");
        assert_eq!(mask("abcdefghijk"), "****");
        assert_eq!(mask("abcdefghijkl"), "****jkl");
        assert_eq!(mask("ééééééééééééééééé"), "****éééé");
        assert_eq!(mask(&"é".repeat(24)), "éé****éééé");
    }

    #[test]
    fn unsafe_policy_is_explicit() {
        let m = Mask::new()
            .with_head(3)
            .with_tail(3)
            .unsafe_ignore_quarter_rule()
            .with_min_len(0);
        assert_eq!(m.apply("abcdefgh"), "abc****fgh");
    }
}
