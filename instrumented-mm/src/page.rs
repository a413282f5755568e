//! Physical pages (folios): the folio lock, reference and map counts, contents, the owner
//! that the reverse map starts from, and the global LRU list that reclaim scans.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use lockdep_core::{LockMap, Mode, SpinLock};
use parking_lot::{Condvar, Mutex as PMutex};

use crate::anon::AnonVma;
use crate::classes::{might_alloc, FOLIO_LOCK, LRU_LOCK};
use crate::file::AddressSpace;

static NEXT_PAGE: AtomicU64 = AtomicU64::new(1);
static LIVE_PAGES: AtomicI64 = AtomicI64::new(0);

/// Number of pages allocated so far.
pub fn pages_allocated() -> u64 {
    NEXT_PAGE.load(Ordering::Relaxed) - 1
}

/// Number of pages allocated and not yet freed (leak check).
pub fn live_pages() -> i64 {
    LIVE_PAGES.load(Ordering::SeqCst)
}

/// The sleeping bit lock of a folio, described to the validator with a [`LockMap`].
pub struct FolioLock {
    map: LockMap,
    locked: PMutex<bool>,
    cv: Condvar,
}

impl FolioLock {
    fn new() -> FolioLock {
        FolioLock {
            map: LockMap::with_key(&FOLIO_LOCK),
            locked: PMutex::new(false),
            cv: Condvar::new(),
        }
    }
}

/// Who owns a page: where the reverse map starts.
pub enum Owner {
    /// An anonymous page: its anon_vma and linear index (`vma.pgoff + (addr - vma.start)`).
    Anon {
        /// The anon_vma (root) whose VMAs may map the page.
        anon_vma: Arc<AnonVma>,
        /// Linear page index.
        index: u64,
    },
    /// A page-cache page of a file.
    File {
        /// The mapping (weak: the page cache holds the page).
        mapping: Weak<AddressSpace>,
        /// Page offset in the file.
        index: u64,
    },
}

/// A physical page.
///
/// # Invariants
/// `refcount` = number of page-table entries mapping it + 1 if it is in a page cache + GUP
/// pins; `mapcount` = number of page-table entries mapping it.
pub struct Page {
    /// Unique id.
    pub id: u64,
    lock: FolioLock,
    /// References (see the type invariants).
    pub refcount: AtomicUsize,
    /// Page-table mappings.
    pub mapcount: AtomicUsize,
    /// The page's contents (one word).
    pub data: AtomicU64,
    /// Where the reverse map starts.
    pub owner: Owner,
    /// Set once the page left its page cache (truncate, eviction).
    pub evicted: AtomicBool,
}

impl Page {
    /// Allocates a page (may enter reclaim: `might_alloc`) and puts it on the LRU.
    #[track_caller]
    pub fn alloc(owner: Owner, data: u64) -> Arc<Page> {
        might_alloc();
        LIVE_PAGES.fetch_add(1, Ordering::SeqCst);
        let p = Arc::new(Page {
            id: NEXT_PAGE.fetch_add(1, Ordering::Relaxed),
            lock: FolioLock::new(),
            refcount: AtomicUsize::new(0),
            mapcount: AtomicUsize::new(0),
            data: AtomicU64::new(data),
            owner,
            evicted: AtomicBool::new(false),
        });
        lru_add(&p);
        p
    }

    /// Whether the page is anonymous.
    pub fn is_anon(&self) -> bool {
        matches!(self.owner, Owner::Anon { .. })
    }

    /// `folio_lock`: blocks until the folio lock is free.
    #[track_caller]
    pub fn lock(&self) -> FolioGuard<'_> {
        self.lock.map.acquire(Mode::Write);
        let mut l = self.lock.locked.lock();
        while *l {
            self.lock.cv.wait(&mut l);
        }
        *l = true;
        FolioGuard { page: self }
    }

    /// `folio_trylock`.
    #[track_caller]
    pub fn try_lock(&self) -> Option<FolioGuard<'_>> {
        let mut l = self.lock.locked.lock();
        if *l {
            return None;
        }
        *l = true;
        drop(l);
        self.lock.map.try_acquire(Mode::Write);
        Some(FolioGuard { page: self })
    }

    /// Takes a mapping reference (a PTE now maps the page).
    pub fn map_one(&self) {
        self.refcount.fetch_add(1, Ordering::SeqCst);
        self.mapcount.fetch_add(1, Ordering::SeqCst);
    }

    /// Drops a mapping reference.
    pub fn unmap_one(&self) {
        let m = self.mapcount.fetch_sub(1, Ordering::SeqCst);
        assert!(m > 0, "page {} mapcount underflow", self.id);
        let r = self.refcount.fetch_sub(1, Ordering::SeqCst);
        assert!(r > 0, "page {} refcount underflow", self.id);
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        LIVE_PAGES.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A held folio lock.
#[must_use]
pub struct FolioGuard<'a> {
    page: &'a Page,
}

impl Drop for FolioGuard<'_> {
    fn drop(&mut self) {
        self.page.lock.map.release();
        *self.page.lock.locked.lock() = false;
        self.page.lock.cv.notify_all();
    }
}

static LRU: SpinLock<Vec<Weak<Page>>> = SpinLock::with_key(Vec::new(), &LRU_LOCK);

fn lru_add(p: &Arc<Page>) {
    let mut l = LRU.lock();
    if l.len() >= 4096 {
        l.retain(|w| w.strong_count() > 0);
    }
    l.push(Arc::downgrade(p));
}

/// A page from the LRU, picked by `pick` among the live ones (reclaim's scan).
pub fn lru_pick(pick: u64) -> Option<Arc<Page>> {
    let l = LRU.lock();
    if l.is_empty() {
        return None;
    }
    let n = l.len();
    for k in 0..8 {
        let i = (pick as usize + k * 7919) % n;
        if let Some(p) = l[i].upgrade() {
            return Some(p);
        }
    }
    None
}
