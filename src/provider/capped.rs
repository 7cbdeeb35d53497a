//! Reading a file that holds secrets: a size limit enforced while reading, and no copy left
//! behind when a buffer grows.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};

use crate::wipe::reserve_bytes;

/// Why [`read_capped`] stopped.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// More than the limit: the reader was not read to its end.
    TooLarge,
    Io(io::Error),
}

/// Reads at most `limit` bytes into a buffer that is zeroized when dropped, and zeroizes every
/// buffer it outgrows (`read_to_end` would free them with their contents; see [`crate::wipe`]). `size_hint` (the
/// size `stat` reported, say) only sizes the first buffer: a file that grows after it was
/// looked at, or a device that reports no size, still stops at `limit`.
pub(crate) fn read_capped(
    mut reader: impl Read,
    limit: usize,
    size_hint: usize,
) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    // One byte more than the hint, so that reading to the end needs no reallocation.
    let mut buf = Zeroizing::new(Vec::with_capacity(size_hint.saturating_add(1).min(limit)));
    let mut chunk = Zeroizing::new([0u8; 8 * 1024]);
    loop {
        let n = match reader.read(&mut chunk[..]) {
            Ok(0) => return Ok(buf),
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(ReadError::Io(err)),
        };
        if n > limit - buf.len() {
            return Err(ReadError::TooLarge);
        }
        reserve_bytes(&mut buf, n, limit);
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Opens the file at `path` for reading if it is a regular file (after following symlinks);
/// the inner error is the operating system's, for the caller to name the file with (or to skip
/// a missing one). `shown` names the file in the error of one that is not regular.
///
/// The type is checked before opening, because opening a FIFO for reading blocks until a writer
/// comes (forever, if none does) and a device may never end or may act when opened; and again
/// on what was opened, for a file swapped between the two.
///
/// # Errors
///
/// [`ErrorKind::Io`] naming the file when it is a directory, a pipe, a socket or a device.
pub(crate) fn open_regular(path: &Path, shown: &str) -> Result<io::Result<File>> {
    match fs::metadata(path) {
        Ok(meta) => check_regular(shown, &meta)?,
        Err(err) => return Ok(Err(err)),
    }
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) => return Ok(Err(err)),
    };
    match file.metadata() {
        Ok(meta) => check_regular(shown, &meta)?,
        Err(err) => return Ok(Err(err)),
    }
    Ok(Ok(file))
}

fn check_regular(shown: &str, meta: &fs::Metadata) -> Result<()> {
    match irregular(meta) {
        None => Ok(()),
        Some(what) => Err(Error::new(
            ErrorKind::Io,
            format!("could not read {shown}: it is {what}; it must be a regular file"),
        )),
    }
}

/// What a file that is not a regular one is, for a message; `None` for a regular file.
pub(crate) fn irregular(meta: &fs::Metadata) -> Option<&'static str> {
    if meta.is_file() {
        None
    } else if meta.is_dir() {
        Some("a directory")
    } else {
        Some("not a regular file (a pipe, socket or device)")
    }
}

/// Whether users other than a secret file's owner may read it.
#[derive(Clone, Copy, Debug)]
// Without Unix modes nothing reads `allowed_by`.
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) enum OtherReaders {
    /// Refused (rule 3 of the design: a secret readable by others is an error); `allowed_by`
    /// is the call that accepts them, named in the error for a container mount that is
    /// readable by design.
    Refused { allowed_by: &'static str },
    /// Accepted.
    Allowed,
}

/// Refuses a file holding a secret whose mode lets other users change it (any bit of
/// `writers`: `0o022` for group and others, `0o002` for others only) or, if `readers` says
/// so, read it. `shown` names the file in the error, `path` goes into the `chmod` it proposes.
///
/// # Errors
///
/// `ErrorKind::InsecurePermissions`, saying who can do what and how to fix it.
#[cfg(unix)]
pub(crate) fn check_mode(
    shown: impl fmt::Display,
    path: &Path,
    meta: &fs::Metadata,
    writers: u32,
    readers: OtherReaders,
) -> Result<()> {
    use std::os::unix::fs::MetadataExt;

    let mode = meta.mode() & 0o7777;
    let who = |world_bit: u32| {
        if mode & world_bit != 0 {
            "any user"
        } else {
            "other users in its group"
        }
    };
    let fix = format!("run `chmod 600 {}`", path.display());
    let problem = match readers {
        _ if mode & writers != 0 => format!("so {} can change it; {fix}", who(0o002)),
        OtherReaders::Refused { allowed_by } if mode & 0o044 != 0 => format!(
            "so {} can read it; {fix}, or, for a container mount that is readable by design \
             (a Kubernetes secret volume without `defaultMode: 0400`, or under an `fsGroup`), \
             use `{allowed_by}`",
            who(0o004)
        ),
        _ => return Ok(()),
    };
    Err(Error::new(
        ErrorKind::InsecurePermissions,
        format!("{shown} has mode {mode:04o}, {problem}"),
    ))
}

/// Without Unix modes there is nothing to check.
#[cfg(not(unix))]
pub(crate) fn check_mode(
    _shown: impl fmt::Display,
    _path: &Path,
    _meta: &fs::Metadata,
    _writers: u32,
    _readers: OtherReaders,
) -> Result<()> {
    Ok(())
}

/// Reads a small file that holds a credential (a token file, a credentials file), at most
/// `limit` bytes; `shown` names it in errors, `readers` says whether other users may read it.
/// Group members may write it: Kubernetes mounts token files so under an `fsGroup`.
///
/// # Errors
///
/// `ErrorKind::Io` when it cannot be read or is not a regular file (a FIFO would block the
/// read until a writer came), `ErrorKind::InvalidInput` when it is larger than `limit` (a
/// mount gone wrong), `ErrorKind::InsecurePermissions` when any user may write it (and so
/// replace the credential) or, unless `readers` allows it, another user may read it.
#[cfg(any(feature = "azure", feature = "gcp"))]
pub(crate) fn read_small_file(
    path: &Path,
    limit: usize,
    shown: &str,
    readers: OtherReaders,
) -> Result<Zeroizing<Vec<u8>>> {
    let file = open_regular(path, shown)?.map_err(|err| Error::io(shown, err))?;
    let meta = file.metadata().map_err(|err| Error::io(shown, err))?;
    check_mode(shown, path, &meta, 0o002, readers)?;
    let size_hint = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    read_capped(file, limit, size_hint).map_err(|err| match err {
        ReadError::TooLarge => Error::new(
            ErrorKind::InvalidInput,
            format!("{shown} is larger than {} KiB", limit / 1024),
        ),
        ReadError::Io(err) => Error::io(shown, err),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_enforced_and_the_hint_only_sizes_the_buffer() {
        let data = vec![b'x'; 20_000];
        let read = read_capped(&data[..], 20_000, 10).unwrap();
        assert_eq!(&read[..], &data[..]);
        assert!(matches!(
            read_capped(&data[..], 19_999, 0),
            Err(ReadError::TooLarge)
        ));
        // A reader that never ends (a device, a FIFO fed forever) stops at the limit.
        assert!(matches!(
            read_capped(io::repeat(b'x'), 100_000, 0),
            Err(ReadError::TooLarge)
        ));
        assert_eq!(&read_capped(&b""[..], 10, 1 << 40).unwrap()[..], b"");
    }

    /// A device or a FIFO where a credential file should be is refused before it is read (a
    /// FIFO with no writer would block the read for ever), as is a file any user may replace.
    #[cfg(all(unix, any(feature = "azure", feature = "gcp")))]
    #[test]
    fn a_credential_file_must_be_a_regular_file_only_its_owners_can_write_and_maybe_read() {
        use std::os::unix::fs::PermissionsExt;
        use std::sync::mpsc;
        use std::time::Duration;

        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        let mut not_regular = vec![dir.path().to_owned(), "/dev/zero".into()];
        if made.is_ok_and(|status| status.success()) {
            not_regular.push(fifo);
        }
        for path in not_regular {
            // On a thread, so that a read that blocks fails the test instead of hanging it.
            let (done, result) = mpsc::channel();
            let shown = format!("token file `{}`", path.display());
            std::thread::spawn(move || {
                done.send(read_small_file(
                    &path,
                    64 * 1024,
                    &shown,
                    OtherReaders::Allowed,
                ))
            });
            let err = result
                .recv_timeout(Duration::from_secs(20))
                .expect("the read blocked")
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Io, "{err}");
            assert!(
                err.to_string().starts_with("could not read token file `"),
                "{err}"
            );
            assert!(err.to_string().contains("must be a regular file"), "{err}");
        }

        let file = dir.path().join("token");
        fs::write(&file, "fake-token").unwrap();
        let owner_only = OtherReaders::Refused {
            allowed_by: "Builder::with_readers(true)",
        };
        // (mode, refused when others may read, refused when they may not)
        for (mode, refused_allowed, refused_owner_only) in [
            (0o600, false, false),
            (0o400, false, false),
            (0o640, false, true),
            (0o604, false, true),
            (0o644, false, true),
            (0o664, false, true),
            (0o620, false, false),
            (0o666, true, true),
            (0o602, true, true),
        ] {
            fs::set_permissions(&file, fs::Permissions::from_mode(mode)).unwrap();
            for (readers, refused) in [
                (OtherReaders::Allowed, refused_allowed),
                (owner_only, refused_owner_only),
            ] {
                let read = read_small_file(&file, 1024, "token file", readers);
                if !refused {
                    assert_eq!(&read.unwrap()[..], b"fake-token", "{mode:o} {readers:?}");
                    continue;
                }
                let err = read.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InsecurePermissions, "{err}");
                let message = err.to_string();
                assert!(
                    message.starts_with(&format!("token file has mode {mode:04o}, so ")),
                    "{message}"
                );
                assert!(message.contains("run `chmod 600 "), "{message}");
                // Only a file others may read but not write is fixed by the option.
                assert_eq!(
                    message.contains("`Builder::with_readers(true)`"),
                    !refused_allowed,
                    "{message}"
                );
            }
        }
        let missing = read_small_file(
            Path::new("/nonexistent/x"),
            10,
            "token file",
            OtherReaders::Allowed,
        )
        .unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::Io);
    }
}
