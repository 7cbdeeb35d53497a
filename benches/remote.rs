//! `KeyManager::get_async` in front of `VaultProvider`, against a local OpenBao server: a cold
//! read (the key is invalidated before each one, so every read is a network round trip) and a
//! cached read, with the provider's own `get` as the floor under the cold read.
//!
//! Needs the server `scripts/test-all` starts; run it through the script, which sets
//! `KEYWARD_TEST_VAULT_ADDR` and `KEYWARD_TEST_VAULT_TOKEN`:
//!
//! ```text
//! scripts/test-all --bench-remote --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Without those variables the bench says so and measures nothing.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use keyward::provider::vault::VaultProvider;
use keyward::{AsyncSecretProvider, KeyManager};
use serde_json::json;
use tokio::runtime::Runtime;

const PATH: &str = "keyward-bench/api-keys";
const KEY: &str = "keyward-bench/api-keys#openai";

struct Server {
    address: String,
    token: String,
}

fn server() -> Option<Server> {
    let address = std::env::var("KEYWARD_TEST_VAULT_ADDR").ok()?;
    let token = std::env::var("KEYWARD_TEST_VAULT_TOKEN").ok()?;
    Some(Server { address, token })
}

/// Stores the secret the bench reads, with the server's API.
async fn write_secret(server: &Server) {
    let fake = format!("sk-proj-{}", "B3nch".repeat(8));
    reqwest::Client::new()
        .post(format!("{}/v1/secret/data/{PATH}", server.address))
        .header("X-Vault-Token", &server.token)
        .json(&json!({ "data": { "openai": fake } }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
}

fn provider(server: &Server) -> VaultProvider {
    VaultProvider::builder(&server.address)
        .with_token(server.token.as_str())
        .build()
        .unwrap()
}

/// Times `iters` runs of `read` inside one `block_on`, so that entering the runtime is not
/// part of what is measured. `before` runs first each time, outside the timing.
fn timed<B, R, F>(runtime: &Runtime, iters: u64, before: B, read: R) -> Duration
where
    B: Fn(),
    R: Fn() -> F,
    F: Future<Output = ()>,
{
    runtime.block_on(async {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            before();
            let start = Instant::now();
            read().await;
            total += start.elapsed();
        }
        total
    })
}

fn remote(c: &mut Criterion, server: &Server) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(write_secret(server));
    let vault = provider(server);
    let manager = KeyManager::builder_async(provider(server))
        .with_ttl(Duration::from_secs(86_400))
        .build()
        .unwrap();
    // Warm the connection pools and the token lookup of both.
    runtime.block_on(async {
        vault.get(KEY).await.unwrap().unwrap();
        manager.get_async(KEY).await.unwrap();
    });

    let mut group = c.benchmark_group("vault_get_async");
    group.bench_function("provider_get", |b| {
        b.iter_custom(|iters| {
            timed(
                &runtime,
                iters,
                || {},
                || async {
                    black_box(vault.get(KEY).await.unwrap());
                },
            )
        })
    });
    group.bench_function("manager_cold", |b| {
        b.iter_custom(|iters| {
            timed(
                &runtime,
                iters,
                || {
                    manager.invalidate(KEY);
                },
                || async {
                    black_box(manager.get_async(KEY).await.unwrap());
                },
            )
        })
    });
    group.bench_function("manager_cached", |b| {
        b.iter_custom(|iters| {
            timed(
                &runtime,
                iters,
                || {},
                || async {
                    black_box(manager.get_async(KEY).await.unwrap());
                },
            )
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    match server() {
        Some(server) => remote(c, &server),
        None => eprintln!(
            "remote bench skipped: KEYWARD_TEST_VAULT_ADDR and KEYWARD_TEST_VAULT_TOKEN are not \
             set; run it with scripts/test-all --bench-remote"
        ),
    }
}

criterion_group!(remote_benches, benches);

fn main() {
    remote_benches();
    Criterion::default().configure_from_args().final_summary();
}
