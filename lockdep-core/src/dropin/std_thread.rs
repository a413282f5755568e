//! `std::thread` whose threads are participants of the dependency graph: a thread spawned
//! here has an exit event (its class: the spawn site), every lock it acquires and every event
//! it waits for is something its exit waits for, and `join` is a wait for that exit.
//!
//! ```
//! use lockdep_core::std::thread;
//!
//! let t = thread::spawn(|| 6 * 7);
//! assert_eq!(t.join().unwrap(), 42);
//! ```
//!
//! # Differences from `std::thread`
//! - `join` while holding a lock `L` that the joined thread takes is reported (before the
//!   join blocks, if the thread took `L` already; else when it takes it).
//! - The implicit join at the end of [`scope`] is not a wait (only an explicit `join` is).
//! - Threads spawned with `std::thread` directly are not participants.
//!
//! # Cost
//! - `spawn`: std's, plus registering the spawn site's exit class (the validator's lock).
//! - `join`: std's, plus one chain-cache probe when seen before with the same held locks.

use std::panic::Location;

use crate::hook::{self, EventId, Spawning};

pub use std::thread::{
    available_parallelism, current, panicking, park, park_timeout, sleep, yield_now, AccessError,
    LocalKey, Result, Thread, ThreadId,
};

/// Spawns a thread (std's `spawn`) whose exit event's class is the caller's location.
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).expect("failed to spawn thread")
}

/// Runs `f` first on the new thread, after marking it as the participant `s`.
fn participant<F: FnOnce() -> T, T>(s: Spawning, f: F) -> impl FnOnce() -> T {
    move || {
        hook::thread_start(&s);
        f()
    }
}

/// std's `Builder`, spawning participants.
#[derive(Debug)]
pub struct Builder {
    inner: std::thread::Builder,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A builder with std's defaults.
    pub fn new() -> Builder {
        Builder { inner: std::thread::Builder::new() }
    }

    /// Names the thread.
    pub fn name(self, name: String) -> Builder {
        Builder { inner: self.inner.name(name) }
    }

    /// Sets the thread's stack size.
    pub fn stack_size(self, size: usize) -> Builder {
        Builder { inner: self.inner.stack_size(size) }
    }

    /// Spawns the thread; its exit event's class is the caller's location.
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> std::io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let s = hook::spawning(Location::caller());
        let exit = s.exit();
        let inner = self.inner.spawn(participant(s, f))?;
        Ok(JoinHandle { inner, exit })
    }

    /// Spawns a scoped thread; its exit event's class is the caller's location.
    #[track_caller]
    pub fn spawn_scoped<'scope, 'env, F, T>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        f: F,
    ) -> std::io::Result<ScopedJoinHandle<'scope, T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let s = hook::spawning(Location::caller());
        let exit = s.exit();
        let inner = self.inner.spawn_scoped(&scope.inner, participant(s, f))?;
        Ok(ScopedJoinHandle { inner, exit })
    }
}

/// std's `JoinHandle`; [`join`](Self::join) is a wait for the thread's exit.
#[derive(Debug)]
pub struct JoinHandle<T> {
    inner: std::thread::JoinHandle<T>,
    exit: EventId,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish (std's `join`), reported as a wait for its exit before
    /// blocking (in panic mode a join that closes a cycle panics here instead).
    #[track_caller]
    pub fn join(self) -> Result<T> {
        if let Err(refused) = hook::thread_join(self.exit, self.inner.thread(), Location::caller())
        {
            refused.raise();
        }
        self.inner.join()
    }

    /// The thread.
    pub fn thread(&self) -> &Thread {
        self.inner.thread()
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

/// std's `Scope`, spawning participants.
#[repr(transparent)]
pub struct Scope<'scope, 'env: 'scope> {
    inner: std::thread::Scope<'scope, 'env>,
}

impl std::fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl<'scope> Scope<'scope, '_> {
    /// Spawns a scoped thread; its exit event's class is the caller's location.
    #[track_caller]
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        Builder::new().spawn_scoped(self, f).expect("failed to spawn thread")
    }
}

/// std's `scope`: every thread spawned in it is joined before it returns (that implicit
/// join is not a wait of the graph; an explicit [`ScopedJoinHandle::join`] is).
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    std::thread::scope(|s| {
        // SAFETY: `Scope` is `repr(transparent)` over `std::thread::Scope` with the same
        // lifetimes, so the pointer cast keeps layout, validity and the borrow's lifetime.
        let s: &Scope<'_, 'env> = unsafe { &*(s as *const std::thread::Scope<'_, 'env>).cast() };
        f(s)
    })
}

/// std's `ScopedJoinHandle`; [`join`](Self::join) is a wait for the thread's exit.
#[derive(Debug)]
pub struct ScopedJoinHandle<'scope, T> {
    inner: std::thread::ScopedJoinHandle<'scope, T>,
    exit: EventId,
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the thread to finish, reported as a wait for its exit before blocking.
    #[track_caller]
    pub fn join(self) -> Result<T> {
        if let Err(refused) = hook::thread_join(self.exit, self.inner.thread(), Location::caller())
        {
            refused.raise();
        }
        self.inner.join()
    }

    /// The thread.
    pub fn thread(&self) -> &Thread {
        self.inner.thread()
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}
