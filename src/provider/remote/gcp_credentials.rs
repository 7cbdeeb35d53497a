//! Where `GcpSecretManagerProvider` gets its OAuth 2.0 access tokens: a token given to it, a
//! service-account key file (a signed JWT exchanged for a token), a user's application default
//! credentials (a refresh token), or the metadata server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::{Client, StatusCode, Url};
use serde::Deserialize;
use serde_json::value::RawValue;
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::provider::capped::{OtherReaders, read_small_file};
use crate::provider::remote::endpoint::{PlainHttp, parse_endpoint};
use crate::provider::remote::http::{self, Answer};
use crate::provider::remote::json_string::{required_token, unescape};
use crate::provider::remote::policy::RemotePolicy;
use crate::provider::remote::secret_body::SecretBody;
use crate::provider::remote::server_text::ServerText;
use crate::secret::SecretString;

/// Google's OAuth 2.0 token endpoint, for key files that do not name one.
pub(crate) const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// The scope that covers Secret Manager (access is then narrowed by IAM).
const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// How long a service account's signed assertion is valid (Google's maximum).
const ASSERTION_LIFETIME_SECS: i64 = 3600;

/// A credentials file larger than this is not one.
const MAX_FILE_BYTES: usize = 64 * 1024;

/// A source of access tokens.
pub(crate) enum GoogleCredential {
    AccessToken(SecretString),
    MetadataServer(Url),
    ServiceAccount(ServiceAccount),
    AuthorizedUser(AuthorizedUser),
}

pub(crate) struct ServiceAccount {
    email: String,
    key_id: Option<String>,
    key: RsaKeyPair,
    token_url: Url,
}

pub(crate) struct AuthorizedUser {
    client_id: String,
    client_secret: SecretString,
    refresh_token: SecretString,
    token_url: Url,
    quota_project: Option<String>,
}

impl GoogleCredential {
    /// What kind of credential this is, for `Debug` and messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            GoogleCredential::AccessToken(_) => "access token",
            GoogleCredential::MetadataServer(_) => "metadata server",
            GoogleCredential::ServiceAccount(_) => "service account key",
            GoogleCredential::AuthorizedUser(_) => "authorized user",
        }
    }

    /// Whether a refused token can be replaced by fetching another.
    pub(crate) fn refreshes(&self) -> bool {
        !matches!(self, GoogleCredential::AccessToken(_))
    }

    /// The project billed for requests made with user credentials (`quota_project_id`).
    pub(crate) fn quota_project(&self) -> Option<&str> {
        match self {
            GoogleCredential::AuthorizedUser(user) => user.quota_project.as_deref(),
            _ => None,
        }
    }

    /// Reads a credentials file of type `service_account` or `authorized_user`, as written by
    /// the Cloud console or `gcloud auth application-default login`. `token_url` replaces the
    /// file's `token_uri`; `readers` says whether other users may read the file.
    pub(crate) fn from_file(
        path: &Path,
        token_url: Option<&str>,
        readers: OtherReaders,
    ) -> Result<GoogleCredential> {
        let shown = format!("google credentials file `{}`", path.display());
        let invalid =
            |problem: &str| Error::new(ErrorKind::InvalidInput, format!("{shown} {problem}"));
        let bytes = read_small_file(path, MAX_FILE_BYTES, &shown, readers)?;
        // serde_json's message may quote a value, a key: give only the position.
        let file: CredentialsFile<'_> = serde_json::from_slice(&bytes).map_err(|err| {
            invalid(&format!(
                "is not valid JSON (line {}, column {})",
                err.line(),
                err.column()
            ))
        })?;
        let token_url = |from_file: Option<&str>| {
            let text = token_url.or(from_file).unwrap_or(DEFAULT_TOKEN_URL);
            parse_endpoint(text, "google token url", PlainHttp::Loopback)
        };
        match file.kind.as_deref() {
            Some("service_account") => {
                let (Some(email), Some(pem)) = (file.client_email.clone(), file.private_key) else {
                    return Err(invalid("lacks client_email or private_key"));
                };
                let pem = unescape(pem)
                    .ok_or_else(|| invalid("has a private_key that is not a JSON string"))?;
                let der = pem_to_der(pem.expose_secret()).ok_or_else(|| {
                    invalid("has a private_key that is not a PEM `PRIVATE KEY` block")
                })?;
                let key = RsaKeyPair::from_pkcs8(&der)
                    .map_err(|_| invalid("has a private_key that is not a PKCS#8 RSA key"))?;
                Ok(GoogleCredential::ServiceAccount(ServiceAccount {
                    email,
                    key_id: file.private_key_id.clone(),
                    key,
                    token_url: token_url(file.token_uri.as_deref())?,
                }))
            }
            Some("authorized_user") => {
                let (Some(client_id), Some(client_secret), Some(refresh_token)) = (
                    file.client_id.clone(),
                    file.client_secret,
                    file.refresh_token,
                ) else {
                    return Err(invalid("lacks client_id, client_secret or refresh_token"));
                };
                let (Some(client_secret), Some(refresh_token)) =
                    (unescape(client_secret), unescape(refresh_token))
                else {
                    return Err(invalid(
                        "has a client_secret or refresh_token that is not a JSON string",
                    ));
                };
                Ok(GoogleCredential::AuthorizedUser(AuthorizedUser {
                    client_id,
                    client_secret,
                    refresh_token,
                    token_url: token_url(file.token_uri.as_deref())?,
                    quota_project: file.quota_project_id.clone(),
                }))
            }
            Some(other) => Err(invalid(&format!(
                "has type `{}`; keyward reads `service_account` and `authorized_user` files",
                ServerText::default().clean(other)
            ))),
            None => Err(invalid("has no `type`")),
        }
    }

    /// Gets a new access token and its lifetime (`None`: unknown).
    pub(crate) async fn fetch(
        &self,
        client: &Client,
        policy: &RemotePolicy,
    ) -> Result<(SecretString, Option<Duration>)> {
        match self {
            GoogleCredential::AccessToken(token) => Ok((token.clone(), None)),
            GoogleCredential::MetadataServer(url) => metadata_token(client, policy, url).await,
            GoogleCredential::ServiceAccount(account) => {
                let assertion = account.assertion(chrono::Utc::now().timestamp())?;
                let form = [
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", assertion.expose_secret()),
                ];
                let hint = format!(
                    "check that the key of service account `{}` is current and not disabled",
                    account.email
                );
                let quiet = ServerText::new([("google jwt assertion", &assertion)]);
                oauth_token(client, policy, &account.token_url, &form, &hint, &quiet).await
            }
            GoogleCredential::AuthorizedUser(user) => {
                let form = [
                    ("grant_type", "refresh_token"),
                    ("client_id", user.client_id.as_str()),
                    ("client_secret", user.client_secret.expose_secret()),
                    ("refresh_token", user.refresh_token.expose_secret()),
                ];
                let hint = "the refresh token may have been revoked: run \
                            `gcloud auth application-default login` again";
                let quiet = ServerText::new([
                    ("google client secret", &user.client_secret),
                    ("google refresh token", &user.refresh_token),
                ]);
                oauth_token(client, policy, &user.token_url, &form, hint, &quiet).await
            }
        }
    }
}

impl ServiceAccount {
    /// A JWT for the OAuth 2.0 JWT bearer grant (RFC 7523), signed RS256 with the account's key.
    fn assertion(&self, now: i64) -> Result<SecretString> {
        let mut header = serde_json::json!({ "alg": "RS256", "typ": "JWT" });
        if let Some(key_id) = &self.key_id {
            header["kid"] = key_id.as_str().into();
        }
        let claims = serde_json::json!({
            "iss": self.email,
            "scope": CLOUD_PLATFORM_SCOPE,
            "aud": self.token_url.as_str(),
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        // The signature makes the assertion a credential: no unwiped copy of it, raw or encoded.
        let unsigned = || {
            Error::new(
                ErrorKind::Backend,
                format!("could not sign the token request of `{}`", self.email),
            )
        };
        let mut signature = Zeroizing::new(vec![0; self.key.public_modulus_len()]);
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| unsigned())?;
        // Encoded into a buffer of its own (`encode_string` goes through a stack buffer that
        // is not wiped), then appended to a string of the final size.
        let encoded_len = base64::encoded_len(signature.len(), false).unwrap_or_default();
        let mut encoded = Zeroizing::new(vec![0; encoded_len]);
        let written = URL_SAFE_NO_PAD
            .encode_slice(&*signature, &mut encoded)
            .map_err(|_| unsigned())?;
        let encoded = std::str::from_utf8(&encoded[..written]).map_err(|_| unsigned())?;
        let mut assertion = String::with_capacity(signing_input.len() + 1 + encoded.len());
        assertion.push_str(&signing_input);
        assertion.push('.');
        assertion.push_str(encoded);
        Ok(SecretString::from(assertion))
    }
}

/// The well-known file `gcloud auth application-default login` writes, if it exists.
pub(crate) fn well_known_file() -> Option<PathBuf> {
    let dir = match std::env::var_os("CLOUDSDK_CONFIG") {
        Some(dir) => PathBuf::from(dir),
        None if cfg!(windows) => PathBuf::from(std::env::var_os("APPDATA")?).join("gcloud"),
        None => PathBuf::from(std::env::var_os("HOME")?)
            .join(".config")
            .join("gcloud"),
    };
    Some(dir.join("application_default_credentials.json")).filter(|path| path.is_file())
}

/// The DER bytes of the first `-----BEGIN PRIVATE KEY-----` block.
fn pem_to_der(pem: &str) -> Option<Zeroizing<Vec<u8>>> {
    let (_, rest) = pem.split_once("-----BEGIN PRIVATE KEY-----")?;
    let (body, _) = rest.split_once("-----END PRIVATE KEY-----")?;
    // Sized first: a `String` grown by `collect` frees each outgrown buffer, key and all.
    let mut base64 = Zeroizing::new(String::with_capacity(body.len()));
    base64.extend(body.chars().filter(|c| !c.is_whitespace()));
    let mut der = Zeroizing::new(Vec::with_capacity(base64.len()));
    STANDARD.decode_vec(base64.as_bytes(), &mut der).ok()?;
    Some(der)
}

/// `POST` a form to an OAuth 2.0 token endpoint.
async fn oauth_token(
    client: &Client,
    policy: &RemotePolicy,
    url: &Url,
    form: &[(&str, &str)],
    hint: &str,
    quiet: &ServerText<'_>,
) -> Result<(SecretString, Option<Duration>)> {
    let service = format!("google oauth at {}", url.origin().ascii_serialization());
    let shown = url.path().trim_start_matches('/').to_owned();
    let body = SecretBody::form(form);
    let answer = http::send(
        policy,
        || body.attach(client.post(url.clone())),
        &service,
        &shown,
        oauth_error_text,
        quiet,
    )
    .await?;
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
                quiet.detail(oauth_error_text(&answer.body).as_deref())
            ),
        ));
    }
    token_from(&answer, &service, &shown)
}

async fn metadata_token(
    client: &Client,
    policy: &RemotePolicy,
    url: &Url,
) -> Result<(SecretString, Option<Duration>)> {
    let service = format!(
        "the gce metadata server at {}",
        url.origin().ascii_serialization()
    );
    let shown = url.path().trim_start_matches('/').to_owned();
    let answer = http::send(
        policy,
        || client.get(url.clone()).header("Metadata-Flavor", "Google"),
        &service,
        &shown,
        |_| None,
        &ServerText::default(),
    )
    .await?;
    if answer.status != StatusCode::OK {
        let hint = if answer.status == StatusCode::NOT_FOUND {
            ": is a service account attached to this machine?"
        } else {
            ""
        };
        return Err(Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "{service} answered {} for `{shown}`{hint}; outside Google Cloud, set \
                 GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_OAUTH_ACCESS_TOKEN",
                answer.status
            ),
        ));
    }
    // A real metadata server says so; anything else is not one to trust with a token.
    if answer
        .headers
        .get("Metadata-Flavor")
        .is_none_or(|flavor| flavor != "Google")
    {
        return Err(Error::new(
            ErrorKind::Backend,
            format!("{service} did not answer as a metadata server (no Metadata-Flavor: Google)"),
        ));
    }
    token_from(&answer, &service, &shown)
}

fn token_from(
    answer: &Answer,
    service: &str,
    shown: &str,
) -> Result<(SecretString, Option<Duration>)> {
    let body: TokenAnswer<'_> = answer.json(service, shown)?;
    let token = required_token(body.access_token, "access_token", service, shown)?;
    Ok((token, body.expires_in.map(Duration::from_secs)))
}

/// `error: description` from an OAuth 2.0 error body.
fn oauth_error_text(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct OAuthError {
        error: Option<String>,
        error_description: Option<String>,
    }
    match serde_json::from_slice::<OAuthError>(body) {
        Ok(OAuthError {
            error: Some(error),
            error_description: Some(description),
        }) => Some(format!("{error}: {description}")),
        Ok(OAuthError {
            error: Some(error), ..
        }) => Some(error),
        _ => None,
    }
}

/// An OAuth 2.0 token answer; the token is read as it stands in the answer (see
/// [`required_token`]).
#[derive(Deserialize)]
struct TokenAnswer<'a> {
    #[serde(borrow)]
    access_token: Option<&'a RawValue>,
    expires_in: Option<u64>,
}

/// The fields of a credentials file; the secret ones are read as they stand in the file (see
/// [`unescape`]), whose buffer is wiped.
#[derive(Deserialize)]
struct CredentialsFile<'a> {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: Option<String>,
    #[serde(borrow)]
    private_key: Option<&'a RawValue>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
    client_id: Option<String>,
    #[serde(borrow)]
    client_secret: Option<&'a RawValue>,
    #[serde(borrow)]
    refresh_token: Option<&'a RawValue>,
    quota_project_id: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    use super::*;

    fn pem(der: &[u8]) -> String {
        let body = STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).unwrap())
            .collect();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn a_service_account_signs_a_verifiable_assertion() {
        let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let der = key.as_der().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sa.json");
        let file = serde_json::json!({
            "type": "service_account",
            "client_email": "agent@keyward-test.iam.gserviceaccount.com",
            "private_key_id": "0123abcd",
            "private_key": pem(der.as_ref()),
            "token_uri": "https://oauth2.googleapis.com/token",
        });
        std::fs::write(&path, file.to_string()).unwrap();
        let GoogleCredential::ServiceAccount(account) =
            GoogleCredential::from_file(&path, None, OtherReaders::Allowed).unwrap()
        else {
            panic!("not a service account");
        };
        let jwt = account.assertion(1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.expose_secret().split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], "0123abcd");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "agent@keyward-test.iam.gserviceaccount.com");
        assert_eq!(claims["aud"], "https://oauth2.googleapis.com/token");
        assert_eq!(claims["exp"], 1_700_003_600);
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let public = UnparsedPublicKey::new(
            &RSA_PKCS1_2048_8192_SHA256,
            key.public_key().as_ref().to_vec(),
        );
        public
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .unwrap();
    }

    #[test]
    fn bad_files_are_refused_without_their_contents() {
        let dir = tempfile::tempdir().unwrap();
        let secret = "fake-refresh-token-Kq9".repeat(2);
        for (name, text, expected) in [
            ("a.json", format!("{{\"type\": \"authorized_user\", \"refresh_token\": \"{secret}\""), "not valid JSON"),
            ("b.json", format!("{{\"type\": \"authorized_user\", \"refresh_token\": \"{secret}\"}}"), "lacks client_id"),
            ("c.json", "{\"type\": \"external_account\"}".to_owned(), "`external_account`"),
            ("d.json", "{\"type\": \"service_account\", \"client_email\": \"a@b\", \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\"}".to_owned(), "PKCS#8"),
            ("e.json", "{\"type\": \"service_account\", \"client_email\": \"a@b\", \"private_key\": 12}".to_owned(), "not a JSON string"),
            ("f.json", format!("{{\"type\": \"authorized_user\", \"client_id\": \"c\", \"client_secret\": \"\\ud800\", \"refresh_token\": \"{secret}\"}}"), "not a JSON string"),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let err = GoogleCredential::from_file(&path, None, OtherReaders::Allowed).map(|_| ()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}");
            let shown = format!("{err} {err:?}");
            assert!(shown.contains(expected), "{name}: {shown}");
            assert!(shown.contains(name), "{shown}");
            assert!(!shown.contains(&secret), "{shown}");
        }
        let missing =
            GoogleCredential::from_file(&dir.path().join("none.json"), None, OtherReaders::Allowed)
                .map(|_| ())
                .unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::Io);
    }

    #[test]
    fn an_authorized_user_file_keeps_its_quota_project() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("adc.json");
        let file = serde_json::json!({
            "type": "authorized_user",
            "client_id": "123.apps.googleusercontent.com",
            "client_secret": "fake-client-secret",
            "refresh_token": "fake-refresh-token",
            "quota_project_id": "billing-project",
        });
        std::fs::write(&path, file.to_string()).unwrap();
        let credential = GoogleCredential::from_file(
            &path,
            Some("http://127.0.0.1:9/token"),
            OtherReaders::Allowed,
        )
        .unwrap();
        assert_eq!(credential.kind(), "authorized user");
        assert_eq!(credential.quota_project(), Some("billing-project"));
        let err = GoogleCredential::from_file(
            &path,
            Some("http://oauth.example.com/token"),
            OtherReaders::Allowed,
        )
        .map(|_| ())
        .unwrap_err();
        assert!(err.to_string().contains("plain http"), "{err}");
    }
}
