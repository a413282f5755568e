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
//! runs where the threads never actually deadlock. Every type reaches the validator only
//! through [`crate::hook`]; a guard releases its raw lock first and reports after.

mod mutex;
mod rwlock;
mod rwsem;
mod spin;

pub use mutex::{Mutex, MutexGuard};
pub use rwlock::RwLock;
pub use rwsem::{ReadGuard, RwSem, WriteGuard};
pub use spin::{RawSpinLock, SpinLock, SpinLockGuard};

/// Marker that makes guards `!Send`: the held-lock stack they refer to is per thread.
pub(crate) type NotSend = std::marker::PhantomData<*const ()>;
