//! Traced raw locks for code generic over [`lock_api`]'s raw-lock traits: wrap the raw lock
//! type in [`TracedRaw`] and every `lock_api::Mutex<R, T>` / `lock_api::RwLock<R, T>` built
//! on it is validated, with no other change (dashmap-style shards generic over
//! `RawRwLock`, a crate's own `lock_api` aliases).
//!
//! ```
//! use lockdep_core::lock_api::TracedRaw;
//!
//! // Was: lock_api::Mutex<parking_lot::RawMutex, u32>
//! type Mutex<T> = lock_api::Mutex<TracedRaw<parking_lot::RawMutex>, T>;
//! type RwLock<T> = lock_api::RwLock<TracedRaw<parking_lot::RawRwLock>, T>;
//!
//! let config = RwLock::new(String::from("a"));
//! let stats = Mutex::new(0);
//! {
//!     let c = config.read(); // non-recursive read
//!     *stats.lock() += c.len(); // records config -> stats
//!     assert_eq!(lockdep_core::held_count(), 1);
//! }
//! assert_eq!(*stats.lock(), 1);
//! ```
//!
//! # Modes
//!
//! The same as the [`parking_lot`](crate::parking_lot) family's (one implementation: the
//! family's upgrade and try-upgrade go through the same validation functions):
//!
//! | raw method | validated as |
//! |---|---|
//! | `lock`, `lock_exclusive` | write |
//! | `lock_shared` | non-recursive read (waits for a queued writer) |
//! | `lock_shared_recursive` | recursive read |
//! | `lock_upgradable` | downgraded (`D`): excludes writers and upgradable readers, not readers |
//! | `upgrade` | a release of `D` and a blocking write acquisition (it waits for the readers) |
//! | `downgrade`, `downgrade_to_upgradable` | a downgrade of the write hold to `D` |
//! | `downgrade_upgradable` | nothing (the hold stays `D`) |
//! | every `try_*` (timed or not) that succeeds | a trylock in its mode: no edge to it |
//! | `unlock*`, `bump*` | the release of this thread's hold (none if it was not tracked) |
//!
//! # Lock classes
//!
//! `lock_api` builds every lock from the raw type's `const INIT`, which has no caller
//! location, so the construction site cannot be the class. The class is chosen by the second
//! type parameter, a [`RawLockClass`]:
//! - [`ByType`] (the default): one class per raw type, named `TracedRaw<inner type>`, for
//!   every lock of that type in the process. Nesting two of them is judged by their order
//!   (`LOCKDEP_SAME_CLASS=instances`, the default), so locks always taken in one order
//!   (shards by index) give no report, and a cycle among them does.
//! - A key type made by [`raw_lock_class!`](crate::raw_lock_class): one named class per key
//!   type, so two maps of one raw type are two classes.
//!
//! ```
//! use lockdep_core::lock_api::TracedRaw;
//!
//! lockdep_core::raw_lock_class!(pub struct ShardClass = "shards");
//! type ShardLock<T> = lock_api::RwLock<TracedRaw<parking_lot::RawRwLock, ShardClass>, T>;
//!
//! let shards: Vec<ShardLock<Vec<u32>>> = (0..4).map(|_| ShardLock::new(Vec::new())).collect();
//! shards[1].write().push(7);
//! assert_eq!(unsafe { shards[1].raw() }.class_name(), "shards");
//! ```
//!
//! # Differences from the inner raw lock
//! - Guards are never `Send` (`GuardMarker` is `GuardNoSend`): the held-lock stack that
//!   records a hold belongs to the acquiring thread.
//! - Locks are validated as sleeping locks, whatever the inner lock does while it waits.
//! - A successful `try_upgrade` that the validator refuses in panic mode is reported but
//!   does not panic: `lock_api`'s upgradable guard still owns the hold then, and would
//!   release it in the wrong mode while unwinding. The write hold goes on untracked.
//!
//! # Cost
//! - Each acquisition: the validator's cost for the lock types (a chain already seen: one
//!   thread-local access, a hash, one lock-free lookup, no allocation) plus the inner lock.
//! - Each release: one O(1) pop when the lock is the last one taken; else a look-up of the
//!   thread's held stack.
//! - With the `off` feature: a `TracedRaw<R>` is the size of `R` and costs what `R` costs.

mod raw;

pub use raw::TracedRaw;

use crate::class::LockClassKey;

/// Which class the locks of a [`TracedRaw`] type belong to: [`ByType`], or a key type made
/// by [`raw_lock_class!`](crate::raw_lock_class).
pub trait RawLockClass: 'static {
    /// The class key; `None`: the class of the raw type (named after it).
    const KEY: Option<&'static LockClassKey>;
}

/// The default [`RawLockClass`]: one class per raw lock type, named `TracedRaw<inner type>`.
///
/// ```
/// use lockdep_core::lock_api::TracedRaw;
///
/// let m = lock_api::Mutex::<TracedRaw<parking_lot::RawMutex>, ()>::new(());
/// let name = unsafe { m.raw() }.class_name();
/// assert_eq!(name, "TracedRaw<parking_lot::raw_mutex::RawMutex>");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ByType;

impl RawLockClass for ByType {
    const KEY: Option<&'static LockClassKey> = None;
}

/// Defines a unit type naming a lock class for [`TracedRaw`] locks (a [`RawLockClass`]
/// whose key is a `static` [`LockClassKey`] made here; `strict` makes it a
/// [`LockClassKey::new_strict`] key).
///
/// ```
/// use lockdep_core::lock_api::TracedRaw;
///
/// lockdep_core::raw_lock_class!(struct Jobs = "jobs");
/// lockdep_core::raw_lock_class!(pub struct Pages = strict "pages");
///
/// let jobs = lock_api::Mutex::<TracedRaw<parking_lot::RawMutex, Jobs>, u32>::new(0);
/// assert_eq!(unsafe { jobs.raw() }.class_name(), "jobs");
/// ```
#[macro_export]
macro_rules! raw_lock_class {
    ($(#[$meta:meta])* $vis:vis struct $name:ident = $class:literal) => {
        $crate::raw_lock_class!(@def $(#[$meta])* $vis $name, $crate::LockClassKey::new($class));
    };
    ($(#[$meta:meta])* $vis:vis struct $name:ident = strict $class:literal) => {
        $crate::raw_lock_class!(@def $(#[$meta])* $vis $name, $crate::LockClassKey::new_strict($class));
    };
    (@def $(#[$meta:meta])* $vis:vis $name:ident, $key:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        $vis struct $name;
        impl $crate::lock_api::RawLockClass for $name {
            const KEY: ::core::option::Option<&'static $crate::LockClassKey> = {
                static KEY: $crate::LockClassKey = $key;
                ::core::option::Option::Some(&KEY)
            };
        }
    };
}
