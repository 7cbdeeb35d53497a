//! The one line ending a value read from a file carries (`echo` and editors add it), dropped
//! the same way wherever keyward drops it: by `FileProvider`, and by `EnvProvider` when asked.

/// Removes one trailing `\n` or `\r\n`, no more: a value may end in a line ending of its own.
pub(crate) fn trim_line_ending(bytes: &[u8]) -> &[u8] {
    bytes
        .strip_suffix(b"\r\n")
        .or_else(|| bytes.strip_suffix(b"\n"))
        .unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_exactly_one_line_ending() {
        assert_eq!(trim_line_ending(b"abc\n"), b"abc");
        assert_eq!(trim_line_ending(b"abc\r\n"), b"abc");
        assert_eq!(trim_line_ending(b"abc\n\n"), b"abc\n");
        assert_eq!(trim_line_ending(b"abc\r\n\r\n"), b"abc\r\n");
        assert_eq!(trim_line_ending(b"abc\r"), b"abc\r");
        assert_eq!(trim_line_ending(b"abc"), b"abc");
        assert_eq!(trim_line_ending(b"\n"), b"");
        assert_eq!(trim_line_ending(b""), b"");
    }
}
