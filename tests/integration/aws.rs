//! `AwsSecretsManagerProvider` against moto, a local server that speaks the Secrets Manager wire
//! protocol (started by `scripts/test-all`), through the official SDK with its endpoint
//! overridden.
//!
//! The tests read `KEYWARD_TEST_AWS_ENDPOINT` and the access key that `scripts/test-all` creates
//! in moto (`KEYWARD_TEST_AWS_ACCESS_KEY_ID`, `KEYWARD_TEST_AWS_SECRET_ACCESS_KEY`), and are
//! skipped, with a printed reason, when they are unset. Every test runs on tokio's multi-thread
//! and current-thread runtimes.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::misbehaving::{
    Fake, Reply, Request, assert_clean, assert_redirect_refused, redirect_target,
};
use crate::common::servers::{OwnServer, free_port, shared_moto, skip};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_secretsmanager::primitives::Blob;
use chrono::{TimeDelta, Utc};
use keyward::clock::ManualClock;
use keyward::provider::RemotePolicy;
use keyward::provider::aws::AwsSecretsManagerProvider;
use keyward::{AsyncSecretProvider, AsyncSecretProviderExt, ErrorKind, KeyManager};
use serde_json::json;

on_both_runtimes!(
    reads_a_whole_secret_and_a_json_field_with_metadata,
    a_new_version_is_seen_with_its_creation_time,
    missing_secrets_and_fields_are_none,
    bad_credentials_are_permission_denied_without_the_credentials,
    values_that_are_not_what_the_key_asks_for_are_invalid_format,
    binary_secrets_are_read_as_text,
    last_rotated_comes_from_describe_secret,
    an_unreachable_endpoint_is_an_error_after_retries,
    a_stopped_server_is_an_error_and_a_restarted_one_recovers,
    redirects_are_not_followed_by_the_sdk_and_nothing_reaches_the_other_server,
    service_text_in_errors_is_redacted_escaped_and_cut,
    answers_are_capped_at_one_mebibyte,
    answers_that_cannot_be_read_say_why,
    an_answer_cut_mid_body_is_retried,
    error_codes_say_refused_temporary_or_neither,
    a_refused_credential_stops_the_manager_serving_the_key,
);

struct Moto {
    endpoint: String,
    key_id: String,
    secret_key: String,
}

fn moto() -> Option<Moto> {
    let (endpoint, key_id, secret_key) = shared_moto()?;
    Some(Moto {
        endpoint,
        key_id,
        secret_key,
    })
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

async fn provider(moto: &Moto) -> AwsSecretsManagerProvider {
    AwsSecretsManagerProvider::builder()
        .with_sdk_config(sdk_config(&moto.key_id, &moto.secret_key))
        .with_endpoint_url(&moto.endpoint)
        .build()
        .await
}

/// The SDK client an operator would use to write secrets.
fn admin(moto: &Moto) -> Client {
    let config =
        aws_sdk_secretsmanager::config::Builder::from(&sdk_config(&moto.key_id, &moto.secret_key))
            .endpoint_url(&moto.endpoint)
            .build();
    Client::from_conf(config)
}

/// A secret name no other test (or runtime flavour) uses.
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

async fn reads_a_whole_secret_and_a_json_field_with_metadata() {
    let Some(moto) = moto() else { return };
    let name = unique("read");
    let (openai, anthropic) = (fake_key("oa"), format!("sk-ant-{}", "Zx9".repeat(12)));
    let body = json!({ "OPENAI_API_KEY": openai, "ANTHROPIC_API_KEY": anthropic }).to_string();
    let created = admin(&moto)
        .create_secret()
        .name(&name)
        .secret_string(&body)
        .send()
        .await
        .unwrap();

    let aws = provider(&moto).await;
    let secret = aws
        .require(&format!("{name}#OPENAI_API_KEY"))
        .await
        .unwrap();
    assert_eq!(secret.expose_secret(), openai);
    assert_eq!(secret.meta().source, "aws-secrets-manager");
    assert_eq!(secret.meta().version.as_deref(), created.version_id());
    let age = Utc::now() - secret.meta().created_at.unwrap();
    assert!(age.num_seconds().abs() < 60, "created {age} ago");

    let whole = aws.require(&name).await.unwrap();
    assert_eq!(whole.expose_secret(), body);

    // The ARN addresses the same secret.
    let arn = created.arn().unwrap();
    let by_arn = aws
        .require(&format!("{arn}#ANTHROPIC_API_KEY"))
        .await
        .unwrap();
    assert_eq!(by_arn.expose_secret(), anthropic);
}

async fn a_new_version_is_seen_with_its_creation_time() {
    let Some(moto) = moto() else { return };
    let name = unique("bump");
    let admin = admin(&moto);
    admin
        .create_secret()
        .name(&name)
        .secret_string(fake_key("v1"))
        .send()
        .await
        .unwrap();
    let aws = provider(&moto).await;
    let before = aws.require(&name).await.unwrap();

    // moto keeps whole seconds: wait for the next one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let put = admin
        .put_secret_value()
        .secret_id(&name)
        .secret_string(fake_key("v2"))
        .send()
        .await
        .unwrap();
    let after = aws.require(&name).await.unwrap();

    assert_eq!(after.expose_secret(), fake_key("v2"));
    assert_eq!(after.meta().version.as_deref(), put.version_id());
    assert_ne!(after.meta().version, before.meta().version);
    assert!(after.meta().created_at > before.meta().created_at);
}

async fn missing_secrets_and_fields_are_none() {
    let Some(moto) = moto() else { return };
    let name = unique("missing");
    admin(&moto)
        .create_secret()
        .name(&name)
        .secret_string(json!({ "A": "b" }).to_string())
        .send()
        .await
        .unwrap();
    let aws = provider(&moto).await;
    assert!(aws.get(&format!("{name}-absent")).await.unwrap().is_none());
    assert!(aws.get(&format!("{name}#ABSENT")).await.unwrap().is_none());
    let err = aws.require(&format!("{name}-absent")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

async fn bad_credentials_are_permission_denied_without_the_credentials() {
    let Some(moto) = moto() else { return };
    let name = unique("denied");
    admin(&moto)
        .create_secret()
        .name(&name)
        .secret_string(fake_key("d"))
        .send()
        .await
        .unwrap();

    let wrong_secret = format!("{}Wr0ng", "x".repeat(35));
    for (key_id, secret_key) in [
        (moto.key_id.as_str(), wrong_secret.as_str()),
        ("AKIAKEYWARDUNKNOWN00", wrong_secret.as_str()),
    ] {
        let aws = AwsSecretsManagerProvider::builder()
            .with_sdk_config(sdk_config(key_id, secret_key))
            .with_endpoint_url(&moto.endpoint)
            .build()
            .await;
        let started = Instant::now();
        let err = aws.get(&name).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert!(!err.is_temporary());
        let shown = format!("{err} {err:?} {aws:?}");
        assert!(
            !shown.contains(secret_key),
            "the secret key leaked: {shown}"
        );
        let message = err.to_string();
        assert!(message.contains(&name), "{message}");
        assert!(message.contains(&moto.endpoint), "{message}");
        assert!(message.contains("check the AWS credentials"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(3), "not retried");
    }

    // No credentials at all: the SDK fails before sending, and the message says what to fix.
    let anonymous = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build();
    let aws = AwsSecretsManagerProvider::builder()
        .with_sdk_config(anonymous)
        .with_endpoint_url(&moto.endpoint)
        .build()
        .await;
    let err = aws.get(&name).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.to_string().contains("credentials"), "{err}");
}

async fn values_that_are_not_what_the_key_asks_for_are_invalid_format() {
    let Some(moto) = moto() else { return };
    let (plain, numbers) = (unique("plain"), unique("numbers"));
    let admin = admin(&moto);
    let plain_value = fake_key("pl");
    admin
        .create_secret()
        .name(&plain)
        .secret_string(&plain_value)
        .send()
        .await
        .unwrap();
    admin
        .create_secret()
        .name(&numbers)
        .secret_string(json!({ "PORT": 5432 }).to_string())
        .send()
        .await
        .unwrap();
    let aws = provider(&moto).await;

    let err = aws.get(&format!("{plain}#FIELD")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidFormat);
    assert!(!format!("{err} {err:?}").contains(&plain_value), "{err:?}");
    let err = aws.get(&format!("{numbers}#PORT")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidFormat);
    assert!(!err.to_string().contains("5432"), "{err}");
}

async fn binary_secrets_are_read_as_text() {
    let Some(moto) = moto() else { return };
    let (text, bytes) = (unique("bin-text"), unique("bin-bytes"));
    let admin = admin(&moto);
    admin
        .create_secret()
        .name(&text)
        .secret_binary(Blob::new(fake_key("bn").into_bytes()))
        .send()
        .await
        .unwrap();
    admin
        .create_secret()
        .name(&bytes)
        .secret_binary(Blob::new(vec![0xff, 0xfe, 0x00]))
        .send()
        .await
        .unwrap();
    let aws = provider(&moto).await;
    assert_eq!(
        aws.require(&text).await.unwrap().expose_secret(),
        fake_key("bn")
    );
    let err = aws.get(&bytes).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidFormat);
}

async fn last_rotated_comes_from_describe_secret() {
    let Some(moto) = moto() else { return };
    let name = unique("rotated");
    admin(&moto)
        .create_secret()
        .name(&name)
        .secret_string(fake_key("rt"))
        .send()
        .await
        .unwrap();
    let aws = provider(&moto).await;
    // moto reports a LastRotatedDate only for secrets it rotated; either answer must parse.
    let rotated = aws.last_rotated(&format!("{name}#IGNORED")).await.unwrap();
    if let Some(rotated) = rotated {
        assert!((Utc::now() - rotated).num_seconds().abs() < 60);
    }
    let err = aws
        .last_rotated(&format!("{name}-absent"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

async fn an_unreachable_endpoint_is_an_error_after_retries() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let secret_key = format!("{}Unreach", "y".repeat(33));
    let aws = AwsSecretsManagerProvider::builder()
        .with_sdk_config(sdk_config("AKIAKEYWARDTEST00000", &secret_key))
        .with_endpoint_url(&endpoint)
        .with_policy(
            RemotePolicy::default()
                .with_timeout(Duration::from_millis(500))
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build()
        .await;
    let started = Instant::now();
    let err = aws.get("prod/api-keys#OPENAI_API_KEY").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.is_temporary());
    let message = err.to_string();
    assert!(message.contains("could not be reached"), "{message}");
    assert!(
        message.contains("could not read secret `prod/api-keys`"),
        "{message}"
    );
    assert!(message.contains(&endpoint), "{message}");
    assert!(!format!("{err:?}").contains(&secret_key));
}

#[tokio::test]
async fn malformed_keys_are_refused() {
    let aws = AwsSecretsManagerProvider::builder()
        .with_sdk_config(sdk_config("AKIAKEYWARDTEST00000", "unused"))
        .with_endpoint_url("http://127.0.0.1:9")
        .build()
        .await;
    for key in ["", "#FIELD", "name#", "a\nb"] {
        let err = aws.get(key).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidName, "{key:?}");
    }
    let debug = format!("{aws:?}");
    assert!(
        debug.contains("us-east-1") && !debug.contains("unused"),
        "{debug}"
    );
}

#[test]
fn providers_and_their_futures_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AwsSecretsManagerProvider>();
    fn future_is_send(provider: &AwsSecretsManagerProvider) -> impl Send + '_ {
        provider.get("prod/api-keys")
    }
    let _ = future_is_send;
}

async fn a_stopped_server_is_an_error_and_a_restarted_one_recovers() {
    let Ok(binary) = std::env::var("KEYWARD_TEST_MOTO_BIN") else {
        skip("skipped: KEYWARD_TEST_MOTO_BIN is not set; scripts/test-all sets it");
        return;
    };
    let port = free_port();
    let own = Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        key_id: "AKIAKEYWARDOWNMOTO00".to_owned(),
        secret_key: format!("{}OwnMoto", "z".repeat(32)),
    };
    let name = unique("restart");
    let moto = OwnServer::start(&binary, &OwnServer::moto_args(port), port);
    admin(&own)
        .create_secret()
        .name(&name)
        .secret_string(fake_key("r1"))
        .send()
        .await
        .unwrap();
    let aws = AwsSecretsManagerProvider::builder()
        .with_sdk_config(sdk_config(&own.key_id, &own.secret_key))
        .with_endpoint_url(&own.endpoint)
        .with_policy(
            RemotePolicy::default()
                .with_timeout(Duration::from_secs(1))
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .build()
        .await;
    assert_eq!(
        aws.require(&name).await.unwrap().expose_secret(),
        fake_key("r1")
    );

    drop(moto);
    let err = aws.get(&name).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);
    assert!(err.to_string().contains("could not be reached"), "{err}");
    assert!(!format!("{err:?}").contains(&own.secret_key));

    // moto keeps nothing across a restart: store the secret again.
    let _moto = OwnServer::start(&binary, &OwnServer::moto_args(port), port);
    admin(&own)
        .create_secret()
        .name(&name)
        .secret_string(fake_key("r2"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        aws.require(&name).await.unwrap().expose_secret(),
        fake_key("r2")
    );
}

/// A server that answers every request with `200` and `body`, counting nothing: just enough for
/// the SDK to receive an answer it cannot parse.
fn answer_everything_with(body: String) -> String {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            // Read the head, then as many body bytes as Content-Length says.
            while let Ok(read) = stream.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|line| line.strip_prefix("content-length:"))
                        .and_then(|n| n.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= head_end + 4 + length {
                        break;
                    }
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    endpoint
}

#[tokio::test]
async fn an_answer_the_sdk_cannot_parse_does_not_leak_the_secret_it_carries() {
    let value = fake_key("unparsed");
    // A well-formed secret, but a creation date of the wrong type: the SDK's deserializer fails
    // and keeps the raw answer, body included, in its error.
    let body = json!({
        "ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:x",
        "Name": "x",
        "SecretString": value,
        "CreatedDate": "not a timestamp",
    })
    .to_string();
    let endpoint = answer_everything_with(body);
    let aws = AwsSecretsManagerProvider::builder()
        .with_sdk_config(sdk_config("AKIAKEYWARDTESTING00", "fake-secret-access-key"))
        .with_endpoint_url(&endpoint)
        .build()
        .await;
    let err = aws.get("x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backend);
    let mut shown = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        shown.push_str(&format!(" {cause} {cause:?}"));
        source = cause.source();
    }
    assert!(!shown.contains(&value), "the secret leaked: {shown}");
}

/// The credentials of the tests against misbehaving servers, made in code: temporary ones, so
/// that every request carries a session token.
struct Local {
    key_id: String,
    secret_key: String,
    session_token: String,
}

fn local() -> Local {
    Local {
        key_id: format!("ASIA{}", "FAKE2345".repeat(2)),
        secret_key: format!("fake/secret+{}", "Key9".repeat(7)),
        session_token: format!("IQoJb3JpZ2luX2VjEFake{}", "Tok3n".repeat(24)),
    }
}

impl Local {
    async fn provider(&self, endpoint: &str) -> AwsSecretsManagerProvider {
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                &self.key_id,
                &self.secret_key,
                Some(self.session_token.clone()),
                None,
                "keyward-tests",
            )))
            .build();
        AwsSecretsManagerProvider::builder()
            .with_sdk_config(config)
            .with_endpoint_url(endpoint)
            .with_policy(
                RemotePolicy::default()
                    .with_initial_backoff(Duration::from_millis(1))
                    .with_max_backoff(Duration::from_millis(4)),
            )
            .build()
            .await
    }

    /// Every credential, and the signatures of `requests` (replayable for minutes).
    fn all(&self, requests: &[Request]) -> Vec<String> {
        let mut all = vec![
            self.key_id.clone(),
            self.secret_key.clone(),
            self.session_token.clone(),
        ];
        for request in requests {
            let authorization = request.header("authorization").unwrap();
            let signature = authorization.split("Signature=").nth(1).unwrap();
            all.push(signature.trim().to_owned());
        }
        all
    }
}

/// A `GetSecretValue` answer.
fn good_answer() -> Reply {
    Reply::aws(
        200,
        &json!({
            "ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:app-AbCdEf",
            "Name": "app",
            "VersionId": "v-1",
            "SecretString": "fake-value-0000",
            "VersionStages": ["AWSCURRENT"],
            "CreatedDate": 1_700_000_000,
        }),
    )
}

async fn redirects_are_not_followed_by_the_sdk_and_nothing_reaches_the_other_server() {
    let local = local();
    for status in [301, 302, 303, 307, 308] {
        let target = Fake::start(|_| good_answer());
        let location = redirect_target(&target);
        let origin = Fake::start(move |_| Reply::redirect(status, &location));
        let err = local
            .provider(&origin.address)
            .await
            .get("app")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Backend);
        assert!(!err.is_temporary());
        assert_redirect_refused(&err, &origin, &target, status);
        assert_eq!(origin.count(), 1, "a redirect is not retried: {err}");
        let all = local.all(&origin.requests());
        assert_clean(&err, &all.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

async fn service_text_in_errors_is_redacted_escaped_and_cut() {
    let local = local();
    // A refusal, and a server error (retried, then reported); the message, and the error code
    // itself, are the service's text. The echo starts with the session token, or the request's
    // signature, so that each would be among the characters shown.
    for (status, echoed) in [
        (400, "message"),
        (400, "__type"),
        (500, "message"),
        (403, "signature"),
    ] {
        let server = Fake::start(move |request| {
            let echo = request.echo(&["x-amz-security-token", "authorization"]);
            let error = match echoed {
                "__type" => {
                    // The SDK keeps what comes before a `:` of the code: no header names.
                    let token = request.header("x-amz-security-token").unwrap_or_default();
                    let code = format!("Denied.{token}\n\u{1b}[2K{}", "y".repeat(5_800));
                    json!({ "__type": code, "message": "denied" })
                }
                "signature" => {
                    let authorization = request.header("authorization").unwrap_or_default();
                    let signature = authorization.split("Signature=").nth(1).unwrap_or_default();
                    let message = format!("signature {signature} does not match\n{echo}");
                    json!({ "__type": "InvalidSignatureException", "message": message })
                }
                _ => json!({ "__type": "AccessDeniedException", "message": echo }),
            };
            Reply::aws(status, &error)
        });
        let err = local
            .provider(&server.address)
            .await
            .get("app")
            .await
            .unwrap_err();
        // Access denied and a bad signature are refusals, whatever the status, unless the
        // service itself failed (5xx); an unknown code with 400 is another answer.
        let kind = match (status, echoed) {
            (500, _) | (_, "__type") => ErrorKind::Backend,
            _ => ErrorKind::PermissionDenied,
        };
        assert_eq!(err.kind(), kind, "{status} {echoed}: {err}");
        assert_eq!(err.is_temporary(), status == 500, "{status} {echoed}");
        let requests = server.requests();
        assert!(requests[0].text().contains(&local.session_token));
        let all = local.all(&requests);
        assert_clean(&err, &all.iter().map(String::as_str).collect::<Vec<_>>());
        let message = err.to_string();
        let label = if echoed == "signature" {
            "aws request signature]"
        } else {
            "aws session token]"
        };
        assert!(message.contains(label), "{message}");
        assert!(message.contains(&format!("HTTP {status}")), "{message}");
    }
}

async fn answers_are_capped_at_one_mebibyte() {
    let local = local();
    // Announced: ten megabytes in one answer.
    let padding = "x".repeat(10 << 20);
    let server = Fake::start(move |_| {
        let body = json!({ "Name": "app", "SecretString": "fake-value-0000", "Pad": padding });
        Reply::aws(200, &body)
    });
    let err = local
        .provider(&server.address)
        .await
        .get("app")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("more than 1 MiB"), "{err}");
    assert!(!err.is_temporary());
    assert!(err.to_string().contains("HTTP 200"), "{err}");
    assert_eq!(server.count(), 1, "not retried: {err}");
    // Unannounced and endless (chunked): the client hangs up after 1 MiB, whatever the
    // status. Counted, not timed: what it took, plus socket buffers.
    for status in [200, 400, 500] {
        let server = Fake::start(move |_| Reply::Endless { status });
        let err = local
            .provider(&server.address)
            .await
            .get("app")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("more than 1 MiB"), "{err}");
        assert!(
            server.written() < 32 << 20,
            "{} bytes taken",
            server.written()
        );
    }
}

async fn answers_that_cannot_be_read_say_why() {
    let local = local();
    for (body, expected, source) in [
        (
            r#"{"Name": "app", "SecretString": "fake-"#,
            "JSON that ends too early",
            "EOF while parsing",
        ),
        (
            r#"{"Name" "app"}"#,
            "malformed JSON (line 1, column 9)",
            "expected `:`",
        ),
        (
            "<html>proxy error</html>",
            "malformed JSON",
            "expected value",
        ),
        (
            r#"{"Name": "app", "SecretString": 5}"#,
            "`SecretString` is a number where a string belongs",
            "`SecretString` is a number",
        ),
        (
            r#"{"SecretString": "fake-value-0000", "CreatedDate": "yesterday"}"#,
            "`CreatedDate` is a string where a number belongs",
            "`CreatedDate` is a string",
        ),
        (
            r#"["fake-value-0000"]"#,
            "the answer is an array where an object belongs",
            "an array",
        ),
    ] {
        let server = Fake::start(move |_| Reply::raw(200, "application/x-amz-json-1.1", body));
        let err = local
            .provider(&server.address)
            .await
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
        assert!(message.contains("HTTP 200"), "{message}");
        assert!(message.contains(expected), "{body}: {message}");
        assert!(!message.contains("unrecognised"), "{message}");
        let cause = std::error::Error::source(&err).expect("the cause is kept");
        assert!(cause.to_string().contains(source), "{body}: {cause}");
        assert!(!format!("{err:?}").contains("fake-value"), "{err:?}");
    }
}

async fn an_answer_cut_mid_body_is_retried() {
    let local = local();
    // Cut once, then whole: the read succeeds on the second attempt.
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let server = Fake::start(move |_| {
        if counted.fetch_add(1, Ordering::SeqCst) == 0 {
            good_answer().cut(30)
        } else {
            good_answer()
        }
    });
    let aws = local.provider(&server.address).await;
    assert_eq!(
        aws.require("app").await.unwrap().expose_secret(),
        "fake-value-0000"
    );
    assert_eq!(server.count(), 2);
    // Cut every time: the attempts run out, and the error says what happened.
    let server = Fake::start(|_| good_answer().cut(30));
    let err = local
        .provider(&server.address)
        .await
        .get("app")
        .await
        .unwrap_err();
    assert_eq!(server.count(), 3, "{err}");
    assert!(err.is_temporary());
    assert!(err.to_string().contains("broke off mid-body"), "{err}");
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
}

/// What each error answer of the service becomes: refused credentials are
/// `PermissionDenied` (Secrets Manager sends most with HTTP 400), throttling and 5xx are
/// temporary, other answers neither.
async fn error_codes_say_refused_temporary_or_neither() {
    let local = local();
    for (status, code, kind, temporary) in [
        (
            400,
            "AccessDeniedException",
            ErrorKind::PermissionDenied,
            false,
        ),
        (
            400,
            "UnrecognizedClientException",
            ErrorKind::PermissionDenied,
            false,
        ),
        (
            400,
            "ExpiredTokenException",
            ErrorKind::PermissionDenied,
            false,
        ),
        (
            400,
            "InvalidSignatureException",
            ErrorKind::PermissionDenied,
            false,
        ),
        (403, "SomethingNew", ErrorKind::PermissionDenied, false),
        (401, "SomethingNew", ErrorKind::PermissionDenied, false),
        (400, "ThrottlingException", ErrorKind::Backend, true),
        (429, "TooManyRequestsException", ErrorKind::Backend, true),
        (500, "InternalServiceError", ErrorKind::Backend, true),
        (503, "ServiceUnavailable", ErrorKind::Backend, true),
        (400, "DecryptionFailure", ErrorKind::Backend, false),
        (400, "InvalidRequestException", ErrorKind::Backend, false),
    ] {
        let server =
            Fake::start(move |_| Reply::aws(status, &json!({ "__type": code, "message": "fake" })));
        let err = local
            .provider(&server.address)
            .await
            .get("app")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{status} {code}: {err}");
        assert_eq!(err.is_temporary(), temporary, "{status} {code}: {err}");
        let hinted = err.to_string().contains("check the AWS credentials");
        assert_eq!(hinted, kind == ErrorKind::PermissionDenied, "{err}");
    }
}

/// A revoked credential: from the first refusal, the manager no longer serves the key, not even
/// as a stale value when the service then fails; a service that only fails gets the stale value
/// served, so the outage alone would be covered.
async fn a_refused_credential_stops_the_manager_serving_the_key() {
    let local = local();
    let start = Utc::now();
    for refused_first in [true, false] {
        let status = Arc::new(AtomicU64::new(200));
        let current = Arc::clone(&status);
        let server = Fake::start(move |_| match current.load(Ordering::SeqCst) {
            200 => good_answer(),
            403 => Reply::aws(
                400,
                &json!({ "__type": "AccessDeniedException", "message": "no" }),
            ),
            _ => Reply::aws(
                503,
                &json!({ "__type": "ServiceUnavailable", "message": "down" }),
            ),
        });
        let clock = Arc::new(ManualClock::new(start));
        let manager = KeyManager::builder_async(local.provider(&server.address).await)
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
