//! Alert rules, the alerts they raise, and the sinks alerts go to.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::clock::{saturating_span, span};
use crate::error::{Error, ErrorKind, Result};
use crate::mask::Fingerprint;

use super::event::{FailureClass, KeyId, Outcome, RotationState, Usage};

/// How many of the most recent calls in its window [`AlertRule::FailureRate`] looks at, unless its
/// `min_calls` asks for more: enough for a stable rate, small enough for many keys.
const FAILURE_RATE_SAMPLE: u64 = 1024;

/// When the usage log raises an [`Alert`].
///
/// Every rule fires at most once per cooldown for a given key, so that a failing key does not
/// flood the sinks: the cooldown is the rule's window for the windowed rules, and the log's
/// [`alert_cooldown`](crate::usage::UsageLogBuilder::with_alert_cooldown) for the others. Matches
/// suppressed by the cooldown are counted in the next alert's
/// [`suppressed`](Alert::suppressed). Keys beyond the log's
/// [`max_keys`](crate::usage::UsageLogBuilder::with_max_keys) share one window and one cooldown, as
/// they share the overflow row of the report.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case", tag = "rule"))]
#[non_exhaustive]
pub enum AlertRule {
    /// Any failed call. Noisy for keys that fail now and then, so not on unless asked for.
    EveryFailure,
    /// The share of failed calls for a key within the last `window` is above `threshold`,
    /// once at least `min_calls` calls were made in it. Checked when a call fails, over the most
    /// recent calls in the window: 1024 of them, or `min_calls` if that is more.
    FailureRate {
        /// The share of failures, from 0 up to (not including) 1, that is too high.
        threshold: f64,
        /// How far back to look.
        #[cfg_attr(feature = "serde", serde(with = "duration_secs"))]
        window: Duration,
        /// How many calls the window needs before a rate means anything.
        min_calls: u64,
    },
    /// More than `max_calls` calls with a key within `window`: a loop in an agent, or a stolen
    /// key.
    Burst {
        /// The most calls that are normal within the window.
        max_calls: u64,
        /// How far back to look.
        #[cfg_attr(feature = "serde", serde(with = "duration_secs"))]
        window: Duration,
    },
    /// A key used while it is due for rotation or expired, as told by the use
    /// ([`Usage::with_rotation`]) or else by the last rotation state the log learnt for the key
    /// (from an earlier use, or from the key manager's fetches and rotation checks).
    RotationDue,
    /// A scope refused a key or an operation.
    Denied,
}

impl AlertRule {
    /// The most calls a sliding window remembers per key and rule, which bounds the memory of
    /// [`AlertRule::FailureRate`] and [`AlertRule::Burst`] (16 bytes a call).
    pub const MAX_WINDOW_CALLS: u64 = 4096;

    /// [`AlertRule::FailureRate`]: alert when more than `threshold` of at least `min_calls`
    /// calls within `window` failed.
    pub fn failure_rate(threshold: f64, window: Duration, min_calls: u64) -> AlertRule {
        AlertRule::FailureRate {
            threshold,
            window,
            min_calls,
        }
    }

    /// [`AlertRule::Burst`]: alert when more than `max_calls` calls are made within `window`.
    pub fn burst(max_calls: u64, window: Duration) -> AlertRule {
        AlertRule::Burst { max_calls, window }
    }

    /// A short lowercase name of the rule, stable for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            AlertRule::EveryFailure => "every failure",
            AlertRule::FailureRate { .. } => "failure rate",
            AlertRule::Burst { .. } => "burst",
            AlertRule::RotationDue => "rotation due",
            AlertRule::Denied => "denied",
        }
    }

    pub(super) fn validate(&self) -> Result<()> {
        let invalid = |problem: String| {
            Err(Error::new(
                ErrorKind::InvalidInput,
                format!("invalid alert rule `{}`: {problem}", self.name()),
            ))
        };
        match *self {
            AlertRule::FailureRate {
                threshold,
                window,
                min_calls,
            } => {
                if !(0.0..1.0).contains(&threshold) {
                    return invalid(format!(
                        "the threshold must be at least 0 and below 1, not {threshold}"
                    ));
                }
                check_window(window).or_else(invalid)?;
                if min_calls == 0 || min_calls > AlertRule::MAX_WINDOW_CALLS {
                    return invalid(format!(
                        "min_calls must be from 1 to {}, not {min_calls}",
                        AlertRule::MAX_WINDOW_CALLS
                    ));
                }
            }
            AlertRule::Burst { max_calls, window } => {
                check_window(window).or_else(invalid)?;
                if max_calls == 0 || max_calls >= AlertRule::MAX_WINDOW_CALLS {
                    return invalid(format!(
                        "max_calls must be from 1 to {}, not {max_calls}",
                        AlertRule::MAX_WINDOW_CALLS - 1
                    ));
                }
            }
            AlertRule::EveryFailure | AlertRule::RotationDue | AlertRule::Denied => {}
        }
        Ok(())
    }

    /// The window of a windowed rule.
    fn window(&self) -> Option<Duration> {
        match *self {
            AlertRule::FailureRate { window, .. } | AlertRule::Burst { window, .. } => Some(window),
            _ => None,
        }
    }

    /// How many calls the rule's window must remember.
    fn window_capacity(&self) -> usize {
        let calls = match *self {
            AlertRule::FailureRate { min_calls, .. } => min_calls.max(FAILURE_RATE_SAMPLE),
            // One more than the limit is all it takes to know the limit is exceeded.
            AlertRule::Burst { max_calls, .. } => max_calls + 1,
            _ => 0,
        };
        usize::try_from(calls).unwrap_or(usize::MAX)
    }
}

fn check_window(window: Duration) -> std::result::Result<(), String> {
    if window.is_zero() {
        return Err("the window must not be zero".to_owned());
    }
    span("the window", window).map_err(|err| err.message().to_owned())?;
    Ok(())
}

impl fmt::Display for AlertRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AlertRule::FailureRate {
                threshold,
                window,
                min_calls,
            } => write!(
                f,
                "failure rate above {:.1}% within {window:?} (at least {min_calls} calls)",
                threshold * 100.0
            ),
            AlertRule::Burst { max_calls, window } => {
                write!(f, "more than {max_calls} calls within {window:?}")
            }
            _ => f.write_str(self.name()),
        }
    }
}

/// What made a rule fire: the numbers behind an [`Alert`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case", tag = "trigger"))]
#[non_exhaustive]
pub enum Trigger {
    /// A call failed.
    Failure {
        /// Why.
        class: FailureClass,
    },
    /// `failures` of the last `calls` calls within the window failed.
    FailureRate {
        /// Failed calls within the window.
        failures: u64,
        /// Calls within the window (the most recent ones, when there were very many).
        calls: u64,
    },
    /// `calls` calls were made within the window.
    Burst {
        /// Calls within the window.
        calls: u64,
    },
    /// The key was used while due or expired.
    Rotation {
        /// Which.
        state: RotationState,
    },
    /// A scope refused the key or the operation.
    Denied,
}

/// An alert raised by the usage log: which rule, which key, and the numbers that fired it.
///
/// It carries the key's label, fingerprint and masked preview, never its value. With feature
/// `serde` it serializes (for a webhook, say) with the rule, the trigger's numbers, the key, the
/// agent, the operation and the `message` that `Display` prints.
#[derive(Debug, Clone)]
pub struct Alert {
    rule: AlertRule,
    trigger: Trigger,
    time: DateTime<Utc>,
    key: KeyId,
    agent: Arc<str>,
    operation: Arc<str>,
    suppressed: u64,
}

impl Alert {
    /// The rule that fired.
    pub fn rule(&self) -> &AlertRule {
        &self.rule
    }

    /// The numbers that fired it.
    pub fn trigger(&self) -> Trigger {
        self.trigger
    }

    /// When it fired, by the log's clock.
    pub fn time(&self) -> DateTime<Utc> {
        self.time
    }

    /// The key's label, fingerprint and preview.
    pub fn key(&self) -> &KeyId {
        &self.key
    }

    /// The key's name.
    pub fn label(&self) -> &str {
        self.key.label()
    }

    /// The fingerprint of the key's value, if it was read (not for denials).
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        self.key.fingerprint()
    }

    /// The agent whose use fired the rule.
    pub fn agent(&self) -> &str {
        &self.agent
    }

    /// The operation of the use that fired the rule.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// How many times the rule matched for this key since its previous alert without firing,
    /// held back by the cooldown.
    pub fn suppressed(&self) -> u64 {
        self.suppressed
    }
}

impl fmt::Display for Alert {
    /// One line for a person, e.g. `failure rate: 3 of 4 calls failed (75.0%) within 60s,
    /// above 50.0% - key OPENAI_API_KEY (fp 1a2b3c4d5e6f7a8b), agent researcher, operation chat`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.rule.name())?;
        match (self.trigger, &self.rule) {
            (Trigger::Failure { class }, _) => write!(f, "call failed ({class})")?,
            (
                Trigger::FailureRate { failures, calls },
                AlertRule::FailureRate {
                    threshold, window, ..
                },
            ) => write!(
                f,
                "{failures} of {calls} calls failed ({:.1}%) within {window:?}, above {:.1}%",
                ratio(failures, calls) * 100.0,
                threshold * 100.0
            )?,
            (Trigger::Burst { calls }, AlertRule::Burst { max_calls, window }) => write!(
                f,
                "{calls} calls within {window:?}, more than the {max_calls} allowed"
            )?,
            (Trigger::Rotation { state }, _) => write!(f, "key used while {state}")?,
            (Trigger::Denied, _) => f.write_str("scope refused the key")?,
            (trigger, _) => write!(f, "{trigger:?}")?,
        }
        write!(f, " - key {}", self.key.label().escape_debug())?;
        if let Some(fingerprint) = self.key.fingerprint() {
            write!(f, " (fp {fingerprint})")?;
        }
        write!(
            f,
            ", agent {}, operation {}",
            self.agent.escape_debug(),
            self.operation.escape_debug()
        )?;
        if self.suppressed > 0 {
            write!(f, " ({} more held back by the cooldown)", self.suppressed)?;
        }
        Ok(())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Alert {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;

        let mut alert = serializer.serialize_struct("Alert", 9)?;
        alert.serialize_field("rule", &self.rule)?;
        alert.serialize_field("trigger", &self.trigger)?;
        alert.serialize_field("time", &self.time)?;
        alert.serialize_field("key", self.label())?;
        alert.serialize_field("fingerprint", &self.fingerprint())?;
        alert.serialize_field("agent", self.agent())?;
        alert.serialize_field("operation", self.operation())?;
        alert.serialize_field("suppressed", &self.suppressed)?;
        alert.serialize_field("message", &self.to_string())?;
        alert.end()
    }
}

#[allow(clippy::cast_precision_loss)] // counts far below 2^52
pub(super) fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Where alerts go: a pager, a channel, a log.
///
/// Any `Fn(&Alert) + Send + Sync` closure is a sink. Sinks are called after the log's lock is
/// released, on the thread that recorded the use, so keep them quick (hand the alert to a
/// channel for slow work); a sink may record to the log itself.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use keyward::UsageLog;
/// use keyward::usage::{Alert, AlertRule, KeyId, Outcome, Usage};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = Arc::clone(&seen);
/// let log = UsageLog::builder()
///     .with_rule(AlertRule::Denied)
///     .with_sink(move |alert: &Alert| sink.lock().unwrap().push(alert.to_string()))
///     .build()?;
/// log.record(Usage::new(&KeyId::unread("AWS_SECRET"), "researcher", "read").with_outcome(Outcome::Denied));
/// assert_eq!(seen.lock().unwrap().len(), 1);
/// # Ok::<(), keyward::Error>(())
/// ```
pub trait AlertSink: Send + Sync {
    /// Receives one alert.
    fn alert(&self, alert: &Alert);
}

impl<F: Fn(&Alert) + Send + Sync> AlertSink for F {
    fn alert(&self, alert: &Alert) {
        self(alert);
    }
}

/// Sends each alert as a `tracing` event at `WARN` level, target `keyward::usage`, with the rule,
/// key, fingerprint, agent and operation as fields.
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingAlertSink;

#[cfg(feature = "tracing")]
impl AlertSink for TracingAlertSink {
    fn alert(&self, alert: &Alert) {
        let fingerprint = alert
            .fingerprint()
            .map(|fingerprint| fingerprint.to_string());
        tracing::warn!(
            target: "keyward::usage",
            rule = alert.rule().name(),
            key = alert.label(),
            fingerprint = fingerprint.as_deref().unwrap_or("-"),
            agent = alert.agent(),
            operation = alert.operation(),
            suppressed = alert.suppressed(),
            "{alert}"
        );
    }
}

/// Per key and rule: the sliding window of recent calls and the cooldown.
#[derive(Debug, Default)]
pub(super) struct RuleState {
    /// (time, failed) of recent calls, oldest first.
    window: VecDeque<(DateTime<Utc>, bool)>,
    failures_in_window: u64,
    last_fired: Option<DateTime<Utc>>,
    suppressed: u64,
}

impl RuleState {
    fn push_call(&mut self, now: DateTime<Utc>, window: TimeDelta, capacity: usize, failed: bool) {
        // A window reaching past the first representable time covers everything.
        let start = now
            .checked_sub_signed(window)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        while let Some(&(time, old_failed)) = self.window.front() {
            if time > start && self.window.len() < capacity {
                break;
            }
            self.window.pop_front();
            self.failures_in_window -= u64::from(old_failed);
        }
        if capacity > 0 {
            self.window.push_back((now, failed));
            self.failures_in_window += u64::from(failed);
        }
    }

    fn calls_in_window(&self) -> u64 {
        self.window.len() as u64
    }

    /// Whether a match at `now` may fire, or is held back by the cooldown (and counted).
    fn may_fire(&mut self, now: DateTime<Utc>, cooldown: TimeDelta) -> Option<u64> {
        if let Some(last) = self.last_fired
            && now >= last
            // A cooldown reaching past the last representable time never ends.
            && last.checked_add_signed(cooldown).is_none_or(|end| now < end)
        {
            self.suppressed += 1;
            return None;
        }
        self.last_fired = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// The configured rules, ready to be evaluated.
#[derive(Debug, Clone)]
pub(super) struct Rules {
    rules: Vec<(AlertRule, TimeDelta)>,
    cooldown: TimeDelta,
}

impl Rules {
    pub(super) fn empty() -> Rules {
        Rules {
            rules: Vec::new(),
            cooldown: TimeDelta::zero(),
        }
    }

    pub(super) fn new(rules: Vec<AlertRule>, cooldown: Duration) -> Result<Rules> {
        let cooldown = span("the alert cooldown", cooldown)?;
        let rules = rules
            .into_iter()
            .map(|rule| {
                rule.validate()?;
                let window = rule.window().map_or(TimeDelta::zero(), saturating_span);
                Ok((rule, window))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Rules { rules, cooldown })
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub(super) fn len(&self) -> usize {
        self.rules.len()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &AlertRule> {
        self.rules.iter().map(|(rule, _)| rule)
    }

    /// Evaluates every rule for one use at `now` of a key in rotation state `rotation`,
    /// updating `states` (one per rule), and pushes the alerts that fire. Only an agent's uses
    /// come here, never the key manager's events.
    pub(super) fn evaluate(
        &self,
        now: DateTime<Utc>,
        usage: &Usage,
        rotation: Option<RotationState>,
        states: &mut Vec<RuleState>,
        alerts: &mut Vec<Alert>,
    ) {
        debug_assert!(usage.kind.is_use(), "the rules look at uses only");
        if states.len() < self.rules.len() {
            states.resize_with(self.rules.len(), RuleState::default);
        }
        let is_call = !matches!(usage.outcome, Outcome::Denied);
        let failed = usage.outcome.is_failure();
        for ((rule, window), state) in self.rules.iter().zip(states.iter_mut()) {
            let trigger = match *rule {
                AlertRule::EveryFailure => match usage.outcome {
                    Outcome::Failure { class } => Some(Trigger::Failure { class }),
                    _ => None,
                },
                AlertRule::FailureRate {
                    threshold,
                    min_calls,
                    ..
                } if is_call => {
                    state.push_call(now, *window, rule.window_capacity(), failed);
                    let calls = state.calls_in_window();
                    let failures = state.failures_in_window;
                    (failed && calls >= min_calls && ratio(failures, calls) > threshold)
                        .then_some(Trigger::FailureRate { failures, calls })
                }
                AlertRule::Burst { max_calls, .. } if is_call => {
                    state.push_call(now, *window, rule.window_capacity(), failed);
                    let calls = state.calls_in_window();
                    (calls > max_calls).then_some(Trigger::Burst { calls })
                }
                AlertRule::RotationDue if is_call => rotation
                    .filter(|state| state.needs_rotation())
                    .map(|state| Trigger::Rotation { state }),
                AlertRule::Denied if !is_call => Some(Trigger::Denied),
                _ => None,
            };
            let Some(trigger) = trigger else { continue };
            let cooldown = if rule.window().is_some() {
                *window
            } else {
                self.cooldown
            };
            if let Some(suppressed) = state.may_fire(now, cooldown) {
                alerts.push(Alert {
                    rule: rule.clone(),
                    trigger,
                    time: now,
                    key: usage.key.clone(),
                    agent: Arc::clone(&usage.agent),
                    operation: Arc::clone(&usage.operation),
                    suppressed,
                });
            }
        }
    }
}

#[cfg(feature = "serde")]
mod duration_secs {
    use std::time::Duration;

    pub(super) fn serialize<S: serde::Serializer>(
        window: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(window.as_secs_f64())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rules_with_impossible_numbers_are_refused() {
        let minute = Duration::from_secs(60);
        for bad in [
            AlertRule::failure_rate(1.0, minute, 5),
            AlertRule::failure_rate(-0.1, minute, 5),
            AlertRule::failure_rate(f64::NAN, minute, 5),
            AlertRule::failure_rate(0.5, Duration::ZERO, 5),
            AlertRule::failure_rate(0.5, minute, 0),
            AlertRule::burst(0, minute),
            AlertRule::burst(AlertRule::MAX_WINDOW_CALLS, minute),
            AlertRule::burst(10, Duration::MAX),
        ] {
            let err = bad.validate().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        }
        assert!(AlertRule::failure_rate(0.0, minute, 1).validate().is_ok());
    }

    #[test]
    fn huge_windows_and_cooldowns_do_not_overflow() {
        let now = DateTime::<Utc>::MAX_UTC - TimeDelta::days(1);
        let huge = TimeDelta::from_std(Duration::from_secs(9_000_000_000_000)).unwrap();
        let mut state = RuleState::default();
        state.push_call(now, huge, 4, true);
        state.push_call(now, huge, 4, false);
        assert_eq!(state.calls_in_window(), 2);
        assert_eq!(state.may_fire(now, huge), Some(0));
        assert_eq!(state.may_fire(now + TimeDelta::hours(1), huge), None);
        assert_eq!(state.suppressed, 1);
    }

    #[test]
    fn window_drops_calls_that_are_too_old_or_too_many() {
        let start = DateTime::<Utc>::UNIX_EPOCH;
        let mut state = RuleState::default();
        let window = TimeDelta::seconds(10);
        for second in 0..5 {
            state.push_call(
                start + TimeDelta::seconds(second),
                window,
                3,
                second % 2 == 0,
            );
        }
        // capacity 3: calls at 2, 3, 4 remain; 2 and 4 failed
        assert_eq!(state.calls_in_window(), 3);
        assert_eq!(state.failures_in_window, 2);
        state.push_call(start + TimeDelta::seconds(14), window, 3, false);
        // the window is (4, 14]: only the new call remains
        assert_eq!(state.calls_in_window(), 1);
        assert_eq!(state.failures_in_window, 0);
    }

    #[cfg(feature = "tracing")]
    #[test]
    fn tracing_sink_emits_a_warning_with_the_alert_fields() {
        use std::sync::Mutex;
        use tracing::field::{Field, Visit};
        use tracing::span::{Attributes, Id, Record};
        use tracing::{Event, Level, Metadata, Subscriber};

        type Captured = Vec<(Level, String, Vec<(String, String)>)>;

        struct Capture(Arc<Mutex<Captured>>);

        struct Fields(Vec<(String, String)>);

        impl Visit for Fields {
            fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
                self.0.push((field.name().to_owned(), format!("{value:?}")));
            }
        }

        impl Subscriber for Capture {
            fn enabled(&self, _: &Metadata<'_>) -> bool {
                true
            }
            fn new_span(&self, _: &Attributes<'_>) -> Id {
                Id::from_u64(1)
            }
            fn record(&self, _: &Id, _: &Record<'_>) {}
            fn record_follows_from(&self, _: &Id, _: &Id) {}
            fn event(&self, event: &Event<'_>) {
                let mut fields = Fields(Vec::new());
                event.record(&mut fields);
                let meta = event.metadata();
                self.0
                    .lock()
                    .unwrap()
                    .push((*meta.level(), meta.target().to_owned(), fields.0));
            }
            fn enter(&self, _: &Id) {}
            fn exit(&self, _: &Id) {}
        }

        let value = crate::SecretString::from(format!("sk-proj-{}", "Ab3d".repeat(10)));
        let alert = Alert {
            rule: AlertRule::burst(5, Duration::from_secs(10)),
            trigger: Trigger::Burst { calls: 6 },
            time: DateTime::<Utc>::UNIX_EPOCH,
            key: KeyId::new("OPENAI_API_KEY", &value),
            agent: Arc::from("researcher"),
            operation: Arc::from("chat"),
            suppressed: 0,
        };
        let captured = Arc::new(Mutex::new(Vec::new()));
        tracing::subscriber::with_default(Capture(Arc::clone(&captured)), || {
            TracingAlertSink.alert(&alert);
        });

        let captured = captured.lock().unwrap();
        assert_eq!(captured.len(), 1);
        let (level, target, fields) = &captured[0];
        assert_eq!(*level, Level::WARN);
        assert_eq!(target, "keyward::usage");
        let field = |name: &str| {
            fields
                .iter()
                .find(|(field, _)| field == name)
                .map(|(_, value)| value.clone())
                .unwrap_or_default()
        };
        assert_eq!(field("rule"), "\"burst\"");
        assert_eq!(field("key"), "\"OPENAI_API_KEY\"");
        assert_eq!(field("fingerprint"), format!("\"{}\"", value.fingerprint()));
        assert!(
            field("message").contains("6 calls within 10s"),
            "{fields:?}"
        );
        assert!(!format!("{fields:?}").contains(value.expose_secret()));
    }
}
