//! The cost of `UsageLog::record` on the hot path, from one and two threads.
//!
//! `cargo bench --bench usage -- --warm-up-time 1 --measurement-time 2`
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use keyward::usage::{Alert, AlertRule, FailureClass, KeyId, Outcome, Usage};
use keyward::{Scope, SecretString, UsageLog};

fn plain_log() -> UsageLog {
    UsageLog::new()
}

fn alerting_log() -> UsageLog {
    UsageLog::builder()
        .with_rule(AlertRule::failure_rate(0.5, Duration::from_secs(60), 20))
        .with_rule(AlertRule::burst(1000, Duration::from_secs(60)))
        .with_rule(AlertRule::EveryFailure)
        .with_sink(|alert: &Alert| {
            std::hint::black_box(alert);
        })
        .build()
        .unwrap()
}

/// `threads` threads each record `iters` uses of their own key (one failure in ten); the time
/// is the slowest thread's, so contention on the log's lock shows.
fn record_from(threads: usize, iters: u64, log: &UsageLog) -> Duration {
    let barrier = Barrier::new(threads);
    thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let value = SecretString::from(format!("sk-proj-{}", "Ab3d".repeat(10)));
                    let key = KeyId::new(format!("KEY_{t}"), &value);
                    let agent: Arc<str> = Arc::from(format!("agent{t}"));
                    let operation: Arc<str> = Arc::from("chat");
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..iters {
                        let usage = Usage::new(&key, Arc::clone(&agent), Arc::clone(&operation));
                        log.record(if i % 10 == 0 {
                            usage.with_outcome(Outcome::failure(FailureClass::Server))
                        } else {
                            usage.with_latency(Duration::from_millis(300))
                        });
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

fn record(c: &mut Criterion) {
    let mut group = c.benchmark_group("usage_log_record");
    for (name, make) in [
        ("no_rules", plain_log as fn() -> UsageLog),
        ("three_rules", alerting_log),
    ] {
        for threads in [1, 2] {
            // Elements per iteration = uses recorded across all threads.
            group.throughput(Throughput::Elements(threads as u64));
            group.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &threads| {
                let log = make();
                b.iter_custom(|iters| record_from(threads, iters, &log));
            });
        }
    }
    group.finish();
}

fn scoped_key_use(c: &mut Criterion) {
    let log = Arc::new(plain_log());
    let key = Scope::for_agent("researcher")
        .with_operations(["chat", "embeddings"])
        .allow("OPENAI_API_KEY", ["chat"])
        .build()
        .unwrap()
        .key("OPENAI_API_KEY", format!("sk-proj-{}", "Ab3d".repeat(10)))
        .unwrap()
        .with_usage_log(log);
    c.bench_function("scoped_key_begin_succeed", |b| {
        b.iter(|| {
            let call = key.begin("chat").unwrap();
            std::hint::black_box(call.expose_secret());
            call.succeed();
        });
    });
}

criterion_group!(benches, record, scoped_key_use);
criterion_main!(benches);
