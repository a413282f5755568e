//! `std::sync` with validated locks: switch `use std::sync::{Mutex, Condvar}` to
//! `use lockdep_core::std::sync::{Mutex, Condvar}` and every acquisition is checked.
//!
//! ```
//! use lockdep_core::std::sync::{Arc, Condvar, Mutex};
//! use std::thread;
//!
//! let pair = Arc::new((Mutex::new(false), Condvar::new()));
//! let pair2 = Arc::clone(&pair);
//! let t = thread::spawn(move || {
//!     let (lock, cvar) = &*pair2;
//!     *lock.lock().unwrap() = true;
//!     cvar.notify_one();
//! });
//! let (lock, cvar) = &*pair;
//! let started = cvar.wait_while(lock.lock().unwrap(), |started| !*started).unwrap();
//! assert!(*started);
//! # drop(started);
//! t.join().unwrap();
//! ```
//!
//! | type | validated as | notes |
//! |---|---|---|
//! | [`Mutex`] | write | std's API and poisoning |
//! | [`RwLock`] | `read`: non-recursive read; `write`: write | a reader queues behind a waiting writer |
//! | [`Condvar`] | a wait releases the mutex in the held-lock stack, is a wait for the condvar's event, and re-takes the mutex after; a notify is a signal | timed waits add no edge |
//! | [`mpsc`] | `recv` is a wait for the channel's event, `send` a signal; a `sync_channel`'s `send` also waits for space, which `recv` signals | `recv_timeout`, `try_recv` add no wait edge |
//! | [`Once`], [`OnceLock`], [`LazyLock`] | the once is an event node: the initialiser holds it like a lock, every access that may wait for it (`call_once`, `get_or_init`, `set`, deref) acquires it | `get` adds no edge |
//! | [`Barrier`] | `wait` is a signal of the barrier (the locks taken and released since the last wait), then a wait for it | a lock held across `wait` is not needed by the thread's own arrival |
//! | [`Arc`], [`Weak`], [`atomic`] | not validated | std's own types, re-exported so imports keep working |
//!
//! # Differences from `std::sync`
//! - Each lock's class is its construction site (`#[track_caller]`): locks built in one
//!   helper share a class.
//! - The raw locks are parking_lot's (no fairness guarantee, like std's futex locks).
//! - `Condvar` works with this module's [`MutexGuard`] only.

mod barrier;
mod condvar;
pub mod mpsc;
mod mutex;
mod once;
mod poison;
mod rwlock;

pub use barrier::{Barrier, BarrierWaitResult};
pub use condvar::{Condvar, WaitTimeoutResult};
pub use mutex::{Mutex, MutexGuard};
pub use once::{LazyLock, Once, OnceLock, OnceState};
pub use poison::{LockResult, PoisonError, TryLockError, TryLockResult};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use std::sync::{atomic, Arc, Weak};
