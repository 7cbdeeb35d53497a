//! `AzureKeyVaultProvider` against a local server that follows the published Key Vault and
//! Microsoft Entra ID REST contracts (`tests/servers/azure_keyvault.py`), through the real
//! provider code: token fetch, reads, metadata, and every refusal the contract defines.
//!
//! Every async test runs on tokio's multi-thread and current-thread runtimes. The tests are
//! skipped, with a printed reason, only when there is no Python 3 to run the server.
#![cfg(feature = "azure")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::misbehaving::{
    Fake, Reply, assert_clean, assert_redirect_refused, redirect_target,
};
use crate::servers::ContractServer;
use chrono::{DateTime, TimeDelta, Utc};
use keyward::clock::ManualClock;
use keyward::provider::RemotePolicy;
use keyward::provider::azure::AzureKeyVaultProvider;
use keyward::{AsyncSecretProvider, AsyncSecretProviderExt, ErrorKind};
use serde_json::{Value, json};

on_both_runtimes!(
    passes_the_conformance_suite,
    reads_version_dates_and_pinned_versions,
    fetches_one_token_for_many_reads,
    missing_secrets_and_versions_are_none,
    a_disabled_secret_is_refused_as_such,
    expired_and_not_yet_valid_secrets_are_refused,
    throttling_is_retried_after_the_servers_pause,
    a_pause_beyond_the_policy_fails_at_once,
    server_errors_are_retried_then_reported,
    an_access_policy_refusal_is_permission_denied_and_not_retried,
    a_wrong_client_secret_is_refused_without_showing_it,
    a_wrong_access_token_is_refused_without_showing_it,
    managed_identity_from_the_instance_metadata_service,
    a_revoked_token_is_replaced_once,
    workload_identity_reads_its_token_file_for_each_token,
    redirects_are_refused_and_nothing_reaches_the_other_server,
    server_text_in_errors_is_redacted_escaped_and_cut,
);

/// A fake credential, made in code.
fn fake(tag: &str) -> String {
    format!("fake-{tag}-{}", "Zx8q".repeat(6))
}

/// A fake key value, made in code.
fn fake_key(tag: &str) -> String {
    format!("sk-proj-{tag}{}", "Ab3d".repeat(10))
}

struct Azure {
    server: ContractServer,
    tenant: String,
    client_id: String,
    client_secret: String,
}

fn azure() -> Option<Azure> {
    let tenant = "72f988bf-0000-4000-8000-2d7cd011db47".to_owned();
    let client_id = "0a1b2c3d-0000-4000-8000-000000000001".to_owned();
    let client_secret = fake("client-secret");
    let server = ContractServer::start(
        "azure_keyvault.py",
        &[
            ("AZ_TEST_TENANT", &tenant),
            ("AZ_TEST_CLIENT_ID", &client_id),
            ("AZ_TEST_CLIENT_SECRET", &client_secret),
            ("AZ_TEST_FEDERATED_TOKEN", &fake("federated-token")),
        ],
    )?;
    Some(Azure {
        server,
        tenant,
        client_id,
        client_secret,
    })
}

fn fast() -> RemotePolicy {
    RemotePolicy::default()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(4))
}

impl Azure {
    fn provider(&self) -> AzureKeyVaultProvider {
        AzureKeyVaultProvider::builder(&self.server.base)
            .with_client_secret(&self.tenant, &self.client_id, self.client_secret.as_str())
            .with_authority_host(&self.server.base)
            .with_policy(fast())
            .build()
            .unwrap()
    }

    /// Adds a version of secret `name` (a Key Vault name) and returns its version id.
    async fn put(&self, name: &str, attributes: Value) -> String {
        let answer = self
            .server
            .control(reqwest::Method::PUT, &format!("secrets/{name}"), attributes)
            .await;
        answer["version"].as_str().unwrap().to_owned()
    }

    async fn reads_of(&self, name: &str) -> usize {
        self.server
            .requests_under(&format!("/secrets/{name}"))
            .await
    }
}

async fn passes_the_conformance_suite() {
    let Some(azure) = azure() else { return };
    // Key Vault names allow letters, digits and dashes: `beta.token` has no Key Vault name, so
    // the suite runs with the other two fake keys, and `beta.token` must be refused.
    let present: Vec<_> = keyward::testing::fake_values()
        .into_iter()
        .filter(|(key, _)| *key != "beta.token")
        .collect();
    assert_eq!(present.len(), 2);
    for (key, value) in &present {
        let name = AzureKeyVaultProvider::secret_name(key).unwrap();
        azure.put(&name, json!({ "value": value })).await;
    }
    let provider = azure.provider();
    let err = provider.get("beta.token").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidName);
    keyward::testing::check_async_provider(&provider, &present, keyward::testing::BAD_REMOTE_NAMES)
        .await;
}

async fn reads_version_dates_and_pinned_versions() {
    let Some(azure) = azure() else { return };
    let created = Utc::now().timestamp() - 86_400;
    let expires = Utc::now().timestamp() + 86_400;
    let first = azure
        .put(
            "OPENAI-API-KEY",
            json!({ "value": fake_key("v1"), "created": created }),
        )
        .await;
    let second = azure
        .put(
            "OPENAI-API-KEY",
            json!({ "value": fake_key("v2"), "created": created + 60, "exp": expires }),
        )
        .await;
    let vault = azure.provider();

    let secret = vault.require("OPENAI_API_KEY").await.unwrap();
    assert_eq!(secret.expose_secret(), fake_key("v2"));
    let meta = secret.meta();
    assert_eq!(meta.source, "azure-key-vault");
    assert_eq!(meta.version.as_deref(), Some(second.as_str()));
    assert_eq!(meta.created_at, DateTime::from_timestamp(created + 60, 0));
    assert_eq!(meta.expires_at, DateTime::from_timestamp(expires, 0));

    let pinned = vault
        .require(&format!("OPENAI_API_KEY@{first}"))
        .await
        .unwrap();
    assert_eq!(pinned.expose_secret(), fake_key("v1"));
    assert_eq!(pinned.meta().version.as_deref(), Some(first.as_str()));
    assert_eq!(pinned.meta().expires_at, None);

    // Key Vault names are case-insensitive.
    let lower = vault.require("openai_api_key").await.unwrap();
    assert_eq!(lower.expose_secret(), fake_key("v2"));

    let log = azure.server.log().await;
    let read = log
        .iter()
        .find(|entry| entry["path"] == "/secrets/OPENAI-API-KEY")
        .unwrap();
    assert_eq!(read["query"]["api-version"], "7.5");
    assert_eq!(read["authorization"], true);
}

async fn fetches_one_token_for_many_reads() {
    let Some(azure) = azure() else { return };
    azure.put("K", json!({ "value": fake_key("k") })).await;
    let vault = Arc::new(azure.provider());
    let reads: Vec<_> = (0..8)
        .map(|_| {
            let vault = Arc::clone(&vault);
            tokio::spawn(async move { vault.require("K").await.map(|_| ()) })
        })
        .collect();
    for read in reads {
        read.await.unwrap().unwrap();
    }
    let tokens = azure
        .server
        .log()
        .await
        .iter()
        .filter(|entry| {
            entry["path"]
                .as_str()
                .unwrap()
                .ends_with("/oauth2/v2.0/token")
        })
        .count();
    assert_eq!(tokens, 1, "concurrent first reads share one token request");
    assert_eq!(azure.reads_of("K").await, 8);
}

async fn missing_secrets_and_versions_are_none() {
    let Some(azure) = azure() else { return };
    azure
        .put("PRESENT", json!({ "value": fake_key("p") }))
        .await;
    let vault = azure.provider();
    assert!(vault.get("ABSENT").await.unwrap().is_none());
    assert!(
        vault
            .get("PRESENT@00000000000000000000000000000000")
            .await
            .unwrap()
            .is_none()
    );
    let err = vault.require("ABSENT").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("ABSENT"), "{err}");
}

async fn a_disabled_secret_is_refused_as_such() {
    let Some(azure) = azure() else { return };
    let value = fake_key("off");
    azure
        .put("DISABLED", json!({ "value": value, "enabled": false }))
        .await;
    let err = azure.provider().get("DISABLED").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("secrets/DISABLED"), "{shown}");
    assert!(shown.contains("is disabled"), "{shown}");
    assert!(!shown.contains(&value), "{shown}");
    assert_eq!(azure.reads_of("DISABLED").await, 1, "not retried");
}

async fn expired_and_not_yet_valid_secrets_are_refused() {
    let Some(azure) = azure() else { return };
    let now = Utc::now().timestamp();
    let (old, early) = (fake_key("old"), fake_key("early"));
    azure
        .put("EXPIRED", json!({ "value": old, "exp": now - 60 }))
        .await;
    azure
        .put("EARLY", json!({ "value": early, "nbf": now + 3600 }))
        .await;
    let vault = azure.provider();

    let err = vault.get("EXPIRED").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Expired);
    assert!(err.to_string().contains("expired at"), "{err}");
    assert!(!format!("{err} {err:?}").contains(&old));

    let err = vault.get("EARLY").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Expired);
    assert!(err.to_string().contains("not valid before"), "{err}");
    assert!(!format!("{err} {err:?}").contains(&early));

    // Expiry is judged by the provider's clock: the same secret, seen an hour earlier.
    let clock = Arc::new(ManualClock::new(Utc::now() - TimeDelta::hours(1)));
    let earlier = AzureKeyVaultProvider::builder(&azure.server.base)
        .with_client_secret(
            &azure.tenant,
            &azure.client_id,
            azure.client_secret.as_str(),
        )
        .with_authority_host(&azure.server.base)
        .with_clock(clock)
        .build()
        .unwrap();
    let secret = earlier.require("EXPIRED").await.unwrap();
    assert_eq!(secret.expose_secret(), old);
    assert_eq!(
        secret.meta().expires_at,
        DateTime::from_timestamp(now - 60, 0)
    );
}

async fn throttling_is_retried_after_the_servers_pause() {
    let Some(azure) = azure() else { return };
    azure.put("BUSY", json!({ "value": fake_key("b") })).await;
    let vault = azure.provider();
    vault.require("BUSY").await.unwrap(); // token fetched, one read made
    azure
        .server
        .faults(json!([{ "status": 429, "retry_after": 1, "count": 1 }]))
        .await;
    let started = Instant::now();
    let secret = vault.require("BUSY").await.unwrap();
    assert_eq!(secret.expose_secret(), fake_key("b"));
    // The policy's own backoff is at most 4 ms: the wait is the server's second.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(azure.reads_of("BUSY").await, 3);
}

async fn a_pause_beyond_the_policy_fails_at_once() {
    let Some(azure) = azure() else { return };
    azure.put("BUSY", json!({ "value": fake_key("b") })).await;
    azure
        .server
        .faults(json!([{ "status": 429, "retry_after": 120, "count": 1 }]))
        .await;
    let started = Instant::now();
    let err = azure.provider().get("BUSY").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.is_temporary());
    let message = err.to_string();
    assert!(message.contains("429"), "{message}");
    assert!(
        message.contains("VaultRequestTypeLimitReached"),
        "{message}"
    );
    assert!(message.contains("retry after 120 s"), "{message}");
    assert_eq!(azure.reads_of("BUSY").await, 1);
}

async fn server_errors_are_retried_then_reported() {
    let Some(azure) = azure() else { return };
    azure.put("FLAKY", json!({ "value": fake_key("f") })).await;
    azure
        .server
        .faults(json!([{ "status": 503, "count": 5 }]))
        .await;
    let err = azure.provider().get("FLAKY").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.is_temporary());
    let message = err.to_string();
    assert!(message.contains("503"), "{message}");
    assert!(message.contains("gave up after 3 attempts"), "{message}");
    assert!(message.contains(&azure.server.base), "{message}");
    assert_eq!(azure.reads_of("FLAKY").await, 3);
}

async fn an_access_policy_refusal_is_permission_denied_and_not_retried() {
    let Some(azure) = azure() else { return };
    azure.put("LOCKED", json!({ "value": fake_key("l") })).await;
    azure
        .server
        .control(reqwest::Method::POST, "deny", Value::Null)
        .await;
    let err = azure.provider().get("LOCKED").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert!(!err.is_temporary());
    let message = err.to_string();
    assert!(message.contains("403"), "{message}");
    assert!(
        message.contains("does not have secrets get permission"),
        "{message}"
    );
    assert!(message.contains("Key Vault Secrets User"), "{message}");
    assert_eq!(azure.reads_of("LOCKED").await, 1);
}

async fn a_wrong_client_secret_is_refused_without_showing_it() {
    let Some(azure) = azure() else { return };
    azure.put("K", json!({ "value": fake_key("k") })).await;
    let wrong = fake("wrong-secret");
    let vault = AzureKeyVaultProvider::builder(&azure.server.base)
        .with_client_secret(&azure.tenant, &azure.client_id, wrong.as_str())
        .with_authority_host(&azure.server.base)
        .with_policy(fast())
        .build()
        .unwrap();
    let err = vault.get("K").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert!(!err.is_temporary());
    let shown = format!("{err} {err:?} {vault:?}");
    assert!(!shown.contains(&wrong), "the secret leaked: {shown}");
    assert!(shown.contains("AADSTS7000215"), "{shown}");
    assert!(shown.contains("AZURE_CLIENT_SECRET"), "{shown}");
    assert_eq!(azure.reads_of("K").await, 0, "no read without a token");
}

async fn a_wrong_access_token_is_refused_without_showing_it() {
    let Some(azure) = azure() else { return };
    azure.put("K", json!({ "value": fake_key("k") })).await;
    let wrong = fake("wrong-token");
    let vault = AzureKeyVaultProvider::builder(&azure.server.base)
        .with_access_token(wrong.as_str())
        .with_policy(fast())
        .build()
        .unwrap();
    let err = vault.get("K").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert!(!err.is_temporary());
    let shown = format!("{err} {err:?} {vault:?}");
    assert!(!shown.contains(&wrong), "the token leaked: {shown}");
    assert!(
        shown.contains("401") && shown.contains("AKV10032"),
        "{shown}"
    );
    assert_eq!(azure.reads_of("K").await, 1, "a 401 is not retried");
}

async fn managed_identity_from_the_instance_metadata_service() {
    let Some(azure) = azure() else { return };
    azure.put("MI", json!({ "value": fake_key("mi") })).await;
    // The metadata service is briefly unavailable: the token request is retried.
    azure
        .server
        .faults(json!([{ "status": 500, "count": 1 }]))
        .await;
    let vault = AzureKeyVaultProvider::builder(&azure.server.base)
        .with_managed_identity_at(
            format!("{}/metadata/identity/oauth2/token", azure.server.base),
            None,
        )
        .with_policy(fast())
        .build()
        .unwrap();
    assert_eq!(
        vault.require("MI").await.unwrap().expose_secret(),
        fake_key("mi")
    );
    let log = azure.server.log().await;
    let imds: Vec<_> = log
        .iter()
        .filter(|entry| entry["path"] == "/metadata/identity/oauth2/token")
        .collect();
    assert_eq!(imds.len(), 2);
    assert_eq!(imds[1]["query"]["resource"], "https://vault.azure.net");
}

async fn a_revoked_token_is_replaced_once() {
    let Some(azure) = azure() else { return };
    azure.put("K", json!({ "value": fake_key("k") })).await;
    let vault = azure.provider();
    vault.require("K").await.unwrap();
    // The cached token stops working before it expires (say, the app's secret was rotated).
    azure
        .server
        .control(reqwest::Method::POST, "revoke", Value::Null)
        .await;
    assert_eq!(
        vault.require("K").await.unwrap().expose_secret(),
        fake_key("k")
    );
    let tokens = azure
        .server
        .log()
        .await
        .iter()
        .filter(|entry| {
            entry["path"]
                .as_str()
                .unwrap()
                .ends_with("/oauth2/v2.0/token")
        })
        .count();
    assert_eq!(tokens, 2);
    assert_eq!(
        azure.reads_of("K").await,
        3,
        "one refused read, then one more"
    );
}

/// Every variable the provider reads, unset in the child unless a case sets it.
const AZURE_VARIABLES: &[&str] = &[
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_AUTHORITY_HOST",
    "AZURE_FEDERATED_TOKEN_FILE",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_come_from_the_environment_as_the_azure_sdks_read_them() {
    let identity_header = fake("identity-header");
    let Some(server) = ContractServer::start(
        "azure_keyvault.py",
        &[
            ("AZ_TEST_TENANT", "72f988bf-0000-4000-8000-2d7cd011db47"),
            ("AZ_TEST_CLIENT_ID", "0a1b2c3d-0000-4000-8000-000000000001"),
            ("AZ_TEST_CLIENT_SECRET", &fake("client-secret")),
            ("AZ_TEST_IDENTITY_HEADER", &identity_header),
            ("AZ_TEST_FEDERATED_TOKEN", &fake("federated-token")),
        ],
    ) else {
        return;
    };
    let azure = Azure {
        server,
        tenant: String::new(),
        client_id: String::new(),
        client_secret: String::new(),
    };
    azure
        .put("ENV-KEY", json!({ "value": fake_key("env") }))
        .await;
    let base = azure.server.base.clone();
    let expected = fake_key("env");
    let common = [
        ("KEYWARD_TEST_VAULT", base.as_str()),
        ("KEYWARD_TEST_EXPECT", expected.as_str()),
    ];

    // A service principal: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET.
    let secret = fake("client-secret");
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("azure-identity-token");
    std::fs::write(&token_file, fake("federated-token")).unwrap();
    let token_file = token_file.to_str().unwrap();
    let cases: [&[(&str, &str)]; 3] = [
        &[
            ("AZURE_TENANT_ID", "72f988bf-0000-4000-8000-2d7cd011db47"),
            ("AZURE_CLIENT_ID", "0a1b2c3d-0000-4000-8000-000000000001"),
            ("AZURE_CLIENT_SECRET", &secret),
            ("AZURE_AUTHORITY_HOST", &base),
        ],
        // AKS workload identity: AZURE_FEDERATED_TOKEN_FILE with the tenant and client.
        &[
            ("AZURE_TENANT_ID", "72f988bf-0000-4000-8000-2d7cd011db47"),
            ("AZURE_CLIENT_ID", "0a1b2c3d-0000-4000-8000-000000000001"),
            ("AZURE_FEDERATED_TOKEN_FILE", token_file),
            ("AZURE_AUTHORITY_HOST", &base),
        ],
        // App Service's managed identity: IDENTITY_ENDPOINT and IDENTITY_HEADER.
        &[
            ("IDENTITY_ENDPOINT", &format!("{base}/msi/token")),
            ("IDENTITY_HEADER", &identity_header),
        ],
    ];
    for case in cases {
        let env: Vec<_> = common.iter().chain(case).copied().collect();
        crate::common::child::run_child(
            "azure::child_reads_with_the_environment_credential",
            &env,
            AZURE_VARIABLES,
        );
    }
    let paths: Vec<String> = azure
        .server
        .log()
        .await
        .iter()
        .map(|entry| entry["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        paths
            .iter()
            .any(|path| path.ends_with("/oauth2/v2.0/token"))
    );
    assert!(paths.iter().any(|path| path == "/msi/token"));

    // AZURE_CLIENT_SECRET without the other two is a configuration error, not a silent
    // fallback to managed identity.
    crate::common::child::run_child(
        "azure::child_refuses_an_incomplete_client_secret",
        &[("AZURE_CLIENT_SECRET", &secret)],
        AZURE_VARIABLES,
    );
}

#[tokio::test]
#[ignore = "run in a child process by credentials_come_from_the_environment_as_the_azure_sdks_read_them"]
async fn child_reads_with_the_environment_credential() {
    if !crate::common::child::is_child() {
        return;
    }
    let vault = AzureKeyVaultProvider::builder(std::env::var("KEYWARD_TEST_VAULT").unwrap())
        .build()
        .unwrap();
    let secret = vault.require("ENV_KEY").await.unwrap();
    assert_eq!(
        secret.expose_secret(),
        std::env::var("KEYWARD_TEST_EXPECT").unwrap()
    );
}

#[test]
#[ignore = "run in a child process by credentials_come_from_the_environment_as_the_azure_sdks_read_them"]
fn child_refuses_an_incomplete_client_secret() {
    if !crate::common::child::is_child() {
        return;
    }
    let err = AzureKeyVaultProvider::builder("https://my-vault.vault.azure.net")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("AZURE_TENANT_ID"), "{err}");
}

async fn workload_identity_reads_its_token_file_for_each_token() {
    let Some(azure) = azure() else { return };
    azure.put("WI", json!({ "value": fake_key("wi") })).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("azure-identity-token");
    let stale = fake("stale-federated-token");
    std::fs::write(&file, &stale).unwrap();
    let vault = AzureKeyVaultProvider::builder(&azure.server.base)
        .with_workload_identity(&azure.tenant, &azure.client_id, &file)
        .with_authority_host(&azure.server.base)
        .with_policy(fast())
        .build()
        .unwrap();
    assert!(format!("{vault:?}").contains("workload identity"));

    let err = vault.get("WI").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("AADSTS700213"), "{shown}");
    assert!(!shown.contains(&stale), "the token leaked: {shown}");

    // The platform rotates the file; the next token request reads the new one.
    std::fs::write(&file, format!("{}\n", fake("federated-token"))).unwrap();
    assert_eq!(
        vault.require("WI").await.unwrap().expose_secret(),
        fake_key("wi")
    );

    std::fs::remove_file(&file).unwrap();
    let gone = AzureKeyVaultProvider::builder(&azure.server.base)
        .with_workload_identity(&azure.tenant, &azure.client_id, &file)
        .with_authority_host(&azure.server.base)
        .build()
        .unwrap();
    let err = gone.get("WI").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().contains("azure-identity-token"), "{err}");
}

#[test]
fn configuration_errors_are_clear() {
    for url in [
        "",
        "my-vault.vault.azure.net",
        "http://my-vault.vault.azure.net",
    ] {
        let err = AzureKeyVaultProvider::builder(url)
            .with_access_token("tok")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{url}");
    }
    let err = AzureKeyVaultProvider::builder("https://my-vault.vault.azure.net")
        .with_client_secret("../evil", "client", "secret")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = AzureKeyVaultProvider::builder("https://my-vault.vault.azure.net")
        .with_client_secret("tenant", "client", "secret")
        .with_authority_host("http://login.example.com")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("plain http"), "{err}");
}

#[test]
fn debug_shows_the_configuration_not_the_credentials() {
    let secret = fake("debug-secret");
    let builder = AzureKeyVaultProvider::builder("https://my-vault.vault.azure.net")
        .with_client_secret("tenant", "client", secret.as_str());
    assert!(!format!("{builder:?}").contains(&secret));
    let vault = builder.build().unwrap();
    let debug = format!("{vault:?}");
    assert!(!debug.contains(&secret), "{debug}");
    assert!(debug.contains("my-vault.vault.azure.net") && debug.contains("client secret"));
    assert_eq!(vault.vault_url(), "https://my-vault.vault.azure.net/");
}

#[test]
fn providers_and_their_futures_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync::<AzureKeyVaultProvider>();
    let vault = AzureKeyVaultProvider::builder("https://my-vault.vault.azure.net")
        .with_access_token("tok")
        .build()
        .unwrap();
    assert_send(&vault.get("K"));
    let _: Box<dyn AsyncSecretProvider> = Box::new(vault);
}

/// The credentials of the tests against misbehaving servers, made in code, one of each kind.
struct Credentials {
    access_token: String,
    client_secret: String,
    federated_token: String,
    dir: tempfile::TempDir,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    AccessToken,
    ClientSecret,
    WorkloadIdentity,
    ManagedIdentity,
}

const KINDS: [Kind; 4] = [
    Kind::AccessToken,
    Kind::ClientSecret,
    Kind::WorkloadIdentity,
    Kind::ManagedIdentity,
];

fn credentials() -> Credentials {
    let credentials = Credentials {
        access_token: format!("eyJ0eXAiOiJKV1Qi.{}", fake("access-token")),
        client_secret: fake("client-secret"),
        federated_token: fake("federated-token"),
        dir: tempfile::tempdir().unwrap(),
    };
    std::fs::write(credentials.token_file(), &credentials.federated_token).unwrap();
    credentials
}

impl Credentials {
    fn token_file(&self) -> std::path::PathBuf {
        self.dir.path().join("azure-identity-token")
    }

    /// A provider whose every request (vault, token endpoint, managed identity) goes to
    /// `address`.
    fn provider(&self, kind: Kind, address: &str) -> AzureKeyVaultProvider {
        const TENANT: &str = "72f988bf-0000-4000-8000-2d7cd011db47";
        const CLIENT: &str = "0a1b2c3d-0000-4000-8000-000000000001";
        let builder = AzureKeyVaultProvider::builder(address)
            .with_authority_host(address)
            .with_policy(fast());
        let builder = match kind {
            Kind::AccessToken => builder.with_access_token(self.access_token.as_str()),
            Kind::ClientSecret => {
                builder.with_client_secret(TENANT, CLIENT, self.client_secret.as_str())
            }
            Kind::WorkloadIdentity => {
                builder.with_workload_identity(TENANT, CLIENT, self.token_file())
            }
            Kind::ManagedIdentity => builder.with_managed_identity_at(
                format!("{address}/metadata/identity/oauth2/token"),
                None,
            ),
        };
        builder.build().unwrap()
    }

    fn all(&self) -> [&str; 4] {
        [
            &self.access_token,
            &self.client_secret,
            &self.federated_token,
            ISSUED_TOKEN,
        ]
    }
}

/// The access token the misbehaving servers issue.
const ISSUED_TOKEN: &str = "fake-issued-Zx8qZx8qZx8q";

/// What a well-behaved Entra ID and Key Vault answer.
fn good_answer(path: &str) -> Reply {
    if path.contains("token") {
        let token = json!({ "access_token": ISSUED_TOKEN, "expires_in": 3600 });
        Reply::json(200, &token)
    } else {
        Reply::json(
            200,
            &json!({ "value": fake_key("k"), "id": "x/secrets/K/v1" }),
        )
    }
}

async fn redirects_are_refused_and_nothing_reaches_the_other_server() {
    let credentials = credentials();
    for status in [302, 307] {
        // The vault read carries the access token; the other kinds redirect their token
        // request, with the client secret, the federated token, or the metadata header.
        for kind in KINDS {
            let target = Fake::start(|request| good_answer(&request.path));
            let location = redirect_target(&target);
            let origin = Fake::start(move |_| Reply::redirect(status, &location));
            let vault = credentials.provider(kind, &origin.address);
            let err = vault.get("OPENAI_API_KEY").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Backend, "{kind:?}");
            assert_redirect_refused(&err, &origin, &target, status);
            assert_eq!(origin.count(), 1, "{kind:?}: a redirect is not retried");
            assert_clean(&err, &credentials.all());
        }
    }
}

async fn server_text_in_errors_is_redacted_escaped_and_cut() {
    let credentials = credentials();
    for status in [400, 401, 403, 503] {
        for kind in KINDS {
            // Key Vault's error shape for the vault, Entra ID's for the token endpoints.
            let server = Fake::start(move |request| {
                let echo = request.echo(&["authorization"]);
                if request.path.contains("token") {
                    let error = json!({ "error": "invalid_client", "error_description": echo });
                    Reply::json(status, &error)
                } else {
                    let error = json!({ "error": { "code": "Forbidden", "message": echo } });
                    Reply::json(status, &error)
                }
            });
            let err = credentials
                .provider(kind, &server.address)
                .get("OPENAI_API_KEY")
                .await
                .unwrap_err();
            let sent = server.requests()[0].text();
            let echoed = match kind {
                Kind::AccessToken => Some(&credentials.access_token),
                Kind::ClientSecret => Some(&credentials.client_secret),
                Kind::WorkloadIdentity => Some(&credentials.federated_token),
                Kind::ManagedIdentity => None,
            };
            if let Some(echoed) = echoed {
                assert!(sent.contains(echoed.as_str()), "{kind:?}");
                assert!(err.to_string().contains("[REDACTED:"), "{kind:?}: {err}");
            }
            assert_clean(&err, &credentials.all());
            let message = err.to_string();
            assert!(message.contains("you sent"), "{kind:?}: {message}");
            assert!(message.contains(&status.to_string()), "{message}");
        }
    }
}
