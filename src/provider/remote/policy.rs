//! Timeouts and retries, shared by every remote backend so that they behave alike.
// With `aws` alone the retry loop is unused: the AWS SDK runs its own, configured from this policy.
#![cfg_attr(
    not(any(feature = "vault", feature = "azure", feature = "gcp")),
    allow(dead_code, unused_imports)
)]

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};

/// How a remote provider times out and retries its calls.
///
/// Each attempt is bounded by [`timeout`](RemotePolicy::timeout). Transient failures
/// (connection errors, timeouts, 5xx answers, throttling) are retried up to
/// [`max_attempts`](RemotePolicy::max_attempts) in all, with exponential backoff and jitter;
/// answers that retrying cannot fix (401, 403, 404, a malformed request) are not retried.
/// A server that says when to come back (`Retry-After`) is waited for, up to
/// [`max_retry_after`](RemotePolicy::max_retry_after); one that asks for longer fails the call at
/// once rather than holding the caller.
///
/// ```
/// use std::time::Duration;
/// use keyward::provider::RemotePolicy;
///
/// let policy = RemotePolicy::default()
///     .with_timeout(Duration::from_secs(2))
///     .with_max_attempts(4);
/// assert_eq!(policy.timeout(), Duration::from_secs(2));
/// assert_eq!(policy.max_attempts(), 4);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemotePolicy {
    timeout: Duration,
    connect_timeout: Duration,
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
}

impl Default for RemotePolicy {
    /// A 5 s timeout per attempt, 3 attempts, backoff from 100 ms up to 2 s, and a server's
    /// `Retry-After` honoured up to 10 s.
    fn default() -> RemotePolicy {
        RemotePolicy {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

impl RemotePolicy {
    /// Sets the time one attempt may take, connecting included (default 5 s).
    pub fn with_timeout(mut self, timeout: Duration) -> RemotePolicy {
        self.timeout = timeout;
        self
    }

    /// Sets the time establishing a connection may take (default 2 s, never more than the
    /// timeout).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> RemotePolicy {
        self.connect_timeout = timeout;
        self
    }

    /// Sets how many attempts a call makes in all, the first included (default 3; at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> RemotePolicy {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the backoff before the first retry; later ones double it (default 100 ms).
    pub fn with_initial_backoff(mut self, backoff: Duration) -> RemotePolicy {
        self.initial_backoff = backoff;
        self
    }

    /// Sets the longest backoff between two attempts (default 2 s).
    pub fn with_max_backoff(mut self, backoff: Duration) -> RemotePolicy {
        self.max_backoff = backoff;
        self
    }

    /// Sets the longest `Retry-After` the provider waits for (default 10 s). A server that asks
    /// for a longer pause fails the call at once, with the pause it asked for in the message.
    pub fn with_max_retry_after(mut self, limit: Duration) -> RemotePolicy {
        self.max_retry_after = limit;
        self
    }

    /// The time one attempt may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The time establishing a connection may take.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout.min(self.timeout)
    }

    /// How many attempts a call makes in all.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The longest `Retry-After` the provider waits for.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// The backoff before the first retry.
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The longest backoff between two attempts.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The pause before retry number `retry` (1 for the first): exponential, capped, and
    /// jittered to between half and all of it, so that many clients do not retry in step.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(16);
        let full = self
            .initial_backoff
            .saturating_mul(1 << exponent)
            .min(self.max_backoff);
        let half = full / 2;
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(random_below(jitter_nanos.saturating_add(1)))
    }

    /// Runs `attempt` until it succeeds, fails for good, or the attempts run out, sleeping
    /// [`backoff`](RemotePolicy::backoff) between attempts, or the pause the server asked for
    /// ([`Failure::with_retry_after`]). Timeouts are the caller's: the HTTP client or SDK
    /// enforces [`timeout`](RemotePolicy::timeout) per attempt.
    pub(crate) async fn retry<T, E, F, Fut>(&self, mut attempt: F) -> Result<T>
    where
        E: std::error::Error + Send + Sync + 'static,
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<T, Failure<E>>>,
    {
        let mut made = 0;
        loop {
            made += 1;
            match attempt().await {
                Ok(value) => return Ok(value),
                Err(failure) if failure.transient && made < self.max_attempts => {
                    let pause = match failure.retry_after {
                        Some(asked) if asked > self.max_retry_after => {
                            return Err(failure.into_error_waiting(made, asked, self));
                        }
                        Some(asked) => asked,
                        None => self.backoff(made),
                    };
                    tokio::time::sleep(pause).await;
                }
                Err(failure) => return Err(failure.into_error(made)),
            }
        }
    }
}

/// One failed attempt: what to tell the user, the cause, and whether trying again may help.
#[derive(Debug)]
pub(crate) struct Failure<E> {
    message: String,
    source: Option<E>,
    transient: bool,
    retry_after: Option<Duration>,
}

impl<E: std::error::Error + Send + Sync + 'static> Failure<E> {
    /// A failure that retrying may fix: connection trouble, a timeout, 5xx, throttling.
    pub(crate) fn transient(message: impl Into<String>, source: Option<E>) -> Failure<E> {
        Failure {
            message: message.into(),
            source,
            transient: true,
            retry_after: None,
        }
    }

    /// A failure that retrying cannot fix: a refused credential, a malformed answer.
    pub(crate) fn permanent(message: impl Into<String>, source: Option<E>) -> Failure<E> {
        Failure {
            message: message.into(),
            source,
            transient: false,
            retry_after: None,
        }
    }

    /// Records the pause the server asked for (`Retry-After`) before the next attempt.
    pub(crate) fn with_retry_after(mut self, pause: Option<Duration>) -> Failure<E> {
        self.retry_after = pause;
        self
    }

    fn into_error(self, attempts: u32) -> Error {
        let message = if attempts > 1 {
            format!("{} (gave up after {attempts} attempts)", self.message)
        } else {
            self.message
        };
        // A failure worth retrying is one that asking again later may cure.
        let error = Error::new(ErrorKind::Backend, message).with_temporary(self.transient);
        match self.source {
            Some(source) => error.with_source(source),
            None => error,
        }
    }
}

impl<E: std::error::Error + Send + Sync + 'static> Failure<E> {
    fn into_error_waiting(
        mut self,
        attempts: u32,
        asked: Duration,
        policy: &RemotePolicy,
    ) -> Error {
        self.message = format!(
            "{}; the server asked to retry after {} s, longer than the policy allows ({} s)",
            self.message,
            asked.as_secs_f64().ceil(),
            policy.max_retry_after.as_secs_f64()
        );
        self.into_error(attempts)
    }
}

#[cfg(any(feature = "vault", feature = "azure", feature = "gcp"))]
/// The pause the server asked for: Azure's `retry-after-ms` / `x-ms-retry-after-ms` in
/// milliseconds, else the standard `Retry-After`.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(millis) = text(name).and_then(|value| value.trim().parse::<u64>().ok()) {
            return Some(Duration::from_millis(millis));
        }
    }
    text("retry-after").and_then(|value| parse_retry_after(value, chrono::Utc::now()))
}

/// The pause a `Retry-After` header value asks for: delta-seconds (`120`) or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`, counted from `now`). `None` for a value that is neither.
pub(crate) fn parse_retry_after(
    value: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    // A date in the past means "now".
    Some(
        (date.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// Whether an HTTP status is worth retrying: server errors and throttling.
pub(crate) fn is_transient_status(status: u16) -> bool {
    status == 429 || status == 408 || (500..600).contains(&status)
}

/// A number in `0..bound` (0 when `bound` is 0), random enough for jitter. std's hasher keys are
/// seeded randomly per process and advance per `RandomState`, which avoids a `rand` dependency.
fn random_below(bound: u64) -> u64 {
    if bound == 0 {
        return 0;
    }
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(bound);
    hasher.finish() % bound
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn fast() -> RemotePolicy {
        RemotePolicy::default()
            .with_initial_backoff(Duration::from_millis(1))
            .with_max_backoff(Duration::from_millis(4))
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let policy = RemotePolicy::default();
        for retry in 1..20 {
            let full = (Duration::from_millis(100) * 2u32.pow(retry.min(16) - 1))
                .min(Duration::from_secs(2));
            let pause = policy.backoff(retry);
            assert!(
                pause >= full / 2 && pause <= full,
                "retry {retry}: {pause:?}"
            );
        }
        let pauses: std::collections::HashSet<_> = (0..32).map(|_| policy.backoff(3)).collect();
        assert!(pauses.len() > 1, "jitter must vary the pause");
    }

    #[test]
    fn attempts_are_at_least_one_and_connect_timeout_within_timeout() {
        let policy = RemotePolicy::default()
            .with_max_attempts(0)
            .with_timeout(Duration::from_secs(1))
            .with_connect_timeout(Duration::from_secs(9));
        assert_eq!(policy.max_attempts(), 1);
        assert_eq!(policy.connect_timeout(), Duration::from_secs(1));
    }

    #[test]
    fn statuses_worth_retrying() {
        for status in [429, 500, 502, 503, 504, 408] {
            assert!(is_transient_status(status), "{status}");
        }
        for status in [200, 400, 401, 403, 404, 412] {
            assert!(!is_transient_status(status), "{status}");
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn transient_failures_are_retried_until_the_attempts_run_out() {
        let calls = AtomicU32::new(0);
        let err = fast()
            .retry(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(Failure::<std::io::Error>::transient(
                    "vault at http://127.0.0.1:1 answered 503",
                    None,
                ))
            })
            .await
            .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(err.kind(), ErrorKind::Backend);
        assert_eq!(
            err.to_string(),
            "vault at http://127.0.0.1:1 answered 503 (gave up after 3 attempts)"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn permanent_failures_are_not_retried() {
        let calls = AtomicU32::new(0);
        let err = fast()
            .retry(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(Failure::permanent(
                    "answered 403",
                    Some(std::io::Error::other("cause")),
                ))
            })
            .await
            .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(err.to_string(), "answered 403");
        assert!(std::error::Error::source(&err).is_some());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_retry_that_succeeds_returns_the_value() {
        let calls = AtomicU32::new(0);
        let value = fast()
            .retry(|| async {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(Failure::<std::io::Error>::transient("reset", None))
                } else {
                    Ok(7)
                }
            })
            .await
            .unwrap();
        assert_eq!((value, calls.load(Ordering::SeqCst)), (7, 2));
    }
    #[tokio::test(flavor = "current_thread")]
    async fn a_servers_retry_after_is_waited_for_not_the_backoff() {
        let calls = AtomicU32::new(0);
        // The backoff alone would retry within 4 ms.
        let started = std::time::Instant::now();
        let value = fast()
            .retry(|| async {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(Failure::<std::io::Error>::transient("answered 429", None)
                        .with_retry_after(Some(Duration::from_millis(300))))
                } else {
                    Ok("done")
                }
            })
            .await
            .unwrap();
        assert_eq!(value, "done");
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_retry_after_beyond_the_limit_fails_at_once() {
        let calls = AtomicU32::new(0);
        let started = std::time::Instant::now();
        let err = fast()
            .with_max_retry_after(Duration::from_secs(1))
            .retry(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(
                    Failure::<std::io::Error>::transient("answered 429", None)
                        .with_retry_after(Some(Duration::from_secs(120))),
                )
            })
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(err.kind(), ErrorKind::Backend);
        assert_eq!(
            err.to_string(),
            "answered 429; the server asked to retry after 120 s, longer than the policy allows (1 s)"
        );
    }

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past is now"
        );
        for bad in ["", "-1", "1.5", "soon"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }
}
