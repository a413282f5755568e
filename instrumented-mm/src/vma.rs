//! `Vma` and the per-VMA lock with the kernel's mechanics: try-only readers, write marks
//! (`vm_lock_seq == mm_lock_seq`) that all end when the mmap write lock is released or
//! downgraded, and detaching.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use lockdep_core::{LockMap, Mode};
use parking_lot::{Condvar, Mutex as PMutex};

use crate::anon::AnonVma;
use crate::classes::{might_alloc, VM_LOCK};
use crate::file::AddressSpace;
use crate::mm::{Mm, MmapWrite};

/// Readable.
pub const VM_READ: u32 = 1;
/// Writable.
pub const VM_WRITE: u32 = 2;
/// Shared mapping (writes reach the file / are seen by every mapper).
pub const VM_SHARED: u32 = 4;

static NEXT: AtomicU64 = AtomicU64::new(1);
static LIVE: AtomicU64 = AtomicU64::new(0);

/// Number of VMAs allocated and not yet freed (leak check).
pub fn live_vmas() -> u64 {
    LIVE.load(Ordering::SeqCst)
}

struct VmaLockState {
    readers: u32,
    writer_waiting: bool,
    detached: bool,
}

/// The VMA lock.
pub struct VmaLock {
    map: LockMap,
    st: PMutex<VmaLockState>,
    cv: Condvar,
    /// `vma->vm_lock_seq`: write-marked while equal to the mm's `mm_lock_seq`.
    seq: AtomicU64,
}

/// A virtual memory area. Bounds are page numbers; fields are atomics so that the holders of
/// the right locks can change them through the shared `Arc`.
pub struct Vma {
    /// Unique id.
    pub id: u64,
    /// The owning address space.
    pub mm: Weak<Mm>,
    start: AtomicU64,
    end: AtomicU64,
    pgoff: AtomicU64,
    flags: AtomicU32,
    anon_vma: PMutex<Option<Arc<AnonVma>>>,
    /// The mapped file, if any.
    pub file: Option<Arc<AddressSpace>>,
    /// The VMA lock.
    pub lock: VmaLock,
}

impl Vma {
    /// `vm_area_alloc` (may enter reclaim).
    pub fn alloc(
        mm: &Arc<Mm>,
        start: u64,
        end: u64,
        pgoff: u64,
        flags: u32,
        file: Option<Arc<AddressSpace>>,
    ) -> Arc<Vma> {
        might_alloc();
        LIVE.fetch_add(1, Ordering::SeqCst);
        Arc::new(Vma {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            mm: Arc::downgrade(mm),
            start: AtomicU64::new(start),
            end: AtomicU64::new(end),
            pgoff: AtomicU64::new(pgoff),
            flags: AtomicU32::new(flags),
            anon_vma: PMutex::new(None),
            file,
            lock: VmaLock {
                map: LockMap::with_key(&VM_LOCK),
                st: PMutex::new(VmaLockState {
                    readers: 0,
                    writer_waiting: false,
                    detached: false,
                }),
                cv: Condvar::new(),
                seq: AtomicU64::new(u64::MAX),
            },
        })
    }

    /// First page.
    pub fn start(&self) -> u64 {
        self.start.load(Ordering::Acquire)
    }
    /// One past the last page.
    pub fn end(&self) -> u64 {
        self.end.load(Ordering::Acquire)
    }
    /// File offset (or anonymous linear index) of `start`.
    pub fn pgoff(&self) -> u64 {
        self.pgoff.load(Ordering::Acquire)
    }
    /// `VM_*` flags.
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Acquire)
    }
    /// Whether `addr` is inside.
    pub fn contains(&self, addr: u64) -> bool {
        self.start() <= addr && addr < self.end()
    }
    /// The linear index of `addr` (file page offset for file VMAs).
    pub fn index_of(&self, addr: u64) -> u64 {
        self.pgoff() + (addr - self.start())
    }
    /// The address mapping linear index `index`, if inside.
    pub fn addr_of(&self, index: u64) -> Option<u64> {
        let (s, e, off) = (self.start(), self.end(), self.pgoff());
        (index >= off && index - off < e - s).then(|| s + (index - off))
    }
    /// The anon_vma, if prepared.
    pub fn anon_vma(&self) -> Option<Arc<AnonVma>> {
        self.anon_vma.lock().clone()
    }
    /// Whether the VMA is private (writes copy on write).
    pub fn is_private(&self) -> bool {
        self.flags() & VM_SHARED == 0
    }

    /// Asserts the lock-state predicate "write-locked VMA": the mmap lock held for write by
    /// this thread and the VMA write-marked in this hold (`vma_assert_write_locked`).
    #[track_caller]
    pub fn assert_write_locked(&self, mm: &Mm) {
        let marked = self.is_write_marked(mm);
        lockdep_core::assert_state("write-locked VMA", |h| h.holds_write(mm.mmap_lock()) && marked);
    }

    /// Sets `vm_flags` (`vm_flags_reset`: asserts a write-locked VMA).
    #[track_caller]
    pub(crate) fn set_flags(&self, mm: &Mm, f: u32) {
        self.assert_write_locked(mm);
        self.flags.store(f, Ordering::Release);
    }
    /// Sets the bounds: a write-locked VMA and the rmap locks for write (`vma_prepare`).
    #[track_caller]
    pub(crate) fn set_bounds(&self, mm: &Mm, start: u64, end: u64, pgoff: u64) {
        self.assert_write_locked(mm);
        if let Some(a) = self.anon_vma() {
            lockdep_core::assert_held_write(&a.rwsem);
        }
        if let Some(f) = &self.file {
            lockdep_core::assert_held_write(&f.i_mmap);
        }
        self.start.store(start, Ordering::Release);
        self.end.store(end, Ordering::Release);
        self.pgoff.store(pgoff, Ordering::Release);
    }
    /// Sets `vma->anon_vma` (mmap R + page_table_lock from NULL; or a new VMA not yet visible).
    pub(crate) fn set_anon_vma(&self, a: Option<Arc<AnonVma>>) {
        *self.anon_vma.lock() = a;
    }

    /// Whether the VMA is write-marked in the current mmap write hold.
    pub fn is_write_marked(&self, mm: &Mm) -> bool {
        self.lock.seq.load(Ordering::Acquire) == mm.lock_seq()
    }

    /// Whether the VMA was detached from its tree.
    pub fn is_detached(&self) -> bool {
        self.lock.st.lock().detached
    }

    /// `vma_start_read`: try to read-lock; fails when write-marked, when a writer waits, or
    /// when detached. Never waits.
    #[track_caller]
    pub fn start_read(self: &Arc<Self>, mm: &Mm) -> Option<VmaReadGuard> {
        let mut st = self.lock.st.lock();
        if st.detached || st.writer_waiting || self.is_write_marked(mm) {
            return None;
        }
        st.readers += 1;
        drop(st);
        self.lock.map.try_acquire(Mode::Read);
        Some(VmaReadGuard { vma: self.clone() })
    }

    /// `vma_start_read_locked{,_nested}`: a blocking read lock taken under the mmap read lock
    /// (no writer can be marking), as userfaultfd move does.
    #[track_caller]
    pub fn start_read_locked(self: &Arc<Self>, subclass: u32) -> VmaReadGuard {
        self.lock.map.acquire_nested(Mode::Read, subclass);
        let mut st = self.lock.st.lock();
        while st.writer_waiting {
            self.lock.cv.wait(&mut st);
        }
        st.readers += 1;
        VmaReadGuard { vma: self.clone() }
    }

    /// `vma_start_write`: requires the mmap lock for write; waits for readers to leave, then
    /// write-marks the VMA until the mmap write lock is released or downgraded.
    #[track_caller]
    pub fn start_write(&self, w: &MmapWrite<'_>) {
        let mm = w.mm();
        w.assert_locked();
        let seq = mm.lock_seq();
        if self.lock.seq.load(Ordering::Acquire) == seq {
            return;
        }
        self.lock.map.acquire(Mode::Write);
        let mut st = self.lock.st.lock();
        st.writer_waiting = true;
        while st.readers > 0 {
            self.lock.cv.wait(&mut st);
        }
        self.lock.seq.store(seq, Ordering::Release);
        st.writer_waiting = false;
        drop(st);
        self.lock.cv.notify_all();
        self.lock.map.release();
    }

    /// `vma_start_write` from a context that may not block (khugepaged's fixed retract):
    /// succeeds only when no reader holds the VMA.
    #[track_caller]
    pub fn try_start_write(&self, w: &MmapWrite<'_>) -> bool {
        let seq = w.mm().lock_seq();
        let st = self.lock.st.lock();
        if self.lock.seq.load(Ordering::Acquire) == seq {
            return true;
        }
        if st.readers > 0 {
            return false;
        }
        self.lock.seq.store(seq, Ordering::Release);
        drop(st);
        self.lock.map.try_acquire(Mode::Write);
        self.lock.map.release();
        true
    }

    /// `vma_mark_detached`: the VMA must be write-locked; new readers now fail.
    pub fn mark_detached(&self, w: &MmapWrite<'_>) {
        assert!(self.is_write_marked(w.mm()), "detaching a VMA that is not write-locked");
        let mut st = self.lock.st.lock();
        while st.readers > 0 {
            self.lock.cv.wait(&mut st);
        }
        st.detached = true;
    }
}

impl Drop for Vma {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for Vma {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Vma#{}[{:#x}..{:#x} off {} flags {}]",
            self.id,
            self.start(),
            self.end(),
            self.pgoff(),
            self.flags()
        )
    }
}

/// A held VMA read lock.
#[must_use]
pub struct VmaReadGuard {
    vma: Arc<Vma>,
}

impl VmaReadGuard {
    /// The locked VMA.
    pub fn vma(&self) -> &Arc<Vma> {
        &self.vma
    }
}

impl Drop for VmaReadGuard {
    fn drop(&mut self) {
        self.vma.lock.map.release();
        let mut st = self.vma.lock.st.lock();
        st.readers -= 1;
        if st.readers == 0 {
            drop(st);
            self.vma.lock.cv.notify_all();
        }
    }
}
