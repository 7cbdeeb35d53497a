//! The values that left the cache before the manager's redactor was made, kept for it until
//! their grace period ends; and which values a redactor can take at all.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::cache::Names;
use crate::guard::RedactorBuilder;
use crate::rotation::ManagedKey;

/// Values handed out that left the cache (evicted, invalidated, deleted at the source, or a retired
/// value displaced by a newer rotation) while there was no redactor yet, each until its grace
/// period ends: [`KeyManager::redactor`](super::KeyManager::redactor), called later, must still
/// know them. One entry per name and value, so memory grows with the distinct values that left
/// within a grace period, not with how often they left.
#[derive(Default)]
pub(super) struct Departed {
    pub(super) keys: Names<Vec<(Arc<ManagedKey>, DateTime<Utc>)>>,
    /// How many names were kept at the last full pruning; the next waits until there are
    /// twice as many, so that pruning costs O(1) a departure, amortised.
    pub(super) pruned_len: usize,
}

impl Departed {
    /// Keeps each key that `settings` can redact until the time given with it.
    pub(super) fn add(
        &mut self,
        keys: Vec<(Arc<ManagedKey>, DateTime<Utc>)>,
        now: DateTime<Utc>,
        settings: &RedactorBuilder,
    ) {
        for (key, until) in keys {
            if until <= now || !redactable(settings, &key) {
                continue;
            }
            let known = self.keys.entry(key.name().to_owned()).or_default();
            known.retain(|(_, until)| *until > now);
            match known
                .iter_mut()
                .find(|(other, _)| other.secret().value() == key.secret().value())
            {
                Some((_, known_until)) => *known_until = (*known_until).max(until),
                None => known.push((key, until)),
            }
        }
        if self.keys.len() > 2 * self.pruned_len.max(16) {
            self.keys.retain(|_, known| {
                known.retain(|(_, until)| *until > now);
                !known.is_empty()
            });
            self.pruned_len = self.keys.len();
        }
    }

    /// Everything kept, leaving the list empty.
    pub(super) fn take(&mut self) -> Vec<(Arc<ManagedKey>, DateTime<Utc>)> {
        self.pruned_len = 0;
        std::mem::take(&mut self.keys)
            .into_values()
            .flatten()
            .collect()
    }
}

/// Whether a redactor with `settings` accepts `key`'s value (long enough, by its count of
/// characters).
pub(super) fn redactable(settings: &RedactorBuilder, key: &ManagedKey) -> bool {
    settings.check(key.name(), key.secret().value()).is_ok()
}
