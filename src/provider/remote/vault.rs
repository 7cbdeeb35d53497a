//! HashiCorp Vault and OpenBao, KV version 2, over their HTTP API.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Client, Method, StatusCode, Url};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::{Error, ErrorKind, Result};
use crate::provider::remote::endpoint::{PlainHttp, parse_endpoint_hinted};
use crate::provider::remote::env_var::env_string;
use crate::provider::remote::http::{self, Answer};
use crate::provider::remote::json_string::{required_token, unescape};
use crate::provider::remote::policy::RemotePolicy;
use crate::provider::remote::secret_body::SecretBody;
use crate::provider::remote::server_text::ServerText;
use crate::provider::{AsyncSecretProvider, BoxFuture, quote_name, validate_key_name};
use crate::secret::{Secret, SecretMeta, SecretString};

/// Renew a token when this share of its lifetime has passed.
const RENEW_AT_FRACTION: f64 = 2.0 / 3.0;

/// After a failed renewal of a fixed token, try again this much later.
const RENEW_RETRY: Duration = Duration::from_secs(10);

/// Secrets from a HashiCorp Vault or OpenBao KV version 2 engine.
///
/// A key is `path#field`: `api-keys#openai` reads the field `openai` of the secret at
/// `<mount>/data/<prefix>/api-keys`. Without `#field` the field [`VaultProvider::DEFAULT_FIELD`]
/// (`value`) is read. A path may contain `/` between segments; empty segments, `.`, `..` and
/// control characters are refused. A secret or field that does not exist is `Ok(None)`.
///
/// The secret's KV version becomes [`SecretMeta::version`] and its `created_time`
/// [`SecretMeta::created_at`], so rotation reports show the real age of a key.
///
/// Authentication is a token ([`VaultBuilder::with_token`], or `VAULT_TOKEN` from the
/// environment) or an AppRole login ([`VaultBuilder::with_approle`]). A token with a time to live
/// is renewed (`renew-self`) once two thirds of its lifetime have passed; an AppRole token that can
/// no longer be renewed is replaced by a fresh login. The token never appears in `Debug`, in an
/// error or in a log line.
///
/// Every request follows the provider's [`RemotePolicy`]: a timeout per attempt, retries with
/// backoff for connection errors, answers that break off mid-way, 5xx and 429, none for 401,
/// 403 or 404. Redirects are refused, HA standby redirects included: they would carry the token
/// (or the AppRole login) to an address the server chose; the error names both addresses.
/// Answers are read up to 1 MiB; what the server says in an error is shown redacted of the
/// provider's credentials, on one line, and cut to 200 characters.
///
/// A refused token (401, 403) or AppRole login (also 400) is an [`ErrorKind::PermissionDenied`]
/// error, so that a [`KeyManager`](crate::KeyManager) stops serving the key at once; failures
/// that retrying could cure (timeouts, 5xx, 429) are [temporary](crate::Error::is_temporary).
///
/// ```no_run
/// use keyward::AsyncSecretProvider;
/// use keyward::provider::vault::VaultProvider;
///
/// # async fn run() -> keyward::Result<()> {
/// let vault = VaultProvider::builder("https://vault.example.com:8200")
///     .with_prefix("agents/prod")
///     .build()?; // token from VAULT_TOKEN
/// let secret = vault.get("api-keys#openai").await?;
/// # Ok(()) }
/// ```
pub struct VaultProvider {
    name: String,
    client: Client,
    address: Url,
    /// `vault at <address>`, for messages.
    service: String,
    mount: String,
    prefix: Vec<String>,
    default_field: String,
    namespace: Option<String>,
    auth: Auth,
    policy: RemotePolicy,
    session: Mutex<Session>,
    // Serializes logins and renewals, so that many concurrent reads make one of each.
    refresh: tokio::sync::Mutex<()>,
}

enum Auth {
    Token(SecretString),
    AppRole {
        mount: String,
        role_id: SecretString,
        secret_id: SecretString,
    },
}

impl Auth {
    fn kind(&self) -> &'static str {
        match self {
            Auth::Token(_) => "token",
            Auth::AppRole { .. } => "approle",
        }
    }
}

/// The token in use and when to refresh it.
#[derive(Default)]
struct Session {
    token: Option<SecretString>,
    /// When to renew or log in again; `None` for a token that never expires.
    refresh_at: Option<Instant>,
    renewable: bool,
}

impl Session {
    fn current(&self, now: Instant) -> Option<SecretString> {
        let fresh = self.refresh_at.is_none_or(|at| now < at);
        self.token.clone().filter(|_| fresh)
    }

    fn set(&mut self, token: SecretString, lease: Lease) {
        self.token = Some(token);
        self.renewable = lease.renewable;
        self.refresh_at = refresh_time(lease.ttl);
    }
}

/// How a request ended, short of a failure.
enum Outcome {
    Found(Answer),
    Missing,
    /// 401 or 403, with the error to return when the caller cannot fix it.
    Denied(Error),
}

/// What Vault said about a token's lifetime.
#[derive(Debug, Clone, Copy)]
struct Lease {
    ttl: Duration,
    renewable: bool,
}

fn refresh_time(ttl: Duration) -> Option<Instant> {
    // A TTL of 0 is a token that does not expire (a root token).
    // The TTL is the server's number: one too far off to represent is no expiry either, where
    // `Instant + Duration` would panic.
    (!ttl.is_zero())
        .then(|| Instant::now().checked_add(ttl.mul_f64(RENEW_AT_FRACTION)))
        .flatten()
}

impl fmt::Debug for VaultProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultProvider")
            .field("name", &self.name)
            .field("address", &self.address())
            .field("mount", &self.mount)
            .field("prefix", &self.prefix.join("/"))
            .field("default_field", &self.default_field)
            .field("namespace", &self.namespace)
            .field("auth", &self.auth.kind())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl VaultProvider {
    /// The field read when a key names no field (`api-keys` reads `api-keys#value`).
    pub const DEFAULT_FIELD: &str = "value";

    /// Starts configuring a provider for the server at `address` (`https://host:8200`).
    pub fn builder(address: impl Into<String>) -> VaultBuilder {
        VaultBuilder {
            address: address.into(),
            name: "vault".to_owned(),
            mount: "secret".to_owned(),
            prefix: String::new(),
            default_field: VaultProvider::DEFAULT_FIELD.to_owned(),
            namespace: None,
            auth: None,
            policy: RemotePolicy::default(),
            plain_http: false,
        }
    }

    /// A provider configured from `VAULT_ADDR`, `VAULT_TOKEN` and `VAULT_NAMESPACE` (optional),
    /// the variables the Vault and OpenBao command-line tools read.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] when `VAULT_ADDR` or `VAULT_TOKEN` is unset or not UTF-8,
    /// and as [`VaultBuilder::build`].
    pub fn from_env() -> Result<VaultProvider> {
        VaultProvider::builder_from_env()?.build()
    }

    /// The builder [`from_env`](VaultProvider::from_env) builds, for what the variables do not
    /// say: `VaultProvider::builder_from_env()?.with_plain_http(true).build()` for a
    /// `VAULT_ADDR` of plain `http` on a private network.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] when `VAULT_ADDR` is unset or not UTF-8, or
    /// `VAULT_NAMESPACE` is not UTF-8.
    pub fn builder_from_env() -> Result<VaultBuilder> {
        let address = env_string("VAULT_ADDR")?.ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                "VAULT_ADDR is not set: it should name the vault server, e.g. https://vault.example.com:8200",
            )
        })?;
        let mut builder = VaultProvider::builder(address);
        if let Some(namespace) = env_string("VAULT_NAMESPACE")? {
            builder = builder.with_namespace(namespace);
        }
        Ok(builder)
    }

    /// The server address.
    pub fn address(&self) -> &str {
        self.address.as_str().trim_end_matches('/')
    }

    /// The KV v2 mount (`secret` unless configured).
    pub fn mount(&self) -> &str {
        &self.mount
    }

    /// The policy for timeouts and retries.
    pub fn policy(&self) -> &RemotePolicy {
        &self.policy
    }

    /// Reads `key` (`path#field`) from the server.
    async fn read(&self, key: &str) -> Result<Option<Secret>> {
        let (path, field) = self.parse_key(key)?;
        let segments: Vec<&str> = [self.mount.as_str(), "data"]
            .into_iter()
            .chain(self.prefix.iter().map(String::as_str))
            .chain(path.split('/'))
            .collect();
        let shown = segments.join("/");
        let url = self.url(&segments)?;
        let mut token = self.token().await?;
        let mut logged_in_again = false;
        let answer = loop {
            match self
                .send_answer(Method::GET, url.clone(), None, &shown, Some(&token))
                .await?
            {
                Outcome::Found(answer) => break answer,
                Outcome::Missing => return Ok(None),
                // An AppRole token may have been revoked, or the server restarted: log in
                // again, once.
                Outcome::Denied(_) if !logged_in_again && self.can_log_in() => {
                    self.forget(&token);
                    token = self.token().await?;
                    logged_in_again = true;
                }
                Outcome::Denied(err) => return Err(err),
            }
        };
        let body: KvResponse<'_> = answer.json(&self.service, &shown)?;
        let Some(&raw) = body.data.data.get(field) else {
            return Ok(None);
        };
        let Some(value) = unescape(raw) else {
            return Err(Error::new(
                ErrorKind::InvalidFormat,
                format!(
                    "field {} of `{shown}` in vault at {} is not a string",
                    quote_name(field),
                    self.address()
                ),
            ));
        };
        let mut meta = SecretMeta::new(self.name.clone());
        if let Some(version) = body.data.metadata.version {
            meta = meta.with_version(version.to_string());
        }
        if let Some(created) = body.data.metadata.created_time.as_deref() {
            meta = meta.with_created_at(parse_time(created, self.address(), &shown)?);
        }
        Ok(Some(Secret::new(value, meta)))
    }

    /// Splits `path#field` and checks the path.
    fn parse_key<'k>(&'k self, key: &'k str) -> Result<(&'k str, &'k str)> {
        let (path, field) = key.split_once('#').unwrap_or((key, &self.default_field));
        let invalid = |problem: &str| {
            Error::new(
                ErrorKind::InvalidName,
                format!("invalid vault key {}: {problem}", quote_name(key)),
            )
        };
        if field.is_empty() || field.chars().any(char::is_control) {
            return Err(invalid(
                "the field after `#` is empty or has a control character",
            ));
        }
        for segment in path.split('/') {
            validate_key_name(segment).map_err(|err| {
                invalid(&format!(
                    "path segment {} is not acceptable ({})",
                    quote_name(segment),
                    err.message()
                ))
            })?;
        }
        Ok((path, field))
    }

    /// Sends one API request, with retries; `Ok(None)` for 404. `shown` names the request in
    /// errors: a path, never a credential.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&SecretBody>,
        shown: &str,
        token: Option<&SecretString>,
    ) -> Result<Option<Answer>> {
        match self.send_answer(method, url, body, shown, token).await? {
            Outcome::Found(answer) => Ok(Some(answer)),
            Outcome::Missing => Ok(None),
            Outcome::Denied(err) => Err(err),
        }
    }

    /// Like [`send`](VaultProvider::send), with 401 and 403 kept apart for the caller to
    /// handle.
    async fn send_answer(
        &self,
        method: Method,
        url: Url,
        body: Option<&SecretBody>,
        shown: &str,
        token: Option<&SecretString>,
    ) -> Result<Outcome> {
        let header = token.map(token_header).transpose()?;
        let mut quiet = self.quiet();
        if let Some(token) = token {
            quiet = quiet.with("vault token", token);
        }
        let answer = http::send(
            &self.policy,
            || {
                let mut request = self.client.request(method.clone(), url.clone());
                if let Some(header) = &header {
                    request = request.header("X-Vault-Token", header.clone());
                }
                if let Some(body) = body {
                    request = body.attach(request);
                }
                request
            },
            &self.service,
            shown,
            vault_errors,
            &quiet,
        )
        .await?;
        let status = answer.status;
        if status == StatusCode::NOT_FOUND {
            return Ok(Outcome::Missing);
        }
        if status.is_success() {
            return Ok(Outcome::Found(answer));
        }
        // A refused token is an answer, not an outage: the caller may no longer read the key.
        // A login carries no token, and Vault refuses wrong AppRole credentials with 400
        // (`invalid role or secret ID`).
        let refused = matches!(status.as_u16(), 401 | 403)
            || (token.is_none() && status == StatusCode::BAD_REQUEST);
        let message = format!(
            "{} answered {status} for `{shown}`{}{}",
            self.service,
            quiet.detail(vault_errors(&answer.body).as_deref()),
            hint(status, refused)
        );
        if refused {
            Ok(Outcome::Denied(Error::new(
                ErrorKind::PermissionDenied,
                message,
            )))
        } else {
            Err(Error::new(ErrorKind::Backend, message))
        }
    }

    /// What the server's text must not repeat: the configured token, or the AppRole
    /// credentials. Requests add the token they carry.
    fn quiet(&self) -> ServerText<'_> {
        match &self.auth {
            Auth::Token(token) => ServerText::new([("vault token", token)]),
            Auth::AppRole {
                role_id, secret_id, ..
            } => ServerText::new([
                ("vault approle role_id", role_id),
                ("vault approle secret_id", secret_id),
            ]),
        }
    }

    fn url(&self, segments: &[&str]) -> Result<Url> {
        let mut url = self.address.clone();
        {
            let mut path = url.path_segments_mut().map_err(|()| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("vault address {} cannot take a path", self.address()),
                )
            })?;
            path.pop_if_empty().push("v1").extend(segments);
        }
        Ok(url)
    }

    /// A token that is good for the next request: logs in or renews when due.
    async fn token(&self) -> Result<SecretString> {
        if let Some(token) = self.lock_session().current(Instant::now()) {
            return Ok(token);
        }
        let _refreshing = self.refresh.lock().await;
        // Another task may have refreshed while this one waited.
        let (token, renewable) = {
            let session = self.lock_session();
            if let Some(token) = session.current(Instant::now()) {
                return Ok(token);
            }
            (session.token.clone(), session.renewable)
        };
        match (&self.auth, token) {
            (Auth::Token(configured), None) => {
                // First use: ask how long the token lives. A token whose policies do not
                // allow the lookup is used as it is, without renewal; a token that is not valid
                // at all shows in the read's 403.
                let lease = self.lookup_self(configured).await?.unwrap_or(Lease {
                    ttl: Duration::ZERO,
                    renewable: false,
                });
                self.lock_session().set(configured.clone(), lease);
                Ok(configured.clone())
            }
            (Auth::Token(_), Some(current)) => {
                // A revoked token shows in the next read's 403, with its message.
                if renewable && let Ok(lease) = self.renew_self(&current).await {
                    self.lock_session().set(current.clone(), lease);
                    return Ok(current);
                }
                // Not renewable, or the server is briefly unavailable: use the token while it
                // lasts and try again later; the server says when it has expired.
                self.lock_session().refresh_at = Some(Instant::now() + RENEW_RETRY);
                Ok(current)
            }
            (Auth::AppRole { .. }, current) => {
                // A lease cut short by the token's maximum TTL is replaced by a login when it
                // comes up for renewal again and the renewal fails.
                if let Some(current) = current.filter(|_| renewable)
                    && let Ok(lease) = self.renew_self(&current).await
                {
                    self.lock_session().set(current.clone(), lease);
                    return Ok(current);
                }
                let (token, lease) = self.login_approle().await?;
                self.lock_session().set(token.clone(), lease);
                Ok(token)
            }
        }
    }

    fn lock_session(&self) -> std::sync::MutexGuard<'_, Session> {
        // The session holds no invariant a panic could break halfway: recover it.
        self.session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The token's lease, or `None` when the server denies the lookup.
    async fn lookup_self(&self, token: &SecretString) -> Result<Option<Lease>> {
        let segments = ["auth", "token", "lookup-self"];
        let shown = segments.join("/");
        let url = self.url(&segments)?;
        let answer = match self
            .send_answer(Method::GET, url, None, &shown, Some(token))
            .await?
        {
            Outcome::Found(answer) => answer,
            Outcome::Denied(_) => return Ok(None),
            Outcome::Missing => {
                return Err(Error::new(
                    ErrorKind::Backend,
                    format!("vault at {} answered 404 for `{shown}`", self.address()),
                ));
            }
        };
        let body: LookupResponse = answer.json(&self.service, &shown)?;
        Ok(Some(Lease {
            ttl: Duration::from_secs(body.data.ttl),
            renewable: body.data.renewable,
        }))
    }

    fn can_log_in(&self) -> bool {
        matches!(self.auth, Auth::AppRole { .. })
    }

    /// Drops `token` from the session, unless another task has already replaced it, so that
    /// the next [`token`](VaultProvider::token) logs in.
    fn forget(&self, token: &SecretString) {
        let mut session = self.lock_session();
        if session.token.as_ref() == Some(token) {
            *session = Session::default();
        }
    }

    async fn renew_self(&self, token: &SecretString) -> Result<Lease> {
        let segments = ["auth", "token", "renew-self"];
        let answer = self
            .send_required(
                Method::POST,
                &segments,
                Some(&SecretBody::json(&serde_json::json!({}))?),
                token,
            )
            .await?;
        let body: AuthResponse = answer.json(&self.service, "auth/token/renew-self")?;
        Ok(body.auth.lease())
    }

    async fn login_approle(&self) -> Result<(SecretString, Lease)> {
        let Auth::AppRole {
            mount,
            role_id,
            secret_id,
        } = &self.auth
        else {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "no approle credentials configured",
            ));
        };
        let segments = ["auth", mount.as_str(), "login"];
        let shown = format!("auth/{mount}/login");
        // Written straight from the secrets into the one buffer the request sends and wipes.
        let body = SecretBody::json(&AppRoleLogin {
            role_id: role_id.expose_secret(),
            secret_id: secret_id.expose_secret(),
        })?;
        let answer = self
            .send(
                Method::POST,
                self.url(&segments)?,
                Some(&body),
                &shown,
                None,
            )
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Backend,
                    format!(
                        "vault at {} answered 404 for `{shown}`: is AppRole enabled at `{mount}`?",
                        self.address()
                    ),
                )
            })?;
        let body: AuthResponse<'_> = answer.json(&self.service, &shown)?;
        let token = required_token(
            body.auth.client_token,
            "auth.client_token",
            &self.service,
            &shown,
        )?;
        Ok((token, body.auth.lease()))
    }

    /// A request whose 404 is an error.
    async fn send_required(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&SecretBody>,
        token: &SecretString,
    ) -> Result<Answer> {
        let shown = segments.join("/");
        self.send(method, self.url(segments)?, body, &shown, Some(token))
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Backend,
                    format!("vault at {} answered 404 for `{shown}`", self.address()),
                )
            })
    }
}

impl AsyncSecretProvider for VaultProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Secret>>> {
        Box::pin(self.read(key))
    }
}

/// Configures a [`VaultProvider`]; made by [`VaultProvider::builder`].
pub struct VaultBuilder {
    address: String,
    name: String,
    mount: String,
    prefix: String,
    default_field: String,
    namespace: Option<String>,
    auth: Option<Auth>,
    policy: RemotePolicy,
    plain_http: bool,
}

impl fmt::Debug for VaultBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultBuilder")
            .field("address", &super::shown_address(&self.address))
            .field("mount", &self.mount)
            .field("prefix", &self.prefix)
            .field("auth", &self.auth.as_ref().map(Auth::kind))
            .finish_non_exhaustive()
    }
}

impl VaultBuilder {
    /// Sets the provider's name, for messages and [`SecretMeta::source`] (default `vault`).
    pub fn with_name(mut self, name: impl Into<String>) -> VaultBuilder {
        self.name = name.into();
        self
    }

    /// Sets the mount of the KV v2 engine (default `secret`).
    pub fn with_mount(mut self, mount: impl Into<String>) -> VaultBuilder {
        self.mount = mount.into();
        self
    }

    /// Sets a path prefix put before every key (`agents/prod` makes `api-keys` read
    /// `agents/prod/api-keys`).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> VaultBuilder {
        self.prefix = prefix.into();
        self
    }

    /// Sets the field read when a key names none (default [`VaultProvider::DEFAULT_FIELD`]).
    pub fn with_default_field(mut self, field: impl Into<String>) -> VaultBuilder {
        self.default_field = field.into();
        self
    }

    /// Sets the Vault Enterprise / OpenBao namespace (`X-Vault-Namespace`).
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> VaultBuilder {
        self.namespace = Some(namespace.into());
        self
    }

    /// Authenticates with a token. Without this or [`with_approle`](VaultBuilder::with_approle),
    /// [`build`](VaultBuilder::build) reads `VAULT_TOKEN`.
    pub fn with_token(mut self, token: impl Into<SecretString>) -> VaultBuilder {
        self.auth = Some(Auth::Token(token.into()));
        self
    }

    /// Authenticates by AppRole login at `auth/approle/login`.
    pub fn with_approle(
        self,
        role_id: impl Into<String>,
        secret_id: impl Into<SecretString>,
    ) -> VaultBuilder {
        self.with_approle_at("approle", role_id, secret_id)
    }

    /// Authenticates by AppRole login at `auth/<mount>/login`.
    pub fn with_approle_at(
        mut self,
        mount: impl Into<String>,
        role_id: impl Into<String>,
        secret_id: impl Into<SecretString>,
    ) -> VaultBuilder {
        self.auth = Some(Auth::AppRole {
            mount: mount.into(),
            role_id: SecretString::from(role_id.into()),
            secret_id: secret_id.into(),
        });
        self
    }

    /// Sets timeouts and retries (default [`RemotePolicy::default`]).
    pub fn with_policy(mut self, policy: RemotePolicy) -> VaultBuilder {
        self.policy = policy;
        self
    }

    /// Sends the token over plain `http` to a server that is not on this machine (default
    /// off: `http` only to a loopback address). For a server on a private network without TLS;
    /// anyone on the way between reads the token.
    pub fn with_plain_http(mut self, allowed: bool) -> VaultBuilder {
        self.plain_http = allowed;
        self
    }

    /// Builds the provider. It does not contact the server: the first read does.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for an address that is not an `http` or `https` URL, has a
    /// user name or password, a query or a fragment (every request would carry them, and every
    /// error print them), or is plain `http` to another machine without
    /// [`with_plain_http`](VaultBuilder::with_plain_http); an unacceptable mount, prefix or
    /// AppRole mount; or when no authentication was configured and `VAULT_TOKEN` is unset.
    pub fn build(self) -> Result<VaultProvider> {
        let invalid = |message: String| Error::new(ErrorKind::InvalidInput, message);
        let plain_http = if self.plain_http {
            PlainHttp::Anywhere
        } else {
            PlainHttp::Loopback
        };
        let address = parse_endpoint_hinted(
            &self.address,
            "vault address",
            plain_http,
            "; `with_plain_http(true)` allows it for a server on a private network (on \
             `VaultProvider::builder_from_env()` for `VAULT_ADDR`)",
        )?;
        let mount = self.mount.trim_matches('/').to_owned();
        let prefix: Vec<String> = self
            .prefix
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(str::to_owned)
            .collect();
        for segment in mount.split('/').chain(prefix.iter().map(String::as_str)) {
            validate_key_name(segment)
                .map_err(|err| invalid(format!("vault mount or prefix: {}", err.message())))?;
        }
        let auth = match self.auth {
            Some(Auth::AppRole { mount, .. }) if validate_key_name(&mount).is_err() => {
                return Err(invalid(format!(
                    "approle mount {} is not acceptable",
                    quote_name(&mount)
                )));
            }
            Some(auth) => auth,
            None => Auth::Token(
                env_string("VAULT_TOKEN")?
                    .map(SecretString::from)
                    .ok_or_else(|| {
                        invalid(
                        "no vault credentials: set VAULT_TOKEN, or call with_token or with_approle"
                            .to_owned(),
                    )
                    })?,
            ),
        };
        if let Auth::Token(token) = &auth {
            token_header(token)?;
        }
        let mut headers = HeaderMap::new();
        if let Some(namespace) = &self.namespace {
            let value = HeaderValue::from_str(namespace).map_err(|_| {
                invalid(format!(
                    "vault namespace {} is not a valid header value",
                    quote_name(namespace)
                ))
            })?;
            headers.insert("X-Vault-Namespace", value);
        }
        let client = http::client(&self.policy, headers)?;
        let service = format!("vault at {}", address.as_str().trim_end_matches('/'));
        Ok(VaultProvider {
            name: self.name,
            client,
            address,
            service,
            mount,
            prefix,
            default_field: self.default_field,
            namespace: self.namespace,
            auth,
            policy: self.policy,
            session: Mutex::new(Session::default()),
            refresh: tokio::sync::Mutex::new(()),
        })
    }
}

/// The token as a header value marked sensitive, which keeps it out of the HTTP stack's Debug,
/// and wiped after use.
fn token_header(token: &SecretString) -> Result<HeaderValue> {
    http::secret_header(&[token.expose_secret()]).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidInput,
            "the vault token contains characters an HTTP header cannot carry (a line break?)",
        )
    })
}

fn hint(status: StatusCode, refused: bool) -> &'static str {
    match status.as_u16() {
        _ if refused => ": check the token or AppRole credentials and their policies",
        429 => ": the server is throttling requests",
        _ => "",
    }
}

/// The `errors` Vault puts in a failed answer, joined (`permission denied`).
fn vault_errors(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<String>,
    }
    let body = serde_json::from_slice::<Errors>(body).ok()?;
    Some(body.errors.join("; "))
}

fn parse_time(text: &str, address: &str, shown: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|err| {
            Error::new(
                ErrorKind::Backend,
                format!(
                    "vault at {address} sent a created_time for `{shown}` that is not RFC 3339"
                ),
            )
            .with_source(err)
        })
}

/// The body of an AppRole login.
#[derive(Serialize)]
struct AppRoleLogin<'a> {
    role_id: &'a str,
    secret_id: &'a str,
}

#[derive(Deserialize)]
struct KvResponse<'a> {
    #[serde(borrow)]
    data: KvData<'a>,
}

#[derive(Deserialize)]
struct KvData<'a> {
    /// The fields, read as they stand in the answer (see [`unescape`]): the one asked for is
    /// unescaped into the secret, the others are never copied.
    #[serde(default, borrow)]
    data: HashMap<String, &'a RawValue>,
    #[serde(default)]
    metadata: KvMetadata,
}

#[derive(Deserialize, Default)]
struct KvMetadata {
    version: Option<u64>,
    created_time: Option<String>,
}

#[derive(Deserialize)]
struct LookupResponse {
    data: LookupData,
}

#[derive(Deserialize)]
struct LookupData {
    #[serde(default)]
    ttl: u64,
    #[serde(default)]
    renewable: bool,
}

#[derive(Deserialize)]
struct AuthResponse<'a> {
    #[serde(borrow)]
    auth: AuthData<'a>,
}

/// A login's `auth`; the token is read as it stands in the answer (see [`required_token`]).
#[derive(Deserialize)]
struct AuthData<'a> {
    #[serde(borrow)]
    client_token: Option<&'a RawValue>,
    #[serde(default)]
    lease_duration: u64,
    #[serde(default)]
    renewable: bool,
}

impl AuthData<'_> {
    fn lease(&self) -> Lease {
        Lease {
            ttl: Duration::from_secs(self.lease_duration),
            renewable: self.renewable,
        }
    }
}
