//! What the Azure and Google Cloud providers share besides the HTTP layer ([`super::http`]): a
//! bearer token and a cache for that token.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::header::HeaderValue;

use crate::error::Result;
use crate::provider::remote::http::secret_header;
use crate::secret::SecretString;

/// Refresh a token this long before it expires, so that it does not expire in flight.
const EXPIRY_MARGIN: Duration = Duration::from_secs(300);

/// An `Authorization: Bearer …` value, marked sensitive so that it is never printed, and wiped
/// after use ([`secret_header`]).
pub(crate) fn bearer_header(token: &SecretString) -> HeaderValue {
    // A token no header can carry is sent as a placeholder the service refuses (401), rather
    // than failing here with an error that might show it.
    secret_header(&["Bearer ", token.expose_secret()])
        .unwrap_or_else(|| HeaderValue::from_static("Bearer invalid-token"))
}

/// A bearer token and when to fetch a new one.
struct Cached {
    token: SecretString,
    refresh_at: Option<Instant>,
}

/// Holds the current access token; concurrent callers that find it stale wait for one fetch.
#[derive(Default)]
pub(crate) struct TokenCache {
    current: Mutex<Option<Cached>>,
    fetching: tokio::sync::Mutex<()>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self.lock().is_some();
        f.debug_struct("TokenCache")
            .field("cached", &cached)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// The cached token, or a fresh one from `fetch`, which returns the token and its lifetime
    /// (`None`: no known expiry). The flag is `true` when this call fetched the token.
    pub(crate) async fn token<F, Fut>(&self, fetch: F) -> Result<(SecretString, bool)>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(SecretString, Option<Duration>)>>,
    {
        if let Some(token) = self.fresh() {
            return Ok((token, false));
        }
        let _fetching = self.fetching.lock().await;
        // Another task may have fetched one while this one waited.
        if let Some(token) = self.fresh() {
            return Ok((token, false));
        }
        let (token, lifetime) = fetch().await?;
        // The lifetime is the server's number: one too far off to represent is no expiry,
        // where `Instant + Duration` would panic.
        let refresh_at =
            lifetime.and_then(|lifetime| Instant::now().checked_add(refresh_after(lifetime)));
        *self.lock() = Some(Cached {
            token: token.clone(),
            refresh_at,
        });
        Ok((token, true))
    }

    /// Forgets `token` after the server refused it, so that the next call fetches another;
    /// a token that another task has already replaced stays.
    pub(crate) fn forget(&self, token: &SecretString) {
        let mut current = self.lock();
        if current
            .as_ref()
            .is_some_and(|cached| cached.token == *token)
        {
            *current = None;
        }
    }

    fn fresh(&self) -> Option<SecretString> {
        let now = Instant::now();
        self.lock()
            .as_ref()
            .filter(|cached| cached.refresh_at.is_none_or(|at| now < at))
            .map(|cached| cached.token.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Cached>> {
        // The cache holds no invariant a panic could break halfway: recover it.
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// When to refresh a token that lives `lifetime`: five minutes before it expires, or after half
/// its life when it is short.
fn refresh_after(lifetime: Duration) -> Duration {
    if lifetime > EXPIRY_MARGIN * 2 {
        lifetime - EXPIRY_MARGIN
    } else {
        lifetime / 2
    }
}

/// Appends path segments to `base` (keeping its own path), percent-encoding each.
pub(crate) fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use reqwest::header::HeaderMap;

    use super::*;
    use crate::provider::remote::policy::retry_after;

    #[test]
    fn join_keeps_the_base_path_and_encodes() {
        let base = Url::parse("http://127.0.0.1:1/prefix/").unwrap();
        assert_eq!(
            join(&base, &["secrets", "a b", "v:access"]).as_str(),
            "http://127.0.0.1:1/prefix/secrets/a%20b/v:access"
        );
    }

    #[test]
    fn tokens_are_refreshed_before_they_expire() {
        assert_eq!(
            refresh_after(Duration::from_secs(3600)),
            Duration::from_secs(3300)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(60)),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn retry_after_headers_in_order_of_precision() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert("x-ms-retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(1500)));
        headers.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
    }

    #[test]
    fn the_bearer_header_is_sensitive() {
        let header = bearer_header(&SecretString::from("tok-abc"));
        assert!(header.is_sensitive());
        assert!(!format!("{header:?}").contains("tok-abc"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_cache_fetches_once_and_again_after_a_refusal() {
        let cache = TokenCache::default();
        let fetches = AtomicU32::new(0);
        let fetch = || async {
            fetches.fetch_add(1, Ordering::SeqCst);
            Ok((SecretString::from("tok-1"), Some(Duration::from_secs(3600))))
        };
        let (token, fetched) = cache.token(fetch).await.unwrap();
        assert_eq!((token.expose_secret(), fetched), ("tok-1", true));
        let (token, fetched) = cache.token(fetch).await.unwrap();
        assert_eq!((token.expose_secret(), fetched), ("tok-1", false));
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        cache.forget(&SecretString::from("another"));
        cache.token(fetch).await.unwrap();
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            1,
            "only the refused token is forgotten"
        );
        cache.forget(&token);
        cache.token(fetch).await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        assert!(!format!("{cache:?}").contains("tok-1"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_lifetime_too_long_to_represent_is_no_expiry() {
        // `Instant + Duration` panics on overflow; `expires_in` is the server's number.
        let cache = TokenCache::default();
        let fetches = AtomicU32::new(0);
        let fetch = || async {
            fetches.fetch_add(1, Ordering::SeqCst);
            Ok((
                SecretString::from("tok"),
                Some(Duration::from_secs(u64::MAX)),
            ))
        };
        cache.token(fetch).await.unwrap();
        cache.token(fetch).await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_expired_token_is_fetched_again() {
        let cache = TokenCache::default();
        let fetches = AtomicU32::new(0);
        let fetch = || async {
            fetches.fetch_add(1, Ordering::SeqCst);
            Ok((SecretString::from("tok"), Some(Duration::ZERO)))
        };
        cache.token(fetch).await.unwrap();
        cache.token(fetch).await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }
}
