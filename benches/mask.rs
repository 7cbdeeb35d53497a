//! Masking and fingerprinting: both run on every log line that mentions a key.
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use keyward::Fingerprinter;
use keyward::{fingerprint, mask};

fn bench(c: &mut Criterion) {
    let key = format!("sk-proj-{}", "Bench0Key1".repeat(12));
    let mut group = c.benchmark_group("mask");
    group.bench_function("mask openai key", |b| b.iter(|| mask(black_box(&key))));
    group.bench_function("fingerprint sha256", |b| {
        b.iter(|| fingerprint(black_box(&key)))
    });
    let keyed = Fingerprinter::new(b"bench-fingerprint-key");
    group.bench_function("fingerprint hmac", |b| {
        b.iter(|| keyed.fingerprint(black_box(&key)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
