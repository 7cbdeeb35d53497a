//! Key rotation: when a key was created, how old it is, and whether it is due for rotation.
//!
//! The usual way of tracking key age records `created_at = now` when the key is fetched, so a
//! two-year-old key looks brand new after every restart. A [`ManagedKey`] records its creation
//! time with where it came from ([`CreatedAt`]): the source's metadata, a companion key such as
//! `OPENAI_API_KEY_CREATED_AT`, or, when neither exists, the time the manager first saw the key,
//! which is reported as an unknown age rather than passed off as the real one.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::clock::{saturating_span, span};
use crate::error::{Error, ErrorKind, Result, quote_name};
use crate::format::{KeyFormat, validate_format};
use crate::mask::Fingerprint;
use crate::secret::{Secret, SecretMeta, SecretString};

/// When keys should be rotated: after a period, with a warning some time before, and optionally a
/// hard maximum age after which a key counts as expired.
///
/// Periods are [`Duration`]s; [`every_days`](Self::every_days) and [`DAY`](Self::DAY) spell
/// the usual ones in days, without chrono.
///
/// ```
/// use std::time::Duration;
/// use keyward::RotationPolicy;
///
/// let policy = RotationPolicy::default();
/// assert_eq!(policy.rotate_after(), Duration::from_secs(90 * 86_400));
/// assert_eq!(policy.warn_before(), 14 * RotationPolicy::DAY);
/// assert_eq!(policy.max_age(), None);
/// assert_eq!(policy, RotationPolicy::every_days(90));
///
/// let strict = RotationPolicy::every(30 * RotationPolicy::DAY)
///     .with_warn_before(7 * RotationPolicy::DAY)
///     .with_max_age(45 * RotationPolicy::DAY);
/// assert_eq!(strict.max_age(), Some(Duration::from_secs(45 * 86_400)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RotationPolicy {
    rotate_after: Duration,
    warn_before: Duration,
    max_age: Option<Duration>,
}

impl Default for RotationPolicy {
    /// Rotate after 90 days, warn 14 days before, no hard maximum age.
    fn default() -> RotationPolicy {
        RotationPolicy::every_days(90)
    }
}

impl RotationPolicy {
    /// One day, to write periods in days: `30 * RotationPolicy::DAY`.
    pub const DAY: Duration = Duration::from_secs(86_400);

    /// Rotate after `rotate_after`, warning 14 days before, with no hard maximum age.
    pub const fn every(rotate_after: Duration) -> RotationPolicy {
        RotationPolicy {
            rotate_after,
            warn_before: Duration::from_secs(14 * 86_400),
            max_age: None,
        }
    }

    /// Rotate after `days` days, warning 14 days before, with no hard maximum age: the same as
    /// `RotationPolicy::every(days * RotationPolicy::DAY)`.
    pub const fn every_days(days: u32) -> RotationPolicy {
        // At most 2^32 days, which cannot overflow a `u64` of seconds.
        RotationPolicy::every(Duration::from_secs(days as u64 * 86_400))
    }

    /// Sets how long before the due date a key counts as [`RotationStatus::DueSoon`].
    pub fn with_warn_before(mut self, warn_before: Duration) -> RotationPolicy {
        self.warn_before = warn_before;
        self
    }

    /// Sets the age after which a key counts as [`RotationStatus::Expired`].
    pub fn with_max_age(mut self, max_age: Duration) -> RotationPolicy {
        self.max_age = Some(max_age);
        self
    }

    /// The age at which a key is due for rotation.
    pub fn rotate_after(&self) -> Duration {
        self.rotate_after
    }

    /// How long before the due date the warning starts.
    pub fn warn_before(&self) -> Duration {
        self.warn_before
    }

    /// The age after which a key is expired, if the policy has one.
    pub fn max_age(&self) -> Option<Duration> {
        self.max_age
    }

    /// Checks that the periods make sense together. The
    /// [`KeyManagerBuilder`](crate::manager::KeyManagerBuilder) checks its policies when it builds.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] when `rotate_after` is zero, `max_age` is shorter than
    /// `rotate_after`, or a period is longer than 100,000 years.
    pub fn validate(&self) -> Result<()> {
        let invalid = |problem: String| {
            Err(Error::new(
                ErrorKind::InvalidInput,
                format!("invalid rotation policy: {problem}"),
            ))
        };
        let periods = [
            ("the rotation period", Some(self.rotate_after)),
            ("the warning period", Some(self.warn_before)),
            ("the maximum age", self.max_age),
        ];
        for (what, period) in periods {
            if let Some(Err(err)) = period.map(|period| span(what, period)) {
                return invalid(err.message().to_owned());
            }
        }
        if self.rotate_after.is_zero() {
            invalid("the rotation period must not be zero".to_owned())
        } else if self.max_age.is_some_and(|max| max < self.rotate_after) {
            invalid("the maximum age must not be shorter than the rotation period".to_owned())
        } else {
            Ok(())
        }
    }
}

/// When a key was created, and how that is known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(tag = "from", rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum CreatedAt {
    /// The source's metadata ([`SecretMeta::created_at`]) says when.
    Metadata {
        /// The creation time.
        at: DateTime<Utc>,
    },
    /// A companion key (such as `OPENAI_API_KEY_CREATED_AT`) says when.
    Companion {
        /// The companion key's name.
        key: String,
        /// The creation time.
        at: DateTime<Utc>,
    },
    /// Nobody says when: the key is at least as old as the time it was first seen.
    Unknown {
        /// When this process first saw the key.
        first_seen: DateTime<Utc>,
    },
}

impl CreatedAt {
    /// The suffix of the companion key that holds a key's creation date when its source's
    /// metadata does not: `OPENAI_API_KEY_CREATED_AT` for `OPENAI_API_KEY`. The
    /// [`KeyManager`](crate::KeyManager)'s default (see
    /// [`KeyManagerBuilder::with_created_at_suffix`](crate::manager::KeyManagerBuilder::with_created_at_suffix)).
    pub const DEFAULT_COMPANION_SUFFIX: &'static str = "_CREATED_AT";

    /// Parses a companion's creation date as the key manager does: RFC 3339
    /// (`2026-01-31T12:00:00Z`) or a plain date (`2026-01-31`, read as midnight UTC). `key`
    /// names the companion in the error.
    ///
    /// ```
    /// use keyward::rotation::CreatedAt;
    ///
    /// let at = CreatedAt::parse_companion("OPENAI_API_KEY_CREATED_AT", "2025-11-01")?;
    /// assert_eq!(at.to_rfc3339(), "2025-11-01T00:00:00+00:00");
    /// assert!(CreatedAt::parse_companion("K_CREATED_AT", "yesterday").is_err());
    /// # Ok::<(), keyward::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Parse`] naming `key` and the accepted forms; the text itself is never
    /// echoed.
    pub fn parse_companion(key: &str, text: &str) -> Result<DateTime<Utc>> {
        parse_created_at(key, text)
    }

    /// The creation time, when it is known.
    pub fn known(&self) -> Option<DateTime<Utc>> {
        match self {
            CreatedAt::Metadata { at } | CreatedAt::Companion { at, .. } => Some(*at),
            CreatedAt::Unknown { .. } => None,
        }
    }

    /// The creation time, or the first-seen time when the creation time is unknown: the key is at
    /// least as old as this.
    pub fn at_latest(&self) -> DateTime<Utc> {
        match self {
            CreatedAt::Metadata { at } | CreatedAt::Companion { at, .. } => *at,
            CreatedAt::Unknown { first_seen } => *first_seen,
        }
    }

    /// Whether the creation time is known.
    pub fn is_known(&self) -> bool {
        self.known().is_some()
    }
}

/// Where a key stands against its [`RotationPolicy`], from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
#[non_exhaustive]
pub enum RotationStatus {
    /// Younger than the warning threshold.
    Current,
    /// The creation time is unknown and the time the key has been known does not yet make it due.
    Unknown,
    /// Due within the policy's warning period.
    DueSoon,
    /// Older than the rotation period.
    Due,
    /// Past the source's expiry date or the policy's maximum age.
    Expired,
}

impl RotationStatus {
    /// A short lowercase name, stable for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RotationStatus::Current => "current",
            RotationStatus::Unknown => "unknown",
            RotationStatus::DueSoon => "due soon",
            RotationStatus::Due => "due",
            RotationStatus::Expired => "expired",
        }
    }

    /// Whether someone should act: [`DueSoon`](Self::DueSoon), [`Due`](Self::Due) or
    /// [`Expired`](Self::Expired).
    pub fn needs_attention(self) -> bool {
        matches!(
            self,
            RotationStatus::DueSoon | RotationStatus::Due | RotationStatus::Expired
        )
    }
}

impl fmt::Display for RotationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A secret as the [`KeyManager`](crate::KeyManager) holds it: the value, its metadata, when it
/// was created and fetched, and the rotation policy that applies.
///
/// `Debug` shows everything but the value.
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use keyward::{ManagedKey, RotationPolicy, Secret, SecretMeta};
/// use keyward::rotation::{CreatedAt, RotationStatus};
///
/// let created = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
/// let secret = Secret::new("not-a-real-key-000000", SecretMeta::new("memory"));
/// let key = ManagedKey::new(
///     "OPENAI_API_KEY",
///     secret,
///     CreatedAt::Metadata { at: created },
///     created + TimeDelta::days(80),
///     RotationPolicy::default(),
/// );
/// assert_eq!(key.age_at(created + TimeDelta::days(80)), Some(TimeDelta::days(80)));
/// assert_eq!(key.status_at(created + TimeDelta::days(80)), RotationStatus::DueSoon);
/// assert!(!format!("{key:?}").contains("not-a-real-key"));
/// ```
#[derive(Debug, Clone)]
pub struct ManagedKey {
    name: String,
    secret: Secret,
    created_at: CreatedAt,
    fetched_at: DateTime<Utc>,
    policy: RotationPolicy,
}

impl ManagedKey {
    /// Builds a managed key. The [`KeyManager`](crate::KeyManager) does this for you; it is
    /// public so that tests of your own event hooks can make keys.
    pub fn new(
        name: impl Into<String>,
        secret: Secret,
        created_at: CreatedAt,
        fetched_at: DateTime<Utc>,
        policy: RotationPolicy,
    ) -> ManagedKey {
        ManagedKey {
            name: name.into(),
            secret,
            created_at,
            fetched_at,
            policy,
        }
    }

    /// The key's name, as asked of the provider.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The secret with its metadata.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The value.
    pub fn value(&self) -> &SecretString {
        self.secret.value()
    }

    /// The value as text; see [`SecretString::expose_secret`].
    pub fn expose_secret(&self) -> &str {
        self.secret.expose_secret()
    }

    /// The metadata the provider returned.
    pub fn meta(&self) -> &SecretMeta {
        self.secret.meta()
    }

    /// The provider that supplied the key.
    pub fn source(&self) -> &str {
        &self.secret.meta().source
    }

    /// The version at the source, where the source versions its secrets.
    pub fn version(&self) -> Option<&str> {
        self.secret.meta().version.as_deref()
    }

    /// The [`Fingerprint`] of the value, safe to log.
    pub fn fingerprint(&self) -> Fingerprint {
        self.secret.value().fingerprint()
    }

    /// Checks that the value is a key of one of `formats`, and says which. The error names the
    /// key and its source, as [`SecretProviderExt::require_format`] does, and never the value.
    ///
    /// ```
    /// use keyward::{ErrorKind, KeyFormat, KeyManager, MemoryProvider};
    ///
    /// let github = format!("ghp_{}", "FaKe0".repeat(8));
    /// let manager = KeyManager::builder(MemoryProvider::new().with("OPENAI_API_KEY", github.as_str())).build()?;
    /// let key = manager.get("OPENAI_API_KEY")?;
    /// let err = key.validate(&[KeyFormat::OpenAi]).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidFormat);
    /// assert_eq!(
    ///     err.to_string(),
    ///     "secret `OPENAI_API_KEY` from memory: value does not have the expected format (OpenAI API key)"
    /// );
    /// assert_eq!(key.validate(&[KeyFormat::OpenAi, KeyFormat::GitHub])?, KeyFormat::GitHub);
    /// # Ok::<(), keyward::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidFormat`] naming the key, its source and the expected formats.
    ///
    /// [`SecretProviderExt::require_format`]: crate::SecretProviderExt::require_format
    pub fn validate(&self, formats: &[KeyFormat]) -> Result<KeyFormat> {
        validate_format(&self.name, self.source(), self.expose_secret(), formats)
    }

    /// When the key was created, and how that is known.
    pub fn created_at(&self) -> &CreatedAt {
        &self.created_at
    }

    /// When the value was fetched from the provider.
    pub fn fetched_at(&self) -> DateTime<Utc> {
        self.fetched_at
    }

    /// When the source says the key stops being valid.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.secret.meta().expires_at
    }

    /// The rotation policy that applies to this key.
    pub fn policy(&self) -> &RotationPolicy {
        &self.policy
    }

    /// The key's age at `now`, or `None` when the creation time is unknown.
    pub fn age_at(&self, now: DateTime<Utc>) -> Option<TimeDelta> {
        self.created_at.known().map(|created| now - created)
    }

    /// The key's age now, by the system clock; see [`age_at`](Self::age_at).
    pub fn age(&self) -> Option<TimeDelta> {
        self.age_at(system_now())
    }

    /// When the key is due for rotation, or `None` when the creation time is unknown.
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        self.created_at
            .known()
            .map(|created| later(created, self.policy.rotate_after))
    }

    /// When the key is due at the latest: for a key of unknown age, the rotation period counted
    /// from when it was first seen.
    pub fn due_at_latest(&self) -> DateTime<Utc> {
        later(self.created_at.at_latest(), self.policy.rotate_after)
    }

    /// When the key stops being usable: the earlier of the source's expiry date and the end of
    /// the policy's maximum age. For a key of unknown age the maximum age counts from when it was
    /// first seen, so this is the latest possible time.
    pub fn expired_from(&self) -> Option<DateTime<Utc>> {
        let by_age = self
            .policy
            .max_age
            .map(|max| later(self.created_at.at_latest(), max));
        match (self.expires_at(), by_age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the key is expired at `now`.
    pub fn is_expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expired_from().is_some_and(|from| now >= from)
    }

    /// Whether the key is expired now, by the system clock.
    pub fn is_expired(&self) -> bool {
        self.is_expired_at(system_now())
    }

    /// Whether the key is due (or overdue) for rotation at `now`: [`RotationStatus::Due`] or
    /// [`RotationStatus::Expired`].
    pub fn needs_rotation_at(&self, now: DateTime<Utc>) -> bool {
        self.status_at(now) >= RotationStatus::Due
    }

    /// Whether the key is due for rotation now, by the system clock.
    pub fn needs_rotation(&self) -> bool {
        self.needs_rotation_at(system_now())
    }

    /// Where the key stands against its policy at `now`.
    ///
    /// A key of unknown age is [`Unknown`](RotationStatus::Unknown) until the time it has been
    /// known alone makes it due or expired: it is at least that old.
    pub fn status_at(&self, now: DateTime<Utc>) -> RotationStatus {
        if self.is_expired_at(now) {
            return RotationStatus::Expired;
        }
        let due = self.due_at_latest();
        if now >= due {
            RotationStatus::Due
        } else if !self.created_at.is_known() {
            RotationStatus::Unknown
        } else if now >= earlier(due, self.policy.warn_before) {
            RotationStatus::DueSoon
        } else {
            RotationStatus::Current
        }
    }

    /// Where the key stands now, by the system clock.
    pub fn status(&self) -> RotationStatus {
        self.status_at(system_now())
    }

    /// Whether `other` holds a different value or version: the key was rotated at the source.
    /// Values are compared in constant time.
    pub fn differs_from(&self, other: &ManagedKey) -> bool {
        self.value() != other.value() || self.version() != other.version()
    }
}

/// The `_at`-less conveniences read the system clock; the manager always passes its own.
fn system_now() -> DateTime<Utc> {
    use crate::clock::{Clock, SystemClock};
    SystemClock.now()
}

/// One row of a [`RotationReport`]: what is known about a key's age, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct RotationEntry {
    /// The key's name.
    pub name: String,
    /// Where the key stands against its policy.
    pub status: RotationStatus,
    /// The age in whole days, when the creation time is known.
    pub age_days: Option<i64>,
    /// When the key was created, and how that is known.
    pub created_at: CreatedAt,
    /// When the key is due for rotation, when the creation time is known.
    pub due_at: Option<DateTime<Utc>>,
    /// When the key expires by the source's date or the policy's maximum age.
    pub expires_at: Option<DateTime<Utc>>,
    /// The provider that supplied the key.
    pub source: String,
    /// The version at the source.
    pub version: Option<String>,
}

impl RotationEntry {
    /// The row for `key` at `now`.
    pub fn new(key: &ManagedKey, now: DateTime<Utc>) -> RotationEntry {
        RotationEntry {
            name: key.name().to_owned(),
            status: key.status_at(now),
            age_days: key.age_at(now).map(|age| age.num_days()),
            created_at: key.created_at().clone(),
            due_at: key.due_at(),
            expires_at: key.expired_from(),
            source: key.source().to_owned(),
            version: key.version().map(str::to_owned),
        }
    }

    fn age_text(&self) -> String {
        match (&self.created_at, self.age_days) {
            (CreatedAt::Unknown { first_seen }, _) => {
                format!("unknown since {}", first_seen.format("%Y-%m-%d"))
            }
            (_, Some(1)) => "1 day".to_owned(),
            (_, Some(days)) => format!("{days} days"),
            (_, None) => "unknown".to_owned(),
        }
    }

    fn source_text(&self) -> String {
        match &self.created_at {
            CreatedAt::Companion { key, .. } => format!("{} (created: {key})", self.source),
            _ => self.source.clone(),
        }
    }
}

/// Which keys need rotation: every key a [`KeyManager`](crate::KeyManager) knows, its status,
/// age, due date and source. No values inside.
///
/// `Display` renders an aligned table; with the `serde` feature the report serializes to JSON.
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use keyward::{ManagedKey, RotationPolicy, Secret, SecretMeta};
/// use keyward::rotation::{CreatedAt, RotationReport};
///
/// let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
/// let key = ManagedKey::new(
///     "OPENAI_API_KEY",
///     Secret::new("not-a-real-key-000000", SecretMeta::new("env")),
///     CreatedAt::Metadata { at: now - TimeDelta::days(100) },
///     now,
///     RotationPolicy::default(),
/// );
/// let report = RotationReport::new(now, [&key]);
/// assert_eq!(report.needs_attention().count(), 1);
/// let table = report.to_string();
/// assert!(table.contains("OPENAI_API_KEY  due"));
/// assert!(table.contains("100 days"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RotationReport {
    generated_at: DateTime<Utc>,
    entries: Vec<RotationEntry>,
}

impl RotationReport {
    /// The report for `keys` at `now`, sorted by name.
    pub fn new<'a>(
        now: DateTime<Utc>,
        keys: impl IntoIterator<Item = &'a ManagedKey>,
    ) -> RotationReport {
        let mut entries: Vec<RotationEntry> = keys
            .into_iter()
            .map(|key| RotationEntry::new(key, now))
            .collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        RotationReport {
            generated_at: now,
            entries,
        }
    }

    /// When the report was made.
    pub fn generated_at(&self) -> DateTime<Utc> {
        self.generated_at
    }

    /// Every row, sorted by name.
    pub fn entries(&self) -> &[RotationEntry] {
        &self.entries
    }

    /// The row for `name`.
    pub fn entry(&self, name: &str) -> Option<&RotationEntry> {
        self.entries.iter().find(|entry| entry.name == name)
    }

    /// The rows whose status [needs attention](RotationStatus::needs_attention).
    pub fn needs_attention(&self) -> impl Iterator<Item = &RotationEntry> {
        self.entries
            .iter()
            .filter(|entry| entry.status.needs_attention())
    }

    /// The worst status in the report, `None` when it is empty.
    pub fn worst(&self) -> Option<RotationStatus> {
        self.entries.iter().map(|entry| entry.status).max()
    }
}

impl fmt::Display for RotationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEADER: [&str; 5] = ["NAME", "STATUS", "AGE", "DUE", "SOURCE"];
        let rows: Vec<[String; 5]> = self
            .entries
            .iter()
            .map(|entry| {
                [
                    entry.name.clone(),
                    entry.status.as_str().to_owned(),
                    entry.age_text(),
                    entry
                        .due_at
                        .map_or_else(|| "-".to_owned(), |due| due.format("%Y-%m-%d").to_string()),
                    entry.source_text(),
                ]
            })
            .collect();
        let mut widths = HEADER.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut write_row = |cells: [&str; 5]| -> fmt::Result {
            let last = cells.len() - 1;
            for (i, cell) in cells.iter().enumerate() {
                if i == last {
                    writeln!(f, "{cell}")?;
                } else {
                    write!(f, "{cell:<width$}  ", width = widths[i])?;
                }
            }
            Ok(())
        };
        write_row(HEADER)?;
        for row in &rows {
            write_row([&row[0], &row[1], &row[2], &row[3], &row[4]])?;
        }
        Ok(())
    }
}

/// `at + by`, or the last representable time. Creation dates come from the source (a
/// server's timestamp), and `DateTime + TimeDelta` panics past year 262143.
fn later(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    at.checked_add_signed(saturating_span(by))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `at - by`, or the first representable time.
pub(crate) fn earlier(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    at.checked_sub_signed(saturating_span(by))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Parses a companion creation date: RFC 3339 (`2026-01-31T12:00:00Z`) or a plain date
/// (`2026-01-31`, read as midnight UTC). `key` names the companion in the error; the text itself
/// is never echoed.
pub(crate) fn parse_created_at(key: &str, text: &str) -> Result<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Parse,
                format!(
                    "{} is not a date: expected RFC 3339 (2026-01-31T12:00:00Z) or YYYY-MM-DD",
                    quote_name(key)
                ),
            )
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    fn key(created_at: CreatedAt, policy: RotationPolicy) -> ManagedKey {
        let value = format!("sk-test-{}", "Zx9q".repeat(8));
        ManagedKey::new(
            "API_KEY",
            Secret::new(value, SecretMeta::new("memory")),
            created_at,
            t0(),
            policy,
        )
    }

    #[test]
    fn status_follows_the_policy() {
        let policy = RotationPolicy::default().with_max_age(120 * RotationPolicy::DAY);
        let k = key(CreatedAt::Metadata { at: t0() }, policy);
        let day = |n| t0() + TimeDelta::days(n);
        assert_eq!(k.status_at(day(0)), RotationStatus::Current);
        assert_eq!(k.status_at(day(75)), RotationStatus::Current);
        assert_eq!(k.status_at(day(76)), RotationStatus::DueSoon);
        assert_eq!(k.status_at(day(90)), RotationStatus::Due);
        assert!(k.needs_rotation_at(day(90)));
        assert!(!k.needs_rotation_at(day(89)));
        assert_eq!(k.status_at(day(120)), RotationStatus::Expired);
        assert!(k.is_expired_at(day(120)));
        assert_eq!(k.age_at(day(3)), Some(TimeDelta::days(3)));
        assert_eq!(k.due_at(), Some(day(90)));
    }

    #[test]
    fn dates_at_the_end_of_time_do_not_panic() {
        // A hostile or broken source can send any timestamp chrono can hold.
        let policy = RotationPolicy::default().with_max_age(120 * RotationPolicy::DAY);
        let last = DateTime::<Utc>::MAX_UTC - TimeDelta::days(1);
        let k = key(CreatedAt::Metadata { at: last }, policy);
        assert_eq!(k.due_at(), Some(DateTime::<Utc>::MAX_UTC));
        assert_eq!(k.expired_from(), Some(DateTime::<Utc>::MAX_UTC));
        assert_eq!(k.status_at(t0()), RotationStatus::Current);
        assert_eq!(k.status_at(last), RotationStatus::DueSoon);

        let warn_long = RotationPolicy::default().with_warn_before(100 * RotationPolicy::DAY);
        let first = DateTime::<Utc>::MIN_UTC;
        let k = key(CreatedAt::Metadata { at: first }, warn_long);
        assert_eq!(k.status_at(t0()), RotationStatus::Due);
        assert_eq!(k.status_at(first), RotationStatus::DueSoon);
    }

    #[test]
    fn unknown_age_is_not_passed_off_as_new() {
        let k = key(
            CreatedAt::Unknown { first_seen: t0() },
            RotationPolicy::default(),
        );
        let day = |n| t0() + TimeDelta::days(n);
        assert_eq!(k.age_at(day(1)), None);
        assert_eq!(k.due_at(), None);
        assert_eq!(k.status_at(day(1)), RotationStatus::Unknown);
        assert_eq!(k.status_at(day(80)), RotationStatus::Unknown);
        // Known for 90 days: at least 90 days old, so due whatever its real age.
        assert_eq!(k.status_at(day(90)), RotationStatus::Due);
    }

    #[test]
    fn source_expiry_wins_over_age() {
        let mut k = key(CreatedAt::Metadata { at: t0() }, RotationPolicy::default());
        k.secret
            .meta_mut()
            .expires_at
            .replace(t0() + TimeDelta::days(5));
        assert_eq!(
            k.status_at(t0() + TimeDelta::days(4)),
            RotationStatus::Current
        );
        assert_eq!(
            k.status_at(t0() + TimeDelta::days(5)),
            RotationStatus::Expired
        );
    }

    #[test]
    fn policies_are_validated() {
        assert!(RotationPolicy::default().validate().is_ok());
        for bad in [
            RotationPolicy::every(Duration::ZERO),
            RotationPolicy::default().with_max_age(30 * RotationPolicy::DAY),
            RotationPolicy::every(Duration::MAX),
            RotationPolicy::default().with_warn_before(Duration::MAX),
            RotationPolicy::default().with_max_age(Duration::from_secs(u64::MAX)),
        ] {
            assert_eq!(bad.validate().unwrap_err().kind(), ErrorKind::InvalidInput);
        }
        let err = RotationPolicy::every(Duration::MAX).validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid rotation policy: the rotation period of 18446744073709551615 seconds is too \
             long: at most 100000 years"
        );
        // The longest accepted period still saturates rather than panics at the end of time.
        let longest = RotationPolicy::every(Duration::from_secs(100_000 * 365 * 86_400));
        longest.validate().unwrap();
        let k = key(CreatedAt::Metadata { at: t0() }, longest);
        assert_eq!(k.status_at(DateTime::<Utc>::MAX_UTC), RotationStatus::Due);
    }

    #[test]
    fn companion_dates_parse_in_both_forms() {
        assert_eq!(parse_created_at("K", "2026-01-01").unwrap(), t0());
        assert_eq!(
            parse_created_at("K", " 2026-01-01T00:00:00Z\n").unwrap(),
            t0()
        );
        assert_eq!(
            parse_created_at("K", "2026-01-01T02:00:00+02:00").unwrap(),
            t0()
        );
        let err = parse_created_at("K_CREATED_AT", "sk-secret-looking-text").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Parse);
        assert!(err.to_string().contains("`K_CREATED_AT`"));
        assert!(!err.to_string().contains("sk-secret"));
    }

    #[test]
    fn report_table_is_aligned_and_has_no_values() {
        let now = t0() + TimeDelta::days(100);
        let known = key(CreatedAt::Metadata { at: t0() }, RotationPolicy::default());
        let mut unknown = key(
            CreatedAt::Unknown {
                first_seen: t0() + TimeDelta::days(99),
            },
            RotationPolicy::default(),
        );
        unknown.name = "OTHER_TOKEN_WITH_LONG_NAME".to_owned();
        let report = RotationReport::new(now, [&unknown, &known]);
        let table = report.to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].starts_with("API_KEY "));
        let status_col = lines[0].find("STATUS").unwrap();
        assert_eq!(lines[1].find("due").unwrap(), status_col);
        assert_eq!(lines[2].find("unknown").unwrap(), status_col);
        assert!(lines[2].contains("unknown since 2026-04-10"));
        assert!(lines[1].contains("100 days"));
        assert!(lines[1].contains("2026-04-01"));
        assert!(!table.contains(known.expose_secret()));
        assert_eq!(report.worst(), Some(RotationStatus::Due));
    }
}
