//! Reading a byte stream as text on a thread of its own, a chunk ahead of the one being
//! redacted: the reading and the checking of UTF-8 no longer wait for the redaction, nor the
//! redaction for them.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread;

use zeroize::Zeroizing;

/// Text read from a byte stream by a thread of its own, a chunk at a time. Bytes that are not
/// UTF-8 are replaced by U+FFFD, as [`String::from_utf8_lossy`] does; a character split
/// between two reads is kept whole.
pub(crate) struct ReadAhead {
    chunks: Receiver<io::Result<Zeroizing<String>>>,
    /// Chunks handed back once redacted, for the reader to fill again.
    spent: Sender<Zeroizing<String>>,
}

impl ReadAhead {
    /// Starts reading `input` in reads of up to `chunk` bytes (a pipe hands over what it has,
    /// so a live log is not held back). The thread stops at the end of the input, after an
    /// error, or once this is dropped and its next chunk is read; it is not joined, so that a
    /// command that fails to write does not wait for input that may never come.
    pub(crate) fn start(input: impl Read + Send + 'static, chunk: usize) -> ReadAhead {
        // One chunk waiting while one is redacted and one is read.
        let (send_chunk, chunks) = mpsc::sync_channel(1);
        let (spent, reuse) = mpsc::channel();
        let unstarted = send_chunk.clone();
        if let Err(err) = thread::Builder::new()
            .name("keyward-read".to_owned())
            .spawn(move || read(input, chunk, &send_chunk, &reuse))
        {
            // The error comes as the first chunk.
            let _ = unstarted.send(Err(err));
        }
        ReadAhead { chunks, spent }
    }

    /// The next chunk of text; `None` after the last.
    pub(crate) fn next(&self) -> Option<io::Result<Zeroizing<String>>> {
        self.chunks.recv().ok()
    }

    /// Hands a chunk back for the reader to fill again.
    pub(crate) fn reuse(&self, chunk: Zeroizing<String>) {
        // A reader that stopped needs none.
        let _ = self.spent.send(chunk);
    }
}

/// Reads `input` until its end, sending each read as text; stops early when nobody listens.
fn read(
    mut input: impl Read,
    chunk: usize,
    chunks: &SyncSender<io::Result<Zeroizing<String>>>,
    reuse: &Receiver<Zeroizing<String>>,
) {
    let mut buf = Zeroizing::new(vec![0; chunk + 3]);
    // The first bytes of `buf` hold the start of a character the last read ended in.
    let mut carried = 0;
    loop {
        let read = match input.read(&mut buf[carried..carried + chunk]) {
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                let _ = chunks.send(Err(err));
                return;
            }
        };
        let end = read == 0;
        let filled = carried + read;
        let mut text = reuse.try_recv().unwrap_or_default();
        text.clear();
        carried = decode(&buf[..filled], end, |piece| push_wiped(&mut text, piece));
        buf.copy_within(filled - carried..filled, 0);
        if chunks.send(Ok(text)).is_err() || end {
            return;
        }
    }
}

/// Appends `piece` to `text`; where that takes more room, moves the text to a larger buffer
/// and wipes the old one, which `String` would free as it is.
fn push_wiped(text: &mut Zeroizing<String>, piece: &str) {
    let needed = text.len() + piece.len();
    if needed > text.capacity() {
        let mut larger = String::with_capacity(needed.max(2 * text.capacity()));
        larger.push_str(text);
        // The old buffer is wiped as it is dropped.
        *text = Zeroizing::new(larger);
    }
    text.push_str(piece);
}

/// Hands the text of `bytes` to `piece`, each invalid sequence replaced by one U+FFFD. Returns
/// how many bytes at the end start a character that may go on in the next chunk (never more
/// than 3), unless this is the `last` chunk, where they are invalid too.
fn decode(mut bytes: &[u8], last: bool, mut piece: impl FnMut(&str)) -> usize {
    loop {
        let err = match std::str::from_utf8(bytes) {
            Ok(text) => {
                piece(text);
                return 0;
            }
            Err(err) => err,
        };
        let (valid, rest) = bytes.split_at(err.valid_up_to());
        // Valid up to there, by the error's word.
        piece(std::str::from_utf8(valid).unwrap_or_default());
        match err.error_len() {
            Some(invalid) => {
                piece("\u{FFFD}");
                bytes = &rest[invalid..];
            }
            None if last => {
                piece("\u{FFFD}");
                return 0;
            }
            None => return rest.len(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn decoded(chunks: &[&[u8]]) -> String {
        let mut text = String::new();
        let mut carry = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let mut bytes = std::mem::take(&mut carry);
            bytes.extend_from_slice(chunk);
            let last = i + 1 == chunks.len();
            let kept = decode(&bytes, last, |piece| text.push_str(piece));
            carry = bytes[bytes.len() - kept..].to_vec();
        }
        text
    }

    const INPUTS: [&[u8]; 6] = [
        "plain ascii".as_bytes(),
        "caf\u{e9} \u{1f511} \u{20ac}".as_bytes(),
        b"bad \xff\xfe bytes \xc3",
        b"\xe2\x82 cut \xf0\x9f\x94",
        b"\xed\xa0\x80 surrogate \xc0\xaf overlong",
        b"",
    ];

    /// Any split of any bytes decodes as `from_utf8_lossy` decodes the whole.
    #[test]
    fn chunks_decode_like_the_whole() {
        for input in INPUTS {
            let whole = String::from_utf8_lossy(input);
            for a in 0..=input.len() {
                for b in a..=input.len() {
                    let got = decoded(&[&input[..a], &input[a..b], &input[b..]]);
                    assert_eq!(got, whole, "{input:?} split at {a}, {b}");
                }
            }
        }
    }

    #[test]
    fn pushing_past_the_capacity_keeps_the_text() {
        let mut text = Zeroizing::new(String::new());
        let mut expected = String::new();
        for i in 0..200 {
            let piece = "\u{e9}x".repeat(i % 7);
            push_wiped(&mut text, &piece);
            expected.push_str(&piece);
            assert_eq!(*text, expected);
            assert!(text.capacity() >= text.len());
        }
    }

    /// A reader that hands over a few bytes at a time, as a pipe may.
    struct Trickle {
        bytes: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// Whatever the reads and the chunk size, the chunks joined are the text of the whole.
    #[test]
    fn chunks_read_ahead_join_to_the_text_of_the_whole() {
        for input in INPUTS {
            let whole = String::from_utf8_lossy(input);
            for step in 1..=5 {
                for chunk in 1..=6 {
                    let reader = ReadAhead::start(
                        Trickle {
                            bytes: input.repeat(3),
                            at: 0,
                            step,
                        },
                        chunk,
                    );
                    let mut got = String::new();
                    while let Some(text) = reader.next() {
                        let text = text.unwrap();
                        got.push_str(&text);
                        reader.reuse(text);
                    }
                    assert_eq!(
                        got,
                        whole.repeat(3),
                        "{input:?}, reads of {step}, chunks of {chunk}"
                    );
                }
            }
        }
    }

    /// A read error reaches the reader's user, and the chunks stop there.
    #[test]
    fn a_read_error_is_the_last_chunk() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let reader = ReadAhead::start(Failing, 16);
        let err = reader.next().unwrap().unwrap_err();
        assert_eq!(err.to_string(), "disk on fire");
        assert!(reader.next().is_none());
    }
}
