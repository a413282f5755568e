//! The page tables: a sparse top level under `mm->page_table_lock`, PMD tables and PTE tables
//! each with a split lock (one `ptlock` class; nesting two of them uses subclass 1).

use std::collections::BTreeMap;
use std::sync::Arc;

use lockdep_core::SpinLock;

use crate::classes::{might_alloc, PTLOCK};
use crate::mm::Mm;
use crate::page::Page;

/// Entries per table.
pub const PTRS: u64 = 64;
/// Pages covered by one PTE table.
pub const PTE_SPAN: u64 = PTRS;
/// Pages covered by one PMD table.
pub const PMD_SPAN: u64 = PTRS * PTRS;

/// A page-table entry.
#[derive(Clone)]
pub struct Pte {
    /// The mapped page (the entry holds one `refcount` and one `mapcount`).
    pub page: Arc<Page>,
    /// Writable (else a write faults: copy on write, or a permission error).
    pub write: bool,
    /// Accessed bit (cleared by reclaim's `folio_referenced`).
    pub young: bool,
}

/// What a PTE table's lock guards.
pub struct PteSlots {
    /// The entries.
    pub entries: Vec<Option<Pte>>,
    /// Set when the table was unhooked from its PMD (retract, free): walkers that raced with
    /// it must look the table up again (the kernel's `pmd_same` re-check).
    pub detached: bool,
}

impl PteSlots {
    /// Whether no entry is present.
    pub fn is_empty(&self) -> bool {
        self.entries.iter().all(Option::is_none)
    }
}

/// A PTE table and its split lock.
pub struct PteTable {
    /// The PTE lock.
    pub ptl: SpinLock<PteSlots>,
}

/// A PMD table and its split lock.
pub struct PmdTable {
    /// The PMD lock and the PTE tables it points to.
    pub ptl: SpinLock<Vec<Option<Arc<PteTable>>>>,
}

/// The top level, guarded by `page_table_lock`.
#[derive(Default)]
pub struct Pgd {
    /// PMD tables by `addr / PMD_SPAN`.
    pub entries: BTreeMap<u64, Arc<PmdTable>>,
}

fn new_pte_table() -> Arc<PteTable> {
    might_alloc();
    Arc::new(PteTable {
        ptl: SpinLock::with_key(
            PteSlots { entries: vec![None; PTRS as usize], detached: false },
            &PTLOCK,
        ),
    })
}

fn new_pmd_table() -> Arc<PmdTable> {
    might_alloc();
    Arc::new(PmdTable { ptl: SpinLock::with_key(vec![None; PTRS as usize], &PTLOCK) })
}

/// Index of `addr` in its PTE table.
pub fn pte_index(addr: u64) -> usize {
    (addr % PTRS) as usize
}

impl Mm {
    /// The PMD table covering `addr` (`pmd_alloc`: allocated outside `page_table_lock`,
    /// installed under it).
    pub fn pmd_table(&self, addr: u64, alloc: bool) -> Option<Arc<PmdTable>> {
        let key = addr / PMD_SPAN;
        if let Some(p) = self.page_table_lock.lock().entries.get(&key) {
            return Some(p.clone());
        }
        if !alloc {
            return None;
        }
        let new = new_pmd_table();
        Some(self.page_table_lock.lock().entries.entry(key).or_insert(new).clone())
    }

    /// The PTE table covering `addr` (`pte_alloc`: installed under the PMD lock).
    pub fn pte_table(&self, addr: u64, alloc: bool) -> Option<Arc<PteTable>> {
        let pmd = self.pmd_table(addr, alloc)?;
        let i = ((addr / PTE_SPAN) % PTRS) as usize;
        if let Some(t) = &pmd.ptl.lock()[i] {
            return Some(t.clone());
        }
        if !alloc {
            return None;
        }
        let new = new_pte_table();
        let mut g = pmd.ptl.lock();
        Some(g[i].get_or_insert(new).clone())
    }

    /// Runs `f` on the entry for `addr` under its PTE lock (`pte_offset_map_lock`).
    /// `None` when there is no table and `alloc` is false.
    #[track_caller]
    pub fn with_pte<R>(
        &self,
        addr: u64,
        alloc: bool,
        f: impl FnOnce(&mut Option<Pte>) -> R,
    ) -> Option<R> {
        loop {
            let t = self.pte_table(addr, alloc)?;
            let mut g = t.ptl.lock();
            if g.detached {
                continue;
            }
            return Some(f(&mut g.entries[pte_index(addr)]));
        }
    }

    /// Runs `f(table_base, slots)` under the PTE lock of every present table meeting
    /// `[start, end)`.
    pub fn for_each_pte_table(&self, start: u64, end: u64, mut f: impl FnMut(u64, &mut PteSlots)) {
        let mut base = start - start % PTE_SPAN;
        while base < end {
            if let Some(t) = self.pte_table(base, false) {
                let mut g = t.ptl.lock();
                if !g.detached {
                    f(base, &mut g);
                }
            }
            base += PTE_SPAN;
        }
    }

    /// `zap_pte_range` over `[start, end)`: clears the entries, dropping their references.
    /// Returns how many pages were unmapped.
    pub fn zap_range(&self, start: u64, end: u64) -> usize {
        let mut n = 0;
        self.for_each_pte_table(start, end, |base, slots| {
            for a in start.max(base)..end.min(base + PTE_SPAN) {
                if let Some(pte) = slots.entries[pte_index(a)].take() {
                    crate::bugs::sleep_under_ptl(&pte.page);
                    pte.page.unmap_one();
                    n += 1;
                }
            }
        });
        n
    }

    /// `free_pgtables` for `[start, end)`: unhooks every PTE table lying wholly inside the
    /// range (PMD lock -> PTE lock /1). The tables must be empty.
    pub fn free_pte_tables(&self, start: u64, end: u64) {
        let mut base = start.div_ceil(PTE_SPAN) * PTE_SPAN;
        while base + PTE_SPAN <= end {
            if let Some(pmd) = self.pmd_table(base, false) {
                let i = ((base / PTE_SPAN) % PTRS) as usize;
                let mut g = pmd.ptl.lock();
                if let Some(t) = g[i].take() {
                    let mut s = t.ptl.lock_nested(1);
                    assert!(s.is_empty(), "freeing a page table that still maps pages");
                    s.detached = true;
                }
            }
            base += PTE_SPAN;
        }
    }

    /// Unhooks every page table (end of `exit_mmap`). Returns entries still present (a leak).
    pub fn free_all_tables(&self) -> usize {
        let pmds = std::mem::take(&mut self.page_table_lock.lock().entries);
        let mut left = 0;
        for pmd in pmds.values() {
            let mut g = pmd.ptl.lock();
            for t in g.iter_mut().filter_map(Option::take) {
                let mut s = t.ptl.lock_nested(1);
                left += s.entries.iter().filter(|e| e.is_some()).count();
                s.detached = true;
            }
        }
        left
    }

    /// Every present entry as (addr, page id, writable), for invariant checks.
    pub fn dump_ptes(&self) -> Vec<(u64, Arc<Page>, bool)> {
        let pmds: Vec<_> =
            self.page_table_lock.lock().entries.iter().map(|(k, v)| (*k, v.clone())).collect();
        let mut out = Vec::new();
        for (k, pmd) in pmds {
            let tables: Vec<_> = pmd.ptl.lock().iter().cloned().enumerate().collect();
            for (i, t) in tables {
                let Some(t) = t else { continue };
                let s = t.ptl.lock();
                for (j, e) in s.entries.iter().enumerate() {
                    if let Some(p) = e {
                        let a = k * PMD_SPAN + i as u64 * PTE_SPAN + j as u64;
                        out.push((a, p.page.clone(), p.write));
                    }
                }
            }
        }
        out
    }
}
