//! Detection of unknown secrets on two threads, for long texts
//! ([`RedactorBuilder::with_parallel_detection`](super::RedactorBuilder::with_parallel_detection)).
//!
//! Detection looks at one line at a time, so the lines of a long text are cut into blocks that
//! end after a line break, and a second thread and the calling thread each take the next block
//! (from a shared counter) until none is left; the calling thread first does its own work (the
//! search for the registered secrets), so the two searches overlap and the detector's larger
//! share is split. Each block is searched as [`Redactor::detect_lines`] searches the whole: it
//! starts where a line starts, so it holds the same detection lines, and the detections are put
//! back in block order.

use std::ops::Range;
use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use super::Redactor;
use crate::guard::detection_line::Lines;
use crate::guard::region::Detected;

/// The secrets found by detection: absolute range and description, in text order.
pub(crate) type Detections = Vec<(Range<usize>, Detected)>;

/// When detection runs on two threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParallelDetection {
    /// Texts shorter than this (from where detection starts) are searched on one thread:
    /// starting a thread costs some tens of microseconds.
    pub(crate) min_len: usize,
    /// About how long a block is; it ends after the first line break from there on.
    pub(crate) block_len: usize,
}

impl ParallelDetection {
    /// For texts of 256 KiB or more, in blocks of 64 KiB: a block takes the detector 0.1 to
    /// 0.3 ms on code and prose (docs/benchmarks.md), several times what starting the thread
    /// costs, and a mebibyte makes 16 blocks to share evenly.
    pub(crate) const DEFAULT: ParallelDetection = ParallelDetection {
        min_len: 256 * 1024,
        block_len: 64 * 1024,
    };
}

/// One block's result: its index, where the first line it did not search starts, and what it
/// found.
type BlockResult = (usize, usize, Detections);

impl Redactor {
    /// Runs `here` on this thread and [`detect_lines`](Redactor::detect_lines) of `lines`,
    /// collecting the detections; on two threads when the redactor is built so and the text is
    /// long enough, else one after the other. Returns what `here` returned, where the first
    /// line not searched starts, and the detections in text order.
    pub(crate) fn detect_lines_beside<A>(
        &self,
        lines: Lines<'_>,
        here: impl FnOnce() -> A,
    ) -> (A, usize, Detections) {
        let Lines { text, start, .. } = lines;
        let cuts = match self.inner.parallel_detection {
            Some(parallel) if self.detects_unknown() && text.len() - start >= parallel.min_len => {
                block_starts(text, start, parallel.block_len)
            }
            _ => Vec::new(),
        };
        if cuts.len() < 2 {
            let done = here();
            let mut found = Vec::new();
            let next = self.detect_lines(lines, |range, d| found.push((range, d)));
            return (done, next, found);
        }
        // Block `i` is the lines from `cuts[i]` to the next cut, after a line break; the last
        // one ends the text, and only it may end in a line that is not complete. (`searched`
        // is before the second cut: it only spares a search.)
        let search_block = |i: usize| -> BlockResult {
            let mut found = Vec::new();
            let from = cuts[i];
            let (end, complete) = cuts
                .get(i + 1)
                .map_or((text.len(), lines.complete), |&to| (to, false));
            let block = Lines {
                text: &text[..end],
                start: from,
                searched: from,
                complete,
                offset: lines.offset,
            };
            let next = self.detect_lines(block, |r, d| found.push((r, d)));
            (i, next, found)
        };
        let next_block = AtomicUsize::new(0);
        let take_blocks = || {
            let mut taken = Vec::new();
            loop {
                let i = next_block.fetch_add(1, Ordering::Relaxed);
                if i >= cuts.len() {
                    return taken;
                }
                taken.push(search_block(i));
            }
        };
        let (result, blocks) = thread::scope(|scope| {
            // Should the thread not start, this one takes every block.
            let helper = thread::Builder::new()
                .name("keyward-detect".to_owned())
                .spawn_scoped(scope, take_blocks);
            let result = here();
            let mut blocks = take_blocks();
            if let Ok(helper) = helper {
                match helper.join() {
                    Ok(theirs) => blocks.extend(theirs),
                    Err(panicked) => panic::resume_unwind(panicked),
                }
            }
            (result, blocks)
        });
        let (next, found) = in_text_order(blocks, start);
        (result, next, found)
    }
}

/// The blocks' results, taken by either thread, as one search of them all would give them:
/// where the first line not searched starts (`start` without a block), and the detections in
/// text order.
fn in_text_order(mut blocks: Vec<BlockResult>, start: usize) -> (usize, Detections) {
    blocks.sort_unstable_by_key(|&(i, _, _)| i);
    let next = blocks.last().map_or(start, |&(_, next, _)| next);
    let found = blocks.into_iter().flat_map(|(_, _, found)| found).collect();
    (next, found)
}

/// Where the blocks of `text` from `start` on begin: at `start`, then after the first line
/// break at least `block_len` bytes past the last one.
fn block_starts(text: &str, start: usize, block_len: usize) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut cuts = vec![start];
    let mut at = start;
    while let Some(from) = at.checked_add(block_len.max(1))
        && from < bytes.len()
        && let Some(k) = memchr::memchr(b'\n', &bytes[from..])
    {
        at = from + k + 1;
        if at == bytes.len() {
            break;
        }
        cuts.push(at);
    }
    cuts
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::SecretString;
    use crate::guard::detection_line::DETECT_LINE_CAP;
    use crate::guard::detector::{Detector, RuleSet};
    use crate::guard::redactor::lines_tests::line;

    #[test]
    fn blocks_start_after_a_line_break_past_the_block_length() {
        assert_eq!(block_starts("ab\ncd\nef\n", 0, 2), vec![0, 3, 6]);
        assert_eq!(block_starts("ab\ncd\nef\n", 3, 2), vec![3, 6]);
        // the last line break ends the text: no empty block after it
        assert_eq!(block_starts("abcdef\n", 0, 2), vec![0]);
        // a long line without a break is one block
        assert_eq!(block_starts("abcdefgh", 0, 2), vec![0]);
        assert_eq!(block_starts("a\nbcdefgh\ni", 0, 1), vec![0, 2, 10]);
    }

    /// Results that come back in any order are put in block order.
    #[test]
    fn block_results_are_put_in_text_order() {
        let detected = |label: &str| Detected {
            label: Arc::from(label),
            fingerprint: crate::mask::fingerprint(label),
        };
        let block = |i: usize| -> BlockResult {
            let found = (0..i % 3)
                .map(|k| (i * 10 + k..i * 10 + k + 1, detected(&format!("{i}.{k}"))))
                .collect();
            (i, i * 10 + 10, found)
        };
        let in_order: Vec<BlockResult> = (0..6).map(block).collect();
        let expected = (
            60,
            in_order
                .iter()
                .flat_map(|b| b.2.clone())
                .collect::<Vec<_>>(),
        );
        for order in [[5, 4, 3, 2, 1, 0], [1, 0, 3, 2, 5, 4], [3, 0, 4, 1, 5, 2]] {
            let shuffled = order.iter().map(|&i| block(i)).collect();
            assert_eq!(in_text_order(shuffled, 7), expected);
        }
        assert_eq!(in_text_order(Vec::new(), 7), (7, Vec::new()));
    }

    fn key() -> SecretString {
        SecretString::from(format!("sk-proj-{}", "Wq4Tz8Lm2Xr6".repeat(3)))
    }

    /// A user's rule, whose detector has no keyword search of its own for the lines: blocks
    /// then go line by line.
    const ACME: &str = "[acme-token]\nname = Acme token\nkeywords = acme_\nprefixes = acme_\n\
                        shape = acme_[A-Za-z0-9]{24}\nentropy = 3.0\n";

    /// A redactor of one registered key that detects (with the user's rule above too, if
    /// `with_rules`), on one thread or, from texts of `min_len` bytes in blocks of `block_len`,
    /// on two.
    fn redactor(parallel: Option<(usize, usize)>, with_rules: bool) -> Redactor {
        let mut builder = Redactor::builder()
            .with_secret("OPENAI_API_KEY", &key())
            .with_unknown_detection(true);
        if with_rules {
            let rules = RuleSet::builder()
                .with_rules_text("acme.rules", ACME)
                .build()
                .unwrap();
            builder = builder.with_detector(Detector::builder().with_rules(rules).build().unwrap());
        }
        match parallel {
            Some((min_len, block_len)) => builder.with_parallel_detection_from(min_len, block_len),
            None => builder,
        }
        .build()
        .unwrap()
    }

    /// Lines with keys to detect, and the registered key or a token of the user's rule here
    /// and there.
    fn text() -> impl Strategy<Value = String> {
        let key = key().expose_secret().to_owned();
        let acme = format!("acme_{}", "Qz7Xw2Rt".repeat(3));
        (
            prop::collection::vec((line(), 0..3u8), 0..40),
            any::<bool>(),
        )
            .prop_map(move |(lines, ends_in_break)| {
                let lines: Vec<String> = lines
                    .into_iter()
                    .map(|(line, added)| match added {
                        1 => format!("{line} {key}"),
                        2 => format!("{line} token = {acme};"),
                        _ => line,
                    })
                    .collect();
                let mut text = lines.join("\n");
                if ends_in_break {
                    text.push('\n');
                }
                text
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Any block length, start, `searched` and end of the text: the same detections, in
        /// the same order, and the same next line, as on one thread.
        #[test]
        fn blocks_on_two_threads_detect_what_one_thread_detects(
            text in text(),
            block_len in 1..200usize,
            skipped_lines in 0..3usize,
            searched_past in 0..40usize,
            complete in any::<bool>(),
            with_rules in any::<bool>(),
        ) {
            let start = text
                .match_indices('\n')
                .nth(skipped_lines.saturating_sub(1))
                .filter(|_| skipped_lines > 0)
                .map_or(0, |(at, _)| at + 1);
            // Up to `searched` no line break: the first one after `start` bounds it.
            let first_break = text[start..].find('\n').map_or(text.len(), |k| start + k);
            let searched = (start + searched_past).min(first_break);
            let one = redactor(None, with_rules);
            let two = redactor(Some((0, block_len)), with_rules);
            let mut expected = Vec::new();
            let lines = Lines {
                text: &text,
                start,
                searched,
                complete,
                offset: 3,
            };
            let next = one.detect_lines(lines, |range, d| expected.push((range, d)));
            // The calling thread starts late: the helper takes the first blocks.
            let (here, got_next, got) =
                two.detect_lines_beside(lines, || {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                    42
                });
            prop_assert_eq!(here, 42);
            prop_assert_eq!(got_next, next);
            prop_assert_eq!(got, expected);
        }

        /// What `redact`, `find` and a stream cut anywhere make of a text does not depend on
        /// whether detection runs on two threads.
        #[test]
        fn redaction_is_the_same_on_two_threads(
            text in text(),
            block_len in 1..200usize,
            cuts in prop::collection::vec(0..4000usize, 0..6),
            with_rules in any::<bool>(),
        ) {
            let one = redactor(None, with_rules);
            let two = redactor(Some((0, block_len)), with_rules);
            let expected = one.redact(&text);
            prop_assert_eq!(&two.redact(&text), &expected);
            prop_assert_eq!(two.find(&text), one.find(&text));
            let mut points: Vec<usize> = cuts.iter().map(|&c| c % (text.len() + 1)).collect();
            points.sort_unstable();
            let mut stream = two.stream();
            let (mut out, mut from) = (String::new(), 0);
            for point in points {
                let mut to = point.max(from);
                while !text.is_char_boundary(to) {
                    to += 1;
                }
                stream.push_into(&text[from..to], &mut out);
                from = to;
            }
            stream.push_into(&text[from..], &mut out);
            stream.finish_into(&mut out);
            prop_assert_eq!(out, expected.into_owned());
        }
    }

    /// The properties do not hold for want of findings: each kind of line the texts are made
    /// of has one, the user's rule's token only with the rule.
    #[test]
    fn the_generated_lines_hold_what_the_redactors_find() {
        let acme = format!("token = acme_{};", "Qz7Xw2Rt".repeat(3));
        let labels = |with_rules: bool, text: &str| -> Vec<String> {
            let found = redactor(Some((0, 1)), with_rules).find(text);
            found.iter().map(|f| f.label().to_owned()).collect()
        };
        assert_eq!(labels(true, &acme), ["acme-token"]);
        assert!(labels(false, &acme).is_empty());
        let registered = format!("key {}", key().expose_secret());
        assert!(labels(true, &registered).contains(&"OPENAI_API_KEY".to_owned()));
    }

    /// Lines longer than the detection cap are cut in a block as in the whole.
    #[test]
    fn lines_longer_than_the_cap_are_cut_alike_in_blocks() {
        let found = format!("AKIA{}", "Q7ZR3MXK2WPL5TYB");
        let filler = "word ".repeat(DETECT_LINE_CAP / 5 + 10);
        let text = format!(
            "{found}\n{filler}{found}\nshort {found}\n{filler}\n{filler} {found} {filler}\nend {found}"
        );
        let one = redactor(None, false);
        for block_len in [1, 100, DETECT_LINE_CAP / 2, DETECT_LINE_CAP * 2] {
            let two = redactor(Some((0, block_len)), false);
            for complete in [false, true] {
                let mut expected = Vec::new();
                let lines = Lines {
                    complete,
                    ..Lines::all(&text)
                };
                let next = one.detect_lines(lines, |range, d| expected.push((range, d)));
                let (_, got_next, got) = two.detect_lines_beside(lines, || ());
                assert_eq!((got_next, &got), (next, &expected), "blocks of {block_len}");
            }
            assert_eq!(two.redact(&text), one.redact(&text));
        }
        // The property does not hold for want of detections.
        assert_eq!(one.find(&text).len(), 5);
    }

    /// Texts shorter than the threshold are searched on this thread alone, the default
    /// threshold is where the builder puts it, and a machine of one CPU never uses two.
    #[test]
    fn the_builder_sets_the_default_threshold() {
        let built = Redactor::builder()
            .with_unknown_detection(true)
            .with_parallel_detection(true)
            .build()
            .unwrap();
        let expected = std::thread::available_parallelism()
            .is_ok_and(|n| n.get() > 1)
            .then_some(ParallelDetection::DEFAULT);
        assert_eq!(built.inner.parallel_detection, expected);
        let off = Redactor::builder()
            .with_unknown_detection(true)
            .build()
            .unwrap();
        assert_eq!(off.inner.parallel_detection, None);
    }
}
