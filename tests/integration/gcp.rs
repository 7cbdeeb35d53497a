//! `GcpSecretManagerProvider` against a local server that follows the published Secret Manager
//! and metadata-server REST contracts (`tests/servers/gcp_secretmanager.py`), through the real
//! provider code: token fetch, reads, CRC32C, metadata, and the refusals the contract defines.
//!
//! Every async test runs on tokio's multi-thread and current-thread runtimes. The tests are
//! skipped, with a printed reason, only when there is no Python 3 to run the server.
#![cfg(feature = "gcp")]
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use crate::common::misbehaving::{
    Fake, Reply, Request, assert_clean, assert_redirect_refused, redirect_target,
};
use crate::servers::ContractServer;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RsaKeyPair};
use base64::Engine;
use chrono::Utc;
use keyward::provider::RemotePolicy;
use keyward::provider::gcp::GcpSecretManagerProvider;
use keyward::{AsyncSecretProvider, AsyncSecretProviderExt, ErrorKind};
use serde_json::{Value, json};

on_both_runtimes!(
    passes_the_conformance_suite,
    reads_latest_and_pinned_versions_with_metadata,
    create_time_is_fetched_on_request,
    missing_secrets_and_versions_are_none,
    a_disabled_version_is_refused_as_such,
    a_checksum_mismatch_is_a_backend_error,
    throttling_is_retried_after_the_servers_pause,
    a_refusal_is_permission_denied_and_not_retried,
    a_wrong_token_is_refused_without_showing_it,
    tokens_come_from_the_metadata_server,
    a_service_account_key_file_is_exchanged_for_tokens,
    a_service_account_key_the_server_does_not_know_is_refused,
    user_credentials_refresh_and_bill_the_quota_project,
    a_revoked_refresh_token_is_refused_without_showing_it,
    a_revoked_token_is_replaced_once,
    redirects_are_refused_and_nothing_reaches_the_other_server,
    server_text_in_errors_is_redacted_escaped_and_cut,
);

const PROJECT: &str = "keyward-test";
const PROJECT_NUMBER: &str = "123456789012";

fn fake(tag: &str) -> String {
    format!("fake-{tag}-{}", "Qw7e".repeat(6))
}

fn fake_key(tag: &str) -> String {
    format!("sk-proj-{tag}{}", "Ab3d".repeat(10))
}

struct Gcp {
    server: ContractServer,
    token: String,
}

const SA_EMAIL: &str = "agent@keyward-test.iam.gserviceaccount.com";
const CLIENT_ID: &str = "764086051850-fake.apps.googleusercontent.com";

fn gcp() -> Option<Gcp> {
    gcp_trusting(None)
}

/// A server that knows the service account `SA_EMAIL` by the public half of `key`, and a user
/// client whose secret and refresh token are made from `fake`.
fn gcp_trusting(key: Option<&RsaKeyPair>) -> Option<Gcp> {
    let token = fake("token");
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    // The public key as PKCS#1 DER (RSAPublicKey), which the server parses.
    let public = key.map_or(String::new(), |key| hex(key.public_key().as_ref()));
    let server = ContractServer::start(
        "gcp_secretmanager.py",
        &[
            ("GCP_TEST_PROJECT", PROJECT),
            ("GCP_TEST_PROJECT_NUMBER", PROJECT_NUMBER),
            ("GCP_TEST_TOKEN", &token),
            ("GCP_TEST_SA_EMAIL", SA_EMAIL),
            ("GCP_TEST_SA_PUBLIC_KEY", &public),
            ("GCP_TEST_CLIENT_ID", CLIENT_ID),
            ("GCP_TEST_CLIENT_SECRET", &fake("client-secret")),
            ("GCP_TEST_REFRESH_TOKEN", &fake("refresh-token")),
        ],
    )?;
    Some(Gcp { server, token })
}

/// A service-account key file as the Cloud console writes it, for `key`.
fn key_file(dir: &tempfile::TempDir, key: &RsaKeyPair, token_uri: &str) -> std::path::PathBuf {
    let der = key.as_der().unwrap();
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<String> = body
        .as_bytes()
        .chunks(64)
        .map(|line| String::from_utf8(line.to_vec()).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    write_file(
        dir,
        "service-account.json",
        &json!({
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "private_key": pem,
            "client_email": SA_EMAIL,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
        }),
    )
}

fn write_file(dir: &tempfile::TempDir, name: &str, content: &Value) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content.to_string()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

/// A user credentials file as `gcloud auth application-default login` writes it.
fn user_file(dir: &tempfile::TempDir, refresh_token: &str) -> std::path::PathBuf {
    write_file(
        dir,
        "application_default_credentials.json",
        &json!({
            "account": "",
            "client_id": CLIENT_ID,
            "client_secret": fake("client-secret"),
            "quota_project_id": "billing-project",
            "refresh_token": refresh_token,
            "type": "authorized_user",
            "universe_domain": "googleapis.com",
        }),
    )
}

fn fast() -> RemotePolicy {
    RemotePolicy::default()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(4))
}

impl Gcp {
    fn builder(&self) -> keyward::provider::gcp::GcpSecretManagerBuilder {
        GcpSecretManagerProvider::builder()
            .with_project(PROJECT)
            .with_endpoint(&self.server.base)
            .with_access_token(self.token.as_str())
            .with_policy(fast())
    }

    fn provider(&self) -> GcpSecretManagerProvider {
        self.builder().build().unwrap()
    }

    /// Adds a version and returns its number.
    async fn add(&self, id: &str, body: Value) -> u64 {
        let answer = self
            .server
            .control(reqwest::Method::POST, &format!("secrets/{id}"), body)
            .await;
        answer["version"].as_u64().unwrap()
    }

    async fn reads_of(&self, id: &str) -> usize {
        self.server
            .requests_under(&format!("/v1/projects/{PROJECT}/secrets/{id}/"))
            .await
    }
}

async fn passes_the_conformance_suite() {
    let Some(gcp) = gcp() else { return };
    // Secret ids allow letters, digits, `_` and `-`: `beta.token` is not an id, so the suite
    // runs with the other two fake keys, and `beta.token` must be refused.
    let present: Vec<_> = keyward::testing::fake_values()
        .into_iter()
        .filter(|(key, _)| *key != "beta.token")
        .collect();
    assert_eq!(present.len(), 2);
    for (key, value) in &present {
        gcp.add(key, json!({ "value": value })).await;
    }
    let provider = gcp.provider();
    let err = provider.get("beta.token").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidName);
    keyward::testing::check_async_provider(&provider, &present, keyward::testing::BAD_REMOTE_NAMES)
        .await;
}

async fn reads_latest_and_pinned_versions_with_metadata() {
    let Some(gcp) = gcp() else { return };
    gcp.add("OPENAI_API_KEY", json!({ "value": fake_key("v1") }))
        .await;
    let second = gcp
        .add("OPENAI_API_KEY", json!({ "value": fake_key("v2") }))
        .await;
    assert_eq!(second, 2);
    let secrets = gcp.provider();

    let latest = secrets.require("OPENAI_API_KEY").await.unwrap();
    assert_eq!(latest.expose_secret(), fake_key("v2"));
    assert_eq!(latest.meta().source, "gcp-secret-manager");
    assert_eq!(latest.meta().version.as_deref(), Some("2"));
    assert_eq!(latest.meta().created_at, None, "not asked for");

    let pinned = secrets.require("OPENAI_API_KEY@1").await.unwrap();
    assert_eq!(pinned.expose_secret(), fake_key("v1"));
    assert_eq!(pinned.meta().version.as_deref(), Some("1"));

    let paths: Vec<String> = gcp
        .server
        .log()
        .await
        .iter()
        .map(|entry| entry["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(paths.contains(&format!(
        "/v1/projects/{PROJECT}/secrets/OPENAI_API_KEY/versions/latest:access"
    )));
    assert!(paths.contains(&format!(
        "/v1/projects/{PROJECT}/secrets/OPENAI_API_KEY/versions/1:access"
    )));
}

async fn create_time_is_fetched_on_request() {
    let Some(gcp) = gcp() else { return };
    let before = Utc::now() - chrono::TimeDelta::seconds(1);
    gcp.add("DATED", json!({ "value": fake_key("d") })).await;
    let secrets = gcp.builder().with_create_time(true).build().unwrap();
    let secret = secrets.require("DATED").await.unwrap();
    let created = secret.meta().created_at.unwrap();
    assert!(created >= before && created <= Utc::now(), "{created}");
    // The version is looked up by the resource name the access answer gave.
    let log = gcp.server.log().await;
    assert!(
        log.iter().any(|entry| entry["path"]
            == format!("/v1/projects/{PROJECT_NUMBER}/secrets/DATED/versions/1"))
    );
}

async fn missing_secrets_and_versions_are_none() {
    let Some(gcp) = gcp() else { return };
    gcp.add("PRESENT", json!({ "value": fake_key("p") })).await;
    gcp.add(
        "GONE",
        json!({ "value": fake_key("g"), "state": "DESTROYED" }),
    )
    .await;
    let secrets = gcp.provider();
    assert!(secrets.get("ABSENT").await.unwrap().is_none());
    assert!(secrets.get("PRESENT@7").await.unwrap().is_none());
    let err = secrets.require("ABSENT").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    // A destroyed version is not "not here": it is an error that says what happened.
    let err = secrets.get("GONE").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("is destroyed"), "{err}");
}

async fn a_disabled_version_is_refused_as_such() {
    let Some(gcp) = gcp() else { return };
    let (value, older) = (fake_key("off"), fake_key("older"));
    gcp.add("OFF", json!({ "value": older })).await;
    gcp.add("OFF", json!({ "value": value, "state": "DISABLED" }))
        .await;
    let secrets = gcp.provider();
    // `latest` is the newest version even when it is disabled, as in Secret Manager.
    let err = secrets.get("OFF").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert!(!err.is_temporary());
    assert!(!format!("{err:?}").contains(&older));
    assert_eq!(
        secrets.require("OFF@1").await.unwrap().expose_secret(),
        older,
        "an older enabled version can be pinned"
    );
    let err = secrets.get("OFF@2").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("is disabled"), "{shown}");
    assert!(!shown.contains(&value), "{shown}");
    assert_eq!(gcp.reads_of("OFF").await, 3, "not retried");
}

async fn a_checksum_mismatch_is_a_backend_error() {
    let Some(gcp) = gcp() else { return };
    let value = fake_key("crc");
    gcp.add("CRC", json!({ "value": value })).await;
    gcp.server
        .faults(json!([{ "status": 200, "corrupt": true, "count": 1 }]))
        .await;
    let secrets = gcp.provider();
    let err = secrets.get("CRC").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(!err.is_temporary());
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("CRC32C"), "{shown}");
    assert!(!shown.contains(&value), "{shown}");
    // The next answer carries the right checksum, which is checked and accepted.
    assert_eq!(secrets.require("CRC").await.unwrap().expose_secret(), value);
}

async fn throttling_is_retried_after_the_servers_pause() {
    let Some(gcp) = gcp() else { return };
    gcp.add("BUSY", json!({ "value": fake_key("b") })).await;
    gcp.server
        .faults(json!([{ "status": 429, "retry_after": 1, "count": 1 }]))
        .await;
    let started = Instant::now();
    let secret = gcp.provider().require("BUSY").await.unwrap();
    assert_eq!(secret.expose_secret(), fake_key("b"));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(gcp.reads_of("BUSY").await, 2);

    // Without Retry-After, 503 is retried with the policy's backoff until it gives up.
    gcp.server
        .faults(json!([{ "status": 503, "count": 5 }]))
        .await;
    let err = gcp.provider().get("BUSY").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.is_temporary());
    assert!(
        err.to_string().contains("gave up after 3 attempts"),
        "{err}"
    );
}

async fn a_refusal_is_permission_denied_and_not_retried() {
    let Some(gcp) = gcp() else { return };
    gcp.add("LOCKED", json!({ "value": fake_key("l") })).await;
    gcp.server
        .control(reqwest::Method::POST, "deny", Value::Null)
        .await;
    let err = gcp.provider().get("LOCKED").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert!(!err.is_temporary());
    let message = err.to_string();
    assert!(
        message.contains("403") && message.contains("PERMISSION_DENIED"),
        "{message}"
    );
    assert!(message.contains("secretAccessor"), "{message}");
    assert_eq!(gcp.reads_of("LOCKED").await, 1);

    // Another project is refused the same way.
    let other = GcpSecretManagerProvider::builder()
        .with_project("someone-else")
        .with_endpoint(&gcp.server.base)
        .with_access_token(gcp.token.as_str())
        .build()
        .unwrap();
    assert_eq!(
        other.get("LOCKED").await.unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
}

async fn a_wrong_token_is_refused_without_showing_it() {
    let Some(gcp) = gcp() else { return };
    gcp.add("K", json!({ "value": fake_key("k") })).await;
    let wrong = fake("wrong-token");
    let secrets = GcpSecretManagerProvider::builder()
        .with_project(PROJECT)
        .with_endpoint(&gcp.server.base)
        .with_access_token(wrong.as_str())
        .with_policy(fast())
        .build()
        .unwrap();
    let err = secrets.get("K").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert!(!err.is_temporary());
    let shown = format!("{err} {err:?} {secrets:?}");
    assert!(!shown.contains(&wrong), "the token leaked: {shown}");
    assert!(
        shown.contains("401") && shown.contains("UNAUTHENTICATED"),
        "{shown}"
    );
    assert_eq!(gcp.reads_of("K").await, 1, "a 401 is not retried");
}

async fn tokens_come_from_the_metadata_server() {
    let Some(gcp) = gcp() else { return };
    gcp.add("MD", json!({ "value": fake_key("md") })).await;
    let secrets = GcpSecretManagerProvider::builder()
        .with_project(PROJECT)
        .with_endpoint(&gcp.server.base)
        .with_metadata_host(&gcp.server.base)
        .with_policy(fast())
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            secrets.require("MD").await.unwrap().expose_secret(),
            fake_key("md")
        );
    }
    let tokens = gcp
        .server
        .log()
        .await
        .iter()
        .filter(|entry| {
            entry["path"] == "/computeMetadata/v1/instance/service-accounts/default/token"
        })
        .count();
    assert_eq!(tokens, 1, "the token is cached");
}

impl Gcp {
    async fn token_requests(&self) -> Vec<Value> {
        self.server
            .log()
            .await
            .into_iter()
            .filter(|entry| entry["path"] == "/token")
            .collect()
    }
}

async fn a_service_account_key_file_is_exchanged_for_tokens() {
    let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let Some(gcp) = gcp_trusting(Some(&key)) else {
        return;
    };
    gcp.add("SA", json!({ "value": fake_key("sa") })).await;
    let dir = tempfile::tempdir().unwrap();
    // The token endpoint comes from the file's token_uri.
    let file = key_file(&dir, &key, &format!("{}/token", gcp.server.base));
    let secrets = GcpSecretManagerProvider::builder()
        .with_project(PROJECT)
        .with_endpoint(&gcp.server.base)
        .with_credentials_file(&file)
        .with_policy(fast())
        .build()
        .unwrap();
    assert!(format!("{secrets:?}").contains("service account key"));
    for _ in 0..3 {
        assert_eq!(
            secrets.require("SA").await.unwrap().expose_secret(),
            fake_key("sa")
        );
    }
    assert_eq!(gcp.token_requests().await.len(), 1, "the token is cached");
}

async fn a_service_account_key_the_server_does_not_know_is_refused() {
    let known = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let other = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let Some(gcp) = gcp_trusting(Some(&known)) else {
        return;
    };
    gcp.add("SA", json!({ "value": fake_key("sa") })).await;
    let dir = tempfile::tempdir().unwrap();
    let file = key_file(&dir, &other, "https://oauth2.googleapis.com/token");
    let secrets = GcpSecretManagerProvider::builder()
        .with_project(PROJECT)
        .with_endpoint(&gcp.server.base)
        .with_credentials_file(&file)
        .with_token_url(format!("{}/token", gcp.server.base))
        .with_policy(fast())
        .build()
        .unwrap();
    let err = secrets.get("SA").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let shown = format!("{err} {err:?} {secrets:?}");
    assert!(shown.contains("Invalid JWT Signature"), "{shown}");
    assert!(shown.contains(SA_EMAIL), "{shown}");
    let der = base64::engine::general_purpose::STANDARD.encode(other.as_der().unwrap().as_ref());
    assert!(!shown.contains(&der[40..80]), "the key leaked: {shown}");
    assert_eq!(gcp.token_requests().await.len(), 1, "a 400 is not retried");
    assert_eq!(gcp.reads_of("SA").await, 0);
}

async fn user_credentials_refresh_and_bill_the_quota_project() {
    let Some(gcp) = gcp() else { return };
    gcp.add("USER", json!({ "value": fake_key("u") })).await;
    let dir = tempfile::tempdir().unwrap();
    let file = user_file(&dir, &fake("refresh-token"));
    let secrets = GcpSecretManagerProvider::builder()
        .with_project(PROJECT)
        .with_endpoint(&gcp.server.base)
        .with_credentials_file(&file)
        .with_token_url(format!("{}/token", gcp.server.base))
        .with_policy(fast())
        .build()
        .unwrap();
    assert_eq!(
        secrets.require("USER").await.unwrap().expose_secret(),
        fake_key("u")
    );
    let log = gcp.server.log().await;
    let read = log
        .iter()
        .find(|entry| {
            entry["path"]
                .as_str()
                .unwrap()
                .ends_with("USER/versions/latest:access")
        })
        .unwrap();
    assert_eq!(read["user_project"], "billing-project");
    assert_eq!(gcp.token_requests().await.len(), 1);
}

async fn a_revoked_refresh_token_is_refused_without_showing_it() {
    let Some(gcp) = gcp() else { return };
    let revoked = fake("revoked-refresh");
    let dir = tempfile::tempdir().unwrap();
    let file = user_file(&dir, &revoked);
    let secrets = GcpSecretManagerProvider::builder()
        .with_project(PROJECT)
        .with_endpoint(&gcp.server.base)
        .with_credentials_file(&file)
        .with_token_url(format!("{}/token", gcp.server.base))
        .with_policy(fast())
        .build()
        .unwrap();
    let err = secrets.get("ANY").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let shown = format!("{err} {err:?} {secrets:?}");
    assert!(!shown.contains(&revoked), "the token leaked: {shown}");
    assert!(
        !shown.contains(&fake("client-secret")),
        "the secret leaked: {shown}"
    );
    assert!(shown.contains("invalid_grant"), "{shown}");
    assert!(shown.contains("application-default login"), "{shown}");
}

async fn a_revoked_token_is_replaced_once() {
    let Some(gcp) = gcp() else { return };
    gcp.add("K", json!({ "value": fake_key("k") })).await;
    let secrets = GcpSecretManagerProvider::builder()
        .with_project(PROJECT)
        .with_endpoint(&gcp.server.base)
        .with_metadata_host(&gcp.server.base)
        .with_policy(fast())
        .build()
        .unwrap();
    secrets.require("K").await.unwrap();
    gcp.server
        .control(reqwest::Method::POST, "revoke", Value::Null)
        .await;
    assert_eq!(
        secrets.require("K").await.unwrap().expose_secret(),
        fake_key("k")
    );
    let tokens = gcp
        .server
        .log()
        .await
        .iter()
        .filter(|entry| {
            entry["path"] == "/computeMetadata/v1/instance/service-accounts/default/token"
        })
        .count();
    assert_eq!(tokens, 2);
    assert_eq!(
        gcp.reads_of("K").await,
        3,
        "one refused read, then one more"
    );
}

/// Every variable the provider reads, unset in the child unless a case sets it.
const GCP_VARIABLES: &[&str] = &[
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "CLOUDSDK_CONFIG",
    "GCE_METADATA_HOST",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_come_from_the_environment_in_application_default_order() {
    let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let Some(gcp) = gcp_trusting(Some(&key)) else {
        return;
    };
    gcp.add("ENV_KEY", json!({ "value": fake_key("env") }))
        .await;
    let base = gcp.server.base.clone();
    let token_uri = format!("{base}/token");
    let expected = fake_key("env");

    let sa_dir = tempfile::tempdir().unwrap();
    let sa_file = key_file(&sa_dir, &key, &token_uri);
    let sa_file = sa_file.to_str().unwrap();
    // The file `gcloud auth application-default login` writes, in a config directory.
    let gcloud_dir = tempfile::tempdir().unwrap();
    let mut user = serde_json::from_str::<Value>(
        &std::fs::read_to_string(user_file(&gcloud_dir, &fake("refresh-token"))).unwrap(),
    )
    .unwrap();
    user["token_uri"] = token_uri.clone().into();
    write_file(&gcloud_dir, "application_default_credentials.json", &user);
    let gcloud_dir = gcloud_dir.path().to_str().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().to_str().unwrap();
    let metadata_host = base.trim_start_matches("http://");

    let common = [
        ("GOOGLE_CLOUD_PROJECT", PROJECT),
        ("KEYWARD_TEST_ENDPOINT", base.as_str()),
        ("KEYWARD_TEST_EXPECT", expected.as_str()),
    ];
    let cases: [&[(&str, &str)]; 5] = [
        &[
            ("GOOGLE_OAUTH_ACCESS_TOKEN", &gcp.token),
            ("CLOUDSDK_CONFIG", empty),
        ],
        // The token comes first: the named file does not exist and is not read.
        &[
            ("GOOGLE_OAUTH_ACCESS_TOKEN", &gcp.token),
            ("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json"),
        ],
        &[
            ("GOOGLE_APPLICATION_CREDENTIALS", sa_file),
            ("CLOUDSDK_CONFIG", empty),
        ],
        &[("CLOUDSDK_CONFIG", gcloud_dir)],
        &[
            ("GCE_METADATA_HOST", metadata_host),
            ("CLOUDSDK_CONFIG", empty),
        ],
    ];
    for case in cases {
        let env: Vec<_> = common.iter().chain(case).copied().collect();
        crate::common::child::run_child(
            "gcp::child_reads_with_the_environment_credential",
            &env,
            GCP_VARIABLES,
        );
    }
    let log = gcp.server.log().await;
    let count = |path: &str| log.iter().filter(|entry| entry["path"] == path).count();
    assert_eq!(count("/token"), 2, "the key file and the user credentials");
    assert_eq!(
        count("/computeMetadata/v1/instance/service-accounts/default/token"),
        1
    );
    assert_eq!(gcp.reads_of("ENV_KEY").await, 5);

    crate::common::child::run_child("gcp::child_needs_a_project", &[], GCP_VARIABLES);
}

#[tokio::test]
#[ignore = "run in a child process by credentials_come_from_the_environment_in_application_default_order"]
async fn child_reads_with_the_environment_credential() {
    if !crate::common::child::is_child() {
        return;
    }
    let secrets = GcpSecretManagerProvider::builder()
        .with_endpoint(std::env::var("KEYWARD_TEST_ENDPOINT").unwrap())
        .build()
        .unwrap();
    assert_eq!(secrets.project(), PROJECT);
    let secret = secrets.require("ENV_KEY").await.unwrap();
    assert_eq!(
        secret.expose_secret(),
        std::env::var("KEYWARD_TEST_EXPECT").unwrap()
    );
}

#[test]
#[ignore = "run in a child process by credentials_come_from_the_environment_in_application_default_order"]
fn child_needs_a_project() {
    if !crate::common::child::is_child() {
        return;
    }
    let err = GcpSecretManagerProvider::builder()
        .with_access_token("tok")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("GOOGLE_CLOUD_PROJECT"), "{err}");
}

#[test]
fn configuration_errors_are_clear() {
    let err = GcpSecretManagerProvider::builder()
        .with_project(PROJECT)
        .with_endpoint("http://secretmanager.example.com")
        .with_access_token("tok")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("plain http"), "{err}");
    let err = GcpSecretManagerProvider::builder()
        .with_project("Not A Project")
        .with_access_token("tok")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

/// A credentials file holds a long-lived key: one that other users can read is refused (rule 3
/// of the design), unless the builder accepts it for a mount that is so by design; one they
/// can write is refused either way.
#[cfg(unix)]
#[test]
fn a_credentials_file_others_can_read_is_refused_unless_accepted() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let refresh_token = fake("refresh-token");
    let files = [
        key_file(&dir, &key, "http://127.0.0.1:9/token"),
        user_file(&dir, &refresh_token),
    ];
    let build = |file: &std::path::Path, accept: bool| {
        GcpSecretManagerProvider::builder()
            .with_project(PROJECT)
            .with_credentials_file(file)
            .with_token_url("http://127.0.0.1:9/token")
            .with_credentials_file_readable_by_others(accept)
            .build()
    };
    for file in &files {
        // (mode, refused as is, refused when accepted)
        for (mode, refused, refused_accepted) in [
            (0o600, false, false),
            (0o400, false, false),
            (0o640, true, false),
            (0o644, true, false),
            (0o444, true, false),
            (0o646, true, true),
        ] {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode)).unwrap();
            for (accept, refused) in [(false, refused), (true, refused_accepted)] {
                let built = build(file, accept);
                if !refused {
                    built.unwrap();
                    continue;
                }
                let err = built.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InsecurePermissions, "{err}");
                let message = format!("{err} {err:?}");
                assert!(message.contains(&format!("mode {mode:04o}")), "{message}");
                assert!(
                    message.contains(&format!("chmod 600 {}", file.display())),
                    "{message}"
                );
                assert!(!message.contains(&refresh_token), "{message}");
                // The option is named only where it is the fix: others may read, not write.
                assert_eq!(
                    message.contains("with_credentials_file_readable_by_others(true)"),
                    mode & 0o002 == 0,
                    "{message}"
                );
            }
        }
    }
}

#[test]
fn debug_shows_the_configuration_not_the_token() {
    let token = fake("debug-token");
    let builder = GcpSecretManagerProvider::builder()
        .with_project(PROJECT)
        .with_access_token(token.as_str());
    assert!(!format!("{builder:?}").contains(&token));
    let secrets = builder.build().unwrap();
    let debug = format!("{secrets:?}");
    assert!(!debug.contains(&token), "{debug}");
    assert!(
        debug.contains(PROJECT) && debug.contains("access token"),
        "{debug}"
    );
}

#[test]
fn providers_and_their_futures_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync::<GcpSecretManagerProvider>();
    let secrets = GcpSecretManagerProvider::builder()
        .with_project(PROJECT)
        .with_access_token("tok")
        .build()
        .unwrap();
    assert_send(&secrets.get("K"));
    let _: Box<dyn AsyncSecretProvider> = Box::new(secrets);
}

/// The credentials of the tests against misbehaving servers, made in code, one of each kind.
struct Credentials {
    access_token: String,
    dir: tempfile::TempDir,
    key: RsaKeyPair,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    AccessToken,
    ServiceAccount,
    AuthorizedUser,
    MetadataServer,
}

const KINDS: [Kind; 4] = [
    Kind::AccessToken,
    Kind::ServiceAccount,
    Kind::AuthorizedUser,
    Kind::MetadataServer,
];

fn credentials() -> Credentials {
    Credentials {
        access_token: format!("ya29.{}", fake("access-token")),
        dir: tempfile::tempdir().unwrap(),
        key: RsaKeyPair::generate(KeySize::Rsa2048).unwrap(),
    }
}

impl Credentials {
    /// A provider whose every request (secret manager, token endpoint, metadata server) goes
    /// to `address`.
    fn provider(&self, kind: Kind, address: &str) -> GcpSecretManagerProvider {
        let token_url = format!("{address}/token");
        let builder = GcpSecretManagerProvider::builder()
            .with_project(PROJECT)
            .with_endpoint(address)
            .with_token_url(&token_url)
            .with_policy(fast());
        let builder = match kind {
            Kind::AccessToken => builder.with_access_token(self.access_token.as_str()),
            Kind::ServiceAccount => {
                builder.with_credentials_file(key_file(&self.dir, &self.key, &token_url))
            }
            Kind::AuthorizedUser => {
                builder.with_credentials_file(user_file(&self.dir, &fake("refresh-token")))
            }
            Kind::MetadataServer => builder.with_metadata_host(address),
        };
        builder.build().unwrap()
    }

    /// Every credential of the test, and those `requests` carried (the signed assertion).
    fn all(&self, requests: &[Request]) -> Vec<String> {
        let mut all = vec![
            self.access_token.clone(),
            fake("client-secret"),
            fake("refresh-token"),
            ISSUED_TOKEN.to_owned(),
        ];
        for request in requests {
            let body = String::from_utf8_lossy(&request.body).into_owned();
            if let Some(assertion) = body
                .split('&')
                .find_map(|pair| pair.strip_prefix("assertion="))
            {
                all.push(assertion.to_owned());
            }
        }
        all
    }
}

/// The access token the misbehaving servers issue.
const ISSUED_TOKEN: &str = "ya29.fake-issued-Zx8qZx8qZx8q";

/// What a well-behaved token endpoint, metadata server and Secret Manager answer.
fn good_answer(request: &Request) -> Reply {
    if request.path.contains("token") {
        let token = json!({ "access_token": ISSUED_TOKEN, "expires_in": 3600 });
        match Reply::json(200, &token) {
            Reply::Full {
                status,
                mut headers,
                body,
            } => {
                headers.push(("Metadata-Flavor".to_owned(), "Google".to_owned()));
                Reply::Full {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    } else {
        let data = base64::engine::general_purpose::STANDARD.encode(fake_key("k"));
        let name = format!("projects/{PROJECT_NUMBER}/secrets/K/versions/1");
        Reply::json(200, &json!({ "name": name, "payload": { "data": data } }))
    }
}

async fn redirects_are_refused_and_nothing_reaches_the_other_server() {
    let credentials = credentials();
    for status in [302, 307] {
        // The read carries the access token; the other kinds redirect their token request,
        // with the signed assertion, the refresh token and client secret, or the metadata
        // header.
        for kind in KINDS {
            let target = Fake::start(good_answer);
            let location = redirect_target(&target);
            let origin = Fake::start(move |_| Reply::redirect(status, &location));
            let secrets = credentials.provider(kind, &origin.address);
            let err = secrets.get("K").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Backend, "{kind:?}");
            assert_redirect_refused(&err, &origin, &target, status);
            assert_eq!(origin.count(), 1, "{kind:?}: a redirect is not retried");
            let all = credentials.all(&origin.requests());
            assert_clean(&err, &all.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
}

async fn server_text_in_errors_is_redacted_escaped_and_cut() {
    let credentials = credentials();
    for status in [400, 403, 503] {
        for kind in KINDS {
            // OAuth's error shape for the token endpoint, google.rpc.Status for the rest.
            let server = Fake::start(move |request| {
                let echo = request.echo(&["authorization"]);
                if request.path == "/token" {
                    let error = json!({ "error": "invalid_grant", "error_description": echo });
                    Reply::json(status, &error)
                } else if request.path.contains("token") {
                    // The metadata server: its text is not shown.
                    good_answer(request)
                } else {
                    let error = json!({ "error": {
                        "code": status, "message": echo, "status": "PERMISSION_DENIED"
                    }});
                    Reply::json(status, &error)
                }
            });
            let err = credentials
                .provider(kind, &server.address)
                .get("K")
                .await
                .unwrap_err();
            let requests = server.requests();
            let all = credentials.all(&requests);
            assert_clean(&err, &all.iter().map(String::as_str).collect::<Vec<_>>());
            let message = err.to_string();
            assert!(message.contains("you sent"), "{kind:?}: {message}");
            assert!(message.contains("[REDACTED:"), "{kind:?}: {message}");
            assert!(message.contains(&status.to_string()), "{message}");
        }
    }
    // The resource name of an answer is the server's text too.
    let server = Fake::start(|request| {
        let data = base64::engine::general_purpose::STANDARD.encode(fake_key("k"));
        let name = request.echo(&["authorization"]);
        Reply::json(200, &json!({ "name": name, "payload": { "data": data } }))
    });
    let err = credentials
        .provider(Kind::AccessToken, &server.address)
        .get("K")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another resource"), "{err}");
    assert!(err.to_string().contains("[REDACTED:"), "{err}");
    assert_clean(&err, &[&credentials.access_token]);
}
