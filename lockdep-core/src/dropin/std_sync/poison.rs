//! Poisoning, as std does it: a guard dropped while its thread panics (and was not panicking
//! when it locked) marks the lock poisoned. The result types are std's own.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

/// A lock's poison flag.
pub(crate) struct Flag {
    failed: AtomicBool,
}

impl Flag {
    pub(crate) const fn new() -> Flag {
        Flag { failed: AtomicBool::new(false) }
    }

    pub(crate) fn get(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    pub(crate) fn clear(&self) {
        self.failed.store(false, Ordering::Relaxed);
    }

    /// Called when a write guard is dropped; `was_panicking` is what
    /// [`thread::panicking`] said when it was made.
    pub(crate) fn done(&self, was_panicking: bool) {
        if !was_panicking && thread::panicking() {
            self.failed.store(true, Ordering::Relaxed);
        }
    }
}

/// `Ok(value)`, or the poison error carrying it.
pub(crate) fn result<G>(poisoned: bool, value: G) -> LockResult<G> {
    if poisoned {
        Err(PoisonError::new(value))
    } else {
        Ok(value)
    }
}

/// Maps the value of a lock result, poisoned or not.
pub(crate) fn map<G, U>(r: LockResult<G>, f: impl FnOnce(G) -> U) -> LockResult<U> {
    match r {
        Ok(g) => Ok(f(g)),
        Err(e) => Err(PoisonError::new(f(e.into_inner()))),
    }
}
