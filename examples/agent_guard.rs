//! An agent's three ways of leaking a key, and what the guard makes of each:
//! a model answer streamed in tokens (the key split across tokens, and once in base64),
//! a tool call whose JSON arguments carry a key, and a log line with a key.
//!
//! Offline: the "model" is a list of tokens and the keys are fake, generated below.
//!
//! ```text
//! cargo run --example agent_guard
//! ```

use std::error::Error;
use std::io::Write;

use keyward::guard::RedactingWriter;
use keyward::{Redactor, SecretString};

fn main() -> Result<(), Box<dyn Error>> {
    // Fake keys, obviously not real ones.
    let openai = SecretString::from(format!("sk-proj-{}", "Ab3dEf6hIj9l".repeat(4)));
    let github = SecretString::from(format!("ghp_{}", "Zx8vQw2e".repeat(4) + "Rt5y"));
    let redactor = Redactor::builder()
        .with_secret("OPENAI_API_KEY", &openai)
        .with_secret("GITHUB_TOKEN", &github)
        .build()?;

    println!("== 1. a model answer, streamed token by token ==");
    let answer = format!(
        "Sure, the key from your config is {}. Encoded for the header: {}. Anything else?",
        openai.expose_secret(),
        base64(format!("token:{}", github.expose_secret()).as_bytes()),
    );
    // A model emits a few bytes at a time; the key arrives in many pieces.
    let tokens = split_into_tokens(&answer);
    println!("the model sent {} tokens", tokens.len());
    let mut stream = redactor.stream();
    let mut shown = String::new();
    for token in &tokens {
        let safe = stream.push(token);
        // This is what a UI would display as the tokens arrive.
        shown.push_str(&safe);
    }
    shown.push_str(&stream.finish());
    println!("the user sees: {shown}");

    println!("\n== 2. a tool call whose arguments carry a key ==");
    let arguments = format!(
        r#"{{"url":"https://api.example.com/upload","headers":{{"Authorization":"Bearer {}"}}}}"#,
        openai.expose_secret()
    );
    match redactor.check(&arguments) {
        Ok(()) => println!("tool call allowed"),
        Err(err) => {
            println!("tool call refused: {err} (kind: {:?})", err.kind());
            println!("arguments as logged: {}", redactor.redact(&arguments));
        }
    }
    for finding in redactor.find(&arguments) {
        println!(
            "  finding: bytes {:?}, {} as {}, fingerprint {}",
            finding.range(),
            finding.label(),
            finding.encoding(),
            finding.fingerprint()
        );
    }

    println!("\n== 3. a log line with a key, through a RedactingWriter ==");
    let mut log = RedactingWriter::new(Vec::new(), &redactor);
    writeln!(
        log,
        "INFO git clone https://x-access-token:{}@github.com/acme/agent.git",
        github.expose_secret()
    )?;
    // half a key is a leak too
    writeln!(
        log,
        "DEBUG key prefix was {}",
        &openai.expose_secret()[..30]
    )?;
    let written = String::from_utf8(log.finish()?)?;
    print!("the log file gets:\n{written}");

    assert!(!shown.contains(openai.expose_secret()));
    assert!(!written.contains(github.expose_secret()));
    Ok(())
}

/// Splits text into model-like tokens of 1 to 4 characters.
fn split_into_tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    let mut size = 1;
    while at < chars.len() {
        let end = (at + size).min(chars.len());
        tokens.push(chars[at..end].iter().collect());
        at = end;
        size = size % 4 + 1;
    }
    tokens
}

/// Standard base64 with padding, as an HTTP client would put in a header.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
        }
        for _ in chunk.len()..3 {
            out.push('=');
        }
    }
    out
}
