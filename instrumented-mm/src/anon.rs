//! `AnonVma`: the reverse map of anonymous pages. The model keeps one anon_vma per family
//! (the kernel's root anon_vma, whose rwsem is the one every member locks).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use lockdep_core::RwSem;

use crate::classes::{might_alloc, ANON_VMA_RWSEM};
use crate::vma::Vma;

static NEXT: AtomicU64 = AtomicU64::new(1);

/// An anon_vma (root): its rwsem guards the list of VMAs that may map its pages.
pub struct AnonVma {
    /// Unique id.
    pub id: u64,
    /// The root rwsem and the VMAs linked to it (the anon_vma_chain, flattened).
    pub rwsem: RwSem<Vec<Arc<Vma>>>,
}

impl AnonVma {
    /// Allocates an anon_vma (may enter reclaim).
    pub fn alloc() -> Arc<AnonVma> {
        might_alloc();
        Arc::new(AnonVma {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            rwsem: RwSem::with_key(Vec::new(), &ANON_VMA_RWSEM),
        })
    }
}

/// Removes `vma` from a locked rmap list.
pub(crate) fn unlink(list: &mut Vec<Arc<Vma>>, vma: &Vma) {
    list.retain(|v| v.id != vma.id);
}
