//! Opening a secret file that [`FileProvider`](super::FileProvider) has checked, so that the open
//! itself cannot leave the secrets directory.
//!
//! The provider resolves a key's path first (following the symlinks that stay inside the
//! directory, as Kubernetes volumes need: `KEY -> ..data/KEY`) and checks every directory on the
//! way. Then it opens the resolved path, which has no symlink left in it. On Linux that open is
//! `openat2` relative to the directory with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_MAGICLINKS`: whatever is renamed or swapped for a symlink between the checks and
//! the open, what is opened lies beneath the directory and was reached through no symlink, so it
//! is the path that was checked; otherwise the open fails and the read starts over. A plain
//! `open` of the path would follow a directory swapped for a symlink to anywhere.
//!
//! The open is non-blocking, so that a FIFO swapped in after the type check cannot hang the read;
//! the flag is cleared again once the file is known to be a regular one.
//!
//! Kernels before 5.6 have no `openat2` (`ENOSYS`), and some seccomp filters refuse it (`EPERM`,
//! or `ENOSYS`): one probe per process finds out, and then the plain open is used, with the
//! provider's other checks (the file opened must be the one at the checked path, and no
//! symlink). Other systems use the plain open.

use std::fs::File;
use std::io;
use std::path::Path;

/// Opens `real`, a path inside `root` without symlinks, for reading. `Ok(None)` when it is not
/// there as it was checked: gone, or a component of it swapped for a symlink meanwhile.
/// `beneath` is false only where a test forces the plain open.
pub(super) fn open_checked(root: &Path, real: &Path, beneath: bool) -> io::Result<Option<File>> {
    #[cfg(target_os = "linux")]
    if beneath && linux::openat2_works() {
        return linux::open_beneath(root, real);
    }
    let _ = (root, beneath);
    open_plain(real)
}

/// The open of a path, for systems (and Linux kernels) without `openat2`.
fn open_plain(real: &Path) -> io::Result<Option<File>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(linux::NONBLOCK);
    }
    let file = match options.open(real) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    #[cfg(target_os = "linux")]
    linux::clear_nonblock_if_regular(&file)?;
    Ok(Some(file))
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs::File;
    use std::io;
    use std::path::Path;
    use std::sync::OnceLock;

    use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};
    use rustix::io::Errno;

    /// `O_NONBLOCK`, for `OpenOptionsExt::custom_flags`.
    #[allow(clippy::cast_possible_wrap)] // a small positive flag
    pub(super) const NONBLOCK: i32 = OFlags::NONBLOCK.bits() as i32;

    /// Beneath the directory, through no symlink (the path was resolved already) and no
    /// `/proc` magic link.
    const RESOLVE: ResolveFlags = ResolveFlags::BENEATH
        .union(ResolveFlags::NO_SYMLINKS)
        .union(ResolveFlags::NO_MAGICLINKS);

    /// Whether this kernel, under this process's seccomp filter, runs `openat2` with the
    /// flags used here; asked once per process.
    pub(super) fn openat2_works() -> bool {
        static WORKS: OnceLock<bool> = OnceLock::new();
        *WORKS.get_or_init(|| {
            let probe = rustix::fs::openat2(
                rustix::fs::CWD,
                "/",
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
                RESOLVE,
            );
            !matches!(probe, Err(Errno::NOSYS | Errno::PERM | Errno::INVAL))
        })
    }

    pub(super) fn open_beneath(root: &Path, real: &Path) -> io::Result<Option<File>> {
        let Ok(relative) = real.strip_prefix(root) else {
            // The caller resolved `real` inside `root`; anything else is not opened.
            return Ok(None);
        };
        let dir = rustix::fs::open(
            root,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
        match rustix::fs::openat2(&dir, relative, flags, Mode::empty(), RESOLVE) {
            Ok(fd) => {
                let file = File::from(fd);
                clear_nonblock_if_regular(&file)?;
                Ok(Some(file))
            }
            // Gone (`ENOENT`, `ENOTDIR`), a component swapped for a symlink (`ELOOP`) or
            // leading out (`EXDEV`), or a rename racing the lookup (`EAGAIN`): not the file
            // that was checked.
            Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP | Errno::XDEV | Errno::AGAIN) => {
                Ok(None)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Reads of a regular file never block; the flag was only there for what else might have
    /// been opened, which the caller refuses by its type.
    pub(super) fn clear_nonblock_if_regular(file: &File) -> io::Result<()> {
        if FileType::from_raw_mode(rustix::fs::fstat(file)?.st_mode) != FileType::RegularFile {
            return Ok(());
        }
        let flags = rustix::fs::fcntl_getfl(file)?;
        rustix::fs::fcntl_setfl(file, flags - OFlags::NONBLOCK)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    fn write(path: &Path) {
        std::fs::write(path, b"value").expect("a file in a temporary directory");
    }

    /// A path whose components were checked, then one swapped for a symlink out of the
    /// directory: `openat2` does not follow it, where a plain open would.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_symlink_swapped_into_a_checked_path_is_not_followed() -> io::Result<()> {
        let parent = tempfile::tempdir()?;
        let root = parent.path().join("secrets");
        let outside = parent.path().join("outside");
        std::fs::create_dir_all(root.join("sub"))?;
        std::fs::create_dir(&outside)?;
        write(&root.join("sub/KEY"));
        write(&outside.join("KEY"));
        let root = root.canonicalize()?;
        let real = root.join("sub/KEY");
        assert!(open_checked(&root, &real, true)?.is_some());

        // `sub` becomes a symlink to the outside, after the checks and before the open.
        std::fs::rename(root.join("sub"), root.join("old"))?;
        std::os::unix::fs::symlink(&outside, root.join("sub"))?;
        if !linux::openat2_works() {
            eprintln!("skipped: no openat2 on this kernel");
            return Ok(());
        }
        assert!(open_checked(&root, &real, true)?.is_none());
        // A relative link that stays inside is not followed either: the path was resolved.
        std::fs::remove_file(root.join("sub"))?;
        std::os::unix::fs::symlink("old", root.join("sub"))?;
        assert!(open_checked(&root, &real, true)?.is_none());
        assert!(open_checked(&root, &root.join("old/KEY"), true)?.is_some());

        // The gap the plain open leaves, which the provider's other checks must catch.
        std::fs::remove_file(root.join("sub"))?;
        std::os::unix::fs::symlink(&outside, root.join("sub"))?;
        assert!(open_checked(&root, &real, false)?.is_some());
        Ok(())
    }

    /// A FIFO opens without waiting for a writer, on either path, and is handed back as it is
    /// for the caller to refuse by its type.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_fifo_opens_without_blocking() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().canonicalize()?;
        let fifo = root.join("FIFO");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|status| status.success());
        if !made {
            eprintln!("skipped: no mkfifo");
            return Ok(());
        }
        for beneath in [true, false] {
            let file = open_checked(&root, &fifo, beneath)?.expect("the FIFO is there");
            assert!(!file.metadata()?.is_file());
        }
        Ok(())
    }

    #[test]
    fn a_missing_file_is_none() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().canonicalize()?;
        for beneath in [true, false] {
            assert!(open_checked(&root, &root.join("GONE"), beneath)?.is_none());
        }
        Ok(())
    }
}
