//! The environment variables the cloud command-line tools read (`VAULT_ADDR`,
//! `AZURE_CLIENT_ID`, `GOOGLE_APPLICATION_CREDENTIALS`...), read without changing the
//! environment (rule 2 of the design).

use crate::error::{Error, ErrorKind, Result};

/// The value of the environment variable `name`; `None` when it is unset or holds only
/// blanks, as the tools that read these variables treat an empty one.
///
/// # Errors
///
/// `ErrorKind::InvalidInput` when it is not UTF-8 (the message names the variable only).
pub(crate) fn env_string(name: &str) -> Result<Option<String>> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(value) => value
            .into_string()
            .map(|value| Some(value).filter(|value| !value.trim().is_empty()))
            .map_err(|_| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("environment variable {name} is not valid UTF-8"),
                )
            }),
    }
}
