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

/// The `Debug` of a lock that never blocks: `name { data: .. }`, the data if the caller's try
/// succeeded (`data`), `<locked>` if not; the caller adds its own fields and finishes.
pub(crate) fn debug_lock<'a, 'b: 'a, T: ?Sized + std::fmt::Debug>(
    f: &'a mut std::fmt::Formatter<'b>,
    name: &str,
    data: Option<&T>,
) -> std::fmt::DebugStruct<'a, 'b> {
    let mut d = f.debug_struct(name);
    match data {
        Some(data) => d.field("data", &data),
        None => d.field("data", &format_args!("<locked>")),
    };
    d
}

/// `Default` and `From<T>` for lock types `$ty<T>` built by `$ty::new` (over the default raw
/// lock, like `new`: a raw-lock parameter left to inference would make `default()`
/// ambiguous). Both are `#[track_caller]`: the class is the caller's location.
macro_rules! default_and_from {
    ($($ty:ident),*) => {$(
        impl<T: Default> Default for $ty<T> {
            #[track_caller]
            fn default() -> $ty<T> {
                $ty::new(T::default())
            }
        }

        impl<T> From<T> for $ty<T> {
            #[track_caller]
            fn from(val: T) -> $ty<T> {
                $ty::new(val)
            }
        }
    )*};
}
pub(crate) use default_and_from;

default_and_from!(Mutex, RwSem, RwLock, SpinLock);
