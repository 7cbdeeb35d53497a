//! AWS Secrets Manager, through the official SDK.

use std::fmt;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use chrono::{DateTime, Utc};

use crate::error::{Error, ErrorKind, Result};
use crate::provider::remote::policy::RemotePolicy;
use crate::provider::remote::zeroize_json;
use crate::provider::{AsyncSecretProvider, BoxFuture, quote_name};
use crate::secret::{Secret, SecretMeta, SecretString};

/// The longest secret id AWS accepts (an ARN), in bytes.
const MAX_SECRET_ID_LEN: usize = 2048;

/// Secrets from AWS Secrets Manager.
///
/// A key is `secret-id` or `secret-id#FIELD`. Without a field it reads the whole secret string;
/// with one, the secret string must be a JSON object and the field's string value is read, the
/// common way to keep several keys in one secret (`prod/api-keys#OPENAI_API_KEY`). The secret
/// id may be a name or an ARN. A secret or field that does not exist is `Ok(None)`.
///
/// The version's `VersionId` becomes [`SecretMeta::version`] and its `CreatedDate`
/// [`SecretMeta::created_at`]; [`last_rotated`](AwsSecretsManagerProvider::last_rotated) asks
/// `DescribeSecret` for the secret's `LastRotatedDate`.
///
/// Credentials and region come from the standard AWS chain (environment, profile, container
/// and instance metadata) unless an [`SdkConfig`] is given. The SDK applies the provider's
/// [`RemotePolicy`]: a timeout per attempt, and its standard retries (with backoff and jitter)
/// for throttling, 5xx and connection errors, none for refused credentials or a missing secret.
///
/// ```no_run
/// use keyward::{AsyncSecretProvider, AwsSecretsManagerProvider};
///
/// # async fn run() -> keyward::Result<()> {
/// let aws = AwsSecretsManagerProvider::from_env().await;
/// let secret = aws.get("prod/api-keys#OPENAI_API_KEY").await?;
/// # Ok(()) }
/// ```
pub struct AwsSecretsManagerProvider {
    name: String,
    client: Client,
    region: Option<String>,
    endpoint: Option<String>,
}

impl fmt::Debug for AwsSecretsManagerProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The SDK client's Debug is not ours to vouch for: show only what we configured.
        f.debug_struct("AwsSecretsManagerProvider")
            .field("name", &self.name)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl AwsSecretsManagerProvider {
    /// A provider with the standard credential chain and region, and the default
    /// [`RemotePolicy`].
    pub async fn from_env() -> AwsSecretsManagerProvider {
        AwsSecretsManagerProvider::builder().build().await
    }

    /// Starts configuring a provider.
    pub fn builder() -> AwsSecretsManagerBuilder {
        AwsSecretsManagerBuilder {
            name: "aws-secrets-manager".to_owned(),
            sdk_config: None,
            endpoint_url: None,
            policy: RemotePolicy::default(),
        }
    }

    /// A provider around a client you configured, timeouts and retries included: no
    /// [`RemotePolicy`] is applied.
    pub fn from_client(client: Client) -> AwsSecretsManagerProvider {
        let region = client.config().region().map(ToString::to_string);
        AwsSecretsManagerProvider {
            name: "aws-secrets-manager".to_owned(),
            client,
            region,
            endpoint: None,
        }
    }

    /// The SDK client, for operations keyward does not wrap.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// When the secret was last rotated by Secrets Manager (`LastRotatedDate` from
    /// `DescribeSecret`); `Ok(None)` for a secret that was never rotated. A `#FIELD` suffix is
    /// ignored.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`] when the secret does not exist, [`ErrorKind::InvalidName`] for
    /// an unacceptable id, [`ErrorKind::Backend`] when the call fails.
    pub async fn last_rotated(&self, key: &str) -> Result<Option<DateTime<Utc>>> {
        let (secret_id, _) = parse_key(key)?;
        match self
            .client
            .describe_secret()
            .secret_id(secret_id)
            .send()
            .await
        {
            Ok(output) => Ok(output.last_rotated_date().and_then(to_chrono)),
            Err(err) if is_not_found(&err) => Err(Error::not_found(secret_id, &self.name)),
            Err(err) => Err(self.failure("describe", secret_id, err)),
        }
    }

    async fn read(&self, key: &str) -> Result<Option<Secret>> {
        let (secret_id, field) = parse_key(key)?;
        let output = match self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
        {
            Ok(output) => output,
            Err(err) if is_not_found(&err) => return Ok(None),
            Err(err) => return Err(self.failure("read", secret_id, err)),
        };
        let mut meta = SecretMeta::new(self.name.clone());
        if let Some(version) = output.version_id() {
            meta = meta.with_version(version);
        }
        if let Some(created) = output.created_date().and_then(to_chrono) {
            meta = meta.with_created_at(created);
        }
        let text = match (output.secret_string(), output.secret_binary()) {
            (Some(text), _) => text,
            (None, Some(binary)) => std::str::from_utf8(binary.as_ref()).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidFormat,
                    format!(
                        "secret {} in {} is binary and not UTF-8 text",
                        quote_name(secret_id),
                        self.name
                    ),
                )
            })?,
            (None, None) => return Ok(None),
        };
        let value = match field {
            None => SecretString::from(text),
            Some(field) => match self.json_field(text, secret_id, field)? {
                Some(value) => value,
                None => return Ok(None),
            },
        };
        Ok(Some(Secret::new(value, meta)))
    }

    /// The string value of `field` in a secret that holds a JSON object.
    fn json_field(&self, text: &str, secret_id: &str, field: &str) -> Result<Option<SecretString>> {
        // serde_json's errors may quote the text, which is the secret: report no detail.
        let Ok(mut object) =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
        else {
            return Err(Error::new(
                ErrorKind::InvalidFormat,
                format!(
                    "secret {} in {} is not a JSON object, so it has no field {}",
                    quote_name(secret_id),
                    self.name,
                    quote_name(field)
                ),
            ));
        };
        let found = object.remove(field);
        object.values_mut().for_each(zeroize_json);
        match found {
            None => Ok(None),
            Some(serde_json::Value::String(value)) => Ok(Some(SecretString::from(value))),
            Some(mut other) => {
                zeroize_json(&mut other);
                Err(Error::new(
                    ErrorKind::InvalidFormat,
                    format!(
                        "field {} of secret {} in {} is not a string",
                        quote_name(field),
                        quote_name(secret_id),
                        self.name
                    ),
                ))
            }
        }
    }

    /// A `Backend` error naming the operation, the secret id, the region and endpoint, and what
    /// the service or the connection said; never credentials.
    fn failure<E>(&self, action: &str, secret_id: &str, err: SdkError<E, HttpResponse>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let mut place = self.name.clone();
        if let Some(region) = &self.region {
            place.push_str(&format!(" ({region})"));
        }
        if let Some(endpoint) = &self.endpoint {
            place.push_str(&format!(" at {endpoint}"));
        }
        let what = match &err {
            SdkError::TimeoutError(_) => "timed out".to_owned(),
            SdkError::DispatchFailure(failure) if failure.is_timeout() => "timed out".to_owned(),
            SdkError::DispatchFailure(failure) if failure.is_io() => {
                "the service could not be reached".to_owned()
            }
            // The SDK fails here, before sending, when it has no credentials or region.
            SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
                "the request could not be made; are AWS credentials and a region configured?"
                    .to_owned()
            }
            _ => {
                let status = err.raw_response().map(|r| r.status().as_u16());
                let code = err.code().unwrap_or("an unrecognised error");
                let status_text = status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
                let message = err.message().map(|m| format!(": {m}")).unwrap_or_default();
                let hint = if is_credential_code(code) || matches!(status, Some(401 | 403)) {
                    "; check the AWS credentials and their permissions"
                } else {
                    ""
                };
                format!("the service answered {code}{status_text}{message}{hint}")
            }
        };
        let message = format!(
            "{place}: could not {action} secret {}: {what}",
            quote_name(secret_id)
        );
        let error = Error::new(ErrorKind::Backend, message);
        match err {
            // Both keep the raw answer, whose body (printed by its Debug) may be the secret, and
            // the deserializer's error quotes the value it choked on: the message above says
            // what the service answered, the rest is not safe to pass on.
            SdkError::ServiceError(_) | SdkError::ResponseError(_) => error,
            other => match other.into_source() {
                Ok(source) => error.with_boxed_source(source),
                Err(other) => error.with_source(other),
            },
        }
    }
}

impl AsyncSecretProvider for AwsSecretsManagerProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Secret>>> {
        Box::pin(self.read(key))
    }
}

/// Configures an [`AwsSecretsManagerProvider`]; made by
/// [`AwsSecretsManagerProvider::builder`].
pub struct AwsSecretsManagerBuilder {
    name: String,
    sdk_config: Option<SdkConfig>,
    endpoint_url: Option<String>,
    policy: RemotePolicy,
}

impl fmt::Debug for AwsSecretsManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsSecretsManagerBuilder")
            .field("name", &self.name)
            .field("endpoint_url", &self.endpoint_url)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl AwsSecretsManagerBuilder {
    /// Sets the provider's name, for messages and [`SecretMeta::source`] (default
    /// `aws-secrets-manager`).
    pub fn with_name(mut self, name: impl Into<String>) -> AwsSecretsManagerBuilder {
        self.name = name.into();
        self
    }

    /// Uses this SDK configuration (credentials, region) instead of loading the standard chain.
    pub fn with_sdk_config(mut self, config: SdkConfig) -> AwsSecretsManagerBuilder {
        self.sdk_config = Some(config);
        self
    }

    /// Sends requests to another endpoint: a VPC endpoint, or a local test server.
    pub fn with_endpoint_url(mut self, url: impl Into<String>) -> AwsSecretsManagerBuilder {
        self.endpoint_url = Some(url.into());
        self
    }

    /// Sets timeouts and retries (default [`RemotePolicy::default`]).
    pub fn with_policy(mut self, policy: RemotePolicy) -> AwsSecretsManagerBuilder {
        self.policy = policy;
        self
    }

    /// Builds the provider, loading the standard AWS configuration unless one was given. It
    /// does not contact Secrets Manager: the first read does.
    pub async fn build(self) -> AwsSecretsManagerProvider {
        let sdk_config = match self.sdk_config {
            Some(config) => config,
            None => aws_config::defaults(BehaviorVersion::latest()).load().await,
        };
        let policy = &self.policy;
        let mut config = aws_sdk_secretsmanager::config::Builder::from(&sdk_config)
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(policy.timeout())
                    .connect_timeout(policy.connect_timeout())
                    .build(),
            )
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(policy.max_attempts())
                    .with_initial_backoff(policy.initial_backoff())
                    .with_max_backoff(policy.max_backoff()),
            );
        let endpoint = self
            .endpoint_url
            .or_else(|| sdk_config.endpoint_url().map(str::to_owned));
        if let Some(endpoint) = &endpoint {
            config = config.endpoint_url(endpoint);
        }
        let config = config.build();
        AwsSecretsManagerProvider {
            name: self.name,
            region: config.region().map(ToString::to_string),
            client: Client::from_conf(config),
            endpoint,
        }
    }
}

/// Splits `secret-id#FIELD` and checks both parts.
fn parse_key(key: &str) -> Result<(&str, Option<&str>)> {
    let (secret_id, field) = match key.split_once('#') {
        Some((id, field)) => (id, Some(field)),
        None => (key, None),
    };
    let problem = if secret_id.is_empty() {
        "the secret id is empty"
    } else if secret_id.len() > MAX_SECRET_ID_LEN {
        "the secret id is longer than 2048 bytes"
    } else if secret_id.chars().any(char::is_control) {
        "the secret id contains a control character"
    } else if field.is_some_and(|f| f.is_empty() || f.chars().any(char::is_control)) {
        "the field after `#` is empty or has a control character"
    } else {
        return Ok((secret_id, field));
    };
    Err(Error::new(
        ErrorKind::InvalidName,
        format!("invalid aws secret key {}: {problem}", quote_name(key)),
    ))
}

fn is_not_found<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    err.code() == Some("ResourceNotFoundException")
}

fn is_credential_code(code: &str) -> bool {
    matches!(
        code,
        "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "InvalidSignatureException"
            | "SignatureDoesNotMatch"
            | "AccessDeniedException"
            | "ExpiredTokenException"
            | "IncompleteSignature"
    )
}

fn to_chrono(time: &aws_sdk_secretsmanager::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(time.secs(), time.subsec_nanos())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_id_and_field() {
        assert_eq!(parse_key("prod/api-keys").unwrap(), ("prod/api-keys", None));
        assert_eq!(
            parse_key("prod/api-keys#OPENAI_API_KEY").unwrap(),
            ("prod/api-keys", Some("OPENAI_API_KEY"))
        );
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/keys-AbCdEf";
        assert_eq!(parse_key(arn).unwrap(), (arn, None));
        for bad in ["", "#F", "id#", "a\nb", "id#a\u{1b}"] {
            assert_eq!(
                parse_key(bad).unwrap_err().kind(),
                ErrorKind::InvalidName,
                "{bad:?}"
            );
        }
        assert!(parse_key(&"x".repeat(MAX_SECRET_ID_LEN + 1)).is_err());
    }

    #[test]
    fn aws_times_become_chrono_times() {
        let time =
            aws_sdk_secretsmanager::primitives::DateTime::from_secs_and_nanos(1_700_000_000, 5);
        let converted = to_chrono(&time).unwrap();
        assert_eq!(converted.timestamp(), 1_700_000_000);
        assert_eq!(converted.timestamp_subsec_nanos(), 5);
    }
}
