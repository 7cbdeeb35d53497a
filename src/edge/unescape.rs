//! The escapes a request can hide a value behind, undone for the check.
//!
//! The guard finds a value written raw, in base64, hex, the usual percent-encoding styles and
//! with JSON's needed escapes. A prompt injection can ask for more: every byte percent-encoded
//! (`%73%6B%2D...`), every character a JSON `\u` escape, one inside the other. Servers decode
//! both, so the edge looks at the request with them undone as well.

use zeroize::Zeroizing;

/// How many times escapes are undone: a `\u` escape inside a percent-encoded one, and one more.
const ROUNDS: usize = 3;

/// `text` with its `%XX` and `\uXXXX` escapes undone (again, while a round finds more, up to
/// [`ROUNDS`]); `None` when it holds none. Linear in the length of `text`.
pub(super) fn unescaped(text: &str) -> Option<Zeroizing<String>> {
    let mut current: Option<Zeroizing<String>> = None;
    for _ in 0..ROUNDS {
        let source = current.as_deref().map_or(text, String::as_str);
        match unescape_once(source) {
            Some(next) => current = Some(next),
            None => break,
        }
    }
    current
}

/// One round; `None` when there is no escape to undo.
fn unescape_once(text: &str) -> Option<Zeroizing<String>> {
    let bytes = text.as_bytes();
    if !bytes.iter().any(|&b| b == b'%' || b == b'\\') {
        return None;
    }
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = hex_value(bytes.get(i + 1..i + 3))
        {
            out.push(byte as u8);
            changed = true;
            i += 3;
            continue;
        }
        if bytes[i] == b'\\'
            && bytes.get(i + 1) == Some(&b'u')
            && let Some(c) = hex_value(bytes.get(i + 2..i + 6)).and_then(char::from_u32)
        {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            changed = true;
            i += 6;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    if !changed {
        return None;
    }
    Some(Zeroizing::new(String::from_utf8_lossy(&out).into_owned()))
}

/// The number written in hexadecimal by `digits`, if they all are hex digits.
fn hex_value(digits: Option<&[u8]>) -> Option<u32> {
    let digits = digits?;
    digits
        .iter()
        .try_fold(0, |n, &d| char::from(d).to_digit(16).map(|v| n * 16 + v))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_undone_and_others_kept() {
        assert!(unescaped("plain text").is_none());
        assert!(unescaped("100% sure, C:\\users").is_none());
        assert_eq!(&**unescaped("%73%6B-%6c").unwrap(), "sk-l");
        assert_eq!(&**unescaped(r"\u0073\u006B-x").unwrap(), "sk-x");
        // a \u escape, percent-encoded
        assert_eq!(&**unescaped("%5Cu0073k").unwrap(), "sk");
        // broken escapes stay as they are
        assert_eq!(&**unescaped("%7%zz%41\\u12").unwrap(), "%7%zzA\\u12");
        // a surrogate is no character: left alone
        assert_eq!(&**unescaped(r"\ud800%41").unwrap(), r"\ud800A");
    }
}
