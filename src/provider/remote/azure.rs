//! Azure Key Vault secrets, over the Key Vault REST API.
//!
//! Not the official SDK (`azure_security_keyvault_secrets`): it keeps the secret and the tokens
//! in strings it never wipes, reads answers without a size cap, and retries by rules of its own
//! (docs/providers.md has the details). This provider speaks the documented REST API through
//! the same reqwest + rustls stack and the same [`RemotePolicy`] as the other remote providers.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderValue;
use reqwest::{Client, StatusCode, Url};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, ErrorKind, Result};
use crate::provider::capped::{OtherReaders, read_small_file};
use crate::provider::remote::bearer::{TokenCache, bearer_header, join};
use crate::provider::remote::endpoint::{PlainHttp, parse_endpoint};
use crate::provider::remote::env_var::env_string;
use crate::provider::remote::http::{self, Answer};
use crate::provider::remote::json_string::{required_token, unescape};
use crate::provider::remote::policy::RemotePolicy;
use crate::provider::remote::secret_body::SecretBody;
use crate::provider::remote::server_text::ServerText;
use crate::provider::{AsyncSecretProvider, BoxFuture, quote_name};
use crate::secret::{Secret, SecretMeta, SecretString};

/// The Key Vault REST API version the provider speaks unless told otherwise.
const DEFAULT_API_VERSION: &str = "7.5";

/// Microsoft Entra ID (Azure AD) in the public cloud.
const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";

/// The token scope of Key Vault in the public cloud.
const DEFAULT_SCOPE: &str = "https://vault.azure.net/.default";

/// The instance metadata service of Azure virtual machines.
const IMDS_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

/// Key Vault's limit on a secret name.
const MAX_NAME_LEN: usize = 127;

/// Secrets from an Azure Key Vault.
///
/// **Names.** Key Vault secret names hold only ASCII letters, digits and dashes. A key is mapped
/// by turning each `_` into `-`, so `OPENAI_API_KEY` reads the secret `OPENAI-API-KEY`; any other
/// character (`.`, `/`, a space) is refused with [`ErrorKind::InvalidName`]. Key Vault compares
/// names without regard to case, so `OPENAI_API_KEY`, `openai-api-key` and `OPENAI-API-KEY` are
/// the same secret. `KEY@VERSION` reads a pinned version (the 32-character id Key Vault shows);
/// without it the current version is read.
///
/// **Metadata.** The version (from the secret's id), `created` and `exp` become
/// [`SecretMeta::version`], [`created_at`](SecretMeta::created_at) and
/// [`expires_at`](SecretMeta::expires_at).
///
/// **Refusals.** A secret that does not exist is `Ok(None)`. A disabled secret is an
/// [`ErrorKind::PermissionDenied`] error saying so; a secret past its expiry (`exp`) or before
/// its activation date (`nbf`) is an [`ErrorKind::Expired`] error: neither is ever returned as a
/// value. A refused credential (401, 403) is [`ErrorKind::PermissionDenied`] and is not retried;
/// throttling (429, honouring `Retry-After`) and server errors are retried under the
/// provider's [`RemotePolicy`].
///
/// **Authentication** ([`AzureKeyVaultBuilder`]): a service principal's client secret (by
/// default from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET`), a workload
/// identity's federated token (`AZURE_FEDERATED_TOKEN_FILE`, as on AKS), a managed identity
/// (App Service's `IDENTITY_ENDPOINT` or the VM metadata service), or an access token obtained
/// elsewhere. Tokens are cached and fetched again five minutes before they expire.
///
/// ```no_run
/// use keyward::AsyncSecretProvider;
/// use keyward::provider::azure::AzureKeyVaultProvider;
///
/// # async fn run() -> keyward::Result<()> {
/// let vault = AzureKeyVaultProvider::builder("https://my-vault.vault.azure.net").build()?;
/// let secret = vault.get("OPENAI_API_KEY").await?; // reads the secret `OPENAI-API-KEY`
/// # Ok(()) }
/// ```
pub struct AzureKeyVaultProvider {
    name: String,
    client: Client,
    vault: Url,
    service: String,
    api_version: String,
    credential: Credential,
    tokens: TokenCache,
    policy: RemotePolicy,
    clock: Arc<dyn Clock>,
}

/// Where the access token comes from.
enum Credential {
    AccessToken(SecretString),
    /// An app registration (service principal) proving itself to Microsoft Entra ID.
    App {
        token_url: Url,
        client_id: String,
        proof: Proof,
        scope: String,
    },
    ManagedIdentity {
        endpoint: Url,
        /// App Service's `IDENTITY_HEADER`; `None` for the VM metadata service.
        identity_header: Option<SecretString>,
        client_id: Option<String>,
        resource: String,
    },
}

/// How an app proves who it is when it asks for a token.
enum Proof {
    /// A client secret.
    Secret(SecretString),
    /// A federated token in a file that the platform keeps fresh (AKS workload identity).
    FederatedTokenFile(PathBuf),
}

impl Credential {
    /// Whether a refused token can be replaced by fetching another.
    fn refreshes(&self) -> bool {
        !matches!(self, Credential::AccessToken(_))
    }

    fn kind(&self) -> &'static str {
        match self {
            Credential::AccessToken(_) => "access token",
            Credential::App {
                proof: Proof::Secret(_),
                ..
            } => "client secret",
            Credential::App {
                proof: Proof::FederatedTokenFile(_),
                ..
            } => "workload identity",
            Credential::ManagedIdentity { .. } => "managed identity",
        }
    }
}

impl fmt::Debug for AzureKeyVaultProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureKeyVaultProvider")
            .field("name", &self.name)
            .field("vault", &self.vault.as_str())
            .field("api_version", &self.api_version)
            .field("credential", &self.credential.kind())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl AzureKeyVaultProvider {
    /// Starts configuring a provider for the vault at `vault_url`
    /// (`https://<vault-name>.vault.azure.net`).
    pub fn builder(vault_url: impl Into<String>) -> AzureKeyVaultBuilder {
        AzureKeyVaultBuilder {
            vault_url: vault_url.into(),
            name: "azure-key-vault".to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            authority_host: None,
            scope: DEFAULT_SCOPE.to_owned(),
            credential: None,
            policy: RemotePolicy::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// The vault's address.
    pub fn vault_url(&self) -> &str {
        self.vault.as_str()
    }

    /// The policy for timeouts and retries.
    pub fn policy(&self) -> &RemotePolicy {
        &self.policy
    }

    /// The Key Vault secret name `key` maps to (`OPENAI_API_KEY` -> `OPENAI-API-KEY`).
    ///
    /// ```
    /// use keyward::provider::azure::AzureKeyVaultProvider;
    ///
    /// assert_eq!(AzureKeyVaultProvider::secret_name("OPENAI_API_KEY")?, "OPENAI-API-KEY");
    /// assert!(AzureKeyVaultProvider::secret_name("db.password").is_err());
    /// # Ok::<(), keyward::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidName`] for a key that has no Key Vault name: empty, longer than 127
    /// characters, or with a character other than ASCII letters, digits, `-` and `_`.
    pub fn secret_name(key: &str) -> Result<String> {
        let invalid = |problem: &str| {
            Error::new(
                ErrorKind::InvalidName,
                format!("{} has no azure key vault name: {problem}", quote_name(key)),
            )
        };
        if key.is_empty() {
            return Err(invalid("it is empty"));
        }
        if key.len() > MAX_NAME_LEN {
            return Err(invalid("it is longer than 127 characters"));
        }
        if let Some(bad) = key
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(invalid(&format!(
                "`{}` is not allowed (only ASCII letters, digits, `-` and `_`, which becomes `-`)",
                bad.escape_debug()
            )));
        }
        Ok(key.replace('_', "-"))
    }

    /// Splits `KEY@VERSION` and maps the name.
    fn parse_key(key: &str) -> Result<(String, Option<&str>)> {
        let (name, version) = match key.split_once('@') {
            Some((name, version)) => (name, Some(version)),
            None => (key, None),
        };
        if let Some(version) = version
            && (version.is_empty()
                || version.len() > 64
                || !version.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(Error::new(
                ErrorKind::InvalidName,
                format!(
                    "invalid azure key vault key {}: the version after `@` must be letters and digits",
                    quote_name(key)
                ),
            ));
        }
        Ok((AzureKeyVaultProvider::secret_name(name)?, version))
    }

    async fn read(&self, key: &str) -> Result<Option<Secret>> {
        let (name, version) = AzureKeyVaultProvider::parse_key(key)?;
        let mut segments = vec!["secrets", name.as_str()];
        segments.extend(version);
        let shown = segments.join("/");
        let mut url = join(&self.vault, &segments);
        url.query_pairs_mut()
            .append_pair("api-version", &self.api_version);

        let mut retried = false;
        let answer = loop {
            let (token, fetched) = self.tokens.token(|| self.fetch_token()).await?;
            let quiet = self.quiet().with("bearer token", &token);
            let answer = http::send(
                &self.policy,
                || {
                    self.client
                        .get(url.clone())
                        .header("Authorization", bearer_header(&token))
                },
                &self.service,
                &shown,
                vault_error_text,
                &quiet,
            )
            .await?;
            if answer.status != StatusCode::OK && answer.status != StatusCode::NOT_FOUND {
                if answer.status == StatusCode::UNAUTHORIZED {
                    // Revoked before it expired, or for another tenant: forget it. A token from
                    // the cache gets one more try with a fresh one.
                    self.tokens.forget(&token);
                    if !fetched && !retried && self.credential.refreshes() {
                        retried = true;
                        continue;
                    }
                }
                return Err(self.refusal(answer.status, &answer, &shown, &quiet));
            }
            break answer;
        };
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let mut bundle: SecretBundle<'_> = answer.json(&self.service, &shown)?;
        let value = bundle.value.and_then(unescape).ok_or_else(|| {
            Error::new(
                ErrorKind::Backend,
                format!("{} answered `{shown}` without a string value", self.service),
            )
        })?;
        let attributes = bundle.attributes.take().unwrap_or_default();
        let expires_at = timestamp(attributes.exp, &self.service, &shown)?;
        let created_at = timestamp(attributes.created, &self.service, &shown)?;
        let not_before = timestamp(attributes.nbf, &self.service, &shown)?;
        if attributes.enabled == Some(false) {
            return Err(disabled(&self.service, &shown));
        }
        let now = self.clock.now();
        if let Some(expires_at) = expires_at.filter(|at| *at <= now) {
            return Err(Error::new(
                ErrorKind::Expired,
                format!(
                    "secret `{shown}` in {} expired at {}",
                    self.service,
                    expires_at.to_rfc3339()
                ),
            ));
        }
        if let Some(not_before) = not_before.filter(|at| *at > now) {
            return Err(Error::new(
                ErrorKind::Expired,
                format!(
                    "secret `{shown}` in {} is not valid before {}",
                    self.service,
                    not_before.to_rfc3339()
                ),
            ));
        }

        let mut meta = SecretMeta::new(self.name.clone());
        // The id ends in the version: https://<vault>/secrets/<name>/<version>.
        if let Some(version) = bundle
            .id
            .as_deref()
            .and_then(|id| id.rsplit('/').next())
            .filter(|version| !version.is_empty())
        {
            meta = meta.with_version(version);
        }
        if let Some(created_at) = created_at {
            meta = meta.with_created_at(created_at);
        }
        if let Some(expires_at) = expires_at {
            meta = meta.with_expires_at(expires_at);
        }
        Ok(Some(Secret::new(value, meta)))
    }

    /// What the server's text must not repeat: the credential's own secrets (the client secret,
    /// App Service's identity header). Requests add the token or assertion they carry.
    fn quiet(&self) -> ServerText<'_> {
        match &self.credential {
            Credential::App {
                proof: Proof::Secret(secret),
                ..
            } => ServerText::new([("azure client secret", secret)]),
            Credential::ManagedIdentity {
                identity_header: Some(header),
                ..
            } => ServerText::new([("azure identity header", header)]),
            _ => ServerText::default(),
        }
    }

    /// The error for an answer that is neither the secret nor 404.
    fn refusal(
        &self,
        status: StatusCode,
        answer: &Answer,
        shown: &str,
        quiet: &ServerText<'_>,
    ) -> Error {
        let body: VaultError = serde_json::from_slice(&answer.body).unwrap_or_default();
        let inner = body
            .error
            .as_ref()
            .and_then(|error| error.innererror.as_ref())
            .and_then(|inner| inner.code.as_deref());
        if status == StatusCode::FORBIDDEN && inner == Some("SecretDisabled") {
            return disabled(&self.service, shown);
        }
        let detail = quiet.detail(vault_error_text(&answer.body).as_deref());
        let (kind, hint) = match status {
            StatusCode::UNAUTHORIZED => (
                ErrorKind::PermissionDenied,
                ": check the credential and that the token is for this vault's tenant",
            ),
            StatusCode::FORBIDDEN => (
                ErrorKind::PermissionDenied,
                ": grant the identity `get` on secrets (the Key Vault Secrets User role, or an access policy)",
            ),
            _ => (ErrorKind::Backend, ""),
        };
        Error::new(
            kind,
            format!(
                "{} answered {status} for `{shown}`{detail}{hint}",
                self.service
            ),
        )
    }

    /// Gets a new access token from the configured credential.
    async fn fetch_token(&self) -> Result<(SecretString, Option<Duration>)> {
        match &self.credential {
            Credential::AccessToken(token) => Ok((token.clone(), None)),
            Credential::App {
                token_url,
                client_id,
                proof,
                scope,
            } => {
                let service = format!("microsoft entra id at {}", origin(token_url));
                let shown = token_url.path().trim_start_matches('/').to_owned();
                let mut form = vec![
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("scope", scope.as_str()),
                ];
                // Read on every fetch: the platform replaces the file before the token in it
                // expires.
                let assertion = match proof {
                    Proof::FederatedTokenFile(path) => Some(read_token_file(path)?),
                    Proof::Secret(_) => None,
                };
                let hint = match proof {
                    Proof::Secret(secret) => {
                        form.push(("client_secret", secret.expose_secret()));
                        "check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"
                    }
                    Proof::FederatedTokenFile(_) => {
                        "check AZURE_TENANT_ID, AZURE_CLIENT_ID and the app's federated \
                         credential for this workload (AZURE_FEDERATED_TOKEN_FILE)"
                    }
                };
                let mut quiet = self.quiet();
                if let Some(assertion) = &assertion {
                    form.push((
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ));
                    form.push(("client_assertion", assertion.expose_secret()));
                    quiet = quiet.with("azure federated token", assertion);
                }
                let body = SecretBody::form(&form);
                let answer = http::send(
                    &self.policy,
                    || body.attach(self.client.post(token_url.clone())),
                    &service,
                    &shown,
                    entra_error_text,
                    &quiet,
                )
                .await?;
                token_from(answer, &service, &shown, hint, &quiet)
            }
            Credential::ManagedIdentity {
                endpoint,
                identity_header,
                client_id,
                resource,
            } => {
                let service = format!("azure managed identity endpoint at {}", origin(endpoint));
                let shown = endpoint.path().trim_start_matches('/').to_owned();
                let mut url = endpoint.clone();
                {
                    let mut query = url.query_pairs_mut();
                    let api_version = if identity_header.is_some() {
                        "2019-08-01"
                    } else {
                        "2018-02-01"
                    };
                    query.append_pair("api-version", api_version);
                    query.append_pair("resource", resource);
                    if let Some(client_id) = client_id {
                        query.append_pair("client_id", client_id);
                    }
                }
                let quiet = self.quiet();
                let answer = http::send(
                    &self.policy,
                    || {
                        let request = self.client.get(url.clone());
                        match identity_header {
                            Some(header) => {
                                let value = http::secret_header(&[header.expose_secret()])
                                    .unwrap_or_else(|| HeaderValue::from_static("invalid"));
                                request.header("X-IDENTITY-HEADER", value)
                            }
                            None => request.header("Metadata", "true"),
                        }
                    },
                    &service,
                    &shown,
                    entra_error_text,
                    &quiet,
                )
                .await?;
                token_from(
                    answer,
                    &service,
                    &shown,
                    "is a managed identity assigned to this resource?",
                    &quiet,
                )
            }
        }
    }
}

impl AsyncSecretProvider for AzureKeyVaultProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Secret>>> {
        Box::pin(self.read(key))
    }
}

/// The federated token of a workload identity, from the file the platform mounts.
///
/// Other users may read it: the kubelet mounts it `0644` (a projected volume's default), and
/// it is a token that expires within the hour and that Entra ID accepts only for this
/// application, not a long-lived secret; refusing it would fail every workload set up as
/// Azure documents it.
fn read_token_file(path: &Path) -> Result<SecretString> {
    let shown = format!("federated token file `{}`", path.display());
    let bytes = read_small_file(path, 64 * 1024, &shown, OtherReaders::Allowed)?;
    let text = std::str::from_utf8(&bytes)
        .map(str::trim)
        .ok()
        .filter(|text| !text.is_empty())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidFormat,
                format!("{shown} does not hold a token (empty or not UTF-8)"),
            )
        })?;
    Ok(SecretString::from(text))
}

fn disabled(service: &str, shown: &str) -> Error {
    Error::new(
        ErrorKind::PermissionDenied,
        format!("secret `{shown}` in {service} is disabled: enable it or read another version"),
    )
}

/// `scheme://host:port`, for messages: never a path or query that could carry a tenant secret.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Turns a token endpoint's answer into the token and its lifetime.
fn token_from(
    answer: Answer,
    service: &str,
    shown: &str,
    hint: &str,
    quiet: &ServerText<'_>,
) -> Result<(SecretString, Option<Duration>)> {
    if answer.status != StatusCode::OK {
        let kind = match answer.status.as_u16() {
            400 | 401 | 403 => ErrorKind::PermissionDenied,
            _ => ErrorKind::Backend,
        };
        return Err(Error::new(
            kind,
            format!(
                "{service} answered {} for `{shown}`{}: {hint}",
                answer.status,
                quiet.detail(entra_error_text(&answer.body).as_deref())
            ),
        ));
    }
    let body: TokenAnswer<'_> = answer.json(service, shown)?;
    let token = required_token(body.access_token, "access_token", service, shown)?;
    let lifetime = body
        .expires_in
        .as_ref()
        .and_then(Number::as_u64)
        .map(Duration::from_secs)
        .or_else(|| {
            // App Service gives only `expires_on`, in Unix seconds.
            let expires_on = i64::try_from(body.expires_on.as_ref()?.as_u64()?).ok()?;
            let left = expires_on - Utc::now().timestamp();
            Some(Duration::from_secs(u64::try_from(left).unwrap_or(0)))
        });
    Ok((token, lifetime))
}

fn timestamp(seconds: Option<i64>, service: &str, shown: &str) -> Result<Option<DateTime<Utc>>> {
    seconds
        .map(|seconds| {
            DateTime::from_timestamp(seconds, 0).ok_or_else(|| {
                Error::new(
                    ErrorKind::Backend,
                    format!("{service} sent a date out of range for `{shown}`"),
                )
            })
        })
        .transpose()
}

/// `Code: message` from a Key Vault error body.
fn vault_error_text(body: &[u8]) -> Option<String> {
    let VaultError { error: Some(error) } = serde_json::from_slice::<VaultError>(body).ok()? else {
        return None;
    };
    let code = error.code.as_deref().unwrap_or("error");
    Some(match error.message.as_deref() {
        Some(message) => format!("{code}: {message}"),
        None => code.to_owned(),
    })
}

/// `error: description` from a Microsoft Entra ID or managed identity error body.
fn entra_error_text(body: &[u8]) -> Option<String> {
    let error = serde_json::from_slice::<EntraError>(body).ok()?;
    match (error.error, error.error_description) {
        (Some(code), Some(description)) => Some(format!("{code}: {description}")),
        (Some(code), None) => Some(code),
        _ => None,
    }
}

/// Configures an [`AzureKeyVaultProvider`]; made by [`AzureKeyVaultProvider::builder`].
pub struct AzureKeyVaultBuilder {
    vault_url: String,
    name: String,
    api_version: String,
    authority_host: Option<String>,
    scope: String,
    credential: Option<CredentialConfig>,
    policy: RemotePolicy,
    clock: Arc<dyn Clock>,
}

enum CredentialConfig {
    AccessToken(SecretString),
    App {
        tenant_id: String,
        client_id: String,
        proof: Proof,
    },
    ManagedIdentity {
        client_id: Option<String>,
        endpoint: Option<String>,
    },
}

impl fmt::Debug for AzureKeyVaultBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credential = self.credential.as_ref().map(|credential| match credential {
            CredentialConfig::AccessToken(_) => "access token",
            CredentialConfig::App {
                proof: Proof::Secret(_),
                ..
            } => "client secret",
            CredentialConfig::App {
                proof: Proof::FederatedTokenFile(_),
                ..
            } => "workload identity",
            CredentialConfig::ManagedIdentity { .. } => "managed identity",
        });
        f.debug_struct("AzureKeyVaultBuilder")
            .field("vault_url", &self.vault_url)
            .field("name", &self.name)
            .field("credential", &credential)
            .finish_non_exhaustive()
    }
}

impl AzureKeyVaultBuilder {
    /// Sets the provider's name, for messages and [`SecretMeta::source`] (default
    /// `azure-key-vault`).
    pub fn with_name(mut self, name: impl Into<String>) -> AzureKeyVaultBuilder {
        self.name = name.into();
        self
    }

    /// Authenticates with an access token obtained elsewhere, e.g. by
    /// `az account get-access-token --resource https://vault.azure.net`. It is not refreshed:
    /// when it expires, reads fail with [`ErrorKind::PermissionDenied`].
    pub fn with_access_token(mut self, token: impl Into<SecretString>) -> AzureKeyVaultBuilder {
        self.credential = Some(CredentialConfig::AccessToken(token.into()));
        self
    }

    /// Authenticates as a service principal with a client secret (the OAuth 2.0 client
    /// credentials grant at `<authority>/<tenant>/oauth2/v2.0/token`).
    pub fn with_client_secret(
        mut self,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> AzureKeyVaultBuilder {
        self.credential = Some(CredentialConfig::App {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            proof: Proof::Secret(client_secret.into()),
        });
        self
    }

    /// Authenticates as an app with a federated token that the platform writes to
    /// `token_file` (Azure Kubernetes Service workload identity: `AZURE_FEDERATED_TOKEN_FILE`),
    /// exchanged as a client assertion. The file is read again for every new access token.
    pub fn with_workload_identity(
        mut self,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        token_file: impl Into<PathBuf>,
    ) -> AzureKeyVaultBuilder {
        self.credential = Some(CredentialConfig::App {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            proof: Proof::FederatedTokenFile(token_file.into()),
        });
        self
    }

    /// Authenticates with the managed identity of the machine or App Service the program runs
    /// on: `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` when set (App Service, Functions, Container
    /// Apps), else the VM instance metadata service. `client_id` picks a user-assigned identity.
    pub fn with_managed_identity(mut self, client_id: Option<String>) -> AzureKeyVaultBuilder {
        self.credential = Some(CredentialConfig::ManagedIdentity {
            client_id,
            endpoint: None,
        });
        self
    }

    /// Like [`with_managed_identity`](AzureKeyVaultBuilder::with_managed_identity), with the
    /// instance metadata service at another address (a proxy or a test server); the address
    /// must be `https`, loopback or link-local.
    pub fn with_managed_identity_at(
        mut self,
        endpoint: impl Into<String>,
        client_id: Option<String>,
    ) -> AzureKeyVaultBuilder {
        self.credential = Some(CredentialConfig::ManagedIdentity {
            client_id,
            endpoint: Some(endpoint.into()),
        });
        self
    }

    /// Sets the Microsoft Entra ID host for the client-secret credential (default
    /// `AZURE_AUTHORITY_HOST` or `https://login.microsoftonline.com`; national clouds use
    /// their own, e.g. `https://login.microsoftonline.us`).
    pub fn with_authority_host(mut self, host: impl Into<String>) -> AzureKeyVaultBuilder {
        self.authority_host = Some(host.into());
        self
    }

    /// Sets the token scope (default `https://vault.azure.net/.default`; national clouds use
    /// their own, e.g. `https://vault.usgovcloudapi.net/.default`).
    pub fn with_scope(mut self, scope: impl Into<String>) -> AzureKeyVaultBuilder {
        self.scope = scope.into();
        self
    }

    /// Sets the Key Vault REST API version (default `7.5`).
    pub fn with_api_version(mut self, version: impl Into<String>) -> AzureKeyVaultBuilder {
        self.api_version = version.into();
        self
    }

    /// Sets timeouts and retries (default [`RemotePolicy::default`]).
    pub fn with_policy(mut self, policy: RemotePolicy) -> AzureKeyVaultBuilder {
        self.policy = policy;
        self
    }

    /// Sets the clock that `exp` and `nbf` are checked against (default the system clock).
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> AzureKeyVaultBuilder {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the provider. It does not contact Azure: the first read does.
    ///
    /// Without a credential configured, it uses a client secret when `AZURE_CLIENT_SECRET` is
    /// set, else a workload identity when `AZURE_FEDERATED_TOKEN_FILE` is set (both with
    /// `AZURE_TENANT_ID` and `AZURE_CLIENT_ID`), else a managed identity (user-assigned when
    /// `AZURE_CLIENT_ID` is set).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for a vault URL, authority host or identity endpoint that is
    /// not `https` (plain `http` is accepted only for loopback addresses, and link-local ones
    /// for managed identity), for a tenant id that is not a plain name, and when
    /// `AZURE_CLIENT_SECRET` or `AZURE_FEDERATED_TOKEN_FILE` is set without `AZURE_TENANT_ID`
    /// and `AZURE_CLIENT_ID`.
    pub fn build(self) -> Result<AzureKeyVaultProvider> {
        let vault = parse_endpoint(&self.vault_url, "azure key vault url", PlainHttp::Loopback)?;
        let credential = match self.credential {
            Some(credential) => credential,
            None => credential_from_env()?,
        };
        let resource = self
            .scope
            .strip_suffix("/.default")
            .unwrap_or(&self.scope)
            .to_owned();
        let credential = match credential {
            CredentialConfig::AccessToken(token) => Credential::AccessToken(token),
            CredentialConfig::App {
                tenant_id,
                client_id,
                proof,
            } => {
                if tenant_id.is_empty()
                    || !tenant_id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
                {
                    return Err(Error::new(
                        ErrorKind::InvalidInput,
                        format!(
                            "azure tenant id {} is not a tenant GUID or domain",
                            quote_name(&tenant_id)
                        ),
                    ));
                }
                let host = match self.authority_host {
                    Some(host) => host,
                    None => env_string("AZURE_AUTHORITY_HOST")?
                        .unwrap_or_else(|| DEFAULT_AUTHORITY_HOST.to_owned()),
                };
                let authority = parse_endpoint(&host, "azure authority host", PlainHttp::Loopback)?;
                Credential::App {
                    token_url: join(&authority, &[&tenant_id, "oauth2", "v2.0", "token"]),
                    client_id,
                    proof,
                    scope: self.scope,
                }
            }
            CredentialConfig::ManagedIdentity {
                client_id,
                endpoint,
            } => {
                let (endpoint, identity_header) = match endpoint {
                    Some(endpoint) => (endpoint, None),
                    None => match (
                        env_string("IDENTITY_ENDPOINT")?,
                        env_string("IDENTITY_HEADER")?,
                    ) {
                        (Some(endpoint), Some(header)) => {
                            (endpoint, Some(SecretString::from(header)))
                        }
                        _ => (IMDS_ENDPOINT.to_owned(), None),
                    },
                };
                Credential::ManagedIdentity {
                    endpoint: parse_endpoint(
                        &endpoint,
                        "managed identity endpoint",
                        PlainHttp::LinkLocal,
                    )?,
                    identity_header,
                    client_id,
                    resource,
                }
            }
        };
        let client = http::client(&self.policy, reqwest::header::HeaderMap::new())?;
        let service = format!("azure key vault at {}", origin(&vault));
        Ok(AzureKeyVaultProvider {
            name: self.name,
            client,
            vault,
            service,
            api_version: self.api_version,
            credential,
            tokens: TokenCache::default(),
            policy: self.policy,
            clock: self.clock,
        })
    }
}

/// The credential the environment describes, in the order of the Azure SDKs'
/// `EnvironmentCredential`, `WorkloadIdentityCredential` and `ManagedIdentityCredential`.
fn credential_from_env() -> Result<CredentialConfig> {
    let client_id = env_string("AZURE_CLIENT_ID")?;
    let proof = match (
        env_string("AZURE_CLIENT_SECRET")?,
        env_string("AZURE_FEDERATED_TOKEN_FILE")?,
    ) {
        (Some(secret), _) => Proof::Secret(SecretString::from(secret)),
        (None, Some(file)) => Proof::FederatedTokenFile(PathBuf::from(file)),
        (None, None) => {
            return Ok(CredentialConfig::ManagedIdentity {
                client_id,
                endpoint: None,
            });
        }
    };
    match (env_string("AZURE_TENANT_ID")?, client_id) {
        (Some(tenant_id), Some(client_id)) => Ok(CredentialConfig::App {
            tenant_id,
            client_id,
            proof,
        }),
        _ => Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "{} is set but AZURE_TENANT_ID or AZURE_CLIENT_ID is not",
                match proof {
                    Proof::Secret(_) => "AZURE_CLIENT_SECRET",
                    Proof::FederatedTokenFile(_) => "AZURE_FEDERATED_TOKEN_FILE",
                }
            ),
        )),
    }
}

/// A number that some endpoints send as a JSON string (`"3599"`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Int(u64),
    Text(String),
}

impl Number {
    fn as_u64(&self) -> Option<u64> {
        match self {
            Number::Int(value) => Some(*value),
            Number::Text(text) => text.trim().parse().ok(),
        }
    }
}

/// An Entra ID or managed-identity token answer; the token is read as it stands in the answer
/// (see [`required_token`]).
#[derive(Deserialize)]
struct TokenAnswer<'a> {
    #[serde(borrow)]
    access_token: Option<&'a RawValue>,
    expires_in: Option<Number>,
    expires_on: Option<Number>,
}

#[derive(Deserialize)]
struct SecretBundle<'a> {
    /// The secret, read as it stands in the answer (see [`unescape`]).
    #[serde(borrow)]
    value: Option<&'a RawValue>,
    id: Option<String>,
    attributes: Option<SecretAttributes>,
}

#[derive(Deserialize, Default)]
struct SecretAttributes {
    enabled: Option<bool>,
    nbf: Option<i64>,
    exp: Option<i64>,
    created: Option<i64>,
}

#[derive(Deserialize, Default)]
struct VaultError {
    error: Option<VaultErrorBody>,
}

#[derive(Deserialize)]
struct VaultErrorBody {
    code: Option<String>,
    message: Option<String>,
    #[serde(alias = "innerError")]
    innererror: Option<InnerError>,
}

#[derive(Deserialize)]
struct InnerError {
    code: Option<String>,
}

#[derive(Deserialize)]
struct EntraError {
    error: Option<String>,
    error_description: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_map_underscores_to_dashes_and_refuse_the_rest() {
        let name = AzureKeyVaultProvider::secret_name;
        assert_eq!(name("OPENAI_API_KEY").unwrap(), "OPENAI-API-KEY");
        assert_eq!(name("db-password-2").unwrap(), "db-password-2");
        assert_eq!(name(&"a".repeat(127)).unwrap().len(), 127);
        for bad in ["", "a.b", "a/b", "a b", "ü", "a@b", &"a".repeat(128)] {
            let err = name(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidName, "{bad:?}");
        }
        assert!(
            name("a.b")
                .unwrap_err()
                .to_string()
                .contains("`.` is not allowed")
        );
    }

    #[test]
    fn versions_are_pinned_with_an_at_sign() {
        let (name, version) =
            AzureKeyVaultProvider::parse_key("OPENAI_API_KEY@4387e9f3d6e14c45").unwrap();
        assert_eq!(
            (name.as_str(), version),
            ("OPENAI-API-KEY", Some("4387e9f3d6e14c45"))
        );
        for bad in ["K@", "K@a-b", "K@a@b", "@v1"] {
            assert_eq!(
                AzureKeyVaultProvider::parse_key(bad).unwrap_err().kind(),
                ErrorKind::InvalidName,
                "{bad}"
            );
        }
    }

    #[test]
    fn error_details_come_from_the_documented_bodies() {
        let body = br#"{"error":{"code":"Forbidden","message":"Operation get is not allowed on a disabled secret.","innererror":{"code":"SecretDisabled"}}}"#;
        assert_eq!(
            vault_error_text(body).as_deref(),
            Some("Forbidden: Operation get is not allowed on a disabled secret.")
        );
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#;
        assert_eq!(
            entra_error_text(body).as_deref(),
            Some("invalid_client: AADSTS7000215: Invalid client secret provided.")
        );
        assert_eq!(vault_error_text(b"<html>"), None);
    }

    #[test]
    fn numbers_may_be_strings() {
        let answer: TokenAnswer<'_> =
            serde_json::from_str(r#"{"access_token":"t","expires_in":"3599"}"#).unwrap();
        assert_eq!(
            answer.expires_in.as_ref().and_then(Number::as_u64),
            Some(3599)
        );
        let answer: TokenAnswer<'_> =
            serde_json::from_str(r#"{"access_token":"t","expires_in":3599}"#).unwrap();
        assert_eq!(
            answer.expires_in.as_ref().and_then(Number::as_u64),
            Some(3599)
        );
    }

    #[test]
    fn plain_http_is_refused_for_a_remote_vault() {
        let err = AzureKeyVaultProvider::builder("http://my-vault.vault.azure.net")
            .with_access_token("tok")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("plain http"), "{err}");
    }
}
