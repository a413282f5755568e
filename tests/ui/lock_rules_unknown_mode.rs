use lockdep_core::LockClassKey;

static MMAP_LOCK: LockClassKey = LockClassKey::new("mmap_lock");
static VMA_LOCK: LockClassKey = LockClassKey::new("vma_lock");

fn main() {
    let _ = lockdep_core::lock_rules! {
        rule "vma_write_needs_mmap_write": VMA_LOCK(write) requires MMAP_LOCK(wirte);
    };
}
