//! [`Barrier`]: std's, as a participant of the dependency graph.

use std::fmt;
use std::panic::Location;

pub use std::sync::BarrierWaitResult;

use crate::hook::{self, EventClass};

/// `std::sync::Barrier` whose [`wait`](Self::wait) is an event of the dependency graph (its
/// class: its construction site): each arrival is a signal of the barrier for the locks the
/// thread took (and released) since it last waited, and a wait for the other participants'
/// arrivals. A participant that waits while holding a lock `L` that another participant
/// takes before it arrives is a `circular_dependency` (`L -> barrier -> L`).
///
/// # Examples
///
/// ```
/// use lockdep_core::std::sync::{Arc, Barrier};
/// use std::thread;
///
/// let barrier = Arc::new(Barrier::new(3));
/// let handles: Vec<_> = (0..3)
///     .map(|_| {
///         let b = Arc::clone(&barrier);
///         thread::spawn(move || b.wait().is_leader())
///     })
///     .collect();
/// let leaders = handles.into_iter().map(|h| h.join().unwrap());
/// assert_eq!(leaders.filter(|&l| l).count(), 1);
/// ```
///
/// # Differences from `std::sync::Barrier`
/// - Every `wait` is a potential wait, also the last arrival's (which does not block).
/// - A lock held across the `wait` is not counted as needed for the thread's own arrival
///   (that would be a cycle with itself); it is still an edge to the barrier, so another
///   participant that needs it before arriving closes the cycle.
///
/// # Cost
/// - `wait`: std's, plus a signal and a wait of the barrier's event (a chain-cache probe
///   each when seen before in the same context).
pub struct Barrier {
    inner: std::sync::Barrier,
    class: EventClass,
}

impl Barrier {
    /// A barrier for `n` participants; its event class is the caller's location.
    #[must_use]
    #[track_caller]
    pub const fn new(n: usize) -> Barrier {
        Barrier { inner: std::sync::Barrier::new(n), class: EventClass::at_caller() }
    }

    /// Blocks until `n` participants have called `wait` (std's `wait`); one of them is told
    /// it is the leader. Reported before blocking when the wait closes a cycle (in panic mode
    /// it panics here instead of blocking).
    #[track_caller]
    pub fn wait(&self) -> BarrierWaitResult {
        if let Err(refused) = hook::event_arrive(self.class.id(), Location::caller()) {
            refused.raise();
        }
        self.inner.wait()
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").finish_non_exhaustive()
    }
}
