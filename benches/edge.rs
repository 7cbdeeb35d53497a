//! What the agent edge costs per tool call: `Edge::restore` on a 2 KiB JSON tool call and
//! `Edge::to_model` on a 64 KiB tool result, each against the guard's plain `Redactor::redact`
//! on the same input (the manager's redactor, knowing the same keys; for `to_model` also with
//! detection on, as the edge has it); and `EdgeMiddleware`'s added time per request against the
//! same client without it, on a keep-alive HTTP server on 127.0.0.1 started here. Figures and
//! the command are in docs/benchmarks.md.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use keyward::edge::{Binding, Edge, EdgeMiddleware, EdgePolicy};
use keyward::{KeyManager, MemoryProvider, Redactor, SecretString};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};

/// Obviously fake keys, made here.
fn keys() -> Vec<(String, String)> {
    vec![
        ("GITHUB_TOKEN".into(), format!("ghp_{}", "BeNcH0".repeat(6))),
        (
            "OPENAI_API_KEY".into(),
            format!("sk-proj-{}", "FaKe1".repeat(8)),
        ),
        (
            "STRIPE_KEY".into(),
            format!("rk_live_{}", "DuMmY2".repeat(6)),
        ),
    ]
}

fn edge(port: u16) -> Edge {
    let mut provider = MemoryProvider::new();
    for (name, value) in keys() {
        provider = provider.with(name.as_str(), value.as_str());
    }
    let manager = KeyManager::builder(provider).build().unwrap();
    let local = Binding::http("127.0.0.1").with_port(port);
    let policy = EdgePolicy::builder()
        .with_key("GITHUB_TOKEN", local.clone().with_bearer())
        .with_key("OPENAI_API_KEY", Binding::https("api.openai.com"))
        .with_key("STRIPE_KEY", Binding::https("api.stripe.com"))
        .with_tool("tool", ["*"])
        .build()
        .unwrap();
    let edge = Edge::new("bench", manager, policy).unwrap();
    edge.load().unwrap();
    edge
}

/// A 2 KiB JSON tool call with two handles in it.
fn tool_call(edge: &Edge) -> String {
    let github = edge.handle("GITHUB_TOKEN").unwrap();
    let openai = edge.handle("OPENAI_API_KEY").unwrap();
    let mut call = format!(
        r#"{{"tool": "http", "url": "https://api.github.com/graphql", "auth": "Bearer {github}", "fallback": "{openai}", "notes": ["#
    );
    while call.len() < 2048 - 40 {
        call.push_str(r#""the model wrote a long argument list", "#);
    }
    call.push_str(r#""end"]}"#);
    call
}

/// A 64 KiB tool result with a key echoed every 8 KiB.
fn tool_result() -> String {
    let keys = keys();
    let mut text = String::with_capacity(64 << 10);
    let mut i = 0;
    while text.len() < 64 << 10 {
        if text.len() / (8 << 10) > i {
            i += 1;
            text.push_str(&format!("token={} ", keys[i % keys.len()].1));
        }
        text.push_str("the server answered with a long page of prose and code, ");
    }
    text
}

fn transforms(c: &mut Criterion) {
    let edge = edge(1);
    let redactor = edge.manager().redactor().current();
    let call = tool_call(&edge);
    let result = tool_result();
    // Both do something: the call holds handles, the result holds keys.
    assert_ne!(edge.restore("tool", &call).unwrap().expose_secret(), call);
    assert_ne!(edge.to_model(&result), result);

    let mut group = c.benchmark_group("restore_2KiB_call");
    group.bench_function("edge_restore", |b| {
        b.iter(|| edge.restore("tool", black_box(&call)).unwrap())
    });
    group.bench_function("redact", |b| {
        b.iter(|| redactor.redact(black_box(&call)).len())
    });
    group.finish();

    let mut group = c.benchmark_group("to_model_64KiB_result");
    group.bench_function("edge_to_model", |b| {
        b.iter(|| edge.to_model(black_box(&result)).len())
    });
    group.bench_function("redact", |b| {
        b.iter(|| redactor.redact(black_box(&result)).len())
    });
    // The same keys with detection of unknown keys on, as the edge has by default: what
    // `to_model` does besides putting handles in.
    let secrets: Vec<(String, SecretString)> = keys()
        .into_iter()
        .map(|(name, value)| (name, SecretString::from(value)))
        .collect();
    let detecting = Redactor::builder()
        .with_secrets(secrets.iter().map(|(name, value)| (name.as_str(), value)))
        .with_unknown_detection(true)
        .build()
        .unwrap();
    assert!(detecting.find(&result).len() >= redactor.find(&result).len());
    group.bench_function("redact_detecting", |b| {
        b.iter(|| detecting.redact(black_box(&result)).len())
    });
    group.finish();
}

/// A keep-alive HTTP/1.1 server on 127.0.0.1 answering `200 ok` to every request; its port.
fn serve() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer_all(stream));
        }
    });
    port
}

fn answer_all(stream: TcpStream) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let answer = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok";
        if writer.write_all(answer).is_err() {
            return;
        }
    }
}

fn middleware(c: &mut Criterion) {
    let port = serve();
    let edge = edge(port);
    let token = keys()[0].1.clone();
    let url = format!("http://127.0.0.1:{port}/user");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let inner = || EdgeMiddleware::client_builder().build().unwrap();
    let plain: ClientWithMiddleware = ClientBuilder::new(inner()).build();
    let guarded = ClientBuilder::new(inner())
        .with(EdgeMiddleware::new(edge.clone(), "tool").unwrap())
        .build();

    let mut group = c.benchmark_group("http_request_local");
    // The same bytes on the wire: the plain client sets the token itself, the edge puts it in
    // by its binding.
    group.bench_function("client", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let answer = plain.get(&url).bearer_auth(&token).send().await.unwrap();
                answer.bytes().await.unwrap().len()
            })
        })
    });
    group.bench_function("client_with_edge", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let answer = guarded.get(&url).send().await.unwrap();
                answer.bytes().await.unwrap().len()
            })
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = transforms, middleware
}
criterion_main!(benches);
