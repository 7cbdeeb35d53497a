//! The most heap that reading a hostile `.env` file holds at once, counted by a global
//! allocator: a process of its own, so that nothing else allocates while it counts.
#![allow(unsafe_code)] // a global allocator cannot be written without it
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use keyward::provider::DotenvOptions;
use keyward::{DotenvProvider, ErrorKind};
use proptest::prelude::*;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Forwards to the system allocator and keeps the high-water mark of bytes live.
struct Counting;

// SAFETY: every call forwards to `System` with the caller's arguments unchanged; the counters
// are plain atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(live, Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `work` and returns the most heap it held at once beyond what was live before.
fn peak_of<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let result = work();
    (result, PEAK.load(Ordering::SeqCst) - before)
}

fn read_expanding(text: &str, max_size: usize) -> (keyward::Result<DotenvProvider>, usize) {
    peak_of(|| {
        DotenvProvider::options()
            .with_variable_expansion(true)
            .with_max_size(max_size)
            .read(text.as_bytes())
    })
}

/// What reading may hold per byte of `max_size`: the text, the values, the earlier values
/// references read from, one statement rewritten (escapes double its bytes) and dotenvy's
/// copy of it. The inputs here used to reach gigabytes.
const PER_BYTE_OF_LIMIT: usize = 12;
const SLACK: usize = 64 * 1024;

/// One test function, so that no other test allocates while this one counts.
#[test]
fn expansion_holds_memory_in_proportion_to_the_limit() {
    // The files: seven levels of sixteen references, 120,000 lines of `A=${A}x`.
    let mut levels = String::from("A0=0123456789abcdef\n");
    for level in 1..=7 {
        let reference = format!("${{A{}}}", level - 1);
        levels.push_str(&format!("A{level}={}\n", reference.repeat(16)));
    }
    let chain = "A=${A}x\n".repeat(120_000);
    let max_size = DotenvOptions::DEFAULT_MAX_SIZE;
    for text in [&levels, &chain] {
        let (result, peak) = read_expanding(text, max_size);
        assert_eq!(result.unwrap_err().kind(), ErrorKind::InvalidInput);
        assert!(
            peak <= PER_BYTE_OF_LIMIT * max_size + SLACK,
            "{peak} bytes held for a limit of {max_size}"
        );
    }

    // Generated graphs: one value doubled, tripled, ... line after line, at several limits.
    let mut runner = proptest::test_runner::TestRunner::default();
    let graph = (
        prop::collection::vec((0..4usize, prop::collection::vec(0..5usize, 0..9)), 1..40),
        1usize..64,
    );
    runner
        .run(&graph, |(lines, kib)| {
            let mut text = String::from("A0=abcdefgh\n");
            for (key, references) in &lines {
                let value: String = references.iter().map(|r| format!("${{A{r}}}-")).collect();
                text.push_str(&format!("A{key}={value}\n"));
            }
            let max_size = (kib * 1024).max(text.len());
            let (_, peak) = read_expanding(&text, max_size);
            prop_assert!(
                peak <= PER_BYTE_OF_LIMIT * max_size + SLACK,
                "{} bytes held for a limit of {}",
                peak,
                max_size
            );
            Ok(())
        })
        .unwrap();
}
