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
//! - The end of a [`scope`] is a join of every scoped thread not joined yet (a wait for its
//!   exit, reported before the scope blocks in it). In panic mode the report's panic unwinds
//!   through std's scope, which still joins every thread first: a scope that really
//!   deadlocks hangs there after printing the report (warn mode prints it the same way).
//! - Threads spawned with `std::thread` directly are not participants.
//!
//! # Cost
//! - `spawn`: std's, plus registering the spawn site's exit class (the validator's lock).
//! - `join`: std's, plus one chain-cache probe when seen before with the same held locks.
//! - scoped `spawn`: also a push on a process-wide list of un-joined scoped threads (a std
//!   mutex); a scope's end: a scan of that list and a join's validation per thread left.

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
        if hook::tracing() {
            unjoined().push(Unjoined { scope: scope.key(), exit, thread: inner.thread().clone() });
        }
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

impl Scope<'_, '_> {
    /// The scope's identity in the list of un-joined scoped threads.
    fn key(&self) -> usize {
        &self.inner as *const std::thread::Scope<'_, '_> as usize
    }
}

/// A scoped thread not joined yet: the end of its scope joins it.
struct Unjoined {
    scope: usize,
    exit: EventId,
    thread: Thread,
}

/// Every live scope's un-joined scoped threads (a scope removes its own at its end, also
/// when it unwinds).
fn unjoined() -> std::sync::MutexGuard<'static, Vec<Unjoined>> {
    static UNJOINED: std::sync::Mutex<Vec<Unjoined>> = std::sync::Mutex::new(Vec::new());
    UNJOINED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Takes scope `key`'s un-joined threads off the list (a scoped thread joined explicitly
/// leaves it at its join).
fn take_unjoined(key: usize) -> Vec<Unjoined> {
    let mut all = unjoined();
    let (mine, rest) = std::mem::take(&mut *all).into_iter().partition(|u| u.scope == key);
    *all = rest;
    mine
}

/// Removes the scope's entries when the scope's closure unwinds.
struct ScopeEnd(usize);

impl Drop for ScopeEnd {
    fn drop(&mut self) {
        if std::thread::panicking() {
            take_unjoined(self.0);
        }
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

/// std's `scope`: every thread spawned in it is joined before it returns. That implicit join
/// of each scoped thread not joined explicitly is a wait for its exit, validated (at the
/// caller's location) after `f` returns and before the scope blocks, with the locks this
/// thread holds then (`f`'s result included: a guard returned from the scope is held at its
/// end).
///
/// ```
/// use lockdep_core::std::sync::Mutex;
/// use lockdep_core::std::thread;
///
/// let counter = Mutex::new(0);
/// thread::scope(|s| {
///     for _ in 0..3 {
///         s.spawn(|| *counter.lock().unwrap() += 1);
///     }
/// }); // joins the three threads: no lock held here, no report
/// assert_eq!(*counter.lock().unwrap(), 3);
/// ```
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let site = Location::caller();
    std::thread::scope(|s| {
        // SAFETY: `Scope` is `repr(transparent)` over `std::thread::Scope` with the same
        // lifetimes, so the pointer cast keeps layout, validity and the borrow's lifetime.
        let s: &Scope<'_, 'env> = unsafe { &*(s as *const std::thread::Scope<'_, 'env>).cast() };
        let end = ScopeEnd(s.key());
        let r = f(s);
        for u in take_unjoined(end.0) {
            if let Err(refused) = hook::thread_join(u.exit, &u.thread, site) {
                refused.raise();
            }
        }
        r
    })
}

/// std's `ScopedJoinHandle`; [`join`](Self::join) is a wait for the thread's exit.
#[derive(Debug)]
pub struct ScopedJoinHandle<'scope, T> {
    inner: std::thread::ScopedJoinHandle<'scope, T>,
    exit: EventId,
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the thread to finish, reported as a wait for its exit before blocking (the
    /// end of the scope no longer waits for it).
    #[track_caller]
    pub fn join(self) -> Result<T> {
        let id = self.inner.thread().id();
        unjoined().retain(|u| u.thread.id() != id);
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
