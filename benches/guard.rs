//! Throughput of the leak guard: `Redactor::redact` (and `redact_into` a reused `String`) with 1
//! to 1000 secrets, against a raw Aho-Corasick search over the same patterns and the naive
//! find/replace loop, and streaming redaction in pieces of 1 to 64 bytes.
//!
//! The corpus (64 MiB of prose and code with keys planted every 256 KiB) is generated from a
//! fixed seed, so every run measures the same text. Figures and the command are recorded in
//! docs/benchmarks.md.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use aho_corasick::{AhoCorasick, MatchKind};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use keyward::guard::RedactorBuilder;
use keyward::guard::SharedRedactor;
use keyward::{Redactor, SecretString};

const CORPUS_BYTES: usize = 64 << 20;
const PLANT_EVERY: usize = 256 << 10;
/// The naive loop is measured on a slice: it is linear in the text and far too slow for 64 MiB.
const NAIVE_BYTES: usize = 4 << 20;
/// The text of near misses, and the slice of the corpus it is compared with.
const ADVERSARIAL_BYTES: usize = 16 << 20;

/// splitmix64: a tiny deterministic generator, good enough for generating text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "the",
    "model",
    "returned",
    "a",
    "response",
    "with",
    "several",
    "tool",
    "calls",
    "and",
    "then",
    "agent",
    "continued",
    "to",
    "process",
    "request",
    "for",
    "user",
    "who",
    "asked",
    "about",
    "weather",
    "in",
    "Paris",
    "configuration",
    "of",
    "server",
    "is",
    "stored",
    "environment",
    "variables",
    "key",
    "rotation",
    "happens",
    "every",
    "ninety",
    "days",
    "token",
    "expired",
    "retrying",
    "after",
    "backoff",
    "error",
    "handling",
    "should",
    "never",
    "log",
    "secrets",
    "function",
    "argument",
    "value",
    "string",
    "number",
    "summary",
    "document",
    "page",
];

const CODE: &[&str] = &[
    "fn handle(req: &Request) -> Result<Response, Error> {\n",
    "    let client = Client::builder().timeout(Duration::from_secs(30)).build()?;\n",
    "    let body = serde_json::to_string(&payload)?;\n",
    "    headers.insert(\"Content-Type\", \"application/json\".parse()?);\n",
    "    if attempts > MAX_RETRIES { return Err(Error::Backend); }\n",
    "}\n",
    "def load_config(path):\n    with open(path) as f:\n        return json.load(f)\n",
    "const url = `https://api.example.com/v1/items?page=${page}&limit=50`;\n",
    "SELECT id, name, created_at FROM users WHERE id = $1 ORDER BY created_at DESC;\n",
];

fn base64(bytes: &[u8]) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 0x3f) as usize]));
        }
        for _ in chunk.len()..3 {
            out.push('=');
        }
    }
    out
}

fn secrets(n: usize) -> Vec<SecretString> {
    let mut rng = Rng(7);
    let alnum = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| {
            let body: String = (0..40).map(|_| char::from(alnum[rng.below(62)])).collect();
            SecretString::from(format!("sk-proj-{body}"))
        })
        .collect()
}

/// Prose and code, with a key of `planted` (raw, base64 in a header, or a 20-character
/// fragment) every 256 KiB. Returns the text and the number of keys planted.
fn corpus(planted: &[SecretString]) -> (String, usize) {
    let mut rng = Rng(42);
    let mut text = String::with_capacity(CORPUS_BYTES + 4096);
    let mut plants = 0;
    let mut next_plant = PLANT_EVERY;
    while text.len() < CORPUS_BYTES {
        if rng.below(4) == 0 {
            text.push_str(CODE[rng.below(CODE.len())]);
        } else {
            for _ in 0..12 {
                text.push_str(WORDS[rng.below(WORDS.len())]);
                text.push(' ');
            }
            text.push_str(".\n");
        }
        if text.len() >= next_plant {
            let key = planted[plants % planted.len()].expose_secret();
            match plants % 3 {
                0 => text.push_str(&format!("OPENAI_API_KEY={key}\n")),
                1 => text.push_str(&format!(
                    "Authorization: Basic {}\n",
                    base64(format!("user:{key}").as_bytes())
                )),
                _ => text.push_str(&format!("the key starts with {} ok\n", &key[8..28])),
            }
            plants += 1;
            next_plant += PLANT_EVERY;
        }
    }
    (text, plants)
}

fn redactor(secrets: &[SecretString]) -> Redactor {
    redactor_with(Redactor::builder(), secrets)
}

/// `builder`'s settings, with `secrets` labelled `KEY_0`, `KEY_1`, ...
fn redactor_with(mut builder: RedactorBuilder, secrets: &[SecretString]) -> Redactor {
    for (i, s) in secrets.iter().enumerate() {
        builder = builder.with_secret(format!("KEY_{i}"), s);
    }
    builder.build().unwrap()
}

/// The patterns the redactor registers for an alphanumeric key, rebuilt here so the raw
/// automaton searches for the same things: the key, base64 in both alphabets at the three
/// alignments (inner parts), hex in both cases, and the aligned 8-grams after the prefix.
fn same_patterns(secrets: &[SecretString]) -> Vec<Vec<u8>> {
    let mut patterns = Vec::new();
    for s in secrets {
        let key = s.expose_secret().as_bytes();
        patterns.push(key.to_vec());
        for offset in 0..3 {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(key);
            let encoded = base64(&bytes);
            let full = bytes.len() * 8 / 6;
            let inner = encoded[[0, 2, 3][offset]..full].to_owned();
            patterns.push(inner.replace(['+', '/'], "-").into_bytes());
            patterns.push(inner.into_bytes());
        }
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        patterns.push(hex.to_uppercase().into_bytes());
        patterns.push(hex.into_bytes());
        for gram in key[8..].chunks_exact(8) {
            patterns.push(gram.to_vec());
        }
    }
    patterns.sort();
    patterns.dedup();
    patterns
}

/// The naive approach: for each secret and each encoding, search and replace.
fn naive(text: &str, encoded: &[(String, String)]) -> String {
    let mut out = text.to_owned();
    for (pattern, label) in encoded {
        if out.contains(pattern.as_str()) {
            out = out.replace(pattern.as_str(), label);
        }
    }
    out
}

fn naive_patterns(secrets: &[SecretString]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, s) in secrets.iter().enumerate() {
        let label = format!("[REDACTED:KEY_{i}]");
        let key = s.expose_secret();
        out.push((key.to_owned(), label.clone()));
        for offset in 0..3 {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(key.as_bytes());
            let encoded = base64(&bytes);
            let inner = encoded[[0, 2, 3][offset]..bytes.len() * 8 / 6].to_owned();
            out.push((inner.replace(['+', '/'], "-"), label.clone()));
            out.push((inner, label.clone()));
        }
        let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
        out.push((hex.to_uppercase(), label.clone()));
        out.push((hex, label.clone()));
    }
    out
}

/// Text full of near misses for `secrets` (fixed seed): key prefixes followed by other
/// characters, `sk-proj-` with random bodies, base64 of other data, and long runs of key
/// characters without a separator. Nothing in it is a registered key or a fragment of one.
fn adversarial(secrets: &[SecretString], bytes: usize) -> String {
    let mut rng = Rng(99);
    let alnum = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut text = String::with_capacity(bytes + 4096);
    while text.len() < bytes {
        match rng.below(4) {
            0 => {
                // the first 8 to 15 characters of a key, then other ones
                let key = secrets[rng.below(secrets.len())].expose_secret();
                text.push_str(&key[..8 + rng.below(8)]);
                for _ in 0..32 {
                    text.push(char::from(alnum[rng.below(62)]));
                }
                text.push(' ');
            }
            1 => {
                let data: Vec<u8> = (0..120).map(|_| rng.next() as u8).collect();
                text.push_str(&base64(&data));
                text.push('\n');
            }
            2 => {
                text.push_str("sk-proj-");
                for _ in 0..40 {
                    text.push(char::from(alnum[rng.below(62)]));
                }
                text.push(',');
            }
            _ => {
                for _ in 0..400 {
                    text.push(char::from(alnum[rng.below(62)]));
                }
            }
        }
    }
    text
}

/// A JSON tool result of 4 KiB (a directory listing and some prose), with no key in it.
fn tool_result() -> String {
    let mut rng = Rng(5);
    let mut text = String::from("{\"status\":\"ok\",\"files\":[");
    while text.len() < 3000 {
        text.push_str(&format!(
            "{{\"name\":\"src/{}_{}.rs\",\"size\":{},\"modified\":\"2026-12-0{}T10:{:02}:00Z\"}},",
            WORDS[rng.below(WORDS.len())],
            WORDS[rng.below(WORDS.len())],
            rng.below(100_000),
            1 + rng.below(9),
            rng.below(60)
        ));
    }
    text.push_str("],\"summary\":\"");
    while text.len() < 4096 - 3 {
        text.push_str(WORDS[rng.below(WORDS.len())]);
        text.push(' ');
    }
    text.truncate(4096 - 2);
    text.push_str("\"}");
    text
}

/// `text` in pieces of `size` bytes (the corpus is ASCII, so these are whole characters).
fn pieces(text: &str, size: usize) -> impl Iterator<Item = &str> {
    (0..text.len())
        .step_by(size)
        .map(move |at| &text[at..(at + size).min(text.len())])
}

/// `text` pushed through a stream of `redactor` in pieces of `size` bytes (`push_into`, one
/// output `String`), then finished: the output's length.
fn streamed_len(redactor: &Redactor, text: &str, size: usize) -> usize {
    let mut stream = redactor.stream();
    let mut out = String::with_capacity(text.len());
    for piece in pieces(text, size) {
        stream.push_into(piece, &mut out);
    }
    stream.finish_into(&mut out);
    out.len()
}

fn guard(c: &mut Criterion) {
    let all = secrets(1000);
    let (text, plants) = corpus(&all[..10]);
    let mut group = c.benchmark_group("guard");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(text.len() as u64));

    for n in [1, 10, 100, 1000] {
        let started = Instant::now();
        let r = redactor(&all[..n]);
        let build = started.elapsed();
        if n >= 10 {
            // every planted key is found (the fragments and base64 ones included)
            assert_eq!(r.find(&text).len(), plants, "with {n} secrets");
        }
        eprintln!(
            "redactor with {n} secrets built in {build:?}, {} bytes of matcher ({} per key)",
            r.memory_usage(),
            r.memory_usage() / n
        );
        group.bench_with_input(BenchmarkId::new("redact", n), &text, |b, text| {
            b.iter(|| r.redact(black_box(text)).len())
        });
        // The same into one reused `String`: no fresh 64 MiB for the kernel to map each time.
        let mut out = String::with_capacity(text.len());
        group.bench_with_input(BenchmarkId::new("redact_into", n), &text, |b, text| {
            b.iter(|| {
                out.clear();
                r.redact_into(black_box(text), &mut out);
                out.len()
            })
        });

        let patterns = same_patterns(&all[..n]);
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .unwrap();
        group.bench_with_input(BenchmarkId::new("raw_aho_corasick", n), &text, |b, text| {
            b.iter(|| ac.find_iter(black_box(text.as_str())).count())
        });
    }

    let r = redactor(&all[..100]);
    // 100 keys in pieces of 1 to 64 bytes: a stream's per-call cost shows as the pieces shrink.
    for size in [1, 4, 16, 64] {
        group.bench_with_input(BenchmarkId::new("stream_pieces", size), &text, |b, text| {
            b.iter(|| streamed_len(&r, text, size))
        });
    }
    // What any one-shot redaction pays for its output: the text copied into a fresh `String`.
    group.bench_function("copy_fresh", |b| {
        b.iter(|| black_box(String::from(black_box(text.as_str()))).len())
    });
    // What `redact_into` pays for its output at least: the text copied into one reused
    // `String`.
    let mut reused = String::with_capacity(text.len());
    group.bench_function("copy_into", |b| {
        b.iter(|| {
            reused.clear();
            reused.push_str(black_box(text.as_str()));
            reused.len()
        })
    });
    // The floor of any stream: the same pieces copied out and nothing else.
    for size in [1, 4] {
        group.bench_with_input(BenchmarkId::new("pieces_copied", size), &text, |b, text| {
            b.iter(|| {
                let mut out = String::with_capacity(text.len());
                for piece in pieces(text, size) {
                    out.push_str(black_box(piece));
                }
                out.len()
            })
        });
    }
    // The floor of any stream that holds back the end of the current word, without searching
    // for anything: each piece appended to what is held back, and everything up to the last
    // space in it emitted.
    for size in [1, 4] {
        group.bench_with_input(BenchmarkId::new("stream_floor", size), &text, |b, text| {
            b.iter(|| {
                let mut out = String::with_capacity(text.len());
                let mut held = String::new();
                for piece in pieces(text, size) {
                    let piece = black_box(piece);
                    held.push_str(piece);
                    // Only the new piece can hold the last space; what is held is one word.
                    if let Some(k) = piece.rfind(' ') {
                        let cut = held.len() - piece.len() + k + 1;
                        out.push_str(&held[..cut]);
                        held.drain(..cut);
                    }
                }
                out.push_str(&held);
                out.len()
            })
        });
    }
    group.bench_with_input(
        BenchmarkId::new("stream_4_bytes_push", 100),
        &text,
        |b, text| {
            b.iter(|| {
                let mut stream = r.stream();
                let mut emitted = 0;
                for piece in pieces(text, 4) {
                    emitted += stream.push(piece).len();
                }
                emitted + stream.finish().len()
            })
        },
    );

    // Near misses only: as fast as ordinary text is the goal, 5 times slower the limit.
    let hard = adversarial(&all[..100], ADVERSARIAL_BYTES);
    assert!(r.find(&hard).is_empty());
    group.throughput(Throughput::Bytes(hard.len() as u64));
    group.bench_with_input(BenchmarkId::new("adversarial", 100), &hard, |b, t| {
        b.iter(|| r.redact(black_box(t)).len())
    });
    group.bench_with_input(
        BenchmarkId::new("redact_16MiB", 100),
        &text[..ADVERSARIAL_BYTES],
        |b, t| b.iter(|| r.redact(black_box(t)).len()),
    );

    // With detection of unknown keys on (as `keyward redact` runs by default), on one thread
    // and on two (`with_parallel_detection`), into a reused `String`.
    let detecting = |parallel: bool| {
        let builder = Redactor::builder()
            .with_unknown_detection(true)
            .with_parallel_detection(parallel);
        redactor_with(builder, &all[..100])
    };
    for (threads, r) in [
        ("one_thread", detecting(false)),
        ("two_threads", detecting(true)),
    ] {
        let mut out = String::with_capacity(ADVERSARIAL_BYTES + 4096);
        group.bench_with_input(
            BenchmarkId::new("redact_detecting_16MiB", threads),
            &text[..ADVERSARIAL_BYTES],
            |b, t| {
                b.iter(|| {
                    out.clear();
                    r.redact_into(black_box(t), &mut out);
                    out.len()
                })
            },
        );
    }

    // A stream with detection on (as `Edge::to_model_stream` has it), in 4-byte pieces: the
    // current line is held back until its end, where the detector reads it.
    let r_detecting = detecting(false);
    group.bench_with_input(
        BenchmarkId::new("stream_detecting_16MiB", 4),
        &text[..ADVERSARIAL_BYTES],
        |b, t| b.iter(|| streamed_len(&r_detecting, t, 4)),
    );

    // What one call of `redact` costs on a typical tool result, with 100 and 1000 keys.
    let result = tool_result();
    assert_eq!(result.len(), 4096);
    group.throughput(Throughput::Bytes(result.len() as u64));
    let r1000 = redactor(&all);
    for (n, r) in [(100, &r), (1000, &r1000)] {
        group.bench_with_input(BenchmarkId::new("tool_result_4KiB", n), &result, |b, t| {
            b.iter(|| r.redact(black_box(t)).len())
        });
    }

    let slice = &text[..NAIVE_BYTES];
    group.throughput(Throughput::Bytes(slice.len() as u64));
    let encoded = naive_patterns(&all[..100]);
    group.bench_with_input(
        BenchmarkId::new("naive_find_replace", 100),
        slice,
        |b, s| b.iter(|| naive(black_box(s), &encoded).len()),
    );
    group.bench_with_input(BenchmarkId::new("redact_4MiB", 100), slice, |b, s| {
        b.iter(|| r.redact(black_box(s)).len())
    });
    group.finish();
}

/// Keys loading one at a time into a `SharedRedactor` (as a `KeyManager` adds them on cache
/// misses), read once at the end, against building one redactor for all of them.
fn shared(c: &mut Criterion) {
    let all = secrets(1000);
    let mut group = c.benchmark_group("shared");
    group.sample_size(10);
    group.bench_function("update_one_at_a_time_then_current/1000", |b| {
        b.iter(|| {
            let shared = SharedRedactor::new(Redactor::builder());
            for (i, key) in all.iter().enumerate() {
                shared.update(&format!("K{i}"), key).unwrap();
            }
            shared.current().len()
        })
    });
    group.bench_function("build_once/1000", |b| b.iter(|| redactor(&all).len()));
    for n in [1, 100] {
        group.bench_function(format!("build_once/{n}"), |b| {
            b.iter(|| redactor(&all[..n]).len())
        });
    }
    group.finish();
}

/// A long secret (a PEM key, a kubeconfig registered whole) that the text repeats: 16 copies of
/// a random secret of 1, 4 and 16 KiB, each on a line of its own. The work per byte should not
/// grow with the secret's length.
fn long_secret(c: &mut Criterion) {
    let mut rng = Rng(11);
    let alnum = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut group = c.benchmark_group("long_secret");
    group.sample_size(10);
    for kib in [1, 4, 16] {
        let secret: String = (0..kib * 1024)
            .map(|_| char::from(alnum[rng.below(62)]))
            .collect();
        let text = format!("key: {secret} end\n").repeat(16);
        let r = redactor(&[SecretString::from(secret)]);
        assert_eq!(r.find(&text).len(), 16);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("redact", kib), &text, |b, t| {
            b.iter(|| r.redact(black_box(t)).len())
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = guard, shared, long_secret
}
criterion_main!(benches);
