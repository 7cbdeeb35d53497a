//! What a usage event says: which key (by label, fingerprint and mask), who, what, and how it
//! went. Never the value.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::key_name::MAX_KEY_NAME_LEN;
use crate::mask::Fingerprint;
use crate::secret::SecretString;

/// Cuts a name longer than [`MAX_KEY_NAME_LEN`] bytes (at a character boundary, ending in
/// `...`): the log keeps names, and a hostile one must not make its memory grow without bound.
fn bounded(name: Arc<str>) -> Arc<str> {
    if name.len() <= MAX_KEY_NAME_LEN {
        return name;
    }
    let mut end = MAX_KEY_NAME_LEN - 3;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    Arc::from(format!("{}...", &name[..end]))
}

/// A key as the usage log knows it: its label, and when the value was at hand, its fingerprint
/// and masked preview.
///
/// Build it once per key and reuse it: the fingerprint and the mask are computed here, not on
/// every use. Cloning is cheap.
///
/// ```
/// use keyward::SecretString;
/// use keyward::usage::KeyId;
///
/// let value = SecretString::from(format!("sk-proj-{}", "Ab3d".repeat(10)));
/// let id = KeyId::new("OPENAI_API_KEY", &value);
/// assert_eq!(id.label(), "OPENAI_API_KEY");
/// assert_eq!(id.fingerprint(), Some(value.fingerprint()));
/// assert_eq!(id.masked(), Some("sk-proj-Ab****Ab3d"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct KeyId {
    label: Arc<str>,
    seen: Option<Arc<SeenValue>>,
}

#[derive(PartialEq, Eq)]
struct SeenValue {
    fingerprint: Fingerprint,
    masked: Box<str>,
}

impl KeyId {
    /// The key called `label` whose value is `value`.
    ///
    /// A label longer than [`MAX_KEY_NAME_LEN`] bytes is cut, as are the
    /// agent and operation names of a [`Usage`].
    pub fn new(label: impl Into<Arc<str>>, value: &SecretString) -> KeyId {
        KeyId {
            label: bounded(label.into()),
            seen: Some(Arc::new(SeenValue {
                fingerprint: value.fingerprint(),
                masked: value.masked().into_boxed_str(),
            })),
        }
    }

    /// The key called `label`, whose value was not read: for denials, where the value must not
    /// be touched.
    pub fn unread(label: impl Into<Arc<str>>) -> KeyId {
        KeyId {
            label: bounded(label.into()),
            seen: None,
        }
    }

    /// The key's name.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub(crate) fn label_arc(&self) -> &Arc<str> {
        &self.label
    }

    /// The fingerprint of the value, if it was read.
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        self.seen.as_ref().map(|seen| seen.fingerprint)
    }

    /// The masked preview of the value, if it was read.
    pub fn masked(&self) -> Option<&str> {
        self.seen.as_ref().map(|seen| &*seen.masked)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyId")
            .field("label", &self.label)
            .field("fingerprint", &self.fingerprint())
            .field("masked", &self.masked())
            .finish()
    }
}

/// How a use of a key ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case", tag = "kind"))]
#[non_exhaustive]
pub enum Outcome {
    /// The call made with the key succeeded.
    Success,
    /// The call made with the key failed.
    Failure {
        /// Why, broadly.
        class: FailureClass,
    },
    /// A scope refused the key or the operation; the key was not used.
    Denied,
}

impl Outcome {
    /// A failure of class `class`.
    pub fn failure(class: FailureClass) -> Outcome {
        Outcome::Failure { class }
    }

    /// Whether this is a [`Failure`](Outcome::Failure).
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failure { .. })
    }

    /// `success`, `failure` or `denied`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure { .. } => "failure",
            Outcome::Denied => "denied",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Success => f.write_str("success"),
            Outcome::Failure { class } => write!(f, "failure ({class})"),
            Outcome::Denied => f.write_str("denied"),
        }
    }
}

/// A broad class of failure, the same for every API, so failures can be counted and alerted on
/// without parsing provider-specific errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum FailureClass {
    /// The API did not accept the key (HTTP 401): revoked, mistyped or expired.
    Unauthorized,
    /// The key is valid but may not do this (HTTP 403).
    Forbidden,
    /// Rate limit or quota exceeded (HTTP 429).
    RateLimited,
    /// The request was refused as malformed (other HTTP 4xx).
    BadRequest,
    /// The API failed (HTTP 5xx).
    Server,
    /// The request timed out.
    Timeout,
    /// The connection failed.
    Network,
    /// The use was started and never finished: an early return or a panic in between.
    Abandoned,
    /// Anything else.
    Other,
}

impl FailureClass {
    /// The class of an HTTP error status, or `None` for a status that is not an error.
    ///
    /// ```
    /// use keyward::usage::FailureClass;
    ///
    /// assert_eq!(FailureClass::from_http_status(429), Some(FailureClass::RateLimited));
    /// assert_eq!(FailureClass::from_http_status(503), Some(FailureClass::Server));
    /// assert_eq!(FailureClass::from_http_status(200), None);
    /// ```
    pub fn from_http_status(status: u16) -> Option<FailureClass> {
        Some(match status {
            401 => FailureClass::Unauthorized,
            403 => FailureClass::Forbidden,
            429 => FailureClass::RateLimited,
            408 => FailureClass::Timeout,
            400..=499 => FailureClass::BadRequest,
            500..=599 => FailureClass::Server,
            _ => return None,
        })
    }

    /// A short lowercase name, stable for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Unauthorized => "unauthorized",
            FailureClass::Forbidden => "forbidden",
            FailureClass::RateLimited => "rate limited",
            FailureClass::BadRequest => "bad request",
            FailureClass::Server => "server error",
            FailureClass::Timeout => "timeout",
            FailureClass::Network => "network error",
            FailureClass::Abandoned => "abandoned",
            FailureClass::Other => "other",
        }
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a key stands in its rotation, as the caller knows it when the key is used.
///
/// This mirrors the rotation module's `RotationStatus` without its `Unknown` (a use with no
/// known state simply has none), so that the usage log does not depend on the rotation module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum RotationState {
    /// Within its rotation policy.
    Current,
    /// Within the policy's warning period: to be rotated soon, no alert yet.
    DueSoon,
    /// Due for rotation: still valid, should be replaced now.
    Due,
    /// Past its expiry date or maximum age.
    Expired,
}

impl RotationState {
    /// Whether the key is due or expired: what [`AlertRule::RotationDue`](crate::usage::AlertRule::RotationDue)
    /// fires on.
    pub fn needs_rotation(self) -> bool {
        matches!(self, RotationState::Due | RotationState::Expired)
    }

    /// A short lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RotationState::Current => "current",
            RotationState::DueSoon => "due soon",
            RotationState::Due => "due",
            RotationState::Expired => "expired",
        }
    }
}

impl fmt::Display for RotationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a recorded event is: an agent's use of a key, or the key manager's own work with it.
///
/// Only [uses](EventKind::Use) are an agent's calls: they alone are counted in the report's
/// `total`, `operations`, `agents` and each key's `stats`, and they alone are what the alert
/// rules look at. The key manager's fetches and rotation checks are counted apart
/// ([`UsageReport::manager`](crate::usage::UsageReport::manager)), so that a manager refreshing a
/// key now and then does not water down an agent's failure rate or count towards its bursts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum EventKind {
    /// An agent used the key for a call, or a scope refused it ([`Usage::new`]).
    Use,
    /// The key manager fetched the key from its source ([`Usage::fetch`]).
    Fetch,
    /// The key manager found that the key's rotation status changed ([`Usage::rotation_check`]).
    RotationCheck,
}

impl EventKind {
    /// `use`, `fetch` or `rotation check`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Use => "use",
            EventKind::Fetch => "fetch",
            EventKind::RotationCheck => "rotation check",
        }
    }

    /// Whether this is an agent's use, which counters and alert rules look at.
    pub fn is_use(self) -> bool {
        self == EventKind::Use
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The agent name of the key manager's events ([`Usage::fetch`], [`Usage::rotation_check`]).
const MANAGER_AGENT: &str = "key-manager";

/// One use of a key, as the caller describes it to [`UsageLog::record`](crate::UsageLog::record).
///
/// The log stamps it with the time from its clock, turning it into a [`UsageEvent`].
///
/// ```
/// use std::time::Duration;
/// use keyward::{SecretString, UsageLog};
/// use keyward::usage::{FailureClass, KeyId, Outcome, Usage};
///
/// let value = SecretString::from(format!("sk-proj-{}", "Ab3d".repeat(10)));
/// let key = KeyId::new("OPENAI_API_KEY", &value);
/// let log = UsageLog::new();
/// log.record(Usage::new(&key, "researcher", "chat").with_latency(Duration::from_millis(420)));
/// log.record(
///     Usage::new(&key, "researcher", "chat")
///         .with_outcome(Outcome::failure(FailureClass::RateLimited)),
/// );
/// assert_eq!(log.report().total.failures, 1);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a usage does nothing until it is recorded"]
pub struct Usage {
    pub(super) key: KeyId,
    pub(super) agent: Arc<str>,
    pub(super) operation: Arc<str>,
    pub(super) outcome: Outcome,
    pub(super) latency: Option<Duration>,
    pub(super) rotation: Option<RotationState>,
    pub(super) kind: EventKind,
}

impl Usage {
    /// A successful use of `key` by `agent` for `operation`; change the outcome with
    /// [`with_outcome`](Usage::with_outcome).
    pub fn new(key: &KeyId, agent: impl Into<Arc<str>>, operation: impl Into<Arc<str>>) -> Usage {
        Usage {
            key: key.clone(),
            agent: bounded(agent.into()),
            operation: bounded(operation.into()),
            outcome: Outcome::Success,
            latency: None,
            rotation: None,
            kind: EventKind::Use,
        }
    }

    /// A fetch of `key` from its source by a key manager: an [`EventKind::Fetch`], counted
    /// apart from the agents' uses and never looked at by the alert rules. Its agent is
    /// `key-manager` and its operation `fetch`; set the outcome of a failed fetch with
    /// [`with_outcome`](Usage::with_outcome), and the key's rotation state, when the fetch
    /// knows it, with [`with_rotation`](Usage::with_rotation).
    ///
    /// A successful fetch tells the log the key's rotation state (none for a key of unknown
    /// age), which [`AlertRule::RotationDue`](super::AlertRule::RotationDue) applies to the
    /// agents' later uses of the key.
    ///
    /// ```
    /// use keyward::usage::{KeyId, Usage};
    /// use keyward::{SecretString, UsageLog};
    ///
    /// let value = SecretString::from(format!("sk-proj-{}", "Ab3d".repeat(10)));
    /// let key = KeyId::new("OPENAI_API_KEY", &value);
    /// let log = UsageLog::new();
    /// log.record(Usage::fetch(&key));
    /// log.record(Usage::new(&key, "researcher", "chat"));
    /// let report = log.report();
    /// assert_eq!(report.total.uses, 1, "the fetch is not an agent's use");
    /// assert_eq!(report.manager.fetches, 1);
    /// ```
    pub fn fetch(key: &KeyId) -> Usage {
        Usage {
            kind: EventKind::Fetch,
            ..Usage::new(key, MANAGER_AGENT, "fetch")
        }
    }

    /// A key manager's finding that `key` entered rotation state `state`: an
    /// [`EventKind::RotationCheck`], counted apart from the agents' uses. The log keeps the
    /// state for [`AlertRule::RotationDue`](super::AlertRule::RotationDue), which fires when an
    /// agent uses the key while it is due or expired.
    pub fn rotation_check(key: &KeyId, state: RotationState) -> Usage {
        Usage {
            kind: EventKind::RotationCheck,
            ..Usage::new(key, MANAGER_AGENT, "rotation-check").with_rotation(state)
        }
    }

    /// Sets how the use ended.
    pub fn with_outcome(mut self, outcome: Outcome) -> Usage {
        self.outcome = outcome;
        self
    }

    /// Sets how long the call took.
    pub fn with_latency(mut self, latency: Duration) -> Usage {
        self.latency = Some(latency);
        self
    }

    /// Sets the key's rotation state, for [`AlertRule::RotationDue`](crate::usage::AlertRule::RotationDue).
    pub fn with_rotation(mut self, rotation: RotationState) -> Usage {
        self.rotation = Some(rotation);
        self
    }
}

/// A recorded use of a key: a [`Usage`] and the time the log recorded it.
///
/// It holds the key's label, fingerprint and masked preview, never its value. With feature
/// `serde` it serializes flat, for JSON lines: `time`, `kind` (`use`, `fetch`,
/// `rotation_check`), `key`, `fingerprint`, `masked`, `agent`, `operation`, `outcome`
/// (`success`, `failure`, `denied`), `failure_class`, `latency_ms`, `rotation`.
#[derive(Debug, Clone)]
pub struct UsageEvent {
    time: DateTime<Utc>,
    usage: Usage,
}

impl UsageEvent {
    pub(super) fn new(time: DateTime<Utc>, usage: Usage) -> UsageEvent {
        UsageEvent { time, usage }
    }

    /// When the log recorded it.
    pub fn time(&self) -> DateTime<Utc> {
        self.time
    }

    /// The key's label, fingerprint and preview.
    pub fn key(&self) -> &KeyId {
        &self.usage.key
    }

    /// The key's name.
    pub fn label(&self) -> &str {
        self.usage.key.label()
    }

    /// The fingerprint of the value, if it was read (not for denials).
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        self.usage.key.fingerprint()
    }

    /// The masked preview of the value, if it was read (not for denials).
    pub fn masked(&self) -> Option<&str> {
        self.usage.key.masked()
    }

    /// The agent that used the key.
    pub fn agent(&self) -> &str {
        &self.usage.agent
    }

    /// What the key was used for.
    pub fn operation(&self) -> &str {
        &self.usage.operation
    }

    /// How the use ended.
    pub fn outcome(&self) -> Outcome {
        self.usage.outcome
    }

    /// How long the call took, if the caller said.
    pub fn latency(&self) -> Option<Duration> {
        self.usage.latency
    }

    /// The key's rotation state, if the caller said.
    pub fn rotation(&self) -> Option<RotationState> {
        self.usage.rotation
    }

    /// Whether this is an agent's use or the key manager's fetch or rotation check.
    pub fn kind(&self) -> EventKind {
        self.usage.kind
    }
}

impl fmt::Display for UsageEvent {
    /// One line: time, the kind unless a use, agent, operation, key, fingerprint, outcome,
    /// latency.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            self.time
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        )?;
        if !self.kind().is_use() {
            write!(f, " [{}]", self.kind())?;
        }
        write!(
            f,
            " agent={} op={} key={}",
            // Names come from callers: escaped, so that none can forge a second line.
            self.agent().escape_debug(),
            self.operation().escape_debug(),
            self.label().escape_debug(),
        )?;
        if let Some(fingerprint) = self.fingerprint() {
            write!(f, " fp={fingerprint}")?;
        }
        write!(f, " {}", self.outcome())?;
        if let Some(latency) = self.latency() {
            write!(f, " in {latency:?}")?;
        }
        Ok(())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for UsageEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;

        let failure_class = match self.outcome() {
            Outcome::Failure { class } => Some(class),
            _ => None,
        };
        let mut event = serializer.serialize_struct("UsageEvent", 11)?;
        event.serialize_field("time", &self.time)?;
        event.serialize_field("kind", &self.kind())?;
        event.serialize_field("key", self.label())?;
        event.serialize_field("fingerprint", &self.fingerprint())?;
        event.serialize_field("masked", &self.masked())?;
        event.serialize_field("agent", self.agent())?;
        event.serialize_field("operation", self.operation())?;
        event.serialize_field("outcome", self.outcome().as_str())?;
        event.serialize_field("failure_class", &failure_class)?;
        event.serialize_field(
            "latency_ms",
            &self.latency().map(|latency| latency.as_secs_f64() * 1000.0),
        )?;
        event.serialize_field("rotation", &self.rotation())?;
        event.end()
    }
}
