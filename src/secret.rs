//! Secret values and what is known about them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::mask::{Fingerprint, fingerprint, mask};

/// A secret string: zeroized on drop, hidden from `Debug`, compared in constant time.
///
/// There is deliberately no `Display` and no `Serialize`: a secret reaches text only through
/// [`expose_secret`](SecretString::expose_secret), which is easy to find in review.
///
/// ```
/// use keyward::SecretString;
///
/// let key = SecretString::from("sk-test-not-a-real-key-0000");
/// assert_eq!(format!("{key:?}"), "***");
/// assert_eq!(key.expose_secret(), "sk-test-not-a-real-key-0000");
/// ```
///
/// Neither `Display` nor `Serialize` exists:
///
/// ```compile_fail
/// let key = keyward::SecretString::from("sk-test-not-a-real-key-0000");
/// println!("{key}");
/// ```
///
/// ```compile_fail
/// let key = keyward::SecretString::from("sk-test-not-a-real-key-0000");
/// serde_json::to_string(&key).unwrap();
/// ```
#[derive(Clone, Default)]
pub struct SecretString(secrecy::SecretString);

impl SecretString {
    /// The secret itself. Every call is a place where the secret can leave: keep them few.
    pub fn expose_secret(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(&self.0)
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.expose_secret().len()
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.expose_secret().is_empty()
    }

    /// The SHA-256 [`Fingerprint`] of the secret, safe to log and to correlate across tools.
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint(self.expose_secret())
    }

    /// The secret masked by the default policy of [`mask`], safe to log.
    pub fn masked(&self) -> String {
        mask(self.expose_secret())
    }
}

impl From<String> for SecretString {
    /// Takes the string without leaving a copy behind.
    ///
    /// `String::into_boxed_str` reallocates when the capacity exceeds the length and frees the old
    /// buffer with the secret still in it; here the bytes are copied into an exact-size box and the
    /// whole old buffer, spare capacity included, is zeroized before it is freed.
    fn from(mut value: String) -> SecretString {
        let boxed: Box<str> = if value.capacity() == value.len() {
            value.into_boxed_str()
        } else {
            let exact = Box::from(value.as_str());
            value.zeroize();
            exact
        };
        SecretString(secrecy::SecretString::from(boxed))
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> SecretString {
        SecretString(secrecy::SecretString::from(Box::<str>::from(value)))
    }
}

impl From<Box<str>> for SecretString {
    fn from(value: Box<str>) -> SecretString {
        SecretString(secrecy::SecretString::from(value))
    }
}

impl FromStr for SecretString {
    type Err = std::convert::Infallible;

    fn from_str(value: &str) -> Result<SecretString, Self::Err> {
        Ok(SecretString::from(value))
    }
}

impl From<SecretString> for secrecy::SecretString {
    /// Hands the secret to crates that take a `secrecy::SecretString`, without copying it.
    fn from(value: SecretString) -> secrecy::SecretString {
        value.0
    }
}

impl From<secrecy::SecretString> for SecretString {
    /// Takes a secret from crates that hand out `secrecy::SecretString` (LLM SDKs, config
    /// crates), without copying it.
    ///
    /// ```
    /// let theirs = secrecy::SecretString::from("sk-test-not-a-real-key-0000");
    /// let ours = keyward::SecretString::from(theirs);
    /// assert_eq!(ours.expose_secret(), "sk-test-not-a-real-key-0000");
    /// ```
    fn from(value: secrecy::SecretString) -> SecretString {
        SecretString(value)
    }
}

impl secrecy::ExposeSecret<str> for SecretString {
    fn expose_secret(&self) -> &str {
        SecretString::expose_secret(self)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl PartialEq for SecretString {
    /// Compares in time that depends on the lengths only, never on where the bytes differ.
    fn eq(&self, other: &SecretString) -> bool {
        self.expose_secret()
            .as_bytes()
            .ct_eq(other.expose_secret().as_bytes())
            .into()
    }
}

impl Eq for SecretString {}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for SecretString {
    /// Reads a string. Any other error is replaced: a format's own message for a value of the
    /// wrong type quotes it (``invalid type: integer `1234` ``), and a number left unquoted in
    /// a config file is still a secret. Formats such as serde_json still add the position, and
    /// some quote the source around it themselves: the `toml` crate prints the line with a
    /// caret under the value, so a TOML error on a secret's line shows the value all the same.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)
            .map(SecretString::from)
            .map_err(|_| {
                serde::de::Error::custom(
                    "a secret must be a string (keyward does not quote the value)",
                )
            })
    }
}

/// What is known about a secret besides its value. `Debug` is safe to print.
///
/// ```
/// use keyward::SecretMeta;
///
/// let meta = SecretMeta::new("vault").with_version("7");
/// assert_eq!(meta.source, "vault");
/// assert_eq!(meta.version.as_deref(), Some("7"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct SecretMeta {
    /// The provider that supplied the secret (its [`name`](crate::SecretProvider::name)).
    pub source: String,
    /// The version at the source, where the source versions its secrets.
    pub version: Option<String>,
    /// When the secret was created at the source, where the source knows it.
    pub created_at: Option<DateTime<Utc>>,
    /// When the secret stops being valid, where the source says so.
    pub expires_at: Option<DateTime<Utc>>,
}

impl SecretMeta {
    /// Metadata naming only the source.
    pub fn new(source: impl Into<String>) -> SecretMeta {
        SecretMeta {
            source: source.into(),
            version: None,
            created_at: None,
            expires_at: None,
        }
    }

    /// Sets the version.
    pub fn with_version(mut self, version: impl Into<String>) -> SecretMeta {
        self.version = Some(version.into());
        self
    }

    /// Sets the creation time.
    pub fn with_created_at(mut self, created_at: DateTime<Utc>) -> SecretMeta {
        self.created_at = Some(created_at);
        self
    }

    /// Sets the expiry time.
    pub fn with_expires_at(mut self, expires_at: DateTime<Utc>) -> SecretMeta {
        self.expires_at = Some(expires_at);
        self
    }
}

/// A secret value with its [`SecretMeta`], as a provider returns it.
///
/// ```
/// use keyward::{Secret, SecretMeta};
///
/// let secret = Secret::new("not-a-real-key-000000", SecretMeta::new("memory"));
/// assert_eq!(secret.meta().source, "memory");
/// assert_eq!(format!("{secret:?}"), r#"Secret { value: ***, meta: SecretMeta { source: "memory", version: None, created_at: None, expires_at: None } }"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    value: SecretString,
    meta: SecretMeta,
}

impl Secret {
    /// Pairs a value with its metadata.
    pub fn new(value: impl Into<SecretString>, meta: SecretMeta) -> Secret {
        Secret {
            value: value.into(),
            meta,
        }
    }

    /// The value.
    pub fn value(&self) -> &SecretString {
        &self.value
    }

    /// The value as text; see [`SecretString::expose_secret`].
    pub fn expose_secret(&self) -> &str {
        self.value.expose_secret()
    }

    /// The metadata.
    pub fn meta(&self) -> &SecretMeta {
        &self.meta
    }

    /// The metadata, to change it.
    pub fn meta_mut(&mut self) -> &mut SecretMeta {
        &mut self.meta
    }

    /// Drops the metadata and keeps the value.
    pub fn into_value(self) -> SecretString {
        self.value
    }

    /// Splits into value and metadata.
    pub fn into_parts(self) -> (SecretString, SecretMeta) {
        (self.value, self.meta)
    }
}

/// Whether `text` holds `value` whole or, for a value longer than `run` bytes, `run` bytes of it
/// in a row: how the edge and scopes tell a key written into a host or a name, where no
/// redactor is at hand.
pub(crate) fn holds_run_of(text: &[u8], value: &[u8], run: usize) -> bool {
    if value.len() <= run {
        return !value.is_empty() && memchr::memmem::find(text, value).is_some();
    }
    text.windows(run)
        .any(|window| memchr::memmem::find(value, window).is_some())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[cfg(feature = "serde")]
    #[test]
    fn deserialize_errors_do_not_quote_a_value_of_the_wrong_type() {
        // A numeric PIN or key left unquoted in a config file is still a secret.
        let digits = "1234567890".repeat(2);
        for text in [digits.clone(), format!("{digits}.5"), format!("-{digits}")] {
            let err = serde_json::from_str::<SecretString>(&text).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(&digits), "the value leaked: {shown}");
        }
        let secret: SecretString = serde_json::from_str(r#""fake-secret-value""#).unwrap();
        assert_eq!(secret.expose_secret(), "fake-secret-value");

        // Inside a document the position is still given.
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Config {
            key: SecretString,
        }
        let err = serde_json::from_str::<Config>(&format!("{{\n\"key\": {digits}}}")).unwrap_err();
        assert!(!err.to_string().contains(&digits), "{err}");
        assert_eq!(err.line(), 2, "{err}");
    }

    #[test]
    fn equality_compares_contents() {
        let a = SecretString::from("same-value-123");
        assert_eq!(a, SecretString::from(String::from("same-value-123")));
        assert_ne!(a, SecretString::from("same-value-124"));
        assert_ne!(a, SecretString::from("same-value-12"));
    }

    #[test]
    fn from_string_with_spare_capacity_keeps_the_value() {
        let mut s = String::with_capacity(100);
        s.push_str("abc-def");
        let secret = SecretString::from(s);
        assert_eq!(secret.expose_secret(), "abc-def");
        assert_eq!(secret.len(), 7);
        assert!(!secret.is_empty());
        assert!(SecretString::default().is_empty());
    }

    #[test]
    fn converts_into_secrecy() {
        let s: secrecy::SecretString = SecretString::from("abc").into();
        assert_eq!(secrecy::ExposeSecret::expose_secret(&s), "abc");
    }
}
