//! `KeyManager::get_async`: the same cache, single-flight, stale-on-error, expiry and rotation
//! tracking as `get`, from async code, without blocking a thread and without panicking inside a
//! runtime. No servers: an async fake provider counts its calls and holds fetches open behind a
//! gate that the test opens.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::common::{ERROR_KINDS, Events};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use keyward::clock::{Clock, ManualClock};
use keyward::manager::{KeyEvent, KeyManagerBuilder};
use keyward::provider::BoxFuture;
use keyward::rotation::CreatedAt;
use keyward::{
    AsyncSecretProvider, Error, ErrorKind, KeyManager, MemoryProvider, Result, Secret, SecretMeta,
    SecretProvider,
};
use tokio::sync::Semaphore;

on_both_runtimes!(
    cached_until_the_ttl_passes,
    concurrent_tasks_share_one_fetch,
    stale_value_is_served_within_max_stale_then_the_error_then_recovery,
    a_version_change_is_a_rotation,
    the_companion_date_goes_through_the_async_door,
    expired_keys_are_refused,
    missing_keys_are_not_found,
    a_cancelled_fetch_is_taken_over_by_a_waiter,
    a_panicking_provider_releases_the_waiting_tasks,
    the_blocking_door_of_an_async_manager_is_a_clear_error,
    remote_names_are_left_to_the_provider,
    preload_fetches_keys_at_the_same_time,
    only_temporary_errors_are_covered_by_a_stale_value,
    a_refused_credential_drops_the_cached_value_even_for_a_later_outage,
);

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

fn fake_key(tag: impl std::fmt::Display) -> String {
    format!("sk-proj-{tag}-{}", "Ab3d".repeat(10))
}

/// An async provider whose contents and failures the test controls. It counts its calls, and
/// fetches of gated keys wait (asynchronously) until the gate opens.
#[derive(Debug)]
struct AsyncFake {
    secrets: Mutex<HashMap<String, Secret>>,
    calls: Mutex<HashMap<String, usize>>,
    failure: Mutex<Option<(ErrorKind, bool)>>,
    gated: Mutex<Vec<String>>,
    gate: Semaphore,
    panic: AtomicBool,
}

impl Default for AsyncFake {
    fn default() -> AsyncFake {
        AsyncFake {
            secrets: Mutex::default(),
            calls: Mutex::default(),
            failure: Mutex::default(),
            gated: Mutex::default(),
            gate: Semaphore::new(0),
            panic: AtomicBool::new(false),
        }
    }
}

impl AsyncFake {
    fn set(&self, name: &str, value: &str) {
        self.set_secret(name, Secret::new(value, SecretMeta::new("async-fake")));
    }

    fn set_secret(&self, name: &str, secret: Secret) {
        self.secrets.lock().unwrap().insert(name.to_owned(), secret);
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

    /// Fetches of `name` wait for [`open`](AsyncFake::open) from now on.
    fn hold(&self, name: &str) {
        self.gated.lock().unwrap().push(name.to_owned());
    }

    fn open(&self) {
        self.gated.lock().unwrap().clear();
        self.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    fn calls(&self, name: &str) -> usize {
        self.calls.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

impl AsyncSecretProvider for AsyncFake {
    fn name(&self) -> &str {
        "async-fake"
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Secret>>> {
        Box::pin(async move {
            *self
                .calls
                .lock()
                .unwrap()
                .entry(key.to_owned())
                .or_default() += 1;
            let gated = self.gated.lock().unwrap().iter().any(|name| name == key);
            if gated {
                drop(self.gate.acquire().await.unwrap());
            }
            if self.panic.load(Ordering::SeqCst) {
                panic!("async fake told to panic");
            }
            if let Some((kind, temporary)) = *self.failure.lock().unwrap() {
                return Err(Error::new(kind, "async fake is down (503)").with_temporary(temporary));
            }
            Ok(self.secrets.lock().unwrap().get(key).cloned())
        })
    }
}

struct Setup {
    fake: Arc<AsyncFake>,
    clock: Arc<ManualClock>,
    events: Events,
}

impl Setup {
    fn new() -> Setup {
        Setup {
            fake: Arc::new(AsyncFake::default()),
            clock: Arc::new(ManualClock::new(start())),
            events: Events::default(),
        }
    }

    fn builder(&self) -> KeyManagerBuilder {
        KeyManager::builder_async(SharedFake(self.fake.clone()))
            .with_clock(self.clock.clone())
            .with_created_at_companion(false)
            .on_event(self.events.hook())
    }

    fn manager(&self) -> KeyManager {
        self.builder().build().unwrap()
    }
}

/// The fake behind an `Arc`, so that the test keeps a handle on it.
#[derive(Debug)]
struct SharedFake(Arc<AsyncFake>);

impl AsyncSecretProvider for SharedFake {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Secret>>> {
        self.0.get(key)
    }
}

/// Lets spawned tasks run until they wait on something.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
}

async fn cached_until_the_ttl_passes() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    let manager = s
        .builder()
        .with_ttl(Duration::from_secs(5 * 60))
        .build()
        .unwrap();
    let first = manager.get_async("API_KEY").await.unwrap();
    s.clock.advance(TimeDelta::seconds(299));
    let second = manager.get_async("API_KEY").await.unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(s.fake.calls("API_KEY"), 1);
    s.clock.advance(TimeDelta::seconds(1));
    let third = manager.get_async("API_KEY").await.unwrap();
    assert_eq!(s.fake.calls("API_KEY"), 2);
    assert_eq!(third.fetched_at(), s.clock.now());
    // An explicit refresh goes to the source whatever the cache holds.
    manager.refresh_async("API_KEY").await.unwrap();
    assert_eq!(s.fake.calls("API_KEY"), 3);
    assert_eq!(s.events.kinds(), ["loaded", "refreshed", "refreshed"]);
    assert_eq!(manager.provider_name(), "async-fake");
    assert_eq!(manager.keys().len(), 1);
}

/// 16 tasks on the test's runtime and 4 threads with runtimes of their own miss the same key
/// while its fetch is held open: the provider is asked once and everyone gets the same key.
async fn concurrent_tasks_share_one_fetch() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    s.fake.hold("API_KEY");
    let manager = s.manager();
    let started = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));

    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (manager, started, done) = (manager.clone(), started.clone(), done.clone());
            tokio::spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                let key = manager.get_async("API_KEY").await;
                done.fetch_add(1, Ordering::SeqCst);
                key
            })
        })
        .collect();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (manager, started, done) = (manager.clone(), started.clone(), done.clone());
            thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                started.fetch_add(1, Ordering::SeqCst);
                let key = runtime.block_on(manager.get_async("API_KEY"));
                done.fetch_add(1, Ordering::SeqCst);
                key
            })
        })
        .collect();

    while started.load(Ordering::SeqCst) < 20 {
        settle().await;
    }
    settle().await;
    assert_eq!(
        done.load(Ordering::SeqCst),
        0,
        "nobody got past the held fetch"
    );
    assert_eq!(s.fake.calls("API_KEY"), 1);
    s.fake.open();

    let mut keys = Vec::new();
    for task in tasks {
        keys.push(task.await.unwrap().unwrap());
    }
    for thread in threads {
        keys.push(thread.join().unwrap().unwrap());
    }
    assert_eq!(s.fake.calls("API_KEY"), 1);
    assert!(keys.iter().all(|key| Arc::ptr_eq(key, &keys[0])));
    assert_eq!(s.events.kinds(), ["loaded"]);
}

async fn stale_value_is_served_within_max_stale_then_the_error_then_recovery() {
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
    manager.get_async("API_KEY").await.unwrap();
    s.events.take();

    s.fake.outage();
    s.clock.advance(TimeDelta::minutes(5));
    let stale = manager.get_async("API_KEY").await.unwrap();
    assert_eq!(stale.expose_secret(), value);
    assert_eq!(s.fake.calls("API_KEY"), 2);
    let events = s.events.take();
    match events.as_slice() {
        [
            KeyEvent::RefreshFailed { .. },
            KeyEvent::StaleServed {
                error_kind,
                stale_until,
                message,
                ..
            },
        ] => {
            assert_eq!(*error_kind, ErrorKind::Backend);
            assert_eq!(*stale_until, start() + TimeDelta::minutes(65));
            assert!(!message.contains(&value));
        }
        other => panic!("unexpected events {other:?}"),
    }

    // Not asked again before the retry interval; asked again after it.
    s.clock.advance(TimeDelta::seconds(29));
    manager.get_async("API_KEY").await.unwrap();
    assert_eq!(s.fake.calls("API_KEY"), 2);
    s.clock.advance(TimeDelta::seconds(1));
    manager.get_async("API_KEY").await.unwrap();
    assert_eq!(s.fake.calls("API_KEY"), 3);

    // A forced refresh reports the failure; the stale value stays for reads.
    let err = manager.refresh_async("API_KEY").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);

    s.clock.set(start() + TimeDelta::minutes(65));
    let err = manager.get_async("API_KEY").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert_eq!(err.to_string(), "async fake is down (503)");

    s.fake.recover();
    let recovered = manager.get_async("API_KEY").await.unwrap();
    assert_eq!(recovered.fetched_at(), s.clock.now());
    let before = s.fake.calls("API_KEY");
    manager.get_async("API_KEY").await.unwrap();
    assert_eq!(s.fake.calls("API_KEY"), before, "fresh again, cached");
}

/// Stale-on-error covers temporary errors only, as through the blocking door; a key the source
/// withdrew (not found, refused) is never covered.
async fn only_temporary_errors_are_covered_by_a_stale_value() {
    for kind in ERROR_KINDS {
        for temporary in [false, true] {
            let s = Setup::new();
            let value = fake_key("good");
            s.fake.set("API_KEY", &value);
            let manager = s.manager();
            manager.get_async("API_KEY").await.unwrap();
            s.events.take();
            s.fake.fail_with(kind, temporary);
            s.clock.advance(TimeDelta::minutes(6));
            let read = manager.get_async("API_KEY").await;
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

/// A revoked token: the refusal reaches the caller, the cached value is dropped, and a later
/// outage does not bring it back; `refresh_async` of a fresh value drops it too.
async fn a_refused_credential_drops_the_cached_value_even_for_a_later_outage() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    let manager = s.manager();
    manager.get_async("API_KEY").await.unwrap();
    s.fake.fail(ErrorKind::PermissionDenied);
    s.clock.advance(TimeDelta::minutes(6));
    let err = manager.get_async("API_KEY").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert!(manager.is_empty());
    s.fake.outage();
    let err = manager.get_async("API_KEY").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(!s.events.kinds().contains(&"stale"));

    s.fake.recover();
    manager.get_async("API_KEY").await.unwrap();
    s.fake.fail(ErrorKind::PermissionDenied);
    let err = manager.refresh_async("API_KEY").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let calls = s.fake.calls("API_KEY");
    let err = manager.get_async("API_KEY").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert_eq!(
        s.fake.calls("API_KEY"),
        calls + 1,
        "asked, not served from the cache"
    );
}

async fn a_version_change_is_a_rotation() {
    let s = Setup::new();
    let created = |days: i64| start() - TimeDelta::days(days);
    let meta = |version: &str, at| {
        SecretMeta::new("async-fake")
            .with_version(version)
            .with_created_at(at)
    };
    s.fake
        .set_secret("API_KEY", Secret::new(fake_key(1), meta("1", created(40))));
    let manager = s.manager();
    let old = manager.get_async("API_KEY").await.unwrap();
    assert_eq!(old.created_at(), &CreatedAt::Metadata { at: created(40) });

    s.fake
        .set_secret("API_KEY", Secret::new(fake_key(2), meta("2", created(0))));
    s.clock.advance(TimeDelta::minutes(6));
    let new = manager.get_async("API_KEY").await.unwrap();
    assert_eq!(new.version(), Some("2"));
    assert_eq!(new.created_at(), &CreatedAt::Metadata { at: created(0) });
    let events = s.events.take();
    let rotated = events
        .iter()
        .find_map(|event| match event {
            KeyEvent::Rotated { old, new, .. } => Some((old.clone(), new.clone())),
            _ => None,
        })
        .expect("a Rotated event");
    assert_eq!(rotated.0.version(), Some("1"));
    assert_eq!(rotated.1.version(), Some("2"));
    assert_eq!(manager.retired_keys().len(), 1);
}

async fn the_companion_date_goes_through_the_async_door() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    s.fake.set("API_KEY_CREATED_AT", "2025-11-01");
    let manager = KeyManager::builder_async(SharedFake(s.fake.clone()))
        .with_clock(s.clock.clone())
        .build()
        .unwrap();
    let key = manager.get_async("API_KEY").await.unwrap();
    assert_eq!(s.fake.calls("API_KEY_CREATED_AT"), 1);
    match key.created_at() {
        CreatedAt::Companion { key, at } => {
            assert_eq!(key, "API_KEY_CREATED_AT");
            assert_eq!(*at, Utc.with_ymd_and_hms(2025, 11, 1, 0, 0, 0).unwrap());
        }
        other => panic!("unexpected {other:?}"),
    }
    // A companion that is not a date is a parse error naming the companion, not the value.
    s.fake.set("OTHER_KEY", &fake_key(2));
    s.fake.set("OTHER_KEY_CREATED_AT", "last tuesday");
    let err = manager.get_async("OTHER_KEY").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert!(err.to_string().contains("OTHER_KEY_CREATED_AT"), "{err}");
}

async fn expired_keys_are_refused() {
    let s = Setup::new();
    let meta = SecretMeta::new("async-fake").with_expires_at(start() + TimeDelta::days(1));
    s.fake.set_secret("API_KEY", Secret::new(fake_key(1), meta));
    let manager = s.manager();
    assert!(manager.get_async("API_KEY").await.is_ok());
    s.clock.advance(TimeDelta::days(1));
    let err = manager.get_async("API_KEY").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Expired);
    assert!(err.to_string().contains("`API_KEY`"), "{err}");
    assert!(!err.to_string().contains(&fake_key(1)));

    let serving = s.builder().with_serve_expired(true).build().unwrap();
    assert!(serving.get_async("API_KEY").await.is_ok());
}

/// Every fetch waits until all three have started: one after the other, the first would wait
/// forever (the timeout says so).
async fn preload_fetches_keys_at_the_same_time() {
    let s = Setup::new();
    let names = ["KEY_A", "KEY_B", "KEY_C"];
    for name in names {
        s.fake.set(name, &fake_key(name));
        s.fake.hold(name);
    }
    let manager = s.manager();
    let fake = s.fake.clone();
    let opener = tokio::spawn(async move {
        while names.iter().map(|name| fake.calls(name)).sum::<usize>() < names.len() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        fake.open();
    });
    let preload = tokio::time::timeout(Duration::from_secs(30), manager.preload_async(names));
    let keys = preload
        .await
        .expect("the preload fetched the keys one after the other")
        .unwrap();
    opener.await.unwrap();
    let loaded: Vec<&str> = keys.iter().map(|key| key.name()).collect();
    assert_eq!(loaded, names);
}

async fn missing_keys_are_not_found() {
    let s = Setup::new();
    s.fake.set("PRESENT", &fake_key(1));
    let manager = s.manager();
    let err = manager.get_async("ABSENT").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "secret `ABSENT` not found in async-fake");

    let err = manager
        .preload_async(["PRESENT", "ABSENT", "GONE"])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "2 of 3 secrets could not be loaded from async-fake: `ABSENT` (not found), `GONE` (not found)"
    );
    assert_eq!(manager.preload_async(["PRESENT"]).await.unwrap().len(), 1);
}

async fn a_cancelled_fetch_is_taken_over_by_a_waiter() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    s.fake.hold("API_KEY");
    let manager = s.manager();
    let leader = tokio::spawn({
        let manager = manager.clone();
        async move { manager.get_async("API_KEY").await }
    });
    settle().await;
    let waiter = tokio::spawn({
        let manager = manager.clone();
        async move { manager.get_async("API_KEY").await }
    });
    settle().await;
    assert_eq!(s.fake.calls("API_KEY"), 1);

    leader.abort();
    assert!(leader.await.unwrap_err().is_cancelled());
    settle().await;
    // The waiter started over and fetches in its turn.
    assert_eq!(s.fake.calls("API_KEY"), 2);
    assert!(!waiter.is_finished());
    s.fake.open();
    let key = waiter.await.unwrap().unwrap();
    assert_eq!(key.expose_secret(), fake_key(1));
    assert_eq!(s.events.kinds(), ["loaded"]);
}

async fn a_panicking_provider_releases_the_waiting_tasks() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    s.fake.hold("API_KEY");
    s.fake.panic.store(true, Ordering::SeqCst);
    let manager = s.manager();
    let leader = tokio::spawn({
        let manager = manager.clone();
        async move { manager.get_async("API_KEY").await }
    });
    settle().await;
    let waiter = tokio::spawn({
        let manager = manager.clone();
        async move { manager.get_async("API_KEY").await }
    });
    settle().await;
    s.fake.open();
    assert!(leader.await.unwrap_err().is_panic());
    let err = waiter.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.to_string().contains("panicked"), "{err}");

    s.fake.panic.store(false, Ordering::SeqCst);
    assert!(manager.get_async("API_KEY").await.is_ok());
}

async fn the_blocking_door_of_an_async_manager_is_a_clear_error() {
    let s = Setup::new();
    s.fake.set("API_KEY", &fake_key(1));
    let manager = s.manager();
    // Inside a runtime: an error, not a panic and not a blocked thread, even once cached.
    for _ in 0..2 {
        let err = manager.get("API_KEY").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            err.to_string(),
            "KeyManager::get cannot ask the async provider async-fake without blocking a \
             thread: call KeyManager::get_async, or build the manager with KeyManager::builder \
             from a SecretProvider"
        );
        manager.get_async("API_KEY").await.unwrap();
    }
    let err = manager.refresh("API_KEY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("refresh_async"), "{err}");
    let err = manager.preload(["API_KEY"]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("preload_async"), "{err}");
    assert_eq!(s.fake.calls("API_KEY"), 1);
}

async fn remote_names_are_left_to_the_provider() {
    let s = Setup::new();
    s.fake.set("prod/api-keys#OPENAI_API_KEY", &fake_key(1));
    let manager = s.manager();
    let key = manager
        .get_async("prod/api-keys#OPENAI_API_KEY")
        .await
        .unwrap();
    assert_eq!(key.name(), "prod/api-keys#OPENAI_API_KEY");
    for bad in ["", "new\nline", "nul\0byte"] {
        let err = manager.get_async(bad).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidName, "{bad:?}");
        assert_eq!(s.fake.calls(bad), 0);
    }
}

/// The current-thread runtime has one thread: if waiting for another task's fetch blocked it,
/// the fetch could never finish. The runtime runs on a thread of its own so that such a bug
/// fails the test instead of hanging it.
#[test]
fn waiting_for_a_fetch_does_not_block_a_current_thread_runtime() {
    let s = Setup::new();
    s.fake.set("SLOW", &fake_key("slow"));
    s.fake.set("FAST", &fake_key("fast"));
    s.fake.hold("SLOW");
    let manager = s.manager();
    let fake = s.fake.clone();
    let (sender, receiver) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let outcome = runtime.block_on(async move {
            let slow = |manager: KeyManager| async move { manager.get_async("SLOW").await };
            let leader = tokio::spawn(slow(manager.clone()));
            let waiters: Vec<_> = (0..4)
                .map(|_| tokio::spawn(slow(manager.clone())))
                .collect();
            settle().await;
            // The thread is free: another task reads another key meanwhile.
            let fast = manager.get_async("FAST").await.unwrap();
            let progressed = (
                fast.expose_secret() == fake_key("fast"),
                leader.is_finished() || waiters.iter().any(|w| w.is_finished()),
            );
            fake.open();
            let leader = leader.await.unwrap().unwrap();
            for waiter in waiters {
                assert!(Arc::ptr_eq(&waiter.await.unwrap().unwrap(), &leader));
            }
            progressed
        });
        let _ = sender.send(outcome);
    });
    let (fast_read, slow_finished_early) = receiver
        .recv_timeout(Duration::from_secs(20))
        .expect("the runtime's only thread was blocked");
    assert!(fast_read);
    assert!(!slow_finished_early, "the held fetch was still held");
    assert_eq!(s.fake.calls("SLOW"), 1);
}

/// A fake sync provider that holds each fetch for a while, to mix threads and tasks.
#[derive(Debug, Default)]
struct SlowSync {
    calls: AtomicUsize,
}

impl SecretProvider for SlowSync {
    fn name(&self) -> &str {
        "slow-sync"
    }

    fn get(&self, key: &str) -> Result<Option<Secret>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(300));
        Ok((key == "API_KEY").then(|| Secret::new(fake_key(1), SecretMeta::new("slow-sync"))))
    }
}

/// With a sync provider both doors are open, and blocking threads and async tasks share one
/// fetch, whichever of them leads it.
#[test]
fn threads_and_tasks_share_one_fetch_of_a_sync_provider() {
    let provider = Arc::new(SlowSync::default());
    let manager = KeyManager::builder(provider.clone())
        .with_created_at_companion(false)
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let barrier = Arc::new(std::sync::Barrier::new(12));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (manager, barrier) = (manager.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                manager.get("API_KEY")
            })
        })
        .collect();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (manager, barrier) = (manager.clone(), barrier.clone());
            // The barrier is waited on outside the runtime, so that no worker blocks on it.
            let ready = thread::spawn(move || barrier.wait());
            runtime.spawn(async move {
                while !ready.is_finished() {
                    tokio::task::yield_now().await;
                }
                manager.get_async("API_KEY").await
            })
        })
        .collect();
    let mut keys: Vec<_> = threads
        .into_iter()
        .map(|thread| thread.join().unwrap().unwrap())
        .collect();
    for task in tasks {
        keys.push(runtime.block_on(task).unwrap().unwrap());
    }
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
    assert!(keys.iter().all(|key| Arc::ptr_eq(key, &keys[0])));

    // And a sync manager answers get_async for a local provider too.
    let local = KeyManager::builder(MemoryProvider::new().with("LOCAL", fake_key(2).as_str()))
        .build()
        .unwrap();
    let key = runtime.block_on(local.get_async("LOCAL")).unwrap();
    assert_eq!(key.expose_secret(), fake_key(2));
    assert!(local.get("LOCAL").is_ok());
}

#[test]
fn the_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let manager = Setup::new().manager();
    assert_send(&manager.get_async("K"));
    assert_send(&manager.refresh_async("K"));
    assert_send(&manager.preload_async(["K"]));
}
