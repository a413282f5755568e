//! The VMA lock and mmap lock mechanics, and basic data paths of the model.

use instrumented_mm::file::{AddressSpace, FileKind};
use instrumented_mm::mm::Mm;
use instrumented_mm::ops::{exit, fault, map, rmap};
use instrumented_mm::vma::{VM_READ, VM_SHARED, VM_WRITE};

const RW: u32 = VM_READ | VM_WRITE;

#[test]
fn vma_read_lock_fails_while_write_marked_and_recovers_after_unlock_or_downgrade() {
    let mm = Mm::new();
    let a = map::mmap(&mm, 4, RW, None, 0).expect("mapped");
    let vma = mm.lookup_rcu(a).expect("published");
    assert!(vma.start_read(&mm).is_some());
    {
        let w = mm.mmap_write();
        vma.start_write(&w);
        assert!(vma.is_write_marked(&mm));
        assert!(vma.start_read(&mm).is_none(), "write-marked VMA must refuse readers");
        vma.assert_write_locked(&mm);
    }
    assert!(vma.start_read(&mm).is_some(), "mmap write unlock ends the mark");
    let w = mm.mmap_write();
    vma.start_write(&w);
    let d = w.downgrade();
    assert_eq!(d.mode(), lockdep_core::Mode::Downgraded);
    lockdep_core::assert_exclusive(mm.mmap_lock());
    assert!(vma.start_read(&mm).is_some(), "downgrade ends the mark");
    drop(d);
    map::munmap(&mm, a, 4);
    assert!(vma.is_detached());
    assert!(vma.start_read(&mm).is_none(), "detached VMA must refuse readers");
    mm.put();
    assert!(lockdep_core::reports().is_empty(), "{:?}", lockdep_core::reports());
}

#[test]
fn fork_shares_then_copies_on_write_and_shared_file_pages_are_coherent() {
    let mm = Mm::new();
    let a = map::mmap(&mm, 8, RW, None, 0).expect("anon");
    fault::user_access(&mm, a, Some(7)).expect("write");
    let child = exit::fork(&mm);
    assert_eq!(fault::user_access(&child, a, None), Ok(7));
    fault::user_access(&child, a, Some(9)).expect("cow");
    assert_eq!(fault::user_access(&mm, a, None), Ok(7), "parent unaffected by the child's write");

    let f = AddressSpace::new(FileKind::Regular, 16);
    let p = map::mmap(&mm, 4, RW | VM_SHARED, Some((f.clone(), 2)), 0).expect("file");
    let q = map::mmap(&child, 4, RW | VM_SHARED, Some((f.clone(), 2)), 0).expect("file");
    fault::user_access(&mm, p + 1, Some(0xabc)).expect("write");
    assert_eq!(fault::user_access(&child, q + 1, None), Ok(0xabc));
    // Reclaim evicts, the next fault reads the written-back data.
    for i in 0..64 {
        rmap::reclaim(i, false, None);
    }
    assert_eq!(fault::user_access(&child, q + 1, None), Ok(0xabc));
    assert_eq!(f.read_index(3), 0xabc);
    // Truncate below the mapping: SIGBUS.
    rmap::truncate(&f, 2);
    assert_eq!(fault::user_access(&mm, p + 1, None), Err(fault::FaultError::Sigbus));
    child.put();
    mm.put();
    f.release_cache();
    drop(f);
    assert!(lockdep_core::reports().is_empty(), "{:?}", lockdep_core::reports());
}
