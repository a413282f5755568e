//! Files: `Inode` (`i_rwsem`, size) and `AddressSpace` (`i_mmap_rwsem`, `invalidate_lock`,
//! the page cache under the `i_pages` lock, and a backing store standing in for the disk).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use lockdep_core::{Mutex, RwSem, SpinLock};
use parking_lot::Mutex as PMutex;

use crate::classes::{DRIVER_MUTEX, INVALIDATE_LOCK, I_MMAP_RWSEM, I_PAGES, I_RWSEM};
use crate::page::{Owner, Page};
use crate::vma::Vma;

static NEXT: AtomicU64 = AtomicU64::new(1);

/// The inode part of a file.
pub struct Inode {
    /// `inode->i_rwsem`: taken for writing and truncating.
    pub i_rwsem: RwSem<()>,
    /// `i_size` in pages (read locklessly, written under `i_rwsem`).
    pub size: AtomicU64,
}

/// What kind of file: decides the `mmap` hook and the fault path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    Regular,
    /// A hugetlbfs-like file: faults share page tables (`huge_pmd_share` takes i_mmap R
    /// under the VMA read lock).
    Hugetlb,
    /// A device file whose `mmap` hook takes the driver mutex.
    Device,
}

/// A file's mapping: the rmap of its VMAs and its page cache.
pub struct AddressSpace {
    /// Unique id.
    pub id: u64,
    /// The inode.
    pub host: Inode,
    /// What kind of file.
    pub kind: FileKind,
    /// `mapping->i_mmap_rwsem` and the VMAs mapping the file (the i_mmap tree).
    pub i_mmap: RwSem<Vec<Arc<Vma>>>,
    /// `mapping->invalidate_lock`: shared by faults, exclusive in truncate.
    pub invalidate_lock: RwSem<()>,
    /// The page cache (`mapping->i_pages`).
    pub i_pages: SpinLock<BTreeMap<u64, Arc<Page>>>,
    /// The driver's mutex (device files) and its state.
    pub driver: Mutex<u64>,
    backing: PMutex<HashMap<u64, u64>>,
    /// Set by `release`: nothing may be added to the cache any more.
    pub released: AtomicBool,
}

impl AddressSpace {
    /// A new file of `size` pages.
    pub fn new(kind: FileKind, size: u64) -> Arc<AddressSpace> {
        Arc::new(AddressSpace {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            host: Inode { i_rwsem: RwSem::with_key((), &I_RWSEM), size: AtomicU64::new(size) },
            kind,
            i_mmap: RwSem::with_key(Vec::new(), &I_MMAP_RWSEM),
            invalidate_lock: RwSem::with_key((), &INVALIDATE_LOCK),
            i_pages: SpinLock::with_key(BTreeMap::new(), &I_PAGES),
            driver: Mutex::with_key(0, &DRIVER_MUTEX),
            backing: PMutex::new(HashMap::new()),
            released: AtomicBool::new(false),
        })
    }

    /// `i_size_read`, in pages.
    pub fn size(&self) -> u64 {
        self.host.size.load(Ordering::Acquire)
    }

    /// The cached page at `index`, if any.
    pub fn find(&self, index: u64) -> Option<Arc<Page>> {
        self.i_pages.lock().get(&index).cloned()
    }

    /// `filemap_get_folio(FGP_CREAT)`: the cached page at `index`, read from the backing store
    /// into a new page when missing. The allocation happens outside the `i_pages` lock.
    pub fn find_or_create(self: &Arc<Self>, index: u64) -> Arc<Page> {
        if let Some(p) = self.find(index) {
            return p;
        }
        let data = self.backing.lock().get(&index).copied().unwrap_or(0);
        let page = Page::alloc(Owner::File { mapping: Arc::downgrade(self), index }, data);
        let mut cache = self.i_pages.lock();
        if let Some(p) = cache.get(&index) {
            return p.clone();
        }
        page.refcount.fetch_add(1, Ordering::SeqCst);
        cache.insert(index, page.clone());
        page
    }

    /// Removes `page` from the cache (caller holds its folio lock), writing it back.
    pub fn delete_from_cache(&self, page: &Page, index: u64, writeback: bool) -> bool {
        let mut cache = self.i_pages.lock();
        match cache.get(&index) {
            Some(p) if p.id == page.id => {}
            _ => return false,
        }
        let p = cache.remove(&index).expect("present");
        drop(cache);
        if writeback {
            self.backing.lock().insert(index, p.data.load(Ordering::SeqCst));
        } else {
            self.backing.lock().remove(&index);
        }
        p.evicted.store(true, Ordering::SeqCst);
        p.refcount.fetch_sub(1, Ordering::SeqCst);
        true
    }

    /// Drops the backing store beyond `size` pages (truncate).
    pub fn truncate_backing(&self, size: u64) {
        self.backing.lock().retain(|i, _| *i < size);
    }

    /// The file's contents at `index` (cache, else backing store).
    pub fn read_index(&self, index: u64) -> u64 {
        if let Some(p) = self.find(index) {
            return p.data.load(Ordering::SeqCst);
        }
        self.backing.lock().get(&index).copied().unwrap_or(0)
    }

    /// Drops the whole page cache (the last reference to the file went away).
    pub fn release_cache(&self) {
        self.released.store(true, Ordering::SeqCst);
        let pages: Vec<_> = std::mem::take(&mut *self.i_pages.lock()).into_values().collect();
        for p in pages {
            p.evicted.store(true, Ordering::SeqCst);
            p.refcount.fetch_sub(1, Ordering::SeqCst);
        }
    }
}
