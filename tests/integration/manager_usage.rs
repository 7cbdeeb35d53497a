//! The usage log listening to a key manager: the manager's fetches and rotation checks are kept
//! apart from the agents' uses, and only the uses feed the alert rules.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use keyward::clock::{Clock, ManualClock};
use keyward::manager::KeyEvent;
use keyward::rotation::CreatedAt;
use keyward::usage::{
    Alert, AlertRule, EventKind, FailureClass, KeyId, Outcome, RotationState, Trigger, Usage,
};
use keyward::{
    ErrorKind, KeyManager, ManagedKey, MemoryProvider, RotationPolicy, Secret, SecretMeta, UsageLog,
};
use proptest::prelude::*;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()
}

/// A log on `clock` with `rules`, and the alerts it sent.
fn alerting_log(
    clock: &Arc<ManualClock>,
    rules: impl IntoIterator<Item = AlertRule>,
) -> (Arc<UsageLog>, Arc<Mutex<Vec<Alert>>>) {
    let alerts: Arc<Mutex<Vec<Alert>>> = Arc::default();
    let mut builder = UsageLog::builder().with_clock(clock.clone()).on_alert({
        let alerts = alerts.clone();
        move |alert| alerts.lock().unwrap().push(alert.clone())
    });
    for rule in rules {
        builder = builder.with_rule(rule);
    }
    (Arc::new(builder.build().unwrap()), alerts)
}

#[test]
fn manager_events_reach_the_usage_log_apart_from_the_uses() {
    let start = start();
    let clock = Arc::new(ManualClock::new(start));
    let (log, alerts) = alerting_log(&clock, [AlertRule::EveryFailure, AlertRule::RotationDue]);

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

    let key = manager.get("OLD_KEY").unwrap();
    assert!(manager.get("MISSING_KEY").is_err());

    let report = log.report();
    assert_eq!(
        report.manager.fetches, 2,
        "a fetch and a failed fetch: {report}"
    );
    assert_eq!(report.manager.failed_fetches, 1);
    assert!(
        report.manager.rotation_checks >= 1,
        "the due key was announced"
    );
    assert_eq!(report.total.uses, 0, "the manager is no agent: {report}");
    assert!(report.agents.is_empty() && report.operations.is_empty());
    assert!(
        log.recent().iter().all(|event| !event.kind().is_use()),
        "{:?}",
        log.recent()
    );
    let row = report.keys.iter().find(|k| k.label == "OLD_KEY").unwrap();
    assert_eq!(row.rotation, Some(RotationState::Due));
    assert_eq!(row.manager.fetches, 1);
    assert!(
        alerts.lock().unwrap().is_empty(),
        "no agent used a key yet: {:?}",
        alerts.lock().unwrap()
    );

    // An agent using the key the manager found due raises the rotation alert.
    log.record(Usage::new(
        &KeyId::new("OLD_KEY", key.value()),
        "researcher",
        "chat",
    ));
    let alerts = alerts.lock().unwrap();
    assert!(
        alerts.iter().any(|a| matches!(
            a.trigger(),
            Trigger::Rotation {
                state: RotationState::Due
            }
        ) && a.label() == "OLD_KEY"
            && a.agent() == "researcher"),
        "a due key used by an agent raises a rotation alert: {alerts:?}"
    );
    assert!(
        !alerts.iter().any(|a| a.label() == "MISSING_KEY"),
        "the manager's failed fetch is not an agent's failed call"
    );
    let report = log.report();
    assert_eq!(report.total.uses, 1);
    let shown = format!("{alerts:?} {report} {:?}", log.recent());
    assert!(
        !shown.contains(&value),
        "alerts and reports never show the value"
    );
    assert!(
        report
            .to_string()
            .contains("; key manager: 2 fetches (1 failed)"),
        "{report}"
    );
}

/// The case that was reported: with the documented `record_key_event` hook, a rule "more than
/// 50% of at least 3 calls failed" stayed silent after 1 success and 3 failures, because the
/// manager's refreshes before each use were counted as successful calls.
#[test]
fn the_managers_fetches_do_not_water_down_an_agents_failure_rate() {
    let clock = Arc::new(ManualClock::new(start()));
    let minute = Duration::from_secs(60);
    let rule = AlertRule::failure_rate(0.5, 60 * minute, 3);
    let (log, alerts) = alerting_log(&clock, [rule.clone()]);
    let value = format!("sk-proj-{}", "FaKe0".repeat(8));
    let manager = KeyManager::builder(MemoryProvider::new().with("OPENAI_API_KEY", value.as_str()))
        .with_clock(clock.clone())
        .with_ttl(Duration::from_secs(60))
        .on_event({
            let log = log.clone();
            move |event| log.record_key_event(event)
        })
        .build()
        .unwrap();

    let outcomes = [
        Outcome::Success,
        Outcome::failure(FailureClass::Server),
        Outcome::failure(FailureClass::Server),
        Outcome::failure(FailureClass::Server),
    ];
    for outcome in outcomes {
        // Past the TTL: every use is preceded by a refresh, a successful fetch.
        clock.advance(TimeDelta::minutes(2));
        let key = manager.get("OPENAI_API_KEY").unwrap();
        log.record(
            Usage::new(&KeyId::new(key.name(), key.value()), "researcher", "chat")
                .with_outcome(outcome),
        );
    }

    let report = log.report();
    assert_eq!(report.manager.fetches, 4, "{report}");
    assert_eq!((report.total.uses, report.total.failures), (4, 3));
    let alerts = alerts.lock().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].rule(), &rule);
    assert_eq!(
        alerts[0].trigger(),
        Trigger::FailureRate {
            failures: 2,
            calls: 3
        },
        "fires on the second failure of three uses"
    );
}

/// One step of an interleaving: the manager's work, or an agent's use, after some seconds.
#[derive(Debug, Clone)]
enum Step {
    Fetched { key: usize },
    FetchFailed { key: usize },
    Announced { key: usize, due: bool },
    Used { key: usize, outcome: u8 },
    Wait { seconds: u16 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..3usize).prop_map(|key| Step::Fetched { key }),
        (0..3usize).prop_map(|key| Step::FetchFailed { key }),
        (0..3usize, any::<bool>()).prop_map(|(key, due)| Step::Announced { key, due }),
        (0..3usize, 0..4u8).prop_map(|(key, outcome)| Step::Used { key, outcome }),
        (1..120u16).prop_map(|seconds| Step::Wait { seconds }),
    ]
}

/// The rules that are about an agent's calls.
fn call_rules() -> Vec<AlertRule> {
    let minute = Duration::from_secs(60);
    vec![
        AlertRule::failure_rate(0.5, 5 * minute, 3),
        AlertRule::failure_rate(0.2, minute, 1),
        AlertRule::burst(4, minute),
        AlertRule::EveryFailure,
        AlertRule::Denied,
    ]
}

fn managed(name: &str, now: DateTime<Utc>) -> Arc<ManagedKey> {
    let value = format!("sk-{name}-{}", "FaKe0".repeat(6));
    Arc::new(ManagedKey::new(
        name,
        Secret::new(value, SecretMeta::new("memory")),
        CreatedAt::Metadata {
            at: now - TimeDelta::days(200),
        },
        now,
        RotationPolicy::default(),
    ))
}

/// What an alert says, without its time's type: for comparing two logs' verdicts.
fn verdict(alert: &Alert) -> (String, String, String, Trigger, u64, DateTime<Utc>) {
    (
        alert.rule().name().to_owned(),
        alert.label().to_owned(),
        alert.agent().to_owned(),
        alert.trigger(),
        alert.suppressed(),
        alert.time(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// However the manager's fetches and rotation checks interleave with the agents' uses, the
    /// call rules reach the verdict they reach on the uses alone, and the use counts are those of
    /// the uses alone.
    #[test]
    fn call_rules_see_the_agents_uses_only(steps in proptest::collection::vec(step(), 0..60)) {
        let clock = Arc::new(ManualClock::new(start()));
        let (with_manager, alerts_with) = alerting_log(&clock, call_rules());
        let (uses_only, alerts_without) = alerting_log(&clock, call_rules());
        let names = ["KEY_A", "KEY_B", "KEY_C"];
        for step in steps {
            let now = clock.now();
            match step {
                Step::Fetched { key } => with_manager.record_key_event(&KeyEvent::Refreshed {
                    key: managed(names[key], now),
                }),
                Step::FetchFailed { key } => with_manager.record_key_event(&KeyEvent::RefreshFailed {
                    name: names[key].to_owned(),
                    error_kind: ErrorKind::Backend,
                    message: "the source failed".to_owned(),
                }),
                Step::Announced { key, due } => {
                    let key = managed(names[key], now);
                    with_manager.record_key_event(&if due {
                        KeyEvent::Due { key }
                    } else {
                        KeyEvent::DueSoon { key }
                    });
                }
                Step::Used { key, outcome } => {
                    let outcome = match outcome {
                        0 | 1 => Outcome::Success,
                        2 => Outcome::failure(FailureClass::RateLimited),
                        _ => Outcome::Denied,
                    };
                    let usage = Usage::new(&KeyId::unread(names[key]), "agent", "call")
                        .with_outcome(outcome);
                    with_manager.record(usage.clone());
                    uses_only.record(usage);
                }
                Step::Wait { seconds } => clock.advance(TimeDelta::seconds(i64::from(seconds))),
            }
        }
        let with: Vec<_> = alerts_with.lock().unwrap().iter().map(verdict).collect();
        let without: Vec<_> = alerts_without.lock().unwrap().iter().map(verdict).collect();
        prop_assert_eq!(with, without);
        let (with, without) = (with_manager.report(), uses_only.report());
        prop_assert_eq!(with.total, without.total);
        prop_assert_eq!(with.agents, without.agents);
        prop_assert_eq!(with.operations, without.operations);
        let uses = with_manager.recent().iter().filter(|e| e.kind() == EventKind::Use).count();
        prop_assert_eq!(uses as u64, without.total.uses);
    }
}
