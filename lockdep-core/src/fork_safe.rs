//! A mutex for the validator's own state that a forked child can reset: its waiters wait on
//! the lock word itself (a futex), with no process-wide wait queue, so after `fork()` the
//! child makes the lock free again with one store, whatever the parent's other threads were
//! doing (see `fork.rs`). Used for the validator's state, the report file and the trace file.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, Ordering};

const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
/// Locked, and a thread may be waiting: the unlocker wakes one.
const CONTENDED: u32 = 2;

/// A futex mutex (Drepper's "Futexes are tricky", mutex 2), without poisoning.
///
/// # Invariants
/// `data` is only accessed through a [`ForkSafeGuard`], and at most one exists at a time
/// (`state != UNLOCKED` while it does).
pub(crate) struct ForkSafeMutex<T> {
    state: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out `&mut T` to one thread at a time; moving it moves a `T`.
unsafe impl<T: Send> Send for ForkSafeMutex<T> {}
// SAFETY: access to `T` is serialised by the lock, so sharing needs only `T: Send`.
unsafe impl<T: Send> Sync for ForkSafeMutex<T> {}

/// Holds a [`ForkSafeMutex`]; unlocks on drop.
pub(crate) struct ForkSafeGuard<'a, T> {
    lock: &'a ForkSafeMutex<T>,
}

fn futex(word: &AtomicU32, op: i32, val: u32) {
    // SAFETY: a futex call on a live, aligned `u32`; no timeout, no second word.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            op | libc::FUTEX_PRIVATE_FLAG,
            val,
            std::ptr::null::<libc::timespec>(),
        );
    }
}

impl<T> ForkSafeMutex<T> {
    pub(crate) const fn new(data: T) -> ForkSafeMutex<T> {
        ForkSafeMutex { state: AtomicU32::new(UNLOCKED), data: UnsafeCell::new(data) }
    }

    pub(crate) fn lock(&self) -> ForkSafeGuard<'_, T> {
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        ForkSafeGuard { lock: self }
    }

    #[cold]
    fn lock_contended(&self) {
        while self.state.swap(CONTENDED, Ordering::Acquire) != UNLOCKED {
            futex(&self.state, libc::FUTEX_WAIT, CONTENDED);
        }
    }

    fn unlock(&self) {
        if self.state.swap(UNLOCKED, Ordering::Release) == CONTENDED {
            futex(&self.state, libc::FUTEX_WAKE, 1);
        }
    }

    /// Before `fork()`: takes the lock and keeps it (no guard), so no thread is inside the
    /// critical section when the process is copied.
    pub(crate) fn fork_prepare(&self) {
        std::mem::forget(self.lock());
    }

    /// After `fork()`, in the parent: releases the lock taken by
    /// [`fork_prepare`](Self::fork_prepare), waking a waiter.
    ///
    /// # Safety
    /// Only after `fork_prepare`, once, on the thread that forked.
    pub(crate) unsafe fn fork_release_parent(&self) {
        self.unlock();
    }

    /// After `fork()`, in the child (where the forking thread is the only thread): the lock
    /// is free again, and `f` may reset the data.
    ///
    /// # Safety
    /// Only after `fork_prepare`, once, in the child, on the thread that forked.
    pub(crate) unsafe fn fork_release_child(&self, f: impl FnOnce(&mut T)) {
        // SAFETY: the lock is held by this thread (taken in `fork_prepare`), and no other
        // thread exists in the child: this is the only access.
        f(unsafe { &mut *self.data.get() });
        self.state.store(UNLOCKED, Ordering::Release);
    }
}

impl<T> Deref for ForkSafeGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves the lock is held (type invariant).
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for ForkSafeGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves the lock is held exclusively (type invariant).
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for ForkSafeGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excludes_and_counts_under_contention() {
        static M: ForkSafeMutex<u64> = ForkSafeMutex::new(0);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..2_000 {
                        *M.lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*M.lock(), 8_000);
    }
}
