use lockdep_core::LockClassKey;

static MMAP_LOCK: LockClassKey = LockClassKey::new("mmap_lock");

fn main() {
    let _ = lockdep_core::lock_rules! {
        rule "silly": MMAP_LOCK(write) forbids MMAP_LOCK(read);
    };
}
