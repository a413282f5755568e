//! `lock_api`-shaped validated types, generic over the raw lock (as `parking_lot::lock_api`
//! re-exports `lock_api`): the types of [`crate::parking_lot`] are these over parking_lot's
//! raw locks. The raw-lock traits are lock_api's own.

mod arc;
mod mutex;
mod remutex;
mod rwlock;

pub use arc::{
    ArcMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard, ArcRwLockWriteGuard,
};
pub use lock_api::{
    GetThreadId, RawMutex, RawMutexFair, RawMutexTimed, RawRwLock, RawRwLockDowngrade,
    RawRwLockFair, RawRwLockRecursive, RawRwLockRecursiveTimed, RawRwLockTimed, RawRwLockUpgrade,
    RawRwLockUpgradeDowngrade, RawRwLockUpgradeFair, RawRwLockUpgradeTimed,
};
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard};
pub use remutex::{ReentrantMutex, ReentrantMutexGuard};
pub use rwlock::{
    MappedRwLockReadGuard, MappedRwLockWriteGuard, RwLock, RwLockReadGuard,
    RwLockUpgradableReadGuard, RwLockWriteGuard,
};
