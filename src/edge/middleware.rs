//! [`EdgeMiddleware`]: the HTTP edge as a `reqwest_middleware::Middleware` (feature `reqwest`).
//!
//! A thin layer over [`Edge::prepare_request_async`]: the request becomes a [`ToolRequest`],
//! the prepared request is what is sent, and the answer's status is the use's outcome.

use std::fmt;
use std::sync::Arc;

use http::Extensions;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Body, Method, Request, Response, ResponseBuilderExt, StatusCode, Url, Version};
use reqwest_middleware::{Middleware, Next};

use crate::error::{Error, Result};
use crate::usage::{FailureClass, KeyId};
use crate::wipe::secret_header;

use super::agent::Edge;
use super::request::{PreparedRequest, ToolRequest};

/// The agent edge for any HTTP client built on `reqwest-middleware` (rig's included): each
/// request of one tool passes [`Edge::prepare_request_async`] before it is sent.
///
/// - A handle in the URL, a header or the body becomes the value only if the request goes to
///   one of that key's bindings; a key whose binding says how to present it is put in by the
///   binding alone (the client holds no key, or a placeholder), and nowhere else: its handle
///   or value elsewhere in the request stops it. Toward any other destination,
///   a handle or a value (in any encoding the guard knows) stops the request: nothing is sent,
///   the error says which key and which host, and the usage log records a denial.
/// - Header values that carry a key are marked sensitive and live in a buffer wiped when the
///   request is dropped.
/// - The answer's status is the outcome of each key's use (401, 403 and 429 as their failure
///   classes). On a 401, the middleware asks the manager for a fresh value of each key the
///   request carried and, if one changed (the key was rotated at its source), sends the request
///   once more with it: a rotated key does not break a running agent.
///
/// **Redirects.** A client that follows redirects by itself sends the request, key included,
/// wherever the server says, without passing the edge again. Build the client with
/// [`EdgeMiddleware::client_builder`] (redirects off): a 3xx answer then comes back to the tool
/// as it is, and the request it makes to follow it passes the edge like any other. If the
/// client followed a redirect anyway and its answer comes from another URL, the middleware
/// drops the answer, records a denial and returns an [`ErrorKind::Leak`](crate::ErrorKind::Leak)
/// error naming both destinations; by then the request has been sent. A client that followed
/// redirects back to the first URL (A to B to A), or failed to reach the second, cannot be told
/// apart from one that did not: only redirects off keep the key from the second host (headers
/// other than `Authorization`, and the body of a 307 or 308, go there with the request).
///
/// Only the request as the middleware sees it is checked: headers the client adds later (its
/// default headers, a user agent) are not, so keep keys out of them. A body given as a stream
/// is refused, since it cannot be checked.
///
/// Errors of the edge come back as `reqwest_middleware::Error::Middleware` holding a
/// [`keyward::Error`](crate::Error) (`anyhow::Error::downcast_ref`).
///
/// ```no_run
/// use keyward::{KeyManager, MemoryProvider};
/// use keyward::edge::{Binding, Edge, EdgeMiddleware, EdgePolicy};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// # let token = format!("ghp_{}", "FaKe0".repeat(8));
/// let manager = KeyManager::builder(MemoryProvider::new().with("GITHUB_TOKEN", token.as_str())).build()?;
/// let policy = EdgePolicy::builder()
///     .with_key("GITHUB_TOKEN", Binding::https("api.github.com").with_bearer())
///     .with_tool("github", ["GITHUB_TOKEN"])
///     .build()?;
/// let edge = Edge::new("researcher", manager, policy)?;
///
/// let client = reqwest_middleware::ClientBuilder::new(EdgeMiddleware::client_builder().build()?)
///     .with(EdgeMiddleware::new(edge, "github")?)
///     .build();
/// // The token goes in by its binding: the tool never holds it.
/// let user = client.get("https://api.github.com/user").send().await?;
/// // Toward any other host, nothing is sent.
/// assert!(client.get("https://evil.example/").bearer_auth(&token).send().await.is_err());
/// # let _ = user;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct EdgeMiddleware {
    edge: Edge,
    tool: Arc<str>,
}

impl EdgeMiddleware {
    /// The middleware of `tool` (one of the tools of `edge`'s policy): every request it sees is
    /// made by that tool.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::PermissionDenied`](crate::ErrorKind::PermissionDenied) for a tool that is
    /// not in the policy.
    pub fn new(edge: Edge, tool: impl Into<String>) -> Result<EdgeMiddleware> {
        let tool = tool.into();
        if !edge.policy().has_tool(&tool) {
            return Err(Error::unknown_tool(edge.agent(), &tool, &edge.tool_names()));
        }
        Ok(EdgeMiddleware {
            edge,
            tool: Arc::from(tool),
        })
    }

    /// A `reqwest` client builder with redirects off, for the client under the middleware:
    /// a redirect then comes back to the tool, and following it is a new request that passes
    /// the edge.
    pub fn client_builder() -> reqwest::ClientBuilder {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none())
    }

    /// The edge.
    pub fn edge(&self) -> &Edge {
        &self.edge
    }

    /// The tool the requests are made by.
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// Prepares `request`, sends it and records its outcome; the answer, with the keys it
    /// carried (as sent).
    async fn send(
        &self,
        request: ToolRequest,
        timeout: Option<std::time::Duration>,
        version: Version,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<(Response, Vec<KeyId>)> {
        let mut prepared = self
            .edge
            .prepare_request_async(&self.tool, request)
            .await
            .map_err(reqwest_middleware::Error::middleware)?;
        let outgoing = self
            .to_reqwest(&mut prepared, timeout, version)
            .map_err(reqwest_middleware::Error::middleware)?;
        let sent = outgoing.url().clone();
        // Dropped unfinished (the future cancelled), the use is recorded as abandoned.
        let answer = next.run(outgoing, extensions).await;
        let keys = prepared.key_ids().to_vec();
        // The URL sent may carry a key (a query parameter, a handle in the path): what the
        // tool gets back, an answer or an error, which it may print, holds handles instead.
        let shown = || Url::parse(&self.edge.to_model(sent.as_str())).ok();
        match answer {
            // An answer from another URL: the client followed a redirect. (Its error, when
            // following one failed, names the first URL: that case is not told apart.)
            Ok(response) if response.url() != &sent => {
                let names: Vec<&str> = keys.iter().map(KeyId::label).collect();
                let err = Error::redirect_followed(
                    self.edge.agent(),
                    &self.tool,
                    &names,
                    prepared.destination(),
                    &destination(response.url()),
                );
                prepared.deny();
                Err(reqwest_middleware::Error::middleware(err))
            }
            Ok(response) => {
                prepared.finish(response.status().as_u16());
                Ok((with_url(response, shown()), keys))
            }
            Err(reqwest_middleware::Error::Reqwest(err)) => {
                prepared.fail(failure_class(&err));
                let err = err.without_url();
                Err(reqwest_middleware::Error::Reqwest(match shown() {
                    Some(url) => err.with_url(url),
                    None => err,
                }))
            }
            Err(err) => {
                prepared.fail(FailureClass::Other);
                Err(err)
            }
        }
    }

    /// The prepared request as `reqwest` sends it.
    fn to_reqwest(
        &self,
        prepared: &mut PreparedRequest,
        timeout: Option<std::time::Duration>,
        version: Version,
    ) -> Result<Request> {
        let bad = |problem: String| Error::bad_edge_request(self.edge.agent(), &self.tool, problem);
        let method = Method::from_bytes(prepared.method().as_bytes())
            .map_err(|_| bad("the method is not an HTTP method token".to_owned()))?;
        let url = Url::parse(prepared.url().expose_secret())
            .map_err(|err| bad(format!("the URL is not valid once restored ({err})")))?;
        let mut request = Request::new(method, url);
        *request.timeout_mut() = timeout;
        *request.version_mut() = version;
        for header in prepared.headers() {
            let name = HeaderName::from_bytes(header.name().as_bytes())
                .map_err(|_| bad(format!("`{}` is not a header name", header.name())))?;
            let text = header.value().expose_secret();
            let value = if header.is_sensitive() {
                secret_header(&[text])
            } else {
                HeaderValue::from_str(text).ok()
            };
            let value = value.ok_or_else(|| {
                bad(format!(
                    "header `{name}` holds a character a header cannot carry"
                ))
            })?;
            request.headers_mut().append(name, value);
        }
        if let Some(body) = prepared.take_body() {
            // Shared, not copied, and wiped when the request is done with it.
            *request.body_mut() = Some(Body::from(bytes::Bytes::from_owner(body)));
        }
        Ok(request)
    }

    /// Asks the manager for a fresh value of each of `keys`; whether one changed.
    async fn refreshed(&self, keys: &[KeyId]) -> bool {
        let mut changed = false;
        for key in keys {
            if let Ok(fresh) = self.edge.manager().refresh_async(key.label()).await {
                changed |= KeyId::new(fresh.name(), fresh.value()) != *key;
            }
        }
        changed
    }
}

/// `request` as the edge reads it.
fn to_tool_request(edge: &Edge, tool: &str, request: &Request) -> Result<ToolRequest> {
    let bad = |problem: String| Error::bad_edge_request(edge.agent(), tool, problem);
    let mut out = ToolRequest::new(request.method().as_str(), request.url().as_str());
    for (name, value) in request.headers() {
        let value = value.to_str().map_err(|_| {
            bad(format!(
                "header `{name}` is not text, so the edge cannot check it for keys"
            ))
        })?;
        out = out.with_header(name.as_str(), value);
    }
    if let Some(body) = request.body() {
        let bytes = body.as_bytes().ok_or_else(|| {
            bad(
                "the body is a stream, which the edge cannot check for keys; give it whole"
                    .to_owned(),
            )
        })?;
        out = out.with_body(bytes);
    }
    Ok(out)
}

/// `scheme://host:port` of `url`.
fn destination(url: &Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// The failure class of a request that got no answer.
/// `response` with `url` as its URL (`Response::url`, and in the errors of
/// `error_for_status`), or with none of the request's if `url` is `None`.
fn with_url(response: Response, url: Option<Url>) -> Response {
    if url.as_ref() == Some(response.url()) {
        return response;
    }
    let (mut parts, body) = http::Response::<Body>::from(response).into_parts();
    if let Some(url) = url
        && let Ok(marked) = http::Response::builder().url(url).body(())
    {
        parts.extensions.extend(marked.into_parts().0.extensions);
    }
    Response::from(http::Response::from_parts(parts, body))
}

fn failure_class(err: &reqwest::Error) -> FailureClass {
    if err.is_timeout() {
        FailureClass::Timeout
    } else if err.is_connect() {
        FailureClass::Network
    } else {
        FailureClass::Other
    }
}

#[async_trait::async_trait]
impl Middleware for EdgeMiddleware {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let (timeout, version) = (request.timeout().copied(), request.version());
        let tool_request = to_tool_request(&self.edge, &self.tool, &request)
            .map_err(reqwest_middleware::Error::middleware)?;
        drop(request);
        let again = tool_request.clone();
        let (response, keys) = self
            .send(tool_request, timeout, version, extensions, next.clone())
            .await?;
        if response.status() != StatusCode::UNAUTHORIZED || !self.refreshed(&keys).await {
            return Ok(response);
        }
        drop(response);
        let (response, _) = self.send(again, timeout, version, extensions, next).await?;
        Ok(response)
    }
}

impl fmt::Debug for EdgeMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EdgeMiddleware")
            .field("agent", &self.edge.agent())
            .field("tool", &self.tool)
            .finish()
    }
}
