//! `lockdep_core::tokio::sync::Semaphore`: tokio's semaphore, its permits held like a lock
//! (the semantics are on [`Semaphore`]).

use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::sync::{release, validate, validate_try, Acquiring};
use crate::hook::{self, AsyncClass};
use crate::report::Mode;

pub use ::tokio::sync::{AcquireError, TryAcquireError};

/// [`tokio::sync::Semaphore`](::tokio::sync::Semaphore) whose permits are validated like an
/// exclusive async lock.
///
/// # What a permit is to the validator
///
/// A semaphore is a lock class (its construction site), and a task that holds a permit holds
/// that lock, *exclusively* (mode `W`): waiting for a permit can be blocked by any holder of
/// one (when none is left), so
///
/// - waiting for a permit while holding lock `L` records `L -> S`, and taking `L` while
///   holding a permit records `S -> L`: a task that waits on the semaphore while another, which
///   holds its permits, waits for a lock the first holds, is a `circular_dependency`, reported
///   before either waits;
/// - like every async lock, a permit held across an `.await` is normal (no
///   `held_across_await`).
///
/// **Several permits in one task.** Only the first permit a task takes of a semaphore is its
/// held lock; permits it takes of that semaphore while it holds one are counted by tokio, not
/// pushed again, so a task taking two permits of a semaphore of N > 1 gets no
/// `recursive_locking` report. The exception is a wait that cannot end: a task that holds a
/// permit and waits for `n` more of a semaphore whose capacity (its permits at `new`, plus
/// those added, minus those forgotten) is at most `n` waits for a permit it holds itself
/// (a second permit of a one-permit semaphore, say): that wait is `recursive_locking`,
/// reported before the task waits (unless permits are added meanwhile, it hangs).
/// `acquire_many(n)` is one held lock whatever `n`. The held lock goes when the permit that
/// pushed it is dropped (or forgotten), even if a later permit is still held.
///
/// **Permits that change task.** A permit dropped by a task that does not hold the semaphore
/// (an owned permit moved into a spawned task, say) releases nothing there (no `bad_unlock`);
/// the task that took it keeps holding the class until it ends, as far as the validator sees.
///
/// # Examples
///
/// ```
/// use lockdep_core::tokio::sync::Semaphore;
///
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// let sem = Semaphore::new(2);
/// rt.block_on(lockdep_core::task::instrument(async {
///     let one = sem.acquire().await.unwrap();
///     let two = sem.try_acquire().unwrap(); // a second permit: no recursive report
///     assert_eq!(sem.available_permits(), 0);
///     assert_eq!(lockdep_core::held_count(), 1);
///     drop((one, two));
/// }));
/// assert_eq!(sem.available_permits(), 2);
/// ```
pub struct Semaphore {
    class: AsyncClass,
    inner: ::tokio::sync::Semaphore,
    /// Its permits at `new`, plus those added, minus those forgotten: a task holding a permit
    /// that waits for at least this many more waits for itself.
    capacity: AtomicUsize,
}

/// A permit of a [`Semaphore`]; `Send` as tokio's is.
#[must_use = "the permit is returned at once if unused"]
pub struct SemaphorePermit<'a> {
    inner: ManuallyDrop<::tokio::sync::SemaphorePermit<'a>>,
    sem: &'a Semaphore,
    tracked: bool,
}

/// A permit of an `Arc<Semaphore>` that owns the `Arc`.
///
/// # Invariants
/// `inner` borrows `*sem`, which `sem` keeps alive at a fixed address; the drop (or
/// `forget`) ends `inner` before `sem`.
#[must_use = "the permit is returned at once if unused"]
pub struct OwnedSemaphorePermit {
    inner: ManuallyDrop<::tokio::sync::SemaphorePermit<'static>>,
    tracked: bool,
    sem: Arc<Semaphore>,
}

impl Semaphore {
    /// The most permits a semaphore can hold (tokio's).
    pub const MAX_PERMITS: usize = ::tokio::sync::Semaphore::MAX_PERMITS;

    /// A semaphore with `permits` permits; its class is the caller's location.
    #[track_caller]
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            class: AsyncClass::at_caller(),
            inner: ::tokio::sync::Semaphore::new(permits),
            capacity: AtomicUsize::new(permits),
        }
    }

    /// The permits available now.
    pub fn available_permits(&self) -> usize {
        self.inner.available_permits()
    }

    /// Adds `n` permits.
    pub fn add_permits(&self, n: usize) {
        self.inner.add_permits(n);
        self.capacity.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` permits forgotten: the semaphore's capacity shrinks by as many.
    fn forgotten(&self, n: usize) {
        let _ = self
            .capacity
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| Some(c.saturating_sub(n)));
    }

    /// Closes the semaphore: waiting and later acquisitions fail with [`AcquireError`].
    pub fn close(&self) {
        self.inner.close();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The class name (construction site).
    pub fn class_name(&self) -> String {
        self.class.class().name()
    }

    /// Validates the acquisition of `n` permits before the task waits: the first permit of
    /// this semaphore the task holds is pushed, later ones are not, unless the wait cannot
    /// end (this task holds a permit and `n` is at least the capacity): that one is validated
    /// as the re-acquisition of a held lock, `recursive_locking`.
    fn begin(&self, n: u32, site: &'static Location<'static>) -> Acquiring<'_> {
        let waits_for_itself = n as usize >= self.capacity.load(Ordering::Relaxed);
        if self.held_here() && !waits_for_itself {
            Acquiring::untracked(&self.class)
        } else {
            validate(&self.class, Mode::Write, site)
        }
    }

    /// Whether this task (or thread) holds the semaphore in the validator's view.
    fn held_here(&self) -> bool {
        matches!(hook::hold_of(self.class.class().instance()), Some(Some(_)))
    }

    /// Validates a permit that a try obtained.
    #[track_caller]
    fn tried<'a>(
        &'a self,
        p: ::tokio::sync::SemaphorePermit<'a>,
    ) -> (::tokio::sync::SemaphorePermit<'a>, bool) {
        if self.held_here() {
            (p, false)
        } else {
            validate_try(&self.class, Mode::Write, p)
        }
    }

    /// Acquires one permit, waiting asynchronously; validated before the task waits.
    #[track_caller]
    pub fn acquire(&self) -> impl Future<Output = Result<SemaphorePermit<'_>, AcquireError>> {
        self.acquire_many(1)
    }

    /// Acquires `n` permits (one held lock), waiting asynchronously.
    #[track_caller]
    pub fn acquire_many(
        &self,
        n: u32,
    ) -> impl Future<Output = Result<SemaphorePermit<'_>, AcquireError>> {
        let site = Location::caller();
        async move {
            let acq = self.begin(n, site);
            let inner = self.inner.acquire_many(n).await?;
            Ok(SemaphorePermit { inner: ManuallyDrop::new(inner), sem: self, tracked: acq.done() })
        }
    }

    /// Tries to acquire one permit without waiting.
    #[track_caller]
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Tries to acquire `n` permits without waiting.
    #[track_caller]
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let (inner, tracked) = self.tried(self.inner.try_acquire_many(n)?);
        Ok(SemaphorePermit { inner: ManuallyDrop::new(inner), sem: self, tracked })
    }

    /// Acquires one permit of an `Arc`ed semaphore, returning a permit that owns the `Arc`.
    #[track_caller]
    pub fn acquire_owned(
        self: Arc<Self>,
    ) -> impl Future<Output = Result<OwnedSemaphorePermit, AcquireError>> {
        self.acquire_many_owned(1)
    }

    /// Acquires `n` permits of an `Arc`ed semaphore, returning a permit that owns the `Arc`.
    #[track_caller]
    pub fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> impl Future<Output = Result<OwnedSemaphorePermit, AcquireError>> {
        let site = Location::caller();
        async move {
            let (inner, tracked) = {
                let acq = self.begin(n, site);
                let inner = self.inner.acquire_many(n).await?;
                // SAFETY: `inner` borrows `*self`; the owned permit keeps the `Arc` beside it
                // and drops it first (its invariants). Erased only to move `self` in.
                let inner: ::tokio::sync::SemaphorePermit<'static> =
                    unsafe { std::mem::transmute(inner) };
                (inner, acq.done())
            };
            Ok(OwnedSemaphorePermit { inner: ManuallyDrop::new(inner), tracked, sem: self })
        }
    }

    /// Tries to acquire one permit of an `Arc`ed semaphore without waiting.
    #[track_caller]
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        let (inner, tracked) = self.tried(self.inner.try_acquire()?);
        // SAFETY: `inner` borrows `*self`; the owned permit keeps the `Arc` beside it and drops
        // it first (its invariants). The lifetime is erased only to move `self` in.
        let inner: ::tokio::sync::SemaphorePermit<'static> = unsafe { std::mem::transmute(inner) };
        Ok(OwnedSemaphorePermit { inner: ManuallyDrop::new(inner), tracked, sem: self })
    }
}

impl std::fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

/// Releases a permit's hold, if this task holds the semaphore (see the module docs).
fn release_permit(class: &AsyncClass, tracked: bool) {
    let held = matches!(hook::hold_of(class.class().instance()), Some(Some(_)));
    release(class, tracked && held);
}

impl SemaphorePermit<'_> {
    /// The permits this permit holds.
    pub fn num_permits(&self) -> usize {
        self.inner.num_permits()
    }

    /// Forgets the permits (tokio's `forget`: they are not returned); the hold ends.
    pub fn forget(mut self) {
        // SAFETY: taken once; `self` is forgotten below, so its drop does not run.
        let inner = unsafe { ManuallyDrop::take(&mut self.inner) };
        self.sem.forgotten(inner.num_permits());
        inner.forget();
        release_permit(&self.sem.class, self.tracked);
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        // SAFETY: dropped once, here; never used again.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
        release_permit(&self.sem.class, self.tracked);
    }
}

impl std::fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl OwnedSemaphorePermit {
    /// The permits this permit holds.
    pub fn num_permits(&self) -> usize {
        self.inner.num_permits()
    }

    /// The semaphore this permit belongs to.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Forgets the permits (they are not returned to the semaphore); the hold ends.
    pub fn forget(mut self) {
        // SAFETY: taken once, before `sem` goes; `self` is forgotten after its fields are
        // dropped here, so its drop does not run.
        let inner = unsafe { ManuallyDrop::take(&mut self.inner) };
        self.sem.forgotten(inner.num_permits());
        inner.forget();
        release_permit(&self.sem.class, self.tracked);
        // SAFETY: read once; `self` is forgotten at once, so the `Arc` is not dropped twice.
        let sem = unsafe { std::ptr::read(&self.sem) };
        std::mem::forget(self);
        drop(sem);
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        // SAFETY: dropped once, here, before `sem` (which it borrows) is.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
        release_permit(&self.sem.class, self.tracked);
    }
}

impl std::fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}
