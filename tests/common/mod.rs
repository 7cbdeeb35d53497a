//! The provider conformance suite: the same expectations for every [`SecretProvider`].
#![allow(dead_code, unreachable_pub)] // each test binary uses part of it
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

pub mod misbehaving;
pub mod servers;

use keyward::{
    AsyncSecretProvider, ErrorKind, KeyEvent, Result, Secret, SecretProvider, SecretProviderExt,
};

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
    check_provider_refusing(provider, present, BAD_NAMES);
}

/// [`check_provider`] for a provider whose names are not file names: it must refuse
/// `bad_names` (remote secret names may contain `/`, so `a/b` is a name there).
pub fn check_provider_refusing(
    provider: &dyn SecretProvider,
    present: &[(&str, String)],
    bad_names: &[&str],
) {
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

    for bad in bad_names {
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

/// An [`AsyncSecretProvider`] seen as a [`SecretProvider`], so that the suite above checks the
/// remote providers too: each `get` blocks on a current-thread runtime that the wrapper owns.
/// For tests only, outside any runtime (`block_on` panics inside one).
#[derive(Debug)]
pub struct Blocking<P> {
    runtime: tokio::runtime::Runtime,
    provider: P,
}

impl<P: AsyncSecretProvider> Blocking<P> {
    /// Builds the provider on the wrapper's runtime (the AWS builder is async), and wraps it.
    pub fn new<F: std::future::Future<Output = P>>(build: impl FnOnce() -> F) -> Blocking<P> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let provider = runtime.block_on(build());
        Blocking { runtime, provider }
    }

    /// Runs `future` to completion on the wrapper's runtime, to set the test up.
    pub fn block_on<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }
}

impl<P: AsyncSecretProvider> SecretProvider for Blocking<P> {
    fn name(&self) -> &str {
        self.provider.name()
    }

    fn get(&self, key: &str) -> Result<Option<Secret>> {
        self.runtime.block_on(self.provider.get(key))
    }
}

/// Runs each async test body on both tokio runtimes.
#[macro_export]
macro_rules! on_both_runtimes {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn multi_thread() {
                super::$name().await;
            }

            #[tokio::test(flavor = "current_thread")]
            async fn current_thread() {
                super::$name().await;
            }
        }
    )*};
}

/// Every [`ErrorKind`], for tests that go through them all.
pub const ERROR_KINDS: [ErrorKind; 11] = [
    ErrorKind::NotFound,
    ErrorKind::InvalidName,
    ErrorKind::InvalidFormat,
    ErrorKind::Parse,
    ErrorKind::Io,
    ErrorKind::InsecurePermissions,
    ErrorKind::PermissionDenied,
    ErrorKind::Leak,
    ErrorKind::Backend,
    ErrorKind::Expired,
    ErrorKind::InvalidInput,
];

/// Records every event a key manager emits, for tests of its hooks.
#[derive(Debug, Default, Clone)]
pub struct Events(Arc<Mutex<Vec<KeyEvent>>>);

impl Events {
    pub fn hook(&self) -> impl Fn(&KeyEvent) + Send + Sync + 'static {
        let events = self.0.clone();
        move |event| events.lock().unwrap().push(event.clone())
    }

    pub fn take(&self) -> Vec<KeyEvent> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        self.take().iter().map(kind).collect()
    }
}

/// A short name for an event's variant.
pub fn kind(event: &KeyEvent) -> &'static str {
    match event {
        KeyEvent::Loaded { .. } => "loaded",
        KeyEvent::Refreshed { .. } => "refreshed",
        KeyEvent::Rotated { .. } => "rotated",
        KeyEvent::Retired { .. } => "retired",
        KeyEvent::StaleServed { .. } => "stale",
        KeyEvent::DueSoon { .. } => "due soon",
        KeyEvent::Due { .. } => "due",
        KeyEvent::Expired { .. } => "expired",
        KeyEvent::RefreshFailed { .. } => "failed",
        _ => "other",
    }
}
