//! The lock classes of the model: one static key per kernel lock, shared by every instance
//! (the kernel's one class per init site). The keys are strict: two locks of one class
//! nested without a subclass are `recursive_locking`, as in the kernel, whatever
//! `LOCKDEP_SAME_CLASS` says.

use lockdep_core::{LockClassKey, LockMap};

/// `mm->mmap_lock` (rw-semaphore, downgrade).
pub static MMAP_LOCK: LockClassKey = LockClassKey::new_strict("mmap_lock");
/// The per-VMA lock (`vma->vm_lock`): try-only readers, write marks released in bulk.
pub static VM_LOCK: LockClassKey = LockClassKey::new_strict("vm_lock");
/// `mapping->i_mmap_rwsem` (file rmap lock).
pub static I_MMAP_RWSEM: LockClassKey = LockClassKey::new_strict("i_mmap_rwsem");
/// `anon_vma->root->rwsem` (anonymous rmap lock).
pub static ANON_VMA_RWSEM: LockClassKey = LockClassKey::new_strict("anon_vma_rwsem");
/// `mm->page_table_lock` (upper page-table levels, `vma->anon_vma` install).
pub static PAGE_TABLE_LOCK: LockClassKey = LockClassKey::new_strict("page_table_lock");
/// Split PMD/PTE page-table locks (one class, as the kernel's `ptlock_init`).
pub static PTLOCK: LockClassKey = LockClassKey::new_strict("ptlock");
/// `inode->i_rwsem`.
pub static I_RWSEM: LockClassKey = LockClassKey::new_strict("i_rwsem");
/// `mapping->invalidate_lock`.
pub static INVALIDATE_LOCK: LockClassKey = LockClassKey::new_strict("invalidate_lock");
/// The folio lock (a sleeping bit lock; tracked here although the kernel does not).
pub static FOLIO_LOCK: LockClassKey = LockClassKey::new_strict("folio_lock");
/// `mapping->i_pages` xarray lock (leaf).
pub static I_PAGES: LockClassKey = LockClassKey::new_strict("i_pages");
/// The global LRU lock (leaf).
pub static LRU_LOCK: LockClassKey = LockClassKey::new_strict("lru_lock");
/// The reclaim pseudo-lock (the kernel's `fs_reclaim` map).
pub static FS_RECLAIM: LockClassKey = LockClassKey::new_strict("fs_reclaim");
/// A device driver's mutex, taken by its `mmap` hook and its ioctl path.
pub static DRIVER_MUTEX: LockClassKey = LockClassKey::new_strict("driver_mutex");

/// The reclaim pseudo-lock instance (the kernel's `__fs_reclaim_map`).
pub static RECLAIM_MAP: LockMap = LockMap::with_key(&FS_RECLAIM);

/// `might_alloc(GFP_KERNEL)`: an allocation may enter reclaim, so it depends on the reclaim
/// pseudo-lock (acquired and released at once, as `fs_reclaim_acquire/release`).
/// In reclaim, allocations do not recurse into reclaim (`PF_MEMALLOC`).
#[track_caller]
pub fn might_alloc() {
    if IN_RECLAIM.with(|r| r.get()) {
        return;
    }
    RECLAIM_MAP.acquire(lockdep_core::Mode::Write);
    RECLAIM_MAP.release();
}

thread_local! {
    static IN_RECLAIM: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` as direct reclaim: under the reclaim pseudo-lock, with `PF_MEMALLOC` set.
#[track_caller]
pub fn in_reclaim<R>(f: impl FnOnce() -> R) -> R {
    RECLAIM_MAP.acquire(lockdep_core::Mode::Write);
    IN_RECLAIM.with(|r| r.set(true));
    struct Exit;
    impl Drop for Exit {
        fn drop(&mut self) {
            IN_RECLAIM.with(|r| r.set(false));
            RECLAIM_MAP.release();
        }
    }
    let _exit = Exit;
    f()
}

/// Declares the kernel's documented lock order (`mm-locking.md`, "The global order") as a
/// validator rule, so that any inversion is a `class_violation` even before a cycle closes.
/// The VMA lock is left out: its readers only try, and its write side is a mark.
pub fn declare_lock_order() {
    let _ = lockdep_core::rules::declare_order_keys(&[
        &[&I_RWSEM, &MMAP_LOCK, &INVALIDATE_LOCK, &FOLIO_LOCK, &I_MMAP_RWSEM, &ANON_VMA_RWSEM],
        &[&ANON_VMA_RWSEM, &PAGE_TABLE_LOCK],
        &[&ANON_VMA_RWSEM, &PTLOCK],
    ]);
}
