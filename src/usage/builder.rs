//! [`UsageLogBuilder`]: the rules, sinks, clock and limits of a [`UsageLog`], checked by `build`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::alert::Rules;
use super::log::Limits;
use super::{Alert, AlertRule, AlertSink, UsageLog};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, ErrorKind, Result};

/// Builds a [`UsageLog`]; see [`UsageLog::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct UsageLogBuilder {
    clock: Arc<dyn Clock>,
    rules: Vec<AlertRule>,
    sinks: Vec<Box<dyn AlertSink>>,
    cooldown: Duration,
    limits: Limits,
}

impl Default for UsageLogBuilder {
    fn default() -> UsageLogBuilder {
        UsageLogBuilder {
            clock: Arc::new(SystemClock),
            rules: Vec::new(),
            sinks: Vec::new(),
            cooldown: UsageLog::DEFAULT_ALERT_COOLDOWN,
            limits: Limits::default(),
        }
    }
}

impl UsageLog {
    /// Starts a log with rules, sinks, a clock or limits of your own.
    pub fn builder() -> UsageLogBuilder {
        UsageLogBuilder::default()
    }
}

impl UsageLogBuilder {
    /// Takes the time from `clock` (a [`ManualClock`](crate::clock::ManualClock) in tests).
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> UsageLogBuilder {
        self.clock = Arc::new(clock);
        self
    }

    /// Adds an alert rule.
    pub fn with_rule(mut self, rule: AlertRule) -> UsageLogBuilder {
        self.rules.push(rule);
        self
    }

    /// Adds a sink that receives every alert.
    pub fn with_sink(mut self, sink: impl AlertSink + 'static) -> UsageLogBuilder {
        self.sinks.push(Box::new(sink));
        self
    }

    /// Adds a closure as a sink; unlike [`with_sink`](UsageLogBuilder::with_sink), the closure's
    /// argument type needs no annotation.
    ///
    /// ```
    /// use keyward::UsageLog;
    /// use keyward::usage::AlertRule;
    ///
    /// let log = UsageLog::builder()
    ///     .with_rule(AlertRule::Denied)
    ///     .on_alert(|alert| eprintln!("keyward alert: {alert}"))
    ///     .build()?;
    /// assert!(log.is_alerting());
    /// # Ok::<(), keyward::Error>(())
    /// ```
    pub fn on_alert(self, sink: impl Fn(&Alert) + Send + Sync + 'static) -> UsageLogBuilder {
        self.with_sink(sink)
    }

    /// How long a rule without a window stays quiet for a key after it fired
    /// ([`UsageLog::DEFAULT_ALERT_COOLDOWN`] unless set; zero for no cooldown).
    pub fn with_alert_cooldown(mut self, cooldown: Duration) -> UsageLogBuilder {
        self.cooldown = cooldown;
        self
    }

    /// Keeps the last `capacity` events whole ([`UsageLog::DEFAULT_CAPACITY`] unless set; zero
    /// keeps counters only).
    pub fn with_capacity(mut self, capacity: usize) -> UsageLogBuilder {
        self.limits.capacity = capacity;
        self
    }

    /// Counts at most `max` keys separately; uses of further keys are counted in one overflow
    /// row ([`UsageLog::DEFAULT_MAX_NAMES`] unless set).
    pub fn with_max_keys(mut self, max: usize) -> UsageLogBuilder {
        self.limits.max_keys = max;
        self
    }

    /// Counts at most `max` operations separately, the rest in an overflow row.
    pub fn with_max_operations(mut self, max: usize) -> UsageLogBuilder {
        self.limits.max_operations = max;
        self
    }

    /// Counts at most `max` agents separately, the rest in an overflow row.
    pub fn with_max_agents(mut self, max: usize) -> UsageLogBuilder {
        self.limits.max_agents = max;
        self
    }

    /// Checks the rules and builds the log.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for a rule with impossible numbers (a threshold outside
    /// `0..1`, a zero or overlong window, a burst limit of zero or of
    /// [`AlertRule::MAX_WINDOW_CALLS`] or more), for rules without any sink to send alerts to,
    /// or for a sink without rules.
    pub fn build(self) -> Result<UsageLog> {
        if self.rules.is_empty() != self.sinks.is_empty() {
            let problem = if self.rules.is_empty() {
                "alert sinks were given but no alert rule"
            } else {
                "alert rules were given but no sink to send alerts to"
            };
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("invalid usage log: {problem}"),
            ));
        }
        let rules = Rules::new(self.rules, self.cooldown)?;
        Ok(UsageLog::with_parts(
            self.clock,
            rules,
            self.sinks,
            self.limits,
        ))
    }
}

impl fmt::Debug for UsageLogBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsageLogBuilder")
            .field("clock", &self.clock)
            .field("rules", &self.rules)
            .field("sinks", &self.sinks.len())
            .field("cooldown", &self.cooldown)
            .field("limits", &self.limits)
            .finish()
    }
}
