//! The one byte class the format scanners and the line cursor share.

/// Whether `byte` continues a word: an ASCII letter, digit or `_`.
pub(super) fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}
