//! Local contract servers (plain Python, standard library only) for the cloud providers that
//! have no emulator, and the glue that runs the sync conformance suite on an async provider.
#![allow(dead_code, unreachable_pub)] // each test binary uses part of it
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// A contract server of this test's own, on 127.0.0.1 at a port the kernel picked. It stops
/// when dropped, and by itself if the test process dies (it exits when its stdin closes).
pub struct ContractServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl ContractServer {
    /// Starts `tests/servers/<script>` with `env`; `None` (the test is skipped, with the reason
    /// printed) when there is no Python 3. `KEYWARD_TEST_PYTHON` names another interpreter.
    pub fn start(script: &str, env: &[(&str, &str)]) -> Option<ContractServer> {
        let python = std::env::var("KEYWARD_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers");
        let spawned = Command::new(&python)
            .arg("-B") // no __pycache__ in the source tree
            .arg(dir.join(script))
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("skipped: {python} not found; the contract servers need Python 3");
                return None;
            }
            Err(err) => panic!("could not start {script}: {err}"),
        };
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{script} did not print its port: {line:?}"));
        Some(ContractServer {
            child,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    /// Calls one of the server's `/_test/` controls.
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .request(method, format!("{}/_test/{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// Makes the next read requests fail: `[{"status": 429, "retry_after": 1, "count": 2}]`.
    pub async fn faults(&self, faults: Value) {
        self.control(reqwest::Method::POST, "faults", faults).await;
    }

    /// The requests the server has seen, oldest first.
    pub async fn log(&self) -> Vec<Value> {
        let log = self.control(reqwest::Method::GET, "log", Value::Null).await;
        log.as_array().unwrap().clone()
    }

    /// How many requests the server has seen for paths starting with `prefix`.
    pub async fn requests_under(&self, prefix: &str) -> usize {
        self.log()
            .await
            .iter()
            .filter(|entry| entry["path"].as_str().unwrap().starts_with(prefix))
            .count()
    }
}

impl Drop for ContractServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
