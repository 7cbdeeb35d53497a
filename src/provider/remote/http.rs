//! The one HTTP layer of the REST providers (Vault, Azure Key Vault, Google Cloud Secret
//! Manager): one way to build the client, to send a request under the [`RemotePolicy`], to read
//! an answer, and to say what went wrong.
//!
//! - Redirects are refused ([`super::redirect`]): a 3xx answer is an error naming both
//!   addresses, and nothing is sent to the second.
//! - An answer is read whole into a buffer that is wiped when dropped, and refused beyond
//!   [`MAX_ANSWER_BYTES`].
//! - Connection errors, timeouts, an answer that breaks off mid-body, 408, 429 and 5xx are
//!   retried, honouring `Retry-After`; every other status is returned for the provider to
//!   interpret. When the attempts run out, the error is [temporary](crate::Error::is_temporary);
//!   a refused redirect or an oversized answer is not.
//! - Whatever the server wrote that reaches an error goes through [`ServerText`].
//! - A header made of a credential ([`secret_header`]) lives in one buffer of its own, wiped
//!   when the request is done with it, and so does a body that carries one
//!   ([`SecretBody`](super::secret_body::SecretBody)).

use std::fmt;

use reqwest::header::HeaderMap;
use reqwest::{Client, RequestBuilder, StatusCode};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::provider::remote::policy::{Failure, RemotePolicy, is_transient_status, retry_after};
use crate::provider::remote::redirect;
use crate::provider::remote::server_text::ServerText;
use crate::wipe::reserve_bytes;
pub(crate) use crate::wipe::secret_header;

/// The most an answer may hold. Secrets are small (Key Vault: 25 KiB, Secret Manager: 64 KiB,
/// a Vault KV v2 secret far less); anything larger is not an answer the providers understand.
pub(crate) const MAX_ANSWER_BYTES: usize = 1 << 20;

/// Builds the HTTP client every request of a provider goes through, sending `headers` with
/// each request.
pub(crate) fn client(policy: &RemotePolicy, headers: HeaderMap) -> Result<Client> {
    Client::builder()
        .default_headers(headers)
        .timeout(policy.timeout())
        .connect_timeout(policy.connect_timeout())
        .user_agent(concat!("keyward/", env!("CARGO_PKG_VERSION")))
        // A redirect would carry the request's credentials to an address the server chose.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|err| {
            Error::new(ErrorKind::Backend, "could not build the HTTP client").with_source(err)
        })
}

/// A complete answer: its status, headers and body. The body is wiped when dropped, since it
/// may hold a secret or a token.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Answer {
    /// Parses the body as JSON; `T` may borrow from it (a secret's field as a
    /// [`RawValue`](serde_json::value::RawValue), for [`unescape`](super::json_string::unescape)).
    ///
    /// Malformed JSON keeps serde_json's error as the source: a syntax error names a position,
    /// never the text. JSON of another shape does not: serde_json's message then quotes the
    /// value it did not expect, which may be the secret.
    pub(crate) fn json<'a, T: serde::Deserialize<'a>>(
        &'a self,
        service: &str,
        shown: &str,
    ) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|err| {
            let at = format!("line {}, column {}", err.line(), err.column());
            // JSON that stops early is an answer cut short on the way: asking again may cure it.
            let cut_short = err.is_eof();
            let problem = match err.classify() {
                serde_json::error::Category::Eof => {
                    format!("JSON that ends too early ({at}): was the answer cut short?")
                }
                serde_json::error::Category::Data => {
                    let message = format!(
                        "{service} answered `{shown}` with JSON of an unexpected shape ({at})"
                    );
                    return Error::new(ErrorKind::Backend, message);
                }
                _ => format!("malformed JSON ({at})"),
            };
            Error::new(
                ErrorKind::Backend,
                format!("{service} answered `{shown}` with {problem}"),
            )
            .with_temporary(cut_short)
            .with_source(err)
        })
    }
}

/// Sends a request built by `build` until it gets an answer that retrying cannot change, under
/// `policy` (see the module documentation).
///
/// `service` names the server in messages (`azure key vault at https://…`), `shown` the request
/// (a path, never a credential), `explain` extracts the server's explanation from an error
/// body, and `quiet` knows the credentials the request carries, which that explanation must not
/// repeat.
pub(crate) async fn send(
    policy: &RemotePolicy,
    build: impl Fn() -> RequestBuilder,
    service: &str,
    shown: &str,
    explain: fn(&[u8]) -> Option<String>,
    quiet: &ServerText<'_>,
) -> Result<Answer> {
    policy
        .retry(|| {
            let request = build();
            async move {
                let response = request.send().await.map_err(|err| {
                    let what = if err.is_timeout() {
                        "timed out"
                    } else if err.is_connect() {
                        "could not be reached"
                    } else {
                        "failed"
                    };
                    Failure::transient(
                        format!("{service} {what} for `{shown}`"),
                        Some(err.without_url()),
                    )
                })?;
                if response.status().is_redirection() {
                    let location = response
                        .headers()
                        .get(reqwest::header::LOCATION)
                        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
                    let message = redirect::refused(
                        service,
                        response.status(),
                        response.url().as_str(),
                        location.as_deref(),
                        quiet,
                    );
                    return Err(Failure::permanent(message, None));
                }
                let answer = read(response, service, shown).await?;
                if !is_transient_status(answer.status.as_u16()) {
                    return Ok(answer);
                }
                let message = format!(
                    "{service} answered {} for `{shown}`{}",
                    answer.status,
                    quiet.detail(explain(&answer.body).as_deref())
                );
                Err(Failure::transient(message, None)
                    .with_retry_after(retry_after(&answer.headers)))
            }
        })
        .await
}

/// Reads the whole body, refusing one larger than [`MAX_ANSWER_BYTES`]. An answer that breaks
/// off is a transient failure, as a connection that fails before it.
async fn read(
    mut response: reqwest::Response,
    service: &str,
    shown: &str,
) -> std::result::Result<Answer, Failure<reqwest::Error>> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let mut body = Zeroizing::new(Vec::new());
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(Failure::permanent(
                        format!("{service} answered {status} for `{shown}` with more than 1 MiB"),
                        None,
                    ));
                }
                // No unwiped copy left behind by a reallocation.
                reserve_bytes(&mut body, chunk.len(), MAX_ANSWER_BYTES);
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(err) => {
                let what = if err.is_timeout() {
                    "timed out"
                } else {
                    "broke off"
                };
                return Err(Failure::transient(
                    format!("{service}: the answer ({status}) for `{shown}` {what} mid-body"),
                    Some(err.without_url()),
                ));
            }
        }
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}
