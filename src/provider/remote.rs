//! Providers for remote secret managers, behind the `vault`, `aws`, `azure` and `gcp` features.
//!
//! They implement [`AsyncSecretProvider`](crate::AsyncSecretProvider) natively and share one
//! [`RemotePolicy`] for timeouts and retries, so that every backend fails the same way.

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
mod aws_client;
#[cfg(feature = "azure")]
pub mod azure;
#[cfg(any(feature = "azure", feature = "gcp"))]
mod bearer;
#[cfg(feature = "gcp")]
mod crc32c;
#[cfg(any(feature = "vault", feature = "azure", feature = "gcp"))]
mod endpoint;
#[cfg(any(feature = "vault", feature = "azure", feature = "gcp"))]
mod env_var;
#[cfg(feature = "gcp")]
pub mod gcp;
#[cfg(feature = "gcp")]
mod gcp_credentials;
#[cfg(any(feature = "vault", feature = "azure", feature = "gcp"))]
mod http;
#[cfg(any(feature = "vault", feature = "aws", feature = "azure", feature = "gcp"))]
mod json_string;
mod policy;
#[cfg(any(feature = "vault", feature = "aws", feature = "azure", feature = "gcp"))]
mod redirect;
#[cfg(any(feature = "vault", feature = "azure", feature = "gcp"))]
mod secret_body;
#[cfg(any(feature = "vault", feature = "aws", feature = "azure", feature = "gcp"))]
mod server_text;
#[cfg(feature = "vault")]
pub mod vault;

pub use policy::RemotePolicy;

/// Overwrites the strings of a JSON value: the other fields of a secret are secrets too.
#[cfg(feature = "aws")]
pub(crate) fn zeroize_json(value: &mut serde_json::Value) {
    use zeroize::Zeroize;

    match value {
        serde_json::Value::String(text) => text.zeroize(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(zeroize_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(zeroize_json),
        _ => {}
    }
}

/// A configured address for an error message: quoted like a key name, or withheld when it has
/// a user part, a query or a fragment, where credentials and API keys hide
/// (`https://user:pass@host`, `?api-key=...`).
#[cfg(any(feature = "vault", feature = "azure", feature = "gcp"))]
pub(crate) fn shown_address(text: &str) -> String {
    if text.contains(['@', '?', '#']) {
        "(withheld: it may carry a credential)".to_owned()
    } else {
        crate::provider::quote_name(text)
    }
}

#[cfg(all(test, any(feature = "vault", feature = "azure", feature = "gcp")))]
mod tests {
    use super::shown_address;

    #[test]
    fn addresses_that_may_carry_credentials_are_withheld() {
        assert_eq!(shown_address("not a url"), "`not a url`");
        for text in [
            "https://u:p@[bad",
            "https://h/?api-key=abc",
            "ht tp://h#tok",
        ] {
            assert!(!shown_address(text).contains("abc") && !shown_address(text).contains("tok"));
            assert!(shown_address(text).starts_with("(withheld"));
        }
    }
}
