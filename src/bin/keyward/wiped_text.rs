//! Text buffers that leave nothing behind: the command's buffers hold its input, which may hold
//! secrets, and `String` frees an outgrown buffer as it is.

use zeroize::Zeroizing;

/// Makes room in `text` for `additional` more bytes; where that takes a larger buffer, the text
/// moves there and the old buffer is wiped. (The library's `wipe::reserve_str`, for a buffer
/// that is wiped when dropped too.)
pub(crate) fn reserve_wiped(text: &mut Zeroizing<String>, additional: usize) {
    let needed = text.len() + additional;
    if needed > text.capacity() {
        let mut larger = String::with_capacity(needed.max(2 * text.capacity()));
        larger.push_str(text);
        // The old buffer is wiped as it is dropped.
        *text = Zeroizing::new(larger);
    }
}

/// Appends `piece` to `text`, through [`reserve_wiped`].
pub(crate) fn push_wiped(text: &mut Zeroizing<String>, piece: &str) {
    reserve_wiped(text, piece.len());
    text.push_str(piece);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushing_past_the_capacity_keeps_the_text() {
        let mut text = Zeroizing::new(String::new());
        let mut expected = String::new();
        for i in 0..200 {
            let piece = "\u{e9}x".repeat(i % 7);
            push_wiped(&mut text, &piece);
            expected.push_str(&piece);
            assert_eq!(*text, expected);
        }
        let (capacity, len) = (text.capacity(), text.len());
        reserve_wiped(&mut text, capacity - len);
        assert_eq!(text.capacity(), capacity, "room enough: no new buffer");
        reserve_wiped(&mut text, capacity);
        assert!(text.capacity() >= text.len() + capacity);
        assert_eq!(*text, expected);
    }
}
