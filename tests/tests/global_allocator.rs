//! A lockdep `SpinLock` inside the `#[global_allocator]`: the validator allocates (reading
//! its configuration before `main`, registering classes, building reports), which takes that
//! lock again from inside the validator. The tracer never re-enters itself: such inner
//! acquisitions are simply not tracked, and the program runs.

use std::alloc::{GlobalAlloc, Layout, System};

use lockdep_core::SpinLock;

static ALLOCATIONS: SpinLock<u64> = SpinLock::new(0);

struct Counting;

// SAFETY: forwards to the system allocator; the count is kept under a lock.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        *ALLOCATIONS.lock() += 1;
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

#[test]
fn a_lockdep_lock_in_the_global_allocator_runs() {
    let before = *ALLOCATIONS.lock();
    let a = lockdep_core::Mutex::new(vec![1u8; 16]);
    let b = lockdep_core::Mutex::new(String::from("x"));
    {
        let mut ga = a.lock();
        ga.push(2); // allocates under a tracked lock
        b.lock().push_str("yz");
    }
    assert!(*ALLOCATIONS.lock() > before);
    assert_eq!(lockdep_core::held_count(), 0);
    assert!(lockdep_core::reports().is_empty(), "{:?}", lockdep_core::reports());
}
