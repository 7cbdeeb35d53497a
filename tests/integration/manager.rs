//! KeyManager: caching, single-flight, stale-on-error, expiry, rotation detection, events.
//!
//! Time logic runs on a `ManualClock`; the only real sleeps are inside the fake provider, to
//! hold a fetch open while other threads pile up behind it.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use crate::common::{ERROR_KINDS, Events, kind};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use keyward::clock::{Clock, ManualClock};
use keyward::manager::{KeyEvent, KeyManagerBuilder};
use keyward::rotation::CreatedAt;
use keyward::{
    Error, ErrorKind, KeyFormat, KeyManager, ManagedKey, MemoryProvider, Result, RotationPolicy,
    Secret, SecretMeta, SecretProvider, SecretProviderExt,
};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

fn fake_key(tag: impl std::fmt::Display) -> String {
    format!("sk-proj-{tag}-{}", "Ab3d".repeat(10))
}

/// A provider whose contents, failures and speed the test controls, and which counts its calls.
#[derive(Debug, Default)]
struct Fake {
    secrets: Mutex<HashMap<String, Secret>>,
    calls: Mutex<HashMap<String, usize>>,
    failure: Mutex<Option<(ErrorKind, bool)>>,
    delay: Mutex<Duration>,
    panic: AtomicBool,
}

impl Fake {
    fn set(&self, name: &str, value: &str) {
        self.set_secret(name, Secret::new(value, SecretMeta::new("fake")));
    }

    fn set_secret(&self, name: &str, secret: Secret) {
        self.secrets.lock().unwrap().insert(name.to_owned(), secret);
    }

    fn remove(&self, name: &str) {
        self.secrets.lock().unwrap().remove(name);
    }

    /// Fails every fetch with an error of `kind` that is not temporary: an answer.
    fn fail(&self, kind: ErrorKind) {
        self.fail_with(kind, false);
    }

    /// Fails every fetch as a server that is down does: a temporary `Backend` error.
    fn outage(&self) {
        self.fail_with(ErrorKind::Backend, true);
    }

    fn fail_with(&self, kind: ErrorKind, temporary: bool) {
        *self.failure.lock().unwrap() = Some((kind, temporary));
    }

    fn recover(&self) {
        *self.failure.lock().unwrap() = None;
    }

    fn slow(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    fn calls(&self, name: &str) -> usize {
        self.calls.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

impl SecretProvider for Fake {
    fn name(&self) -> &str {
        "fake"
    }

    fn get(&self, key: &str) -> Result<Option<Secret>> {
        *self
            .calls
            .lock()
            .unwrap()
            .entry(key.to_owned())
            .or_default() += 1;
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            thread::sleep(delay);
        }
        if self.panic.load(Ordering::SeqCst) {
            panic!("fake provider told to panic");
        }
        if let Some((kind, temporary)) = *self.failure.lock().unwrap() {
            return Err(Error::new(kind, "fake is down (503)").with_temporary(temporary));
        }
        Ok(self.secrets.lock().unwrap().get(key).cloned())
    }
}

struct Setup {
    fake: Arc<Fake>,
    clock: Arc<ManualClock>,
    events: Events,
}

impl Setup {
    fn new() -> Setup {
        Setup {
            fake: Arc::new(Fake::default()),
            clock: Arc::new(ManualClock::new(start())),
            events: Events::default(),
        }
    }

    fn builder(&self) -> KeyManagerBuilder {
        KeyManager::builder(self.fake.clone())
            .with_clock(self.clock.clone())
            .with_created_at_companion(false)
            .on_event(self.events.hook())
    }

    fn manager(&self) -> KeyManager {
        self.builder().build().unwrap()
    }
}

#[test]
fn cached_until_the_ttl_passes() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    let manager = s
        .builder()
        .with_ttl(Duration::from_secs(5 * 60))
        .build()
        .unwrap();
    let first = manager.get("API_KEY").unwrap();
    s.clock.advance(TimeDelta::seconds(299));
    let second = manager.get("API_KEY").unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(s.fake.calls("API_KEY"), 1);
    s.clock.advance(TimeDelta::seconds(1));
    let third = manager.get("API_KEY").unwrap();
    assert_eq!(s.fake.calls("API_KEY"), 2);
    assert_eq!(third.fetched_at(), s.clock.now());
    assert_eq!(s.events.kinds(), ["loaded", "refreshed"]);
}

#[test]
fn concurrent_misses_call_the_provider_once() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    s.fake.slow(Duration::from_millis(150));
    let manager = s.manager();
    let barrier = Arc::new(Barrier::new(12));
    let handles: Vec<_> = (0..12)
        .map(|_| {
            let manager = manager.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                manager.get("API_KEY").unwrap()
            })
        })
        .collect();
    let keys: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(s.fake.calls("API_KEY"), 1);
    assert!(keys.iter().all(|key| Arc::ptr_eq(key, &keys[0])));
    assert_eq!(s.events.kinds(), ["loaded"]);
}

#[test]
fn concurrent_misses_share_the_error() {
    let s = Setup::new();
    s.fake.outage();
    s.fake.slow(Duration::from_millis(150));
    let manager = s.manager();
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let manager = manager.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                manager.get("API_KEY").unwrap_err()
            })
        })
        .collect();
    for handle in handles {
        let err = handle.join().unwrap();
        assert_eq!(err.kind(), ErrorKind::Backend);
        assert_eq!(err.to_string(), "fake is down (503)");
    }
    assert_eq!(s.fake.calls("API_KEY"), 1);
}

#[test]
fn a_panicking_provider_releases_the_waiters() {
    let s = Setup::new();
    s.fake.slow(Duration::from_millis(200));
    s.fake.panic.store(true, Ordering::SeqCst);
    let manager = s.manager();
    let leader = {
        let manager = manager.clone();
        thread::spawn(move || manager.get("API_KEY"))
    };
    thread::sleep(Duration::from_millis(50));
    let err = manager.get("API_KEY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.to_string().contains("panicked"), "{err}");
    assert!(
        leader.join().is_err(),
        "the provider's panic reaches its caller"
    );
    // The manager is still usable afterwards.
    s.fake.panic.store(false, Ordering::SeqCst);
    s.fake.slow(Duration::ZERO);
    s.fake.set("API_KEY", &fake_key(1));
    assert!(manager.get("API_KEY").is_ok());
}

#[test]
fn stale_value_is_served_within_max_stale_then_the_error_then_recovery() {
    let s = Setup::new();
    let value = fake_key("good");
    s.fake.set("API_KEY", &value);
    let manager = s
        .builder()
        .with_ttl(Duration::from_secs(5 * 60))
        .with_max_stale(Duration::from_secs(3600))
        .with_stale_retry_interval(Duration::from_secs(30))
        .build()
        .unwrap();
    manager.get("API_KEY").unwrap();
    s.events.take();

    s.fake.outage();
    s.clock.advance(TimeDelta::minutes(5));
    let stale = manager.get("API_KEY").unwrap();
    assert_eq!(stale.expose_secret(), value);
    assert_eq!(s.fake.calls("API_KEY"), 2);
    let events = s.events.take();
    assert_eq!(
        events.iter().map(kind).collect::<Vec<_>>(),
        ["failed", "stale"]
    );
    match &events[1] {
        KeyEvent::StaleServed {
            error_kind,
            stale_until,
            message,
            ..
        } => {
            assert_eq!(*error_kind, ErrorKind::Backend);
            assert_eq!(*stale_until, start() + TimeDelta::minutes(65));
            assert!(!message.contains(&value));
        }
        other => panic!("unexpected event {other:?}"),
    }

    // A failing provider is not asked on every read, only after the retry interval.
    s.clock.advance(TimeDelta::seconds(29));
    manager.get("API_KEY").unwrap();
    assert_eq!(s.fake.calls("API_KEY"), 2);
    s.clock.advance(TimeDelta::seconds(1));
    manager.get("API_KEY").unwrap();
    assert_eq!(s.fake.calls("API_KEY"), 3);

    // An explicit refresh reports the failure even though a stale value is there.
    assert_eq!(
        manager.refresh("API_KEY").unwrap_err().kind(),
        ErrorKind::Backend
    );

    // One hour after the value stopped being fresh, the error comes through.
    s.clock.set(start() + TimeDelta::minutes(65));
    let err = manager.get("API_KEY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);

    s.fake.recover();
    let recovered = manager.get("API_KEY").unwrap();
    assert_eq!(recovered.fetched_at(), s.clock.now());
    let before = s.fake.calls("API_KEY");
    manager.get("API_KEY").unwrap();
    assert_eq!(
        s.fake.calls("API_KEY"),
        before,
        "fresh again, served from cache"
    );
}

#[test]
fn not_found_is_never_covered_by_a_stale_value() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    let manager = s.manager();
    manager.get("API_KEY").unwrap();
    s.fake.remove("API_KEY");
    s.clock.advance(TimeDelta::minutes(6));
    let err = manager.get("API_KEY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "secret `API_KEY` not found in fake");
    assert!(
        manager.is_empty(),
        "a key deleted at the source leaves the cache"
    );
}

#[test]
fn refusals_are_not_covered_by_a_stale_value() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    let manager = s.manager();
    manager.get("API_KEY").unwrap();
    s.fake.fail(ErrorKind::PermissionDenied);
    s.clock.advance(TimeDelta::minutes(6));
    assert_eq!(
        manager.get("API_KEY").unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
}

/// Stale-on-error covers temporary errors only, whatever their kind; a key the source withdrew
/// (not found, refused) is never covered, even by an error marked temporary.
#[test]
fn only_temporary_errors_are_covered_by_a_stale_value() {
    for kind in ERROR_KINDS {
        for temporary in [false, true] {
            let s = Setup::new();
            let value = fake_key("good");
            s.fake.set("API_KEY", &value);
            let manager = s.manager();
            manager.get("API_KEY").unwrap();
            s.events.take();
            s.fake.fail_with(kind, temporary);
            s.clock.advance(TimeDelta::minutes(6));
            let read = manager.get("API_KEY");
            let withdrawn = matches!(kind, ErrorKind::NotFound | ErrorKind::PermissionDenied);
            let case = format!("{kind:?}, temporary: {temporary}");
            if temporary && !withdrawn {
                assert_eq!(read.unwrap().expose_secret(), value, "{case}");
                assert_eq!(s.events.kinds(), ["failed", "stale"], "{case}");
            } else {
                let err = read.unwrap_err();
                assert_eq!(err.kind(), kind, "{case}");
                assert_eq!(err.is_temporary(), temporary, "{case}");
                assert_eq!(s.events.kinds(), ["failed"], "{case}");
            }
            assert_eq!(manager.is_empty(), withdrawn, "{case}");
        }
    }
}

/// A revoked token: once the source refuses the credential, the cached value is gone. A later
/// outage does not bring it back as a stale value, and neither does a thread's own copy.
#[test]
fn a_refused_credential_drops_the_cached_value_even_for_a_later_outage() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    let manager = s.manager();
    manager.get("API_KEY").unwrap();
    s.fake.fail(ErrorKind::PermissionDenied);
    s.clock.advance(TimeDelta::minutes(6));
    let err = manager.get("API_KEY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert!(manager.is_empty());
    assert!(manager.keys().is_empty());

    s.fake.outage();
    for _ in 0..3 {
        let err = manager.with_key("API_KEY", |_| ()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Backend);
        assert!(err.is_temporary());
    }
    assert!(!s.events.kinds().contains(&"stale"));

    // Once readable again, it is a new load, not a refresh of the dropped value.
    s.fake.recover();
    manager.get("API_KEY").unwrap();
    assert_eq!(s.events.kinds(), ["loaded"]);
}

/// The same through `refresh` while the value is still fresh: the refusal drops it, and the
/// next read asks the source instead of serving the cached value or the thread's copy.
#[test]
fn a_refused_refresh_drops_a_fresh_value() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    let manager = s.manager();
    manager.get("API_KEY").unwrap();
    manager.with_key("API_KEY", |_| ()).unwrap();
    s.fake.fail(ErrorKind::PermissionDenied);
    let err = manager.refresh("API_KEY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let calls = s.fake.calls("API_KEY");
    for read in [
        manager.get("API_KEY").map(drop),
        manager.with_key("API_KEY", |_| ()),
    ] {
        assert_eq!(read.unwrap_err().kind(), ErrorKind::PermissionDenied);
    }
    assert_eq!(s.fake.calls("API_KEY"), calls + 2);
}

#[test]
fn expired_keys_are_refused_by_default() {
    let s = Setup::new();
    let expires = start() + TimeDelta::days(2);
    s.fake.set_secret(
        "API_KEY",
        Secret::new(
            fake_key(1),
            SecretMeta::new("fake").with_expires_at(expires),
        ),
    );
    let manager = s.manager();
    assert!(manager.get("API_KEY").is_ok());
    s.clock.set(expires);
    let err = manager.get("API_KEY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Expired);
    assert_eq!(
        err.to_string(),
        "secret `API_KEY` from fake is expired: it is past the source's expiry date 2026-03-03; rotate it at the source"
    );
    manager.get("API_KEY").unwrap_err();
    // Two days later the cache was refreshed once; the expiry is announced once.
    assert_eq!(s.events.kinds(), ["loaded", "refreshed", "expired"]);
}

#[test]
fn a_key_expiring_while_cached_is_refused_without_waiting_for_the_ttl() {
    let s = Setup::new();
    let expires = start() + TimeDelta::hours(1);
    s.fake.set_secret(
        "API_KEY",
        Secret::new(
            fake_key(1),
            SecretMeta::new("fake").with_expires_at(expires),
        ),
    );
    let manager = s
        .builder()
        .with_ttl(Duration::from_secs(86_400))
        .build()
        .unwrap();
    manager.get("API_KEY").unwrap();
    s.clock.set(expires - TimeDelta::seconds(1));
    manager.get("API_KEY").unwrap();
    s.clock.set(expires);
    assert_eq!(
        manager.get("API_KEY").unwrap_err().kind(),
        ErrorKind::Expired
    );
    assert_eq!(s.fake.calls("API_KEY"), 1, "decided from the cache");
}

#[test]
fn expired_keys_can_be_served_with_a_warning() {
    let s = Setup::new();
    s.fake.set_secret(
        "API_KEY",
        Secret::new(
            fake_key(1),
            SecretMeta::new("fake").with_created_at(start() - TimeDelta::days(400)),
        ),
    );
    let policy = RotationPolicy::default().with_max_age(365 * RotationPolicy::DAY);
    let strict = s.builder().with_policy(policy).build().unwrap();
    let err = strict.get("API_KEY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Expired);
    assert!(err.to_string().contains("maximum age of 365 days"), "{err}");

    let lenient = s
        .builder()
        .with_policy(policy)
        .with_serve_expired(true)
        .build()
        .unwrap();
    assert!(lenient.get("API_KEY").is_ok());
    assert!(s.events.kinds().contains(&"expired"));
}

#[test]
fn status_changes_are_announced_once_each() {
    let s = Setup::new();
    s.fake.set_secret(
        "API_KEY",
        Secret::new(
            fake_key(1),
            SecretMeta::new("fake").with_created_at(start() - TimeDelta::days(70)),
        ),
    );
    let manager = s
        .builder()
        .with_ttl(Duration::from_secs(365 * 86_400))
        .build()
        .unwrap();
    manager.get("API_KEY").unwrap();
    s.clock.advance(TimeDelta::days(7));
    manager.get("API_KEY").unwrap();
    manager.get("API_KEY").unwrap();
    s.clock.advance(TimeDelta::days(14));
    manager.get("API_KEY").unwrap();
    let report = manager.rotation_report();
    assert_eq!(report.needs_attention().count(), 1);
    assert_eq!(s.events.kinds(), ["loaded", "due soon", "due"]);
}

#[test]
fn rotation_at_the_source_is_detected_and_the_old_value_kept_for_the_grace_period() {
    let s = Setup::new();
    let (old_value, new_value) = (fake_key("old"), fake_key("new"));
    s.fake.set("API_KEY", &old_value);
    let rotations = Arc::new(Mutex::new(Vec::new()));
    let manager = {
        let rotations = rotations.clone();
        s.builder()
            .with_grace_period(Duration::from_secs(2 * 3600))
            .on_rotated(move |old, new| {
                let pair = (
                    old.expose_secret().to_owned(),
                    new.expose_secret().to_owned(),
                );
                rotations.lock().unwrap().push(pair);
            })
            .build()
            .unwrap()
    };
    manager.get("API_KEY").unwrap();
    s.fake.set("API_KEY", &new_value);
    let key = manager.refresh("API_KEY").unwrap();
    assert_eq!(key.expose_secret(), new_value);
    assert_eq!(
        rotations.lock().unwrap().as_slice(),
        [(old_value.clone(), new_value.clone())]
    );
    let events = s.events.take();
    match &events[1] {
        KeyEvent::Rotated {
            old,
            new,
            grace_until,
        } => {
            assert_eq!(old.expose_secret(), old_value);
            assert_eq!(new.expose_secret(), new_value);
            assert_eq!(*grace_until, start() + TimeDelta::hours(2));
        }
        other => panic!("unexpected event {other:?}"),
    }

    let retired = manager.retired_keys();
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0].expose_secret(), old_value);
    assert_eq!(manager.keys()[0].expose_secret(), new_value);

    s.clock.advance(TimeDelta::hours(2));
    assert!(manager.retired_keys().is_empty());
    let events = s.events.take();
    assert_eq!(events.iter().map(kind).collect::<Vec<_>>(), ["retired"]);
    assert_eq!(events[0].key().unwrap().expose_secret(), old_value);
}

#[test]
fn a_new_version_counts_as_rotation() {
    let s = Setup::new();
    let value = fake_key(1);
    s.fake.set_secret(
        "API_KEY",
        Secret::new(value.as_str(), SecretMeta::new("fake").with_version("1")),
    );
    let manager = s.manager();
    manager.get("API_KEY").unwrap();
    s.fake.set_secret(
        "API_KEY",
        Secret::new(value.as_str(), SecretMeta::new("fake").with_version("2")),
    );
    assert_eq!(manager.refresh("API_KEY").unwrap().version(), Some("2"));
    assert_eq!(s.events.kinds(), ["loaded", "rotated"]);
}

#[test]
fn preload_lists_every_missing_key_at_once() {
    let s = Setup::new();
    s.fake.set("PRESENT", &fake_key(1));
    let manager = s.manager();
    let err = manager
        .preload(["PRESENT", "MISSING_ONE", "MISSING_TWO"])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "2 of 3 secrets could not be loaded from fake: `MISSING_ONE` (not found), `MISSING_TWO` (not found)"
    );
    assert_eq!(manager.preload(["PRESENT"]).unwrap().len(), 1);

    let err = manager.preload(["MISSING_ONE", "bad/name"]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidName);
    assert!(
        err.to_string().contains("`MISSING_ONE` (not found)"),
        "{err}"
    );
    assert!(
        err.to_string().contains("`bad/name` (invalid secret name"),
        "{err}"
    );
}

#[test]
fn capacity_is_bounded_by_dropping_the_oldest_fetched_key() {
    let s = Setup::new();
    for name in ["A", "B", "C"] {
        s.fake.set(name, &fake_key(name));
    }
    let manager = s.builder().with_capacity(2).build().unwrap();
    for name in ["A", "B", "C"] {
        manager.get(name).unwrap();
        s.clock.advance(TimeDelta::seconds(1));
    }
    assert_eq!(manager.len(), 2);
    let names: Vec<String> = manager.keys().iter().map(|k| k.name().to_owned()).collect();
    assert_eq!(names, ["B", "C"]);
    manager.get("A").unwrap();
    assert_eq!(s.fake.calls("A"), 2);
}

#[test]
fn invalidate_and_refresh_go_back_to_the_source() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    let manager = s.manager();
    manager.get("API_KEY").unwrap();
    assert!(manager.invalidate("API_KEY"));
    assert!(!manager.invalidate("API_KEY"));
    assert!(manager.is_empty());
    manager.get("API_KEY").unwrap();
    manager.refresh("API_KEY").unwrap();
    assert_eq!(s.fake.calls("API_KEY"), 3);
    assert_eq!(s.events.kinds(), ["loaded", "loaded", "refreshed"]);
}

#[test]
fn with_key_lends_what_get_returns() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    let manager = s.manager();
    let lent = manager
        .with_key("API_KEY", |key| key.expose_secret().to_owned())
        .unwrap();
    assert_eq!(lent, fake_key(1));
    assert_eq!(manager.get("API_KEY").unwrap().expose_secret(), fake_key(1));
    assert_eq!(s.fake.calls("API_KEY"), 1);

    let mut called = false;
    let err = manager.with_key("MISSING", |_| called = true).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!called, "f must not run without a key");
}

/// A thread's own copy of a cached key (the fast path) never outlives a change another thread
/// made: a refresh that found a new value, an invalidation, a new manager.
#[test]
fn a_threads_copy_of_a_key_never_outlives_a_change() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    let manager = s.manager();
    let read = |manager: &KeyManager| manager.get("API_KEY").unwrap().expose_secret().to_owned();
    let elsewhere = |f: &(dyn Fn() + Sync)| thread::scope(|scope| scope.spawn(f).join().unwrap());

    // Read twice, so the second read comes from this thread's copy.
    assert_eq!(read(&manager), fake_key(1));
    assert_eq!(read(&manager), fake_key(1));
    s.fake.set("API_KEY", &fake_key(2));
    elsewhere(&|| {
        manager.refresh("API_KEY").unwrap();
    });
    assert_eq!(read(&manager), fake_key(2));
    let current = manager.with_key("API_KEY", |key| key.expose_secret() == fake_key(2));
    assert!(current.unwrap());

    let calls = s.fake.calls("API_KEY");
    elsewhere(&|| assert!(manager.invalidate("API_KEY")));
    assert_eq!(read(&manager), fake_key(2));
    assert_eq!(
        s.fake.calls("API_KEY"),
        calls + 1,
        "the invalidation was ignored"
    );

    // Another manager over another source, same name, same thread: its own values.
    let other = Setup::new();
    other.fake.set("API_KEY", &fake_key(3));
    for _ in 0..2 {
        assert_eq!(read(&other.manager()), fake_key(3));
        assert_eq!(read(&manager), fake_key(2));
    }
}

/// The thread's copies hold secrets: they go with the first read that misses after the
/// change, not with the thread. Counted through the `Arc` the test holds itself.
#[test]
fn a_threads_copies_are_dropped_once_stale() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    // No event recorder: its events would hold the keys too. No grace period: with one, the
    // manager keeps a key that leaves the cache for it, so that its redactor still knows it.
    let manager = KeyManager::builder(s.fake.clone())
        .with_grace_period(Duration::ZERO)
        .build()
        .unwrap();
    let held = manager.get("API_KEY").unwrap();
    manager.get("API_KEY").unwrap();
    assert_eq!(
        Arc::strong_count(&held),
        3,
        "this, the cache and the thread's copy"
    );

    // Revoked: removed from the cache and the source; the next read misses.
    manager.invalidate("API_KEY");
    s.fake.remove("API_KEY");
    assert_eq!(
        manager.get("API_KEY").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        Arc::strong_count(&held),
        1,
        "a copy outlived the invalidation"
    );

    // A dropped manager's copies go with the next read of any manager.
    s.fake.set("API_KEY", &fake_key(2));
    let held = manager.get("API_KEY").unwrap();
    manager.get("API_KEY").unwrap();
    drop(manager);
    let other = KeyManager::builder(MemoryProvider::new().with("OTHER", fake_key(3).as_str()));
    other.build().unwrap().get("OTHER").unwrap();
    assert_eq!(Arc::strong_count(&held), 1, "a copy outlived its manager");
}

#[test]
fn with_key_may_read_other_keys_inside() {
    let s = Setup::new();
    s.fake.set("A", &fake_key("a"));
    s.fake.set("B", &fake_key("b"));
    let manager = s.manager();
    for _ in 0..3 {
        let both = manager
            .with_key("A", |a| {
                let b = manager
                    .with_key("B", |b| b.expose_secret().to_owned())
                    .unwrap();
                let again = manager.get("A").unwrap();
                assert_eq!(again.expose_secret(), a.expose_secret());
                format!("{}+{b}", a.expose_secret())
            })
            .unwrap();
        assert_eq!(both, format!("{}+{}", fake_key("a"), fake_key("b")));
    }
    assert_eq!((s.fake.calls("A"), s.fake.calls("B")), (1, 1));
}

/// A value of unknown age keeps the time it was first seen when it leaves the cache and comes
/// back; a new value starts its own count.
#[test]
fn first_seen_times_survive_invalidation_and_eviction() {
    let s = Setup::new();
    s.fake.set("A", &fake_key("a"));
    s.fake.set("B", &fake_key("b"));
    let manager = s.builder().with_capacity(1).build().unwrap();
    let first_seen = |key: &ManagedKey| match key.created_at() {
        CreatedAt::Unknown { first_seen } => *first_seen,
        known => panic!("the fake gives no creation time, got {known:?}"),
    };
    let start = s.clock.now();
    assert_eq!(first_seen(&manager.get("A").unwrap()), start);

    s.clock.advance(TimeDelta::days(3));
    manager.invalidate("A");
    assert_eq!(first_seen(&manager.get("A").unwrap()), start);

    // B evicts A (capacity 1); A comes back with its time.
    s.clock.advance(TimeDelta::days(3));
    assert_eq!(first_seen(&manager.get("B").unwrap()), s.clock.now());
    assert_eq!(first_seen(&manager.get("A").unwrap()), start);
    assert_eq!(s.fake.calls("A"), 3);

    // A new value at the source is a new key: its count starts now.
    s.clock.advance(TimeDelta::days(3));
    s.fake.set("A", &fake_key("a2"));
    manager.invalidate("A");
    assert_eq!(first_seen(&manager.get("A").unwrap()), s.clock.now());
}

#[test]
fn bad_names_and_bad_settings_are_refused() {
    let s = Setup::new();
    let manager = s.manager();
    assert_eq!(
        manager.get("../x").unwrap_err().kind(),
        ErrorKind::InvalidName
    );
    assert_eq!(s.fake.calls("../x"), 0);
    for builder in [
        s.builder().with_ttl(Duration::ZERO),
        s.builder().with_capacity(0),
        s.builder().with_max_stale(Duration::MAX),
        s.builder()
            .with_policy_for("K", RotationPolicy::every(Duration::ZERO)),
    ] {
        assert_eq!(builder.build().unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}

#[test]
fn hooks_may_call_back_into_the_manager() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    let slot: Arc<OnceLock<KeyManager>> = Arc::new(OnceLock::new());
    let seen = Arc::new(AtomicUsize::new(0));
    let manager = {
        let (slot, seen) = (slot.clone(), seen.clone());
        s.builder()
            .on_event(move |event| {
                if let (KeyEvent::Loaded { .. }, Some(manager)) = (event, slot.get()) {
                    seen.store(manager.keys().len(), Ordering::SeqCst);
                }
            })
            .build()
            .unwrap()
    };
    slot.set(manager.clone()).unwrap();
    manager.get("API_KEY").unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[test]
fn boxed_providers_are_accepted() {
    let provider: Box<dyn SecretProvider> =
        Box::new(MemoryProvider::new().with("API_KEY", fake_key(1).as_str()));
    let manager = KeyManager::builder(provider).build().unwrap();
    assert_eq!(manager.get("API_KEY").unwrap().source(), "memory");
    assert_eq!(manager.provider_name(), "memory");
}

#[test]
fn debug_output_shows_no_values() {
    let s = Setup::new();
    let value = fake_key(1);
    s.fake.set("API_KEY", &value);
    let manager = s.manager();
    manager.get("API_KEY").unwrap();
    s.fake.set("API_KEY", &fake_key(2));
    manager.refresh("API_KEY").unwrap();
    let all = format!("{manager:?} {:?} {:?}", s.events.take(), manager.keys());
    assert!(!all.contains("Ab3dAb3d"), "{all}");
}

/// Many readers, a source that keeps rotating, and a clock that keeps moving: every read returns
/// a value the source really held, and nothing panics or deadlocks.
#[test]
fn readers_see_only_real_values_while_the_source_rotates() {
    const NAMES: [&str; 3] = ["KEY_A", "KEY_B", "KEY_C"];
    const READERS: usize = 8;
    let s = Setup::new();
    let written: Arc<Mutex<HashSet<String>>> = Arc::default();
    for name in NAMES {
        let value = fake_key(format!("{name}-0"));
        written.lock().unwrap().insert(value.clone());
        s.fake.set(name, &value);
    }
    let manager = s
        .builder()
        .with_ttl(Duration::from_secs(10))
        .with_grace_period(Duration::from_secs(30))
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let rotator = {
        let (fake, clock, written, stop) = (
            s.fake.clone(),
            s.clock.clone(),
            written.clone(),
            stop.clone(),
        );
        thread::spawn(move || {
            for round in 1..=300 {
                let name = NAMES[round % NAMES.len()];
                let value = fake_key(format!("{name}-{round}"));
                // Recorded before the source holds it, so a reader can never see it unrecorded.
                written.lock().unwrap().insert(value.clone());
                fake.set(name, &value);
                clock.advance(TimeDelta::seconds(3));
                if round % 50 == 0 {
                    fake.outage();
                    thread::sleep(Duration::from_millis(1));
                    fake.recover();
                }
                thread::yield_now();
            }
            stop.store(true, Ordering::SeqCst);
        })
    };
    let readers: Vec<_> = (0..READERS)
        .map(|reader| {
            let (manager, written, stop) = (manager.clone(), written.clone(), stop.clone());
            thread::spawn(move || {
                let mut reads = 0usize;
                while !stop.load(Ordering::SeqCst) || reads < 100 {
                    let name = NAMES[(reads + reader) % NAMES.len()];
                    let check = |key: &ManagedKey| {
                        assert_eq!(key.name(), name);
                        let value = key.expose_secret();
                        assert!(value.contains(name), "a value of another key was served");
                        assert!(written.lock().unwrap().contains(value));
                    };
                    // Half the readers borrow, half take the `Arc`: both doors, one cache.
                    let read = if reader % 2 == 0 {
                        manager.get(name).map(|key| check(&key))
                    } else {
                        manager.with_key(name, check)
                    };
                    // The injected outage may reach a reader once its stale window is over.
                    if let Err(err) = read {
                        assert_eq!(err.kind(), ErrorKind::Backend);
                    }
                    if reads.is_multiple_of(64) {
                        manager.keys();
                        manager.retired_keys();
                    }
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    rotator.join().unwrap();
    let total: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(total >= READERS * 100);
    let kinds = s.events.kinds();
    assert!(kinds.contains(&"rotated"), "the readers noticed rotations");
    // After the churn, a refresh returns exactly what the source holds now.
    for name in NAMES {
        let now_at_source = s.fake.get(name).unwrap().unwrap();
        assert_eq!(
            manager.refresh(name).unwrap().value(),
            now_at_source.value()
        );
    }
}

#[test]
fn creation_dates_at_the_ends_of_time_do_not_panic() {
    // Any timestamp chrono can hold may come from a source's metadata.
    for created in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
        let mut provider = MemoryProvider::new();
        let meta = SecretMeta::new("memory").with_created_at(created);
        provider.insert_secret("API_KEY", Secret::new(fake_key(1), meta));
        let manager = KeyManager::builder(provider)
            .with_policy(RotationPolicy::default().with_warn_before(400 * RotationPolicy::DAY))
            .with_serve_expired(true)
            .build()
            .unwrap();
        manager.get("API_KEY").unwrap();
        manager.get("API_KEY").unwrap();
    }
}

/// Format validation through the manager names the key and its source in the providers' own
/// words (`require_format`), and never shows the value.
#[test]
fn validation_through_the_manager_names_the_key_as_providers_do() {
    let github = format!("ghp_{}", "Zq7x".repeat(10));
    let formats = [KeyFormat::OpenAi, KeyFormat::Anthropic];
    let provider = MemoryProvider::new().with("OPENAI_API_KEY", github.as_str());
    let from_provider = provider
        .require_format("OPENAI_API_KEY", &formats)
        .unwrap_err();
    let manager = KeyManager::builder(provider).build().unwrap();
    let key = manager.get("OPENAI_API_KEY").unwrap();

    let err = key.validate(&formats).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidFormat);
    assert_eq!(err.to_string(), from_provider.to_string());
    assert_eq!(
        err.to_string(),
        "secret `OPENAI_API_KEY` from memory: value does not have the expected format \
         (OpenAI API key or Anthropic API key)"
    );
    assert!(!format!("{err} {err:?}").contains(&github[4..]));
    assert_eq!(
        key.validate(&[KeyFormat::GitHub]).unwrap(),
        KeyFormat::GitHub
    );
}

proptest::proptest! {
    /// Whatever a key is called (`ManagedKey::new` takes any name) and whatever it holds, the
    /// error names it on one line, quoted and escaped, and never shows the value.
    #[test]
    fn validation_errors_quote_any_name_and_never_show_the_value(
        name in "[a-zA-Z_ `\\x00-\\x1f\\x7f\u{85}\u{2028}]{0,100}",
        value in "[0-9]{12,40}",
    ) {
        let key = ManagedKey::new(
            name.as_str(),
            Secret::new(value.as_str(), SecretMeta::new("memory")),
            CreatedAt::Unknown { first_seen: start() },
            start(),
            RotationPolicy::default(),
        );
        let err = key.validate(&[KeyFormat::OpenAi]).unwrap_err();
        let shown = format!("{err} {err:?}");
        proptest::prop_assert_eq!(err.kind(), ErrorKind::InvalidFormat);
        proptest::prop_assert!(!shown.contains(&value), "{}", shown);
        proptest::prop_assert!(!err.to_string().chars().any(char::is_control), "{:?}", err.to_string());
        proptest::prop_assert!(err.to_string().starts_with("secret `"), "{}", err);
    }
}

/// Every span of the builder is a `Duration`, checked by `build`: one too long to add to a time
/// is a clear error naming the setting, never a panic, and the longest accepted one works.
#[test]
fn spans_too_long_for_a_time_are_refused_by_build() {
    let s = Setup::new();
    type Setter = fn(KeyManagerBuilder, Duration) -> KeyManagerBuilder;
    let setters: [(&str, Setter); 4] = [
        ("the cache TTL", KeyManagerBuilder::with_ttl),
        ("max_stale", KeyManagerBuilder::with_max_stale),
        (
            "the stale retry interval",
            KeyManagerBuilder::with_stale_retry_interval,
        ),
        ("the grace period", KeyManagerBuilder::with_grace_period),
    ];
    for (what, set) in setters {
        let err = set(s.builder(), Duration::MAX).build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{what}");
        assert_eq!(
            err.to_string(),
            format!(
                "invalid key manager: {what} of {} seconds is too long: at most 100000 years",
                u64::MAX
            )
        );
    }
    let err = s
        .builder()
        .with_policy_for("K", RotationPolicy::every(Duration::MAX))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("(for `K`)"), "{err}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any span, however long: `build` refuses it or the manager works with it, through loads,
    /// stale serving, rotation, invalidation and reports, without a panic.
    #[test]
    fn any_span_is_refused_or_works(
        // Small, around the limit of 100,000 years (3.16e12 s), and far beyond.
        secs in proptest::prop_oneof![
            0..10_000u64,
            3_100_000_000_000..3_200_000_000_000u64,
            0..u64::MAX / 2,
            u64::MAX / 2..=u64::MAX,
        ],
        which in 0..5usize,
    ) {
        let s = Setup::new();
        s.fake.set("API_KEY", &fake_key(1));
        let span = Duration::from_secs(secs);
        let builder = match which {
            0 => s.builder().with_ttl(span),
            1 => s.builder().with_max_stale(span),
            2 => s.builder().with_stale_retry_interval(span),
            3 => s.builder().with_grace_period(span),
            _ => s.builder().with_policy(RotationPolicy::every(span).with_warn_before(span)),
        };
        let Ok(manager) = builder.build() else {
            return Ok(());
        };
        manager.get("API_KEY").unwrap();
        manager.redactor();
        s.fake.outage();
        s.clock.advance(TimeDelta::days(400));
        let _ = manager.get("API_KEY");
        s.fake.recover();
        s.fake.set("API_KEY", &fake_key(2));
        let _ = manager.refresh("API_KEY");
        manager.rotation_report();
        manager.retired_keys();
        proptest::prop_assert!(manager.invalidate("API_KEY") || manager.is_empty());
    }
}

/// Setters only record: the same settings in any order build the same manager, and a bad one
/// is reported by `build` wherever it stands.
#[test]
fn the_order_of_setters_does_not_matter() {
    let s = Setup::new();
    type Setter = Box<dyn Fn(KeyManagerBuilder) -> KeyManagerBuilder>;
    let setters: Vec<Setter> = vec![
        Box::new(|b| b.with_ttl(Duration::from_secs(60))),
        Box::new(|b| b.with_stale_retry_interval(Duration::from_secs(600))),
        Box::new(|b| b.with_max_stale(Duration::from_secs(7200))),
        Box::new(|b| b.with_grace_period(Duration::from_secs(10))),
        Box::new(|b| b.with_capacity(3)),
        Box::new(|b| b.with_created_at_suffix("_SINCE")),
        Box::new(|b| b.with_created_at_companion(true)),
        Box::new(|b| b.with_serve_expired(true)),
        Box::new(|b| b.with_policy(RotationPolicy::every_days(30))),
        Box::new(|b| b.with_policy_for("K", RotationPolicy::every_days(7))),
    ];
    let build = |order: &[usize], bad: Option<usize>| {
        let mut builder = s.builder();
        for (position, index) in order.iter().enumerate() {
            if bad == Some(position) {
                builder = builder.with_policy_for("BAD", RotationPolicy::every(Duration::ZERO));
            }
            builder = setters[*index](builder);
        }
        builder.build().map(|manager| format!("{manager:?}"))
    };
    let forward: Vec<usize> = (0..setters.len()).collect();
    let expected = build(&forward, None).unwrap();
    assert!(expected.contains("_SINCE"), "{expected}");
    let mut order = forward.clone();
    for round in 0..setters.len() {
        order.rotate_left(3);
        order.swap(round, setters.len() - 1 - round);
        assert_eq!(build(&order, None).unwrap(), expected, "{order:?}");
        let err = build(&order, Some(round)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("`BAD`"), "{err}");
    }
    // The companion switch and its suffix do not undo each other in either order.
    let off_then_suffix = s
        .builder()
        .with_created_at_companion(false)
        .with_created_at_suffix("_SINCE")
        .build()
        .unwrap();
    let suffix_then_off = s
        .builder()
        .with_created_at_suffix("_SINCE")
        .with_created_at_companion(false)
        .build()
        .unwrap();
    assert_eq!(
        format!("{off_then_suffix:?}"),
        format!("{suffix_then_off:?}")
    );
    s.fake.set("API_KEY", &fake_key(1));
    s.fake.set("API_KEY_SINCE", "2020-01-01");
    off_then_suffix.get("API_KEY").unwrap();
    assert_eq!(s.fake.calls("API_KEY_SINCE"), 0, "the companion stays off");
}
