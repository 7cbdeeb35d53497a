//! The HTTP client of the AWS provider: the SDK's own, wrapped so that AWS answers are held to
//! the rules of the other remote providers.
//!
//! The SDK reads a whole answer into memory before it parses it, whatever its size, and the
//! only place to stop that is the connector, which hands the answer to the SDK. So
//! [`GuardedClient`] wraps the connector of the client the SDK would use and:
//!
//! - reads each answer itself, and refuses one larger than [`MAX_ANSWER_BYTES`] ([`TooLarge`],
//!   not retried);
//! - reports an answer that breaks off mid-body as an I/O error ([`BrokeOff`]), which the SDK's
//!   standard retries treat as transient, as the other providers do;
//! - refuses redirects ([`Redirected`], not retried). The SDK does not follow them either; this
//!   makes it a rule of keyward's, and gives the error both addresses;
//! - notes the credentials each request carries ([`Sent`]: the access key id, the session token
//!   and the request's signature, which can be replayed for a few minutes), so that an error
//!   quoting the service can redact them.

use std::error::Error as StdError;
use std::fmt;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use aws_smithy_types::config_bag::ConfigBag;

use crate::provider::remote::redirect::Redirected;
use crate::secret::SecretString;
use crate::wipe::reserve_bytes;

/// The most an answer may hold, as for the other remote providers: a secret is at most 64 KiB.
pub(crate) const MAX_ANSWER_BYTES: usize = 1 << 20;

/// The client the SDK uses when none is configured, built the way the SDK builds it.
pub(crate) fn default_client() -> Option<SharedHttpClient> {
    let plugin = aws_smithy_runtime::client::defaults::default_http_client_plugin_v2(
        aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest(),
    )?;
    plugin
        .runtime_components(&RuntimeComponentsBuilder::new("keyward"))
        .http_client()
}

/// Wraps an SDK HTTP client (see the module documentation).
#[derive(Debug)]
pub(crate) struct GuardedClient {
    inner: SharedHttpClient,
    sent: Arc<Sent>,
}

impl GuardedClient {
    /// Wraps `inner`, noting the credentials of each request in `sent`.
    pub(crate) fn new(inner: SharedHttpClient, sent: Arc<Sent>) -> GuardedClient {
        GuardedClient { inner, sent }
    }
}

impl HttpClient for GuardedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(GuardedConnector {
            inner: self.inner.http_connector(settings, components),
            sent: Arc::clone(&self.sent),
        })
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner
            .validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[derive(Debug)]
struct GuardedConnector {
    inner: SharedHttpConnector,
    sent: Arc<Sent>,
}

impl HttpConnector for GuardedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.sent.note(&request);
        let from = request.uri().to_owned();
        let call = self.inner.call(request);
        HttpConnectorFuture::new(async move {
            let mut response = call.await?;
            let status = response.status().as_u16();
            if (300..400).contains(&status) {
                let location = response.headers().get("location").map(str::to_owned);
                let redirected = Redirected {
                    status,
                    from,
                    location,
                };
                return Err(ConnectorError::other(Box::new(redirected), None));
            }
            let body = read_capped(response.take_body(), status).await?;
            *response.body_mut() = SdkBody::from(body);
            Ok(response)
        })
    }
}

/// Reads `body` whole, up to [`MAX_ANSWER_BYTES`].
///
/// The buffer is not wiped: the SDK keeps the answer in buffers of its own (and in the raw
/// response of an error), which keyward cannot reach.
async fn read_capped(body: SdkBody, status: u16) -> Result<Vec<u8>, ConnectorError> {
    let mut stream = ByteStream::new(body);
    let mut read = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| ConnectorError::io(Box::new(BrokeOff(Box::new(err)))))?;
        if read.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(ConnectorError::other(Box::new(TooLarge { status }), None));
        }
        reserve_bytes(&mut read, chunk.len(), MAX_ANSWER_BYTES);
        read.extend_from_slice(&chunk);
    }
    Ok(read)
}

/// An answer larger than [`MAX_ANSWER_BYTES`].
#[derive(Debug)]
pub(crate) struct TooLarge {
    pub(crate) status: u16,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an answer (HTTP {}) of more than 1 MiB", self.status)
    }
}

impl StdError for TooLarge {}

/// An answer that broke off mid-body; the source is the SDK's stream error (it names no
/// content).
#[derive(Debug)]
pub(crate) struct BrokeOff(Box<dyn StdError + Send + Sync>);

impl fmt::Display for BrokeOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the answer broke off mid-body")
    }
}

impl StdError for BrokeOff {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.0)
    }
}

/// The credentials the last requests carried, for [`ServerText`](super::server_text::ServerText):
/// the error of one request may be written while others are sent, so those of several are kept
/// (redacting against more credentials than one request carried does no harm).
#[derive(Default)]
pub(crate) struct Sent {
    credentials: Mutex<Vec<(&'static str, SecretString)>>,
}

impl fmt::Debug for Sent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sent").finish_non_exhaustive()
    }
}

impl Sent {
    /// Notes the credentials in a signed request's headers.
    fn note(&self, request: &HttpRequest) {
        let headers = request.headers();
        let mut found = Vec::new();
        if let Some(authorization) = headers.get("authorization") {
            // `AWS4-HMAC-SHA256 Credential=<key id>/<date>/..., SignedHeaders=..., Signature=<hex>`
            for part in authorization.split([',', ' ']) {
                if let Some(credential) = part.strip_prefix("Credential=") {
                    let key_id = credential.split('/').next().unwrap_or_default();
                    found.push(("aws access key id", SecretString::from(key_id)));
                } else if let Some(signature) = part.strip_prefix("Signature=") {
                    found.push(("aws request signature", SecretString::from(signature)));
                }
            }
        }
        if let Some(token) = headers.get("x-amz-security-token") {
            found.push(("aws session token", SecretString::from(token)));
        }
        let mut kept = self.lock();
        // The key id and the session token repeat from request to request; each signature is
        // new, so the oldest entries go.
        kept.retain(|entry| !found.contains(entry));
        kept.extend(found);
        let excess = kept.len().saturating_sub(Self::KEPT);
        kept.drain(..excess);
    }

    /// How many credentials are kept: those of the last eight requests or more.
    const KEPT: usize = 24;

    /// The credentials of the last requests.
    pub(crate) fn credentials(&self) -> Vec<(&'static str, SecretString)> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(&'static str, SecretString)>> {
        // A list of values holds no invariant a panic could break halfway: recover it.
        self.credentials
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn signed(key_id: &str, signature: &str, token: &str) -> HttpRequest {
        let mut request = HttpRequest::empty();
        request.headers_mut().insert(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={key_id}/20261205/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature={signature}"
            ),
        );
        request
            .headers_mut()
            .insert("x-amz-security-token", token.to_owned());
        request
    }

    fn values(sent: &Sent) -> Vec<String> {
        sent.credentials()
            .iter()
            .map(|(_, value)| value.expose_secret().to_owned())
            .collect()
    }

    /// The error of one request may be written after others were sent: the credentials of
    /// each recent request are kept, the repeated ones once.
    #[test]
    fn the_credentials_of_recent_requests_are_kept() {
        let sent = Sent::default();
        sent.note(&signed("AKIAFAKE1", "sig-1", "fake-token-1"));
        sent.note(&signed("AKIAFAKE2", "sig-2", "fake-token-2"));
        let kept = values(&sent);
        for value in [
            "AKIAFAKE1",
            "sig-1",
            "fake-token-1",
            "AKIAFAKE2",
            "sig-2",
            "fake-token-2",
        ] {
            assert!(kept.iter().any(|v| v == value), "{value}");
        }
        // Many requests later, the ones that repeat are kept once, the old signatures go.
        for i in 0..100 {
            sent.note(&signed("AKIAFAKE2", &format!("sig-{i}x"), "fake-token-2"));
        }
        let kept = values(&sent);
        assert!(kept.len() <= Sent::KEPT);
        assert_eq!(kept.iter().filter(|v| *v == "fake-token-2").count(), 1);
        assert!(kept.iter().any(|v| v == "AKIAFAKE2"));
        assert!(kept.iter().any(|v| v == "sig-99x"));
        assert!(!kept.iter().any(|v| v == "sig-1"));
    }
}
