//! Usage monitoring: who used which key for what, how it went, and alerts when it goes wrong.
//!
//! A [`UsageLog`] records [`Usage`]s, never values: a key appears by its label, fingerprint and
//! masked preview. Memory is bounded however long the program runs: counters are aggregated per
//! key, operation and agent (each table capped, with an overflow row past the cap), and only the
//! last [`capacity`](UsageLogBuilder::with_capacity) events are kept whole.
//!
//! Time comes from the log's [`Clock`](crate::clock::Clock), so windows and cooldowns are tested
//! without sleeping.
//!
//! An agent's uses ([`Usage::new`]) are kept apart from the key manager's own fetches and
//! rotation checks ([`Usage::fetch`], [`Usage::rotation_check`], recorded for a
//! [`KeyManager`](crate::KeyManager) by `UsageLog::record_key_event`): the counters of uses and
//! the alert rules look at the uses alone (see [`EventKind`]).
//!
//! One concept a file: the log (`log`), its builder (`builder`), what an event says (`event`),
//! alert rules and sinks (`alert`), counters and the report (`report`), and the bounded tables
//! of names (`table`). This module imports nothing above it: the adapter that records a key
//! manager's events lives with the manager.
//!
//! The files in layers, lowest first (each uses only those before it; `tests/integration/layers.rs`
//! holds the order and checks it): `event`, `alert`, `report`, `table`, `log`, `builder`.

mod alert;
mod builder;
mod event;
mod log;
mod report;
mod table;

#[cfg(feature = "tracing")]
pub use alert::TracingAlertSink;
pub use alert::{Alert, AlertRule, AlertSink, Trigger};
pub use builder::UsageLogBuilder;
pub use event::{EventKind, FailureClass, KeyId, Outcome, RotationState, Usage, UsageEvent};
pub use log::UsageLog;
pub use report::{KeyUsage, ManagerStats, NamedUsage, UsageReport, UsageStats};
