//! Reads API keys from Azure Key Vault through `AzureKeyVaultProvider`.
//!
//! Against a real vault, with a client secret (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
//! `AZURE_CLIENT_SECRET`) or the machine's managed identity:
//!
//! ```sh
//! KEYWARD_AZURE_VAULT_URL=https://my-vault.vault.azure.net \
//!     cargo run --example azure --features azure -- OPENAI_API_KEY
//! ```
//!
//! Without `KEYWARD_AZURE_VAULT_URL` it runs offline: it starts the local contract server the
//! tests use (`tests/servers/azure_keyvault.py`, needs `python3`), stores fake keys in it, and
//! reads them through the same provider code.

mod common;

use keyward::AsyncSecretProvider;
use keyward::provider::azure::AzureKeyVaultProvider;
use serde_json::json;

use common::{LocalServer, show};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Ok(url) = std::env::var("KEYWARD_AZURE_VAULT_URL") {
        let vault = AzureKeyVaultProvider::builder(url).build()?;
        println!("{vault:?}");
        for key in std::env::args().skip(1) {
            show(&key, vault.get(&key).await);
        }
        return Ok(());
    }

    let tenant = "72f988bf-0000-4000-8000-2d7cd011db47";
    let client_id = "0a1b2c3d-0000-4000-8000-000000000001";
    let client_secret = format!("example-secret-{}", "Ex4m".repeat(6));
    let Some(server) = LocalServer::start(
        "azure_keyvault.py",
        &[
            ("AZ_TEST_TENANT", tenant),
            ("AZ_TEST_CLIENT_ID", client_id),
            ("AZ_TEST_CLIENT_SECRET", &client_secret),
        ],
    ) else {
        println!("This example needs python3 for its local server, or KEYWARD_AZURE_VAULT_URL.");
        return Ok(());
    };

    // An operator stores keys (through the local server's test controls).
    let http = reqwest::Client::new();
    let now = chrono::Utc::now().timestamp();
    for (name, attributes) in [
        (
            "OPENAI-API-KEY",
            json!({ "value": format!("sk-proj-{}", "Ex4m".repeat(10)), "exp": now + 86_400 }),
        ),
        (
            "OLD-KEY",
            json!({ "value": "example-old-0000", "exp": now - 60 }),
        ),
        (
            "PAUSED-KEY",
            json!({ "value": "example-paused-0000", "enabled": false }),
        ),
    ] {
        http.put(format!("{}/_test/secrets/{name}", server.base))
            .json(&attributes)
            .send()
            .await?
            .error_for_status()?;
    }

    // The agent reads them: `OPENAI_API_KEY` maps to the Key Vault name `OPENAI-API-KEY`.
    let vault = AzureKeyVaultProvider::builder(&server.base)
        .with_client_secret(tenant, client_id, client_secret)
        .with_authority_host(&server.base)
        .build()?;
    println!("{vault:?}");
    for key in [
        "OPENAI_API_KEY",
        "OLD_KEY",
        "PAUSED_KEY",
        "MISSING_KEY",
        "bad.name",
    ] {
        show(key, vault.get(key).await);
    }
    Ok(())
}
