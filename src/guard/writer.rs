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
    out: String,
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
        let Some(inner) = self.inner.as_mut() else {
            return Ok(());
        };
        self.out.clear();
        if !self.partial.is_empty() {
            let rest = String::from_utf8_lossy(&self.partial).into_owned();
            self.partial.clear();
            self.stream.push_into(&rest, &mut self.out);
        }
        self.stream.finish_into(&mut self.out);
        inner.write_all(self.out.as_bytes())?;
        inner.flush()
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(inner) = self.inner.as_mut() else {
            return Err(io::Error::other("redacting writer already finished"));
        };
        self.out.clear();
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
        inner.write_all(self.out.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.inner.as_mut() {
            Some(inner) => inner.flush(),
            None => Ok(()),
        }
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; `finish` reports them.
        let _ = self.write_tail();
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
}
