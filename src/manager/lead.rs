//! The caller that fetches for a flight: its hold on the flight ends it however the fetch ends,
//! so that no waiter is left behind.

use std::sync::Arc;

use super::cache::Shard;
use super::flight::{Flight, FlightState, Loaded};
use super::key_manager::Inner;
use super::lock::lock;
use crate::error::{Error, ErrorKind, Result, quote_name};

/// Held by the caller that fetches. Dropping it ends the flight: with the result that
/// [`land`](Inner::land) put in it, else as abandoned (a cancelled task) or failed (a panicking
/// provider), so that waiters are never left behind.
pub(super) struct FlightLead<'a> {
    pub(super) inner: &'a Inner,
    pub(super) shard: &'a Shard,
    pub(super) name: &'a str,
    pub(super) flight: Arc<Flight>,
    pub(super) result: Option<Result<Loaded>>,
}

impl Drop for FlightLead<'_> {
    fn drop(&mut self) {
        // Out of the map first: a waiter that starts over must not find this flight again.
        {
            let mut flights = lock(&self.shard.flights);
            if flights
                .get(self.name)
                .is_some_and(|flight| Arc::ptr_eq(flight, &self.flight))
            {
                flights.remove(self.name);
            }
        }
        let outcome = match self.result.take() {
            Some(result) => FlightState::Landed(result),
            None if std::thread::panicking() => FlightState::Landed(Err(Error::new(
                ErrorKind::Backend,
                format!(
                    "provider {} panicked while loading {}",
                    self.inner.source.name(),
                    quote_name(self.name)
                ),
            ))),
            None => FlightState::Abandoned,
        };
        self.flight.settle(outcome);
    }
}
