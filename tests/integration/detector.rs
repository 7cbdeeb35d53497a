//! The detector against a corpus generated in code: every key format in the places keys turn up
//! (code, prose, JSON, YAML, `.env`, headers, URLs), and the look-alikes it must leave alone
//! (placeholders, UUIDs, sequences, lock-file hashes, prose, Rust code, base64 images).
//! No real key appears here: every key is built from random characters at run time.

#![allow(clippy::unwrap_used)]

use keyward::guard::{Confidence, Detection, DetectionKind};
use keyward::{Detector, KeyFormat, Redactor};
use proptest::prelude::*;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const ALNUM_DASH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGITS: &[u8] = b"0123456789";
const HEX: &[u8] = b"0123456789abcdef";

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| char::from(alphabet[self.below(alphabet.len())]))
            .collect()
    }
}

fn base64url(bytes: &[u8]) -> String {
    const TABLE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(TABLE[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// One key for every prefix of every format, each built from the format's published shape.
fn generated_keys(rng: &mut Rng) -> Vec<(KeyFormat, String)> {
    let mut keys = Vec::new();
    for prefix in ["sk-proj-", "sk-svcacct-", "sk-admin-"] {
        let key = format!(
            "{prefix}{}T3BlbkFJ{}",
            rng.string(ALNUM_DASH, 74),
            rng.string(ALNUM_DASH, 74)
        );
        keys.push((KeyFormat::OpenAi, key));
    }
    let legacy = format!(
        "sk-{}T3BlbkFJ{}",
        rng.string(ALNUM, 20),
        rng.string(ALNUM, 20)
    );
    keys.push((KeyFormat::OpenAi, legacy));
    for prefix in ["sk-ant-api03-", "sk-ant-admin01-"] {
        keys.push((
            KeyFormat::Anthropic,
            format!("{prefix}{}AA", rng.string(ALNUM_DASH, 93)),
        ));
    }
    for prefix in KeyFormat::AwsAccessKeyId.prefixes() {
        keys.push((
            KeyFormat::AwsAccessKeyId,
            format!("{prefix}{}", rng.string(BASE32, 16)),
        ));
    }
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        keys.push((
            KeyFormat::GitHub,
            format!("{prefix}{}", rng.string(ALNUM, 36)),
        ));
    }
    keys.push((
        KeyFormat::GitHub,
        format!(
            "github_pat_{}_{}",
            rng.string(ALNUM, 22),
            rng.string(ALNUM, 59)
        ),
    ));
    for prefix in KeyFormat::Slack.prefixes() {
        let key = format!(
            "{prefix}{}-{}-{}",
            rng.string(DIGITS, 12),
            rng.string(DIGITS, 13),
            rng.string(ALNUM, 24)
        );
        keys.push((KeyFormat::Slack, key));
    }
    for prefix in KeyFormat::Stripe.prefixes() {
        keys.push((
            KeyFormat::Stripe,
            format!("{prefix}{}", rng.string(ALNUM, 99)),
        ));
    }
    keys.push((
        KeyFormat::GoogleApiKey,
        format!("AIza{}", rng.string(ALNUM_DASH, 35)),
    ));
    keys.push((
        KeyFormat::HuggingFace,
        format!("hf_{}", rng.string(ALPHA, 34)),
    ));
    keys.push((KeyFormat::Groq, format!("gsk_{}", rng.string(ALNUM, 52))));
    for label in [
        "PRIVATE KEY",
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
    ] {
        let lines: Vec<String> = (0..6).map(|_| rng.string(BASE64, 64)).collect();
        let key = format!(
            "-----BEGIN {label}-----\n{}\n{}==\n-----END {label}-----",
            lines.join("\n"),
            rng.string(BASE64, 22)
        );
        keys.push((KeyFormat::PemPrivateKey, key));
    }
    let header = base64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = base64url(
        format!(
            r#"{{"sub":"{}","iat":{}}}"#,
            rng.string(DIGITS, 10),
            rng.string(DIGITS, 10)
        )
        .as_bytes(),
    );
    let jwt = format!("{header}.{payload}.{}", rng.string(ALNUM_DASH, 43));
    keys.push((KeyFormat::Jwt, jwt));
    keys
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Tokens of any size an identity provider issues (claims of groups and roles make them
    /// kilobytes long), RSA or HMAC signed, in a header or a JSON field: found whole.
    #[test]
    fn jwts_of_any_length_are_found_whole(
        seed in any::<u64>(),
        claims in 0..400usize,
        signature_len in prop_oneof![Just(43usize), Just(342usize), Just(683usize)],
        in_json in any::<bool>(),
        piece in 1..700usize,
    ) {
        let mut rng = Rng::new(seed);
        let header = base64url(br#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);
        let groups: Vec<String> = (0..claims)
            .map(|_| format!("\"{}\"", rng.string(HEX, 8)))
            .collect();
        let payload = base64url(
            format!(
                r#"{{"aud":"api","sub":"{}","groups":[{}]}}"#,
                rng.string(DIGITS, 10),
                groups.join(",")
            )
            .as_bytes(),
        );
        let jwt = format!("{header}.{payload}.{}", rng.string(ALNUM_DASH, signature_len));
        let text = if in_json {
            format!(r#"{{"access_token":"{jwt}","expires_in":3600}}"#)
        } else {
            format!("Authorization: Bearer {jwt}\r\nAccept: */*\r\n")
        };
        let found = Detector::new().find(&text);
        let start = text.find("eyJ").unwrap();
        prop_assert_eq!(found.len(), 1, "{} bytes", jwt.len());
        prop_assert_eq!(found[0].format(), Some(KeyFormat::Jwt));
        prop_assert_eq!(found[0].range(), start..start + jwt.len());
        // The guard redacts it whole, in one shot and streamed in pieces of any size.
        let redactor = Redactor::builder()
            .with_unknown_detection(true)
            .build()
            .unwrap();
        let one_shot = redactor.redact(&text).into_owned();
        prop_assert!(!one_shot.contains(&jwt[jwt.len() - 16..]));
        let mut stream = redactor.stream();
        let mut streamed = String::new();
        for chunk in text.as_bytes().chunks(piece) {
            streamed += &stream.push(std::str::from_utf8(chunk).unwrap());
        }
        streamed += &stream.finish();
        prop_assert_eq!(streamed, one_shot);
    }
}

/// A Google Cloud service-account key file, as `gcloud iam service-accounts keys create` writes
/// it: the private key is a PEM block inside a JSON string, its line breaks escaped. The PEM rule
/// finds it whole (a 2048-bit key, 1.7 KB), at any indentation of the JSON.
#[test]
fn a_google_service_account_key_file_has_its_private_key_found() {
    let mut rng = Rng::new(11);
    for indent in ["", "  ", "\t"] {
        let body: Vec<String> = (0..26).map(|_| rng.string(BASE64, 64)).collect();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\\n{}\\n{}=\\n-----END PRIVATE KEY-----\\n",
            body.join("\\n"),
            rng.string(BASE64, 31)
        );
        let file = [
            "{".to_owned(),
            format!(r#"{indent}"type": "service_account","#),
            format!(r#"{indent}"project_id": "demo-{}","#, rng.string(DIGITS, 6)),
            format!(r#"{indent}"private_key_id": "{}","#, rng.string(HEX, 40)),
            format!(r#"{indent}"private_key": "{pem}","#),
            format!(r#"{indent}"client_email": "agent@demo.iam.gserviceaccount.com","#),
            format!(r#"{indent}"token_uri": "https://oauth2.googleapis.com/token""#),
            "}".to_owned(),
        ]
        .join("\n");
        let found = Detector::new().find(&file);
        let key = found
            .iter()
            .find(|d| d.format() == Some(KeyFormat::PemPrivateKey))
            .unwrap_or_else(|| panic!("no private key found with indent {indent:?}"));
        let start = file.find("-----BEGIN").unwrap();
        let end =
            file.find("-----END PRIVATE KEY-----").unwrap() + "-----END PRIVATE KEY-----".len();
        assert_eq!(key.range(), start..end);
        assert_eq!(key.confidence(), Confidence::High);
    }
}

/// The places a key turns up, each with the key planted once.
fn contexts(key: &str) -> Vec<String> {
    let escaped = key.replace('\n', "\\n");
    let indented = key.replace('\n', "\n  ");
    vec![
        format!("let client = Client::new(\"{key}\");\n"),
        format!("client = OpenAI(api_key=\"{key}\")\n"),
        format!("Here is the key you asked for: {key}. Keep it safe!\n"),
        format!("The credential ({key}) was rotated yesterday."),
        format!("{{\"service\": {{\"credential\": \"{escaped}\", \"ttl\": 3600}}}}"),
        format!("service:\n  name: billing\n  credential: |\n  {indented}\n"),
        format!("export SERVICE_CREDENTIAL={key}\n"),
        format!("# deploy notes\n```\n{key}\n```\n"),
        format!("curl -H \"Authorization: Bearer {key}\" https://api.invalid/v1/models"),
        format!("GET /v1/data?access_token={key}&page=2 HTTP/1.1"),
        format!("2026-11-27T06:43:31Z INFO request body=\"{escaped}\" status=200"),
        format!("{key}"),
    ]
}

/// The context with the key masked, for failure messages.
fn mask_context(text: &str, key: &str) -> String {
    text.replace(key, "<KEY>")
        .replace(&key.replace('\n', "\\n"), "<KEY>")
        .replace(&key.replace('\n', "\n  "), "<KEY>")
}

#[test]
fn every_format_is_found_in_every_context() {
    let mut rng = Rng::new(1);
    for round in 0..8 {
        for (format, key) in generated_keys(&mut rng) {
            for text in contexts(&key) {
                let found = Detector::new().find(&text);
                let planted: Vec<&Detection> = found
                    .iter()
                    .filter(|d| d.kind() == DetectionKind::Format(format))
                    .collect();
                assert_eq!(
                    planted.len(),
                    1,
                    "round {round}, {format:?} in {:?}: {found:?}",
                    mask_context(&text, &key)
                );
                assert!(!format!("{found:?}").contains(&key), "Debug shows the key");
                let value = &text[planted[0].range()];
                assert!(
                    value == key
                        || value == key.replace('\n', "\\n")
                        || value == key.replace('\n', "\n  "),
                    "round {round}, {format:?}: wrong range in {:?}",
                    mask_context(&text, &key)
                );
            }
        }
    }
}

/// The placeholder filters look at random characters: they must almost never fire on a real
/// key. Word lists and run lengths are chosen for well under one miss in 10,000 keys.
#[test]
fn random_keys_are_almost_never_taken_for_placeholders() {
    let mut rng = Rng::new(15);
    let detector = Detector::new();
    let (mut keys, mut missed) = (0, 0);
    for _ in 0..600 {
        for (format, key) in generated_keys(&mut rng) {
            keys += 1;
            if !detector
                .find(&key)
                .iter()
                .any(|d| d.format() == Some(format))
            {
                missed += 1;
            }
        }
    }
    // One short placeholder word in a long random body is chance, not a placeholder (1.7
    // million generated keys, none missed); a stray miss here is a real key dropped.
    assert!(keys > 20_000);
    assert_eq!(missed, 0, "{missed} of {keys} random keys missed");
}

/// The case a proptest found: a real key whose random body holds `DuMmy` was dropped as a
/// placeholder. Every short marker word, in any case, at any place of a long key's body (a
/// marker of 7 letters or more, `EXAMPLE`, is no chance and marks a placeholder anywhere).
#[test]
fn a_placeholder_word_inside_a_real_key_does_not_hide_it() {
    let mut rng = Rng::new(21);
    let markers = [
        "DuMmy", "SAMPLE", "your_", "your-", "insert", "-key-", "_test_", "-api-", "_foo-",
        "-TODO-", "_null_", "-here-",
    ];
    for marker in markers {
        for _ in 0..20 {
            let at = rng.below(60);
            let body = rng.string(ALNUM_DASH, 91);
            let keys = [
                (
                    KeyFormat::Anthropic,
                    format!("sk-ant-api03-{}{marker}{}AA", &body[..at], &body[at..]),
                ),
                (
                    KeyFormat::OpenAi,
                    format!("sk-proj-{}{marker}{}", &body[..at], &body[at..]),
                ),
            ];
            for (format, key) in keys {
                let text = format!("key: {key}\n");
                assert!(
                    Detector::new()
                        .find(&text)
                        .iter()
                        .any(|d| d.format() == Some(format) && text[d.range()] == key),
                    "{format:?} with {marker:?} at {at} not found"
                );
            }
        }
    }
}

#[test]
fn distinctive_formats_are_high_confidence() {
    let mut rng = Rng::new(2);
    for (format, key) in generated_keys(&mut rng) {
        let found = Detector::new().find(&key);
        let expected = if format == KeyFormat::Jwt {
            Confidence::Medium
        } else {
            Confidence::High
        };
        assert_eq!(found[0].confidence(), expected, "{format:?}");
        assert_eq!(found[0].format(), Some(format));
    }
    // an `sk-` string without the OpenAI marker could be anything
    let bare = format!("sk-{}", rng.string(ALNUM, 48));
    assert_eq!(
        Detector::new().find(&bare)[0].confidence(),
        Confidence::Medium
    );
}

fn generic_value(rng: &mut Rng) -> String {
    const SYMBOLS: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#%^*+=_";
    loop {
        // a leading `=` or `*` would read as part of the syntax or a mask
        let value = rng.string(ALNUM, 1) + &rng.string(SYMBOLS, 23);
        // the filters rightly drop a random string that happens to hold `xxxx` or `123456`
        if Detector::new().is_match(&format!("password={value}")) {
            return value;
        }
    }
}

#[test]
fn assignments_of_high_entropy_values_to_secret_names_are_found() {
    let mut rng = Rng::new(3);
    for _ in 0..32 {
        let value = generic_value(&mut rng);
        let hex = rng.string(HEX, 40);
        let cases = [
            format!("API_KEY = \"{value}\""),
            format!("DATABASE_PASSWORD={value}\n"),
            format!("{{\"auth_token\": \"{value}\"}}"),
            format!("{{\\\"clientSecret\\\": \\\"{value}\\\"}}"),
            format!("db:\n  password: {value}\n  host: localhost\n"),
            format!("tool --api-key {value} --verbose"),
            format!("tool --api-key={value}"),
            format!("x-api-key: {value}\r\n"),
            format!("Authorization: Bearer {value}"),
            format!("$config['secret_key'] => '{value}';"),
            format!("token := \"{value}\""),
            format!("ACCESS_TOKEN={hex}"),
        ];
        for text in &cases {
            let found = Detector::new().find(text);
            assert_eq!(found.len(), 1, "{:?}", text.replace(&value, "<VALUE>"));
            let detection = &found[0];
            assert_eq!(detection.kind(), DetectionKind::GenericAssignment);
            let shown = &text[detection.range()];
            assert!(
                value == shown || hex == shown,
                "{:?}",
                text.replace(&value, "<VALUE>")
            );
            assert!(detection.confidence() >= Confidence::Low);
            assert!(!format!("{detection:?}").contains(&text[detection.range()]));
        }
    }
}

#[test]
fn a_key_of_a_known_format_beats_the_generic_rule() {
    let key = format!("ghp_{}", Rng::new(4).string(ALNUM, 36));
    let found = Detector::new().find(&format!("GITHUB_TOKEN={key}"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].format(), Some(KeyFormat::GitHub));
}

fn assert_nothing_found(text: &str) {
    let found = Detector::new().find(text);
    assert!(found.is_empty(), "{found:?} in {text:?}");
}

#[test]
fn placeholders_are_not_keys() {
    let cases = [
        format!("OPENAI_API_KEY=sk-{}", "x".repeat(48)),
        format!("key: sk-proj-{}", "X".repeat(40)),
        format!("ANTHROPIC_API_KEY=sk-ant-api03-{}", "*".repeat(10)),
        format!("ghp_{}", "0".repeat(36)),
        format!("aws_access_key_id = AKIA{}", "IOSFODNN7EXAMPLE"),
        format!(
            "GOOGLE_API_KEY=AIza{}",
            "SyD-your-api-key-here-000000000000"
        ),
        format!("sk_live_{}", "YOUR_STRIPE_SECRET_KEY_GOES_HERE"),
        "OPENAI_API_KEY=your-key-here".to_owned(),
        "api_key: <API_KEY>".to_owned(),
        "token: ${GITHUB_TOKEN}".to_owned(),
        "password: \"{{ vault_db_password }}\"".to_owned(),
        "SECRET_KEY=changeme".to_owned(),
        "SECRET_KEY=changeme-in-production-2024".to_owned(),
        "API_KEY=\"<insert-your-api-key>\"".to_owned(),
        "\"apiKey\": \"YOUR_API_KEY\"".to_owned(),
        "password = \"********************\"".to_owned(),
        "export OPENAI_API_KEY=\"sk-...\"".to_owned(),
        "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----".to_owned(),
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----".to_owned(),
        format!("TEST_API_KEY=\"{}\"", Rng::new(5).string(ALNUM, 32)),
        format!("fake_token = \"{}\"", Rng::new(6).string(ALNUM, 32)),
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:Billing-Db-a1B2c3".to_owned(),
        // AWS's documented examples: one long marker in a long random-looking value
        format!(
            "aws_secret_access_key = \"{}{}\"",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCY", "EXAMPLEKEY"
        ),
        format!(
            "X-Amz-Security-Token={}EXAMPLE{}",
            "AQoDYXdzEPT%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwE",
            "tc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRq"
        ),
    ];
    for text in &cases {
        assert_nothing_found(text);
    }
}

#[test]
fn sequences_and_repetitions_are_not_keys() {
    for text in [
        "api_key = \"abcdefghijklmnopqrstuvwxyz\"",
        "password: 123456789012",
        "token=ABCDEFGHIJKLMNOP1",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "hf_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh",
        "secret = \"zyxwvutsrqponm42\"",
        "token: a1a1a1a1a1a1a1a1a1a1",
    ] {
        assert_nothing_found(text);
    }
}

fn uuid(rng: &mut Rng) -> String {
    format!(
        "{}-{}-4{}-a{}-{}",
        rng.string(HEX, 8),
        rng.string(HEX, 4),
        rng.string(HEX, 3),
        rng.string(HEX, 3),
        rng.string(HEX, 12)
    )
}

#[test]
fn uuids_are_not_keys() {
    let mut rng = Rng::new(7);
    for _ in 0..32 {
        let id = uuid(&mut rng);
        assert_nothing_found(&format!(
            "{{\"request_token\": \"{id}\", \"id\": \"{id}\"}}"
        ));
        assert_nothing_found(&format!("SESSION_KEY={}", id.to_uppercase()));
    }
}

#[test]
fn lock_file_hashes_are_not_keys() {
    let mut rng = Rng::new(8);
    let mut cargo_lock = String::from("version = 4\n\n");
    let mut package_lock = String::from("{\n  \"packages\": {\n");
    let mut yarn_lock = String::new();
    for i in 0..200 {
        cargo_lock.push_str(&format!(
            "[[package]]\nname = \"crate{i}\"\nversion = \"1.0.{i}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{}\"\n\n",
            rng.string(HEX, 64)
        ));
        // every tenth hash starts like an AWS key id or a JWT, to prove boundaries hold
        let lead = match i % 10 {
            0 => format!("AKIA{}", rng.string(BASE32, 16)),
            5 => "eyJ".to_owned(),
            _ => String::new(),
        };
        let integrity = format!("sha512-{lead}{}==", rng.string(BASE64, 86 - lead.len()));
        package_lock.push_str(&format!(
            "    \"node_modules/pkg{i}\": {{\n      \"version\": \"2.{i}.0\",\n      \"integrity\": \"{integrity}\"\n    }},\n"
        ));
        yarn_lock.push_str(&format!(
            "pkg{i}@^2.0.0:\n  version \"2.{i}.0\"\n  integrity {integrity}\n\n"
        ));
    }
    package_lock.push_str("  }\n}\n");
    assert_nothing_found(&cargo_lock);
    assert_nothing_found(&package_lock);
    assert_nothing_found(&yarn_lock);
}

#[test]
fn base64_images_and_hex_digests_are_not_keys() {
    let mut rng = Rng::new(9);
    // A long base64 blob holds every short prefix by chance; plant some to make sure.
    let mut blob = rng.string(BASE64, 20_000);
    for (at, planted) in [
        (1_000, format!("AKIA{}", rng.string(BASE32, 16))),
        (5_000, format!("ghp_{}", rng.string(ALNUM, 36))),
        (9_000, format!("AIza{}", rng.string(ALNUM, 35))),
        (13_000, "eyJhbGciOiJIUzI1NiJ9".to_owned()),
    ] {
        blob.replace_range(at..at + planted.len(), &planted);
    }
    assert_nothing_found(&format!("<img src=\"data:image/png;base64,{blob}==\">"));
    assert_nothing_found(&format!("![logo](data:image/jpeg;base64,{blob})"));
    let digest = rng.string(HEX, 64);
    assert_nothing_found(&format!(
        "commit {}\nsha256: {digest}\n",
        rng.string(HEX, 40)
    ));
}

#[test]
fn ordinary_prose_is_not_a_key() {
    let prose = "The key insight is that a token bucket refills at a fixed rate. \
        Password policies should require at least 12 characters; the secret to good \
        security is rotation. Authentication: see the docs. Keys: none yet.\n\
        To rotate a key, open Settings > API keys, then choose Create new secret key.\n\
        Our monkey-patched keyboard handler passes tokens to the parser, \
        and the authorization server issues access tokens that expire after 3600 seconds.\n\
        A primary key uniquely identifies a row. Public keys may be shared freely.\n";
    assert_nothing_found(&prose.repeat(50));
}

#[test]
fn rust_code_is_not_a_key() {
    let code = r#"
use std::collections::HashMap;

/// Splits input into tokens.
pub struct Tokenizer<'a> {
    input: &'a str,
    token_count: usize,
    max_tokens: usize,
    keywords: HashMap<&'static str, TokenKind>,
}

impl<'a> Tokenizer<'a> {
    pub fn next_token(&mut self) -> Option<Token<'a>> {
        let token = self.lexer.next_token()?;
        let key = token.text.to_ascii_lowercase();
        match self.keywords.get(key.as_str()) {
            Some(kind) => Some(Token { kind: *kind, text: token.text }),
            None => Some(token),
        }
    }
}

fn load(config: &Config) -> Result<Client, Error> {
    let api_key = std::env::var("OPENAI_API_KEY")?;
    let password_hash: String = hash(&config.password)?;
    let secret = Secret::new(api_key.clone());
    let auth_header = format!("Bearer {}", secret.expose());
    let key: PrivatePkcs8KeyDer<'static> = load_key(&config.key_path)?;
    let token = AuthToken::from_str(&config.token)?;
    const PRIVATE_KEY_PEM_HEADER: &str = "-----BEGIN PRIVATE KEY-----";
    #[serde(rename = "api_key")]
    let cache_key = (user_id, 42u64);
    Client::builder().api_key(api_key).auth_token(token).build()
}
"#;
    assert_nothing_found(&code.repeat(20));
}

#[test]
fn public_material_is_not_a_key() {
    let mut rng = Rng::new(10);
    let body = rng.string(BASE64, 64 * 5);
    assert_nothing_found(&format!(
        "-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----"
    ));
    assert_nothing_found(&format!(
        "-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----"
    ));
    assert_nothing_found(&format!(
        "STRIPE_PUBLISHABLE_KEY=pk_live_{}",
        rng.string(ALNUM, 24)
    ));
    assert_nothing_found(&format!("public_key = \"{}\"", rng.string(ALNUM, 44)));
}

#[test]
fn keys_glued_to_longer_words_are_not_reported() {
    let mut rng = Rng::new(11);
    let body = rng.string(ALNUM, 40);
    assert_nothing_found(&format!("task-{body}"));
    assert_nothing_found(&format!("mask-proj-{body}"));
    assert_nothing_found(&format!("AKIA{}{}", rng.string(BASE32, 16), "Q"));
    assert_nothing_found(&format!("xAIza{}", rng.string(ALNUM, 35)));
    // but a JSON `\n` escape is a boundary, not a letter
    let key = format!("ghp_{}", rng.string(ALNUM, 36));
    let found = Detector::new().find(&format!("\"line one\\n{key}\""));
    assert_eq!(found.len(), 1);
}

#[test]
fn builder_restricts_formats_and_rules() {
    let mut rng = Rng::new(12);
    let github = format!("ghp_{}", rng.string(ALNUM, 36));
    let aws = format!("AKIA{}", rng.string(BASE32, 16));
    let value = generic_value(&mut rng);
    let text = format!("a {github}\nb {aws}\nPASSWORD={value}\n");

    assert_eq!(Detector::default().find(&text).len(), 3);
    let only_github = Detector::builder()
        .with_formats(&[KeyFormat::GitHub])
        .with_generic(false)
        .build()
        .unwrap();
    let found = only_github.find(&text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].format(), Some(KeyFormat::GitHub));
    let no_formats = Detector::builder().with_formats(&[]).build().unwrap();
    assert_eq!(
        no_formats.find(&text)[0].kind(),
        DetectionKind::GenericAssignment
    );
    let strict = Detector::builder()
        .with_min_confidence(Confidence::High)
        .build()
        .unwrap();
    assert_eq!(strict.find(&text).len(), 2);
    let entropy = Detector::builder().with_min_entropy(8.0).build().unwrap();
    assert_eq!(entropy.find(&text).len(), 2);
    let long = Detector::builder()
        .with_min_generic_len(25)
        .build()
        .unwrap();
    assert_eq!(long.find(&text).len(), 2);
    let short = Detector::builder()
        .with_min_generic_len(4)
        .with_min_entropy(1.5)
        .build()
        .unwrap();
    assert_eq!(short.find("pwd: Zq8x\n").len(), 1);
    assert!(Detector::new().find("pwd: Zq8x\n").is_empty());
}

#[test]
fn lines_and_columns_are_reported() {
    let mut rng = Rng::new(13);
    let key = format!("hf_{}", rng.string(ALPHA, 34));
    let pem = generated_keys(&mut rng)
        .into_iter()
        .find(|(f, _)| *f == KeyFormat::PemPrivateKey)
        .unwrap()
        .1;
    let text = format!("first\n\nsecond line\n  «ü» {key}\n{pem}\nend {key}");
    let found = Detector::new().find_with_lines(&text);
    let places: Vec<(usize, usize)> = found.iter().map(|d| (d.line(), d.column())).collect();
    assert_eq!(places, [(4, 7), (5, 1), (14, 5)]);
    assert_eq!(&text[found[0].detection().range()], key);
    assert_eq!(
        found[1].detection().format(),
        Some(KeyFormat::PemPrivateKey)
    );
    assert_eq!(
        found[2].clone().into_detection().format(),
        Some(KeyFormat::HuggingFace)
    );
}

#[test]
fn debug_and_display_never_show_the_value() {
    let mut rng = Rng::new(14);
    for (_, key) in generated_keys(&mut rng) {
        for detection in Detector::new().find(&key) {
            let shown = format!(
                "{detection:?} {} {}",
                detection.kind(),
                detection.confidence()
            );
            assert!(!shown.contains(&key));
            // the preview is the crate's mask: a public prefix and at most a quarter
            assert_eq!(detection.preview(), keyward::mask(&key));
        }
    }
}

/// Text made of pieces that reach deep into the detector: keywords, names, separators,
/// quotes, escapes and multi-byte characters.
fn tricky_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("sk-".to_owned()),
        Just("sk-ant-api03-".to_owned()),
        Just("ghp_".to_owned()),
        Just("github_pat_".to_owned()),
        Just("AKIA".to_owned()),
        Just("xoxb-1-".to_owned()),
        Just("eyJ".to_owned()),
        Just(".eyJ".to_owned()),
        Just("-----BEGIN PRIVATE KEY-----".to_owned()),
        Just("-----END PRIVATE KEY-----".to_owned()),
        Just("api_key".to_owned()),
        Just("--token".to_owned()),
        Just("PASSWORD".to_owned()),
        Just("Authorization: Bearer ".to_owned()),
        Just("checksum = ".to_owned()),
        Just("sha512-".to_owned()),
        "[=:\"'`\\\\ \n\t&$<>{}(),.]{1,3}",
        "[A-Za-z0-9_+/-]{1,60}",
        "\\PC{1,4}",
    ];
    proptest::collection::vec(piece, 0..30).prop_map(|pieces| pieces.concat())
}

fn check_invariants(text: &str) -> Result<(), TestCaseError> {
    check_invariants_of(&Detector::new(), text)?;
    // no thresholds: the assignment parser sees far more candidates
    let permissive = Detector::builder()
        .with_min_generic_len(1)
        .with_min_entropy(0.0)
        .build()
        .unwrap();
    check_invariants_of(&permissive, text)
}

fn check_invariants_of(detector: &Detector, text: &str) -> Result<(), TestCaseError> {
    let found = detector.find(text);
    let mut previous_end = 0;
    for detection in &found {
        let range = detection.range();
        prop_assert!(range.start < range.end, "empty range");
        prop_assert!(range.start >= previous_end, "overlap or disorder");
        prop_assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
        previous_end = range.end;
    }
    let lines = detector.find_with_lines(text);
    prop_assert_eq!(lines.len(), found.len());
    for (line, detection) in lines.iter().zip(&found) {
        prop_assert_eq!(line.detection(), detection);
        let before = &text[..detection.range().start];
        prop_assert_eq!(line.line(), before.matches('\n').count() + 1);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        prop_assert_eq!(line.column(), before[line_start..].chars().count() + 1);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_text(text in any::<String>()) {
        check_invariants(&text)?;
    }

    #[test]
    fn never_panics_on_text_full_of_keywords(text in tricky_text()) {
        check_invariants(&text)?;
    }

    #[test]
    fn a_planted_key_is_found_whatever_surrounds_it(
        before in "\\PC{0,200}",
        after in "\\PC{0,200}",
        seed in any::<u64>(),
    ) {
        let mut rng = Rng::new(seed);
        let keys = generated_keys(&mut rng);
        let (format, key) = &keys[rng.below(keys.len())];
        let text = format!("{before}\n{key}\n{after}");
        let found = Detector::new().find(&text);
        prop_assert!(
            found.iter().any(|d| d.format() == Some(*format) && text[d.range()] == **key),
            "{:?} not found", format
        );
    }
}

/// Text made of one keyword over and over is the worst case of a keyword prefilter: each
/// keyword starts a candidate. Every result must still be in order, apart and on character
/// boundaries. (That the work stays linear is counted, not timed, in the detector's own tests:
/// `src/guard/detector/linear_tests.rs`.)
#[test]
fn repeated_keywords_keep_the_invariants() {
    let adversarial = [
        "-----BEGIN PRIVATE KEY-----\n".repeat(15_000),
        "-----BEGIN PRIVATE KEY-----AAAA".repeat(15_000) + "-----END FOO-----",
        "sk-proj-".repeat(50_000),
        "xoxb-1-".repeat(50_000),
        "eyJ".repeat(100_000),
        "eyJ-".repeat(100_000),
        "api_key=".repeat(50_000),
        format!("token=\"{}", "api_key ".repeat(50_000)),
        "\"token\": \"".repeat(35_000),
    ];
    for text in &adversarial {
        check_invariants(text).unwrap();
    }
}

/// A line of `unit(i)` for `i` in `0..count`, and where each unit starts.
fn long_line(count: usize, unit: impl Fn(usize) -> String) -> (String, Vec<usize>) {
    let mut line = String::new();
    let mut starts = Vec::with_capacity(count);
    for i in 0..count {
        starts.push(line.len());
        line.push_str(&unit(i));
    }
    (line, starts)
}

/// Lines of megabytes full of keys, each found whole: these took minutes when every detection
/// went back to the start of its line (8 MB of AWS key ids: 77 s).
#[test]
fn every_key_on_a_line_of_megabytes_is_found() {
    let mut rng = Rng::new(16);
    let detector = Detector::new();

    // Random keys the detector finds on their own (one in many thousands reads as a placeholder).
    let keys: Vec<String> = std::iter::repeat_with(|| format!("AKIA{}", rng.string(BASE32, 16)))
        .filter(|key| detector.is_match(key))
        .take(200_000)
        .collect();
    let (line, starts) = long_line(keys.len(), |i| format!("{} ", keys[i]));
    assert!(line.len() > 4_000_000);
    let found = detector.find_with_lines(&line);
    assert_eq!(found.len(), keys.len());
    for ((found, key), start) in found.iter().zip(&keys).zip(&starts) {
        assert_eq!(found.detection().format(), Some(KeyFormat::AwsAccessKeyId));
        assert_eq!(found.detection().range(), *start..start + key.len());
        assert_eq!((found.line(), found.column()), (1, start + 1));
    }

    // Assignments before a command, as a shell line of megabytes.
    let values: Vec<String> = (0..100_000).map(|_| generic_value(&mut rng)).collect();
    let names = ["API_KEY", "SECRET_TOKEN", "db_password", "githubToken"];
    let (line, starts) = long_line(values.len(), |i| format!("{}={} ", names[i % 4], values[i]));
    let line = line + "./run.sh";
    assert!(line.len() > 3_000_000);
    let found = detector.find(&line);
    assert_eq!(found.len(), values.len());
    for ((found, value), start) in found.iter().zip(&values).zip(&starts) {
        let value_start = start + line[*start..].find('=').unwrap() + 1;
        assert_eq!(found.range(), value_start..value_start + value.len());
    }

    // Three headers make a token, so every third header starts one.
    let header = "eyJhbGciOiJIUzI1NiJ9.";
    let line = header.repeat(3 * 70_000);
    let found = detector.find(&line);
    assert_eq!(found.len(), 70_000);
    for (i, detection) in found.iter().enumerate() {
        let start = 3 * i * header.len();
        assert_eq!(detection.format(), Some(KeyFormat::Jwt));
        assert_eq!(detection.range(), start..start + 3 * header.len() - 1);
    }
}
