//! Proves that building, cloning and dropping secrets leaves no copy of the secret in freed heap
//! memory. A global allocator looks into every block before it is freed.
#![allow(unsafe_code)] // a global allocator cannot be written without it
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use keyward::{Secret, SecretMeta, SecretProvider, SecretString};
use zeroize::Zeroize;

const MAX_NEEDLE: usize = 64;

static NEEDLE: [AtomicU8; MAX_NEEDLE] = [const { AtomicU8::new(0) }; MAX_NEEDLE];
static NEEDLE_LEN: AtomicUsize = AtomicUsize::new(0);
static ARMED: AtomicBool = AtomicBool::new(false);
static FREED_WITH_SECRET: AtomicUsize = AtomicUsize::new(0);

/// Forwards to the system allocator and counts freed blocks that still hold the needle.
struct Sniffer;

// SAFETY: every call forwards to `System` with the caller's arguments unchanged; `dealloc` only
// reads the block it is handed, which is valid for `layout.size()` bytes until it is freed.
unsafe impl GlobalAlloc for Sniffer {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::SeqCst) {
            // SAFETY: `ptr` is a live block of `layout.size()` bytes that we allocated.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if contains_needle(block) {
                FREED_WITH_SECRET.fetch_add(1, Ordering::SeqCst);
            }
        }
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Sniffer = Sniffer;

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

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `scenario` with the sniffer armed for a fresh fake secret and returns how many freed
/// blocks still held it. The secret is built before arming and handed over as an exact-size
/// `String`, so the test's own bookkeeping does not count.
fn freed_copies(scenario: impl FnOnce(String)) -> usize {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let run = RUN.fetch_add(1, Ordering::SeqCst);
    let mut built = format!("kw-fake-{run:04}-{}", "Zq7x".repeat(6));
    for (slot, byte) in NEEDLE.iter().zip(built.bytes()) {
        slot.store(byte, Ordering::SeqCst);
    }
    NEEDLE_LEN.store(built.len(), Ordering::SeqCst);
    let secret = String::from(built.as_str());
    built.zeroize();
    drop(built);
    FREED_WITH_SECRET.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    scenario(secret);
    ARMED.store(false, Ordering::SeqCst);
    NEEDLE_LEN.store(0, Ordering::SeqCst);
    FREED_WITH_SECRET.load(Ordering::SeqCst)
}

#[test]
fn the_sniffer_sees_a_plain_string_freed() {
    assert!(freed_copies(drop) > 0);
}

#[test]
fn into_boxed_str_leaves_a_copy_when_capacity_exceeds_length() {
    // The std behaviour SecretString must work around.
    let copies = freed_copies(|secret| {
        let mut roomy = String::with_capacity(secret.len() + 32);
        roomy.push_str(&secret);
        let mut secret = secret;
        secret.zeroize();
        let mut boxed = roomy.into_boxed_str();
        boxed.zeroize();
    });
    assert!(copies > 0);
}

#[test]
fn secret_string_from_a_roomy_string_leaves_no_copy() {
    let copies = freed_copies(|mut secret| {
        let len = secret.len();
        let mut roomy = String::with_capacity(len + 32);
        roomy.push_str(&secret);
        secret.zeroize();
        let value = SecretString::from(roomy);
        assert_eq!(value.len(), len);
        drop(value);
    });
    assert_eq!(copies, 0);
}

#[test]
fn secret_string_from_an_exact_string_str_and_clone_leaves_no_copy() {
    let copies = freed_copies(|secret| {
        let borrowed = SecretString::from(secret.as_str());
        let owned = SecretString::from(secret);
        let cloned = owned.clone();
        assert_eq!(borrowed, cloned);
        let for_secrecy: secrecy::SecretString = cloned.into();
        drop((borrowed, owned, for_secrecy));
    });
    assert_eq!(copies, 0);
}

#[test]
fn secret_with_metadata_leaves_no_copy() {
    let copies = freed_copies(|secret| {
        let secret = Secret::new(secret, SecretMeta::new("test").with_version("1"));
        let copy = secret.clone();
        let value = copy.into_value();
        drop((secret, value));
    });
    assert_eq!(copies, 0);
}

#[test]
fn env_provider_values_leave_no_copy() {
    const VAR: &str = "KEYWARD_NO_COPIES_TEST_SECRET";
    let copies = freed_copies(|mut secret| {
        ARMED.store(false, Ordering::SeqCst);
        // SAFETY: every test in this binary holds SERIAL, and none other reads the environment
        // concurrently. `set_var` copies the value through a temporary, so the sniffer is off.
        unsafe { std::env::set_var(VAR, &secret) };
        let len = secret.len();
        secret.zeroize();
        ARMED.store(true, Ordering::SeqCst);
        let value = keyward::EnvProvider::new().get(VAR).unwrap().unwrap();
        assert_eq!(value.value().len(), len);
        drop(value);
        ARMED.store(false, Ordering::SeqCst);
        // SAFETY: as above.
        unsafe { std::env::remove_var(VAR) };
        ARMED.store(true, Ordering::SeqCst);
    });
    assert_eq!(copies, 0);
}

#[test]
fn file_provider_values_leave_no_copy() {
    let dir = tempfile::tempdir().unwrap();
    let copies = freed_copies(|mut secret| {
        ARMED.store(false, Ordering::SeqCst);
        let path = dir.path().join("TOKEN");
        std::fs::write(&path, format!("{secret}\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let len = secret.len();
        secret.zeroize();
        let provider = keyward::FileProvider::new(dir.path()).unwrap();
        ARMED.store(true, Ordering::SeqCst);
        let value = provider.get("TOKEN").unwrap().unwrap();
        assert_eq!(value.value().len(), len);
        drop(value);
    });
    assert_eq!(copies, 0);
}
