//! What the Azure and Google Cloud examples share: the local contract server they run against
//! when no real service is configured, and how they print what they read.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use keyward::Secret;

/// Prints what reading `key` gave: the masked value and its metadata, or why there is none.
pub(crate) fn show(key: &str, result: keyward::Result<Option<Secret>>) {
    let when = |time: Option<chrono::DateTime<chrono::Utc>>| {
        time.map_or_else(|| "-".to_owned(), |t| t.to_rfc3339())
    };
    match result {
        Ok(Some(secret)) => {
            let meta = secret.meta();
            println!(
                "{key}: {} (version {}, created {}, expires {})",
                secret.value().masked(),
                meta.version.as_deref().unwrap_or("?"),
                when(meta.created_at),
                when(meta.expires_at),
            );
        }
        Ok(None) => println!("{key}: not found"),
        Err(err) => println!("{key}: {} error: {err}", err.kind()),
    }
}

/// One of the tests' contract servers (`tests/servers/<script>`), stopped on drop.
pub(crate) struct LocalServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
}

impl LocalServer {
    /// Starts the server; `None` when `python3` is missing or the server does not start.
    pub(crate) fn start(script: &str, env: &[(&str, &str)]) -> Option<LocalServer> {
        let script = format!("{}/tests/servers/{script}", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new("python3")
            .args(["-B", &script])
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let mut port = String::new();
        BufReader::new(child.stdout.take()?)
            .read_line(&mut port)
            .ok()?;
        let base = format!("http://127.0.0.1:{}", port.trim());
        Some(LocalServer { child, base })
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
