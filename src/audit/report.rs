//! The result of an audit: one verdict and reason per checklist item.

use std::fmt;
use std::path::{Path, PathBuf};

use super::shown::{escaped, shown_path};

/// One item of the deployment checklist, in the order the audit runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum Check {
    /// 1. No keys are written in the project's files.
    HardcodedKeys,
    /// 2. Keys come from the environment, files or a secrets manager.
    KeySources,
    /// 3. Secret files are ignored by git and `.env` files are not tracked.
    GitIgnore,
    /// 4. A rotation policy covers every managed key and none is due or expired.
    Rotation,
    /// 5. Usage monitoring is attached.
    UsageMonitoring,
    /// 6. Logs pass through a redactor.
    LogRedaction,
    /// 7. Every agent reads keys through a scope.
    Scopes,
    /// 8. At least one alert rule is active.
    Alerts,
}

impl Check {
    /// Every item, in checklist order.
    pub const ALL: [Check; 8] = [
        Check::HardcodedKeys,
        Check::KeySources,
        Check::GitIgnore,
        Check::Rotation,
        Check::UsageMonitoring,
        Check::LogRedaction,
        Check::Scopes,
        Check::Alerts,
    ];

    /// The item's number in the checklist, from 1.
    pub fn number(self) -> usize {
        self as usize + 1
    }

    /// What the item requires, as the checklist states it.
    pub fn title(self) -> &'static str {
        match self {
            Check::HardcodedKeys => "no hardcoded keys in the project's files",
            Check::KeySources => "keys come from the environment, files or a secrets manager",
            Check::GitIgnore => "secret files are ignored by git and none is tracked",
            Check::Rotation => "a rotation policy covers every key and none is due",
            Check::UsageMonitoring => "usage monitoring is attached",
            Check::LogRedaction => "logs pass through a redactor",
            Check::Scopes => "every agent reads keys through a scope",
            Check::Alerts => "at least one alert rule is active",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// The verdict on one checklist item; ordered from best to worst for the purpose of a summary,
/// with `NotChecked` between `Pass` and `Warn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
pub enum AuditStatus {
    /// The requirement is met.
    Pass,
    /// The audit had nothing to check it against (no running program, no git).
    NotChecked,
    /// Met only in part, or not verifiable as asked; worth a look.
    Warn,
    /// The requirement is not met.
    Fail,
}

impl AuditStatus {
    /// The short tag of the checklist: `PASS`, `----`, `WARN`, `FAIL`.
    pub fn tag(self) -> &'static str {
        match self {
            AuditStatus::Pass => "PASS",
            AuditStatus::NotChecked => "----",
            AuditStatus::Warn => "WARN",
            AuditStatus::Fail => "FAIL",
        }
    }
}

impl fmt::Display for AuditStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuditStatus::Pass => "pass",
            AuditStatus::NotChecked => "not checked",
            AuditStatus::Warn => "warn",
            AuditStatus::Fail => "fail",
        })
    }
}

/// The verdict on one checklist item, the reason for it, and details such as the files where
/// keys were found (masked).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct AuditItem {
    /// Which item.
    pub check: Check,
    /// The verdict.
    pub status: AuditStatus,
    /// Why, in one sentence.
    pub reason: String,
    /// One line per thing found: a file and line, a key name, an agent. Never a value.
    pub details: Vec<String>,
}

impl AuditItem {
    pub(super) fn new(check: Check, status: AuditStatus, reason: impl Into<String>) -> AuditItem {
        AuditItem {
            check,
            status,
            reason: reason.into(),
            details: Vec::new(),
        }
    }

    pub(super) fn with_details(mut self, details: Vec<String>) -> AuditItem {
        self.details = details;
        self
    }
}

/// The result of [`Audit::run`](crate::audit::Audit::run): the eight checklist items, each with a
/// verdict and a reason.
///
/// `Display` renders the checklist; with feature `serde` the report serializes to JSON.
/// [`exit_code`](AuditReport::exit_code) turns it into a process status for CI.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AuditReport {
    #[cfg_attr(feature = "serde", serde(serialize_with = "super::shown::lossy_path"))]
    project: PathBuf,
    items: Vec<AuditItem>,
}

impl AuditReport {
    pub(super) fn new(project: PathBuf, items: Vec<AuditItem>) -> AuditReport {
        AuditReport { project, items }
    }

    /// The audited project directory.
    pub fn project(&self) -> &Path {
        &self.project
    }

    /// Every item, in checklist order.
    pub fn items(&self) -> &[AuditItem] {
        &self.items
    }

    /// The item for `check`.
    pub fn item(&self, check: Check) -> Option<&AuditItem> {
        self.items.iter().find(|item| item.check == check)
    }

    /// The verdict for `check`; `NotChecked` if the report has no such item.
    pub fn status(&self, check: Check) -> AuditStatus {
        self.item(check)
            .map_or(AuditStatus::NotChecked, |item| item.status)
    }

    /// How many items have `status`.
    pub fn count(&self, status: AuditStatus) -> usize {
        self.items
            .iter()
            .filter(|item| item.status == status)
            .count()
    }

    /// Whether no item failed. Warnings and unchecked items do not fail an audit.
    pub fn is_passing(&self) -> bool {
        self.count(AuditStatus::Fail) == 0
    }

    /// The process exit status for the report: 0 when it [is passing](AuditReport::is_passing),
    /// 1 when an item failed.
    pub fn exit_code(&self) -> i32 {
        if self.is_passing() { 0 } else { 1 }
    }
}

impl fmt::Display for AuditReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Reasons and details hold file names and git's words: escaped, each stays one line.
        writeln!(f, "keyward audit of {}", shown_path(&self.project))?;
        for item in &self.items {
            writeln!(
                f,
                "[{}] {}. {}: {}",
                item.status.tag(),
                item.check.number(),
                item.check.title(),
                escaped(&item.reason)
            )?;
            for detail in &item.details {
                writeln!(f, "         {}", escaped(detail))?;
            }
        }
        write!(
            f,
            "{}: {} passed, {} warnings, {} failed, {} not checked",
            if self.is_passing() {
                "PASSED"
            } else {
                "FAILED"
            },
            self.count(AuditStatus::Pass),
            self.count(AuditStatus::Warn),
            self.count(AuditStatus::Fail),
            self.count(AuditStatus::NotChecked),
        )
    }
}
