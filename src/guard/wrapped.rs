//! [`Wrapped`]: base64 and hex broken onto lines.
//!
//! Encoders wrap long output: GNU `base64` and MIME at 76 characters (MIME with `\r\n`), PEM and
//! `openssl base64` at 64, `xxd -p` at 60 hex digits. An agent's shell tool prints exactly that,
//! so a registered key's base64 or hex form must be found however its lines are broken. The
//! main automaton sees the line breaks and misses such a form; this search joins the lines.
//!
//! A *line break* here is `\n`, `\r\n`, or their JSON-escaped forms `\n` and `\r\n` written as
//! two characters each (a shell's output inside a JSON tool result), followed by up to
//! [`MAX_INDENT`] spaces or tabs (indented blocks in YAML or code). When such a break sits
//! between two characters of the base64/hex alphabet, the search treats the text on both sides
//! as one word, at any line width. Only matches that cross a break are reported; the rest are
//! found by the main automaton.
//!
//! Cost: the search reads the text 64 bytes at a time for line-break characters, looks at the
//! byte before each, and steps the automaton only through words joined across a break that the
//! engine's sieve cannot rule out (the q-grams around the break are none of any pattern),
//! starting at most one pattern length before the break; ordinary text is not scanned twice.

use std::collections::VecDeque;
use std::sync::Arc;

use aho_corasick::automaton::StateID;
use zeroize::Zeroizing;

use super::encode::Encoding;
use super::hit::{Hit, Origin};
use super::patterns::Patterns;
use super::sieve::{MAX_Q, Sieve};

/// The most spaces or tabs after a line break that still join two lines; bounds what a stream
/// holds back while it waits for the next line.
pub(crate) const MAX_INDENT: usize = 256;

/// Bytes that may occur in a base64 (standard or URL-safe) or hex pattern. A `static`, not a
/// `const`: indexed at run time, a constant table was copied onto the stack (256 bytes) at
/// each use, once per line break of the text.
static ALPHABET: [bool; 256] = ALPHABET_TABLE;

const ALPHABET_TABLE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_');
        b += 1;
    }
    table
};

/// [`ALPHABET`] bytes, line-break characters and the rest, for [`Wrapped::feed_quiet`].
const ALPHA: u8 = 0;
const BREAK: u8 = 1;
static CLASS: [u8; 256] = {
    let mut table = [2u8; 256];
    let mut b = 0;
    while b < 256 {
        if ALPHABET_TABLE[b] {
            table[b] = ALPHA;
        }
        b += 1;
    }
    table[b'\n' as usize] = BREAK;
    table[b'\r' as usize] = BREAK;
    table[b'\\' as usize] = BREAK;
    table
};

/// The shortest run of alphabet bytes that joins the next line when it follows a space or tab
/// on a line that holds other text before it: the first line of an encoder's output after a
/// label (`token: $(base64 key.bin)`) is as long as the encoder's lines (76 for `base64` and
/// MIME, 64 for PEM, 60 for `xxd -p`), the last word of a line of prose is shorter, and a stream
/// holds back a run that may join until the next line shows whether it does.
const LONG_RUN: usize = 16;

/// How many bytes [`line_break_mask`] looks at.
const BLOCK: usize = 64;

/// After this many blocks without a line-break character in a row, the search goes on with
/// `memchr3`.
const QUIET_BLOCKS: usize = 2;

/// Bit `i` set for each line-break character (`\n`, `\r`, `\\`) among the first [`BLOCK`]
/// bytes of `text`. Lines of code and prose are shorter than a `memchr3` call pays off for
/// (about 10 ns a call on short lines); this loop the compiler turns into vector compares, and
/// the multiplication gathers each eight bytes' flags into a byte.
#[inline]
fn line_break_mask(text: &[u8]) -> u64 {
    let mut padded = [0u8; BLOCK];
    let block: &[u8; BLOCK] = match text.first_chunk() {
        Some(block) => block,
        None => {
            padded[..text.len()].copy_from_slice(text);
            &padded
        }
    };
    let mut flags = [0u8; BLOCK];
    for (flag, &byte) in flags.iter_mut().zip(block) {
        *flag = u8::from((byte == b'\n') | (byte == b'\r') | (byte == b'\\'));
    }
    let (eights, _) = flags.as_chunks::<8>();
    let mut mask = 0;
    for (k, &eight) in eights.iter().enumerate() {
        // Bit 0 of byte j lands on bit 56 + j: the flags, in order, in the top byte.
        mask |= (u64::from_le_bytes(eight).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    mask
}

/// The search for the encodings that get wrapped, with the engine's automaton: it holds every
/// pattern, and only the base64 and hex ones count here.
pub(crate) struct Wrapped {
    patterns: Arc<Patterns>,
    /// The length of the longest base64 or hex pattern.
    max_len: usize,
    /// The engine's sieve, whose table holds every q-gram of every pattern: it tells most line
    /// breaks no pattern crosses (see [`may_cross`](Wrapped::may_cross)).
    sieve: Option<Arc<Sieve>>,
}

impl Wrapped {
    /// The search for the base64 and hex patterns among `patterns`, compiled (with the rest)
    /// into `compiled`, with the `sieve` of all of them if there is one; `None` if there are
    /// no base64 or hex patterns.
    pub(crate) fn new(
        patterns: &[(Vec<u8>, Origin)],
        compiled: Arc<Patterns>,
        sieve: Option<Arc<Sieve>>,
    ) -> Option<Wrapped> {
        let max_len = patterns
            .iter()
            .filter(|(_, origin)| is_wrappable(origin))
            .map(|(pattern, _)| pattern.len())
            .max()?;
        Some(Wrapped {
            patterns: compiled,
            max_len,
            sieve,
        })
    }

    /// The same search, stepping the automaton through every joined word: what
    /// [`may_cross`](Wrapped::may_cross) must not change, for the tests.
    #[cfg(test)]
    pub(crate) fn without_sieve(&self) -> Wrapped {
        Wrapped {
            patterns: Arc::clone(&self.patterns),
            max_len: self.max_len,
            sieve: None,
        }
    }

    /// A search positioned before the first byte of a text.
    pub(crate) fn start(&self) -> WrapState {
        WrapState {
            pos: 0,
            run_start: 0,
            eligible: true,
            blank: true,
            mode: Mode::Run,
            sid: self.patterns.automaton.start(),
            joined: 0,
            last_start: 0,
            anchors: VecDeque::new(),
        }
    }

    /// Feeds `text[from..]`, at absolute offset `base + from`, to the search, adding a hit for
    /// every pattern found across a line break. `text` must hold the bytes from
    /// [`pending_from`](Wrapped::pending_from) on, as it was before this call.
    pub(crate) fn feed(
        &self,
        state: &mut WrapState,
        text: &[u8],
        base: usize,
        from: usize,
        hits: &mut Vec<Hit>,
    ) {
        let mut i = from;
        while i < text.len() {
            if let Mode::Run = state.mode {
                // Outside a joined word only a line break right after a run can start one:
                // jump to the next.
                let Some(at) = state.skip_to_run_end(text, base, i) else {
                    break;
                };
                i = at;
            }
            self.step(state, text, base, i, hits);
            i += 1;
        }
        state.pos = base + text.len();
    }

    /// [`feed`](Wrapped::feed) one byte at a time, with no jump: what `feed` must find, for
    /// the tests.
    #[cfg(test)]
    pub(crate) fn feed_by_byte(
        &self,
        state: &mut WrapState,
        text: &[u8],
        base: usize,
        from: usize,
        hits: &mut Vec<Hit>,
    ) {
        for i in from..text.len() {
            self.step(state, text, base, i, hits);
        }
        state.pos = base + text.len();
    }

    /// [`feed`](Wrapped::feed) for a stream's small piece `piece`, at absolute offset `at`, in
    /// the common case: outside a joined word, with no line-break character in the piece. Then
    /// only where the last run of alphabet bytes starts changes, found in one branch-free pass.
    /// Returns false, changing nothing, otherwise; the caller then runs `feed`.
    #[inline]
    pub(crate) fn feed_quiet(&self, state: &mut WrapState, piece: &[u8], at: usize) -> bool {
        if !matches!(state.mode, Mode::Run) {
            return false;
        }
        let mut breaks = false;
        let mut last_other = usize::MAX;
        for (i, &byte) in piece.iter().enumerate() {
            let class = CLASS[usize::from(byte)];
            breaks |= class == BREAK;
            last_other = if class == ALPHA { last_other } else { i };
        }
        if breaks {
            return false;
        }
        if last_other != usize::MAX {
            let byte = piece[last_other];
            if state.blank || is_space(byte) {
                // At the start of a line, or a space: whether the run may join depends on the
                // whole line so far.
                state.note_run(&piece[..=last_other], at);
            } else {
                state.eligible = true;
                state.run_start = at + last_other + 1;
            }
        }
        state.pos = at + piece.len();
        true
    }

    /// Takes `text[i]` in any mode.
    fn step(&self, state: &mut WrapState, text: &[u8], base: usize, i: usize, hits: &mut Vec<Hit>) {
        let byte = text[i];
        let at = base + i;
        match state.mode {
            Mode::Run => {
                if state.run_start < at
                    && state.may_join(at)
                    && let Some(gap) = Gap::start(byte)
                {
                    state.mode = Mode::Gap {
                        run_end: at,
                        gap,
                        active: false,
                    };
                } else {
                    state.take_outside_word(byte, at);
                }
            }
            Mode::Gap {
                run_end,
                gap,
                active,
            } => match gap.next(byte) {
                Step::Continue(gap) => {
                    state.mode = Mode::Gap {
                        run_end,
                        gap,
                        active,
                    }
                }
                Step::Joined => {
                    if !active {
                        if !self.may_cross(text, base, state.run_start, run_end, at) {
                            // The word after the break starts a run of its own, on a new line.
                            state.deactivate(at, true);
                            return;
                        }
                        self.activate(state, text, base, run_end);
                    }
                    state.anchors.push_back((state.joined, at));
                    state.mode = Mode::Active;
                    self.advance(state, byte, at, hits);
                }
                Step::Broken => {
                    // Not a line break between two words: take the byte afresh, on a new line
                    // if the break got that far.
                    state.deactivate(at, matches!(gap, Gap::Indent(_)));
                    self.step(state, text, base, i, hits);
                }
            },
            Mode::Active => {
                if ALPHABET[usize::from(byte)] {
                    self.advance(state, byte, at, hits);
                } else if let Some(gap) = Gap::start(byte) {
                    state.mode = Mode::Gap {
                        run_end: at,
                        gap,
                        active: true,
                    };
                } else {
                    state.deactivate(at, false);
                    state.take_outside_word(byte, at);
                }
            }
        }
    }

    /// Whether a pattern may cross the line break between the run of alphabet bytes
    /// `run_start..run_end` and the word that starts at `at` after it (absolute offsets; `text`
    /// starts at `base`). A pattern crossing the break holds, whole, one of the q-grams of the
    /// joined text that start less than `q` bytes before the break and end after it (it is at
    /// least `q` long, with a byte on either side), and the sieve's table holds every q-gram of
    /// every pattern: if none of those is in it, nothing crosses. True when that cannot be told:
    /// no sieve, or the word after the break not known for `q - 1` bytes (the text ends, or
    /// another line break follows it).
    fn may_cross(
        &self,
        text: &[u8],
        base: usize,
        run_start: usize,
        run_end: usize,
        at: usize,
    ) -> bool {
        let Some(sieve) = &self.sieve else {
            return true;
        };
        let q = sieve.q();
        // The text around the break may be part of a secret: wiped after the look-up.
        let mut joined = Zeroizing::new([0u8; 2 * MAX_Q]);
        let before = (run_end - run_start).min(q - 1);
        joined[..before].copy_from_slice(&text[run_end - before - base..run_end - base]);
        let mut len = before;
        let mut word_ends = false;
        for &byte in text[at - base..].iter().take(q - 1) {
            if ALPHABET[usize::from(byte)] {
                joined[len] = byte;
                len += 1;
            } else if CLASS[usize::from(byte)] == BREAK {
                return true;
            } else {
                word_ends = true;
                break;
            }
        }
        if !word_ends && len - before < q - 1 {
            // The word may go on in text not received yet.
            return true;
        }
        (0..before).any(|p| p + q <= len && sieve.holds_gram(&joined[p..]))
    }

    /// Starts a joined word: steps the automaton through the end of the run before the first
    /// break, as much of it as a pattern crossing the break can start in.
    fn activate(&self, state: &mut WrapState, text: &[u8], base: usize, run_end: usize) {
        let from = state
            .run_start
            .max(run_end.saturating_sub(self.max_len.saturating_sub(1)));
        state.sid = self.patterns.automaton.start();
        state.joined = 0;
        state.last_start = 0;
        state.anchors.clear();
        state.anchors.push_back((0, from));
        for (k, &byte) in text[from - base..run_end - base].iter().enumerate() {
            // No hit can end here: it would not cross a break.
            state.sid = self.patterns.automaton.next_state(state.sid, byte);
            state.joined += 1;
            if state.sid == self.patterns.automaton.start() {
                state.last_start = state.joined;
            }
            debug_assert!(from + k < run_end);
        }
    }

    /// Steps the automaton over one alphabet byte of a joined word, at absolute offset `at`.
    fn advance(&self, state: &mut WrapState, byte: u8, at: usize, hits: &mut Vec<Hit>) {
        let automaton = &self.patterns.automaton;
        state.sid = automaton.next_state(state.sid, byte);
        state.joined += 1;
        if state.sid == automaton.start() {
            state.last_start = state.joined;
        }
        let joined = state.joined;
        let anchors = &state.anchors;
        automaton.matches(state.sid, |pid, len| {
            let start = joined - len;
            // Only a match that crosses a break: one whose start lies before the last anchor
            // at or before its end.
            if anchors.back().is_some_and(|&(j, _)| j <= start) {
                return;
            }
            let range = original(anchors, start)..at + 1;
            for origin in self.patterns.origins(pid) {
                if let Origin::Whole { secret, encoding } = *origin
                    && is_wrappable(origin)
                {
                    hits.push(Hit {
                        range: range.clone(),
                        secret,
                        encoding,
                    });
                }
            }
        });
        // Keep the anchors a later match can start after: the last one at or before the
        // earliest start, and every one after it.
        let earliest = state.joined.saturating_sub(self.max_len.saturating_sub(1));
        while state.anchors.len() > 1 && state.anchors[1].0 <= earliest {
            state.anchors.pop_front();
        }
        // A longest pattern's length past the last break, no later match crosses it: the rest
        // of the word is a run on its own line, which the main automaton searches (a word of
        // random key characters after a base64 line is not stepped through to its end).
        if let Some(&(last_break, offset)) = state.anchors.back()
            && earliest >= last_break
        {
            state.deactivate(offset, true);
        }
    }

    /// The first absolute offset a hit found later could start at; the caller keeps the text
    /// from there on for the next [`feed`](Wrapped::feed).
    #[inline]
    pub(crate) fn pending_from(&self, state: &WrapState) -> usize {
        let reach = self.max_len.saturating_sub(1);
        match state.mode {
            Mode::Run if !state.may_join(state.pos) => state.pos,
            Mode::Run => state.run_start.max(state.pos.saturating_sub(reach)),
            Mode::Gap {
                run_end,
                active: false,
                ..
            } => state.run_start.max(run_end.saturating_sub(reach)),
            Mode::Gap { active: true, .. } | Mode::Active => {
                let start = state.last_start.max(state.joined.saturating_sub(reach));
                original(&state.anchors, start)
            }
        }
    }
}

/// Whether `origin` is a whole base64 or hex form, which encoders wrap onto lines.
fn is_wrappable(origin: &Origin) -> bool {
    matches!(
        origin,
        Origin::Whole {
            encoding: Encoding::Base64 | Encoding::Base64Url | Encoding::Hex,
            ..
        }
    )
}

/// The absolute offset of joined byte `joined`, from the anchor at or before it.
fn original(anchors: &VecDeque<(usize, usize)>, joined: usize) -> usize {
    let at = anchors.partition_point(|&(j, _)| j <= joined);
    let (j, offset) = anchors[at.saturating_sub(1)];
    offset + (joined - j)
}

/// Where a [`Wrapped`] search is between two pieces of text.
#[derive(Debug, Clone)]
pub(crate) struct WrapState {
    /// Absolute offset of the next byte.
    pos: usize,
    /// In [`Mode::Run`], where the run of alphabet bytes that ends at `pos` started (`pos` when
    /// there is none); in [`Mode::Gap`] before a joined word, where the run before it started.
    run_start: usize,
    /// Whether that run may join the next line whatever its length: it starts its line (after
    /// indentation) or follows a character other than a space or tab (`"`, `=`, `:`). A run
    /// after a space joins from [`LONG_RUN`] bytes on ([`may_join`](WrapState::may_join)): the
    /// last word of a line of prose does not, so a stream need not hold it back until the next
    /// line arrives.
    eligible: bool,
    /// Whether the line holds nothing but spaces and tabs before `run_start`.
    blank: bool,
    mode: Mode,
    /// The automaton's state inside a joined word, and the number of joined bytes fed.
    sid: StateID,
    joined: usize,
    /// `joined` just after the automaton was last in its start state.
    last_start: usize,
    /// `(joined, offset)`: joined byte `joined` is at absolute `offset`, and so are the bytes
    /// after it up to the next anchor. One at the start of the word and one after each break.
    anchors: VecDeque<(usize, usize)>,
}

impl WrapState {
    /// In [`Mode::Run`], at absolute offset `base + from`: the index in `text` of the next
    /// line-break character (`\n`, `\r` or `\\`) that ends a run of alphabet bytes, with the
    /// state taken up to it; `None`, with the state taken to the end of `text`, if there is
    /// none. A line break skipped moves only where a line starts, which
    /// [`note_run`](Self::note_run) reads back from the text.
    fn skip_to_run_end(&mut self, text: &[u8], base: usize, from: usize) -> Option<usize> {
        let mut block = from;
        let mut quiet_blocks = 0;
        while block < text.len() {
            let mut breaks = line_break_mask(&text[block..]);
            if breaks == 0 {
                quiet_blocks += 1;
                block += BLOCK;
                if quiet_blocks == QUIET_BLOCKS {
                    // A long line (minified code, JSON): `memchr3` crosses it far faster.
                    quiet_blocks = 0;
                    let rest = text.get(block..).unwrap_or_default();
                    block = memchr::memchr3(b'\n', b'\r', b'\\', rest)
                        .map_or(text.len(), |k| block + k);
                }
                continue;
            }
            quiet_blocks = 0;
            while breaks != 0 {
                let at = block + breaks.trailing_zeros() as usize;
                breaks &= breaks - 1;
                let ends_run = if at > from {
                    ALPHABET[usize::from(text[at - 1])]
                } else {
                    self.run_start < base + at
                };
                if ends_run {
                    self.note_run(&text[from..at], base + from);
                    return Some(at);
                }
            }
            block += BLOCK;
        }
        self.note_run(&text[from..], base + from);
        None
    }

    /// Whether the run from `run_start` to absolute offset `end` may join the next line.
    #[inline]
    fn may_join(&self, end: usize) -> bool {
        self.eligible || end - self.run_start >= LONG_RUN
    }

    /// Takes a stretch in [`Mode::Run`] in which no line-break character ends a run of
    /// alphabet bytes: only where the last run starts matters, and what precedes it on its
    /// line.
    fn note_run(&mut self, stretch: &[u8], at: usize) {
        let Some(k) = stretch.iter().rposition(|&b| !ALPHABET[usize::from(b)]) else {
            // The run goes on.
            return;
        };
        let byte = stretch[k];
        let line_blank = match byte {
            b'\n' => true,
            b' ' | b'\t' => match stretch[..k].iter().rposition(|&b| !is_space(b)) {
                Some(j) => stretch[j] == b'\n',
                None => self.blank_at(at),
            },
            _ => false,
        };
        self.eligible = line_blank || !is_space(byte);
        self.blank = line_blank;
        self.run_start = at + k + 1;
    }

    /// Whether the line holds nothing but spaces and tabs before absolute offset `at`, the
    /// current position in [`Mode::Run`]: not if a run is under way.
    fn blank_at(&self, at: usize) -> bool {
        self.blank && self.run_start == at
    }

    /// Takes a byte outside a joined word that does not start a line break to join across.
    fn take_outside_word(&mut self, byte: u8, at: usize) {
        if ALPHABET[usize::from(byte)] {
            return;
        }
        if byte == b'\n' {
            self.blank = true;
            self.eligible = true;
        } else {
            let line_blank = self.blank_at(at);
            self.eligible = !is_space(byte) || line_blank;
            self.blank = line_blank && is_space(byte);
        }
        self.run_start = at + 1;
    }

    /// Ends the joined word (or the line break after a run) before the byte at `at`, which
    /// starts a new line if `new_line`.
    fn deactivate(&mut self, at: usize, new_line: bool) {
        self.mode = Mode::Run;
        self.run_start = at;
        self.eligible = true;
        self.blank = new_line;
        self.anchors.clear();
    }
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Outside a joined word: text is skipped to the next line-break character.
    Run,
    /// Inside a line break after alphabet bytes ending at `run_end`; `active` if a joined word
    /// is under way.
    Gap {
        run_end: usize,
        gap: Gap,
        active: bool,
    },
    /// Inside a joined word, after a break.
    Active,
}

/// How far a line break has got.
#[derive(Debug, Clone, Copy)]
enum Gap {
    /// After `\r`.
    Cr,
    /// After `\`.
    Escape,
    /// After `\r` written as two characters.
    EscapedCr,
    /// After `\r` and a `\` (two characters each).
    EscapedCrEscape,
    /// After the line end, with this many spaces or tabs.
    Indent(usize),
}

enum Step {
    Continue(Gap),
    /// The byte is an alphabet byte that continues the word on the next line.
    Joined,
    /// Not a line break between two words.
    Broken,
}

impl Gap {
    /// The gap `byte` starts right after an alphabet byte, if it can start one.
    fn start(byte: u8) -> Option<Gap> {
        match byte {
            b'\n' => Some(Gap::Indent(0)),
            b'\r' => Some(Gap::Cr),
            b'\\' => Some(Gap::Escape),
            _ => None,
        }
    }

    fn next(self, byte: u8) -> Step {
        match (self, byte) {
            (Gap::Cr, b'\n') => Step::Continue(Gap::Indent(0)),
            (Gap::Escape, b'n') => Step::Continue(Gap::Indent(0)),
            (Gap::Escape, b'r') => Step::Continue(Gap::EscapedCr),
            (Gap::EscapedCr, b'\\') => Step::Continue(Gap::EscapedCrEscape),
            (Gap::EscapedCrEscape, b'n') => Step::Continue(Gap::Indent(0)),
            (Gap::Indent(n), b' ' | b'\t') if n < MAX_INDENT => Step::Continue(Gap::Indent(n + 1)),
            (Gap::Indent(_), b) if ALPHABET[usize::from(b)] => Step::Joined,
            _ => Step::Broken,
        }
    }
}
