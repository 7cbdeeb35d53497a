//! `DotenvProvider`: values exactly as written, no process environment, safe errors.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use keyward::provider::DotenvOptions;
use keyward::{DotenvProvider, ErrorKind, SecretProvider};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// An obviously fake bcrypt hash: `$2b$12$`, then 53 characters of bcrypt's alphabet.
fn fake_bcrypt() -> String {
    let tail: String = "./FakeSaltNotReal0123456789abcdefghij"
        .chars()
        .cycle()
        .take(53)
        .collect();
    format!("$2b$12${tail}")
}

/// An obviously fake API key.
fn fake_key() -> String {
    format!("sk-proj-{}", "Fk3y".repeat(10))
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, contents).unwrap();
    path
}

fn value(provider: &DotenvProvider, key: &str) -> Option<String> {
    provider
        .get(key)
        .unwrap()
        .map(|secret| secret.expose_secret().to_owned())
}

fn from_text(text: &str) -> DotenvProvider {
    DotenvProvider::from_reader(text.as_bytes()).unwrap()
}

fn from_text_expanding(text: &str) -> DotenvProvider {
    DotenvProvider::options()
        .with_variable_expansion(true)
        .read(text.as_bytes())
        .unwrap()
}

#[test]
fn bcrypt_hashes_come_out_exactly_as_written_in_every_quoting() -> TestResult {
    let hash = fake_bcrypt();
    let dir = tempfile::tempdir()?;
    let path = write(
        dir.path(),
        ".env",
        format!("UNQUOTED={hash}\nDOUBLE=\"{hash}\"\nSINGLE='{hash}'\n"),
    );
    for options in [
        DotenvOptions::new(),
        DotenvProvider::options().with_variable_expansion(true),
    ] {
        let provider = options.open(&path)?;
        for key in ["UNQUOTED", "DOUBLE", "SINGLE"] {
            assert_eq!(
                value(&provider, key).as_deref(),
                Some(hash.as_str()),
                "{key} {options:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn generated_passwords_with_dollars_are_literal() {
    let password = "Xy$HOME$PATH${PATH}$$z$";
    let provider = from_text(&format!("A={password}\nB=\"{password}\"\nC='{password}'\n"));
    for key in ["A", "B", "C"] {
        assert_eq!(value(&provider, key).as_deref(), Some(password), "{key}");
    }
}

#[test]
fn the_process_environment_is_never_read() {
    let path = std::env::var("PATH").unwrap();
    assert!(!path.is_empty(), "the test needs PATH set");

    let text = "BARE=$PATH\nBRACED=\"${PATH}\"\n";
    let literal = from_text(text);
    assert_eq!(value(&literal, "BARE").as_deref(), Some("$PATH"));
    assert_eq!(value(&literal, "BRACED").as_deref(), Some("${PATH}"));

    // With expansion, names come from earlier lines only: PATH is not one, so it is empty.
    let expanded = from_text_expanding(&format!("{text}MIXED=a${{PATH}}b\n"));
    assert_eq!(value(&expanded, "BARE"), None);
    assert_eq!(value(&expanded, "BRACED"), None);
    assert_eq!(value(&expanded, "MIXED").as_deref(), Some("ab"));
}

#[test]
fn expansion_uses_earlier_lines_of_the_same_file() {
    let key = fake_key();
    let text = format!(
        "USER=app\nKEY={key}\nAUTH=\"Bearer $KEY\"\nURL=https://${{USER}}@host/$USER\n\
         LATER=[$DEFINED_BELOW]\nDEFINED_BELOW=x\nQUOTED='$KEY'\nESCAPED=\\$KEY\n\
         HASH={hash}\nCOPY=$HASH\n",
        hash = fake_bcrypt()
    );
    let provider = from_text_expanding(&text);
    assert_eq!(value(&provider, "AUTH"), Some(format!("Bearer {key}")));
    assert_eq!(
        value(&provider, "URL").as_deref(),
        Some("https://app@host/app")
    );
    assert_eq!(value(&provider, "LATER").as_deref(), Some("[]"));
    assert_eq!(value(&provider, "QUOTED").as_deref(), Some("$KEY"));
    assert_eq!(value(&provider, "ESCAPED").as_deref(), Some("$KEY"));
    assert_eq!(value(&provider, "COPY"), Some(fake_bcrypt()));

    // The same file without expansion keeps every reference.
    let literal = from_text(&text);
    assert_eq!(value(&literal, "AUTH").as_deref(), Some("Bearer $KEY"));
}

#[test]
fn expansion_does_not_cross_files_in_a_layered_read() -> TestResult {
    let dir = tempfile::tempdir()?;
    let local = write(dir.path(), ".env.local", "B=[$A]\n");
    let base = write(dir.path(), ".env", "A=from-base\n");
    let provider = DotenvProvider::options()
        .with_variable_expansion(true)
        .layered([&local, &base])?;
    assert_eq!(value(&provider, "B").as_deref(), Some("[]"));
    Ok(())
}

#[test]
fn a_broken_reference_is_a_parse_error() {
    let err = DotenvProvider::options()
        .with_variable_expansion(true)
        .read("A=1\nB=${A\n".as_bytes())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert!(err.to_string().contains("at line 2"), "{err}");
}

#[test]
fn byte_order_mark_crlf_export_and_comments() {
    let key = fake_key();
    let text = format!(
        "\u{feff}# leading comment\r\n  # indented comment\r\nexport OPENAI_API_KEY={key}\r\n\
         PLAIN=value # inline comment\r\nHASHED=a#b\r\nQUOTED=\"has # inside\" # and after\r\n\
         \r\nLAST=end"
    );
    let provider = from_text(&text);
    assert_eq!(value(&provider, "OPENAI_API_KEY"), Some(key));
    assert_eq!(value(&provider, "PLAIN").as_deref(), Some("value"));
    assert_eq!(value(&provider, "HASHED").as_deref(), Some("a#b"));
    assert_eq!(value(&provider, "QUOTED").as_deref(), Some("has # inside"));
    assert_eq!(value(&provider, "LAST").as_deref(), Some("end"));
    assert_eq!(
        provider.keys().collect::<Vec<_>>(),
        ["HASHED", "LAST", "OPENAI_API_KEY", "PLAIN", "QUOTED"]
    );
}

#[test]
fn multi_line_values_and_escapes() {
    let text = "PEM=\"-----BEGIN FAKE KEY-----\nAAAA\n# not a comment\n-----END FAKE KEY-----\"\n\
                ESCAPES=\"tab\\\\n \\\"q\\\" new\\nline \\$x\"\nSINGLE='a\\nb'\nAFTER=1\n";
    let provider = from_text(text);
    assert_eq!(
        value(&provider, "PEM").as_deref(),
        Some("-----BEGIN FAKE KEY-----\nAAAA\n# not a comment\n-----END FAKE KEY-----")
    );
    assert_eq!(
        value(&provider, "ESCAPES").as_deref(),
        Some("tab\\n \"q\" new\nline $x")
    );
    assert_eq!(value(&provider, "SINGLE").as_deref(), Some("a\\nb"));
    assert_eq!(value(&provider, "AFTER").as_deref(), Some("1"));
}

#[test]
fn empty_values_are_not_set_and_later_duplicates_win() {
    let provider = from_text("EMPTY=\nBLANK=  # nothing\nQUOTED=\"\"\nDUP=first\nDUP=second\n");
    for key in ["EMPTY", "BLANK", "QUOTED"] {
        assert_eq!(value(&provider, key), None, "{key}");
    }
    assert_eq!(value(&provider, "DUP").as_deref(), Some("second"));
    assert_eq!(provider.len(), 1);
}

#[test]
fn an_unterminated_quote_names_file_and_line_but_not_the_content() -> TestResult {
    let key = fake_key();
    let dir = tempfile::tempdir()?;
    let path = write(
        dir.path(),
        "broken.env",
        format!("# header\nOK=1\nLEAKY=\"{key}\nMORE={key}\n"),
    );
    let err = DotenvProvider::from_path(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("broken.env"), "{shown}");
    assert!(shown.contains("at line 3"), "{shown}");
    assert!(!shown.contains(&key), "{shown}");
    assert!(!shown.contains("Fk3y"), "{shown}");
    assert!(std::error::Error::source(&err).is_none());
    Ok(())
}

#[test]
fn other_syntax_errors_do_not_show_the_line_either() {
    let key = fake_key();
    for text in [
        format!("A=1\nB={key} trailing words\n"),
        format!("A=1\nB={key}\\q\n"),
        format!("A=1\n{key}\n"),
        format!("A=1\nB='{key}"),
    ] {
        let err = DotenvProvider::from_reader(text.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Parse, "{text:?}");
        let shown = format!("{err} {err:?}");
        assert!(
            shown.contains("<reader>") && shown.contains("at line 2"),
            "{shown}"
        );
        assert!(!shown.contains("Fk3y"), "{shown}");
    }
}

#[test]
fn non_utf8_is_invalid_format() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut contents = format!("A=1\nKEY={}", fake_key()).into_bytes();
    contents.extend_from_slice(&[0xff, 0xfe, b'\n']);
    let path = write(dir.path(), "latin.env", contents);
    let err = DotenvProvider::from_path(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidFormat);
    assert!(err.to_string().contains("latin.env"), "{err}");
    assert!(err.to_string().contains("line 2"), "{err}");
    assert!(!format!("{err:?}").contains("Fk3y"));
    Ok(())
}

#[test]
fn input_over_the_size_limit_is_refused() {
    let text = format!("A={}\n", "x".repeat(100));
    let err = DotenvProvider::options()
        .with_max_size(64)
        .read(text.as_bytes())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("max_size"), "{err}");
    assert!(
        DotenvProvider::options()
            .with_max_size(200)
            .read(text.as_bytes())
            .is_ok()
    );
}

#[test]
fn layered_files_first_wins_and_missing_ones_are_skipped() -> TestResult {
    let dir = tempfile::tempdir()?;
    let local = write(
        dir.path(),
        ".env.local",
        "SHARED=local\nONLY_LOCAL=l\nUNSET=\n",
    );
    let base = write(
        dir.path(),
        ".env",
        "SHARED=base\nONLY_BASE=b\nUNSET=from-base\n",
    );
    let missing = dir.path().join(".env.missing");

    let provider = DotenvProvider::layered([&missing, &local, &base])?;
    assert_eq!(value(&provider, "SHARED").as_deref(), Some("local"));
    assert_eq!(value(&provider, "ONLY_LOCAL").as_deref(), Some("l"));
    assert_eq!(value(&provider, "ONLY_BASE").as_deref(), Some("b"));
    // An empty value is "not set", so the next file answers.
    assert_eq!(value(&provider, "UNSET").as_deref(), Some("from-base"));
    assert_eq!(provider.paths(), [local.clone(), base.clone()]);

    let reversed = DotenvProvider::layered([&base, &local])?;
    assert_eq!(value(&reversed, "SHARED").as_deref(), Some("base"));
    Ok(())
}

#[test]
fn layered_needs_at_least_one_existing_file() -> TestResult {
    let dir = tempfile::tempdir()?;
    let first = dir.path().join(".env.local");
    let second = dir.path().join(".env");
    let err = DotenvProvider::layered([&first, &second]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    let message = err.to_string();
    assert!(
        message.contains(".env.local") && message.contains(&*second.to_string_lossy()),
        "{message}"
    );

    let err = DotenvProvider::layered(Vec::<PathBuf>::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    // A file that exists but cannot be read is an error, not skipped.
    let err = DotenvProvider::layered([dir.path()]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    Ok(())
}

#[test]
fn a_missing_single_file_is_an_io_error_naming_it() {
    let err = DotenvProvider::from_path("/nonexistent/keyward-test/.env").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(
        err.to_string().contains("/nonexistent/keyward-test/.env"),
        "{err}"
    );
}

/// `optional` forgives absence, and only absence: a missing file, a missing directory and a
/// symlink to nothing give an empty provider; a file that is there is read with every check.
#[test]
fn an_optional_file_may_be_missing_but_not_broken() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut missing = vec![dir.path().join(".env"), dir.path().join("no/such/dir/.env")];
    #[cfg(unix)]
    {
        let dangling = dir.path().join("dangling.env");
        std::os::unix::fs::symlink(dir.path().join("gone.env"), &dangling)?;
        missing.push(dangling);
    }
    for path in &missing {
        let provider = DotenvProvider::optional(path)?;
        assert!(
            provider.is_empty() && provider.paths().is_empty(),
            "{path:?}"
        );
        assert_eq!(value(&provider, "KEY"), None);
        // the same path is an error for `from_path`
        assert_eq!(
            DotenvProvider::from_path(path).unwrap_err().kind(),
            ErrorKind::Io
        );
    }

    let present = write(
        dir.path(),
        "app.env",
        format!(
            "KEY={}
",
            fake_key()
        ),
    );
    let provider = DotenvProvider::optional(&present)?;
    assert_eq!(value(&provider, "KEY"), Some(fake_key()));
    assert_eq!(provider.paths(), std::slice::from_ref(&present));

    // A path through a file is not absence (ENOTDIR), nor is a directory, nor bad syntax.
    let through_a_file = present.join(".env");
    let err = DotenvProvider::optional(&through_a_file).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert!(err.to_string().contains("app.env"), "{err}");
    let err = DotenvProvider::optional(dir.path()).unwrap_err();
    assert!(err.to_string().contains("a directory"), "{err}");
    let broken = write(dir.path(), "broken.env", format!("KEY=\"{}\n", fake_key()));
    let err = DotenvProvider::optional(&broken).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse, "{err}");
    assert!(!err.to_string().contains(&fake_key()), "{err}");
    let expanding = DotenvProvider::options()
        .with_variable_expansion(true)
        .clone();
    assert_eq!(
        value(&expanding.open_optional(&present)?, "KEY"),
        Some(fake_key())
    );
    assert!(expanding.open_optional(&missing[0])?.is_empty());
    Ok(())
}

#[test]
fn key_names_are_validated() {
    let provider = from_text("A=1\n");
    for bad in ["../x", "", "a/b", "a\0b"] {
        assert_eq!(
            provider.get(bad).unwrap_err().kind(),
            ErrorKind::InvalidName,
            "{bad:?}"
        );
    }
    assert_eq!(value(&provider, "B"), None);
}

#[test]
fn debug_shows_paths_and_keys_never_values() -> TestResult {
    let key = fake_key();
    let dir = tempfile::tempdir()?;
    let path = write(
        dir.path(),
        "app.env",
        format!("OPENAI_API_KEY={key}\nHASH='{}'\n", fake_bcrypt()),
    );
    let provider = DotenvProvider::from_path(&path)?;
    let debug = format!("{provider:?} {provider:#?}");
    assert!(
        debug.contains("app.env") && debug.contains("OPENAI_API_KEY") && debug.contains("HASH")
    );
    assert!(
        !debug.contains("Fk3y") && !debug.contains("$2b$"),
        "{debug}"
    );

    let secret = provider.get("OPENAI_API_KEY")?.unwrap();
    assert!(!format!("{secret:?}").contains("Fk3y"));
    assert_eq!(secret.meta().source, "dotenv");
    assert_eq!(secret.meta().created_at, None);
    assert_eq!(provider.name(), "dotenv");
    Ok(())
}

#[test]
fn providers_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<DotenvProvider>();
    assert_send_sync::<DotenvOptions>();
}

/// A NUL in a value used to be taken in silently; no environment variable can hold one.
#[test]
fn a_nul_byte_in_a_value_is_refused_naming_the_key_and_line() {
    for (text, key, line) in [
        ("A=1\nKEY=x\0y\n", "KEY", 2),
        ("A=1\nB=2\nQUOTED=\"p\0q\"\n", "QUOTED", 3),
        ("SINGLE='\0'\n", "SINGLE", 1),
        ("A=1\nMULTI=\"line one\nline\0two\"\n", "MULTI", 2),
    ] {
        let err = DotenvProvider::from_reader(text.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Parse, "{text:?}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("at line {line}"))
                && message.contains(&format!("`{key}` contains a NUL byte")),
            "{text:?}: {message}"
        );
    }
    // Where no key is read yet, it is an ordinary parse error.
    let err = DotenvProvider::from_reader("A=1\n\0B=2\n".as_bytes()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert!(err.to_string().contains("at line 2"), "{err}");
}

/// How a generated value is written.
#[derive(Debug, Clone, Copy)]
enum Quoting {
    Bare,
    Single,
    Double,
}

fn written(value: &str, quoting: Quoting) -> String {
    match quoting {
        Quoting::Bare => value.to_owned(),
        Quoting::Single => format!("'{value}'"),
        Quoting::Double => format!("\"{value}\""),
    }
}

fn quoting() -> impl proptest::strategy::Strategy<Value = Quoting> {
    proptest::prop_oneof![
        proptest::strategy::Just(Quoting::Bare),
        proptest::strategy::Just(Quoting::Single),
        proptest::strategy::Just(Quoting::Double),
    ]
}

proptest::proptest! {
    /// A NUL anywhere in any value of a generated file, bare or quoted, at its start, middle
    /// or end: the error names that key and its line, and shows no value.
    #[test]
    fn a_nul_anywhere_in_a_generated_value_is_refused(
        lines in proptest::collection::vec(("[a-z0-9_.-]{1,12}", quoting()), 1..8),
        pick in 0usize..8,
        at in 0usize..13,
    ) {
        let pick = pick % lines.len();
        let mut text = String::new();
        for (i, (value, quoting)) in lines.iter().enumerate() {
            // `zq` appears in no message: a value shown would be seen.
            let mut value = format!("zq{value}");
            if i == pick {
                value.insert(at.min(value.len()), '\0');
            }
            text.push_str(&format!("KEY_{i}={}\n", written(&value, *quoting)));
        }
        let err = DotenvProvider::from_reader(text.as_bytes()).unwrap_err();
        proptest::prop_assert_eq!(err.kind(), ErrorKind::Parse);
        let message = err.to_string();
        let names = format!("at line {}: the value of `KEY_{pick}` contains a NUL byte", pick + 1);
        proptest::prop_assert!(message.contains(&names), "{}", message);
        let debug = format!("{err:?}");
        proptest::prop_assert!(!message.contains("zq") && !debug.contains("zq"));
    }
}

/// A file with CR-only line ends used to read as one line: `A=1<CR>B=2` set `A` to
/// `1<CR>B=2` and lost `B`. It is refused, naming the line of the first lone CR.
#[test]
fn a_carriage_return_that_ends_no_line_is_refused() {
    for (text, line) in [
        ("KEY=\"A\rB=C\"\n", 1),
        ("A=1\rB=2\r", 1),
        ("# a comment\rKEY=hidden-by-the-comment\r", 1),
        ("A=1\r\nB=2\r\nC=3\rD=4\r\n", 3),
        ("A=1\nB=2\r", 2),
        ("A=\r#\nB=\t\r\n", 1),
    ] {
        let err = DotenvProvider::from_reader(text.as_bytes()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Parse, "{text:?}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("at line {line}: a carriage return")),
            "{text:?}: {message}"
        );
        assert!(message.contains("LF or CRLF"), "{message}");
    }
}

proptest::proptest! {
    /// Generated files whose lines end in LF, CRLF or a lone CR, in any mixture, with values
    /// bare, quoted and spanning lines: with LF and CRLF only, every value is read as with LF
    /// alone; a lone CR anywhere is refused on its line.
    #[test]
    fn line_end_mixtures_read_alike_or_a_lone_cr_is_refused(
        lines in proptest::collection::vec(
            ("[a-z0-9_.-]{1,8}", proptest::option::of("[a-z0-9]{1,4}"), quoting(), 0..3usize),
            1..8,
        ),
    ) {
        const ENDS: [&str; 3] = ["\n", "\r\n", "\r"];
        let mut text = String::new();
        let mut plain = String::new();
        let mut first_lone = None;
        let mut line = 1;
        for (i, (value, second, quoting, end)) in lines.iter().enumerate() {
            let end = ENDS[*end];
            // A second physical line inside quotes, ended the same way; kept as written.
            let value = match (second, quoting) {
                (Some(second), Quoting::Single | Quoting::Double) => {
                    format!("{value}{end}{second}")
                }
                _ => value.clone(),
            };
            text.push_str(&format!("KEY_{i}={}{end}", written(&value, *quoting)));
            plain.push_str(&format!("KEY_{i}={}\n", written(&value, *quoting)));
            if end == "\r" && first_lone.is_none() {
                first_lone = Some(line);
            }
            line += value.matches(end).count() + usize::from(end != "\r");
        }
        let got = DotenvProvider::from_reader(text.as_bytes());
        match first_lone {
            Some(line) => {
                let err = got.unwrap_err();
                proptest::prop_assert_eq!(err.kind(), ErrorKind::Parse);
                let at = format!("at line {line}: a carriage return");
                proptest::prop_assert!(err.to_string().contains(&at), "{}", err);
            }
            None => {
                let got = got.unwrap();
                let expected = from_text(&plain);
                proptest::prop_assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
                for key in expected.keys() {
                    proptest::prop_assert_eq!(value(&got, key), value(&expected, key));
                }
            }
        }
    }
}

/// Makes a FIFO at `path` with the system's `mkfifo`; false where there is none.
#[cfg(unix)]
fn mkfifo(path: &Path) -> bool {
    std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|status| status.success())
}

/// A FIFO is refused without being opened: opening it for reading would wait for a writer,
/// forever if none comes. A writer is started here anyway, so that a regression reads its
/// `.env` text and fails the assertion rather than hanging the test.
#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() -> TestResult {
    let dir = tempfile::tempdir()?;
    let fifo = dir.path().join(".env");
    if !mkfifo(&fifo) {
        eprintln!("skipped: no mkfifo");
        return Ok(());
    }
    let link = dir.path().join("link.env");
    std::os::unix::fs::symlink(&fifo, &link)?;
    let text = format!("KEY={}\n", fake_key());
    for path in [&fifo, &link] {
        let expanding = DotenvProvider::options()
            .with_variable_expansion(true)
            .clone();
        let attempts: [&dyn Fn() -> keyward::Result<DotenvProvider>; 4] = [
            &|| DotenvProvider::from_path(path),
            &|| expanding.open(path),
            &|| DotenvProvider::layered([path]),
            &|| DotenvProvider::optional(path),
        ];
        for attempt in attempts {
            let writer = {
                let (fifo, text) = (fifo.clone(), text.clone());
                std::thread::spawn(move || fs::write(fifo, text))
            };
            let err = attempt().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Io);
            let message = err.to_string();
            assert!(message.contains("not a regular file"), "{message}");
            assert!(message.contains(&*path.to_string_lossy()), "{message}");
            // Release the writer.
            assert_eq!(fs::read_to_string(&fifo)?, text);
            writer.join().unwrap()?;
        }
    }
    Ok(())
}

#[cfg(unix)]
#[test]
fn directories_and_devices_are_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let cases: [(&Path, &str); 3] = [
        (dir.path(), "a directory"),
        (Path::new("/dev/zero"), "not a regular file"),
        (Path::new("/dev/null"), "not a regular file"),
    ];
    for (path, says) in cases {
        for err in [
            DotenvProvider::from_path(path).unwrap_err(),
            DotenvProvider::layered([path]).unwrap_err(),
            DotenvProvider::optional(path).unwrap_err(),
        ] {
            assert_eq!(err.kind(), ErrorKind::Io, "{path:?}");
            assert!(err.to_string().contains(says), "{path:?}: {err}");
        }
    }
    // A symlink to a regular file is read as the file.
    let real = write(dir.path(), "real.env", format!("KEY={}\n", fake_key()));
    let link = dir.path().join(".env");
    std::os::unix::fs::symlink(&real, &link)?;
    assert_eq!(
        value(&DotenvProvider::from_path(&link)?, "KEY"),
        Some(fake_key())
    );
    Ok(())
}

/// The issue's two files: seven levels of sixteen references to the level below (622 bytes
/// that expand to gigabytes), and 120,000 lines of `A=${A}x` (under 1 MiB, quadratic in
/// what it copies). Both stop at the size limit with an error naming the line and the key.
#[test]
fn expansion_that_multiplies_or_chains_stops_at_the_size_limit() {
    let mut levels = String::from("A0=0123456789abcdef\n");
    for level in 1..=7 {
        let reference = format!("${{A{}}}", level - 1);
        levels.push_str(&format!("A{level}={}\n", reference.repeat(16)));
    }
    let chain = "A=${A}x\n".repeat(120_000);
    assert!(levels.len() < 1024 && chain.len() < DotenvOptions::DEFAULT_MAX_SIZE);
    // Where the values first add up to more than 1 MiB.
    let chain_line = (1..)
        .find(|&n: &usize| n * (n + 1) / 2 > DotenvOptions::DEFAULT_MAX_SIZE)
        .unwrap();
    for (text, key, line) in [(&levels, "A4", 5), (&chain, "A", chain_line)] {
        let err = DotenvProvider::options()
            .with_variable_expansion(true)
            .read(text.as_bytes())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("line {line} (`{key}`)"))
                && message.contains("max_size")
                && message.contains(&DotenvOptions::DEFAULT_MAX_SIZE.to_string()),
            "{message}"
        );
        // Without expansion the same files are fine: every `$` is literal.
        assert!(DotenvProvider::from_reader(text.as_bytes()).is_ok());
    }
}

/// One line of a generated `.env` file: a key and its value's parts.
#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Reference(usize),
}

fn reference_graph()
-> impl proptest::strategy::Strategy<Value = (Vec<(usize, Vec<Part>, bool)>, usize)> {
    use proptest::prelude::*;
    let part = prop_oneof![
        1 => "[a-z0-9_-]{0,4}".prop_map(Part::Text),
        3 => (0..6usize).prop_map(Part::Reference),
    ];
    let line = (0..6usize, prop::collection::vec(part, 0..9), any::<bool>());
    (prop::collection::vec(line, 1..24), 0..3000usize)
}

/// Expands the generated lines as the docs say, counting every value against `max_size`:
/// the final values, or the 1-based line and key where the limit is passed.
fn expand_by_hand(
    lines: &[(usize, Vec<Part>, bool)],
    max_size: usize,
) -> Result<std::collections::BTreeMap<String, String>, (usize, String)> {
    let mut values = std::collections::BTreeMap::new();
    let mut total = 0;
    for (number, (key, parts, _)) in lines.iter().enumerate() {
        let key = format!("A{key}");
        let mut value = String::new();
        for part in parts {
            match part {
                Part::Text(text) => value.push_str(text),
                Part::Reference(other) => {
                    let other = values.get(&format!("A{other}")).map_or("", String::as_str);
                    value.push_str(other);
                }
            }
            // Checked as the value grows, so that this model does not blow up either.
            if total + value.len() > max_size {
                return Err((number + 1, key));
            }
        }
        total += value.len();
        if value.is_empty() {
            values.remove(&key);
        } else {
            values.insert(key, value);
        }
    }
    Ok(values)
}

proptest::proptest! {
    /// Generated reference graphs (fan-out up to 8, chains, keys set again, references to
    /// later or unknown keys): either every value is what a plain expansion gives, all of
    /// them within the limit, or the limit error names the line and key where a plain
    /// expansion passes it.
    #[test]
    fn generated_reference_graphs_expand_right_or_stop_at_the_limit(
        (lines, room) in reference_graph()
    ) {
        let mut text = String::new();
        for (key, parts, quoted) in &lines {
            let value: String = parts
                .iter()
                .map(|part| match part {
                    Part::Text(text) => text.clone(),
                    Part::Reference(other) => format!("${{A{other}}}"),
                })
                .collect();
            let quote = if *quoted { "\"" } else { "" };
            text.push_str(&format!("A{key}={quote}{value}{quote}\n"));
        }
        let max_size = text.len() + room;
        let got = DotenvProvider::options()
            .with_variable_expansion(true)
            .with_max_size(max_size)
            .read(text.as_bytes());
        match (expand_by_hand(&lines, max_size), got) {
            (Ok(expected), Ok(provider)) => {
                let keys: Vec<&str> = provider.keys().collect();
                proptest::prop_assert_eq!(keys, expected.keys().map(String::as_str).collect::<Vec<_>>());
                let mut total = 0;
                for (key, want) in &expected {
                    proptest::prop_assert_eq!(value(&provider, key), Some(want.clone()));
                    total += want.len();
                }
                proptest::prop_assert!(total <= max_size);
            }
            (Err((line, key)), Err(err)) => {
                proptest::prop_assert_eq!(err.kind(), ErrorKind::InvalidInput);
                let message = err.to_string();
                let names = format!("line {line} (`{key}`)");
                proptest::prop_assert!(message.contains(&names), "{} vs {}", message, names);
            }
            (expected, got) => {
                proptest::prop_assert!(false, "expected {:?}, got {:?}", expected.map(|v| v.len()), got.map(|p| p.len()));
            }
        }
    }
}

/// A statement that starts with many blanks and spans many lines used to be looked at from
/// its start again for every line (by the splitter, then by dotenvy): quadratic, hours for a
/// file under the size limit. 400,000 blanks and 400,000 lines take far under a second now.
#[test]
fn leading_blanks_before_a_long_multi_line_value_are_read_once() {
    let n = 400_000;
    let text = format!("{}A=\"{}\"\nB=after\n", " ".repeat(n), "\n".repeat(n));
    assert!(text.len() < DotenvOptions::DEFAULT_MAX_SIZE);
    let provider = from_text(&text);
    assert_eq!(value(&provider, "A").map(|v| v.len()), Some(n));
    assert_eq!(value(&provider, "B").as_deref(), Some("after"));
    let comment = format!("{}# c\nA=\"{}\"\n", " ".repeat(n), "\n".repeat(n));
    assert_eq!(value(&from_text(&comment), "A").map(|v| v.len()), Some(n));
}
