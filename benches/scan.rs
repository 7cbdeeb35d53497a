//! Hardcoded-key scan throughput over a real source tree, in MB/s and files/s, with 1 and 2
//! threads.
//!
//! The tree is the sources of the crates in the local cargo registry (`~/.cargo/registry/src`),
//! or `KEYWARD_SCAN_BENCH_DIR`. One untimed scan warms the page cache, then each thread count
//! is timed `KEYWARD_SCAN_BENCH_RUNS` times (default 5) and the median and best runs are
//! printed. A whole-tree scan takes seconds, so this is a plain timing loop rather than a
//! criterion benchmark, which would want at least ten samples of it per thread count.
//!
//! ```text
//! cargo bench --features audit --bench scan
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use keyward::audit::Scanner;

fn tree() -> PathBuf {
    if let Some(dir) = std::env::var_os("KEYWARD_SCAN_BENCH_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .expect("set KEYWARD_SCAN_BENCH_DIR, CARGO_HOME or HOME");
    home.join("registry").join("src")
}

fn main() {
    // `cargo bench` passes `--bench` and any filter; this bench takes neither.
    let runs: usize = std::env::var("KEYWARD_SCAN_BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(5)
        .max(1);
    let root = tree();
    let warm = Scanner::new()
        .scan(&root)
        .expect("the bench tree can be scanned");
    let megabytes = warm.bytes_scanned() as f64 / 1e6;
    let files = warm.files_scanned() + warm.skipped_binary();
    println!(
        "tree {}: {files} files, {megabytes:.1} MB read ({} binary, {} over the size cap, {} keys found)",
        root.display(),
        warm.skipped_binary(),
        warm.skipped_large(),
        warm.findings().len(),
    );
    for threads in [1, 2] {
        let scanner = Scanner::new().with_threads(threads);
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                let report = scanner.scan(&root).unwrap();
                let elapsed = start.elapsed();
                assert_eq!(report.bytes_scanned(), warm.bytes_scanned());
                elapsed
            })
            .collect();
        times.sort();
        let median = times[times.len() / 2].as_secs_f64();
        let best = times[0].as_secs_f64();
        println!(
            "scan/{threads} thread{}: median {:.2} s = {:.0} MB/s, {:.0} files/s (best {:.0} MB/s) over {runs} runs",
            if threads == 1 { "" } else { "s" },
            median,
            megabytes / median,
            files as f64 / median,
            megabytes / best,
        );
    }
}
