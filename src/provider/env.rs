use std::env;

use crate::error::{Error, ErrorKind, Result};
use crate::provider::line_ending::trim_line_ending;
use crate::provider::{SecretProvider, quote_name, validate_key_name};
use crate::secret::{Secret, SecretMeta, SecretString};

/// Secrets from the process environment, read with [`std::env::var_os`]; never written.
///
/// An empty variable counts as not set, since `KEY=` in a shell or compose file usually means
/// "not configured". The value's copy in the environment block stays where it is: the operating
/// system owns it (see the crate docs).
///
/// ```
/// use keyward::{EnvProvider, SecretProvider};
///
/// let provider = EnvProvider::new().with_prefix("MYAPP_");
/// // reads MYAPP_OPENAI_API_KEY
/// let key = provider.get("OPENAI_API_KEY")?;
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct EnvProvider {
    prefix: String,
    trim_line_ending: bool,
}

impl EnvProvider {
    /// Reads variables by their own names.
    pub fn new() -> EnvProvider {
        EnvProvider::default()
    }

    /// Reads `prefix` + key instead of key, such as `MYAPP_OPENAI_API_KEY`.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> EnvProvider {
        self.prefix = prefix.into();
        self
    }

    /// Drops one line ending (`\n` or `\r\n`, no more) from the end of every value, as
    /// [`FileProvider`](crate::FileProvider) does for its files: for variables filled from a
    /// file, such as a Kubernetes secret made with `echo`, which carry its newline. A value that
    /// is then empty counts as not set. Off by default: a variable holds what was put in it.
    ///
    /// ```
    /// use keyward::EnvProvider;
    ///
    /// let provider = EnvProvider::new().with_trimmed_line_ending(true);
    /// ```
    pub fn with_trimmed_line_ending(mut self, trim: bool) -> EnvProvider {
        self.trim_line_ending = trim;
        self
    }

    /// The prefix put before every key.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn variable_name(&self, key: &str) -> Result<String> {
        validate_key_name(key)?;
        if key.contains('=') {
            return Err(Error::invalid_name(
                key,
                "environment variable names cannot contain `=`",
            ));
        }
        Ok(format!("{}{key}", self.prefix))
    }
}

impl SecretProvider for EnvProvider {
    fn name(&self) -> &str {
        "env"
    }

    fn get(&self, key: &str) -> Result<Option<Secret>> {
        let name = self.variable_name(key)?;
        let Some(value) = env::var_os(&name) else {
            return Ok(None);
        };
        // `into_string` keeps the buffer on success; on failure the bytes come back to us and are
        // zeroized by `SecretString` rules only if we keep them, so wipe them here.
        let mut value = value.into_string().map_err(|raw| {
            zeroize::Zeroize::zeroize(&mut raw.into_encoded_bytes());
            Error::new(
                ErrorKind::InvalidFormat,
                format!(
                    "environment variable {} is not valid UTF-8",
                    quote_name(&name)
                ),
            )
        })?;
        if self.trim_line_ending {
            // Only ASCII goes, so the cut is on a character boundary; `SecretString::from`
            // wipes the spare capacity with the rest.
            let len = trim_line_ending(value.as_bytes()).len();
            value.truncate(len);
        }
        if value.is_empty() {
            return Ok(None);
        }
        Ok(Some(Secret::new(
            SecretString::from(value),
            SecretMeta::new(self.name()),
        )))
    }
}
