//! The settings of a manager once its builder checked them.

use std::collections::HashMap;

use chrono::TimeDelta;

use crate::guard::RedactorBuilder;
use crate::rotation::RotationPolicy;

/// The settings once [`build`](crate::manager::KeyManagerBuilder::build) checked them, spans of
/// time as chrono spans for the arithmetic on instants.
#[derive(Debug, Clone)]
pub(super) struct Config {
    pub(super) ttl: TimeDelta,
    pub(super) capacity: usize,
    pub(super) default_policy: RotationPolicy,
    pub(super) policies: HashMap<String, RotationPolicy>,
    pub(super) max_stale: TimeDelta,
    pub(super) stale_retry: TimeDelta,
    pub(super) serve_expired: bool,
    pub(super) grace_period: TimeDelta,
    pub(super) created_at_suffix: Option<String>,
    /// The settings of [`KeyManager::redactor`](crate::KeyManager::redactor), and the secrets it
    /// always redacts.
    pub(super) redactor: RedactorBuilder,
}
