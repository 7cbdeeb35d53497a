//! Misbehaving HTTP servers for the remote providers, started by the test itself on 127.0.0.1:
//! a thread that answers each connection with a canned [`Reply`] (a redirect, an echo of the
//! request, a body cut short, one that never ends) and records every request it received, head
//! and body, so that a test can assert what reached it. One request per connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The request line and headers, as sent.
    pub head: String,
    pub body: Vec<u8>,
}

impl Request {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    /// Head and body, as text.
    pub fn text(&self) -> String {
        format!("{}{}", self.head, String::from_utf8_lossy(&self.body))
    }

    /// What a server that echoes the request writes in its error: the `headers` named first
    /// (where a credential sits), then the body, then a forged log line and 5,800 characters.
    pub fn echo(&self, headers: &[&str]) -> String {
        let named: Vec<String> = headers
            .iter()
            .map(|name| format!("{name}: {}", self.header(name).unwrap_or_default()))
            .collect();
        format!(
            "you sent {} {}\n2026-01-01T00:00:00Z INFO forged log line\r\u{1b}[2K{}",
            named.join(" "),
            String::from_utf8_lossy(&self.body),
            "y".repeat(5_800)
        )
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete answer.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Announces `declared` bytes of body, sends `body` (fewer), and hangs up.
    Cut {
        status: u16,
        declared: usize,
        body: Vec<u8>,
    },
    /// A chunked body that never ends: 64 KiB chunks until the client hangs up.
    Endless { status: u16 },
}

impl Reply {
    /// `body` as `application/json`.
    pub fn json(status: u16, body: &serde_json::Value) -> Reply {
        Reply::raw(status, "application/json", body.to_string())
    }

    /// `body` as AWS JSON 1.1, as Secrets Manager answers.
    pub fn aws(status: u16, body: &serde_json::Value) -> Reply {
        Reply::raw(status, "application/x-amz-json-1.1", body.to_string())
    }

    /// `body` as it is, with its content type.
    pub fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full {
            status,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body: body.into(),
        }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::Full {
            status,
            headers: vec![("Location".to_owned(), location.to_owned())],
            body: Vec::new(),
        }
    }

    /// `self`, with `body` cut to its first `keep` bytes (the full length announced).
    pub fn cut(self, keep: usize) -> Reply {
        match self {
            Reply::Full { status, body, .. } => Reply::Cut {
                status,
                declared: body.len(),
                body: body[..keep.min(body.len().saturating_sub(1))].to_vec(),
            },
            other => other,
        }
    }
}

/// A running misbehaving server.
pub struct Fake {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    requests: Arc<Mutex<Vec<Request>>>,
    written: Arc<AtomicU64>,
}

impl Fake {
    /// Starts a server answering each request with `answer(request)`.
    pub fn start(answer: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let written = Arc::new(AtomicU64::new(0));
        let (recorded, counted) = (Arc::clone(&requests), Arc::clone(&written));
        let answer = Arc::new(answer);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (recorded, counted, answer) = (
                    Arc::clone(&recorded),
                    Arc::clone(&counted),
                    Arc::clone(&answer),
                );
                std::thread::spawn(move || {
                    let Some(request) = read_request(&stream) else {
                        return;
                    };
                    let reply = answer(&request);
                    recorded.lock().unwrap().push(request);
                    write_reply(stream, reply, &counted);
                });
            }
        });
        Fake {
            address,
            requests,
            written,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// How many requests were received.
    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// How many bytes of body the server managed to write.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }
}

fn read_request(stream: &std::net::TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut parts = head.split(' ');
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut request = Request {
        method,
        path,
        head,
        body: Vec::new(),
    };
    let length: usize = request
        .header("content-length")
        .and_then(|length| length.parse().ok())
        .unwrap_or(0);
    request.body = vec![0; length];
    reader.read_exact(&mut request.body).ok()?;
    Some(request)
}

fn write_reply(mut stream: std::net::TcpStream, reply: Reply, written: &AtomicU64) {
    let reason = "Fake";
    match reply {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            ));
            if stream.write_all(head.as_bytes()).is_ok() && stream.write_all(&body).is_ok() {
                written.fetch_add(body.len() as u64, Ordering::SeqCst);
            }
        }
        Reply::Cut {
            status,
            declared,
            body,
        } => {
            let head = format!(
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n\
                 Content-Length: {declared}\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
            let _ = stream.flush();
            // Hang up mid-body.
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        Reply::Endless { status } => {
            let head = format!(
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n\
                 Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            );
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            let chunk = vec![b'x'; 64 * 1024];
            let framed = [
                format!("{:x}\r\n", chunk.len()).into_bytes(),
                chunk,
                b"\r\n".to_vec(),
            ]
            .concat();
            while stream.write_all(&framed).is_ok() {
                written.fetch_add(64 * 1024, Ordering::SeqCst);
            }
        }
    }
}

/// Checks that `err` shows none of `credentials` (nor their first 16 characters), in its
/// `Display`, its `Debug` or its sources; that it holds no control character; and that it is
/// bounded, whatever the server wrote.
pub fn assert_clean(err: &keyward::Error, credentials: &[&str]) {
    let mut shown = vec![err.to_string(), format!("{err:?}")];
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        shown.push(cause.to_string());
        source = cause.source();
    }
    for text in &shown {
        for credential in credentials {
            assert!(!credential.is_empty());
            assert!(!text.contains(credential), "a credential in {text:?}");
            let head: String = credential.chars().take(16).collect();
            assert!(!text.contains(&head), "a credential's head in {text:?}");
        }
        assert!(
            !text.chars().any(char::is_control),
            "a control character in {text:?}"
        );
    }
    // The provider's words, plus 200 characters of the server's, plus `[REDACTED:...]`s.
    let display = err.to_string();
    assert!(display.chars().count() < 900, "{display}");
}

/// Checks that a redirect from `origin` to `target` was refused: nothing reached `target`,
/// and the error names both addresses, without the query of the redirect.
pub fn assert_redirect_refused(err: &keyward::Error, origin: &Fake, target: &Fake, status: u16) {
    assert_eq!(target.count(), 0, "a request followed the redirect: {err}");
    let message = err.to_string();
    assert!(message.contains(&origin.address), "{message}");
    assert!(message.contains(&target.address), "{message}");
    assert!(message.contains(&status.to_string()), "{message}");
    assert!(message.contains("redirect"), "{message}");
    assert!(!message.contains("leak"), "{message}");
}

/// Where a redirect points: `target`, with a query that must not be shown.
pub fn redirect_target(target: &Fake) -> String {
    format!("{}/elsewhere?token=leak-1", target.address)
}
