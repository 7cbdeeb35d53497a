//! Key names: the rules every built-in provider applies to them, in one place below every
//! module that takes names (providers, scopes, the usage log).

use crate::error::{Error, Result};

/// The longest key name any built-in provider accepts, in bytes.
pub const MAX_KEY_NAME_LEN: usize = 512;

/// Checks a key name against the rules every built-in provider applies.
///
/// A name must be non-empty, at most [`MAX_KEY_NAME_LEN`] bytes, free of control characters
/// (NUL included) and of path separators (`/`, `\`), and must not be `.` or contain `..`: names
/// end up in file paths and URLs, where such characters change what is read.
///
/// ```
/// use keyward::ErrorKind;
/// use keyward::provider::validate_key_name;
///
/// assert!(validate_key_name("OPENAI_API_KEY").is_ok());
/// assert_eq!(validate_key_name("../etc/passwd").unwrap_err().kind(), ErrorKind::InvalidName);
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidName`](crate::ErrorKind::InvalidName) saying which rule the name breaks.
pub fn validate_key_name(key: &str) -> Result<()> {
    let problem = if key.is_empty() {
        "is empty"
    } else if key.len() > MAX_KEY_NAME_LEN {
        "is longer than 512 bytes"
    } else if key.contains('\0') {
        "contains a NUL byte"
    } else if key.chars().any(char::is_control) {
        "contains a control character"
    } else if key.contains(['/', '\\']) {
        "contains a path separator"
    } else if key == "." || key.contains("..") {
        "contains `..` or is `.`"
    } else {
        return Ok(());
    };
    Err(Error::invalid_name(key, format_args!("it {problem}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn names_that_change_paths_are_refused() {
        for bad in [
            "", ".", "..", "a/b", "a\\b", "a\0b", "a\nb", "x..y", "\u{7f}",
        ] {
            let err = validate_key_name(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidName, "{bad:?}");
        }
        let long = "k".repeat(MAX_KEY_NAME_LEN + 1);
        assert_eq!(
            validate_key_name(&long).unwrap_err().kind(),
            ErrorKind::InvalidName
        );
        for good in [
            "OPENAI_API_KEY",
            "db.password",
            "api-key",
            "ключ",
            ".hidden",
        ] {
            assert!(validate_key_name(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn messages_escape_the_name() {
        let err = validate_key_name("a\nforged log line").unwrap_err();
        assert!(!err.to_string().contains('\n'));
    }
}
