//! [`RedactingMakeWriter`]: redaction for `tracing-subscriber`'s fmt layer.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use tracing_subscriber::fmt::MakeWriter;
use zeroize::{Zeroize, Zeroizing};

use crate::wipe::reserve_bytes;

use super::redactor::Redactor;
use super::shared::SharedRedactor;

/// A [`MakeWriter`] that redacts every formatted log line before it reaches the wrapped writer.
///
/// A tracing layer cannot rewrite an event's fields before other layers see them, but the fmt
/// layer's output can be rewritten: this wraps the writer it formats into. Each event gets a
/// [`RedactedEvent`] that collects the line and writes it, redacted with the
/// [`SharedRedactor`]'s current redactor, when the fmt layer is done with it.
///
/// ```
/// use keyward::{Redactor, SecretString};
/// use keyward::guard::{RedactingMakeWriter, SharedRedactor};
///
/// let key = SecretString::from(format!("sk-proj-{}", "Lg4m".repeat(10)));
/// let shared = SharedRedactor::new(Redactor::builder().with_secret("OPENAI_API_KEY", &key));
/// let subscriber = tracing_subscriber::fmt()
///     .with_writer(RedactingMakeWriter::new(std::io::stderr, shared))
///     .finish();
/// # let _ = subscriber;
/// # Ok::<(), keyward::Error>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub struct RedactingMakeWriter<M> {
    inner: M,
    redactor: SharedRedactor,
}

impl<M> fmt::Debug for RedactingMakeWriter<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactingMakeWriter")
            .field("redactor", &self.redactor)
            .finish_non_exhaustive()
    }
}

impl<M> RedactingMakeWriter<M> {
    /// Wraps `inner`, redacting with whatever `redactor` holds when each event is written.
    pub fn new(inner: M, redactor: SharedRedactor) -> RedactingMakeWriter<M> {
        RedactingMakeWriter { inner, redactor }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingMakeWriter<M> {
    type Writer = RedactedEvent<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedEvent::new(self.inner.make_writer(), self.redactor.current())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        RedactedEvent::new(self.inner.make_writer_for(meta), self.redactor.current())
    }
}

/// The writer for one event, from [`RedactingMakeWriter`]: collects the formatted line and
/// writes it redacted on [`flush`](Write::flush) or when dropped.
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub struct RedactedEvent<W: Write> {
    inner: W,
    redactor: Arc<Redactor>,
    line: Vec<u8>,
}

impl<W: Write> fmt::Debug for RedactedEvent<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactedEvent")
            .field("buffered", &self.line.len())
            .finish_non_exhaustive()
    }
}

impl<W: Write> RedactedEvent<W> {
    fn new(inner: W, redactor: Arc<Redactor>) -> RedactedEvent<W> {
        RedactedEvent {
            inner,
            redactor,
            line: Vec::new(),
        }
    }

    fn write_line(&mut self) -> io::Result<()> {
        if self.line.is_empty() {
            return Ok(());
        }
        let written = match std::str::from_utf8(&self.line) {
            Ok(text) => self.inner.write_all(self.redactor.redact(text).as_bytes()),
            Err(_) => {
                // `from_utf8_lossy` would grow its copy as it goes, freeing blocks unwiped.
                let mut text = Zeroizing::new(String::with_capacity(self.line.len() * 3));
                for chunk in self.line.utf8_chunks() {
                    text.push_str(chunk.valid());
                    if !chunk.invalid().is_empty() {
                        text.push(char::REPLACEMENT_CHARACTER);
                    }
                }
                self.inner.write_all(self.redactor.redact(&text).as_bytes())
            }
        };
        // The line as formatted, secrets included.
        self.line.zeroize();
        written
    }
}

impl<W: Write> Write for RedactedEvent<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        reserve_bytes(&mut self.line, buf.len(), usize::MAX);
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_line()?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for RedactedEvent<W> {
    fn drop(&mut self) {
        // The fmt layer ignores write errors too; there is no one to report them to here.
        let _ = self.write_line();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::SecretString;

    /// A writer into a shared buffer, as a `MakeWriter` hands out.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;

        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    #[test]
    fn every_formatted_log_line_is_redacted_and_follows_updates() {
        let first = SecretString::from(format!("sk-proj-{}", "Lg4m".repeat(10)));
        let later = SecretString::from(format!("ghp_{}", "Tk7n".repeat(9)));
        let shared = SharedRedactor::new(Redactor::builder().with_secret("OPENAI_API_KEY", &first));
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(RedactingMakeWriter::new(buffer.clone(), shared.clone()))
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(api_key = first.expose_secret(), "calling the model");
            tracing::warn!("request body: {{\"token\":\"{}\"}}", later.expose_secret());
            shared.update("GITHUB_TOKEN", &later).unwrap();
            tracing::warn!("request body: {{\"token\":\"{}\"}}", later.expose_secret());
        });
        let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = logs.lines().collect();
        assert_eq!(lines.len(), 3, "{logs}");
        assert!(
            lines[0].contains("api_key=\"[REDACTED:OPENAI_API_KEY]\""),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains("calling the model"));
        // not registered yet when the second line was written
        assert!(lines[1].contains(later.expose_secret()));
        assert!(
            lines[2].contains("{\"token\":\"[REDACTED:GITHUB_TOKEN]\"}"),
            "{}",
            lines[2]
        );
        assert!(!logs.contains(first.expose_secret()));
    }

    #[test]
    fn a_line_that_is_not_utf8_is_redacted_with_replacement_characters() {
        let key = SecretString::from(format!("sk-proj-{}", "Lg4m".repeat(10)));
        let redactor = Redactor::builder().with_secret("K", &key).build().unwrap();
        let buffer = Buffer::default();
        let mut event = RedactedEvent::new(buffer.clone(), Arc::new(redactor));
        event.write_all(b"bad \xFF byte, then ").unwrap();
        event.write_all(key.expose_secret().as_bytes()).unwrap();
        event.write_all(b" and \xC3\n").unwrap();
        drop(event);
        let written = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            written,
            "bad \u{FFFD} byte, then [REDACTED:K] and \u{FFFD}\n"
        );
    }
}
