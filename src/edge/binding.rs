//! [`Binding`]: a place a key may be sent to, and how it is presented there.

use std::fmt;

use crate::error::{Error, ErrorKind, Result, quote_name};

/// How a key is presented to the host it is bound to, when the edge puts it into a request by
/// the binding alone (the client holds a placeholder, or nothing, instead of the key).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Presentation {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// A header of its own, such as `x-api-key: <key>`.
    Header(String),
    /// A query parameter, such as `?key=<key>` (percent-encoded).
    Query(String),
    /// HTTP basic authentication with the key as the password:
    /// `Authorization: Basic base64(username:key)`.
    BasicAuth {
        /// The user name, sent as it is.
        username: String,
    },
}

impl fmt::Display for Presentation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Presentation::Bearer => f.write_str("Authorization: Bearer"),
            Presentation::Header(name) => write!(f, "header {name}"),
            Presentation::Query(name) => write!(f, "query parameter {name}"),
            Presentation::BasicAuth { .. } => f.write_str("basic authentication"),
        }
    }
}

/// A destination a key may be sent to: a scheme, host patterns, a port, an optional path prefix,
/// and optionally how the key is presented there.
///
/// `https` only, unless the binding is made with [`Binding::http`]. A host pattern is a name
/// (`api.github.com`), a name under a domain (`*.github.com`: any subdomain, not the domain
/// itself) or an IP address (`127.0.0.1`, `[::1]`); names are compared without regard to case.
/// The port is the scheme's default unless set. A path prefix ending in `/` matches the paths
/// that start with it; one that does not end in `/` matches itself and the paths below it
/// (`/v1` matches `/v1` and `/v1/chat`, not `/v10`).
///
/// ```
/// use keyward::edge::{Binding, Presentation};
///
/// let openai = Binding::https("api.openai.com").with_path_prefix("/v1/").with_bearer();
/// assert_eq!(openai.presentation(), Some(&Presentation::Bearer));
/// let local = Binding::http("127.0.0.1").with_port(8080).with_header("x-api-key");
/// assert_eq!(local.scheme(), "http");
/// ```
///
/// With the `edge-http` feature, [`Binding::allows`] checks a URL against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    scheme: Scheme,
    hosts: Vec<String>,
    port: Option<u16>,
    path_prefix: Option<String>,
    presentation: Option<Presentation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Https,
    Http,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Scheme::Https => 443,
            Scheme::Http => 80,
        }
    }
}

impl Binding {
    /// A binding to `host` (a pattern, see the type's docs) over `https`.
    pub fn https(host: impl Into<String>) -> Binding {
        Binding::with_scheme(Scheme::Https, host.into())
    }

    /// A binding to `host` over plain `http`: the key travels unencrypted, so this is for local
    /// servers and tests, and has to be asked for by name.
    pub fn http(host: impl Into<String>) -> Binding {
        Binding::with_scheme(Scheme::Http, host.into())
    }

    fn with_scheme(scheme: Scheme, host: String) -> Binding {
        Binding {
            scheme,
            hosts: vec![normalize_host(&host)],
            port: None,
            path_prefix: None,
            presentation: None,
        }
    }

    /// Adds another host pattern.
    pub fn with_host(mut self, host: impl Into<String>) -> Binding {
        self.hosts.push(normalize_host(&host.into()));
        self
    }

    /// Sets the port (default: 443 for `https`, 80 for `http`).
    pub fn with_port(mut self, port: u16) -> Binding {
        self.port = Some(port);
        self
    }

    /// Sets the path prefix the key is limited to. A path must be under it both as the URL
    /// parser writes it and as a server may read it, with `%2F`, `%5C` and `%2E` decoded and
    /// `..;` read as `..` (`/v1/..%2Fadmin` and `/v1/..;/admin` are outside `/v1/`;
    /// `/api/v4/projects/group%2Fproject` is inside `/api/v4/`).
    pub fn with_path_prefix(mut self, prefix: impl Into<String>) -> Binding {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Sets how the key is presented (see [`Presentation`]). The edge then puts the key there
    /// and nowhere else: its handle or value elsewhere in a request is refused
    /// ([`Edge::prepare_request`](super::Edge::prepare_request)).
    pub fn with_presentation(mut self, presentation: Presentation) -> Binding {
        self.presentation = Some(presentation);
        self
    }

    /// Presents the key as `Authorization: Bearer <key>`.
    pub fn with_bearer(self) -> Binding {
        self.with_presentation(Presentation::Bearer)
    }

    /// Presents the key in the header `name`.
    pub fn with_header(self, name: impl Into<String>) -> Binding {
        self.with_presentation(Presentation::Header(name.into().to_ascii_lowercase()))
    }

    /// Presents the key in the query parameter `name`.
    pub fn with_query(self, name: impl Into<String>) -> Binding {
        self.with_presentation(Presentation::Query(name.into()))
    }

    /// Presents the key as the password of HTTP basic authentication for `username`.
    pub fn with_basic_auth(self, username: impl Into<String>) -> Binding {
        self.with_presentation(Presentation::BasicAuth {
            username: username.into(),
        })
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        match self.scheme {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }

    /// The host patterns, lowercase.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.hosts.iter().map(String::as_str)
    }

    /// The port: the one set, or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    /// The path prefix, if any.
    pub fn path_prefix(&self) -> Option<&str> {
        self.path_prefix.as_deref()
    }

    /// How the key is presented, if the binding says; without it, the key goes only where a
    /// request holds its handle.
    pub fn presentation(&self) -> Option<&Presentation> {
        self.presentation.as_ref()
    }

    #[cfg(feature = "edge-http")]
    /// Whether a host (lowercase, as a URL parser writes it: a name, an IPv4 address or a
    /// bracketed IPv6 address) matches one of the patterns.
    pub(crate) fn matches_host(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host);
        self.hosts
            .iter()
            .any(|pattern| match pattern.strip_prefix("*.") {
                Some(domain) => host
                    .strip_suffix(domain)
                    .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
                None => pattern == host,
            })
    }

    #[cfg(feature = "edge-http")]
    /// Whether `path` (as a URL parser writes it, dot segments resolved) is under the prefix.
    pub(crate) fn matches_path(&self, path: &str) -> bool {
        let Some(prefix) = &self.path_prefix else {
            return true;
        };
        // As the parser wrote it, and as a server may read it: both under the prefix.
        let under = |path: &str| {
            if prefix.ends_with('/') {
                return path.starts_with(prefix.as_str());
            }
            path.strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        under(path) && under(&as_a_server_may_read(path))
    }

    #[cfg(feature = "edge-http")]
    /// Whether a request with these parts goes to this binding.
    pub(crate) fn matches(&self, scheme: &str, host: &str, port: Option<u16>, path: &str) -> bool {
        scheme == self.scheme()
            && port == Some(self.port())
            && self.matches_host(host)
            && self.matches_path(path)
    }

    /// The checks of [`EdgePolicyBuilder::build`](super::EdgePolicyBuilder::build), for the
    /// binding of `key`.
    pub(crate) fn validate(&self, key: &str) -> Result<()> {
        let invalid = |problem: String| {
            Err(Error::new(
                ErrorKind::InvalidInput,
                format!("edge policy: a binding of {}: {problem}", quote_name(key)),
            ))
        };
        for host in &self.hosts {
            if let Err(problem) = check_host_pattern(host) {
                return invalid(format!("host pattern {} {problem}", quote_name(host)));
            }
        }
        if let Some(prefix) = &self.path_prefix
            && (!prefix.starts_with('/') || prefix.chars().any(|c| c.is_control() || c == ' '))
        {
            return invalid(format!(
                "path prefix {} must start with `/` and hold no blanks or control characters",
                quote_name(prefix)
            ));
        }
        let name = match &self.presentation {
            Some(Presentation::Header(name)) => Some(("header", name)),
            Some(Presentation::Query(name)) => Some(("query parameter", name)),
            Some(Presentation::BasicAuth { username }) if username.contains(':') => {
                return invalid("a basic-auth user name cannot hold `:`".to_owned());
            }
            _ => None,
        };
        if let Some((what, name)) = name
            && (name.is_empty() || !name.bytes().all(is_token_byte))
        {
            return invalid(format!(
                "{what} name {} must be a non-empty HTTP token (letters, digits, `-`, `_`, ...)",
                quote_name(name)
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Binding {
    /// `https://api.github.com`, `http://127.0.0.1:8080/v1/`, `https://a.example|b.example`:
    /// the scheme, the host patterns, the port unless it is the scheme's default, and the path
    /// prefix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme(), self.hosts.join("|"))?;
        if self.port() != self.scheme.default_port() {
            write!(f, ":{}", self.port())?;
        }
        f.write_str(self.path_prefix().unwrap_or(""))
    }
}

/// Lowercase, without a final dot: how a URL parser writes a host.
fn normalize_host(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    match host.strip_suffix('.') {
        Some(stripped) => stripped.to_owned(),
        None => host,
    }
}

/// `path` (as the URL parser writes it, its own dot segments resolved) as a server may read
/// it: with `%2F`, `%5C` and `%2E` decoded (nginx and others decode them before matching a
/// location), `\` as `/`, and the dot segments that leaves resolved, a `;` parameter ignored
/// (Tomcat reads `..;` as `..`). `/api/v4/projects/group%2Fproject` stays under `/api/v4/`;
/// `/v1/..%2Fadmin` becomes `/admin`.
#[cfg(feature = "edge-http")]
fn as_a_server_may_read(path: &str) -> String {
    let mut decoded = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find(['%', '\\']) {
        decoded.push_str(&rest[..at]);
        let escape = rest.get(at + 1..at + 3).unwrap_or("");
        let (plain, skip) = if rest[at..].starts_with('\\') {
            ('/', 1)
        } else if escape.eq_ignore_ascii_case("2f") || escape.eq_ignore_ascii_case("5c") {
            ('/', 3)
        } else if escape.eq_ignore_ascii_case("2e") {
            ('.', 3)
        } else {
            ('%', 1)
        };
        decoded.push(plain);
        rest = &rest[at + skip..];
    }
    decoded.push_str(rest);
    let mut segments: Vec<&str> = Vec::new();
    let mut ends_in_dot = false;
    for segment in decoded.split('/').skip(1) {
        let name = segment.split(';').next().unwrap_or("");
        ends_in_dot = matches!(name, "." | "..");
        match name {
            "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    let mut read = format!("/{}", segments.join("/"));
    if ends_in_dot && !read.ends_with('/') {
        read.push('/');
    }
    read
}

/// Why `pattern` (normalized) is not a host pattern.
fn check_host_pattern(pattern: &str) -> std::result::Result<(), &'static str> {
    if let Some(inner) = pattern.strip_prefix('[') {
        let ok = inner.strip_suffix(']').is_some_and(|ip| {
            !ip.is_empty()
                && ip
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        });
        return if ok {
            Ok(())
        } else {
            Err("is not a bracketed IPv6 address")
        };
    }
    let name = pattern.strip_prefix("*.").unwrap_or(pattern);
    if name.is_empty() {
        return Err("is empty: bind a key to named hosts, never to any host");
    }
    if name.contains('*') {
        return Err("may hold `*` only as its first label (`*.example.com`)");
    }
    let labels_ok = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    if !labels_ok || name.len() > 253 {
        return Err(
            "is not a host name: labels of letters, digits and `-` between dots (write \
             international names in their `xn--` form)",
        );
    }
    if pattern.starts_with("*.") && !name.contains('.') {
        return Err("would match every name under a top-level domain");
    }
    Ok(())
}

/// A byte of an HTTP token (RFC 9110): header and parameter names.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(feature = "edge-http")]
impl Binding {
    /// Whether a request to `url` goes to this binding: the scheme, a host pattern, the port
    /// and the path prefix all match. A pure check, with no lookup of any kind.
    ///
    /// ```
    /// use keyward::edge::Binding;
    /// use url::Url;
    ///
    /// let github = Binding::https("api.github.com");
    /// let url = |s: &str| Url::parse(s).unwrap();
    /// assert!(github.allows(&url("https://API.github.com/repos")));
    /// assert!(!github.allows(&url("http://api.github.com/repos"))); // plain http
    /// assert!(!github.allows(&url("https://api.github.com.evil.example/")));
    /// assert!(!github.allows(&url("https://api.github.com:8443/")));
    ///
    /// let v1 = Binding::https("*.openai.com").with_path_prefix("/v1");
    /// assert!(v1.allows(&url("https://api.openai.com/v1/chat")));
    /// assert!(!v1.allows(&url("https://api.openai.com/v10")));
    /// assert!(!v1.allows(&url("https://api.openai.com/v1/../admin"))); // resolved to /admin
    /// assert!(!v1.allows(&url("https://openai.com/v1/")));
    /// ```
    pub fn allows(&self, url: &url::Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        self.matches(url.scheme(), host, url.port_or_known_default(), url.path())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[cfg(feature = "edge-http")]
    #[test]
    fn hosts_match_exactly_or_below_a_domain() {
        let b = Binding::https("API.GitHub.com.").with_host("*.githubusercontent.com");
        assert!(b.matches_host("api.github.com"));
        assert!(b.matches_host("api.github.com."));
        assert!(!b.matches_host("github.com"));
        assert!(!b.matches_host("xapi.github.com"));
        assert!(b.matches_host("raw.githubusercontent.com"));
        assert!(b.matches_host("a.b.githubusercontent.com"));
        assert!(!b.matches_host("githubusercontent.com"));
        assert!(!b.matches_host("evilgithubusercontent.com"));
        assert!(!b.matches_host(".githubusercontent.com"));
    }

    #[cfg(feature = "edge-http")]
    #[test]
    fn path_prefixes_stop_at_segment_ends() {
        let slash = Binding::https("h.example").with_path_prefix("/v1/");
        assert!(slash.matches_path("/v1/chat"));
        assert!(!slash.matches_path("/v1"));
        let bare = Binding::https("h.example").with_path_prefix("/v1");
        assert!(bare.matches_path("/v1"));
        assert!(bare.matches_path("/v1/x"));
        assert!(!bare.matches_path("/v10"));
        assert!(!bare.matches_path("/v1%2F..%2Fadmin"));
        assert!(Binding::https("h.example").matches_path("/anything"));
    }

    /// Paths a server could read as one outside the prefix, as the URL parser hands them
    /// over, every escape in both cases: none matches; ordinary ones, escaped slashes inside
    /// the prefix included, still do.
    #[cfg(feature = "edge-http")]
    #[test]
    fn paths_a_server_reads_otherwise_are_outside_the_prefix() {
        let tricks = [
            "..%2Fadmin",
            "%2e%2e%2fadmin",
            "..%5Cadmin",
            "..;/admin",
            "..;x=1/admin",
            "x/..;/..;/admin",
            "a%2F..%2F..%2Fadmin",
            "%2e./admin",
            ".%2e;/admin",
        ];
        let cases = tricks.iter().flat_map(|t| {
            [
                t.to_string(),
                t.to_ascii_uppercase(),
                t.to_ascii_lowercase(),
            ]
        });
        for prefix in ["/v1/", "/v1"] {
            let binding = Binding::https("h.example").with_path_prefix(prefix);
            for trick in cases.clone() {
                let url = url::Url::parse(&format!("https://h.example/v1/{trick}")).unwrap();
                assert!(!binding.matches_path(url.path()), "{prefix} {}", url.path());
            }
            for fine in [
                "chat",
                "chat;v=2",
                "a.b/c",
                "%41bc",
                "..x/y",
                "x../y",
                ".;/x",
                // GitLab's project and file paths
                "projects/mygroup%2Fmyproject/merge_requests",
                "repository/files/lib%2Fclass%2Erb/raw",
                "a%2F..%2Fb",
            ] {
                let url = url::Url::parse(&format!("https://h.example/v1/{fine}")).unwrap();
                assert!(binding.matches_path(url.path()), "{prefix} {}", url.path());
            }
        }
        // Without a prefix, the path is not looked at.
        assert!(Binding::https("h.example").matches_path("/..;/%2e%2e"));
    }

    #[cfg(feature = "edge-http")]
    #[test]
    fn the_scheme_and_port_must_match() {
        let https = Binding::https("h.example");
        assert!(https.matches("https", "h.example", Some(443), "/"));
        assert!(!https.matches("http", "h.example", Some(80), "/"));
        assert!(!https.matches("https", "h.example", Some(8443), "/"));
        let http = Binding::http("127.0.0.1").with_port(8080);
        assert!(http.matches("http", "127.0.0.1", Some(8080), "/"));
        assert!(!http.matches("http", "127.0.0.1", Some(80), "/"));
    }

    #[test]
    fn a_binding_displays_as_the_destinations_it_allows() {
        assert_eq!(
            Binding::https("API.github.com").with_bearer().to_string(),
            "https://api.github.com"
        );
        assert_eq!(
            Binding::http("127.0.0.1")
                .with_port(8080)
                .with_path_prefix("/v1/")
                .to_string(),
            "http://127.0.0.1:8080/v1/"
        );
        assert_eq!(
            Binding::https("a.example")
                .with_host("*.b.example")
                .with_port(443)
                .to_string(),
            "https://a.example|*.b.example"
        );
    }

    #[test]
    fn bad_patterns_and_names_are_refused_naming_the_key() {
        for bad in [
            Binding::https(""),
            Binding::https("*"),
            Binding::https("*.com"),
            Binding::https("a.*.example"),
            Binding::https("exa mple.com"),
            Binding::https("-a.example"),
            Binding::https("[zz]"),
            Binding::https("h.example").with_path_prefix("v1"),
            Binding::https("h.example").with_header(""),
            Binding::https("h.example").with_header("x api key"),
            Binding::https("h.example").with_query("a=b"),
            Binding::https("h.example").with_basic_auth("a:b"),
        ] {
            let err = bad.validate("MY_KEY").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
            assert!(err.to_string().contains("`MY_KEY`"), "{err}");
        }
        for good in [
            Binding::https("api.github.com").with_bearer(),
            Binding::https("*.github.com"),
            Binding::http("127.0.0.1").with_port(1),
            Binding::http("[::1]"),
            Binding::https("xn--bcher-kva.example").with_query("key"),
        ] {
            good.validate("MY_KEY").unwrap();
        }
    }
}
