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

use crate::held::{HeldLock, SiteRef};
use crate::report::Mode;
use crate::rules::{Held, ModeSet};
use crate::validator::AcquireReq;
use crate::TrackedLock;

fn probe(
    lock: Option<&dyn TrackedLockDyn>,
    mode: Mode,
    site: &'static Location<'static>,
) -> HeldLock {
    let (instance, class) = match lock {
        Some(l) => l.parts(),
        None => (0, crate::ClassId(0)),
    };
    HeldLock {
        instance,
        class,
        subclass: 0,
        mode,
        trylock: false,
        nested: false,
        site: SiteRef::Static(site),
        trace: 0,
        chain_key: 0,
    }
}

trait TrackedLockDyn {
    fn parts(&self) -> (usize, crate::ClassId);
}

impl<L: TrackedLock> TrackedLockDyn for L {
    fn parts(&self) -> (usize, crate::ClassId) {
        let r = self.lock_ref();
        (r.instance, r.class())
    }
}

fn check_lock(
    lock: &impl TrackedLock,
    rule: &'static str,
    expect: &'static str,
    ok: impl FnOnce(Option<Mode>) -> bool,
    site: &'static Location<'static>,
) {
    let instance = lock.lock_ref().instance;
    let found = crate::global::inspect(|s| {
        let mode = s.entries().iter().rev().find(|e| e.instance == instance).map(|e| e.mode);
        if ok(mode) {
            return Vec::new();
        }
        let at = probe(Some(lock), mode.unwrap_or(Mode::Write), site);
        crate::global::validator().assertion_failed(
            s,
            &crate::global::thread_name,
            &at,
            rule,
            None,
            &|c| match mode {
                Some(m) => {
                    format!("assertion failed: {c} {expect}, but this thread holds it for {m}")
                }
                None => format!("assertion failed: {c} {expect}, but this thread does not hold it"),
            },
        )
    });
    if let Some(reports) = found {
        crate::global::raise(reports);
    }
}

/// Asserts that the current thread holds `lock` (any mode).
#[track_caller]
pub fn assert_held(lock: &impl TrackedLock) {
    check_lock(lock, "assert_held", "must be held", |m| m.is_some(), Location::caller());
}

/// Asserts that the current thread holds `lock` for write.
#[track_caller]
pub fn assert_held_write(lock: &impl TrackedLock) {
    check_lock(
        lock,
        "assert_held_write",
        "must be held for write",
        |m| m == Some(Mode::Write),
        Location::caller(),
    );
}

/// Asserts that the current thread holds `lock` shared (read, recursive read or downgraded).
#[track_caller]
pub fn assert_held_read(lock: &impl TrackedLock) {
    check_lock(
        lock,
        "assert_held_read",
        "must be held for read",
        |m| m.is_some_and(|m| ModeSet::SHARED.contains(m)),
        Location::caller(),
    );
}

/// Asserts that the current thread does not hold `lock`.
#[track_caller]
pub fn assert_not_held(lock: &impl TrackedLock) {
    let site = Location::caller();
    let instance = lock.lock_ref().instance;
    let found = crate::global::inspect(|s| {
        if !s.entries().iter().any(|e| e.instance == instance) {
            return Vec::new();
        }
        let at = probe(Some(lock), Mode::Write, site);
        crate::global::validator().assertion_failed(
            s,
            &crate::global::thread_name,
            &at,
            "assert_not_held",
            None,
            &|c| format!("assertion failed: {c} must not be held, but this thread holds it"),
        )
    });
    if let Some(reports) = found {
        crate::global::raise(reports);
    }
}

/// Asserts that the current thread holds `lock` in a mode that excludes writers and other
/// downgraders: `Write` or `Downgraded` (not a plain read).
#[track_caller]
pub fn assert_exclusive(lock: &impl TrackedLock) {
    check_lock(
        lock,
        "assert_exclusive",
        "must be held for write or downgraded",
        |m| m.is_some_and(|m| ModeSet::EXCLUSIVE.contains(m)),
        Location::caller(),
    );
}

/// Evaluates `f` on a view of the current thread's held locks. When validation is off the
/// view is empty.
pub fn with_held<R>(f: impl FnOnce(&Held<'_>) -> R) -> R {
    let v = crate::global::validator();
    let names = |c: crate::ClassId| v.class_name(c);
    let mut f = Some(f);
    let r = crate::global::inspect(|s| {
        let held = Held { entries: s.entries(), names: &names };
        (f.take().expect("called once"))(&held)
    });
    match r {
        Some(r) => r,
        None => (f.take().expect("not called yet"))(&Held { entries: &[], names: &names }),
    }
}

/// Asserts a named lock-state predicate (e.g. "write-locked VMA": the mmap lock held for
/// write and the VMA write-marked). The predicate sees the held locks and may read instance
/// state captured by the closure. A false predicate is a `class_violation` with the
/// predicate's name as its rule. Returns the predicate's value.
#[track_caller]
pub fn assert_state(name: &str, f: impl FnOnce(&Held<'_>) -> bool) -> bool {
    let site = Location::caller();
    let ok = with_held(f);
    if ok || crate::config::on_report() == crate::OnReport::Off {
        return ok;
    }
    let found = crate::global::inspect(|s| {
        let v = crate::global::validator();
        let classes: Vec<String> = s.entries().iter().map(|e| v.class_name(e.class)).collect();
        let at = match s.entries().last() {
            Some(top) => HeldLock { site: SiteRef::Static(site), trace: 0, ..*top },
            None => probe(None, Mode::Write, site),
        };
        let name = name.to_string();
        v.assertion_failed(s, &crate::global::thread_name, &at, &name, Some(classes), &|held| {
            format!("lock-state predicate {name:?} is false (held: [{held}])")
        })
    });
    if let Some(reports) = found {
        crate::global::raise(reports);
    }
    false
}

fn might(lock: &impl TrackedLock, mode: Mode, site: &'static Location<'static>) {
    if crate::config::on_report() == crate::OnReport::Off {
        return;
    }
    let r = lock.lock_ref();
    crate::global::might_acquire(AcquireReq {
        instance: r.instance,
        class: r.class(),
        subclass: 0,
        mode,
        trylock: false,
        site: SiteRef::Static(site),
        nest_lock: None,
    });
}

/// Declares that the code here may take `lock` for write (the kernel's `might_lock`): the
/// dependency from every held lock is recorded and checked on every run, not only on the rare
/// run where the lock is really taken.
#[track_caller]
pub fn might_lock(lock: &impl TrackedLock) {
    might(lock, Mode::Write, Location::caller());
}

/// As [`might_lock`], for a non-recursive read (e.g. code touching user memory may fault
/// and take the mmap lock for read).
#[track_caller]
pub fn might_lock_read(lock: &impl TrackedLock) {
    might(lock, Mode::Read, Location::caller());
}
