//! Redirects are refused by every remote provider.
//!
//! A redirect asks the client to send the same request elsewhere, credentials included: the
//! Vault token header, an AppRole login body, a bearer token, a client secret in a token
//! request. A server (or whoever answers in its name) could name any address. So no provider
//! follows one, not even within the same origin (a Vault standby node redirects to the active
//! node, which is another origin anyway): the answer is an error that names both addresses, so
//! the user can configure the right one. The REST providers' client is built with redirects
//! off ([`http::client`](super::http::client)); the AWS SDK does not follow them either, and its
//! connector turns one into [`Redirected`].

use std::fmt;

use super::server_text::ServerText;

/// The message for a redirect from `from` (the request's address) to `location` (the
/// answer's `Location` header, if any), which `service` answered with `status`.
///
/// Addresses are shown as `scheme://host:port/path`: a user part, a query or a fragment may
/// carry a credential. The target is the server's text, so it goes through `quiet` as well.
pub(crate) fn refused(
    service: &str,
    status: impl fmt::Display,
    from: &str,
    location: Option<&str>,
    quiet: &ServerText<'_>,
) -> String {
    let from = bare_address(from);
    let to = match location {
        Some(location) => format!(
            "`{}`",
            quiet.clean(&bare_address(&resolve(&from, location)))
        ),
        None => "nowhere (no Location header)".to_owned(),
    };
    format!(
        "{service} answered {status}, a redirect from `{from}` to {to}: keyward does not follow \
         redirects, so that no credential reaches another server; configure the address that \
         answers itself (for Vault or OpenBao, the active node or a load balancer, not a standby)"
    )
}

/// A redirect the AWS connector refused: what [`refused`] needs to write its message.
///
/// Its `Display` names no address, since it is the source of an error whose message already
/// shows both, cleaned.
#[cfg(feature = "aws")]
#[derive(Debug, Clone)]
pub(crate) struct Redirected {
    pub(crate) status: u16,
    pub(crate) from: String,
    pub(crate) location: Option<String>,
}

#[cfg(feature = "aws")]
impl fmt::Display for Redirected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server answered {} (a redirect)", self.status)
    }
}

#[cfg(feature = "aws")]
impl std::error::Error for Redirected {}

/// `location` made absolute against `base` (an absolute URL), as a browser would: a full URL
/// stays, `//host/p` takes the scheme of `base`, `/p` its origin, and `p` its directory.
fn resolve(base: &str, location: &str) -> String {
    let location = location.trim();
    if location.contains("://") {
        return location.to_owned();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    if let Some(network) = location.strip_prefix("//") {
        return format!("{scheme}://{network}");
    }
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let origin = format!("{scheme}://{}", &rest[..authority_end]);
    if location.starts_with('/') {
        return format!("{origin}{location}");
    }
    let path = &rest[authority_end..];
    let directory = &path[..path.rfind('/').map_or(0, |end| end + 1)];
    let directory = if directory.is_empty() { "/" } else { directory };
    format!("{origin}{directory}{location}")
}

/// `scheme://host:port/path` of `url`: without a user part, a query or a fragment.
pub(crate) fn bare_address(url: &str) -> String {
    let url = url.trim();
    let url = &url[..url.find(['?', '#']).unwrap_or(url.len())];
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_lose_users_queries_and_fragments() {
        assert_eq!(
            bare_address("https://user:pw@h:8200/v1/x?token=abc#f"),
            "https://h:8200/v1/x"
        );
        assert_eq!(bare_address("http://h?x=@y"), "http://h");
        assert_eq!(bare_address("/p?q"), "/p");
    }

    #[test]
    fn locations_are_resolved_against_the_request() {
        let base = "http://127.0.0.1:1/v1/secret/data/app";
        assert_eq!(resolve(base, "http://o:2/x"), "http://o:2/x");
        assert_eq!(resolve(base, "//o:2/x"), "http://o:2/x");
        assert_eq!(resolve(base, "/x"), "http://127.0.0.1:1/x");
        assert_eq!(resolve(base, "x"), "http://127.0.0.1:1/v1/secret/data/x");
        assert_eq!(resolve("http://h", "x"), "http://h/x");
    }

    #[test]
    fn the_message_names_both_addresses_and_no_query() {
        let quiet = ServerText::default();
        let message = refused(
            "vault at http://127.0.0.1:1",
            "307 Temporary Redirect",
            "http://127.0.0.1:1/v1/secret/data/app",
            Some("http://u:p@127.0.0.1:2/v1/secret/data/app?token=hvs.abc\n"),
            &quiet,
        );
        assert!(
            message.contains("from `http://127.0.0.1:1/v1/secret/data/app` to `http://127.0.0.1:2/v1/secret/data/app`"),
            "{message}"
        );
        assert!(
            !message.contains("hvs.abc") && !message.contains("u:p"),
            "{message}"
        );
        let message = refused("x", 302, "http://h/p", None, &quiet);
        assert!(message.contains("nowhere"), "{message}");
    }
}
