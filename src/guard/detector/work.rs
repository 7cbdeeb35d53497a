//! Counting the bytes the detector reads, so tests can check that its work stays linear in the
//! text without timing anything (`linear_tests.rs`). Outside tests the count compiles to nothing.

#[cfg(test)]
use std::cell::Cell;

#[cfg(test)]
thread_local! {
    /// Bytes read by the detector on this thread; see `examined`.
    static EXAMINED: Cell<usize> = const { Cell::new(0) };
}

/// Counts `bytes` read by the detector (its automata's one pass each included).
#[cfg(test)]
pub(super) fn examined(bytes: usize) {
    EXAMINED.with(|count| count.set(count.get() + bytes));
}

#[cfg(not(test))]
#[inline(always)]
pub(super) fn examined(_bytes: usize) {}

/// What `run` costs in bytes read.
#[cfg(test)]
pub(super) fn count(run: impl FnOnce()) -> usize {
    let before = EXAMINED.with(Cell::get);
    run();
    EXAMINED.with(Cell::get) - before
}
