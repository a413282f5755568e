use lockdep_core::LockClassKey;

static I_RWSEM: LockClassKey = LockClassKey::new("ui::i_rwsem");
static MMAP_LOCK: LockClassKey = LockClassKey::new("ui::mmap_lock");
static I_MMAP: LockClassKey = LockClassKey::new("ui::i_mmap");
static ANON_VMA: LockClassKey = LockClassKey::new("ui::anon_vma");

fn main() {
    lockdep_core::lock_order! {
        I_RWSEM => MMAP_LOCK => I_MMAP => ANON_VMA;
        I_RWSEM => I_MMAP;
    }
    .unwrap();
    // Taking them out of order is now a class violation on the first inversion.
    let anon = lockdep_core::Mutex::with_key((), &ANON_VMA);
    let i_mmap = lockdep_core::Mutex::with_key((), &I_MMAP);
    let _a = anon.lock();
    let _i = i_mmap.lock();
    let reports = lockdep_core::reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].rule.as_deref(), Some("declared_order"));
}
