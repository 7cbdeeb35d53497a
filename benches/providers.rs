//! `get` for each provider: what an uncached lookup costs.
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use keyward::{
    ChainProvider, DotenvProvider, EnvProvider, FileProvider, MemoryProvider, SecretProvider,
};

fn bench(c: &mut Criterion) {
    let value = format!("fake-bench-{}", "v4lue".repeat(8));
    let memory = MemoryProvider::new().with("BENCH_KEY", value.as_str());
    // An existing variable: the benchmark only reads it.
    let env = EnvProvider::new();
    let chain = ChainProvider::new()
        .with(EnvProvider::new().with_prefix("KEYWARD_BENCH_UNSET_"))
        .with(memory.clone());

    let dotenv_text: String = (0..100)
        .map(|i| format!("KEY_{i}=\"{value}-{i}\"\n"))
        .collect();
    let dotenv = DotenvProvider::from_reader(dotenv_text.as_bytes()).expect("valid .env text");
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("BENCH_KEY"), format!("{value}\n")).expect("writable");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.path().join("BENCH_KEY");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let files = FileProvider::new(dir.path()).expect("a secrets directory");

    let mut group = c.benchmark_group("provider get");
    group.bench_function("dotenv (100 keys)", |b| {
        b.iter(|| dotenv.get(black_box("KEY_42")))
    });
    group.bench_function("file", |b| b.iter(|| files.get(black_box("BENCH_KEY"))));
    group.bench_function("memory", |b| b.iter(|| memory.get(black_box("BENCH_KEY"))));
    group.bench_function("env", |b| b.iter(|| env.get(black_box("PATH"))));
    group.bench_function("chain env miss then memory", |b| {
        b.iter(|| chain.get(black_box("BENCH_KEY")))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
