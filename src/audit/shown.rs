//! Text of a report that its author did not write, file names above all, made safe to print: a
//! `\r`, `\n` or terminal escape in a name would forge report lines, so such characters are
//! shown escaped; in JSON, a name that is not UTF-8 is written lossily instead of failing the
//! whole report.

use std::borrow::Cow;
use std::path::Path;

/// `text` with control characters, and the invisible ones a terminal or log viewer acts on
/// (line and paragraph separators, direction overrides, zero-width characters), escaped as
/// `\r`, `\u{1b}`, `\u{2028}`. Other text, backslashes and quotes included, is left as it is,
/// so escaping twice changes nothing.
pub(super) fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

/// `path` for a report line: lossy where it is not UTF-8, and [`escaped`].
pub(super) fn shown_path(path: &Path) -> String {
    escaped(&path.to_string_lossy()).into_owned()
}

/// Serializes `path` as a string, with U+FFFD for what is not UTF-8 (serde's own impl fails on
/// such a path, and with it the report). JSON escapes control characters itself.
#[cfg(feature = "serde")]
pub(super) fn lossy_path<S: serde::Serializer>(
    path: &Path,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_invisible_characters_are_escaped_once() {
        let name = "a\rb\n\u{1b}[31mc\u{2028}d\u{202e}e\\f\"g";
        let shown = escaped(name);
        assert_eq!(shown, "a\\rb\\n\\u{1b}[31mc\\u{2028}d\\u{202e}e\\f\"g");
        assert_eq!(escaped(&shown), shown);
        assert!(matches!(escaped("src/main.rs"), Cow::Borrowed(_)));
        assert_eq!(escaped("café/naïve.rs"), "café/naïve.rs");
    }
}
