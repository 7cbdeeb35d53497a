//! [`KeyManagerBuilder`]: the settings of a [`KeyManager`] and their checks.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::cache::{SHARDS, Shard};
use super::config::Config;
use super::event::{EventHook, KeyEvent};
use super::key_manager::{Inner, KeyManager};
use super::local::Changes;
use super::source::Source;
use super::time::TimeSource;
use crate::clock::{Clock, span};
use crate::error::{Error, ErrorKind, Result, quote_name};
use crate::guard::{Redactor, RedactorBuilder};
use crate::provider::{AsyncSecretProvider, SecretProvider};
use crate::rotation::{CreatedAt, ManagedKey, RotationPolicy};

// For links in the documentation.
#[cfg(doc)]
use crate::clock::SystemClock;
#[cfg(doc)]
use crate::provider::validate_key_name;

/// Builds a [`KeyManager`]; see [`KeyManager::builder`] and [`KeyManager::builder_async`].
#[must_use]
///
/// Setters only record what they are given, in any order; [`build`](Self::build) checks it all.
pub struct KeyManagerBuilder {
    source: Source,
    clock: TimeSource,
    settings: Settings,
    hooks: Vec<EventHook>,
}

/// The settings as the setters recorded them.
#[derive(Debug, Clone)]
struct Settings {
    ttl: Duration,
    capacity: usize,
    default_policy: RotationPolicy,
    policies: HashMap<String, RotationPolicy>,
    max_stale: Duration,
    stale_retry: Duration,
    serve_expired: bool,
    grace_period: Duration,
    created_at_suffix: String,
    created_at_companion: bool,
    redactor: RedactorBuilder,
}

impl KeyManager {
    /// Starts building a manager in front of `provider` (any [`SecretProvider`], including
    /// `Box<dyn SecretProvider>` and `Arc<dyn SecretProvider>`).
    ///
    /// Such a manager answers both [`get`](Self::get) and [`get_async`](Self::get_async).
    pub fn builder(provider: impl SecretProvider + 'static) -> KeyManagerBuilder {
        KeyManagerBuilder::new(Source::Sync(Arc::new(provider)))
    }

    /// Starts building a manager in front of an [`AsyncSecretProvider`], such as a remote
    /// secrets manager.
    ///
    /// Such a manager answers [`get_async`](Self::get_async) and the other `_async` methods; its
    /// blocking [`get`](Self::get) and [`refresh`](Self::refresh) return an
    /// [`ErrorKind::InvalidInput`] error rather than block a thread (perhaps a runtime's) on the
    /// network. A provider that implements [`SecretProvider`] too is better passed to
    /// [`builder`](Self::builder), which opens both doors.
    ///
    /// Key names are left to the provider to check: remote names such as
    /// `prod/api-keys#OPENAI_API_KEY` have separators that [`validate_key_name`] refuses for
    /// local sources. The manager itself refuses only empty names and names with control
    /// characters.
    ///
    /// ```
    /// use keyward::{AsyncSecretProvider, KeyManager, Result, Secret, SecretMeta};
    /// use keyward::provider::BoxFuture;
    ///
    /// /// A remote source, reduced to its async `get`.
    /// #[derive(Debug)]
    /// struct Remote;
    ///
    /// impl AsyncSecretProvider for Remote {
    ///     fn name(&self) -> &str {
    ///         "remote"
    ///     }
    ///
    ///     fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Secret>>> {
    ///         Box::pin(async move {
    ///             Ok((key == "prod/api#OPENAI").then(|| {
    ///                 Secret::new("sk-not-a-real-key-0000", SecretMeta::new("remote"))
    ///             }))
    ///         })
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<()> {
    /// let manager = KeyManager::builder_async(Remote).build()?;
    /// let key = manager.get_async("prod/api#OPENAI").await?;
    /// assert_eq!(key.source(), "remote");
    /// // The blocking door is closed rather than blocking a runtime thread.
    /// assert!(manager.get("prod/api#OPENAI").is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder_async(provider: impl AsyncSecretProvider + 'static) -> KeyManagerBuilder {
        KeyManagerBuilder::new(Source::Async(Arc::new(provider)))
    }
}

impl KeyManagerBuilder {
    /// How long a fetched key is served from the cache by default.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(5 * 60);
    /// How many keys the cache holds by default.
    pub const DEFAULT_CAPACITY: usize = 1024;
    /// How long a stale value may be served by default while the provider fails.
    pub const DEFAULT_MAX_STALE: Duration = Duration::from_secs(60 * 60);
    /// How long a stale value is served by default before the provider is asked again.
    pub const DEFAULT_STALE_RETRY_INTERVAL: Duration = Duration::from_secs(30);
    /// How long a rotated-out value stays known, and redacted, by default.
    pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(24 * 60 * 60);

    pub(super) fn new(source: Source) -> KeyManagerBuilder {
        KeyManagerBuilder {
            source,
            clock: TimeSource::System,
            settings: Settings {
                ttl: KeyManagerBuilder::DEFAULT_TTL,
                capacity: KeyManagerBuilder::DEFAULT_CAPACITY,
                default_policy: RotationPolicy::default(),
                policies: HashMap::new(),
                max_stale: KeyManagerBuilder::DEFAULT_MAX_STALE,
                stale_retry: KeyManagerBuilder::DEFAULT_STALE_RETRY_INTERVAL,
                serve_expired: false,
                grace_period: KeyManagerBuilder::DEFAULT_GRACE_PERIOD,
                created_at_suffix: CreatedAt::DEFAULT_COMPANION_SUFFIX.to_owned(),
                created_at_companion: true,
                redactor: Redactor::builder(),
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
    /// ([`DEFAULT_TTL`](Self::DEFAULT_TTL): 5 minutes).
    pub fn with_ttl(mut self, ttl: Duration) -> KeyManagerBuilder {
        self.settings.ttl = ttl;
        self
    }

    /// Sets how many keys the cache holds ([`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY): 1024).
    /// When it is full, the key fetched
    /// longest ago is dropped.
    pub fn with_capacity(mut self, capacity: usize) -> KeyManagerBuilder {
        self.settings.capacity = capacity;
        self
    }

    /// Sets the rotation policy of keys without a policy of their own.
    pub fn with_policy(mut self, policy: RotationPolicy) -> KeyManagerBuilder {
        self.settings.default_policy = policy;
        self
    }

    /// Sets the rotation policy of the key `name`.
    pub fn with_policy_for(
        mut self,
        name: impl Into<String>,
        policy: RotationPolicy,
    ) -> KeyManagerBuilder {
        self.settings.policies.insert(name.into(), policy);
        self
    }

    /// Sets how long after a key stopped being fresh its last good value may be served while the
    /// provider fails temporarily ([`DEFAULT_MAX_STALE`](Self::DEFAULT_MAX_STALE): 1 hour). Zero
    /// turns stale serving off.
    ///
    /// Only errors that are [temporary](Error::is_temporary) are covered: a timeout, an
    /// unreachable server, a 5xx or 429. A refused credential ([`ErrorKind::PermissionDenied`])
    /// or a deleted key ([`ErrorKind::NotFound`]) reaches the caller at once and drops the cached
    /// value, so that a revoked token stops serving the key on the next fetch.
    pub fn with_max_stale(mut self, max_stale: Duration) -> KeyManagerBuilder {
        self.settings.max_stale = max_stale;
        self
    }

    /// Sets how long a stale value is served before the provider is asked again
    /// ([`DEFAULT_STALE_RETRY_INTERVAL`](Self::DEFAULT_STALE_RETRY_INTERVAL): 30 seconds; at
    /// most the TTL), so that a failing provider is not asked on every read.
    pub fn with_stale_retry_interval(mut self, interval: Duration) -> KeyManagerBuilder {
        self.settings.stale_retry = interval;
        self
    }

    /// Serves expired keys, with an [`KeyEvent::Expired`] event, instead of refusing them with
    /// [`ErrorKind::Expired`] (the default, `false`).
    pub fn with_serve_expired(mut self, serve: bool) -> KeyManagerBuilder {
        self.settings.serve_expired = serve;
        self
    }

    /// Sets how long a rotated-out value stays in [`KeyManager::retired_keys`], and a value
    /// that left the cache stays known to the [redactor](KeyManager::redactor)
    /// ([`DEFAULT_GRACE_PERIOD`](Self::DEFAULT_GRACE_PERIOD): 24 hours), so that output still
    /// carrying it is caught while it may still work.
    pub fn with_grace_period(mut self, grace: Duration) -> KeyManagerBuilder {
        self.settings.grace_period = grace;
        self
    }

    /// Sets the suffix of the companion key that holds a key's creation date when the provider's
    /// metadata does not (default: [`CreatedAt::DEFAULT_COMPANION_SUFFIX`], `_CREATED_AT`, as
    /// in `OPENAI_API_KEY_CREATED_AT`).
    pub fn with_created_at_suffix(mut self, suffix: impl Into<String>) -> KeyManagerBuilder {
        self.settings.created_at_suffix = suffix.into();
        self
    }

    /// Whether to look up the companion creation-date key of a key whose metadata has no
    /// creation date (default: `true`). With `false`, such a key's age is unknown.
    pub fn with_created_at_companion(mut self, look_up: bool) -> KeyManagerBuilder {
        self.settings.created_at_companion = look_up;
        self
    }

    /// Sets what the manager's [redactor](KeyManager::redactor) is like: `template`'s minimum
    /// length, fragments, encodings, replacement and detection of unknown keys, and the secrets
    /// registered in it, which are always redacted besides the manager's keys (default:
    /// [`Redactor::builder`], a minimum of 8 characters, fragments and every encoding, no
    /// detection). The grace period stays the manager's
    /// ([`with_grace_period`](Self::with_grace_period)).
    ///
    /// A key shorter than the minimum length cannot be redacted and is left out of the
    /// redactor: lower it for short keys, such as PINs, that you would rather see redacted in
    /// ordinary text too.
    ///
    /// ```
    /// use keyward::{KeyManager, MemoryProvider, Redactor};
    ///
    /// let pin = "Qz7-4xK"; // 7 characters: below the default minimum of 8
    /// let manager = KeyManager::builder(MemoryProvider::new().with("DOOR_PIN", pin))
    ///     .with_redactor(Redactor::builder().with_min_len(6).with_unknown_detection(true))
    ///     .build()?;
    /// manager.get("DOOR_PIN")?;
    ///
    /// let redactor = manager.redactor().current();
    /// let theirs = format!("ghp_{}", "q7Rt2mXz9K".repeat(4)); // never registered
    /// assert_eq!(
    ///     redactor.redact(&format!("pin {pin}, token {theirs}")),
    ///     "pin [REDACTED:DOOR_PIN], token [REDACTED:GitHub token]"
    /// );
    /// # Ok::<(), keyward::Error>(())
    /// ```
    pub fn with_redactor(mut self, template: RedactorBuilder) -> KeyManagerBuilder {
        self.settings.redactor = template;
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
    /// [`ErrorKind::InvalidInput`] for a TTL of zero, a capacity of zero, a span of time
    /// longer than 100,000 years (too long to add to a time), a rotation policy that fails
    /// [`RotationPolicy::validate`], or redactor settings ([`with_redactor`](Self::with_redactor))
    /// that cannot build a redactor.
    pub fn build(self) -> Result<KeyManager> {
        let config = self.settings.check()?;
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

impl Settings {
    /// The checks of [`KeyManagerBuilder::build`].
    fn check(self) -> Result<Config> {
        let invalid = |problem: &str| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("invalid key manager: {problem}"),
            )
        };
        let span = |what: &str, duration: Duration| {
            span(what, duration).map_err(|err| invalid(err.message()))
        };
        if self.ttl.is_zero() {
            return Err(invalid("the cache TTL must not be zero"));
        }
        if self.capacity == 0 {
            return Err(invalid("the cache capacity must be at least 1"));
        }
        self.redactor
            .validate()
            .map_err(|err| invalid(&format!("the redactor settings: {}", err.message())))?;
        self.default_policy.validate()?;
        for (name, policy) in &self.policies {
            policy.validate().map_err(|err| {
                Error::new(err.kind(), format!("{err} (for {})", quote_name(name)))
            })?;
        }
        Ok(Config {
            ttl: span("the cache TTL", self.ttl)?,
            capacity: self.capacity,
            default_policy: self.default_policy,
            policies: self.policies,
            max_stale: span("max_stale", self.max_stale)?,
            stale_retry: span("the stale retry interval", self.stale_retry)?,
            serve_expired: self.serve_expired,
            grace_period: span("the grace period", self.grace_period)?,
            created_at_suffix: self.created_at_companion.then_some(self.created_at_suffix),
            redactor: self.redactor,
        })
    }
}

impl fmt::Debug for KeyManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyManagerBuilder")
            .field("provider", &self.source.name())
            .field("clock", &self.clock)
            .field("settings", &self.settings)
            .field("hooks", &self.hooks.len())
            .finish()
    }
}
