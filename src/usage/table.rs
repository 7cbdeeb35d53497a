//! [`Table`]: rows by name, a bounded number of them, then one overflow row.

use std::collections::HashMap;
use std::sync::Arc;

use super::NamedUsage;
use super::report::{Counters, OVERFLOW};

/// Rows by name, at most `max` of them, then one overflow row.
pub(super) struct Table<T> {
    pub(super) entries: HashMap<Arc<str>, T>,
    pub(super) overflow: Option<T>,
    max: usize,
}

impl<T: Default> Table<T> {
    pub(super) fn new(max: usize) -> Table<T> {
        Table {
            entries: HashMap::new(),
            overflow: None,
            max,
        }
    }

    pub(super) fn entry(&mut self, name: &Arc<str>) -> &mut T {
        self.entry_or_overflow(name).0
    }

    /// The row of `name`, and whether it is the overflow row.
    pub(super) fn entry_or_overflow(&mut self, name: &Arc<str>) -> (&mut T, bool) {
        if self.entries.len() < self.max || self.entries.contains_key(name) {
            (self.entries.entry(Arc::clone(name)).or_default(), false)
        } else {
            (self.overflow.get_or_insert_with(T::default), true)
        }
    }
}

impl Table<Counters> {
    pub(super) fn named(&self) -> Vec<NamedUsage> {
        let mut rows: Vec<NamedUsage> = self
            .entries
            .iter()
            .map(|(name, counters)| NamedUsage {
                name: name.to_string(),
                overflow: false,
                stats: counters.stats(),
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        rows.extend(self.overflow.as_ref().map(|counters| NamedUsage {
            name: OVERFLOW.to_owned(),
            overflow: true,
            stats: counters.stats(),
        }));
        rows
    }
}
