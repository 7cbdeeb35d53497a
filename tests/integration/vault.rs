//! `VaultProvider` against a real OpenBao server (started by `scripts/test-all`), and against
//! tiny fake HTTP servers for the failures a real server will not produce on demand.
//!
//! The tests that need OpenBao read `KEYWARD_TEST_VAULT_ADDR` and `KEYWARD_TEST_VAULT_TOKEN`
//! and are skipped, with a printed reason, when they are unset. Every test runs on tokio's
//! multi-thread and current-thread runtimes.
#![cfg(feature = "vault")]
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::misbehaving::{
    Fake, Reply, assert_clean, assert_redirect_refused, redirect_target,
};
use crate::common::servers::{OwnServer, free_port, shared_bao, skip};
use chrono::{DateTime, TimeDelta, Utc};
use keyward::clock::ManualClock;
use keyward::provider::RemotePolicy;
use keyward::provider::vault::VaultProvider;
use keyward::{AsyncSecretProvider, AsyncSecretProviderExt, ErrorKind, KeyManager};
use serde_json::{Value, json};

on_both_runtimes!(
    reads_a_field_with_the_servers_version_and_time,
    a_version_bump_is_seen_with_the_new_creation_time,
    missing_secrets_and_fields_are_none,
    a_wrong_token_is_permission_denied_without_the_token,
    a_non_string_field_is_invalid_format,
    approle_logs_in_and_logs_in_again_after_the_max_ttl,
    a_short_lived_token_is_renewed_before_it_expires,
    a_token_that_may_not_look_itself_up_still_reads,
    a_stopped_server_is_an_error_and_a_restarted_one_recovers,
    server_errors_are_retried_and_refusals_are_not,
    a_silent_server_times_out,
    malformed_keys_are_refused_before_any_request,
    concurrent_reads_share_one_token_lookup,
    retry_after_is_honoured_and_bounded,
    an_oversized_answer_is_refused,
    a_token_lifetime_too_long_to_represent_is_read_as_no_expiry,
    redirects_are_refused_and_nothing_reaches_the_other_server,
    server_text_in_errors_is_redacted_escaped_and_cut,
    an_answer_cut_mid_body_is_retried,
    answers_that_cannot_be_read_say_why,
    an_endless_answer_is_cut_at_one_mebibyte,
    a_refused_approle_login_is_permission_denied,
    a_refused_token_stops_the_manager_serving_the_key,
);

struct Server {
    address: String,
    token: String,
}

fn server() -> Option<Server> {
    let (address, token) = shared_bao()?;
    Some(Server { address, token })
}

/// A path no other test (or runtime flavour) uses.
fn unique(name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!(
        "keyward-tests/{name}-{nanos}-{}",
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A fake key, made in code.
fn fake_key(tag: &str) -> String {
    format!("sk-proj-{tag}{}", "Ab3d".repeat(10))
}

/// Calls the server's HTTP API with the root token, as an operator would.
async fn api(server: &Server, method: reqwest::Method, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .request(method, format!("{}/v1/{path}", server.address))
        .header("X-Vault-Token", &server.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Writes a KV v2 secret and returns the server's `created_time` for it.
async fn write(server: &Server, path: &str, data: Value) -> DateTime<Utc> {
    let answer = api(
        server,
        reqwest::Method::POST,
        &format!("secret/data/{path}"),
        json!({ "data": data }),
    )
    .await;
    let created = answer["data"]["created_time"].as_str().unwrap();
    DateTime::parse_from_rfc3339(created).unwrap().into()
}

fn provider(server: &Server) -> VaultProvider {
    VaultProvider::builder(&server.address)
        .with_token(server.token.as_str())
        .build()
        .unwrap()
}

async fn reads_a_field_with_the_servers_version_and_time() {
    let Some(server) = server() else { return };
    let path = unique("read");
    let (openai, default) = (fake_key("oa"), fake_key("df"));
    let created = write(
        &server,
        &path,
        json!({ "openai": openai, "value": default }),
    )
    .await;

    let vault = provider(&server);
    let secret = vault.require(&format!("{path}#openai")).await.unwrap();
    assert_eq!(secret.expose_secret(), openai);
    assert_eq!(secret.meta().source, "vault");
    assert_eq!(secret.meta().version.as_deref(), Some("1"));
    assert_eq!(secret.meta().created_at, Some(created));

    let secret = vault.require(&path).await.unwrap();
    assert_eq!(secret.expose_secret(), default, "no #field reads `value`");

    // A prefix and another default field address the same secret.
    let (prefix, rest) = path.split_once('/').unwrap();
    let vault = VaultProvider::builder(&server.address)
        .with_token(server.token.as_str())
        .with_prefix(prefix)
        .with_default_field("openai")
        .build()
        .unwrap();
    assert_eq!(vault.require(rest).await.unwrap().expose_secret(), openai);
}

async fn a_version_bump_is_seen_with_the_new_creation_time() {
    let Some(server) = server() else { return };
    let path = unique("bump");
    let first = write(&server, &path, json!({ "value": fake_key("v1") })).await;
    let vault = provider(&server);
    let before = vault.require(&path).await.unwrap();

    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = write(&server, &path, json!({ "value": fake_key("v2") })).await;
    let after = vault.require(&path).await.unwrap();

    assert_eq!(before.meta().version.as_deref(), Some("1"));
    assert_eq!(after.meta().version.as_deref(), Some("2"));
    assert_eq!(after.expose_secret(), fake_key("v2"));
    assert_eq!(
        (before.meta().created_at, after.meta().created_at),
        (Some(first), Some(second))
    );
    assert!(second > first);
}

async fn missing_secrets_and_fields_are_none() {
    let Some(server) = server() else { return };
    let path = unique("missing");
    write(&server, &path, json!({ "value": fake_key("m") })).await;
    let vault = provider(&server);

    assert!(
        vault
            .get(&format!("{path}-absent"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        vault
            .get(&format!("{path}#absent"))
            .await
            .unwrap()
            .is_none()
    );
    let err = vault.require(&format!("{path}-absent")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("not found in vault"), "{err}");

    // A deleted latest version reads as missing too.
    api(
        &server,
        reqwest::Method::DELETE,
        &format!("secret/data/{path}"),
        json!({}),
    )
    .await;
    assert!(vault.get(&path).await.unwrap().is_none());
}

async fn a_wrong_token_is_permission_denied_without_the_token() {
    let Some(server) = server() else { return };
    let path = unique("denied");
    write(&server, &path, json!({ "value": fake_key("d") })).await;
    let wrong = format!("s.{}", "WrongTok3n".repeat(3));
    let vault = VaultProvider::builder(&server.address)
        .with_token(wrong.as_str())
        .with_policy(RemotePolicy::default().with_initial_backoff(Duration::from_millis(1)))
        .build()
        .unwrap();

    let started = Instant::now();
    let err = vault.get(&path).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert!(!err.is_temporary());
    let shown = format!("{err} {err:?} {vault:?}");
    assert!(!shown.contains(&wrong), "the token leaked: {shown}");
    assert!(
        shown.contains(&format!("vault at {} answered", server.address)),
        "{shown}"
    );
    assert!(shown.contains("403"), "{shown}");
    assert!(!shown.contains("gave up"), "a 403 is not retried: {shown}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

async fn a_non_string_field_is_invalid_format() {
    let Some(server) = server() else { return };
    let path = unique("number");
    write(&server, &path, json!({ "value": 12345, "list": ["a"] })).await;
    let err = provider(&server).get(&path).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidFormat);
    assert!(!err.to_string().contains("12345"), "{err}");
}

async fn approle_logs_in_and_logs_in_again_after_the_max_ttl() {
    let Some(server) = server() else { return };
    let path = unique("approle");
    write(&server, &path, json!({ "value": fake_key("ar") })).await;

    // Each run gets its own AppRole mount, role and policy.
    let mount = unique("approle").replace('/', "-");
    api(
        &server,
        reqwest::Method::POST,
        &format!("sys/auth/{mount}"),
        json!({ "type": "approle" }),
    )
    .await;
    api(
        &server,
        reqwest::Method::PUT,
        &format!("sys/policies/acl/{mount}"),
        json!({ "policy": format!("path \"secret/data/{path}\" {{ capabilities = [\"read\"] }}") }),
    )
    .await;
    api(
        &server,
        reqwest::Method::POST,
        &format!("auth/{mount}/role/agent"),
        json!({ "token_policies": [mount], "token_ttl": "2s", "token_max_ttl": "3s" }),
    )
    .await;
    let role = api(
        &server,
        reqwest::Method::GET,
        &format!("auth/{mount}/role/agent/role-id"),
        Value::Null,
    )
    .await;
    let secret_id = api(
        &server,
        reqwest::Method::POST,
        &format!("auth/{mount}/role/agent/secret-id"),
        json!({}),
    )
    .await;
    let role_id = role["data"]["role_id"].as_str().unwrap();
    let secret_id = secret_id["data"]["secret_id"].as_str().unwrap();

    let vault = VaultProvider::builder(&server.address)
        .with_approle_at(&mount, role_id, secret_id)
        .build()
        .unwrap();
    assert!(!format!("{vault:?}").contains(secret_id));
    // Reads across 4.5 s: the first token (ttl 2 s, max 3 s) is renewed, then replaced.
    for _ in 0..4 {
        let secret = vault.require(&path).await.unwrap();
        assert_eq!(secret.expose_secret(), fake_key("ar"));
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }

    // Revoking every token of the mount (or a server that forgot them) means a new login,
    // even while the token in hand is not yet due for renewal.
    assert!(vault.get(&path).await.unwrap().is_some());
    api(
        &server,
        reqwest::Method::PUT,
        &format!("sys/leases/revoke-prefix/auth/{mount}/login"),
        json!({}),
    )
    .await;
    assert!(vault.get(&path).await.unwrap().is_some());

    let wrong = VaultProvider::builder(&server.address)
        .with_approle_at(&mount, role_id, "not-the-secret-id")
        .build()
        .unwrap();
    let err = wrong.get(&path).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert!(!format!("{err:?}").contains("not-the-secret-id"), "{err:?}");
    assert!(
        err.to_string().contains(&format!("auth/{mount}/login")),
        "{err}"
    );
}

async fn a_short_lived_token_is_renewed_before_it_expires() {
    let Some(server) = server() else { return };
    let path = unique("renew");
    write(&server, &path, json!({ "value": fake_key("rn") })).await;
    let created = api(
        &server,
        reqwest::Method::POST,
        "auth/token/create",
        json!({ "ttl": "2s", "renewable": true, "policies": ["root"] }),
    )
    .await;
    let token = created["auth"]["client_token"].as_str().unwrap();

    let vault = VaultProvider::builder(&server.address)
        .with_token(token)
        .build()
        .unwrap();
    // Without renewal the token is gone after 2 s; these reads span 4.5 s.
    for _ in 0..4 {
        assert!(vault.get(&path).await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }

    // A token that is not renewed does expire: the test above can fail.
    let created = api(
        &server,
        reqwest::Method::POST,
        "auth/token/create",
        json!({ "ttl": "1s", "renewable": false, "policies": ["root"] }),
    )
    .await;
    let token = created["auth"]["client_token"].as_str().unwrap();
    let vault = VaultProvider::builder(&server.address)
        .with_token(token)
        .build()
        .unwrap();
    assert!(vault.get(&path).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let err = vault.get(&path).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
}

async fn a_token_that_may_not_look_itself_up_still_reads() {
    let Some(server) = server() else { return };
    let path = unique("nolookup");
    write(&server, &path, json!({ "value": fake_key("nl") })).await;
    let policy = unique("read-only").replace('/', "-");
    api(
        &server,
        reqwest::Method::PUT,
        &format!("sys/policies/acl/{policy}"),
        json!({ "policy": format!("path \"secret/data/{path}\" {{ capabilities = [\"read\"] }}") }),
    )
    .await;
    let created = api(
        &server,
        reqwest::Method::POST,
        "auth/token/create",
        json!({ "policies": [policy], "no_default_policy": true, "ttl": "1h" }),
    )
    .await;
    let token = created["auth"]["client_token"].as_str().unwrap();
    let vault = VaultProvider::builder(&server.address)
        .with_token(token)
        .build()
        .unwrap();
    assert!(vault.get(&path).await.unwrap().is_some());
    // Denied paths are still errors, not `None`.
    let err = vault.get(&format!("{path}-other")).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
}

async fn a_stopped_server_is_an_error_and_a_restarted_one_recovers() {
    let Ok(binary) = std::env::var("KEYWARD_TEST_BAO_BIN") else {
        skip("skipped: KEYWARD_TEST_BAO_BIN is not set; scripts/test-all sets it");
        return;
    };
    let port = free_port();
    let own = Server {
        address: format!("http://127.0.0.1:{port}"),
        token: format!("own-root-{port}"),
    };
    let bao = OwnServer::start(&binary, &OwnServer::bao_dev_args(port, &own.token), port);
    // Give the dev server time to mount `secret/` after it starts listening.
    let path = unique("restart");
    let mut written = false;
    for _ in 0..50 {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/secret/data/{path}", own.address))
            .header("X-Vault-Token", &own.token)
            .json(&json!({ "data": { "value": fake_key("r1") } }))
            .send()
            .await;
        if response.is_ok_and(|r| r.status().is_success()) {
            written = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(written, "could not write to the test's own bao");

    let vault = VaultProvider::builder(&own.address)
        .with_token(own.token.as_str())
        .with_policy(
            RemotePolicy::default()
                .with_timeout(Duration::from_secs(1))
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    assert!(vault.get(&path).await.unwrap().is_some());

    drop(bao);
    let err = vault.get(&path).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.is_temporary());
    let message = err.to_string();
    assert!(message.contains(&own.address), "{message}");
    assert!(message.contains("could not be reached"), "{message}");
    assert!(message.contains("gave up after 3 attempts"), "{message}");
    assert!(!format!("{err:?}").contains(&own.token));

    // A dev server keeps nothing: write the secret again after the restart.
    let _bao = OwnServer::start(&binary, &OwnServer::bao_dev_args(port, &own.token), port);
    let mut recovered = None;
    for _ in 0..50 {
        let _ = reqwest::Client::new()
            .post(format!("{}/v1/secret/data/{path}", own.address))
            .header("X-Vault-Token", &own.token)
            .json(&json!({ "data": { "value": fake_key("r2") } }))
            .send()
            .await;
        if let Ok(Some(secret)) = vault.get(&path).await {
            recovered = Some(secret);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(recovered.unwrap().expose_secret(), fake_key("r2"));
}

/// A fake HTTP server on 127.0.0.1 that answers every request with `status` and counts them.
fn fake_server(status: u16) -> (String, Arc<AtomicUsize>) {
    fake_server_with(move |_| (status, r#"{"errors":["fake failure"]}"#.to_owned()))
}

/// A fake HTTP server on 127.0.0.1 that answers with `answer(path)` and counts the requests.
fn fake_server_with(
    answer: impl Fn(&str) -> (u16, String) + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    fake_server_with_headers("", answer)
}

/// As [`fake_server_with`], adding `headers` (each ending in `\r\n`) to every answer.
fn fake_server_with_headers(
    headers: &'static str,
    answer: impl Fn(&str) -> (u16, String) + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let (counted, answer) = (Arc::clone(&counted), Arc::clone(&answer));
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                // Read the rest of the head; these requests carry no body worth reading.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    line.clear();
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let path = request_line.split(' ').nth(1).unwrap_or_default();
                let (status, body) = answer(path);
                // Slow enough that concurrent callers overlap.
                std::thread::sleep(Duration::from_millis(20));
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} Fake\r\nContent-Type: application/json\r\n{headers}\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    (address, count)
}

async fn concurrent_reads_share_one_token_lookup() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&lookups);
    let (address, requests) = fake_server_with(move |path| {
        if path.ends_with("/auth/token/lookup-self") {
            counted.fetch_add(1, Ordering::SeqCst);
            (200, r#"{"data":{"ttl":0,"renewable":false}}"#.to_owned())
        } else {
            let body = json!({ "data": {
                "data": { "value": "tok-fake-value-0000" },
                "metadata": { "version": 4, "created_time": "2026-01-02T03:04:05.5Z" }
            }});
            (200, body.to_string())
        }
    });
    let vault = Arc::new(
        VaultProvider::builder(&address)
            .with_token("tok-concurrent-0000")
            .build()
            .unwrap(),
    );
    let reads: Vec<_> = (0..16)
        .map(|_| {
            let vault = Arc::clone(&vault);
            tokio::spawn(async move { vault.require("app").await })
        })
        .collect();
    for read in reads {
        let secret = read.await.unwrap().unwrap();
        assert_eq!(secret.meta().version.as_deref(), Some("4"));
        assert_eq!(
            secret.meta().created_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-01-02T03:04:05.500+00:00")
        );
    }
    assert_eq!(lookups.load(Ordering::SeqCst), 1);
    assert_eq!(requests.load(Ordering::SeqCst), 17);
}

async fn server_errors_are_retried_and_refusals_are_not() {
    let policy = RemotePolicy::default()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(1));
    // A denied token lookup is not fatal (the token may lack the permission): the read that
    // follows is denied too, and its error returned.
    for (status, requests, failed) in [
        (503, 4, "auth/token/lookup-self"),
        (429, 4, "auth/token/lookup-self"),
        (500, 4, "auth/token/lookup-self"),
        (400, 1, "auth/token/lookup-self"),
        (403, 2, "secret/data/app"),
        (401, 2, "secret/data/app"),
    ] {
        let (address, count) = fake_server(status);
        let token = format!("tok-{}", "Fake9".repeat(4));
        let vault = VaultProvider::builder(&address)
            .with_token(token.as_str())
            .with_policy(policy.clone())
            .build()
            .unwrap();
        let err = vault.get("app#key").await.unwrap_err();
        let refused = matches!(status, 401 | 403);
        let kind = if refused {
            ErrorKind::PermissionDenied
        } else {
            ErrorKind::Backend
        };
        assert_eq!(err.kind(), kind, "status {status}");
        // Retried means worth trying again later.
        assert_eq!(err.is_temporary(), requests > 2, "status {status}");
        assert_eq!(count.load(Ordering::SeqCst), requests, "status {status}");
        let message = err.to_string();
        assert!(message.contains(&status.to_string()), "{message}");
        assert!(message.contains("fake failure"), "{message}");
        assert!(message.contains(failed), "{message}");
        assert!(!format!("{message} {err:?}").contains(&token));
    }
}

async fn retry_after_is_honoured_and_bounded() {
    let throttled = |_: &str| (429, r#"{"errors":["slow down"]}"#.to_owned());
    let token = "tok-retry-after-0000";
    // A pause within the policy's bound is waited out, then the call is retried.
    let (address, count) = fake_server_with_headers("Retry-After: 1\r\n", throttled);
    let vault = VaultProvider::builder(&address)
        .with_token(token)
        .with_policy(RemotePolicy::default().with_max_attempts(2))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = vault.get("app").await.unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited {:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("429"), "{err}");
    // A pause longer than the bound fails at once, saying what the server asked for.
    let (address, count) = fake_server_with_headers("Retry-After: 120\r\n", throttled);
    let vault = VaultProvider::builder(&address)
        .with_token(token)
        .build()
        .unwrap();
    let err = vault.get("app").await.unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert!(err.to_string().contains("retry after 120 s"), "{err}");
}

async fn a_silent_server_times_out() {
    // Accepts connections (through the backlog) and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let vault = VaultProvider::builder(&address)
        .with_token("tok-silent-0000")
        .with_policy(
            RemotePolicy::default()
                .with_timeout(Duration::from_millis(300))
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let err = vault.get("app").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.is_temporary());
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(
        err.to_string().contains("gave up after 2 attempts"),
        "{err}"
    );
    drop(listener);
}

async fn malformed_keys_are_refused_before_any_request() {
    let (address, count) = fake_server(500);
    let vault = VaultProvider::builder(&address)
        .with_token("tok-unused-0000")
        .build()
        .unwrap();
    for key in ["", "a//b", "a/../b", "/a", "a/", "a#", "a\nb", "a#x\u{7}"] {
        let err = vault.get(key).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidName, "{key:?}");
    }
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[test]
fn configuration_errors_are_clear() {
    let err = VaultProvider::builder("http://127.0.0.1:8200")
        .with_token("tok-with\nnewline")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(!err.to_string().contains("newline"), "{err}");
    for address in ["", "vault:8200", "ftp://vault", "http://user:pw@vault:8200"] {
        let err = VaultProvider::builder(address)
            .with_token("tok")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{address}");
        assert!(!err.to_string().contains("pw@"), "{err}");
    }
    let err = VaultProvider::builder("http://127.0.0.1:8200")
        .with_token("tok")
        .with_mount("../sys")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    // A query or a fragment would go with every request and into every error: refused, and
    // not shown, not even by the builder's Debug.
    let credential = "fake-query-credential-123";
    for address in [
        format!("http://127.0.0.1:8200/?api-key={credential}"),
        format!("https://vault.example:8200/#{credential}"),
    ] {
        let builder = VaultProvider::builder(address.as_str()).with_token("tok");
        assert!(!format!("{builder:?}").contains(credential));
        let err = builder.build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{address}");
        assert!(!err.to_string().contains(credential), "{err}");
    }

    // The token goes over plain http only to this machine, unless asked for.
    let private = "http://vault.internal:8200";
    let err = VaultProvider::builder(private)
        .with_token("tok")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("with_plain_http(true)"), "{err}");
    for address in [private, "http://127.0.0.1:8200", "http://localhost:8200"] {
        let vault = VaultProvider::builder(address)
            .with_token("tok")
            .with_plain_http(address == private)
            .build();
        assert!(vault.is_ok(), "{address}");
    }
}

/// What the Vault command-line tools read, removed from every child's environment first.
const VAULT_VARIABLES: &[&str] = &["VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE"];

/// `VaultProvider::from_env` and `builder_from_env` read the variables the Vault CLI reads, in
/// a child process (the environment is the process's): the address, the token and the
/// namespace reach the server; a missing one is a clear error that names the variable.
#[test]
fn the_environment_names_the_server_token_and_namespace() {
    let credentials = credentials();
    let server = Fake::start(|request| good_answer(&request.path));
    let with_namespace = [
        ("VAULT_ADDR", server.address.as_str()),
        ("VAULT_TOKEN", credentials.token.as_str()),
        ("VAULT_NAMESPACE", "team-a"),
    ];
    crate::common::child::run_child(
        "vault::child_reads_with_the_environment",
        &with_namespace,
        VAULT_VARIABLES,
    );
    let requests = server.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(
            request.header("x-vault-token").as_deref(),
            Some(credentials.token.as_str())
        );
        assert_eq!(
            request.header("x-vault-namespace").as_deref(),
            Some("team-a")
        );
    }
    assert!(requests.iter().any(|r| r.path == "/v1/secret/data/app"));

    let without_namespace = &with_namespace[..2];
    crate::common::child::run_child(
        "vault::child_reads_with_the_environment",
        without_namespace,
        VAULT_VARIABLES,
    );
    let requests = server.requests();
    assert!(requests.len() > 2);
    assert!(
        requests[2..]
            .iter()
            .all(|r| r.header("x-vault-namespace").is_none())
    );

    // The errors: a remote server over plain http, no token, no address.
    let remote = [
        ("VAULT_ADDR", "http://vault.example.com:8200"),
        ("VAULT_TOKEN", credentials.token.as_str()),
    ];
    for env in [&remote[..], &with_namespace[..1], &with_namespace[1..]] {
        crate::common::child::run_child("vault::child_environment_errors", env, VAULT_VARIABLES);
    }
    assert_eq!(
        server.requests().len(),
        requests.len(),
        "nothing more was sent"
    );
}

#[test]
#[ignore = "run in a child process by the_environment_names_the_server_token_and_namespace"]
fn child_reads_with_the_environment() {
    if !crate::common::child::is_child() {
        return;
    }
    let vault = VaultProvider::from_env().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let value = runtime.block_on(vault.require("app")).unwrap();
    assert_eq!(value.expose_secret(), "fake-value-0000");
}

#[test]
#[ignore = "run in a child process by the_environment_names_the_server_token_and_namespace"]
fn child_environment_errors() {
    if !crate::common::child::is_child() {
        return;
    }
    let err = VaultProvider::from_env().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let message = format!("{err} {err:?}");
    if let Ok(token) = std::env::var("VAULT_TOKEN") {
        assert!(!message.contains(&token), "{message}");
    }
    match (std::env::var("VAULT_ADDR"), std::env::var("VAULT_TOKEN")) {
        (Err(_), _) => {
            assert!(message.contains("VAULT_ADDR is not set"), "{message}");
            assert!(VaultProvider::builder_from_env().is_err());
        }
        (Ok(_), Err(_)) => assert!(message.contains("set VAULT_TOKEN"), "{message}"),
        (Ok(_), Ok(_)) => {
            // A remote server over plain http: refused, unless the network is private.
            assert!(message.contains("plain http"), "{message}");
            VaultProvider::builder_from_env()
                .unwrap()
                .with_plain_http(true)
                .build()
                .unwrap();
        }
    }
}

#[test]
fn debug_shows_the_configuration_not_the_token() {
    let token = format!("hvs.{}", "T0ken".repeat(5));
    let vault = VaultProvider::builder("http://127.0.0.1:8200/")
        .with_token(token.as_str())
        .with_prefix("/agents/prod/")
        .build()
        .unwrap();
    let debug = format!("{vault:?}");
    assert!(!debug.contains(&token), "{debug}");
    assert!(
        debug.contains("agents/prod") && debug.contains("\"token\""),
        "{debug}"
    );
    assert_eq!(vault.mount(), "secret");
    assert_eq!(vault.policy().timeout(), Duration::from_secs(5));
}

#[test]
fn providers_and_their_futures_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync::<VaultProvider>();
    let vault = VaultProvider::builder("http://127.0.0.1:8200")
        .with_token("tok")
        .build()
        .unwrap();
    assert_send(&vault.get("app"));
    let _: Box<dyn AsyncSecretProvider> = Box::new(vault);
}

async fn an_oversized_answer_is_refused() {
    // Larger than any answer Vault gives for a secret: a broken or hostile server must not make
    // the client buffer without bound.
    let padding = "x".repeat(2 << 20);
    for status in [200, 403] {
        let padding = padding.clone();
        let (address, _) = fake_server_with(move |path| {
            if path.ends_with("/auth/token/lookup-self") {
                (200, r#"{"data":{"ttl":0,"renewable":false}}"#.to_owned())
            } else {
                let body = json!({
                    "data": { "data": { "value": "tok-fake-value-0000" } },
                    "errors": [&padding],
                });
                (status, body.to_string())
            }
        });
        let vault = VaultProvider::builder(&address)
            .with_token("tok-oversized-0000")
            .build()
            .unwrap();
        let err = vault.get("app").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Backend, "status {status}: {err}");
        assert!(!err.is_temporary(), "status {status}: {err}");
        if status == 200 {
            assert!(err.to_string().contains("more than 1 MiB"), "{err}");
        } else {
            // The refusal is reported, without the oversized detail.
            assert!(err.to_string().contains("403"), "{err}");
            assert!(!err.to_string().contains("xxxx"), "{err}");
        }
    }
}

async fn a_token_lifetime_too_long_to_represent_is_read_as_no_expiry() {
    // `Instant + Duration` panics on overflow: a server's number must not crash the client.
    let (address, requests) = fake_server_with(|path| {
        if path.ends_with("/auth/token/lookup-self") {
            (
                200,
                format!(r#"{{"data":{{"ttl":{},"renewable":true}}}}"#, u64::MAX),
            )
        } else {
            let body = json!({ "data": { "data": { "value": "tok-fake-value-0000" } } });
            (200, body.to_string())
        }
    });
    let vault = VaultProvider::builder(&address)
        .with_token("tok-forever-0000")
        .build()
        .unwrap();
    for _ in 0..2 {
        let secret = vault.require("app").await.unwrap();
        assert_eq!(secret.expose_secret(), "tok-fake-value-0000");
    }
    assert_eq!(requests.load(Ordering::SeqCst), 3, "one lookup, two reads");
}

fn fast() -> RemotePolicy {
    RemotePolicy::default()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(4))
}

/// The credentials of the tests against misbehaving servers, made in code.
struct Credentials {
    token: String,
    role_id: String,
    secret_id: String,
}

fn credentials() -> Credentials {
    Credentials {
        token: format!("hvs.{}", "FaKe7Tok".repeat(4)),
        role_id: format!("role-{}", "Rq4".repeat(8)),
        secret_id: format!("sid-{}", "Sx9k".repeat(8)),
    }
}

impl Credentials {
    fn provider(&self, address: &str, approle: bool) -> VaultProvider {
        let builder = VaultProvider::builder(address).with_policy(fast());
        let builder = if approle {
            builder.with_approle(self.role_id.as_str(), self.secret_id.as_str())
        } else {
            builder.with_token(self.token.as_str())
        };
        builder.build().unwrap()
    }

    fn all(&self) -> [&str; 3] {
        [&self.token, &self.role_id, &self.secret_id]
    }
}

/// What a well-behaved server answers to `path`.
fn good_answer(path: &str) -> Reply {
    if path.ends_with("/auth/token/lookup-self") {
        Reply::json(200, &json!({ "data": { "ttl": 0, "renewable": false } }))
    } else if path.ends_with("/login") {
        let session_token = format!("hvs.session-{}", "FaKe0".repeat(2));
        let auth = json!({ "client_token": session_token, "lease_duration": 0 });
        Reply::json(200, &json!({ "auth": auth }))
    } else {
        let data = json!({ "data": { "value": "fake-value-0000" }, "metadata": { "version": 1 } });
        Reply::json(200, &json!({ "data": data }))
    }
}

async fn redirects_are_refused_and_nothing_reaches_the_other_server() {
    let credentials = credentials();
    for status in [301, 302, 303, 307, 308] {
        // With a token, the token lookup is redirected; with AppRole, the login and its body.
        for approle in [false, true] {
            let target = Fake::start(|request| good_answer(&request.path));
            let location = redirect_target(&target);
            let origin = Fake::start(move |_| Reply::redirect(status, &location));
            let vault = credentials.provider(&origin.address, approle);
            let err = vault.get("app").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Backend);
            assert_redirect_refused(&err, &origin, &target, status);
            assert_eq!(origin.count(), 1, "a redirect is not retried: {err}");
            assert_clean(&err, &credentials.all());
        }
    }
    // Within the same origin too: a standby's redirect is refused, not followed.
    let origin = Fake::start(|request| {
        if request.path.starts_with("/v1/") {
            Reply::redirect(307, "/active/v1/secret/data/app")
        } else {
            good_answer(&request.path)
        }
    });
    let err = credentials
        .provider(&origin.address, false)
        .get("app")
        .await
        .unwrap_err();
    assert_eq!(origin.count(), 1, "{err}");
    assert!(
        err.to_string().contains(&format!(
            "to `{}/active/v1/secret/data/app`",
            origin.address
        )),
        "{err}"
    );
}

async fn server_text_in_errors_is_redacted_escaped_and_cut() {
    let credentials = credentials();
    // A refusal (403, reported at once), an error retrying cannot fix (400), and one it could
    // (503, reported after the attempts run out): every path that quotes the server.
    for status in [403, 400, 503] {
        for approle in [false, true] {
            let echo = move |request: &crate::common::misbehaving::Request| {
                let errors = [request.echo(&["x-vault-token"])];
                Reply::json(status, &json!({ "errors": errors }))
            };
            let server = Fake::start(echo);
            let err = credentials
                .provider(&server.address, approle)
                .get("app")
                .await
                .unwrap_err();
            // The first request is the login (with AppRole) or the token lookup, whose denial
            // is not fatal: the read that follows is refused too.
            let refused = status == 403 || (approle && status == 400);
            let kind = if refused {
                ErrorKind::PermissionDenied
            } else {
                ErrorKind::Backend
            };
            assert_eq!(err.kind(), kind, "status {status}, approle {approle}");
            assert_eq!(err.is_temporary(), status == 503);
            // The server did echo a credential: the token header, or the login body.
            let sent = server.requests()[0].text();
            let echoed = if approle {
                &credentials.secret_id
            } else {
                &credentials.token
            };
            assert!(sent.contains(echoed.as_str()));
            assert_clean(&err, &credentials.all());
            let message = err.to_string();
            assert!(message.contains(&status.to_string()), "{message}");
            assert!(message.contains("you sent"), "{message}");
            assert!(
                message.contains("vault token]") || message.contains("secret_id]"),
                "{message}"
            );
            assert!(message.contains("\\n2026-01-01"), "{message}");
        }
    }
}

async fn an_answer_cut_mid_body_is_retried() {
    // Cut once, then whole: the read succeeds on the second attempt.
    let reads = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&reads);
    let server = Fake::start(move |request| {
        let answer = good_answer(&request.path);
        if request.path.ends_with("/secret/data/app") && counted.fetch_add(1, Ordering::SeqCst) == 0
        {
            answer.cut(20)
        } else {
            answer
        }
    });
    let vault = credentials().provider(&server.address, false);
    let secret = vault.require("app").await.unwrap();
    assert_eq!(secret.expose_secret(), "fake-value-0000");
    assert_eq!(reads.load(Ordering::SeqCst), 2);
    // Cut every time: the attempts run out, and the error says what happened.
    let server = Fake::start(|request| good_answer(&request.path).cut(20));
    let vault = credentials().provider(&server.address, false);
    let err = vault.get("app").await.unwrap_err();
    assert_eq!(server.count(), 3, "{err}");
    assert!(err.is_temporary(), "{err}");
    let message = err.to_string();
    assert!(message.contains("broke off mid-body"), "{message}");
    assert!(message.contains("gave up after 3 attempts"), "{message}");
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
}

async fn answers_that_cannot_be_read_say_why() {
    for (body, expected, has_source) in [
        (
            r#"{"data": {"data": {"value": "fake-"#,
            "JSON that ends too early",
            true,
        ),
        (r#"{"data" 5}"#, "malformed JSON", true),
        ("<html>maintenance</html>", "malformed JSON", true),
        (r#"{"data": 5}"#, "JSON of an unexpected shape", false),
        (r#""fake-value-0000""#, "JSON of an unexpected shape", false),
    ] {
        let server = Fake::start(move |request| {
            if request.path.ends_with("/secret/data/app") {
                Reply::raw(200, "application/json", body)
            } else {
                good_answer(&request.path)
            }
        });
        let err = credentials()
            .provider(&server.address, false)
            .get("app")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Backend);
        // JSON that stops early may be an answer cut short on the way; the others are answers.
        assert_eq!(
            err.is_temporary(),
            expected.ends_with("too early"),
            "{body}"
        );
        let message = err.to_string();
        assert!(message.contains(expected), "{body}: {message}");
        assert!(message.contains("secret/data/app"), "{message}");
        assert_eq!(
            std::error::Error::source(&err).is_some(),
            has_source,
            "{err:?}"
        );
        assert!(!format!("{err:?}").contains("fake-value"), "{err:?}");
    }
}

async fn an_endless_answer_is_cut_at_one_mebibyte() {
    for status in [200, 403, 503] {
        let server = Fake::start(move |request| {
            if request.path.ends_with("/secret/data/app") {
                Reply::Endless { status }
            } else {
                good_answer(&request.path)
            }
        });
        let err = credentials()
            .provider(&server.address, false)
            .get("app")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("more than 1 MiB"), "{err}");
        assert!(!err.is_temporary(), "{err}");
        assert!(err.to_string().contains(&status.to_string()), "{err}");
        // Counted, not timed: what the client took before it hung up, plus socket buffers.
        assert!(server.written() < 32 << 20, "{} bytes", server.written());
    }
}

async fn a_refused_approle_login_is_permission_denied() {
    let credentials = credentials();
    // Vault answers wrong AppRole credentials with 400 `invalid role or secret ID`.
    for status in [400, 401, 403] {
        let server = Fake::start(move |request| {
            if request.path.ends_with("/login") {
                Reply::json(status, &json!({ "errors": ["invalid role or secret ID"] }))
            } else {
                good_answer(&request.path)
            }
        });
        let err = credentials
            .provider(&server.address, true)
            .get("app")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{status}: {err}");
        assert!(!err.is_temporary());
        assert_eq!(server.count(), 1, "a refusal is not retried: {err}");
        let message = err.to_string();
        assert!(message.contains("check the token or AppRole"), "{message}");
        assert_clean(&err, &credentials.all());
    }
}

/// A server whose answers to reads of secrets the test switches: good, refused, down.
fn switchable_server() -> (Fake, Arc<AtomicU64>) {
    let status = Arc::new(AtomicU64::new(200));
    let current = Arc::clone(&status);
    let server = Fake::start(move |request| {
        let status = current.load(Ordering::SeqCst);
        if status == 200 || !request.path.ends_with("/secret/data/app") {
            good_answer(&request.path)
        } else {
            let status = u16::try_from(status).unwrap();
            Reply::json(status, &json!({ "errors": ["permission denied"] }))
        }
    });
    (server, status)
}

/// A revoked token: from the first 403, the manager no longer serves the key, not even as a
/// stale value when the server then goes down; a server that only goes down gets the stale
/// value served, so the outage alone would be covered.
async fn a_refused_token_stops_the_manager_serving_the_key() {
    let start = Utc::now();
    for refused_first in [true, false] {
        let (server, status) = switchable_server();
        let clock = Arc::new(ManualClock::new(start));
        let manager = KeyManager::builder_async(credentials().provider(&server.address, false))
            .with_clock(clock.clone())
            .with_ttl(Duration::from_secs(5 * 60))
            .with_max_stale(Duration::from_secs(3600))
            .with_created_at_companion(false)
            .build()
            .unwrap();
        let good = manager.get_async("app").await.unwrap();
        assert_eq!(good.expose_secret(), "fake-value-0000");

        clock.advance(TimeDelta::minutes(6));
        if refused_first {
            status.store(403, Ordering::SeqCst);
            let err = manager.get_async("app").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
            assert!(manager.is_empty());
        }
        status.store(503, Ordering::SeqCst);
        let read = manager.get_async("app").await;
        if refused_first {
            let err = read.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Backend, "{err}");
            assert!(err.is_temporary());
        } else {
            assert!(
                Arc::ptr_eq(&read.unwrap(), &good),
                "the outage alone is covered"
            );
        }
    }
}
