//! Text buffers that leave nothing behind: the command's buffers hold its input, which may hold
//! secrets, and `String` and `Vec` free an outgrown buffer as it is.

use std::io::{self, Read};

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

/// Why [`read_wiped`] stopped.
#[derive(Debug)]
pub(crate) enum ReadWiped {
    /// More than the limit: the reader was not read to its end.
    TooLarge,
    Io(io::Error),
}

/// Reads all of `reader`, at most `limit` bytes, into a buffer that is wiped when dropped; a
/// buffer it outgrows is wiped as the text moves to a larger one (`read_to_end` would free it
/// as it is). As the library's `read_capped`, which the command cannot reach.
pub(crate) fn read_wiped(
    mut reader: impl Read,
    limit: usize,
) -> Result<Zeroizing<Vec<u8>>, ReadWiped> {
    let mut buf = Zeroizing::new(Vec::with_capacity(limit.min(64 * 1024)));
    let mut chunk = Zeroizing::new([0u8; 8 * 1024]);
    loop {
        let n = match reader.read(&mut chunk[..]) {
            Ok(0) => return Ok(buf),
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(ReadWiped::Io(err)),
        };
        if n > limit - buf.len() {
            return Err(ReadWiped::TooLarge);
        }
        if buf.len() + n > buf.capacity() {
            let mut larger = Vec::with_capacity((2 * buf.capacity()).max(buf.len() + n).min(limit));
            larger.extend_from_slice(&buf);
            // The old buffer is wiped as it is dropped, spare capacity included.
            buf = Zeroizing::new(larger);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
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

    #[test]
    fn reading_stops_at_the_limit_and_keeps_what_it_read() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let read = read_wiped(&data[..], data.len()).unwrap();
        assert_eq!(&read[..], &data[..]);
        assert!(matches!(
            read_wiped(&data[..], data.len() - 1),
            Err(ReadWiped::TooLarge)
        ));
        // A reader that never ends stops at the limit.
        assert!(matches!(
            read_wiped(io::repeat(b'x'), 100_000),
            Err(ReadWiped::TooLarge)
        ));
        assert!(read_wiped(&b""[..], 10).unwrap().is_empty());
    }
}
