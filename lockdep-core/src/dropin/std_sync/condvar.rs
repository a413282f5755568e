//! [`Condvar`]: `std::sync::Condvar` for this module's [`MutexGuard`].

use std::fmt;
use std::time::{Duration, Instant};

use super::mutex::MutexGuard;
use super::poison::{self, LockResult};
use crate::dropin::condvar_core::{deadline_after, CondvarCore};

/// `std::sync::Condvar` working with [`Mutex`](super::Mutex): a wait releases the mutex, in
/// the raw lock and in this thread's held-lock stack, and re-takes both (validated as a new
/// acquisition, so locks still held across the wait get their edges to the mutex) before it
/// returns.
///
/// # Examples
///
/// ```
/// use lockdep_core::std::sync::{Arc, Condvar, Mutex};
/// use std::thread;
///
/// let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
/// let p = Arc::clone(&pair);
/// let producer = thread::spawn(move || {
///     *p.0.lock().unwrap() = 42;
///     p.1.notify_all();
/// });
/// let mut value = pair.0.lock().unwrap();
/// while *value == 0 {
///     value = pair.1.wait(value).unwrap();
/// }
/// assert_eq!(*value, 42);
/// # drop(value);
/// producer.join().unwrap();
/// ```
///
/// # Differences from `std::sync::Condvar`
/// - The condvar is an event of the dependency graph (its class: its construction site): an
///   untimed wait while holding another lock `L` adds `L -> condvar`, a notify adds
///   `condvar -> L` for the locks the notifier holds or took since it last waited. Timed
///   waits add no edge (they cannot wait forever).
/// - Waiting with two different mutexes at once is not detected (std may panic).
///
/// # Cost
/// - `wait`: a release and a (validated) re-acquisition of the mutex, plus the wait.
/// - `notify_*`: one atomic increment and a parking-lot queue operation, plus a signal (one
///   chain-cache probe when seen before in the same context).
pub struct Condvar {
    core: CondvarCore,
}

/// Whether a timed wait returned because its time ran out (std's type cannot be built
/// outside std).
#[derive(Debug, PartialEq, Eq, Copy, Clone)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// Whether the wait timed out.
    #[must_use]
    pub fn timed_out(&self) -> bool {
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
    fn wait_deadline<T: ?Sized>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<Instant>,
    ) -> bool {
        let waited = self.core.wait(deadline, || guard.unlock_for_wait());
        guard.relock_after_wait();
        waited.unwrap_or_else(|refused| refused.raise())
    }

    /// Releases the guard's mutex, sleeps until notified (or woken spuriously), re-takes
    /// the mutex. An error (carrying the guard) if the mutex is poisoned on return.
    #[track_caller]
    pub fn wait<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
    ) -> LockResult<MutexGuard<'a, T>> {
        self.wait_deadline(&mut guard, None);
        let poisoned = guard.poisoned();
        poison::result(poisoned, guard)
    }

    /// Waits while `condition` returns true (checked before the first wait).
    #[track_caller]
    pub fn wait_while<'a, T: ?Sized, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// [`wait`](Self::wait) for at most `dur`.
    #[track_caller]
    pub fn wait_timeout<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let timed_out = self.wait_deadline(&mut guard, deadline_after(dur));
        let poisoned = guard.poisoned();
        poison::result(poisoned, (guard, WaitTimeoutResult(timed_out)))
    }

    /// [`wait_while`](Self::wait_while) for at most `dur` in total; the result says whether
    /// the time ran out (with `condition` still true).
    #[track_caller]
    pub fn wait_timeout_while<'a, T: ?Sized, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        dur: Duration,
        mut condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        let start = Instant::now();
        loop {
            if !condition(&mut *guard) {
                return Ok((guard, WaitTimeoutResult(false)));
            }
            let Some(left) = dur.checked_sub(start.elapsed()) else {
                return Ok((guard, WaitTimeoutResult(true)));
            };
            let r = self.wait_timeout(guard, left);
            guard = poison::map(r, |(g, _)| g).map_err(|e| {
                let g = e.into_inner();
                std::sync::PoisonError::new((g, WaitTimeoutResult(false)))
            })?;
        }
    }

    /// Wakes one waiter, if any.
    #[track_caller]
    pub fn notify_one(&self) {
        self.core.notify_one();
    }

    /// Wakes every waiter.
    #[track_caller]
    pub fn notify_all(&self) {
        self.core.notify_all();
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
