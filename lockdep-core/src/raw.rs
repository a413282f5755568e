//! The raw annotation API: describe a home-made lock (sequence count, refcount lock, bit
//! lock, a lock with try-only readers) to the validator.

use std::panic::Location;

use crate::class::LockClassKey;
use crate::hook::{self, LockClass};
use crate::vocab::{Mode, WaitKind};

/// A lock-dependency map for a home-made lock (the kernel's `struct lockdep_map`).
///
/// The instance is identified by the `LockMap`'s address: keep it in place (inside the lock
/// it describes) while it is held. Call [`acquire`](Self::acquire) *before* blocking, so a
/// possible deadlock is reported before it happens, and [`try_acquire`](Self::try_acquire)
/// only after a try succeeded.
///
/// # Examples
///
/// A VMA-like lock whose readers only ever try:
///
/// ```
/// use lockdep_core::{LockMap, Mode};
///
/// static VMA_LOCK: lockdep_core::LockClassKey = lockdep_core::LockClassKey::new("vma_lock");
/// let map = LockMap::with_key(&VMA_LOCK);
/// map.try_acquire(Mode::Read); // the try succeeded
/// map.release();
/// map.acquire(Mode::Write); // about to wait for readers
/// map.release();
/// ```
pub struct LockMap {
    class: LockClass,
}

impl LockMap {
    /// A map whose class is the caller's location (a sleeping lock).
    #[track_caller]
    pub const fn new() -> LockMap {
        LockMap { class: LockClass::at_caller(WaitKind::Sleeping) }
    }

    /// A map of the class `key` (a sleeping lock).
    pub const fn with_key(key: &'static LockClassKey) -> LockMap {
        LockMap { class: LockClass::keyed(key, WaitKind::Sleeping) }
    }

    /// A map of the class `key` for a lock whose waiters spin.
    pub const fn spinning(key: &'static LockClassKey) -> LockMap {
        LockMap { class: LockClass::keyed(key, WaitKind::Spinning) }
    }

    fn instance(&self) -> usize {
        self.class.instance()
    }

    #[inline]
    #[track_caller]
    fn note(
        &self,
        mode: Mode,
        subclass: u32,
        trylock: bool,
        nest: Option<&LockMap>,
        site: &'static Location<'static>,
    ) {
        let nest = nest.map(LockMap::instance);
        hook::acquire_annotated(&self.class, self.instance(), mode, subclass, trylock, nest, site);
    }

    /// Records a blocking acquisition in `mode` (call before waiting).
    #[inline]
    #[track_caller]
    pub fn acquire(&self, mode: Mode) {
        self.note(mode, 0, false, None, Location::caller());
    }

    /// Records a blocking acquisition as subclass `subclass`.
    #[inline]
    #[track_caller]
    pub fn acquire_nested(&self, mode: Mode, subclass: u32) {
        self.note(mode, subclass, false, None, Location::caller());
    }

    /// Records an acquisition nested under `nest`, which must be held: many instances of this
    /// class may then be held at once without a report, and no edges are added (the kernel's
    /// `mm_take_all_locks` pattern).
    #[track_caller]
    pub fn acquire_nest_lock(&self, mode: Mode, nest: &LockMap) {
        self.note(mode, 0, false, Some(nest), Location::caller());
    }

    /// Records a successful trylock in `mode` (call only when the try succeeded).
    #[inline]
    #[track_caller]
    pub fn try_acquire(&self, mode: Mode) {
        self.note(mode, 0, true, None, Location::caller());
    }

    /// Records the release.
    #[inline]
    #[track_caller]
    pub fn release(&self) {
        hook::release_annotated(&self.class, self.instance(), Location::caller());
    }

    /// Records a downgrade of a write hold to a downgraded read hold.
    #[track_caller]
    pub fn downgrade(&self) {
        hook::downgrade_annotated(&self.class, self.instance(), Location::caller());
    }

    /// Records that the lock is freed or re-initialised (reported if this thread holds it).
    #[track_caller]
    pub fn free(&self) {
        hook::free(&self.class, self.instance(), Location::caller());
    }

    /// The class name.
    pub fn class_name(&self) -> String {
        self.class.name()
    }
}

impl Default for LockMap {
    #[track_caller]
    fn default() -> LockMap {
        LockMap::new()
    }
}

impl std::fmt::Debug for LockMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockMap").field("class", &self.class.name()).finish()
    }
}

impl crate::tracked::sealed::Sealed for LockMap {}

impl crate::TrackedLock for LockMap {
    fn lock_ref(&self) -> crate::tracked::LockRef<'_> {
        crate::tracked::LockRef { instance: self.instance(), class: &self.class }
    }
}
