//! The operating system's keyring (feature `keyring`): macOS Keychain, Windows Credential
//! Manager, the Linux kernel keyutils store, or any `keyring-core` store.

use std::fmt;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};
use zeroize::Zeroize;

use crate::error::{Error, ErrorKind, Result};
use crate::provider::{MAX_KEY_NAME_LEN, SecretProvider, quote_name, validate_key_name};
use crate::secret::{Secret, SecretMeta, SecretString};

/// Secrets from the operating system's keyring, one entry per key under a service name.
///
/// A secret is the keyring entry whose *service* is the provider's service name and whose
/// *user* (account) is the key, the convention of the keyring-rs ecosystem, so entries written
/// by other keyring-rs programs with the same service and user are read here. [`new`] picks the
/// native store of the platform:
///
/// | Platform | Store | Kept until |
/// | --- | --- | --- |
/// | macOS | Keychain (the user's default keychain) | deleted |
/// | Windows | Credential Manager (generic credentials, target `key.service`) | deleted |
/// | Linux | kernel keyutils (description `keyring:key@service`) | reboot, or a few idle days |
///
/// On Linux the kernel store is chosen over the desktop Secret Service because it works on
/// headless servers, in CI and over SSH without a D-Bus session or an unlocked collection, and
/// it needs no C library. It lives in kernel memory: secrets are gone after a reboot, and the
/// user's persistent keyring that holds them expires after
/// `/proc/sys/kernel/keys/persistent_keyring_expiry` seconds (three days by default) unused.
/// To use Secret Service or any other keyring-rs store instead, build it yourself and pass it
/// to [`with_store`].
///
/// `get` returns `Ok(None)` for a missing entry and for an empty one. Values are read as
/// passwords (UTF-8, or UTF-16 on Windows, as other keyring tools write them); an entry that
/// does not decode is [`ErrorKind::InvalidFormat`], and its bytes are zeroized.
///
/// ```no_run
/// use keyward::{SecretProviderExt, SecretString};
/// use keyward::provider::keyring::KeyringProvider;
///
/// let keyring = KeyringProvider::new("my-agent")?;
/// keyring.set("OPENAI_API_KEY", &SecretString::from("sk-test-not-a-real-key-0000"))?;
/// let key = keyring.require("OPENAI_API_KEY")?;
/// assert_eq!(key.meta().source, "keyring");
/// keyring.delete("OPENAI_API_KEY")?;
/// # Ok::<(), keyward::Error>(())
/// ```
///
/// [`new`]: KeyringProvider::new
/// [`with_store`]: KeyringProvider::with_store
#[derive(Clone)]
pub struct KeyringProvider {
    service: String,
    store: Arc<CredentialStore>,
}

impl KeyringProvider {
    /// Reads entries of `service` from the platform's native keyring.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] when the service name is empty, too long, contains a control
    /// character, or contains the character that separates key and service in the store's
    /// entry names (`@` on Linux, `.` on Windows); [`ErrorKind::Backend`] when the platform has
    /// no native store this crate supports or the store cannot be opened.
    pub fn new(service: impl Into<String>) -> Result<KeyringProvider> {
        let service = service.into();
        validate_service(&service)?;
        let store = native_store(&service)?;
        Ok(KeyringProvider { service, store })
    }

    /// Reads entries of `service` from a keyring-rs store of your choice, such as Secret
    /// Service (`zbus-secret-service-keyring-store`) or a mock in tests.
    ///
    /// The store comes from [keyring-core](https://docs.rs/keyring-core) 1.x: depend on
    /// `keyring-core = "1"` to name its types.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] when the service name is empty, too long or contains a
    /// control character.
    pub fn with_store(
        service: impl Into<String>,
        store: Arc<CredentialStore>,
    ) -> Result<KeyringProvider> {
        let service = service.into();
        validate_service(&service)?;
        Ok(KeyringProvider { service, store })
    }

    /// The service name entries are stored under.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Stores `value` under `key`, replacing any value it had.
    ///
    /// Meant for setup tools and tests: an agent should not need to write its own keys.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidName`] for a key name [`validate_key_name`] refuses,
    /// [`ErrorKind::InvalidInput`] for an empty value (the kernel store cannot hold one, so
    /// none is accepted anywhere) or one the store refuses, [`ErrorKind::PermissionDenied`]
    /// when the keyring denies access (locked, or the user declined), [`ErrorKind::Backend`]
    /// when it fails otherwise.
    pub fn set(&self, key: &str, value: &SecretString) -> Result<()> {
        let entry = self.entry(key)?;
        if value.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "refusing to store an empty value for {} in the keyring",
                    quote_name(key)
                ),
            ));
        }
        entry
            .set_password(value.expose_secret())
            .map_err(|err| self.store_error(err, Operation::Store, key))
    }

    /// Deletes the entry of `key`: `Ok(true)` if one was deleted, `Ok(false)` if there was none.
    ///
    /// # Errors
    ///
    /// As [`set`](KeyringProvider::set), except for the value rules.
    pub fn delete(&self, key: &str) -> Result<bool> {
        match self.entry(key)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(err) => Err(self.store_error(err, Operation::Delete, key)),
        }
    }

    fn entry(&self, key: &str) -> Result<Entry> {
        validate_key_name(key)?;
        #[cfg(target_os = "linux")]
        if self
            .store
            .as_any()
            .is::<linux_keyutils_keyring_store::Store>()
        {
            keyutils::join_session_of_persistent_keyring();
        }
        self.store
            .build(&self.service, key, None)
            .map_err(|err| self.store_error(err, Operation::Open, key))
    }

    /// Turns a keyring error into ours. Variants that carry secret bytes (`BadEncoding`,
    /// `BadDataFormat`) or entries (`Ambiguous`) are never kept as the source, because
    /// `Error`'s `Debug` prints its source; their bytes are zeroized here.
    fn store_error(&self, err: keyring_core::Error, operation: Operation, key: &str) -> Error {
        use keyring_core::Error as Ke;

        let what = format!(
            "{} {} in the keyring (service {})",
            operation.verb(),
            quote_name(key),
            quote_name(&self.service)
        );
        match err {
            Ke::NoEntry => Error::new(ErrorKind::NotFound, format!("could not {what}: no entry")),
            Ke::NoStorageAccess(source) => Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "could not {what}: access denied (the keyring may be locked, or the user \
                     declined)"
                ),
            )
            .with_source(PlatformError(source)),
            Ke::PlatformFailure(source) => {
                Error::new(ErrorKind::Backend, format!("could not {what}"))
                    .with_source(PlatformError(source))
            }
            Ke::BadEncoding(mut bytes) => {
                bytes.zeroize();
                Error::new(
                    ErrorKind::InvalidFormat,
                    format!("could not {what}: the stored value is not valid text"),
                )
            }
            Ke::BadDataFormat(mut bytes, _) => {
                bytes.zeroize();
                Error::new(
                    ErrorKind::Backend,
                    format!("could not {what}: the store returned malformed data"),
                )
            }
            Ke::Invalid(attribute, reason) => Error::new(
                invalid_kind(&attribute),
                format!("could not {what}: the store refuses its {attribute}: {reason}"),
            ),
            Ke::TooLong(attribute, limit) => Error::new(
                invalid_kind(&attribute),
                format!("could not {what}: its {attribute} is longer than the limit of {limit}"),
            ),
            Ke::Ambiguous(entries) => Error::new(
                ErrorKind::Backend,
                format!("could not {what}: {} entries match", entries.len()),
            ),
            Ke::BadStoreFormat(reason) => Error::new(
                ErrorKind::Backend,
                format!("could not {what}: the store is malformed: {reason}"),
            ),
            Ke::NotSupportedByStore(reason) => Error::new(
                ErrorKind::Backend,
                format!("could not {what}: not supported by the store: {reason}"),
            ),
            // `NoDefaultStore` cannot happen (entries are built from our own store) and new
            // variants may carry data, so they are not printed.
            _ => Error::new(ErrorKind::Backend, format!("could not {what}")),
        }
    }
}

impl SecretProvider for KeyringProvider {
    fn name(&self) -> &str {
        "keyring"
    }

    fn get(&self, key: &str) -> Result<Option<Secret>> {
        let value = match self.entry(key)?.get_password() {
            Ok(value) => value,
            Err(keyring_core::Error::NoEntry) => return Ok(None),
            Err(err) => return Err(self.store_error(err, Operation::Read, key)),
        };
        if value.is_empty() {
            return Ok(None);
        }
        // The kernel store reads into a 64 KiB buffer; `SecretString::from` copies the value
        // into an exact-size allocation and zeroizes the whole buffer.
        Ok(Some(Secret::new(
            SecretString::from(value),
            SecretMeta::new(self.name()),
        )))
    }
}

impl fmt::Debug for KeyringProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringProvider")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy)]
enum Operation {
    Open,
    Read,
    Store,
    Delete,
}

impl Operation {
    fn verb(self) -> &'static str {
        match self {
            Operation::Open => "open",
            Operation::Read => "read",
            Operation::Store => "store",
            Operation::Delete => "delete",
        }
    }
}

/// The attributes that name an entry are the key's business; the rest are the caller's input.
fn invalid_kind(attribute: &str) -> ErrorKind {
    match attribute {
        "user" | "description" | "target" | "username" => ErrorKind::InvalidName,
        _ => ErrorKind::InvalidInput,
    }
}

fn validate_service(service: &str) -> Result<()> {
    let problem = if service.is_empty() {
        "is empty"
    } else if service.len() > MAX_KEY_NAME_LEN {
        "is longer than 512 bytes"
    } else if service.chars().any(char::is_control) {
        "contains a control character"
    } else {
        return Ok(());
    };
    Err(Error::new(
        ErrorKind::InvalidInput,
        format!(
            "invalid keyring service name {}: it {problem}",
            quote_name(service)
        ),
    ))
}

#[cfg(target_os = "linux")]
fn native_store(service: &str) -> Result<Arc<CredentialStore>> {
    refuse_divider(service, '@', "the kernel keyring")?;
    let store =
        linux_keyutils_keyring_store::Store::new_with_configuration(&no_divider_in_service())
            .map_err(|err| open_error("the kernel keyring (keyutils)", err))?;
    Ok(store)
}

#[cfg(target_os = "macos")]
fn native_store(_service: &str) -> Result<Arc<CredentialStore>> {
    let store = apple_native_keyring_store::keychain::Store::new()
        .map_err(|err| open_error("the macOS keychain", err))?;
    Ok(store)
}

#[cfg(windows)]
fn native_store(service: &str) -> Result<Arc<CredentialStore>> {
    refuse_divider(service, '.', "the Windows Credential Manager")?;
    let store =
        windows_native_keyring_store::Store::new_with_configuration(&no_divider_in_service())
            .map_err(|err| open_error("the Windows Credential Manager", err))?;
    Ok(store)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn native_store(_service: &str) -> Result<Arc<CredentialStore>> {
    Err(Error::new(
        ErrorKind::Backend,
        "no native keyring is supported on this platform: pass a keyring-core store to \
         `KeyringProvider::with_store`",
    ))
}

/// The kernel keyring and the Credential Manager name an entry by one string, key and service
/// joined by a divider (`keyring:KEY@service`, `KEY.service`). Keys may contain the divider, so
/// the service may not: then the string splits at its last divider, and two (key, service)
/// pairs never share an entry. The store is told so too (`service_no_divider`).
#[cfg(any(target_os = "linux", windows))]
fn refuse_divider(service: &str, divider: char, store: &str) -> Result<()> {
    if !service.contains(divider) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::InvalidInput,
        format!(
            "invalid keyring service name {}: it contains `{divider}`, which separates key and \
             service in {store}",
            quote_name(service)
        ),
    ))
}

#[cfg(any(target_os = "linux", windows))]
fn no_divider_in_service() -> std::collections::HashMap<&'static str, &'static str> {
    std::collections::HashMap::from([("service_no_divider", "true")])
}

/// Opening a store involves no secret, so the store's own message is safe to show.
#[cfg(any(target_os = "linux", target_os = "macos", windows))]
fn open_error(store: &str, err: keyring_core::Error) -> Error {
    Error::new(ErrorKind::Backend, format!("could not open {store}: {err}"))
}

#[cfg(target_os = "linux")]
mod keyutils {
    use linux_keyutils::{KeyRing, KeyRingIdentifier};

    /// Makes sure the calling thread has a session keyring with the user's persistent keyring
    /// linked into it, before the keyutils store builds an entry.
    ///
    /// The store resolves the session keyring first and then asks for the persistent keyring
    /// linked to the session. A thread without a session keyring of its own (a process not
    /// started through a PAM login: cron, some supervisors and containers, test runners) sees
    /// the shared user-session keyring at the first step, while the second step gives the
    /// thread a new session keyring. Keys are then added where the thread no longer possesses
    /// them, and linking them into the persistent keyring fails with "access denied". Doing
    /// the second step first makes both refer to the same keyring. Where the thread already
    /// has a session keyring this only does what the store does anyway; where the kernel has
    /// no persistent keyrings it fails without side effects and the store uses the session
    /// keyring alone, so the result is ignored.
    pub(super) fn join_session_of_persistent_keyring() {
        let _ = KeyRing::get_persistent(KeyRingIdentifier::Session);
    }
}

/// A platform error (an OS status code) as the source of an [`Error`].
struct PlatformError(keyring_core::error::PlatformError);

impl fmt::Debug for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for PlatformError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use keyring_core::mock;

    fn fake_value() -> SecretString {
        SecretString::from(format!("sk-proj-{}", "MoCk1".repeat(8)))
    }

    fn mock_provider() -> (KeyringProvider, Arc<CredentialStore>) {
        let store: Arc<CredentialStore> = mock::Store::new().unwrap();
        let provider = KeyringProvider::with_store("keyward-unit", store.clone()).unwrap();
        (provider, store)
    }

    /// Makes the next call on the mock entry of `key` fail with `err`.
    fn fail_next(store: &Arc<CredentialStore>, key: &str, err: keyring_core::Error) {
        let entry = store.build("keyward-unit", key, None).unwrap();
        let cred: &mock::Cred = entry.as_any().downcast_ref().unwrap();
        cred.set_error(err);
    }

    #[test]
    fn set_get_delete_round_trip() {
        let (provider, _) = mock_provider();
        assert!(provider.get("OPENAI_API_KEY").unwrap().is_none());
        provider.set("OPENAI_API_KEY", &fake_value()).unwrap();
        let secret = provider.get("OPENAI_API_KEY").unwrap().unwrap();
        assert_eq!(secret.value(), &fake_value());
        assert_eq!(secret.meta().source, "keyring");
        assert!(provider.delete("OPENAI_API_KEY").unwrap());
        assert!(!provider.delete("OPENAI_API_KEY").unwrap());
        assert!(provider.get("OPENAI_API_KEY").unwrap().is_none());
    }

    #[test]
    fn empty_values_are_refused_and_read_as_missing() {
        let (provider, store) = mock_provider();
        let err = provider.set("K", &SecretString::from("")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        store
            .build("keyward-unit", "K", None)
            .unwrap()
            .set_password("")
            .unwrap();
        assert!(provider.get("K").unwrap().is_none());
    }

    #[test]
    fn store_errors_map_to_kinds_without_values() {
        let (provider, store) = mock_provider();
        provider.set("K", &fake_value()).unwrap();
        let value = fake_value().expose_secret().to_owned();
        let platform = || -> keyring_core::error::PlatformError {
            Box::new(std::io::Error::other("os status -25293"))
        };
        let cases = [
            (
                keyring_core::Error::NoStorageAccess(platform()),
                ErrorKind::PermissionDenied,
            ),
            (
                keyring_core::Error::PlatformFailure(platform()),
                ErrorKind::Backend,
            ),
            (
                keyring_core::Error::BadEncoding(value.clone().into_bytes()),
                ErrorKind::InvalidFormat,
            ),
            (
                keyring_core::Error::BadDataFormat(value.clone().into_bytes(), platform()),
                ErrorKind::Backend,
            ),
            (
                keyring_core::Error::TooLong("user".into(), 255),
                ErrorKind::InvalidName,
            ),
            (
                keyring_core::Error::Invalid("password".into(), "too long".into()),
                ErrorKind::InvalidInput,
            ),
            (
                keyring_core::Error::NotSupportedByStore("read".into()),
                ErrorKind::Backend,
            ),
        ];
        for (err, kind) in cases {
            fail_next(&store, "K", err);
            let got = provider.get("K").unwrap_err();
            assert_eq!(got.kind(), kind, "{got}");
            assert!(got.to_string().contains("`K`"), "names the key: {got}");
            assert!(
                got.to_string().contains("`keyward-unit`"),
                "names the service"
            );
            let shown = format!("{got} {got:?}");
            assert!(!shown.contains(&value), "error shows the value: {shown}");
            let bytes = format!("{:?}", value.as_bytes());
            assert!(
                !shown.contains(&bytes[1..bytes.len() - 1]),
                "error shows the bytes"
            );
        }
        // The failures were one-shot: the entry is intact.
        assert_eq!(provider.get("K").unwrap().unwrap().value(), &fake_value());
    }

    #[test]
    fn access_denied_keeps_the_platform_error_as_source() {
        let (provider, store) = mock_provider();
        let platform = Box::new(std::io::Error::other("user canceled the operation"));
        fail_next(&store, "K", keyring_core::Error::NoStorageAccess(platform));
        let err = provider.delete("K").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert_eq!(
            err.to_string(),
            "could not delete `K` in the keyring (service `keyward-unit`): access denied \
             (the keyring may be locked, or the user declined)"
        );
        let source = std::error::Error::source(&err).unwrap();
        assert_eq!(source.to_string(), "user canceled the operation");
    }

    #[test]
    fn bad_names_and_services_are_refused_before_the_store_is_asked() {
        let (provider, _) = mock_provider();
        for bad in ["", "..", "a/b", "nul\0byte"] {
            assert_eq!(
                provider.get(bad).unwrap_err().kind(),
                ErrorKind::InvalidName
            );
            let err = provider.set(bad, &fake_value()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidName);
            assert_eq!(
                provider.delete(bad).unwrap_err().kind(),
                ErrorKind::InvalidName
            );
        }
        let store: Arc<CredentialStore> = mock::Store::new().unwrap();
        let long = "s".repeat(MAX_KEY_NAME_LEN + 1);
        for bad in ["", "line\nbreak", long.as_str()] {
            let err = KeyringProvider::with_store(bad, store.clone()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn native_service_names_cannot_contain_the_divider() {
        let err = KeyringProvider::new("team@agent").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains('@'));
    }

    #[test]
    fn debug_shows_the_service_only() {
        let (provider, _) = mock_provider();
        provider.set("K", &fake_value()).unwrap();
        let debug = format!("{provider:?}");
        assert_eq!(debug, r#"KeyringProvider { service: "keyward-unit", .. }"#);
    }
}
