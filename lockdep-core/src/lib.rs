//! A lock-dependency validator for Rust, after the Linux kernel's lockdep.
//!
//! Use the instrumented lock types ([`Mutex`], [`SpinLock`], [`RwSem`], [`RwLock`]) or describe
//! your own lock with a [`LockMap`]. Every acquisition is checked against the global graph of
//! lock classes; the *possibility* of a deadlock is reported the first time it appears, with
//! both sides' sites and stacks, on stderr and in a JSON report file.
//!
//! ```
//! use lockdep_core::Mutex;
//!
//! let a = Mutex::new(0);
//! let b = Mutex::new(0);
//! {
//!     let _ga = a.lock();
//!     let _gb = b.lock(); // records a -> b
//! }
//! // Taking them in the other order, on any thread, would report a circular dependency.
//! ```
//!
//! Configuration comes from the environment (`LOCKDEP`, `LOCKDEP_REPORT_DIR`,
//! `LOCKDEP_BACKTRACE`); see [`Config`].

// Layers, bottom to top; a module imports only from the layers below it:
// vocabulary and configuration -> classes, held stacks, chain cache -> graph -> rule engine ->
// validator -> sink -> process-wide instance -> hook layer -> lock types and user API.
mod config;
pub mod report;

mod chain_cache;
#[cfg_attr(feature = "off", expect(dead_code, reason = "the hook layer compiles out its uses"))]
mod class;
mod held;
mod witness;

mod graph;
mod rule_engine;
pub mod trace;
#[cfg_attr(feature = "off", expect(dead_code, reason = "the hook layer compiles out its uses"))]
mod validator;

#[cfg_attr(feature = "off", expect(dead_code, reason = "the hook layer compiles out its uses"))]
mod global;
#[cfg_attr(feature = "off", expect(dead_code, reason = "the hook layer compiles out its uses"))]
mod recorder;
#[cfg_attr(feature = "off", expect(dead_code, reason = "the hook layer compiles out its uses"))]
mod sink;

mod hook;

mod api;
mod assertions;
mod dropin;
mod raw;
pub mod rules;
mod sync;
mod test_support;
mod tracked;

extern crate self as lockdep_core;

pub use lockdep_macros::{lock_order, lock_rules, test};

/// The workspace README's examples, compiled as doctests so the README cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// Support code of the macros; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::test_support::run_test;
}

pub use test_support::test_report_path;

pub use api::{check_held_at_exit, held_count, report_path, reports, write_report_file};
pub use assertions::{
    assert_exclusive, assert_held, assert_held_read, assert_held_write, assert_not_held,
    assert_state, might_lock, might_lock_read, with_held,
};
pub use class::{ClassId, LockClassKey};
pub use config::{
    config, on_report, report_dir, set_on_report, set_report_dir, Backtrace, Config, OnReport,
    SameClass,
};
pub use global::validator;
pub use held::MAX_DEPTH;
pub use raw::LockMap;
pub use report::{Kind, Mode};
pub use sync::{
    Mutex, MutexGuard, RawSpinLock, ReadGuard, RwLock, RwSem, SpinLock, SpinLockGuard, WriteGuard,
};
pub use tracked::{LockRef, TrackedLock};

/// Drop-in replacements for modules of `std`: `lockdep_core::std::sync` mirrors
/// `std::sync`, so switching is an import change.
///
/// Name what you import (`use lockdep_core::std::sync::Mutex;`): a glob import
/// `use lockdep_core::*;` also brings this module and [`parking_lot`] into scope, and then a
/// `use std::...` in the same module is ambiguous (write `::std::...` there).
pub mod std {
    pub use crate::dropin::std_sync as sync;
}

pub use dropin::parking_lot;
pub use validator::Validator;
