//! [`Edge`]: one agent's edge, between its model and its tools.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::guard::{Detector, Redactor};
use crate::manager::KeyManager;
use crate::rotation::ManagedKey;
use crate::scope::Scope;
use crate::usage::{KeyId, Outcome, Usage, UsageLog};

use super::handle::{HandleFormat, HandleKey, Handles};
use super::policy::EdgePolicy;

/// One agent's edge: the model sees handles, the tools get real keys only where the policy
/// sends them.
///
/// Built from the [`KeyManager`] the agent's keys come from (several agents share one
/// manager, each with an edge of its own) and an [`EdgePolicy`]. Values are read through the
/// manager every time they are needed, never copied at the start, so they follow rotation.
///
/// - [`handle`](Edge::handle): the string that stands for a key in the model's context.
/// - [`to_model`](Edge::to_model) and [`to_model_stream`](Edge::to_model_stream): text on its
///   way into the model's context (tool results, files, web pages), with every key the manager
///   knows replaced by its handle or a marker.
/// - [`restore`](Edge::restore): a tool's arguments, written by the model, with handles
///   replaced by the values for the keys this tool may receive.
///
/// Every restore, and every refusal, is a use in the edge's [`UsageLog`].
///
/// ```
/// use keyward::{ErrorKind, KeyManager, MemoryProvider};
/// use keyward::edge::{Binding, Edge, EdgePolicy};
///
/// # let token = format!("ghp_{}", "FaKe0".repeat(8));
/// let manager = KeyManager::builder(MemoryProvider::new().with("GITHUB_TOKEN", token.as_str())).build()?;
/// let policy = EdgePolicy::builder()
///     .with_key("GITHUB_TOKEN", Binding::https("api.github.com").with_bearer())
///     .with_tool("github", ["GITHUB_TOKEN"])
///     .with_keyless_tool("web_fetch")
///     .build()?;
/// let edge = Edge::new("researcher", manager.clone(), policy)?;
///
/// // What the model sees: the handle, never the key.
/// let handle = edge.handle("GITHUB_TOKEN")?;
/// let prompt = format!("Call the GitHub API with the token {handle}.");
/// let page = format!("debug output: token={token}");
/// assert_eq!(edge.to_model(&page), format!("debug output: token={handle}"));
///
/// // What the tool gets: the key, for the tools allowed to have it.
/// let args = format!(r#"{{"auth": "Bearer {handle}"}}"#);
/// let restored = edge.restore("github", &args)?;
/// assert_eq!(restored.expose_secret(), format!(r#"{{"auth": "Bearer {token}"}}"#));
/// assert_eq!(format!("{restored:?}"), "***");
/// let err = edge.restore("web_fetch", &args).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::PermissionDenied);
/// assert_eq!(edge.usage_log().report().total.denied, 1);
/// # let _ = prompt;
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Clone)]
pub struct Edge {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) agent: Arc<str>,
    pub(super) manager: KeyManager,
    pub(super) policy: EdgePolicy,
    pub(super) scope: Scope,
    /// The policy's keys, by index.
    pub(super) names: Vec<Arc<str>>,
    pub(super) handles: Handles,
    pub(super) log: Arc<UsageLog>,
    pub(super) detector: Option<Detector>,
    /// The manager's redactor last seen, and the same with the edge's handles laid over it.
    pub(super) model: Mutex<Option<(Arc<Redactor>, Redactor)>>,
    /// Each policy key's [`KeyId`] for the value it was last used with (by index): a use then
    /// costs no fingerprint and no mask. Weak, so that a value rotated out is not kept alive;
    /// the allocation it points to stays, so no new value can take its address.
    pub(super) ids: Vec<Mutex<LastId>>,
}

/// The value a key was last used with, and its [`KeyId`].
type LastId = Option<(Weak<ManagedKey>, KeyId)>;

impl Edge {
    /// The edge of `agent` over `manager` with `policy`, with the defaults of [`EdgeBuilder`].
    ///
    /// # Errors
    ///
    /// As [`EdgeBuilder::build`].
    pub fn new(agent: impl Into<String>, manager: KeyManager, policy: EdgePolicy) -> Result<Edge> {
        Edge::builder(agent, manager, policy).build()
    }

    /// Starts an edge with settings of your own: a shared usage log, a handle format or key,
    /// another detector.
    pub fn builder(
        agent: impl Into<String>,
        manager: KeyManager,
        policy: EdgePolicy,
    ) -> EdgeBuilder {
        EdgeBuilder {
            agent: agent.into(),
            manager,
            policy,
            log: None,
            format: HandleFormat::default(),
            key: None,
            detector: Some(Detector::new()),
        }
    }

    /// The agent this edge belongs to.
    pub fn agent(&self) -> &str {
        &self.inner.agent
    }

    /// The policy.
    pub fn policy(&self) -> &EdgePolicy {
        &self.inner.policy
    }

    /// The policy's grants as the agent's [`Scope`], the tools being its operations: for
    /// audits.
    pub fn scope(&self) -> &Scope {
        &self.inner.scope
    }

    /// The manager the values come from.
    pub fn manager(&self) -> &KeyManager {
        &self.inner.manager
    }

    /// The log every restore and every refusal is recorded in.
    pub fn usage_log(&self) -> &Arc<UsageLog> {
        &self.inner.log
    }

    /// The handle of `key`: the string that stands for it in the model's context, for a system
    /// prompt, a tool description or a configuration shown to the model.
    ///
    /// It holds no part of the value, is the same for the life of the edge (rotations
    /// included), and is valid for this edge only.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for a key that is not in the policy.
    pub fn handle(&self, key: &str) -> Result<&str> {
        match self.inner.policy.index_of(key) {
            Some(index) => Ok(self.inner.handles.text(index)),
            None => Err(Error::unknown_edge_key(
                &self.inner.agent,
                key,
                &self.inner.policy.keys().collect::<Vec<_>>(),
            )),
        }
    }

    /// Every key of the policy with its handle, in the order declared.
    pub fn handles(&self) -> impl Iterator<Item = (&str, &str)> {
        self.inner
            .names
            .iter()
            .enumerate()
            .map(|(i, name)| (&**name, &**self.inner.handles.text(i)))
    }

    /// The form handles are written in.
    pub fn handle_format(&self) -> &HandleFormat {
        self.inner.handles.format()
    }

    /// Loads every key of the policy through the manager, so that [`to_model`](Edge::to_model)
    /// knows them before any was restored. [`to_model`](Edge::to_model) does this by itself
    /// with a manager of a blocking provider; call [`load_async`](Edge::load_async) with a
    /// remote one.
    ///
    /// # Errors
    ///
    /// The manager's error for the first key that cannot be loaded.
    pub fn load(&self) -> Result<()> {
        for name in &self.inner.names {
            self.inner.manager.get(name)?;
        }
        Ok(())
    }

    /// [`load`](Edge::load) from async code, for managers of remote providers.
    ///
    /// # Errors
    ///
    /// As [`load`](Edge::load).
    pub async fn load_async(&self) -> Result<()> {
        for name in &self.inner.names {
            self.inner.manager.get_async(name).await?;
        }
        Ok(())
    }

    /// Reads every key through the manager, so that its redactor knows them (and their
    /// rotations) before any was restored. A manager of an async provider answers at once with
    /// an error, and a key it cannot load is simply not known yet: `load_async` is for them.
    pub(super) fn touch_keys(&self) {
        for name in &self.inner.names {
            let _ = self.inner.manager.with_key(name, |_| ());
        }
    }

    /// The current value of key `index`, read through the manager.
    pub(super) fn value(&self, index: usize) -> Result<Arc<ManagedKey>> {
        let key = self.inner.manager.get(&self.inner.names[index])?;
        self.usable(key)
    }

    /// [`value`](Edge::value) from async code.
    pub(super) async fn value_async(&self, index: usize) -> Result<Arc<ManagedKey>> {
        let key = self
            .inner
            .manager
            .get_async(&self.inner.names[index])
            .await?;
        self.usable(key)
    }

    /// Fails closed on a value the guard cannot find in text: the edge could not keep it out
    /// of the model's context once a tool echoed it.
    fn usable(&self, key: Arc<ManagedKey>) -> Result<Arc<ManagedKey>> {
        let chars = key.expose_secret().chars().count();
        if chars < Redactor::DEFAULT_MIN_SECRET_LEN {
            return Err(Error::too_short_for_edge(
                key.name(),
                chars,
                Redactor::DEFAULT_MIN_SECRET_LEN,
            ));
        }
        Ok(key)
    }

    /// The values of `keys` (indexes), read through the manager.
    pub(super) fn values(&self, keys: &[usize]) -> Result<Vec<Arc<ManagedKey>>> {
        keys.iter().map(|&k| self.value(k)).collect()
    }

    /// [`values`](Edge::values) from async code.
    pub(super) async fn values_async(&self, keys: &[usize]) -> Result<Vec<Arc<ManagedKey>>> {
        let mut values = Vec::with_capacity(keys.len());
        for &k in keys {
            values.push(self.value_async(k).await?);
        }
        Ok(values)
    }

    /// Refuses handles the edge did not issue (`forged`, as shown in the text): each one is
    /// recorded as a denial for `tool`, and the error names them all. Nothing when there are
    /// none.
    pub(super) fn refuse_forged(&self, tool: &str, forged: &[&str]) -> Result<()> {
        if forged.is_empty() {
            return Ok(());
        }
        for shown in forged {
            let shown = if shown.is_empty() {
                "unknown handle"
            } else {
                shown
            };
            self.record_denied(tool, shown);
        }
        Err(Error::forged_handle(self.agent(), tool, forged))
    }

    /// Refuses a tool name that holds the value of a key the manager knows. The model names the
    /// tool it calls, and a model that has seen a key could write it there, to reach the usage
    /// log, alerts and every error that names the tool: the refusal is recorded under the name
    /// with the key redacted, and the error does not quote it.
    pub(super) fn check_tool_name(&self, tool: &str) -> Result<()> {
        let redactor = self.inner.manager.redactor().current();
        let findings = redactor.find(tool);
        if findings.is_empty() {
            return Ok(());
        }
        let shown = redactor.redact(tool);
        let mut labels: Vec<&str> = findings.iter().map(|f| f.label()).collect();
        labels.sort_unstable();
        labels.dedup();
        for label in &labels {
            self.record_denied(&shown, label);
        }
        Err(Error::key_in_tool_name(self.agent(), &labels))
    }

    /// Records that `tool` was refused `key` (or a handle showing that name).
    pub(super) fn record_denied(&self, tool: &str, key: &str) {
        let id = KeyId::unread(key);
        self.inner.log.record(
            Usage::new(&id, Arc::clone(&self.inner.agent), tool).with_outcome(Outcome::Denied),
        );
    }

    /// Records that `tool` was handed the values of `keys` (indexes), in that order.
    pub(super) fn record_uses(&self, tool: &str, keys: &[usize], values: &[Arc<ManagedKey>]) {
        for (&key, value) in keys.iter().zip(values) {
            let id = self.key_id(key, value);
            self.inner
                .log
                .record(Usage::new(&id, Arc::clone(&self.inner.agent), tool));
        }
    }

    /// The [`KeyId`] of `value`, the current value of key `index`: computed once per value.
    pub(super) fn key_id(&self, index: usize, value: &Arc<ManagedKey>) -> KeyId {
        let mut last = lock(&self.inner.ids[index]);
        if let Some((seen, id)) = &*last
            && std::ptr::eq(seen.as_ptr(), Arc::as_ptr(value))
        {
            return id.clone();
        }
        let id = KeyId::new(value.name(), value.value());
        *last = Some((Arc::downgrade(value), id.clone()));
        id
    }

    /// The names of the tools, for messages.
    pub(super) fn tool_names(&self) -> Vec<&str> {
        self.inner.policy.tools().collect()
    }
}

impl fmt::Debug for Edge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Edge")
            .field("agent", &self.inner.agent)
            .field("policy", &self.inner.policy)
            .field("handles", &self.inner.handles)
            .field("detects_unknown", &self.inner.detector.is_some())
            .finish_non_exhaustive()
    }
}

/// Locks one of the edge's caches; a poisoned one still holds a consistent value.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Builds an [`Edge`]; see [`Edge::builder`]. Nothing is checked until
/// [`build`](EdgeBuilder::build).
#[must_use = "an edge builder does nothing until `build` is called"]
pub struct EdgeBuilder {
    agent: String,
    manager: KeyManager,
    policy: EdgePolicy,
    log: Option<Arc<UsageLog>>,
    format: HandleFormat,
    key: Option<Zeroizing<Vec<u8>>>,
    detector: Option<Detector>,
}

impl fmt::Debug for EdgeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EdgeBuilder")
            .field("agent", &self.agent)
            .field("policy", &self.policy)
            .field("format", &self.format)
            .field("handle_key", &self.key.as_ref().map(|_| "***"))
            .field("detector", &self.detector)
            .finish_non_exhaustive()
    }
}

impl EdgeBuilder {
    /// Records uses and refusals in `log` (shared with other edges and the rest of the
    /// program) instead of a log of the edge's own.
    pub fn with_usage_log(mut self, log: Arc<UsageLog>) -> EdgeBuilder {
        self.log = Some(log);
        self
    }

    /// Writes handles in `format` (default [`HandleFormat::default`]).
    pub fn with_handle_format(mut self, format: HandleFormat) -> EdgeBuilder {
        self.format = format;
        self
    }

    /// Makes the handles' tags with `key` (at least 16 bytes; 32 random bytes is a good
    /// choice) instead of a random key of the edge's own: for handles that stay the same
    /// across restarts, so that a stored conversation can still be restored. Keep it as
    /// secret as the keys: whoever has it can make handles.
    pub fn with_handle_key(mut self, key: &[u8]) -> EdgeBuilder {
        self.key = Some(Zeroizing::new(key.to_vec()));
        self
    }

    /// Finds unknown keys in text on its way to the model with `detector` (default
    /// [`Detector::new`]).
    pub fn with_detector(mut self, detector: Detector) -> EdgeBuilder {
        self.detector = Some(detector);
        self
    }

    /// Finds no unknown keys on the way to the model: only the keys the manager knows are
    /// replaced, and a stream no longer holds back whole lines.
    pub fn without_detection(mut self) -> EdgeBuilder {
        self.detector = None;
        self
    }

    /// Checks everything and builds the edge.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an agent name that is
    /// empty, longer than 128 bytes or holds a blank; a handle format that fails its checks
    /// (see [`HandleFormat::new`]); a handle key shorter than 16 bytes.
    pub fn build(self) -> Result<Edge> {
        let scope = self.policy.scope_for(&self.agent)?;
        let key = match &self.key {
            Some(key) => HandleKey::given(key)?,
            None => HandleKey::random(),
        };
        let names = self.policy.key_names();
        let handles = Handles::new(self.format, &key, &self.agent, &names)?;
        Ok(Edge {
            inner: Arc::new(Inner {
                agent: Arc::from(self.agent),
                manager: self.manager,
                policy: self.policy,
                scope,
                ids: names.iter().map(|_| Mutex::new(None)).collect(),
                names,
                handles,
                log: self.log.unwrap_or_else(|| Arc::new(UsageLog::new())),
                detector: self.detector,
                model: Mutex::new(None),
            }),
        })
    }
}
