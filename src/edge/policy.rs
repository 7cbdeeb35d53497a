//! [`EdgePolicy`]: which tools may receive which keys, and where each key may be sent.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result, quote_name, quote_names};
use crate::provider::MAX_KEY_NAME_LEN;
use crate::scope::Scope;

use super::binding::Binding;

/// What an agent's edge allows: its keys, each with the places it may be sent to
/// ([`Binding`]s), and its tools, each with the keys it may receive.
///
/// Everything not declared is refused: a tool the policy does not name, a key it does not
/// name, a handle for a key the tool is not given. Every key has at least one binding, so no
/// key can be declared that may go anywhere.
///
/// The grants are a [`Scope`] whose operations are the tools (see [`Edge::scope`](super::Edge::scope)):
/// a tool may be given key names or glob patterns (`search/*`), matched against the policy's
/// keys.
///
/// ```
/// use keyward::edge::{Binding, EdgePolicy};
///
/// let policy = EdgePolicy::builder()
///     .with_key("GITHUB_TOKEN", Binding::https("api.github.com").with_bearer())
///     .with_key("OPENAI_API_KEY", Binding::https("api.openai.com").with_path_prefix("/v1/").with_bearer())
///     .with_tool("github", ["GITHUB_TOKEN"])
///     .with_tool("chat", ["OPENAI_API_KEY"])
///     .with_keyless_tool("web_fetch")
///     .build()?;
/// assert!(policy.allows("github", "GITHUB_TOKEN"));
/// assert!(!policy.allows("web_fetch", "GITHUB_TOKEN"));
/// assert_eq!(policy.keys_for("chat"), ["OPENAI_API_KEY"]);
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Clone)]
pub struct EdgePolicy {
    inner: Arc<PolicyInner>,
}

struct PolicyInner {
    /// In the order declared.
    keys: Vec<PolicyKey>,
    /// Each tool with the patterns of its keys, in the order declared.
    tools: Vec<(Arc<str>, Vec<String>)>,
    /// The grants, for an agent the policy does not know yet: the edge makes its own.
    scope: Scope,
}

struct PolicyKey {
    name: Arc<str>,
    bindings: Vec<Binding>,
}

/// The agent name of the policy's own scope, used only to check the grants.
const POLICY_AGENT: &str = "edge-policy";

impl EdgePolicy {
    /// Starts an empty policy.
    pub fn builder() -> EdgePolicyBuilder {
        EdgePolicyBuilder::default()
    }

    /// The keys, in the order declared.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.inner.keys.iter().map(|k| &*k.name)
    }

    /// The tools, in the order declared.
    pub fn tools(&self) -> impl Iterator<Item = &str> {
        self.inner.tools.iter().map(|(t, _)| &**t)
    }

    /// Whether `key` is one of the policy's keys.
    pub fn has_key(&self, key: &str) -> bool {
        self.index_of(key).is_some()
    }

    /// Whether `tool` is one of the policy's tools.
    pub fn has_tool(&self, tool: &str) -> bool {
        self.inner.scope.is_declared(tool)
    }

    /// The bindings of `key`; empty for a key the policy does not have.
    pub fn bindings(&self, key: &str) -> &[Binding] {
        self.index_of(key)
            .map_or(&[], |i| &self.inner.keys[i].bindings)
    }

    /// Whether `tool` may receive `key`.
    pub fn allows(&self, tool: &str, key: &str) -> bool {
        self.has_key(key) && self.inner.scope.allows(key, tool)
    }

    /// The keys `tool` may receive, in the order declared.
    pub fn keys_for(&self, tool: &str) -> Vec<&str> {
        self.keys().filter(|key| self.allows(tool, key)).collect()
    }

    /// The tools that may receive `key`, in the order declared.
    pub fn tools_for(&self, key: &str) -> Vec<&str> {
        self.tools().filter(|tool| self.allows(tool, key)).collect()
    }

    /// The grants as a [`Scope`] for `agent`: the tools are its operations.
    pub(crate) fn scope_for(&self, agent: &str) -> Result<Scope> {
        grants_scope(agent, &self.inner.tools)
    }

    pub(crate) fn index_of(&self, key: &str) -> Option<usize> {
        self.inner.keys.iter().position(|k| &*k.name == key)
    }

    pub(crate) fn key_names(&self) -> Vec<Arc<str>> {
        self.inner
            .keys
            .iter()
            .map(|k| Arc::clone(&k.name))
            .collect()
    }

    #[cfg(feature = "edge-http")]
    /// The first binding of `key` that a request with these parts goes to.
    pub(crate) fn binding_to(
        &self,
        key: usize,
        scheme: &str,
        host: &str,
        port: Option<u16>,
        path: &str,
    ) -> Option<&Binding> {
        self.inner.keys[key]
            .bindings
            .iter()
            .find(|b| b.matches(scheme, host, port, path))
    }

    /// The first binding of `key` a request to `url` goes to; `None` for an unbound
    /// destination or a key the policy does not have. A pure check.
    ///
    /// ```
    /// use keyward::edge::{Binding, EdgePolicy};
    /// use url::Url;
    ///
    /// let policy = EdgePolicy::builder()
    ///     .with_key("GITHUB_TOKEN", Binding::https("api.github.com").with_bearer())
    ///     .with_tool("github", ["GITHUB_TOKEN"])
    ///     .build()?;
    /// let url = |s: &str| Url::parse(s).unwrap();
    /// assert!(policy.binding_for("GITHUB_TOKEN", &url("https://api.github.com/user")).is_some());
    /// assert!(policy.binding_for("GITHUB_TOKEN", &url("https://evil.example/")).is_none());
    /// assert!(policy.binding_for("OTHER", &url("https://api.github.com/")).is_none());
    /// # Ok::<(), keyward::Error>(())
    /// ```
    #[cfg(feature = "edge-http")]
    pub fn binding_for(&self, key: &str, url: &url::Url) -> Option<&Binding> {
        let index = self.index_of(key)?;
        self.inner.keys[index]
            .bindings
            .iter()
            .find(|b| b.allows(url))
    }
}

impl fmt::Debug for EdgePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<(&str, &[Binding])> = self
            .inner
            .keys
            .iter()
            .map(|k| (&*k.name, k.bindings.as_slice()))
            .collect();
        let tools: Vec<(&str, &[String])> = self
            .inner
            .tools
            .iter()
            .map(|(t, keys)| (&**t, keys.as_slice()))
            .collect();
        f.debug_struct("EdgePolicy")
            .field("keys", &keys)
            .field("tools", &tools)
            .finish()
    }
}

/// Builds an [`EdgePolicy`]; see [`EdgePolicy::builder`]. Nothing is checked until
/// [`build`](EdgePolicyBuilder::build).
#[derive(Debug, Clone, Default)]
#[must_use = "a policy builder does nothing until `build` is called"]
pub struct EdgePolicyBuilder {
    keys: Vec<(String, Binding)>,
    tools: Vec<(String, Vec<String>)>,
}

impl EdgePolicyBuilder {
    /// Declares `key` with a place it may be sent to; call again to add more bindings.
    pub fn with_key(mut self, key: impl Into<String>, binding: Binding) -> EdgePolicyBuilder {
        self.keys.push((key.into(), binding));
        self
    }

    /// Declares `tool` and gives it the keys matching `keys` (names or glob patterns); call
    /// again to give it more.
    pub fn with_tool<I>(mut self, tool: impl Into<String>, keys: I) -> EdgePolicyBuilder
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.tools
            .push((tool.into(), keys.into_iter().map(Into::into).collect()));
        self
    }

    /// Declares `tool` without giving it any key: its arguments are restored only if they hold
    /// no handle at all.
    pub fn with_keyless_tool(self, tool: impl Into<String>) -> EdgePolicyBuilder {
        self.with_tool(tool, std::iter::empty::<String>())
    }

    /// Checks everything and builds the policy.
    ///
    /// ```
    /// use keyward::ErrorKind;
    /// use keyward::edge::{Binding, EdgePolicy};
    ///
    /// let err = EdgePolicy::builder()
    ///     .with_key("GITHUB_TOKEN", Binding::https("api.github.com"))
    ///     .with_tool("github", ["GITHUB_TOKN"])
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// assert_eq!(
    ///     err.to_string(),
    ///     "edge policy: tool `github` is given `GITHUB_TOKN`, which matches none of the \
    ///      policy's keys (`GITHUB_TOKEN`); declare a key with `with_key` and its binding"
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for a key name that is empty, longer than 512 bytes or holds
    /// a control character; a binding with a bad host pattern, path prefix or presentation; a
    /// tool name that is empty, longer than 128 bytes or holds a blank; a tool's key pattern
    /// that is malformed or matches none of the policy's keys (a key a tool is given must have
    /// a binding).
    pub fn build(self) -> Result<EdgePolicy> {
        let invalid = |message: String| {
            Error::new(ErrorKind::InvalidInput, format!("edge policy: {message}"))
        };
        let mut keys: Vec<PolicyKey> = Vec::new();
        for (name, binding) in self.keys {
            check_key_name(&name)
                .map_err(|problem| invalid(format!("key {} {problem}", quote_name(&name))))?;
            binding.validate(&name)?;
            match keys.iter_mut().find(|k| *k.name == *name) {
                Some(key) => key.bindings.push(binding),
                None => keys.push(PolicyKey {
                    name: Arc::from(name),
                    bindings: vec![binding],
                }),
            }
        }
        let mut tools: Vec<(Arc<str>, Vec<String>)> = Vec::new();
        for (tool, patterns) in self.tools {
            check_tool_name(&tool)
                .map_err(|problem| invalid(format!("tool {} {problem}", quote_name(&tool))))?;
            match tools.iter_mut().find(|(t, _)| **t == *tool) {
                Some((_, given)) => given.extend(patterns),
                None => tools.push((Arc::from(tool), patterns)),
            }
        }
        let names: Vec<&str> = keys.iter().map(|k| &*k.name).collect();
        for (tool, patterns) in &tools {
            for pattern in patterns {
                let single = Scope::for_agent(POLICY_AGENT)
                    .with_operations([&**tool])
                    .allow(pattern.as_str(), [&**tool])
                    .build()
                    .map_err(|err| {
                        // The scope's message starts with its stand-in agent: leave that out.
                        let scope = format!("scope of agent {}: ", quote_name(POLICY_AGENT));
                        let problem = err.message().strip_prefix(&scope).unwrap_or(err.message());
                        invalid(format!(
                            "tool {} is given a bad key {problem}",
                            quote_name(tool)
                        ))
                    })?;
                if !names.iter().any(|key| single.allows_key(key)) {
                    return Err(invalid(format!(
                        "tool {} is given {}, which matches none of the policy's keys ({}); \
                         declare a key with `with_key` and its binding",
                        quote_name(tool),
                        quote_name(pattern),
                        quote_names(&names)
                    )));
                }
            }
        }
        let scope = grants_scope(POLICY_AGENT, &tools)?;
        Ok(EdgePolicy {
            inner: Arc::new(PolicyInner { keys, tools, scope }),
        })
    }
}

/// The scope of `agent` whose operations are the tools, each granted its key patterns.
fn grants_scope(agent: &str, tools: &[(Arc<str>, Vec<String>)]) -> Result<Scope> {
    let mut scope = Scope::for_agent(agent).with_operations(tools.iter().map(|(t, _)| &**t));
    for (tool, patterns) in tools {
        for pattern in patterns {
            scope = scope.allow(pattern.as_str(), [&**tool]);
        }
    }
    scope.build()
}

/// The scope's rule for operation names: tools appear in messages, metrics and usage reports.
fn check_tool_name(name: &str) -> std::result::Result<(), &'static str> {
    if name.is_empty() {
        Err("is empty")
    } else if name.len() > 128 {
        Err("is longer than 128 bytes")
    } else if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Err("contains whitespace or a control character")
    } else {
        Ok(())
    }
}

/// The manager's rule for key names, which remote names (`prod/api#KEY`) pass too.
fn check_key_name(name: &str) -> std::result::Result<(), &'static str> {
    if name.is_empty() {
        Err("is empty")
    } else if name.len() > MAX_KEY_NAME_LEN {
        Err("is longer than 512 bytes")
    } else if name.chars().any(char::is_control) {
        Err("holds a control character")
    } else {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn policy() -> EdgePolicy {
        EdgePolicy::builder()
            .with_key(
                "GITHUB_TOKEN",
                Binding::https("api.github.com").with_bearer(),
            )
            .with_key("GITHUB_TOKEN", Binding::https("uploads.github.com"))
            .with_key("search/brave", Binding::https("api.search.brave.com"))
            .with_key(
                "search/serp",
                Binding::https("serpapi.com").with_query("api_key"),
            )
            .with_tool("github", ["GITHUB_TOKEN"])
            .with_tool("search", ["search/*"])
            .with_tool("github", ["search/brave"])
            .with_keyless_tool("web_fetch")
            .build()
            .unwrap()
    }

    #[test]
    fn tools_get_the_keys_they_are_given_and_nothing_else() {
        let p = policy();
        assert_eq!(p.keys_for("github"), ["GITHUB_TOKEN", "search/brave"]);
        assert_eq!(p.keys_for("search"), ["search/brave", "search/serp"]);
        assert!(p.keys_for("web_fetch").is_empty());
        assert!(p.keys_for("unknown").is_empty());
        assert!(p.has_tool("web_fetch"));
        assert!(!p.has_tool("unknown"));
        assert!(!p.allows("github", "UNDECLARED"));
        assert_eq!(p.tools_for("search/brave"), ["github", "search"]);
        assert_eq!(p.bindings("GITHUB_TOKEN").len(), 2);
        assert!(p.bindings("UNDECLARED").is_empty());
        assert_eq!(
            p.tools().collect::<Vec<_>>(),
            ["github", "search", "web_fetch"]
        );
    }

    #[test]
    fn mistakes_are_errors_at_build() {
        let base = || EdgePolicy::builder().with_key("K", Binding::https("h.example"));
        let cases = [
            (
                base().with_tool("t", ["OTHER"]),
                "matches none of the policy's keys",
            ),
            (
                base().with_tool("t", ["X*"]),
                "matches none of the policy's keys",
            ),
            (
                base().with_tool("bad tool", ["K"]),
                "tool `bad tool` contains whitespace",
            ),
            (
                base().with_tool("t", ["K**"]),
                "is given a bad key pattern `K**`",
            ),
            (
                base().with_key("", Binding::https("h.example")),
                "key `` is empty",
            ),
            (
                base().with_key("A", Binding::https("*")),
                "a binding of `A`: host pattern `*`",
            ),
        ];
        for (builder, expected) in cases {
            let err = builder.build().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(err.to_string().starts_with("edge policy: "), "{err}");
            assert!(err.to_string().contains(expected), "{err}");
        }
    }

    #[test]
    fn the_scope_names_the_agent() {
        let scope = policy().scope_for("researcher").unwrap();
        assert_eq!(scope.agent(), "researcher");
        assert!(scope.allows("search/serp", "search"));
        assert!(!scope.allows("search/serp", "github"));
    }
}
