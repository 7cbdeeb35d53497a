//! Reading a file that holds secrets: a size limit enforced while reading, and no copy left
//! behind when a buffer grows.

use std::io::{self, Read};

use zeroize::Zeroizing;

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

/// Reads a small file that holds a credential (a token file, a credentials file), at most
/// `limit` bytes; `shown` names it in errors.
///
/// # Errors
///
/// `ErrorKind::Io` when it cannot be read, `ErrorKind::InvalidInput` when it is larger
/// than `limit` (a mount gone wrong, or a device: `/dev/zero` reports size 0).
#[cfg(any(feature = "azure", feature = "gcp"))]
pub(crate) fn read_small_file(
    path: &std::path::Path,
    limit: usize,
    shown: &str,
) -> crate::error::Result<Zeroizing<Vec<u8>>> {
    use crate::error::{Error, ErrorKind};

    let file = std::fs::File::open(path).map_err(|err| Error::io(shown, err))?;
    let size_hint = file
        .metadata()
        .map_or(0, |meta| usize::try_from(meta.len()).unwrap_or(usize::MAX));
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

    #[cfg(all(unix, any(feature = "azure", feature = "gcp")))]
    #[test]
    fn a_small_file_that_never_ends_is_refused() {
        use crate::error::ErrorKind;
        use std::path::Path;

        let err = read_small_file(Path::new("/dev/zero"), 64 * 1024, "token file `/dev/zero`")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            err.to_string(),
            "token file `/dev/zero` is larger than 64 KiB"
        );
        let missing = read_small_file(Path::new("/nonexistent/x"), 10, "token file").unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::Io);
    }
}
