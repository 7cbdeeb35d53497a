//! [`KeyEvent`]: what happened to a key, for the hooks of
//! [`KeyManagerBuilder::on_event`](super::KeyManagerBuilder::on_event); `hooks` sends them.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::{Error, ErrorKind};
use crate::rotation::{ManagedKey, RotationStatus};

/// Something that happened to a key, for the hooks registered with
/// [`KeyManagerBuilder::on_event`](crate::manager::KeyManagerBuilder::on_event).
///
/// Events carry the [`ManagedKey`] where one exists, value included, because some subscribers
/// need it (the leak guard keeps its list of values to redact current from `Loaded` and
/// `Rotated`). `Debug` never shows a value.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum KeyEvent {
    /// A key was fetched for the first time (or again after it was evicted or invalidated).
    Loaded {
        /// The key.
        key: Arc<ManagedKey>,
    },
    /// A cached key was fetched again and is unchanged.
    Refreshed {
        /// The key.
        key: Arc<ManagedKey>,
    },
    /// A fetch returned a different value or version: the key was rotated at the source.
    Rotated {
        /// The value held until now.
        old: Arc<ManagedKey>,
        /// The value from the source.
        new: Arc<ManagedKey>,
        /// Until when the manager keeps the old value in
        /// [`retired_keys`](crate::KeyManager::retired_keys).
        grace_until: DateTime<Utc>,
    },
    /// The grace period of a rotated-out value ended.
    Retired {
        /// The old value.
        key: Arc<ManagedKey>,
    },
    /// A refresh failed with a [temporary](Error::is_temporary) error and the last good value is
    /// served instead.
    StaleServed {
        /// The value served.
        key: Arc<ManagedKey>,
        /// The kind of the refresh error.
        error_kind: ErrorKind,
        /// The message of the refresh error.
        message: String,
        /// After this time the error is returned instead.
        stale_until: DateTime<Utc>,
    },
    /// A key came within its policy's warning period.
    DueSoon {
        /// The key.
        key: Arc<ManagedKey>,
    },
    /// A key is due for rotation.
    Due {
        /// The key.
        key: Arc<ManagedKey>,
    },
    /// A key is past its expiry date or maximum age.
    Expired {
        /// The key.
        key: Arc<ManagedKey>,
    },
    /// Fetching a key failed.
    RefreshFailed {
        /// The key's name.
        name: String,
        /// The kind of the error.
        error_kind: ErrorKind,
        /// The message of the error.
        message: String,
    },
}

impl KeyEvent {
    /// The name of the key the event is about.
    pub fn name(&self) -> &str {
        match self {
            KeyEvent::RefreshFailed { name, .. } => name,
            KeyEvent::Rotated { new: key, .. }
            | KeyEvent::Loaded { key }
            | KeyEvent::Refreshed { key }
            | KeyEvent::Retired { key }
            | KeyEvent::StaleServed { key, .. }
            | KeyEvent::DueSoon { key }
            | KeyEvent::Due { key }
            | KeyEvent::Expired { key } => key.name(),
        }
    }

    /// The key the event is about (the new one for `Rotated`), where there is one.
    pub fn key(&self) -> Option<&Arc<ManagedKey>> {
        match self {
            KeyEvent::RefreshFailed { .. } => None,
            KeyEvent::Rotated { new: key, .. }
            | KeyEvent::Loaded { key }
            | KeyEvent::Refreshed { key }
            | KeyEvent::Retired { key }
            | KeyEvent::StaleServed { key, .. }
            | KeyEvent::DueSoon { key }
            | KeyEvent::Due { key }
            | KeyEvent::Expired { key } => Some(key),
        }
    }
}

pub(super) type EventHook = Arc<dyn Fn(&KeyEvent) + Send + Sync>;

pub(super) fn refresh_failed(name: &str, err: &Error) -> KeyEvent {
    KeyEvent::RefreshFailed {
        name: name.to_owned(),
        error_kind: err.kind(),
        message: err.message().to_owned(),
    }
}

pub(super) fn status_event(status: RotationStatus, key: &Arc<ManagedKey>) -> Option<KeyEvent> {
    let key = key.clone();
    match status {
        RotationStatus::DueSoon => Some(KeyEvent::DueSoon { key }),
        RotationStatus::Due => Some(KeyEvent::Due { key }),
        RotationStatus::Expired => Some(KeyEvent::Expired { key }),
        _ => None,
    }
}
