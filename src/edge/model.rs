//! Toward the model: text with every key replaced by its handle or a marker.

use std::borrow::Cow;
use std::sync::Arc;

use crate::guard::{Redactor, StreamRedactor};

use super::agent::{Edge, lock};

impl Edge {
    /// `text` as the model may see it: every value of one of the edge's keys, as written,
    /// becomes its [handle](Edge::handle) (a value the key had before a rotation too, while the
    /// manager still knows it: the handle stands for the key, and restores its current value);
    /// what cannot be given back becomes a marker such as `[REDACTED:GITHUB_TOKEN]` (an encoded
    /// key, a fragment, a key of the manager outside the policy), and so does a key nobody
    /// registered that the [`Detector`](crate::Detector) finds (`[REDACTED:GitHub token]`).
    /// Borrowed when nothing was found.
    ///
    /// Use it on everything that enters the model's context: tool results, file contents, web
    /// pages. It finds what [`KeyManager::redactor`](crate::KeyManager::redactor) finds (every
    /// value the manager handed out, in every encoding the guard knows), in one pass over the
    /// text.
    ///
    /// ```
    /// use keyward::{KeyManager, MemoryProvider};
    /// use keyward::edge::{Binding, Edge, EdgePolicy};
    ///
    /// # let token = format!("ghp_{}", "FaKe0".repeat(8));
    /// let manager = KeyManager::builder(MemoryProvider::new().with("GITHUB_TOKEN", token.as_str())).build()?;
    /// let policy = EdgePolicy::builder()
    ///     .with_key("GITHUB_TOKEN", Binding::https("api.github.com").with_bearer())
    ///     .with_tool("github", ["GITHUB_TOKEN"])
    ///     .build()?;
    /// let edge = Edge::new("researcher", manager, policy)?;
    /// let handle = edge.handle("GITHUB_TOKEN")?;
    ///
    /// let answer = format!("your token is {token}, or {} in hex", hex(&token));
    /// assert_eq!(
    ///     edge.to_model(&answer),
    ///     format!("your token is {handle}, or [REDACTED:GITHUB_TOKEN] in hex")
    /// );
    /// # fn hex(s: &str) -> String { s.bytes().map(|b| format!("{b:02x}")).collect() }
    /// # Ok::<(), keyward::Error>(())
    /// ```
    pub fn to_model<'t>(&self, text: &'t str) -> Cow<'t, str> {
        self.model_redactor().redact(text)
    }

    /// [`to_model`](Edge::to_model) for text that arrives in pieces (a streamed tool result):
    /// whatever the split, the output is the same as `to_model` of the whole text, so no split
    /// lets a key out. Only the bytes that could still turn out to be part of a key are held
    /// back; with detection on (the default), the current line is held back until its end
    /// (at most 64 KiB), as the detector looks at whole lines.
    ///
    /// The stream keeps the keys known when it was made, for its whole life.
    pub fn to_model_stream(&self) -> ModelStream {
        ModelStream {
            stream: self.model_redactor().stream(),
        }
    }

    /// The manager's redactor with this edge's handles laid over it, made again only when the
    /// manager's changed (a key loaded or rotated).
    fn model_redactor(&self) -> Redactor {
        let inner = &*self.inner;
        self.touch_keys();
        let base = inner.manager.redactor().current();
        let mut cache = lock(&inner.model);
        if let Some((seen, redactor)) = &*cache
            && Arc::ptr_eq(seen, &base)
        {
            return redactor.clone();
        }
        let redactor = base.with_overlay(
            |label| {
                inner
                    .policy
                    .index_of(label)
                    .map(|index| Arc::clone(inner.handles.text(index)))
            },
            inner.detector.clone(),
        );
        *cache = Some((base, redactor.clone()));
        redactor
    }
}

/// A stream of text on its way to the model; see [`Edge::to_model_stream`].
///
/// ```
/// use keyward::{KeyManager, MemoryProvider};
/// use keyward::edge::{Binding, Edge, EdgePolicy};
///
/// # let token = format!("ghp_{}", "FaKe0".repeat(8));
/// let manager = KeyManager::builder(MemoryProvider::new().with("GITHUB_TOKEN", token.as_str())).build()?;
/// let policy = EdgePolicy::builder()
///     .with_key("GITHUB_TOKEN", Binding::https("api.github.com"))
///     .with_tool("github", ["GITHUB_TOKEN"])
///     .build()?;
/// let edge = Edge::new("researcher", manager, policy)?;
///
/// let result = format!("token: {token}\n");
/// let mut stream = edge.to_model_stream();
/// let mut seen = String::new();
/// for piece in result.as_bytes().chunks(5) {
///     seen += &stream.push(std::str::from_utf8(piece).unwrap());
/// }
/// seen += &stream.finish();
/// assert_eq!(seen, format!("token: {}\n", edge.handle("GITHUB_TOKEN")?));
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Debug)]
pub struct ModelStream {
    stream: StreamRedactor,
}

impl ModelStream {
    /// Takes the next piece and returns what may go to the model now (possibly nothing).
    pub fn push(&mut self, piece: &str) -> String {
        self.stream.push(piece)
    }

    /// Like [`push`](ModelStream::push), appending to `out`.
    pub fn push_into(&mut self, piece: &str, out: &mut String) {
        self.stream.push_into(piece, out);
    }

    /// Ends the text and returns the rest; the stream can then be used for a new text.
    pub fn finish(&mut self) -> String {
        self.stream.finish()
    }

    /// Like [`finish`](ModelStream::finish), appending to `out`.
    pub fn finish_into(&mut self, out: &mut String) {
        self.stream.finish_into(out);
    }

    /// The number of bytes received and not yet given out.
    pub fn held_back(&self) -> usize {
        self.stream.held_back()
    }
}
