//! The usage log as a listener of [`KeyManager`](crate::KeyManager) events: fetches, failed
//! refreshes and rotation status changes become the log's fetches and rotation checks, kept apart
//! from the agents' uses. It lives with the manager, the higher layer: the usage log knows
//! nothing of the manager.

use super::KeyEvent;
use crate::error::ErrorKind;
use crate::rotation::{ManagedKey, RotationStatus};
use crate::usage::{FailureClass, KeyId, Outcome, RotationState, Usage, UsageLog};

// For links in the documentation.
#[cfg(doc)]
use crate::usage::EventKind;

impl UsageLog {
    /// Records a [`KeyEvent`] of a key manager; pass it to
    /// [`KeyManagerBuilder::on_event`](crate::manager::KeyManagerBuilder::on_event).
    ///
    /// The manager's events are its own work, not an agent's calls: they are recorded as
    /// [`EventKind::Fetch`] and [`EventKind::RotationCheck`], counted in the report's `manager`
    /// columns and never in the uses, and the alert rules do not look at them (a
    /// manager refreshing a key does not water down an agent's failure rate). What they tell
    /// about a key's rotation state is kept, and
    /// [`AlertRule::RotationDue`](crate::usage::AlertRule::RotationDue) fires when an agent then uses
    /// a key that is due or expired.
    ///
    /// | event | recorded as |
    /// | --- | --- |
    /// | `Loaded`, `Refreshed`, `Rotated` | a successful fetch, with the key's rotation state |
    /// | `RefreshFailed` | a failed fetch, classed by the error's kind |
    /// | `DueSoon`, `Due`, `Expired` | a rotation check with that state |
    /// | `StaleServed`, `Retired` | nothing more: the failure was recorded as `RefreshFailed` |
    ///
    /// To be alerted when the source fails, watch [`KeyEvent::RefreshFailed`] in a hook of
    /// your own: it is the manager's failure, not an agent's.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use keyward::{KeyManager, MemoryProvider, UsageLog};
    /// use keyward::usage::{AlertRule, KeyId, Usage};
    ///
    /// let log = Arc::new(UsageLog::builder().with_rule(AlertRule::EveryFailure).on_alert(|a| eprintln!("{a}")).build()?);
    /// let manager = KeyManager::builder(MemoryProvider::new().with("TOKEN", "not-a-real-token-000"))
    ///     .on_event({
    ///         let log = log.clone();
    ///         move |event| log.record_key_event(event)
    ///     })
    ///     .build()?;
    /// let key = manager.get("TOKEN")?;
    /// assert!(manager.get("MISSING").is_err());
    /// log.record(Usage::new(&KeyId::new("TOKEN", key.value()), "researcher", "call"));
    /// let report = log.report();
    /// assert_eq!((report.total.uses, report.total.failures), (1, 0), "the agent's use");
    /// assert_eq!((report.manager.fetches, report.manager.failed_fetches), (2, 1));
    /// # Ok::<(), keyward::Error>(())
    /// ```
    pub fn record_key_event(&self, event: &KeyEvent) {
        let usage = match event {
            KeyEvent::Loaded { key }
            | KeyEvent::Refreshed { key }
            | KeyEvent::Rotated { new: key, .. } => {
                let usage = Usage::fetch(&key_id(key));
                match RotationState::from_status(key.status_at(self.now())) {
                    Some(state) => usage.with_rotation(state),
                    None => usage,
                }
            }
            KeyEvent::RefreshFailed {
                name, error_kind, ..
            } => Usage::fetch(&KeyId::unread(name.as_str()))
                .with_outcome(Outcome::failure(failure_class(*error_kind))),
            KeyEvent::DueSoon { key } => rotation_check(key, RotationState::DueSoon),
            KeyEvent::Due { key } => rotation_check(key, RotationState::Due),
            KeyEvent::Expired { key } => rotation_check(key, RotationState::Expired),
            _ => return,
        };
        self.record(usage);
    }
}

fn key_id(key: &ManagedKey) -> KeyId {
    KeyId::new(key.name(), key.secret().value())
}

fn rotation_check(key: &ManagedKey, state: RotationState) -> Usage {
    Usage::rotation_check(&key_id(key), state)
}

/// The failure class of a provider error, for counting.
fn failure_class(kind: ErrorKind) -> FailureClass {
    match kind {
        ErrorKind::PermissionDenied | ErrorKind::InsecurePermissions => FailureClass::Forbidden,
        ErrorKind::Backend | ErrorKind::Io => FailureClass::Server,
        ErrorKind::InvalidName | ErrorKind::InvalidFormat | ErrorKind::InvalidInput => {
            FailureClass::BadRequest
        }
        ErrorKind::Expired => FailureClass::Unauthorized,
        _ => FailureClass::Other,
    }
}

impl RotationState {
    /// The state for a key's [`RotationStatus`]; `None` for a key of unknown age.
    pub fn from_status(status: RotationStatus) -> Option<RotationState> {
        match status {
            RotationStatus::Current => Some(RotationState::Current),
            RotationStatus::DueSoon => Some(RotationState::DueSoon),
            RotationStatus::Due => Some(RotationState::Due),
            RotationStatus::Expired => Some(RotationState::Expired),
            _ => None,
        }
    }
}
