//! [`join_all`]: waiting for several futures at once, without an async runtime of our own.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that runs `futures` concurrently and yields their outputs in order.
///
/// Every wake polls the futures not done yet: fine for the handful a preload starts at once.
pub(super) fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> JoinAll<F> {
    JoinAll {
        slots: futures
            .into_iter()
            .map(|future| Slot::Running(Box::pin(future)))
            .collect(),
    }
}

pub(super) struct JoinAll<F: Future> {
    slots: Vec<Slot<F>>,
}

// Each future is pinned in its own box and outputs are only moved out, never pinned.
impl<F: Future> Unpin for JoinAll<F> {}

enum Slot<F: Future> {
    Running(Pin<Box<F>>),
    Done(Option<F::Output>),
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let slots = &mut self.get_mut().slots;
        let mut running = false;
        for slot in slots.iter_mut() {
            if let Slot::Running(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(output) => *slot = Slot::Done(Some(output)),
                    Poll::Pending => running = true,
                }
            }
        }
        if running {
            return Poll::Pending;
        }
        Poll::Ready(
            slots
                .iter_mut()
                .filter_map(|slot| match slot {
                    Slot::Done(output) => output.take(),
                    Slot::Running(_) => None,
                })
                .collect(),
        )
    }
}
