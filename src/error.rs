//! The one error type of the crate.
//!
//! Every error carries an [`ErrorKind`] to branch on, a message written for a person, and whether
//! it is temporary. Messages name keys, providers, paths, line numbers and fingerprints, never
//! secret values: an error is printed, logged and sent to monitoring, so it must be safe to show.
//! Key names go into messages through one helper, which quotes and escapes them, so that a name
//! nobody validated cannot start a new log line.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// A `Result` whose error defaults to [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The cause of an error, shared so that an `Error` is cheap to clone (the key manager hands one
/// to every caller waiting for the same fetch).
type SharedSource = Arc<dyn StdError + Send + Sync + 'static>;

/// What went wrong, for callers that handle errors by category.
///
/// New kinds may be added in minor releases, so match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The key does not exist in the source that was asked.
    NotFound,
    /// The key name is not acceptable: empty, a control character, a path separator, `..`.
    InvalidName,
    /// A value does not have the expected shape (not UTF-8, not the expected key format).
    InvalidFormat,
    /// A file could not be parsed (a `.env` file, a date).
    Parse,
    /// Reading from the operating system failed.
    Io,
    /// A secret file or directory can be read or written by other users.
    InsecurePermissions,
    /// A scope does not allow this key or operation, or a source refused the credential it was
    /// shown (HTTP 401 or 403, a locked keyring).
    PermissionDenied,
    /// A secret was about to leave the process.
    Leak,
    /// A remote secret manager failed or answered something unexpected.
    Backend,
    /// The key is past its expiry date or its maximum age.
    Expired,
    /// An argument or a configuration value is not acceptable.
    InvalidInput,
}

impl ErrorKind {
    /// A short lowercase name for the kind, stable for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::InvalidName => "invalid name",
            ErrorKind::InvalidFormat => "invalid format",
            ErrorKind::Parse => "parse error",
            ErrorKind::Io => "i/o error",
            ErrorKind::InsecurePermissions => "insecure permissions",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Leak => "leak",
            ErrorKind::Backend => "backend error",
            ErrorKind::Expired => "expired",
            ErrorKind::InvalidInput => "invalid input",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error type of keyward.
///
/// `Display` prints the message only; the underlying cause, if any, is returned by
/// [`source()`](StdError::source) so that error reporters print it once. Cloning is cheap: the
/// cause is shared.
///
/// ```
/// use keyward::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::Backend, "vault answered 503 for key `openai`").with_temporary(true);
/// assert_eq!(err.kind(), ErrorKind::Backend);
/// assert!(err.is_temporary());
/// assert_eq!(err.to_string(), "vault answered 503 for key `openai`");
/// ```
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    temporary: bool,
    message: Box<str>,
    source: Option<SharedSource>,
}

impl Error {
    /// Builds an error of `kind` with a message for a person. It is not temporary until
    /// [`with_temporary`](Error::with_temporary) says so.
    ///
    /// The message must not contain a secret value: name the key, the provider or the path.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            temporary: false,
            message: message.into().into_boxed_str(),
            source: None,
        }
    }

    /// Attaches the underlying cause, returned by `source()`.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Error {
        self.source = Some(Arc::new(source));
        self
    }

    /// [`with_source`](Error::with_source) for a cause that is already boxed.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    pub(crate) fn with_boxed_source(
        mut self,
        source: Box<dyn StdError + Send + Sync + 'static>,
    ) -> Error {
        self.source = Some(Arc::from(source));
        self
    }

    /// Says whether the failure is temporary; see [`is_temporary`](Error::is_temporary).
    ///
    /// A provider of your own marks the failures that asking again later may cure:
    ///
    /// ```
    /// use keyward::{Error, ErrorKind};
    ///
    /// let err = Error::new(ErrorKind::Backend, "my store timed out").with_temporary(true);
    /// assert!(err.is_temporary());
    /// ```
    pub fn with_temporary(mut self, temporary: bool) -> Error {
        self.temporary = temporary;
        self
    }

    /// The category of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether the same request may succeed if it is made again later, unchanged.
    ///
    /// The rule: a failure to *reach* the source or to *hear its whole answer* is temporary —
    /// a timeout, a connection that could not be made or was reset, an answer that broke off
    /// mid-body, HTTP 5xx, 429 (throttled) and 408, an interrupted or timed-out read. An
    /// *answer* is not: the key is not found, the name, value or configuration is invalid, the
    /// credential is refused (401, 403), the text cannot be parsed, a redirect is refused, an
    /// answer is too large. Only the code that sees the failure knows which it is, so it is set
    /// where the error is made ([`with_temporary`](Error::with_temporary)); an error is not
    /// temporary unless marked.
    ///
    /// [`KeyManager`](crate::KeyManager) serves its last good value of a key (stale-on-error)
    /// only while the errors are temporary: an answer, such as a refused credential, reaches
    /// the caller at once.
    ///
    /// ```
    /// use keyward::{ErrorKind, MemoryProvider, SecretProviderExt};
    ///
    /// let err = MemoryProvider::new().require("MISSING").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// assert!(!err.is_temporary());
    /// ```
    pub fn is_temporary(&self) -> bool {
        self.temporary
    }

    /// The message, without the cause.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `key` was not found in `provider`.
    pub fn not_found(key: &str, provider: &str) -> Error {
        Error::new(
            ErrorKind::NotFound,
            format!("secret {} not found in {provider}", quote_name(key)),
        )
    }

    /// `key` is not a name the source can hold; `problem` says which rule it breaks, as
    /// "it contains a path separator".
    pub(crate) fn invalid_name(key: &str, problem: impl fmt::Display) -> Error {
        Error::new(
            ErrorKind::InvalidName,
            format!("invalid secret name {}: {problem}", quote_name(key)),
        )
    }

    /// The value of `key` from `source` is not of the expected format; `problem` is the
    /// format check's own error, which names the formats and never the value.
    pub(crate) fn wrong_format(key: &str, source: &str, problem: &Error) -> Error {
        Error::new(
            problem.kind(),
            format!("secret {} from {source}: {problem}", quote_name(key)),
        )
    }

    /// The scope of `agent` does not let it read `key`.
    pub(crate) fn key_denied(agent: &str, key: &str) -> Error {
        Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "agent {} may not read secret {}",
                quote_name(agent),
                quote_name(key)
            ),
        )
    }

    /// The scope of `agent` does not let it use `key` for `operation`: an operation the
    /// scope does not declare, or one that is not among the `allowed` ones.
    pub(crate) fn operation_denied(
        agent: &str,
        key: &str,
        operation: &str,
        declared: bool,
        allowed: &[&str],
    ) -> Error {
        let why = if declared {
            format!("allowed: {}", quote_names(allowed))
        } else {
            "the operation is not declared in the scope".to_owned()
        };
        Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "agent {} may not use secret {} for {} ({why})",
                quote_name(agent),
                quote_name(key),
                quote_name(operation),
            ),
        )
    }

    /// Reading `what` failed. Temporary when the operating system says so: an interrupted or
    /// timed-out read, a busy resource, no memory or file handles for now.
    pub(crate) fn io(what: impl fmt::Display, source: std::io::Error) -> Error {
        let temporary = is_temporary_io(&source);
        Error::new(ErrorKind::Io, format!("could not read {what}"))
            .with_temporary(temporary)
            .with_source(source)
    }
}

/// Whether an I/O error may go away by itself: everything else (a missing file, a refused
/// permission, invalid data) is an answer.
fn is_temporary_io(err: &std::io::Error) -> bool {
    use std::io::ErrorKind as Io;

    matches!(
        err.kind(),
        Io::Interrupted
            | Io::TimedOut
            | Io::WouldBlock
            | Io::ConnectionRefused
            | Io::ConnectionReset
            | Io::ConnectionAborted
            | Io::NotConnected
            | Io::BrokenPipe
            | Io::UnexpectedEof
            | Io::OutOfMemory
            | Io::ResourceBusy
            | Io::StaleNetworkFileHandle
    )
}

/// Names for a message, each quoted, or "none".
pub(crate) fn quote_names(names: &[&str]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names
        .iter()
        .map(|name| quote_name(name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A key name for a message: quoted, escaped and cut short, so that a hostile or mistaken name
/// cannot forge log lines (a newline, a carriage return, a terminal escape, a Unicode line
/// separator or direction override is shown as `\n`, `\u{2028}`, ...) or flood them. Every
/// message that names a key goes through it.
pub(crate) fn quote_name(key: &str) -> String {
    const SHOWN: usize = 64;
    let mut shown: String = key
        .chars()
        .take(SHOWN)
        .flat_map(char::escape_debug)
        .collect();
    if key.chars().nth(SHOWN).is_some() {
        shown.push_str("...");
    }
    format!("`{shown}`")
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind)
            .field("temporary", &self.temporary)
            .field("message", &self.message);
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_message_and_source_is_separate() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let err = Error::io("`/run/secrets/x`", io);
        assert_eq!(err.to_string(), "could not read `/run/secrets/x`");
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(err.source().is_some());
    }

    #[test]
    fn a_clone_keeps_kind_message_temporariness_and_the_source_itself() {
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "slow disk");
        let err = Error::io("`/run/secrets/x`", io);
        let clone = err.clone();
        assert_eq!(clone.kind(), err.kind());
        assert_eq!(clone.to_string(), err.to_string());
        assert!(clone.is_temporary() && err.is_temporary());
        // The source is the cause itself, not a wrapper: callers can downcast it.
        let source = clone
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(
            source.map(std::io::Error::kind),
            Some(std::io::ErrorKind::TimedOut)
        );
        assert!(format!("{clone:?}").contains("temporary: true"));
    }

    #[test]
    fn errors_are_not_temporary_unless_marked() {
        assert!(!Error::new(ErrorKind::Backend, "x").is_temporary());
        assert!(!Error::not_found("K", "memory").is_temporary());
        let marked = Error::new(ErrorKind::Backend, "x").with_temporary(true);
        assert!(marked.is_temporary());
        assert!(!marked.with_temporary(false).is_temporary());
    }

    #[test]
    fn io_errors_are_temporary_when_the_system_says_so() {
        use std::io::ErrorKind as Io;

        for kind in [
            Io::Interrupted,
            Io::TimedOut,
            Io::WouldBlock,
            Io::ConnectionRefused,
            Io::ConnectionReset,
            Io::ConnectionAborted,
            Io::NotConnected,
            Io::BrokenPipe,
            Io::UnexpectedEof,
            Io::OutOfMemory,
            Io::ResourceBusy,
            Io::StaleNetworkFileHandle,
        ] {
            assert!(Error::io("x", kind.into()).is_temporary(), "{kind:?}");
        }
        for kind in [
            Io::NotFound,
            Io::PermissionDenied,
            Io::InvalidInput,
            Io::InvalidData,
            Io::Unsupported,
            Io::IsADirectory,
            Io::NotADirectory,
            Io::AlreadyExists,
            Io::Other,
        ] {
            assert!(!Error::io("x", kind.into()).is_temporary(), "{kind:?}");
        }
    }

    /// Any name, whatever it holds, comes out of `quote_name` on one line, between backticks,
    /// with no control or line-breaking character left raw.
    #[test]
    fn quoted_names_hold_no_raw_line_breaks_or_controls() {
        let hostile = [
            "a\nforged",
            "a\r\n2026-01-01 INFO forged",
            "\u{1b}[2Kclear",
            "line\u{2028}separator",
            "para\u{2029}graph",
            "next\u{85}line",
            "rtl\u{202e}override",
            "tab\there",
            "nul\0byte",
        ];
        // And every character of Unicode on its own.
        let singles = (0..=u32::from(char::MAX)).filter_map(char::from_u32);
        for name in hostile
            .map(String::from)
            .into_iter()
            .chain(singles.map(String::from))
        {
            let quoted = quote_name(&name);
            assert!(quoted.starts_with('`') && quoted.ends_with('`'), "{quoted}");
            assert!(
                !quoted.chars().any(|c| c.is_control()
                    || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
                "{name:?} -> {quoted:?}"
            );
        }
    }
}
