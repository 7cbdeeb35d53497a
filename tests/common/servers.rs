//! The test servers: those `scripts/test-all` starts for the whole run (found through the
//! environment), and processes a test starts and stops itself (a second OpenBao or moto, to take
//! down and bring back), always on 127.0.0.1.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Says once per test binary why tests are skipped. Written to stderr directly, because the
/// test harness captures `eprintln!` of passing tests.
pub fn skip(reason: &str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{reason}");
    });
}

/// The OpenBao `scripts/test-all` started: its address and root token.
pub fn shared_bao() -> Option<(String, String)> {
    let (Ok(address), Ok(token)) = (
        std::env::var("KEYWARD_TEST_VAULT_ADDR"),
        std::env::var("KEYWARD_TEST_VAULT_TOKEN"),
    ) else {
        skip(
            "skipped: KEYWARD_TEST_VAULT_ADDR and KEYWARD_TEST_VAULT_TOKEN are not set; \
             scripts/test-all starts OpenBao and sets them",
        );
        return None;
    };
    Some((address, token))
}

/// The moto server `scripts/test-all` started: its endpoint and an access key id and secret
/// it accepts.
pub fn shared_moto() -> Option<(String, String, String)> {
    let vars = [
        "KEYWARD_TEST_AWS_ENDPOINT",
        "KEYWARD_TEST_AWS_ACCESS_KEY_ID",
        "KEYWARD_TEST_AWS_SECRET_ACCESS_KEY",
    ]
    .map(std::env::var);
    let [Ok(endpoint), Ok(key_id), Ok(secret_key)] = vars else {
        skip(
            "skipped: KEYWARD_TEST_AWS_ENDPOINT and the moto access key are not set; \
             scripts/test-all starts moto and sets them",
        );
        return None;
    };
    Some((endpoint, key_id, secret_key))
}

/// A free port on 127.0.0.1 whose successor is free too: a dev OpenBao listens for its cluster
/// on the port after the one it is given, and exits at start when that one is taken.
pub fn free_port() -> u16 {
    loop {
        let first = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = first.local_addr().unwrap().port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// A server process of the test's own; killed when dropped.
pub struct OwnServer {
    child: Child,
    log: PathBuf,
    home: PathBuf,
}

impl OwnServer {
    /// Starts `binary` and waits (up to 30 s) until it accepts connections on `port`; panics
    /// with the end of its output if it exits or does not come up.
    pub fn start(binary: &str, args: &[String], port: u16) -> OwnServer {
        let log = std::env::temp_dir().join(format!("keyward-own-server-{port}.log"));
        // A dev OpenBao writes its token to $HOME/.vault-token: a home of its own, so that
        // servers started at once do not race for the file (one failed to start that way), and
        // the developer's own token is left alone.
        let home = std::env::temp_dir().join(format!("keyward-own-server-{port}-home"));
        std::fs::create_dir_all(&home).unwrap();
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(binary)
            .args(args)
            .env("HOME", &home)
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        let mut server = OwnServer { child, log, home };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = server.child.try_wait().unwrap();
            if exited.is_some() || Instant::now() >= deadline {
                let output = std::fs::read_to_string(&server.log).unwrap_or_default();
                let tail: Vec<&str> = output.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                panic!(
                    "{binary} did not start on port {port} (exit: {exited:?}); its last lines:\n{}",
                    tail.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// The arguments of a moto server on `port`.
    pub fn moto_args(port: u16) -> Vec<String> {
        ["-H", "127.0.0.1", "-p", &port.to_string()]
            .map(str::to_owned)
            .into()
    }

    /// The arguments of a dev OpenBao on `port` with the root token `token`.
    pub fn bao_dev_args(port: u16, token: &str) -> Vec<String> {
        vec![
            "server".to_owned(),
            "-dev".to_owned(),
            format!("-dev-listen-address=127.0.0.1:{port}"),
            format!("-dev-root-token-id={token}"),
        ]
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_dir_all(&self.home);
    }
}
