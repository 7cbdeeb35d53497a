//! From the model: a tool's arguments with handles replaced by the values it may receive.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::guard::Encoding;
use crate::rotation::ManagedKey;
use crate::secret::SecretString;

use super::agent::Edge;

/// A tool's arguments with the real values in them: zeroized when dropped, `***` in `Debug`.
///
/// Hand it to the tool and drop it; never put it back into the conversation, whose history
/// keeps the handles the model wrote.
pub struct Restored {
    text: SecretString,
    keys: Vec<Arc<str>>,
}

impl Restored {
    /// The restored text.
    pub fn expose_secret(&self) -> &str {
        self.text.expose_secret()
    }

    /// The restored text as a [`SecretString`].
    pub fn secret(&self) -> &SecretString {
        &self.text
    }

    /// The restored text, for code that keeps it.
    pub fn into_secret(self) -> SecretString {
        self.text
    }

    /// The keys whose values were put in, in the order of the policy.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| &**k)
    }
}

impl fmt::Debug for Restored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Edge {
    /// `args`, written by the model for `tool`, with every [handle](Edge::handle) replaced by
    /// the current value of its key, read through the manager (so a rotated key gives its new
    /// value).
    ///
    /// All or nothing: if anything is refused, nothing is restored, and each refused key is
    /// recorded in the usage log as a denial (for [`AlertRule::Denied`](crate::usage::AlertRule)).
    /// Each key restored is recorded as one use, by fingerprint.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::Leak`](crate::ErrorKind::Leak) when `args` hold the value of a key the
    ///   manager knows (as written, encoded or a fragment): the model should never have seen it.
    /// - [`ErrorKind::PermissionDenied`](crate::ErrorKind::PermissionDenied) naming the tool and
    ///   the keys when `args` hold a handle this edge did not issue (another agent's, or made
    ///   up), when `tool` is not in the policy, or when it may not receive a key whose handle
    ///   is in `args`.
    /// - The manager's error when a value cannot be read; [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
    ///   for a value too short for the edge to keep out of the model's context.
    pub fn restore(&self, tool: &str, args: &str) -> Result<Restored> {
        let keys = self.check_arguments(tool, &[args])?;
        let values = self.values(&keys)?;
        Ok(self.restored(tool, args, &keys, &values))
    }

    /// [`restore`](Edge::restore) from async code, for managers of remote providers.
    ///
    /// # Errors
    ///
    /// As [`restore`](Edge::restore).
    pub async fn restore_async(&self, tool: &str, args: &str) -> Result<Restored> {
        let keys = self.check_arguments(tool, &[args])?;
        let values = self.values_async(&keys).await?;
        Ok(self.restored(tool, args, &keys, &values))
    }

    fn restored(
        &self,
        tool: &str,
        args: &str,
        keys: &[usize],
        values: &[Arc<ManagedKey>],
    ) -> Restored {
        let plain: Vec<&str> = values.iter().map(|v| v.expose_secret()).collect();
        let text = self.substitute(args, keys, &plain);
        self.record_uses(tool, keys, values);
        Restored {
            text: SecretString::from(text),
            keys: keys
                .iter()
                .map(|&k| Arc::clone(&self.inner.names[k]))
                .collect(),
        }
    }

    /// The keys whose handles `texts` (written by the model for `tool`) hold, sorted, once
    /// everything is checked; each refusal is recorded.
    pub(super) fn check_arguments(&self, tool: &str, texts: &[&str]) -> Result<Vec<usize>> {
        let inner = &*self.inner;
        let agent = &*inner.agent;

        self.touch_keys();
        self.check_tool_name(tool)?;
        let redactor = inner.manager.redactor().current();
        let mut leaked: Vec<(Arc<str>, Vec<Encoding>)> = Vec::new();
        for text in texts {
            for finding in redactor.find(text) {
                match leaked.iter_mut().find(|(l, _)| &**l == finding.label()) {
                    Some((_, encodings)) if !encodings.contains(&finding.encoding()) => {
                        encodings.push(finding.encoding());
                    }
                    Some(_) => {}
                    None => leaked.push((Arc::from(finding.label()), vec![finding.encoding()])),
                }
            }
        }
        if !leaked.is_empty() {
            for (label, _) in &leaked {
                self.record_denied(tool, label);
            }
            let listed: Vec<(&str, Vec<Encoding>)> =
                leaked.iter().map(|(l, e)| (&**l, e.clone())).collect();
            return Err(Error::value_in_arguments(agent, tool, &listed));
        }

        let mut keys = BTreeSet::new();
        let mut forged: Vec<&str> = Vec::new();
        for text in texts {
            for found in inner.handles.find(text) {
                match found.key {
                    Some(key) => {
                        keys.insert(key);
                    }
                    None => forged.push(inner.handles.shown_name(&text[found.range])),
                }
            }
        }
        self.refuse_forged(tool, &forged)?;

        let names =
            |keys: &[usize]| -> Vec<&str> { keys.iter().map(|&k| &*inner.names[k]).collect() };
        let keys: Vec<usize> = keys.into_iter().collect();
        if !inner.policy.has_tool(tool) {
            for name in names(&keys) {
                self.record_denied(tool, name);
            }
            return Err(Error::unknown_tool(agent, tool, &self.tool_names()));
        }
        let denied: Vec<usize> = keys
            .iter()
            .copied()
            .filter(|&k| !inner.scope.allows(&inner.names[k], tool))
            .collect();
        if !denied.is_empty() {
            for name in names(&denied) {
                self.record_denied(tool, name);
            }
            return Err(Error::tool_denied(
                agent,
                tool,
                &names(&denied),
                &inner.policy.keys_for(tool),
            ));
        }
        Ok(keys)
    }

    /// `text` with each handle of `keys` (sorted) replaced by the value at the same place of
    /// `values` (as written, or encoded for where it goes), written into a buffer of the exact
    /// size, so that no outgrown copy of a value is left behind.
    pub(super) fn substitute(&self, text: &str, keys: &[usize], values: &[&str]) -> String {
        let found = self.inner.handles.find(text);
        let value_of = |key: Option<usize>| -> &str {
            key.and_then(|k| keys.binary_search(&k).ok())
                .map_or("", |i| values[i])
        };
        let len = found.iter().fold(text.len(), |len, f| {
            len - f.range.len() + value_of(f.key).len()
        });
        let mut out = String::with_capacity(len);
        let mut at = 0;
        for f in &found {
            out.push_str(&text[at..f.range.start]);
            out.push_str(value_of(f.key));
            at = f.range.end;
        }
        out.push_str(&text[at..]);
        debug_assert_eq!(out.len(), len);
        out
    }
}
