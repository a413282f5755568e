//! Reverse-map users: reclaim (rmap walk under the reclaim pseudo-lock), truncate, the file
//! write path, khugepaged (anonymous collapse and file page-table retract), a driver ioctl.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::bugs::{self, Bug};
use crate::file::AddressSpace;
use crate::mm::Mm;
use crate::ops::fault::{gup_access, user_access, FaultError};
use crate::page::{lru_pick, Owner, Page};
use crate::pgtable::{pte_index, Pte, PTE_SPAN, PTRS};

/// What one reclaim pass did.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReclaimStats {
    /// Mappings whose accessed bit was cleared (anonymous: `folio_referenced`).
    pub aged: usize,
    /// Mappings removed (`try_to_unmap`, file pages).
    pub unmapped: usize,
    /// Pages evicted from a page cache (written back first).
    pub evicted: usize,
}

/// Direct reclaim of one LRU page, under the reclaim pseudo-lock: folio trylock; the rmap
/// lock tried, then (unless `try_only`) taken; per mapping the PTE lock. Anonymous pages
/// are aged, file pages unmapped and evicted. `remote` is an address space a (buggy)
/// shrinker touches.
pub fn reclaim(pick: u64, try_only: bool, remote: Option<(&Arc<Mm>, u64)>) -> ReclaimStats {
    crate::classes::in_reclaim(|| {
        let s = shrink_one(pick, try_only);
        if let (true, Some((mm, addr))) = (bugs::on(Bug::ReclaimRemoteAccess), remote) {
            // A shrinker reading another task's memory from reclaim: fs_reclaim -> mmap_lock.
            let _ = crate::ops::fault::access_remote(mm, addr, None);
        }
        s
    })
}

fn shrink_one(pick: u64, try_only: bool) -> ReclaimStats {
    let mut st = ReclaimStats::default();
    let Some(page) = lru_pick(pick) else { return st };
    let Some(_folio) = page.try_lock() else { return st };
    match &page.owner {
        Owner::Anon { anon_vma, index } => {
            let list = match anon_vma.rwsem.try_read() {
                Some(l) => l,
                None if try_only => return st,
                None => anon_vma.rwsem.read(),
            };
            for vma in list.iter() {
                let (Some(mm), Some(addr)) = (vma.mm.upgrade(), vma.addr_of(*index)) else {
                    continue;
                };
                mm.with_pte(addr, false, |e| {
                    if let Some(p) = e {
                        if p.page.id == page.id && p.young {
                            p.young = false;
                            st.aged += 1;
                        }
                    }
                });
            }
        }
        Owner::File { mapping, index } => {
            let Some(mapping) = mapping.upgrade() else { return st };
            {
                let list = match mapping.i_mmap.try_read() {
                    Some(l) => l,
                    None if try_only => return st,
                    None => mapping.i_mmap.read(),
                };
                for vma in list.iter() {
                    let (Some(mm), Some(addr)) = (vma.mm.upgrade(), vma.addr_of(*index)) else {
                        continue;
                    };
                    mm.with_pte(addr, false, |e| {
                        if e.as_ref().is_some_and(|p| p.page.id == page.id) {
                            e.take().expect("present").page.unmap_one();
                            st.unmapped += 1;
                        }
                    });
                }
            }
            if page.mapcount.load(Ordering::SeqCst) == 0
                && page.refcount.load(Ordering::SeqCst) == 1
                && mapping.delete_from_cache(&page, *index, true)
            {
                st.evicted += 1;
            }
        }
    }
    st
}

/// `truncate_setsize` + `truncate_pagecache`: i_rwsem W -> invalidate_lock W -> i_mmap R ->
/// PTE locks (unmap, private copies too); then per page folio lock -> i_pages.
pub fn truncate(file: &Arc<AddressSpace>, new_size: u64) -> usize {
    let _i = file.host.i_rwsem.write();
    let old = file.size();
    file.host.size.store(new_size, Ordering::Release);
    if new_size >= old {
        return 0;
    }
    let _inv = file.invalidate_lock.write();
    let mut n = 0;
    {
        let list = file.i_mmap.read();
        for vma in list.iter() {
            let Some(mm) = vma.mm.upgrade() else { continue };
            let (s, e) = (vma.start(), vma.end());
            let off = vma.pgoff();
            let from = if new_size > off { s + (new_size - off) } else { s };
            if from < e {
                n += mm.zap_range(from, e);
            }
        }
    }
    let pages: Vec<_> =
        file.i_pages.lock().range(new_size..).map(|(i, p)| (*i, p.clone())).collect();
    for (i, p) in pages {
        let _f = p.lock();
        file.delete_from_cache(&p, i, false);
    }
    file.truncate_backing(new_size);
    n
}

/// `generic_perform_write` of one word read from `mm` at `src` into `file` at `index`:
/// i_rwsem W; the user page is faulted in and read (i_rwsem -> mmap_lock) before the folio
/// lock is taken.
pub fn file_write(
    file: &Arc<AddressSpace>,
    mm: &Arc<Mm>,
    src: u64,
    index: u64,
) -> Result<u64, FaultError> {
    let _i = file.host.i_rwsem.write();
    let v = user_access(mm, src, None)?;
    if file.released.load(Ordering::SeqCst) {
        return Ok(v);
    }
    loop {
        let p = file.find_or_create(index);
        let _f = p.lock();
        if p.evicted.load(Ordering::SeqCst) {
            continue;
        }
        p.data.store(v, Ordering::SeqCst);
        break;
    }
    if index >= file.size() {
        file.host.size.store(index + 1, Ordering::Release);
    }
    Ok(v)
}

/// A driver ioctl copying a word from user memory into the device (pin_user_pages). Correct
/// drivers pin before taking their mutex; the buggy one pins under it.
pub fn driver_ioctl(file: &Arc<AddressSpace>, mm: &Arc<Mm>, addr: u64) -> Result<u64, FaultError> {
    if bugs::on(Bug::DriverMmapInversion) {
        let mut d = file.driver.lock();
        let v = gup_access(mm, addr, None)?;
        *d = d.wrapping_add(v);
        Ok(v)
    } else {
        let v = gup_access(mm, addr, None)?;
        let mut d = file.driver.lock();
        *d = d.wrapping_add(v);
        Ok(v)
    }
}

/// khugepaged anonymous collapse of the PTE table at `hint`'s VMA: scan under mmap R;
/// allocate with no lock; mmap W -> VMA W -> anon_vma W -> PMD lock -> PTE lock /1; copy
/// every page of the table into fresh pages. Returns the pages collapsed.
pub fn collapse_anon(mm: &Arc<Mm>, hint: u64) -> usize {
    let target = {
        let r = mm.mmap_read();
        r.vmas.values().find_map(|v| {
            let base = v.start().div_ceil(PTE_SPAN) * PTE_SPAN;
            (v.file.is_none()
                && v.anon_vma().is_some()
                && base + PTE_SPAN <= v.end()
                && v.end() > hint)
                .then(|| (v.id, base, v.index_of(base), v.anon_vma().expect("checked")))
        })
    };
    let Some((id, base, index0, av)) = target else { return 0 };
    let fresh: Vec<Arc<Page>> = (0..PTRS)
        .map(|k| Page::alloc(Owner::Anon { anon_vma: av.clone(), index: index0 + k }, 0))
        .collect();
    let w = mm.mmap_write();
    let Some(vma) = w.find(base).cloned() else { return 0 };
    if vma.id != id
        || vma.end() < base + PTE_SPAN
        || vma.index_of(base) != index0
        || vma.anon_vma().is_none_or(|a| a.id != av.id)
    {
        return 0;
    }
    vma.start_write(&w);
    let _a = av.rwsem.write();
    let Some(pmd) = mm.pmd_table(base, false) else { return 0 };
    let pg = pmd.ptl.lock();
    let Some(t) = pg[((base / PTE_SPAN) % PTRS) as usize].clone() else { return 0 };
    let mut s = t.ptl.lock_nested(1);
    let exclusive = |p: &Pte| p.page.is_anon() && p.page.mapcount.load(Ordering::SeqCst) == 1;
    if s.detached || s.is_empty() || !s.entries.iter().flatten().all(exclusive) {
        return 0;
    }
    let mut n = 0;
    for (k, new) in fresh.into_iter().enumerate() {
        let a = base + k as u64;
        let Some(old) = s.entries[pte_index(a)].take() else { continue };
        let page = new;
        page.data.store(old.page.data.load(Ordering::SeqCst), Ordering::SeqCst);
        page.map_one();
        old.page.unmap_one();
        s.entries[pte_index(a)] = Some(Pte { page, write: old.write, young: old.young });
        n += 1;
    }
    n
}

/// khugepaged file retract (`retract_page_tables`): i_mmap R -> PMD lock -> PTE lock /1,
/// unhooking empty page tables of every VMA mapping the file, with no mmap lock. The older
/// kernel tried mmap W and then took a *blocking* VMA write under i_mmap (the bug).
pub fn retract_file(file: &Arc<AddressSpace>) -> usize {
    let list = file.i_mmap.read();
    let mut n = 0;
    for vma in list.iter() {
        let Some(mm) = vma.mm.upgrade() else { continue };
        let _w = if bugs::on(Bug::KhugepagedRetractVmaWrite) {
            let Some(w) = mm.mmap_write_trylock() else { continue };
            vma.start_write(&w);
            Some(w)
        } else {
            None
        };
        let (s, e) = (vma.start(), vma.end());
        let mut base = s.div_ceil(PTE_SPAN) * PTE_SPAN;
        while base + PTE_SPAN <= e {
            if let Some(pmd) = mm.pmd_table(base, false) {
                let mut pg = pmd.ptl.lock();
                let i = ((base / PTE_SPAN) % PTRS) as usize;
                if let Some(t) = pg[i].clone() {
                    let mut slots = t.ptl.lock_nested(1);
                    if slots.is_empty() && !slots.detached {
                        slots.detached = true;
                        pg[i] = None;
                        n += 1;
                    }
                }
            }
            base += PTE_SPAN;
        }
    }
    n
}
