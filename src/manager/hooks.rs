//! How events reach their listeners: the manager's redactor (once made), then the hooks
//! registered on the builder.

use super::event::KeyEvent;
use super::key_manager::Inner;
use super::redact::redact_from;

impl Inner {
    /// Sends `events`, in order, to the manager's redactor (once made) and then to the hooks.
    pub(super) fn emit(&self, events: impl IntoIterator<Item = KeyEvent>) {
        let redactor = self.redactor.get();
        if self.hooks.is_empty() && redactor.is_none() {
            return;
        }
        for event in events {
            if let Some(redactor) = redactor {
                redact_from(redactor, &self.config.redactor, &event);
            }
            for hook in self.hooks.iter() {
                hook(&event);
            }
        }
    }
}
