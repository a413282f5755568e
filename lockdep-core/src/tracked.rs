//! [`TrackedLock`]: what assertions, predicates and `might_lock` need to know about a lock.

use crate::class::ClassId;
use crate::hook::LockClass;
use crate::rules::{Held, ModeSet};
use crate::Mode;

/// An opaque handle on a tracked lock instance: its identity and its class.
#[derive(Clone, Copy)]
pub struct LockRef<'a> {
    pub(crate) instance: usize,
    pub(crate) class: &'a LockClass,
}

impl LockRef<'_> {
    /// The lock's class in the process-wide validator (`ClassId(0)` with the `off` feature).
    pub fn class(&self) -> ClassId {
        self.class.id()
    }

    /// The lock's class name.
    pub fn class_name(&self) -> String {
        self.class.name()
    }
}

/// Implemented by every lock the validator tracks ([`Mutex`](crate::Mutex),
/// [`SpinLock`](crate::SpinLock), [`RwSem`](crate::RwSem), [`RwLock`](crate::RwLock),
/// [`LockMap`](crate::LockMap)), so that held-lock assertions and lock-state predicates can
/// name a lock instance.
pub trait TrackedLock: sealed::Sealed {
    /// The instance and its class.
    fn lock_ref(&self) -> LockRef<'_>;
}

pub(crate) mod sealed {
    /// Only this crate's lock types are tracked.
    pub trait Sealed {}
}

impl<L: TrackedLock + ?Sized> sealed::Sealed for &L {}
impl<L: TrackedLock + ?Sized> TrackedLock for &L {
    fn lock_ref(&self) -> LockRef<'_> {
        (**self).lock_ref()
    }
}

/// Questions about instances, for predicates and assertions.
impl Held<'_> {
    /// The mode in which `lock` is held (the most recent hold), if it is.
    pub fn mode(&self, lock: &impl TrackedLock) -> Option<Mode> {
        let i = lock.lock_ref().instance;
        self.entries.iter().rev().find(|e| e.instance == i).map(|e| e.mode)
    }

    /// Whether `lock` is held in a mode of `modes`.
    pub fn holds_in(&self, lock: &impl TrackedLock, modes: ModeSet) -> bool {
        self.mode(lock).is_some_and(|m| modes.contains(m))
    }

    /// Whether `lock` is held in any mode.
    pub fn holds(&self, lock: &impl TrackedLock) -> bool {
        self.mode(lock).is_some()
    }

    /// Whether `lock` is held for write.
    pub fn holds_write(&self, lock: &impl TrackedLock) -> bool {
        self.holds_in(lock, ModeSet::WRITE)
    }

    /// Whether `lock` is held shared (read, recursive read or downgraded).
    pub fn holds_read(&self, lock: &impl TrackedLock) -> bool {
        self.holds_in(lock, ModeSet::SHARED)
    }

    /// Whether `lock` is held in a mode that excludes writers and downgraders (W or D).
    pub fn holds_exclusive(&self, lock: &impl TrackedLock) -> bool {
        self.holds_in(lock, ModeSet::EXCLUSIVE)
    }
}
