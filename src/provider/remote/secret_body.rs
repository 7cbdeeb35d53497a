//! [`SecretBody`]: a request body that holds credentials, left nowhere unwiped by keyward.
//!
//! reqwest's `RequestBuilder::form` and `json` serialize into a buffer that grows as it is
//! written (each outgrown buffer freed with the credential in it) and free the final one
//! unwiped when the request is done. A `SecretBody` is written once into a buffer of its exact
//! size, which every attempt of the request shares and which is wiped when the last one drops
//! it, as [`secret_header`](crate::wipe::secret_header) does for a header.
//!
//! What keyward cannot reach: once sent, the body may sit in hyper's per-connection write
//! buffer and, over TLS, in rustls' records.

use bytes::Bytes;
use reqwest::RequestBuilder;
use reqwest::header::CONTENT_TYPE;
use zeroize::Zeroizing;

#[cfg(feature = "vault")]
use crate::error::{Error, ErrorKind, Result};

/// A request body made of credentials, with its content type. Cloning shares the buffer.
#[derive(Clone)]
pub(crate) struct SecretBody {
    bytes: Bytes,
    content_type: &'static str,
}

impl SecretBody {
    /// `pairs` as `application/x-www-form-urlencoded`, byte for byte what
    /// `RequestBuilder::form(pairs)` sends.
    #[cfg(any(feature = "azure", feature = "gcp"))]
    pub(crate) fn form(pairs: &[(&str, &str)]) -> SecretBody {
        fn encoded(text: &str) -> form_urlencoded::ByteSerialize<'_> {
            form_urlencoded::byte_serialize(text.as_bytes())
        }
        let len = pairs
            .iter()
            .map(|(name, value)| {
                encoded(name).map(str::len).sum::<usize>()
                    + encoded(value).map(str::len).sum::<usize>()
                    + 1
            })
            .sum::<usize>()
            + pairs.len().saturating_sub(1);
        let mut body = Zeroizing::new(String::with_capacity(len));
        for (i, (name, value)) in pairs.iter().enumerate() {
            if i > 0 {
                body.push('&');
            }
            body.extend(encoded(name));
            body.push('=');
            body.extend(encoded(value));
        }
        let body = Zeroizing::new(std::mem::take(&mut *body).into_bytes());
        SecretBody::new(body, "application/x-www-form-urlencoded")
    }

    /// `value` as `application/json`, byte for byte what `RequestBuilder::json(value)` sends.
    /// Serialize a struct that borrows the secrets: nothing but this body holds them then.
    #[cfg(feature = "vault")]
    pub(crate) fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<SecretBody> {
        // Neither writer fails; only a `Serialize` that refuses itself does, and serde_json's
        // message may quote what it refused.
        let unwritable = |_| {
            Error::new(
                ErrorKind::InvalidInput,
                "could not write a request body as JSON",
            )
        };
        let mut count = ByteCount(0);
        serde_json::to_writer(&mut count, value).map_err(unwritable)?;
        let mut body = Zeroizing::new(Vec::with_capacity(count.0));
        serde_json::to_writer(&mut *body, value).map_err(unwritable)?;
        Ok(SecretBody::new(body, "application/json"))
    }

    /// Shares `body`, written to its capacity, until the last clone is dropped and wipes it.
    fn new(body: Zeroizing<Vec<u8>>, content_type: &'static str) -> SecretBody {
        // A buffer that had grown would have freed a copy unwiped.
        debug_assert_eq!(
            body.len(),
            body.capacity(),
            "a secret body outgrew its buffer"
        );
        SecretBody {
            bytes: Bytes::from_owner(body),
            content_type,
        }
    }

    /// `request` with this body and its `Content-Type`.
    pub(crate) fn attach(&self, request: RequestBuilder) -> RequestBuilder {
        request
            .header(CONTENT_TYPE, self.content_type)
            .body(self.bytes.clone())
    }
}

impl std::fmt::Debug for SecretBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretBody")
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// A writer that only counts, to size the buffer before anything is written into it.
#[cfg(feature = "vault")]
struct ByteCount(usize);

#[cfg(feature = "vault")]
impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[cfg(any(feature = "azure", feature = "gcp"))]
    #[test]
    fn a_form_is_encoded_as_forms_are() {
        let body = SecretBody::form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", "a b&c=d/é+~*"),
            ("scope", "https://vault.azure.net/.default"),
        ]);
        assert_eq!(
            body.bytes.as_ref(),
            b"grant_type=client_credentials&client_secret=a+b%26c%3Dd%2F%C3%A9%2B%7E*\
              &scope=https%3A%2F%2Fvault.azure.net%2F.default"
        );
        assert_eq!(body.content_type, "application/x-www-form-urlencoded");
        assert!(SecretBody::form(&[]).bytes.is_empty());
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        serializer.extend_pairs([("k", "v w"), ("k2", "ü")]);
        assert_eq!(
            SecretBody::form(&[("k", "v w"), ("k2", "ü")])
                .bytes
                .as_ref(),
            serializer.finish().as_bytes()
        );
    }

    #[cfg(feature = "vault")]
    #[test]
    fn json_is_what_serde_json_writes() {
        let value = serde_json::json!({
            "role_id": "role-\"quoted\"-\u{1}",
            "secret_id": "sécret\\id",
            "n": [1, 2.5, null, true],
        });
        let body = SecretBody::json(&value).unwrap();
        assert_eq!(body.bytes.as_ref(), serde_json::to_vec(&value).unwrap());
        assert_eq!(body.content_type, "application/json");
    }

    #[test]
    fn debug_shows_no_body() {
        let body = SecretBody::new(Zeroizing::new(b"x".to_vec()), "text/plain");
        let shown = format!("{body:?}");
        assert!(
            shown.contains("len: 1") && !shown.contains("\"x\""),
            "{shown}"
        );
    }
}
