//! Proves that building, cloning and dropping secrets leaves no copy of the secret in freed heap
//! memory. A global allocator looks into every block before it is freed.
#![allow(unsafe_code)] // `set_var` is unsafe in Rust 2024; see the SAFETY comments
#![allow(clippy::unwrap_used)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use keyward::{Secret, SecretMeta, SecretProvider, SecretString};
use zeroize::Zeroize;

#[path = "common/sniffer.rs"]
mod sniffer;

#[global_allocator]
static ALLOCATOR: sniffer::Sniffer = sniffer::Sniffer;

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `scenario` with the sniffer armed for a fresh fake secret and returns how many freed
/// blocks still held it. The secret is built before arming and handed over as an exact-size
/// `String`, so the test's own bookkeeping does not count.
fn freed_copies(scenario: impl FnOnce(String)) -> usize {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let run = RUN.fetch_add(1, Ordering::SeqCst);
    let mut built = format!("kw-fake-{run:04}-{}", "Zq7x".repeat(6));
    sniffer::set_needle(built.as_bytes());
    let secret = String::from(built.as_str());
    built.zeroize();
    drop(built);
    sniffer::arm_everywhere(true);
    scenario(secret);
    sniffer::arm_everywhere(false);
    sniffer::clear_needle()
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
        sniffer::arm_everywhere(false);
        // SAFETY: every test in this binary holds SERIAL, and none other reads the environment
        // concurrently. `set_var` copies the value through a temporary, so the sniffer is off.
        unsafe { std::env::set_var(VAR, &secret) };
        let len = secret.len();
        secret.zeroize();
        sniffer::arm_everywhere(true);
        let value = keyward::EnvProvider::new().get(VAR).unwrap().unwrap();
        assert_eq!(value.value().len(), len);
        drop(value);
        sniffer::arm_everywhere(false);
        // SAFETY: as above.
        unsafe { std::env::remove_var(VAR) };
        sniffer::arm_everywhere(true);
    });
    assert_eq!(copies, 0);
}

#[test]
fn file_provider_values_leave_no_copy() {
    let dir = tempfile::tempdir().unwrap();
    let copies = freed_copies(|mut secret| {
        sniffer::arm_everywhere(false);
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
        sniffer::arm_everywhere(true);
        let value = provider.get("TOKEN").unwrap().unwrap();
        assert_eq!(value.value().len(), len);
        drop(value);
    });
    assert_eq!(copies, 0);
}
