//! [`Received`]: the text a stream holds, padded so that short copies out of it have a fixed size.

use zeroize::Zeroize;

use crate::wipe::reserve_str;

/// Bytes of padding after the text: copies of up to this many bytes are made at this size.
const PAD: usize = 16;
const PADDING: &str = "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
/// Zero bytes to wipe with, a few at a time.
const ZEROS: &str = match std::str::from_utf8(&[0; 512]) {
    Ok(zeros) => zeros,
    Err(_) => panic!("zero bytes are UTF-8"),
};

/// Text received by a stream, followed by [`PAD`] bytes of padding.
///
/// A stream emits a few bytes at a time, as many as the last word boundary allows: a length that
/// changes from piece to piece. Copying a length the branch predictor cannot guess costs more
/// than the rest of a small piece's work (`memcpy` picks its method by size), so
/// [`copy_into`](Received::copy_into) copies a fixed [`PAD`] bytes and cuts the copy back.
pub(super) struct Received {
    /// The text, then `PAD` bytes of padding.
    bytes: String,
}

impl Received {
    pub(super) fn new() -> Received {
        Received {
            bytes: PADDING.to_owned(),
        }
    }

    #[inline]
    pub(super) fn len(&self) -> usize {
        self.bytes.len() - PAD
    }

    #[inline]
    pub(super) fn as_str(&self) -> &str {
        &self.bytes[..self.len()]
    }

    #[inline]
    pub(super) fn as_bytes(&self) -> &[u8] {
        self.as_str().as_bytes()
    }

    #[inline]
    pub(super) fn is_char_boundary(&self, at: usize) -> bool {
        self.bytes.is_char_boundary(at)
    }

    #[inline]
    pub(super) fn push_str(&mut self, piece: &str) {
        self.bytes.truncate(self.len());
        // `String` growth would free the old buffer, received text and all, unwiped.
        reserve_str(&mut self.bytes, piece.len() + PAD);
        self.bytes.push_str(piece);
        self.bytes.push_str(PADDING);
    }

    /// Appends `self.as_str()[from..to]` to `out`.
    ///
    /// With `over_copy`, a short copy writes [`PAD`] bytes and cuts `out` back: up to `PAD`
    /// bytes past `to` (text not emitted yet, or padding) stay in `out`'s spare capacity until
    /// something overwrites them, and go with it if `out` is freed or grows. For the caller's
    /// `String` that is the caller's own input; a buffer of the crate's own passes `false`.
    // Always: on a stream's common path, a call here cost as much as the copy.
    #[inline(always)]
    pub(super) fn copy_into(&self, from: usize, to: usize, out: &mut String, over_copy: bool) {
        debug_assert!(from <= to && to <= self.len());
        let len = to - from;
        // Only into room already there: a fresh `String` (as `push` returns) would otherwise be
        // allocated even when nothing is copied.
        let room = out.capacity() - out.len();
        if over_copy && len <= PAD && room >= PAD && self.bytes.is_char_boundary(from + PAD) {
            let end = out.len() + len;
            out.push_str(&self.bytes[from..][..PAD]);
            // Not wiped past `end` (that cost 6 % of a small piece): see above.
            out.truncate(end);
        } else {
            out.push_str(&self.bytes[from..to]);
        }
    }

    /// Drops the first `len` bytes.
    pub(super) fn drop_front(&mut self, len: usize) {
        let end = self.bytes.len();
        self.bytes.drain(..len);
        // The rest moved to the front; wipe what it left behind, now spare capacity.
        let kept = self.bytes.len();
        let mut left = end - kept;
        while left > 0 {
            let n = left.min(ZEROS.len());
            self.bytes.push_str(&ZEROS[..n]);
            left -= n;
        }
        self.bytes.truncate(kept);
    }

    /// Empties the text, wiping it.
    pub(super) fn clear(&mut self) {
        self.bytes.zeroize();
        self.bytes.push_str(PADDING);
    }
}

impl Drop for Received {
    fn drop(&mut self) {
        // The text as received, which may include (part of) a secret.
        self.bytes.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_of_every_length_and_offset_are_exact() {
        let mut received = Received::new();
        received.push_str("héllo wörld, ");
        received.push_str("a longer piece of text than the padding");
        let text = received.as_str().to_owned();
        for from in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            for to in (from..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                for (room, over_copy) in [(0, true), (64, true), (64, false)] {
                    let mut out = String::with_capacity(room);
                    out.push_str("before:");
                    received.copy_into(from, to, &mut out, over_copy);
                    assert_eq!(out, format!("before:{}", &text[from..to]));
                }
            }
        }
    }

    #[test]
    fn dropping_the_front_and_clearing_keep_the_padding() {
        let mut received = Received::new();
        received.push_str("0123456789");
        received.drop_front(4);
        assert_eq!(received.as_str(), "456789");
        assert_eq!(received.len(), 6);
        received.clear();
        assert_eq!(received.as_str(), "");
        received.push_str("x");
        assert_eq!(received.as_str(), "x");
    }
}
