//! `Mm`: the address space. The mmap lock (with downgrade and `mm_lock_seq`), the VMA tree
//! behind it, an RCU-like published snapshot of the tree for the lockless fault path, and the
//! page tables (see [`crate::pgtable`]).

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock as StdRwLock};

use lockdep_core::{ReadGuard, RwSem, SpinLock, WriteGuard};

use crate::classes::{MMAP_LOCK, PAGE_TABLE_LOCK};
use crate::pgtable::Pgd;
use crate::vma::Vma;

static NEXT: AtomicU64 = AtomicU64::new(1);

/// What the mmap lock guards: the VMA tree, keyed by start page.
#[derive(Default)]
pub struct MmState {
    /// The VMA tree.
    pub vmas: BTreeMap<u64, Arc<Vma>>,
}

impl MmState {
    /// `find_vma` for an exact hit: the VMA containing `addr`.
    pub fn find(&self, addr: u64) -> Option<&Arc<Vma>> {
        self.vmas.range(..=addr).next_back().map(|(_, v)| v).filter(|v| v.contains(addr))
    }
    /// The VMAs intersecting `[start, end)`, in address order.
    pub fn overlapping(&self, start: u64, end: u64) -> Vec<Arc<Vma>> {
        let first = self.vmas.range(..=start).next_back().map(|(k, _)| *k).unwrap_or(0);
        self.vmas.range(first..end).map(|(_, v)| v.clone()).filter(|v| v.end() > start).collect()
    }
    /// A free range of `len` pages in `[lo, hi)`, first fit from `hint`.
    pub fn free_range(&self, len: u64, lo: u64, hi: u64, hint: u64) -> Option<u64> {
        let try_from = |from: u64| -> Option<u64> {
            let mut at = from;
            for v in self.vmas.values() {
                if v.end() <= at {
                    continue;
                }
                if v.start() >= at + len {
                    break;
                }
                at = v.end();
            }
            (at + len <= hi).then_some(at)
        };
        try_from(hint.clamp(lo, hi)).or_else(|| try_from(lo))
    }
}

/// An address space.
pub struct Mm {
    /// Unique id.
    pub id: u64,
    mmap_lock: RwSem<MmState>,
    mm_lock_seq: AtomicU64,
    /// `mm->page_table_lock` and the top level of the page table.
    pub page_table_lock: SpinLock<Pgd>,
    snapshot: StdRwLock<Arc<Vec<Arc<Vma>>>>,
    /// `mm_users`: when it drops to zero the address space is torn down (`exit_mmap`).
    users: AtomicUsize,
    /// Set once `exit_mmap` ran.
    pub exited: AtomicBool,
}

impl Mm {
    /// A new, empty address space with one user.
    pub fn new() -> Arc<Mm> {
        Arc::new(Mm {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            mmap_lock: RwSem::with_key(MmState::default(), &MMAP_LOCK),
            mm_lock_seq: AtomicU64::new(0),
            page_table_lock: SpinLock::with_key(Pgd::default(), &PAGE_TABLE_LOCK),
            snapshot: StdRwLock::new(Arc::new(Vec::new())),
            users: AtomicUsize::new(1),
            exited: AtomicBool::new(false),
        })
    }

    /// The mmap lock itself (for assertions and predicates).
    pub fn mmap_lock(&self) -> &RwSem<MmState> {
        &self.mmap_lock
    }

    /// `mm->mm_lock_seq`.
    pub fn lock_seq(&self) -> u64 {
        self.mm_lock_seq.load(Ordering::Acquire)
    }

    /// `mmget_not_zero`.
    pub fn get(&self) -> bool {
        let mut n = self.users.load(Ordering::Acquire);
        while n > 0 {
            match self.users.compare_exchange(n, n + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return true,
                Err(m) => n = m,
            }
        }
        false
    }

    /// `mmput`: the last user tears the address space down. Call with no locks held.
    pub fn put(self: &Arc<Self>) {
        if self.users.fetch_sub(1, Ordering::AcqRel) == 1 {
            crate::ops::exit::exit_mmap(self);
        }
    }

    /// `mmap_read_lock`.
    #[track_caller]
    pub fn mmap_read(&self) -> MmapRead<'_> {
        MmapRead { g: self.mmap_lock.read() }
    }

    /// `mmap_read_trylock`.
    #[track_caller]
    pub fn mmap_read_trylock(&self) -> Option<MmapRead<'_>> {
        self.mmap_lock.try_read().map(|g| MmapRead { g })
    }

    /// `mmap_write_lock`.
    #[track_caller]
    pub fn mmap_write(&self) -> MmapWrite<'_> {
        MmapWrite { g: Some(self.mmap_lock.write()), mm: self }
    }

    /// `mmap_write_lock_nested(mm, subclass)` (fork takes the child's as subclass 1).
    #[track_caller]
    pub fn mmap_write_nested(&self, subclass: u32) -> MmapWrite<'_> {
        MmapWrite { g: Some(self.mmap_lock.write_nested(subclass)), mm: self }
    }

    /// `mmap_write_trylock`.
    #[track_caller]
    pub fn mmap_write_trylock(&self) -> Option<MmapWrite<'_>> {
        self.mmap_lock.try_write().map(|g| MmapWrite { g: Some(g), mm: self })
    }

    /// The RCU-like lookup of the fault fast path: no mmap lock, a published snapshot of the
    /// tree. The VMA found may be stale: lock it, then re-check it covers `addr`.
    pub fn lookup_rcu(&self, addr: u64) -> Option<Arc<Vma>> {
        let snap = self.snapshot.read().unwrap_or_else(|e| e.into_inner()).clone();
        let i = snap.partition_point(|v| v.start() <= addr);
        (i > 0).then(|| snap[i - 1].clone()).filter(|v| v.contains(addr))
    }

    /// The published VMA snapshot (what the lockless path sees).
    pub fn snapshot(&self) -> Arc<Vec<Arc<Vma>>> {
        self.snapshot.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn publish(&self, st: &MmState) {
        let v: Vec<_> = st.vmas.values().cloned().collect();
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(v);
    }
}

/// A read (or downgraded) hold of the mmap lock.
#[must_use]
pub struct MmapRead<'a> {
    g: ReadGuard<'a, MmState>,
}

impl MmapRead<'_> {
    /// `R` or `Downgraded`.
    pub fn mode(&self) -> lockdep_core::Mode {
        self.g.mode()
    }
}

impl Deref for MmapRead<'_> {
    type Target = MmState;
    fn deref(&self) -> &MmState {
        &self.g
    }
}

/// A write hold of the mmap lock. Releasing or downgrading it bumps `mm_lock_seq`, which
/// ends every VMA write mark taken in this hold (`vma_end_write_all`).
#[must_use]
pub struct MmapWrite<'a> {
    g: Option<WriteGuard<'a, MmState>>,
    mm: &'a Mm,
}

impl<'a> MmapWrite<'a> {
    /// The address space.
    pub fn mm(&self) -> &'a Mm {
        self.mm
    }

    /// Inserts a VMA in the tree (publishing the new tree for the lockless path).
    pub fn insert(&mut self, vma: Arc<Vma>) {
        let st = self.g.as_mut().expect("held");
        let prev = st.vmas.insert(vma.start(), vma);
        assert!(prev.is_none(), "two VMAs at one address");
        self.mm.publish(st);
    }

    /// Removes the VMA starting at `start` from the tree.
    pub fn remove(&mut self, start: u64) -> Option<Arc<Vma>> {
        let st = self.g.as_mut().expect("held");
        let v = st.vmas.remove(&start);
        self.mm.publish(st);
        v
    }

    /// Re-keys a VMA whose start changed (from `old_start`).
    pub fn rekey(&mut self, old_start: u64) {
        let st = self.g.as_mut().expect("held");
        if let Some(v) = st.vmas.remove(&old_start) {
            st.vmas.insert(v.start(), v);
        }
        self.mm.publish(st);
    }

    /// `mmap_assert_write_locked`.
    #[track_caller]
    pub fn assert_locked(&self) {
        lockdep_core::assert_held_write(&self.mm.mmap_lock);
    }

    /// `mmap_write_downgrade`: ends all VMA write marks, keeps the lock shared (mode D).
    #[track_caller]
    pub fn downgrade(mut self) -> MmapRead<'a> {
        self.mm.mm_lock_seq.fetch_add(1, Ordering::AcqRel);
        let g = self.g.take().expect("held");
        MmapRead { g: g.downgrade() }
    }
}

impl Deref for MmapWrite<'_> {
    type Target = MmState;
    fn deref(&self) -> &MmState {
        self.g.as_ref().expect("held")
    }
}

impl Drop for MmapWrite<'_> {
    fn drop(&mut self) {
        if let Some(g) = self.g.take() {
            self.mm.mm_lock_seq.fetch_add(1, Ordering::AcqRel);
            drop(g);
        }
    }
}
