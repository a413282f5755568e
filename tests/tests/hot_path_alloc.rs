//! The hot path allocates nothing: a chain already seen (distinct classes), a same-class
//! nesting already seen (judged by instances) and the first acquisition of a new lock built
//! at a site seen before (its class from the site memo, not registered again) are validated
//! with no allocation, while a first sight does allocate (which shows that the counter sees
//! the validator's work).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use lockdep_core::Mutex;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Whether this thread's allocations are counted (the test harness's own threads are not).
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

struct Counting;

// SAFETY: forwards to the system allocator; the count is an atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by this thread while `f` runs.
fn allocations_in(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

/// Two locks built at one site: one class, told apart by instance.
fn pair() -> (Mutex<u32>, Mutex<u32>) {
    let make = || Mutex::new(0);
    (make(), make())
}

#[test]
fn seen_chains_and_seen_same_class_nestings_allocate_nothing() {
    let a = Mutex::new(0u32);
    let b = Mutex::new(0u32);
    let (p, q) = pair();
    let distinct = || {
        let _ga = a.lock();
        let _gb = b.lock();
    };
    let same = || {
        let _gp = p.lock();
        let _gq = q.lock();
    };

    // First sight: new chains, new edges (and stacks, when captured): allocates.
    let first = allocations_in(|| {
        distinct();
        same();
    });
    assert!(first > 0, "a first sight allocated nothing: the counter does not see the validator");

    let distinct_seen = allocations_in(|| (0..10_000).for_each(|_| distinct()));
    let same_seen = allocations_in(|| (0..10_000).for_each(|_| same()));
    assert_eq!(distinct_seen, 0, "a seen chain of two classes allocated");
    assert_eq!(same_seen, 0, "a seen same-class nesting allocated");

    // New locks, each built at one site (a lock per object), each taken once under `a`:
    // the first one registers the site's class; the others take it from the site memo.
    let fresh = |n: usize| {
        let locks: Vec<Mutex<u32>> = (0..n).map(|_| Mutex::new(0)).collect();
        let _ga = a.lock();
        let counted = allocations_in(|| locks.iter().for_each(|l| drop(l.lock())));
        drop(_ga);
        counted
    };
    assert!(fresh(1) > 0, "the site's first lock registers its class");
    assert_eq!(fresh(1_000), 0, "new locks at a seen site allocated");
    assert!(lockdep_core::reports().is_empty(), "{:?}", lockdep_core::reports());
}
