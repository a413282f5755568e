//! fork (`dup_mmap`) and exit (`exit_mmap`).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::bugs::{self, Bug};
use crate::mm::Mm;
use crate::pgtable::{pte_index, Pte, PTE_SPAN};
use crate::vma::{Vma, VM_SHARED};

/// `dup_mmap`: old mmap W -> new mmap W /1; per VMA: VMA W (parent), anon_vma W (link the
/// child), i_mmap W (file); then copy the page tables (child PTE lock -> parent PTE lock /1),
/// write-protecting private pages in both.
#[track_caller]
pub fn fork(parent: &Arc<Mm>) -> Arc<Mm> {
    let child = Mm::new();
    let pw = parent.mmap_write();
    let mut cw =
        if bugs::on(Bug::ForkNoNesting) { child.mmap_write() } else { child.mmap_write_nested(1) };
    let vmas: Vec<_> = pw.vmas.values().cloned().collect();
    for v in &vmas {
        v.start_write(&pw);
        let nv = Vma::alloc(&child, v.start(), v.end(), v.pgoff(), v.flags(), v.file.clone());
        let av = v.anon_vma();
        nv.set_anon_vma(av.clone());
        if let Some(a) = &av {
            a.rwsem.write().push(nv.clone()); // anon_vma_fork
        }
        if let Some(f) = &v.file {
            f.i_mmap.write().push(nv.clone());
        }
        cw.insert(nv.clone());
        if av.is_some() {
            copy_page_range(&child, parent, v);
        }
    }
    drop(cw);
    drop(pw);
    child
}

fn copy_page_range(child: &Mm, parent: &Mm, v: &Vma) {
    let (s, e) = (v.start(), v.end());
    let private = v.flags() & VM_SHARED == 0;
    let mut base = s - s % PTE_SPAN;
    while base < e {
        let Some(pt) = parent.pte_table(base, false) else {
            base += PTE_SPAN;
            continue;
        };
        loop {
            let ct = child.pte_table(base, true).expect("allocating walk");
            let mut c = ct.ptl.lock();
            let mut p = pt.ptl.lock_nested(1);
            if c.detached {
                continue;
            }
            if p.detached {
                break;
            }
            for a in s.max(base)..e.min(base + PTE_SPAN) {
                let i = pte_index(a);
                if let Some(pe) = &mut p.entries[i] {
                    if private {
                        pe.write = false;
                    }
                    pe.page.map_one();
                    c.entries[i] =
                        Some(Pte { page: pe.page.clone(), write: pe.write, young: false });
                }
            }
            break;
        }
        base += PTE_SPAN;
    }
}

/// `exit_mmap`: mmap R, zap everything; then mmap W, per VMA: VMA W, detach, anon_vma W and
/// i_mmap W (unlink); free the page tables.
pub fn exit_mmap(mm: &Arc<Mm>) {
    {
        let r = mm.mmap_read();
        for v in r.vmas.values() {
            mm.zap_range(v.start(), v.end());
        }
    }
    let mut w = mm.mmap_write();
    let vmas: Vec<_> = w.vmas.values().cloned().collect();
    for v in &vmas {
        v.start_write(&w);
        v.mark_detached(&w);
        crate::ops::map::unlink_vma(v);
        v.set_anon_vma(None);
        w.remove(v.start());
    }
    let left = mm.free_all_tables();
    mm.exited.store(true, Ordering::SeqCst);
    drop(w);
    if left != 0 {
        crate::invariants::note_violation(format!("exit of mm {}: {left} PTEs left", mm.id));
    }
}
