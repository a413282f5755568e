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
//! `LOCKDEP_BACKTRACE`, `LOCKDEP_TRACE`, `LOCKDEP_SAME_CLASS`), or from code with
//! [`Config::install`]; see [`Config`].
//!
//! # Compiling out: the `off` feature
//!
//! With the `off` cargo feature every lock type is exactly its raw lock plus its data (a
//! `Mutex<u64>` has the size of a `parking_lot::Mutex<u64>`), acquisitions cost what the raw
//! lock costs, assertions and predicates never fail, rules and `LockMap` annotations do
//! nothing, no start-up or exit hook runs and no report file or trace is written. Trace replay
//! ([`trace`]) and private [`Validator`]s keep working.
//!
//! **Feature unification:** Cargo enables a feature for every user of a crate in one build.
//! If any crate in the build enables `lockdep-core/off`, tracing is off for the whole build,
//! including the tests of crates that did not ask for it. Enable it only from the final binary
//! (or a release-only profile of your own crate's features), never from a library.

// Layers, bottom to top; a module imports only from its own layer and those below it (the
// ARCHITECTURE table in the workspace README names every file):
// 1. vocabulary and configuration;
// 2. classes, held stacks and chain keys, the chain cache;
// 3. the class graph, the component order of both graphs and the strong-path search;
// 4. the rule engine;
// 5. the report model (downstream of the engine's vocabulary); captured stacks;
// 6. the validator, and trace replay on a private one;
// 7. the sink and trace recording; 8. the process-wide instance;
// 9. the hook layer (the only user of the instance, and the only file the `off` feature
//    touches); 10. lock types and the user API.
mod config;
mod fork_safe;
pub mod vocab;

mod chain_cache;
#[cfg_attr(feature = "off", expect(dead_code, reason = "the hook layer compiles out its uses"))]
mod class;
mod event_ctx;
mod held;
#[cfg_attr(feature = "off", allow(dead_code, reason = "names are for classes, compiled out"))]
mod source_name;

mod graph;
mod scc_order;
pub mod strong_path;

mod rule_engine;

pub mod report;
mod stacks;

pub mod trace;
#[cfg_attr(feature = "off", expect(dead_code, reason = "the hook layer compiles out its uses"))]
mod validator;

mod recorder;
#[cfg_attr(feature = "off", expect(dead_code, reason = "the hook layer compiles out its uses"))]
mod sink;
mod stale;

mod fork;
#[cfg_attr(feature = "off", expect(dead_code, reason = "the hook layer compiles out its uses"))]
mod global;

mod hook;

mod api;
mod assertions;
mod dropin;
mod raw;
pub mod rules;
mod sync;
pub mod task;
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
    #[cfg(feature = "tokio")]
    pub use crate::test_support::{run_async_test, Flavor};
}

/// What `#[lockdep_core::test] async fn` expands to: the test's future on a tokio runtime.
#[cfg(feature = "tokio")]
#[doc(hidden)]
#[macro_export]
macro_rules! __async_test {
    ($name:expr, $flavor:expr, $fut:expr) => {
        $crate::__private::run_async_test($name, $flavor, $fut)
    };
}

/// Without the `tokio` feature the async test's body is never built: the item
/// `__async_test_needs_tokio!` beside it is a compile error.
#[cfg(not(feature = "tokio"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __async_test {
    ($($t:tt)*) => {
        ::core::unreachable!()
    };
}

/// An item beside every `#[lockdep_core::test] async fn` (built also when not testing):
/// nothing with the `tokio` feature, a compile error naming the feature without it.
#[cfg(feature = "tokio")]
#[doc(hidden)]
#[macro_export]
macro_rules! __async_test_needs_tokio {
    () => {};
}

/// An item beside every `#[lockdep_core::test] async fn` (built also when not testing):
/// nothing with the `tokio` feature, a compile error naming the feature without it.
#[cfg(not(feature = "tokio"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __async_test_needs_tokio {
    () => {
        ::core::compile_error!(
            "`#[lockdep_core::test] async fn` needs the `tokio` feature of lockdep-core \
             (lockdep-core = { features = [\"tokio\"] })"
        );
    };
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
    pub use crate::dropin::std_thread as thread;
}

/// `lockdep_core::crossbeam_channel` (feature `crossbeam`): crossbeam's channels as events,
/// like [`std::sync::mpsc`](crate::std::sync::mpsc), with `Select`.
#[cfg(feature = "crossbeam")]
pub use dropin::crossbeam_channel;
pub use dropin::lock_api;
pub use dropin::parking_lot;
/// `lockdep_core::tokio` (feature `tokio`): [`spawn`](crate::tokio::spawn) with task-owned held
/// stacks, and `tokio::sync`'s locks validated (`lockdep_core::tokio::sync`).
#[cfg(feature = "tokio")]
pub use dropin::tokio;
pub use validator::Validator;
