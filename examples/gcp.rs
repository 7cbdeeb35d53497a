//! Reads API keys from Google Cloud Secret Manager through `GcpSecretManagerProvider`.
//!
//! Against a real project, with application default credentials (a key file in
//! `GOOGLE_APPLICATION_CREDENTIALS`, `gcloud auth application-default login`, or the metadata
//! server):
//!
//! ```sh
//! GOOGLE_CLOUD_PROJECT=my-project cargo run --example gcp --features gcp -- OPENAI_API_KEY
//! ```
//!
//! Without `GOOGLE_CLOUD_PROJECT` it runs offline: it starts the local contract server the
//! tests use (`tests/servers/gcp_secretmanager.py`, needs `python3`), which also plays the
//! metadata server, stores fake keys in it, and reads them through the same provider code.

mod common;

use keyward::AsyncSecretProvider;
use keyward::provider::gcp::GcpSecretManagerProvider;
use serde_json::json;

use common::{LocalServer, show};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("GOOGLE_CLOUD_PROJECT").is_some() {
        let secrets = GcpSecretManagerProvider::builder().build()?;
        println!("{secrets:?}");
        for key in std::env::args().skip(1) {
            show(&key, secrets.get(&key).await);
        }
        return Ok(());
    }

    let Some(server) = LocalServer::start(
        "gcp_secretmanager.py",
        &[
            ("GCP_TEST_PROJECT", "keyward-example"),
            ("GCP_TEST_PROJECT_NUMBER", "123456789012"),
        ],
    ) else {
        println!("This example needs python3 for its local server, or GOOGLE_CLOUD_PROJECT.");
        return Ok(());
    };

    // An operator adds two versions of a key and a disabled one (through the test controls).
    let http = reqwest::Client::new();
    for (id, version) in [
        (
            "OPENAI_API_KEY",
            json!({ "value": format!("sk-proj-{}", "Ex4m".repeat(10)) }),
        ),
        (
            "OPENAI_API_KEY",
            json!({ "value": format!("sk-proj-{}", "R0t8".repeat(10)) }),
        ),
        (
            "PAUSED_KEY",
            json!({ "value": "example-paused-0000", "state": "DISABLED" }),
        ),
    ] {
        http.post(format!("{}/_test/secrets/{id}", server.base))
            .json(&version)
            .send()
            .await?
            .error_for_status()?;
    }

    // The agent reads them, with a token from the (local) metadata server.
    let secrets = GcpSecretManagerProvider::builder()
        .with_project("keyward-example")
        .with_endpoint(&server.base)
        .with_metadata_host(&server.base)
        .with_create_time(true)
        .build()?;
    println!("{secrets:?}");
    for key in [
        "OPENAI_API_KEY",
        "OPENAI_API_KEY@1",
        "PAUSED_KEY",
        "MISSING_KEY",
        "bad.name",
    ] {
        show(key, secrets.get(key).await);
    }
    Ok(())
}
