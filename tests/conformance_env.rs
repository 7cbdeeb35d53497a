//! `EnvProvider` against the conformance suite. A test binary of its own, with one test, because
//! it writes the process environment and nothing may read it at the same time.
#![cfg(feature = "testing")]
#![allow(clippy::unwrap_used)]
#![allow(unsafe_code)] // `set_var` is unsafe in Rust 2024; see the SAFETY comments

use keyward::{EnvProvider, ErrorKind, SecretProvider};

#[test]
fn env_provider_conforms_and_reads_without_writing() {
    let prefix = "KEYWARD_CONFORMANCE_";
    let values: Vec<_> = keyward::testing::fake_values()
        .into_iter()
        // Environment variable names from shells are identifiers: keep the suite's names that are.
        .filter(|(k, _)| !k.contains('.') && !k.contains('-'))
        .collect();
    for (key, value) in &values {
        // SAFETY: this binary has this one test, so no other thread reads the environment.
        unsafe { std::env::set_var(format!("{prefix}{key}"), value) };
    }
    // SAFETY: as above.
    unsafe { std::env::set_var(format!("{prefix}EMPTY"), "") };
    let before: Vec<_> = std::env::vars_os().collect();

    let provider = EnvProvider::new().with_prefix(prefix);
    keyward::testing::check_provider(&provider, &values);
    assert!(
        provider.get("EMPTY").unwrap().is_none(),
        "an empty variable is not set"
    );
    assert_eq!(
        provider.get("A=B").unwrap_err().kind(),
        ErrorKind::InvalidName
    );

    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let raw = std::ffi::OsStr::from_bytes(b"not-utf8-\xff");
        // SAFETY: as above.
        unsafe { std::env::set_var(format!("{prefix}BINARY"), raw) };
        let err = provider.get("BINARY").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidFormat);
        assert!(err.to_string().contains("KEYWARD_CONFORMANCE_BINARY"));
        // SAFETY: as above.
        unsafe { std::env::remove_var(format!("{prefix}BINARY")) };
    }

    let after: Vec<_> = std::env::vars_os().collect();
    assert_eq!(before, after, "reading never changes the environment");
}
