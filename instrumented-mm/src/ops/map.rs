//! mmap, munmap (with downgrade), mprotect, mremap, madvise(DONTNEED), userfaultfd move.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::bugs::{self, Bug};
use crate::file::{AddressSpace, FileKind};
use crate::mm::{Mm, MmapWrite};
use crate::page::{Owner, Page};
use crate::pgtable::{pte_index, Pte, PTE_SPAN};
use crate::vma::{Vma, VM_SHARED, VM_WRITE};

/// Lowest mappable page.
pub const MAP_LO: u64 = 16;
/// One past the highest mappable page.
pub const MAP_HI: u64 = 16 * 1024;

/// Unlinks `vma` from its rmap trees (the rmap part of `free_pgtables`): anon_vma W, i_mmap W.
pub(crate) fn unlink_vma(vma: &Vma) {
    if let Some(av) = vma.anon_vma() {
        crate::anon::unlink(&mut av.rwsem.write(), vma);
    }
    if let Some(f) = &vma.file {
        crate::anon::unlink(&mut f.i_mmap.write(), vma);
    }
}

/// `do_mmap`: maps `len` pages (a file at `pgoff`, or anonymous memory). Returns the start.
#[track_caller]
pub fn mmap(
    mm: &Arc<Mm>,
    len: u64,
    flags: u32,
    file: Option<(Arc<AddressSpace>, u64)>,
    hint: u64,
) -> Option<u64> {
    let mut w = mm.mmap_write();
    let start = w.free_range(len, MAP_LO, MAP_HI, hint)?;
    if let Some((f, _)) = &file {
        if f.kind == FileKind::Device {
            // The driver's mmap hook runs under mmap W and takes the driver's mutex.
            *f.driver.lock() += 1;
        }
    }
    if file.is_none() {
        // vma_merge_new_range with the previous anonymous VMA: VMA W -> anon_vma W.
        if let Some(prev) = w.find(start.wrapping_sub(1)).cloned() {
            if prev.end() == start && prev.file.is_none() && prev.flags() == flags {
                prev.start_write(&w);
                let av = prev.anon_vma();
                let _g = av.as_ref().map(|a| a.rwsem.write());
                prev.set_bounds(mm, prev.start(), start + len, prev.pgoff());
                return Some(start);
            }
        }
    }
    let pgoff = file.as_ref().map_or(start, |(_, o)| *o);
    let f = file.map(|(f, _)| f);
    let vma = Vma::alloc(mm, start, start + len, pgoff, flags, f.clone());
    match &f {
        Some(f) if bugs::on(Bug::NewVmaIMmapFirst) => {
            let mut l = f.i_mmap.write();
            vma.start_write(&w);
            l.push(vma.clone());
        }
        Some(f) => {
            vma.start_write(&w);
            f.i_mmap.write().push(vma.clone());
        }
        None => vma.start_write(&w),
    }
    w.insert(vma);
    Some(start)
}

/// `__split_vma`: splits `vma` at `at`; the new VMA takes `[at, end)`.
fn split(w: &mut MmapWrite<'_>, mm: &Arc<Mm>, vma: &Arc<Vma>, at: u64) -> Arc<Vma> {
    let new = Vma::alloc(mm, at, vma.end(), vma.index_of(at), vma.flags(), vma.file.clone());
    let av = vma.anon_vma();
    new.set_anon_vma(av.clone());
    if let Some(a) = &av {
        a.rwsem.write().push(new.clone()); // anon_vma_clone
    }
    vma.start_write(w);
    new.start_write(w);
    {
        let mut im = vma.file.as_ref().map(|f| f.i_mmap.write());
        let _a = av.as_ref().map(|a| a.rwsem.write());
        vma.set_bounds(mm, vma.start(), at, vma.pgoff());
        if let Some(im) = im.as_mut() {
            im.push(new.clone());
        }
    }
    w.insert(new.clone());
    new
}

/// Splits the VMAs at `start` and `end` so that whole VMAs cover `[start, end)`; returns them.
fn split_range(w: &mut MmapWrite<'_>, mm: &Arc<Mm>, start: u64, end: u64) -> Vec<Arc<Vma>> {
    let v = w.overlapping(start, end);
    if let Some(first) = v.first() {
        if first.start() < start {
            split(w, mm, first, start);
        }
    }
    if let Some(last) = w.overlapping(start, end).last().cloned() {
        if last.end() > end {
            split(w, mm, &last, end);
        }
    }
    w.overlapping(start, end)
}

/// `do_vmi_munmap`: detach under mmap W, downgrade, zap and free page tables under mmap D.
#[track_caller]
pub fn munmap(mm: &Arc<Mm>, start: u64, len: u64) -> usize {
    let end = start + len;
    let mut w = mm.mmap_write();
    let victims = split_range(&mut w, mm, start, end);
    if victims.is_empty() {
        return 0;
    }
    for v in &victims {
        v.start_write(&w);
        v.mark_detached(&w);
        w.remove(v.start());
    }
    let r = w.downgrade();
    // Zapping and freeing page tables after the downgrade rely on excluding other writers
    // and downgraders: W or D.
    lockdep_core::assert_exclusive(mm.mmap_lock());
    let mut n = 0;
    for v in &victims {
        n += mm.zap_range(v.start(), v.end());
    }
    for v in &victims {
        unlink_vma(v);
    }
    let lo = r.vmas.range(..start).next_back().map_or(0, |(_, v)| v.end());
    let hi = r.vmas.range(end..).next().map_or(u64::MAX / 2, |(_, v)| v.start());
    mm.free_pte_tables(lo.max(start - start % PTE_SPAN), hi.min(end.div_ceil(PTE_SPAN) * PTE_SPAN));
    n
}

/// `mprotect`: sets `VM_WRITE` on or off over `[start, start+len)`.
#[track_caller]
pub fn mprotect(mm: &Arc<Mm>, start: u64, len: u64, writable: bool) -> usize {
    let end = start + len;
    let mut w = mm.mmap_write();
    let vmas = split_range(&mut w, mm, start, end);
    for v in &vmas {
        if !bugs::on(Bug::VmaFlagsUnlocked) {
            v.start_write(&w);
        }
        if bugs::on(Bug::FaultUnderMmapWrite) {
            // copy_from_user of the new policy while holding mmap W: faults on a write-marked
            // VMA fall back to the mmap lock this task already holds.
            let _ = crate::ops::fault::handle_fault(mm, v.start(), false);
        }
        let f = v.flags();
        v.set_flags(mm, if writable { f | VM_WRITE } else { f & !VM_WRITE });
        if !writable {
            let (s, e) = (v.start(), v.end());
            mm.for_each_pte_table(s, e, |base, slots| {
                for a in s.max(base)..e.min(base + PTE_SPAN) {
                    if let Some(p) = &mut slots.entries[pte_index(a)] {
                        p.write = false;
                    }
                }
            });
        }
    }
    vmas.len()
}

/// `mremap(MREMAP_MAYMOVE|MREMAP_FIXED)`-like: moves the whole VMA containing `addr` to a free
/// range. Returns the new start.
#[track_caller]
pub fn mremap(mm: &Arc<Mm>, addr: u64, hint: u64) -> Option<u64> {
    let mut w = mm.mmap_write();
    let vma = w.find(addr).cloned()?;
    let (os, oe) = (vma.start(), vma.end());
    let len = oe - os;
    let ns = w.free_range(len, MAP_LO, MAP_HI, hint)?;
    // copy_vma: anon_vma W (link), VMA W new -> i_mmap W (link).
    let new = Vma::alloc(mm, ns, ns + len, vma.pgoff(), vma.flags(), vma.file.clone());
    let av = vma.anon_vma();
    new.set_anon_vma(av.clone());
    if let Some(a) = &av {
        a.rwsem.write().push(new.clone());
    }
    new.start_write(&w);
    if let Some(f) = &new.file {
        f.i_mmap.write().push(new.clone());
    }
    w.insert(new.clone());
    vma.start_write(&w);
    // move_page_tables: destination tables allocated first, then i_mmap W -> anon_vma W ->
    // old PTE lock -> new PTE lock /1 per entry.
    let mut next = os;
    while next < oe {
        let mut base = ns + (next - os);
        while base < ns + len {
            mm.pte_table(base, true);
            base += PTE_SPAN - base % PTE_SPAN;
        }
        let _im = vma.file.as_ref().map(|f| f.i_mmap.write());
        let _a = av.as_ref().map(|a| a.rwsem.write());
        while next < oe {
            let Some(ot) = mm.pte_table(next, false) else {
                next += PTE_SPAN - next % PTE_SPAN;
                continue;
            };
            let Some(nt) = mm.pte_table(ns + (next - os), false) else { break };
            let mut o = ot.ptl.lock();
            if Arc::ptr_eq(&ot, &nt) {
                let e = o.entries[pte_index(next)].take();
                o.entries[pte_index(ns + (next - os))] = e;
            } else {
                let mut n = nt.ptl.lock_nested(1);
                if n.detached {
                    break;
                }
                if !o.detached {
                    n.entries[pte_index(ns + (next - os))] = o.entries[pte_index(next)].take();
                }
            }
            drop(o);
            next += 1;
        }
    }
    vma.mark_detached(&w);
    w.remove(os);
    unlink_vma(&vma);
    mm.free_pte_tables(os, oe);
    Some(ns)
}

/// `madvise(MADV_DONTNEED)`: under the VMA read lock when one VMA covers the range, else
/// under mmap R; zaps the range.
#[track_caller]
pub fn madvise_dontneed(mm: &Arc<Mm>, start: u64, len: u64) -> usize {
    let end = start + len;
    if let Some(vma) = mm.lookup_rcu(start) {
        if let Some(g) = vma.start_read(mm) {
            if g.vma().contains(start) && end <= g.vma().end() {
                return mm.zap_range(start, end);
            }
        }
    }
    let r = mm.mmap_read();
    let mut n = 0;
    for v in r.overlapping(start, end) {
        n += mm.zap_range(start.max(v.start()), end.min(v.end()));
    }
    n
}

/// `UFFDIO_MOVE` of one page from `src` to `dst` (anonymous, private VMAs): mmap R, both VMAs
/// read-locked (the second as subclass 1), then the page moves (a fresh page takes the data).
#[track_caller]
pub fn uffd_move(mm: &Arc<Mm>, dst: u64, src: u64) -> bool {
    let r = mm.mmap_read();
    let (Some(dv), Some(sv)) = (r.find(dst).cloned(), r.find(src).cloned()) else { return false };
    let ok = |v: &Vma| v.file.is_none() && v.flags() & VM_SHARED == 0 && v.flags() & VM_WRITE != 0;
    if !ok(&dv) || !ok(&sv) || dst == src {
        return false;
    }
    let Some(av) = dv.anon_vma() else { return false };
    let page = Page::alloc(Owner::Anon { anon_vma: av, index: dv.index_of(dst) }, 0);
    let _gd = dv.start_read_locked(0);
    let _gs = (sv.id != dv.id)
        .then(|| sv.start_read_locked(if bugs::on(Bug::UffdMoveNoSubclass) { 0 } else { 1 }));
    let moved = mm.with_pte(src, false, |e| {
        let p = e.take()?;
        let v = p.page.data.load(Ordering::SeqCst);
        p.page.unmap_one();
        Some(v)
    });
    let Some(Some(v)) = moved else { return false };
    page.data.store(v, Ordering::SeqCst);
    mm.with_pte(dst, true, |e| {
        if let Some(old) = e.take() {
            old.page.unmap_one();
        }
        page.map_one();
        *e = Some(Pte { page: page.clone(), write: true, young: true });
    });
    true
}
