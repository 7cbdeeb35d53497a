//! [`StreamRedactor`]: redaction for text that arrives in pieces.

use std::fmt;
use std::sync::Arc;

use super::detection_line::{DETECT_LINE_CAP, Lines};
use super::hit::Hit;
use super::received::Received;
use super::redactor::{Detections, Redactor};
use super::region::{Region, add_detected_region, add_region};
use super::scan::{Engine, ScanState};
use super::sieve::Sieve;
use super::wrapped::WrapState;
use crate::error::{Error, ErrorKind, Result, quote_name};

/// Redacts a text that arrives in pieces, such as the tokens of a model's answer.
///
/// [`push`](StreamRedactor::push) returns the text that is safe to emit now and holds back only
/// the bytes that could still turn out to be part of a secret: in ordinary text, the end of the
/// current word. [`finish`](StreamRedactor::finish) returns the rest. Whatever the split, the
/// concatenated output equals [`Redactor::redact`] of the whole text.
///
/// The automaton state is kept between pieces, so held-back text is not scanned again however
/// small the pieces are (a piece in which something matches is scanned twice). Pieces of a few
/// hundred bytes or more (a log read in chunks) are searched with the same sieve as
/// [`Redactor::redact`], between their first and last separator.
///
/// With [`with_unknown_detection`](super::RedactorBuilder::with_unknown_detection) on, the stream
/// emits whole lines only: the detector runs on each line once its `\n` arrives, so the current
/// line is held back until then (at most 64 KiB, after which the line is cut as in
/// [`Redactor::redact`]).
///
/// ```
/// use keyward::{Redactor, SecretString};
///
/// let key = SecretString::from(format!("sk-proj-{}", "Ab3dEf6h".repeat(5)));
/// let redactor = Redactor::builder().with_secret("OPENAI_API_KEY", &key).build()?;
/// let mut stream = redactor.stream();
///
/// let reply = format!("Your key is {} - keep it safe.", key.expose_secret());
/// let mut out = String::new();
/// for token in reply.as_bytes().chunks(3) {
///     out += &stream.push(std::str::from_utf8(token).unwrap());
/// }
/// out += &stream.finish();
/// assert_eq!(out, "Your key is [REDACTED:OPENAI_API_KEY] - keep it safe.");
/// # Ok::<(), keyward::Error>(())
/// ```
pub struct StreamRedactor {
    redactor: Redactor,
    state: Option<ScanState>,
    /// The search for base64 and hex broken onto lines, if the redactor has one.
    wrap: Option<WrapState>,
    /// Text received; `buffer[emitted..]` is not emitted yet, `buffer[0]` is at absolute
    /// offset `base`. The emitted part is dropped now and then rather than at every piece, so
    /// small pieces do not move the held-back bytes around each time.
    buffer: Received,
    emitted: usize,
    base: usize,
    /// Merged hits inside `buffer`, sorted.
    regions: Vec<Region>,
    hits: Vec<Hit>,
    /// With detection on: absolute offset of the current, incomplete line, and how far from it
    /// the text is known to hold no `\n`. Nothing from `line_start` on is emitted.
    line_start: usize,
    searched: usize,
    /// With detection on: the absolute offset from which the text received is not scanned yet.
    /// While everything before the current line is emitted, nothing can be emitted until the
    /// line ends, so small pieces are only appended and the line is scanned at its end
    /// ([`push_detecting`](StreamRedactor::push_detecting)).
    unscanned: Option<usize>,
    /// Replacements emitted so far, and the distinct names they gave (`true`: detected).
    redactions: usize,
    found: Vec<(Arc<str>, bool)>,
    /// Whether short copies out may write past their end into `out`'s spare capacity
    /// ([`Received::copy_into`]); off for a buffer of our own that may be freed unwiped.
    over_copy: bool,
    /// Whether small pieces go through the sieve rather than the automaton (see
    /// [`push_sieved`](StreamRedactor::push_sieved)); `state` is then not kept up to date.
    sieving: bool,
    /// While sieving: the absolute offset just after the last separator, where the current
    /// segment starts, and of the next sampled position whose q-gram is not looked up yet.
    segment: usize,
    next_sample: usize,
}

impl fmt::Debug for StreamRedactor {
    // The held-back text may be the start of a secret: show its length only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamRedactor")
            .field("redactor", &self.redactor)
            .field("held_back", &self.held_back())
            .field("position", &(self.base + self.buffer.len()))
            .finish()
    }
}

impl Redactor {
    /// A [`StreamRedactor`] for text that arrives in pieces, such as model tokens.
    pub fn stream(&self) -> StreamRedactor {
        StreamRedactor::new(self.clone())
    }
}

impl StreamRedactor {
    /// A stream over `redactor`; the same as [`Redactor::stream`].
    pub fn new(redactor: Redactor) -> StreamRedactor {
        let state = redactor.engine().map(|e| e.start());
        let wrap = redactor
            .engine()
            .and_then(|e| e.wrapped())
            .map(|w| w.start());
        let mut stream = StreamRedactor {
            redactor,
            state,
            wrap,
            buffer: Received::new(),
            emitted: 0,
            base: 0,
            regions: Vec::new(),
            hits: Vec::new(),
            line_start: 0,
            searched: 0,
            unscanned: None,
            redactions: 0,
            found: Vec::new(),
            over_copy: true,
            sieving: false,
            segment: 0,
            next_sample: 0,
        };
        stream.sieve_from_the_start();
        stream
    }

    /// At the start of a text: sieving if the stream can.
    fn sieve_from_the_start(&mut self) {
        self.sieving = self.sieve().is_some();
        self.segment = 0;
        self.next_sample = 0;
    }

    /// The sieve small pieces may go through: the redactor's, unless it detects keys (which
    /// reads whole lines anyway).
    fn sieve(&self) -> Option<&Sieve> {
        if self.redactor.detects_unknown() {
            return None;
        }
        self.redactor.engine().and_then(|e| e.sieve())
    }

    /// Looks up the sampled q-grams from absolute offset `sample` on that lie whole in the
    /// buffer and start at or after `segment`: the next sample to look up when none is one of
    /// some form, `None` as soon as one is.
    #[inline(always)]
    fn clear_samples(&self, sieve: &Sieve, mut sample: usize, segment: usize) -> Option<usize> {
        let end = self.base + self.buffer.len();
        while sample + sieve.q() <= end {
            if sample >= segment && sieve.holds_gram(&self.buffer.as_bytes()[sample - self.base..])
            {
                return None;
            }
            sample += sieve.stride();
        }
        Some(sample)
    }

    /// Stops sieving: the automaton takes over from the start of the current segment, in the
    /// state the scan of every byte has after a separator.
    fn stop_sieving(&mut self) {
        self.sieving = false;
        if let (Some(engine), Some(state)) = (self.redactor.engine(), self.state.as_mut()) {
            engine.restart_at(state, self.segment);
        }
    }

    /// Whether short copies out may write past their end into the output's spare capacity
    /// (default on); off for a buffer of the crate's own (see [`Received::copy_into`]).
    pub(crate) fn with_over_copy(mut self, yes: bool) -> StreamRedactor {
        self.over_copy = yes;
        self
    }

    /// The redactor this stream uses.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// How many replacements this stream has emitted so far, over every text it was used for:
    /// non-zero means a secret was in the stream.
    pub fn redactions(&self) -> usize {
        self.redactions
    }

    /// The labels of the secrets replaced so far (for a detected one, its format), each once,
    /// in the order first emitted.
    pub fn found(&self) -> impl Iterator<Item = &str> {
        self.found.iter().map(|(label, _)| &**label)
    }

    /// Checks that nothing was redacted so far, for an agent that refuses a streamed answer as
    /// it refuses a whole one with [`Redactor::check`]. Call it after
    /// [`finish`](StreamRedactor::finish) to judge the whole text.
    ///
    /// ```
    /// use keyward::{ErrorKind, Redactor, SecretString};
    ///
    /// let key = SecretString::from(format!("sk-proj-{}", "Ab3dEf6h".repeat(5)));
    /// let redactor = Redactor::builder().with_secret("OPENAI_API_KEY", &key).build()?;
    /// let mut stream = redactor.stream();
    /// let _ = stream.push("Your key is ");
    /// let _ = stream.push(key.expose_secret());
    /// let _ = stream.finish();
    /// assert_eq!(stream.redactions(), 1);
    /// let err = stream.check().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Leak);
    /// assert!(err.to_string().contains("OPENAI_API_KEY"));
    /// # Ok::<(), keyward::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Leak`] naming the labels replaced so far (never the values).
    pub fn check(&self) -> Result<()> {
        if self.found.is_empty() {
            return Ok(());
        }
        let listed: Vec<String> = self
            .found
            .iter()
            .map(|(label, detected)| match detected {
                true => format!("{} (detected)", quote_name(label)),
                false => quote_name(label),
            })
            .collect();
        Err(Error::new(
            ErrorKind::Leak,
            format!(
                "potential secret leak detected in a stream ({} replaced): {}",
                self.redactions,
                listed.join(", ")
            ),
        ))
    }

    /// The number of bytes received and not yet emitted.
    pub fn held_back(&self) -> usize {
        self.buffer.len() - self.emitted
    }

    /// Takes the next piece of text and returns what is safe to emit now (possibly nothing).
    pub fn push(&mut self, piece: &str) -> String {
        let mut out = String::new();
        self.push_into(piece, &mut out);
        out
    }

    /// Like [`push`](StreamRedactor::push), appending to `out` instead of allocating.
    ///
    /// A short copy into `out` is made at a fixed size (16 bytes) and cut back, which is faster
    /// for model tokens: up to 16 bytes of the text received and not emitted yet may stay in
    /// `out`'s spare capacity, past its length, until something overwrites them, and go with it
    /// if `out` grows or is freed. They are the caller's own input; give `out` room enough
    /// beforehand and wipe it when done (`zeroize::Zeroizing<String>`) if nothing of the input
    /// may stay in freed memory.
    pub fn push_into(&mut self, piece: &str, out: &mut String) {
        if self.redactor.detects_unknown() {
            self.push_detecting(piece, out);
            return;
        }
        if self.sieving {
            let from = self.buffer.len();
            if piece.len() < Engine::SIEVED_PIECE {
                if self.push_sieved(piece, out) {
                    return;
                }
            } else {
                self.buffer.push_str(piece);
            }
            self.leave_sieving(from, out);
            return;
        }
        let (Some(engine), Some(state)) = (self.redactor.engine(), self.state.as_mut()) else {
            out.push_str(piece);
            return;
        };
        let at = self.base + self.buffer.len();
        // A long piece goes to the sieve (in `push_scanning`) rather than through the automaton.
        if self.regions.is_empty()
            && piece.len() < Engine::SIEVED_PIECE
            && engine.scan_quiet(state, piece.as_bytes(), at)
        {
            // Nothing matched and nothing may grow: emit what the automaton has left behind,
            // without the bookkeeping of hits.
            self.buffer.push_str(piece);
            let floor = self.base + self.emitted;
            let engine_safe = engine.pending_from(state, self.buffer.as_bytes(), self.base, floor);
            let mut wrap_pending = usize::MAX;
            let mut quiet = true;
            if let (Some(wrapped), Some(wrap)) = (engine.wrapped(), self.wrap.as_mut()) {
                quiet = wrapped.feed_quiet(wrap, piece.as_bytes(), at);
                if quiet {
                    wrap_pending = wrapped.pending_from(wrap);
                }
            }
            if !quiet {
                wrap_pending = self.feed_wrapped(at - self.base);
            }
            self.emit_before(engine_safe.min(wrap_pending), out);
            self.enter_sieving(at);
            return;
        }
        self.push_scanning(piece, out);
        self.enter_sieving(at);
    }

    /// Emits what lies before absolute offset `safe`, from which on nothing is final.
    #[inline(always)]
    fn emit_before(&mut self, safe: usize, out: &mut String) {
        if !self.regions.is_empty() {
            // Base64 or hex across a line break, or a hit found before.
            let cut = self.cut_before(safe);
            self.emit(cut, out);
            return;
        }
        let mut cut = (safe - self.base).max(self.emitted);
        while !self.buffer.is_char_boundary(cut) {
            cut -= 1;
        }
        // Unconditionally (often nothing): a piece that ends inside a word emits nothing, and
        // a branch on that would be mispredicted half the time.
        self.buffer
            .copy_into(self.emitted, cut, out, self.over_copy);
        self.emitted = cut;
        self.drop_emitted();
    }

    /// [`push_into`](StreamRedactor::push_into) of a small piece while sieving: looks up each
    /// sampled q-gram the piece completes and emits up to the last separator. Returns false,
    /// with the piece appended and nothing else done, when a q-gram is one of some form or the
    /// current segment grew too long to hold back: the caller then
    /// [leaves the sieve](StreamRedactor::leave_sieving).
    ///
    /// Why that emits what the scan of every byte would, in the end: a hit never crosses a
    /// separator and always contains a sampled q-gram whole (see [`Sieve`]), so a segment
    /// whose sampled q-grams are none of any form holds no hit, and a q-gram that starts before
    /// a segment and ends in it holds the separator, so is none either. The text before the
    /// current segment is final; the segment itself is held back, which in prose is the end of
    /// the current word, as the automaton would hold it back.
    #[inline(always)]
    fn push_sieved(&mut self, piece: &str, out: &mut String) -> bool {
        let Some(engine) = self.redactor.engine() else {
            return false;
        };
        let Some(sieve) = engine.sieve() else {
            return false;
        };
        let at = self.base + self.buffer.len();
        let end = at + piece.len();
        self.buffer.push_str(piece);
        let Some(next_sample) = self.clear_samples(sieve, self.next_sample, self.segment) else {
            return false;
        };
        self.next_sample = next_sample;
        let mut segment = self.segment;
        if piece.len() <= 8 {
            // A model's token: without a branch per byte, as whether it holds a space is a
            // coin toss for the branch predictor.
            for (k, &byte) in piece.as_bytes().iter().enumerate() {
                segment = if sieve.is_separator(byte) {
                    at + k + 1
                } else {
                    segment
                };
            }
        } else if let Some(k) = piece.bytes().rposition(|b| sieve.is_separator(b)) {
            segment = at + k + 1;
        }
        // A run of key characters without a separator: the automaton bounds what it holds.
        if end - segment > Self::LONGEST_SEGMENT {
            return false;
        }
        self.segment = segment;
        let mut wrap_pending = usize::MAX;
        if let (Some(wrapped), Some(wrap)) = (engine.wrapped(), self.wrap.as_mut()) {
            wrap_pending = if wrapped.feed_quiet(wrap, piece.as_bytes(), at) {
                wrapped.pending_from(wrap)
            } else {
                self.feed_wrapped(at - self.base)
            };
        }
        self.emit_before(self.segment.min(wrap_pending), out);
        true
    }

    /// The longest segment a sieving stream holds back before it hands it to the automaton,
    /// which bounds its hold-back by the longest pattern.
    const LONGEST_SEGMENT: usize = 1024;

    /// Stops sieving: the text from the current segment on, up to the piece that starts at
    /// buffer index `piece_at` (already appended), goes through the automaton from its start
    /// state (the state after the separator before the segment), then the piece goes through
    /// the search for wrapped encodings, and what is final is emitted.
    #[inline(never)]
    fn leave_sieving(&mut self, piece_at: usize, out: &mut String) {
        self.stop_sieving();
        let at = self.base + piece_at;
        let scan_from = self.segment - self.base;
        if let Some(safe) = self.scanning().scan_from(scan_from, piece_at, false) {
            let cut = self.cut_before(safe);
            self.emit(cut, out);
        }
        self.enter_sieving(at);
    }

    /// Goes back to sieving after a piece that started at absolute offset `at` went through
    /// the automaton, if the piece holds a separator and none of the sampled q-grams after the
    /// last one is one of some form (else the automaton, which holds them, goes on).
    fn enter_sieving(&mut self, at: usize) {
        let Some(sieve) = self.sieve() else {
            return;
        };
        // What of the piece was emitted may be dropped from the buffer already.
        let from = at.max(self.base);
        let text = &self.buffer.as_bytes()[from - self.base..];
        let Some(k) = text.iter().rposition(|&b| sieve.is_separator(b)) else {
            return;
        };
        let segment = from + k + 1;
        let first_sample = segment.div_ceil(sieve.stride()) * sieve.stride();
        let Some(next_sample) = self.clear_samples(sieve, first_sample, segment) else {
            return;
        };
        self.sieving = true;
        self.segment = segment;
        self.next_sample = next_sample;
    }

    /// [`Scanning::feed_wrapped`].
    fn feed_wrapped(&mut self, from: usize) -> usize {
        self.scanning().feed_wrapped(from)
    }

    /// The parts the search for registered secrets reads and updates, borrowed apart from the
    /// rest of the stream.
    fn scanning(&mut self) -> Scanning<'_> {
        Scanning {
            redactor: &self.redactor,
            buffer: &self.buffer,
            base: self.base,
            floor: self.base + self.emitted,
            state: &mut self.state,
            wrap: &mut self.wrap,
            hits: &mut self.hits,
            regions: &mut self.regions,
        }
    }

    /// [`push_into`](StreamRedactor::push_into) for a piece in which something matches, or
    /// while a hit or a fragment candidate is pending: the piece joins the held-back text and
    /// the full scan runs over it. Out of line, so the common path stays small.
    #[inline(never)]
    fn push_scanning(&mut self, piece: &str, out: &mut String) {
        if let Some(safe) = self.scan_appended(piece, true) {
            let cut = self.cut_before(safe);
            self.emit(cut, out);
        }
    }

    /// [`push_into`](StreamRedactor::push_into) with detection on: as without, and nothing is
    /// emitted past the last complete line, whose detections are added first.
    ///
    /// While everything before the current line is emitted, a piece that ends no line (and
    /// keeps the line within the detector's cap, past which it is cut) can change nothing that
    /// is emitted now: it is appended, and scanned with the rest of the line when the line
    /// ends. A stream of model tokens thus costs an append per token and one search per line.
    #[inline(never)]
    fn push_detecting(&mut self, piece: &str, out: &mut String) {
        let end = self.base + self.buffer.len() + piece.len();
        if self.base + self.emitted == self.line_start
            && end - self.line_start <= DETECT_LINE_CAP
            && memchr::memchr(b'\n', piece.as_bytes()).is_none()
        {
            self.unscanned.get_or_insert(self.base + self.buffer.len());
            self.buffer.push_str(piece);
            return;
        }
        let from = self.unscanned_from();
        self.buffer.push_str(piece);
        let (line_start, searched) = (self.line_start, self.searched);
        let scanning = self.scanning();
        let redactor = scanning.redactor;
        let lines = held_lines(scanning.buffer, scanning.base, line_start, searched, false);
        // With parallel detection, a long piece is searched for both at once.
        let (safe, next, detections) =
            redactor.detect_lines_beside(lines, || scanning.scan_from(from, from, false));
        self.add_detections(next, detections);
        let safe = safe.unwrap_or(usize::MAX);
        let cut = self.cut_before(safe.min(self.line_start));
        self.emit(cut, out);
    }

    /// The buffer index the scan has to take up from: where the unscanned text starts, or
    /// the end of the buffer.
    fn unscanned_from(&mut self) -> usize {
        self.unscanned
            .take()
            .map_or(self.buffer.len(), |at| at - self.base)
    }

    /// Appends `piece` to the held-back text and runs the full scan over it
    /// ([`Scanning::scan_from`]).
    fn scan_appended(&mut self, piece: &str, lazily: bool) -> Option<usize> {
        let from = self.buffer.len();
        self.buffer.push_str(piece);
        self.scanning().scan_from(from, from, lazily)
    }

    /// Runs the detector on every line completed since the last call (and, at the end of the
    /// text, on the last line), adding what it finds to the regions.
    fn detect_lines(&mut self, ended: bool) {
        let lines = held_lines(
            &self.buffer,
            self.base,
            self.line_start,
            self.searched,
            ended,
        );
        let ((), next, detections) = self.redactor.detect_lines_beside(lines, || ());
        self.add_detections(next, detections);
    }

    /// Adds what detection found to the regions; the next line to search starts at buffer
    /// index `next`.
    fn add_detections(&mut self, next: usize, detections: Detections) {
        for (range, detected) in detections {
            add_detected_region(&mut self.regions, range, detected);
        }
        self.line_start = self.base + next;
        self.searched = self.base + self.buffer.len();
    }

    /// The buffer index to emit up to, given that nothing from absolute offset `safe` on is
    /// final: before `safe`, on a character boundary, and not inside a region that may still
    /// change, except at the end of a piece of it that is complete ([`Region`]: a region that
    /// started before `safe` cannot grow to the left, so its pieces that end before `safe` are
    /// final). That is what bounds the hold-back on a run of overlapping hits.
    #[inline]
    fn cut_before(&self, safe: usize) -> usize {
        let mut cut = safe;
        for region in self.regions.iter().rev() {
            if region.range.end <= safe {
                break;
            }
            cut = cut.min(self.last_piece_end_before(region, safe));
        }
        let mut cut = cut - self.base;
        while !self.buffer.is_char_boundary(cut) {
            cut -= 1;
        }
        cut
    }

    /// The end of the last complete piece of `region` that ends at or before `safe`, or the
    /// region's start if there is none.
    fn last_piece_end_before(&self, region: &Region, safe: usize) -> usize {
        let (piece_len, text) = (self.redactor.piece_len(), self.buffer.as_str());
        let mut end = region.range.start;
        if safe < end + piece_len {
            return end;
        }
        loop {
            let next = region.piece_end(end, piece_len, text, self.base);
            if next > safe || next == region.range.end {
                return end;
            }
            end = next;
        }
    }

    /// Ends the text: returns everything held back, redacted. The stream can then be used for
    /// a new text.
    pub fn finish(&mut self) -> String {
        let mut out = String::new();
        self.finish_into(&mut out);
        out
    }

    /// Like [`finish`](StreamRedactor::finish), appending to `out`.
    pub fn finish_into(&mut self, out: &mut String) {
        if self.unscanned.is_some() {
            let from = self.unscanned_from();
            self.scanning().scan_from(from, from, false);
        }
        if self.sieving {
            // The held-back segment through the automaton, which `finish` ends.
            self.stop_sieving();
            if let (Some(engine), Some(state)) = (self.redactor.engine(), self.state.as_mut()) {
                engine.scan(
                    state,
                    self.buffer.as_bytes(),
                    self.base,
                    self.segment - self.base,
                    &mut self.hits,
                );
            }
        }
        if let (Some(engine), Some(state)) = (self.redactor.engine(), self.state.as_mut()) {
            engine.finish(state, self.buffer.as_bytes(), self.base, &mut self.hits);
            for hit in self.hits.drain(..) {
                add_region(&mut self.regions, hit);
            }
        }
        if self.redactor.detects_unknown() {
            self.detect_lines(true);
        }
        self.emit(self.buffer.len(), out);
        self.state = self.redactor.engine().map(|e| e.start());
        self.wrap = self
            .redactor
            .engine()
            .and_then(|e| e.wrapped())
            .map(|w| w.start());
        self.buffer.clear();
        self.emitted = 0;
        self.base = 0;
        self.line_start = 0;
        self.searched = 0;
        self.sieve_from_the_start();
    }

    /// Emits `buffer[emitted..end]`, replacing the regions inside it; they are final. `end` may
    /// fall inside a region only at the end of one of its pieces: the pieces before it are
    /// emitted and the region keeps the rest.
    fn emit(&mut self, end: usize, out: &mut String) {
        if end <= self.emitted {
            return;
        }
        let text = &self.buffer.as_str()[self.emitted..end];
        if self.regions.is_empty() {
            out.push_str(text);
        } else {
            let end_abs = self.base + end;
            let mut done = self.regions.partition_point(|r| r.range.end <= end_abs);
            if let Some(open) = self.regions.get_mut(done)
                && open.range.start < end_abs
            {
                let front = open.split_off_front(end_abs);
                self.regions.insert(done, front);
                done += 1;
            }
            let (redactor, found) = (&self.redactor, &mut self.found);
            let mut redactions = 0;
            redactor.render(
                text,
                self.base + self.emitted,
                &self.regions[..done],
                out,
                |sources| {
                    redactions += 1;
                    for source in sources {
                        let name = redactor.source_label(source);
                        if !found.contains(&name) {
                            found.push(name);
                        }
                    }
                },
            );
            self.redactions += redactions;
            self.regions.drain(..done);
        }
        self.emitted = end;
        self.drop_emitted();
    }

    /// Drops the emitted text once it is at least half of the buffer: amortised O(1) a byte.
    #[inline]
    fn drop_emitted(&mut self) {
        // While sieving, the current segment stays: its q-grams are read from the buffer, and
        // leaving the sieve scans it.
        let drop = if self.sieving {
            self.emitted.min(self.segment - self.base)
        } else {
            self.emitted
        };
        if drop >= 4096 && drop * 2 >= self.buffer.len() {
            self.buffer.drop_front(drop);
            self.base += drop;
            self.emitted -= drop;
        }
    }
}

/// The lines of a stream's `buffer` (which starts at absolute offset `base`) that detection has
/// still to take: from the current line on, which starts at absolute offset `line_start` and
/// holds no `\n` before absolute offset `searched`; the last one `complete` at the end of the
/// text. (A function, not a method: [`push_detecting`](StreamRedactor::push_detecting) calls it
/// on the buffer while the scan state is borrowed apart.)
fn held_lines(
    buffer: &Received,
    base: usize,
    line_start: usize,
    searched: usize,
    complete: bool,
) -> Lines<'_> {
    Lines {
        text: buffer.as_str(),
        start: line_start - base,
        searched: searched - base,
        complete,
        offset: base,
    }
}

/// What the search for registered secrets reads and updates of a [`StreamRedactor`], borrowed
/// apart from the rest: detection can read the buffer meanwhile.
struct Scanning<'s> {
    redactor: &'s Redactor,
    buffer: &'s Received,
    base: usize,
    /// The absolute offset of the first byte not emitted.
    floor: usize,
    state: &'s mut Option<ScanState>,
    wrap: &'s mut Option<WrapState>,
    hits: &'s mut Vec<Hit>,
    regions: &'s mut Vec<Region>,
}

impl Scanning<'_> {
    /// Runs the full scan over the buffer, adding its hits to the regions: the automaton takes
    /// it from index `scan_from`, the search for wrapped encodings from `wrap_from`. Returns
    /// the absolute offset from which hits found later may start ([`Engine::pending_from`]; a
    /// region ending after it may still grow), or `usize::MAX` without an engine. With
    /// `lazily`, returns `None` instead when nothing that offset depends on changed, so
    /// nothing new can be emitted.
    fn scan_from(mut self, scan_from: usize, wrap_from: usize, lazily: bool) -> Option<usize> {
        let wrap_pending = self.feed_wrapped(wrap_from);
        let (Some(engine), Some(state)) = (self.redactor.engine(), self.state.as_mut()) else {
            return Some(usize::MAX);
        };
        let text = self.buffer.as_bytes();
        engine.scan_piece(state, text, self.base, scan_from, self.hits);
        for hit in self.hits.drain(..) {
            add_region(self.regions, hit);
        }
        if lazily && self.regions.is_empty() && !engine.may_have_moved(state) {
            // Nothing became safe: the text since the last start state is still pending.
            return None;
        }
        Some(
            engine
                .pending_from(state, text, self.base, self.floor)
                .min(wrap_pending),
        )
    }

    /// Feeds the buffer from index `from` on to the search for wrapped encodings, adding what
    /// it finds to the regions; returns the first absolute offset a wrapped hit found later
    /// could start at (`usize::MAX` without the search).
    fn feed_wrapped(&mut self, from: usize) -> usize {
        let (Some(wrapped), Some(wrap)) = (
            self.redactor.engine().and_then(|e| e.wrapped()),
            self.wrap.as_mut(),
        ) else {
            return usize::MAX;
        };
        wrapped.feed(wrap, self.buffer.as_bytes(), self.base, from, self.hits);
        for hit in self.hits.drain(..) {
            add_region(self.regions, hit);
        }
        wrapped.pending_from(wrap)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::SecretString;

    /// `text` pushed through a stream of `redactor` in pieces cut at `cuts` (byte offsets,
    /// any order, moved down to character boundaries), then finished.
    fn streamed(redactor: &Redactor, text: &str, cuts: &[usize]) -> String {
        let mut points: Vec<usize> = cuts
            .iter()
            .map(|&c| {
                let mut c = c.min(text.len());
                while !text.is_char_boundary(c) {
                    c -= 1;
                }
                c
            })
            .collect();
        points.sort_unstable();
        let mut stream = redactor.stream();
        let mut out = String::new();
        let mut at = 0;
        for p in points {
            stream.push_into(&text[at..p], &mut out);
            at = p;
        }
        stream.push_into(&text[at..], &mut out);
        stream.finish_into(&mut out);
        out
    }

    #[test]
    fn ordinary_words_are_not_held_back_past_a_space() {
        let key = SecretString::from(format!("sk-proj-{}", "Qx7mWv2k".repeat(5)));
        let redactor = Redactor::builder().with_secret("K", &key).build().unwrap();
        let mut stream = redactor.stream();
        let out = stream.push("hello world, this is fine. ");
        assert_eq!(out, "hello world, this is fine. ");
        assert_eq!(stream.held_back(), 0);
    }

    /// Prose goes through the sieve; a key makes the stream leave it for the automaton, and
    /// the stream comes back to it after the key's word.
    #[test]
    fn a_stream_sieves_ordinary_text_and_scans_around_a_key() {
        let key = SecretString::from(format!("sk-proj-{}", "Qx7mWv2k".repeat(5)));
        let redactor = Redactor::builder().with_secret("K", &key).build().unwrap();
        let mut stream = redactor.stream();
        let mut out = String::new();
        for word in "It is a fine day for a walk along the river. ".split_inclusive(' ') {
            stream.push_into(word, &mut out);
            assert!(stream.sieving, "left the sieve at {word:?}");
        }
        for piece in key.expose_secret().as_bytes().chunks(3) {
            stream.push_into(std::str::from_utf8(piece).unwrap(), &mut out);
        }
        assert!(!stream.sieving);
        stream.push_into(" and on", &mut out);
        assert!(stream.sieving);
        stream.finish_into(&mut out);
        assert_eq!(
            out,
            "It is a fine day for a walk along the river. [REDACTED:K] and on"
        );
        // a new text starts sieving again
        assert!(stream.sieving);
    }

    #[test]
    fn a_key_split_in_one_byte_pieces_is_redacted() {
        let key = SecretString::from(format!("sk-proj-{}", "Qx7mWv2k".repeat(5)));
        let redactor = Redactor::builder().with_secret("K", &key).build().unwrap();
        let mut stream = redactor.stream();
        let text = format!("a {} b", key.expose_secret());
        let mut out = String::new();
        for c in text.chars() {
            let piece = stream.push(&c.to_string());
            assert!(!piece.contains("Qx7m"), "leaked part of the key: {piece:?}");
            out += &piece;
        }
        out += &stream.finish();
        assert_eq!(out, "a [REDACTED:K] b");
    }

    /// The stream guarantee for every rule of the rule set: keys generated from each shape,
    /// nobody registered them, cut into pieces of every size from 1 to 13 bytes, come out as
    /// the one-shot redaction does.
    #[test]
    fn keys_of_every_rule_come_out_of_any_pieces_as_in_one_shot() {
        use crate::format::KeyFormat;
        use crate::format::rule_tests::generated_keys;

        let redactor = Redactor::builder()
            .with_unknown_detection(true)
            .build()
            .unwrap();
        let mut redacted = 0;
        let mut total = 0;
        for &format in KeyFormat::ALL {
            for key in generated_keys(format, 4) {
                let text = format!("log: calling with {key}\nnext line\n");
                let whole = redactor.redact(&text).into_owned();
                total += 1;
                if !whole.contains(key.as_str()) {
                    redacted += 1;
                }
                for size in 1..=13 {
                    let cuts: Vec<usize> = (size..text.len()).step_by(size).collect();
                    let out = streamed(&redactor, &text, &cuts);
                    assert_eq!(out, whole, "{format:?} in pieces of {size}");
                }
            }
        }
        // Placeholders drawn by the generator are rightly left alone; nearly all are keys.
        assert!(redacted * 10 >= total * 9, "{redacted} of {total} redacted");
    }

    #[test]
    fn a_stream_is_reusable_after_finish() {
        let key = SecretString::from("correct-horse-battery-staple");
        let redactor = Redactor::builder().with_secret("PW", &key).build().unwrap();
        let mut stream = redactor.stream();
        for _ in 0..2 {
            let mut out = stream.push("pw: correct-horse-");
            out += &stream.push("battery-staple!");
            out += &stream.finish();
            assert_eq!(out, "pw: [REDACTED:PW]!");
        }
    }

    mod user_rules {
        use proptest::prelude::*;

        use super::*;
        use crate::guard::{Detector, RuleSet};

        const RULES: &str = "[acme-token]\nkeywords = acme_\nshape = acme_[A-Za-z0-9]{24}\n\
                             [near-code]\nkeywords = code\nshape = q[0-9]{8}x\n\
                             [anywhere]\nshape = zz[A-Z]{6}zz\n";

        fn redactor() -> Redactor {
            let rules = RuleSet::builder()
                .with_rules_text("mine.rules", RULES)
                .build()
                .unwrap();
            let detector = Detector::builder().with_rules(rules).build().unwrap();
            Redactor::builder().with_detector(detector).build().unwrap()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            /// What the user's rules find is redacted from a stream whatever the split, as one
            /// piece, exactly as `redact` does on the whole text.
            #[test]
            fn any_split_redacts_as_the_whole_text(
                parts in proptest::collection::vec(
                    prop_oneof![
                        "acme_[A-Za-z0-9]{24}",
                        "code q[0-9]{8}x",
                        "zz[A-Z]{6}zz",
                        "[a-z ]{0,12}",
                        Just("\n".to_owned()),
                        Just(" ACME_".to_owned()),
                    ],
                    0..24,
                ),
                cuts in proptest::collection::vec(0..400usize, 0..8),
            ) {
                let text = parts.concat();
                let redactor = redactor();
                let whole = redactor.redact(&text);
                let out = streamed(&redactor, &text, &cuts);
                prop_assert_eq!(&out, &whole);
                // A key found alone (not a placeholder such as `zzAAAAAAzz`) never shows.
                for part in &parts {
                    if part.len() > 8 && redactor.redact(part) != *part {
                        prop_assert!(!out.contains(part.as_str()), "{part} in {out}");
                    }
                }
            }
        }

        #[test]
        fn a_rule_match_is_labelled_with_the_rule_id() {
            let key = format!("acme_{}", "Qz7Xw2Rt".repeat(3));
            let mut stream = redactor().stream();
            let mut out = String::new();
            for c in format!("use {key} now\n").chars() {
                out += &stream.push(&c.to_string());
            }
            out += &stream.finish();
            assert_eq!(out, "use [REDACTED:acme-token] now\n");
        }
    }
}
