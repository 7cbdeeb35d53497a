//! The one error type of the crate.
//!
//! Every error carries an [`ErrorKind`] to branch on and a message written for a person. Messages
//! name keys, providers, paths, line numbers and fingerprints, never secret values: an error is
//! printed, logged and sent to monitoring, so it must be safe to show.

use std::error::Error as StdError;
use std::fmt;

/// A `Result` whose error defaults to [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

type BoxedSource = Box<dyn StdError + Send + Sync + 'static>;

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
    /// A scope does not allow this key or operation.
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
/// [`source()`](StdError::source) so that error reporters print it once.
///
/// ```
/// use keyward::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::Backend, "vault answered 503 for key `openai`");
/// assert_eq!(err.kind(), ErrorKind::Backend);
/// assert_eq!(err.to_string(), "vault answered 503 for key `openai`");
/// ```
#[derive(thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: Box<str>,
    #[source]
    source: Option<BoxedSource>,
}

impl Error {
    /// Builds an error of `kind` with a message for a person.
    ///
    /// The message must not contain a secret value: name the key, the provider or the path.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into().into_boxed_str(),
            source: None,
        }
    }

    /// Attaches the underlying cause, returned by `source()`.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Error {
        self.source = Some(Box::new(source));
        self
    }

    /// [`with_source`](Error::with_source) for a cause that is already boxed.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    pub(crate) fn with_boxed_source(mut self, source: BoxedSource) -> Error {
        self.source = Some(source);
        self
    }

    /// The category of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the cause.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `key` was not found in `provider`.
    pub fn not_found(key: &str, provider: &str) -> Error {
        Error::new(
            ErrorKind::NotFound,
            format!("secret `{key}` not found in {provider}"),
        )
    }

    pub(crate) fn io(what: impl fmt::Display, source: std::io::Error) -> Error {
        Error::new(ErrorKind::Io, format!("could not read {what}")).with_source(source)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
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
}
