//! The wording of the edge's errors, in one place. Every message names the agent, the tool, the
//! key and the host involved, never a value.

use crate::error::{Error, ErrorKind, quote_name, quote_names};
use crate::guard::Encoding;
use crate::guard::describe_found;

impl Error {
    /// `key` is not one of the keys of the edge of `agent`.
    pub(crate) fn unknown_edge_key(agent: &str, key: &str, keys: &[&str]) -> Error {
        Error::new(
            ErrorKind::NotFound,
            format!(
                "the edge of agent {} has no secret {} (its secrets: {}); declare it in the \
                 edge policy with `with_key` and a binding",
                quote_name(agent),
                quote_name(key),
                quote_names(keys)
            ),
        )
    }

    /// `tool` is not one of the tools of the edge of `agent`.
    pub(crate) fn unknown_tool(agent: &str, tool: &str, tools: &[&str]) -> Error {
        Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "agent {} has no tool {} in its edge policy (its tools: {}); nothing was \
                 restored",
                quote_name(agent),
                quote_name(tool),
                quote_names(tools)
            ),
        )
    }

    /// `tool` of `agent` was handed handles for `keys`, which it may not receive.
    pub(crate) fn tool_denied(agent: &str, tool: &str, keys: &[&str], allowed: &[&str]) -> Error {
        let what = if keys.len() == 1 { "secret" } else { "secrets" };
        Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "tool {} of agent {} may not receive {what} {} (it may receive: {}); nothing \
                 was restored",
                quote_name(tool),
                quote_name(agent),
                quote_names(keys),
                quote_names(allowed)
            ),
        )
    }

    /// The arguments of `tool` hold handles this edge did not issue; `shown` are the names
    /// they show (empty for an anonymous format).
    pub(crate) fn forged_handle(agent: &str, tool: &str, shown: &[&str]) -> Error {
        let names = if shown.iter().all(|s| s.is_empty()) {
            String::new()
        } else {
            format!(" (showing {})", quote_names(shown))
        };
        Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "the arguments of tool {} of agent {} hold a handle that this edge did not \
                 issue{names}: a handle of another agent, or a made-up one; nothing was restored",
                quote_name(tool),
                quote_name(agent),
            ),
        )
    }

    /// Model-authored text for `tool` holds registered values themselves.
    pub(crate) fn value_in_arguments(
        agent: &str,
        tool: &str,
        found: &[(&str, Vec<Encoding>)],
    ) -> Error {
        Error::new(
            ErrorKind::Leak,
            format!(
                "the arguments of tool {} of agent {} hold the value of {}, not a handle: the \
                 model has seen a key it should never see; nothing was restored",
                quote_name(tool),
                quote_name(agent),
                describe_found(found)
            ),
        )
    }

    /// The tool name given for `agent` holds the values of `keys`; it is not quoted.
    pub(crate) fn key_in_tool_name(agent: &str, keys: &[&str]) -> Error {
        Error::new(
            ErrorKind::Leak,
            format!(
                "the name of the tool called for agent {} holds the value of {}, which the \
                 model should never have seen; nothing was restored or sent",
                quote_name(agent),
                quote_names(keys)
            ),
        )
    }

    /// The value of `key` is too short for the edge to keep it out of a model's context.
    pub(crate) fn too_short_for_edge(key: &str, chars: usize, min: usize) -> Error {
        Error::new(
            ErrorKind::InvalidInput,
            format!(
                "secret {} is {chars} characters, too short for the edge to find it in text \
                 and keep it out of the model's context (at least {min}); refused",
                quote_name(key)
            ),
        )
    }

    /// A request of `tool` carries a handle or the value of `key` somewhere other than where
    /// its binding presents it (`presentation`).
    #[cfg(feature = "edge-http")]
    pub(crate) fn key_outside_its_presentation(
        agent: &str,
        tool: &str,
        key: &str,
        presentation: &str,
    ) -> Error {
        Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "secret {} is presented by its binding ({presentation}) and may not be anywhere \
                 else in a request (the body, the URL, another header), where the service would \
                 take it as content (tool {} of agent {}); the request was not sent",
                quote_name(key),
                quote_name(tool),
                quote_name(agent),
            ),
        )
    }

    /// A request of `tool` would carry `key` to `host`, which the key is not bound to.
    #[cfg(feature = "edge-http")]
    pub(crate) fn unbound_destination(
        kind: ErrorKind,
        agent: &str,
        tool: &str,
        key: &str,
        destination: &str,
        bound: &[String],
    ) -> Error {
        let bound: Vec<&str> = bound.iter().map(String::as_str).collect();
        Error::new(
            kind,
            format!(
                "secret {} may not be sent to {destination}: it is bound to {} (tool {} of agent \
                 {}); the request was not sent",
                quote_name(key),
                quote_names(&bound),
                quote_name(tool),
                quote_name(agent),
            ),
        )
    }

    /// A request of `tool` carries the value of `label`, a key outside the edge's policy.
    #[cfg(feature = "edge-http")]
    pub(crate) fn foreign_value_in_request(
        agent: &str,
        tool: &str,
        labels: &[&str],
        destination: &str,
    ) -> Error {
        Error::new(
            ErrorKind::Leak,
            format!(
                "a request of tool {} of agent {} to {destination} carries the value of {}, \
                 which the edge policy does not have; the request was not sent",
                quote_name(tool),
                quote_name(agent),
                quote_names(labels)
            ),
        )
    }

    /// A request the edge cannot prepare: `problem` says why, naming keys and hosts only.
    #[cfg(feature = "edge-http")]
    pub(crate) fn bad_edge_request(
        agent: &str,
        tool: &str,
        problem: impl std::fmt::Display,
    ) -> Error {
        Error::new(
            ErrorKind::InvalidInput,
            format!(
                "request of tool {} of agent {}: {problem}; the request was not sent",
                quote_name(tool),
                quote_name(agent)
            ),
        )
    }

    /// The HTTP client under the middleware followed a redirect from `from` to `to` (both
    /// `scheme://host:port`) by itself, so the edge never checked the second request.
    #[cfg(feature = "reqwest")]
    pub(crate) fn redirect_followed(
        agent: &str,
        tool: &str,
        keys: &[&str],
        from: &str,
        to: &str,
    ) -> Error {
        Error::new(
            ErrorKind::Leak,
            format!(
                "the HTTP client of tool {} of agent {} followed a redirect from {} to {} by                  itself, with {} possibly on board, past the edge's checks; the answer was                  dropped. Build the client with redirects off (`EdgeMiddleware::client_builder`),                  so that each new request passes the edge",
                quote_name(tool),
                quote_name(agent),
                quote_name(from),
                quote_name(to),
                if keys.is_empty() {
                    "no secret".to_owned()
                } else {
                    quote_names(keys)
                },
            ),
        )
    }
}
