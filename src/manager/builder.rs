//! [`KeyManagerBuilder`]: the settings of a [`KeyManager`] and their checks.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::TimeDelta;

use super::cache::{SHARDS, Shard};
use super::event::{EventHook, KeyEvent};
use super::key_manager::{Inner, KeyManager};
use super::local::Changes;
use super::source::Source;
use super::time::TimeSource;
use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result, quote_name};
use crate::rotation::{CreatedAt, ManagedKey, RotationPolicy};

// For links in the documentation.
#[cfg(doc)]
use crate::clock::SystemClock;

/// Builds a [`KeyManager`]; see [`KeyManager::builder`] and [`KeyManager::builder_async`].
#[must_use]
pub struct KeyManagerBuilder {
    pub(super) source: Source,
    pub(super) clock: TimeSource,
    pub(super) config: Config,
    pub(super) hooks: Vec<EventHook>,
}

#[derive(Debug, Clone)]
pub(super) struct Config {
    pub(super) ttl: TimeDelta,
    pub(super) capacity: usize,
    pub(super) default_policy: RotationPolicy,
    pub(super) policies: HashMap<String, RotationPolicy>,
    pub(super) max_stale: TimeDelta,
    pub(super) stale_retry: TimeDelta,
    pub(super) serve_expired: bool,
    pub(super) grace_period: TimeDelta,
    pub(super) created_at_suffix: Option<String>,
}

impl KeyManagerBuilder {
    pub(super) fn new(source: Source) -> KeyManagerBuilder {
        KeyManagerBuilder {
            source,
            clock: TimeSource::System,
            config: Config {
                ttl: TimeDelta::minutes(5),
                capacity: 1024,
                default_policy: RotationPolicy::default(),
                policies: HashMap::new(),
                max_stale: TimeDelta::hours(1),
                stale_retry: TimeDelta::seconds(30),
                serve_expired: false,
                grace_period: TimeDelta::hours(24),
                created_at_suffix: Some(CreatedAt::DEFAULT_COMPANION_SUFFIX.to_owned()),
            },
            hooks: Vec::new(),
        }
    }

    /// Sets the clock (default: [`SystemClock`]). Pass an `Arc<ManualClock>` and keep a clone to
    /// move time in tests.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> KeyManagerBuilder {
        self.clock = TimeSource::Injected(Arc::new(clock));
        self
    }

    /// Sets how long a fetched key is served from the cache before it is fetched again
    /// (default: 5 minutes).
    pub fn with_ttl(mut self, ttl: TimeDelta) -> KeyManagerBuilder {
        self.config.ttl = ttl;
        self
    }

    /// Sets how many keys the cache holds (default: 1024). When it is full, the key fetched
    /// longest ago is dropped.
    pub fn with_capacity(mut self, capacity: usize) -> KeyManagerBuilder {
        self.config.capacity = capacity;
        self
    }

    /// Sets the rotation policy of keys without a policy of their own.
    pub fn with_policy(mut self, policy: RotationPolicy) -> KeyManagerBuilder {
        self.config.default_policy = policy;
        self
    }

    /// Sets the rotation policy of the key `name`.
    pub fn with_policy_for(
        mut self,
        name: impl Into<String>,
        policy: RotationPolicy,
    ) -> KeyManagerBuilder {
        self.config.policies.insert(name.into(), policy);
        self
    }

    /// Sets how long after a key stopped being fresh its last good value may be served while the
    /// provider fails temporarily (default: 1 hour). Zero turns stale serving off.
    ///
    /// Only errors that are [temporary](Error::is_temporary) are covered: a timeout, an
    /// unreachable server, a 5xx or 429. A refused credential ([`ErrorKind::PermissionDenied`])
    /// or a deleted key ([`ErrorKind::NotFound`]) reaches the caller at once and drops the cached
    /// value, so that a revoked token stops serving the key on the next fetch.
    pub fn with_max_stale(mut self, max_stale: TimeDelta) -> KeyManagerBuilder {
        self.config.max_stale = max_stale;
        self
    }

    /// Sets how long a stale value is served before the provider is asked again (default: 30
    /// seconds, at most the TTL), so that a failing provider is not asked on every read.
    pub fn with_stale_retry_interval(mut self, interval: TimeDelta) -> KeyManagerBuilder {
        self.config.stale_retry = interval;
        self
    }

    /// Serves expired keys, with an [`KeyEvent::Expired`] event, instead of refusing them with
    /// [`ErrorKind::Expired`] (the default).
    pub fn serve_expired(mut self, serve: bool) -> KeyManagerBuilder {
        self.config.serve_expired = serve;
        self
    }

    /// Sets how long a rotated-out value stays in [`KeyManager::retired_keys`] (default: 24
    /// hours), so that output still carrying it is caught while it may still work.
    pub fn with_grace_period(mut self, grace: TimeDelta) -> KeyManagerBuilder {
        self.config.grace_period = grace;
        self
    }

    /// Sets the suffix of the companion key that holds a key's creation date when the provider's
    /// metadata does not (default: `_CREATED_AT`, as in `OPENAI_API_KEY_CREATED_AT`).
    pub fn with_created_at_suffix(mut self, suffix: impl Into<String>) -> KeyManagerBuilder {
        self.config.created_at_suffix = Some(suffix.into());
        self
    }

    /// Never looks up companion creation-date keys.
    pub fn without_created_at_companion(mut self) -> KeyManagerBuilder {
        self.config.created_at_suffix = None;
        self
    }

    /// Calls `hook` for every [`KeyEvent`].
    ///
    /// Hooks run on the thread (or in the task) that caused the event, after the manager has
    /// released its locks, so they may call the manager. Keep them quick and non-blocking: a
    /// slow hook slows that read, and in a task it holds up the runtime thread.
    pub fn on_event(
        mut self,
        hook: impl Fn(&KeyEvent) + Send + Sync + 'static,
    ) -> KeyManagerBuilder {
        self.hooks.push(Arc::new(hook));
        self
    }

    /// Calls `hook(old, new)` when a key is found rotated at the source.
    pub fn on_rotated(
        self,
        hook: impl Fn(&ManagedKey, &ManagedKey) + Send + Sync + 'static,
    ) -> KeyManagerBuilder {
        self.on_event(move |event| {
            if let KeyEvent::Rotated { old, new, .. } = event {
                hook(old, new);
            }
        })
    }

    /// Builds the manager.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for a TTL that is not positive, a capacity of zero, a negative
    /// duration, or a rotation policy that fails [`RotationPolicy::validate`].
    pub fn build(self) -> Result<KeyManager> {
        let config = self.config;
        let invalid = |what: &str| Err(Error::new(ErrorKind::InvalidInput, what.to_owned()));
        if config.ttl <= TimeDelta::zero() {
            return invalid("the cache ttl must be positive");
        }
        if config.capacity == 0 {
            return invalid("the cache capacity must be at least 1");
        }
        if config.max_stale < TimeDelta::zero()
            || config.stale_retry < TimeDelta::zero()
            || config.grace_period < TimeDelta::zero()
        {
            return invalid(
                "max_stale, the stale retry interval and the grace period must not be negative",
            );
        }
        config.default_policy.validate()?;
        for (name, policy) in &config.policies {
            policy.validate().map_err(|err| {
                Error::new(err.kind(), format!("{err} (for {})", quote_name(name)))
            })?;
        }
        let shards = (0..SHARDS).map(|_| Shard::default()).collect();
        Ok(KeyManager {
            inner: Arc::new(Inner {
                source: self.source,
                clock: self.clock,
                config,
                hooks: self.hooks.into(),
                shards,
                changes: Changes::new(),
                len: AtomicUsize::new(0),
                first_seen: Mutex::default(),
                redactor: OnceLock::new(),
                departed: Mutex::default(),
            }),
        })
    }
}

impl fmt::Debug for KeyManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyManagerBuilder")
            .field("provider", &self.source.name())
            .field("clock", &self.clock)
            .field("config", &self.config)
            .field("hooks", &self.hooks.len())
            .finish()
    }
}
