//! Least privilege: which keys an agent may read, and what it may do with them.
//!
//! A [`Scope`] names an agent, the operations the program knows about (a closed set the user
//! declares, such as `chat` and `embeddings`), and grants: key names or glob patterns, each with
//! the operations allowed on the matching keys. Everything not granted is refused. Mistakes in
//! the scope itself (an empty agent name, an operation outside the declared set, a pattern that
//! is not a valid glob) are errors when the scope is built, never a warning at run time.
//!
//! [`ScopedProvider`](crate::provider::ScopedProvider) applies a scope to any provider, and a [`ScopedKey`]
//! carries one key together with its allowed operations, so that client code asks for the key
//! *for an operation* and gets [`ErrorKind::PermissionDenied`] for anything else.

mod glob;
mod key;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::error::{quote_name, quote_names};
use crate::secret::SecretString;

pub use key::{KeyUse, ScopedKey};

use glob::Pattern;

/// The longest agent or operation name a scope accepts, in bytes.
const MAX_NAME_LEN: usize = 128;

/// What one agent may read and do: keys by name or glob, operations from a declared set.
///
/// Build it with [`Scope::for_agent`]. A scope is cheap to clone and safe to share between
/// threads.
///
/// Patterns are matched against the whole key name, case-sensitively: `*` matches any run of
/// characters (including `/` and none at all), `?` exactly one character. Anything else matches
/// itself.
///
/// ```
/// use keyward::Scope;
///
/// let scope = Scope::for_agent("researcher")
///     .with_operations(["chat", "embeddings"])
///     .allow("OPENAI_API_KEY", ["chat", "embeddings"])
///     .allow("search/*", ["chat"])
///     .build()?;
///
/// assert!(scope.allows("OPENAI_API_KEY", "embeddings"));
/// assert!(scope.allows("search/brave", "chat"));
/// assert!(!scope.allows("search/brave", "embeddings"));
/// assert!(!scope.allows_key("ANTHROPIC_API_KEY"));
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Clone)]
pub struct Scope {
    inner: Arc<ScopeInner>,
}

struct ScopeInner {
    agent: Arc<str>,
    operations: BTreeSet<Arc<str>>,
    grants: Vec<Grant>,
}

struct Grant {
    pattern: Pattern,
    operations: BTreeSet<Arc<str>>,
}

impl Scope {
    /// The operation recorded in the usage log when a
    /// [`ScopedProvider`](crate::provider::ScopedProvider) refuses to read a key.
    pub const READ_OPERATION: &str = "read";

    /// Starts a scope for the agent or tool called `agent`.
    pub fn for_agent(agent: impl Into<String>) -> ScopeBuilder {
        ScopeBuilder {
            agent: agent.into(),
            operations: Vec::new(),
            grants: Vec::new(),
        }
    }

    /// The agent this scope belongs to.
    pub fn agent(&self) -> &str {
        &self.inner.agent
    }

    pub(crate) fn agent_arc(&self) -> &Arc<str> {
        &self.inner.agent
    }

    /// The declared operations, in sorted order.
    pub fn operations(&self) -> impl Iterator<Item = &str> {
        self.inner.operations.iter().map(|op| &**op)
    }

    /// The grants in the order given: each pattern with its operations in sorted order. For
    /// audits, e.g. to flag a grant of `*`.
    pub fn grants(&self) -> impl Iterator<Item = (&str, Vec<&str>)> {
        self.inner.grants.iter().map(|grant| {
            let operations = grant.operations.iter().map(|op| &**op).collect();
            (grant.pattern.as_str(), operations)
        })
    }

    /// Whether `operation` is one of the declared operations.
    pub fn is_declared(&self, operation: &str) -> bool {
        self.inner.operations.contains(operation)
    }

    /// Whether some grant matches `key`, for any operation.
    pub fn allows_key(&self, key: &str) -> bool {
        self.matching(key).next().is_some()
    }

    /// Whether some grant matches `key` and allows `operation` on it.
    pub fn allows(&self, key: &str, operation: &str) -> bool {
        self.matching(key)
            .any(|grant| grant.operations.contains(operation))
    }

    /// The operations allowed on `key`, merged over every matching grant, in sorted order.
    ///
    /// Empty when the key is outside the scope.
    pub fn operations_for(&self, key: &str) -> Vec<&str> {
        let merged: BTreeSet<&str> = self
            .matching(key)
            .flat_map(|grant| grant.operations.iter().map(|op| &**op))
            .collect();
        merged.into_iter().collect()
    }

    pub(crate) fn operations_for_arc(&self, key: &str) -> Arc<[Arc<str>]> {
        let merged: BTreeSet<&Arc<str>> = self
            .matching(key)
            .flat_map(|grant| grant.operations.iter())
            .collect();
        merged.into_iter().cloned().collect()
    }

    /// Fails unless the scope allows reading `key`.
    ///
    /// ```
    /// use keyward::{ErrorKind, Scope};
    ///
    /// let scope = Scope::for_agent("researcher")
    ///     .with_operations(["chat"])
    ///     .allow("openai/*", ["chat"])
    ///     .build()?;
    /// let err = scope.check_key("aws/root").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    /// assert_eq!(err.to_string(), "agent `researcher` may not read secret `aws/root`");
    /// # Ok::<(), keyward::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::PermissionDenied`] naming the agent and the key.
    pub fn check_key(&self, key: &str) -> Result<()> {
        if self.allows_key(key) {
            Ok(())
        } else {
            Err(self.key_denied(key))
        }
    }

    /// Fails unless the scope allows `operation` on `key`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::PermissionDenied`] naming the agent, the key and the operation, and saying
    /// whether the operation is undeclared, the key is outside the scope, or the operation is not
    /// granted on it.
    pub fn check(&self, key: &str, operation: &str) -> Result<()> {
        if self.allows(key, operation) {
            return Ok(());
        }
        if !self.allows_key(key) {
            return Err(self.key_denied(key));
        }
        Err(Error::operation_denied(
            &self.inner.agent,
            key,
            operation,
            self.is_declared(operation),
            &self.operations_for(key),
        ))
    }

    fn key_denied(&self, key: &str) -> Error {
        Error::key_denied(&self.inner.agent, key)
    }

    fn matching<'s, 'k>(&'s self, key: &'k str) -> impl Iterator<Item = &'s Grant> + use<'s, 'k> {
        self.inner
            .grants
            .iter()
            .filter(move |grant| grant.pattern.matches(key))
    }

    /// Bundles `value`, read from the key called `key`, with the operations this scope allows on
    /// it.
    ///
    /// ```
    /// use keyward::{ErrorKind, Scope};
    ///
    /// let scope = Scope::for_agent("researcher")
    ///     .with_operations(["chat", "embeddings"])
    ///     .allow("OPENAI_API_KEY", ["chat"])
    ///     .build()?;
    /// let value = format!("sk-proj-{}", "Ab3d".repeat(10));
    /// let key = scope.key("OPENAI_API_KEY", value)?;
    /// assert!(key.require("chat").is_ok());
    /// assert_eq!(key.require("embeddings").unwrap_err().kind(), ErrorKind::PermissionDenied);
    /// # Ok::<(), keyward::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::PermissionDenied`] when the scope does not allow reading `key`.
    pub fn key(&self, key: &str, value: impl Into<SecretString>) -> Result<ScopedKey> {
        self.check_key(key)?;
        Ok(ScopedKey::new(self, key, value.into()))
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grants: Vec<_> = self
            .inner
            .grants
            .iter()
            .map(|grant| (grant.pattern.as_str(), &grant.operations))
            .collect();
        f.debug_struct("Scope")
            .field("agent", &self.inner.agent)
            .field("operations", &self.inner.operations)
            .field("grants", &grants)
            .finish()
    }
}

/// Builds a [`Scope`]; see [`Scope::for_agent`].
///
/// Nothing is checked until [`build`](ScopeBuilder::build), which reports the first problem.
#[derive(Debug, Clone)]
#[must_use = "a scope builder does nothing until `build` is called"]
pub struct ScopeBuilder {
    agent: String,
    operations: Vec<String>,
    grants: Vec<(String, Vec<String>)>,
}

impl ScopeBuilder {
    /// Declares operations; grants may only name declared operations. Can be called more than
    /// once.
    pub fn with_operations<I>(mut self, operations: I) -> ScopeBuilder
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.operations
            .extend(operations.into_iter().map(Into::into));
        self
    }

    /// Grants `operations` on every key whose name matches `pattern` (an exact name or a glob).
    pub fn allow<I>(mut self, pattern: impl Into<String>, operations: I) -> ScopeBuilder
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.grants.push((
            pattern.into(),
            operations.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// Checks everything and builds the scope.
    ///
    /// ```
    /// use keyward::{ErrorKind, Scope};
    ///
    /// let err = Scope::for_agent("researcher")
    ///     .with_operations(["chat"])
    ///     .allow("OPENAI_API_KEY", ["chta"])
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// assert_eq!(
    ///     err.to_string(),
    ///     "scope of agent `researcher`: grant `OPENAI_API_KEY` names operation `chta`, \
    ///      which is not declared (declared: `chat`)"
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for an empty or over-long agent or operation name, or one with
    /// whitespace or control characters; a grant with no operations or with an operation that
    /// was not declared; a malformed pattern (empty, over-long, control characters, `**`, or the
    /// glob syntax `[`, `]`, `{`, `}` that this matcher does not support, which would otherwise
    /// silently match only itself).
    pub fn build(self) -> Result<Scope> {
        let agent = &self.agent;
        check_name(agent).map_err(|problem| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("invalid scope: the agent name {problem}"),
            )
        })?;
        let invalid = |message: String| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("scope of agent {}: {message}", quote_name(agent)),
            )
        };

        let mut operations = BTreeSet::new();
        for op in &self.operations {
            check_name(op)
                .map_err(|problem| invalid(format!("operation {} {problem}", quote_name(op))))?;
            operations.insert(Arc::<str>::from(op.as_str()));
        }

        let mut grants = Vec::with_capacity(self.grants.len());
        for (pattern, ops) in &self.grants {
            let compiled = Pattern::new(pattern)
                .map_err(|problem| invalid(format!("pattern {} {problem}", quote_name(pattern))))?;
            if ops.is_empty() {
                return Err(invalid(format!(
                    "grant {} allows no operations",
                    quote_name(pattern)
                )));
            }
            let mut granted = BTreeSet::new();
            for op in ops {
                let Some(declared) = operations.get(op.as_str()) else {
                    let declared: Vec<&str> = operations.iter().map(|op| &**op).collect();
                    return Err(invalid(format!(
                        "grant {} names operation {}, which is not declared (declared: {})",
                        quote_name(pattern),
                        quote_name(op),
                        quote_names(&declared),
                    )));
                };
                granted.insert(Arc::clone(declared));
            }
            grants.push(Grant {
                pattern: compiled,
                operations: granted,
            });
        }

        Ok(Scope {
            inner: Arc::new(ScopeInner {
                agent: Arc::from(agent.as_str()),
                operations,
                grants,
            }),
        })
    }
}

/// Agent and operation names appear in messages, metrics and usage reports: keep them short
/// and free of characters that would forge or split a line.
fn check_name(name: &str) -> std::result::Result<(), &'static str> {
    if name.is_empty() {
        Err("is empty")
    } else if name.len() > MAX_NAME_LEN {
        Err("is longer than 128 bytes")
    } else if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Err("contains whitespace or a control character")
    } else {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope::for_agent("researcher")
            .with_operations(["chat", "embeddings"])
            .allow("OPENAI_API_KEY", ["chat"])
            .allow("openai/*", ["chat", "embeddings"])
            .allow("*_SEARCH_KEY", ["chat"])
            .allow("OPENAI_API_KEY", ["embeddings"])
            .build()
            .unwrap()
    }

    #[test]
    fn grants_merge_over_matching_patterns() {
        let scope = scope();
        assert_eq!(
            scope.operations_for("OPENAI_API_KEY"),
            ["chat", "embeddings"]
        );
        assert_eq!(scope.operations_for("BRAVE_SEARCH_KEY"), ["chat"]);
        assert!(scope.operations_for("OTHER").is_empty());
        assert!(scope.allows("openai/org/key", "embeddings"));
    }

    #[test]
    fn check_explains_the_denial() {
        let scope = scope();
        let undeclared = scope.check("OPENAI_API_KEY", "admin").unwrap_err();
        assert_eq!(undeclared.kind(), ErrorKind::PermissionDenied);
        assert!(undeclared.to_string().contains("not declared"));
        let not_granted = scope.check("BRAVE_SEARCH_KEY", "embeddings").unwrap_err();
        assert_eq!(
            not_granted.to_string(),
            "agent `researcher` may not use secret `BRAVE_SEARCH_KEY` for `embeddings` \
             (allowed: `chat`)"
        );
        let outside = scope.check("AWS_SECRET", "chat").unwrap_err();
        assert_eq!(
            outside.to_string(),
            "agent `researcher` may not read secret `AWS_SECRET`"
        );
    }

    #[test]
    fn grants_are_listed_in_order() {
        let scope = scope();
        let grants: Vec<_> = scope.grants().collect();
        assert_eq!(grants.len(), 4);
        assert_eq!(grants[1], ("openai/*", vec!["chat", "embeddings"]));
        assert_eq!(grants[3], ("OPENAI_API_KEY", vec!["embeddings"]));
    }

    #[test]
    fn debug_lists_grants() {
        let debug = format!("{:?}", scope());
        assert!(debug.contains("openai/*"), "{debug}");
        assert!(debug.contains("researcher"), "{debug}");
    }
}
