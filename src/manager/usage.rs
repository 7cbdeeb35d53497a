//! The usage log as a listener of [`KeyManager`](crate::KeyManager) events: fetches, failed
//! refreshes and rotation status changes become uses of the agent [`KEY_MANAGER_AGENT`], so the
//! same counters and alert rules cover them. It lives with the manager, the higher layer: the usage
//! log knows nothing of the manager.

use super::KeyEvent;
use crate::error::ErrorKind;
use crate::rotation::{ManagedKey, RotationStatus};
use crate::usage::{FailureClass, KeyId, Outcome, RotationState, Usage, UsageLog};

/// The agent name under which a [`UsageLog`] records the events of a key manager.
pub const KEY_MANAGER_AGENT: &str = "key-manager";

impl UsageLog {
    /// Records a [`KeyEvent`] of a key manager; pass it to
    /// [`KeyManagerBuilder::on_event`](crate::KeyManagerBuilder::on_event).
    ///
    /// | event | recorded as |
    /// | --- | --- |
    /// | `Loaded`, `Refreshed`, `Rotated` | a successful `fetch` |
    /// | `RefreshFailed` | a failed `fetch`, classed by the error's kind |
    /// | `DueSoon`, `Due`, `Expired` | a `rotation-check` with that state, which fires [`AlertRule::RotationDue`](crate::AlertRule::RotationDue) for due and expired keys |
    /// | `StaleServed`, `Retired` | nothing more: the failure was recorded as `RefreshFailed` |
    ///
    /// ```
    /// use std::sync::Arc;
    /// use keyward::{AlertRule, KeyManager, MemoryProvider, UsageLog};
    ///
    /// let log = Arc::new(UsageLog::builder().with_rule(AlertRule::EveryFailure).on_alert(|a| eprintln!("{a}")).build()?);
    /// let manager = KeyManager::builder(MemoryProvider::new().with("TOKEN", "not-a-real-token-000"))
    ///     .on_event({
    ///         let log = log.clone();
    ///         move |event| log.record_key_event(event)
    ///     })
    ///     .build()?;
    /// manager.get("TOKEN")?;
    /// assert!(manager.get("MISSING").is_err());
    /// let report = log.report();
    /// assert_eq!((report.total.uses, report.total.failures), (2, 1));
    /// # Ok::<(), keyward::Error>(())
    /// ```
    pub fn record_key_event(&self, event: &KeyEvent) {
        let usage = match event {
            KeyEvent::Loaded { key }
            | KeyEvent::Refreshed { key }
            | KeyEvent::Rotated { new: key, .. } => {
                let usage = Usage::new(&key_id(key), KEY_MANAGER_AGENT, "fetch");
                match RotationState::from_status(key.status_at(self.now())) {
                    Some(state) => usage.with_rotation(state),
                    None => usage,
                }
            }
            KeyEvent::RefreshFailed {
                name, error_kind, ..
            } => Usage::new(&KeyId::unread(name.as_str()), KEY_MANAGER_AGENT, "fetch")
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
    Usage::new(&key_id(key), KEY_MANAGER_AGENT, "rotation-check").with_rotation(state)
}

/// The failure class of a provider error, for counting and alerting.
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
