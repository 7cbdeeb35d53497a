//! Every error kind, provoked through the real code paths from inputs that contain a known
//! secret: neither `Display` nor `Debug` (nor any source) may contain it.
#![allow(clippy::unwrap_used)]

use std::error::Error as _;

use keyward::{
    Error, ErrorKind, FileProvider, KeyFormat, KeyManager, MemoryProvider, Redactor, Result,
    Secret, SecretMeta, SecretProvider, SecretProviderExt, SecretString,
};
use proptest::prelude::*;

fn fake_secret() -> String {
    format!("sk-proj-{}", "LeAk3dV4lue".repeat(4))
}

/// Asserts that no rendering of `err` (or of its sources) contains `secret`, and that it is not
/// temporary: every error provoked here is an answer, which asking again does not change.
fn assert_clean(err: &Error, secret: &str, kind: ErrorKind) {
    assert_eq!(err.kind(), kind, "{err}");
    assert!(!err.is_temporary(), "{kind:?} is not temporary: {err}");
    let mut texts = vec![err.to_string(), format!("{err:?}"), format!("{err:#?}")];
    let mut source = err.source();
    while let Some(s) = source {
        texts.push(s.to_string());
        texts.push(format!("{s:?}"));
        source = s.source();
    }
    for text in texts {
        assert!(
            !text.contains(secret),
            "{kind:?} error shows the secret: {text}"
        );
        // Not even a long fragment of it.
        assert!(
            !text.contains(&secret[8..24]),
            "{kind:?} error shows part of the secret: {text}"
        );
    }
}

#[test]
fn not_found_and_invalid_name() {
    let secret = fake_secret();
    let provider = MemoryProvider::new().with("KEY", secret.as_str());
    assert_clean(
        &provider.require("OTHER").unwrap_err(),
        &secret,
        ErrorKind::NotFound,
    );
    assert_clean(
        &provider.get("../KEY").unwrap_err(),
        &secret,
        ErrorKind::InvalidName,
    );
}

#[test]
fn invalid_format_names_the_formats_not_the_value() {
    let secret = fake_secret();
    let err = KeyFormat::validate(&secret, &[KeyFormat::Anthropic, KeyFormat::GitHub]).unwrap_err();
    assert_clean(&err, &secret, ErrorKind::InvalidFormat);
    assert!(err.to_string().contains("Anthropic API key"));
    let provider = MemoryProvider::new().with("KEY", secret.as_str());
    let err = provider
        .require_format("KEY", &[KeyFormat::Stripe])
        .unwrap_err();
    assert_clean(&err, &secret, ErrorKind::InvalidFormat);
    assert!(err.to_string().contains("`KEY`"));
}

#[test]
fn file_errors() {
    let secret = fake_secret();
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = secret.clone().into_bytes();
    bytes.push(0xff);
    std::fs::write(dir.path().join("BINARY"), &bytes).unwrap();
    std::fs::write(dir.path().join("BIG"), secret.repeat(3000)).unwrap();
    std::fs::write(dir.path().join("OPEN"), &secret).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for name in ["BINARY", "BIG"] {
            let path = dir.path().join(name);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let open = dir.path().join("OPEN");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let provider = FileProvider::new(dir.path()).unwrap();
    assert_clean(
        &provider.get("BINARY").unwrap_err(),
        &secret,
        ErrorKind::InvalidFormat,
    );
    assert_clean(
        &provider.get("BIG").unwrap_err(),
        &secret,
        ErrorKind::InvalidFormat,
    );
    #[cfg(unix)]
    assert_clean(
        &provider.get("OPEN").unwrap_err(),
        &secret,
        ErrorKind::InsecurePermissions,
    );
    let missing = FileProvider::new(dir.path().join("no-such-dir")).unwrap_err();
    assert_clean(&missing, &secret, ErrorKind::Io);
}

#[test]
fn dotenv_parse_errors_name_the_line_not_its_content() {
    let secret = fake_secret();
    let text = format!("OK=1\nBROKEN=\"{secret}\n");
    let err = keyward::DotenvProvider::from_reader(text.as_bytes()).unwrap_err();
    assert_clean(&err, &secret, ErrorKind::Parse);
    assert!(err.to_string().contains("line 2"), "{err}");
}

/// A reader that fails as the operating system says.
struct Failing(std::io::ErrorKind);

impl std::io::Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(self.0.into())
    }
}

/// A read that fails is temporary when the system says it may pass (timed out, busy, ...), and
/// an answer otherwise (no permission, invalid data).
#[test]
fn read_errors_are_temporary_when_the_system_says_so() {
    use std::io::ErrorKind as Io;

    for (io, temporary) in [
        (Io::TimedOut, true),
        (Io::ConnectionReset, true),
        (Io::ResourceBusy, true),
        (Io::PermissionDenied, false),
        (Io::InvalidData, false),
        (Io::Other, false),
    ] {
        let err = keyward::DotenvProvider::from_reader(Failing(io)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{io:?}");
        assert_eq!(err.is_temporary(), temporary, "{io:?}");
    }
}

/// A source that takes any name, as a provider of the caller's own may, and holds `value` under
/// every name: the errors that name a key can then be provoked with any name at all.
#[derive(Debug)]
struct AnyName {
    value: Option<String>,
}

impl SecretProvider for AnyName {
    fn name(&self) -> &str {
        "any-name"
    }

    fn get(&self, _key: &str) -> Result<Option<Secret>> {
        Ok(self
            .value
            .as_deref()
            .map(|value| Secret::new(value, SecretMeta::new("any-name"))))
    }
}

/// Whether `text` holds a character that starts a new line or rewrites one in a log or a
/// terminal: a control character, a Unicode line or paragraph separator, a direction override.
fn breaks_lines(text: &str) -> bool {
    text.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

/// Every message that names a key, built with `name`.
fn errors_naming(name: &str) -> Vec<Error> {
    let short = SecretString::from("short");
    let long = SecretString::from(fake_secret());
    let redactor = Redactor::builder()
        .with_secret(name, &long)
        .build()
        .unwrap();
    let mut stream = redactor.stream();
    stream.push(&format!("the key is {} and more", long.expose_secret()));
    stream.finish();
    let mut errors = vec![
        Error::not_found(name, "memory"),
        // Refused (a control character) or not found (another line breaker): both name it.
        MemoryProvider::new().require(name).unwrap_err(),
        AnyName { value: None }.require(name).unwrap_err(),
        AnyName {
            value: Some(fake_secret()),
        }
        .require_format(name, &[KeyFormat::Stripe])
        .unwrap_err(),
        Redactor::builder()
            .with_secret(name, &short)
            .build()
            .unwrap_err(),
        redactor
            .check(&format!("the key is {}", long.expose_secret()))
            .unwrap_err(),
        stream.check().unwrap_err(),
    ];
    // The manager over a remote-style source: it refuses control characters itself, but lets
    // other names through to the provider, and asks for their companion creation date.
    let manager = KeyManager::builder_async(AnyName {
        value: Some("not a date".to_owned()),
    })
    .build()
    .unwrap();
    let loaded = block_on(manager.get_async(name));
    errors.push(loaded.unwrap_err());
    errors
}

/// Runs a future that never waits (every source here answers at once) to completion.
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

/// Names with characters that would forge or rewrite a log line.
fn hostile_name() -> impl Strategy<Value = String> {
    let breaker = prop::sample::select(vec![
        "\n",
        "\r\n",
        "\r",
        "\u{1b}[2K",
        "\u{2028}",
        "\u{2029}",
        "\u{85}",
        "\u{202e}",
        "\u{2067}",
        "\0",
        "\t",
        "\u{7f}",
    ]);
    ("[A-Za-z_]{1,20}", breaker, "\\PC{0,20}")
        .prop_map(|(head, breaker, tail)| format!("{head}{breaker}2026-01-01 INFO forged {tail}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A key name never breaks the line of a message that names it, whichever message and
    /// whatever the name holds: every one quotes it through the same escaping helper.
    #[test]
    fn key_names_never_break_a_message_line(name in hostile_name()) {
        for err in errors_naming(&name) {
            let shown = err.to_string();
            prop_assert!(!breaks_lines(&shown), "{:?}: {shown:?}", err.kind());
            prop_assert!(shown.contains('`'), "the name is quoted: {shown:?}");
        }
    }
}

#[test]
fn a_key_name_with_a_newline_is_escaped_in_every_message() {
    let errors = errors_naming("OPENAI_API_KEY\n2026-01-01 INFO forged line");
    assert_eq!(errors.len(), 8);
    for err in errors {
        let shown = err.to_string();
        assert!(!shown.contains('\n'), "{shown:?}");
        assert!(shown.contains("OPENAI_API_KEY\\n2026"), "{shown:?}");
    }
}
