//! Reads API keys from a local OpenBao (or Vault) server through `VaultProvider`.
//!
//! `scripts/test-all` starts OpenBao and runs this example; to run it by hand against a dev
//! server of your own:
//!
//! ```sh
//! bao server -dev -dev-listen-address=127.0.0.1:8200 -dev-root-token-id=dev-only-token &
//! KEYWARD_TEST_VAULT_ADDR=http://127.0.0.1:8200 KEYWARD_TEST_VAULT_TOKEN=dev-only-token \
//!     cargo run --example vault --features vault
//! ```

use keyward::AsyncSecretProvider;
use keyward::provider::vault::VaultProvider;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (Ok(address), Ok(token)) = (
        std::env::var("KEYWARD_TEST_VAULT_ADDR"),
        std::env::var("KEYWARD_TEST_VAULT_TOKEN"),
    ) else {
        println!(
            "This example needs a local OpenBao or Vault dev server: set KEYWARD_TEST_VAULT_ADDR \
             and KEYWARD_TEST_VAULT_TOKEN (scripts/test-all does), then run it again."
        );
        return Ok(());
    };

    // An operator stores two keys in one secret, with the server's own API.
    let fake_openai = format!("sk-proj-{}", "Ex4m".repeat(10));
    let fake_anthropic = format!("sk-ant-api03-{}", "Pl3".repeat(12));
    reqwest::Client::new()
        .post(format!("{address}/v1/secret/data/keyward-example/api-keys"))
        .header("X-Vault-Token", &token)
        .json(&json!({ "data": { "openai": fake_openai, "anthropic": fake_anthropic } }))
        .send()
        .await?
        .error_for_status()?;

    // The agent reads them: `path#field`, under a prefix.
    let vault = VaultProvider::builder(&address)
        .with_token(token)
        .with_prefix("keyward-example")
        .build()?;
    println!("{vault:?}");
    for key in ["api-keys#openai", "api-keys#anthropic", "api-keys#missing"] {
        match vault.get(key).await? {
            Some(secret) => {
                let meta = secret.meta();
                println!(
                    "{key}: {} (version {}, created {})",
                    secret.value().masked(),
                    meta.version.as_deref().unwrap_or("?"),
                    meta.created_at
                        .map_or_else(|| "?".to_owned(), |t| t.to_rfc3339()),
                );
            }
            None => println!("{key}: not found"),
        }
    }
    Ok(())
}
