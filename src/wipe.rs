//! Growing buffers that hold secrets without leaving copies behind: when a `Vec` or `String`
//! grows it frees its old buffer, contents and all. These grow by hand and wipe the old one.

use zeroize::Zeroize;

/// Makes room in `buf` for `additional` more bytes, allocating at most `limit` bytes unless more
/// are needed; the outgrown buffer is zeroized.
#[inline]
pub(crate) fn reserve_bytes(buf: &mut Vec<u8>, additional: usize, limit: usize) {
    if buf.capacity() - buf.len() < additional {
        grow_bytes(buf, additional, limit);
    }
}

#[cold]
fn grow_bytes(buf: &mut Vec<u8>, additional: usize, limit: usize) {
    let needed = buf.len() + additional;
    let mut bigger = Vec::with_capacity(needed.max(buf.capacity() * 2).min(limit.max(needed)));
    bigger.extend_from_slice(buf);
    std::mem::replace(buf, bigger).zeroize();
}

/// [`reserve_bytes`] for a `String`, without a limit.
#[inline]
pub(crate) fn reserve_str(buf: &mut String, additional: usize) {
    if buf.capacity() - buf.len() < additional {
        grow_str(buf, additional);
    }
}

#[cold]
fn grow_str(buf: &mut String, additional: usize) {
    let mut bigger = String::with_capacity((buf.len() + additional).max(buf.capacity() * 2));
    bigger.push_str(buf);
    std::mem::replace(buf, bigger).zeroize();
}

/// A header value made of `parts` (`["Bearer ", token]`), marked sensitive so that the HTTP
/// stack never prints it; `None` when it holds a character a header cannot carry.
///
/// The value is written once into a buffer of its exact size that the header value then
/// shares, not copies, and that is wiped when the last clone of the value is dropped, that is
/// when the request is done with it (after every retry). `HeaderValue::from_str(&format!(...))`
/// would leave two unwiped copies in freed memory for every request. Once sent, the value is
/// still in the HTTP stack's per-connection write buffer (and, over TLS, in rustls' buffers),
/// which keyward cannot reach.
#[cfg(any(
    feature = "vault",
    feature = "azure",
    feature = "gcp",
    feature = "reqwest"
))]
pub(crate) fn secret_header(parts: &[&str]) -> Option<reqwest::header::HeaderValue> {
    let mut bytes =
        zeroize::Zeroizing::new(Vec::with_capacity(parts.iter().map(|p| p.len()).sum()));
    for part in parts {
        bytes.extend_from_slice(part.as_bytes());
    }
    // Dropped, and so wiped, on the way out when the value is refused.
    let mut value =
        reqwest::header::HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(bytes)).ok()?;
    value.set_sensitive(true);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_keeps_the_contents_and_respects_the_limit() {
        let mut bytes = b"abc".to_vec();
        reserve_bytes(&mut bytes, 100, 50);
        assert_eq!(bytes, b"abc");
        assert!(bytes.capacity() >= 103, "the room asked for comes first");
        let mut bytes = Vec::with_capacity(8);
        bytes.extend_from_slice(b"12345678");
        reserve_bytes(&mut bytes, 1, 10);
        assert_eq!(bytes, b"12345678");
        assert!(bytes.capacity() >= 9);
        let mut text = String::from("héllo");
        reserve_str(&mut text, 64);
        assert_eq!(text, "héllo");
        assert!(text.capacity() - text.len() >= 64);
    }
}
