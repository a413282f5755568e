//! The wait queue shared by both condition variables, on `parking_lot_core`: a sequence
//! number bumped by every notification, checked under the queue's lock before sleeping, so a
//! notification between the mutex's release and the sleep is never lost.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use parking_lot_core::{ParkResult, DEFAULT_PARK_TOKEN, DEFAULT_UNPARK_TOKEN};

/// A condition variable's queue. The mutex is released by the caller's `unlock` and
/// re-taken by the caller after [`wait`](CondvarCore::wait) returns, so that the lock type
/// can report both to the validator.
pub(crate) struct CondvarCore {
    seq: AtomicU32,
}

impl CondvarCore {
    pub(crate) const fn new() -> CondvarCore {
        CondvarCore { seq: AtomicU32::new(0) }
    }

    fn key(&self) -> usize {
        &self.seq as *const AtomicU32 as usize
    }

    /// Runs `unlock` (which must release the mutex protecting the condition, held by the
    /// caller) and sleeps until a notification, a spurious wake-up or `deadline`. Returns
    /// whether it timed out. The caller re-takes the mutex.
    pub(crate) fn wait(&self, deadline: Option<Instant>, unlock: impl FnOnce()) -> bool {
        // Read while the mutex is held: a notification sent after the condition changed
        // (under the mutex) bumps it, and then the park below does not sleep.
        let seq = self.seq.load(Ordering::SeqCst);
        unlock();
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
        matches!(result, ParkResult::TimedOut)
    }

    /// Wakes one waiter; whether there was one.
    pub(crate) fn notify_one(&self) -> bool {
        self.seq.fetch_add(1, Ordering::SeqCst);
        // SAFETY: our own key; the callback neither panics nor calls into parking_lot_core.
        let r = unsafe { parking_lot_core::unpark_one(self.key(), |_| DEFAULT_UNPARK_TOKEN) };
        r.unparked_threads != 0
    }

    /// Wakes every waiter; how many there were.
    pub(crate) fn notify_all(&self) -> usize {
        self.seq.fetch_add(1, Ordering::SeqCst);
        // SAFETY: our own key.
        unsafe { parking_lot_core::unpark_all(self.key(), DEFAULT_UNPARK_TOKEN) }
    }
}

/// `now + timeout`, or `None` (wait forever) when that overflows, as std does.
pub(crate) fn deadline_after(timeout: std::time::Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}
