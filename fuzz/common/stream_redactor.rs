// The property behind the `stream_redactor` fuzz target, shared with `tests/integration/stream.rs` so it also
// runs as an ordinary test on stable Rust.
//
// The input decides everything: a header picks up to three secrets and the piece sizes, the rest
// is the text, into which the secrets (and parts of them) are spliced so that the fuzzer does not
// have to guess 16 matching bytes. Checked: no panic; the stream's output for that split equals
// one-shot `redact`; no registered secret survives in the output; `check` passes on the output.

use keyward::{Redactor, SecretString};

/// Runs the property on one input; panics if it does not hold.
pub(crate) fn check_stream_redactor(data: &[u8]) {
    const ALPHABET: &[u8] = b"abcdABCD0123-_xyz";
    if data.len() < 8 {
        return;
    }
    let (header, rest) = data.split_at(8);
    let count = usize::from(header[0] % 3) + 1;
    let fragment_len = 6 + usize::from(header[1] % 14);
    let mut secrets = Vec::new();
    for i in 0..count {
        // 10 to 41 characters from a small alphabet, so secrets overlap and share k-grams
        let len = 10 + usize::from(header[2 + i] % 32);
        let seed = usize::from(header[5 + i]);
        let value: String = (0..len)
            .map(|j| char::from(ALPHABET[(seed * 7 + j * (seed % 5 + 1)) % ALPHABET.len()]))
            .collect();
        let value = if header[2 + i] & 0x80 != 0 {
            format!("sk-proj-{value}")
        } else {
            value
        };
        secrets.push(value);
    }

    // The text: input bytes as characters, with secrets spliced in where a marker byte says so.
    let mut text = String::new();
    let mut cuts = Vec::new();
    let mut bytes = rest.iter().copied();
    while let Some(b) = bytes.next() {
        match b {
            0xF0..=0xF2 => text.push_str(&secrets[usize::from(b - 0xF0) % secrets.len()]),
            0xF3 => {
                let s = &secrets[usize::from(bytes.next().unwrap_or(0)) % secrets.len()];
                let from = usize::from(bytes.next().unwrap_or(0)) % s.len();
                let len = usize::from(bytes.next().unwrap_or(0)) % (s.len() - from + 1);
                text.push_str(&s[from..from + len]);
            }
            0xF4 => cuts.push(text.len()),
            0xF5 => text.push('é'),
            0xF6 => text.push('日'),
            b => text
                .push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]).to_ascii_lowercase()),
        }
    }

    let mut builder = Redactor::builder().with_fragment_len(fragment_len);
    for (i, s) in secrets.iter().enumerate() {
        builder = builder.with_secret(format!("S{i}"), &SecretString::from(s.as_str()));
    }
    let Ok(redactor) = builder.build() else {
        return;
    };
    let whole = redactor.redact(&text).into_owned();

    let mut stream = redactor.stream();
    let mut out = String::new();
    let mut at = 0;
    cuts.push(text.len());
    for cut in cuts {
        out += &stream.push(&text[at..cut]);
        at = cut;
    }
    out += &stream.finish();

    assert_eq!(out, whole, "stream and one-shot differ");
    for s in &secrets {
        assert!(
            !out.contains(s.as_str()),
            "a registered secret survived redaction"
        );
    }
    assert!(
        redactor.check(&out).is_ok(),
        "the redacted text still leaks"
    );
}
