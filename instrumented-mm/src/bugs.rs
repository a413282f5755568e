//! Injected bugs: each reproduces the lock pattern of a real kernel deadlock or lockdep splat
//! (see the README for the kernel history). One bug at most is active per process.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};

use lockdep_core::Kind;

use crate::page::Page;

/// A switchable bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bug {
    /// Anonymous fault preparation under the VMA read lock takes a *blocking* mmap read lock
    /// (fixed in the kernel with `mmap_read_trylock` in `vmf_anon_prepare`).
    AnonPrepareMmapRead,
    /// mmap of a new file VMA takes i_mmap W, then VMA W (fixed: VMA W first).
    NewVmaIMmapFirst,
    /// khugepaged retract: mmap W trylock, then a *blocking* VMA write under i_mmap.
    KhugepagedRetractVmaWrite,
    /// A driver ioctl pins user pages (mmap R) under the driver mutex that its mmap hook takes
    /// under mmap W.
    DriverMmapInversion,
    /// userfaultfd move read-locks two VMAs without the subclass annotation.
    UffdMoveNoSubclass,
    /// fork takes the child's mmap lock without `SINGLE_DEPTH_NESTING`.
    ForkNoNesting,
    /// zap takes the (sleeping) folio lock under the PTE spinlock.
    SleepUnderPtl,
    /// mprotect touches user memory of a write-marked VMA while holding mmap W: the fault
    /// falls back to the mmap read lock (recursive).
    FaultUnderMmapWrite,
    /// A shrinker reads another task's memory from reclaim: fs_reclaim -> mmap_lock, while
    /// allocations under mmap W give mmap_lock -> fs_reclaim.
    ReclaimRemoteAccess,
    /// mprotect changes `vm_flags` without `vma_start_write` (the lock-state predicate
    /// "write-locked VMA" is false).
    VmaFlagsUnlocked,
}

/// What the validator must report for a bug.
#[derive(Clone, Debug)]
pub struct Expected {
    /// Report kind.
    pub kind: Kind,
    /// Classes the report must name.
    pub classes: &'static [&'static str],
}

impl Bug {
    /// Every bug.
    pub const ALL: [Bug; 10] = [
        Bug::AnonPrepareMmapRead,
        Bug::NewVmaIMmapFirst,
        Bug::KhugepagedRetractVmaWrite,
        Bug::DriverMmapInversion,
        Bug::UffdMoveNoSubclass,
        Bug::ForkNoNesting,
        Bug::SleepUnderPtl,
        Bug::FaultUnderMmapWrite,
        Bug::ReclaimRemoteAccess,
        Bug::VmaFlagsUnlocked,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Bug::AnonPrepareMmapRead => "anon-prepare-mmap-read",
            Bug::NewVmaIMmapFirst => "new-vma-i-mmap-first",
            Bug::KhugepagedRetractVmaWrite => "khugepaged-retract-vma-write",
            Bug::DriverMmapInversion => "driver-mmap-inversion",
            Bug::UffdMoveNoSubclass => "uffd-move-no-subclass",
            Bug::ForkNoNesting => "fork-no-nesting",
            Bug::SleepUnderPtl => "sleep-under-ptl",
            Bug::FaultUnderMmapWrite => "fault-under-mmap-write",
            Bug::ReclaimRemoteAccess => "reclaim-remote-access",
            Bug::VmaFlagsUnlocked => "vma-flags-unlocked",
        }
    }

    /// The kernel bug it mirrors.
    pub fn description(self) -> &'static str {
        match self {
            Bug::AnonPrepareMmapRead => "blocking mmap_read_lock under a VMA read lock in anonymous fault preparation (vmf_anon_prepare now uses mmap_read_trylock)",
            Bug::NewVmaIMmapFirst => "mmap_region took i_mmap_rwsem W before vma_start_write of the new VMA (fixed by 'mm: lock newly mapped VMA with corrected ordering')",
            Bug::KhugepagedRetractVmaWrite => "khugepaged retract_page_tables: blocking vma_start_write under i_mmap_rwsem (fixed by a trylock, then by dropping the mmap/VMA locks)",
            Bug::DriverMmapInversion => "a driver/file mmap hook takes its mutex under mmap_lock W while its ioctl pins user pages (mmap_lock R) under that mutex (f2fs, DRM drivers)",
            Bug::UffdMoveNoSubclass => "userfaultfd UFFDIO_MOVE read-locks the source and destination VMAs without a lockdep subclass",
            Bug::ForkNoNesting => "dup_mmap takes the child's mmap_lock without the SINGLE_DEPTH_NESTING annotation",
            Bug::SleepUnderPtl => "a sleeping lock (folio lock) taken under a page-table spinlock in the zap path ('sleeping function called from invalid context')",
            Bug::FaultUnderMmapWrite => "a page fault (mmap_lock R) while the same task holds mmap_lock W (copy_from_user under mmap_write_lock)",
            Bug::ReclaimRemoteAccess => "reclaim (fs_reclaim) reading another mm (mmap_lock R) while allocations under mmap_lock W enter reclaim",
            Bug::VmaFlagsUnlocked => "vm_flags changed without vma_start_write: lockless faults see a half-updated VMA (the missing-vma_start_write fixes to mprotect/mlock/stack expansion)",
        }
    }

    /// The report the validator must produce.
    pub fn expected(self) -> Expected {
        let (kind, classes): (Kind, &'static [&'static str]) = match self {
            Bug::AnonPrepareMmapRead => (Kind::CircularDependency, &["mmap_lock", "vm_lock"]),
            Bug::NewVmaIMmapFirst | Bug::KhugepagedRetractVmaWrite => {
                (Kind::CircularDependency, &["i_mmap_rwsem", "vm_lock"])
            }
            Bug::DriverMmapInversion => (Kind::CircularDependency, &["mmap_lock", "driver_mutex"]),
            Bug::UffdMoveNoSubclass => (Kind::RecursiveLocking, &["vm_lock"]),
            Bug::ForkNoNesting | Bug::FaultUnderMmapWrite => {
                (Kind::RecursiveLocking, &["mmap_lock"])
            }
            Bug::SleepUnderPtl => (Kind::InvalidWaitContext, &["ptlock", "folio_lock"]),
            Bug::ReclaimRemoteAccess => (Kind::CircularDependency, &["mmap_lock", "fs_reclaim"]),
            Bug::VmaFlagsUnlocked => (Kind::ClassViolation, &["mmap_lock"]),
        };
        Expected { kind, classes }
    }

    /// The list printed by `--list-bugs`.
    pub fn list() -> String {
        let mut s = String::new();
        for b in Bug::ALL {
            let e = b.expected();
            s.push_str(&format!(
                "{:<30} {} [{}]\n    {}\n",
                b.name(),
                e.kind,
                e.classes.join(", "),
                b.description()
            ));
        }
        s
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Bug {
    type Err = String;
    fn from_str(s: &str) -> Result<Bug, String> {
        Bug::ALL.into_iter().find(|b| b.name() == s).ok_or_else(|| {
            format!("unknown bug {s:?}; known: {}", Bug::ALL.map(Bug::name).join(", "))
        })
    }
}

static ACTIVE: AtomicU8 = AtomicU8::new(0);

/// Switches `bug` on (or every bug off) for the whole process.
pub fn set_active(bug: Option<Bug>) {
    let v = bug.map_or(0, |b| Bug::ALL.iter().position(|x| *x == b).expect("listed") as u8 + 1);
    ACTIVE.store(v, Ordering::SeqCst);
}

/// The active bug.
pub fn active() -> Option<Bug> {
    match ACTIVE.load(Ordering::Relaxed) {
        0 => None,
        n => Some(Bug::ALL[n as usize - 1]),
    }
}

/// Whether `bug` is active.
#[inline]
pub fn on(bug: Bug) -> bool {
    active() == Some(bug)
}

/// The `sleep-under-ptl` injection point, called by zap with the PTE lock held.
pub(crate) fn sleep_under_ptl(page: &Page) {
    if on(Bug::SleepUnderPtl) && !page.is_anon() {
        // folio_mark_dirty needing the folio lock: a sleeping lock under a spinlock.
        let _f = page.lock();
    }
}
