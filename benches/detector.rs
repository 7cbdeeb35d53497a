//! Detector throughput on real source code.
//!
//! The corpus is the `.rs` files under `~/.cargo/registry/src/` (the sources of every crate this
//! machine has downloaded), read in sorted order until `CORPUS_BYTES`; without a registry, this
//! crate's own sources stand in. Compared against the two obvious alternatives: one regular
//! expression alternating every format's pattern, and a `RegexSet` of them (which only says
//! *whether* something matched), plus the bare keyword automaton as the floor.
//!
//! The `detector by size` group scans 1, 8 and 64 MB of the corpus's first megabyte repeated
//! (the same text at every size) and of two adversarial lines, one of AWS key ids and one of
//! repeated JWT headers, where every few bytes start a detection: the same MB/s at every size
//! shows the work is linear.
//!
//! `cargo bench --bench detector -- --warm-up-time 1 --measurement-time 2`

#![allow(missing_docs)] // criterion_group! generates an undocumented function
use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use aho_corasick::{AhoCorasickBuilder, MatchKind};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use keyward::{Detector, KeyFormat};
use regex::{Regex, RegexSet};

const CORPUS_BYTES: usize = 16 * 1024 * 1024;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Up to `PER_CRATE` bytes of each crate's sources, so no single generated crate dominates.
fn corpus() -> (String, usize) {
    const PER_CRATE: usize = 192 * 1024;
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let mut crates: Vec<PathBuf> = Vec::new();
    if let Some(Ok(registries)) = home.map(|h| fs::read_dir(h.join("registry").join("src"))) {
        for registry in registries.flatten() {
            if let Ok(dirs) = fs::read_dir(registry.path()) {
                crates.extend(dirs.flatten().map(|d| d.path()));
            }
        }
    }
    crates.sort();
    if crates.is_empty() {
        crates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    }
    let mut text = String::with_capacity(CORPUS_BYTES + PER_CRATE);
    let mut used = 0;
    for dir in &crates {
        let mut files = Vec::new();
        rust_files(dir, &mut files);
        let crate_start = text.len();
        for file in files {
            if text.len() - crate_start >= PER_CRATE || text.len() >= CORPUS_BYTES {
                break;
            }
            if let Ok(source) = fs::read_to_string(&file) {
                text.push_str(&source);
                text.push('\n');
                used += 1;
            }
        }
    }
    (text, used)
}

fn bench(c: &mut Criterion) {
    let (text, files) = corpus();
    let detector = Detector::new();
    let found = detector.find(&text);
    eprintln!(
        "corpus: {:.1} MiB of Rust from {files} files; detections: {} (high {}, medium {}, low {})",
        text.len() as f64 / (1024.0 * 1024.0),
        found.len(),
        found
            .iter()
            .filter(|d| d.confidence() == keyward::guard::Confidence::High)
            .count(),
        found
            .iter()
            .filter(|d| d.confidence() == keyward::guard::Confidence::Medium)
            .count(),
        found
            .iter()
            .filter(|d| d.confidence() == keyward::guard::Confidence::Low)
            .count(),
    );

    // One alternation cannot hold the context rules' `secret` group twice: unnamed here.
    let patterns: Vec<String> = KeyFormat::ALL
        .iter()
        .map(|f| f.pattern().replace("(?P<secret>", "(?:"))
        .collect();
    let combined = Regex::new(&patterns.join("|")).unwrap_or_else(|e| panic!("{e}"));
    let set = RegexSet::new(&patterns).unwrap_or_else(|e| panic!("{e}"));
    // The detector's own two prefilters, rebuilt here: format keywords, and name words in
    // lower, upper and capitalized case.
    let format_keywords: Vec<&str> = KeyFormat::ALL
        .iter()
        .flat_map(|f| f.keywords().iter().copied())
        .collect();
    let name_words: Vec<String> = [
        "key",
        "token",
        "secret",
        "pass",
        "pwd",
        "auth",
        "credential",
    ]
    .iter()
    .flat_map(|w| {
        let capitalized = format!("{}{}", w[..1].to_ascii_uppercase(), &w[1..]);
        [w.to_string(), w.to_ascii_uppercase(), capitalized]
    })
    .collect();
    let build = |patterns: &[String]| {
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let format_automaton = build(
        &format_keywords
            .iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>(),
    );
    let name_automaton = build(&name_words);
    let mut group = c.benchmark_group("detector");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    group.bench_function("find (formats + generic)", |b| {
        b.iter(|| detector.find(black_box(&text)).len())
    });
    let Ok(formats_only) = Detector::builder().with_generic(false).build() else {
        unreachable!("the defaults with the generic rule off are valid")
    };
    group.bench_function("find (formats only)", |b| {
        b.iter(|| formats_only.find(black_box(&text)).len())
    });
    group.bench_function("baseline: one alternation regex, find_iter", |b| {
        b.iter(|| combined.find_iter(black_box(&text)).count())
    });
    group.bench_function("baseline: RegexSet, matches", |b| {
        b.iter(|| set.matches(black_box(&text)).iter().count())
    });
    group.bench_function("floor: the two keyword automata alone", |b| {
        b.iter(|| {
            format_automaton.find_iter(black_box(&text)).count()
                + name_automaton.find_iter(black_box(&text)).count()
        })
    });
    group.finish();
}

/// `text` repeated and cut (at a character boundary) to `len` bytes.
fn sized(text: &str, len: usize) -> String {
    let mut out = text.repeat(len.div_ceil(text.len()));
    let mut end = len;
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out.truncate(end);
    out
}

/// One line of `len` bytes of AWS key ids (random, fixed seed) separated by spaces.
fn aws_key_line(len: usize) -> String {
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut line = String::with_capacity(len + 21);
    while line.len() + 21 <= len {
        line.push_str("AKIA");
        for _ in 0..16 {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            line.push(char::from(BASE32[(state % 32) as usize]));
        }
        line.push(' ');
    }
    line
}

fn bench_sizes(c: &mut Criterion) {
    const MB: usize = 1_000_000;
    let (corpus, _) = corpus();
    let first_mb = sized(&corpus, MB.min(corpus.len()));
    let detector = Detector::new();
    let mut group = c.benchmark_group("detector by size");
    group.sample_size(10);
    for mb in [1, 8, 64] {
        let inputs = [
            ("source code", sized(&first_mb, mb * MB)),
            ("one line of AWS key ids", aws_key_line(mb * MB)),
            (
                "one line of eyJhbGciOiJIUzI1NiJ9.",
                sized("eyJhbGciOiJIUzI1NiJ9.", mb * MB),
            ),
        ];
        for (family, text) in &inputs {
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_with_input(
                BenchmarkId::new(*family, format!("{mb} MB")),
                text,
                |b, text| b.iter(|| detector.find(black_box(text)).len()),
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench, bench_sizes);
criterion_main!(benches);
