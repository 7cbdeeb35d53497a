//! Finding what users' own rules describe (a [`RuleSet`] given to
//! [`DetectorBuilder::with_rules`](super::DetectorBuilder::with_rules)): one pass of the
//! keyword automaton, then each rule's regular expression on the lines around its keywords
//! (the whole text for a rule without keywords), then the rule's checks and allowlists.

use std::ops::Range;

use super::detection::{Detection, DetectionKind, without_overlaps};
use super::rule_set::{Candidate, Rule, RuleSet};
use super::work::examined;

/// How far from a keyword a match may start or end, besides the keyword's own lines: the
/// window is the lines holding `[keyword - REACH, keyword + REACH]`, so a match on those lines
/// is never cut short (a cut match would redact only part of a secret).
pub(super) const REACH: usize = 1024;

impl RuleSet {
    /// Every detection of the rules in `text`, in order of start, without overlaps (on an
    /// overlap the earlier start wins, then the longer match, then the earlier rule). `path`
    /// is the file's path relative to the scanned root with `/` separators, for rules and
    /// allowlists with a `path`; `None` for text that is not a file (such rules do not run).
    pub(super) fn find(&self, text: &str, path: Option<&str>) -> Vec<Detection> {
        let set = self.inner();
        let mut hits: Vec<Vec<usize>> = vec![Vec::new(); set.rules.len()];
        if let Some(automaton) = &set.keywords {
            examined(text.len());
            for hit in automaton.find_overlapping_iter(text) {
                for &rule in &set.keyword_rules[hit.pattern().as_usize()] {
                    hits[rule].push(hit.start());
                }
            }
        }
        let mut found = Vec::new();
        for (index, rule) in set.rules.iter().enumerate() {
            let inner = rule.inner();
            match (&inner.path, path) {
                (Some(wanted), Some(path)) if wanted.is_match(path) => {}
                (Some(_), _) => continue,
                (None, _) => {}
            }
            let windows = if rule.keywords().is_empty() {
                std::iter::once(0..text.len()).collect()
            } else {
                let starts = &mut hits[index];
                if starts.is_empty() {
                    continue;
                }
                // Overlapping hits come in order of their end.
                starts.sort_unstable();
                starts.dedup();
                windows(text, starts)
            };
            for window in windows {
                self.find_in_window(rule, text, window, path, &mut found);
            }
        }
        without_overlaps(found)
    }

    /// Drops the detections of built-in rules (formats and the generic rule) that a global
    /// allowlist of the files excuses: one with no `targetRules`, or one naming the format's id.
    pub(super) fn excuse_built_in(
        &self,
        text: &str,
        path: Option<&str>,
        found: &mut Vec<Detection>,
    ) {
        let global = &self.inner().global;
        if global.is_empty() {
            return;
        }
        let mut line = 0..0;
        found.retain(|detection| {
            if detection.rule().is_some() {
                return true; // already judged by `find`
            }
            // gitleaks calls its own generic rule `generic-api-key`.
            let id = detection.format().map_or("generic-api-key", |f| f.id());
            let range = detection.range();
            let value = &text[range.clone()];
            // The line around the detection, once per line (detections come in order).
            let mut line_of = || {
                if !(line.start <= range.start && range.end <= line.end) {
                    line = line_around(text, range.clone());
                }
                &text[line.clone()]
            };
            let mut candidate = Candidate {
                secret: value,
                matched: value,
                line: &mut line_of,
                path,
            };
            !global
                .iter()
                .filter(|list| list.applies_to(id))
                .any(|list| list.allows(&mut candidate))
        });
    }

    fn find_in_window(
        &self,
        rule: &Rule,
        text: &str,
        window: Range<usize>,
        path: Option<&str>,
        found: &mut Vec<Detection>,
    ) {
        let inner = rule.inner();
        // What the regular expression reads, at most.
        examined(window.len());
        let mut line = 0..0;
        for captures in inner.regex.captures_iter(&text[window.clone()]) {
            let Some(secret) = inner.secret_range(&captures) else {
                continue;
            };
            let secret = secret.start + window.start..secret.end + window.start;
            let matched = captures.get(0).map_or(secret.clone(), |m| {
                m.start() + window.start..m.end() + window.start
            });
            let value = &text[secret.clone()];
            examined(value.len());
            if !inner.accepts(value) {
                continue;
            }
            // The line around the match, once per line however many matches it holds.
            let mut line_of = || {
                if !(line.start <= matched.start && matched.end <= line.end) {
                    line = line_around(text, matched.clone());
                }
                &text[line.clone()]
            };
            let global = self
                .inner()
                .global
                .iter()
                .filter(|list| list.applies_to(rule.id()));
            let allowed = {
                let mut candidate = Candidate {
                    secret: value,
                    matched: &text[matched.clone()],
                    line: &mut line_of,
                    path,
                };
                inner
                    .allowlists
                    .iter()
                    .chain(global)
                    .any(|list| list.allows(&mut candidate))
            };
            if allowed {
                continue;
            }
            found.push(Detection::new(
                text,
                secret,
                DetectionKind::Rule(rule.clone()),
                inner.confidence.into(),
            ));
        }
    }
}

/// The stretches of `text` a rule with keywords at `starts` (sorted) runs on: the lines holding
/// `REACH` bytes either side of each keyword, merged. Each byte is looked at once, for line
/// starts and ends together, so the cost is linear in the text however many keywords there are.
fn windows(text: &str, starts: &[usize]) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out: Vec<Range<usize>> = Vec::new();
    for &start in starts {
        let low = start.saturating_sub(REACH);
        let high = (start + REACH).min(bytes.len());
        if let Some(last) = out.last_mut()
            && low <= last.end
        {
            if high > last.end {
                last.end = line_end(bytes, high);
            }
            continue;
        }
        // Back to the line start, but never into the last window: that one ended at a `\n`.
        let floor = out.last().map_or(0, |last| last.end);
        let from = memchr::memrchr(b'\n', &bytes[floor..low]).map_or(floor, |at| floor + at + 1);
        examined(low - from);
        let end = line_end(bytes, high);
        match out.last_mut() {
            Some(last) if from <= last.end => last.end = end,
            _ => out.push(from..end),
        }
    }
    out
}

/// The end of the line holding byte `at` (its `\n`, or the end of the text).
fn line_end(bytes: &[u8], at: usize) -> usize {
    let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |offset| at + offset);
    examined(end - at);
    end
}

/// The lines holding `range`, without their `\n`.
fn line_around(text: &str, range: Range<usize>) -> Range<usize> {
    let bytes = text.as_bytes();
    let start = memchr::memrchr(b'\n', &bytes[..range.start]).map_or(0, |at| at + 1);
    start..line_end(bytes, range.end)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The windows cover every keyword's reach, are disjoint and sorted, and start and end
        /// on line boundaries.
        #[test]
        fn windows_cover_each_keyword_on_whole_lines(
            text in "[a-z\n]{0,3000}",
            picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..20),
        ) {
            prop_assume!(!text.is_empty());
            let mut starts: Vec<usize> = picks.iter().map(|p| p.index(text.len())).collect();
            starts.sort_unstable();
            starts.dedup();
            let windows = windows(&text, &starts);
            for pair in windows.windows(2) {
                prop_assert!(pair[0].end < pair[1].start);
            }
            let bytes = text.as_bytes();
            for window in &windows {
                prop_assert!(window.start == 0 || bytes[window.start - 1] == b'\n');
                prop_assert!(window.end == bytes.len() || bytes[window.end] == b'\n');
            }
            for &start in &starts {
                let low = start.saturating_sub(REACH);
                let high = (start + REACH).min(text.len());
                prop_assert!(windows.iter().any(|w| w.start <= low && high <= w.end));
            }
        }
    }
}
