//! Key ages and rotation status as the manager records them: where the creation time comes from,
//! how the report renders it, and what it never shows.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use keyward::clock::{Clock, ManualClock};
use keyward::rotation::{CreatedAt, RotationStatus};
use keyward::{ErrorKind, KeyManager, MemoryProvider, RotationPolicy, Secret, SecretMeta};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn fake_key(tag: &str) -> String {
    format!("sk-proj-{tag}-{}", "Ab3d".repeat(10))
}

fn manager(provider: MemoryProvider, clock: &Arc<ManualClock>) -> KeyManager {
    KeyManager::builder(provider)
        .with_clock(clock.clone())
        .build()
        .unwrap()
}

#[test]
fn creation_time_from_metadata_wins() {
    let clock = Arc::new(ManualClock::new(start()));
    let created = start() - TimeDelta::days(30);
    let mut provider = MemoryProvider::new();
    provider.insert_secret(
        "API_KEY",
        Secret::new(fake_key("a"), SecretMeta::new("x").with_created_at(created)),
    );
    // A companion saying otherwise is not asked for when the source knows.
    provider.insert("API_KEY_CREATED_AT", "2020-01-01");
    let key = manager(provider, &clock).get("API_KEY").unwrap();
    assert_eq!(key.created_at(), &CreatedAt::Metadata { at: created });
    assert_eq!(key.age_at(start()), Some(TimeDelta::days(30)));
}

#[test]
fn creation_time_from_companion_key_survives_restarts() {
    let clock = Arc::new(ManualClock::new(start()));
    let provider = MemoryProvider::new()
        .with("API_KEY", fake_key("a"))
        .with("API_KEY_CREATED_AT", "2025-06-01");
    // Two "processes" started months apart report the same age, not "new".
    let first = manager(provider.clone(), &clock).get("API_KEY").unwrap();
    clock.advance(TimeDelta::days(60));
    let second = manager(provider, &clock).get("API_KEY").unwrap();
    let created = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
    for key in [&first, &second] {
        assert_eq!(
            key.created_at(),
            &CreatedAt::Companion {
                key: "API_KEY_CREATED_AT".to_owned(),
                at: created
            }
        );
    }
    assert_eq!(second.age_at(clock.now()).unwrap().num_days(), 333);
    assert_eq!(second.status_at(clock.now()), RotationStatus::Due);
}

#[test]
fn rfc3339_companion_dates_are_accepted() {
    let clock = Arc::new(ManualClock::new(start()));
    let provider = MemoryProvider::new()
        .with("API_KEY", fake_key("a"))
        .with("API_KEY_CREATED_AT", "2026-02-28T10:00:00+02:00");
    let key = manager(provider, &clock).get("API_KEY").unwrap();
    let expected = Utc.with_ymd_and_hms(2026, 2, 28, 8, 0, 0).unwrap();
    assert_eq!(key.created_at().known(), Some(expected));
}

#[test]
fn a_bad_companion_date_is_a_parse_error_naming_the_companion() {
    let clock = Arc::new(ManualClock::new(start()));
    let provider = MemoryProvider::new()
        .with("API_KEY", fake_key("a"))
        .with("API_KEY_CREATED_AT", "last tuesday");
    let err = manager(provider, &clock).get("API_KEY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert!(err.to_string().contains("`API_KEY_CREATED_AT`"), "{err}");
    assert!(!err.to_string().contains("last tuesday"), "{err}");
}

#[test]
fn unknown_creation_time_is_reported_as_unknown_and_not_reset_by_refreshes() {
    let clock = Arc::new(ManualClock::new(start()));
    let provider = MemoryProvider::new().with("API_KEY", fake_key("a"));
    let manager = manager(provider, &clock);
    let key = manager.get("API_KEY").unwrap();
    assert_eq!(
        key.created_at(),
        &CreatedAt::Unknown {
            first_seen: start()
        }
    );
    assert_eq!(key.age_at(start()), None);
    assert_eq!(key.status_at(start()), RotationStatus::Unknown);

    clock.advance(TimeDelta::days(10));
    let refreshed = manager.refresh("API_KEY").unwrap();
    assert_eq!(refreshed.fetched_at(), clock.now());
    assert_eq!(
        refreshed.created_at(),
        &CreatedAt::Unknown {
            first_seen: start()
        },
        "a refresh of the same value keeps the first-seen time"
    );

    let report = manager.rotation_report().to_string();
    assert!(report.contains("unknown since 2026-03-01"), "{report}");
}

#[test]
fn companion_lookup_can_be_renamed_or_turned_off() {
    let clock = Arc::new(ManualClock::new(start()));
    let provider = MemoryProvider::new()
        .with("API_KEY", fake_key("a"))
        .with("API_KEY_CREATED_AT", "2026-01-01")
        .with("API_KEY.created", "2026-02-01");
    let renamed = KeyManager::builder(provider.clone())
        .with_clock(clock.clone())
        .with_created_at_suffix(".created")
        .build()
        .unwrap();
    let key = renamed.get("API_KEY").unwrap();
    assert_eq!(
        key.created_at().known(),
        Some(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap())
    );
    let off = KeyManager::builder(provider)
        .with_clock(clock.clone())
        .with_created_at_companion(false)
        .build()
        .unwrap();
    assert!(!off.get("API_KEY").unwrap().created_at().is_known());
}

#[test]
fn per_key_policies_override_the_default() {
    let clock = Arc::new(ManualClock::new(start()));
    let created = (start() - TimeDelta::days(40))
        .format("%Y-%m-%d")
        .to_string();
    let provider = MemoryProvider::new()
        .with("SHORT_LIVED", fake_key("a"))
        .with("SHORT_LIVED_CREATED_AT", created.as_str())
        .with("LONG_LIVED", fake_key("b"))
        .with("LONG_LIVED_CREATED_AT", created.as_str());
    let manager = KeyManager::builder(provider)
        .with_clock(clock.clone())
        .with_policy_for("SHORT_LIVED", RotationPolicy::every_days(30))
        .build()
        .unwrap();
    let now = clock.now();
    assert_eq!(
        manager.get("SHORT_LIVED").unwrap().status_at(now),
        RotationStatus::Due
    );
    assert_eq!(
        manager.get("LONG_LIVED").unwrap().status_at(now),
        RotationStatus::Current
    );
    assert_eq!(manager.policy_for("LONG_LIVED"), RotationPolicy::default());
}

#[test]
fn report_lists_every_key_with_status_age_due_date_and_source() {
    let clock = Arc::new(ManualClock::new(start()));
    let day = |n: i64| {
        (start() - TimeDelta::days(n))
            .format("%Y-%m-%d")
            .to_string()
    };
    let values = [fake_key("old"), fake_key("new"), fake_key("soon")];
    let provider = MemoryProvider::named("env")
        .with("OLD_KEY", values[0].as_str())
        .with("OLD_KEY_CREATED_AT", day(120).as_str())
        .with("NEW_KEY", values[1].as_str())
        .with("NEW_KEY_CREATED_AT", day(3).as_str())
        .with("SOON_KEY", values[2].as_str())
        .with("SOON_KEY_CREATED_AT", day(80).as_str())
        .with("MYSTERY_KEY", fake_key("mystery"));
    let manager = manager(provider, &clock);
    manager
        .preload(["OLD_KEY", "NEW_KEY", "SOON_KEY", "MYSTERY_KEY"])
        .unwrap();

    let report = manager.rotation_report();
    let names: Vec<&str> = report.entries().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["MYSTERY_KEY", "NEW_KEY", "OLD_KEY", "SOON_KEY"]);
    let status = |name| report.entry(name).unwrap().status;
    assert_eq!(status("OLD_KEY"), RotationStatus::Due);
    assert_eq!(status("NEW_KEY"), RotationStatus::Current);
    assert_eq!(status("SOON_KEY"), RotationStatus::DueSoon);
    assert_eq!(status("MYSTERY_KEY"), RotationStatus::Unknown);
    assert_eq!(report.entry("OLD_KEY").unwrap().age_days, Some(120));
    let attention: Vec<&str> = report.needs_attention().map(|e| e.name.as_str()).collect();
    assert_eq!(attention, ["OLD_KEY", "SOON_KEY"]);

    let table = report.to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    assert!(lines[0].starts_with("NAME "));
    let due_column = lines[0].find("DUE").unwrap();
    assert_eq!(&lines[3][due_column..due_column + 10], "2026-01-30");
    assert!(lines[3].contains("120 days"));
    assert!(lines[3].ends_with("env (created: OLD_KEY_CREATED_AT)"));
    assert!(lines[1].contains("unknown since 2026-03-01"));
    for value in &values {
        assert!(!table.contains(value.as_str()));
        assert!(!format!("{report:?}").contains(value.as_str()));
    }
}

#[test]
fn managed_key_debug_hides_the_value() {
    let clock = Arc::new(ManualClock::new(start()));
    let value = fake_key("debug");
    let provider = MemoryProvider::new().with("API_KEY", value.as_str());
    let key = manager(provider, &clock).get("API_KEY").unwrap();
    let debug = format!("{key:?}");
    assert!(!debug.contains(&value), "{debug}");
    assert!(debug.contains("API_KEY"));
    assert_eq!(key.expose_secret(), value);
}

#[cfg(feature = "serde")]
#[test]
fn report_serializes_to_json_without_values() {
    let clock = Arc::new(ManualClock::new(start()));
    let value = fake_key("json");
    let provider = MemoryProvider::new()
        .with("API_KEY", value.as_str())
        .with("API_KEY_CREATED_AT", "2026-01-01")
        .with("OTHER_KEY", fake_key("other"));
    let manager = manager(provider, &clock);
    manager.preload(["API_KEY", "OTHER_KEY"]).unwrap();
    let json = serde_json::to_value(manager.rotation_report()).unwrap();
    let text = json.to_string();
    assert!(!text.contains(&value));
    let entries = json["entries"].as_array().unwrap();
    assert_eq!(entries[0]["name"], "API_KEY");
    assert_eq!(entries[0]["status"], "current");
    assert_eq!(entries[0]["age_days"], 59);
    assert_eq!(entries[0]["created_at"]["from"], "companion");
    assert_eq!(entries[0]["created_at"]["key"], "API_KEY_CREATED_AT");
    assert_eq!(entries[1]["created_at"]["from"], "unknown");
    assert_eq!(entries[1]["status"], "unknown");
    assert!(entries[1]["age_days"].is_null());
}

/// A policy in days reads without chrono, and its periods are `Duration`s.
#[test]
fn policies_are_written_in_durations() {
    let ninety = Duration::from_secs(90 * 86_400);
    assert_eq!(
        RotationPolicy::every(ninety),
        RotationPolicy::every_days(90)
    );
    assert_eq!(
        RotationPolicy::every(90 * RotationPolicy::DAY),
        RotationPolicy::default()
    );
    let policy = RotationPolicy::every_days(30)
        .with_warn_before(7 * RotationPolicy::DAY)
        .with_max_age(45 * RotationPolicy::DAY);
    assert_eq!(policy.rotate_after(), Duration::from_secs(30 * 86_400));
    assert_eq!(policy.warn_before(), Duration::from_secs(7 * 86_400));
    assert_eq!(policy.max_age(), Some(Duration::from_secs(45 * 86_400)));
    policy.validate().unwrap();
    // Periods past 100,000 years are refused, as every span of the crate.
    RotationPolicy::every_days(u32::MAX).validate().unwrap_err();
    RotationPolicy::every_days(36_500_000).validate().unwrap();

    let clock = Arc::new(ManualClock::new(start()));
    let mut provider = MemoryProvider::new();
    provider.insert_secret(
        "API_KEY",
        Secret::new(
            fake_key("a"),
            SecretMeta::new("x").with_created_at(start() - TimeDelta::days(24)),
        ),
    );
    let manager = KeyManager::builder(provider)
        .with_clock(clock.clone())
        .with_policy(policy)
        .build()
        .unwrap();
    let key = manager.get("API_KEY").unwrap();
    assert_eq!(key.status_at(clock.now()), RotationStatus::DueSoon);
    clock.advance(TimeDelta::days(6));
    assert_eq!(key.status_at(clock.now()), RotationStatus::Due);
    clock.advance(TimeDelta::days(15));
    assert_eq!(key.status_at(clock.now()), RotationStatus::Expired);
    let err = manager.refresh("API_KEY").unwrap_err();
    assert!(
        err.to_string().contains("the maximum age of 45 days"),
        "{err}"
    );
}
