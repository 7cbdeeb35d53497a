//! [`Region`]: a stretch of text to replace, the union of overlapping hits.
//!
//! One-shot and streaming redaction build regions the same way and render them the same way,
//! which is what makes a stream's output equal the one-shot output for any split.
//!
//! # Pieces
//!
//! A region can grow without end: a secret that repeats a block of itself (`hunter2hunter2...`,
//! `0000...`) matches again and again in a text that keeps repeating that block, and the hits
//! overlap. A stream cannot emit a region before it knows its end, so it would hold back the
//! whole run. Instead a region is rendered in *pieces* of at most [`Region::piece_len`] bytes
//! (moved forward to a character boundary), counted from its start: each piece becomes one
//! replacement naming the secrets whose hits overlap it. A piece ends before any hit found later
//! can start, so a stream emits it as soon as it is complete, and memory stays bounded whatever
//! the input. A region no longer than a piece (every ordinary occurrence) is one replacement.

use std::ops::Range;
use std::sync::Arc;

use super::encode::Encoding;
use super::hit::Hit;
use crate::mask::Fingerprint;

/// What a hit inside a region was: a registered secret (by index), or a secret the detector
/// found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Registered(u32),
    Detected(Detected),
}

/// A secret the detector found: what to call it (a format's name, a user rule's id), and the
/// fingerprint of the text found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Detected {
    pub(crate) label: Arc<str>,
    pub(crate) fingerprint: Fingerprint,
}

/// One hit inside a region.
#[derive(Debug, Clone)]
struct Part {
    range: Range<usize>,
    source: Source,
    /// A registered secret as written, whole (not encoded, not a fragment).
    raw: bool,
}

/// A range to replace, the union of overlapping hits.
#[derive(Debug, Clone)]
pub(crate) struct Region {
    pub(crate) range: Range<usize>,
    parts: Vec<Part>,
}

impl Region {
    /// The longest piece a region is rendered in (see the module docs), given the longest pattern
    /// searched for: long enough that two overlapping occurrences stay one replacement.
    pub(crate) fn piece_len(max_pattern_len: usize) -> usize {
        (4 * max_pattern_len).max(4096)
    }

    /// Where the piece starting at `start` ends: `piece_len` bytes on, moved forward to a
    /// character boundary of `text` (whose first byte is at absolute offset `base`), and no
    /// further than the region's end.
    pub(crate) fn piece_end(
        &self,
        start: usize,
        piece_len: usize,
        text: &str,
        base: usize,
    ) -> usize {
        let mut end = start + piece_len;
        if end >= self.range.end {
            return self.range.end;
        }
        while !text.is_char_boundary(end - base) {
            end += 1;
        }
        end.min(self.range.end)
    }

    /// The sources of the hits overlapping `piece`, each once, in the order they were added.
    pub(crate) fn sources_in(&self, piece: Range<usize>) -> Vec<Source> {
        let mut sources: Vec<Source> = Vec::new();
        for part in &self.parts {
            if part.range.start < piece.end
                && part.range.end > piece.start
                && !sources.contains(&part.source)
            {
                sources.push(part.source.clone());
            }
        }
        sources
    }

    /// The registered secret this region is, as written and whole: one secret's raw hit spans
    /// the region, and every other hit in it is of the same secret (its fragments) or a
    /// detection (which lies inside). `None` when the region is anything else: an encoding, a
    /// fragment, two secrets, an unknown key. Hits are compared as a set, so the answer does
    /// not depend on the order they arrived in, which keeps streams equal to one-shot output.
    pub(crate) fn whole_raw(&self) -> Option<u32> {
        let mut whole = None;
        for part in &self.parts {
            match part.source {
                Source::Registered(s) if part.raw && part.range == self.range => match whole {
                    None => whole = Some(s),
                    Some(t) if t != s => return None,
                    Some(_) => {}
                },
                _ => {}
            }
        }
        let whole = whole?;
        self.parts
            .iter()
            .all(|part| match part.source {
                Source::Registered(s) => s == whole,
                Source::Detected(_) => true,
            })
            .then_some(whole)
    }

    /// Splits off the part of the region before `at`, a piece boundary strictly inside it; the
    /// region keeps the rest and the hits that reach into it.
    pub(crate) fn split_off_front(&mut self, at: usize) -> Region {
        debug_assert!(self.range.start < at && at < self.range.end);
        let front = Region {
            range: self.range.start..at,
            parts: self
                .parts
                .iter()
                .filter(|p| p.range.start < at)
                .cloned()
                .collect(),
        };
        self.parts.retain(|p| p.range.end > at);
        self.range.start = at;
        front
    }
}

/// Adds `hit` to the sorted, disjoint `regions`, merging every region it overlaps.
pub(crate) fn add_region(regions: &mut Vec<Region>, hit: Hit) {
    let raw = hit.encoding == Encoding::Raw;
    merge(regions, hit.range, Source::Registered(hit.secret), raw);
}

/// Like [`add_region`], for a secret the detector found at `range`.
pub(crate) fn add_detected_region(regions: &mut Vec<Region>, range: Range<usize>, found: Detected) {
    merge(regions, range, Source::Detected(found), false);
}

/// Ranges that only touch stay apart, so the result does not depend on the order hits arrive in.
fn merge(regions: &mut Vec<Region>, range: Range<usize>, source: Source, raw: bool) {
    let part = Part {
        range: range.clone(),
        source,
        raw,
    };
    // Disjoint and sorted by start, so sorted by end too.
    let first = regions.partition_point(|r| r.range.end <= range.start);
    let mut last = first;
    while last < regions.len() && regions[last].range.start < range.end {
        last += 1;
    }
    if first == last {
        regions.insert(
            first,
            Region {
                range,
                parts: vec![part],
            },
        );
        return;
    }
    // Grow the first overlapping region in place: a run of overlapping hits, the common case of
    // a long region, then costs O(1) per hit.
    let absorbed: Vec<Region> = regions.drain(first + 1..last).collect();
    let target = &mut regions[first];
    target.range.start = target.range.start.min(range.start);
    target.range.end = target.range.end.max(range.end);
    target.parts.push(part);
    for region in absorbed {
        target.range.end = target.range.end.max(region.range.end);
        target.parts.extend(region.parts);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn hit(range: Range<usize>, secret: u32) -> Hit {
        Hit {
            range,
            secret,
            encoding: Encoding::Raw,
        }
    }

    #[test]
    fn regions_merge_overlaps_in_any_order_but_not_neighbours() {
        let mut a = Vec::new();
        for h in [hit(0..5, 0), hit(5..10, 1), hit(3..7, 2)] {
            add_region(&mut a, h);
        }
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].range, 0..10);
        let sources = a[0].sources_in(0..10);
        for s in 0..3 {
            assert!(sources.contains(&Source::Registered(s)));
        }
        let mut b = Vec::new();
        for h in [hit(5..10, 1), hit(0..5, 0)] {
            add_region(&mut b, h);
        }
        assert_eq!(b.len(), 2);
    }

    #[test]
    fn a_piece_names_only_the_hits_overlapping_it() {
        let mut regions = Vec::new();
        for h in [hit(0..10, 0), hit(8..20, 1), hit(18..30, 2)] {
            add_region(&mut regions, h);
        }
        let region = &regions[0];
        assert_eq!(
            region.sources_in(0..8),
            vec![Source::Registered(0)],
            "the first piece"
        );
        assert_eq!(region.sources_in(20..30), vec![Source::Registered(2)]);
    }

    #[test]
    fn split_keeps_the_hits_that_reach_across() {
        let mut regions = Vec::new();
        for h in [hit(0..10, 0), hit(8..20, 1)] {
            add_region(&mut regions, h);
        }
        let mut region = regions.remove(0);
        let front = region.split_off_front(9);
        assert_eq!(front.range, 0..9);
        assert_eq!(region.range, 9..20);
        assert_eq!(front.sources_in(0..9).len(), 2);
        assert_eq!(region.sources_in(9..20).len(), 2);
        let rest = region.split_off_front(12);
        assert_eq!(rest.sources_in(9..12).len(), 2);
        assert_eq!(region.sources_in(12..20), vec![Source::Registered(1)]);
    }

    #[test]
    fn a_region_is_whole_raw_only_for_one_secret_as_written() {
        let fragment = |range, secret| Hit {
            range,
            secret,
            encoding: Encoding::Fragment,
        };
        let region = |hits: Vec<Hit>| {
            let mut regions = Vec::new();
            for h in hits {
                add_region(&mut regions, h);
            }
            assert_eq!(regions.len(), 1);
            regions.remove(0)
        };
        // the key with its own fragments inside, in any order
        assert_eq!(
            region(vec![fragment(2..8, 0), hit(0..10, 0)]).whole_raw(),
            Some(0)
        );
        // a fragment alone, or one reaching past the key
        assert_eq!(region(vec![fragment(0..10, 0)]).whole_raw(), None);
        assert_eq!(
            region(vec![hit(0..10, 0), fragment(8..14, 0)]).whole_raw(),
            None
        );
        // two keys overlapping, or the same value under two names
        assert_eq!(region(vec![hit(0..10, 0), hit(5..15, 1)]).whole_raw(), None);
        assert_eq!(region(vec![hit(0..10, 0), hit(0..10, 1)]).whole_raw(), None);
        // encoded
        let base64 = Hit {
            range: 0..10,
            secret: 0,
            encoding: Encoding::Base64,
        };
        assert_eq!(region(vec![base64]).whole_raw(), None);
        // a detection of the same text does not change it; one reaching past it does
        let detected = Detected {
            label: Arc::from("GitHub token"),
            fingerprint: crate::mask::fingerprint("x"),
        };
        let mut regions = Vec::new();
        add_region(&mut regions, hit(0..10, 0));
        add_detected_region(&mut regions, 0..10, detected.clone());
        assert_eq!(regions[0].whole_raw(), Some(0));
        add_detected_region(&mut regions, 5..12, detected);
        assert_eq!(regions[0].whole_raw(), None);
    }

    #[test]
    fn pieces_end_on_character_boundaries() {
        let text = "ééééé";
        let mut regions = Vec::new();
        add_region(&mut regions, hit(0..10, 0));
        assert_eq!(regions[0].piece_end(0, 3, text, 0), 4);
        assert_eq!(regions[0].piece_end(4, 100, text, 0), 10);
    }
}
