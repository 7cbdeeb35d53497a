//! `KeyManager::get_async` in front of the remote providers, against real servers: OpenBao for
//! `VaultProvider`, moto for `AwsSecretsManagerProvider` (both started by `scripts/test-all`),
//! and the provider conformance suite against both.
//!
//! Secrets are written with each server's own API, then read through the manager. The outage
//! tests start a server of their own, stop it, and start it again. Tests are skipped, with a
//! printed reason, when the `KEYWARD_TEST_*` variables are unset. Every manager test runs on
//! tokio's multi-thread and current-thread runtimes, against both servers.
#![cfg(any(feature = "vault", feature = "aws"))]
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::servers::{OwnServer, free_port, skip};
use chrono::{DateTime, TimeDelta, Utc};
use keyward::clock::ManualClock;
use keyward::manager::KeyEvent;
use keyward::provider::RemotePolicy;
use keyward::rotation::CreatedAt;
use keyward::{AsyncSecretProvider, ErrorKind, KeyManager};

/// What the manager tests need from a server: somewhere to write secrets, and a provider.
trait Remote: Sized {
    type Provider: AsyncSecretProvider + 'static;

    /// The server `scripts/test-all` started; `None`, with the reason printed, without it.
    fn shared() -> Option<Self>;

    /// A server of the test's own on `port`, and the process to stop; `None` without the
    /// server binary.
    async fn own(port: u16) -> Option<(Self, OwnServer)>;

    /// A provider for the server, which gives up quickly when it is down.
    async fn provider(&self) -> Self::Provider;

    /// A provider with a wrong credential, and that credential.
    async fn wrong_provider(&self) -> (Self::Provider, String);

    /// Writes `value` as the new current version of secret `name`, with the server's API, and
    /// returns the version and creation time the server gave it.
    async fn write(&self, name: &str, value: &str) -> (String, DateTime<Utc>);
}

/// Runs each generic test body against each server on both tokio runtimes.
macro_rules! remote_tests {
    ($feature:literal, $module:ident, $remote:ty: $($name:ident),* $(,)?) => {
        #[cfg(feature = $feature)]
        mod $module {$(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn multi_thread() {
                    crate::remote_manager::$name::<$remote>().await;
                }

                #[tokio::test(flavor = "current_thread")]
                async fn current_thread() {
                    crate::remote_manager::$name::<$remote>().await;
                }
            }
        )*}
    };
}

remote_tests!("vault", vault, crate::remote_manager::bao::Bao:
    written_secrets_are_read_through_get_async,
    a_version_bump_is_a_rotation_with_the_servers_times,
    a_missing_secret_is_not_found,
    a_wrong_credential_is_permission_denied_without_it,
    an_outage_serves_stale_within_max_stale_then_errors_then_recovers,
);

remote_tests!("aws", aws, crate::remote_manager::moto::Moto:
    written_secrets_are_read_through_get_async,
    a_version_bump_is_a_rotation_with_the_servers_times,
    a_missing_secret_is_not_found,
    a_wrong_credential_is_permission_denied_without_it,
    an_outage_serves_stale_within_max_stale_then_errors_then_recovers,
);

/// A name no other test (or runtime flavour) uses.
fn unique(name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!(
        "keyward-manager-tests/{name}-{nanos}-{}",
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A fake key, made in code.
fn fake_key(tag: &str) -> String {
    format!("sk-proj-{tag}{}", "Ab3d".repeat(10))
}

/// Retries quickly, so that outage tests do not wait long for a server that is down.
fn quick_policy() -> RemotePolicy {
    RemotePolicy::default()
        .with_timeout(Duration::from_secs(2))
        .with_max_attempts(2)
        .with_initial_backoff(Duration::from_millis(10))
}

/// Records every event.
#[derive(Debug, Default, Clone)]
struct Events(Arc<Mutex<Vec<KeyEvent>>>);

impl Events {
    fn hook(&self) -> impl Fn(&KeyEvent) + Send + Sync + 'static {
        let events = self.0.clone();
        move |event| events.lock().unwrap().push(event.clone())
    }

    fn take(&self) -> Vec<KeyEvent> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn kind(event: &KeyEvent) -> &'static str {
    match event {
        KeyEvent::Loaded { .. } => "loaded",
        KeyEvent::Refreshed { .. } => "refreshed",
        KeyEvent::Rotated { .. } => "rotated",
        KeyEvent::StaleServed { .. } => "stale",
        KeyEvent::RefreshFailed { .. } => "failed",
        _ => "other",
    }
}

fn kinds(events: &[KeyEvent]) -> Vec<&'static str> {
    events.iter().map(kind).collect()
}

async fn written_secrets_are_read_through_get_async<R: Remote>() {
    let Some(remote) = R::shared() else { return };
    let name = unique("read");
    let value = fake_key("rd");
    let (version, created) = remote.write(&name, &value).await;
    let provider = remote.provider().await;
    let source = provider.name().to_owned();
    let events = Events::default();
    let manager = KeyManager::builder_async(provider)
        .on_event(events.hook())
        .build()
        .unwrap();

    let key = manager.get_async(&name).await.unwrap();
    assert_eq!(key.expose_secret(), value);
    assert_eq!(key.name(), name);
    assert_eq!(key.source(), source);
    assert_eq!(key.version(), Some(version.as_str()));
    assert_eq!(key.created_at(), &CreatedAt::Metadata { at: created });
    assert!(!format!("{key:?} {manager:?}").contains(&value));

    let again = manager.get_async(&name).await.unwrap();
    assert!(Arc::ptr_eq(&key, &again), "served from the cache");
    assert_eq!(kinds(&events.take()), ["loaded"]);

    let preloaded = manager.preload_async([name.as_str()]).await.unwrap();
    assert!(Arc::ptr_eq(&key, &preloaded[0]));
}

async fn a_version_bump_is_a_rotation_with_the_servers_times<R: Remote>() {
    let Some(remote) = R::shared() else { return };
    let name = unique("bump");
    let (v1, created1) = remote.write(&name, &fake_key("v1")).await;
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let events = Events::default();
    let manager = KeyManager::builder_async(remote.provider().await)
        .with_clock(clock.clone())
        .with_ttl(Duration::from_secs(5 * 60))
        .on_event(events.hook())
        .build()
        .unwrap();
    let old = manager.get_async(&name).await.unwrap();

    // moto keeps whole seconds: a new version in the next one has a later time.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (v2, created2) = remote.write(&name, &fake_key("v2")).await;
    assert!(created2 > created1);
    assert_ne!(v1, v2);

    // Within the TTL the cached value stands; after it, the new version is found.
    assert!(Arc::ptr_eq(&manager.get_async(&name).await.unwrap(), &old));
    clock.advance(TimeDelta::minutes(5));
    let new = manager.get_async(&name).await.unwrap();
    assert_eq!(new.expose_secret(), fake_key("v2"));
    assert_eq!(new.version(), Some(v2.as_str()));
    assert_eq!(new.created_at(), &CreatedAt::Metadata { at: created2 });

    let events = events.take();
    assert_eq!(kinds(&events), ["loaded", "rotated"]);
    let KeyEvent::Rotated {
        old: rotated_out,
        new: rotated_in,
        ..
    } = &events[1]
    else {
        unreachable!()
    };
    assert_eq!(rotated_out.version(), Some(v1.as_str()));
    assert_eq!(rotated_out.created_at().known(), Some(created1));
    assert!(Arc::ptr_eq(rotated_in, &new));
    let retired = manager.retired_keys();
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0].expose_secret(), fake_key("v1"));
    // The report shows the age the server's time gives, not the time the key was first seen.
    let report = manager.rotation_report().to_string();
    assert!(report.contains(&name), "{report}");
}

async fn a_missing_secret_is_not_found<R: Remote>() {
    let Some(remote) = R::shared() else { return };
    let present = unique("present");
    remote.write(&present, &fake_key("p")).await;
    let absent = unique("absent");
    let provider = remote.provider().await;
    let source = provider.name().to_owned();
    let manager = KeyManager::builder_async(provider).build().unwrap();

    let err = manager.get_async(&absent).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        format!("secret `{absent}` not found in {source}")
    );
    let err = manager
        .preload_async([present.as_str(), absent.as_str()])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().starts_with("1 of 2 secrets"), "{err}");
    assert_eq!(manager.len(), 1);
}

async fn a_wrong_credential_is_permission_denied_without_it<R: Remote>() {
    let Some(remote) = R::shared() else { return };
    let name = unique("denied");
    remote.write(&name, &fake_key("dn")).await;
    let (provider, credential) = remote.wrong_provider().await;
    let events = Events::default();
    let manager = KeyManager::builder_async(provider)
        .on_event(events.hook())
        .build()
        .unwrap();
    let err = manager.get_async(&name).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let shown = format!("{err} {err:?} {:?} {manager:?}", events.take());
    assert!(
        !shown.contains(&credential),
        "the credential leaked: {shown}"
    );
    assert!(manager.is_empty());
}

async fn an_outage_serves_stale_within_max_stale_then_errors_then_recovers<R: Remote>() {
    let port = free_port();
    let Some((remote, server)) = R::own(port).await else {
        return;
    };
    let name = unique("outage");
    let (v1, _) = remote.write(&name, &fake_key("o1")).await;
    let start = Utc::now();
    let clock = Arc::new(ManualClock::new(start));
    let events = Events::default();
    let manager = KeyManager::builder_async(remote.provider().await)
        .with_clock(clock.clone())
        .with_ttl(Duration::from_secs(5 * 60))
        .with_max_stale(Duration::from_secs(3600))
        .with_stale_retry_interval(Duration::from_secs(30))
        .on_event(events.hook())
        .build()
        .unwrap();
    let good = manager.get_async(&name).await.unwrap();
    events.take();

    drop(server);
    // Past the TTL the refresh fails: the last good value is served, and said to be stale.
    clock.advance(TimeDelta::minutes(5));
    let stale = manager.get_async(&name).await.unwrap();
    assert!(Arc::ptr_eq(&stale, &good));
    let failed = events.take();
    assert_eq!(kinds(&failed), ["failed", "stale"]);
    let KeyEvent::StaleServed {
        error_kind,
        message,
        stale_until,
        ..
    } = &failed[1]
    else {
        unreachable!()
    };
    assert_eq!(*error_kind, ErrorKind::Backend);
    assert!(message.contains("could not be reached"), "{message}");
    assert_eq!(*stale_until, start + TimeDelta::minutes(65));

    // Still served a while later; after max_stale, the error comes through.
    clock.advance(TimeDelta::minutes(30));
    assert!(Arc::ptr_eq(&manager.get_async(&name).await.unwrap(), &good));
    clock.set(start + TimeDelta::minutes(65));
    let err = manager.get_async(&name).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.to_string().contains("could not be reached"), "{err}");

    // The server comes back (empty: dev servers keep nothing) and the secret is written again.
    let Some((remote, _server)) = R::own(port).await else {
        unreachable!()
    };
    let (v2, created2) = remote.write(&name, &fake_key("o2")).await;
    events.take();
    let recovered = manager.get_async(&name).await.unwrap();
    assert_eq!(recovered.expose_secret(), fake_key("o2"));
    assert_eq!(recovered.created_at().known(), Some(created2));
    assert_eq!(recovered.fetched_at(), start + TimeDelta::minutes(65));
    assert_eq!(kinds(&events.take()), ["rotated"], "{v1} -> {v2}");
    assert!(Arc::ptr_eq(
        &manager.get_async(&name).await.unwrap(),
        &recovered
    ));
}

#[cfg(feature = "vault")]
mod bao {
    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use keyward::provider::RemotePolicy;
    use keyward::provider::vault::VaultProvider;
    use serde_json::{Value, json};

    use crate::remote_manager::{OwnServer, Remote, quick_policy, skip};

    /// An OpenBao server and its root token.
    pub(crate) struct Bao {
        pub(crate) address: String,
        pub(crate) token: String,
    }

    impl Bao {
        /// Calls the server's HTTP API with the root token, as an operator would.
        pub(crate) async fn api(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
            let response = reqwest::Client::new()
                .request(method, format!("{}/v1/{path}", self.address))
                .header("X-Vault-Token", &self.token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            assert!(status.is_success(), "{path}: {status} {text}");
            serde_json::from_str(&text).unwrap_or(Value::Null)
        }

        pub(crate) fn builder(&self) -> keyward::provider::vault::VaultBuilder {
            VaultProvider::builder(&self.address).with_token(self.token.as_str())
        }
    }

    impl Remote for Bao {
        type Provider = VaultProvider;

        fn shared() -> Option<Bao> {
            let (address, token) = crate::common::servers::shared_bao()?;
            Some(Bao { address, token })
        }

        async fn own(port: u16) -> Option<(Bao, OwnServer)> {
            let Ok(binary) = std::env::var("KEYWARD_TEST_BAO_BIN") else {
                skip("skipped: KEYWARD_TEST_BAO_BIN is not set; scripts/test-all sets it");
                return None;
            };
            let bao = Bao {
                address: format!("http://127.0.0.1:{port}"),
                token: format!("own-root-{port}"),
            };
            let args = OwnServer::bao_dev_args(port, &bao.token);
            let server = OwnServer::start(&binary, &args, port);
            // The dev server mounts `secret/` a moment after it starts listening.
            for _ in 0..100 {
                let mounted = reqwest::Client::new()
                    .get(format!("{}/v1/secret/config", bao.address))
                    .header("X-Vault-Token", &bao.token)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if mounted {
                    return Some((bao, server));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("the test's own bao did not mount secret/");
        }

        async fn provider(&self) -> VaultProvider {
            self.builder().with_policy(quick_policy()).build().unwrap()
        }

        async fn wrong_provider(&self) -> (VaultProvider, String) {
            let wrong = format!("s.{}", "WrongTok3n".repeat(3));
            let provider = VaultProvider::builder(&self.address)
                .with_token(wrong.as_str())
                .with_policy(RemotePolicy::default().with_initial_backoff(Duration::ZERO))
                .build()
                .unwrap();
            (provider, wrong)
        }

        async fn write(&self, name: &str, value: &str) -> (String, DateTime<Utc>) {
            let answer = self
                .api(
                    reqwest::Method::POST,
                    &format!("secret/data/{name}"),
                    json!({ "data": { "value": value } }),
                )
                .await;
            let version = answer["data"]["version"].as_u64().unwrap().to_string();
            let created = answer["data"]["created_time"].as_str().unwrap();
            (
                version,
                DateTime::parse_from_rfc3339(created).unwrap().into(),
            )
        }
    }
}

#[cfg(feature = "aws")]
mod moto {
    use aws_config::{BehaviorVersion, Region, SdkConfig};
    use aws_sdk_secretsmanager::Client;
    use aws_sdk_secretsmanager::config::{Credentials, SharedCredentialsProvider};
    use chrono::{DateTime, Utc};
    use keyward::provider::aws::AwsSecretsManagerProvider;

    use crate::remote_manager::{OwnServer, Remote, quick_policy, skip};

    /// A moto server and an access key it accepts.
    pub(crate) struct Moto {
        pub(crate) endpoint: String,
        pub(crate) key_id: String,
        pub(crate) secret_key: String,
    }

    fn sdk_config(key_id: &str, secret_key: &str) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                key_id,
                secret_key,
                None,
                None,
                "keyward-tests",
            )))
            .build()
    }

    impl Moto {
        /// The SDK client an operator would use to write secrets.
        pub(crate) fn admin(&self) -> Client {
            let config = aws_sdk_secretsmanager::config::Builder::from(&sdk_config(
                &self.key_id,
                &self.secret_key,
            ))
            .endpoint_url(&self.endpoint)
            .build();
            Client::from_conf(config)
        }

        pub(crate) async fn provider_with(&self, secret_key: &str) -> AwsSecretsManagerProvider {
            AwsSecretsManagerProvider::builder()
                .with_sdk_config(sdk_config(&self.key_id, secret_key))
                .with_endpoint_url(&self.endpoint)
                .with_policy(quick_policy())
                .build()
                .await
        }
    }

    impl Remote for Moto {
        type Provider = AwsSecretsManagerProvider;

        fn shared() -> Option<Moto> {
            let (endpoint, key_id, secret_key) = crate::common::servers::shared_moto()?;
            Some(Moto {
                endpoint,
                key_id,
                secret_key,
            })
        }

        async fn own(port: u16) -> Option<(Moto, OwnServer)> {
            let Ok(binary) = std::env::var("KEYWARD_TEST_MOTO_BIN") else {
                skip("skipped: KEYWARD_TEST_MOTO_BIN is not set; scripts/test-all sets it");
                return None;
            };
            let args = OwnServer::moto_args(port);
            let server = OwnServer::start(&binary, &args, port);
            // This moto checks no credentials.
            let moto = Moto {
                endpoint: format!("http://127.0.0.1:{port}"),
                key_id: "AKIAKEYWARDOWNMOTO00".to_owned(),
                secret_key: format!("{}OwnMoto", "z".repeat(32)),
            };
            Some((moto, server))
        }

        async fn provider(&self) -> AwsSecretsManagerProvider {
            self.provider_with(&self.secret_key).await
        }

        async fn wrong_provider(&self) -> (AwsSecretsManagerProvider, String) {
            let wrong = format!("{}Wrong", "q".repeat(35));
            (self.provider_with(&wrong).await, wrong)
        }

        async fn write(&self, name: &str, value: &str) -> (String, DateTime<Utc>) {
            let admin = self.admin();
            let created = admin
                .create_secret()
                .name(name)
                .secret_string(value)
                .send()
                .await;
            let version = match created {
                Ok(created) => created.version_id().unwrap().to_owned(),
                // It exists (a conformance run against the same server): a new version.
                Err(_) => admin
                    .put_secret_value()
                    .secret_id(name)
                    .secret_string(value)
                    .send()
                    .await
                    .unwrap()
                    .version_id()
                    .unwrap()
                    .to_owned(),
            };
            let read = admin
                .get_secret_value()
                .secret_id(name)
                .version_id(&version)
                .send()
                .await
                .unwrap();
            let at = read.created_date().unwrap();
            let created = DateTime::from_timestamp(at.secs(), at.subsec_nanos()).unwrap();
            (version, created)
        }
    }
}

/// The conformance suite against OpenBao.
#[cfg(all(feature = "vault", feature = "testing"))]
#[tokio::test]
async fn vault_provider_conforms() {
    use keyward::testing::{BAD_NAMES, check_async_provider, fake_values};
    let Some(bao) = <bao::Bao as Remote>::shared() else {
        return;
    };
    let prefix = unique("conformance");
    let vault = bao.builder().with_prefix(&prefix).build().unwrap();
    let values = fake_values();
    for (key, value) in &values {
        bao.write(&format!("{prefix}/{key}"), value).await;
    }
    // A `/` separates path segments: `a/b` is a name here, not an escape.
    let bad: Vec<&str> = BAD_NAMES
        .iter()
        .copied()
        .filter(|name| *name != "a/b")
        .collect();
    check_async_provider(&vault, &values, &bad).await;
}

/// The conformance suite against moto.
#[cfg(all(feature = "aws", feature = "testing"))]
#[tokio::test]
async fn aws_provider_conforms() {
    use keyward::testing::{BAD_REMOTE_NAMES, check_async_provider, fake_values};
    let Some(moto) = <moto::Moto as Remote>::shared() else {
        return;
    };
    let aws = moto.provider().await;
    let values = fake_values();
    for (key, value) in &values {
        moto.write(key, value).await;
    }
    // Secret ids may hold `/`, `\` and `..`; only empty names and control characters are
    // refused before a request.
    check_async_provider(&aws, &values, BAD_REMOTE_NAMES).await;
}
