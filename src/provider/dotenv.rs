use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, ErrorKind, Result};
use crate::provider::capped::{ReadError, open_regular, read_capped};
use crate::provider::{SecretProvider, validate_key_name};
use crate::secret::{Secret, SecretMeta, SecretString};

mod rewrite;
mod split;

use rewrite::{Earlier, push_str};

/// Secrets from a `.env` file, read once into memory.
///
/// The file is parsed with [dotenvy](https://docs.rs/dotenvy), but the process environment is
/// never read or written: values live only in this provider, as [`SecretString`]s.
///
/// ```
/// use keyward::{DotenvProvider, SecretProvider};
///
/// let file = "# a bcrypt hash and an API key, both fake\n\
///             ADMIN_HASH=$2b$12$NotARealSaltNotARealHashNotARealHash000000000000000\n\
///             export OPENAI_API_KEY=\"sk-proj-not-a-real-key\"\n";
/// let provider = DotenvProvider::from_reader(file.as_bytes())?;
///
/// let hash = provider.get("ADMIN_HASH")?.expect("present");
/// assert!(hash.expose_secret().starts_with("$2b$12$")); // not expanded
/// assert_eq!(hash.meta().source, "dotenv");
/// assert!(provider.get("MISSING")?.is_none());
/// # Ok::<(), keyward::Error>(())
/// ```
///
/// # Syntax
///
/// dotenvy's: `KEY=value`, `export KEY=value`, `# comments` on their own line or after a blank,
/// single quotes (literal), double quotes (with `\n`, `\"`, `\\`, `\$` escapes), values spanning
/// lines inside quotes, CRLF line ends and a UTF-8 byte order mark. Line breaks inside a
/// multi-line quoted value are kept as written.
///
/// Differences from loading the same file with dotenvy directly:
///
/// - **`$` is literal.** dotenvy replaces `$NAME` and `${NAME}` in unquoted and double-quoted
///   values, from the process environment first, which silently corrupts secrets that contain
///   `$` (bcrypt hashes, generated passwords). Here every value comes out as written, unless you
///   ask for [`with_variable_expansion`](DotenvOptions::with_variable_expansion), which takes names from
///   earlier lines of the same file only.
/// - **An empty value counts as not set**, as in [`EnvProvider`](crate::EnvProvider): `KEY=`
///   usually means "not configured".
/// - **A key defined twice takes the later value**, as when a shell sources the file.
/// - **Errors name the file and the line** and never show the line's content, which may hold a
///   secret; dotenvy's own error messages do show it and are not passed on.
/// - **A NUL byte in a value is an error** naming the key and the line: no environment
///   variable can hold one, and a value cut at it by whoever uses it next would be another
///   secret than the one in the file.
/// - **A carriage return must be followed by a line feed.** dotenvy ends lines at `\n` only,
///   so a file with CR-only line ends (classic Mac OS, some exports) would read as one long
///   line: `A=1<CR>B=2` sets `A` to `1<CR>B=2` and loses `B`, and a first line that is a
///   comment would hide the whole file. Rather than guess which CRs were meant as line ends
///   (one inside quotes could be part of a value), such a file is an error naming the line of
///   the first lone CR; convert it to LF or CRLF line ends (`dos2unix -c mac`, or
///   `tr '\r' '\n'`). A value therefore cannot hold a CR.
///
/// # What is not guaranteed
///
/// The file's contents and our intermediate buffers are zeroized when dropped, but dotenvy
/// parses from its own buffers (a line buffer, its parsed value, its error values), which are
/// freed without being zeroized. The operating system's page cache also keeps a copy of the
/// file. Key names are not secret: they appear in `Debug` output and in errors.
#[derive(Clone)]
pub struct DotenvProvider {
    paths: Vec<PathBuf>,
    values: BTreeMap<String, SecretString>,
}

impl DotenvProvider {
    /// Reads the `.env` file at `path` with the default [`DotenvOptions`].
    ///
    /// # Errors
    ///
    /// See [`DotenvOptions::open`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<DotenvProvider> {
        DotenvOptions::new().open(path)
    }

    /// Reads the `.env` file at `path` if there is one, with the default [`DotenvOptions`]: a
    /// missing file gives an empty provider, so that a [`ChainProvider`](crate::ChainProvider)
    /// can list a `.env` file that only development machines have.
    ///
    /// ```
    /// use keyward::{DotenvProvider, SecretProvider};
    ///
    /// let provider = DotenvProvider::optional("no-such-dir/.env")?;
    /// assert!(provider.is_empty() && provider.paths().is_empty());
    /// assert!(provider.get("OPENAI_API_KEY")?.is_none());
    /// # Ok::<(), keyward::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// See [`DotenvOptions::open_optional`]: only absence is forgiven.
    pub fn optional(path: impl AsRef<Path>) -> Result<DotenvProvider> {
        DotenvOptions::new().open_optional(path)
    }

    /// Reads `.env` text from `reader` with the default [`DotenvOptions`].
    ///
    /// # Errors
    ///
    /// See [`DotenvOptions::read`].
    pub fn from_reader(reader: impl Read) -> Result<DotenvProvider> {
        DotenvOptions::new().read(reader)
    }

    /// Reads several `.env` files, such as `[".env.local", ".env"]`, with the default
    /// [`DotenvOptions`]: for each key, the first file that sets it wins.
    ///
    /// # Errors
    ///
    /// See [`DotenvOptions::layered`].
    pub fn layered<I>(paths: I) -> Result<DotenvProvider>
    where
        I: IntoIterator,
        I::Item: AsRef<Path>,
    {
        DotenvOptions::new().layered(paths)
    }

    /// Options for reading, such as variable expansion.
    ///
    /// ```no_run
    /// use keyward::DotenvProvider;
    ///
    /// let provider = DotenvProvider::options().with_variable_expansion(true).open(".env")?;
    /// # Ok::<(), keyward::Error>(())
    /// ```
    pub fn options() -> DotenvOptions {
        DotenvOptions::new()
    }

    /// The files the values were read from, in order of precedence; empty for a reader.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The names of the keys with a value, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// The number of keys with a value.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no key has a value.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl fmt::Debug for DotenvProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DotenvProvider")
            .field("paths", &self.paths)
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl SecretProvider for DotenvProvider {
    fn name(&self) -> &str {
        "dotenv"
    }

    fn get(&self, key: &str) -> Result<Option<Secret>> {
        validate_key_name(key)?;
        Ok(self
            .values
            .get(key)
            .map(|value| Secret::new(value.clone(), SecretMeta::new(self.name()))))
    }
}

/// How a [`DotenvProvider`] reads its input; made by [`DotenvProvider::options`].
///
/// ```
/// use keyward::{DotenvProvider, SecretProvider};
///
/// let file = "SALT=s4lt$\nURL=\"postgres://app:${SALT}@db\"\nLITERAL='${SALT}'\n";
/// let provider = DotenvProvider::options()
///     .with_variable_expansion(true)
///     .read(file.as_bytes())?;
/// assert_eq!(provider.get("URL")?.unwrap().expose_secret(), "postgres://app:s4lt$@db");
/// assert_eq!(provider.get("LITERAL")?.unwrap().expose_secret(), "${SALT}");
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DotenvOptions {
    expand_variables: bool,
    max_size: usize,
}

impl Default for DotenvOptions {
    fn default() -> DotenvOptions {
        DotenvOptions::new()
    }
}

impl DotenvOptions {
    /// The default for [`max_size`](DotenvOptions::with_max_size): 1 MiB.
    pub const DEFAULT_MAX_SIZE: usize = 1024 * 1024;

    /// No expansion, at most [`DEFAULT_MAX_SIZE`](DotenvOptions::DEFAULT_MAX_SIZE) bytes.
    pub fn new() -> DotenvOptions {
        DotenvOptions {
            expand_variables: false,
            max_size: DotenvOptions::DEFAULT_MAX_SIZE,
        }
    }

    /// Whether `$NAME` and `${NAME}` in unquoted and double-quoted values are replaced by the
    /// value of `NAME` from an earlier line of the same file; off by default.
    ///
    /// Only earlier lines are consulted, never the process environment; an unknown name becomes
    /// the empty string, as in a shell. A bare `$NAME` takes letters, digits and `_` (use
    /// `${NAME}` for names with `.`); a `$` followed by anything else, such as the `$2b$` of a
    /// bcrypt hash, stays as written. Single-quoted values and `\$` are always literal. With
    /// expansion off, every `$` is literal.
    ///
    /// Expanded values count against [`max_size`](DotenvOptions::with_max_size): the values of
    /// every line, expanded, may add up to that many bytes (a key set on several lines counts
    /// each time), so references that multiply (`A2=${A1}${A1}`, ...) or chain
    /// (`A=${A}x` on line after line) end in an [`ErrorKind::InvalidInput`] naming the line
    /// and the key, after work and memory in proportion to the limit, not to what the
    /// references would make.
    pub fn with_variable_expansion(mut self, yes: bool) -> DotenvOptions {
        self.expand_variables = yes;
        self
    }

    /// The largest input accepted, in bytes (per file); larger input is an
    /// [`ErrorKind::InvalidInput`] error rather than a large allocation. With
    /// [`with_variable_expansion`](DotenvOptions::with_variable_expansion), also the most the file's values
    /// may add up to once expanded.
    pub fn with_max_size(mut self, bytes: usize) -> DotenvOptions {
        self.max_size = bytes;
        self
    }

    /// Reads the `.env` file at `path`.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::Io`] when the file cannot be read (missing, no permission) or is not a
    ///   regular file after following symlinks (a directory, a pipe, a device): a FIFO is
    ///   refused without being opened, as opening it would wait for a writer;
    /// - [`ErrorKind::InvalidInput`] when it is larger than [`max_size`](DotenvOptions::with_max_size),
    ///   or its values are once expanded;
    /// - [`ErrorKind::InvalidFormat`] when it is not UTF-8;
    /// - [`ErrorKind::Parse`] naming the line of the first statement that does not parse.
    pub fn open(&self, path: impl AsRef<Path>) -> Result<DotenvProvider> {
        self.open_file(path.as_ref(), false)
    }

    /// Like [`open`](DotenvOptions::open), but a missing file (or a symlink to nothing) gives
    /// an empty provider, whose [`paths`](DotenvProvider::paths) is empty.
    ///
    /// # Errors
    ///
    /// Every error of [`open`](DotenvOptions::open) but absence: a file that exists and cannot
    /// be read (no permission, a directory or a pipe where the file should be, a path through a
    /// file), is too large, is not UTF-8 or does not parse is still an error.
    pub fn open_optional(&self, path: impl AsRef<Path>) -> Result<DotenvProvider> {
        self.open_file(path.as_ref(), true)
    }

    fn open_file(&self, path: &Path, missing_is_empty: bool) -> Result<DotenvProvider> {
        let file = match open_regular(path, &format!(".env file {}", quote_path(path)))? {
            Ok(file) => file,
            Err(err) if missing_is_empty && err.kind() == io::ErrorKind::NotFound => {
                return Ok(DotenvProvider {
                    paths: Vec::new(),
                    values: BTreeMap::new(),
                });
            }
            Err(err) => return Err(read_error(path, err)),
        };
        let values = self.load_file(path, file)?;
        Ok(DotenvProvider {
            paths: vec![path.to_path_buf()],
            values,
        })
    }

    /// Reads `.env` text from `reader`; errors name the input `<reader>`.
    ///
    /// # Errors
    ///
    /// As [`open`](DotenvOptions::open).
    pub fn read(&self, reader: impl Read) -> Result<DotenvProvider> {
        let values = self.load(&Origin::Reader, reader, 0)?;
        Ok(DotenvProvider {
            paths: Vec::new(),
            values,
        })
    }

    /// Reads several `.env` files; for each key, the first file that sets it (to a non-empty
    /// value) wins, so list the most specific first: `[".env.local", ".env"]`.
    ///
    /// Missing files are skipped, but at least one must exist. Expansion, when on, takes names
    /// from earlier lines of the same file only.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::InvalidInput`] when `paths` is empty;
    /// - [`ErrorKind::Io`] naming every path tried when none exists, or naming the file when
    ///   one exists but cannot be read;
    /// - the errors of [`open`](DotenvOptions::open) for each file read.
    pub fn layered<I>(&self, paths: I) -> Result<DotenvProvider>
    where
        I: IntoIterator,
        I::Item: AsRef<Path>,
    {
        let mut tried = Vec::new();
        let mut found = Vec::new();
        let mut values = BTreeMap::new();
        for path in paths {
            let path = path.as_ref();
            tried.push(quote_path(path));
            let file = match open_regular(path, &format!(".env file {}", quote_path(path)))? {
                Ok(file) => file,
                Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                Err(err) => return Err(read_error(path, err)),
            };
            for (key, value) in self.load_file(path, file)? {
                values.entry(key).or_insert(value);
            }
            found.push(path.to_path_buf());
        }
        if tried.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "no .env file paths were given to read",
            ));
        }
        if found.is_empty() {
            return Err(Error::new(
                ErrorKind::Io,
                format!("none of the .env files exists: {}", tried.join(", ")),
            ));
        }
        Ok(DotenvProvider {
            paths: found,
            values,
        })
    }

    fn load_file(&self, path: &Path, file: File) -> Result<BTreeMap<String, SecretString>> {
        // The size only sizes the buffer; the limit is enforced while reading.
        let size_hint = file
            .metadata()
            .map_or(0, |meta| usize::try_from(meta.len()).unwrap_or(usize::MAX));
        self.load(&Origin::Path(path), file, size_hint)
    }

    fn load(
        &self,
        origin: &Origin<'_>,
        reader: impl Read,
        size_hint: usize,
    ) -> Result<BTreeMap<String, SecretString>> {
        let bytes = read_capped(reader, self.max_size, size_hint).map_err(|err| match err {
            ReadError::TooLarge => Error::new(
                ErrorKind::InvalidInput,
                format!(
                    ".env file {origin} is larger than {} bytes; raise the limit with \
                     `DotenvOptions::max_size` if that is intended",
                    self.max_size
                ),
            ),
            ReadError::Io(err) => Error::io(format_args!(".env file {origin}"), err),
        })?;
        let text = into_text(bytes, origin)?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut values = BTreeMap::new();
        for (key, value) in parse(text, self.expand_variables, self.max_size, origin)? {
            if value.is_empty() {
                values.remove(&key);
            } else {
                values.insert(key, value);
            }
        }
        Ok(values)
    }
}

/// Where the text came from, for messages.
enum Origin<'a> {
    Path(&'a Path),
    Reader,
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Path(path) => f.write_str(&quote_path(path)),
            Origin::Reader => f.write_str("<reader>"),
        }
    }
}

/// A path for a message, escaped so that a strange file name cannot forge log lines.
fn quote_path(path: &Path) -> String {
    format!("`{}`", path.to_string_lossy().escape_debug())
}

fn read_error(path: &Path, err: io::Error) -> Error {
    Error::io(format_args!(".env file {}", quote_path(path)), err)
}

fn parse_error(origin: &Origin<'_>, line: usize, reason: &str) -> Error {
    Error::new(
        ErrorKind::Parse,
        format!(
            "could not parse .env file {origin} at line {line}: {reason} \
             (the line is not shown because it may contain a secret)"
        ),
    )
}

/// Checks that the bytes are UTF-8, keeping them in a zeroizing buffer either way.
fn into_text(mut bytes: Zeroizing<Vec<u8>>, origin: &Origin<'_>) -> Result<Zeroizing<String>> {
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let mut bytes = err.into_bytes();
            let line = 1 + bytes[..valid].iter().filter(|&&b| b == b'\n').count();
            bytes.zeroize();
            Err(Error::new(
                ErrorKind::InvalidFormat,
                format!(
                    ".env file {origin} is not valid UTF-8 (first invalid byte on line {line})"
                ),
            ))
        }
    }
}

/// Parses `.env` text into its assignments, in order, empty values included. The values may
/// add up to `max_size` bytes (every line counted, a key set twice twice): never reached
/// without expansion, as no value is longer than its line, and with it the bound on what
/// references can copy, however they nest or chain.
fn parse(
    text: &str,
    expand: bool,
    max_size: usize,
    origin: &Origin<'_>,
) -> Result<Vec<(String, SecretString)>> {
    if let Some(at) = lone_carriage_return(text) {
        let line = 1 + text.as_bytes()[..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        return Err(parse_error(
            origin,
            line,
            "a carriage return (CR) is not followed by a line feed; if the file has CR-only \
             line ends, convert them to LF or CRLF",
        ));
    }
    let mut entries = Vec::new();
    let mut earlier = Earlier::new();
    let mut budget = max_size;
    for statement in split::statements(text) {
        let statement = statement.map_err(|open| parse_error(origin, open.line, open.reason))?;
        let line = statement.line;
        let Some(assignment) = rewrite::assignment(statement.text)
            .map_err(|problem| parse_error(origin, line, problem.describe()))?
        else {
            continue;
        };
        let too_large = || expansion_too_large(origin, line, assignment.key, max_size);
        // Room for a backslash before every character and the final line break, so that the
        // common case never reallocates.
        let mut rewritten = Zeroizing::new(String::with_capacity(2 * statement.text.len() + 1));
        // Without its leading blanks, which dotenvy skips anyway: it looks at them again for
        // every line a quoted value spans.
        push_str(&mut rewritten, assignment.prefix.trim_start());
        rewrite::rewrite_value(
            assignment.value,
            expand.then_some(&earlier),
            budget,
            &mut rewritten,
        )
        .map_err(|problem| match problem {
            rewrite::Problem::TooLarge => too_large(),
            problem => parse_error(origin, line, problem.describe()),
        })?;
        let value = parse_with_dotenvy(&mut rewritten, assignment.key)
            .ok_or_else(|| parse_error(origin, line, "not a valid `KEY=value` statement"))?;
        budget = budget.checked_sub(value.len()).ok_or_else(too_large)?;
        if value.expose_secret().contains('\0') {
            let reason = format!(
                "the value of `{}` contains a NUL byte, which no environment variable can hold",
                assignment.key
            );
            return Err(parse_error(origin, line, &reason));
        }
        if expand {
            if value.is_empty() {
                earlier.remove(assignment.key);
            } else {
                earlier.insert(assignment.key.to_owned(), value.clone());
            }
        }
        entries.push((assignment.key.to_owned(), value));
    }
    Ok(entries)
}

/// The byte offset of the first `\r` that is not followed by `\n`.
fn lone_carriage_return(text: &str) -> Option<usize> {
    text.match_indices('\r')
        .map(|(at, _)| at)
        .find(|&at| text.as_bytes().get(at + 1) != Some(&b'\n'))
}

fn expansion_too_large(origin: &Origin<'_>, line: usize, key: &str, max_size: usize) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!(
            "expanding variables in .env file {origin} at line {line} (`{key}`) makes its values \
             larger than {max_size} bytes in all; raise the limit with `DotenvOptions::max_size` \
             if that is intended"
        ),
    )
}

/// Hands one rewritten statement to dotenvy and returns the value it parses for `key`.
///
/// `None` when dotenvy fails or does not see exactly that one assignment, which would mean
/// our reading of the statement differs from dotenvy's; the error dotenvy returns is dropped
/// unread because it contains the line.
fn parse_with_dotenvy(statement: &mut Zeroizing<String>, key: &str) -> Option<SecretString> {
    push_str(statement, "\n");
    // The rewrite must not have moved the statement's end.
    let mut resplit = split::statements(statement);
    match (resplit.next(), resplit.next()) {
        (Some(Ok(only)), None) if only.text.len() + 1 == statement.len() => {}
        _ => return None,
    }
    let mut items = dotenvy::from_read_iter(statement.as_bytes());
    let (parsed_key, value) = match (items.next(), items.next()) {
        (Some(Ok(item)), None) => item,
        _ => return None,
    };
    let value = SecretString::from(value);
    (parsed_key == key).then_some(value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ours(text: &str) -> std::result::Result<Vec<(String, String)>, Error> {
        let entries = parse(text, false, usize::MAX, &Origin::Reader)?;
        Ok(entries
            .into_iter()
            .map(|(k, v)| (k, v.expose_secret().to_owned()))
            .collect())
    }

    fn dotenvy_alone(text: &str) -> std::result::Result<Vec<(String, String)>, ()> {
        dotenvy::from_read_iter(text.as_bytes())
            .collect::<std::result::Result<_, _>>()
            .map_err(drop)
    }

    /// Inputs without `$`, where dotenvy's own result is the reference for ours.
    const TRICKY: &[&str] = &[
        "A=1\nB=2\n",
        "A=1\r\nB=\"two\"\r\nC='three'\r\n",
        "\n\n  \n\t\nA=1\n\n",
        "# comment\n  # indented comment\nA=1 # trailing\nB=x#not-a-comment\n",
        "A=\"multi\nline\nvalue\"\nB=after\n",
        "A='multi\nline'\nB=after\n",
        "A=\"has # hash\"\nB='has # hash'\n",
        "A=\"a\\\"b\"\nB=\"c\\\\\"\nC=\"new\\nline\"\nD=e\\ f\n",
        "export A=1\nexport=2\nexport   B = 3\n",
        "  A  =  \"spaced\"  \n",
        "A=\nB= \nC=   # only comment\nD=#x\n",
        "A='single \\ backslash'\n",
        "A=\"x\n# not a comment\ny\"\n",
        "A=\"x\"\"y\"'z'w\n",
        "A=v1\nA=v2\n",
        "A.b_c=dots\n_U=under\n",
        "A=\"crlf\r\nmulti\"\r\nB=c\r\n",
        "A=\"tab\tinside\"\nB=trailing\t\t\n",
        "A=\u{e9}t\u{e9}\nB=\"\u{1f511}\"\n",
        "A=x\\\n",
        "A=1\nlast=no-newline",
        "A='it\\'s'\nB=next'\n",
        // Errors on both sides.
        "A=\"unterminated\nB=1\n",
        "A='unterminated\n",
        "A=two words\n",
        "A=bad\\escape\n",
        "=novalue\n",
        "1A=digit\n",
        "A 1\n",
        "A=ok\nB=\"open\n",
        "A=x\\",
    ];

    #[test]
    fn agrees_with_dotenvy_where_no_dollar_is_involved() {
        for &text in TRICKY {
            let expected = dotenvy_alone(text);
            let actual = ours(text);
            match (&expected, &actual) {
                (Ok(expected), Ok(actual)) => assert_eq!(actual, expected, "{text:?}"),
                (Err(()), Err(err)) => assert_eq!(err.kind(), ErrorKind::Parse, "{text:?}"),
                _ => panic!("dotenvy: {expected:?}, keyward: {actual:?}, for {text:?}"),
            }
        }
    }

    #[test]
    fn a_single_trailing_blank_at_the_end_is_accepted_unlike_dotenvy() {
        let text = "A=1\nB=2 ";
        assert!(dotenvy_alone(text).is_err());
        assert_eq!(
            ours(text).unwrap(),
            [
                ("A".to_owned(), "1".to_owned()),
                ("B".to_owned(), "2".to_owned())
            ]
        );
    }

    #[test]
    fn dollars_come_out_as_written_where_dotenvy_would_expand() {
        let text = "A=x$y\nB=\"$A-${A}\"\nC='$A'\nD=\\$A\nE=$\nF=\"a$\"\n";
        let got = ours(text).unwrap();
        let values: Vec<&str> = got.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(values, ["x$y", "$A-${A}", "$A", "$A", "$", "a$"]);
    }

    #[test]
    fn expansion_reads_earlier_lines_and_round_trips_special_characters() {
        let text = "A='q\"\\$'\"'\"'x'\nB=$A\nC=\"[${A}]\"\nD=${B}$A\n";
        let got = parse(text, true, usize::MAX, &Origin::Reader).unwrap();
        let values: Vec<&str> = got.iter().map(|(_, v)| v.expose_secret()).collect();
        let a = "q\"\\$'x";
        assert_eq!(values, [a, a, &format!("[{a}]"), &format!("{a}{a}")]);
    }

    /// Lines made of the characters that matter to dotenvy's two state machines.
    fn dotenv_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let prefix = prop::sample::select(vec!["A=", "B = ", "export C=", "", "  #", "D", "_E.f="]);
        let line = (prefix, "[x$'\"\\\\ \t#\r\n\u{a0}\u{85}\u{e9}]{0,10}")
            .prop_map(|(p, v)| format!("{p}{v}"));
        // An escaped `\$` has no neutral stand-in, so the generated text holds none (the unit
        // tests cover it).
        prop::collection::vec(line, 0..6).prop_map(|lines| {
            let mut text = lines.join("\n");
            while text.contains("\\$") {
                text = text.replace("\\$", "$");
            }
            text
        })
    }

    proptest::proptest! {
        /// With `$` swapped for a character neither dotenvy machine treats specially, plain
        /// dotenvy gives the values we must give with the `$` left in: literal, never expanded.
        #[test]
        fn every_dollar_is_literal_and_all_else_is_dotenvy(text in dotenv_text()) {
            let swapped = text.replace('$', "%");
            let back = |entries: Vec<(String, String)>| -> Vec<(String, String)> {
                entries.into_iter().map(|(k, v)| (k, v.replace('%', "$"))).collect()
            };
            let lone_cr = text.replace("\r\n", "").contains('\r');
            match (dotenvy_alone(&swapped), ours(&text)) {
                // Our deliberate refusal: a CR that ends no line.
                (_, Err(err)) if lone_cr => {
                    proptest::prop_assert_eq!(err.kind(), ErrorKind::Parse);
                    proptest::prop_assert!(err.to_string().contains("carriage return"), "{}", err);
                }
                (_, Ok(actual)) if lone_cr => {
                    proptest::prop_assert!(false, "a lone CR was accepted: {:?} from {:?}", actual, text);
                }
                (Ok(expected), Ok(actual)) => proptest::prop_assert_eq!(actual, back(expected)),
                (Err(()), Err(_)) => {}
                // Our one deliberate difference: a last line ending in a single blank.
                (Err(()), Ok(actual)) => {
                    let fixed = dotenvy_alone(&format!("{swapped}\n"));
                    proptest::prop_assert_eq!(Ok(actual), fixed.map(back), "{:?}", text);
                }
                (Ok(expected), Err(err)) => {
                    proptest::prop_assert!(false, "dotenvy: {:?}, keyward: {}, for {:?}", expected, err, text);
                }
            }
        }
    }

    proptest::proptest! {
        /// Whatever an earlier value holds, a reference to it reads back exactly that value, in
        /// unquoted and double-quoted context alike.
        #[test]
        fn expanded_values_read_back_verbatim(v in "[a$\"\\\\ #\t\u{e9}'\n]{0,12}") {
            // Spelled in double quotes with dotenvy's escapes, so any value can be written.
            let mut escaped = Zeroizing::new(String::new());
            for c in v.chars() {
                match c {
                    '\n' => escaped.push_str("\\n"),
                    '\\' | '"' | '$' | '\'' => {
                        escaped.push('\\');
                        escaped.push(c);
                    }
                    _ => escaped.push(c),
                }
            }
            let text = format!("A=\"{}\"\nB=$A\nC=\"<${{A}}>\"\nD=p${{A}}q\n", escaped.as_str());
            let got = parse(&text, true, usize::MAX, &Origin::Reader).unwrap();
            let values: Vec<&str> = got.iter().map(|(_, v)| v.expose_secret()).collect();
            let v = v.as_str();
            proptest::prop_assert_eq!(values, [v, v, &format!("<{v}>"), &format!("p{v}q")]);
        }
    }
}
