//! [`Sieve`]: skips text that cannot hold a registered secret, at memory speed.
//!
//! Registered secrets and their encodings are long random strings, and so is every text a hit
//! covers: a whole pattern, or the counted part of a fragment (at least the fragment length).
//! Call the shortest of those `m`. The sieve looks at the q-gram starting at every `stride`-th
//! byte, with `stride = m - q + 1`: any stretch of `m` bytes contains one such q-gram whole.
//! A small table (a blocked Bloom filter) holds every q-gram of every pattern and of every
//! secret's body, so a q-gram of ordinary text is rejected with one load from a table that
//! stays in cache. A q-gram that passes is looked up in an exact table, which also says how far
//! a hit containing it can reach to either side (the most of any form it occurs in); only the
//! bytes of that *window* go to the exact matcher ([`Engine`](super::scan::Engine)).
//!
//! A window holds every text a hit could cover that contains its q-gram, and never crosses a
//! *separator*, a byte that occurs in no pattern and no secret (a space, a quote, a newline in
//! most texts): in ordinary text a window is at most a word, and the near miss `sk-proj-...`
//! costs a scan of one key's length after it, not of the longest encoding on both sides.

use std::fmt;
use std::ops::Range;

use zeroize::Zeroize;

/// A q-gram of a form and its extent, on the way into the exact table.
#[derive(Clone, Copy, Default)]
struct Gram {
    gram: u64,
    before: u32,
    after: u32,
}

/// A slot of the exact table, packed into one word (so the table is 8 bytes a slot, allocated
/// zeroed): from the top, 32 bits of a second hash of the q-gram, then how far a hit holding it
/// may start before it and end after its start, 16 bits each, [`LONG`] standing for "as far
/// as the farthest". `after` is at least `q` for any q-gram, so an empty slot is 0.
///
/// Two q-grams with the same check in one probe run share the slot and the wider extent, and a
/// q-gram of text may be taken for one of a form: either way a window is scanned that need not
/// be, nothing is missed.
#[derive(Clone, Copy)]
struct Slot(u64);

/// An extent too long for a slot's 16 bits.
const LONG: u64 = 0xFFFF;

impl Slot {
    fn new(check: u32, before: u32, after: u32) -> Slot {
        let clamp = |n: u32| u64::from(n).min(LONG);
        Slot(u64::from(check) << 32 | clamp(before) << 16 | clamp(after))
    }

    fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn check(self) -> u32 {
        (self.0 >> 32) as u32
    }

    fn before(self) -> u64 {
        self.0 >> 16 & LONG
    }

    fn after(self) -> u64 {
        self.0 & LONG
    }

    /// The same q-gram with the wider of both extents.
    fn widened(self, other: Slot) -> Slot {
        Slot(
            self.0 & !(LONG << 16 | LONG)
                | self.before().max(other.before()) << 16
                | self.after().max(other.after()),
        )
    }
}

/// The multiplier of the hash (a Fibonacci hash: the top bits of the product are well mixed).
const HASH: u64 = 0x9E37_79B9_7F4A_7C15;
/// The multiplier of the second hash, whose top bits are a slot's check.
const CHECK_HASH: u64 = 0xC2B2_AE3D_27D4_EB4F;
/// Table words per q-gram, inverted: about 32 bits of table for each q-gram, two set, so a
/// q-gram of other text passes with a probability of about 0.4 %.
const GRAMS_PER_WORD: usize = 2;
/// The most table words: 2 MiB, for some 500,000 distinct q-grams (about 1,000 API keys with
/// every encoding); more q-grams than that share the bits and pass more often, nothing is lost.
const MAX_WORDS: usize = 1 << 18;

/// The shortest and the longest q-gram the sieve samples.
const MIN_Q: usize = 4;
pub(crate) const MAX_Q: usize = 8;

/// A prefilter over the q-grams of every form of every secret.
pub(crate) struct Sieve {
    /// Bytes per q-gram, 4 to 8.
    q: usize,
    /// Distance between two sampled positions.
    stride: usize,
    /// Keeps the low `q` bytes of a little-endian load of 8.
    mask: u64,
    /// The blocked Bloom filter: a q-gram sets two bits of one word.
    table: Vec<u64>,
    /// `64 - log2(table.len())`: the hash's top bits pick the word.
    shift: u32,
    /// Bytes in no pattern and no secret: no hit crosses one.
    separator: [bool; 256],
    /// Every q-gram (open addressing, indexed by the top bits of the same hash), with how far
    /// a hit that contains it may start before it and end after its start ([`Slot`]).
    slots: Vec<u64>,
    /// `64 - log2(slots.len())`.
    gram_shift: u32,
    /// The farthest any hit reaches before its q-gram and after the q-gram's start: what a
    /// slot's [`LONG`] extent stands for.
    longest: (usize, usize),
}

impl fmt::Debug for Sieve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sieve")
            .field("q", &self.q)
            .field("stride", &self.stride)
            .field("table_bytes", &self.table_bytes())
            .finish_non_exhaustive()
    }
}

impl Sieve {
    /// A sieve for the hits of `forms`, where any hit covers at least `shortest` bytes of one
    /// form, and `in_some_form[b]` says whether byte `b` occurs in a pattern or a secret. Each
    /// form is `(bytes, offset, frame)`: a hit containing a q-gram at `i` in `bytes` starts at
    /// most `offset + i` bytes before it and ends at most `frame` bytes after that start (a
    /// whole pattern: offset 0, its length; a secret's body: the public prefix's length and the
    /// secret's, as a fragment may extend over the prefix). `None` when the forms are too short
    /// for sampling to pay.
    pub(crate) fn new(
        forms: &[(&[u8], usize, usize)],
        shortest: usize,
        in_some_form: &[bool; 256],
    ) -> Option<Sieve> {
        // A third of the shortest form balances the stride against the table's selectivity: 5
        // bytes and a stride of 12 for 16-character fragments, 4 and 5 for an 8-character
        // secret. (Measured on prose and code with 100 keys: q = 8 and a stride of 9 was 15 %
        // slower; 5-grams of key characters are rare enough in ordinary text.)
        let q = (shortest / 3).clamp(MIN_Q, MAX_Q);
        if shortest < q || forms.is_empty() {
            return None;
        }
        let stride = shortest - q + 1;
        let mask = if q == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * q)) - 1
        };
        let count: usize = forms
            .iter()
            .map(|(f, _, _)| f.len().saturating_sub(q - 1))
            .sum();
        let words = (count / GRAMS_PER_WORD)
            .next_power_of_two()
            .clamp(64, MAX_WORDS);
        let slots = (2 * count).next_power_of_two().max(64);
        let mut sieve = Sieve {
            q,
            stride,
            mask,
            table: vec![0; words],
            shift: 64 - words.trailing_zeros(),
            separator: in_some_form.map(|yes| !yes),
            slots: vec![0; slots],
            gram_shift: 64 - slots.trailing_zeros(),
            longest: (0, 0),
        };
        let mut grams = grams_in_hash_order(forms, q, count);
        for &Gram {
            gram,
            before,
            after,
        } in &grams
        {
            let (word, bits) = sieve.slot(gram);
            sieve.table[word] |= bits;
            sieve.insert(gram, before, after);
            sieve.longest.0 = sieve.longest.0.max(before as usize);
            sieve.longest.1 = sieve.longest.1.max(after as usize);
        }
        for gram in &mut grams {
            gram.gram.zeroize();
        }
        Some(sieve)
    }

    /// Adds `gram` to the exact table, or widens its extent.
    fn insert(&mut self, gram: u64, before: u32, after: u32) {
        let mask = self.slots.len() - 1;
        let mut at = (gram.wrapping_mul(HASH) >> self.gram_shift) as usize;
        let new = Slot::new(check(gram), before, after);
        loop {
            let slot = Slot(self.slots[at]);
            if slot.is_empty() {
                self.slots[at] = new.0;
                return;
            }
            if slot.check() == new.check() {
                self.slots[at] = slot.widened(new).0;
                return;
            }
            at = (at + 1) & mask;
        }
    }

    /// How far a hit containing `gram` may reach before it and after its start, if any can.
    fn extent(&self, gram: u64) -> Option<(usize, usize)> {
        let mask = self.slots.len() - 1;
        let mut at = (gram.wrapping_mul(HASH) >> self.gram_shift) as usize;
        let check = check(gram);
        loop {
            let slot = Slot(self.slots[at]);
            if slot.is_empty() {
                return None;
            }
            if slot.check() == check {
                let extent = |stored: u64, longest: usize| {
                    if stored == LONG {
                        longest
                    } else {
                        stored as usize
                    }
                };
                return Some((
                    extent(slot.before(), self.longest.0),
                    extent(slot.after(), self.longest.1),
                ));
            }
            at = (at + 1) & mask;
        }
    }

    /// Whether `byte` occurs in no pattern and no secret: no hit crosses it, and after it the
    /// exact matcher is back in its start state with no fragment candidate open.
    #[inline]
    pub(crate) fn is_separator(&self, byte: u8) -> bool {
        self.separator[usize::from(byte)]
    }

    /// Bytes per q-gram.
    #[inline]
    pub(crate) fn q(&self) -> usize {
        self.q
    }

    /// Distance between two sampled positions.
    #[inline]
    pub(crate) fn stride(&self) -> usize {
        self.stride
    }

    /// Whether the q-gram at the start of `bytes` (at least [`q`](Sieve::q) of them) is a
    /// q-gram of some form: the Bloom filter, then the exact table for the few that pass.
    #[inline]
    pub(crate) fn holds_gram(&self, bytes: &[u8]) -> bool {
        let gram = load(&bytes[..self.q]);
        self.passes(gram) && self.extent(gram).is_some()
    }

    /// The bytes of the tables, for reports of memory use.
    pub(crate) fn table_bytes(&self) -> usize {
        (self.table.len() + self.slots.len()) * 8
    }

    /// The word of the table and the two bits of it that stand for `gram`.
    #[inline(always)]
    fn slot(&self, gram: u64) -> (usize, u64) {
        let h = gram.wrapping_mul(HASH);
        let word = (h >> self.shift) as usize;
        let bits = (1u64 << ((h >> 20) & 63)) | (1u64 << ((h >> 26) & 63));
        (word, bits)
    }

    #[inline(always)]
    fn passes(&self, gram: u64) -> bool {
        let (word, bits) = self.slot(gram & self.mask);
        self.table[word] & bits == bits
    }

    /// Calls `window` with every window of `text` that may hold a hit, in increasing order of
    /// their sampled positions (windows may overlap). Every hit lies inside one of them.
    #[inline]
    pub(crate) fn windows(&self, text: &[u8], mut window: impl FnMut(Range<usize>)) {
        let mut p = 0;
        // The last window: a stretch without a separator, which the next one need not read
        // again (inside a long secret, every sample passes).
        let mut last = 0..0;
        // Loads of 8 bytes, masked down to `q`; the samples are independent, so the loads of
        // several overlap in the processor.
        while let Some(bytes) = text.get(p..p + 8) {
            let gram = bytes.try_into().map_or(0, u64::from_le_bytes);
            if self.passes(gram) {
                self.window(text, p, &mut last, &mut window);
            }
            p += self.stride;
        }
        // The last few samples, where 8 bytes would run past the end.
        while let Some(bytes) = text.get(p..p + self.q) {
            if self.passes(load(bytes)) {
                self.window(text, p, &mut last, &mut window);
            }
            p += self.stride;
        }
    }

    /// The window around the q-gram at `p`, if it is a q-gram of some form: as far as the
    /// form may reach on either side, cut at the nearest separators. `last`, the window before
    /// (which holds no separator), is not read again.
    #[cold]
    #[inline(never)]
    fn window(
        &self,
        text: &[u8],
        p: usize,
        last: &mut Range<usize>,
        window: &mut impl FnMut(Range<usize>),
    ) {
        let end = p + self.q;
        let Some((before, after)) = self.extent(load(&text[p..end])) else {
            return;
        };
        let lowest = p.saturating_sub(before);
        let mut from = p;
        if last.start < p && p <= last.end {
            from = last.start.max(lowest);
        }
        while from > lowest && !self.separator[usize::from(text[from - 1])] {
            from -= 1;
        }
        let highest = (p + after).min(text.len());
        let mut to = end;
        if last.start <= end && end < last.end {
            to = last.end.min(highest).max(end);
        }
        while to < highest && !self.separator[usize::from(text[to])] {
            to += 1;
        }
        *last = from..to;
        window(from..to);
    }
}

impl Drop for Sieve {
    fn drop(&mut self) {
        // The q-grams of the secrets, and hashes of them.
        self.table.zeroize();
        self.slots.zeroize();
    }
}

/// Every q-gram of `forms` (`count` of them) with its extent, ordered by the top bits of its
/// hash, which pick both its word of the Bloom filter and its slot: inserted in this order,
/// the build walks both tables front to back. In the forms' order nearly every insert missed
/// the cache (1,000 keys with every encoding: some 600,000 q-grams into 32 MiB of slots).
fn grams_in_hash_order(forms: &[(&[u8], usize, usize)], q: usize, count: usize) -> Vec<Gram> {
    // A counting sort on the top 12 bits: 4,096 runs, each written front to back.
    const ORDER_BITS: u32 = 12;
    let run = |gram: u64| (gram.wrapping_mul(HASH) >> (64 - ORDER_BITS)) as usize;
    let grams = || {
        forms.iter().flat_map(move |&(form, offset, frame)| {
            form.windows(q).enumerate().map(move |(i, gram)| Gram {
                gram: load(gram),
                before: u32::try_from(offset + i).unwrap_or(u32::MAX),
                after: u32::try_from(frame - offset - i).unwrap_or(u32::MAX),
            })
        })
    };
    let mut next = vec![0usize; 1 << ORDER_BITS];
    for slot in grams() {
        next[run(slot.gram)] += 1;
    }
    let mut start = 0;
    for next in &mut next {
        (start, *next) = (start + *next, start);
    }
    let mut ordered = vec![Gram::default(); count];
    for slot in grams() {
        let at = &mut next[run(slot.gram)];
        ordered[*at] = slot;
        *at += 1;
    }
    ordered
}

/// A slot's check of `gram`.
fn check(gram: u64) -> u32 {
    (gram.wrapping_mul(CHECK_HASH) >> 32) as u32
}

/// Up to 8 bytes as a little-endian number.
fn load(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sieve(forms: &[&[u8]], shortest: usize) -> Sieve {
        let mut in_form = [false; 256];
        for form in forms {
            for &b in *form {
                in_form[usize::from(b)] = true;
            }
        }
        let framed: Vec<(&[u8], usize, usize)> = forms.iter().map(|f| (*f, 0, f.len())).collect();
        Sieve::new(&framed, shortest, &in_form).unwrap()
    }

    #[test]
    fn a_load_of_8_masked_equals_a_load_of_q() {
        let text = b"0123456789abcdef";
        for q in 4..=8 {
            let mask = if q == 8 {
                u64::MAX
            } else {
                (1u64 << (8 * q)) - 1
            };
            let eight = u64::from_le_bytes(text[3..11].try_into().unwrap());
            assert_eq!(eight & mask, load(&text[3..3 + q]), "q = {q}");
        }
    }

    #[test]
    fn every_placement_of_a_form_is_inside_a_window() {
        let form = b"Qx7mWv2kQp9zRt4LmN8b";
        let s = sieve(&[form], 16);
        for before in 0..30 {
            for after in 0..30 {
                let text = format!(
                    "{}{}{}",
                    "x ".repeat(before / 2) + &"y".repeat(before % 2),
                    std::str::from_utf8(form).unwrap(),
                    " z".repeat(after)
                );
                let at = text.find("Qx7m").unwrap();
                let mut covered = false;
                s.windows(text.as_bytes(), |w| {
                    covered |= w.start <= at && at + form.len() <= w.end
                });
                assert!(covered, "{before} before, {after} after");
            }
        }
    }

    #[test]
    fn a_form_longer_than_a_slot_can_count_is_inside_every_window_of_it() {
        // Extents past 16 bits are stored as "the longest": a window from a q-gram near
        // either end of a 70,000-byte form still reaches the other end.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let form: Vec<u8> = (0..70_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"[(state % 57) as usize]
            })
            .collect();
        let s = sieve(&[&form], form.len());
        let text = [b"x ".as_slice(), &form, b" y"].concat();
        let mut covered = false;
        s.windows(&text, |w| {
            covered |= w.start <= 2 && 2 + form.len() <= w.end
        });
        assert!(covered);
        assert_eq!(s.longest, (70_000 - s.q, 70_000));
    }

    #[test]
    fn slots_keep_their_check_and_the_wider_extent() {
        let slot = Slot::new(0xDEAD_BEEF, 7, 70_000);
        assert_eq!(
            (slot.check(), slot.before(), slot.after()),
            (0xDEAD_BEEF, 7, LONG)
        );
        let wider = slot.widened(Slot::new(0xDEAD_BEEF, 9, 5));
        assert_eq!(
            (wider.check(), wider.before(), wider.after()),
            (0xDEAD_BEEF, 9, LONG)
        );
        assert!(!Slot::new(0, 0, 4).is_empty());
    }

    #[test]
    fn ordinary_text_passes_rarely() {
        let form = b"Qx7mWv2kQp9zRt4LmN8bAb3dEf6hIj9l";
        let s = sieve(&[form], 16);
        let text = "the model returned a response with several tool calls and then ".repeat(1000);
        let mut windows = 0;
        s.windows(text.as_bytes(), |_| windows += 1);
        assert_eq!(windows, 0);
        // the form's own q-grams pass, with the window of the form around them
        let text = format!("a {} b", std::str::from_utf8(form).unwrap());
        s.windows(text.as_bytes(), |w| {
            windows += 1;
            assert_eq!(w, 2..2 + form.len());
        });
        assert!(windows > 0);
    }
}
