//! [`UsageLog`]: the record itself, and how one event is counted.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::alert::{RuleState, Rules};
use super::report::{Counters, OVERFLOW};
use super::table::Table;
use super::{
    Alert, AlertRule, AlertSink, EventKind, KeyUsage, ManagerStats, Outcome, RotationState, Usage,
    UsageEvent, UsageReport,
};
use crate::clock::{Clock, SystemClock};
use crate::mask::Fingerprint;

/// A thread-safe, bounded record of how keys are used, with alert rules.
///
/// Share it as `Arc<UsageLog>`. Recording takes one short lock: it updates counters, appends to
/// a ring buffer and evaluates the rules; alert sinks are called after the lock is released.
/// A use costs a few hundred nanoseconds (see `docs/benchmarks.md`), nothing next to an API
/// call; the single lock means two threads record no faster than one.
///
/// # Memory
///
/// Bounded by the limits, whatever the number of uses: at most
/// [`capacity`](super::UsageLogBuilder::with_capacity) events; at most
/// [`max_keys`](super::UsageLogBuilder::with_max_keys), `max_agents` and `max_operations` rows plus
/// one overflow row each; names cut at [`MAX_KEY_NAME_LEN`](crate::provider::MAX_KEY_NAME_LEN)
/// bytes; and for each tracked key and windowed rule, a window of at most
/// [`AlertRule::MAX_WINDOW_CALLS`] calls of 16 bytes.
///
/// ```
/// use std::time::Duration;
/// use keyward::{SecretString, UsageLog};
/// use keyward::usage::{AlertRule, FailureClass, KeyId, Outcome, Usage};
///
/// let log = UsageLog::builder()
///     .with_rule(AlertRule::failure_rate(0.5, Duration::from_secs(300), 4))
///     .on_alert(|alert| eprintln!("ALERT {alert}"))
///     .build()?;
///
/// let value = SecretString::from(format!("sk-proj-{}", "Ab3d".repeat(10)));
/// let key = KeyId::new("OPENAI_API_KEY", &value);
/// log.record(Usage::new(&key, "researcher", "chat"));
/// log.record(Usage::new(&key, "researcher", "chat").with_outcome(Outcome::failure(FailureClass::Server)));
///
/// let report = log.report();
/// assert_eq!(report.total.uses, 2);
/// assert_eq!(report.keys[0].label, "OPENAI_API_KEY");
/// println!("{report}");
/// # Ok::<(), keyward::Error>(())
/// ```
pub struct UsageLog {
    clock: Arc<dyn Clock>,
    rules: Rules,
    sinks: Vec<Box<dyn AlertSink>>,
    capacity: usize,
    state: Mutex<State>,
}

/// The bounds of a log's memory, set by the [`UsageLogBuilder`](super::UsageLogBuilder).
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) capacity: usize,
    pub(super) max_keys: usize,
    pub(super) max_operations: usize,
    pub(super) max_agents: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            capacity: UsageLog::DEFAULT_CAPACITY,
            max_keys: UsageLog::DEFAULT_MAX_NAMES,
            max_operations: UsageLog::DEFAULT_MAX_NAMES,
            max_agents: UsageLog::DEFAULT_MAX_NAMES,
        }
    }
}

impl UsageLog {
    /// The default number of recent events a log keeps whole.
    pub const DEFAULT_CAPACITY: usize = 1024;
    /// The default number of distinct keys, agents and operations a log counts separately.
    pub const DEFAULT_MAX_NAMES: usize = 256;
    /// The default cooldown of the rules without a window.
    pub const DEFAULT_ALERT_COOLDOWN: Duration = Duration::from_secs(60);

    /// A log with the system clock, the default limits, and no alert rules.
    pub fn new() -> UsageLog {
        UsageLog::with_parts(
            Arc::new(SystemClock),
            Rules::empty(),
            Vec::new(),
            Limits::default(),
        )
    }

    pub(super) fn with_parts(
        clock: Arc<dyn Clock>,
        rules: Rules,
        sinks: Vec<Box<dyn AlertSink>>,
        limits: Limits,
    ) -> UsageLog {
        UsageLog {
            clock,
            rules,
            sinks,
            capacity: limits.capacity,
            state: Mutex::new(State {
                totals: Counters::default(),
                manager: ManagerStats::default(),
                keys: Table::new(limits.max_keys),
                operations: Table::new(limits.max_operations),
                agents: Table::new(limits.max_agents),
                recent: VecDeque::with_capacity(limits.capacity.min(UsageLog::DEFAULT_CAPACITY)),
                since: None,
                until: None,
            }),
        }
    }

    /// Records one use, stamped with the log's clock, and sends any alert it fires to the sinks.
    pub fn record(&self, usage: Usage) {
        let now = self.clock.now();
        let mut alerts = Vec::new();
        {
            let mut state = self.lock();
            state.add(now, &usage, &self.rules, &mut alerts);
            if self.capacity > 0 {
                if state.recent.len() >= self.capacity {
                    state.recent.pop_front();
                }
                state.recent.push_back(UsageEvent::new(now, usage));
            }
        }
        for alert in &alerts {
            for sink in &self.sinks {
                sink.alert(alert);
            }
        }
    }

    /// The time by the log's clock: for callers timing a call themselves.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The most recent events, oldest first: at most
    /// [`capacity`](super::UsageLogBuilder::with_capacity).
    pub fn recent(&self) -> Vec<UsageEvent> {
        self.lock().recent.iter().cloned().collect()
    }

    /// The totals, and counts per key, operation and agent, since the log was made.
    pub fn report(&self) -> UsageReport {
        let state = self.lock();
        let mut keys: Vec<KeyUsage> = state
            .keys
            .entries
            .iter()
            .map(|(label, key)| key.usage(label, false))
            .collect();
        keys.sort_by(|a, b| a.label.cmp(&b.label));
        keys.extend(
            state
                .keys
                .overflow
                .as_ref()
                .map(|key| key.usage(OVERFLOW, true)),
        );
        UsageReport {
            since: state.since,
            until: state.until,
            total: state.totals.stats(),
            manager: state.manager,
            keys,
            operations: state.operations.named(),
            agents: state.agents.named(),
        }
    }

    /// The alert rules in force.
    pub fn rules(&self) -> impl Iterator<Item = &AlertRule> {
        self.rules.iter()
    }

    /// Whether any alert rule is active and has somewhere to send its alerts.
    pub fn is_alerting(&self) -> bool {
        !self.rules.is_empty() && !self.sinks.is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Counters stay meaningful after a panic elsewhere: recover rather than poison every
        // later use of the key.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for UsageLog {
    fn default() -> UsageLog {
        UsageLog::new()
    }
}

impl fmt::Debug for UsageLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsageLog")
            .field("clock", &self.clock)
            .field("rules", &self.rules.len())
            .field("sinks", &self.sinks.len())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

pub(super) struct State {
    totals: Counters,
    manager: ManagerStats,
    keys: Table<KeyState>,
    operations: Table<Counters>,
    agents: Table<Counters>,
    recent: VecDeque<UsageEvent>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

impl State {
    /// Counts `usage` where its kind belongs: an agent's use in the use counters, where the
    /// alert rules see it; the key manager's fetch or rotation check apart, where they do not.
    fn add(&mut self, now: DateTime<Utc>, usage: &Usage, rules: &Rules, alerts: &mut Vec<Alert>) {
        let (key, overflow) = self.keys.entry_or_overflow(usage.key.label_arc());
        if let Some(fingerprint) = usage.key.fingerprint() {
            key.fingerprint = Some(fingerprint);
            if key.masked.as_deref() != usage.key.masked() {
                key.masked = usage.key.masked().map(str::to_owned);
            }
        }
        // A successful fetch read the key, so it knows the state, none for a key of unknown age;
        // any other event tells it only when it says it.
        let fetched = usage.kind == EventKind::Fetch && usage.outcome == Outcome::Success;
        if usage.rotation.is_some() || fetched {
            key.rotation = usage.rotation;
        }
        if usage.kind.is_use() {
            self.totals.add(usage);
            self.operations.entry(&usage.operation).add(usage);
            self.agents.entry(&usage.agent).add(usage);
            key.counters.add(usage);
            key.last_used = Some(now);
            if !rules.is_empty() {
                // The overflow row mixes keys: its state may be another key's.
                let rotation = if overflow {
                    usage.rotation
                } else {
                    key.rotation
                };
                rules.evaluate(now, usage, rotation, &mut key.rules, alerts);
            }
        } else {
            self.manager.add(usage);
            key.manager.add(usage);
        }
        self.since.get_or_insert(now);
        self.until = Some(now);
    }
}

/// What the log knows of one key (or of the overflow row).
#[derive(Default)]
pub(super) struct KeyState {
    counters: Counters,
    fingerprint: Option<Fingerprint>,
    masked: Option<String>,
    rotation: Option<RotationState>,
    last_used: Option<DateTime<Utc>>,
    manager: ManagerStats,
    rules: Vec<RuleState>,
}

impl KeyState {
    fn usage(&self, label: &str, overflow: bool) -> KeyUsage {
        KeyUsage {
            label: label.to_owned(),
            overflow,
            // The overflow row mixes keys: a fingerprint would name one of them.
            fingerprint: self.fingerprint.filter(|_| !overflow),
            masked: self.masked.clone().filter(|_| !overflow),
            rotation: self.rotation.filter(|_| !overflow),
            last_used: self.last_used,
            stats: self.counters.stats(),
            manager: self.manager,
        }
    }
}
