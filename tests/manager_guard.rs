//! The key manager's redactor knows every value the manager handed out, across rotations.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use chrono::{TimeDelta, TimeZone, Utc};
use keyward::{KeyManager, ManualClock, Result, Secret, SecretMeta, SecretProvider};

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
        .with_grace_period(TimeDelta::hours(1))
        .without_created_at_companion()
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
