//! What the detector reports: [`Detection`]s, their [`DetectionKind`] and [`Confidence`], and
//! [`LineDetection`]s for reports on files. None of them holds a secret, only a masked preview.

use std::fmt;
use std::ops::Range;

use super::rule_set::Rule;
use super::work::examined;
use crate::format::KeyFormat;
use crate::format::rule::RuleConfidence;
use crate::mask::mask;

/// What a [`Detection`] found.
///
/// Not `Copy` since it can name one of a user's own rules ([`DetectionKind::Rule`]); cloning
/// is cheap (a [`Rule`] is a shared handle).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DetectionKind {
    /// A key of a known format, found by its prefix and shape.
    Format(KeyFormat),
    /// A high-entropy value assigned to a secret-sounding name (`API_KEY = "..."`,
    /// `"token": "..."`, `password: ...`, `--api-key ...`, each of `API_KEY=... TOKEN=...
    /// ./run.sh`). The range covers the value only.
    GenericAssignment,
    /// A match of one of the user's own rules (a [`RuleSet`](super::RuleSet) given to
    /// [`DetectorBuilder::with_rules`](super::DetectorBuilder::with_rules)). The range covers
    /// the secret the rule names (gitleaks' `secretGroup`), not the whole match.
    Rule(Rule),
}

impl DetectionKind {
    /// The key format, if the detection is one.
    pub fn format(&self) -> Option<KeyFormat> {
        match self {
            DetectionKind::Format(format) => Some(*format),
            DetectionKind::GenericAssignment | DetectionKind::Rule(_) => None,
        }
    }

    /// The user's rule, if the detection is a match of one.
    pub fn rule(&self) -> Option<&Rule> {
        match self {
            DetectionKind::Rule(rule) => Some(rule),
            _ => None,
        }
    }
}

impl fmt::Display for DetectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DetectionKind::Format(format) => f.write_str(format.name()),
            DetectionKind::GenericAssignment => {
                f.write_str("secret assigned to a secret-like name")
            }
            DetectionKind::Rule(rule) => rule.fmt(f),
        }
    }
}

/// How sure the detector is that a detection is a real secret; ordered `Low < Medium < High`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Confidence {
    /// A plausible secret by context and entropy alone: short, or of modest entropy.
    Low,
    /// A likely secret: a long high-entropy assignment, or a format whose prefix is shared with
    /// other things (legacy `sk-` keys, JSON Web Tokens).
    Medium,
    /// A key of a format with a distinctive prefix or structure.
    High,
}

impl From<RuleConfidence> for Confidence {
    fn from(confidence: RuleConfidence) -> Confidence {
        match confidence {
            RuleConfidence::High => Confidence::High,
            RuleConfidence::Medium => Confidence::Medium,
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        })
    }
}

/// A secret found in text: where, what kind, how sure, and a masked preview.
///
/// It never holds the secret itself; `Debug` shows the masked preview only. Slice the scanned
/// text with [`range`](Detection::range) to get at the value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Detection {
    pub(super) range: Range<usize>,
    /// The text the match took: `range`, or for a key found by the name it is assigned to,
    /// the name too, which no other rule may then claim.
    pub(super) claimed: Range<usize>,
    pub(super) kind: DetectionKind,
    pub(super) confidence: Confidence,
    preview: String,
}

impl Detection {
    /// A detection of `text[range]`; only its masked preview is kept.
    pub(super) fn new(
        text: &str,
        range: Range<usize>,
        kind: DetectionKind,
        confidence: Confidence,
    ) -> Self {
        examined(range.len());
        let preview = mask(&text[range.clone()]);
        Detection {
            claimed: range.clone(),
            range,
            kind,
            confidence,
            preview,
        }
    }

    /// The same detection, having taken `claimed` (which holds its range) from the text.
    pub(super) fn claiming(mut self, claimed: Range<usize>) -> Self {
        debug_assert!(claimed.start <= self.range.start && self.range.end <= claimed.end);
        self.claimed = claimed;
        self
    }

    /// The byte range of the secret in the scanned text; both ends are character boundaries.
    pub fn range(&self) -> Range<usize> {
        self.range.clone()
    }

    /// What was found.
    pub fn kind(&self) -> DetectionKind {
        self.kind.clone()
    }

    /// The user's rule that found it, if one did ([`DetectionKind::Rule`]).
    pub fn rule(&self) -> Option<&Rule> {
        self.kind.rule()
    }

    /// The key format, if the detection is a key of a known format.
    pub fn format(&self) -> Option<KeyFormat> {
        self.kind.format()
    }

    /// How sure the detector is.
    pub fn confidence(&self) -> Confidence {
        self.confidence
    }

    /// The secret masked by [`mask`](crate::mask): safe to log.
    pub fn preview(&self) -> &str {
        &self.preview
    }
}

impl fmt::Debug for Detection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detection")
            .field("range", &self.range)
            .field("kind", &self.kind)
            .field("confidence", &self.confidence)
            .field("preview", &self.preview)
            .finish()
    }
}

/// A [`Detection`] with the line and column where it starts, for reports on files.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineDetection {
    pub(super) line: usize,
    pub(super) column: usize,
    pub(super) detection: Detection,
}

impl LineDetection {
    /// The line the secret starts on, counting from 1. Lines end at `\n`.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column the secret starts at, in characters, counting from 1.
    pub fn column(&self) -> usize {
        self.column
    }

    /// The detection, with its byte range in the whole text.
    pub fn detection(&self) -> &Detection {
        &self.detection
    }

    /// The detection, with its byte range in the whole text.
    pub fn into_detection(self) -> Detection {
        self.detection
    }
}

/// Keeps, of detections that may overlap, the one starting first and then the longest, in order
/// of start; a stable sort, so of two with the same range the one listed first stays.
pub(super) fn without_overlaps(mut found: Vec<Detection>) -> Vec<Detection> {
    found.sort_by_key(|d| (d.range.start, std::cmp::Reverse(d.range.end)));
    let mut kept: Vec<Detection> = Vec::with_capacity(found.len());
    for detection in found {
        if kept
            .last()
            .is_none_or(|last| detection.range.start >= last.range.end)
        {
            kept.push(detection);
        }
    }
    kept
}
