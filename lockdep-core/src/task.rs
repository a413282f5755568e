//! Async tasks with their own held-lock stacks, for any executor.
//!
//! An [`Instrumented`] future owns a held-lock stack. Each poll swaps it in as the stack of
//! the thread that polls, and swaps it back after, so the locks a task holds move with the
//! task across worker threads (a guard taken on one thread and released on another is no
//! `bad_unlock`), and two tasks polled on one thread do not see each other's locks. When the
//! task returns `Poll::Pending` while it holds a *blocking* lock (every lock type but the
//! async ones of `lockdep_core::tokio::sync`), that is a `held_across_await` report, once
//! per site pair: where the guard was taken (a site of the lock's class) and where the task
//! yielded. Async locks held across an `.await` are normal and take part in cycle detection
//! like any lock.
//!
//! **What the yield site names.** The report is made once per pair (where the guard was
//! taken, the task's instrumented future: the location of [`instrument`] /
//! [`Instrumented::new`] / `lockdep_core::tokio::spawn`, or the test function for
//! `#[lockdep_core::test] async fn`). It also names the `.await` where the task yielded when
//! it can: the future is polled with a waker whose clones (a leaf future registering the
//! waker before it returns `Pending`: tokio's sleeps, channels, locks, `yield_now`) capture
//! the stack while the task holds a blocking lock, and the innermost async body in it outside
//! the toolchain and cargo's registry, with debug info, is the await point (`file:line`, the
//! path as the debug info has it). A leaf that returns `Pending` without cloning the waker
//! (one that stored it on an earlier poll, or a hand-written future) leaves only the task's
//! site. A replayed trace names the task's site only.
//!
//! **What is not seen.** Blocking guards are `!Send`: one cannot be moved into a
//! `spawn_blocking` closure (a lock the closure takes is the blocking thread's, not the
//! task's: no report while the task awaits the closure):
//!
//! ```compile_fail,E0277
//! let m: &'static lockdep_core::std::sync::Mutex<u32> =
//!     Box::leak(Box::new(lockdep_core::std::sync::Mutex::new(0)));
//! let g = m.lock().unwrap();
//! let _ = tokio::task::spawn_blocking(move || drop(g)); // `MutexGuard` is not `Send`
//! ```
//!
//! Nor is an async guard or permit handed to another task released in the task that took it
//! (see `lockdep_core::tokio::sync::Semaphore`). Code outside an instrumented task (a plain
//! `tokio::spawn`, `block_on` of an uninstrumented future) uses the polling thread's stack:
//! locks of two such tasks on one thread mix, a guard released on another worker is a
//! `bad_unlock`, and no `held_across_await` is seen.
//!
//! ```
//! use std::future::Future;
//! use std::pin::pin;
//! use std::task::{Context, Poll, Waker};
//!
//! let m = lockdep_core::Mutex::new(0);
//! let mut task = pin!(lockdep_core::task::instrument(async {
//!     *m.lock() += 1;
//!     lockdep_core::held_count()
//! }));
//! let mut cx = Context::from_waker(Waker::noop());
//! assert_eq!(task.as_mut().poll(&mut cx), Poll::Ready(0));
//! ```
//!
//! `lockdep_core::tokio::spawn` (feature `tokio`) spawns an instrumented task on tokio.

use std::cell::Cell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use crate::hook::{self, AwaitTrace, TaskStack};

/// A future with its own held-lock stack: see the [module docs](self).
///
/// # Invariants
/// `inner` is structurally pinned (never moved once the wrapper is pinned) and dropped only
/// in [`Drop`], in place, with the task's stack swapped in.
#[must_use = "futures do nothing unless polled"]
pub struct Instrumented<F> {
    inner: ManuallyDrop<F>,
    stack: TaskStack,
}

/// Wraps `fut` in an [`Instrumented`] task whose reports name the caller's location.
#[track_caller]
pub fn instrument<F: Future>(fut: F) -> Instrumented<F> {
    Instrumented::new(fut)
}

impl<F> Instrumented<F> {
    /// Wraps `fut`; reports name the caller's location as the task's site.
    #[track_caller]
    pub fn new(fut: F) -> Instrumented<F> {
        Instrumented { inner: ManuallyDrop::new(fut), stack: TaskStack::new() }
    }
}

/// Swaps the task's stack back when a poll or a drop ends, also by unwinding.
struct Entered<'a> {
    stack: &'a mut TaskStack,
    entered: bool,
}

impl<'a> Entered<'a> {
    fn new(stack: &'a mut TaskStack) -> Entered<'a> {
        let entered = hook::task_enter(stack);
        Entered { stack, entered }
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        hook::task_leave(self.stack, self.entered);
    }
}

/// The waker the task's future is polled with: the executor's, whose clones (a leaf future
/// registering it before it returns `Pending`) note the stack when the task holds a blocking
/// lock, so that a `held_across_await` report can name the await point.
///
/// # Invariants
/// Lives on the stack of one poll; the [`Waker`] made from it is only lent to the future
/// (never cloned as itself: a clone is the executor's waker), so it does not outlive it.
struct Probe<'a> {
    waker: &'a Waker,
    awaited: Cell<Option<AwaitTrace>>,
}

static PROBE: RawWakerVTable =
    RawWakerVTable::new(probe_clone, probe_wake, probe_wake_by_ref, probe_drop);

fn probe<'a>(data: *const ()) -> &'a Probe<'a> {
    // SAFETY: `data` is the `Probe` of the poll in progress (`Probe`'s invariants).
    unsafe { &*data.cast::<Probe<'a>>() }
}

fn probe_clone(data: *const ()) -> RawWaker {
    let p = probe(data);
    if let Some(t) = hook::waker_cloned() {
        let first = p.awaited.take().unwrap_or(t);
        p.awaited.set(Some(first));
    }
    let w = std::mem::ManuallyDrop::new(p.waker.clone());
    RawWaker::new(w.data(), w.vtable())
}

fn probe_wake(data: *const ()) {
    probe_wake_by_ref(data);
}

fn probe_wake_by_ref(data: *const ()) {
    probe(data).waker.wake_by_ref();
}

fn probe_drop(_: *const ()) {}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is never moved out of the pinned wrapper (the type's invariants);
        // `stack` is not structurally pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let probe = Probe { waker: cx.waker(), awaited: Cell::new(None) };
        // SAFETY: the vtable's functions take `data` as this `Probe`, which outlives the waker
        // lent to the future below (`Probe`'s invariants); dropping it does nothing.
        let waker = std::mem::ManuallyDrop::new(unsafe {
            Waker::from_raw(RawWaker::new((&raw const probe).cast(), &PROBE))
        });
        let r = {
            let _entered = Entered::new(&mut this.stack);
            let mut cx = Context::from_waker(&waker);
            // SAFETY: `inner` stays where it is until it is dropped in place (invariants).
            unsafe { Pin::new_unchecked(&mut *this.inner) }.poll(&mut cx)
        };
        if r.is_pending() {
            hook::task_pending(&this.stack, probe.awaited.take().as_ref());
        }
        r
    }
}

impl<F> Drop for Instrumented<F> {
    fn drop(&mut self) {
        // The future's guards release into the task's stack, where they were taken.
        let _entered = Entered::new(&mut self.stack);
        // SAFETY: dropped once, here, in place; never used again.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_does_not_see_the_threads_locks_and_back() {
        let m = crate::Mutex::new(0);
        let _g = m.lock();
        let held = crate::held_count();
        let mut task = std::pin::pin!(instrument(async { crate::held_count() }));
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(task.as_mut().poll(&mut cx), Poll::Ready(0));
        assert_eq!(crate::held_count(), held);
    }
}
