//! `FileProvider`: one file per secret, with the checks that keep a secrets directory honest.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use keyward::{ErrorKind, FileProvider, SecretProvider, SecretProviderExt};
use tempfile::TempDir;

fn fake_key() -> String {
    format!("sk-proj-{}", "Ab3d".repeat(10))
}

/// A fresh secrets directory (tempfile makes it 0700).
fn secrets_dir() -> TempDir {
    tempfile::tempdir().unwrap()
}

/// Writes `bytes` to `dir/name` with `mode` (ignored where there are no Unix modes).
fn write(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    set_mode(&path, mode);
    path
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) {}

#[test]
fn trims_exactly_one_trailing_line_ending_and_a_byte_order_mark() {
    let dir = secrets_dir();
    let key = fake_key();
    write(dir.path(), "lf", format!("{key}\n").as_bytes(), 0o600);
    write(dir.path(), "crlf", format!("{key}\r\n").as_bytes(), 0o600);
    write(dir.path(), "two_lf", format!("{key}\n\n").as_bytes(), 0o600);
    write(
        dir.path(),
        "two_crlf",
        format!("{key}\r\n\r\n").as_bytes(),
        0o600,
    );
    write(dir.path(), "bare", key.as_bytes(), 0o600);
    write(dir.path(), "inner", b"a\nb\n", 0o600);
    write(
        dir.path(),
        "bom",
        format!("\u{feff}{key}\r\n").as_bytes(),
        0o600,
    );
    let provider = FileProvider::new(dir.path()).unwrap();

    let value = |name: &str| provider.require(name).unwrap().expose_secret().to_owned();
    assert_eq!(value("lf"), key);
    assert_eq!(value("crlf"), key);
    assert_eq!(value("two_lf"), format!("{key}\n"));
    assert_eq!(value("two_crlf"), format!("{key}\r\n"));
    assert_eq!(value("bare"), key);
    assert_eq!(value("inner"), "a\nb");
    assert_eq!(
        value("bom"),
        key,
        "a byte order mark is not part of the key"
    );
}

#[test]
fn an_empty_file_counts_as_not_set() {
    let dir = secrets_dir();
    write(dir.path(), "empty", b"", 0o600);
    write(dir.path(), "newline", b"\n", 0o600);
    let provider = FileProvider::new(dir.path()).unwrap();
    assert!(provider.get("empty").unwrap().is_none());
    assert!(provider.get("newline").unwrap().is_none());
}

#[test]
fn a_missing_file_is_none() {
    let dir = secrets_dir();
    let provider = FileProvider::new(dir.path()).unwrap();
    assert!(provider.get("OPENAI_API_KEY").unwrap().is_none());
    let err = provider.require("OPENAI_API_KEY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "secret `OPENAI_API_KEY` not found in file");
}

#[test]
fn names_that_could_leave_the_directory_are_invalid() {
    let parent = secrets_dir();
    let dir = parent.path().join("secrets");
    fs::create_dir(&dir).unwrap();
    write(parent.path(), "outside", fake_key().as_bytes(), 0o600);
    write(&dir, "b", fake_key().as_bytes(), 0o600);
    let provider = FileProvider::new(&dir).unwrap();

    for name in [
        "..",
        ".",
        "../outside",
        "..\\outside",
        "a/b",
        "./b",
        "/etc/passwd",
        "",
        "b\0",
        "b\n",
    ] {
        let err = provider.get(name).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidName, "{name:?}");
    }
}

#[test]
fn name_and_metadata_source_are_file() {
    let dir = secrets_dir();
    write(dir.path(), "KEY", fake_key().as_bytes(), 0o600);
    let provider = FileProvider::new(dir.path()).unwrap();
    assert_eq!(provider.name(), "file");
    assert_eq!(provider.require("KEY").unwrap().meta().source, "file");
}

#[test]
fn debug_shows_the_directory_and_never_a_value() {
    let dir = secrets_dir();
    let key = fake_key();
    write(dir.path(), "KEY", key.as_bytes(), 0o600);
    let provider = FileProvider::new(dir.path()).unwrap();
    let secret = provider.require("KEY").unwrap();

    let debug = format!("{provider:?}");
    assert!(debug.contains(&format!("{:?}", dir.path())), "{debug}");
    assert!(!debug.contains(&key));
    assert!(!format!("{secret:?}").contains(&key));
    assert_eq!(format!("{:?}", secret.value()), "***");
}

#[test]
fn created_at_is_the_modification_time() {
    let dir = secrets_dir();
    let path = write(dir.path(), "KEY", fake_key().as_bytes(), 0o600);
    let mtime = chrono::DateTime::parse_from_rfc3339("2024-01-02T03:04:05.25Z")
        .unwrap()
        .to_utc();
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime.into())
        .unwrap();

    let provider = FileProvider::new(dir.path()).unwrap();
    let secret = provider.require("KEY").unwrap();
    assert_eq!(secret.meta().created_at, Some(mtime));
}

#[test]
fn a_file_over_the_size_limit_is_refused() {
    let dir = secrets_dir();
    let limit = FileProvider::DEFAULT_MAX_FILE_SIZE as usize;
    write(dir.path(), "at_limit", &vec![b'a'; limit], 0o600);
    write(dir.path(), "over_limit", &vec![b'a'; limit + 1], 0o600);
    let provider = FileProvider::new(dir.path()).unwrap();
    assert_eq!(provider.max_file_size(), 64 * 1024);

    assert_eq!(provider.require("at_limit").unwrap().value().len(), limit);
    let err = provider.get("over_limit").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidFormat);
    let message = err.to_string();
    assert!(message.contains("over_limit"), "{message}");
    assert!(message.contains("65536 bytes"), "{message}");

    let small = FileProvider::new(dir.path())
        .unwrap()
        .with_max_file_size(10);
    write(dir.path(), "ten", b"0123456789", 0o600);
    write(dir.path(), "eleven", b"0123456789\n", 0o600);
    assert_eq!(small.require("ten").unwrap().expose_secret(), "0123456789");
    assert_eq!(
        small.get("eleven").unwrap_err().kind(),
        ErrorKind::InvalidFormat
    );
}

#[test]
fn content_that_is_not_utf8_is_refused_with_the_path() {
    let dir = secrets_dir();
    write(dir.path(), "binary", b"abc\xff\xfe\n", 0o600);
    let provider = FileProvider::new(dir.path()).unwrap();
    let err = provider.get("binary").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidFormat);
    let message = err.to_string();
    assert!(
        message.contains(&dir.path().join("binary").display().to_string()),
        "{message}"
    );
    assert!(message.contains("UTF-8"), "{message}");
}

#[test]
fn a_directory_named_like_a_key_is_refused() {
    let dir = secrets_dir();
    fs::create_dir(dir.path().join("KEY")).unwrap();
    let provider = FileProvider::new(dir.path()).unwrap();
    let err = provider.get("KEY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidFormat);
    assert!(err.to_string().contains("is a directory"), "{err}");
}

#[test]
fn the_directory_must_exist_and_be_a_directory() {
    let dir = secrets_dir();
    let missing = FileProvider::new(dir.path().join("missing")).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Io);
    assert!(missing.to_string().contains("missing"), "{missing}");

    let file = write(dir.path(), "file", b"x", 0o600);
    let not_dir = FileProvider::new(&file).unwrap_err();
    assert_eq!(not_dir.kind(), ErrorKind::InvalidInput);
}

/// `optional` forgives a missing directory, and nothing else.
#[test]
fn an_optional_directory_may_be_missing_but_not_wrong() {
    let dir = secrets_dir();
    for missing in [dir.path().join("missing"), dir.path().join("no/such/dir")] {
        let provider = FileProvider::optional(&missing).unwrap();
        assert!(provider.get("KEY").unwrap().is_none());
        assert!(provider.keys().unwrap().is_empty());
        assert_eq!(provider.dir(), missing);
        assert!(
            format!("{provider:?}").contains("missing: true"),
            "{provider:?}"
        );
        // the same path is an error for `new`
        assert_eq!(
            FileProvider::new(&missing).unwrap_err().kind(),
            ErrorKind::Io
        );
    }

    // A directory that is there is served as by `new`.
    let key = fake_key();
    write(dir.path(), "KEY", key.as_bytes(), 0o600);
    let provider = FileProvider::optional(dir.path()).unwrap();
    assert_eq!(provider.require("KEY").unwrap().expose_secret(), key);
    assert_eq!(provider.keys().unwrap(), ["KEY"]);
    assert!(!format!("{provider:?}").contains("missing"), "{provider:?}");

    // A file where the directory should be, or on the way to it, is not absence.
    let file = dir.path().join("KEY");
    let err = FileProvider::optional(&file).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = FileProvider::optional(file.join("secrets")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert!(err.to_string().contains("KEY"), "{err}");

    // Nor is a directory anyone can write to.
    #[cfg(unix)]
    {
        let open = dir.path().join("open");
        fs::create_dir(&open).unwrap();
        set_mode(&open, 0o777);
        let err = FileProvider::optional(&open).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InsecurePermissions, "{err}");
    }
}

#[test]
fn key_file_serves_one_file_under_the_given_name() {
    let dir = secrets_dir();
    let key = fake_key();
    let path = write(
        dir.path(),
        "openai.key",
        format!("{key}\n").as_bytes(),
        0o600,
    );
    write(dir.path(), "OTHER", b"other", 0o600);
    let provider = FileProvider::key_file("OPENAI_API_KEY", &path).unwrap();

    assert_eq!(
        provider.require("OPENAI_API_KEY").unwrap().expose_secret(),
        key
    );
    assert!(provider.get("openai.key").unwrap().is_none());
    assert!(provider.get("OTHER").unwrap().is_none());
    assert_eq!(
        provider.get("../OTHER").unwrap_err().kind(),
        ErrorKind::InvalidName
    );
    let debug = format!("{provider:?}");
    assert!(
        debug.contains("OPENAI_API_KEY") && !debug.contains(&key),
        "{debug}"
    );

    let not_yet = FileProvider::key_file("LATER", dir.path().join("later.key")).unwrap();
    assert!(not_yet.get("LATER").unwrap().is_none());
}

#[test]
fn key_file_refuses_bad_names_and_paths() {
    let dir = secrets_dir();
    let path = dir.path().join("k");
    assert_eq!(
        FileProvider::key_file("a/b", &path).unwrap_err().kind(),
        ErrorKind::InvalidName
    );
    assert_eq!(
        FileProvider::key_file("K", dir.path().join(".."))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        FileProvider::key_file("K", dir.path().join("missing/k"))
            .unwrap_err()
            .kind(),
        ErrorKind::Io
    );
}

#[test]
fn keys_lists_the_files_that_hold_a_value_and_skips_dot_files() {
    let dir = secrets_dir();
    let key = fake_key();
    for name in ["b_token", "A_KEY", "c.conf"] {
        write(dir.path(), name, key.as_bytes(), 0o600);
    }
    write(dir.path(), ".hidden", key.as_bytes(), 0o600);
    write(dir.path(), "EMPTY", b"", 0o600);
    write(dir.path(), "NEWLINE_ONLY", b"\n", 0o600);
    let provider = FileProvider::new(dir.path()).unwrap();
    assert_eq!(provider.keys().unwrap(), ["A_KEY", "b_token", "c.conf"]);

    let empty = secrets_dir();
    assert!(
        FileProvider::new(empty.path())
            .unwrap()
            .keys()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn keys_of_a_key_file_is_its_one_key_when_it_holds_a_value() {
    let dir = secrets_dir();
    let path = dir.path().join("openai.key");
    let provider = FileProvider::key_file("OPENAI_API_KEY", &path).unwrap();
    assert!(provider.keys().unwrap().is_empty());
    write(dir.path(), "openai.key", fake_key().as_bytes(), 0o600);
    write(dir.path(), "OTHER", fake_key().as_bytes(), 0o600);
    assert_eq!(provider.keys().unwrap(), ["OPENAI_API_KEY"]);
}

#[test]
fn keys_fails_on_an_entry_it_cannot_serve() {
    let key = fake_key();
    // A file that can never be asked for by name, and one that `get` refuses.
    for (name, kind) in [
        ("two..dots", ErrorKind::InvalidName),
        ("line\nbreak", ErrorKind::InvalidName),
        ("a_directory", ErrorKind::InvalidFormat),
    ] {
        let dir = secrets_dir();
        write(dir.path(), "GOOD", key.as_bytes(), 0o600);
        if name == "a_directory" {
            fs::create_dir(dir.path().join(name)).unwrap();
        } else {
            write(dir.path(), name, key.as_bytes(), 0o600);
        }
        let err = FileProvider::new(dir.path()).unwrap().keys().unwrap_err();
        assert_eq!(err.kind(), kind, "{name}: {err}");
        let message = err.to_string();
        assert!(
            message.contains(&name.escape_debug().to_string()),
            "{message}"
        );
        assert!(!message.contains(&key) && !format!("{err:?}").contains(&key));
    }
}

#[cfg(unix)]
#[path = "../common/secret_volume.rs"]
mod secret_volume;

#[cfg(unix)]
mod unix {
    use std::os::unix::fs::{PermissionsExt, symlink};

    use super::*;

    use super::secret_volume::{VERSION, kubernetes_volume};

    #[test]
    fn a_symlink_out_of_the_directory_is_refused() {
        let parent = secrets_dir();
        let dir = parent.path().join("secrets");
        fs::create_dir(&dir).unwrap();
        let key = fake_key();
        let outside = write(parent.path(), "outside", key.as_bytes(), 0o600);
        symlink(&outside, dir.join("absolute")).unwrap();
        symlink("../outside", dir.join("relative")).unwrap();
        let provider = FileProvider::new(&dir).unwrap();

        for name in ["absolute", "relative"] {
            let err = provider.get(name).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InsecurePermissions, "{name}");
            let message = err.to_string();
            assert!(
                message.contains("outside the secrets directory"),
                "{message}"
            );
            assert!(!message.contains(&key));
        }
    }

    #[test]
    fn key_file_refuses_a_symlink_out_of_its_directory() {
        let parent = secrets_dir();
        let dir = parent.path().join("conf");
        fs::create_dir(&dir).unwrap();
        let outside = write(parent.path(), "outside", fake_key().as_bytes(), 0o600);
        symlink(&outside, dir.join("key")).unwrap();
        let provider = FileProvider::key_file("KEY", dir.join("key")).unwrap();
        assert_eq!(
            provider.get("KEY").unwrap_err().kind(),
            ErrorKind::InsecurePermissions
        );
    }

    #[test]
    fn symlinks_inside_the_directory_work() {
        let dir = secrets_dir();
        let key = fake_key();
        let target = write(dir.path(), "real", key.as_bytes(), 0o600);
        symlink("real", dir.path().join("relative")).unwrap();
        symlink(&target, dir.path().join("absolute")).unwrap();
        let provider = FileProvider::new(dir.path()).unwrap();
        assert_eq!(provider.require("relative").unwrap().expose_secret(), key);
        assert_eq!(provider.require("absolute").unwrap().expose_secret(), key);
    }

    #[test]
    fn a_dangling_symlink_is_none() {
        let dir = secrets_dir();
        symlink("..data/GONE", dir.path().join("GONE")).unwrap();
        let provider = FileProvider::new(dir.path()).unwrap();
        assert!(provider.get("GONE").unwrap().is_none());
    }

    #[test]
    fn the_kubernetes_layout_works() {
        let dir = secrets_dir();
        let key = fake_key();
        kubernetes_volume(
            dir.path(),
            &[("OPENAI_API_KEY", &format!("{key}\n"))],
            0,
            0o600,
        );
        let provider = FileProvider::new(dir.path()).unwrap();
        assert_eq!(
            provider.require("OPENAI_API_KEY").unwrap().expose_secret(),
            key
        );
        // The internal names are not keys.
        assert_eq!(
            provider.get("..data").unwrap_err().kind(),
            ErrorKind::InvalidName
        );
    }

    #[test]
    fn the_kubernetes_default_mode_needs_the_option() {
        let dir = secrets_dir();
        let key = fake_key();
        kubernetes_volume(dir.path(), &[("OPENAI_API_KEY", &key)], 0, 0o644);
        // Kubernetes mounts its tmpfs volumes 1777.
        set_mode(dir.path(), 0o1777);

        let strict = FileProvider::new(dir.path()).unwrap();
        assert_eq!(
            strict.get("OPENAI_API_KEY").unwrap_err().kind(),
            ErrorKind::InsecurePermissions
        );
        let relaxed = strict.with_readable_by_others(true);
        assert!(relaxed.allows_readable_by_others());
        assert_eq!(
            relaxed.require("OPENAI_API_KEY").unwrap().expose_secret(),
            key
        );
    }

    #[test]
    fn a_group_or_world_readable_file_is_refused_with_the_fix() {
        let dir = secrets_dir();
        let key = fake_key();
        let provider = FileProvider::new(dir.path()).unwrap();
        for (name, mode, digits) in [
            ("world", 0o644, "0644"),
            ("group", 0o640, "0640"),
            ("all_read", 0o444, "0444"),
        ] {
            let path = write(dir.path(), name, key.as_bytes(), mode);
            let err = provider.get(name).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InsecurePermissions, "{name}");
            let message = err.to_string();
            let shown = path.display().to_string();
            assert!(message.contains(&shown), "{message}");
            assert!(message.contains(digits), "{message}");
            assert!(message.contains(&format!("chmod 600 {shown}")), "{message}");
            assert!(
                message.contains("with_readable_by_others(true)"),
                "{message}"
            );
            assert!(!message.contains(&key));
            assert!(!format!("{err:?}").contains(&key));
        }
    }

    #[test]
    fn owner_only_modes_are_accepted() {
        let dir = secrets_dir();
        let provider = FileProvider::new(dir.path()).unwrap();
        for (name, mode) in [("rw", 0o600), ("r", 0o400), ("rwx", 0o700)] {
            write(dir.path(), name, b"value", mode);
            assert_eq!(provider.require(name).unwrap().expose_secret(), "value");
        }
    }

    #[test]
    fn readable_files_are_accepted_with_the_option() {
        let dir = secrets_dir();
        let provider = FileProvider::new(dir.path())
            .unwrap()
            .with_readable_by_others(true);
        for (name, mode) in [("a", 0o644), ("b", 0o444), ("c", 0o640), ("d", 0o600)] {
            write(dir.path(), name, b"value", mode);
            assert_eq!(provider.require(name).unwrap().expose_secret(), "value");
        }
    }

    #[test]
    fn writable_files_are_refused_even_with_the_option() {
        let dir = secrets_dir();
        for allow in [false, true] {
            let provider = FileProvider::new(dir.path())
                .unwrap()
                .with_readable_by_others(allow);
            for (name, mode, digits) in [
                ("rw_all", 0o666, "0666"),
                ("w_world", 0o602, "0602"),
                ("w_group", 0o620, "0620"),
            ] {
                let path = write(dir.path(), name, b"value", mode);
                let err = provider.get(name).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InsecurePermissions, "{name}");
                let message = err.to_string();
                assert!(message.contains(&path.display().to_string()), "{message}");
                assert!(message.contains(digits), "{message}");
                assert!(message.contains("can change it"), "{message}");
                assert!(message.contains("chmod 600"), "{message}");
            }
        }
    }

    #[test]
    fn a_world_writable_directory_is_refused() {
        let dir = secrets_dir();
        write(dir.path(), "KEY", b"value", 0o600);
        set_mode(dir.path(), 0o777);
        let err = FileProvider::new(dir.path()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InsecurePermissions);
        let message = err.to_string();
        assert!(message.contains("0777"), "{message}");
        assert!(message.contains("chmod o-w"), "{message}");

        // Also when it becomes writable after the provider was made, even with the option.
        set_mode(dir.path(), 0o700);
        let provider = FileProvider::new(dir.path())
            .unwrap()
            .with_readable_by_others(true);
        assert!(provider.get("KEY").unwrap().is_some());
        set_mode(dir.path(), 0o777);
        assert_eq!(
            provider.get("KEY").unwrap_err().kind(),
            ErrorKind::InsecurePermissions
        );
    }

    #[test]
    fn a_world_writable_directory_behind_a_symlink_is_refused() {
        let dir = secrets_dir();
        kubernetes_volume(dir.path(), &[("KEY", "value")], 0, 0o600);
        set_mode(&dir.path().join(VERSION), 0o777);
        let provider = FileProvider::new(dir.path()).unwrap();
        assert_eq!(
            provider.get("KEY").unwrap_err().kind(),
            ErrorKind::InsecurePermissions
        );
    }

    #[test]
    fn in_a_sticky_directory_only_the_owners_files_are_trusted() {
        let dir = secrets_dir();
        write(dir.path(), "MINE", b"value", 0o600);
        let planted = write(dir.path(), "PLANTED", b"value", 0o600);
        set_mode(dir.path(), 0o1777);
        let provider = FileProvider::new(dir.path()).unwrap();
        assert_eq!(provider.require("MINE").unwrap().expose_secret(), "value");

        // Changing a file's owner takes root; the tests run as root in CI.
        let nobody = 65534;
        if std::os::unix::fs::chown(&planted, Some(nobody), None).is_err() {
            eprintln!("skipped the planted-file check: chown needs root");
            return;
        }
        let err = provider.get("PLANTED").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InsecurePermissions);
        assert!(err.to_string().contains("uid 65534"), "{err}");

        // A symlink planted by another user is refused too, even to a trusted file.
        symlink("MINE", dir.path().join("LINK")).unwrap();
        std::os::unix::fs::lchown(dir.path().join("LINK"), Some(nobody), None).unwrap();
        assert_eq!(
            provider.get("LINK").unwrap_err().kind(),
            ErrorKind::InsecurePermissions
        );
    }

    #[test]
    fn special_files_are_refused_without_opening_them() {
        let dir = secrets_dir();
        let fifo = dir.path().join("PIPE");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|status| status.success());
        if !made {
            eprintln!("skipped: no mkfifo");
            return;
        }
        fs::set_permissions(&fifo, fs::Permissions::from_mode(0o600)).unwrap();
        let provider = FileProvider::new(dir.path()).unwrap();
        // Opening a pipe for reading would block; the check must come first.
        let err = provider.get("PIPE").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidFormat);
        assert!(err.to_string().contains("not a regular file"), "{err}");

        symlink("/dev/null", dir.path().join("NULL")).unwrap();
        assert_eq!(
            provider.get("NULL").unwrap_err().kind(),
            ErrorKind::InsecurePermissions
        );
    }

    /// The reproduction of the issue: `KEY -> ..data/KEY`, `..data -> ..2024/`, a file 0600.
    #[test]
    fn keys_lists_a_kubernetes_volume_and_not_its_internal_entries() {
        let dir = secrets_dir();
        let key = fake_key();
        kubernetes_volume(dir.path(), &[("API_TOKEN", &key)], 0, 0o600);
        let provider = FileProvider::new(dir.path()).unwrap();
        assert_eq!(provider.keys().unwrap(), ["API_TOKEN"]);
    }

    #[test]
    fn keys_fails_on_a_symlink_out_of_the_directory_and_on_special_files() {
        let parent = secrets_dir();
        let dir = parent.path().join("secrets");
        fs::create_dir(&dir).unwrap();
        let key = fake_key();
        kubernetes_volume(&dir, &[("INSIDE", &key)], 1, 0o600);
        let outside = write(parent.path(), "outside", key.as_bytes(), 0o600);
        symlink(&outside, dir.join("ESCAPE")).unwrap();
        let provider = FileProvider::new(&dir).unwrap();
        let err = provider.keys().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InsecurePermissions);
        assert!(err.to_string().contains("ESCAPE"), "{err}");
        assert!(!err.to_string().contains(&key));

        fs::remove_file(dir.join("ESCAPE")).unwrap();
        assert_eq!(provider.keys().unwrap(), ["INSIDE"]);
        // `..data` itself leading out: every key behind it is refused.
        fs::remove_file(dir.join("..data")).unwrap();
        fs::create_dir(parent.path().join("elsewhere")).unwrap();
        write(
            &parent.path().join("elsewhere"),
            "INSIDE",
            key.as_bytes(),
            0o600,
        );
        symlink(parent.path().join("elsewhere"), dir.join("..data")).unwrap();
        assert_eq!(
            provider.keys().unwrap_err().kind(),
            ErrorKind::InsecurePermissions
        );

        // A world-readable file and a pipe (never opened: listing must not block).
        let dir = secrets_dir();
        write(dir.path(), "READABLE", key.as_bytes(), 0o644);
        let provider = FileProvider::new(dir.path()).unwrap();
        assert_eq!(
            provider.keys().unwrap_err().kind(),
            ErrorKind::InsecurePermissions
        );
        fs::remove_file(dir.path().join("READABLE")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(dir.path().join("PIPE"))
            .status()
            .is_ok_and(|status| status.success());
        if made {
            set_mode(&dir.path().join("PIPE"), 0o600);
            assert_eq!(
                provider.keys().unwrap_err().kind(),
                ErrorKind::InvalidFormat
            );
        }
    }

    /// A name that is not UTF-8 cannot be asked for, so listing it fails.
    #[test]
    fn keys_fails_on_a_name_that_is_not_utf8() {
        use std::os::unix::ffi::OsStrExt;

        let dir = secrets_dir();
        let name = std::ffi::OsStr::from_bytes(b"bad\xffname");
        fs::write(dir.path().join(name), fake_key()).unwrap();
        set_mode(&dir.path().join(name), 0o600);
        let err = FileProvider::new(dir.path()).unwrap().keys().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidName);
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    /// Generated volumes: several keys, `..data` reached through several hops, empty values,
    /// dangling links and dot files; one symlink out of the directory spoils the listing.
    fn volume_case()
    -> impl proptest::strategy::Strategy<Value = (Vec<(String, String)>, usize, bool, bool, bool, bool)>
    {
        use proptest::prelude::*;
        let key = prop::collection::btree_map("[A-Za-z_][A-Za-z0-9_.-]{0,11}", "[ -~]{0,20}", 1..6)
            .prop_map(|keys| {
                keys.into_iter()
                    .filter(|(name, _)| !name.contains(".."))
                    .collect::<Vec<_>>()
            });
        (
            key,
            0..4usize,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn keys_of_generated_volumes(
            (secrets, hops, escape, dangling, dot_file, plain_file) in volume_case()
        ) {
            let parent = secrets_dir();
            let dir = parent.path().join("volume");
            fs::create_dir(&dir).unwrap();
            let pairs: Vec<(&str, &str)> =
                secrets.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            kubernetes_volume(&dir, &pairs, hops, 0o600);
            let mut expected: Vec<&str> = secrets
                .iter()
                .filter(|(_, v)| !v.is_empty() && v != "\n")
                .map(|(k, _)| k.as_str())
                .collect();
            if dangling {
                symlink("..data/GONE", dir.join("zz_gone")).unwrap();
            }
            if dot_file {
                write(&dir, ".dot", b"not a key", 0o600);
            }
            if plain_file && !secrets.iter().any(|(k, _)| k == "zz_plain") {
                write(&dir, "zz_plain", b"plain value", 0o600);
                expected.push("zz_plain");
            }
            if escape {
                write(parent.path(), "outside", b"outside value", 0o600);
                symlink("../outside", dir.join("zz_escape")).unwrap();
            }
            expected.sort_unstable();
            let provider = FileProvider::new(&dir).unwrap();
            match provider.keys() {
                Ok(keys) => {
                    proptest::prop_assert!(!escape, "the escaping link was listed: {keys:?}");
                    proptest::prop_assert_eq!(&keys, &expected);
                    for key in &keys {
                        proptest::prop_assert!(provider.get(key).unwrap().is_some());
                    }
                }
                Err(err) => {
                    proptest::prop_assert!(escape, "{err}");
                    proptest::prop_assert_eq!(err.kind(), ErrorKind::InsecurePermissions);
                }
            }
        }
    }
}
