use lockdep_core::LockClassKey;

static MMAP_LOCK: LockClassKey = LockClassKey::new("mmap_lock");
static VMA_LOCK: LockClassKey = LockClassKey::new("vma_lock");
static I_MMAP: LockClassKey = LockClassKey::new("i_mmap");

fn main() {
    let _ = lockdep_core::lock_rules! {
        order MMAP_LOCK => VMA_LOCK => I_MMAP;
        rule "vma_write_needs_mmap_write": VMA_LOCK(write) requires MMAP_LOCK(write);
        order I_MMAP => VMA_LOCK;
    };
}
