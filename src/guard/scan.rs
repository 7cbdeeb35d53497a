//! The matching engine shared by one-shot and streaming redaction.
//!
//! One overlapping Aho-Corasick automaton holds every pattern of every secret. The scanner feeds
//! it one byte at a time and keeps all of its state in [`ScanState`], so a stream can stop after
//! any byte and resume with the next chunk without looking at old text again. One-shot redaction
//! runs the very same loop over the whole text, which is why both give the same result for any
//! split of the input.

use std::ops::Range;
use std::sync::Arc;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{Anchored, PatternID};
use zeroize::Zeroize;

use super::encode::Encoding;
use super::hit::{Hit, Origin};
use super::patterns::{Dfa, Patterns};
use super::sieve::Sieve;
use super::wrapped::Wrapped;
use crate::error::Result;
use crate::secret::SecretString;

/// The secret bytes the engine compares fragments against, and the parts whose characters a
/// fragment's length counts.
pub(crate) struct SecretBytes {
    pub(crate) value: SecretString,
    /// The secret parts of the value that fragments are searched in, in order
    /// ([`secret_parts`](super::secret_part::secret_parts)): not a public prefix (`sk-proj-`),
    /// nor the endpoints of a connection string. A fragment has its length in one of them.
    pub(crate) parts: Box<[Range<usize>]>,
}

impl SecretBytes {
    /// The part that holds byte `at` of the value, if any.
    fn part_at(&self, at: usize) -> Option<&Range<usize>> {
        self.parts.iter().find(|part| part.contains(&at))
    }
}

/// The compiled automaton plus what each pattern means.
pub(crate) struct Engine {
    patterns: Arc<Patterns>,
    /// The search for base64 and hex broken onto lines; `None` without those encodings.
    wrapped: Option<Wrapped>,
    /// Skips the text no hit can be in, for [`find_all`](Engine::find_all); `None` when the
    /// patterns are too short for it.
    sieve: Option<Arc<Sieve>>,
    /// The k of the k-grams, 0 when fragments are off.
    gram_len: usize,
    /// Minimum counted characters of a fragment.
    fragment_len: usize,
    /// Bytes that occur in some secret: a fragment can only extend over these.
    secret_byte: [bool; 256],
    max_pattern_len: usize,
    /// How far a fragment candidate may extend to the left of its first k-gram.
    max_left: usize,
    secrets: Vec<SecretBytes>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("patterns", &self.patterns.len())
            .field("gram_len", &self.gram_len)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Builds the engine; `patterns` may repeat (two secrets sharing a k-gram), the duplicates
    /// are folded into one automaton pattern with several origins.
    pub(crate) fn new(
        mut patterns: Vec<(Vec<u8>, Origin)>,
        secrets: Vec<SecretBytes>,
        gram_len: usize,
        fragment_len: usize,
    ) -> Result<Engine> {
        // One automaton serves both searches: the one for wrapped encodings needs only the
        // base64 and hex patterns, but compiling them twice was a third of the build.
        let compiled = Arc::new(Patterns::new(&mut patterns)?);
        let mut secret_byte = [false; 256];
        for secret in &secrets {
            for &b in secret.value.expose_secret().as_bytes() {
                secret_byte[usize::from(b)] = true;
            }
        }
        let sieve = sieve_for(&patterns, &secrets, &secret_byte, fragment_len).map(Arc::new);
        let wrapped = Wrapped::new(&patterns, Arc::clone(&compiled), sieve.clone());
        // The patterns are the secrets and their encodings: wipe them rather than free them.
        for (pattern, _) in &mut patterns {
            pattern.zeroize();
        }
        let max_pattern_len = compiled.max_len;
        Ok(Engine {
            patterns: compiled,
            wrapped,
            sieve,
            gram_len,
            fragment_len,
            secret_byte,
            max_pattern_len,
            max_left: secrets
                .iter()
                .flat_map(|s| s.parts.iter().map(|part| part.start))
                .max()
                .unwrap_or(0)
                .max(gram_len.saturating_sub(1)),
            secrets,
        })
    }

    /// The length of the longest pattern, in bytes.
    pub(crate) fn max_pattern_len(&self) -> usize {
        self.max_pattern_len
    }

    /// The search for base64 and hex broken onto lines, if those encodings are searched for.
    pub(crate) fn wrapped(&self) -> Option<&Wrapped> {
        self.wrapped.as_ref()
    }

    /// A fresh scan positioned before the first byte of a text.
    pub(crate) fn start(&self) -> ScanState {
        ScanState {
            sid: self.patterns.automaton.start(),
            pos: 0,
            last_start: 0,
            gap: 0,
            start_gap: 0,
            open: Vec::new(),
            changed: true,
        }
    }

    /// Every hit in the whole `text`, as [`find_all_by_scan`](Engine::find_all_by_scan) finds
    /// them (the same hits in the same order): the sieve picks the windows that may hold one,
    /// overlapping windows become one run, and each run is scanned from the start state, then
    /// on while a fragment candidate is open.
    ///
    /// Why a run scanned on its own finds what the scan of the whole text finds: every hit,
    /// and every fragment candidate that can hide a later k-gram of its secret (it covers two
    /// k-grams, at least the fragment length), contains a sampled q-gram and so lies inside
    /// one window, hence inside one run; what the scan of the whole text carries into a run
    /// from before it is then only the automaton's state, which reports nothing that starts
    /// before the run, and candidates too short to find or hide anything.
    pub(crate) fn find_all(&self, text: &[u8], hits: &mut Vec<Hit>) {
        let Some(sieve) = &self.sieve else {
            self.find_all_by_scan(text, hits);
            return;
        };
        let mut run: Option<Run> = None;
        sieve.windows(text, |window| {
            if let Some(current) = &mut run {
                if window.start < current.end {
                    current.end = current.end.max(window.end);
                    return;
                }
                self.scan_run(current, text, hits);
                // Open candidates may have carried the run into this window.
                if window.start < current.end {
                    current.end = current.end.max(window.end);
                    return;
                }
            }
            run = Some(Run {
                scanned: window.start,
                end: window.end,
                state: self.start(),
            });
        });
        if let Some(mut current) = run {
            self.scan_run(&mut current, text, hits);
            if current.scanned == text.len() {
                self.finish(&mut current.state, text, 0, hits);
            }
        }
    }

    /// Like [`scan`](Engine::scan), for a stream's piece `text[from..]`: the same hits and the
    /// same state after it, but a long piece is searched with the sieve between its first and
    /// its last separator. After a separator the scan of every byte is in its start state with
    /// no candidate open (nothing crosses one), so the stretch between the two is searched as a
    /// text of its own, and the scan resumes after the last one from the start state.
    pub(crate) fn scan_piece(
        &self,
        state: &mut ScanState,
        text: &[u8],
        base: usize,
        from: usize,
        hits: &mut Vec<Hit>,
    ) {
        let Some(sieve) = &self.sieve else {
            return self.scan(state, text, base, from, hits);
        };
        if text.len() - from < Self::SIEVED_STRETCH {
            return self.scan(state, text, base, from, hits);
        }
        let first = text[from..]
            .iter()
            .position(|&b| sieve.is_separator(b))
            .map(|k| from + k);
        let last = text[from..]
            .iter()
            .rposition(|&b| sieve.is_separator(b))
            .map(|k| from + k);
        let (Some(first), Some(last)) = (first, last) else {
            return self.scan(state, text, base, from, hits);
        };
        if last - first < Self::SIEVED_STRETCH {
            return self.scan(state, text, base, from, hits);
        }
        self.scan(state, &text[..=first], base, from, hits);
        debug_assert!(state.open.is_empty());
        let found = hits.len();
        self.find_all(&text[first + 1..=last], hits);
        for hit in &mut hits[found..] {
            let shift = base + first + 1;
            hit.range = hit.range.start + shift..hit.range.end + shift;
        }
        self.restart_at(state, base + last + 1);
        self.scan(state, text, base, last + 1, hits);
        // The start state was reached after `last`: what is pending has moved, whatever the
        // scan of the tail says.
        state.changed = true;
    }

    /// Sets `state` to what the scan of every byte is right after a separator at `at - 1`:
    /// in its start state, with no candidate open.
    pub(crate) fn restart_at(&self, state: &mut ScanState, at: usize) {
        state.open.clear();
        state.sid = self.patterns.automaton.start();
        state.pos = at;
        state.last_start = at;
        state.gap = at;
        state.start_gap = at;
    }

    /// The sieve, when the forms are long enough to sample.
    pub(crate) fn sieve(&self) -> Option<&Sieve> {
        self.sieve.as_deref()
    }

    /// A stream's pieces shorter than this take its paths for small pieces (the sieve a
    /// sampled q-gram at a time, or the automaton with no bookkeeping of hits); longer ones go
    /// to [`scan_piece`](Engine::scan_piece).
    pub(crate) const SIEVED_PIECE: usize = 256;

    /// Stretches between two separators at least this long are searched with the sieve in
    /// [`scan_piece`](Engine::scan_piece) (a stream with detection on hands it whole lines);
    /// shorter ones cost less through the automaton.
    pub(crate) const SIEVED_STRETCH: usize = 32;

    /// Every hit in the whole `text`, by stepping the automaton through every byte: what
    /// [`find_all`](Engine::find_all) must equal, and its fallback without a sieve.
    pub(crate) fn find_all_by_scan(&self, text: &[u8], hits: &mut Vec<Hit>) {
        let mut state = self.start();
        self.scan(&mut state, text, 0, 0, hits);
        self.finish(&mut state, text, 0, hits);
    }

    /// Scans `run` up to its end, then on, a byte at a time, while a fragment candidate is
    /// open (it may still grow into a hit).
    fn scan_run(&self, run: &mut Run, text: &[u8], hits: &mut Vec<Hit>) {
        self.scan(&mut run.state, &text[..run.end], 0, run.scanned, hits);
        run.scanned = run.end;
        while !run.state.open.is_empty() && run.end < text.len() {
            run.end += 1;
            self.scan(&mut run.state, &text[..run.end], 0, run.scanned, hits);
            run.scanned = run.end;
        }
    }

    /// The heap memory of the automata and the sieve, in bytes (not the secrets themselves).
    /// Whether searches go through the sieve (forms long enough to sample).
    #[cfg(test)]
    pub(crate) fn is_sieved(&self) -> bool {
        self.sieve.is_some()
    }

    pub(crate) fn memory_usage(&self) -> usize {
        self.patterns.memory_usage() + self.sieve.as_deref().map_or(0, Sieve::table_bytes)
    }

    /// Feeds `text[from..]` to the scan. `text[0]` is the byte at absolute offset `base`; bytes
    /// before `from` are earlier text the scan may look back at for fragments.
    #[inline]
    pub(crate) fn scan(
        &self,
        state: &mut ScanState,
        text: &[u8],
        base: usize,
        from: usize,
        hits: &mut Vec<Hit>,
    ) {
        match &self.patterns.automaton {
            Dfa::Dense(a) => self.scan_with(a, state, text, base, from, hits),
            Dfa::Contiguous(a) => self.scan_with(a, state, text, base, from, hits),
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn scan_with<A: Automaton>(
        &self,
        aut: &A,
        state: &mut ScanState,
        text: &[u8],
        base: usize,
        from: usize,
        hits: &mut Vec<Hit>,
    ) {
        let start = aut.start_state(Anchored::No).unwrap_or(StateID::ZERO);
        let hits_before = hits.len();
        let open_before = state.open.len();
        state.changed = false;
        let mut sid = state.sid;
        let mut last_start = state.last_start;
        for (i, &byte) in text.iter().enumerate().skip(from) {
            if !state.open.is_empty() {
                self.extend_open(state, text, base, i, hits);
            }
            sid = aut.next_state(Anchored::No, sid, byte);
            // Written without a branch: in prose the state returns to the start at every space.
            last_start = if sid == start {
                base + i + 1
            } else {
                last_start
            };
            if aut.is_special(sid) && aut.is_match(sid) {
                for m in 0..aut.match_len(sid) {
                    let pid = aut.match_pattern(sid, m);
                    self.on_match(aut, pid, state, text, base, i + 1, hits);
                }
            }
        }
        state.changed |= last_start != state.last_start
            || hits.len() != hits_before
            || state.open.len() != open_before
            || state.open.is_empty() != (open_before == 0);
        // Not tracked here: this loop runs only where something matches.
        if last_start != state.last_start {
            state.start_gap = UNKNOWN;
        }
        state.gap = UNKNOWN;
        state.sid = sid;
        state.last_start = last_start;
        state.pos = base + text.len();
    }

    /// Feeds `text`, at absolute offset `base`, to the scan if that only moves the automaton:
    /// the common case, in a loop with nothing else to do. Returns false, leaving `state` as it
    /// was, if a fragment candidate is open or some byte reaches a match (or other special)
    /// state; the caller then runs [`scan`](Engine::scan) over the same bytes, with the text
    /// before them.
    #[inline]
    pub(crate) fn scan_quiet(&self, state: &mut ScanState, text: &[u8], base: usize) -> bool {
        if !state.open.is_empty() {
            return false;
        }
        match &self.patterns.automaton {
            Dfa::Dense(a) => scan_quiet_with(a, &self.secret_byte, state, text, base),
            Dfa::Contiguous(a) => scan_quiet_with(a, &self.secret_byte, state, text, base),
        }
    }

    /// Advances the open fragment candidates over `text[i]`, closing those it does not continue.
    fn extend_open(
        &self,
        state: &mut ScanState,
        text: &[u8],
        base: usize,
        i: usize,
        hits: &mut Vec<Hit>,
    ) {
        let byte = text[i];
        let mut k = 0;
        while k < state.open.len() {
            let open = &mut state.open[k];
            let secret = &self.secrets[open.secret as usize];
            if secret.value.expose_secret().as_bytes().get(open.next) == Some(&byte) {
                open.next += 1;
                k += 1;
            } else {
                state.changed = true;
                let open = state.open.swap_remove(k);
                self.close(open, text, base, base + i, hits);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_match<A: Automaton>(
        &self,
        aut: &A,
        pid: PatternID,
        state: &mut ScanState,
        text: &[u8],
        base: usize,
        end: usize,
        hits: &mut Vec<Hit>,
    ) {
        let len = aut.pattern_len(pid);
        for origin in self.patterns.origins(pid) {
            match *origin {
                Origin::Whole { secret, encoding } => hits.push(Hit {
                    range: base + end - len..base + end,
                    secret,
                    encoding,
                }),
                Origin::Gram { secret, at } => {
                    self.open_fragment(state, text, base, end, secret, at as usize, hits)
                }
            }
        }
    }

    /// Starts a fragment candidate for the k-gram of `secret` at `at` that ends at `text[end]`,
    /// extended to the left as far as the text agrees with the secret.
    #[allow(clippy::too_many_arguments)]
    fn open_fragment(
        &self,
        state: &mut ScanState,
        text: &[u8],
        base: usize,
        end: usize,
        secret: u32,
        at: usize,
        hits: &mut Vec<Hit>,
    ) {
        let next = at + self.gram_len;
        state.changed = true;
        // Already covered by a candidate that came in through an earlier k-gram.
        if state
            .open
            .iter()
            .any(|o| o.secret == secret && o.next == next)
        {
            return;
        }
        let bytes = self.secrets[secret as usize]
            .value
            .expose_secret()
            .as_bytes();
        let gram_start = end - self.gram_len;
        // A longer left part would hold an earlier aligned k-gram, whose candidate covers it;
        // the first k-gram of a secret part may extend over all before it.
        let part_start = self.secrets[secret as usize]
            .part_at(at)
            .map_or(0, |part| part.start);
        let reach = if at < part_start + self.gram_len {
            at
        } else {
            self.gram_len - 1
        };
        let max_left = reach.min(gram_start);
        let mut left = 0;
        while left < max_left && text[gram_start - left - 1] == bytes[at - left - 1] {
            left += 1;
        }
        // Never start inside a UTF-8 character.
        while left > 0 && is_continuation(text[gram_start - left]) {
            left -= 1;
        }
        let open = Open {
            secret,
            start: base + gram_start - left,
            secret_start: at - left,
            next,
        };
        if next == bytes.len() {
            // Nothing follows to extend it: a fragment now, or never.
            self.close(open, text, base, base + end, hits);
        } else {
            state.open.push(open);
        }
    }

    /// Ends a candidate at absolute offset `end`: a fragment if it is long enough.
    fn close(&self, open: Open, text: &[u8], base: usize, end: usize, hits: &mut Vec<Hit>) {
        let secret = &self.secrets[open.secret as usize];
        let mut next = open.next;
        let mut end = end;
        // Never end inside a UTF-8 character: drop a partly matched one.
        while end > open.start && text.get(end - base).is_some_and(|&b| is_continuation(b)) {
            end -= 1;
            next -= 1;
        }
        // Only the characters of one secret part count.
        let bytes = secret.value.expose_secret().as_bytes();
        let counted = secret
            .parts
            .iter()
            .map(|part| {
                bytes
                    .get(open.secret_start.max(part.start)..next.min(part.end))
                    .map_or(0, |b| b.iter().filter(|&&b| !is_continuation(b)).count())
            })
            .max()
            .unwrap_or(0);
        if counted >= self.fragment_len {
            hits.push(Hit {
                range: open.start..end,
                secret: open.secret,
                encoding: Encoding::Fragment,
            });
        }
    }

    /// Ends every open candidate at the end of the text.
    pub(crate) fn finish(
        &self,
        state: &mut ScanState,
        text: &[u8],
        base: usize,
        hits: &mut Vec<Hit>,
    ) {
        for open in std::mem::take(&mut state.open) {
            self.close(open, text, base, state.pos, hits);
        }
    }

    /// Whether [`pending_from`](Engine::pending_from) may have moved since before the last
    /// [`scan`](Engine::scan): false when that scan found nothing, opened or closed no fragment
    /// candidate, never returned to the start state, and no pattern can be longer than the
    /// bytes since the last start state. Lets a stream skip the work for most small pieces.
    #[inline]
    pub(crate) fn may_have_moved(&self, state: &ScanState) -> bool {
        state.changed
            || !state.open.is_empty()
            || state.pos.saturating_sub(self.max_pattern_len) > state.last_start
    }

    /// The first absolute offset a hit found later could start at, and the first one that must
    /// stay in the buffer for the scan to look back at.
    /// `text[0]` is at absolute offset `base`; nothing before `floor` is looked at.
    #[inline]
    pub(crate) fn pending_from(
        &self,
        state: &ScanState,
        text: &[u8],
        base: usize,
        floor: usize,
    ) -> usize {
        // A pattern still being matched started after the automaton was last in its start
        // state, and no further back than the longest pattern.
        let mut from = state
            .last_start
            .max(state.pos.saturating_sub(self.max_pattern_len))
            .max(floor);
        // A k-gram found later may extend left by up to k-1 bytes of secret characters: back
        // to the last other byte, which the quiet scan noted when it last left the start state.
        if self.gram_len > 0 {
            let lowest = from.saturating_sub(self.max_left).max(floor);
            if from == state.last_start && state.start_gap != UNKNOWN {
                from = state.start_gap.max(lowest);
            } else {
                while from > lowest && self.secret_byte[usize::from(text[from - 1 - base])] {
                    from -= 1;
                }
            }
        }
        for open in &state.open {
            from = from.min(open.start);
        }
        from
    }
}

/// A stretch of text [`Engine::find_all`] scans on its own: the union of overlapping windows.
struct Run {
    /// Scanned up to here (from the run's start).
    scanned: usize,
    /// Scanned at least up to here.
    end: usize,
    state: ScanState,
}

/// The sieve for `patterns` (whole ones and k-grams) of `secrets`, or `None` if their forms
/// are too short for one: any hit covers at least the shortest whole pattern or, for a
/// fragment, the fragment length of a secret's body (which is also the least a candidate that
/// hides a later k-gram covers: two k-grams).
fn sieve_for(
    patterns: &[(Vec<u8>, Origin)],
    secrets: &[SecretBytes],
    secret_byte: &[bool; 256],
    fragment_len: usize,
) -> Option<Sieve> {
    let mut forms: Vec<(&[u8], usize, usize)> = Vec::new();
    let mut shortest = usize::MAX;
    let mut fragmented = vec![false; secrets.len()];
    for (pattern, origin) in patterns {
        match *origin {
            Origin::Whole { .. } => {
                forms.push((pattern, 0, pattern.len()));
                shortest = shortest.min(pattern.len());
            }
            Origin::Gram { secret, .. } => fragmented[secret as usize] = true,
        }
    }
    let mut in_some_form = *secret_byte;
    for (form, _, _) in &forms {
        for &b in *form {
            in_some_form[usize::from(b)] = true;
        }
    }
    for (secret, fragmented) in secrets.iter().zip(fragmented) {
        if fragmented {
            // A fragment has its length in a secret part (so has a candidate that hides a
            // later k-gram), and may extend over the rest of the value on either side.
            let value = secret.value.expose_secret().as_bytes();
            for part in &secret.parts {
                forms.push((&value[part.clone()], part.start, value.len()));
            }
            shortest = shortest.min(fragment_len);
        }
    }
    Sieve::new(&forms, shortest, &in_some_form)
}

/// [`Engine::scan_quiet`] for one automaton type.
#[inline(always)]
fn scan_quiet_with<A: Automaton>(
    aut: &A,
    secret_byte: &[bool; 256],
    state: &mut ScanState,
    text: &[u8],
    base: usize,
) -> bool {
    let start = aut.start_state(Anchored::No).unwrap_or(StateID::ZERO);
    let mut sid = state.sid;
    let (mut last_start, mut gap, mut start_gap) = (state.last_start, state.gap, state.start_gap);
    for (i, &byte) in text.iter().enumerate() {
        sid = aut.next_state(Anchored::No, sid, byte);
        if aut.is_special(sid) {
            return false;
        }
        // Without branches, and off the automaton's chain of loads: whether a piece ends a
        // word is a coin toss for the branch predictor.
        let at = base + i + 1;
        gap = if secret_byte[usize::from(byte)] {
            gap
        } else {
            at
        };
        let restarted = sid == start;
        last_start = if restarted { at } else { last_start };
        start_gap = if restarted { gap } else { start_gap };
    }
    // As `scan` sets it when nothing matched and no candidate was open.
    state.changed = last_start != state.last_start;
    state.sid = sid;
    state.last_start = last_start;
    state.gap = gap;
    state.start_gap = start_gap;
    state.pos = base + text.len();
    true
}

/// A [`ScanState`] offset the last full scan did not track.
const UNKNOWN: usize = usize::MAX;

/// The state of a scan between two chunks.
#[derive(Debug, Clone)]
pub(crate) struct ScanState {
    sid: StateID,
    /// Absolute offset of the next byte.
    pos: usize,
    /// Absolute offset just after the last byte that left the automaton in its start state.
    last_start: usize,
    /// Absolute offset just after the last byte that occurs in no secret (a fragment cannot
    /// extend over it), and its value when the automaton was last in its start state; both
    /// kept by the quiet scan only, [`UNKNOWN`] after a full one.
    gap: usize,
    start_gap: usize,
    open: Vec<Open>,
    /// Whether the last scan changed anything [`Engine::pending_from`] depends on, other than
    /// the position.
    changed: bool,
}

/// A fragment candidate that may still grow to the right.
#[derive(Debug, Clone, Copy)]
struct Open {
    secret: u32,
    /// Absolute offset of the candidate's first byte.
    start: usize,
    /// Byte offset in the secret matching `start`.
    secret_start: usize,
    /// Byte offset in the secret the next text byte must equal.
    next: usize,
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}
