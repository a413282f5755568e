//! Guards that own an `Arc` of their lock (parking_lot's `arc_lock` feature: `lock_arc`,
//! `read_arc`, ...), so they are `'static`. Each is its borrowed guard's hold kept beside the
//! `Arc`: taking and releasing go through the borrowed guard's code (one implementation).

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use lock_api::{
    RawMutex, RawMutexTimed, RawRwLock, RawRwLockDowngrade, RawRwLockRecursive, RawRwLockUpgrade,
    RawRwLockUpgradeDowngrade,
};

use super::mutex::{Mutex, MutexGuard};
use super::rwlock::{RwLock, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard};
use crate::sync::NotSend;

/// Defines an `Arc` guard over lock type `$lock` whose hold is re-made as the borrowed guard
/// by `$remake` (a method of the lock taking `tracked`), for `Drop` to release it;
/// `$accessor` names the lock (`mutex` or `rwlock`, as lock_api's).
macro_rules! arc_guard {
    ($(#[$doc:meta])* $name:ident, $lock:ident, $bound:path, $remake:ident, $accessor:ident) => {
        $(#[$doc])*
        #[must_use = "if unused the lock will immediately unlock"]
        #[clippy::has_significant_drop]
        pub struct $name<R: $bound, T: ?Sized> {
            lock: Arc<$lock<R, T>>,
            tracked: bool,
            _not_send: NotSend,
        }

        impl<R: $bound, T: ?Sized> $name<R, T> {
            /// The lock this guard holds.
            pub fn $accessor(s: &Self) -> &Arc<$lock<R, T>> {
                &s.lock
            }

            /// Takes the `Arc` out of a guard whose hold is handed over (to the borrowed
            /// guard that upgrades or downgrades it), with whether the hold is tracked.
            #[allow(dead_code, reason = "not every guard hands its hold over")]
            fn into_arc(s: Self) -> (Arc<$lock<R, T>>, bool) {
                let s = ManuallyDrop::new(s);
                // SAFETY: `s` is never used or dropped again; the `Arc` is moved out once.
                (unsafe { std::ptr::read(&s.lock) }, s.tracked)
            }
        }

        impl<R: $bound, T: ?Sized> Deref for $name<R, T> {
            type Target = T;
            fn deref(&self) -> &T {
                // SAFETY: the guard holds the lock (shared at least) for as long as it lives.
                unsafe { &*self.lock.data_ptr() }
            }
        }

        impl<R: $bound, T: ?Sized> Drop for $name<R, T> {
            fn drop(&mut self) {
                drop(self.lock.$remake(self.tracked));
            }
        }

        impl<R: $bound, T: ?Sized + std::fmt::Debug> std::fmt::Debug for $name<R, T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&**self, f)
            }
        }
    };
}

arc_guard!(
    /// A [`MutexGuard`] that owns an `Arc` of its mutex (`'static`). `!Send`.
    ArcMutexGuard, Mutex, RawMutex, guard, mutex
);
arc_guard!(
    /// A [`RwLockReadGuard`] that owns an `Arc` of its lock (`'static`). `!Send`.
    ArcRwLockReadGuard, RwLock, RawRwLock, read_guard, rwlock
);
arc_guard!(
    /// A [`RwLockWriteGuard`] that owns an `Arc` of its lock (`'static`). `!Send`.
    ArcRwLockWriteGuard, RwLock, RawRwLock, write_guard, rwlock
);
arc_guard!(
    /// A [`RwLockUpgradableReadGuard`] that owns an `Arc` of its lock (`'static`). `!Send`.
    ArcRwLockUpgradableReadGuard, RwLock, RawRwLockUpgrade, upgradable_guard, rwlock
);

impl<R: RawMutex, T: ?Sized> DerefMut for ArcMutexGuard<R, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex exclusively.
        unsafe { &mut *self.lock.data_ptr() }
    }
}

impl<R: RawRwLock, T: ?Sized> DerefMut for ArcRwLockWriteGuard<R, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock exclusively.
        unsafe { &mut *self.lock.data_ptr() }
    }
}

impl<R: RawMutex, T: ?Sized> Mutex<R, T> {
    /// [`lock`](Self::lock), with a guard that owns an `Arc` of the mutex.
    #[track_caller]
    pub fn lock_arc(self: &Arc<Self>) -> ArcMutexGuard<R, T> {
        ArcMutexGuard::keep(self, self.lock())
    }

    /// [`try_lock`](Self::try_lock), with a guard that owns an `Arc` of the mutex.
    #[track_caller]
    pub fn try_lock_arc(self: &Arc<Self>) -> Option<ArcMutexGuard<R, T>> {
        self.try_lock().map(|g| ArcMutexGuard::keep(self, g))
    }
}

impl<R: RawMutexTimed, T: ?Sized> Mutex<R, T> {
    /// [`try_lock_for`](Self::try_lock_for), with a guard that owns an `Arc` of the mutex.
    #[track_caller]
    pub fn try_lock_arc_for(self: &Arc<Self>, timeout: R::Duration) -> Option<ArcMutexGuard<R, T>> {
        self.try_lock_for(timeout).map(|g| ArcMutexGuard::keep(self, g))
    }

    /// [`try_lock_until`](Self::try_lock_until), with a guard that owns an `Arc` of the mutex.
    #[track_caller]
    pub fn try_lock_arc_until(
        self: &Arc<Self>,
        timeout: R::Instant,
    ) -> Option<ArcMutexGuard<R, T>> {
        self.try_lock_until(timeout).map(|g| ArcMutexGuard::keep(self, g))
    }
}

impl<R: RawMutex, T: ?Sized> ArcMutexGuard<R, T> {
    fn keep(lock: &Arc<Mutex<R, T>>, g: MutexGuard<'_, R, T>) -> Self {
        let g = ManuallyDrop::new(g);
        ArcMutexGuard { lock: lock.clone(), tracked: g.tracked, _not_send: NotSend::default() }
    }
}

impl<R: RawRwLock, T: ?Sized> RwLock<R, T> {
    /// [`read`](Self::read) (non-recursive), with a guard that owns an `Arc` of the lock.
    #[track_caller]
    pub fn read_arc(self: &Arc<Self>) -> ArcRwLockReadGuard<R, T> {
        ArcRwLockReadGuard::keep(self, self.read())
    }

    /// [`try_read`](Self::try_read), with a guard that owns an `Arc` of the lock.
    #[track_caller]
    pub fn try_read_arc(self: &Arc<Self>) -> Option<ArcRwLockReadGuard<R, T>> {
        self.try_read().map(|g| ArcRwLockReadGuard::keep(self, g))
    }

    /// [`write`](Self::write), with a guard that owns an `Arc` of the lock.
    #[track_caller]
    pub fn write_arc(self: &Arc<Self>) -> ArcRwLockWriteGuard<R, T> {
        ArcRwLockWriteGuard::keep(self, self.write())
    }

    /// [`try_write`](Self::try_write), with a guard that owns an `Arc` of the lock.
    #[track_caller]
    pub fn try_write_arc(self: &Arc<Self>) -> Option<ArcRwLockWriteGuard<R, T>> {
        self.try_write().map(|g| ArcRwLockWriteGuard::keep(self, g))
    }
}

impl<R: RawRwLockRecursive, T: ?Sized> RwLock<R, T> {
    /// [`read_recursive`](Self::read_recursive), with a guard that owns an `Arc` of the lock.
    #[track_caller]
    pub fn read_recursive_arc(self: &Arc<Self>) -> ArcRwLockReadGuard<R, T> {
        ArcRwLockReadGuard::keep(self, self.read_recursive())
    }
}

impl<R: RawRwLockUpgrade, T: ?Sized> RwLock<R, T> {
    /// [`upgradable_read`](Self::upgradable_read), with a guard that owns an `Arc` of the lock.
    #[track_caller]
    pub fn upgradable_read_arc(self: &Arc<Self>) -> ArcRwLockUpgradableReadGuard<R, T> {
        ArcRwLockUpgradableReadGuard::keep(self, self.upgradable_read())
    }

    /// [`try_upgradable_read`](Self::try_upgradable_read), with an `Arc`-owning guard.
    #[track_caller]
    pub fn try_upgradable_read_arc(self: &Arc<Self>) -> Option<ArcRwLockUpgradableReadGuard<R, T>> {
        self.try_upgradable_read().map(|g| ArcRwLockUpgradableReadGuard::keep(self, g))
    }
}

impl<R: RawRwLock, T: ?Sized> ArcRwLockReadGuard<R, T> {
    fn keep(lock: &Arc<RwLock<R, T>>, g: RwLockReadGuard<'_, R, T>) -> Self {
        let g = ManuallyDrop::new(g);
        ArcRwLockReadGuard { lock: lock.clone(), tracked: g.tracked, _not_send: NotSend::default() }
    }
}

impl<R: RawRwLock, T: ?Sized> ArcRwLockWriteGuard<R, T> {
    fn keep(lock: &Arc<RwLock<R, T>>, g: RwLockWriteGuard<'_, R, T>) -> Self {
        let g = ManuallyDrop::new(g);
        ArcRwLockWriteGuard {
            lock: lock.clone(),
            tracked: g.tracked,
            _not_send: NotSend::default(),
        }
    }
}

impl<R: RawRwLockUpgrade, T: ?Sized> ArcRwLockUpgradableReadGuard<R, T> {
    fn keep(lock: &Arc<RwLock<R, T>>, g: RwLockUpgradableReadGuard<'_, R, T>) -> Self {
        let g = ManuallyDrop::new(g);
        let tracked = g.tracked;
        ArcRwLockUpgradableReadGuard { lock: lock.clone(), tracked, _not_send: NotSend::default() }
    }

    /// [`RwLockUpgradableReadGuard::upgrade`]: waits for the readers to leave, validated as
    /// the borrowed guard's upgrade is.
    #[track_caller]
    pub fn upgrade(s: Self) -> ArcRwLockWriteGuard<R, T> {
        let (lock, tracked) = Self::into_arc(s);
        let w = RwLockUpgradableReadGuard::upgrade(lock.upgradable_guard(tracked));
        ArcRwLockWriteGuard::keep(&lock, w)
    }

    /// [`RwLockUpgradableReadGuard::try_upgrade`], the guard back if readers are in.
    #[track_caller]
    pub fn try_upgrade(s: Self) -> Result<ArcRwLockWriteGuard<R, T>, Self> {
        let (lock, tracked) = Self::into_arc(s);
        let tried = RwLockUpgradableReadGuard::try_upgrade(lock.upgradable_guard(tracked));
        match tried {
            Ok(w) => Ok(ArcRwLockWriteGuard::keep(&lock, w)),
            Err(u) => Err(Self::keep(&lock, u)),
        }
    }
}

impl<R: RawRwLockDowngrade, T: ?Sized> ArcRwLockWriteGuard<R, T> {
    /// [`RwLockWriteGuard::downgrade`]: the exclusive hold becomes a read hold without
    /// releasing, validated as a downgrade (a downgraded reader excludes writers and other
    /// downgraded readers, not plain readers).
    #[track_caller]
    pub fn downgrade(s: Self) -> ArcRwLockReadGuard<R, T> {
        let (lock, tracked) = Self::into_arc(s);
        let r = RwLockWriteGuard::downgrade(lock.write_guard(tracked));
        ArcRwLockReadGuard::keep(&lock, r)
    }
}

impl<R: RawRwLockUpgradeDowngrade, T: ?Sized> ArcRwLockWriteGuard<R, T> {
    /// [`RwLockWriteGuard::downgrade_to_upgradable`]: the exclusive hold becomes an
    /// upgradable one without releasing (validated as a downgrade).
    #[track_caller]
    pub fn downgrade_to_upgradable(s: Self) -> ArcRwLockUpgradableReadGuard<R, T> {
        let (lock, tracked) = Self::into_arc(s);
        let u = RwLockWriteGuard::downgrade_to_upgradable(lock.write_guard(tracked));
        ArcRwLockUpgradableReadGuard::keep(&lock, u)
    }
}

impl<R: RawRwLockUpgradeDowngrade, T: ?Sized> ArcRwLockUpgradableReadGuard<R, T> {
    /// [`RwLockUpgradableReadGuard::downgrade`]: an upgradable hold becomes a plain read
    /// hold, without releasing.
    #[track_caller]
    pub fn downgrade(s: Self) -> ArcRwLockReadGuard<R, T> {
        let (lock, tracked) = Self::into_arc(s);
        let r = RwLockUpgradableReadGuard::downgrade(lock.upgradable_guard(tracked));
        ArcRwLockReadGuard::keep(&lock, r)
    }
}
