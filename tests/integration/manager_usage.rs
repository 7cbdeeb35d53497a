//! The usage log listening to a key manager: failed fetches and due keys raise alerts.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use chrono::{TimeDelta, TimeZone, Utc};
use keyward::clock::ManualClock;
use keyward::usage::{Alert, AlertRule, KEY_MANAGER_AGENT, RotationState, Trigger};
use keyward::{KeyManager, MemoryProvider, Secret, SecretMeta, UsageLog};

#[test]
fn manager_events_reach_the_usage_log_and_its_alerts() {
    let start = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let alerts: Arc<Mutex<Vec<Alert>>> = Arc::default();
    let log = Arc::new(
        UsageLog::builder()
            .with_clock(clock.clone())
            .with_rule(AlertRule::EveryFailure)
            .with_rule(AlertRule::RotationDue)
            .on_alert({
                let alerts = alerts.clone();
                move |alert| alerts.lock().unwrap().push(alert.clone())
            })
            .build()
            .unwrap(),
    );

    let mut provider = MemoryProvider::new();
    let old = start - TimeDelta::days(120);
    let value = format!("sk-proj-{}", "0ldKey".repeat(6));
    provider.insert_secret(
        "OLD_KEY",
        Secret::new(
            value.as_str(),
            SecretMeta::new("memory").with_created_at(old),
        ),
    );
    let manager = KeyManager::builder(provider)
        .with_clock(clock.clone())
        .on_event({
            let log = log.clone();
            move |event| log.record_key_event(event)
        })
        .build()
        .unwrap();

    manager.get("OLD_KEY").unwrap();
    assert!(manager.get("MISSING_KEY").is_err());

    let report = log.report();
    let agent = report
        .agents
        .iter()
        .find(|a| a.name == KEY_MANAGER_AGENT)
        .unwrap();
    assert!(
        agent.stats.uses >= 3,
        "fetch, failed fetch, rotation check: {report}"
    );
    assert_eq!(agent.stats.failures, 1);

    let alerts = alerts.lock().unwrap();
    assert!(
        alerts.iter().any(|a| matches!(
            a.trigger(),
            Trigger::Rotation {
                state: RotationState::Due
            }
        ) && a.label() == "OLD_KEY"),
        "a due key raises a rotation alert: {alerts:?}"
    );
    assert!(
        alerts
            .iter()
            .any(|a| matches!(a.trigger(), Trigger::Failure { .. }) && a.label() == "MISSING_KEY"),
        "a failed fetch raises a failure alert"
    );
    let shown = format!("{alerts:?} {report}");
    assert!(
        !shown.contains(&value),
        "alerts and reports never show the value"
    );
}
