//! The key manager's redactor knows every value the manager handed out, across rotations.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};
use keyward::clock::ManualClock;
use keyward::guard::Encodings;
use keyward::{KeyManager, Redactor, Result, Secret, SecretMeta, SecretProvider};

/// One key whose value the test changes, as a rotation at the source would.
#[derive(Debug)]
struct Rotating(Mutex<String>);

impl SecretProvider for Rotating {
    fn name(&self) -> &str {
        "rotating"
    }

    fn get(&self, key: &str) -> Result<Option<Secret>> {
        Ok((key == "OPENAI_API_KEY")
            .then(|| Secret::new(self.0.lock().unwrap().as_str(), SecretMeta::new("rotating"))))
    }
}

#[test]
fn the_redactor_follows_loads_and_rotations() {
    let old = format!("sk-proj-{}", "0ldValue".repeat(5));
    let new = format!("sk-proj-{}", "N3wValue".repeat(5));
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
    ));
    let provider = Arc::new(Rotating(Mutex::new(old.clone())));
    let manager = KeyManager::builder(provider.clone())
        .with_clock(clock.clone())
        .with_grace_period(Duration::from_secs(3600))
        .with_created_at_companion(false)
        .build()
        .unwrap();

    // Made after the key was loaded: seeded from the cache.
    manager.get("OPENAI_API_KEY").unwrap();
    let redactor = manager.redactor();
    let text = format!("old {old} new {new}");
    assert_eq!(
        redactor.current().redact(&text),
        format!("old [REDACTED:OPENAI_API_KEY] new {new}")
    );

    // Rotated at the source: both values are redacted during the grace period.
    *provider.0.lock().unwrap() = new.clone();
    manager.refresh("OPENAI_API_KEY").unwrap();
    assert_eq!(
        manager.redactor().current().redact(&text),
        "old [REDACTED:OPENAI_API_KEY] new [REDACTED:OPENAI_API_KEY]"
    );

    // After it, only the new one.
    clock.advance(TimeDelta::hours(2));
    redactor.prune().unwrap();
    assert_eq!(
        redactor.current().redact(&text),
        format!("old {old} new [REDACTED:OPENAI_API_KEY]")
    );
}

#[test]
fn keys_loaded_after_the_redactor_was_made_are_redacted_too() {
    let value = format!("sk-proj-{}", "L4terKey".repeat(5));
    let provider = Rotating(Mutex::new(value.clone()));
    let manager = KeyManager::builder(provider).build().unwrap();
    let redactor = manager.redactor();
    assert!(
        redactor.current().check(&value).is_ok(),
        "nothing loaded yet"
    );
    manager.get("OPENAI_API_KEY").unwrap();
    let err = redactor
        .current()
        .check(&format!("leak: {value}"))
        .unwrap_err();
    assert_eq!(err.kind(), keyward::ErrorKind::Leak);
    assert!(!err.to_string().contains(&value));
}

/// Keys whose values the test sets, rotates, deletes and refuses, as a source would.
#[derive(Debug, Default)]
struct Source(
    Mutex<std::collections::HashMap<String, String>>,
    Mutex<std::collections::HashSet<String>>,
);

impl Source {
    fn set(&self, key: &str, value: &str) {
        self.0
            .lock()
            .unwrap()
            .insert(key.to_owned(), value.to_owned());
    }

    fn delete(&self, key: &str) {
        self.0.lock().unwrap().remove(key);
    }

    /// Refuses the credential for `key` from now on, as a source does after a revocation.
    fn refuse(&self, key: &str) {
        self.1.lock().unwrap().insert(key.to_owned());
    }
}

impl SecretProvider for Source {
    fn name(&self) -> &str {
        "source"
    }

    fn get(&self, key: &str) -> Result<Option<Secret>> {
        if self.1.lock().unwrap().contains(key) {
            let message = format!("source refuses `{key}`");
            return Err(keyward::Error::new(
                keyward::ErrorKind::PermissionDenied,
                message,
            ));
        }
        let values = self.0.lock().unwrap();
        Ok(values
            .get(key)
            .map(|value| Secret::new(value.as_str(), SecretMeta::new("source"))))
    }
}

/// A fake key that shares no fragment with any other the tests make: a known value must not
/// be found only because another one looks like it.
fn fake_value(name: &str, version: u32) -> String {
    let mut state = 0xcbf2_9ce4_8422_2325_u64;
    for byte in name.bytes().chain(version.to_le_bytes()) {
        state = (state ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut digits = String::new();
    for _ in 0..4 {
        state ^= state >> 33;
        state = state.wrapping_mul(0xff51_afd7_ed55_8ccd);
        state ^= state >> 29;
        digits.push_str(&format!("{:08x}", state as u32));
    }
    format!("sk-test-{digits}")
}

const GRACE: TimeDelta = TimeDelta::hours(1);

fn start() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
    ))
}

fn new_manager(source: &Arc<Source>, clock: &Arc<ManualClock>, capacity: usize) -> KeyManager {
    KeyManager::builder(source.clone())
        .with_clock(clock.clone())
        .with_capacity(capacity)
        .with_ttl(Duration::from_secs(15 * 60))
        .with_grace_period(GRACE.to_std().unwrap())
        .with_created_at_companion(false)
        .build()
        .unwrap()
}

/// The case: capacity 2, `get` A, B, C, then `redactor()`. A, evicted before the
/// redactor was made, used to pass through.
#[test]
fn keys_evicted_before_the_redactor_was_made_are_still_redacted() {
    let (source, clock) = (Arc::new(Source::default()), start());
    let manager = new_manager(&source, &clock, 2);
    let names = ["A", "B", "C"];
    for name in names {
        source.set(name, &fake_value(name, 0));
        manager.get(name).unwrap();
    }
    assert_eq!(manager.len(), 2);
    let redactor = manager.redactor();
    for name in names {
        let value = fake_value(name, 0);
        assert_eq!(
            redactor.current().redact(&format!("x {value} y")),
            format!("x [REDACTED:{name}] y")
        );
    }
    // For the grace period after it left, then no longer: A is gone from the cache.
    clock.advance(GRACE + TimeDelta::seconds(1));
    redactor.prune().unwrap();
    assert!(!redactor.current().is_leak(&fake_value("A", 0)));
    assert!(
        redactor.current().is_leak(&fake_value("C", 0)),
        "still cached"
    );
}

/// Invalidated, deleted at the source, refused by it, or rotated out twice before the redactor
/// was made: known for the grace period after it left, and forgotten after it, so that the
/// manager does not keep old values forever for a redactor nobody asks for.
#[test]
fn keys_invalidated_deleted_or_rotated_out_before_the_redactor_are_still_redacted() {
    let (source, clock) = (Arc::new(Source::default()), start());
    let manager = new_manager(&source, &clock, 10);
    for name in ["INVALIDATED", "DELETED", "REFUSED", "ROTATED"] {
        source.set(name, &fake_value(name, 0));
        manager.get(name).unwrap();
    }
    assert!(manager.invalidate("INVALIDATED"));
    source.delete("DELETED");
    assert!(manager.refresh("DELETED").is_err());
    source.refuse("REFUSED");
    assert!(manager.refresh("REFUSED").is_err());
    assert!(manager.keys().iter().all(|key| key.name() != "REFUSED"));
    for version in 1..=2 {
        source.set("ROTATED", &fake_value("ROTATED", version));
        manager.refresh("ROTATED").unwrap();
    }
    clock.advance(TimeDelta::minutes(30));
    let redactor = manager.redactor();
    redactor.prune().unwrap();
    let known = [
        fake_value("INVALIDATED", 0),
        fake_value("DELETED", 0),
        fake_value("REFUSED", 0),
        fake_value("ROTATED", 0),
        fake_value("ROTATED", 1),
        fake_value("ROTATED", 2),
    ];
    for value in &known {
        assert!(redactor.current().is_leak(value), "{value} is not known");
    }

    // Left more than a grace period before the redactor is made: forgotten.
    let (source, clock) = (Arc::new(Source::default()), start());
    let manager = new_manager(&source, &clock, 10);
    source.set("GONE", &fake_value("GONE", 0));
    manager.get("GONE").unwrap();
    manager.invalidate("GONE");
    clock.advance(GRACE + TimeDelta::seconds(1));
    assert!(!manager.redactor().current().is_leak(&fake_value("GONE", 0)));
}

/// What the property test does to the manager.
#[derive(Debug, Clone)]
enum Op {
    Get(usize),
    Refresh(usize),
    Invalidate(usize),
    Rotate(usize),
    Delete(usize),
    Advance(i64),
    Redactor,
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        6 => (0..5usize).prop_map(Op::Get),
        1 => (0..5usize).prop_map(Op::Refresh),
        2 => (0..5usize).prop_map(Op::Invalidate),
        2 => (0..5usize).prop_map(Op::Rotate),
        1 => (0..5usize).prop_map(Op::Delete),
        2 => (0..50i64).prop_map(Op::Advance),
        1 => proptest::strategy::Just(Op::Redactor),
    ]
}

proptest::proptest! {
    // Each case rebuilds matchers many times; fewer cases keep the test quick in debug builds.
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// Random gets, refreshes, invalidations, rotations and deletions at the source over a
    /// small cache, with the redactor made at a random point and checked again later: every
    /// value handed out less than a grace period ago is redacted, after pruning.
    #[test]
    fn every_value_handed_out_within_the_grace_period_is_redacted(
        capacity in 1..4usize,
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        let (source, clock) = (Arc::new(Source::default()), start());
        let manager = new_manager(&source, &clock, capacity);
        let names: Vec<String> = (0..5).map(|i| format!("K{i}")).collect();
        let mut versions = [0u32; 5];
        for (name, version) in names.iter().zip(versions) {
            source.set(name, &fake_value(name, version));
        }
        let mut handed_out: std::collections::HashMap<String, chrono::DateTime<Utc>> =
            std::collections::HashMap::new();
        let check = |handed_out: &std::collections::HashMap<String, chrono::DateTime<Utc>>| {
            let redactor = manager.redactor();
            redactor.prune().unwrap();
            let current = redactor.current();
            let now = keyward::clock::Clock::now(&*clock);
            for (value, at) in handed_out {
                if now < *at + GRACE && !current.is_leak(value) {
                    return Err(format!("{value}, handed out at {at}, passes at {now}"));
                }
            }
            Ok(())
        };
        for op in ops {
            let got = match op {
                Op::Get(i) => manager.get(&names[i]).ok(),
                Op::Refresh(i) => manager.refresh(&names[i]).ok(),
                Op::Invalidate(i) => {
                    manager.invalidate(&names[i]);
                    None
                }
                Op::Rotate(i) => {
                    versions[i] += 1;
                    source.set(&names[i], &fake_value(&names[i], versions[i]));
                    None
                }
                Op::Delete(i) => {
                    source.delete(&names[i]);
                    None
                }
                Op::Advance(minutes) => {
                    clock.advance(TimeDelta::minutes(minutes));
                    None
                }
                Op::Redactor => {
                    check(&handed_out).map_err(proptest::test_runner::TestCaseError::fail)?;
                    None
                }
            };
            if let Some(key) = got {
                handed_out.insert(key.expose_secret().to_owned(), keyward::clock::Clock::now(&*clock));
            }
        }
        check(&handed_out).map_err(proptest::test_runner::TestCaseError::fail)?;
    }
}

/// The manager's redactor takes the settings given to the builder: a minimum length below the
/// default, detection of unknown keys, encodings, secrets of its own, and keeps the manager's
/// grace period for rotated and departed values.
#[test]
fn the_redactor_takes_the_settings_given_to_the_builder() {
    let short = "Qz7-4xK"; // 7 characters: below the default minimum of 8
    let rotated = "Wp2-9vL";
    let theirs = format!("ghp_{}", "q7Rt2mXz9K".repeat(4));
    let fixed = keyward::SecretString::from(format!("sk-fixed-{}", "F1x3d".repeat(6)));
    let text = |value: &str| format!("key {value} token {theirs} fixed {}", fixed.expose_secret());

    // By default the short key is left out (it cannot be redacted), and unknown keys are not
    // looked for.
    let provider = Arc::new(Rotating(Mutex::new(short.to_owned())));
    let plain = KeyManager::builder(provider.clone()).build().unwrap();
    plain.get("OPENAI_API_KEY").unwrap();
    assert_eq!(plain.redactor().current().redact(&text(short)), text(short));

    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
    ));
    let settings = || {
        Redactor::builder()
            .with_min_len(6)
            .with_unknown_detection(true)
            .with_secret("FIXED", &fixed)
    };
    let manager = KeyManager::builder(provider.clone())
        .with_clock(clock.clone())
        .with_grace_period(Duration::from_secs(3600))
        .with_redactor(settings())
        .build()
        .unwrap();
    manager.get("OPENAI_API_KEY").unwrap();
    let redactor = manager.redactor();
    let expected =
        "key [REDACTED:OPENAI_API_KEY] token [REDACTED:GitHub token] fixed [REDACTED:FIXED]";
    assert_eq!(redactor.current().redact(&text(short)), expected);

    // Rotated at the source: the old short value stays redacted for the grace period.
    *provider.0.lock().unwrap() = rotated.to_owned();
    manager.refresh("OPENAI_API_KEY").unwrap();
    let both = format!("{short} {rotated}");
    assert_eq!(
        redactor.current().redact(&both),
        "[REDACTED:OPENAI_API_KEY] [REDACTED:OPENAI_API_KEY]"
    );
    clock.advance(TimeDelta::hours(2));
    redactor.prune().unwrap();
    assert_eq!(
        redactor.current().redact(&both),
        format!("{short} [REDACTED:OPENAI_API_KEY]")
    );

    // A short value that left the cache before the redactor was made is kept for it too.
    *provider.0.lock().unwrap() = short.to_owned();
    let late = KeyManager::builder(provider.clone())
        .with_clock(clock.clone())
        .with_grace_period(Duration::from_secs(3600))
        .with_redactor(settings())
        .build()
        .unwrap();
    late.get("OPENAI_API_KEY").unwrap();
    assert!(late.invalidate("OPENAI_API_KEY"));
    assert_eq!(
        late.redactor().current().redact(short),
        "[REDACTED:OPENAI_API_KEY]"
    );
    clock.advance(TimeDelta::hours(2));
    late.redactor().prune().unwrap();
    assert_eq!(late.redactor().current().redact(short), short);
}

#[test]
fn the_redactor_settings_choose_the_encodings_and_are_checked_by_build() {
    let value = format!("sk-proj-{}", "3nc0ded".repeat(6));
    let encoded: String = value.bytes().map(|byte| format!("{byte:02x}")).collect();
    let raw_only = KeyManager::builder(Rotating(Mutex::new(value.clone())))
        .with_redactor(Redactor::builder().with_encodings(Encodings::RAW))
        .build()
        .unwrap();
    raw_only.get("OPENAI_API_KEY").unwrap();
    assert!(raw_only.redactor().current().is_leak(&value));
    assert!(!raw_only.redactor().current().is_leak(&encoded));
    let every = KeyManager::builder(Rotating(Mutex::new(value.clone())))
        .build()
        .unwrap();
    every.get("OPENAI_API_KEY").unwrap();
    assert!(every.redactor().current().is_leak(&encoded));

    let err = KeyManager::builder(Rotating(Mutex::new(value)))
        .with_redactor(Redactor::builder().with_fragment_len(3))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), keyward::ErrorKind::InvalidInput);
    assert!(
        err.to_string()
            .starts_with("invalid key manager: the redactor settings: fragment length 3"),
        "{err}"
    );
}

/// The longest grace period the builder accepts is one the redactor can count from now: the
/// manager's redactor still takes every key (a longer one is refused by `build`).
#[test]
fn the_longest_grace_period_keeps_keys_redacted() {
    let value = format!("sk-proj-{}", "F0reverK".repeat(5));
    let provider = Rotating(Mutex::new(value.clone()));
    let longest = Duration::from_secs(100_000 * 366 * 86_400);
    let manager = KeyManager::builder(provider)
        .with_grace_period(longest)
        .with_created_at_companion(false)
        .build()
        .unwrap();
    manager.get("OPENAI_API_KEY").unwrap();
    let redactor = manager.redactor();
    assert_eq!(
        redactor.current().redact(&format!("key {value}")),
        "key [REDACTED:OPENAI_API_KEY]"
    );
    let too_long = KeyManager::builder(Rotating(Mutex::new(value)))
        .with_grace_period(longest + Duration::from_secs(1))
        .build();
    assert!(too_long.is_err());
}
