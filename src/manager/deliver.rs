//! Handing a cached or loaded key to the caller: a status change is announced, an expired key
//! refused.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::cache::Shard;
use super::event::status_event;
use super::key_manager::Inner;
use crate::error::{Error, ErrorKind, Result, quote_name};
use crate::rotation::{ManagedKey, RotationStatus};

impl Inner {
    /// A read that the fast path could not answer, served from the cache when the entry allows
    /// it; `None` when the provider must be asked. Kept out of line so that the fast path stays
    /// small.
    #[cold]
    #[inline(never)]
    pub(super) fn lookup(&self, shard: &Shard, name: &str) -> Option<Result<Arc<ManagedKey>>> {
        let now = self.clock.now();
        let (key, announce) = shard.lookup(name, now, &self.config)?;
        Some(self.deliver(key, announce, now))
    }

    /// Hands a key to the caller: announces a status change, refuses an expired key.
    pub(super) fn deliver(
        &self,
        key: Arc<ManagedKey>,
        announce: Option<RotationStatus>,
        now: DateTime<Utc>,
    ) -> Result<Arc<ManagedKey>> {
        if let Some(status) = announce {
            self.emit(status_event(status, &key));
        }
        if !self.config.serve_expired && key.is_expired_at(now) {
            return Err(self.expired_error(&key));
        }
        Ok(key)
    }

    pub(super) fn expired_error(&self, key: &ManagedKey) -> Error {
        let why = match (key.expires_at(), key.policy().max_age()) {
            (Some(at), _) if key.expired_from() == Some(at) => {
                format!("the source's expiry date {}", at.format("%Y-%m-%d"))
            }
            (_, Some(max)) => format!("the maximum age of {} days", max.as_secs() / 86_400),
            _ => "its expiry date".to_owned(),
        };
        Error::new(
            ErrorKind::Expired,
            format!(
                "secret {} from {} is expired: it is past {why}; rotate it at the source",
                quote_name(key.name()),
                key.source()
            ),
        )
    }
}
