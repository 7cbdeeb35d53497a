//! [`RedactingMakeWriter`]: redaction for `tracing-subscriber`'s fmt layer.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use tracing_subscriber::fmt::MakeWriter;

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
/// use keyward::{RedactingMakeWriter, Redactor, SecretString, SharedRedactor};
///
/// let key = SecretString::from(format!("sk-proj-{}", "Lg4m".repeat(10)));
/// let shared = SharedRedactor::new(Redactor::builder().secret("OPENAI_API_KEY", &key)?);
/// let subscriber = tracing_subscriber::fmt()
///     .with_writer(RedactingMakeWriter::new(std::io::stderr, shared))
///     .finish();
/// # let _ = subscriber;
/// # Ok::<(), keyward::Error>(())
/// ```
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

    fn make_writer_for(&'a self, meta: &tracing_core::Metadata<'_>) -> Self::Writer {
        RedactedEvent::new(self.inner.make_writer_for(meta), self.redactor.current())
    }
}

/// The writer for one event, from [`RedactingMakeWriter`]: collects the formatted line and
/// writes it redacted on [`flush`](Write::flush) or when dropped.
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
        let line = std::mem::take(&mut self.line);
        let text = String::from_utf8_lossy(&line);
        self.inner.write_all(self.redactor.redact(&text).as_bytes())
    }
}

impl<W: Write> Write for RedactedEvent<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
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
