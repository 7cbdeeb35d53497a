//! Reading a byte stream as text on a thread of its own, ahead of the redaction: the reading
//! and the checking of UTF-8 no longer wait for the redaction, nor the redaction for them.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread;

use zeroize::Zeroizing;

use super::wiped_text::{push_wiped, reserve_wiped};

/// One read's text, or the error that ended the reading.
type Piece = io::Result<Zeroizing<String>>;

/// Text read from a byte stream by a thread of its own. Bytes that are not UTF-8 are replaced
/// by U+FFFD, as [`String::from_utf8_lossy`] does; a character split between two reads is kept
/// whole.
pub(crate) struct ReadAhead {
    pieces: Receiver<Piece>,
    /// Pieces taken, handed back for the reader to fill again.
    spent: Sender<Zeroizing<String>>,
    /// What [`next`](ReadAhead::next) returns: the pieces read since the call before, joined.
    text: Zeroizing<String>,
    /// About how long `text` may grow.
    chunk: usize,
    /// A read error that came after text not returned yet: the next call's answer.
    failed: Option<io::Error>,
}

impl ReadAhead {
    /// Starts reading `input` in reads of up to `read_len` bytes, at most about `chunk` bytes
    /// ahead of [`next`](ReadAhead::next). The thread stops at the end of the input, after an
    /// error, or once this is dropped and its next read returns; it is not joined, so that a
    /// command that fails to write does not wait for input that may never come.
    pub(crate) fn start(input: impl Read + Send + 'static, read_len: usize, chunk: usize) -> Self {
        let (send, pieces) = mpsc::sync_channel((chunk / read_len).max(1));
        let (spent, reuse) = mpsc::channel();
        let unstarted = send.clone();
        if let Err(err) = thread::Builder::new()
            .name("keyward-read".to_owned())
            .spawn(move || read(input, read_len, &send, &reuse))
        {
            // The error comes as the first piece.
            let _ = unstarted.send(Err(err));
        }
        ReadAhead {
            pieces,
            spent,
            text: Zeroizing::new(String::with_capacity(chunk + read_len)),
            chunk,
            failed: None,
        }
    }

    /// Everything read since the last call, once there is something: one read, waited for,
    /// and the reads that came in meanwhile, up to about `chunk` bytes. A fast input thus comes
    /// in long texts (which the redactor can search on two threads) and a slow one, such as a
    /// live log, line by line as it is written. `None` after the end of the input.
    pub(crate) fn next(&mut self) -> Option<io::Result<&str>> {
        if let Some(err) = self.failed.take() {
            return Some(Err(err));
        }
        let first = match self.pieces.recv() {
            Ok(Ok(piece)) => piece,
            Ok(Err(err)) => return Some(Err(err)),
            Err(_) => return None,
        };
        self.text.clear();
        self.take(first);
        while self.text.len() < self.chunk {
            match self.pieces.try_recv() {
                Ok(Ok(piece)) => self.take(piece),
                Ok(Err(err)) => {
                    self.failed = Some(err);
                    break;
                }
                // Nothing more yet, or the end: what there is goes now.
                Err(_) => break,
            }
        }
        Some(Ok(&self.text))
    }

    /// Appends `piece` to the text and hands its buffer back.
    fn take(&mut self, piece: Zeroizing<String>) {
        push_wiped(&mut self.text, &piece);
        // A reader that stopped needs none.
        let _ = self.spent.send(piece);
    }
}

/// Reads `input` until its end, sending each read as text; stops early when nobody listens.
fn read(
    mut input: impl Read,
    read_len: usize,
    pieces: &SyncSender<Piece>,
    reuse: &Receiver<Zeroizing<String>>,
) {
    let mut buf = Zeroizing::new(vec![0; read_len + 3]);
    // The first bytes of `buf` hold the start of a character the last read ended in.
    let mut carried = 0;
    loop {
        let read = match input.read(&mut buf[carried..carried + read_len]) {
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                let _ = pieces.send(Err(err));
                return;
            }
        };
        let end = read == 0;
        let filled = carried + read;
        let mut text = reuse.try_recv().unwrap_or_default();
        text.clear();
        reserve_wiped(&mut text, filled);
        carried = decode(&buf[..filled], end, |piece| push_wiped(&mut text, piece));
        buf.copy_within(filled - carried..filled, 0);
        if pieces.send(Ok(text)).is_err() || end {
            return;
        }
    }
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

    /// Whatever the reads and the chunk size, the texts joined are the text of the whole, and
    /// none grows much past the chunk size.
    #[test]
    fn texts_read_ahead_join_to_the_text_of_the_whole() {
        for input in INPUTS {
            let whole = String::from_utf8_lossy(input);
            for step in 1..=5 {
                for (read_len, chunk) in [(1, 1), (2, 1), (3, 7), (4, 16), (6, 4)] {
                    let mut reader = ReadAhead::start(
                        Trickle {
                            bytes: input.repeat(3),
                            at: 0,
                            step,
                        },
                        read_len,
                        chunk,
                    );
                    let mut got = String::new();
                    while let Some(text) = reader.next() {
                        let text = text.unwrap();
                        // One piece past the chunk at most; a piece of U+FFFD grows threefold.
                        assert!(text.len() < chunk + 3 * (read_len + 3));
                        got.push_str(text);
                    }
                    assert_eq!(
                        got,
                        whole.repeat(3),
                        "{input:?}, reads of {step}, {read_len} and chunks of {chunk}"
                    );
                }
            }
        }
    }

    /// A read error reaches the reader's user after the text read before it, and the texts
    /// stop there.
    #[test]
    fn a_read_error_comes_after_the_text_before_it() {
        struct FailingAfter(usize);
        impl Read for FailingAfter {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk on fire"));
                }
                self.0 -= 1;
                buf[0] = b'x';
                Ok(1)
            }
        }
        for before in [0, 1, 5] {
            let mut reader = ReadAhead::start(FailingAfter(before), 4, 64);
            let mut got = String::new();
            let err = loop {
                match reader.next().unwrap() {
                    Ok(text) => got.push_str(text),
                    Err(err) => break err,
                }
            };
            assert_eq!(got, "x".repeat(before));
            assert_eq!(err.to_string(), "disk on fire");
            assert!(reader.next().is_none());
        }
    }

    /// A reader that hands over one line, then waits to be told to end.
    struct Paused {
        line: Option<&'static [u8]>,
        go_on: mpsc::Receiver<()>,
    }

    impl Read for Paused {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if let Some(line) = self.line.take() {
                buf[..line.len()].copy_from_slice(line);
                return Ok(line.len());
            }
            let _ = self.go_on.recv();
            Ok(0)
        }
    }

    /// A slow input's text comes as soon as it is read: `next` never waits for more to join
    /// to it (a live log is not held back).
    #[test]
    fn text_comes_without_waiting_for_more() {
        let (go_on, paused) = mpsc::channel();
        let mut reader = ReadAhead::start(
            Paused {
                line: Some(b"first line\n"),
                go_on: paused,
            },
            1024,
            1 << 20,
        );
        let (done, first) = mpsc::channel();
        let consumer = thread::spawn(move || {
            let text = reader.next().unwrap().unwrap().to_owned();
            done.send(text).unwrap();
            reader
        });
        let text = first.recv_timeout(std::time::Duration::from_secs(20));
        go_on.send(()).unwrap();
        assert_eq!(text.unwrap(), "first line\n");
        let mut reader = consumer.join().unwrap();
        assert!(reader.next().unwrap().unwrap().is_empty());
        assert!(reader.next().is_none());
    }
}
