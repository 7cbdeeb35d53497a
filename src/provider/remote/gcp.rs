//! Google Cloud Secret Manager, over its REST API (`v1`).
//!
//! Not the official `google-cloud-secretmanager-v1` crate: its current release needs Rust 1.91
//! (keyward supports 1.88), it keeps the payload and the token unwiped, follows redirects,
//! brings some 60 more crates (OpenTelemetry among them) for one GET, and has a retry layer of
//! its own besides the [`RemotePolicy`] (docs/providers.md has the details). The REST API is
//! small and documented, and goes through the same reqwest + rustls stack as the other remote
//! providers.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use reqwest::{Client, StatusCode, Url};
use serde::Deserialize;
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::provider::capped::OtherReaders;
use crate::provider::remote::bearer::{TokenCache, bearer_header, join};
use crate::provider::remote::crc32c::crc32c;
use crate::provider::remote::endpoint::{PlainHttp, parse_endpoint};
use crate::provider::remote::env_var::env_string;
use crate::provider::remote::gcp_credentials::{GoogleCredential, well_known_file};
use crate::provider::remote::http::{self, Answer};
use crate::provider::remote::json_string::unescape;
use crate::provider::remote::policy::RemotePolicy;
use crate::provider::remote::server_text::ServerText;
use crate::provider::{AsyncSecretProvider, BoxFuture, quote_name};
use crate::secret::{Secret, SecretMeta, SecretString};

/// The global Secret Manager endpoint.
const DEFAULT_ENDPOINT: &str = "https://secretmanager.googleapis.com";

/// The metadata server of Compute Engine, GKE, Cloud Run and Cloud Functions.
const DEFAULT_METADATA_HOST: &str = "metadata.google.internal";

/// Secret Manager's limit on a secret id.
const MAX_NAME_LEN: usize = 255;

/// Secrets from Google Cloud Secret Manager.
///
/// **Names.** A key is a secret id (ASCII letters, digits, `_` and `-`, at most 255), read at
/// its `latest` version; `KEY@5` reads version 5. Any other character (`.`, `/`) is refused
/// with [`ErrorKind::InvalidName`]. Ids are case-sensitive.
///
/// **Integrity.** The payload's CRC32C checksum (`dataCrc32c`) is verified when the service
/// sends it; a mismatch is an [`ErrorKind::Backend`] error, never a value.
///
/// **Metadata.** The version number (from the version's resource name) becomes
/// [`SecretMeta::version`]. The creation time needs a second request, which the usual
/// `roles/secretmanager.secretAccessor` role does not allow, so it is fetched only when
/// [`GcpSecretManagerBuilder::with_create_time`] asks for it.
///
/// **Refusals.** A secret or version that does not exist is `Ok(None)`. A destroyed version is
/// an [`ErrorKind::NotFound`] error, a disabled version and a refused credential (401, 403) are
/// [`ErrorKind::PermissionDenied`] errors; none is retried. `latest` is the newest version
/// whatever its state, as in Secret Manager: when it is disabled or destroyed, reading `KEY`
/// fails even if older versions are enabled (pin one with `KEY@N`); throttling (429, honouring `Retry-After`) and server errors are
/// retried under the provider's [`RemotePolicy`].
///
/// **Authentication** ([`GcpSecretManagerBuilder`]), in the order of Google's application
/// default credentials unless one is configured: an access token (`GOOGLE_OAUTH_ACCESS_TOKEN`),
/// a credentials file (`GOOGLE_APPLICATION_CREDENTIALS`: a service-account key or user
/// credentials), the file `gcloud auth application-default login` writes, and the metadata
/// server's service-account token (Compute Engine, GKE, Cloud Run, Cloud Functions;
/// `GCE_METADATA_HOST` overrides its address). Fetched tokens are cached and fetched again five
/// minutes before they expire. External-account (workload identity federation) files are not
/// supported.
///
/// ```no_run
/// use keyward::AsyncSecretProvider;
/// use keyward::provider::gcp::GcpSecretManagerProvider;
///
/// # async fn run() -> keyward::Result<()> {
/// let secrets = GcpSecretManagerProvider::builder()
///     .with_project("my-project")
///     .build()?;
/// let latest = secrets.get("OPENAI_API_KEY").await?;
/// let pinned = secrets.get("OPENAI_API_KEY@5").await?;
/// # Ok(()) }
/// ```
pub struct GcpSecretManagerProvider {
    name: String,
    client: Client,
    endpoint: Url,
    service: String,
    project: String,
    credential: GoogleCredential,
    tokens: TokenCache,
    create_time: bool,
    policy: RemotePolicy,
}

impl fmt::Debug for GcpSecretManagerProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcpSecretManagerProvider")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint.as_str())
            .field("project", &self.project)
            .field("credential", &self.credential.kind())
            .field("create_time", &self.create_time)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl GcpSecretManagerProvider {
    /// Starts configuring a provider.
    pub fn builder() -> GcpSecretManagerBuilder {
        GcpSecretManagerBuilder {
            name: "gcp-secret-manager".to_owned(),
            project: None,
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            source: None,
            token_url: None,
            credentials_readable_by_others: false,
            create_time: false,
            policy: RemotePolicy::default(),
        }
    }

    /// The project the secrets are read from.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The policy for timeouts and retries.
    pub fn policy(&self) -> &RemotePolicy {
        &self.policy
    }

    /// Splits `KEY@VERSION` (version `latest` when absent) and checks both parts.
    fn parse_key(key: &str) -> Result<(&str, &str)> {
        let (name, version) = key.split_once('@').unwrap_or((key, "latest"));
        let invalid = |problem: &str| {
            Error::new(
                ErrorKind::InvalidName,
                format!(
                    "invalid gcp secret manager key {}: {problem}",
                    quote_name(key)
                ),
            )
        };
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(invalid("the secret id must be 1 to 255 characters"));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Err(invalid(&format!(
                "`{}` is not allowed in a secret id (only ASCII letters, digits, `_` and `-`)",
                bad.escape_debug()
            )));
        }
        let numbered = !version.is_empty()
            && version.len() <= 19
            && version.bytes().all(|b| b.is_ascii_digit())
            && !version.starts_with('0');
        if version != "latest" && !numbered {
            return Err(invalid(
                "the version after `@` must be a number from 1 or `latest`",
            ));
        }
        Ok((name, version))
    }

    async fn read(&self, key: &str) -> Result<Option<Secret>> {
        let (name, version) = GcpSecretManagerProvider::parse_key(key)?;
        let access = format!("{version}:access");
        let segments = [
            "v1",
            "projects",
            self.project.as_str(),
            "secrets",
            name,
            "versions",
            access.as_str(),
        ];
        // Named without the `:access` verb, as the version appears in the console.
        let shown = format!(
            "projects/{}/secrets/{name}/versions/{version}",
            self.project
        );
        let Some((answer, token)) = self.call(join(&self.endpoint, &segments), &shown).await?
        else {
            return Ok(None);
        };
        let mut body: AccessAnswer<'_> = answer.json(&self.service, &shown)?;
        let payload = body.payload.take().unwrap_or_default();
        let value = self.decode(&payload, &shown)?;

        // `projects/<number>/secrets/<id>/versions/<n>`: the version that was read. It is
        // checked before it is used in a URL or believed as the version.
        let resource = body.name.take().unwrap_or_default();
        let number = version_number(&resource, name)
            .filter(|number| version == "latest" || *number == version)
            .ok_or_else(|| {
                // The name is the server's text.
                let quiet = ServerText::new([("bearer token", &token)]);
                Error::new(
                    ErrorKind::Backend,
                    format!(
                        "{} answered `{shown}` for another resource (`{}`)",
                        self.service,
                        quiet.clean(&resource)
                    ),
                )
            })?;
        let mut meta = SecretMeta::new(self.name.clone()).with_version(number);
        if self.create_time {
            meta = meta.with_created_at(self.create_time(&resource).await?);
        }
        Ok(Some(Secret::new(value, meta)))
    }

    /// Base64-decodes the payload and checks its CRC32C.
    fn decode(&self, payload: &Payload<'_>, shown: &str) -> Result<SecretString> {
        let failed = |kind: ErrorKind, problem: &str| {
            Error::new(
                kind,
                format!("{} answered `{shown}` with {problem}", self.service),
            )
        };
        let encoded = payload
            .data
            .ok_or_else(|| failed(ErrorKind::Backend, "no payload data"))?;
        let encoded = unescape(encoded)
            .ok_or_else(|| failed(ErrorKind::Backend, "payload data that is not a JSON string"))?;
        let encoded = encoded.expose_secret();
        let mut bytes = Zeroizing::new(Vec::with_capacity(encoded.len()));
        base64::engine::general_purpose::STANDARD
            .decode_vec(encoded, &mut bytes)
            .map_err(|_| failed(ErrorKind::Backend, "payload data that is not base64"))?;
        if let Some(expected) = &payload.data_crc32c {
            let expected: u64 = expected
                .trim()
                .parse()
                .map_err(|_| failed(ErrorKind::Backend, "a dataCrc32c that is not a number"))?;
            if u64::from(crc32c(&bytes)) != expected {
                return Err(failed(
                    ErrorKind::Backend,
                    "a payload whose CRC32C does not match dataCrc32c (corrupted in transit?)",
                ));
            }
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            failed(
                ErrorKind::InvalidFormat,
                "a payload that is not UTF-8 text (binary secrets are not supported)",
            )
        })?;
        Ok(SecretString::from(text))
    }

    /// `GET .../versions/<n>` for the version's `createTime`.
    async fn create_time(&self, resource: &str) -> Result<DateTime<Utc>> {
        let mut segments = vec!["v1"];
        segments.extend(resource.split('/'));
        let shown = resource.to_owned();
        let (answer, _) = self
            .call(join(&self.endpoint, &segments), &shown)
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Backend,
                    format!("{} answered 404 for `{shown}`", self.service),
                )
            })?;
        let body: VersionAnswer = answer.json(&self.service, &shown)?;
        let text = body.create_time.ok_or_else(|| {
            Error::new(
                ErrorKind::Backend,
                format!("{} answered `{shown}` without a createTime", self.service),
            )
        })?;
        DateTime::parse_from_rfc3339(&text)
            .map(|time| time.with_timezone(&Utc))
            .map_err(|err| {
                Error::new(
                    ErrorKind::Backend,
                    format!(
                        "{} sent a createTime for `{shown}` that is not RFC 3339",
                        self.service
                    ),
                )
                .with_source(err)
            })
    }

    /// One authenticated GET: the answer on 200 and the token it was read with, `None` on 404,
    /// and an error for the rest.
    async fn call(&self, url: Url, shown: &str) -> Result<Option<(Answer, SecretString)>> {
        let mut retried = false;
        let (answer, token) = loop {
            let (token, fetched) = self.tokens.token(|| self.fetch_token()).await?;
            let quiet = ServerText::new([("bearer token", &token)]);
            let answer = http::send(
                &self.policy,
                || {
                    let request = self
                        .client
                        .get(url.clone())
                        .header("Authorization", bearer_header(&token));
                    match self.credential.quota_project() {
                        // User credentials bill a quota project, named in the file.
                        Some(project) => request.header("x-goog-user-project", project),
                        None => request,
                    }
                },
                &self.service,
                shown,
                status_text,
                &quiet,
            )
            .await?;
            if answer.status == StatusCode::UNAUTHORIZED {
                // Revoked before it expired: forget it. A token from the cache gets one more
                // try with a fresh one.
                self.tokens.forget(&token);
                if !fetched && !retried && self.credential.refreshes() {
                    retried = true;
                    continue;
                }
            }
            break (answer, token);
        };
        if answer.status == StatusCode::OK {
            return Ok(Some((answer, token)));
        }
        let status: StatusBody = serde_json::from_slice(&answer.body).unwrap_or_default();
        let error = status.error.unwrap_or_default();
        let message = error.message.as_deref().unwrap_or_default();
        let quiet = ServerText::new([("bearer token", &token)]);
        let detail = quiet.detail(status_text(&answer.body).as_deref());
        let (kind, hint) = match (answer.status.as_u16(), error.status.as_deref()) {
            (404, _) => return Ok(None),
            // Secret Manager reports a disabled or destroyed version as a failed precondition.
            // A destroyed one exists but has lost its value for good: say so rather than
            // answer "not here", which would let a chain fall through to another source.
            (400, Some("FAILED_PRECONDITION")) if message.contains("DESTROYED") => {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "secret version `{shown}` in {} is destroyed: add a new version or read an older one",
                        self.service
                    ),
                ));
            }
            (400, Some("FAILED_PRECONDITION")) if message.contains("DISABLED") => {
                return Err(Error::new(
                    ErrorKind::PermissionDenied,
                    format!(
                        "secret version `{shown}` in {} is disabled: enable it or read another version",
                        self.service
                    ),
                ));
            }
            (401, _) => (
                ErrorKind::PermissionDenied,
                ": the access token was refused; check that it is current",
            ),
            (403, _) => (
                ErrorKind::PermissionDenied,
                ": grant the identity roles/secretmanager.secretAccessor on the secret \
                 (and roles/secretmanager.viewer for with_create_time)",
            ),
            _ => (ErrorKind::Backend, ""),
        };
        Err(Error::new(
            kind,
            format!(
                "{} answered {} for `{shown}`{detail}{hint}",
                self.service, answer.status
            ),
        ))
    }

    async fn fetch_token(&self) -> Result<(SecretString, Option<Duration>)> {
        self.credential.fetch(&self.client, &self.policy).await
    }
}

impl AsyncSecretProvider for GcpSecretManagerProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Secret>>> {
        Box::pin(self.read(key))
    }
}

/// The version number in `projects/<project>/secrets/<id>/versions/<n>`, when the name has
/// that shape and names the secret `id`.
fn version_number<'r>(resource: &'r str, id: &str) -> Option<&'r str> {
    match resource.split('/').collect::<Vec<_>>()[..] {
        ["projects", project, "secrets", secret, "versions", number]
            if !project.is_empty()
                && secret == id
                && !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some(number)
        }
        _ => None,
    }
}

/// `STATUS: message` from a `google.rpc.Status` error body.
fn status_text(body: &[u8]) -> Option<String> {
    let StatusBody { error: Some(error) } = serde_json::from_slice::<StatusBody>(body).ok()? else {
        return None;
    };
    match (error.status, error.message) {
        (Some(status), Some(message)) => Some(format!("{status}: {message}")),
        (None, Some(message)) => Some(message),
        (Some(status), None) => Some(status),
        (None, None) => None,
    }
}

/// Configures a [`GcpSecretManagerProvider`]; made by [`GcpSecretManagerProvider::builder`].
pub struct GcpSecretManagerBuilder {
    name: String,
    project: Option<String>,
    endpoint: String,
    source: Option<Source>,
    token_url: Option<String>,
    credentials_readable_by_others: bool,
    create_time: bool,
    policy: RemotePolicy,
}

/// The credential chosen on the builder.
enum Source {
    AccessToken(SecretString),
    File(PathBuf),
    MetadataServer(String),
}

impl Source {
    fn kind(&self) -> &'static str {
        match self {
            Source::AccessToken(_) => "access token",
            Source::File(_) => "credentials file",
            Source::MetadataServer(_) => "metadata server",
        }
    }
}

impl fmt::Debug for GcpSecretManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcpSecretManagerBuilder")
            .field("name", &self.name)
            .field("project", &self.project)
            .field("endpoint", &self.endpoint)
            .field("credential", &self.source.as_ref().map(Source::kind))
            .finish_non_exhaustive()
    }
}

impl GcpSecretManagerBuilder {
    /// Sets the provider's name, for messages and [`SecretMeta::source`] (default
    /// `gcp-secret-manager`).
    pub fn with_name(mut self, name: impl Into<String>) -> GcpSecretManagerBuilder {
        self.name = name.into();
        self
    }

    /// Sets the project id or number (default `GOOGLE_CLOUD_PROJECT`).
    pub fn with_project(mut self, project: impl Into<String>) -> GcpSecretManagerBuilder {
        self.project = Some(project.into());
        self
    }

    /// Sets the service address (default `https://secretmanager.googleapis.com`), e.g. a
    /// Private Service Connect endpoint.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> GcpSecretManagerBuilder {
        self.endpoint = endpoint.into();
        self
    }

    /// Authenticates with an OAuth 2.0 access token obtained elsewhere (e.g.
    /// `gcloud auth print-access-token`). It is not refreshed: when it expires, reads fail
    /// with [`ErrorKind::PermissionDenied`].
    pub fn with_access_token(mut self, token: impl Into<SecretString>) -> GcpSecretManagerBuilder {
        self.source = Some(Source::AccessToken(token.into()));
        self
    }

    /// Authenticates with a credentials file: a service-account key (`"type":
    /// "service_account"`, exchanged for tokens with a JWT signed by its key) or user
    /// credentials from `gcloud auth application-default login` (`"type": "authorized_user"`,
    /// a refresh token). The file is read by [`build`](GcpSecretManagerBuilder::build).
    ///
    /// It holds a long-lived credential, so a file that other users can read (mode `0644`, as a
    /// browser saves a key downloaded from the console) is refused: `chmod 600` it, or see
    /// [`with_credentials_file_readable_by_others`](GcpSecretManagerBuilder::with_credentials_file_readable_by_others).
    pub fn with_credentials_file(mut self, path: impl Into<PathBuf>) -> GcpSecretManagerBuilder {
        self.source = Some(Source::File(path.into()));
        self
    }

    /// Accepts a credentials file (given or found in the environment) that other users can
    /// read, but still not one they can write: for a container mount that is `0644` by design,
    /// such as a Kubernetes secret volume without `defaultMode`. Off by default.
    pub fn with_credentials_file_readable_by_others(
        mut self,
        allow: bool,
    ) -> GcpSecretManagerBuilder {
        self.credentials_readable_by_others = allow;
        self
    }

    /// Gets tokens from the metadata server at `host` (`host:port`, or a URL for a test
    /// server); without this, the metadata server is the last resort of
    /// [`build`](GcpSecretManagerBuilder::build), at `GCE_METADATA_HOST` or
    /// `metadata.google.internal`.
    pub fn with_metadata_host(mut self, host: impl Into<String>) -> GcpSecretManagerBuilder {
        self.source = Some(Source::MetadataServer(host.into()));
        self
    }

    /// Sends the token requests of a credentials file to `url` instead of the file's
    /// `token_uri` or `https://oauth2.googleapis.com/token` (a proxy or a test server).
    pub fn with_token_url(mut self, url: impl Into<String>) -> GcpSecretManagerBuilder {
        self.token_url = Some(url.into());
        self
    }

    /// Also fetches each version's creation time into [`SecretMeta::created_at`], with a second
    /// request that needs `secretmanager.versions.get` (e.g. `roles/secretmanager.viewer`).
    pub fn with_create_time(mut self, fetch: bool) -> GcpSecretManagerBuilder {
        self.create_time = fetch;
        self
    }

    /// Sets timeouts and retries (default [`RemotePolicy::default`]).
    pub fn with_policy(mut self, policy: RemotePolicy) -> GcpSecretManagerBuilder {
        self.policy = policy;
        self
    }

    /// Builds the provider. It reads a credentials file, but does not contact Google Cloud: the
    /// first read does.
    ///
    /// Without a configured credential, it takes the first of: `GOOGLE_OAUTH_ACCESS_TOKEN`,
    /// the file named by `GOOGLE_APPLICATION_CREDENTIALS`, the file of
    /// `gcloud auth application-default login` (in `CLOUDSDK_CONFIG` or `~/.config/gcloud`),
    /// and the metadata server.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] when no project is configured and `GOOGLE_CLOUD_PROJECT` is
    /// unset, for a project id that is not one, for an endpoint or token URL that is not
    /// `https` (plain `http` only for loopback addresses, and the metadata server), and for a
    /// credentials file that is not a `service_account` or `authorized_user` file with a
    /// PKCS#8 RSA key; [`ErrorKind::Io`] when the file cannot be read.
    pub fn build(self) -> Result<GcpSecretManagerProvider> {
        let project = match self.project {
            Some(project) => project,
            None => env_string("GOOGLE_CLOUD_PROJECT")?.ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidInput,
                    "no gcp project: call with_project or set GOOGLE_CLOUD_PROJECT",
                )
            })?,
        };
        // Project ids are lowercase letters, digits and dashes; numbers are digits; legacy
        // domain-scoped ids look like `example.com:my-project`.
        if project.is_empty()
            || project.len() > 100
            || !project.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | ':')
            })
        {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("{} is not a gcp project id or number", quote_name(&project)),
            ));
        }
        let endpoint = parse_endpoint(
            &self.endpoint,
            "secret manager endpoint",
            PlainHttp::Loopback,
        )?;
        let source = match self.source {
            Some(source) => source,
            None => source_from_env()?,
        };
        let credential = match source {
            Source::AccessToken(token) => GoogleCredential::AccessToken(token),
            Source::File(path) => {
                let readers = if self.credentials_readable_by_others {
                    OtherReaders::Allowed
                } else {
                    OtherReaders::Refused {
                        allowed_by: "GcpSecretManagerBuilder::with_credentials_file_readable_by_others(true)",
                    }
                };
                GoogleCredential::from_file(&path, self.token_url.as_deref(), readers)?
            }
            Source::MetadataServer(host) => {
                let host = if host.contains("://") {
                    host
                } else {
                    format!("http://{host}")
                };
                let base = parse_endpoint(&host, "metadata server", PlainHttp::LinkLocal)?;
                GoogleCredential::MetadataServer(join(
                    &base,
                    &[
                        "computeMetadata",
                        "v1",
                        "instance",
                        "service-accounts",
                        "default",
                        "token",
                    ],
                ))
            }
        };
        let service = format!(
            "gcp secret manager at {}",
            endpoint.origin().ascii_serialization()
        );
        Ok(GcpSecretManagerProvider {
            name: self.name,
            client: http::client(&self.policy, reqwest::header::HeaderMap::new())?,
            endpoint,
            service,
            project,
            credential,
            tokens: TokenCache::default(),
            create_time: self.create_time,
            policy: self.policy,
        })
    }
}

/// The credential the environment names, in the order of Google's application default
/// credentials: `GOOGLE_OAUTH_ACCESS_TOKEN`, `GOOGLE_APPLICATION_CREDENTIALS`, the file of
/// `gcloud auth application-default login`, then the metadata server.
fn source_from_env() -> Result<Source> {
    if let Some(token) = env_string("GOOGLE_OAUTH_ACCESS_TOKEN")? {
        return Ok(Source::AccessToken(SecretString::from(token)));
    }
    if let Some(path) = env_string("GOOGLE_APPLICATION_CREDENTIALS")? {
        return Ok(Source::File(PathBuf::from(path)));
    }
    if let Some(path) = well_known_file() {
        return Ok(Source::File(path));
    }
    let host = env_string("GCE_METADATA_HOST")?.unwrap_or_else(|| DEFAULT_METADATA_HOST.to_owned());
    Ok(Source::MetadataServer(host))
}

#[derive(Deserialize)]
struct AccessAnswer<'a> {
    name: Option<String>,
    #[serde(borrow)]
    payload: Option<Payload<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    /// Base64 of the secret, read as it stands in the answer (see [`unescape`]).
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    /// An int64 in JSON, so a string.
    data_crc32c: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionAnswer {
    create_time: Option<String>,
}

#[derive(Deserialize, Default)]
struct StatusBody {
    error: Option<StatusError>,
}

#[derive(Deserialize, Default)]
struct StatusError {
    message: Option<String>,
    status: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_ids_with_an_optional_version() {
        let parse = GcpSecretManagerProvider::parse_key;
        assert_eq!(
            parse("OPENAI_API_KEY").unwrap(),
            ("OPENAI_API_KEY", "latest")
        );
        assert_eq!(parse("db-pass@5").unwrap(), ("db-pass", "5"));
        assert_eq!(parse("db-pass@latest").unwrap(), ("db-pass", "latest"));
        for bad in [
            "",
            "a.b",
            "a/b",
            "a b",
            "@5",
            "a@",
            "a@0",
            "a@05",
            "a@-1",
            "a@v5",
            "a@5@6",
            &"a".repeat(256),
        ] {
            assert_eq!(
                parse(bad).unwrap_err().kind(),
                ErrorKind::InvalidName,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn version_numbers_come_only_from_well_formed_names() {
        assert_eq!(
            version_number("projects/123/secrets/K/versions/7", "K"),
            Some("7")
        );
        for bad in [
            "projects/123/secrets/OTHER/versions/7",
            "projects/123/secrets/K/versions/latest",
            "projects/123/secrets/K/versions/7/../../x",
            "projects//secrets/K/versions/7",
            "",
        ] {
            assert_eq!(version_number(bad, "K"), None, "{bad}");
        }
    }

    #[test]
    fn status_details_come_from_google_rpc_status() {
        let body = br#"{"error":{"code":403,"message":"Permission 'secretmanager.versions.access' denied","status":"PERMISSION_DENIED"}}"#;
        assert_eq!(
            status_text(body).as_deref(),
            Some("PERMISSION_DENIED: Permission 'secretmanager.versions.access' denied")
        );
        assert_eq!(status_text(b"not json"), None);
    }

    #[test]
    fn a_project_is_required_and_checked() {
        let err = GcpSecretManagerProvider::builder()
            .with_project("My Project")
            .with_access_token("tok")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let ok = GcpSecretManagerProvider::builder()
            .with_project("example.com:my-project-1")
            .with_access_token("tok")
            .build()
            .unwrap();
        assert_eq!(ok.project(), "example.com:my-project-1");
        assert!(!format!("{ok:?}").contains("tok\""));
    }
}
