//! Secret volumes laid out as Kubernetes mounts them, for the tests of `FileProvider` and of
//! `keyward redact --files`. Included with `#[path]` by the test binaries that need it.
#![allow(dead_code, unreachable_pub)] // each test binary uses part of it
#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

/// The directory that holds the values, named as the kubelet names it.
pub const VERSION: &str = "..2024_01_01_00_00_00.123456789";

/// Writes a secret volume into `root`: each value in `..2024_.../KEY` with `file_mode`,
/// `..data` leading to that directory through `hops` more symlinks (`..data -> ..hop1 -> ...
/// -> ..2024_...`; the kubelet uses none), and `KEY -> ..data/KEY` for each key.
pub fn kubernetes_volume(root: &Path, secrets: &[(&str, &str)], hops: usize, file_mode: u32) {
    let version = root.join(VERSION);
    fs::create_dir(&version).unwrap();
    set_mode(&version, 0o755);
    for (key, value) in secrets {
        let file = version.join(key);
        fs::write(&file, value).unwrap();
        set_mode(&file, file_mode);
    }
    let mut target = VERSION.to_owned();
    for hop in (1..=hops).rev() {
        let name = format!("..hop{hop}");
        symlink(&target, root.join(&name)).unwrap();
        target = name;
    }
    symlink(&target, root.join("..data")).unwrap();
    for (key, _) in secrets {
        symlink(format!("..data/{key}"), root.join(key)).unwrap();
    }
}

pub fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}
