//! Cached `KeyManager::get` against `std::env::var` on the same key and against a plain
//! `RwLock<HashMap>` cache, with one and two threads; and one read of the wall clock, the floor
//! under any cache that checks a TTL on each read.
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

use chrono::TimeDelta;
use criterion::{Criterion, criterion_group, criterion_main};
use keyward::{EnvProvider, KeyManager};

fn bench_key() -> &'static str {
    if std::env::var_os("KEYWARD_BENCH_KEY").is_some() {
        "KEYWARD_BENCH_KEY"
    } else {
        eprintln!("KEYWARD_BENCH_KEY is not set; reading HOME instead");
        "HOME"
    }
}

/// Runs `op` `iters` times on each of `threads` threads at once; the time is the slowest
/// thread's, so with perfect scaling it equals the single-thread time.
fn parallel<F>(threads: usize, iters: u64, op: F) -> Duration
where
    F: Fn() + Sync,
{
    let barrier = Barrier::new(threads);
    thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        op();
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

fn cached_get(c: &mut Criterion) {
    let key = bench_key();
    let manager = KeyManager::builder(EnvProvider::new())
        .with_ttl(TimeDelta::days(1))
        .without_created_at_companion()
        .build()
        .unwrap();
    manager.get(key).unwrap();
    let baseline: RwLock<HashMap<String, Arc<String>>> = RwLock::new(HashMap::from([(
        key.to_owned(),
        Arc::new(std::env::var(key).unwrap()),
    )]));

    let keyward_get = || {
        black_box(manager.get(black_box(key)).unwrap());
    };
    let env_var = || {
        black_box(std::env::var(black_box(key)).unwrap());
    };
    let rwlock_get = || {
        black_box(baseline.read().unwrap().get(black_box(key)).cloned());
    };

    let mut group = c.benchmark_group("cached_get");
    for threads in [1, 2] {
        group.bench_function(format!("keyward/{threads}_threads"), |b| {
            b.iter_custom(|iters| parallel(threads, iters, keyward_get))
        });
        group.bench_function(format!("env_var/{threads}_threads"), |b| {
            b.iter_custom(|iters| parallel(threads, iters, env_var))
        });
        group.bench_function(format!("rwlock_hashmap/{threads}_threads"), |b| {
            b.iter_custom(|iters| parallel(threads, iters, rwlock_get))
        });
    }
    // The floor under any cache that checks a TTL on each read: one read of the wall clock.
    group.bench_function("reference/SystemTime::now", |b| {
        b.iter(|| black_box(std::time::SystemTime::now()))
    });
    group.finish();
}

criterion_group!(benches, cached_get);
criterion_main!(benches);
