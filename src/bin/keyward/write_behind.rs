//! Writing text on a thread of its own, behind the redaction of the next chunk: the system's
//! copying of the output into a file or a pipe no longer holds the redaction up.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::{self, JoinHandle};

use zeroize::Zeroizing;

/// A thread that writes and flushes each text it is given, in order, and hands the emptied
/// buffers back.
pub(crate) struct WriteBehind {
    texts: Option<SyncSender<Zeroizing<String>>>,
    spent: Receiver<Zeroizing<String>>,
    /// Where an empty text goes straight back to, with the room made in it.
    give_back: Sender<Zeroizing<String>>,
    writer: Option<JoinHandle<io::Result<()>>>,
}

impl WriteBehind {
    /// Starts the thread that writes to `output`; fails if it cannot start.
    pub(crate) fn start(output: impl Write + Send + 'static) -> io::Result<WriteBehind> {
        // One text waiting while one is written.
        let (texts, receive) = mpsc::sync_channel::<Zeroizing<String>>(1);
        let (give_back, spent) = mpsc::channel();
        let written = give_back.clone();
        let writer = thread::Builder::new()
            .name("keyward-write".to_owned())
            .spawn(move || {
                let mut output = output;
                for mut text in receive {
                    output.write_all(text.as_bytes())?;
                    output.flush()?;
                    text.clear();
                    // Nobody to give it to once the sender is done.
                    let _ = written.send(text);
                }
                Ok(())
            })?;
        Ok(WriteBehind {
            texts: Some(texts),
            spent,
            give_back,
            writer: Some(writer),
        })
    }

    /// An empty buffer to fill: one already written out if there is one.
    pub(crate) fn buffer(&self) -> Zeroizing<String> {
        self.spent.try_recv().unwrap_or_default()
    }

    /// Hands `text` to the writer; an empty one is kept for [`buffer`](WriteBehind::buffer)
    /// (dropping it would allocate its room again, and wipe all of it). Fails with the
    /// writer's error once it has stopped on one, and on every call after that.
    pub(crate) fn write(&mut self, text: Zeroizing<String>) -> io::Result<()> {
        if text.is_empty() {
            // This end holds the receiver: the send cannot fail.
            let _ = self.give_back.send(text);
            return Ok(());
        }
        let Some(texts) = &self.texts else {
            return Err(stopped());
        };
        if texts.send(text).is_ok() {
            return Ok(());
        }
        // The writer hung up: its error says why.
        self.finish().and(Err(stopped()))
    }

    /// Waits until everything handed over is written; the writer's error if it failed. Later
    /// writes fail.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        self.texts = None;
        match self.writer.take().map(JoinHandle::join) {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(err))) => Err(err),
            Some(Err(_)) => Err(io::Error::other("the writing thread panicked")),
        }
    }
}

impl Drop for WriteBehind {
    /// Writes out what was handed over, as a command that fails (on a read error, say) still
    /// passes on what it redacted before.
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// The error of a write after the writer stopped.
fn stopped() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "output closed after an earlier error",
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer into shared memory that fails after `limit` bytes.
    #[derive(Clone)]
    struct Shared {
        bytes: Arc<Mutex<Vec<u8>>>,
        limit: usize,
    }

    impl Shared {
        fn failing_after(limit: usize) -> Shared {
            Shared {
                bytes: Arc::default(),
                limit,
            }
        }
    }

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut bytes = self.bytes.lock().unwrap();
            if bytes.len() + buf.len() > self.limit {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "reader went away",
                ));
            }
            bytes.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn texts_are_written_in_order_and_buffers_come_back() {
        let output = Shared::failing_after(usize::MAX);
        let mut writer = WriteBehind::start(output.clone()).unwrap();
        let mut expected = String::new();
        for i in 0..100 {
            let mut text = writer.buffer();
            assert!(text.is_empty());
            text.push_str(&format!("line {i}\n"));
            expected.push_str(&text);
            writer.write(text).unwrap();
        }
        // An empty text is not written, and its room comes back (behind the buffers written).
        let room = 1 << 16;
        writer
            .write(Zeroizing::new(String::with_capacity(room)))
            .unwrap();
        let came_back = std::iter::from_fn(|| Some(writer.buffer()))
            .take_while(|buffer| buffer.capacity() > 0)
            .any(|buffer| buffer.capacity() == room);
        assert!(came_back);
        writer.finish().unwrap();
        assert_eq!(*output.bytes.lock().unwrap(), expected.as_bytes());
    }

    #[test]
    fn a_write_error_comes_back_to_the_caller_and_stays() {
        let output = Shared::failing_after(10);
        let mut writer = WriteBehind::start(output.clone()).unwrap();
        // The writer fails on the second text; `write` reports it once the thread has stopped.
        let mut writes = 0;
        let err = loop {
            match writer.write(Zeroizing::new("0123456".to_owned())) {
                Ok(()) => writes += 1,
                Err(err) => break err,
            }
            assert!(writes < 10_000, "the error never came back");
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(err.to_string(), "reader went away");
        // Every later write fails too, and finishing after the error is no error of its own.
        assert!(writer.write(Zeroizing::new("more".to_owned())).is_err());
        assert!(writer.finish().is_ok());
        assert_eq!(*output.bytes.lock().unwrap(), b"0123456");
    }

    #[test]
    fn what_was_handed_over_is_written_when_dropped() {
        let output = Shared::failing_after(usize::MAX);
        let mut writer = WriteBehind::start(output.clone()).unwrap();
        for _ in 0..3 {
            writer.write(Zeroizing::new("abc".to_owned())).unwrap();
        }
        drop(writer);
        assert_eq!(*output.bytes.lock().unwrap(), b"abcabcabc");
    }
}
