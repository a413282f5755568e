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
use crate::config::{self, OnReport};
use crate::held::SiteRef;
use crate::report::Mode;
use crate::validator::AcquireReq;

/// Reports an acquisition of the lock at `instance` to the validator. Returns whether it is
/// tracked (false when validation is off), which the guard keeps for its release.
#[inline]
pub(crate) fn note_acquire(
    class: &ClassRef,
    instance: usize,
    mode: Mode,
    subclass: u32,
    trylock: bool,
    site: &'static Location<'static>,
) -> bool {
    if config::on_report() == OnReport::Off {
        return false;
    }
    let class = class.resolve(crate::global::validator());
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

/// Reports a release of a tracked acquisition.
#[inline]
pub(crate) fn note_release(class: &ClassRef, instance: usize) {
    let class = class.resolve(crate::global::validator());
    crate::global::release(instance, class, SiteRef::None);
}

/// Marker that makes guards `!Send`: the held-lock stack they refer to is per thread.
pub(crate) type NotSend = std::marker::PhantomData<*const ()>;
