//! Counters and the report built from them.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::mask::Fingerprint;

use super::alert::ratio;
use super::event::{EventKind, Outcome, RotationState, Usage};

/// Counts for one key, operation or agent, or for everything.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct UsageStats {
    /// Every recorded use, denials included.
    pub uses: u64,
    /// Calls that succeeded.
    pub successes: u64,
    /// Calls that failed.
    pub failures: u64,
    /// Uses a scope refused.
    pub denied: u64,
    /// `failures / (successes + failures)`, 0 when there were no calls; denials are not calls.
    pub failure_rate: f64,
    /// The mean latency of the uses that reported one.
    #[cfg_attr(feature = "serde", serde(serialize_with = "millis"))]
    pub mean_latency: Option<Duration>,
    /// The longest latency reported.
    #[cfg_attr(feature = "serde", serde(serialize_with = "millis"))]
    pub max_latency: Option<Duration>,
}

/// The key manager's own work with a key, or with all keys: fetches from the source and rotation
/// checks ([`EventKind::Fetch`], [`EventKind::RotationCheck`]). Counted apart from the agents'
/// uses, never in them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ManagerStats {
    /// Fetches from the source, failed ones included.
    pub fetches: u64,
    /// Fetches that failed.
    pub failed_fetches: u64,
    /// Rotation status changes the manager announced.
    pub rotation_checks: u64,
}

impl ManagerStats {
    pub(super) fn add(&mut self, usage: &Usage) {
        match usage.kind {
            EventKind::Fetch => {
                self.fetches += 1;
                self.failed_fetches += u64::from(usage.outcome.is_failure());
            }
            EventKind::RotationCheck => self.rotation_checks += 1,
            EventKind::Use => {}
        }
    }

    /// Whether the manager did nothing that was recorded.
    pub fn is_empty(&self) -> bool {
        *self == ManagerStats::default()
    }
}

/// Usage of one key.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct KeyUsage {
    /// The key's name, or `(other)` for the overflow row.
    pub label: String,
    /// Whether this row gathers the keys beyond the log's [`max_keys`](crate::usage::UsageLogBuilder::with_max_keys).
    pub overflow: bool,
    /// The fingerprint of the value last used, if any use read it.
    pub fingerprint: Option<Fingerprint>,
    /// The masked preview of the value last used.
    pub masked: Option<String>,
    /// The rotation state last reported.
    pub rotation: Option<RotationState>,
    /// When an agent last used the key.
    pub last_used: Option<DateTime<Utc>>,
    /// The counts of the agents' uses.
    pub stats: UsageStats,
    /// The key manager's fetches and rotation checks of the key.
    pub manager: ManagerStats,
}

/// Usage by one operation or one agent.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct NamedUsage {
    /// The operation or agent, or `(other)` for the overflow row.
    pub name: String,
    /// Whether this row gathers the names beyond the log's limit.
    pub overflow: bool,
    /// The counts.
    pub stats: UsageStats,
}

/// A summary of a [`UsageLog`](crate::UsageLog): totals, and counts per key, operation and agent.
///
/// The counts are of the agents' uses; the key manager's fetches and rotation checks are
/// counted apart, in `manager` and in each key's row.
///
/// `Display` renders readable tables; with feature `serde` it serializes (to JSON, say).
/// Rows are sorted by name, with the overflow row last.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct UsageReport {
    /// The time of the first recorded event, a use or the manager's.
    pub since: Option<DateTime<Utc>>,
    /// The time of the last recorded event.
    pub until: Option<DateTime<Utc>>,
    /// The agents' uses together.
    pub total: UsageStats,
    /// The key manager's fetches and rotation checks together, apart from the uses.
    pub manager: ManagerStats,
    /// Per key.
    pub keys: Vec<KeyUsage>,
    /// Per operation.
    pub operations: Vec<NamedUsage>,
    /// Per agent.
    pub agents: Vec<NamedUsage>,
}

/// The label of overflow rows.
pub(super) const OVERFLOW: &str = "(other)";

/// Running counts, cheap to update.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Counters {
    uses: u64,
    successes: u64,
    failures: u64,
    denied: u64,
    latency_count: u64,
    latency_total: Duration,
    latency_max: Option<Duration>,
}

impl Counters {
    pub(super) fn add(&mut self, usage: &Usage) {
        self.uses += 1;
        match usage.outcome {
            Outcome::Success => self.successes += 1,
            Outcome::Failure { .. } => self.failures += 1,
            Outcome::Denied => self.denied += 1,
        }
        if let Some(latency) = usage.latency {
            self.latency_count += 1;
            self.latency_total = self.latency_total.saturating_add(latency);
            self.latency_max = self.latency_max.max(Some(latency));
        }
    }

    pub(super) fn stats(&self) -> UsageStats {
        let mean_latency =
            (self.latency_count > 0).then(|| match u32::try_from(self.latency_count) {
                Ok(count) => self.latency_total / count,
                // Past 2^32 samples, divide in floating point.
                Err(_) => Duration::from_secs_f64(
                    self.latency_total.as_secs_f64() / ratio(self.latency_count, 1),
                ),
            });
        UsageStats {
            uses: self.uses,
            successes: self.successes,
            failures: self.failures,
            denied: self.denied,
            failure_rate: ratio(self.failures, self.successes + self.failures),
            mean_latency,
            max_latency: self.latency_max,
        }
    }
}

#[cfg(feature = "serde")]
fn millis<S: serde::Serializer>(
    latency: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match latency {
        Some(latency) => serializer.serialize_some(&(latency.as_secs_f64() * 1000.0)),
        None => serializer.serialize_none(),
    }
}

impl fmt::Display for UsageReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = &self.total;
        write!(f, "usage")?;
        if let (Some(since), Some(until)) = (self.since, self.until) {
            write!(f, " from {} to {}", time(since), time(until))?;
        }
        write!(
            f,
            ": {} uses, {} failed ({}), {} denied",
            total.uses,
            total.failures,
            percent(total.failure_rate),
            total.denied
        )?;
        let manager = &self.manager;
        if !manager.is_empty() {
            write!(
                f,
                "; key manager: {} fetches ({} failed), {} rotation checks",
                manager.fetches, manager.failed_fetches, manager.rotation_checks
            )?;
        }
        writeln!(f)?;
        if total.uses == 0 && manager.is_empty() {
            return Ok(());
        }

        let mut keys = Table::new(&[
            ("key", Align::Left),
            ("fingerprint", Align::Left),
            ("uses", Align::Right),
            ("failures", Align::Right),
            ("rate", Align::Right),
            ("denied", Align::Right),
            ("latency", Align::Right),
            ("fetches", Align::Right),
            ("rotation", Align::Left),
            ("last used", Align::Left),
        ]);
        for key in &self.keys {
            let mut row = vec![
                label(&key.label),
                key.fingerprint
                    .map_or_else(|| "-".to_owned(), |fp| fp.to_string()),
            ];
            row.extend(counts(&key.stats));
            row.push(fetches(&key.manager));
            row.push(key.rotation.map_or("-", RotationState::as_str).to_owned());
            row.push(key.last_used.map_or_else(|| "-".to_owned(), time));
            keys.push(row);
        }
        writeln!(f)?;
        keys.fmt(f)?;

        for (title, rows) in [("operation", &self.operations), ("agent", &self.agents)] {
            if rows.is_empty() {
                continue;
            }
            let mut table = Table::new(&[
                (title, Align::Left),
                ("uses", Align::Right),
                ("failures", Align::Right),
                ("rate", Align::Right),
                ("denied", Align::Right),
                ("latency", Align::Right),
            ]);
            for row in rows {
                let mut cells = vec![label(&row.name)];
                cells.extend(counts(&row.stats));
                table.push(cells);
            }
            writeln!(f)?;
            table.fmt(f)?;
        }
        Ok(())
    }
}

fn counts(stats: &UsageStats) -> [String; 5] {
    [
        stats.uses.to_string(),
        stats.failures.to_string(),
        percent(stats.failure_rate),
        stats.denied.to_string(),
        stats
            .mean_latency
            .map_or_else(|| "-".to_owned(), |latency| format!("{latency:.0?}")),
    ]
}

/// The manager's fetches of a key, with the failed ones: `3` or `3 (1 failed)`.
fn fetches(manager: &ManagerStats) -> String {
    match manager.failed_fetches {
        0 => manager.fetches.to_string(),
        failed => format!("{} ({failed} failed)", manager.fetches),
    }
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

fn time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Names come from callers: escape them so a name cannot break the table into forged lines.
fn label(name: &str) -> String {
    name.escape_debug().to_string()
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
}

/// A plain text table: text left-aligned, numbers right-aligned, two spaces between columns.
struct Table {
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &[(&str, Align)]) -> Table {
        Table {
            align: header.iter().map(|(_, align)| *align).collect(),
            rows: vec![
                header
                    .iter()
                    .map(|(title, _)| (*title).to_owned())
                    .collect(),
            ],
        }
    }

    fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|column| {
                self.rows
                    .iter()
                    .filter_map(|row| row.get(column))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &self.rows {
            let mut line = String::new();
            for (column, (cell, width)) in row.iter().zip(&widths).enumerate() {
                if column > 0 {
                    line.push_str("  ");
                }
                match self.align.get(column) {
                    Some(Align::Right) => line.push_str(&format!("{cell:>width$}")),
                    _ => line.push_str(&format!("{cell:<width$}")),
                }
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}
