//! Which few bytes of each keyword the prefilter searches for.
//!
//! A Teddy searcher reads the whole text however few patterns it holds, and slows down as its
//! buckets fill, so the number of patterns, not of keywords, sets the prefilter's cost. The
//! first four bytes of the rule set's 304 keywords are 254 patterns. Yet keywords share bytes
//! elsewhere: `WEAVIATE_API_KEY` and 42 more hold `_KEY`, `github_pat_` holds the keyword
//! `pat`. So each keyword is searched for by a *probe*, a few of its bytes at some offset that
//! as many keywords as possible share; where a probe occurs, the keywords holding it are
//! compared in place, each at the probe's offset in it. The rule set needs 148 probes of four
//! bytes and its 13 three-byte keywords.
//!
//! The choice, greedy and deterministic:
//! 1. a keyword shorter than four bytes is its own probe;
//! 2. a longer one holding a three-byte keyword is found through it;
//! 3. four-byte windows held by two or more of the rest, the window held by most first (the
//!    rarer in ordinary text on a tie, by [`BYTE_FREQUENCY`]);
//! 4. each keyword left, its first four bytes.
//!
//! (Moving the keywords left alone to three-byte windows they share, to fit one searcher of
//! 128, was slower: a full searcher fires on far more of the text than two half-full ones.)

use std::collections::HashMap;

use super::byte_frequency::BYTE_FREQUENCY;

/// A few bytes searched for, and the keywords they stand for.
#[derive(Debug)]
pub(super) struct Probe {
    pub(super) bytes: Box<[u8]>,
    /// The keywords holding the probe and where, by offset, then longest first.
    pub(super) holders: Vec<Holder>,
}

/// A keyword holding a probe `offset` bytes from its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Holder {
    pub(super) literal: usize,
    pub(super) offset: usize,
}

/// The longest probe: what Teddy compares.
pub(super) const PROBE_LEN: usize = 4;

/// Probes for `literals` (none empty): every literal is held by exactly one probe.
pub(super) fn choose_probes(literals: &[Box<[u8]>]) -> Vec<Probe> {
    let short = PROBE_LEN - 1;
    let short_literals: Vec<&[u8]> = literals
        .iter()
        .map(|l| &l[..])
        .filter(|l| l.len() == short)
        .collect();
    let mut probes = Probes::default();
    let mut rest = Vec::new();
    for (literal, bytes) in literals.iter().enumerate() {
        if bytes.len() < PROBE_LEN {
            probes.hold(bytes, literal, 0);
            continue;
        }
        let inside_short = bytes
            .windows(short)
            .enumerate()
            .find(|(_, window)| short_literals.contains(window));
        match inside_short {
            Some((offset, window)) => probes.hold(window, literal, offset),
            None => rest.push(literal),
        }
    }
    for literal in probes.hold_by_shared_windows(literals, &rest) {
        probes.hold(&literals[literal][..PROBE_LEN], literal, 0);
    }
    probes.finish(literals)
}

#[derive(Default)]
struct Probes<'l> {
    list: Vec<(&'l [u8], Vec<Holder>)>,
    index: HashMap<&'l [u8], usize>,
}

impl<'l> Probes<'l> {
    fn hold(&mut self, bytes: &'l [u8], literal: usize, offset: usize) {
        let id = *self.index.entry(bytes).or_insert_with(|| {
            self.list.push((bytes, Vec::new()));
            self.list.len() - 1
        });
        self.list[id].1.push(Holder { literal, offset });
    }

    /// Holds `candidates` by four-byte windows that two or more of them share: the window
    /// held by most first (the rarer on a tie), each candidate by the first window picked that
    /// it holds. Returns the candidates no shared window holds.
    fn hold_by_shared_windows(
        &mut self,
        literals: &'l [Box<[u8]>],
        candidates: &[usize],
    ) -> Vec<usize> {
        // Every window with where each candidate first holds it, sorted by its bytes: a run
        // of one window held by two or more candidates is a window they share.
        // (The window as a big-endian number orders as its bytes do, and sorts fast.)
        let mut all: Vec<(u32, usize, usize)> = Vec::new(); // window, candidate, offset
        for (c, &literal) in candidates.iter().enumerate() {
            for (offset, window) in literals[literal].windows(PROBE_LEN).enumerate() {
                let window: [u8; PROBE_LEN] = window.try_into().unwrap_or_default();
                all.push((u32::from_be_bytes(window), c, offset));
            }
        }
        all.sort_unstable();
        all.dedup_by_key(|&mut (window, c, _)| (window, c));
        let mut windows: Vec<(&[u8], Vec<Holder>)> = Vec::new();
        let mut windows_of: Vec<Vec<usize>> = vec![Vec::new(); candidates.len()];
        for run in all.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() >= 2) {
            for &(_, c, _) in run {
                windows_of[c].push(windows.len());
            }
            let holders = run
                .iter()
                .map(|&(_, literal, offset)| Holder { literal, offset })
                .collect();
            let (_, c, offset) = run[0];
            windows.push((
                &literals[candidates[c]][offset..offset + PROBE_LEN],
                holders,
            ));
        }
        // Ties go to the rarer window, then to the lower bytes: the same plan on every run.
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_cached_key(|&w| (rate(windows[w].0).to_bits(), windows[w].0));
        // Per window, how many candidates not yet held hold it.
        let mut open: Vec<usize> = windows.iter().map(|(_, h)| h.len()).collect();
        let mut held = vec![false; candidates.len()];
        while let Some(&best) = order
            .iter()
            .filter(|&&w| open[w] >= 2)
            .min_by_key(|&&w| std::cmp::Reverse(open[w]))
        {
            let (window, holders) = &windows[best];
            for holder in holders {
                if held[holder.literal] {
                    continue;
                }
                held[holder.literal] = true;
                for &w in &windows_of[holder.literal] {
                    open[w] -= 1;
                }
                self.hold(window, candidates[holder.literal], holder.offset);
            }
        }
        candidates
            .iter()
            .zip(&held)
            .filter(|&(_, &held)| !held)
            .map(|(&literal, _)| literal)
            .collect()
    }

    fn finish(self, literals: &[Box<[u8]>]) -> Vec<Probe> {
        self.list
            .into_iter()
            .map(|(bytes, mut holders)| {
                holders.sort_by_key(|h| {
                    (
                        h.offset,
                        std::cmp::Reverse(literals[h.literal].len()),
                        h.literal,
                    )
                });
                Probe {
                    bytes: bytes.into(),
                    holders,
                }
            })
            .collect()
    }
}

/// The chance of `bytes` at a position of ordinary text, bytes taken as independent.
fn rate(bytes: &[u8]) -> f64 {
    bytes
        .iter()
        .map(|&b| f64::from(BYTE_FREQUENCY[usize::from(b)]) / 65_536.0)
        .product()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn boxed(literals: &[&str]) -> Vec<Box<[u8]>> {
        literals.iter().map(|l| l.as_bytes().into()).collect()
    }

    /// Each literal held once, by a probe found in it at its offset.
    fn assert_every_literal_held_once(literals: &[Box<[u8]>], probes: &[Probe]) {
        let mut held = vec![0; literals.len()];
        for probe in probes {
            for h in &probe.holders {
                held[h.literal] += 1;
                let bytes = &literals[h.literal];
                assert_eq!(
                    &bytes[h.offset..h.offset + probe.bytes.len()],
                    &*probe.bytes
                );
            }
        }
        assert!(held.iter().all(|&n| n == 1), "{held:?}");
    }

    #[test]
    fn keywords_share_windows_inside_them_and_short_keywords() {
        let literals = boxed(&[
            "WEAVIATE_API_KEY",
            "QDRANT_API_KEY",
            "pat",
            "github_pat_",
            "AKIA",
        ]);
        let probes = choose_probes(&literals);
        assert_every_literal_held_once(&literals, &probes);
        let bytes: Vec<&[u8]> = probes.iter().map(|p| &*p.bytes).collect();
        assert_eq!(bytes.len(), 3, "{bytes:?}");
        assert!(bytes.contains(&&b"pat"[..]) && bytes.contains(&&b"AKIA"[..]));
        let pat = probes.iter().find(|p| &*p.bytes == b"pat").unwrap();
        assert_eq!(
            pat.holders,
            [
                Holder {
                    literal: 2,
                    offset: 0
                },
                Holder {
                    literal: 3,
                    offset: 7
                }
            ]
        );
    }

    #[test]
    fn generated_keyword_sets_are_held_whole() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200 {
            let count = 1 + (next() % 300) as usize;
            let literals: Vec<Box<[u8]>> = (0..count)
                .map(|_| {
                    let len = 1 + (next() % 9) as usize;
                    (0..len)
                        .map(|_| b"abcAB_-"[(next() % 7) as usize])
                        .collect()
                })
                .collect();
            let probes = choose_probes(&literals);
            assert_every_literal_held_once(&literals, &probes);
        }
    }
}
