use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File, Metadata};
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::error::{Error, ErrorKind, Result};
use crate::provider::capped::{OtherReaders, ReadError, check_mode, irregular, read_capped};
use crate::provider::line_ending::trim_line_ending;
use crate::provider::{SecretProvider, validate_key_name};
use crate::secret::{Secret, SecretMeta, SecretString};

mod open;

/// Secrets stored one per file, the file name being the key: the layout of Docker's
/// `/run/secrets` and of Kubernetes secret volumes.
///
/// The value is the file's content with exactly one trailing `\n` or `\r\n` removed (editors and
/// `echo` add one; a second one is kept, as it may be part of the value) and a leading UTF-8 byte
/// order mark dropped. The file's modification time becomes [`SecretMeta::created_at`]. A
/// missing file, or one that holds nothing else, is `Ok(None)`.
///
/// ```no_run
/// use keyward::{FileProvider, SecretProviderExt};
///
/// // /run/secrets/openai_api_key, mode 0600 or 0400
/// let provider = FileProvider::new("/run/secrets")?;
/// let key = provider.require("openai_api_key")?;
/// # Ok::<(), keyward::Error>(())
/// ```
///
/// For a directory that only some deployments mount, [`FileProvider::optional`] serves nothing
/// when it is missing, and applies every rule below when it is there.
///
/// # What is refused
///
/// Every lookup fails closed, with an error that names the path and says how to fix it:
///
/// - Key names that could leave the directory ([`validate_key_name`]): [`ErrorKind::InvalidName`].
/// - Symlinks that resolve outside the directory: [`ErrorKind::InsecurePermissions`]. Symlinks that
///   stay inside work, which is what Kubernetes needs: its secret volumes hold
///   `KEY -> ..data/KEY` and `..data -> ..2024_01_01_00_00_00.123/`, all inside the mount.
/// - On Unix, files that other users can write, in any mode, and files that other users can read
///   (mode `0640`, `0644`, `0444`, ...) unless [`with_readable_by_others`] is set:
///   [`ErrorKind::InsecurePermissions`].
/// - On Unix, a world-writable directory on the way to the file (the directory itself or one
///   that a symlink leads to): [`ErrorKind::InsecurePermissions`]. The one exception is a
///   world-writable directory with the sticky bit (mode `1777`), which is how Kubernetes mounts
///   its tmpfs secret volumes: there other users can add files but not replace existing ones, so
///   the file (and the symlink naming it, if any) must belong to the directory's owner.
/// - On Unix, a file replaced, removed or swapped for a symlink between these checks and the
///   open is read again from the start; the same twice in a row is
///   [`ErrorKind::InsecurePermissions`]. On Linux 5.6 and later the open itself cannot leave
///   the directory: it is `openat2` beneath it, through no symlink, of the path the checks
///   resolved, so a directory on the way swapped for a symlink meanwhile is not followed.
/// - Directories, devices, sockets and pipes where a file should be, files larger than
///   [`max_file_size`] (64 KiB unless [changed](FileProvider::with_max_file_size)) and content
///   that is not UTF-8: [`ErrorKind::InvalidFormat`].
///
/// On other platforms permission bits are not checked (Windows ACLs are not inspected); the
/// name, symlink, size and UTF-8 rules still apply.
///
/// # Container mounts
///
/// Kubernetes writes secret files with mode `0644` unless the pod sets `defaultMode`, and Docker
/// Swarm mounts them `0444` unless the service sets a mode. Set `defaultMode: 0400` (or `0440`
/// with `fsGroup`) where you can; where you cannot, opt in:
///
/// ```no_run
/// use keyward::FileProvider;
///
/// let provider = FileProvider::new("/etc/secrets/openai")?.with_readable_by_others(true);
/// # Ok::<(), keyward::Error>(())
/// ```
///
/// # What is not guaranteed
///
/// The read goes into a buffer that is zeroized before it is freed, and the value is then held by
/// a [`SecretString`]. The operating system keeps its own copy in the page cache. The checks of
/// the directories and the open are separate system calls. On Linux (5.6 and later, where no
/// seccomp filter refuses `openat2`) what is opened is beneath the directory, at the path that
/// was checked, and the file's type, mode, owner and size are checked on what was opened.
/// Elsewhere the open follows the path again: someone who can already write inside the
/// directory could swap a directory on the way for a symlink between the two (the file opened
/// is checked to be the one at the checked path, which catches a swapped file, not a swapped
/// directory above it). That is why writable directories are refused in the first place.
///
/// [`with_readable_by_others`]: FileProvider::with_readable_by_others
/// [`max_file_size`]: FileProvider::max_file_size
#[derive(Clone)]
pub struct FileProvider {
    /// The directory as the caller named it, for messages.
    dir: PathBuf,
    /// The same directory, canonicalized: every file read must resolve inside it. `None` for an
    /// [optional](FileProvider::optional) directory that does not exist, which serves nothing.
    root: Option<PathBuf>,
    /// Set by [`FileProvider::key_file`]: the only key served and the file that holds it.
    single: Option<(String, OsString)>,
    allow_readable_by_others: bool,
    max_file_size: u64,
    /// Whether files are opened beneath the directory with `openat2` where the system has it;
    /// off only in tests of the fallback.
    beneath: bool,
}

impl FileProvider {
    /// The default of [`max_file_size`](FileProvider::max_file_size): 64 KiB, far more than any
    /// API key or PEM private key needs.
    pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024;

    /// Serves every file in `dir`, each under its file name.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] if `dir` does not exist or cannot be read, [`ErrorKind::InvalidInput`] if
    /// it is not a directory, and (on Unix) [`ErrorKind::InsecurePermissions`] if it is
    /// world-writable without the sticky bit.
    pub fn new(dir: impl AsRef<Path>) -> Result<FileProvider> {
        let dir = dir.as_ref().to_path_buf();
        let root = open_root(&dir)?.map_err(|err| dir_error(&dir, err))?;
        Ok(FileProvider::at(dir, Some(root)))
    }

    /// Like [`new`](FileProvider::new), but a directory that does not exist is not an error: the
    /// provider then serves nothing, so that a [`ChainProvider`](crate::ChainProvider) can list a
    /// secrets directory that only some deployments mount (`/run/secrets` in a container, not on
    /// a laptop).
    ///
    /// Only absence is forgiven, and it is decided here, once: a directory created later is not
    /// seen (build a new provider). A path that exists must pass every check of `new`.
    ///
    /// ```
    /// use keyward::{FileProvider, SecretProvider};
    ///
    /// let provider = FileProvider::optional("/no/such/secrets/directory")?;
    /// assert!(provider.get("OPENAI_API_KEY")?.is_none());
    /// assert!(provider.keys()?.is_empty());
    /// # Ok::<(), keyward::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The errors of [`FileProvider::new`] other than a missing directory: [`ErrorKind::Io`] if
    /// it cannot be read, [`ErrorKind::InvalidInput`] if it is not a directory, and (on Unix)
    /// [`ErrorKind::InsecurePermissions`] if it is world-writable without the sticky bit.
    pub fn optional(dir: impl AsRef<Path>) -> Result<FileProvider> {
        let dir = dir.as_ref().to_path_buf();
        let root = match open_root(&dir)? {
            Ok(root) => Some(root),
            Err(err) if err.kind() == io::ErrorKind::NotFound => None,
            Err(err) => return Err(dir_error(&dir, err)),
        };
        Ok(FileProvider::at(dir, root))
    }

    fn at(dir: PathBuf, root: Option<PathBuf>) -> FileProvider {
        FileProvider {
            dir,
            root,
            single: None,
            allow_readable_by_others: false,
            max_file_size: FileProvider::DEFAULT_MAX_FILE_SIZE,
            beneath: true,
        }
    }

    /// Serves the single file at `path` under the name `key`, and no other key.
    ///
    /// The name is given rather than taken from the file name because single secret files are
    /// often named for where they live (`~/.config/myapp/openai.key`), not for the key the
    /// program asks for. The file does not have to exist yet (a lookup then returns `Ok(None)`);
    /// its directory does. The rules of [`FileProvider::new`] apply with that directory as the
    /// secrets directory: in particular, a symlink at `path` must resolve inside it.
    ///
    /// ```no_run
    /// use keyward::{FileProvider, SecretProviderExt};
    ///
    /// let provider = FileProvider::key_file("OPENAI_API_KEY", "/etc/myapp/openai.key")?;
    /// let key = provider.require("OPENAI_API_KEY")?;
    /// # Ok::<(), keyward::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidName`] for a key name [`validate_key_name`] refuses,
    /// [`ErrorKind::InvalidInput`] if `path` does not end in a file name, and the errors of
    /// [`FileProvider::new`] for its directory.
    pub fn key_file(key: &str, path: impl AsRef<Path>) -> Result<FileProvider> {
        validate_key_name(key)?;
        let path = path.as_ref();
        let Some(file_name) = path.file_name() else {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "secret file path `{}` does not end in a file name",
                    path.display()
                ),
            ));
        };
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut provider = FileProvider::new(dir)?;
        provider.single = Some((key.to_owned(), file_name.to_os_string()));
        Ok(provider)
    }

    /// Accepts files that other users can read (but still not write), for container mounts that
    /// are `0444` or `0644` by design. Off by default.
    ///
    /// Files and directories that other users can write stay refused: a secret that someone else
    /// can replace is not a secret.
    pub fn with_readable_by_others(mut self, allow: bool) -> FileProvider {
        self.allow_readable_by_others = allow;
        self
    }

    /// Sets the largest file accepted, in bytes; larger files are an error rather than a read.
    pub fn with_max_file_size(mut self, bytes: u64) -> FileProvider {
        self.max_file_size = bytes;
        self
    }

    /// Opens files with the plain `open` of systems without `openat2`, to test that path.
    #[cfg(test)]
    fn without_openat2(mut self) -> FileProvider {
        self.beneath = false;
        self
    }

    /// The directory the secrets are read from, as given.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The largest file accepted, in bytes.
    pub fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    /// Whether files that other users can read are accepted.
    pub fn allows_readable_by_others(&self) -> bool {
        self.allow_readable_by_others
    }

    /// The keys this provider serves, sorted: every entry of the directory whose name does not
    /// start with `.` and whose file holds a value, read with every check of
    /// [`get`](SecretProvider::get). For a [`key_file`](FileProvider::key_file) provider, its
    /// one key if the file holds a value.
    ///
    /// This is how to take *every* secret of a directory, to redact them all, say. Symlinks
    /// inside the directory count like the files they lead to, so a Kubernetes secret volume
    /// lists its keys (`KEY -> ..data/KEY`) and not its internal `..data` entries. Empty files
    /// and dangling symlinks hold no value and are left out, as `get` returns `None` for them.
    ///
    /// ```no_run
    /// use keyward::{FileProvider, SecretProvider};
    ///
    /// let provider = FileProvider::new("/run/secrets")?;
    /// for key in provider.keys()? {
    ///     let secret = provider.get(&key)?;
    ///     // ...
    /// }
    /// # Ok::<(), keyward::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Fails closed: a listing that silently left a secret out would leave it unprotected.
    ///
    /// - [`ErrorKind::Io`] if the directory cannot be listed;
    /// - [`ErrorKind::InvalidName`] for an entry whose name is not a valid key name (not UTF-8,
    ///   a control character, `..`; see [`validate_key_name`]), so it could never be read;
    /// - the error `get` returns for any entry it refuses: a symlink out of the directory, a
    ///   file others can read or write, a directory, pipe or device where a file should be, a
    ///   file over the size limit or not UTF-8.
    pub fn keys(&self) -> Result<Vec<String>> {
        if let Some((key, _)) = &self.single {
            return Ok(self.get(key)?.map(|_| key.clone()).into_iter().collect());
        }
        let Some(root) = &self.root else {
            return Ok(Vec::new());
        };
        let listing_error = |err| dir_error(&self.dir, err);
        let mut keys = Vec::new();
        for entry in fs::read_dir(root).map_err(listing_error)? {
            let file_name = entry.map_err(listing_error)?.file_name();
            // Kubernetes' `..data` and `..2024_...` entries, editors' and tools' dot files.
            if file_name.as_encoded_bytes().starts_with(b".") {
                continue;
            }
            let Some(key) = file_name.to_str() else {
                return Err(unservable(&self.dir, &file_name, "its name is not UTF-8"));
            };
            if let Err(err) = validate_key_name(key) {
                return Err(unservable(&self.dir, &file_name, err.message()));
            }
            if self.read(&file_name)?.is_some() {
                keys.push(key.to_owned());
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// Reads the file named `file_name` in the directory, after every check.
    fn read(&self, file_name: &OsStr) -> Result<Option<Secret>> {
        let Some(root) = &self.root else {
            return Ok(None);
        };
        let shown = self.dir.join(file_name);
        let entry = root.join(file_name);
        // A name that is one path component joins to a child of the root; anything else (a
        // Windows drive prefix such as `C:x`) would leave it.
        if entry.parent() != Some(root.as_path()) {
            return Err(Error::invalid_name(
                &file_name.to_string_lossy(),
                "it is not a plain file name",
            ));
        }

        // A file replaced while it was being opened (renamed over by an agent that writes
        // secrets, a Kubernetes update) is read again; a second time in a row is refused.
        for _ in 0..2 {
            if let Attempt::Read(secret) = self.read_once(root, &entry, &shown)? {
                return Ok(secret);
            }
        }
        Err(Error::new(
            ErrorKind::InsecurePermissions,
            format!(
                "secret file `{}` changed while it was being opened, twice in a row (replaced, \
                 or swapped for a symlink); not read",
                shown.display()
            ),
        ))
    }

    /// One attempt at [`read`](Self::read): every check, the open, the read.
    fn read_once(&self, root: &Path, entry: &Path, shown: &Path) -> Result<Attempt> {
        let Some((entry_meta, real)) = self.resolve(root, entry, shown)? else {
            return Ok(Attempt::Read(None));
        };
        let sticky_dirs = check_dirs(root, &real)?;

        // Look before opening: opening a device could have effects.
        let meta = fs::metadata(&real).map_err(|err| read_error(shown, err))?;
        check_file_type(shown, &meta)?;
        // Beneath the directory, through no symlink, where the system can (see `open`).
        let Some(mut file) =
            open::open_checked(root, &real, self.beneath).map_err(|err| read_error(shown, err))?
        else {
            // There a moment ago: gone or moved meanwhile.
            return Ok(Attempt::Moved);
        };
        // From here on, check what was opened, not what the path named a moment ago.
        let meta = file.metadata().map_err(|err| read_error(shown, err))?;
        check_file_type(shown, &meta)?;
        if !still_in_place(shown, &real, &meta)? {
            return Ok(Attempt::Moved);
        }
        check_file_mode(shown, &meta, self.allow_readable_by_others)?;
        for (dir, owner) in &sticky_dirs {
            check_owner(shown, &entry_meta, *owner, dir)?;
            check_owner(shown, &meta, *owner, dir)?;
        }
        if meta.len() > self.max_file_size {
            return Err(too_large(shown, self.max_file_size));
        }

        let value = read_value(&mut file, &meta, self.max_file_size, shown)?;
        // As for environment variables: an empty value means "not configured here".
        if value.is_empty() {
            return Ok(Attempt::Read(None));
        }
        let mut secret_meta = SecretMeta::new(self.name());
        if let Ok(modified) = meta.modified() {
            secret_meta = secret_meta.with_created_at(DateTime::<Utc>::from(modified));
        }
        Ok(Attempt::Read(Some(Secret::new(value, secret_meta))))
    }

    /// Follows the symlinks at `entry` and checks that they stay inside the directory. Returns
    /// the entry's own metadata and the real path, or `None` if there is no file.
    fn resolve(
        &self,
        root: &Path,
        entry: &Path,
        shown: &Path,
    ) -> Result<Option<(Metadata, PathBuf)>> {
        let entry_meta = match fs::symlink_metadata(entry) {
            Ok(meta) => meta,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(read_error(shown, err)),
        };
        // A dangling symlink is a key that is not there: Kubernetes can leave one for a moment
        // when a key is removed from a mounted secret.
        let real = match fs::canonicalize(entry) {
            Ok(real) => real,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(read_error(shown, err)),
        };
        if !real.starts_with(root) {
            return Err(Error::new(
                ErrorKind::InsecurePermissions,
                format!(
                    "secret file `{}` is a symlink to `{}`, outside the secrets directory `{}`",
                    shown.display(),
                    real.display(),
                    self.dir.display()
                ),
            ));
        }
        Ok(Some((entry_meta, real)))
    }
}

/// Checks every directory from `root` down to the one holding `real`, and returns those that
/// are sticky and world-writable, with their owners.
fn check_dirs<'a>(root: &Path, real: &'a Path) -> Result<Vec<(&'a Path, u32)>> {
    let mut sticky_dirs = Vec::new();
    for dir in real.ancestors().skip(1) {
        if !dir.starts_with(root) {
            break;
        }
        let meta = fs::metadata(dir).map_err(|err| dir_error(dir, err))?;
        if let Some(owner) = check_dir(dir, &meta)? {
            sticky_dirs.push((dir, owner));
        }
    }
    Ok(sticky_dirs)
}

impl SecretProvider for FileProvider {
    fn name(&self) -> &str {
        "file"
    }

    fn get(&self, key: &str) -> Result<Option<Secret>> {
        validate_key_name(key)?;
        match &self.single {
            Some((single_key, file_name)) if single_key == key => self.read(file_name),
            Some(_) => Ok(None),
            None => self.read(OsStr::new(key)),
        }
    }
}

impl fmt::Debug for FileProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("FileProvider");
        d.field("dir", &self.dir);
        if self.root.is_none() {
            d.field("missing", &true);
        }
        if let Some((key, file_name)) = &self.single {
            d.field("key", key).field("file", file_name);
        }
        d.field("allow_readable_by_others", &self.allow_readable_by_others)
            .field("max_file_size", &self.max_file_size)
            .finish()
    }
}

/// Canonicalizes the secrets directory and checks that it is one. The inner error is the
/// operating system's, for the caller to name the directory with (or to forgive a missing one).
fn open_root(dir: &Path) -> Result<io::Result<PathBuf>> {
    let found = fs::canonicalize(dir).and_then(|root| fs::metadata(&root).map(|meta| (root, meta)));
    let (root, meta) = match found {
        Ok(found) => found,
        Err(err) => return Ok(Err(err)),
    };
    if !meta.is_dir() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("secrets directory `{}` is not a directory", dir.display()),
        ));
    }
    check_dir(dir, &meta)?;
    Ok(Ok(root))
}

/// Reads at most `max` bytes into buffers that are zeroized before they are freed, drops a
/// byte order mark and one line ending, and checks UTF-8.
fn read_value(file: &mut File, meta: &Metadata, max: u64, shown: &Path) -> Result<SecretString> {
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    let size_hint = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    let buf = read_capped(file, limit, size_hint).map_err(|err| match err {
        ReadError::TooLarge => too_large(shown, max),
        ReadError::Io(err) => read_error(shown, err),
    })?;
    // Editors on Windows may start a file with one; it is never part of a key.
    let content = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&buf);
    let content = trim_line_ending(content);
    let text = std::str::from_utf8(content).map_err(|err| {
        Error::new(
            ErrorKind::InvalidFormat,
            format!(
                "secret file `{}` is not valid UTF-8 (invalid byte at offset {})",
                shown.display(),
                err.valid_up_to()
            ),
        )
    })?;
    // An exact-size copy; `buf` is zeroized when it goes out of scope.
    Ok(SecretString::from(text))
}

/// An entry of the directory that cannot be named as a key, so never read: `problem` says why.
fn unservable(dir: &Path, file_name: &OsStr, problem: &str) -> Error {
    Error::new(
        ErrorKind::InvalidName,
        format!(
            "secrets directory `{}` holds `{}`, which cannot be read as a secret ({problem}); \
             rename it, or move it out of the directory",
            dir.display(),
            file_name.to_string_lossy().escape_debug()
        ),
    )
}

fn dir_error(dir: &Path, err: io::Error) -> Error {
    Error::io(format_args!("secrets directory `{}`", dir.display()), err)
}

fn read_error(path: &Path, err: io::Error) -> Error {
    Error::io(format_args!("secret file `{}`", path.display()), err)
}

fn too_large(shown: &Path, max: u64) -> Error {
    Error::new(
        ErrorKind::InvalidFormat,
        format!(
            "secret file `{}` is larger than the limit of {max} bytes; \
             raise it with `FileProvider::with_max_file_size` if the file is right",
            shown.display()
        ),
    )
}

/// What one attempt at reading a secret file found.
enum Attempt {
    Read(Option<Secret>),
    /// The file changed between the checks and the open.
    Moved,
}

/// Whether the file opened is the one at `real` now, and `real` no symlink: the path was
/// checked to lead inside the directory before it was opened, and a file swapped in between
/// (a symlink to elsewhere, say) would have been opened instead. Only the last component is
/// looked at: the directories above it belong to the directory's owner (see `check_dirs`), and
/// on Linux the open itself stays beneath the directory (see `open`).
#[cfg(unix)]
fn still_in_place(shown: &Path, real: &Path, opened: &Metadata) -> Result<bool> {
    use std::os::unix::fs::MetadataExt;

    let at_path = match fs::symlink_metadata(real) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(err) => return Err(read_error(shown, err)),
    };
    let same = at_path.dev() == opened.dev() && at_path.ino() == opened.ino();
    Ok(same && !at_path.file_type().is_symlink())
}

#[cfg(not(unix))]
fn still_in_place(_shown: &Path, _real: &Path, _opened: &Metadata) -> Result<bool> {
    Ok(true)
}

fn check_file_type(shown: &Path, meta: &Metadata) -> Result<()> {
    match irregular(meta) {
        None => Ok(()),
        Some(what) => Err(Error::new(
            ErrorKind::InvalidFormat,
            format!(
                "secret file `{}` is {what}; a secret must be a regular file",
                shown.display()
            ),
        )),
    }
}

/// Refuses a world-writable directory; for one with the sticky bit, returns its owner, who must
/// own the file.
#[cfg(unix)]
fn check_dir(dir: &Path, meta: &Metadata) -> Result<Option<u32>> {
    use std::os::unix::fs::MetadataExt;

    let mode = meta.mode() & 0o7777;
    if mode & 0o002 == 0 {
        Ok(None)
    } else if mode & 0o1000 != 0 {
        Ok(Some(meta.uid()))
    } else {
        Err(Error::new(
            ErrorKind::InsecurePermissions,
            format!(
                "secrets directory `{}` has mode {mode:04o}, so any user can replace the files \
                 in it; run `chmod o-w {}`",
                dir.display(),
                dir.display()
            ),
        ))
    }
}

#[cfg(not(unix))]
fn check_dir(_dir: &Path, _meta: &Metadata) -> Result<Option<u32>> {
    Ok(None)
}

/// Refuses a file that other users can write or, unless allowed, read.
fn check_file_mode(shown: &Path, meta: &Metadata, allow_readable_by_others: bool) -> Result<()> {
    let readers = if allow_readable_by_others {
        OtherReaders::Allowed
    } else {
        OtherReaders::Refused {
            allowed_by: "FileProvider::with_readable_by_others(true)",
        }
    };
    check_mode(
        format_args!("secret file `{}`", shown.display()),
        shown,
        meta,
        0o022,
        readers,
    )
}

/// In a sticky world-writable directory anyone can add a file, so only the directory owner's
/// files are trusted.
#[cfg(unix)]
fn check_owner(shown: &Path, meta: &Metadata, owner: u32, dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;

    if meta.uid() == owner {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::InsecurePermissions,
        format!(
            "secret file `{}` belongs to uid {}, but the world-writable directory `{}` belongs \
             to uid {owner}; any user can add files there, so only its owner's are trusted",
            shown.display(),
            meta.uid(),
            dir.display()
        ),
    ))
}

#[cfg(not(unix))]
fn check_owner(_shown: &Path, _meta: &Metadata, _owner: u32, _dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_file_swapped_after_the_checks_is_noticed() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|err| Error::io("a temporary directory", err))?;
        let (first, second, link) = (
            dir.path().join("first"),
            dir.path().join("second"),
            dir.path().join("link"),
        );
        for path in [&first, &second] {
            fs::write(path, b"value").map_err(|err| read_error(path, err))?;
        }
        std::os::unix::fs::symlink(&first, &link).map_err(|err| read_error(&link, err))?;
        let opened = File::open(&first)
            .and_then(|file| file.metadata())
            .map_err(|err| read_error(&first, err))?;

        assert!(still_in_place(&first, &first, &opened)?);
        for elsewhere in [&second, &link, &dir.path().join("gone")] {
            assert!(
                !still_in_place(&first, elsewhere, &opened)?,
                "{elsewhere:?}"
            );
        }
        Ok(())
    }

    /// Files can grow after `stat`, and some (in `/proc`) report size 0: the read grows its
    /// buffer by hand and still stops at the limit.
    #[test]
    fn the_read_grows_past_a_stale_size_and_stops_at_the_limit() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|err| Error::io("a temporary directory", err))?;
        let empty = dir.path().join("empty");
        let big = dir.path().join("big");
        let content = "x".repeat(1000);
        fs::write(&empty, b"").map_err(|err| read_error(&empty, err))?;
        fs::write(&big, format!("{content}\n")).map_err(|err| read_error(&big, err))?;
        let stale = fs::metadata(&empty).map_err(|err| read_error(&empty, err))?;
        let open = || File::open(&big).map_err(|err| read_error(&big, err));

        let value = read_value(&mut open()?, &stale, 4096, &big)?;
        assert_eq!(value.expose_secret(), content);

        let err = read_value(&mut open()?, &stale, 1000, &big).err();
        assert_eq!(err.map(|err| err.kind()), Some(ErrorKind::InvalidFormat));
        Ok(())
    }

    /// Every rule holds on both opens: `openat2` beneath the directory where the kernel has
    /// it, and the plain open it falls back to (forced here).
    #[cfg(unix)]
    #[test]
    fn both_opens_read_and_refuse_alike() -> Result<()> {
        use std::os::unix::fs::{PermissionsExt, symlink};

        let io = |err| Error::io("a test fixture", err);
        let parent = tempfile::tempdir().map_err(io)?;
        let dir = parent.path().join("secrets");
        let outside = parent.path().join("outside");
        let version = dir.join("..2026_01_01_00_00_00.1");
        fs::create_dir_all(&version).map_err(io)?;
        fs::create_dir(&outside).map_err(io)?;
        let value = format!("sk-proj-{}", "FaKe0".repeat(8));
        for (path, mode) in [
            (dir.join("PLAIN"), 0o600),
            (version.join("KUBE"), 0o400),
            (outside.join("AWAY"), 0o600),
            (dir.join("OPEN"), 0o644),
        ] {
            fs::write(&path, &value).map_err(io)?;
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(io)?;
        }
        symlink("..2026_01_01_00_00_00.1", dir.join("..data")).map_err(io)?;
        symlink("..data/KUBE", dir.join("KUBE")).map_err(io)?;
        symlink("../outside/AWAY", dir.join("AWAY")).map_err(io)?;
        let fifo = dir.join("FIFO");
        let has_fifo = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|status| status.success());

        for provider in [
            FileProvider::new(&dir)?,
            FileProvider::new(&dir)?.without_openat2(),
        ] {
            let read = |key| {
                provider
                    .get(key)
                    .map(|secret| secret.map(|s| s.expose_secret().to_owned()))
            };
            assert_eq!(read("PLAIN")?.as_deref(), Some(value.as_str()));
            assert_eq!(read("KUBE")?.as_deref(), Some(value.as_str()));
            assert_eq!(read("GONE")?, None);
            let kind = |key| read(key).err().map(|err| err.kind());
            assert_eq!(kind("AWAY"), Some(ErrorKind::InsecurePermissions));
            assert_eq!(kind("OPEN"), Some(ErrorKind::InsecurePermissions));
            if has_fifo {
                assert_eq!(kind("FIFO"), Some(ErrorKind::InvalidFormat));
            }
        }
        Ok(())
    }
}
