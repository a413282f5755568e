//! Drop-in families: types with the module paths and APIs of the crates they replace
//! (`std::sync`, `parking_lot`), so that switching to validated locks is an import change.
//!
//! Every type here reaches the validator only through [`crate::hook`], like the types of
//! `crate::sync`; with the `off` feature each lock is its raw lock plus its data.

mod condvar_core;
#[cfg(feature = "crossbeam")]
pub mod crossbeam_channel;
pub mod lock_api;
mod once;
pub mod parking_lot;
pub mod std_sync;
pub mod std_thread;
#[cfg(feature = "tokio")]
pub mod tokio;

use std::panic::Location;

use crate::hook::{self, LockClass, Refused};
use crate::report::Mode;

/// Re-takes a lock released for a wait (a condition variable's, or a guard's `unlocked`):
/// validates the acquisition, then runs `raw_lock`. When the validator refuses (panic mode)
/// the raw lock is still re-taken before the panic, so the caller's guard stays consistent
/// (it owns the raw lock, untracked) and unlocks it while unwinding. Returns whether the
/// hold is tracked.
#[track_caller]
pub(crate) fn relock(
    class: &LockClass,
    instance: usize,
    mode: Mode,
    raw_lock: impl FnOnce(),
) -> bool {
    match hook::acquire(class, instance, mode, 0, false, Location::caller()) {
        Ok(tracked) => {
            raw_lock();
            tracked
        }
        Err(refused) => {
            raw_lock();
            refused.raise()
        }
    }
}

/// The validator's side of an upgrade (`RwLockUpgradableReadGuard::upgrade` or a successful
/// `try_upgrade*`, raw or typed): the upgradable hold (`D`, released if `held`) becomes a
/// write acquisition. A blocking upgrade (`trylock` false) waits for the readers to leave, so
/// it is validated before the raw upgrade, as a blocking acquisition; a successful try after
/// it, as a trylock (no edge to it). `Ok(tracked)` for the write hold; on `Err` the caller
/// leaves the raw lock consistent and raises.
#[track_caller]
pub(crate) fn validate_upgrade(
    class: &LockClass,
    instance: usize,
    held: bool,
    trylock: bool,
) -> Result<bool, Refused> {
    if held {
        hook::release(class, instance);
    }
    hook::acquire(class, instance, Mode::Write, 0, trylock, Location::caller())
}
