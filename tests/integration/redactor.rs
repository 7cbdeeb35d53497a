//! Integration tests of `Redactor`: encodings, fragments, replacements, findings and errors.
#![allow(clippy::unwrap_used)]

use std::borrow::Cow;

use keyward::guard::{Encoding, Encodings, Replacement};
use keyward::{Detector, ErrorKind, KeyFormat, Redactor, SecretString};
use proptest::prelude::*;

use crate::common::base64;

fn openai_key() -> SecretString {
    SecretString::from(format!("sk-proj-{}", "Ab3dEf6hIj9l".repeat(4)))
}

fn redactor_for(key: &SecretString) -> Redactor {
    Redactor::builder()
        .with_secret("OPENAI_API_KEY", key)
        .build()
        .unwrap()
}

#[test]
fn nothing_found_borrows_the_text() {
    let r = redactor_for(&openai_key());
    let text = "An ordinary answer about sk-proj keys, with no key in it at all. 0123456789abcdef";
    assert!(matches!(r.redact(text), Cow::Borrowed(_)));
    assert!(r.find(text).is_empty());
    assert!(r.check(text).is_ok());
    let mut out = String::from("> ");
    r.redact_into(text, &mut out);
    assert_eq!(out, format!("> {text}"));
}

#[test]
fn every_occurrence_is_replaced_with_the_label() {
    let key = openai_key();
    let r = redactor_for(&key);
    let k = key.expose_secret();
    let text = format!("{k} and again:{k}\n{k}");
    let want =
        "[REDACTED:OPENAI_API_KEY] and again:[REDACTED:OPENAI_API_KEY]\n[REDACTED:OPENAI_API_KEY]";
    assert_eq!(r.redact(&text), want);
}

#[test]
fn base64_is_found_alone_and_inside_blobs_at_every_alignment() {
    let key = openai_key();
    let r = redactor_for(&key);
    for before in ["", "x", "xy", "Authorization: Bearer ", "user:"] {
        for after in ["", "!", "ab", ":tail"] {
            let blob = format!("{before}{}{after}", key.expose_secret());
            for (url, pad) in [(false, true), (false, false), (true, true), (true, false)] {
                let encoded = base64(blob.as_bytes(), url, pad);
                let text = format!("header: {encoded}\n");
                let findings = r.find(&text);
                assert_eq!(
                    findings.len(),
                    1,
                    "{before:?} {after:?} url={url} pad={pad}"
                );
                let want = if url && encoded.contains(['-', '_']) {
                    Encoding::Base64Url
                } else {
                    Encoding::Base64
                };
                // an encoding without `+/-_` reads the same in both alphabets
                assert!(
                    findings[0].encoding() == want || findings[0].encoding() == Encoding::Base64,
                    "{:?}",
                    findings[0].encoding()
                );
                let redacted = r.redact(&text);
                // at most two characters at each end of the encoded key survive
                let left = redacted.len() - "[REDACTED:OPENAI_API_KEY]".len();
                assert!(left <= text.len() - (key.len() * 4 / 3) + 6);
            }
        }
    }
}

#[test]
fn hex_percent_and_json_are_found() {
    let password = SecretString::from("p@ss w/rd \"quoted\" \\ 100%");
    let r = Redactor::builder()
        .with_secret("DB_PASSWORD", &password)
        .build()
        .unwrap();
    let p = password.expose_secret();
    let cases = [
        (hex_lower(p), Encoding::Hex),
        (hex_lower(p).to_uppercase(), Encoding::Hex),
        (percent(p), Encoding::Percent),
        (percent(p).to_lowercase(), Encoding::Percent),
        (serde_json::to_string(p).unwrap(), Encoding::Json),
    ];
    for (encoded, encoding) in cases {
        let text = format!("value=({encoded})");
        let findings = r.find(&text);
        assert_eq!(findings.len(), 1, "{encoding:?}: {findings:?}");
        assert_eq!(findings[0].encoding(), encoding);
        assert_eq!(r.redact(&text).matches("[REDACTED:DB_PASSWORD]").count(), 1);
    }
}

fn hex_lower(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn a_key_in_tool_call_json_is_found() {
    let key = openai_key();
    let r = redactor_for(&key);
    let call = serde_json::json!({"tool": "http_get", "headers": {"Authorization": format!("Bearer {}", key.expose_secret())}});
    let args = serde_json::to_string(&call).unwrap();
    let err = r.check(&args).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Leak);
    assert!(err.to_string().contains("`OPENAI_API_KEY` (raw)"), "{err}");
    assert!(!err.to_string().contains(key.expose_secret()));
    assert!(!format!("{err:?}").contains(key.expose_secret()));
}

#[test]
fn switched_off_encodings_are_not_found() {
    let key = openai_key();
    let r = Redactor::builder()
        .with_encodings(Encodings::RAW)
        .with_fragments(false)
        .with_secret("K", &key)
        .build()
        .unwrap();
    let k = key.expose_secret();
    assert!(r.is_leak(k));
    assert!(!r.is_leak(&hex_lower(k)));
    assert!(!r.is_leak(&base64(k.as_bytes(), false, true)));
    assert!(!r.is_leak(&k[..30]));
}

#[test]
fn fragments_count_only_characters_after_the_public_prefix() {
    let key = openai_key(); // `sk-proj-` + 48 characters
    let r = redactor_for(&key);
    let k = key.expose_secret();
    // 16 characters of the body, anywhere
    for start in [8, 9, 15, 20, 40] {
        let fragment = &k[start..start + 16];
        let text = format!("..{fragment}..");
        assert_eq!(
            r.redact(&text),
            "..[REDACTED:OPENAI_API_KEY]..",
            "at {start}"
        );
        assert_eq!(r.find(&text)[0].encoding(), Encoding::Fragment);
    }
    // 15 are not enough
    assert!(!r.is_leak(&format!("..{}..", &k[20..35])));
    // the prefix does not count: `sk-proj-` plus 15
    assert!(!r.is_leak(&k[..23]));
    // but once it is a leak, the prefix goes too
    assert_eq!(
        r.redact(&format!("key: {}", &k[..24])),
        "key: [REDACTED:OPENAI_API_KEY]"
    );
}

/// A value registered whole, with the range of it that is its secret part (a connection
/// string's key and the `;` after it, a URL's password) and the public parts around it.
fn framed_secret(layout: usize, key: &str, account: &str) -> (String, std::ops::Range<usize>) {
    let (before, after) = match layout % 4 {
        0 => (
            format!("DefaultEndpointsProtocol=https;AccountName={account};AccountKey="),
            ";EndpointSuffix=core.windows.net".to_owned(),
        ),
        1 => (
            format!(
                "Endpoint=sb://{account}.servicebus.windows.net/;\
                 SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey="
            ),
            String::new(),
        ),
        2 => (
            format!(
                "Server=tcp:{account}.database.windows.net,1433;Database=app;User ID={account};Password="
            ),
            ";Encrypt=True;".to_owned(),
        ),
        _ => (
            format!("postgres://{account}:"),
            format!("@{account}.db.example.com:5432/app?sslmode=require"),
        ),
    };
    let value = format!("{before}{key}{after}");
    // The `;` after a connection string's value counts with it: a password may end in one.
    let separator = usize::from(after.starts_with(';'));
    (value, before.len()..before.len() + key.len() + separator)
}

#[test]
fn the_public_parts_of_a_connection_string_are_no_fragment() {
    let key = format!("{}==", "Zq7xWv2kLm9pRt4yHb6n".repeat(4));
    let (value, _) = framed_secret(0, &key, "kwtest");
    let r = Redactor::builder()
        .with_secret("AZURE_STORAGE", &SecretString::from(value.as_str()))
        .build()
        .unwrap();
    for public in [
        "https://other.blob.core.windows.net/container/file.txt",
        "DefaultEndpointsProtocol=https;AccountName=kwtest;AccountKey=",
        "AccountName=kwtest;AccountKey=<redacted>;EndpointSuffix=core.windows.net",
    ] {
        assert!(!r.is_leak(public), "{public}");
    }
    assert_eq!(
        r.redact(&format!("k={}", &key[30..46])),
        "k=[REDACTED:AZURE_STORAGE]"
    );
    assert!(r.is_leak(&value));
    assert!(r.is_leak(&base64(value.as_bytes(), false, true)));
}

/// A password shorter than a fragment is found on its own, where a user name is not.
#[test]
fn a_short_password_inside_a_value_is_found_alone() {
    let password = format!("hunter{}", "2x".repeat(4));
    for layout in [2, 3] {
        let (value, _) = framed_secret(layout, &password, "kwadmin");
        let r = Redactor::builder()
            .with_secret("DB", &SecretString::from(value.as_str()))
            .build()
            .unwrap();
        assert_eq!(
            r.redact(&format!("pw: {password}.")),
            "pw: [REDACTED:DB].",
            "{value}"
        );
        assert!(!r.is_leak("user kwadmin logged in"), "{value}");
    }
}

proptest! {
    /// A window of a connection string or a URL is a fragment exactly when 16 of its
    /// characters are of the secret part; the whole value is always found.
    #[test]
    fn fragments_of_framed_secrets_count_only_the_secret_part(
        key in "[A-Za-z0-9+_]{20,88}",
        account in "[a-z]{3,12}",
        layout in 0..4usize,
        len in prop_oneof![Just(16usize), Just(17), Just(24), Just(40)],
    ) {
        let (value, secret) = framed_secret(layout, &key, &account);
        let r = Redactor::builder()
            .with_secret("FRAMED", &SecretString::from(value.as_str()))
            .build()
            .unwrap();
        prop_assert!(r.is_leak(&value));
        for start in 0..=value.len().saturating_sub(len) {
            let window = start..start + len;
            let inside = window.end.min(secret.end).saturating_sub(window.start.max(secret.start));
            let text = format!(" {} ", &value[window.clone()]);
            prop_assert_eq!(r.is_leak(&text), inside >= 16, "{:?} of {}", window, layout);
        }
    }

    /// Whatever a password holds (`;`, `=`, `@`, `/`, quotes, braces), any 16 of its
    /// characters are a leak: a value whose shape is in doubt is read as all secret.
    #[test]
    fn sixteen_characters_of_any_password_are_a_leak(
        password in "[A-Za-z0-9;=@/?#\"'{}+_ .:-]{16,40}",
        account in "[a-z]{3,12}",
        layout in 0..4usize,
        start in any::<prop::sample::Index>(),
    ) {
        let (value, secret) = framed_secret(layout, &password, &account);
        let r = Redactor::builder()
            .with_secret("FRAMED", &SecretString::from(value.as_str()))
            .build()
            .unwrap();
        let at = secret.start + start.index(password.len() - 15);
        let window = &value[at..at + 16];
        prop_assert!(r.is_leak(&format!("<{window}>")), "{:?} in layout {}", window, layout);
    }

    /// Every run of the fragment length, odd or even, is found wherever it lies in the key:
    /// one that ends where the key ends was lost for odd lengths.
    #[test]
    fn every_fragment_of_any_length_is_found(
        key in "[A-Za-z0-9]{24,48}",
        fragment_len in 6usize..24,
        start in any::<prop::sample::Index>(),
    ) {
        let r = Redactor::builder()
            .with_fragment_len(fragment_len)
            .with_secret("K", &SecretString::from(key.as_str()))
            .build()
            .unwrap();
        let at = start.index(key.len() - fragment_len + 1);
        let fragment = &key[at..at + fragment_len];
        prop_assert!(r.is_leak(&format!(" {fragment} ")), "{} of {}", at, fragment_len);
        let end = &key[key.len() - fragment_len..];
        prop_assert!(r.is_leak(&format!(" {end} ")), "the last {}", fragment_len);
    }
}

#[test]
fn the_fragment_length_is_configurable_and_checked() {
    let key = openai_key();
    let k = key.expose_secret();
    let r = Redactor::builder()
        .with_fragment_len(10)
        .with_secret("K", &key)
        .build()
        .unwrap();
    assert!(r.is_leak(&k[30..40]));
    assert!(!r.is_leak(&k[30..39]));
    let err = Redactor::builder()
        .with_fragment_len(3)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn overlapping_secrets_become_one_replacement_naming_both() {
    let a = SecretString::from("shared-middle-0123456789");
    let b = SecretString::from("0123456789-other-end-xyz");
    let r = Redactor::builder()
        .with_secret("A", &a)
        .with_secret("B", &b)
        .with_fragments(false)
        .build()
        .unwrap();
    let text = "<shared-middle-0123456789-other-end-xyz>";
    assert_eq!(r.redact(text), "<[REDACTED:A,B]>");
    let findings = r.find(text);
    let labels: Vec<&str> = findings.iter().map(|f| f.label()).collect();
    assert_eq!(labels, ["A", "B"]);
}

#[test]
fn replacements_and_findings_never_show_the_value() {
    let key = openai_key();
    let k = key.expose_secret();
    let text = format!("x {k} y");
    for (replacement, want) in [
        (
            Replacement::Label,
            "x [REDACTED:OPENAI_API_KEY] y".to_owned(),
        ),
        (Replacement::Fixed, "x [REDACTED] y".to_owned()),
        (
            Replacement::Fingerprint,
            format!("x [REDACTED:{}] y", key.fingerprint()),
        ),
    ] {
        let r = Redactor::builder()
            .with_replacement(replacement)
            .with_secret("OPENAI_API_KEY", &key)
            .build()
            .unwrap();
        assert_eq!(r.redact(&text), want);
    }
    let r = redactor_for(&key);
    let findings = r.find(&text);
    assert_eq!(
        findings.len(),
        1,
        "a fragment inside the whole key is not reported twice"
    );
    let f = &findings[0];
    assert_eq!(f.range(), 2..2 + k.len());
    assert_eq!(f.label(), "OPENAI_API_KEY");
    assert_eq!(f.encoding(), Encoding::Raw);
    assert_eq!(f.fingerprint(), key.fingerprint());
    assert!(!format!("{f:?}").contains(&k[8..20]));
}

#[test]
fn non_ascii_secrets_and_text_are_never_cut_inside_a_character() {
    let password = SecretString::from("päßwörd-日本語-ключ-0123456789");
    let r = Redactor::builder()
        .with_fragment_len(8)
        .with_secret("PW", &password)
        .build()
        .unwrap();
    let p = password.expose_secret();
    assert_eq!(r.redact(&format!("«{p}»")), "«[REDACTED:PW]»");
    // a fragment whose neighbours share a first byte with the secret's characters
    let chars: Vec<char> = p.chars().collect();
    for start in 0..chars.len() - 8 {
        let fragment: String = chars[start..start + 8].iter().collect();
        let text = format!("日ö{fragment}öк");
        let redacted = r.redact(&text); // would panic on a bad char boundary
        assert!(redacted.contains("[REDACTED:PW]"), "{text}");
        for f in r.find(&text) {
            assert!(text.is_char_boundary(f.range().start) && text.is_char_boundary(f.range().end));
        }
    }
}

/// Realistic text without any secret: prose, code, hashes and base64 of other data.
fn unrelated_text() -> String {
    let mut text = String::new();
    for i in 0..2000u32 {
        text.push_str("The quick brown fox jumps over the lazy dog. ");
        text.push_str(&format!(
            "let value_{i} = compute(\"{:08x}{:08x}\", {i});\n",
            i.wrapping_mul(2654435761),
            i ^ 0xdead_beef
        ));
        text.push_str(&base64(
            format!("payload number {i} of the test").as_bytes(),
            false,
            true,
        ));
        text.push('\n');
    }
    text
}

#[test]
fn no_false_positives_in_unrelated_text() {
    let secrets: Vec<SecretString> = (0..50)
        .map(|i| SecretString::from(format!("sk-proj-{i:02}{}", "Qw7eRt2y".repeat(5))))
        .collect();
    let builder = secrets
        .iter()
        .enumerate()
        .fold(Redactor::builder(), |b, (i, s)| {
            b.with_secret(format!("K{i}"), s)
        });
    let r = builder.build().unwrap();
    let text = unrelated_text();
    assert!(matches!(r.redact(&text), Cow::Borrowed(_)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn redacted_text_contains_no_registered_secret(
        body in "[a-zA-Z0-9]{16,40}",
        filler in proptest::collection::vec("[a-z0-9 éß]{0,12}", 1..6),
    ) {
        let key = SecretString::from(format!("sk-proj-{body}"));
        let r = redactor_for(&key);
        let mut text = String::new();
        for (i, f) in filler.iter().enumerate() {
            text.push_str(f);
            match i % 3 {
                0 => text.push_str(key.expose_secret()),
                1 => text.push_str(&base64(key.expose_secret().as_bytes(), false, false)),
                _ => text.push_str(&hex_lower(key.expose_secret())),
            }
        }
        let out = r.redact(&text);
        prop_assert!(!out.contains(key.expose_secret()));
        prop_assert!(!out.contains(&body[..16]));
        prop_assert!(!out.contains(&hex_lower(key.expose_secret())));
        prop_assert!(r.check(&out).is_ok(), "redacted text must pass the check");
        // `redact_into` appends the same text after what the buffer holds.
        let mut appended = String::from("earlier output ");
        r.redact_into(&text, &mut appended);
        prop_assert_eq!(appended.strip_prefix("earlier output "), Some(&*out));
    }
}

// --- with_unknown_detection: secrets nobody registered ---

/// Fake keys nobody registered, one per format used below; built at run time, never real.
fn github_token() -> String {
    format!("ghp_{}", "q7Rt2mXz9K".repeat(4)[..36].to_owned())
}

fn aws_key_id() -> String {
    format!("AKIA{}", "Q7ZR3MXK2WPL5TYB")
}

fn detecting(key: Option<&SecretString>) -> Redactor {
    let mut builder = Redactor::builder().with_unknown_detection(true);
    if let Some(key) = key {
        builder = builder.with_secret("OPENAI_API_KEY", key);
    }
    builder.build().unwrap()
}

#[test]
fn detection_is_off_by_default() {
    let text = format!(
        "token: {}\npassword = \"Zr4_pQ8-wX2mK9vT\"\n",
        github_token()
    );
    let r = redactor_for(&openai_key());
    assert!(matches!(r.redact(&text), Cow::Borrowed(_)));
    assert!(!r.is_leak(&text));
}

#[test]
fn unregistered_keys_and_secret_assignments_are_redacted() {
    let (gh, aws) = (github_token(), aws_key_id());
    let r = detecting(None);
    let text = format!(
        "Found in the repo:\nGITHUB_TOKEN={gh}\naws_access_key_id = {aws}\n\
         password = \"Zr4_pQ8-wX2mK9vT\"\nok"
    );
    assert_eq!(
        r.redact(&text),
        "Found in the repo:\nGITHUB_TOKEN=[REDACTED:GitHub token]\n\
         aws_access_key_id = [REDACTED:AWS access key id]\n\
         password = \"[REDACTED:unknown secret]\"\nok"
    );
    let findings = r.find(&text);
    let labels: Vec<&str> = findings.iter().map(|f| f.label()).collect();
    assert_eq!(
        labels,
        ["GitHub token", "AWS access key id", "unknown secret"]
    );
    for f in &findings {
        assert_eq!(f.encoding(), Encoding::Detected);
        assert_eq!(f.encoding().name(), "detected");
        assert_eq!(f.fingerprint(), keyward::fingerprint(&text[f.range()]));
    }
    assert_eq!(&text[findings[0].range()], gh);
    assert!(r.is_leak(&text));
    assert!(!format!("{findings:?}").contains(&gh));
}

#[test]
fn placeholders_are_left_alone() {
    let r = detecting(None);
    let text = format!(
        "OPENAI_API_KEY=sk-{}\napi_key = \"your-key-here\"\ntoken: ${{GITHUB_TOKEN}}\n\
         password = \"<PASSWORD>\"\nsecret: {{{{ secret }}}}\n",
        "x".repeat(40)
    );
    assert!(matches!(r.redact(&text), Cow::Borrowed(_)));
    assert!(r.find(&text).is_empty());
    assert!(r.check(&text).is_ok());
}

#[test]
fn a_registered_key_that_is_also_detected_becomes_one_replacement() {
    let key = openai_key();
    let r = detecting(Some(&key));
    let k = key.expose_secret();
    // whole: the known and the detected region are the same
    let text = format!("key: {k}\n");
    assert_eq!(
        r.redact(&text),
        "key: [REDACTED:OPENAI_API_KEY,OpenAI API key]\n"
    );
    let findings = r.find(&text);
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[0].encoding(), Encoding::Raw);
    assert_eq!(findings[1].encoding(), Encoding::Detected);
    assert_eq!(findings[0].range(), findings[1].range());
    // overlapping but not equal: a fragment of the known key glued to an unregistered key
    // body is detected as one key, which covers the fragment
    let glued = format!("x {}Qz8Wm4Rt x\n", &k[..30]);
    assert_eq!(
        r.redact(&glued),
        "x [REDACTED:OPENAI_API_KEY,OpenAI API key] x\n"
    );
    // Fingerprint replacements name both fingerprints, sorted
    let fp = Redactor::builder()
        .with_replacement(Replacement::Fingerprint)
        .with_secret("OPENAI_API_KEY", &key)
        .with_unknown_detection(true)
        .build()
        .unwrap();
    // the detected text is the registered key: one fingerprint
    assert_eq!(
        fp.redact(&text),
        format!("key: [REDACTED:{}]\n", key.fingerprint())
    );
    let glued_value = &glued[2..glued.len() - 3];
    let mut both = [
        key.fingerprint().to_string(),
        keyward::fingerprint(glued_value).to_string(),
    ];
    both.sort();
    assert_eq!(
        fp.redact(&glued),
        format!("x [REDACTED:{}] x\n", both.join(","))
    );
}

#[test]
fn check_names_the_format_of_a_detected_key_not_its_value() {
    let gh = github_token();
    let r = detecting(None);
    let err = r.check(&format!("here: {gh}")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Leak);
    let message = err.to_string();
    assert!(message.contains("`GitHub token` (detected)"), "{message}");
    assert!(!message.contains(&gh));
    assert!(!message.contains(&gh[4..20]));
}

#[test]
fn detection_is_line_by_line() {
    let r = detecting(None);
    // A PEM private key spans lines: the detector alone finds it in the whole text, the
    // line-by-line detection of the redactor does not (a documented limit).
    let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC".repeat(2);
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{body}\n{}==\n-----END PRIVATE KEY-----\n",
        &body[..40]
    );
    assert_eq!(Detector::new().find(&pem).len(), 1);
    assert!(r.find(&pem).is_empty());
    // A line longer than 64 KiB is looked at in pieces of at most 64 KiB, cut after the last
    // blank: a key across the 64 KiB boundary is seen whole in the next piece.
    let gh = github_token();
    let cap = 64 * 1024;
    let cut_key = format!("{} {gh}", "a".repeat(cap - 12));
    assert_eq!(r.find(&cut_key).len(), 1);
    let after = format!("{} {gh}", "a".repeat(cap + 10));
    assert_eq!(r.find(&after).len(), 1);
    let before = format!("{gh} {}", "a".repeat(cap + 10));
    assert_eq!(r.find(&before).len(), 1);
}

/// `with_detector` chooses the detector and turns detection on; `with_unknown_detection`
/// switches it off or on again without forgetting that detector. An explicit choice wins over
/// the detector's implied one, in whatever order the calls come.
#[test]
fn a_chosen_detector_survives_switching_detection_off_and_on() {
    let github_only = Detector::builder()
        .with_formats(&[KeyFormat::GitHub])
        .with_generic(false)
        .build()
        .unwrap();
    let token = format!("ghp_{}", "q7Rt2mXz9K".repeat(4));
    let text = format!("GITHUB_TOKEN={token}\npassword = \"Zr4_pQ8-wX2mK9vT\"\n");
    let only_token = "GITHUB_TOKEN=[REDACTED:GitHub token]\npassword = \"Zr4_pQ8-wX2mK9vT\"\n";
    let redact = |builder: keyward::guard::RedactorBuilder| {
        builder.build().unwrap().redact(&text).into_owned()
    };

    let given = Redactor::builder().with_detector(github_only.clone());
    assert_eq!(redact(given), only_token);
    let off = Redactor::builder()
        .with_detector(github_only.clone())
        .with_unknown_detection(false);
    assert_eq!(redact(off), text);
    let on_again = Redactor::builder()
        .with_detector(github_only.clone())
        .with_unknown_detection(false)
        .with_unknown_detection(true);
    assert_eq!(redact(on_again), only_token);
    // Off before the detector is given is off as well: the order of the calls does not matter.
    let off_first = Redactor::builder()
        .with_unknown_detection(false)
        .with_detector(github_only.clone());
    assert_eq!(redact(off_first), text);
    let on_first = Redactor::builder()
        .with_unknown_detection(true)
        .with_detector(github_only);
    assert_eq!(redact(on_first), only_token);
    // The default detector also redacts the generic assignment.
    let default = redact(Redactor::builder().with_unknown_detection(true));
    assert!(default.contains("[REDACTED:unknown secret]"), "{default}");
}
