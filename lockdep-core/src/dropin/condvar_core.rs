//! The wait queue shared by both condition variables, on `parking_lot_core`: a sequence
//! number bumped by every notification, checked under the queue's lock before sleeping, so a
//! notification between the mutex's release and the sleep is never lost.

use std::panic::Location;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use crate::hook::{self, EventClass, Refused};

use parking_lot_core::{ParkResult, DEFAULT_PARK_TOKEN, DEFAULT_UNPARK_TOKEN};

/// A condition variable's queue. The mutex is released by the caller's `unlock` and
/// re-taken by the caller after [`wait`](CondvarCore::wait) returns, so that the lock type
/// can report both to the validator.
///
/// The queue is also an event of the dependency graph (its class: the condvar's
/// construction site): an untimed wait is a wait for it, a notification a signal.
pub(crate) struct CondvarCore {
    seq: AtomicU32,
    class: EventClass,
}

impl CondvarCore {
    #[track_caller]
    pub(crate) const fn new() -> CondvarCore {
        CondvarCore { seq: AtomicU32::new(0), class: EventClass::at_caller() }
    }

    fn key(&self) -> usize {
        &self.seq as *const AtomicU32 as usize
    }

    /// Runs `unlock` (which must release the mutex protecting the condition, held by the
    /// caller) and sleeps until a notification, a spurious wake-up or `deadline`. Returns
    /// whether it timed out. The caller re-takes the mutex; on `Err` (panic mode, the wait
    /// closes a cycle through this condvar) it did not sleep, and the caller re-takes the
    /// mutex, then raises. A wait with a deadline adds no edge: it cannot wait forever.
    #[track_caller]
    pub(crate) fn wait(
        &self,
        deadline: Option<Instant>,
        unlock: impl FnOnce(),
    ) -> Result<bool, Refused> {
        // Read while the mutex is held: a notification sent after the condition changed
        // (under the mutex) bumps it, and then the park below does not sleep.
        let seq = self.seq.load(Ordering::SeqCst);
        unlock();
        if deadline.is_none() {
            // After the release: the mutex is not held across the wait.
            hook::event_wait(self.class.id(), Location::caller())?;
        }
        let validate = || self.seq.load(Ordering::SeqCst) == seq;
        // SAFETY: the key is this queue's own address, used for nothing else; `validate`
        // and the timeout callback neither panic nor call into parking_lot_core.
        let result = unsafe {
            parking_lot_core::park(
                self.key(),
                validate,
                || {},
                |_, _| {},
                DEFAULT_PARK_TOKEN,
                deadline,
            )
        };
        Ok(matches!(result, ParkResult::TimedOut))
    }

    /// Wakes one waiter; whether there was one. A signal of the condvar's event.
    #[track_caller]
    pub(crate) fn notify_one(&self) -> bool {
        hook::event_signal(self.class.id(), Location::caller());
        self.seq.fetch_add(1, Ordering::SeqCst);
        // SAFETY: our own key; the callback neither panics nor calls into parking_lot_core.
        let r = unsafe { parking_lot_core::unpark_one(self.key(), |_| DEFAULT_UNPARK_TOKEN) };
        r.unparked_threads != 0
    }

    /// Wakes every waiter; how many there were. A signal of the condvar's event.
    #[track_caller]
    pub(crate) fn notify_all(&self) -> usize {
        hook::event_signal(self.class.id(), Location::caller());
        self.seq.fetch_add(1, Ordering::SeqCst);
        // SAFETY: our own key.
        unsafe { parking_lot_core::unpark_all(self.key(), DEFAULT_UNPARK_TOKEN) }
    }
}

/// `now + timeout`, or `None` (wait forever) when that overflows, as std does.
pub(crate) fn deadline_after(timeout: std::time::Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}
