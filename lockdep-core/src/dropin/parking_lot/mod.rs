//! `parking_lot` with validated locks: switch `use parking_lot::{Mutex, RwLock}` to
//! `use lockdep_core::parking_lot::{Mutex, RwLock}` and every acquisition is checked.
//!
//! ```
//! use lockdep_core::parking_lot::{Mutex, RwLock};
//!
//! let config = RwLock::new(String::from("a"));
//! let stats = Mutex::new(0usize);
//! {
//!     let c = config.read(); // non-recursive read
//!     *stats.lock() += c.len(); // records config -> stats
//! }
//! assert_eq!(*stats.lock(), 1);
//! ```
//!
//! | type | validated as |
//! |---|---|
//! | [`Mutex`], [`FairMutex`] | write |
//! | [`RwLock`] | `read`: non-recursive read; `read_recursive`: recursive read; `upgradable_read`: downgraded (`D`); `write`: write |
//! | [`ReentrantMutex`] | write, outermost acquisition only |
//! | [`Condvar`] | a wait releases the mutex in the held-lock stack and re-takes it after |
//! | [`Once`] | an event node: the initialiser holds it like a lock; every `call_once` acquires it (a potential wait) |
//!
//! # Differences from `parking_lot`
//! - Each lock's class is its construction site (`#[track_caller]`), also for the
//!   `const_*` constructors.
//! - Timed tries that succeed are trylocks for the validator (no edge).
//! - `Arc` guards (`lock_arc`, `read_arc`, `write_arc`, `upgradable_read_arc`, their tries)
//!   are always there (parking_lot needs its `arc_lock` feature); no `downgrade` of an `Arc`
//!   guard yet.
//! - No `force_unlock`, `bump` or `with_upgraded`; guards are never `Send`.
//! - Locks are unwind-safe like std's (parking_lot's are not).

mod condvar;
pub mod lock_api;
mod once;

pub use ::parking_lot::{RawFairMutex, RawMutex, RawRwLock, RawThreadId};
pub use condvar::{Condvar, WaitTimeoutResult};
pub use once::{Once, OnceState};

/// A validated mutex over parking_lot's raw mutex.
pub type Mutex<T> = lock_api::Mutex<RawMutex, T>;
/// A guard of a [`Mutex`].
pub type MutexGuard<'a, T> = lock_api::MutexGuard<'a, RawMutex, T>;
/// A [`MutexGuard`] narrowed by `MutexGuard::map`.
pub type MappedMutexGuard<'a, T> = lock_api::MappedMutexGuard<'a, RawMutex, T>;

/// A validated fair mutex (parking_lot's `FairMutex`: unlocks hand the lock to a waiter).
pub type FairMutex<T> = lock_api::Mutex<RawFairMutex, T>;
/// A guard of a [`FairMutex`].
pub type FairMutexGuard<'a, T> = lock_api::MutexGuard<'a, RawFairMutex, T>;
/// A [`FairMutexGuard`] narrowed by `MutexGuard::map`.
pub type MappedFairMutexGuard<'a, T> = lock_api::MappedMutexGuard<'a, RawFairMutex, T>;

/// A validated reader-writer lock over parking_lot's raw lock.
pub type RwLock<T> = lock_api::RwLock<RawRwLock, T>;
/// A shared guard of an [`RwLock`].
pub type RwLockReadGuard<'a, T> = lock_api::RwLockReadGuard<'a, RawRwLock, T>;
/// The exclusive guard of an [`RwLock`].
pub type RwLockWriteGuard<'a, T> = lock_api::RwLockWriteGuard<'a, RawRwLock, T>;
/// An upgradable guard of an [`RwLock`].
pub type RwLockUpgradableReadGuard<'a, T> = lock_api::RwLockUpgradableReadGuard<'a, RawRwLock, T>;
/// A read guard narrowed by `RwLockReadGuard::map`.
pub type MappedRwLockReadGuard<'a, T> = lock_api::MappedRwLockReadGuard<'a, RawRwLock, T>;
/// A write guard narrowed by `RwLockWriteGuard::map`.
pub type MappedRwLockWriteGuard<'a, T> = lock_api::MappedRwLockWriteGuard<'a, RawRwLock, T>;

/// A validated reentrant mutex over parking_lot's raw mutex.
pub type ReentrantMutex<T> = lock_api::ReentrantMutex<RawMutex, RawThreadId, T>;
/// A guard of a [`ReentrantMutex`].
pub type ReentrantMutexGuard<'a, T> = lock_api::ReentrantMutexGuard<'a, RawMutex, RawThreadId, T>;

/// A new [`Mutex`] in a `const` context; its class is the caller's location.
#[track_caller]
pub const fn const_mutex<T>(val: T) -> Mutex<T> {
    Mutex::new(val)
}

/// A new [`FairMutex`] in a `const` context; its class is the caller's location.
#[track_caller]
pub const fn const_fair_mutex<T>(val: T) -> FairMutex<T> {
    FairMutex::new(val)
}

/// A new [`RwLock`] in a `const` context; its class is the caller's location.
#[track_caller]
pub const fn const_rwlock<T>(val: T) -> RwLock<T> {
    RwLock::new(val)
}

/// A new [`ReentrantMutex`] in a `const` context; its class is the caller's location.
#[track_caller]
pub const fn const_reentrant_mutex<T>(val: T) -> ReentrantMutex<T> {
    ReentrantMutex::new(val)
}
