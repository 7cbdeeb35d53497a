//! [`ScopedKey`]: one key and the operations it may be used for.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::mask::Fingerprint;
use crate::secret::{SecretString, holds_run_of};
use crate::usage::{FailureClass, KeyId, Outcome, RotationState, Usage, UsageLog};

use super::Scope;

/// A key bundled with the operations its agent may use it for: the scoped API client pattern.
///
/// Client code holds a `ScopedKey` instead of a bare secret and asks for the value *for an
/// operation*; anything outside the scope is [`ErrorKind::PermissionDenied`](crate::ErrorKind),
/// and with a [`UsageLog`] attached, every denial and every use started with
/// [`begin`](ScopedKey::begin) is recorded. `Debug` shows the label, agent, fingerprint and
/// operations, never the value.
///
/// ```
/// use std::sync::Arc;
/// use keyward::{ErrorKind, Scope, UsageLog};
/// use keyward::usage::FailureClass;
///
/// let log = Arc::new(UsageLog::new());
/// let scope = Scope::for_agent("researcher")
///     .with_operations(["chat", "embeddings"])
///     .allow("OPENAI_API_KEY", ["chat"])
///     .build()?;
/// let key = scope
///     .key("OPENAI_API_KEY", format!("sk-proj-{}", "Ab3d".repeat(10)))?
///     .with_usage_log(Arc::clone(&log));
///
/// let call = key.begin("chat")?;
/// let _authorization = format!("Bearer {}", call.expose_secret());
/// call.succeed();
///
/// assert_eq!(key.begin("embeddings").unwrap_err().kind(), ErrorKind::PermissionDenied);
/// let report = log.report();
/// assert_eq!((report.total.successes, report.total.denied), (1, 1));
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Clone)]
pub struct ScopedKey {
    id: KeyId,
    value: SecretString,
    scope: Scope,
    operations: Arc<[Arc<str>]>,
    log: Option<Arc<UsageLog>>,
    rotation: Option<RotationState>,
}

impl ScopedKey {
    /// The caller has checked that `scope` allows reading `label`.
    pub(super) fn new(scope: &Scope, label: &str, value: SecretString) -> ScopedKey {
        ScopedKey {
            id: KeyId::new(label, &value),
            value,
            scope: scope.clone(),
            operations: scope.operations_for_arc(label),
            log: None,
            rotation: None,
        }
    }

    /// Records denials and uses to `log`.
    pub fn with_usage_log(mut self, log: Arc<UsageLog>) -> ScopedKey {
        self.log = Some(log);
        self
    }

    /// Tells the usage log the key's rotation state with every use, for
    /// [`AlertRule::RotationDue`](crate::usage::AlertRule::RotationDue).
    pub fn with_rotation(mut self, rotation: RotationState) -> ScopedKey {
        self.rotation = Some(rotation);
        self
    }

    /// The key's name.
    pub fn label(&self) -> &str {
        self.id.label()
    }

    /// The agent the key was scoped to.
    pub fn agent(&self) -> &str {
        self.scope.agent()
    }

    /// The key's label, fingerprint and masked preview, as the usage log records them.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The fingerprint of the value.
    pub fn fingerprint(&self) -> Fingerprint {
        self.value.fingerprint()
    }

    /// The operations the key may be used for, in sorted order.
    pub fn operations(&self) -> impl Iterator<Item = &str> {
        self.operations.iter().map(|op| &**op)
    }

    /// Whether the key may be used for `operation`.
    pub fn allows(&self, operation: &str) -> bool {
        self.operation(operation).is_some()
    }

    /// The value, for `operation`.
    ///
    /// A denial is recorded to the usage log; a use is not, since its outcome is not known here:
    /// use [`begin`](ScopedKey::begin) for that.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::PermissionDenied`](crate::ErrorKind::PermissionDenied) naming the agent, the
    /// key, the operation and the allowed operations.
    pub fn require(&self, operation: &str) -> Result<&SecretString> {
        self.check(operation)?;
        Ok(&self.value)
    }

    /// Starts a use of the key for `operation`; finish it with [`KeyUse::succeed`] or
    /// [`KeyUse::fail`] to record the outcome and the latency to the usage log.
    ///
    /// A use dropped without either (an early `?` return, a panic) is recorded as a failure of
    /// class [`FailureClass::Abandoned`].
    ///
    /// # Errors
    ///
    /// As [`require`](ScopedKey::require).
    pub fn begin(&self, operation: &str) -> Result<KeyUse<'_>> {
        let operation = self.check(operation)?;
        Ok(KeyUse {
            key: self,
            operation: Arc::clone(operation),
            started: self.log.as_ref().map(|log| log.now()),
            finished: false,
        })
    }

    fn operation(&self, operation: &str) -> Option<&Arc<str>> {
        self.operations.iter().find(|op| &***op == operation)
    }

    fn check(&self, operation: &str) -> Result<&Arc<str>> {
        if let Some(op) = self.operation(operation) {
            return Ok(op);
        }
        // An operation named after the key itself (a name the model wrote, passed on) is
        // neither recorded nor quoted as written.
        let redacted;
        // 16 bytes in a row: what the redactor would find as a fragment.
        let holds_key = holds_run_of(
            operation.as_bytes(),
            self.value.expose_secret().as_bytes(),
            16,
        );
        let operation = if holds_key {
            redacted = format!("[REDACTED:{}]", self.label());
            redacted.as_str()
        } else {
            operation
        };
        if let Some(log) = &self.log {
            log.record(
                Usage::new(&self.id, Arc::clone(self.scope.agent_arc()), operation)
                    .with_outcome(Outcome::Denied),
            );
        }
        let allowed: Vec<&str> = self.operations().collect();
        Err(Error::operation_denied(
            self.agent(),
            self.label(),
            operation,
            self.scope.is_declared(operation),
            &allowed,
        ))
    }

    fn record(&self, operation: &Arc<str>, outcome: Outcome, started: Option<DateTime<Utc>>) {
        let Some(log) = &self.log else { return };
        let mut usage = Usage::new(
            &self.id,
            Arc::clone(self.scope.agent_arc()),
            Arc::clone(operation),
        )
        .with_outcome(outcome);
        if let Some(latency) = started.and_then(|started| (log.now() - started).to_std().ok()) {
            usage = usage.with_latency(latency);
        }
        if let Some(rotation) = self.rotation {
            usage = usage.with_rotation(rotation);
        }
        log.record(usage);
    }
}

impl fmt::Debug for ScopedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedKey")
            .field("label", &self.label())
            .field("agent", &self.agent())
            .field("fingerprint", &self.fingerprint())
            .field("operations", &self.operations)
            .field("usage_log", &self.log.is_some())
            .finish_non_exhaustive()
    }
}

/// One use of a [`ScopedKey`] for one operation, from [`ScopedKey::begin`].
///
/// It gives the value for the call, and records the outcome and latency when finished.
#[must_use = "finish the use with `succeed` or `fail`, or it is recorded as abandoned"]
pub struct KeyUse<'k> {
    key: &'k ScopedKey,
    operation: Arc<str>,
    started: Option<DateTime<Utc>>,
    finished: bool,
}

impl KeyUse<'_> {
    /// The value.
    pub fn secret(&self) -> &SecretString {
        &self.key.value
    }

    /// The value as text, for the request being made.
    pub fn expose_secret(&self) -> &str {
        self.key.value.expose_secret()
    }

    /// The operation this use is for.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// Records a successful call.
    pub fn succeed(self) {
        self.finish(Outcome::Success);
    }

    /// Records a failed call.
    pub fn fail(self, class: FailureClass) {
        self.finish(Outcome::failure(class));
    }

    /// Records `outcome`.
    pub fn finish(mut self, outcome: Outcome) {
        self.finished = true;
        self.key.record(&self.operation, outcome, self.started);
    }
}

impl Drop for KeyUse<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.key.record(
                &self.operation,
                Outcome::failure(FailureClass::Abandoned),
                self.started,
            );
        }
    }
}

impl fmt::Debug for KeyUse<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyUse")
            .field("label", &self.key.label())
            .field("operation", &self.operation)
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}
