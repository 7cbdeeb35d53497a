//! The first-seen times of values whose source does not say when they were created.

use chrono::{DateTime, Utc};

use super::key_manager::Inner;
use super::lock::lock;
use crate::rotation::CreatedAt;
use crate::secret::SecretString;

impl Inner {
    /// The creation time to report for a value of `name` whose source does not say: the time
    /// it was first seen, remembered by fingerprint across invalidation and eviction. The same
    /// value under a new version keeps its time: the key itself is as old as it was.
    pub(super) fn first_seen(
        &self,
        name: &str,
        value: &SecretString,
        now: DateTime<Utc>,
    ) -> CreatedAt {
        let fingerprint = value.fingerprint();
        let mut seen = lock(&self.first_seen);
        if let Some((known, at)) = seen.get(name)
            && *known == fingerprint
        {
            return CreatedAt::Unknown { first_seen: *at };
        }
        // A few times the cache's capacity: names the cache keeps plus some it dropped. When
        // full, the value seen longest ago goes (a scan, but only when a new value arrives).
        if seen.len() >= self.config.capacity.saturating_mul(4).max(64)
            && !seen.contains_key(name)
            && let Some(oldest) = seen
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(name, _)| name.clone())
        {
            seen.remove(&oldest);
        }
        seen.insert(name.to_owned(), (fingerprint, now));
        CreatedAt::Unknown { first_seen: now }
    }
}
