//! JSON strings that hold secrets, unescaped by keyward into memory that is wiped.
//!
//! serde_json unescapes a string that holds an escape (the `\n` of a PEM key, the `\u003d`
//! some encoders write for `=`) into its parser's scratch buffer, which it frees unwiped, and
//! copies it from there. A field that holds a secret is read instead as a [`RawValue`]
//! borrowed from the answer or file (whose buffer is wiped), and [`unescape`] writes the value
//! straight into the secret's own buffer.

use serde_json::value::RawValue;
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::secret::SecretString;

/// The value of `raw` if it is a JSON string: its escapes undone, in a [`SecretString`].
/// `None` for any other JSON value, and for an escape that stands for no character (a lone
/// surrogate), which serde_json refuses when it unescapes a string but lets through in a
/// [`RawValue`].
pub(crate) fn unescape(raw: &RawValue) -> Option<SecretString> {
    let inner = raw.get().strip_prefix('"')?.strip_suffix('"')?;
    // No escape is shorter than what it stands for: the value fits in the literal's length.
    let mut value = Zeroizing::new(String::with_capacity(inner.len()));
    let mut rest = inner;
    while let Some(at) = rest.find('\\') {
        value.push_str(&rest[..at]);
        let (c, after) = escaped(&rest[at + 1..])?;
        value.push(c);
        rest = after;
    }
    value.push_str(rest);
    debug_assert!(
        value.len() <= inner.len(),
        "an unescaped string outgrew its buffer"
    );
    Some(SecretString::from(std::mem::take(&mut *value)))
}

/// The token in field `field` of `service`'s answer for `shown` (an OAuth `access_token`, a
/// Vault `auth.client_token`), read as a [`RawValue`] so that no copy of it is left unwiped,
/// even when a field after it fails to parse.
///
/// # Errors
///
/// `ErrorKind::Backend` when the field is missing, empty or not a JSON string.
pub(crate) fn required_token(
    raw: Option<&RawValue>,
    field: &str,
    service: &str,
    shown: &str,
) -> Result<SecretString> {
    let Some(raw) = raw.filter(|raw| raw.get() != "null") else {
        return Err(Error::new(
            ErrorKind::Backend,
            format!("{service} answered `{shown}` without an {field}"),
        ));
    };
    match unescape(raw) {
        Some(token) if !token.expose_secret().is_empty() => Ok(token),
        Some(_) => Err(Error::new(
            ErrorKind::Backend,
            format!("{service} answered `{shown}` with an empty {field}"),
        )),
        None => Err(Error::new(
            ErrorKind::Backend,
            format!("{service} answered `{shown}` with an {field} that is not a JSON string"),
        )),
    }
}

/// The character of the escape at the start of `text` (after its backslash), and the text
/// after it.
fn escaped(text: &str) -> Option<(char, &str)> {
    let mut chars = text.chars();
    let c = match chars.next()? {
        '"' => '"',
        '\\' => '\\',
        '/' => '/',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'u' => {
            let (unit, after) = hex_unit(chars.as_str())?;
            if !(0xD800..0xDC00).contains(&unit) {
                return Some((char::from_u32(u32::from(unit))?, after));
            }
            // A leading surrogate: the trailing one must follow as an escape of its own.
            let (low, after) = hex_unit(after.strip_prefix("\\u")?)?;
            if !(0xDC00..0xE000).contains(&low) {
                return None;
            }
            let code = 0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
            return Some((char::from_u32(code)?, after));
        }
        _ => return None,
    };
    Some((c, chars.as_str()))
}

/// The UTF-16 unit written as four hex digits at the start of `text`, and the text after them.
fn hex_unit(text: &str) -> Option<(u16, &str)> {
    let digits = text.get(..4)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((u16::from_str_radix(digits, 16).ok()?, &text[4..]))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn a_token_is_unescaped_or_refused_without_showing_it() {
        let raw = |json: &str| RawValue::from_string(json.to_owned()).unwrap();
        let token = |json: &str| {
            let raw = raw(json);
            required_token(Some(&raw), "access_token", "svc", "login")
        };
        assert_eq!(
            token(r#""kw\u002dfake\/tok""#).unwrap().expose_secret(),
            "kw-fake/tok"
        );
        let missing = required_token(None, "access_token", "svc", "login").unwrap_err();
        for (err, problem) in [
            (missing, "without an access_token"),
            (token("null").unwrap_err(), "without an access_token"),
            (token(r#""""#).unwrap_err(), "with an empty access_token"),
            (token("12345678").unwrap_err(), "not a JSON string"),
            (
                token(r#""kw-fake\ud800""#).unwrap_err(),
                "not a JSON string",
            ),
        ] {
            assert_eq!(err.kind(), ErrorKind::Backend);
            let shown = format!("{err} {err:?}");
            assert!(shown.contains(problem), "{shown}");
            assert!(shown.contains("svc answered `login`"), "{shown}");
            assert!(
                !shown.contains("12345678") && !shown.contains("kw-fake"),
                "{shown}"
            );
        }
    }

    use proptest::prelude::*;

    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    fn unescaped(text: &str) -> Option<String> {
        unescape(&raw(text)).map(|s| s.expose_secret().to_owned())
    }

    /// `value` as a JSON string literal with every character escaped as `\uXXXX` (surrogate
    /// pairs beyond the basic plane), in upper or lower case.
    fn all_escaped(value: &str, upper: bool) -> String {
        let mut out = String::from("\"");
        for unit in value.encode_utf16() {
            if upper {
                out.push_str(&format!("\\u{unit:04X}"));
            } else {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn escapes_are_undone() {
        assert_eq!(
            unescaped(r#""-----BEGIN\nMIIE\/ab\u003d\u003D\r\t\b\f\"\\x""#).unwrap(),
            "-----BEGIN\nMIIE/ab==\r\t\u{8}\u{c}\"\\x"
        );
        assert_eq!(unescaped(r#""\ud83d\ude00 é""#).unwrap(), "😀 é");
        assert_eq!(unescaped(r#""""#).unwrap(), "");
    }

    #[test]
    fn other_values_and_broken_escapes_are_none() {
        for text in [
            "12",
            "null",
            r#"{"a":"b"}"#,
            r#"["x"]"#,
            // lone surrogates, leading and trailing, and a leading one before a non-surrogate
            r#""\ud83d""#,
            r#""\ude00x""#,
            r#""\ud83d\u0041""#,
        ] {
            assert_eq!(unescaped(text), None, "{text}");
        }
    }

    proptest! {
        /// Whatever serde_json writes, and every character escaped, reads back as the value.
        #[test]
        fn what_serde_json_writes_reads_back(value in any::<String>(), upper in any::<bool>()) {
            let written = serde_json::to_string(&value).unwrap();
            prop_assert_eq!(unescaped(&written).unwrap(), value.clone());
            prop_assert_eq!(unescaped(&all_escaped(&value, upper)).unwrap(), value);
        }
    }
}
