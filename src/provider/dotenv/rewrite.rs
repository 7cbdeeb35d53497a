//! Rewrites a statement so that dotenvy reads every `$` literally.
//!
//! dotenvy 0.15.7 substitutes `$NAME` and `${NAME}` in unquoted and double-quoted values, reading
//! the process environment first, and has no switch to turn that off. Its own escape for a
//! literal dollar is `\$`. So we walk the value with the same rules as dotenvy's `parse_value`
//! and put a backslash before each `$` that it would substitute. With expansion on, we replace
//! the reference by the earlier value instead, escaped so that dotenvy reads it back verbatim.
//!
//! The rewrite never changes where dotenvy's line reader ends a statement: `\$` and the escaped
//! replacement move its state machine exactly as the original `$NAME` did (the caller checks
//! this again on the result).

use std::collections::HashMap;

use zeroize::Zeroizing;

use crate::secret::SecretString;
use crate::wipe::reserve_str;

/// Why a statement is not a valid assignment, for the error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Problem {
    /// The text before the value is not `KEY=` or `export KEY=`.
    NotAnAssignment,
    /// An unquoted value goes on after a blank.
    UnquotedBlank,
    /// A backslash escape dotenvy does not know.
    UnknownEscape,
    /// A quote is opened and not closed.
    UnclosedQuote,
    /// A `${` reference is not closed or does not hold a variable name.
    BadReference,
    /// Expanding the references would copy more than the budget allows.
    TooLarge,
}

impl Problem {
    /// A lowercase description that never includes the line's content.
    pub(super) fn describe(self) -> &'static str {
        match self {
            Problem::NotAnAssignment => "expected `KEY=value` or `export KEY=value`",
            Problem::UnquotedBlank => "an unquoted value contains a blank; put the value in quotes",
            Problem::UnknownEscape => {
                "unknown backslash escape; the known ones are \\\\ \\\" \\' \\$ \\n and backslash-space"
            }
            Problem::UnclosedQuote => "a quote is not closed",
            Problem::BadReference => "a `${` variable reference is not closed or names no variable",
            Problem::TooLarge => "the expanded value is too large",
        }
    }
}

/// A statement split the way dotenvy's `parse_line` splits it.
///
/// Holds a value as written: `Debug` only in tests, so it cannot reach a log.
#[cfg_attr(test, derive(Debug))]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Assignment<'a> {
    /// The variable name.
    pub(super) key: &'a str,
    /// Everything before the value: blanks, `export`, the key, `=`.
    pub(super) prefix: &'a str,
    /// The value as written, trailing blanks removed.
    pub(super) value: &'a str,
}

/// Splits `text` like dotenvy's `parse_line`: `Ok(None)` for a blank or comment statement.
///
/// # Errors
///
/// [`Problem::NotAnAssignment`] exactly when dotenvy fails before reaching the value.
pub(super) fn assignment(text: &str) -> Result<Option<Assignment<'_>>, Problem> {
    let text = text.trim_end();
    let line = text.trim_start();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (mut key, mut rest) = split_key(line)?;
    rest = rest.trim_start();
    // `export` is a key of its own when `=` follows it, a prefix otherwise.
    if key == "export" && !rest.starts_with('=') {
        (key, rest) = split_key(rest)?;
        rest = rest.trim_start();
    }
    rest = rest.strip_prefix('=').ok_or(Problem::NotAnAssignment)?;
    let value = rest.trim_start();
    // dotenvy reads `KEY=# ...` as an empty value.
    if value.is_empty() || value.starts_with('#') {
        // Without trailing blanks, so the prefix alone is a complete statement (a lone `\r`
        // at the end would otherwise be taken for half a line break).
        let prefix = text[..text.len() - rest.len()].trim_end();
        return Ok(Some(Assignment {
            key,
            prefix,
            value: "",
        }));
    }
    let prefix = &text[..text.len() - value.len()];
    Ok(Some(Assignment { key, prefix, value }))
}

/// dotenvy's `parse_key`: an ASCII letter or `_`, then ASCII letters, digits, `_` and `.`.
fn split_key(line: &str) -> Result<(&str, &str), Problem> {
    if !line.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err(Problem::NotAnAssignment);
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(line.len());
    Ok(line.split_at(end))
}

/// The variables `${NAME}` may refer to: the values of earlier lines of the same file.
pub(super) type Earlier = HashMap<String, SecretString>;

/// Appends `value`, rewritten so that dotenvy reads every `$` literally, to `out`.
///
/// With `expand`, references to variables of earlier lines are replaced by their values (an
/// unknown name becomes empty, as in a shell); a `$` that starts no reference stays literal.
/// The values put in may add up to `budget` bytes at most: checked before each is copied, so
/// that references that multiply (`A2=${A1}${A1}`, `A3=${A2}${A2}`, ...) fail before they
/// allocate.
///
/// # Errors
///
/// The [`Problem`] dotenvy's `parse_value` would fail with, found before dotenvy sees the text;
/// [`Problem::TooLarge`] past the budget.
pub(super) fn rewrite_value(
    value: &str,
    expand: Option<&Earlier>,
    mut budget: usize,
    out: &mut Zeroizing<String>,
) -> Result<(), Problem> {
    let mut strong_quote = false;
    let mut weak_quote = false;
    let mut escaped = false;
    let mut expecting_end = false;
    let mut rest = value;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        if expecting_end {
            match c {
                ' ' | '\t' => {}
                // A comment: dotenvy stops reading here, so the rest is copied as it is.
                '#' => {
                    push_str(out, rest);
                    return Ok(());
                }
                _ => return Err(Problem::UnquotedBlank),
            }
        } else if escaped {
            if !matches!(c, '\\' | '\'' | '"' | '$' | ' ' | 'n') {
                return Err(Problem::UnknownEscape);
            }
            escaped = false;
        } else if strong_quote {
            strong_quote = c != '\'';
        } else if c == '$' {
            match expand {
                None => push_str(out, "\\"),
                Some(earlier) => {
                    if let Some((name, after_reference)) = reference(after)? {
                        let found = earlier.get(name).map_or("", SecretString::expose_secret);
                        budget = budget.checked_sub(found.len()).ok_or(Problem::TooLarge)?;
                        push_literal(out, found, !weak_quote);
                        rest = after_reference;
                        continue;
                    }
                    push_str(out, "\\");
                }
            }
        } else if weak_quote {
            match c {
                '"' => weak_quote = false,
                '\\' => escaped = true,
                _ => {}
            }
        } else {
            match c {
                '\'' => strong_quote = true,
                '"' => weak_quote = true,
                '\\' => escaped = true,
                ' ' | '\t' => expecting_end = true,
                _ => {}
            }
        }
        push_str(out, &rest[..c.len_utf8()]);
        rest = after;
    }
    if strong_quote || weak_quote {
        return Err(Problem::UnclosedQuote);
    }
    Ok(())
}

/// Reads the variable name after a `$`: `{NAME}` with dotenvy's key characters, or a shell-style
/// bare name. Returns the name and the text after the reference, or `None` when the `$` starts
/// no reference (`$2b$`, a lone `$`).
fn reference(after_dollar: &str) -> Result<Option<(&str, &str)>, Problem> {
    if let Some(braced) = after_dollar.strip_prefix('{') {
        let end = braced
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(braced.len());
        let (name, rest) = braced.split_at(end);
        let rest = rest.strip_prefix('}').ok_or(Problem::BadReference)?;
        if name.is_empty() {
            return Err(Problem::BadReference);
        }
        return Ok(Some((name, rest)));
    }
    if !after_dollar.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Ok(None);
    }
    let end = after_dollar
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(after_dollar.len());
    Ok(Some(after_dollar.split_at(end)))
}

/// Appends `value` so that dotenvy reads it back verbatim: escaped for a double-quoted context,
/// and wrapped in double quotes when it lands in an unquoted one.
///
/// Every special character is escaped, `'` included, so that dotenvy's line reader (which may
/// think it is inside single quotes where the parser does not) keeps its state.
fn push_literal(out: &mut Zeroizing<String>, value: &str, wrap: bool) {
    if wrap {
        push_str(out, "\"");
    }
    let mut rest = value;
    while let Some(at) = rest.find(['\\', '"', '$', '\'', '\n']) {
        push_str(out, &rest[..at]);
        let escape = match rest.as_bytes()[at] {
            b'\n' => "\\n",
            b'\\' => "\\\\",
            b'"' => "\\\"",
            b'$' => "\\$",
            _ => "\\'",
        };
        push_str(out, escape);
        rest = &rest[at + 1..];
    }
    push_str(out, rest);
    if wrap {
        push_str(out, "\"");
    }
}

/// `out.push_str(s)`, except that growing the buffer zeroizes the old one instead of leaving
/// a copy of its contents in freed memory.
pub(super) fn push_str(out: &mut Zeroizing<String>, s: &str) {
    reserve_str(out, s.len());
    out.push_str(s);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rewrite(value: &str, expand: Option<&Earlier>) -> Result<String, Problem> {
        let mut out = Zeroizing::new(String::new());
        rewrite_value(value, expand, usize::MAX, &mut out)?;
        Ok(out.to_string())
    }

    #[test]
    fn assignments_split_like_dotenvy() {
        let a = assignment("  export  KEY.a_1 = \"v\"  ").unwrap().unwrap();
        assert_eq!(
            (a.key, a.prefix, a.value),
            ("KEY.a_1", "  export  KEY.a_1 = ", "\"v\"")
        );
        let a = assignment("export=x").unwrap().unwrap();
        assert_eq!((a.key, a.value), ("export", "x"));
        let a = assignment("K= # only a comment").unwrap().unwrap();
        assert_eq!((a.key, a.prefix, a.value), ("K", "K=", ""));
        let a = assignment("K=\r#").unwrap().unwrap();
        assert_eq!((a.key, a.prefix, a.value), ("K", "K=", ""));
        assert_eq!(assignment("   ").unwrap(), None);
        assert_eq!(assignment("# c").unwrap(), None);
        for bad in ["=v", "1K=v", "K v", "export K", "K"] {
            assert_eq!(assignment(bad), Err(Problem::NotAnAssignment), "{bad}");
        }
    }

    #[test]
    fn dollars_dotenvy_would_expand_get_a_backslash() {
        assert_eq!(rewrite("$2b$12$x", None).unwrap(), r"\$2b\$12\$x");
        assert_eq!(rewrite("\"a$B\"", None).unwrap(), r#""a\$B""#);
        // Literal in single quotes, already escaped, or in a comment: left alone.
        assert_eq!(rewrite("'a$B'", None).unwrap(), "'a$B'");
        assert_eq!(rewrite(r"a\$B", None).unwrap(), r"a\$B");
        assert_eq!(rewrite("a #$B", None).unwrap(), "a #$B");
        // An escaped backslash does not escape the dollar after it.
        assert_eq!(rewrite(r"a\\$B", None).unwrap(), r"a\\\$B");
    }

    #[test]
    fn expansion_inserts_escaped_values() {
        let mut earlier = Earlier::new();
        earlier.insert("A".into(), SecretString::from("x\"y'z$w\\v\nu"));
        let escaped = r#"x\"y\'z\$w\\v\nu"#;
        assert_eq!(
            rewrite("$A", Some(&earlier)).unwrap(),
            format!("\"{escaped}\"")
        );
        assert_eq!(
            rewrite("p${A}q", Some(&earlier)).unwrap(),
            format!("p\"{escaped}\"q")
        );
        assert_eq!(
            rewrite("\"<$A>\"", Some(&earlier)).unwrap(),
            format!("\"<{escaped}>\"")
        );
        assert_eq!(rewrite("'$A'", Some(&earlier)).unwrap(), "'$A'");
        assert_eq!(rewrite("$UNKNOWN.x", Some(&earlier)).unwrap(), "\"\".x");
        assert_eq!(rewrite("$2b$", Some(&earlier)).unwrap(), r"\$2b\$");
        assert_eq!(rewrite("${A", Some(&earlier)), Err(Problem::BadReference));
        assert_eq!(rewrite("${}", Some(&earlier)), Err(Problem::BadReference));
    }

    #[test]
    fn expansion_stops_at_the_budget_before_copying() {
        let mut earlier = Earlier::new();
        earlier.insert("A".into(), SecretString::from("abcd"));
        let mut out = Zeroizing::new(String::new());
        assert_eq!(
            rewrite_value("${A}x$A", Some(&earlier), 8, &mut out),
            Ok(())
        );
        out.clear();
        assert_eq!(
            rewrite_value("${A}x$A", Some(&earlier), 7, &mut out),
            Err(Problem::TooLarge)
        );
        assert_eq!(out.as_str(), "\"abcd\"x", "the second copy was not made");
        // Literal text is not counted: it was counted with the file.
        out.clear();
        assert_eq!(rewrite_value("'${A}'", Some(&earlier), 0, &mut out), Ok(()));
    }

    #[test]
    fn problems_dotenvy_would_report() {
        assert_eq!(rewrite("a b", None), Err(Problem::UnquotedBlank));
        assert_eq!(rewrite(r"a\x", None), Err(Problem::UnknownEscape));
        assert_eq!(rewrite("\"a", None), Err(Problem::UnclosedQuote));
        assert_eq!(rewrite("'a", None), Err(Problem::UnclosedQuote));
        assert_eq!(rewrite("a  \t", None).unwrap(), "a  \t");
    }

    #[test]
    fn growing_keeps_the_contents() {
        let mut out = Zeroizing::new(String::with_capacity(1));
        for _ in 0..100 {
            push_str(&mut out, "abc");
        }
        assert_eq!(out.as_str(), "abc".repeat(100));
    }
}
