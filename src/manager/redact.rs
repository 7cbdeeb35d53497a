//! The manager's redactor: made on first use, fed by the events, and told about the values
//! that left the cache before it existed.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::departed::redactable;
use super::event::KeyEvent;
use super::key_manager::{Inner, KeyManager};
use super::lock::lock;
use super::time::TimeSource;
use crate::guard::{RedactorBuilder, SharedRedactor};
use crate::rotation::ManagedKey;

impl KeyManager {
    /// A redactor that knows every value this manager has handed out, and stays current as
    /// keys load and rotate: a rotated-out value stays redacted for the manager's
    /// [grace period](super::KeyManagerBuilder::with_grace_period). Check model output, tool-call
    /// arguments and log lines with it before they leave the process.
    ///
    /// Made on the first call and shared by later calls. It knows the keys cached then, and
    /// also those handed out earlier that have left the cache since (evicted by the capacity,
    /// [invalidated](Self::invalidate), deleted at the source, rotated out twice): each of
    /// those until the grace period after it left, which the manager keeps them for until
    /// the redactor is made. A value shorter than the redactor's minimum (8 characters unless
    /// [`with_redactor`](super::KeyManagerBuilder::with_redactor) set another) cannot be redacted
    /// without destroying ordinary text, and is left out.
    ///
    /// Its settings (minimum length, fragments, encodings, detection of unknown keys) are those
    /// given to [`with_redactor`](super::KeyManagerBuilder::with_redactor), its grace period the
    /// manager's.
    ///
    /// ```
    /// use keyward::{KeyManager, MemoryProvider};
    ///
    /// let key = format!("sk-proj-{}", "FaKe0".repeat(8));
    /// let manager = KeyManager::builder(MemoryProvider::new().with("OPENAI_API_KEY", key.as_str())).build()?;
    /// manager.get("OPENAI_API_KEY")?;
    /// let reply = format!("sure, the key is {key}");
    /// assert_eq!(manager.redactor().current().redact(&reply), "sure, the key is [REDACTED:OPENAI_API_KEY]");
    /// # Ok::<(), keyward::Error>(())
    /// ```
    pub fn redactor(&self) -> SharedRedactor {
        let inner = &*self.inner;
        let mut made_here = false;
        let redactor = inner.redactor.get_or_init(|| {
            made_here = true;
            // `build` checked the grace period: never negative, and countable from any time.
            let grace = inner.config.grace_period.to_std().unwrap_or_default();
            let shared =
                SharedRedactor::new(inner.config.redactor.clone()).with_grace_period(grace);
            let shared = match &inner.clock {
                TimeSource::System => shared,
                TimeSource::Injected(clock) => shared.with_clock(clock.clone()),
            };
            self.seed(&shared);
            shared
        });
        if made_here {
            // Once more now that it is published: a key loaded between the first seeding and
            // publication sent its event to no redactor. Later loads reach it through `emit`.
            // Unchanged values cost nothing.
            self.seed(redactor);
        }
        redactor.clone()
    }

    /// Gives `redactor` every value the manager holds, retired ones included, and those that
    /// left the cache, each until its grace period ends.
    pub(super) fn seed(&self, redactor: &SharedRedactor) {
        let settings = &self.inner.config.redactor;
        let departed = lock(&self.inner.departed).take();
        let departed = departed
            .iter()
            .map(|(key, until)| (key.name(), key.secret().value(), *until));
        // Values the settings refuse were left out, so this cannot fail.
        let _ = redactor.retire_all(departed);
        let retired = self.retired_keys();
        let current = self.keys();
        for keys in [&retired, &current] {
            let values = keys
                .iter()
                .filter(|key| redactable(settings, key))
                .map(|key| (key.name(), key.secret().value()));
            // Values the settings refuse were filtered out, so this cannot fail.
            let _ = redactor.update_all(values);
        }
    }
}

impl Inner {
    /// Keeps the keys that left the cache known to the redactor, each until the time given:
    /// given to it now if it exists, else kept for it ([`Departed`](super::departed::Departed)).
    pub(super) fn depart(&self, keys: Vec<(Arc<ManagedKey>, DateTime<Utc>)>) {
        if keys.is_empty() {
            return;
        }
        let mut departed = lock(&self.departed);
        // Looked at under the lock that `seed` empties the list under once the redactor is
        // published: a departure either sees the redactor or is emptied into it.
        if let Some(redactor) = self.redactor.get() {
            drop(departed);
            let keys = keys
                .iter()
                .filter(|(key, _)| redactable(&self.config.redactor, key))
                .map(|(key, until)| (key.name(), key.secret().value(), *until));
            // Values the settings refuse were filtered out, so this cannot fail.
            let _ = redactor.retire_all(keys);
            return;
        }
        departed.add(keys, self.clock.now(), &self.config.redactor);
    }
}

/// Keeps `redactor`, made with `settings`, current with the value an event carries.
pub(super) fn redact_from(redactor: &SharedRedactor, settings: &RedactorBuilder, event: &KeyEvent) {
    let key = match event {
        KeyEvent::Loaded { key }
        | KeyEvent::Refreshed { key }
        | KeyEvent::StaleServed { key, .. }
        | KeyEvent::Rotated { new: key, .. } => key,
        _ => return,
    };
    if redactable(settings, key) {
        // Only a value the settings refuse is refused, and that was checked.
        let _ = redactor.update(key.name(), key.secret().value());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use chrono::TimeDelta;

    use super::*;

    /// Keys that leave the cache again and again are kept once per name and value, and those
    /// whose grace period ended are let go: the list for the redactor does not grow with use.
    #[test]
    fn departed_keys_are_kept_once_and_let_go_after_the_grace_period() {
        let clock = Arc::new(crate::clock::ManualClock::new(Utc::now()));
        let mut provider = crate::MemoryProvider::new();
        let names: Vec<String> = (0..40).map(|i| format!("KEY_{i}")).collect();
        for name in &names {
            provider = provider.with(name, format!("sk-{name}-{}", "x".repeat(30)).as_str());
        }
        let manager = KeyManager::builder(provider)
            .with_clock(clock.clone())
            .with_capacity(1)
            .with_grace_period(Duration::from_secs(10 * 60))
            .build()
            .unwrap();
        let kept = || {
            let departed = lock(&manager.inner.departed);
            departed.keys.values().map(Vec::len).sum::<usize>()
        };
        for _ in 0..50 {
            for name in &names[..3] {
                manager.get(name).unwrap();
            }
        }
        assert_eq!(
            kept(),
            3,
            "one entry per name and value, however often it left"
        );
        // Past the grace period, new departures let the old ones go.
        clock.advance(TimeDelta::minutes(11));
        for name in &names[3..] {
            manager.get(name).unwrap();
        }
        let departed = lock(&manager.inner.departed);
        assert!(
            !departed.keys.contains_key("KEY_0") && !departed.keys.contains_key("KEY_1"),
            "ended, and let go by a pruning"
        );
        drop(departed);
        assert_eq!(kept(), 37, "KEY_2 to KEY_38 left within the grace period");
    }
}
