//! Every error kind, provoked through the real code paths from inputs that contain a known
//! secret: neither `Display` nor `Debug` (nor any source) may contain it.
#![allow(clippy::unwrap_used)]

use std::error::Error as _;

use keyward::{
    Error, ErrorKind, FileProvider, KeyFormat, MemoryProvider, SecretProvider, SecretProviderExt,
};

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
