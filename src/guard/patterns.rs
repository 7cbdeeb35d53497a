//! [`Patterns`]: a compiled set of search patterns and what each one stands for.
//!
//! The scan engine ([`Engine`](super::scan::Engine)) and the search for wrapped encodings
//! ([`Wrapped`](super::wrapped::Wrapped)) share one Aho-Corasick automaton of every pattern,
//! which they step through byte by byte; this is the one place that builds it.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{Anchored, MatchKind, PatternID, dfa, nfa};

use super::hit::Origin;
use crate::error::{Error, ErrorKind, Result};

/// Up to this many pattern bytes (about 10 API keys with every encoding) the dense DFA is used;
/// above it the contiguous NFA. The DFA steps about twice as fast, but the sieve hands the
/// automaton only candidate windows, so that counts on text full of near misses alone; its
/// size grows with states times byte classes, and for 100 keys it took 21 MB and 20 ms to
/// build against the NFA's 2 MB and 4 ms (and ordinary text ran faster with the smaller NFA
/// in cache: docs/benchmarks.md).
const MAX_DFA_PATTERN_BYTES: usize = 10_000;

/// The automaton, of the kind chosen by the size of the patterns.
pub(crate) enum Dfa {
    Dense(dfa::DFA),
    Contiguous(nfa::contiguous::NFA),
}

impl Dfa {
    /// The unanchored start state.
    pub(crate) fn start(&self) -> StateID {
        // Built with the default start kind, which always supports unanchored searches.
        match self {
            Dfa::Dense(a) => a.start_state(Anchored::No),
            Dfa::Contiguous(a) => a.start_state(Anchored::No),
        }
        .unwrap_or(StateID::ZERO)
    }

    /// One step, for callers off the hot path (the hot path is generic over [`Automaton`]).
    pub(crate) fn next_state(&self, sid: StateID, byte: u8) -> StateID {
        match self {
            Dfa::Dense(a) => a.next_state(Anchored::No, sid, byte),
            Dfa::Contiguous(a) => a.next_state(Anchored::No, sid, byte),
        }
    }

    /// The patterns that end at `sid`, with their lengths.
    pub(crate) fn matches(&self, sid: StateID, mut each: impl FnMut(PatternID, usize)) {
        fn all<A: Automaton>(a: &A, sid: StateID, each: &mut impl FnMut(PatternID, usize)) {
            if a.is_special(sid) && a.is_match(sid) {
                for m in 0..a.match_len(sid) {
                    let pid = a.match_pattern(sid, m);
                    each(pid, a.pattern_len(pid));
                }
            }
        }
        match self {
            Dfa::Dense(a) => all(a, sid, &mut each),
            Dfa::Contiguous(a) => all(a, sid, &mut each),
        }
    }
}

/// Compiled patterns: one automaton pattern per distinct byte string, each with every
/// [`Origin`] it stands for (two secrets may share a k-gram, two encodings the same text).
pub(crate) struct Patterns {
    pub(crate) automaton: Dfa,
    /// `origins[starts[p]..starts[p + 1]]` are the origins of pattern `p`.
    origins: Vec<Origin>,
    starts: Vec<u32>,
    /// The length of the longest pattern, in bytes.
    pub(crate) max_len: usize,
}

impl Patterns {
    /// Compiles `patterns`, sorting them; the caller wipes them afterwards (they are secrets).
    pub(crate) fn new(patterns: &mut [(Vec<u8>, Origin)]) -> Result<Patterns> {
        patterns.sort_by(|a, b| a.0.cmp(&b.0));
        let mut unique: Vec<&[u8]> = Vec::new();
        let mut origins = Vec::with_capacity(patterns.len());
        let mut starts = Vec::new();
        for (pattern, origin) in patterns.iter() {
            if unique.last() != Some(&pattern.as_slice()) {
                unique.push(pattern);
                starts.push(origins.len() as u32);
            }
            origins.push(*origin);
        }
        starts.push(origins.len() as u32);

        let total: usize = unique.iter().map(|p| p.len()).sum();
        let max_len = unique.iter().map(|p| p.len()).max().unwrap_or(0);
        let automaton = if total <= MAX_DFA_PATTERN_BYTES {
            dfa::DFA::builder()
                .match_kind(MatchKind::Standard)
                .prefilter(false)
                .build(&unique)
                .map(Dfa::Dense)
        } else {
            nfa::contiguous::NFA::builder()
                .match_kind(MatchKind::Standard)
                .prefilter(false)
                .build(&unique)
                .map(Dfa::Contiguous)
        }
        .map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                "could not build the redactor automaton",
            )
            .with_source(e)
        })?;
        Ok(Patterns {
            automaton,
            origins,
            starts,
            max_len,
        })
    }

    /// The heap memory of the automaton and the table of origins, in bytes.
    pub(crate) fn memory_usage(&self) -> usize {
        let automaton = match &self.automaton {
            Dfa::Dense(a) => a.memory_usage(),
            Dfa::Contiguous(a) => a.memory_usage(),
        };
        automaton
            + self.origins.len() * std::mem::size_of::<Origin>()
            + self.starts.len() * std::mem::size_of::<u32>()
    }

    /// The number of distinct patterns.
    pub(crate) fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// What pattern `pid` stands for.
    #[inline]
    pub(crate) fn origins(&self, pid: PatternID) -> &[Origin] {
        let from = self.starts[pid.as_usize()] as usize;
        let to = self.starts[pid.as_usize() + 1] as usize;
        &self.origins[from..to]
    }
}
