//! Where many short literals start in a text: the prefilter of the format keywords.
//!
//! aho-corasick's vectorized Teddy searcher makes a literal prefilter nearly free, but how fast
//! it runs depends on which literals share one of its 16 buckets. A bucket fires at a position
//! when each of the next bytes has its low and its high nybble among those of the bucket's
//! literals at that offset, so a bucket holding `pat`, `cio` and `dapi` fires all over source
//! code, and each firing is checked by hand. Left to itself, aho-corasick gives up Teddy past
//! 64 literals: with the 171 keywords of the rule set, one automaton scanned source code at
//! 0.25 GiB/s, three Teddy searchers of 64 sorted keywords at 0.6 GiB/s.
//!
//! So this searcher:
//! - looks for the literals' first four bytes (a group per length for shorter literals), fewer
//!   patterns than the literals, and compares the whole literals in place where a prefix
//!   occurs;
//! - plans which prefixes share a bucket: greedily, by the chance that the bucket fires on
//!   ordinary text, estimated from a table of byte frequencies (`byte_frequency.rs`);
//! - and lays out each searcher's patterns so that aho-corasick (1.1) builds those buckets: it
//!   puts the first pattern of each low-nybble prefix in bucket `15 - id % 16` and the others
//!   with it. Empty places in a bucket are filled with patterns of bytes `0xF0..=0xFF`, which
//!   valid UTF-8 never holds two of in a row. Should a later aho-corasick assign buckets
//!   differently, the hits stay the same; only the speed would change (`benches/detector.rs`).
//!
//! For the 171 keywords of 98 rules that made the prefilter 2.9 GiB/s on the registry's sources
//! in a prototype (two planned searchers and one of the ten three-byte keywords); with the 305 of
//! the 207 rules, `Detector::find` runs at 1.04 GiB/s (docs/benchmarks.md). Where the platform
//! has no vectorized searcher, one automaton over the literals serves instead.

use std::collections::HashMap;

use aho_corasick::packed::{self, MatchKind as PackedMatchKind};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};

use super::byte_frequency::BYTE_FREQUENCY;

/// Finds where literals start, as one leftmost-longest automaton over all of them would report
/// it: the longest literal at the leftmost start, none starting inside the last one reported.
pub(super) struct KeywordSearcher {
    literals: Vec<Box<[u8]>>,
    passes: Vec<Pass>,
    /// Per prefix searched for: the literals starting with it, longest first.
    prefixes: Vec<Vec<usize>>,
}

/// One searcher and, per pattern, the prefix it stands for (`None` for fillers).
struct Pass {
    engine: Engine,
    prefix_of: Vec<Option<usize>>,
}

enum Engine {
    Teddy(packed::Searcher),
    Automaton(AhoCorasick),
}

/// Teddy's buckets with 256-bit vectors.
const BUCKETS: usize = 16;
/// aho-corasick's packed searchers hold at most 128 patterns, 8 per bucket.
const MAX_PER_BUCKET: usize = 8;
/// Up to this many prefixes, one searcher laid out by aho-corasick itself is fast enough.
const UNPLANNED: usize = 32;
/// The longest prefix Teddy compares.
const PREFIX_LEN: usize = 4;

impl KeywordSearcher {
    /// A searcher for `literals` (not empty ones), numbered as given.
    pub(super) fn new<L: AsRef<[u8]>>(literals: &[L]) -> KeywordSearcher {
        let literals: Vec<Box<[u8]>> = literals.iter().map(|l| l.as_ref().into()).collect();
        match Self::with_teddy(&literals) {
            Some((passes, prefixes)) => KeywordSearcher {
                literals,
                passes,
                prefixes,
            },
            None => Self::with_automaton(literals),
        }
    }

    /// How many times a search reads the text.
    pub(super) fn passes(&self) -> usize {
        self.passes.len()
    }

    /// `(start, literal index)` of every hit, in order.
    pub(super) fn hits<'t>(&'t self, text: &'t [u8]) -> impl Iterator<Item = (usize, usize)> + 't {
        let mut cursors: Vec<Cursor> = self
            .passes
            .iter()
            .map(|pass| Cursor {
                pass,
                from: 0,
                pending: None,
                done: false,
            })
            .collect();
        let mut end = 0;
        std::iter::from_fn(move || {
            let mut best: Option<(usize, usize, usize)> = None; // start, literal, cursor
            for (i, cursor) in cursors.iter_mut().enumerate() {
                // Hits starting inside the last one reported are not hits.
                if cursor.pending.is_some_and(|(start, _)| start < end) {
                    cursor.pending = None;
                }
                if cursor.pending.is_none() && !cursor.done {
                    cursor.from = cursor.from.max(end);
                    cursor.pending = self.next_hit(cursor, text);
                    cursor.done = cursor.pending.is_none();
                }
                if let Some((start, literal)) = cursor.pending {
                    let better = best.is_none_or(|(best_start, best_literal, _)| {
                        start < best_start
                            || (start == best_start
                                && self.literals[literal].len() > self.literals[best_literal].len())
                    });
                    if better {
                        best = Some((start, literal, i));
                    }
                }
            }
            let (start, literal, i) = best?;
            cursors[i].pending = None;
            end = start + self.literals[literal].len();
            Some((start, literal))
        })
    }

    /// The next place at or after `cursor.from` where one of the pass's literals starts.
    fn next_hit(&self, cursor: &mut Cursor<'_>, text: &[u8]) -> Option<(usize, usize)> {
        while cursor.from < text.len() {
            let (start, pattern) = match &cursor.pass.engine {
                Engine::Teddy(searcher) => {
                    let hit = searcher.find_in(text, packed_span(cursor.from, text.len()))?;
                    (hit.start(), hit.pattern().as_usize())
                }
                Engine::Automaton(automaton) => {
                    let hit = automaton.find(Input::new(text).range(cursor.from..))?;
                    (hit.start(), hit.pattern().as_usize())
                }
            };
            cursor.from = start + 1;
            let Some(prefix) = cursor.pass.prefix_of[pattern] else {
                continue; // a filler: never in valid UTF-8, but bytes are bytes
            };
            let literal = self.prefixes[prefix]
                .iter()
                .copied()
                .find(|&l| text[start..].starts_with(&self.literals[l]));
            if let Some(literal) = literal {
                return Some((start, literal));
            }
        }
        None
    }

    /// Planned Teddy searchers over the literals' prefixes, or `None` where the platform has
    /// no Teddy.
    fn with_teddy(literals: &[Box<[u8]>]) -> Option<(Vec<Pass>, Vec<Vec<usize>>)> {
        // Distinct prefixes, grouped by length (Teddy compares as many bytes as the shortest
        // pattern has), each with its literals, longest first.
        let mut prefix_bytes: Vec<&[u8]> = Vec::new();
        let mut prefixes: Vec<Vec<usize>> = Vec::new();
        let mut known: HashMap<&[u8], usize> = HashMap::with_capacity(literals.len());
        for (index, literal) in literals.iter().enumerate() {
            let prefix = &literal[..literal.len().min(PREFIX_LEN)];
            let id = *known.entry(prefix).or_insert_with(|| {
                prefix_bytes.push(prefix);
                prefixes.push(Vec::new());
                prefix_bytes.len() - 1
            });
            prefixes[id].push(index);
        }
        for group in &mut prefixes {
            group.sort_by_key(|&l| std::cmp::Reverse(literals[l].len()));
        }
        let mut passes = Vec::new();
        for len in (1..=PREFIX_LEN).rev() {
            let group: Vec<usize> = (0..prefix_bytes.len())
                .filter(|&p| prefix_bytes[p].len() == len)
                .collect();
            if group.is_empty() {
                continue;
            }
            let layouts = if group.len() <= UNPLANNED {
                vec![group.iter().map(|&p| Slot::Prefix(p)).collect()]
            } else {
                plan(&group, &prefix_bytes)
            };
            for layout in layouts {
                passes.push(teddy_pass(&layout, &prefix_bytes)?);
            }
        }
        Some((passes, prefixes))
    }

    /// One automaton over the whole literals: correct everywhere, slower.
    fn with_automaton(literals: Vec<Box<[u8]>>) -> KeywordSearcher {
        #[allow(clippy::expect_used)] // short literals, far below any size limit
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&literals)
            .expect("keyword automaton builds");
        let pass = Pass {
            engine: Engine::Automaton(automaton),
            prefix_of: (0..literals.len()).map(Some).collect(),
        };
        let prefixes = (0..literals.len()).map(|l| vec![l]).collect();
        KeywordSearcher {
            literals,
            passes: vec![pass],
            prefixes,
        }
    }
}

struct Cursor<'s> {
    pass: &'s Pass,
    /// Where the next search of this pass starts.
    from: usize,
    pending: Option<(usize, usize)>,
    done: bool,
}

fn packed_span(from: usize, to: usize) -> aho_corasick::Span {
    aho_corasick::Span {
        start: from,
        end: to,
    }
}

/// A place in a searcher's pattern list.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    Prefix(usize),
    /// Holds a bucket's place; its bytes follow the first prefix of the bucket.
    Filler {
        bucket: usize,
    },
}

fn teddy_pass(layout: &[Slot], prefix_bytes: &[&[u8]]) -> Option<Pass> {
    let mut config = packed::Config::new();
    config
        .match_kind(PackedMatchKind::LeftmostFirst)
        .heuristic_pattern_limits(false);
    let mut builder = config.builder();
    let mut prefix_of = Vec::with_capacity(layout.len());
    for slot in layout {
        match *slot {
            Slot::Prefix(p) => {
                builder.add(prefix_bytes[p]);
                prefix_of.push(Some(p));
            }
            Slot::Filler { bucket } => {
                builder.add(filler(layout, bucket, prefix_bytes));
                prefix_of.push(None);
            }
        }
    }
    Some(Pass {
        engine: Engine::Teddy(builder.build()?),
        prefix_of,
    })
}

/// Bytes that never occur twice in a row in UTF-8 (`0xF0..=0xFF`), with the low nybbles of the
/// bucket's first prefix, so that aho-corasick files the filler with it and the bucket admits
/// no byte of ordinary text it did not already admit.
fn filler(layout: &[Slot], bucket: usize, prefix_bytes: &[&[u8]]) -> Vec<u8> {
    let first = layout
        .iter()
        .enumerate()
        .find_map(|(id, slot)| match *slot {
            Slot::Prefix(p) if bucket_of(id) == bucket => Some(prefix_bytes[p]),
            _ => None,
        });
    let len = layout
        .iter()
        .find_map(|slot| match *slot {
            Slot::Prefix(p) => Some(prefix_bytes[p].len()),
            Slot::Filler { .. } => None,
        })
        .unwrap_or(PREFIX_LEN);
    match first {
        Some(prefix) => prefix.iter().map(|b| 0xF0 | (b & 0x0F)).collect(),
        None => vec![0xFF; len],
    }
}

/// The bucket aho-corasick gives the first pattern of a low-nybble prefix with this id.
fn bucket_of(id: usize) -> usize {
    BUCKETS - 1 - id % BUCKETS
}

/// Which bits of each byte's low and high nybble a bucket admits, per offset.
#[derive(Clone, Copy, Default)]
struct Masks {
    low: [u16; PREFIX_LEN],
    high: [u16; PREFIX_LEN],
}

impl Masks {
    fn with(mut self, prefix: &[u8]) -> Masks {
        for (i, &b) in prefix.iter().enumerate() {
            self.low[i] |= 1 << (b & 0x0F);
            self.high[i] |= 1 << (b >> 4);
        }
        self
    }

    /// The chance that the bucket fires at a position of ordinary text (offsets taken as
    /// independent).
    fn firing_rate(&self, len: usize) -> f64 {
        (0..len)
            .map(|i| {
                let mut admitted = 0u32;
                for high in bits(self.high[i]) {
                    for low in bits(self.low[i]) {
                        admitted += u32::from(BYTE_FREQUENCY[high << 4 | low]);
                    }
                }
                f64::from(admitted) / 65_536.0
            })
            .product()
    }
}

/// The positions of the set bits of `mask`, lowest first.
fn bits(mut mask: u16) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let bit = mask.trailing_zeros() as usize;
        mask &= mask.wrapping_sub(1);
        (bit < 16).then_some(bit)
    })
}

/// Lays out the prefixes of `group` (all of one length) over as few Teddy searchers as hold
/// them, putting in each bucket the prefixes that keep its firing rate lowest.
fn plan(group: &[usize], prefix_bytes: &[&[u8]]) -> Vec<Vec<Slot>> {
    let len = prefix_bytes[group[0]].len();
    // Prefixes with the same low nybbles share a bucket whatever we ask: plan them as one.
    let mut units: Vec<Vec<usize>> = Vec::new();
    let mut unit_of: HashMap<[u8; PREFIX_LEN], usize> = HashMap::with_capacity(group.len());
    for &p in group {
        let mut low = [0; PREFIX_LEN];
        for (l, b) in low.iter_mut().zip(prefix_bytes[p]) {
            *l = b & 0x0F;
        }
        let unit = *unit_of.entry(low).or_insert_with(|| {
            units.push(Vec::new());
            units.len() - 1
        });
        units[unit].push(p);
    }
    // The commonest first, while every bucket is still open to them. (A rate is a
    // non-negative float: its bits order as it does.)
    units.sort_by_cached_key(|unit| {
        let rate = unit
            .iter()
            .fold(Masks::default(), |m, &p| m.with(prefix_bytes[p]))
            .firing_rate(len);
        (std::cmp::Reverse(rate.to_bits()), unit.clone())
    });
    let capacity = BUCKETS * MAX_PER_BUCKET;
    let mut searchers = group.len().div_ceil(capacity - capacity / 8);
    loop {
        // A little room to spare, so the greedy choice is free to leave a bucket short.
        let per_bucket = (group.len() * 5 / 4)
            .div_ceil(searchers * BUCKETS)
            .clamp(1, MAX_PER_BUCKET);
        if let Some(layouts) = fill(&units, prefix_bytes, len, searchers, per_bucket) {
            return layouts;
        }
        searchers += 1;
    }
}

/// The greedy placement with `searchers` searchers of at most `per_bucket` prefixes a bucket,
/// or `None` if a unit finds no room.
fn fill(
    units: &[Vec<usize>],
    prefix_bytes: &[&[u8]],
    len: usize,
    searchers: usize,
    per_bucket: usize,
) -> Option<Vec<Vec<Slot>>> {
    // Each bucket's masks and, while it holds a prefix, their firing rate.
    let mut masks = vec![[(Masks::default(), 0.0); BUCKETS]; searchers];
    let mut members: Vec<[Vec<usize>; BUCKETS]> = (0..searchers)
        .map(|_| std::array::from_fn(|_| Vec::new()))
        .collect();
    for unit in units {
        let mut best: Option<(f64, usize, usize, Masks, f64)> = None;
        for s in 0..searchers {
            for b in 0..BUCKETS {
                if members[s][b].len() + unit.len() > per_bucket {
                    continue;
                }
                let (before, before_rate) = masks[s][b];
                let after = unit.iter().fold(before, |m, &p| m.with(prefix_bytes[p]));
                let after_rate = after.firing_rate(len);
                let cost = after_rate - before_rate;
                if best.is_none_or(|(best_cost, ..)| cost < best_cost) {
                    best = Some((cost, s, b, after, after_rate));
                }
            }
        }
        let (_, s, b, after, after_rate) = best?;
        masks[s][b] = (after, after_rate);
        members[s][b].extend(unit);
    }
    Some(
        members
            .iter()
            .filter(|buckets| buckets.iter().any(|m| !m.is_empty()))
            .map(|buckets| {
                let depth = buckets.iter().map(Vec::len).max().unwrap_or(1);
                (0..depth * BUCKETS)
                    .map(|id| {
                        let bucket = bucket_of(id);
                        buckets[bucket]
                            .get(id / BUCKETS)
                            .map_or(Slot::Filler { bucket }, |&p| Slot::Prefix(p))
                    })
                    .collect()
            })
            .collect(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn reference(literals: &[String], text: &str) -> Vec<(usize, usize)> {
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(literals)
            .unwrap()
            .find_iter(text)
            .map(|hit| (hit.start(), hit.pattern().as_usize()))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any set of literals (shared prefixes, literals inside others, every length from 1,
        /// enough of them to need several planned searchers), any text made of them: the hits
        /// are those of one leftmost-longest automaton.
        #[test]
        fn hits_are_those_of_one_leftmost_longest_automaton(
            literals in proptest::collection::hash_set("[a-eA-C_-]{1,7}", 1..300),
            pieces in proptest::collection::vec((0..300usize, "[a-eA-C_ -]{0,3}"), 0..60),
        ) {
            let literals: Vec<String> = literals.into_iter().collect();
            let text: String = pieces
                .iter()
                .map(|(i, filler)| format!("{}{filler}", literals[i % literals.len()]))
                .collect();
            let searcher = KeywordSearcher::new(&literals);
            let hits: Vec<(usize, usize)> = searcher.hits(text.as_bytes()).collect();
            prop_assert_eq!(hits, reference(&literals, &text));
        }
    }

    #[test]
    fn many_literals_are_planned_over_full_buckets_with_fillers() {
        // 200 four-byte literals with distinct low nybbles need two planned searchers.
        let literals: Vec<String> = (0..200)
            .map(|i| format!("{}{}_x", char::from(b'a' + (i % 26) as u8), i))
            .collect();
        let searcher = KeywordSearcher::new(&literals);
        if searcher
            .passes
            .iter()
            .all(|pass| matches!(pass.engine, Engine::Automaton(_)))
        {
            return; // no Teddy on this platform
        }
        assert!(searcher.passes() >= 2);
        for pass in &searcher.passes {
            assert!(pass.prefix_of.len() <= BUCKETS * MAX_PER_BUCKET);
        }
        let text = literals.join(" ");
        assert_eq!(
            searcher.hits(text.as_bytes()).count(),
            reference(&literals, &text).len()
        );
    }

    #[test]
    fn fillers_are_never_valid_utf8_and_join_their_bucket() {
        let prefixes: Vec<&[u8]> = vec![b"sk-a", b"ghp_"];
        let layout = vec![
            Slot::Prefix(0),
            Slot::Prefix(1),
            Slot::Filler {
                bucket: bucket_of(0),
            },
            Slot::Filler {
                bucket: bucket_of(2),
            },
        ];
        let filler_of_first = filler(&layout, bucket_of(0), &prefixes);
        assert!(std::str::from_utf8(&filler_of_first).is_err());
        let low = |bytes: &[u8]| bytes.iter().map(|b| b & 0x0F).collect::<Vec<_>>();
        assert_eq!(low(&filler_of_first), low(b"sk-a"));
        assert_eq!(filler(&layout, bucket_of(2), &prefixes), vec![0xFF; 4]);
    }
}
