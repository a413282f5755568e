use lockdep_core::LockClassKey;

static MMAP_LOCK: LockClassKey = LockClassKey::new("mmap_lock");

fn main() {
    let _ = lockdep_core::lock_order! { MMAP_LOCK => VMA_LCOK };
}
