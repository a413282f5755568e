use lockdep_core::{LockClassKey, LockMap, Mode, RwSem};

static MMAP_LOCK: LockClassKey = LockClassKey::new("ui::mmap_lock");
static VMA_LOCK: LockClassKey = LockClassKey::new("ui::vma_lock");
static I_MMAP: LockClassKey = LockClassKey::new("ui::i_mmap");

fn main() {
    lockdep_core::lock_rules! {
        order MMAP_LOCK => VMA_LOCK => I_MMAP;
        rule "vma_write_needs_mmap_write": VMA_LOCK(write) requires MMAP_LOCK(write);
        rule "no_blocking_mmap_under_vma_read": MMAP_LOCK(any, blocking) forbids VMA_LOCK(shared);
    }
    .unwrap();
    let mmap = RwSem::with_key((), &MMAP_LOCK);
    let vma = LockMap::with_key(&VMA_LOCK);
    // Legal: the trylock fallback under a VMA read lock.
    vma.try_acquire(Mode::Read);
    drop(mmap.try_read().unwrap());
    vma.release();
    assert!(lockdep_core::reports().is_empty());
    // Broken: a VMA write without the mmap lock held for write.
    vma.acquire(Mode::Write);
    vma.release();
    let reports = lockdep_core::reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].rule.as_deref(), Some("vma_write_needs_mmap_write"));
}
