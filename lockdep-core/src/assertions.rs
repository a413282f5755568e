//! Held-lock assertions, lock-state predicates and `might_lock` annotations, callable from
//! instrumented code. A failed assertion is a `class_violation` report, routed through
//! `LOCKDEP` like every other report (panic / warn / off).
//!
//! # Examples
//!
//! ```
//! use lockdep_core::{assert_exclusive, assert_held_write, assert_state, RwSem};
//!
//! let mmap_lock = RwSem::new(());
//! let w = mmap_lock.write();
//! assert_held_write(&mmap_lock);
//! let d = w.downgrade();
//! assert_exclusive(&mmap_lock); // a downgraded holder still excludes writers and downgraders
//! assert_state("mmap locked in any mode", |held| held.holds(&mmap_lock));
//! drop(d);
//! ```

use std::panic::Location;

use crate::hook;
use crate::rules::{Held, ModeSet};
use crate::vocab::Mode;
use crate::TrackedLock;

/// Checks this thread's hold of `lock` with `ok`; a failure is a `class_violation` of rule
/// `rule`, worded with `expect`. Passes when nothing is being checked.
#[track_caller]
fn check_lock(
    lock: &impl TrackedLock,
    rule: &'static str,
    expect: &'static str,
    ok: impl FnOnce(Option<Mode>) -> bool,
) {
    let r = lock.lock_ref();
    let Some(mode) = hook::hold_of(r.instance) else { return };
    if ok(mode) {
        return;
    }
    let message = |c: &str| match mode {
        Some(m) => format!("assertion failed: lock {c} {expect}, but this thread holds it for {m}"),
        None => format!("assertion failed: lock {c} {expect}, but this thread does not hold it"),
    };
    let at = mode.unwrap_or(Mode::Write);
    hook::assertion_failed((r.instance, r.class), at, rule, &message, Location::caller());
}

/// Asserts that the current thread holds `lock` (any mode).
#[track_caller]
pub fn assert_held(lock: &impl TrackedLock) {
    check_lock(lock, "assert_held", "must be held", |m| m.is_some());
}

/// Asserts that the current thread holds `lock` for write.
#[track_caller]
pub fn assert_held_write(lock: &impl TrackedLock) {
    check_lock(lock, "assert_held_write", "must be held for write", |m| m == Some(Mode::Write));
}

/// Asserts that the current thread holds `lock` shared (read, recursive read or downgraded).
#[track_caller]
pub fn assert_held_read(lock: &impl TrackedLock) {
    check_lock(lock, "assert_held_read", "must be held for read", |m| {
        m.is_some_and(|m| ModeSet::SHARED.contains(m))
    });
}

/// Asserts that the current thread does not hold `lock`.
#[track_caller]
pub fn assert_not_held(lock: &impl TrackedLock) {
    check_lock(lock, "assert_not_held", "must not be held", |m| m.is_none());
}

/// Asserts that the current thread holds `lock` in a mode that excludes writers and other
/// downgraders: `Write` or `Downgraded` (not a plain read).
#[track_caller]
pub fn assert_exclusive(lock: &impl TrackedLock) {
    check_lock(lock, "assert_exclusive", "must be held for write or downgraded", |m| {
        m.is_some_and(|m| ModeSet::EXCLUSIVE.contains(m))
    });
}

/// Evaluates `f` on a view of the current thread's held locks. When validation is off (or
/// compiled out) the view is empty.
pub fn with_held<R>(f: impl FnOnce(&Held<'_>) -> R) -> R {
    hook::with_held(f)
}

/// Asserts a named lock-state predicate (e.g. "write-locked VMA": the mmap lock held for
/// write and the VMA write-marked). The predicate sees the held locks and may read instance
/// state captured by the closure. A false predicate is a `class_violation` with the
/// predicate's name as its rule. Returns the predicate's value; when validation is off (or
/// compiled out) the predicate is not evaluated and `true` is returned.
#[track_caller]
pub fn assert_state(name: &str, f: impl FnOnce(&Held<'_>) -> bool) -> bool {
    hook::check_state(name, f, Location::caller())
}

/// Declares that the code here may take `lock` for write (the kernel's `might_lock`): the
/// dependency from every held lock is recorded and checked on every run, not only on the rare
/// run where the lock is really taken.
#[track_caller]
pub fn might_lock(lock: &impl TrackedLock) {
    let r = lock.lock_ref();
    hook::might_acquire(r.class, r.instance, Mode::Write, Location::caller());
}

/// As [`might_lock`], for a non-recursive read (e.g. code touching user memory may fault
/// and take the mmap lock for read).
#[track_caller]
pub fn might_lock_read(lock: &impl TrackedLock) {
    let r = lock.lock_ref();
    hook::might_acquire(r.class, r.instance, Mode::Read, Location::caller());
}
