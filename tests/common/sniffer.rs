//! A global allocator that counts the blocks freed while they still hold a needle: how the
//! no-copies tests prove that a secret leaves nothing behind in freed memory. A test binary
//! installs it with
//! `#[global_allocator] static ALLOCATOR: sniffer::Sniffer = sniffer::Sniffer;`
//! and arms it everywhere or on its own thread only.
#![allow(unsafe_code)] // a global allocator cannot be written without it
#![allow(dead_code, unreachable_pub)] // each binary uses part of it

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

/// The longest needle looked for, in bytes.
pub const MAX_NEEDLE: usize = 64;

static NEEDLE: [AtomicU8; MAX_NEEDLE] = [const { AtomicU8::new(0) }; MAX_NEEDLE];
static NEEDLE_LEN: AtomicUsize = AtomicUsize::new(0);
static FREED_WITH_NEEDLE: AtomicUsize = AtomicUsize::new(0);
static ARMED_EVERYWHERE: AtomicBool = AtomicBool::new(false);

thread_local! {
    static ARMED_HERE: Cell<bool> = const { Cell::new(false) };
}

/// Forwards to the system allocator and counts freed blocks that still hold the needle.
pub struct Sniffer;

// SAFETY: every call forwards to `System` with the caller's arguments unchanged; `dealloc` only
// reads the block it is handed, which is valid for `layout.size()` bytes until it is freed.
unsafe impl GlobalAlloc for Sniffer {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // `try_with`: a thread's locals may already be gone while it frees its last blocks.
        let armed = ARMED_EVERYWHERE.load(Ordering::SeqCst)
            || ARMED_HERE.try_with(Cell::get).unwrap_or(false);
        if armed {
            // SAFETY: `ptr` is a live block of `layout.size()` bytes that we allocated.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if contains_needle(block) {
                FREED_WITH_NEEDLE.fetch_add(1, Ordering::SeqCst);
            }
        }
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Compares without allocating: this runs inside the allocator.
fn contains_needle(block: &[u8]) -> bool {
    let len = NEEDLE_LEN.load(Ordering::SeqCst);
    if len == 0 || block.len() < len {
        return false;
    }
    let mut needle = [0u8; MAX_NEEDLE];
    for (slot, byte) in needle.iter_mut().zip(NEEDLE.iter()).take(len) {
        *slot = byte.load(Ordering::SeqCst);
    }
    block.windows(len).any(|w| w == &needle[..len])
}

/// Looks for `needle` (at most [`MAX_NEEDLE`] bytes) from now on, with the count at zero.
pub fn set_needle(needle: &[u8]) {
    assert!(
        needle.len() <= MAX_NEEDLE,
        "a needle is at most {MAX_NEEDLE} bytes"
    );
    for (slot, byte) in NEEDLE.iter().zip(needle) {
        slot.store(*byte, Ordering::SeqCst);
    }
    NEEDLE_LEN.store(needle.len(), Ordering::SeqCst);
    FREED_WITH_NEEDLE.store(0, Ordering::SeqCst);
}

/// Stops looking; returns how many freed blocks held the needle.
pub fn clear_needle() -> usize {
    NEEDLE_LEN.store(0, Ordering::SeqCst);
    FREED_WITH_NEEDLE.load(Ordering::SeqCst)
}

/// Looks at the blocks freed by every thread (`true`) or stops (`false`).
pub fn arm_everywhere(armed: bool) {
    ARMED_EVERYWHERE.store(armed, Ordering::SeqCst);
}

/// Looks at the blocks freed by this thread only (`true`) or stops (`false`).
pub fn arm_this_thread(armed: bool) {
    ARMED_HERE.with(|here| here.set(armed));
}
