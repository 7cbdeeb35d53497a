//! The provider conformance suite (feature `testing`): the checks every built-in provider passes,
//! for people who write their own [`SecretProvider`] or [`AsyncSecretProvider`].
//!
//! Fill your store with the [`fake_values`] (or values of your own), then run
//! [`check_provider`] or [`check_async_provider`] from a test. A check that fails panics with a
//! message naming the provider and what it got wrong, never a value.
//!
//! ```
//! use keyward::MemoryProvider;
//! use keyward::testing::{check_provider, fake_values};
//!
//! let values = fake_values();
//! let provider = values
//!     .iter()
//!     .fold(MemoryProvider::new(), |p, (key, value)| p.with(*key, value.as_str()));
//! check_provider(&provider, &values);
//! ```
//!
//! What is checked: each present key comes back exactly, from a named source, and `Debug` of the
//! secret, its value and its metadata show `***` and never the value; a missing key is
//! `Ok(None)` and [`require`](SecretProviderExt::require) turns it into
//! [`ErrorKind::NotFound`] naming the key; the names of [`BAD_NAMES`] are refused with
//! [`ErrorKind::InvalidName`]; `Debug` of the provider shows no value.

use std::collections::HashMap;
use std::fmt;

use crate::error::{ErrorKind, Result};
use crate::provider::{AsyncSecretProvider, SecretProvider, SecretProviderExt};
use crate::secret::Secret;

/// Names every provider whose names may end up in a file path must refuse with
/// [`ErrorKind::InvalidName`]: empty, `..`, path separators, NUL and control characters.
pub const BAD_NAMES: &[&str] = &[
    "",
    "..",
    "../etc/passwd",
    "a/b",
    "a\\b",
    "nul\0byte",
    "new\nline",
];

/// The bad names for a provider whose names are not file names (remote secret names may hold
/// `/`): empty, NUL and control characters.
pub const BAD_REMOTE_NAMES: &[&str] = &["", "nul\0byte", "new\nline"];

/// The key a conformance run asks for and expects to be missing.
pub const MISSING_KEY: &str = "KEYWARD_CONFORMANCE_MISSING_KEY";

/// Obviously fake values, one per key name, generated so that no real-looking key is pasted
/// anywhere: an OpenAI-shaped key, a dotted name, and a value with spaces and a `$`.
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

/// Checks `provider`, which must hold exactly the `present` (name, value) pairs among the names
/// the suite asks about, and refuse [`BAD_NAMES`].
///
/// # Panics
///
/// When the provider breaks a rule of the suite; the message names the provider and the rule.
pub fn check_provider(provider: &dyn SecretProvider, present: &[(&str, String)]) {
    check_provider_refusing(provider, present, BAD_NAMES);
}

/// [`check_provider`] for a provider whose names are not file names: it must refuse
/// `bad_names` (for example [`BAD_REMOTE_NAMES`]).
///
/// # Panics
///
/// When the provider breaks a rule of the suite; the message names the provider and the rule.
pub fn check_provider_refusing(
    provider: &dyn SecretProvider,
    present: &[(&str, String)],
    bad_names: &[&str],
) {
    let name = provider.name().to_owned();
    assert!(!name.is_empty(), "a provider has a name");

    for (key, value) in present {
        let secret = match provider.get(key) {
            Ok(Some(secret)) => secret,
            Ok(None) => panic!("{name}: `{key}` is missing"),
            Err(err) => panic!("{name}: get(`{key}`) failed: {err}"),
        };
        assert!(
            secret.expose_secret() == value,
            "{name}: `{key}` does not come back exactly"
        );
        assert!(
            !secret.meta().source.is_empty(),
            "{name}: the metadata of `{key}` names no source"
        );
        let debug = format!("{secret:?} {:?} {:?}", secret.value(), secret.meta());
        assert!(
            !debug.contains(value.as_str()),
            "{name}: Debug of the secret `{key}` shows its value"
        );
        assert!(
            debug.contains("***"),
            "{name}: Debug of a secret shows no ***"
        );
        match provider.require(key) {
            Ok(required) => assert!(
                required.expose_secret() == value,
                "{name}: require(`{key}`) does not return the value get returns"
            ),
            Err(err) => panic!("{name}: require(`{key}`) failed: {err}"),
        }
    }

    match provider.get(MISSING_KEY) {
        Ok(None) => {}
        Ok(Some(_)) => panic!("{name}: `{MISSING_KEY}` should be missing, it is present"),
        Err(err) => panic!("{name}: a missing key should be Ok(None), got the error: {err}"),
    }
    match provider.require(MISSING_KEY) {
        Err(err) if err.kind() == ErrorKind::NotFound => assert!(
            err.to_string().contains(MISSING_KEY),
            "{name}: NotFound does not name the key: {err}"
        ),
        Err(err) => panic!("{name}: require of a missing key should be NotFound, got: {err}"),
        Ok(_) => panic!("{name}: require of a missing key succeeded"),
    }

    for bad in bad_names {
        match provider.get(bad) {
            Err(err) if err.kind() == ErrorKind::InvalidName => {}
            Err(err) => panic!("{name}: {bad:?} should be InvalidName, got: {err}"),
            Ok(_) => panic!("{name}: the name {bad:?} should be refused"),
        }
    }

    let debug = format!("{provider:?}");
    for (key, value) in present {
        assert!(
            !debug.contains(value.as_str()),
            "{name}: Debug of the provider shows the value of `{key}`"
        );
    }
}

/// [`check_provider_refusing`] for an [`AsyncSecretProvider`]: asks the provider every name the
/// suite needs, then checks its answers. Runs in whatever runtime awaits it.
///
/// ```
/// use keyward::{AsyncSecretProvider, MemoryProvider};
/// use keyward::testing::{BAD_NAMES, check_async_provider, fake_values};
///
/// # fn block_on<F: std::future::Future>(future: F) -> F::Output {
/// #     use std::task::{Context, Poll, Waker};
/// #     let mut future = std::pin::pin!(future);
/// #     match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
/// #         Poll::Ready(output) => output,
/// #         Poll::Pending => unreachable!("a memory provider answers at once"),
/// #     }
/// # }
/// let values = fake_values();
/// let provider = values
///     .iter()
///     .fold(MemoryProvider::new(), |p, (key, value)| p.with(*key, value.as_str()));
/// // in a test: `check_async_provider(&provider, &values, BAD_NAMES).await`
/// block_on(check_async_provider(&provider, &values, BAD_NAMES));
/// ```
///
/// # Panics
///
/// When the provider breaks a rule of the suite; the message names the provider and the rule.
pub async fn check_async_provider<P: AsyncSecretProvider + ?Sized>(
    provider: &P,
    present: &[(&str, String)],
    bad_names: &[&str],
) {
    let keys = present
        .iter()
        .map(|(key, _)| *key)
        .chain([MISSING_KEY])
        .chain(bad_names.iter().copied());
    let mut answers = HashMap::new();
    for key in keys {
        let answer = provider.get(key).await;
        answers.insert(key.to_owned(), answer);
    }
    let recorded = Recorded {
        name: provider.name().to_owned(),
        debug: format!("{provider:?}"),
        answers,
    };
    check_provider_refusing(&recorded, present, bad_names);
}

/// The answers an async provider gave, served again to the synchronous suite.
struct Recorded {
    name: String,
    /// `Debug` of the provider, checked by the suite for values.
    debug: String,
    answers: HashMap<String, Result<Option<Secret>>>,
}

impl fmt::Debug for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.debug)
    }
}

impl SecretProvider for Recorded {
    fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, key: &str) -> Result<Option<Secret>> {
        match self.answers.get(key) {
            Some(answer) => answer.clone(),
            None => panic!(
                "{}: the suite asked for `{key}`, which it did not record",
                self.name
            ),
        }
    }
}
