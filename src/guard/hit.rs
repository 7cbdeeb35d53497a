//! [`Origin`] and [`Hit`]: what a search pattern stands for, and a match of one in the text.
//!
//! The pattern compiler (`patterns.rs`), both searches (`scan.rs`, `wrapped.rs`) and the merging
//! of hits into regions (`region.rs`) all speak these two types, so they live below all of them.

use std::ops::Range;

use super::encode::Encoding;

/// Where a pattern comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Origin {
    /// The whole secret, in an encoding.
    Whole { secret: u32, encoding: Encoding },
    /// An aligned k-gram of the secret starting at byte `at`; a fragment candidate.
    Gram { secret: u32, at: u32 },
}

/// A match before merging: a text range and the secret it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub(crate) range: Range<usize>,
    pub(crate) secret: u32,
    pub(crate) encoding: Encoding,
}
