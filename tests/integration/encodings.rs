//! The encodings the guard promises, as real encoders write them: JSON from serde_json, Go,
//! Python, JavaScript and .NET; percent-encoding from Python, JavaScript and HTML forms; base64
//! and hex wrapped onto lines by `base64`, `openssl`, MIME, PEM and `xxd`, at any width.
//!
//! Where a real encoder is on the machine (python3, node, coreutils, openssl, xxd) its own output
//! is used; the Go and .NET JSON styles, which have no encoder here, are written by hand below.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use keyward::guard::Encoding;
use keyward::{Redactor, SecretString};
use proptest::prelude::*;

/// A small deterministic generator, so a failure names a reproducible secret.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// Obviously fake secrets that hold the characters encoders disagree on: `/`, `&<>'"+`, space,
/// `~!()*`, non-ASCII, and a backslash.
fn tricky_secrets(count: usize, seed: u64) -> Vec<String> {
    const PLAIN: &[char] = &[
        'F', 'a', 'K', 'e', 'x', 'Q', '7', '0', '3', 'z', 'M', 'p', '-', '_', '.',
    ];
    const SPECIAL: &[char] = &[
        '/', '&', '<', '>', '\'', '"', '+', ' ', '~', '!', '(', ')', '*', 'é', 'ß', '日', '\\',
        '=', '?', '#', '%', '`',
    ];
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let len = 12 + (rng.next() % 30) as usize;
            let mut s = String::from("fake-");
            for i in 0..len {
                if i % 3 == 1 || rng.next().is_multiple_of(4) {
                    s.push(*rng.pick(SPECIAL));
                } else {
                    s.push(*rng.pick(PLAIN));
                }
            }
            s
        })
        .collect()
}

fn redactor(secrets: &[String]) -> Redactor {
    let keys: Vec<SecretString> = secrets
        .iter()
        .map(|s| SecretString::from(s.as_str()))
        .collect();
    let mut builder = Redactor::builder();
    for (i, key) in keys.iter().enumerate() {
        builder = builder.with_secret(format!("K{i}"), key);
    }
    builder.build().unwrap()
}

/// Runs `program` with `input` on stdin; `None` (with a note) if it is not installed.
fn run(program: &str, args: &[&str], input: &[u8]) -> Option<Vec<u8>> {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) => {
            eprintln!("skipping `{program}` encodings: cannot run it ({err})");
            return None;
        }
    };
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "`{program}` failed");
    Some(output.stdout)
}

/// Each secret in each form a script prints, one JSON array of strings per secret and line.
fn encoded_by(program: &str, script: &str, secrets: &[String]) -> Option<Vec<Vec<String>>> {
    let input = serde_json::to_string(secrets).unwrap();
    let flag = if program == "node" { "-e" } else { "-c" };
    let out = run(program, &[flag, script], input.as_bytes())?;
    let lines = String::from_utf8(out).unwrap();
    Some(
        lines
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect(),
    )
}

/// Asserts every form of every secret is found (inside other text) and replaced.
fn assert_all_found(redactor: &Redactor, secrets: &[String], forms: &[Vec<String>], who: &str) {
    assert_eq!(forms.len(), secrets.len());
    for (i, forms) in forms.iter().enumerate() {
        for form in forms {
            let text = format!("got {{\"v\": \"{form}\"}} ok");
            let redacted = redactor.redact(&text);
            assert!(
                !redacted.contains(form.as_str()),
                "{who}: form {form:?} of secret {i} passed"
            );
            assert!(
                redacted.contains(&format!("K{i}")),
                "{who}: form {form:?} of secret {i} not named"
            );
        }
    }
}

/// Switches the hex digits of every `\uXXXX` to upper case.
fn upper_unicode_escapes(json: &str) -> String {
    let mut out = String::new();
    let mut rest = json;
    while let Some(at) = rest.find("\\u") {
        out.push_str(&rest[..at + 2]);
        out.push_str(&rest[at + 2..at + 6].to_ascii_uppercase());
        rest = &rest[at + 6..];
    }
    out + rest
}

/// The inside of a JSON string literal: serde_json's output without its quotes.
fn unquote(literal: &str) -> String {
    literal[1..literal.len() - 1].to_owned()
}

#[test]
fn json_as_serde_json_and_go_and_dotnet_write_it_in_both_hex_cases() {
    let secrets = tricky_secrets(60, 11);
    let redactor = redactor(&secrets);
    let forms: Vec<Vec<String>> = secrets
        .iter()
        .map(|s| {
            let serde = unquote(&serde_json::to_string(s).unwrap());
            let (go, dotnet) = (go_json(s), dotnet_json(s));
            vec![
                upper_unicode_escapes(&serde),
                serde.replace('/', "\\/"),
                serde,
                upper_unicode_escapes(&go),
                go,
                lower_unicode_escapes(&dotnet),
                dotnet,
            ]
        })
        .collect();
    assert_all_found(&redactor, &secrets, &forms, "serde_json/Go/.NET");
}

fn lower_unicode_escapes(json: &str) -> String {
    let mut out = String::new();
    let mut rest = json;
    while let Some(at) = rest.find("\\u") {
        out.push_str(&rest[..at + 2]);
        out.push_str(&rest[at + 2..at + 6].to_ascii_lowercase());
        rest = &rest[at + 6..];
    }
    out + rest
}

/// Go's `encoding/json`: `<`, `>`, `&`, U+2028 and U+2029 as `\u00XX`, lower-case hex.
fn go_json(s: &str) -> String {
    let mut out = String::new();
    for c in unquote(&serde_json::to_string(s).unwrap()).chars() {
        match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)))
            }
            c => out.push(c),
        }
    }
    out
}

/// .NET's `System.Text.Json` default: HTML-sensitive characters, `'`, `+`, `` ` ``, `"` and
/// every non-ASCII character as `\uXXXX`, upper-case hex.
fn dotnet_json(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if matches!(c, '<' | '>' | '&' | '\'' | '+' | '`' | '"') || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

const PYTHON_JSON_AND_PERCENT: &str = r#"
import json, sys, urllib.parse
for s in json.load(sys.stdin):
    forms = [
        json.dumps(s)[1:-1],
        json.dumps(s, ensure_ascii=False)[1:-1],
        urllib.parse.quote(s),
        urllib.parse.quote(s, safe=''),
        urllib.parse.quote_plus(s),
        urllib.parse.urlencode({'k': s})[2:],
    ]
    print(json.dumps(forms))
"#;

#[test]
fn json_and_percent_as_python_writes_them_in_both_cases() {
    let secrets = tricky_secrets(60, 23);
    let redactor = redactor(&secrets);
    let Some(forms) = encoded_by("python3", PYTHON_JSON_AND_PERCENT, &secrets) else {
        return;
    };
    // Both hex cases of each escape: `\u00e9` / `\u00E9`, `%2f` / `%2F`.
    let forms: Vec<Vec<String>> = forms
        .into_iter()
        .map(|forms| {
            let (json, percent) = forms.split_at(2);
            let mut all = forms.clone();
            all.extend(json.iter().map(|f| upper_unicode_escapes(f)));
            all.extend(percent.iter().map(|f| lower_percent_escapes(f)));
            all
        })
        .collect();
    assert_all_found(&redactor, &secrets, &forms, "python");
}

/// Switches the hex digits of every `%XX` to lower case.
fn lower_percent_escapes(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        out.push(bytes[i]);
        if bytes[i] == b'%'
            && bytes.len() > i + 2
            && bytes[i + 1..i + 3].iter().all(u8::is_ascii_hexdigit)
        {
            out.extend(bytes[i + 1..i + 3].iter().map(u8::to_ascii_lowercase));
            i += 2;
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

const NODE_JSON_AND_PERCENT: &str = r#"
const input = require('fs').readFileSync(0, 'utf8');
for (const s of JSON.parse(input)) {
  const forms = [
    JSON.stringify(s).slice(1, -1),
    encodeURIComponent(s),
    new URLSearchParams({ k: s }).toString().slice(2),
  ];
  console.log(JSON.stringify(forms));
}
"#;

#[test]
fn json_and_percent_as_javascript_writes_them() {
    let secrets = tricky_secrets(60, 37);
    let redactor = redactor(&secrets);
    let Some(forms) = encoded_by("node", NODE_JSON_AND_PERCENT, &secrets) else {
        return;
    };
    let forms: Vec<Vec<String>> = forms
        .into_iter()
        .map(|forms| {
            let mut all = forms.clone();
            all.extend(forms[1..].iter().map(|f| lower_percent_escapes(f)));
            all
        })
        .collect();
    assert_all_found(&redactor, &secrets, &forms, "node");
}

const PYTHON_ESCAPED: &str = r#"
import json, sys, urllib.parse
for s in json.load(sys.stdin):
    forms = [
        urllib.parse.quote(s, safe=''),
        urllib.parse.quote(s),
        urllib.parse.quote_plus(s),
        urllib.parse.urlencode({'k': s})[2:],
        json.dumps(s)[1:-1].replace('/', '\\/'),
    ]
    print(json.dumps(forms))
"#;

/// `text` with the escapes of base64's `+`, `/` and `=` undone, as a URL or JSON reader would.
fn unescape_base64(text: &str) -> String {
    let mut out = text.to_owned();
    for (escape, plain) in [
        ("%2B", "+"),
        ("%2F", "/"),
        ("%3D", "="),
        ("\\u002B", "+"),
        ("\\/", "/"),
    ] {
        out = out
            .replace(escape, plain)
            .replace(&escape.to_ascii_lowercase(), plain);
    }
    out
}

#[test]
fn base64_is_found_with_its_plus_and_slash_escaped_in_a_url_or_json() {
    let secrets = tricky_secrets(60, 41);
    let redactor = redactor(&secrets);
    let mut rng = Rng(43);
    let (mut encoded, mut cores) = (Vec::new(), Vec::new());
    for secret in &secrets {
        let (blob, at) = blob_around(secret, &mut rng, 0);
        let blob = base64(&blob);
        cores.push(base64_core(&blob, at, secret.len()));
        encoded.push(blob);
    }
    // Else the test would prove nothing: the secrets' own characters give `+` and `/`.
    let escaping = cores.iter().filter(|c| c.contains(['+', '/'])).count();
    assert!(escaping >= 30, "only {escaping} of 60 hold a `+` or `/`");
    // Python's `quote` (with and without `/` kept), `quote_plus` and `urlencode`, and PHP's JSON
    // (`\/`); lower-case percent escapes, and .NET's JSON (`\u002B`), written here.
    let Some(forms) = encoded_by("python3", PYTHON_ESCAPED, &encoded) else {
        return;
    };
    for (i, forms) in forms.into_iter().enumerate() {
        let mut all = forms.clone();
        all.extend(forms[..4].iter().map(|f| lower_percent_escapes(f)));
        all.push(dotnet_json(&encoded[i]));
        // Go's `url.PathEscape`: `/` escaped, `+` kept.
        all.push(encoded[i].replace('/', "%2F"));
        for form in all {
            let text = format!("GET /x?sig={form}&n=1 {{\"v\": \"{form}\"}}");
            let redacted = redactor.redact(&text);
            assert!(
                redacted.contains(&format!("K{i}")),
                "form {form:?} of secret {i} not named"
            );
            assert!(
                !unescape_base64(&redacted).contains(&cores[i]),
                "form {form:?} of secret {i} passed: {redacted}"
            );
        }
    }
}

/// Go's `url.PathEscape`, written by hand (no Go here): letters, digits, `-._~` and `$&+:=@`
/// kept, every other byte `%XX` in upper case.
fn go_path_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~$&+:=@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[test]
fn percent_as_go_path_escape_writes_it_in_both_cases() {
    let secrets = tricky_secrets(60, 53);
    let redactor = redactor(&secrets);
    let forms: Vec<Vec<String>> = secrets
        .iter()
        .map(|s| {
            let go = go_path_escape(s);
            vec![lower_percent_escapes(&go), go]
        })
        .collect();
    assert_all_found(&redactor, &secrets, &forms, "go");
}

/// Obviously fake keys of the usual alphabet, for the wrapped encodings.
fn plain_secrets(count: usize, seed: u64) -> Vec<String> {
    let alphabet: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        .chars()
        .collect();
    let mut rng = Rng(seed);
    (0..count)
        .map(|i| {
            let len = 16 + (rng.next() % 48) as usize;
            let body: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
            format!("fake{i}-{body}")
        })
        .collect()
}

/// A blob with the secret in the middle of other bytes, so it sits at any base64 alignment, and
/// where the secret starts in it.
fn blob_around(secret: &str, rng: &mut Rng, min_pad: usize) -> (Vec<u8>, usize) {
    let before = min_pad + (rng.next() % 40) as usize;
    let after = min_pad + (rng.next() % 40) as usize;
    let mut blob: Vec<u8> = (0..before).map(|_| (rng.next() % 256) as u8).collect();
    blob.extend_from_slice(secret.as_bytes());
    blob.extend((0..after).map(|_| (rng.next() % 256) as u8));
    (blob, before)
}

/// The characters of `encoded`, the base64 of a blob holding `len` secret bytes at `at`, that
/// depend on the secret's bytes alone: what no neighbour can change.
fn base64_core(encoded: &str, at: usize, len: usize) -> String {
    let first = (8 * at).div_ceil(6);
    let end = 8 * (at + len) / 6;
    encoded[first..end].to_owned()
}

/// The text with every line break of the joined search removed: what a reader would decode.
fn joined(text: &str) -> String {
    text.replace("\\r\\n", "")
        .replace("\\n", "")
        .lines()
        .map(str::trim_start)
        .collect()
}

/// Asserts that the wrapped form of secret `label` in `text` is found, and that the part of
/// its encoding that depends on the secret alone (`core`) is gone from the redacted text, even
/// with its lines joined again. Returns the redacted text.
fn assert_wrapped_found(
    redactor: &Redactor,
    label: &str,
    core: &str,
    text: &str,
    who: &str,
) -> String {
    let findings = redactor.find(text);
    assert!(
        findings.iter().any(|f| f.label() == label
            && matches!(
                f.encoding(),
                Encoding::Base64 | Encoding::Base64Url | Encoding::Hex
            )),
        "{who}: wrapped form of {label} not found in {text:?}"
    );
    let redacted = redactor.redact(text).into_owned();
    assert!(
        !joined(&redacted).contains(core),
        "{who}: wrapped form of {label} survived: {redacted:?}"
    );
    redacted
}

#[test]
fn base64_and_hex_from_real_tools_are_found_at_their_wrap_widths() {
    let secrets = plain_secrets(12, 5);
    let redactor = redactor(&secrets);
    let mut rng = Rng(99);
    for (i, secret) in secrets.iter().enumerate() {
        let label = format!("K{i}");
        let (blob, at) = blob_around(secret, &mut rng, 60);
        let tools: [(&str, &[&str], bool); 5] = [
            ("base64", &[], false),
            ("base64", &["-w", "17"], false),
            ("openssl", &["base64"], false),
            ("xxd", &["-p"], true),
            ("xxd", &["-p", "-c", "7"], true),
        ];
        for (program, args, is_hex) in tools {
            let Some(out) = run(program, args, &blob) else {
                continue;
            };
            let out = String::from_utf8(out).unwrap();
            assert!(out.trim_end().contains('\n'), "{program} did not wrap");
            let text = format!("$ {program}\n{out}$ echo done\n");
            let core = if is_hex {
                hex_of(secret.as_bytes())
            } else {
                base64_core(&joined(&out), at, secret.len())
            };
            assert_wrapped_found(&redactor, &label, &core, &text, program);
        }
        // MIME: 76 characters and `\r\n`, as Python's email package writes it.
        let mime = wrap(&base64(&blob), 76, "\r\n", "");
        let core = base64_core(&base64(&blob), at, secret.len());
        assert_wrapped_found(
            &redactor,
            &label,
            &core,
            &format!("body:\r\n{mime}\r\n"),
            "MIME",
        );
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Standard base64 of `bytes`, padded.
fn base64(bytes: &[u8]) -> String {
    crate::common::base64(bytes, false, true)
}

/// `text` broken into lines of `width`, each ended with `eol` and started with `indent`.
fn wrap(text: &str, width: usize, eol: &str, indent: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(width)
        .map(|line| format!("{indent}{}{eol}", line.iter().collect::<String>()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any width from 1 to 200, with `\n`, `\r\n` or their JSON escapes, indented or not, base64
    /// at any alignment or hex in either case, inside a longer run of key characters (lines of
    /// it longer than any pattern, before and after), the first line alone or after a label
    /// (`KEY=`, a quote; `token: ` and other words and a space, from 16 characters a line):
    /// found, in one piece and streamed in any pieces.
    #[test]
    fn wrapped_base64_and_hex_are_found_at_any_width_and_split(
        seed in any::<u64>(),
        width in 1..200usize,
        lead in prop_oneof![Just(0usize), 1..400usize],
        trail in prop_oneof![Just(0usize), 1..400usize],
        eol in prop_oneof![Just("\n"), Just("\r\n"), Just("\\n"), Just("\\r\\n")],
        indent in prop_oneof![Just(""), Just("  "), Just("\t")],
        label in prop_oneof![
            Just(""),
            Just("token: "),
            Just("Authorization: Bearer "),
            Just("key:\t"),
            Just("the key is "),
            Just("KEY="),
            Just("\"stdout\": \""),
        ],
        hex in any::<bool>(),
        upper in any::<bool>(),
        piece in 1..64usize,
    ) {
        let secrets = plain_secrets(3, seed | 1);
        let redactor = redactor(&secrets);
        let mut rng = Rng(seed | 1);
        let which = (rng.next() % 3) as usize;
        let secret = &secrets[which];
        let (encoded, core) = if hex {
            let h = hex_of(secret.as_bytes());
            let h = if upper { h.to_ascii_uppercase() } else { h };
            (h.clone(), h)
        } else {
            let (blob, at) = blob_around(secret, &mut rng, 0);
            let e = base64(&blob);
            let core = base64_core(&e, at, secret.len());
            (e, core)
        };
        let mut key_characters = |n: usize| -> String {
            const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            (0..n).map(|_| char::from(ALNUM[(rng.next() % 62) as usize])).collect()
        };
        let word = format!("{}{encoded}{}", key_characters(lead), key_characters(trail));
        // After a word and a space or tab (the label's, or the indentation after a label), a
        // first line joins the next from 16 characters on.
        let after_blank = !label.is_empty() && (label.ends_with([' ', '\t']) || !indent.is_empty());
        let width = if after_blank { width.max(16) } else { width };
        let text = format!("output:\n{label}{}done.\n", wrap(&word, width, eol, indent));
        let label = format!("K{which}");
        let one_shot = assert_wrapped_found(&redactor, &label, &core, &text, "generated");
        // Streamed in pieces of `piece` bytes (moved to character boundaries): the same.
        let mut stream = redactor.stream();
        let mut out = String::new();
        let mut at = 0;
        while at < text.len() {
            let mut end = (at + piece).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            out += &stream.push(&text[at..end]);
            at = end;
        }
        out += &stream.finish();
        prop_assert_eq!(out, one_shot);
    }
}

#[test]
fn ordinary_wrapped_text_is_left_alone() {
    let secrets = plain_secrets(5, 77);
    let redactor = redactor(&secrets);
    let mut rng = Rng(3);
    for width in [1, 7, 60, 64, 76] {
        let other = base64(
            &(0..300)
                .map(|_| (rng.next() % 256) as u8)
                .collect::<Vec<_>>(),
        );
        let text = wrap(&other, width, "\n", "");
        assert_eq!(redactor.redact(&text), text, "width {width}");
        let prose = "Some words\nat the ends\nof lines and path\\names too.\n".repeat(20);
        assert_eq!(redactor.redact(&prose), prose);
    }
}

#[test]
fn wrapped_base64_after_a_quote_an_equals_sign_or_a_word_is_found() {
    let secrets = plain_secrets(2, 8);
    let redactor = redactor(&secrets);
    let (blob, at) = blob_around(&secrets[1], &mut Rng(4), 30);
    let encoded = base64(&blob);
    let core = base64_core(&encoded, at, secrets[1].len());
    let lines = wrap(&encoded, 40, "\\n", "");
    for text in [
        format!("{{\"stdout\": \"{lines}\", \"code\": 0}}"),
        format!("TOKEN_B64={}", wrap(&encoded, 40, "\n", "")),
        format!("data: |\n{}", wrap(&encoded, 40, "\n", "    ")),
    ] {
        assert_wrapped_found(&redactor, "K1", &core, &text, &text);
    }
    // `echo "token: $(base64 key.bin)"`, `xxd -p` after a label: the form starts on the first
    // line, after a word and a space or tab, on a line of 16 characters or more (encoders write
    // 60 to 76).
    let secret = secrets[1].as_bytes();
    let (encoded, hex) = (base64(secret), hex_of(secret));
    let core = base64_core(&encoded, 0, secret.len());
    for (form, core) in [(&encoded, &core), (&hex, &hex)] {
        for width in [16, 40, 60, 76] {
            let plain = wrap(form, width, "\n", "");
            let escaped = wrap(form, width, "\\n", "");
            for text in [
                format!("token: {plain}"),
                format!("Authorization: Basic {plain}"),
                format!("the key is {plain}and that is all"),
                format!("key\t{plain}"),
                format!("{{\"stdout\": \"token: {escaped}\", \"code\": 0}}"),
            ] {
                assert_wrapped_found(&redactor, "K1", core, &text, &text);
            }
        }
    }
}

#[test]
fn a_stream_holds_a_lines_last_word_only_when_it_may_be_wrapped_base64() {
    let secrets = plain_secrets(1, 9);
    let redactor = redactor(&secrets);
    let mut stream = redactor.stream();
    // The last word of a line of prose is out with its line.
    assert_eq!(stream.push("the build is done\n"), "the build is done\n");
    assert_eq!(stream.push("  exit code 0\r\n"), "  exit code 0\r\n");
    // A line of nothing but base64 characters may go on on the next line: held until then.
    assert_eq!(stream.push("QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n"), "");
    assert_eq!(
        stream.push(". end\n"),
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n. end\n"
    );
    // So may a long run after a label (`token: $(base64 key.bin)`).
    assert_eq!(stream.push("token: QUJDREVGR0hJSktM\n"), "token: ");
    assert_eq!(stream.push(". end\n"), "QUJDREVGR0hJSktM\n. end\n");
    assert_eq!(stream.finish(), "");
}
