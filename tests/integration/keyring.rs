//! `KeyringProvider` against the real Linux kernel keyring (keyutils), no mock.
//!
//! Every test uses its own service name, made of the process id and the test's name, and
//! deletes what it stored, also when it fails. Where the kernel keyring cannot be used at all
//! (no `/proc/keys`, or `keyctl` blocked, as Docker's default seccomp profile does) each test
//! prints why and returns; once the keyring answers, every failure is a test failure.
#![cfg(all(feature = "keyring", target_os = "linux"))]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};
use keyward::provider::keyring::KeyringProvider;
use keyward::{ErrorKind, SecretProvider, SecretProviderExt, SecretString};
use linux_keyutils::{KeyRing, KeyRingIdentifier};

/// Why the kernel keyring cannot be used here, if it cannot.
fn kernel_keyring_unavailable() -> Option<String> {
    if !std::path::Path::new("/proc/keys").exists() {
        return Some("/proc/keys is missing: the kernel has no key management facility".into());
    }
    KeyRing::from_special_id(KeyRingIdentifier::UserSession, false)
        .err()
        .map(|err| format!("keyctl refused to find the user-session keyring: {err:?}"))
}

/// Deletes the listed keys when dropped, so entries do not outlive a failed test.
struct Cleanup<'a> {
    provider: &'a KeyringProvider,
    keys: Vec<String>,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for key in &self.keys {
            let _ = self.provider.delete(key);
        }
    }
}

/// A provider with a service name no other test or run shares, or `None` (after printing why)
/// where the kernel keyring is unavailable.
fn provider(test: &str) -> Option<KeyringProvider> {
    if let Some(reason) = kernel_keyring_unavailable() {
        eprintln!("skipping {test}: {reason}");
        return None;
    }
    let service = format!("keyward-test-{}-{test}", std::process::id());
    Some(KeyringProvider::new(service).unwrap())
}

/// An entry in the kernel store built with keyring-core directly, as another keyring-rs
/// program would build it.
fn native_entry(service: &str, key: &str) -> Entry {
    // The same preparation `KeyringProvider` makes: see `join_session_of_persistent_keyring`.
    let _ = KeyRing::get_persistent(KeyRingIdentifier::Session);
    let store: Arc<CredentialStore> = linux_keyutils_keyring_store::Store::new().unwrap();
    Entry::new_in_store(&store, service, key).unwrap()
}

fn fake_key() -> String {
    format!("sk-proj-{}", "KeRn3".repeat(8))
}

#[test]
fn conforms_to_the_provider_suite() {
    let Some(provider) = provider("conformance") else {
        return;
    };
    let mut values = keyward::testing::fake_values();
    values.push(("unicode_value", "fake-ключ-🔑-value".to_owned()));
    let _cleanup = Cleanup {
        provider: &provider,
        keys: values.iter().map(|(k, _)| k.to_string()).collect(),
    };
    for (key, value) in &values {
        provider
            .set(key, &SecretString::from(value.as_str()))
            .unwrap();
    }

    keyward::testing::check_provider(&provider, &values);

    for (key, _) in &values {
        assert!(provider.delete(key).unwrap(), "{key} was there to delete");
        assert!(provider.get(key).unwrap().is_none(), "{key} is gone");
    }
}

#[test]
fn reads_what_keyring_core_stored_and_the_other_way_round() {
    let Some(provider) = provider("interop") else {
        return;
    };
    let _cleanup = Cleanup {
        provider: &provider,
        keys: vec!["OPENAI_API_KEY".into(), "ANTHROPIC_API_KEY".into()],
    };
    let value = fake_key();
    let entry = native_entry(provider.service(), "OPENAI_API_KEY");
    entry.set_password(&value).unwrap();

    let secret = provider.require("OPENAI_API_KEY").unwrap();
    assert_eq!(secret.expose_secret(), value);
    assert_eq!(secret.meta().source, "keyring");

    let other = format!("sk-ant-api03-{}", "KeRn4".repeat(8));
    provider
        .set("ANTHROPIC_API_KEY", &SecretString::from(other.as_str()))
        .unwrap();
    let native = native_entry(provider.service(), "ANTHROPIC_API_KEY");
    assert_eq!(native.get_password().unwrap(), other);

    // The kernel lists entries by description, `keyring:<key>@<service>`, never by value.
    let keys = std::fs::read_to_string("/proc/keys").unwrap();
    let description = format!("keyring:OPENAI_API_KEY@{}", provider.service());
    assert!(keys.contains(&description), "{description} is listed");
    assert!(!keys.contains(&value));

    assert!(provider.delete("OPENAI_API_KEY").unwrap());
    assert!(matches!(
        entry.get_password(),
        Err(keyring_core::Error::NoEntry)
    ));
}

#[test]
fn missing_entries_are_none_and_deleting_them_is_false() {
    let Some(provider) = provider("missing") else {
        return;
    };
    assert!(provider.get("NEVER_STORED").unwrap().is_none());
    assert!(!provider.delete("NEVER_STORED").unwrap());
    let err = provider.require("NEVER_STORED").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "secret `NEVER_STORED` not found in keyring"
    );
}

#[test]
fn set_replaces_the_value_and_refuses_an_empty_one() {
    let Some(provider) = provider("replace") else {
        return;
    };
    let _cleanup = Cleanup {
        provider: &provider,
        keys: vec!["TOKEN".into()],
    };
    provider
        .set("TOKEN", &SecretString::from("fake-first-0000"))
        .unwrap();
    provider
        .set("TOKEN", &SecretString::from("fake-second-1111"))
        .unwrap();
    assert_eq!(
        provider.require("TOKEN").unwrap().expose_secret(),
        "fake-second-1111"
    );
    let err = provider.set("TOKEN", &SecretString::from("")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        provider.require("TOKEN").unwrap().expose_secret(),
        "fake-second-1111",
        "a refused value leaves the old one"
    );
}

#[test]
fn a_value_over_the_kernel_limit_is_refused_without_being_shown() {
    let Some(provider) = provider("oversized") else {
        return;
    };
    let _cleanup = Cleanup {
        provider: &provider,
        keys: vec!["HUGE".into()],
    };
    // `user` keys hold at most 32767 bytes.
    let value = format!("fake-{}", "Xy9".repeat(11_000));
    let err = provider
        .set("HUGE", &SecretString::from(value.as_str()))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(!format!("{err} {err:?}").contains("Xy9Xy9"));
    assert!(provider.get("HUGE").unwrap().is_none());
}

#[test]
fn bad_names_are_refused_by_every_operation() {
    let Some(provider) = provider("names") else {
        return;
    };
    let value = SecretString::from(fake_key());
    for bad in keyward::testing::BAD_NAMES {
        assert_eq!(
            provider.get(bad).unwrap_err().kind(),
            ErrorKind::InvalidName
        );
        let err = provider.set(bad, &value).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidName, "{bad:?}");
        assert_eq!(
            provider.delete(bad).unwrap_err().kind(),
            ErrorKind::InvalidName
        );
    }
}

#[test]
fn a_value_that_is_not_utf8_is_invalid_format_and_not_shown() {
    let Some(provider) = provider("binary") else {
        return;
    };
    let _cleanup = Cleanup {
        provider: &provider,
        keys: vec!["BINARY".into()],
    };
    let bytes = b"fake-binary-\xff\xfe-value";
    native_entry(provider.service(), "BINARY")
        .set_secret(bytes)
        .unwrap();

    let err = provider.get("BINARY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidFormat);
    assert!(err.to_string().contains("`BINARY`"), "{err}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("fake-binary"), "{shown}");
    assert!(
        !shown.contains("102, 97, 107, 101"),
        "no raw bytes: {shown}"
    );
}

#[test]
fn debug_shows_the_service_and_no_value() {
    let Some(provider) = provider("debug") else {
        return;
    };
    let _cleanup = Cleanup {
        provider: &provider,
        keys: vec!["SHOWN".into()],
    };
    let value = fake_key();
    provider
        .set("SHOWN", &SecretString::from(value.as_str()))
        .unwrap();
    let secret = provider.require("SHOWN").unwrap();

    let debug = format!("{provider:?}");
    assert_eq!(
        debug,
        format!(
            "KeyringProvider {{ service: {:?}, .. }}",
            provider.service()
        )
    );
    let shown = format!("{secret:?} {:?}", secret.value());
    assert!(!shown.contains(&value), "{shown}");
    assert!(shown.contains("***"));
}

/// Threads of a process not started through a login have no session keyring of their own;
/// a key stored on one such thread must be readable on another, and deletable from a third.
#[test]
fn entries_are_shared_between_fresh_threads() {
    let Some(provider) = provider("threads") else {
        return;
    };
    let provider = Arc::new(provider);
    let _cleanup = Cleanup {
        provider: &provider,
        keys: vec!["SHARED".into()],
    };
    let value = fake_key();

    let writer = {
        let (provider, value) = (Arc::clone(&provider), value.clone());
        std::thread::spawn(move || provider.set("SHARED", &SecretString::from(value)))
    };
    writer.join().unwrap().unwrap();

    let reader = {
        let provider = Arc::clone(&provider);
        std::thread::spawn(move || provider.get("SHARED").map(|s| s.map(|s| s.into_value())))
    };
    let read = reader.join().unwrap().unwrap().unwrap();
    assert_eq!(read.expose_secret(), value);

    let deleter = {
        let provider = Arc::clone(&provider);
        std::thread::spawn(move || provider.delete("SHARED"))
    };
    assert!(deleter.join().unwrap().unwrap());
    assert!(provider.get("SHARED").unwrap().is_none());
}
