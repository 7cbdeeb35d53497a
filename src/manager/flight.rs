//! Single-flight: one fetch of a key for every caller that misses it at the same time, threads
//! and tasks alike.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use super::lock::lock;
use crate::error::{Error, Result};
use crate::rotation::{ManagedKey, RotationStatus};

/// What a load produced.
#[derive(Clone)]
pub(super) enum Loaded {
    Fresh(Arc<ManagedKey>),
    /// The refresh failed; this is the last good value, still within `max_stale`.
    Stale(Arc<ManagedKey>, Error),
}

/// One fetch of one key that every caller missing the key waits for: threads on the condvar,
/// tasks through their wakers.
#[derive(Default)]
pub(super) struct Flight {
    pub(super) state: Mutex<FlightState>,
    pub(super) done: Condvar,
}

pub(super) enum FlightState {
    /// The fetch is under way; the wakers of the tasks waiting for it.
    Pending(Vec<Waker>),
    /// The fetch is over, with this result for everyone.
    Landed(Result<Loaded>),
    /// The fetching task was cancelled (its future dropped) before it finished. Nothing was
    /// fetched, so the waiters start over and one of them fetches.
    Abandoned,
}

impl Default for FlightState {
    fn default() -> FlightState {
        FlightState::Pending(Vec::new())
    }
}

impl Flight {
    /// Ends the flight and wakes every waiter, threads and tasks. The first outcome stands.
    pub(super) fn settle(&self, outcome: FlightState) {
        let mut state = lock(&self.state);
        let FlightState::Pending(wakers) = &mut *state else {
            return;
        };
        let wakers = std::mem::take(wakers);
        *state = outcome;
        drop(state);
        self.done.notify_all();
        wakers.into_iter().for_each(Waker::wake);
    }

    /// The flight's result for a waiting thread; `None` when it was abandoned.
    pub(super) fn wait(&self) -> Option<Result<Loaded>> {
        let mut state = lock(&self.state);
        loop {
            match &*state {
                FlightState::Pending(_) => {
                    state = self
                        .done
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                FlightState::Landed(result) => return Some(result.clone()),
                FlightState::Abandoned => return None,
            }
        }
    }

    /// The flight's result for a waiting task, without blocking its thread.
    pub(super) fn wait_async(&self) -> FlightWait<'_> {
        FlightWait {
            flight: self,
            slot: None,
        }
    }
}

/// The future of [`Flight::wait_async`]: resolves as [`Flight::wait`] returns.
pub(super) struct FlightWait<'a> {
    pub(super) flight: &'a Flight,
    /// Where this task's waker sits in the flight's list, once registered. The list only grows
    /// while the flight is pending, so the index stays valid.
    pub(super) slot: Option<usize>,
}

impl Future for FlightWait<'_> {
    type Output = Option<Result<Loaded>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let flight = self.flight;
        let mut state = lock(&flight.state);
        let wakers = match &mut *state {
            FlightState::Pending(wakers) => wakers,
            FlightState::Landed(result) => return Poll::Ready(Some(result.clone())),
            FlightState::Abandoned => return Poll::Ready(None),
        };
        match self.slot.and_then(|slot| wakers.get_mut(slot)) {
            Some(waker) => waker.clone_from(cx.waker()),
            None => {
                self.slot = Some(wakers.len());
                wakers.push(cx.waker().clone());
            }
        }
        Poll::Pending
    }
}

/// How a thread that missed takes part in a load.
pub(super) enum Join {
    /// The key was stored meanwhile.
    Hit(Arc<ManagedKey>, Option<RotationStatus>),
    /// Another thread is fetching: wait for its result.
    Wait(Arc<Flight>),
    /// This thread fetches.
    Lead(Arc<Flight>),
}
