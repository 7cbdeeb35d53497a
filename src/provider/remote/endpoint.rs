//! The address of a service that receives a credential, checked before anything is sent.

use std::net::IpAddr;

use reqwest::Url;

use crate::error::{Error, ErrorKind, Result};

/// Where plain `http` is accepted for an address that receives a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Vault uses `Anywhere`, Azure and Google Cloud `LinkLocal`: a build with one of them has one
// variant unused.
#[cfg_attr(
    not(all(feature = "vault", any(feature = "azure", feature = "gcp"))),
    allow(dead_code)
)]
pub(crate) enum PlainHttp {
    /// Loopback hosts only (local test servers, sidecars).
    Loopback,
    /// Loopback hosts and the link-local metadata endpoints that clouds serve over plain HTTP
    /// inside the machine (`169.254.169.254`, `metadata.google.internal`).
    LinkLocal,
    /// Any host: the user asked for it (a server on a private network without TLS).
    Anywhere,
}

/// Parses the address of a service that will receive a credential (a bearer token, a client
/// secret, a Vault token): an `http(s)` URL with a host, no user name or password and no query
/// or fragment (which every request would carry, and every error print); `https`, or plain
/// `http` where `plain_http` allows it.
#[cfg(any(feature = "azure", feature = "gcp", test))]
pub(crate) fn parse_endpoint(text: &str, what: &str, plain_http: PlainHttp) -> Result<Url> {
    parse_endpoint_hinted(text, what, plain_http, "")
}

/// [`parse_endpoint`], with `plain_http_hint` after the refusal of plain `http`: how the
/// caller's user may allow it.
pub(crate) fn parse_endpoint_hinted(
    text: &str,
    what: &str,
    plain_http: PlainHttp,
    plain_http_hint: &str,
) -> Result<Url> {
    let invalid = |problem: &str| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("{what} {} {problem}", super::shown_address(text)),
        )
    };
    let url = Url::parse(text.trim()).map_err(|_| invalid("is not a URL like https://host"))?;
    if !url.username().is_empty() || url.password().is_some() {
        // Not quoted: the text holds a credential.
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{what} must not carry credentials"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or a fragment"));
    }
    let host = url.host_str().ok_or_else(|| invalid("has no host"))?;
    let ip = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    let loopback = ip.map_or(host.eq_ignore_ascii_case("localhost"), |ip| {
        ip.is_loopback()
    });
    let link_local = match ip {
        Some(IpAddr::V4(ip)) => ip.is_link_local(),
        Some(IpAddr::V6(_)) => false,
        None => host.eq_ignore_ascii_case("metadata.google.internal"),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" => match plain_http {
            PlainHttp::Anywhere => Ok(url),
            PlainHttp::LinkLocal if link_local => Ok(url),
            _ if loopback => Ok(url),
            _ => Err(invalid(&format!(
                "uses plain http: credentials are only sent over https (or to a loopback \
                 address){plain_http_hint}"
            ))),
        },
        _ => Err(invalid("is not an http(s) URL")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_need_https_except_locally() {
        for good in [
            "https://kv.vault.azure.net",
            "http://127.0.0.1:8080",
            "http://localhost:1/x",
            "http://[::1]:9",
        ] {
            assert!(
                parse_endpoint(good, "vault url", PlainHttp::Loopback).is_ok(),
                "{good}"
            );
        }
        for bad in [
            "http://kv.vault.azure.net",
            "ftp://x",
            "https://user:pw@x",
            "https://x/?a=b",
            "kv.vault.azure.net",
            "http://169.254.169.254",
        ] {
            let err = parse_endpoint(bad, "vault url", PlainHttp::Loopback).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
            assert!(!err.to_string().contains("pw"), "{err}");
        }
        assert!(
            parse_endpoint(
                "http://169.254.169.254/metadata",
                "imds",
                PlainHttp::LinkLocal
            )
            .is_ok()
        );
        assert!(
            parse_endpoint(
                "http://metadata.google.internal",
                "gce",
                PlainHttp::LinkLocal
            )
            .is_ok()
        );
        let private = "http://vault.internal:8200";
        assert!(parse_endpoint(private, "vault", PlainHttp::Anywhere).is_ok());
        assert!(parse_endpoint("https://x/#f", "vault", PlainHttp::Anywhere).is_err());
    }
}
