//! Instrumented lock types: std-like guards over any `lock_api` raw lock, each acquisition
//! and release reported to the process-wide validator.
//!
//! | type | waits by | shared mode | notes |
//! |---|---|---|---|
//! | [`Mutex`] | sleeping | - | |
//! | [`SpinLock`] | spinning | - | a sleeping lock under it is `invalid_wait_context` |
//! | [`RwSem`] | sleeping | non-recursive read | `downgrade`, like the kernel's rw_semaphore |
//! | [`RwLock`] | sleeping | recursive read | readers never wait for readers |
//!
//! Validation happens *before* the caller blocks, so a possible deadlock is reported even on
//! runs where the threads never actually deadlock.

mod mutex;
mod rwlock;
mod rwsem;
mod spin;

pub use mutex::{Mutex, MutexGuard};
pub use rwlock::RwLock;
pub use rwsem::{ReadGuard, RwSem, WriteGuard};
pub use spin::{RawSpinLock, SpinLock, SpinLockGuard};

use std::panic::Location;

use crate::class::ClassRef;
#[cfg(not(feature = "off"))]
use crate::config::{self, OnReport};
#[cfg(not(feature = "off"))]
use crate::held::SiteRef;
use crate::report::Mode;
#[cfg(not(feature = "off"))]
use crate::validator::AcquireReq;

/// Reports an acquisition of the lock at `instance` to the validator. Returns whether it is
/// tracked (false when validation is off), which the guard keeps for its release.
///
/// With the `off` feature the body is compiled out: every lock type is then its raw lock and
/// a guard, and this returns `false` (a constant the optimiser folds into the guard's drop).
#[inline(always)]
pub(crate) fn note_acquire(
    class: &ClassRef,
    instance: usize,
    mode: Mode,
    subclass: u32,
    trylock: bool,
    site: &'static Location<'static>,
) -> bool {
    #[cfg(not(feature = "off"))]
    {
        if config::on_report() == OnReport::Off {
            return false;
        }
        let validator = crate::global::validator();
        let class = class.resolve(validator);
        // The site goes down as a thin pointer: a `SiteRef` built here would be stored in
        // two halves and re-read whole (a store-forwarding stall on every acquisition).
        if crate::global::acquire_seen(instance, class, subclass, mode, trylock, site) {
            return true;
        }
        note_acquire_slow(class, instance, mode, subclass, trylock, site)
    }
    #[cfg(feature = "off")]
    {
        let _ = (class, instance, mode, subclass, trylock, site);
        false
    }
}

/// [`note_acquire`] for a chain not seen before (or a full stack, or recording on).
#[cfg(not(feature = "off"))]
#[cold]
#[inline(never)]
fn note_acquire_slow(
    class: crate::class::ClassId,
    instance: usize,
    mode: Mode,
    subclass: u32,
    trylock: bool,
    site: &'static Location<'static>,
) -> bool {
    crate::global::acquire(AcquireReq {
        instance,
        class,
        subclass,
        mode,
        trylock,
        site: SiteRef::Static(site),
        nest_lock: None,
    })
}

/// Reports a release of a tracked acquisition. Compiled out with the `off` feature.
#[inline(always)]
pub(crate) fn note_release(class: &ClassRef, instance: usize) {
    #[cfg(not(feature = "off"))]
    {
        if !crate::global::release_top(instance) {
            note_release_slow(class, instance);
        }
    }
    #[cfg(feature = "off")]
    {
        let _ = (class, instance);
    }
}

/// [`note_release`] of a lock that is not the top of the held stack (or recording on).
#[cfg(not(feature = "off"))]
#[cold]
#[inline(never)]
fn note_release_slow(class: &ClassRef, instance: usize) {
    let class = class.resolve(crate::global::validator());
    crate::global::release(instance, class, SiteRef::None);
}

/// Marker that makes guards `!Send`: the held-lock stack they refer to is per thread.
pub(crate) type NotSend = std::marker::PhantomData<*const ()>;
