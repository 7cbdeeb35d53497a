//! Reads API keys from AWS Secrets Manager through `AwsSecretsManagerProvider`, here against
//! moto, a local server that speaks the same protocol.
//!
//! `scripts/test-all` starts moto, creates an access key in it and runs this example. By hand:
//!
//! ```sh
//! moto_server -H 127.0.0.1 -p 5000 &
//! KEYWARD_TEST_AWS_ENDPOINT=http://127.0.0.1:5000 KEYWARD_TEST_AWS_ACCESS_KEY_ID=testing \
//!     KEYWARD_TEST_AWS_SECRET_ACCESS_KEY=testing cargo run --example aws --features aws
//! ```
//!
//! Against real AWS, `AwsSecretsManagerProvider::from_env().await` uses the standard credential
//! chain and region instead.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::config::{Credentials, SharedCredentialsProvider};
use keyward::AsyncSecretProvider;
use keyward::provider::aws::AwsSecretsManagerProvider;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let vars = [
        "KEYWARD_TEST_AWS_ENDPOINT",
        "KEYWARD_TEST_AWS_ACCESS_KEY_ID",
        "KEYWARD_TEST_AWS_SECRET_ACCESS_KEY",
    ]
    .map(std::env::var);
    let [Ok(endpoint), Ok(key_id), Ok(secret_key)] = vars else {
        println!(
            "This example needs a local moto server: set KEYWARD_TEST_AWS_ENDPOINT, \
             KEYWARD_TEST_AWS_ACCESS_KEY_ID and KEYWARD_TEST_AWS_SECRET_ACCESS_KEY \
             (scripts/test-all does), then run it again."
        );
        return Ok(());
    };
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            key_id, secret_key, None, None, "example",
        )))
        .build();

    // An operator stores two keys as one JSON secret, with the SDK.
    let admin = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(&config)
            .endpoint_url(&endpoint)
            .build(),
    );
    let value = json!({
        "OPENAI_API_KEY": format!("sk-proj-{}", "Ex4m".repeat(10)),
        "ANTHROPIC_API_KEY": format!("sk-ant-api03-{}", "Pl3".repeat(12)),
    })
    .to_string();
    let name = "keyward-example/api-keys";
    let created = admin
        .create_secret()
        .name(name)
        .secret_string(&value)
        .send()
        .await;
    if created.is_err() {
        // It exists from an earlier run: store a new version instead.
        admin
            .put_secret_value()
            .secret_id(name)
            .secret_string(&value)
            .send()
            .await?;
    }

    // The agent reads them: `secret-id#JSON_FIELD`.
    let aws = AwsSecretsManagerProvider::builder()
        .with_sdk_config(config)
        .with_endpoint_url(endpoint)
        .build()
        .await;
    println!("{aws:?}");
    for key in [
        "keyward-example/api-keys#OPENAI_API_KEY",
        "keyward-example/api-keys#ANTHROPIC_API_KEY",
        "keyward-example/missing",
    ] {
        match aws.get(key).await? {
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
