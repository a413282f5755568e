//! Page faults (anonymous and file, with copy on write), user-memory access and GUP.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::anon::AnonVma;
use crate::bugs::{self, Bug};
use crate::file::FileKind;
use crate::mm::Mm;
use crate::page::{Owner, Page};
use crate::pgtable::Pte;
use crate::vma::{Vma, VM_READ, VM_SHARED, VM_WRITE};

/// Why a fault or an access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// No VMA, or the VMA forbids the access.
    Segv,
    /// Beyond the end of the file.
    Sigbus,
    /// Retried too often (a racing unmap kept winning).
    Busy,
}

/// Which lock the fault runs under.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// The VMA read lock (lockless lookup).
    VmaLock,
    /// The mmap lock (read, or the caller's write hold in a GUP from mmap W code).
    Mmap,
}

/// The fault must be retried under the mmap lock (`VM_FAULT_RETRY`).
struct Retry;

/// `handle_mm_fault` for the current task's own address space: the per-VMA-lock fast path,
/// then `lock_mm_and_find_vma` (mmap read trylock, else mmap read).
#[track_caller]
pub fn handle_fault(mm: &Arc<Mm>, addr: u64, write: bool) -> Result<(), FaultError> {
    if let Some(vma) = mm.lookup_rcu(addr) {
        if let Some(g) = vma.start_read(mm) {
            if vma.contains(addr) {
                if let Ok(r) = do_fault(mm, g.vma(), addr, write, Ctx::VmaLock) {
                    return r;
                }
            }
        }
    }
    let r = match mm.mmap_read_trylock() {
        Some(r) => r,
        None => mm.mmap_read(),
    };
    let vma = r.find(addr).cloned().ok_or(FaultError::Segv)?;
    match do_fault(mm, &vma, addr, write, Ctx::Mmap) {
        Ok(r) => r,
        Err(Retry) => Err(FaultError::Busy),
    }
}

/// A fault while the caller already holds the mmap lock (GUP, remote access).
pub fn fault_locked(
    mm: &Arc<Mm>,
    vma: &Arc<Vma>,
    addr: u64,
    write: bool,
) -> Result<(), FaultError> {
    do_fault(mm, vma, addr, write, Ctx::Mmap).unwrap_or(Err(FaultError::Busy))
}

fn do_fault(
    mm: &Arc<Mm>,
    vma: &Arc<Vma>,
    addr: u64,
    write: bool,
    ctx: Ctx,
) -> Result<Result<(), FaultError>, Retry> {
    let flags = vma.flags();
    if (write && flags & VM_WRITE == 0) || flags & VM_READ == 0 {
        return Ok(Err(FaultError::Segv));
    }
    if let Some(f) = &vma.file {
        if f.kind == FileKind::Hugetlb {
            // huge_pmd_share: look for a sibling mapping whose page table could be shared.
            let sharers = f.i_mmap.read().iter().filter(|v| v.id != vma.id).count();
            std::hint::black_box(sharers);
        }
    }
    for _ in 0..8 {
        match fault_once(mm, vma, addr, write, ctx)? {
            Step::Done => return Ok(Ok(())),
            Step::Err(e) => return Ok(Err(e)),
            Step::Again => {}
        }
    }
    Ok(Err(FaultError::Busy))
}

enum Step {
    Done,
    Again,
    Err(FaultError),
}

enum Found {
    Done,
    Missing,
    Cow(Arc<Page>),
}

/// `anon_vma_prepare` (through `vmf_anon_prepare` under the VMA lock: the mmap read lock may
/// only be *tried* there, or the fault retries under the mmap lock).
fn anon_prepare(mm: &Arc<Mm>, vma: &Arc<Vma>, ctx: Ctx) -> Result<Arc<AnonVma>, Retry> {
    if let Some(a) = vma.anon_vma() {
        return Ok(a);
    }
    let _mmap = match ctx {
        Ctx::VmaLock if bugs::on(Bug::AnonPrepareMmapRead) => Some(mm.mmap_read()),
        Ctx::VmaLock => Some(mm.mmap_read_trylock().ok_or(Retry)?),
        Ctx::Mmap => None,
    };
    let new = AnonVma::alloc();
    let mut list = new.rwsem.write();
    let ptl = mm.page_table_lock.lock();
    // vma->anon_vma is set from NULL under the mmap lock (any mode, or the VMA read lock)
    // and page_table_lock.
    lockdep_core::assert_held(&mm.page_table_lock);
    if vma.anon_vma().is_none() {
        vma.set_anon_vma(Some(new.clone()));
        list.push(vma.clone());
    }
    drop(ptl);
    drop(list);
    Ok(vma.anon_vma().expect("installed"))
}

fn fault_once(
    mm: &Arc<Mm>,
    vma: &Arc<Vma>,
    addr: u64,
    write: bool,
    ctx: Ctx,
) -> Result<Step, Retry> {
    let flags = vma.flags();
    let found = mm
        .with_pte(addr, true, |e| match e {
            Some(p) if !write || p.write => {
                p.young = true;
                Found::Done
            }
            Some(p) => {
                let shared_map = flags & VM_SHARED != 0;
                let exclusive = p.page.is_anon() && p.page.mapcount.load(Ordering::SeqCst) == 1;
                if shared_map || exclusive {
                    p.write = true; // wp fault: reuse
                    Found::Done
                } else {
                    Found::Cow(p.page.clone())
                }
            }
            None => Found::Missing,
        })
        .expect("allocating walk");
    let index = vma.index_of(addr);
    match found {
        Found::Done => Ok(Step::Done),
        Found::Cow(old) => {
            let av = anon_prepare(mm, vma, ctx)?;
            let new = Page::alloc(Owner::Anon { anon_vma: av, index }, 0);
            let ok = mm
                .with_pte(addr, true, |e| match e {
                    Some(p) if p.page.id == old.id && !p.write => {
                        new.data.store(old.data.load(Ordering::SeqCst), Ordering::SeqCst);
                        new.map_one();
                        old.unmap_one();
                        *e = Some(Pte { page: new.clone(), write: true, young: true });
                        true
                    }
                    _ => false,
                })
                .unwrap_or(false);
            Ok(if ok { Step::Done } else { Step::Again })
        }
        Found::Missing => match &vma.file {
            None => {
                let av = anon_prepare(mm, vma, ctx)?;
                let page = Page::alloc(Owner::Anon { anon_vma: av, index }, 0);
                let writable = flags & VM_WRITE != 0;
                mm.with_pte(addr, true, |e| {
                    if e.is_none() {
                        page.map_one();
                        *e = Some(Pte { page: page.clone(), write: writable, young: true });
                    }
                });
                Ok(Step::Done)
            }
            Some(file) => {
                let cow = write && flags & VM_SHARED == 0;
                let anon = if cow { Some(anon_prepare(mm, vma, ctx)?) } else { None };
                let _inv = file.invalidate_lock.read();
                if index >= file.size() || file.released.load(Ordering::SeqCst) {
                    return Ok(Step::Err(FaultError::Sigbus));
                }
                let page = file.find_or_create(index);
                let copy = anon.map(|a| Page::alloc(Owner::Anon { anon_vma: a, index }, 0));
                let _folio = page.lock();
                if page.evicted.load(Ordering::SeqCst) {
                    return Ok(Step::Again);
                }
                let writable = flags & VM_SHARED != 0 && flags & VM_WRITE != 0;
                mm.with_pte(addr, true, |e| {
                    if e.is_some() {
                        return;
                    }
                    match &copy {
                        Some(c) => {
                            c.data.store(page.data.load(Ordering::SeqCst), Ordering::SeqCst);
                            c.map_one();
                            *e = Some(Pte { page: c.clone(), write: true, young: true });
                        }
                        None => {
                            page.map_one();
                            *e = Some(Pte { page: page.clone(), write: writable, young: true });
                        }
                    }
                });
                Ok(Step::Done)
            }
        },
    }
}

fn try_access(mm: &Mm, addr: u64, write: Option<u64>) -> Option<u64> {
    mm.with_pte(addr, false, |e| match (e, write) {
        (Some(p), None) => Some(p.page.data.load(Ordering::SeqCst)),
        (Some(p), Some(v)) if p.write => {
            p.page.data.store(v, Ordering::SeqCst);
            Some(v)
        }
        _ => None,
    })
    .flatten()
}

/// `copy_{from,to}_user` of one word at `addr` of the current task's address space: the
/// access goes through the page table, faulting as needed. Returns the value read/written.
#[track_caller]
pub fn user_access(mm: &Arc<Mm>, addr: u64, write: Option<u64>) -> Result<u64, FaultError> {
    for _ in 0..16 {
        if let Some(v) = try_access(mm, addr, write) {
            return Ok(v);
        }
        handle_fault(mm, addr, write.is_some())?;
    }
    Err(FaultError::Busy)
}

/// `get_user_pages` / `access_remote_vm`: the mmap read lock of `mm` (which may be another
/// task's), then the access, faulting under the mmap lock.
#[track_caller]
pub fn gup_access(mm: &Arc<Mm>, addr: u64, write: Option<u64>) -> Result<u64, FaultError> {
    let r = mm.mmap_read();
    let vma = r.find(addr).cloned().ok_or(FaultError::Segv)?;
    for _ in 0..16 {
        if let Some(v) = try_access(mm, addr, write) {
            return Ok(v);
        }
        fault_locked(mm, &vma, addr, write.is_some())?;
    }
    Err(FaultError::Busy)
}

/// Remote access to another task's address space (`/proc/pid/mem`, ptrace): `mmget_not_zero`
/// then GUP.
pub fn access_remote(mm: &Arc<Mm>, addr: u64, write: Option<u64>) -> Result<u64, FaultError> {
    if !mm.get() {
        return Err(FaultError::Segv);
    }
    let r = gup_access(mm, addr, write);
    mm.put();
    r
}
