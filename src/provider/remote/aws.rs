//! AWS Secrets Manager, through the official SDK.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use chrono::{DateTime, Utc};
use serde_json::value::RawValue;

use crate::error::{Error, ErrorKind, Result};
use crate::provider::remote::aws_client::{
    BrokeOff, GuardedClient, Sent, TooLarge, default_client,
};
use crate::provider::remote::json_string::unescape;
use crate::provider::remote::policy::RemotePolicy;
use crate::provider::remote::redirect::{self, Redirected};
use crate::provider::remote::server_text::ServerText;
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
/// for throttling, 5xx, connection errors and answers that break off mid-body, none for refused
/// credentials or a missing secret.
///
/// As with the other remote providers, answers are read up to 1 MiB, redirects are refused
/// (with both addresses in the error), and what the service says in an error is shown redacted
/// of the request's credentials (access key id, session token, signature), on one line, and cut
/// to 200 characters. A client given to [`from_client`](AwsSecretsManagerProvider::from_client)
/// is used as it is, without the 1 MiB cap.
///
/// Refused credentials (HTTP 401 or 403, or an AWS error code such as `AccessDeniedException`,
/// `UnrecognizedClientException` or `ExpiredTokenException`, which Secrets Manager sends with
/// HTTP 400) are an [`ErrorKind::PermissionDenied`] error, so that a
/// [`KeyManager`](crate::KeyManager) stops serving the key at once; timeouts, connection errors,
/// answers cut short, throttling and 5xx are [temporary](crate::Error::is_temporary).
///
/// ```no_run
/// use keyward::AsyncSecretProvider;
/// use keyward::provider::aws::AwsSecretsManagerProvider;
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
    /// The credentials of the last request, which errors must not repeat.
    sent: Arc<Sent>,
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
            sent: Arc::default(),
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
        // The fields as they stand in the text: the one asked for is unescaped into the secret
        // (see `unescape`), the others are never copied. serde_json's errors may quote the
        // text, which is the secret: report no detail.
        let Ok(object) = serde_json::from_str::<HashMap<String, &RawValue>>(text) else {
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
        let Some(&raw) = object.get(field) else {
            return Ok(None);
        };
        match unescape(raw) {
            Some(value) => Ok(Some(value)),
            None => Err(Error::new(
                ErrorKind::InvalidFormat,
                format!(
                    "field {} of secret {} in {} is not a string",
                    quote_name(field),
                    quote_name(secret_id),
                    self.name
                ),
            )),
        }
    }

    /// An error naming the operation, the secret id, the region and endpoint, and what the
    /// service or the connection said; never credentials. A refused credential is
    /// [`ErrorKind::PermissionDenied`], anything else [`ErrorKind::Backend`], temporary when
    /// asking again may cure it (see [`Error::is_temporary`]).
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
        let sent = self.sent.credentials();
        let quiet = ServerText::new(sent.iter().map(|(label, credential)| (*label, credential)));
        let mut source: Option<Box<dyn StdError + Send + Sync>> = None;
        // What the failure was: an answer (`Backend`, not temporary) unless found otherwise.
        let mut kind = ErrorKind::Backend;
        let mut temporary = false;
        let what = if let Some(redirected) = connector_cause::<Redirected, _>(&err) {
            redirect::refused(
                "the service",
                redirected.status,
                &redirected.from,
                redirected.location.as_deref(),
                &quiet,
            )
        } else if let Some(too_large) = connector_cause::<TooLarge, _>(&err) {
            format!(
                "the service answered HTTP {} with more than 1 MiB",
                too_large.status
            )
        } else if connector_cause::<BrokeOff, _>(&err).is_some() {
            temporary = true;
            "the answer broke off mid-body".to_owned()
        } else {
            match &err {
                SdkError::TimeoutError(_) => {
                    temporary = true;
                    "timed out".to_owned()
                }
                SdkError::DispatchFailure(failure) if failure.is_timeout() => {
                    temporary = true;
                    "timed out".to_owned()
                }
                SdkError::DispatchFailure(failure) if failure.is_io() => {
                    temporary = true;
                    "the service could not be reached".to_owned()
                }
                // The SDK fails here, before sending, when it has no credentials or region.
                SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
                    "the request could not be made; are AWS credentials and a region configured?"
                        .to_owned()
                }
                _ => {
                    let raw = err.raw_response();
                    let status = raw.map(|raw| raw.status().as_u16());
                    match raw.and_then(|raw| raw.body().bytes()) {
                        // A success the SDK could not read: say what is wrong with it.
                        Some(body) if status.is_some_and(|s| (200..300).contains(&s)) => {
                            let unreadable = unreadable(body, action);
                            source = Some(unreadable.cause);
                            temporary = unreadable.cut_short;
                            format!(
                                "the service answered HTTP {} with {}",
                                status.unwrap_or_default(),
                                unreadable.problem
                            )
                        }
                        _ => {
                            (kind, temporary) = classify(err.code(), status);
                            service_said(&err, status, &quiet)
                        }
                    }
                }
            }
        };
        let message = format!(
            "{place}: could not {action} secret {}: {what}",
            quote_name(secret_id)
        );
        let error = Error::new(kind, message).with_temporary(temporary);
        if let Some(source) = source {
            return error.with_boxed_source(source);
        }
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

/// What an error answer means, from its AWS error code and HTTP status: a refused credential
/// ([`ErrorKind::PermissionDenied`], not temporary), a failure that asking again may cure
/// (5xx, 429, 408, throttling: [`ErrorKind::Backend`], temporary), or another answer
/// (`Backend`, not temporary).
fn classify(code: Option<&str>, status: Option<u16>) -> (ErrorKind, bool) {
    if is_refusal(code, status) {
        return (ErrorKind::PermissionDenied, false);
    }
    let temporary = status.is_some_and(|s| s >= 500 || s == 429 || s == 408)
        || code.is_some_and(is_temporary_code);
    (ErrorKind::Backend, temporary)
}

/// Whether the service refused the request's credentials: HTTP 401 or 403, or a credential
/// error code, which Secrets Manager sends with HTTP 400. A 5xx is the service failing, whatever
/// its code says.
fn is_refusal(code: Option<&str>, status: Option<u16>) -> bool {
    matches!(status, Some(401 | 403))
        || (code.is_some_and(is_credential_code) && status.is_none_or(|s| s < 500))
}

/// What the service said in an error answer: its code, status and message, cleaned.
fn service_said<E: ProvideErrorMetadata>(
    err: &SdkError<E, HttpResponse>,
    status: Option<u16>,
    quiet: &ServerText<'_>,
) -> String {
    let code = err.code();
    let shown_code = code.map_or_else(
        || "an unrecognised error".to_owned(),
        |code| quiet.clean(code),
    );
    let status_text = status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
    let message = err
        .message()
        .map(|m| format!(": {}", quiet.clean(m)))
        .unwrap_or_default();
    let hint = if is_refusal(code, status) {
        "; check the AWS credentials and their permissions"
    } else {
        ""
    };
    format!("the service answered {shown_code}{status_text}{message}{hint}")
}

/// The error the connector put under a dispatch failure, if it is a `T`.
fn connector_cause<T: StdError + 'static, E>(err: &SdkError<E, HttpResponse>) -> Option<&T> {
    let SdkError::DispatchFailure(failure) = err else {
        return None;
    };
    StdError::source(failure.as_connector_error()?)?.downcast_ref::<T>()
}

/// What is wrong with a successful answer the SDK could not read.
struct Unreadable {
    /// The problem, for the message.
    problem: String,
    /// The error to keep as the source: serde_json's for malformed JSON (a syntax error names a
    /// position, never the text), [`ShapeError`] for JSON of another shape (the SDK's own error
    /// may quote the value it did not expect, which may be the secret).
    cause: Box<dyn StdError + Send + Sync>,
    /// JSON that stops early: an answer cut short on the way, which asking again may cure.
    cut_short: bool,
}

fn unreadable(body: &[u8], action: &str) -> Unreadable {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Err(err) => {
            let at = format!("line {}, column {}", err.line(), err.column());
            let cut_short = err.is_eof();
            let problem = if cut_short {
                format!("JSON that ends too early ({at}): was the answer cut short?")
            } else {
                format!("malformed JSON ({at})")
            };
            Unreadable {
                problem,
                cause: Box::new(err),
                cut_short,
            }
        }
        Ok(mut value) => {
            let shape = ShapeError(shape_problem(&value));
            zeroize_json(&mut value);
            let problem = format!("JSON that is not the answer to {action} a secret: {shape}");
            Unreadable {
                problem,
                cause: Box::new(shape),
                cut_short: false,
            }
        }
    }
}

/// JSON of another shape than the SDK expects, said without quoting any value.
#[derive(Debug)]
struct ShapeError(String);

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for ShapeError {}

/// The JSON types of the fields of `GetSecretValue` and `DescribeSecret` answers.
const FIELD_TYPES: &[(&str, &str)] = &[
    ("ARN", "a string"),
    ("Name", "a string"),
    ("VersionId", "a string"),
    ("SecretString", "a string"),
    ("SecretBinary", "a string"),
    ("Description", "a string"),
    ("KmsKeyId", "a string"),
    ("RotationLambdaARN", "a string"),
    ("OwningService", "a string"),
    ("PrimaryRegion", "a string"),
    ("VersionStages", "an array"),
    ("Tags", "an array"),
    ("ReplicationStatus", "an array"),
    ("RotationRules", "an object"),
    ("VersionIdsToStages", "an object"),
    ("RotationEnabled", "true or false"),
    ("CreatedDate", "a number"),
    ("LastRotatedDate", "a number"),
    ("LastChangedDate", "a number"),
    ("LastAccessedDate", "a number"),
    ("DeletedDate", "a number"),
    ("NextRotationDate", "a number"),
];

/// The first thing wrong with the shape of `value`, by field name and JSON type.
fn shape_problem(value: &serde_json::Value) -> String {
    let Some(object) = value.as_object() else {
        return format!("the answer is {} where an object belongs", json_type(value));
    };
    for (field, expected) in FIELD_TYPES {
        if let Some(found) = object.get(*field).filter(|found| !found.is_null()) {
            let found = json_type(found);
            if found != *expected {
                return format!("`{field}` is {found} where {expected} belongs");
            }
        }
    }
    "the SDK could not read it".to_owned()
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "true or false",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
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
        let sent = Arc::new(Sent::default());
        if let Some(inner) = sdk_config.http_client().or_else(default_client) {
            config = config.http_client(GuardedClient::new(inner, Arc::clone(&sent)));
        }
        let config = config.build();
        AwsSecretsManagerProvider {
            name: self.name,
            region: config.region().map(ToString::to_string),
            client: Client::from_conf(config),
            endpoint,
            sent,
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

/// AWS error codes of a request refused for its rate or of the service failing: asking again
/// later may cure them.
fn is_temporary_code(code: &str) -> bool {
    matches!(
        code,
        "ThrottlingException"
            | "Throttling"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "InternalServiceError"
            | "ServiceUnavailable"
    )
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
