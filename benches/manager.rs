//! Cached `KeyManager::get` and `KeyManager::with_key` against `std::env::var` on the same key
//! and against a plain `RwLock<HashMap>` cache, with one and two threads; two threads reading two
//! different keys, to show whether readers serialize; and, for reference, one read of the wall
//! clock and one `Arc` clone and drop (which `get` returns and its caller drops).
//!
//! Run with the key set to something key-sized, so `std::env::var` copies a realistic value:
//!
//! ```text
//! KEYWARD_BENCH_KEY=sk-proj-$(printf 'Ab3d%.0s' $(seq 10)) cargo bench --bench manager
//! ```
//!
//! Without `KEYWARD_BENCH_KEY`, `HOME` is read instead.
#![allow(missing_docs, clippy::unwrap_used)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Barrier, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use keyward::{EnvProvider, KeyManager, MemoryProvider, SecretProvider};

fn bench_key() -> &'static str {
    if std::env::var_os("KEYWARD_BENCH_KEY").is_some() {
        "KEYWARD_BENCH_KEY"
    } else {
        eprintln!("KEYWARD_BENCH_KEY is not set; reading HOME instead");
        "HOME"
    }
}

/// Runs `op(thread_index)` `iters` times on each of `threads` threads at once; the time is the
/// slowest thread's, so with perfect scaling it equals the single-thread time.
fn parallel<F>(threads: usize, iters: u64, op: F) -> Duration
where
    F: Fn(usize) + Sync,
{
    let barrier = Barrier::new(threads);
    thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|index| {
                let (barrier, op) = (&barrier, &op);
                scope.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        op(index);
                    }
                    start.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .max()
            .unwrap_or_default()
    })
}

fn manager(provider: impl SecretProvider + 'static) -> KeyManager {
    KeyManager::builder(provider)
        .with_ttl(Duration::from_secs(86_400))
        .with_created_at_companion(false)
        .build()
        .unwrap()
}

fn cached_get(c: &mut Criterion) {
    let key = bench_key();
    let value = std::env::var(key).unwrap();
    let env_manager = manager(EnvProvider::new());
    env_manager.get(key).unwrap();
    let baseline: RwLock<HashMap<String, Arc<String>>> =
        RwLock::new(HashMap::from([(key.to_owned(), Arc::new(value.clone()))]));

    let mut group = c.benchmark_group("cached_get");
    for threads in [1, 2] {
        group.bench_function(format!("keyward_get/{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                parallel(threads, iters, |_| {
                    black_box(env_manager.get(black_box(key)).unwrap());
                })
            })
        });
        group.bench_function(format!("keyward_with_key/{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                parallel(threads, iters, |_| {
                    let read = env_manager.with_key(black_box(key), |k| {
                        black_box(k.expose_secret());
                    });
                    read.unwrap();
                })
            })
        });
        group.bench_function(format!("env_var/{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                parallel(threads, iters, |_| {
                    black_box(std::env::var(black_box(key)).unwrap());
                })
            })
        });
        group.bench_function(format!("rwlock_hashmap/{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                parallel(threads, iters, |_| {
                    black_box(baseline.read().unwrap().get(black_box(key)).cloned());
                })
            })
        });
    }

    // Two threads, two keys: the keys sit in different shards, so the readers share no lock.
    let names = ["KEY_0", "KEY_7"];
    let mut memory = MemoryProvider::new();
    for name in names {
        memory.insert(name, value.as_str());
    }
    let memory_manager = manager(memory);
    let baseline_two: RwLock<HashMap<String, Arc<String>>> = RwLock::new(
        names
            .iter()
            .map(|name| (name.to_string(), Arc::new(value.clone())))
            .collect(),
    );
    for name in names {
        memory_manager.get(name).unwrap();
    }
    group.bench_function("keyward_get_two_keys/2_threads", |b| {
        b.iter_custom(|iters| {
            parallel(2, iters, |index| {
                black_box(memory_manager.get(black_box(names[index])).unwrap());
            })
        })
    });
    group.bench_function("keyward_with_key_two_keys/2_threads", |b| {
        b.iter_custom(|iters| {
            parallel(2, iters, |index| {
                let read = memory_manager.with_key(black_box(names[index]), |k| {
                    black_box(k.expose_secret());
                });
                read.unwrap();
            })
        })
    });
    group.bench_function("rwlock_hashmap_two_keys/2_threads", |b| {
        b.iter_custom(|iters| {
            parallel(2, iters, |index| {
                black_box(
                    baseline_two
                        .read()
                        .unwrap()
                        .get(black_box(names[index]))
                        .cloned(),
                );
            })
        })
    });

    group.bench_function("reference/SystemTime::now", |b| {
        b.iter(|| black_box(std::time::SystemTime::now()))
    });
    // What `get` cannot avoid: it hands out an `Arc`, which the caller drops.
    let shared = Arc::new(value.clone());
    group.bench_function("reference/Arc_clone_and_drop", |b| {
        b.iter(|| drop(black_box(Arc::clone(black_box(&shared)))))
    });
    group.finish();
}

criterion_group!(benches, cached_get);
criterion_main!(benches);
