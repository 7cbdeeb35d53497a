//! `get` for each provider: what an uncached lookup costs.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use keyward::{ChainProvider, EnvProvider, MemoryProvider, SecretProvider};

fn bench(c: &mut Criterion) {
    let value = format!("fake-bench-{}", "v4lue".repeat(8));
    let memory = MemoryProvider::new().with("BENCH_KEY", value.as_str());
    // An existing variable: the benchmark only reads it.
    let env = EnvProvider::new();
    let chain = ChainProvider::new()
        .with(EnvProvider::new().with_prefix("KEYWARD_BENCH_UNSET_"))
        .with(memory.clone());

    let mut group = c.benchmark_group("provider get");
    group.bench_function("memory", |b| b.iter(|| memory.get(black_box("BENCH_KEY"))));
    group.bench_function("env", |b| b.iter(|| env.get(black_box("PATH"))));
    group.bench_function("chain env miss then memory", |b| {
        b.iter(|| chain.get(black_box("BENCH_KEY")))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
