//! The provider conformance suite: the same expectations for every [`SecretProvider`].
#![allow(dead_code, unreachable_pub)] // each test binary uses part of it
#![allow(clippy::unwrap_used)]

use keyward::{ErrorKind, SecretProvider, SecretProviderExt};

/// Obviously fake values, one per key, generated so no real-looking key is ever pasted.
pub fn fake_values() -> Vec<(&'static str, String)> {
    vec![
        ("ALPHA_API_KEY", format!("sk-proj-{}", "FaKe0".repeat(8))),
        ("beta.token", format!("fake-token-{}", "x1Y2".repeat(5))),
        (
            "Gamma-Password",
            "fake pass with spaces and $dollar".to_owned(),
        ),
    ]
}

/// Names every provider must refuse with [`ErrorKind::InvalidName`].
pub const BAD_NAMES: &[&str] = &[
    "",
    "..",
    "../etc/passwd",
    "a/b",
    "a\\b",
    "nul\0byte",
    "new\nline",
];

/// Checks `provider`, which must hold exactly `present` (name, value) pairs among the names the
/// suite asks about.
pub fn check_provider(provider: &dyn SecretProvider, present: &[(&str, String)]) {
    let name = provider.name().to_owned();
    assert!(!name.is_empty(), "a provider has a name");

    for (key, value) in present {
        let secret = provider
            .get(key)
            .unwrap_or_else(|e| panic!("{name}: get({key}) failed: {e}"))
            .unwrap_or_else(|| panic!("{name}: {key} is missing"));
        assert_eq!(
            secret.expose_secret(),
            value,
            "{name}: {key} comes back exactly"
        );
        assert!(
            !secret.meta().source.is_empty(),
            "{name}: meta names a source"
        );
        let debug = format!("{secret:?} {:?} {:?}", secret.value(), secret.meta());
        assert!(
            !debug.contains(value.as_str()),
            "{name}: Debug of a secret hides the value"
        );
        assert!(debug.contains("***"), "{name}: Debug of a secret shows ***");
        assert_eq!(provider.require(key).unwrap().expose_secret(), value);
    }

    let missing = "KEYWARD_CONFORMANCE_MISSING_KEY";
    assert!(
        provider.get(missing).unwrap().is_none(),
        "{name}: a missing key is Ok(None)"
    );
    let err = provider.require(missing).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "{name}: require of a missing key"
    );
    assert!(
        err.to_string().contains(missing),
        "{name}: NotFound names the key"
    );

    for bad in BAD_NAMES {
        let err = provider.get(bad).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidName,
            "{name}: {bad:?} is refused"
        );
    }

    let debug = format!("{provider:?}");
    for (_, value) in present {
        assert!(
            !debug.contains(value.as_str()),
            "{name}: Debug of the provider hides values"
        );
    }
}

/// A secrets directory holding `values`, one 0600 file each, with a trailing newline as
/// `echo` and most editors write it.
pub fn secrets_dir_with(values: &[(&'static str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (key, value) in values {
        let path = dir.path().join(key);
        std::fs::write(&path, format!("{value}\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    dir
}
