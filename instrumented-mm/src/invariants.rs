//! Consistency checks of the model itself, run when the torture has stopped.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::Mutex as PMutex;

use crate::file::AddressSpace;
use crate::mm::Mm;
use crate::ops::fault::user_access;
use crate::page::Owner;
use crate::vma::VM_SHARED;

static VIOLATIONS: PMutex<Vec<String>> = PMutex::new(Vec::new());

/// Records a broken invariant found by the model's own code.
pub fn note_violation(msg: String) {
    VIOLATIONS.lock().push(msg);
}

/// Takes the violations recorded so far.
pub fn take_violations() -> Vec<String> {
    std::mem::take(&mut *VIOLATIONS.lock())
}

/// Checks the mapped state of `mms` and `files` (no thread may be running operations):
/// every PTE inside a VMA; every mapped page reachable by rmap from that VMA and every rmap
/// VMA attached to its mm; map and reference counts balanced; data written through one
/// shared mapping read back through every other mapping of the same file page.
pub fn check(mms: &[Arc<Mm>], files: &[Arc<AddressSpace>]) -> Vec<String> {
    let mut bad = Vec::new();
    let mut maps: HashMap<u64, (usize, Arc<crate::page::Page>)> = HashMap::new();
    for mm in mms {
        let r = mm.mmap_read();
        for (addr, page, _w) in mm.dump_ptes() {
            maps.entry(page.id).or_insert((0, page.clone())).0 += 1;
            let Some(vma) = r.find(addr) else {
                bad.push(format!("mm {}: PTE at {addr:#x} outside every VMA", mm.id));
                continue;
            };
            let ok = match &page.owner {
                Owner::Anon { anon_vma, index } => {
                    vma.anon_vma().is_some_and(|a| a.id == anon_vma.id)
                        && vma.addr_of(*index) == Some(addr)
                        && anon_vma.rwsem.read().iter().any(|v| v.id == vma.id)
                }
                Owner::File { mapping, index } => mapping.upgrade().is_some_and(|m| {
                    vma.file.as_ref().is_some_and(|f| f.id == m.id)
                        && vma.addr_of(*index) == Some(addr)
                        && m.i_mmap.read().iter().any(|v| v.id == vma.id)
                }),
            };
            if !ok {
                bad.push(format!(
                    "mm {}: page {} at {addr:#x} not reachable by rmap",
                    mm.id, page.id
                ));
            }
            if page.evicted.load(Ordering::SeqCst) && !page.is_anon() {
                bad.push(format!(
                    "mm {}: evicted page {} still mapped at {addr:#x}",
                    mm.id, page.id
                ));
            }
        }
        for v in r.vmas.values() {
            if v.is_detached() {
                bad.push(format!("mm {}: detached VMA in the tree: {v:?}", mm.id));
            }
        }
    }
    // rmap -> attached VMAs.
    let in_tree = |v: &crate::vma::Vma| {
        v.mm.upgrade()
            .is_some_and(|mm| mm.mmap_read().find(v.start()).is_some_and(|x| x.id == v.id))
    };
    for f in files {
        let list: Vec<_> = f.i_mmap.read().clone();
        for v in &list {
            if !in_tree(v) {
                bad.push(format!("file {}: i_mmap holds a VMA not in its tree: {v:?}", f.id));
            }
        }
    }
    for (id, (n, page)) in &maps {
        let m = page.mapcount.load(Ordering::SeqCst);
        let cached = match &page.owner {
            Owner::File { mapping, index } => {
                mapping.upgrade().and_then(|m| m.find(*index)).is_some_and(|p| p.id == *id) as usize
            }
            Owner::Anon { .. } => 0,
        };
        let r = page.refcount.load(Ordering::SeqCst);
        if m != *n || r != m + cached {
            bad.push(format!("page {id}: {n} PTEs, mapcount {m}, refcount {r}, cached {cached}"));
        }
    }
    // Shared file pages: write through one mapping, read through every other.
    let mut seq = 0xda7a_0000_u64;
    for f in files {
        let mut sharers: HashMap<u64, Vec<(Arc<Mm>, u64)>> = HashMap::new();
        for mm in mms {
            let r = mm.mmap_read();
            for v in r.vmas.values() {
                if v.file.as_ref().is_some_and(|x| x.id == f.id) && v.flags() & VM_SHARED != 0 {
                    let idx = v.pgoff();
                    if idx < f.size() {
                        sharers.entry(idx).or_default().push((mm.clone(), v.start()));
                    }
                }
            }
        }
        for (idx, list) in sharers.into_iter().filter(|(_, l)| l.len() >= 2).take(8) {
            seq += 1;
            let (m0, a0) = &list[0];
            if user_access(m0, *a0, Some(seq)).is_err() {
                continue; // read-only mapping
            }
            for (m, a) in &list[1..] {
                match user_access(m, *a, None) {
                    Ok(v) if v == seq => {}
                    other => bad.push(format!(
                        "file {} index {idx}: wrote {seq:#x} via mm {}, read {other:?} via mm {}",
                        f.id, m0.id, m.id
                    )),
                }
            }
            if f.read_index(idx) != seq {
                bad.push(format!("file {} index {idx}: page cache does not hold the write", f.id));
            }
        }
    }
    bad.extend(take_violations());
    bad
}
