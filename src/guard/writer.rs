//! [`RedactingWriter`]: redaction in front of any [`io::Write`].

use std::fmt;
use std::io::{self, Write};

use zeroize::{Zeroize, Zeroizing};

use super::redactor::Redactor;
use super::stream::StreamRedactor;

/// A writer that redacts registered secrets before passing the text on to `W`.
///
/// Bytes go through a [`StreamRedactor`], so a secret split over several `write` calls is still
/// caught. The bytes that could still become a secret are held back until more text shows that
/// they are not one, or until [`finish`](RedactingWriter::finish); [`flush`](Write::flush)
/// writes what is safe and flushes `W`, but does not release held-back bytes, since that would
/// let a secret written in two calls through. Dropping the writer releases them (redacted) and
/// ignores errors, like [`std::io::BufWriter`]; call `finish` to see them.
///
/// Input that is not UTF-8 is written with U+FFFD replacing the invalid bytes.
///
/// ```
/// use std::io::Write;
/// use keyward::{Redactor, SecretString};
/// use keyward::guard::RedactingWriter;
///
/// let token = SecretString::from(format!("ghp_{}", "Zx8v".repeat(9)));
/// let redactor = Redactor::builder().with_secret("GITHUB_TOKEN", &token).build()?;
/// let mut log = RedactingWriter::new(Vec::new(), &redactor);
/// writeln!(log, "cloning with token {}", token.expose_secret())?;
/// let bytes = log.finish()?;
/// assert_eq!(String::from_utf8(bytes).unwrap(), "cloning with token [REDACTED:GITHUB_TOKEN]\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RedactingWriter<W: Write> {
    inner: Option<W>,
    stream: StreamRedactor,
    /// The start of a UTF-8 character whose other bytes have not arrived yet.
    partial: Vec<u8>,
    /// Redacted text for `inner`; `out[written..]` is not written yet (the wrapped writer
    /// failed, or would have blocked): it goes first at the next call.
    out: String,
    written: usize,
    /// Set while the wrapped writer is called: if it panics, dropping this writer does not
    /// call it again (a second panic while unwinding would abort the process), as
    /// [`std::io::BufWriter`] does.
    panicked: bool,
}

impl<W: Write + fmt::Debug> fmt::Debug for RedactingWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactingWriter")
            .field("inner", &self.inner)
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl<W: Write> RedactingWriter<W> {
    /// Wraps `inner`; text written goes through `redactor` first.
    pub fn new(inner: W, redactor: &Redactor) -> RedactingWriter<W> {
        RedactingWriter {
            inner: Some(inner),
            // `out` is ours and grows: no text of the caller's may be left in a freed block.
            stream: redactor.stream().with_over_copy(false),
            partial: Vec::new(),
            out: String::new(),
            written: 0,
            panicked: false,
        }
    }

    /// The wrapped writer.
    pub fn get_ref(&self) -> Option<&W> {
        self.inner.as_ref()
    }

    /// Writes everything held back (redacted), flushes, and returns the wrapped writer.
    ///
    /// # Errors
    ///
    /// The error of the wrapped writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_tail()?;
        self.inner
            .take()
            .ok_or_else(|| io::Error::other("redacting writer already finished"))
    }

    fn write_tail(&mut self) -> io::Result<()> {
        if self.inner.is_none() {
            return Ok(());
        }
        self.write_out()?;
        if !self.partial.is_empty() {
            let rest = String::from_utf8_lossy(&self.partial).into_owned();
            self.partial.clear();
            self.stream.push_into(&rest, &mut self.out);
        }
        self.stream.finish_into(&mut self.out);
        self.write_out()?;
        self.flush_inner()
    }

    /// Writes what is left of `out` to the wrapped writer, then empties it.
    fn write_out(&mut self) -> io::Result<()> {
        let Some(inner) = self.inner.as_mut() else {
            return Ok(());
        };
        while self.written < self.out.len() {
            self.panicked = true;
            let wrote = inner.write(&self.out.as_bytes()[self.written..]);
            self.panicked = false;
            match wrote {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the wrapped writer took none of the redacted text",
                    ));
                }
                Ok(n) => self.written += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        self.out.clear();
        self.written = 0;
        Ok(())
    }

    fn flush_inner(&mut self) -> io::Result<()> {
        let Some(inner) = self.inner.as_mut() else {
            return Ok(());
        };
        self.panicked = true;
        let flushed = inner.flush();
        self.panicked = false;
        flushed
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    /// Takes all of `buf`, or none of it with the error of writing what an earlier call left.
    /// What the wrapped writer does not take now (an error, `WouldBlock`) is kept and written
    /// first at the next call, [`flush`](Write::flush) or [`finish`](RedactingWriter::finish),
    /// which report the error then: the input is consumed by the redactor either way.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.inner.is_none() {
            return Err(io::Error::other("redacting writer already finished"));
        }
        self.write_out()?;
        let mut bytes: &[u8] = buf;
        let joined;
        if !self.partial.is_empty() {
            self.partial.extend_from_slice(buf);
            joined = Zeroizing::new(std::mem::take(&mut self.partial));
            bytes = &joined;
        }
        loop {
            match std::str::from_utf8(bytes) {
                Ok(text) => {
                    self.stream.push_into(text, &mut self.out);
                    break;
                }
                Err(e) => {
                    let (valid, rest) = bytes.split_at(e.valid_up_to());
                    // `valid` is UTF-8 by the error's own account.
                    self.stream
                        .push_into(&String::from_utf8_lossy(valid), &mut self.out);
                    match e.error_len() {
                        Some(bad) => {
                            self.stream.push_into("\u{FFFD}", &mut self.out);
                            bytes = &rest[bad..];
                        }
                        None => {
                            self.partial.extend_from_slice(rest);
                            break;
                        }
                    }
                }
            }
        }
        // Whatever is not written now is kept for the next call, which reports the error.
        let _ = self.write_out();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_out()?;
        self.flush_inner()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; `finish` reports them. A wrapped writer that
        // panicked is not called again.
        if !self.panicked {
            let _ = self.write_tail();
        }
        // Text on its way through, and what the stream's copies left in spare capacity.
        self.out.zeroize();
        self.partial.zeroize();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::SecretString;

    fn redactor(key: &SecretString) -> Redactor {
        Redactor::builder().with_secret("KEY", key).build().unwrap()
    }

    #[test]
    fn a_key_written_byte_by_byte_is_redacted() {
        let key = SecretString::from(format!("sk-ant-api03-{}", "Rt5y".repeat(10)));
        let r = redactor(&key);
        let mut w = RedactingWriter::new(Vec::new(), &r);
        let line = format!("body={{\"key\":\"{}\"}} é\n", key.expose_secret());
        for b in line.as_bytes() {
            w.write_all(&[*b]).unwrap();
        }
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(out, "body={\"key\":\"[REDACTED:KEY]\"} é\n");
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        let key = SecretString::from("0123456789abcdef");
        let r = redactor(&key);
        let mut w = RedactingWriter::new(Vec::new(), &r);
        w.write_all(b"ok \xff\xfe 0123456789abcdef \xc3").unwrap();
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(out, "ok \u{FFFD}\u{FFFD} [REDACTED:KEY] \u{FFFD}");
    }

    #[test]
    fn drop_releases_the_held_back_tail() {
        let key = SecretString::from("0123456789abcdef");
        let r = redactor(&key);
        let mut sink = Vec::new();
        {
            let mut w = RedactingWriter::new(&mut sink, &r);
            w.write_all(b"ends with 0123").unwrap();
        }
        assert_eq!(sink, b"ends with 0123");
    }

    /// A wrapped writer that takes `take` bytes, then fails once with `WouldBlock`, then takes
    /// everything; or panics at every write once `panics` is set.
    struct Stubborn {
        out: Vec<u8>,
        take: usize,
        blocked: bool,
        panics: bool,
    }

    impl Write for Stubborn {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            assert!(!self.panics, "the wrapped writer panics");
            if !self.blocked && self.out.len() + buf.len() > self.take {
                let n = self.take - self.out.len();
                if n == 0 {
                    self.blocked = true;
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                self.out.extend_from_slice(&buf[..n]);
                return Ok(n);
            }
            self.out.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn what_the_wrapped_writer_does_not_take_is_written_later_once() {
        let key = SecretString::from(format!("ghp_{}", "Zx8v".repeat(9)));
        let r = redactor(&key);
        let line = format!("user=alice token={} status=ok\n", key.expose_secret());
        for take in [0, 1, 8, 20, 30] {
            let stubborn = Stubborn {
                out: Vec::new(),
                take,
                blocked: false,
                panics: false,
            };
            let mut w = RedactingWriter::new(stubborn, &r);
            // `write` takes all of the line, whatever the wrapped writer does.
            assert_eq!(w.write(line.as_bytes()).unwrap(), line.len());
            w.write_all(b"next\n").unwrap();
            let out = String::from_utf8(w.finish().unwrap().out).unwrap();
            assert_eq!(
                out, "user=alice token=[REDACTED:KEY] status=ok\nnext\n",
                "{take}"
            );
        }
    }

    #[test]
    fn a_panicking_wrapped_writer_is_not_called_again_on_drop() {
        let key = SecretString::from("0123456789abcdef");
        let r = redactor(&key);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let stubborn = Stubborn {
                out: Vec::new(),
                take: usize::MAX,
                blocked: false,
                panics: false,
            };
            let mut w = RedactingWriter::new(stubborn, &r);
            w.write_all(b"first line\nheld 0123").unwrap();
            if let Some(inner) = w.inner.as_mut() {
                inner.panics = true;
            }
            // Panics inside the wrapped writer; unwinding drops `w` with a tail held back.
            w.write_all(b"\nsecond line\n").unwrap();
        }));
        // A second panic in drop would have aborted the process before this line.
        assert!(caught.is_err());
    }
}
