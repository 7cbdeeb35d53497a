//! Helpers shared by the test binaries (the provider conformance suite itself is
//! `keyward::testing`).
#![allow(dead_code, unreachable_pub)] // each test binary uses part of it
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

#[cfg(any(feature = "vault", feature = "azure", feature = "gcp"))]
pub mod child;
pub mod misbehaving;
pub mod servers;

use keyward::ErrorKind;
use keyward::manager::KeyEvent;

/// A secrets directory holding `values`, one 0600 file each, with a trailing newline as
/// `echo` and most editors write it.
pub fn secrets_dir_with(values: &[(&'static str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (key, value) in values {
        let path = dir.path().join(key);
        std::fs::write(&path, format!("{value}\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    dir
}

/// Runs each async test body on both tokio runtimes.
#[macro_export]
macro_rules! on_both_runtimes {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn multi_thread() {
                super::$name().await;
            }

            #[tokio::test(flavor = "current_thread")]
            async fn current_thread() {
                super::$name().await;
            }
        }
    )*};
}

/// Every [`ErrorKind`], for tests that go through them all.
pub const ERROR_KINDS: [ErrorKind; 11] = [
    ErrorKind::NotFound,
    ErrorKind::InvalidName,
    ErrorKind::InvalidFormat,
    ErrorKind::Parse,
    ErrorKind::Io,
    ErrorKind::InsecurePermissions,
    ErrorKind::PermissionDenied,
    ErrorKind::Leak,
    ErrorKind::Backend,
    ErrorKind::Expired,
    ErrorKind::InvalidInput,
];

/// Records every event a key manager emits, for tests of its hooks.
#[derive(Debug, Default, Clone)]
pub struct Events(Arc<Mutex<Vec<KeyEvent>>>);

impl Events {
    pub fn hook(&self) -> impl Fn(&KeyEvent) + Send + Sync + 'static {
        let events = self.0.clone();
        move |event| events.lock().unwrap().push(event.clone())
    }

    pub fn take(&self) -> Vec<KeyEvent> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        self.take().iter().map(kind).collect()
    }
}

/// A short name for an event's variant.
pub fn kind(event: &KeyEvent) -> &'static str {
    match event {
        KeyEvent::Loaded { .. } => "loaded",
        KeyEvent::Refreshed { .. } => "refreshed",
        KeyEvent::Rotated { .. } => "rotated",
        KeyEvent::Retired { .. } => "retired",
        KeyEvent::StaleServed { .. } => "stale",
        KeyEvent::DueSoon { .. } => "due soon",
        KeyEvent::Due { .. } => "due",
        KeyEvent::Expired { .. } => "expired",
        KeyEvent::RefreshFailed { .. } => "failed",
        _ => "other",
    }
}

/// Base64 of `bytes`: the URL-safe alphabet when `url`, `=` padding when `pad`.
pub fn base64(bytes: &[u8], url: bool, pad: bool) -> String {
    let alphabet: &[u8] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 0x3f) as usize]));
        }
        if pad {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

/// `cuts` (byte offsets) moved down to char boundaries of `text`, sorted, with its end.
pub fn cut_points(text: &str, cuts: &[usize]) -> Vec<usize> {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|&c| {
            let mut c = c.min(text.len());
            while !text.is_char_boundary(c) {
                c -= 1;
            }
            c
        })
        .collect();
    points.push(text.len());
    points.sort_unstable();
    points
}
