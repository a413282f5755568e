//! [`Condvar`]: `parking_lot::Condvar` for this module's mutex guards.

use std::fmt;
use std::time::{Duration, Instant};

use super::lock_api::{MutexGuard, RawMutex};
use crate::dropin::condvar_core::{deadline_after, CondvarCore};

/// `parking_lot::Condvar`, working with the guards of [`Mutex`](super::Mutex) and
/// [`FairMutex`](super::FairMutex): a wait releases the mutex, in the raw lock and in this
/// thread's held-lock stack, and re-takes both (validated as a new acquisition) before it
/// returns.
///
/// # Examples
///
/// ```
/// use lockdep_core::parking_lot::{Condvar, Mutex};
/// use std::sync::Arc;
/// use std::thread;
///
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let p = Arc::clone(&pair);
/// let t = thread::spawn(move || {
///     *p.0.lock() = true;
///     p.1.notify_one();
/// });
/// let mut ready = pair.0.lock();
/// pair.1.wait_while(&mut ready, |ready| !*ready);
/// assert!(*ready);
/// # drop(ready);
/// t.join().unwrap();
/// ```
///
/// # Differences from `parking_lot::Condvar`
/// - The condvar is an event of the dependency graph (its class: its construction site): an
///   untimed wait while holding another lock `L` adds `L -> condvar`, a notify adds
///   `condvar -> L` for the locks the notifier holds or took since it last waited. Timed
///   waits add no edge (they cannot wait forever).
/// - Notification wakes waiters, who then contend for the mutex (no requeue onto the mutex).
/// - Using one condvar with two mutexes at once is not detected (parking_lot panics).
///
/// # Cost
/// - `wait*`: a release and a (validated) re-acquisition of the mutex, plus the wait.
/// - `notify_*`: one atomic increment and a parking-lot queue operation, plus a signal (one
///   chain-cache probe when seen before in the same context).
pub struct Condvar {
    core: CondvarCore,
}

/// Whether a timed wait returned because its time ran out.
#[derive(Debug, PartialEq, Eq, Copy, Clone)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// Whether the wait timed out.
    #[must_use]
    pub fn timed_out(self) -> bool {
        self.0
    }
}

impl Condvar {
    /// A new condition variable; its event class is the caller's location.
    #[must_use]
    #[track_caller]
    pub const fn new() -> Condvar {
        Condvar { core: CondvarCore::new() }
    }

    #[track_caller]
    fn wait_deadline<R: RawMutex, T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, R, T>,
        deadline: Option<Instant>,
    ) -> WaitTimeoutResult {
        let waited = self.core.wait(deadline, || guard.unlock_for_wait());
        guard.relock_after_wait();
        let timed_out = waited.unwrap_or_else(|refused| refused.raise());
        WaitTimeoutResult(timed_out)
    }

    /// Releases the guard's mutex, sleeps until notified (or woken spuriously), re-takes it.
    #[track_caller]
    pub fn wait<R: RawMutex, T: ?Sized>(&self, guard: &mut MutexGuard<'_, R, T>) {
        self.wait_deadline(guard, None);
    }

    /// [`wait`](Self::wait) until `timeout`.
    #[track_caller]
    pub fn wait_until<R: RawMutex, T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, R, T>,
        timeout: Instant,
    ) -> WaitTimeoutResult {
        self.wait_deadline(guard, Some(timeout))
    }

    /// [`wait`](Self::wait) for at most `timeout`.
    #[track_caller]
    pub fn wait_for<R: RawMutex, T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, R, T>,
        timeout: Duration,
    ) -> WaitTimeoutResult {
        self.wait_deadline(guard, deadline_after(timeout))
    }

    /// Waits while `condition` returns true (checked before the first wait).
    #[track_caller]
    pub fn wait_while<R: RawMutex, T: ?Sized, F>(
        &self,
        guard: &mut MutexGuard<'_, R, T>,
        mut condition: F,
    ) where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut **guard) {
            self.wait(guard);
        }
    }

    /// [`wait_while`](Self::wait_while) until `timeout`; timed out if `condition` is still
    /// true then.
    #[track_caller]
    pub fn wait_while_until<R: RawMutex, T: ?Sized, F>(
        &self,
        guard: &mut MutexGuard<'_, R, T>,
        mut condition: F,
        timeout: Instant,
    ) -> WaitTimeoutResult
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut **guard) {
            if self.wait_until(guard, timeout).timed_out() {
                return WaitTimeoutResult(condition(&mut **guard));
            }
        }
        WaitTimeoutResult(false)
    }

    /// [`wait_while`](Self::wait_while) for at most `timeout`.
    #[track_caller]
    pub fn wait_while_for<R: RawMutex, T: ?Sized, F>(
        &self,
        guard: &mut MutexGuard<'_, R, T>,
        condition: F,
        timeout: Duration,
    ) -> WaitTimeoutResult
    where
        F: FnMut(&mut T) -> bool,
    {
        match deadline_after(timeout) {
            Some(deadline) => self.wait_while_until(guard, condition, deadline),
            None => {
                self.wait_while(guard, condition);
                WaitTimeoutResult(false)
            }
        }
    }

    /// Wakes one waiter; whether there was one.
    #[track_caller]
    pub fn notify_one(&self) -> bool {
        self.core.notify_one()
    }

    /// Wakes every waiter; how many there were.
    #[track_caller]
    pub fn notify_all(&self) -> usize {
        self.core.notify_all()
    }
}

impl Default for Condvar {
    #[track_caller]
    fn default() -> Condvar {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}
