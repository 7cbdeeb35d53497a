//! Detection lines: where the text is cut into the lines the `Detector` looks at when a
//! redactor detects unknown secrets.
//!
//! One-shot and stream redaction both cut here, which keeps their detections equal for any
//! split of the input.

/// With detection on, the detector sees one line at a time; a line longer than this many bytes
/// is cut (at a character boundary) and its rest taken as the next line, so a stream never holds
/// back more than this for detection.
pub(crate) const DETECT_LINE_CAP: usize = 64 * 1024;

/// Where the detection line starting at `start` ends, and where the next one starts.
///
/// A line ends before its `\n`; one longer than [`DETECT_LINE_CAP`] bytes is cut after the last
/// space or tab within the cap (at the last character boundary if it has none), and the next
/// line starts at the cut. `text[start..searched]` is known to hold no `\n`. `None` when the
/// line may still grow: `text` is not `complete` (more may follow) and neither a `\n` nor the
/// cap was reached.
pub(crate) fn detection_line(
    text: &str,
    start: usize,
    searched: usize,
    complete: bool,
) -> Option<(usize, usize)> {
    // A `\n` right after a line of exactly the cap still ends it.
    let limit = text.len().min(start + DETECT_LINE_CAP + 1);
    let from = searched.max(start).min(limit);
    if let Some(at) = memchr::memchr(b'\n', &text.as_bytes()[from..limit]) {
        return Some((from + at, from + at + 1));
    }
    if text.len() > start + DETECT_LINE_CAP {
        let mut cut = start + DETECT_LINE_CAP;
        // After the last blank within the cap, if any: a key straddling the cap is then seen
        // whole on the next line (keys hold no blanks).
        if let Some(at) = text.as_bytes()[start..cut]
            .iter()
            .rposition(|&b| b == b' ' || b == b'\t')
        {
            cut = start + at + 1;
        }
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        return Some((cut, cut));
    }
    complete.then_some((text.len(), text.len()))
}

/// The lines of a text the detector is to look at: from `start` (where a line starts) on, up
/// to the last line break, or to the end of the text if it is `complete` (no more will follow).
/// `text[start..searched]` is known to hold no `\n`; what is found there is reported `offset`
/// bytes further on (where `text` starts in a longer one).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lines<'t> {
    pub(crate) text: &'t str,
    pub(crate) start: usize,
    pub(crate) searched: usize,
    pub(crate) complete: bool,
    pub(crate) offset: usize,
}

impl<'t> Lines<'t> {
    /// Every line of `text`, a whole text.
    pub(crate) fn all(text: &'t str) -> Lines<'t> {
        Lines {
            text,
            start: 0,
            searched: 0,
            complete: true,
            offset: 0,
        }
    }

    /// Where the complete ones end ([`lines_block`]).
    pub(crate) fn block(&self) -> Block {
        lines_block(self.text, self.start, self.searched, self.complete)
    }
}

/// The complete detection lines from a position on, as [`lines_block`] finds them.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Block {
    /// No line is complete yet.
    Empty,
    /// The lines up to `end` are complete and none is cut for its length, so they are the
    /// `\n`-separated ones and each can be found from any byte in it; the next line starts at
    /// `after`.
    Uncut { end: usize, after: usize },
    /// Some line may be cut for its length: take them one by one with [`detection_line`].
    MayBeCut,
}

/// The block of complete detection lines of `text` from `start` on, with `searched` and
/// `complete` as for [`detection_line`]: where they end, without a search per line.
pub(crate) fn lines_block(text: &str, start: usize, searched: usize, complete: bool) -> Block {
    let bytes = text.as_bytes();
    let from = searched.max(start).min(text.len());
    let last_break = memchr::memrchr(b'\n', &bytes[from..]).map(|k| from + k);
    let (end, after) = if complete {
        (text.len(), text.len())
    } else {
        let after = last_break.map_or(start, |at| at + 1);
        // A line that cannot end before the cap is cut there, so is complete.
        if text.len() - after > DETECT_LINE_CAP {
            return Block::MayBeCut;
        }
        match last_break {
            Some(at) => (at, after),
            None => return Block::Empty,
        }
    };
    // A line longer than the cap holds a whole chunk of half the cap counted from `start`:
    // only the lines around a chunk without a `\n` need measuring.
    let half = DETECT_LINE_CAP / 2;
    let mut chunk = start;
    while chunk + half <= end {
        if memchr::memchr(b'\n', &bytes[chunk..chunk + half]).is_none() {
            let line_start =
                memchr::memrchr(b'\n', &bytes[start..chunk]).map_or(start, |k| start + k + 1);
            let line_end =
                memchr::memchr(b'\n', &bytes[chunk + half..end]).map_or(end, |k| chunk + half + k);
            if line_end - line_start > DETECT_LINE_CAP {
                return Block::MayBeCut;
            }
        }
        chunk += half;
    }
    Block::Uncut { end, after }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_lines_end_at_newlines_or_the_cap() {
        let cap = DETECT_LINE_CAP;
        assert_eq!(detection_line("ab\ncd", 0, 0, false), Some((2, 3)));
        assert_eq!(detection_line("ab\ncd", 3, 3, false), None);
        assert_eq!(detection_line("ab\ncd", 3, 3, true), Some((5, 5)));
        // a `\n` right after exactly the cap ends the line there
        let exact = format!("{}\nx", "a".repeat(cap));
        assert_eq!(detection_line(&exact, 0, 0, false), Some((cap, cap + 1)));
        // a longer line is cut at the cap, moved back to a character boundary
        let long = format!("{}é{}", "a".repeat(cap - 1), "b".repeat(10));
        assert_eq!(detection_line(&long, 0, 0, false), Some((cap - 1, cap - 1)));
        assert_eq!(detection_line(&long, cap - 1, cap - 1, false), None);
        // only the bytes after `searched` are looked at again
        assert_eq!(detection_line("abcd", 0, 4, false), None);
    }
}
