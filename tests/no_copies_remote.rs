//! Proves that a remote provider's read leaves no copy of its credential in freed heap memory on
//! the thread that makes the request: the header built from the token (`Authorization: Bearer
//! …`, `X-Vault-Token`) is wiped when the request is done with it, and so is the body of a
//! login or token request that carries a credential (Vault's AppRole secret id, Azure's client
//! secret, a Google refresh token). A global allocator looks into every block freed on the
//! test's own thread before it is freed; the local server that answers runs on another thread
//! and is not looked at. A secret that JSON writes with an escape (a PEM key's `\n`) is
//! unescaped by keyward, not in serde_json's scratch buffer: a Google credentials file's private
//! key leaves no copy, nor does a token handed back by a login or token endpoint (the server
//! here writes it with escapes, so hyper's buffer does not hold it as it is used; serde_json
//! would unescape it into its scratch buffer, and a field that fails to parse after it would
//! free it unwiped). Secret values in answers take the same path, but are not counted here:
//! the answer passes through hyper's read buffer, which is freed unwiped at times that vary
//! from run to run (one copy or two, escapes or not).
//!
//! What this does not cover: the HTTP stack's own buffers. hyper encodes the request head,
//! token included, into a per-connection write buffer that it reuses and frees unwiped when the
//! connection closes; the server here keeps connections open, so that buffer outlives the
//! watched read (with a server that closes each connection, it is the one block found). Nor
//! TLS: the server speaks plain HTTP on 127.0.0.1.
#![cfg(any(feature = "vault", feature = "azure", feature = "gcp"))]
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use keyward::{AsyncSecretProvider, SecretString};
use serde_json::{Value, json};

#[path = "common/sniffer.rs"]
mod sniffer;

#[global_allocator]
static ALLOCATOR: sniffer::Sniffer = sniffer::Sniffer;

/// What the server answers: JSON for a request's path and body.
type Answer = fn(&str, &str) -> Value;

/// Starts a server on 127.0.0.1 that answers every request with `answer(path, body)` as JSON
/// and keeps each connection open for the next request; returns its address. It runs until
/// the test process ends.
fn serve(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || keep_answering(stream, answer));
        }
    });
    address
}

fn keep_answering(stream: TcpStream, answer: Answer) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        // The head ends at a blank line; a body follows if it has a length.
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut request_body = vec![0; length];
        if reader.read_exact(&mut request_body).is_err() {
            return;
        }
        let path = request_line.split(' ').nth(1).unwrap_or("/").to_owned();
        let body = answer(&path, &String::from_utf8(request_body).unwrap()).to_string();
        // A token handed back is written with escapes, as some JSON encoders write `-`: the
        // client must unescape it, and serde_json would do that in a scratch buffer it frees
        // unwiped.
        let body = body.replace(CREDENTIAL_PREFIX, r"kw\u002dfake\u002dtoken\u002d");
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(body.as_bytes()).is_err()
        {
            return;
        }
    }
}

static SERIAL: Mutex<()> = Mutex::new(());

/// How every credential under test starts (see [`freed_copies`]).
const CREDENTIAL_PREFIX: &str = "kw-fake-token-";

/// The value of `field` in the request `body` (`field=value&...` or `"field":"value"`).
#[cfg(any(feature = "vault", feature = "azure", feature = "gcp"))]
fn sent(body: &str, field: &str) -> String {
    let (_, rest) = body
        .split_once(&format!("{field}="))
        .or_else(|| body.split_once(&format!("\"{field}\":\"")))
        .unwrap_or_else(|| panic!("no {field} sent"));
    rest.split(['&', '"']).next().unwrap().to_owned()
}

/// Builds a provider for a fresh fake token with `build` (not watched), then reads `key`
/// through it on a current-thread runtime with the sniffer armed, and returns how many freed
/// blocks still held the token. The provider and the runtime, with the connection they keep,
/// are dropped after the sniffer is disarmed: their buffers are the HTTP stack's.
fn freed_copies<P: AsyncSecretProvider>(
    answer: Answer,
    build: impl FnOnce(&str, SecretString) -> P,
    key: &str,
) -> usize {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let run = RUN.fetch_add(1, Ordering::SeqCst);
    let token = format!("{CREDENTIAL_PREFIX}{run:04}-{}", "Zq7x".repeat(6));
    sniffer::set_needle(token.as_bytes());
    let address = serve(answer);
    let provider = build(&address, SecretString::from(token));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    sniffer::arm_this_thread(true);
    let value = runtime.block_on(provider.get(key));
    sniffer::arm_this_thread(false);
    let found = value.unwrap().is_some();
    assert!(found, "the server's answer was not read");
    sniffer::clear_needle()
}

#[test]
fn the_sniffer_sees_a_token_header_freed() {
    // The allocator must see what the providers are tested for: a header value made of the
    // token, as the HTTP stack would make it, freed unwiped.
    let copies = freed_copies(|_, _| json!({}), |_, token| Copying(token), "K");
    assert!(copies >= 1, "{copies}");
}

/// A provider that makes the copy the real ones must not leave behind.
#[derive(Debug)]
struct Copying(SecretString);

impl AsyncSecretProvider for Copying {
    fn name(&self) -> &str {
        "copying"
    }

    fn get<'a>(
        &'a self,
        _key: &'a str,
    ) -> keyward::provider::BoxFuture<'a, keyward::Result<Option<keyward::Secret>>> {
        Box::pin(async move {
            let header = format!("Bearer {}", self.0.expose_secret());
            drop(header);
            Ok(Some(keyward::Secret::new(
                SecretString::from("v"),
                keyward::SecretMeta::new("copying"),
            )))
        })
    }
}

#[cfg(feature = "vault")]
#[test]
fn a_vault_read_leaves_no_copy_of_the_token() {
    let build = |address: &str, token| {
        keyward::provider::vault::VaultProvider::builder(address)
            .with_token(token)
            .build()
            .unwrap()
    };
    assert_eq!(freed_copies(vault_answer, build, "app"), 0);
}

/// What Vault answers to a token's lookup and to a read.
#[cfg(feature = "vault")]
fn vault_answer(path: &str, _: &str) -> Value {
    if path.ends_with("/auth/token/lookup-self") {
        json!({ "data": { "ttl": 0, "renewable": false } })
    } else {
        let data = json!({ "value": "fake-value-0000" });
        json!({ "data": { "data": data, "metadata": { "version": 1 } } })
    }
}

/// What Azure Key Vault answers to a read.
#[cfg(feature = "azure")]
fn azure_answer(_: &str, _: &str) -> Value {
    json!({ "value": "fake-value-0000", "id": "x/secrets/K/v1" })
}

/// What Google Secret Manager answers to a read.
#[cfg(feature = "gcp")]
fn gcp_answer(_: &str, _: &str) -> Value {
    // base64 of `fake-value-0000`
    let payload = json!({ "data": "ZmFrZS12YWx1ZS0wMDAw" });
    json!({ "name": "projects/1/secrets/K/versions/1", "payload": payload })
}

#[cfg(feature = "azure")]
#[test]
fn an_azure_read_leaves_no_copy_of_the_token() {
    let build = |address: &str, token| {
        keyward::provider::azure::AzureKeyVaultProvider::builder(address)
            .with_access_token(token)
            .build()
            .unwrap()
    };
    assert_eq!(freed_copies(azure_answer, build, "K"), 0);
}

#[cfg(feature = "gcp")]
#[test]
fn a_gcp_read_leaves_no_copy_of_the_token() {
    let build = |address: &str, token| {
        keyward::provider::gcp::GcpSecretManagerProvider::builder()
            .with_project("kw-test")
            .with_endpoint(address)
            .with_access_token(token)
            .build()
            .unwrap()
    };
    assert_eq!(freed_copies(gcp_answer, build, "K"), 0);
}

/// Writes a credentials file, readable by its owner only (as the providers want it).
#[cfg(feature = "gcp")]
fn write_private(path: &std::path::Path, content: &Value) {
    std::fs::write(path, content.to_string()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// The token a token endpoint hands out, if `body` carries the credential under test (every
/// such credential starts `kw-fake-token-`): otherwise the read fails, and so does the test.
#[cfg(any(feature = "azure", feature = "gcp"))]
fn token_for(body: &str, field: &str) -> Value {
    if body.contains(&format!("{field}kw-fake-token-")) {
        json!({ "access_token": "kw-fake-access-0000", "expires_in": 3600, "token_type": "Bearer" })
    } else {
        json!({ "error": "invalid_grant" })
    }
}

/// A Vault provider that logs in with AppRole and `secret_id`.
#[cfg(feature = "vault")]
fn approle_vault(
    address: &str,
    secret_id: SecretString,
) -> keyward::provider::vault::VaultProvider {
    keyward::provider::vault::VaultProvider::builder(address)
        .with_approle("kw-role", secret_id)
        .build()
        .unwrap()
}

/// An Azure provider that gets its tokens with the client secret `secret`.
#[cfg(feature = "azure")]
fn client_secret_azure(
    address: &str,
    secret: SecretString,
) -> keyward::provider::azure::AzureKeyVaultProvider {
    keyward::provider::azure::AzureKeyVaultProvider::builder(address)
        .with_authority_host(address)
        .with_client_secret("kw-tenant", "kw-client", secret.expose_secret())
        .build()
        .unwrap()
}

/// A Google provider that gets its tokens with the user credentials of `refresh_token`, written
/// into `dir`.
#[cfg(feature = "gcp")]
fn refresh_token_gcp(
    dir: &tempfile::TempDir,
    address: &str,
    refresh_token: SecretString,
) -> keyward::provider::gcp::GcpSecretManagerProvider {
    let path = dir.path().join("application_default_credentials.json");
    let file = json!({
        "client_id": "kw-client",
        "client_secret": "kw-fake-client-secret",
        "refresh_token": refresh_token.expose_secret(),
        "type": "authorized_user",
    });
    write_private(&path, &file);
    keyward::provider::gcp::GcpSecretManagerProvider::builder()
        .with_project("kw-test")
        .with_endpoint(address)
        .with_credentials_file(&path)
        .with_token_url(format!("{address}/token"))
        .build()
        .unwrap()
}

#[cfg(feature = "vault")]
#[test]
fn a_vault_approle_login_leaves_no_copy_of_the_secret_id() {
    fn answer(path: &str, body: &str) -> Value {
        if path.ends_with("/auth/approle/login") {
            assert!(
                body.contains("\"secret_id\":\"kw-fake-token-"),
                "no secret id sent"
            );
            let auth = json!({ "client_token": "kw-fake-client-0000", "lease_duration": 3600,
                "renewable": false });
            json!({ "auth": auth })
        } else {
            vault_answer(path, body)
        }
    }
    assert_eq!(freed_copies(answer, approle_vault, "app"), 0);
}

#[cfg(feature = "azure")]
#[test]
fn an_azure_client_secret_grant_leaves_no_copy_of_the_secret() {
    fn answer(path: &str, body: &str) -> Value {
        if path.ends_with("/oauth2/v2.0/token") {
            token_for(body, "client_secret=")
        } else {
            azure_answer(path, body)
        }
    }
    assert_eq!(freed_copies(answer, client_secret_azure, "K"), 0);
}

#[cfg(feature = "gcp")]
#[test]
fn a_google_refresh_token_grant_leaves_no_copy_of_the_token() {
    fn answer(path: &str, body: &str) -> Value {
        if path == "/token" {
            token_for(body, "refresh_token=")
        } else {
            gcp_answer(path, body)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let build = |address: &str, refresh_token| refresh_token_gcp(&dir, address, refresh_token);
    assert_eq!(freed_copies(answer, build, "K"), 0);
}

#[cfg(feature = "gcp")]
#[test]
fn a_google_private_key_leaves_no_copy_of_its_pem() {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::RsaKeyPair;
    use base64::Engine;

    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let body = base64::engine::general_purpose::STANDARD.encode(key.as_der().unwrap().as_ref());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    let file = json!({
        "type": "service_account",
        "client_email": "kw-test@kw-test.iam.gserviceaccount.com",
        "private_key": pem,
        "token_uri": "http://127.0.0.1:9/token",
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("service-account.json");
    write_private(&path, &file);
    // One line of the key's base64, as the file holds it and as it is read.
    sniffer::set_needle(&lines[3].as_bytes()[..48]);
    sniffer::arm_this_thread(true);
    let provider = keyward::provider::gcp::GcpSecretManagerProvider::builder()
        .with_project("kw-test")
        .with_credentials_file(&path)
        .build();
    sniffer::arm_this_thread(false);
    assert!(provider.is_ok(), "the key file was not read");
    assert_eq!(sniffer::clear_needle(), 0);
}

/// A login's answer hands back the credential it was sent as the token to use (written with
/// escapes by the server): reading that token leaves no copy, however its answer fails or
/// succeeds to parse after it.
#[cfg(feature = "vault")]
#[test]
fn a_vault_login_answer_leaves_no_copy_of_the_token_it_gives() {
    fn answer(path: &str, body: &str) -> Value {
        if path.ends_with("/auth/approle/login") {
            let auth = json!({ "client_token": sent(body, "secret_id"), "lease_duration": 3600,
                "renewable": false });
            json!({ "auth": auth })
        } else {
            vault_answer(path, body)
        }
    }
    assert_eq!(freed_copies(answer, approle_vault, "app"), 0);
}

/// As for Vault: an Entra ID token answer.
#[cfg(feature = "azure")]
#[test]
fn an_azure_token_answer_leaves_no_copy_of_the_token_it_gives() {
    fn answer(path: &str, body: &str) -> Value {
        if path.ends_with("/oauth2/v2.0/token") {
            json!({ "access_token": sent(body, "client_secret"), "expires_in": 3600 })
        } else {
            azure_answer(path, body)
        }
    }
    assert_eq!(freed_copies(answer, client_secret_azure, "K"), 0);
}

/// As for Vault: a Google token answer.
#[cfg(feature = "gcp")]
#[test]
fn a_google_token_answer_leaves_no_copy_of_the_token_it_gives() {
    fn answer(path: &str, body: &str) -> Value {
        if path == "/token" {
            json!({ "access_token": sent(body, "refresh_token"), "expires_in": 3600 })
        } else {
            gcp_answer(path, body)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let build = |address: &str, refresh_token| refresh_token_gcp(&dir, address, refresh_token);
    assert_eq!(freed_copies(answer, build, "K"), 0);
}
