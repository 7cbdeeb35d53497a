//! Reading a byte stream as text on a thread of its own, ahead of the redaction: the reading
//! and the checking of UTF-8 no longer wait for the redaction, nor the redaction for them.

use std::io::{self, Read};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;

use zeroize::Zeroizing;

use super::wiped_text::push_wiped;

/// Text read from a byte stream by a thread of its own. Bytes that are not UTF-8 are replaced
/// by U+FFFD, as [`String::from_utf8_lossy`] does; a character split between two reads is kept
/// whole.
///
/// The thread appends each read's text to one buffer, which [`next`](ReadAhead::next) swaps
/// for the buffer it returned last time: the text is copied once on its way from the input to
/// the caller, on the reading thread.
pub(crate) struct ReadAhead {
    shared: Arc<Shared>,
    /// What [`next`](ReadAhead::next) returned last; emptied and handed to the reader.
    taken: Zeroizing<String>,
}

/// What the reading thread and [`ReadAhead`] share.
struct Shared {
    ahead: Mutex<Ahead>,
    /// Signalled when text comes, the reading ends, or text is taken or no longer wanted.
    changed: Condvar,
    /// About how long the text read ahead may grow before the reader waits.
    chunk: usize,
}

/// The state behind [`Shared`]'s lock.
#[derive(Default)]
struct Ahead {
    /// Read and not taken yet.
    text: Zeroizing<String>,
    /// The error that ended the reading, to be returned after `text`.
    failed: Option<io::Error>,
    /// Whether the reading is over: the end of the input, or an error.
    ended: bool,
    /// Whether the [`ReadAhead`] is gone: the reader stops after its current read.
    dropped: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Ahead> {
        // A panic under the lock (a read that claims more bytes than it was given) leaves the
        // state whole, and `EndsTheReading` ends the reading.
        self.ahead.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, ahead: MutexGuard<'a, Ahead>) -> MutexGuard<'a, Ahead> {
        self.changed
            .wait(ahead)
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl ReadAhead {
    /// Starts reading `input` in reads of up to `read_len` bytes, at most about `chunk` bytes
    /// ahead of [`next`](ReadAhead::next). The thread stops at the end of the input, after an
    /// error, or once this is dropped and its next read returns; it is not joined, so that a
    /// command that fails to write does not wait for input that may never come.
    pub(crate) fn start(input: impl Read + Send + 'static, read_len: usize, chunk: usize) -> Self {
        let chunk = chunk.max(1);
        // The most the text grows to: a chunk, and a read of U+FFFD for invalid bytes.
        let room = chunk + 3 * (read_len + 3);
        let shared = Arc::new(Shared {
            ahead: Mutex::new(Ahead {
                text: Zeroizing::new(String::with_capacity(room)),
                ..Ahead::default()
            }),
            changed: Condvar::new(),
            chunk,
        });
        let reader = Arc::clone(&shared);
        if let Err(err) = thread::Builder::new()
            .name("keyward-read".to_owned())
            .spawn(move || read(input, read_len, &reader))
        {
            // The error comes as the first answer.
            let mut ahead = shared.lock();
            ahead.failed = Some(err);
            ahead.ended = true;
        }
        ReadAhead {
            shared,
            taken: Zeroizing::new(String::with_capacity(room)),
        }
    }

    /// Everything read since the last call, once there is something: a fast input thus comes
    /// in long texts, up to about `chunk` bytes (which the redactor can search on two threads),
    /// and a slow one, such as a live log, as soon as it is read, never waiting for more.
    /// After the text read before it, the error that ended the reading; `None` after the end
    /// of the input or that error.
    pub(crate) fn next(&mut self) -> Option<io::Result<&str>> {
        let mut ahead = self.shared.lock();
        loop {
            if !ahead.text.is_empty() {
                self.taken.clear();
                std::mem::swap(&mut ahead.text, &mut self.taken);
                drop(ahead);
                // The reader may be waiting for room.
                self.shared.changed.notify_all();
                return Some(Ok(&self.taken));
            }
            if let Some(err) = ahead.failed.take() {
                return Some(Err(err));
            }
            if ahead.ended {
                return None;
            }
            ahead = self.shared.wait(ahead);
        }
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.shared.lock().dropped = true;
        self.shared.changed.notify_all();
    }
}

/// Reads `input` until its end, appending each read's text to the shared text; waits while
/// that holds `chunk` bytes or more, and stops early once nobody listens.
fn read(mut input: impl Read, read_len: usize, shared: &Shared) {
    let _ended = EndsTheReading(shared);
    let mut buf = Zeroizing::new(vec![0; read_len + 3]);
    // The first bytes of `buf` hold the start of a character the last read ended in.
    let mut carried = 0;
    loop {
        let read = match input.read(&mut buf[carried..carried + read_len]) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            read => read,
        };
        let mut ahead = shared.lock();
        while ahead.text.len() >= shared.chunk && !ahead.dropped {
            ahead = shared.wait(ahead);
        }
        if ahead.dropped {
            return;
        }
        let (filled, end) = match read {
            Ok(read) => (carried + read, read == 0),
            Err(err) => {
                // The text read before the error comes first (a character cut short by it
                // as U+FFFD), then the error.
                ahead.failed = Some(err);
                (carried, true)
            }
        };
        carried = decode(&buf[..filled], end, |piece| {
            push_wiped(&mut ahead.text, piece)
        });
        ahead.ended = end;
        drop(ahead);
        shared.changed.notify_all();
        if end {
            return;
        }
        buf.copy_within(filled - carried..filled, 0);
    }
}

/// Ends the reading when the reading thread does, should it end otherwise than by the end of
/// the input or an error (the input's `read` panicked): the command then fails rather than
/// waits for text that will not come.
struct EndsTheReading<'a>(&'a Shared);

impl Drop for EndsTheReading<'_> {
    fn drop(&mut self) {
        let mut ahead = self.0.lock();
        if !ahead.ended {
            ahead.failed = Some(io::Error::other("the thread reading the input stopped"));
            ahead.ended = true;
        }
        drop(ahead);
        self.0.changed.notify_all();
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
    use std::sync::mpsc;

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

    /// Fails the test if `test` takes longer than 20 seconds: a reader that waits for a
    /// wake-up that never comes hangs.
    fn within_20_seconds(test: impl FnOnce() + Send + 'static) {
        let (done, finished) = mpsc::channel();
        let runner = thread::spawn(move || {
            test();
            let _ = done.send(());
        });
        match finished.recv_timeout(std::time::Duration::from_secs(20)) {
            Ok(()) => runner.join().unwrap(),
            // The test panicked: its message.
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                std::panic::resume_unwind(runner.join().unwrap_err())
            }
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("the reader hangs"),
        }
    }

    /// A reader that hands over a few bytes at a time, as a pipe may, and is interrupted
    /// (`ErrorKind::Interrupted`, a signal) before every other read if asked.
    struct Trickle {
        bytes: Vec<u8>,
        at: usize,
        step: usize,
        interrupt: bool,
        interrupted: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.interrupt && !self.interrupted {
                self.interrupted = true;
                return Err(io::ErrorKind::Interrupted.into());
            }
            self.interrupted = false;
            let n = self.step.min(buf.len()).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// Whatever the reads, their interruptions and the chunk size, the texts joined are the
    /// text of the whole, and none grows much past the chunk size.
    #[test]
    fn texts_read_ahead_join_to_the_text_of_the_whole() {
        within_20_seconds(texts_join_to_the_whole);
    }

    fn texts_join_to_the_whole() {
        for input in INPUTS {
            let whole = String::from_utf8_lossy(input);
            for (step, interrupt) in (1..=5).flat_map(|step| [(step, false), (step, true)]) {
                for (read_len, chunk) in [(1, 0), (1, 1), (2, 1), (3, 7), (4, 16), (6, 4)] {
                    let mut reader = ReadAhead::start(
                        Trickle {
                            bytes: input.repeat(3),
                            at: 0,
                            step,
                            interrupt,
                            interrupted: false,
                        },
                        read_len,
                        chunk,
                    );
                    let mut got = String::new();
                    while let Some(text) = reader.next() {
                        let text = text.unwrap();
                        // One piece past the chunk at most; a piece of U+FFFD grows threefold.
                        assert!(text.len() < chunk.max(1) + 3 * (read_len + 3));
                        got.push_str(text);
                    }
                    assert_eq!(
                        got,
                        whole.repeat(3),
                        "{input:?}, reads of {step} (interrupted: {interrupt}), {read_len} and \
                         chunks of {chunk}"
                    );
                }
            }
        }
    }

    /// A read error reaches the reader's user after the text read before it (a character the
    /// error cut short as U+FFFD), and the texts stop there.
    #[test]
    fn a_read_error_comes_after_the_text_before_it() {
        within_20_seconds(|| {
            /// Hands over its bytes one at a time, then fails.
            struct FailingAfter(&'static [u8]);
            impl Read for FailingAfter {
                fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                    let Some((&first, rest)) = self.0.split_first() else {
                        return Err(io::Error::other("disk on fire"));
                    };
                    buf[0] = first;
                    self.0 = rest;
                    Ok(1)
                }
            }
            for before in [
                &b""[..],
                b"x",
                b"xxxxx",
                b"x\xc3",
                b"\xe2\x82",
                "\u{e9}".as_bytes(),
            ] {
                let mut reader = ReadAhead::start(FailingAfter(before), 4, 64);
                let mut got = String::new();
                let err = loop {
                    match reader.next().unwrap() {
                        Ok(text) => got.push_str(text),
                        Err(err) => break err,
                    }
                };
                assert_eq!(got, String::from_utf8_lossy(before), "{before:?}");
                assert_eq!(err.to_string(), "disk on fire");
                assert!(reader.next().is_none());
            }
        });
    }

    /// An input whose `read` panics ends the texts with an error, not a wait for ever.
    #[test]
    fn a_reading_thread_that_panics_ends_the_reading() {
        within_20_seconds(|| {
            struct Panicking;
            impl Read for Panicking {
                fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                    panic!("a broken input (this panic is the test's)");
                }
            }
            let mut reader = ReadAhead::start(Panicking, 4, 64);
            let err = reader.next().unwrap().unwrap_err();
            assert_eq!(err.to_string(), "the thread reading the input stopped");
            assert!(reader.next().is_none());
        });
    }

    /// An input that never ends, telling of each read.
    struct Endless(mpsc::Sender<()>);

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            // A test that stopped listening is over.
            let _ = self.0.send(());
            buf.fill(b'y');
            Ok(buf.len())
        }
    }

    /// Reads made until the reader has made none for a while: failing once there are so
    /// many that it cannot be waiting.
    fn reads_until_quiet(reads: &mpsc::Receiver<()>) -> usize {
        let mut count = 0;
        while reads
            .recv_timeout(std::time::Duration::from_millis(200))
            .is_ok()
        {
            count += 1;
            assert!(count < 1000, "the reader does not wait");
        }
        count
    }

    /// The reader stays about a chunk ahead, and stops once nobody listens.
    #[test]
    fn the_reader_waits_for_room_and_stops_when_dropped() {
        let (told, reads) = mpsc::channel();
        let mut reader = ReadAhead::start(Endless(told), 4, 16);
        // Up to the chunk, and the read that found no room.
        assert!(reads_until_quiet(&reads) <= 16 / 4 + 1);
        assert!(reader.next().unwrap().unwrap().len() >= 16);
        assert!(reads_until_quiet(&reads) <= 16 / 4 + 1);
        drop(reader);
        // The thread ends (dropping the input and its sender) after at most one more read.
        let mut after = 0;
        loop {
            match reads.recv_timeout(std::time::Duration::from_secs(20)) {
                Ok(()) => after += 1,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("the reader waits on"),
            }
            assert!(after <= 1, "the reader goes on reading");
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
        assert!(reader.next().is_none());
    }
}
