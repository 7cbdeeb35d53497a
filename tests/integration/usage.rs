//! The usage log: counters, report, bounded memory, alert rules and cooldowns.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};
use keyward::clock::{Clock, ManualClock};
use keyward::usage::{
    Alert, AlertRule, EventKind, FailureClass, KeyId, Outcome, RotationState, Trigger, Usage,
    UsageEvent, UsageLogBuilder,
};
use keyward::{ErrorKind, SecretString, UsageLog};

fn fake_value(seed: &str) -> SecretString {
    SecretString::from(format!("sk-proj-{}", seed.repeat(10)))
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
    ))
}

/// A log with `rules`, a manual clock, and a sink collecting alerts.
fn alerting(
    clock: &Arc<ManualClock>,
    rules: impl IntoIterator<Item = AlertRule>,
    configure: impl FnOnce(UsageLogBuilder) -> UsageLogBuilder,
) -> (UsageLog, Arc<Mutex<Vec<Alert>>>) {
    let alerts = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&alerts);
    let mut builder = UsageLog::builder()
        .with_clock(Arc::clone(clock) as Arc<dyn Clock>)
        .with_sink(move |alert: &Alert| sink.lock().unwrap().push(alert.clone()));
    for rule in rules {
        builder = builder.with_rule(rule);
    }
    (configure(builder).build().unwrap(), alerts)
}

fn failed(key: &KeyId) -> Usage {
    Usage::new(key, "researcher", "chat").with_outcome(Outcome::failure(FailureClass::Server))
}

fn ok(key: &KeyId) -> Usage {
    Usage::new(key, "researcher", "chat")
}

#[test]
fn report_counts_per_key_operation_and_agent() {
    let clock = clock();
    let log = UsageLog::builder()
        .with_clock(clock.clone())
        .build()
        .unwrap();
    let openai_value = fake_value("Ab3d");
    let openai = KeyId::new("OPENAI_API_KEY", &openai_value);
    let search = KeyId::new("SEARCH_KEY", &fake_value("Zz9y"));

    log.record(ok(&openai).with_latency(Duration::from_millis(100)));
    clock.advance(TimeDelta::seconds(1));
    log.record(ok(&openai).with_latency(Duration::from_millis(300)));
    log.record(failed(&openai));
    log.record(Usage::new(&search, "crawler", "search"));
    log.record(
        Usage::new(&KeyId::unread("AWS_SECRET"), "crawler", "read").with_outcome(Outcome::Denied),
    );

    let report = log.report();
    assert_eq!(report.total.uses, 5);
    assert_eq!(report.total.successes, 3);
    assert_eq!(report.total.failures, 1);
    assert_eq!(report.total.denied, 1);
    assert!((report.total.failure_rate - 0.25).abs() < 1e-9);
    assert_eq!(
        report.since,
        Some(Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap())
    );
    assert_eq!(report.until, Some(clock.now()));

    let labels: Vec<&str> = report.keys.iter().map(|k| k.label.as_str()).collect();
    assert_eq!(labels, ["AWS_SECRET", "OPENAI_API_KEY", "SEARCH_KEY"]);
    let key = &report.keys[1];
    assert_eq!(key.fingerprint, Some(openai_value.fingerprint()));
    assert_eq!(key.masked.as_deref(), Some(openai_value.masked().as_str()));
    assert_eq!((key.stats.uses, key.stats.failures), (3, 1));
    assert_eq!(key.stats.mean_latency, Some(Duration::from_millis(200)));
    assert_eq!(key.stats.max_latency, Some(Duration::from_millis(300)));
    assert_eq!(
        report.keys[0].fingerprint, None,
        "a denial never reads the value"
    );

    let ops: Vec<(&str, u64)> = report
        .operations
        .iter()
        .map(|o| (o.name.as_str(), o.stats.uses))
        .collect();
    assert_eq!(ops, [("chat", 3), ("read", 1), ("search", 1)]);
    let agents: Vec<(&str, u64)> = report
        .agents
        .iter()
        .map(|a| (a.name.as_str(), a.stats.uses))
        .collect();
    assert_eq!(agents, [("crawler", 2), ("researcher", 3)]);
}

#[test]
fn display_is_a_readable_table_without_values() {
    let log = UsageLog::new();
    let value = fake_value("Ab3d");
    let key = KeyId::new("OPENAI_API_KEY", &value);
    log.record(ok(&key));
    log.record(failed(&key));
    let text = log.report().to_string();
    assert!(
        text.contains("2 uses, 1 failed (50.0%), 0 denied"),
        "{text}"
    );
    assert!(text.contains("OPENAI_API_KEY"), "{text}");
    assert!(text.contains(&value.fingerprint().to_string()), "{text}");
    assert!(text.contains("researcher"), "{text}");
    assert!(!text.contains(value.expose_secret()), "{text}");
    let header = text.lines().find(|l| l.starts_with("key")).unwrap();
    assert!(header.contains("fingerprint") && header.contains("failures"));
}

#[test]
fn names_cannot_forge_lines() {
    let log = UsageLog::new();
    let key = KeyId::new("KEY\nfake line", &fake_value("Ab3d"));
    log.record(Usage::new(&key, "agent\r\nx", "op"));
    let text = log.report().to_string();
    assert!(!text.contains("\nfake line"), "{text}");
    let event = log.recent().pop().unwrap().to_string();
    assert!(!event.contains('\n') && !event.contains('\r'), "{event}");
}

#[test]
fn no_value_reaches_events_alerts_or_debug() {
    let clock = clock();
    let (log, alerts) = alerting(&clock, [AlertRule::EveryFailure], |b| b);
    let value = fake_value("Qw7e");
    let key = KeyId::new("OPENAI_API_KEY", &value);
    log.record(failed(&key));
    let secret = value.expose_secret();
    let event = log.recent().pop().unwrap();
    let alert = alerts.lock().unwrap().pop().unwrap();
    for shown in [
        format!("{event}"),
        format!("{event:?}"),
        format!("{alert}"),
        format!("{alert:?}"),
        format!("{key:?}"),
        format!("{log:?}"),
        format!("{:?}", log.report()),
    ] {
        assert!(!shown.contains(secret), "{shown}");
        // not even a long piece of it
        assert!(!shown.contains(&secret[8..20]), "{shown}");
    }
}

#[test]
fn recent_events_are_a_bounded_ring() {
    let clock = clock();
    let log = UsageLog::builder()
        .with_clock(clock.clone())
        .with_capacity(3)
        .build()
        .unwrap();
    let key = KeyId::new("K", &fake_value("Ab3d"));
    for i in 0..10 {
        log.record(Usage::new(&key, "a", format!("op{i}")));
        clock.advance(TimeDelta::seconds(1));
    }
    let ops: Vec<String> = log
        .recent()
        .iter()
        .map(|e| e.operation().to_owned())
        .collect();
    assert_eq!(ops, ["op7", "op8", "op9"]);
    assert!(log.recent()[0].time() < log.recent()[2].time());
    // the counters still saw everything
    assert_eq!(log.report().total.uses, 10);

    let counters_only = UsageLog::builder().with_capacity(0).build().unwrap();
    counters_only.record(Usage::new(&key, "a", "op"));
    assert!(counters_only.recent().is_empty());
    assert_eq!(counters_only.report().total.uses, 1);
}

#[test]
fn distinct_names_beyond_the_limits_go_to_an_overflow_row() {
    let log = UsageLog::builder()
        .with_max_keys(2)
        .with_max_agents(1)
        .with_max_operations(3)
        .build()
        .unwrap();
    for i in 0..50 {
        let key = KeyId::new(format!("KEY_{i}"), &fake_value("Ab3d"));
        log.record(Usage::new(
            &key,
            format!("agent{i}"),
            format!("op{}", i % 5),
        ));
    }
    // an already tracked key keeps its own row after the table is full
    log.record(Usage::new(
        &KeyId::new("KEY_0", &fake_value("Ab3d")),
        "agent0",
        "op0",
    ));

    let report = log.report();
    assert_eq!(report.keys.len(), 3);
    assert_eq!(report.keys[0].label, "KEY_0");
    assert_eq!(report.keys[0].stats.uses, 2);
    let overflow = report.keys.last().unwrap();
    assert!(overflow.overflow);
    assert_eq!(overflow.stats.uses, 48);
    assert_eq!(overflow.fingerprint, None, "the overflow row mixes keys");

    assert_eq!(report.agents.len(), 2);
    assert_eq!(report.agents[1].stats.uses, 49);
    assert!(report.agents[1].overflow);
    assert_eq!(report.operations.len(), 4);
    assert_eq!(
        report.operations.iter().map(|o| o.stats.uses).sum::<u64>(),
        51
    );
    assert!(report.to_string().contains("(other)"));
}

#[test]
fn recording_from_many_threads_loses_nothing() {
    let log = Arc::new(UsageLog::builder().with_capacity(16).build().unwrap());
    let key = KeyId::new("SHARED", &fake_value("Ab3d"));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let log = Arc::clone(&log);
            let key = key.clone();
            thread::spawn(move || {
                for i in 0..500 {
                    let usage = Usage::new(&key, format!("agent{t}"), "chat");
                    log.record(if i % 10 == 0 {
                        usage.with_outcome(Outcome::failure(FailureClass::Timeout))
                    } else {
                        usage
                    });
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let report = log.report();
    assert_eq!(report.total.uses, 2000);
    assert_eq!(report.total.failures, 200);
    assert_eq!(report.keys[0].stats.uses, 2000);
    assert!(report.agents.iter().all(|a| a.stats.uses == 500));
    assert_eq!(log.recent().len(), 16);
}

#[test]
fn builder_refuses_rules_without_sinks_and_impossible_rules() {
    let no_sink = UsageLog::builder()
        .with_rule(AlertRule::Denied)
        .build()
        .unwrap_err();
    assert_eq!(no_sink.kind(), ErrorKind::InvalidInput);
    assert!(no_sink.to_string().contains("no sink"), "{no_sink}");

    let no_rule = UsageLog::builder()
        .with_sink(|_: &Alert| {})
        .build()
        .unwrap_err();
    assert_eq!(no_rule.kind(), ErrorKind::InvalidInput);

    let bad = UsageLog::builder()
        .with_rule(AlertRule::failure_rate(1.5, Duration::from_secs(60), 3))
        .with_sink(|_: &Alert| {})
        .build()
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::InvalidInput);
    assert!(bad.to_string().contains("threshold"), "{bad}");

    assert!(!UsageLog::new().is_alerting());
    let alerting = UsageLog::builder()
        .with_rule(AlertRule::Denied)
        .with_rule(AlertRule::EveryFailure)
        .on_alert(|_| {})
        .build()
        .unwrap();
    assert!(alerting.is_alerting());
    assert_eq!(
        alerting.rules().collect::<Vec<_>>(),
        [&AlertRule::Denied, &AlertRule::EveryFailure]
    );
}

#[test]
fn every_failure_fires_once_per_cooldown_per_key_and_counts_the_rest() {
    let clock = clock();
    let (log, alerts) = alerting(&clock, [AlertRule::EveryFailure], |b| {
        b.with_alert_cooldown(Duration::from_secs(30))
    });
    let a = KeyId::new("A", &fake_value("Ab3d"));
    let b = KeyId::new("B", &fake_value("Zz9y"));

    log.record(ok(&a));
    assert!(alerts.lock().unwrap().is_empty(), "success is not an alert");
    log.record(failed(&a));
    log.record(failed(&a));
    log.record(failed(&b)); // another key has its own cooldown
    clock.advance(TimeDelta::seconds(29));
    log.record(failed(&a));
    {
        let fired = alerts.lock().unwrap();
        assert_eq!(fired.len(), 2);
        assert_eq!(fired[0].label(), "A");
        assert_eq!(
            fired[0].trigger(),
            Trigger::Failure {
                class: FailureClass::Server
            }
        );
        assert_eq!(fired[0].fingerprint(), a.fingerprint());
        assert_eq!(fired[1].label(), "B");
    }
    clock.advance(TimeDelta::seconds(1));
    log.record(failed(&a));
    let fired = alerts.lock().unwrap();
    assert_eq!(fired.len(), 3);
    assert_eq!(fired[2].suppressed(), 2, "two failures were held back");
    assert!(
        fired[2].to_string().contains("2 more held back"),
        "{}",
        fired[2]
    );
}

#[test]
fn failure_rate_needs_enough_calls_and_a_rate_above_the_threshold() {
    let clock = clock();
    let window = Duration::from_secs(60);
    let (log, alerts) = alerting(&clock, [AlertRule::failure_rate(0.5, window, 4)], |b| b);
    let key = KeyId::new("OPENAI_API_KEY", &fake_value("Ab3d"));

    log.record(failed(&key));
    log.record(failed(&key));
    log.record(failed(&key));
    assert!(
        alerts.lock().unwrap().is_empty(),
        "3 calls are below min_calls"
    );
    log.record(ok(&key));
    assert!(alerts.lock().unwrap().is_empty(), "a success does not fire");
    log.record(failed(&key)); // 4 of 5 failed: 80% > 50%
    {
        let fired = alerts.lock().unwrap();
        assert_eq!(fired.len(), 1);
        assert_eq!(
            fired[0].trigger(),
            Trigger::FailureRate {
                failures: 4,
                calls: 5
            }
        );
        let text = fired[0].to_string();
        assert!(text.contains("4 of 5 calls failed (80.0%)"), "{text}");
        assert!(text.contains("above 50.0%"), "{text}");
    }

    // The window slides: 61 s later the old failures are gone.
    clock.advance(TimeDelta::seconds(61));
    for _ in 0..3 {
        log.record(ok(&key));
    }
    log.record(failed(&key)); // 1 of 4: 25%
    assert_eq!(alerts.lock().unwrap().len(), 1);
    log.record(failed(&key)); // 2 of 5: 40%
    log.record(failed(&key)); // 3 of 6: exactly 50% is not above
    assert_eq!(alerts.lock().unwrap().len(), 1);
    log.record(failed(&key)); // 4 of 7: 57%
    let fired = alerts.lock().unwrap();
    assert_eq!(fired.len(), 2);
    assert_eq!(
        fired[1].trigger(),
        Trigger::FailureRate {
            failures: 4,
            calls: 7
        }
    );
}

#[test]
fn failure_rate_fires_once_per_window() {
    let clock = clock();
    let (log, alerts) = alerting(
        &clock,
        [AlertRule::failure_rate(0.1, Duration::from_secs(60), 1)],
        |b| b,
    );
    let key = KeyId::new("K", &fake_value("Ab3d"));
    for _ in 0..20 {
        log.record(failed(&key));
        clock.advance(TimeDelta::seconds(5)); // 100 s in all
    }
    let fired = alerts.lock().unwrap();
    // at 0 s and at 60 s: the cooldown is the window
    assert_eq!(fired.len(), 2);
    assert_eq!(fired[1].time() - fired[0].time(), TimeDelta::seconds(60));
    assert_eq!(fired[1].suppressed(), 11);
}

#[test]
fn burst_fires_above_the_limit_within_the_window() {
    let clock = clock();
    let (log, alerts) = alerting(
        &clock,
        [AlertRule::burst(5, Duration::from_secs(10))],
        |b| b,
    );
    let key = KeyId::new("K", &fake_value("Ab3d"));
    // 5 calls 3 s apart never have more than 4 in a 10 s window
    for _ in 0..5 {
        log.record(ok(&key));
        clock.advance(TimeDelta::seconds(3));
    }
    assert!(alerts.lock().unwrap().is_empty());
    clock.advance(TimeDelta::seconds(10)); // the earlier calls leave the window
    for _ in 0..6 {
        log.record(ok(&key));
    }
    let fired = alerts.lock().unwrap();
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].trigger(), Trigger::Burst { calls: 6 });
    assert!(
        fired[0]
            .to_string()
            .contains("6 calls within 10s, more than the 5 allowed"),
        "{}",
        fired[0]
    );
}

#[test]
fn denials_are_not_calls_but_fire_the_denied_rule() {
    let clock = clock();
    let (log, alerts) = alerting(
        &clock,
        [
            AlertRule::Denied,
            AlertRule::burst(1, Duration::from_secs(10)),
        ],
        |b| b,
    );
    let denied = Usage::new(&KeyId::unread("AWS_SECRET"), "researcher", "read")
        .with_outcome(Outcome::Denied);
    log.record(denied.clone());
    log.record(denied);
    let fired = alerts.lock().unwrap();
    assert_eq!(fired.len(), 1, "one denial alert, the second held back");
    assert_eq!(fired[0].rule(), &AlertRule::Denied);
    assert_eq!(fired[0].fingerprint(), None);
    assert_eq!(fired[0].agent(), "researcher");
}

#[test]
fn use_of_a_key_due_or_expired_for_rotation_fires() {
    let clock = clock();
    let (log, alerts) = alerting(&clock, [AlertRule::RotationDue], |b| {
        b.with_alert_cooldown(Duration::ZERO)
    });
    let key = KeyId::new("K", &fake_value("Ab3d"));
    log.record(ok(&key));
    log.record(ok(&key).with_rotation(RotationState::Current));
    log.record(ok(&key).with_rotation(RotationState::DueSoon));
    assert!(alerts.lock().unwrap().is_empty());
    log.record(ok(&key).with_rotation(RotationState::Due));
    log.record(ok(&key).with_rotation(RotationState::Expired));
    let fired = alerts.lock().unwrap();
    let states: Vec<Trigger> = fired.iter().map(Alert::trigger).collect();
    assert_eq!(
        states,
        [
            Trigger::Rotation {
                state: RotationState::Due
            },
            Trigger::Rotation {
                state: RotationState::Expired
            }
        ]
    );
    assert_eq!(log.report().keys[0].rotation, Some(RotationState::Expired));
}

#[test]
fn a_sink_may_record_to_the_log_without_deadlock() {
    let log = Arc::new_cyclic(|weak: &std::sync::Weak<UsageLog>| {
        let weak = weak.clone();
        UsageLog::builder()
            .with_rule(AlertRule::EveryFailure)
            .with_sink(move |alert: &Alert| {
                if let Some(log) = weak.upgrade() {
                    log.record(Usage::new(alert.key(), "monitor", "alert"));
                }
            })
            .build()
            .unwrap()
    });
    let key = KeyId::new("K", &fake_value("Ab3d"));
    log.record(failed(&key));
    assert_eq!(log.report().total.uses, 2);
}

#[cfg(feature = "serde")]
#[test]
fn report_serializes_to_json() {
    let log = UsageLog::new();
    let value = fake_value("Ab3d");
    let key = KeyId::new("OPENAI_API_KEY", &value);
    log.record(ok(&key).with_latency(Duration::from_millis(250)));
    log.record(failed(&key));
    let json = serde_json::to_value(log.report()).unwrap();
    assert_eq!(json["total"]["uses"], 2);
    assert_eq!(json["total"]["failure_rate"], 0.5);
    assert_eq!(json["keys"][0]["label"], "OPENAI_API_KEY");
    assert_eq!(
        json["keys"][0]["fingerprint"],
        value.fingerprint().to_string()
    );
    assert_eq!(json["keys"][0]["stats"]["mean_latency"], 250.0);
    assert_eq!(json["agents"][0]["name"], "researcher");
    assert!(!json.to_string().contains(value.expose_secret()));

    let rule = serde_json::to_value(AlertRule::burst(5, Duration::from_secs(10))).unwrap();
    assert_eq!(rule["rule"], "burst");
    assert_eq!(rule["window"], 10.0);
}

#[test]
fn overlong_names_are_cut_so_memory_stays_bounded() {
    let log = UsageLog::new();
    let long = "é".repeat(100_000);
    let key = KeyId::unread(long.as_str());
    assert!(key.label().len() <= keyward::provider::MAX_KEY_NAME_LEN);
    assert!(key.label().ends_with("..."));
    log.record(Usage::new(&key, long.as_str(), long.as_str()));
    let event = log.recent().pop().unwrap();
    assert!(event.agent().len() <= keyward::provider::MAX_KEY_NAME_LEN);
    assert!(event.operation().starts_with("éé"));
    assert!(log.report().keys[0].label.len() <= keyward::provider::MAX_KEY_NAME_LEN);
}

#[cfg(feature = "serde")]
#[test]
fn events_and_alerts_serialize_flat_without_values() {
    let clock = clock();
    let (log, alerts) = alerting(&clock, [AlertRule::EveryFailure], |b| b);
    let value = fake_value("Ab3d");
    let key = KeyId::new("OPENAI_API_KEY", &value);
    log.record(
        Usage::new(&key, "researcher", "chat")
            .with_outcome(Outcome::failure(FailureClass::RateLimited))
            .with_latency(Duration::from_millis(12)),
    );
    let event = serde_json::to_value(log.recent().pop().unwrap()).unwrap();
    assert_eq!(event["key"], "OPENAI_API_KEY");
    assert_eq!(event["outcome"], "failure");
    assert_eq!(event["failure_class"], "rate_limited");
    assert_eq!(event["latency_ms"], 12.0);
    assert_eq!(event["time"], "2026-03-01T12:00:00Z");
    assert_eq!(event["fingerprint"], value.fingerprint().to_string());

    let alert = serde_json::to_value(alerts.lock().unwrap().pop().unwrap()).unwrap();
    assert_eq!(alert["rule"]["rule"], "every_failure");
    assert_eq!(alert["trigger"]["trigger"], "failure");
    assert_eq!(alert["trigger"]["class"], "rate_limited");
    assert_eq!(alert["suppressed"], 0);
    assert!(
        alert["message"]
            .as_str()
            .unwrap()
            .starts_with("every failure: call failed")
    );
    for json in [event.to_string(), alert.to_string()] {
        assert!(!json.contains(value.expose_secret()), "{json}");
    }
}

#[test]
fn the_managers_events_are_counted_and_shown_apart_from_the_uses() {
    let log = UsageLog::new();
    let value = fake_value("Ab3d");
    let key = KeyId::new("K", &value);
    log.record(Usage::fetch(&key));
    log.record(Usage::fetch(&key).with_outcome(Outcome::failure(FailureClass::Server)));
    log.record(Usage::rotation_check(&key, RotationState::Due));
    log.record(ok(&key));

    let events = log.recent();
    let kinds: Vec<EventKind> = events.iter().map(UsageEvent::kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Fetch,
            EventKind::Fetch,
            EventKind::RotationCheck,
            EventKind::Use
        ]
    );
    let line = events[0].to_string();
    assert!(
        line.contains(" [fetch] agent=key-manager op=fetch key=K"),
        "{line}"
    );
    assert!(!events[3].to_string().contains('['), "{}", events[3]);

    let report = log.report();
    assert_eq!((report.total.uses, report.total.failures), (1, 0));
    assert_eq!(
        (
            report.manager.fetches,
            report.manager.failed_fetches,
            report.manager.rotation_checks
        ),
        (2, 1, 1)
    );
    assert_eq!(report.keys[0].manager, report.manager);
    assert_eq!(report.keys[0].stats.uses, 1);
    assert_eq!(report.keys[0].rotation, Some(RotationState::Due));
    let agents: Vec<&str> = report.agents.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(agents, ["researcher"]);
    let text = report.to_string();
    assert!(
        text.contains("1 uses, 0 failed (0.0%), 0 denied; key manager: 2 fetches (1 failed), 1 rotation checks"),
        "{text}"
    );
    assert!(text.contains("2 (1 failed)"), "{text}");
    assert!(!text.contains(value.expose_secret()));
}

#[test]
fn a_successful_fetch_states_the_rotation_and_a_failed_one_does_not() {
    let clock = clock();
    let (log, alerts) = alerting(&clock, [AlertRule::RotationDue], |b| {
        b.with_alert_cooldown(Duration::ZERO)
    });
    let key = KeyId::new("K", &fake_value("Ab3d"));
    log.record(Usage::rotation_check(&key, RotationState::Due));
    log.record(
        Usage::fetch(&KeyId::unread("K")).with_outcome(Outcome::failure(FailureClass::Server)),
    );
    assert!(
        alerts.lock().unwrap().is_empty(),
        "the manager's events fire nothing"
    );
    log.record(ok(&key));
    assert_eq!(
        alerts.lock().unwrap().len(),
        1,
        "used while the manager says due"
    );
    // Fetched again, of unknown age: no longer known to be due.
    log.record(Usage::fetch(&key));
    assert_eq!(log.report().keys[0].rotation, None);
    log.record(ok(&key));
    assert_eq!(alerts.lock().unwrap().len(), 1);
    log.record(Usage::fetch(&key).with_rotation(RotationState::Expired));
    log.record(ok(&key));
    let fired = alerts.lock().unwrap();
    assert_eq!(
        fired.iter().map(Alert::trigger).collect::<Vec<_>>(),
        [
            Trigger::Rotation {
                state: RotationState::Due
            },
            Trigger::Rotation {
                state: RotationState::Expired
            }
        ]
    );
}

#[cfg(feature = "serde")]
#[test]
fn the_managers_events_serialize_with_their_kind() {
    let log = UsageLog::new();
    let key = KeyId::new("K", &fake_value("Ab3d"));
    log.record(Usage::fetch(&key));
    log.record(Usage::rotation_check(&key, RotationState::DueSoon));
    log.record(ok(&key));
    let kinds: Vec<serde_json::Value> = log
        .recent()
        .into_iter()
        .map(|event| serde_json::to_value(event).unwrap()["kind"].clone())
        .collect();
    assert_eq!(kinds, ["fetch", "rotation_check", "use"]);
    let json = serde_json::to_value(log.report()).unwrap();
    assert_eq!(json["manager"]["fetches"], 1);
    assert_eq!(json["manager"]["rotation_checks"], 1);
    assert_eq!(json["keys"][0]["manager"]["fetches"], 1);
    assert_eq!(json["total"]["uses"], 1);
}

/// The limits are associated constants, and they are the defaults a log works with.
#[test]
fn default_limits_are_the_associated_constants() {
    let log = UsageLog::new();
    let key = KeyId::new("K", &fake_value("Ab3d"));
    for _ in 0..UsageLog::DEFAULT_CAPACITY + 5 {
        log.record(ok(&key));
    }
    assert_eq!(log.recent().len(), UsageLog::DEFAULT_CAPACITY);
    for i in 0..UsageLog::DEFAULT_MAX_NAMES + 3 {
        log.record(Usage::new(&KeyId::unread(format!("KEY_{i}")), "a", "op"));
    }
    let report = log.report();
    assert_eq!(
        report.keys.len(),
        UsageLog::DEFAULT_MAX_NAMES + 1,
        "one overflow row"
    );
    assert!(report.keys.last().unwrap().overflow);
    assert_eq!(UsageLog::DEFAULT_ALERT_COOLDOWN, Duration::from_secs(60));

    let limit = AlertRule::MAX_WINDOW_CALLS;
    let minute = Duration::from_secs(60);
    let with = |rule| UsageLog::builder().with_rule(rule).on_alert(|_| {}).build();
    assert!(with(AlertRule::burst(limit - 1, minute)).is_ok());
    assert!(with(AlertRule::burst(limit, minute)).is_err());
    assert!(with(AlertRule::failure_rate(0.5, minute, limit)).is_ok());
    assert!(with(AlertRule::failure_rate(0.5, minute, limit + 1)).is_err());
}

/// Setters only record: the same settings in any order build the same log, and a bad one is
/// reported by `build` wherever it stands.
#[test]
fn the_order_of_usage_log_setters_does_not_matter() {
    let clock = clock();
    type Setter = Box<dyn Fn(UsageLogBuilder) -> UsageLogBuilder>;
    let setters: Vec<Setter> = vec![
        Box::new({
            let clock = clock.clone();
            move |b| b.with_clock(clock.clone())
        }),
        Box::new(|b| b.with_rule(AlertRule::EveryFailure)),
        Box::new(|b| b.on_alert(|_| {})),
        Box::new(|b| b.with_alert_cooldown(Duration::from_secs(5))),
        Box::new(|b| b.with_capacity(7)),
        Box::new(|b| b.with_max_keys(2)),
        Box::new(|b| b.with_max_operations(3)),
        Box::new(|b| b.with_max_agents(4)),
    ];
    let build = |order: &[usize], bad: Option<usize>| {
        let mut builder = UsageLog::builder();
        for (position, index) in order.iter().enumerate() {
            if bad == Some(position) {
                builder = builder.with_rule(AlertRule::burst(0, Duration::from_secs(1)));
            }
            builder = setters[*index](builder);
        }
        builder.build().map(|log| format!("{log:?}"))
    };
    let mut order: Vec<usize> = (0..setters.len()).collect();
    let expected = build(&order, None).unwrap();
    for round in 0..setters.len() {
        order.rotate_left(3);
        order.swap(round, setters.len() - 1 - round);
        assert_eq!(build(&order, None).unwrap(), expected, "{order:?}");
        let err = build(&order, Some(round)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    // A cooldown too long to add to a time is refused by `build`, naming it.
    let err = UsageLog::builder()
        .with_alert_cooldown(Duration::MAX)
        .build()
        .unwrap_err();
    assert!(
        err.to_string().starts_with("the alert cooldown of "),
        "{err}"
    );
}
