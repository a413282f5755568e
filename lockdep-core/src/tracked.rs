//! [`TrackedLock`]: what assertions, predicates and `might_lock` need to know about a lock.

use crate::class::{ClassId, ClassRef};

/// An opaque handle on a tracked lock instance: its identity and its class.
#[derive(Clone, Copy)]
pub struct LockRef<'a> {
    pub(crate) instance: usize,
    pub(crate) class: &'a ClassRef,
}

impl LockRef<'_> {
    /// The lock's class in the process-wide validator.
    pub fn class(&self) -> ClassId {
        self.class.resolve(crate::global::validator())
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
