//! What the once-shaped participants share (`std::sync::{Once, OnceLock, LazyLock}` and
//! `parking_lot::Once`): the once is an event node that the thread running a call through
//! it holds like a lock, from before the call (which may wait for another thread's
//! initialisation) until it returns.
//!
//! - The initialiser holds the once while it runs, so every lock it takes gets an edge from
//!   the once: `once -> L`.
//! - Every access that may wait for the initialisation (`call_once`, `get_or_init`, `set`,
//!   `wait`, a lazy's deref) acquires the once, even when the initialisation is long done
//!   (a potential wait, like the kernel's `might_lock`): `L -> once` for every lock `L`
//!   held. A lazy whose initialiser takes `L`, touched while holding `L`, is a cycle whether
//!   or not the two ever raced.
//! - An initialiser that touches its own once is `recursive_locking` (std deadlocks or panics).

use crate::hook::{self, OnceClass};

/// The once held by this thread for the duration of a call through it; released on drop
/// (also when the call panics).
pub(crate) struct Entered<'a> {
    class: &'a OnceClass,
    tracked: bool,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        hook::once_leave(self.class, self.tracked);
    }
}

/// Enters `class` at the caller's site: validated as a blocking acquisition of the once
/// (panicking here, before the call may block, when it closes a cycle in panic mode).
#[track_caller]
pub(crate) fn enter(class: &OnceClass) -> Entered<'_> {
    Entered { class, tracked: hook::once_enter(class) }
}
