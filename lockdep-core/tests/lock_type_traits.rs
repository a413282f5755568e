//! Every lock type of the crate (the core types, the std and parking_lot families, the traced
//! raw locks) has what code written for std or parking_lot expects: `Default`, `From<T>`, a
//! `Debug` that never blocks, std's `Send` / `Sync` bounds, unwind safety like std's `Mutex`;
//! guards are `#[must_use]` and `#[clippy::has_significant_drop]`, constructors and entry
//! points `#[track_caller]`, and each type documents its cost. The trait checks are compile
//! time (a missing impl fails to build); the attribute checks read the sources.

use std::cell::Cell;
use std::fmt::Debug;
use std::panic::{RefUnwindSafe, UnwindSafe};

use lockdep_core::{parking_lot as pl, std::sync as ss};

fn default_from_debug<L: Default + From<u32> + Debug>() {}
fn send_sync<L: Send + Sync>() {}
fn unwind_safe<L: UnwindSafe + RefUnwindSafe>() {}

#[test]
fn every_lock_type_has_default_from_and_debug() {
    default_from_debug::<lockdep_core::Mutex<u32>>();
    default_from_debug::<lockdep_core::RwSem<u32>>();
    default_from_debug::<lockdep_core::RwLock<u32>>();
    default_from_debug::<lockdep_core::SpinLock<u32>>();
    default_from_debug::<ss::Mutex<u32>>();
    default_from_debug::<ss::RwLock<u32>>();
    default_from_debug::<pl::Mutex<u32>>();
    default_from_debug::<pl::FairMutex<u32>>();
    default_from_debug::<pl::RwLock<u32>>();
    default_from_debug::<pl::ReentrantMutex<u32>>();
    fn default_debug<L: Default + Debug>() {}
    default_debug::<ss::Condvar>();
    default_debug::<pl::Condvar>();
    fn debug<L: Debug>() {}
    debug::<lockdep_core::lock_api::TracedRaw<parking_lot::RawMutex>>();
}

#[test]
fn send_and_sync_as_std_s_a_mutex_of_a_send_type_is_sync() {
    // `Cell` is `Send`, not `Sync`: a mutex of it is `Sync` (it hands out one `&mut` at a
    // time), as `std::sync::Mutex<Cell<_>>` is.
    send_sync::<std::sync::Mutex<Cell<u32>>>(); // the model
    send_sync::<lockdep_core::Mutex<Cell<u32>>>();
    send_sync::<lockdep_core::SpinLock<Cell<u32>>>();
    send_sync::<ss::Mutex<Cell<u32>>>();
    send_sync::<pl::Mutex<Cell<u32>>>();
    send_sync::<pl::FairMutex<Cell<u32>>>();
    // Reader-writer locks share `&T` among readers: `Sync` needs `T: Send + Sync`.
    send_sync::<lockdep_core::RwSem<Vec<u32>>>();
    send_sync::<lockdep_core::RwLock<Vec<u32>>>();
    send_sync::<ss::RwLock<Vec<u32>>>();
    send_sync::<pl::RwLock<Vec<u32>>>();
    send_sync::<pl::ReentrantMutex<Vec<u32>>>();
    send_sync::<ss::Condvar>();
    send_sync::<pl::Condvar>();
    send_sync::<lockdep_core::lock_api::TracedRaw<parking_lot::RawRwLock>>();
    send_sync::<lock_api::Mutex<lockdep_core::lock_api::TracedRaw<parking_lot::RawMutex>, Cell<u32>>>(
    );
    // Guards are `Sync` when `T` is (their `!Send` is a trybuild test: `tests/ui`).
    send_sync_ref::<lockdep_core::MutexGuard<'_, Vec<u32>>>();
    send_sync_ref::<ss::MutexGuard<'_, Vec<u32>>>();
    send_sync_ref::<pl::MutexGuard<'_, Vec<u32>>>();
    send_sync_ref::<pl::RwLockReadGuard<'_, Vec<u32>>>();
    fn send_sync_ref<G: Sync>() {}
}

#[test]
fn mutexes_and_rwlocks_are_unwind_safe_like_std_s() {
    unwind_safe::<std::sync::Mutex<Cell<u32>>>(); // the model: even of a `Cell`
    unwind_safe::<lockdep_core::Mutex<Cell<u32>>>();
    unwind_safe::<lockdep_core::SpinLock<Cell<u32>>>();
    unwind_safe::<lockdep_core::RwSem<Cell<u32>>>();
    unwind_safe::<lockdep_core::RwLock<Cell<u32>>>();
    unwind_safe::<ss::Mutex<Cell<u32>>>();
    unwind_safe::<ss::RwLock<Cell<u32>>>();
    unwind_safe::<pl::Mutex<Cell<u32>>>();
    unwind_safe::<pl::RwLock<Cell<u32>>>();
    unwind_safe::<pl::ReentrantMutex<u32>>();
    // So a closure using one needs no `AssertUnwindSafe`.
    let m = lockdep_core::Mutex::new(1);
    assert_eq!(std::panic::catch_unwind(|| *m.lock()).unwrap(), 1);
}

#[test]
fn debug_never_blocks_and_shows_the_data_when_free() {
    let m = lockdep_core::Mutex::new(7);
    assert!(format!("{m:?}").starts_with("Mutex { data: 7, class: "), "{m:?}");
    let g = m.lock();
    assert!(format!("{m:?}").starts_with("Mutex { data: <locked>"), "{m:?}");
    drop(g);
    let s = lockdep_core::SpinLock::from(3);
    let g = s.lock();
    assert!(format!("{s:?}").starts_with("SpinLock { data: <locked>"), "{s:?}");
    drop(g);
    let r = lockdep_core::RwSem::from(vec![1]);
    let w = r.write();
    assert!(format!("{r:?}").starts_with("RwSem { data: <locked>"), "{r:?}");
    drop(w);
    assert!(format!("{r:?}").starts_with("RwSem { data: [1]"), "{r:?}");
    let l = lockdep_core::RwLock::<u8>::default();
    let w = l.write();
    assert!(format!("{l:?}").starts_with("RwLock { data: <locked>"), "{l:?}");
    drop(w);
    let p = pl::ReentrantMutex::from(2);
    assert_eq!(format!("{p:?}"), "ReentrantMutex { data: 2 }");
    assert_eq!(lockdep_core::held_count(), 0);
}

/// The sources of every lock type, with their paths.
const SOURCES: &[(&str, &str)] = &[
    ("sync/mod.rs", include_str!("../src/sync/mod.rs")),
    ("sync/mutex.rs", include_str!("../src/sync/mutex.rs")),
    ("sync/rwsem.rs", include_str!("../src/sync/rwsem.rs")),
    ("sync/rwlock.rs", include_str!("../src/sync/rwlock.rs")),
    ("sync/spin.rs", include_str!("../src/sync/spin.rs")),
    ("std_sync/mutex.rs", include_str!("../src/dropin/std_sync/mutex.rs")),
    ("std_sync/rwlock.rs", include_str!("../src/dropin/std_sync/rwlock.rs")),
    ("std_sync/condvar.rs", include_str!("../src/dropin/std_sync/condvar.rs")),
    ("parking_lot/condvar.rs", include_str!("../src/dropin/parking_lot/condvar.rs")),
    ("lock_api/mutex.rs", include_str!("../src/dropin/parking_lot/lock_api/mutex.rs")),
    ("lock_api/rwlock.rs", include_str!("../src/dropin/parking_lot/lock_api/rwlock.rs")),
    ("lock_api/remutex.rs", include_str!("../src/dropin/parking_lot/lock_api/remutex.rs")),
    ("lock_api/arc.rs", include_str!("../src/dropin/parking_lot/lock_api/arc.rs")),
    ("traced raw.rs", include_str!("../src/dropin/lock_api/raw.rs")),
];

/// The attribute and doc lines right above line `i`.
fn header(lines: &[&str], i: usize) -> Vec<String> {
    lines[..i]
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with('#') || l.starts_with("///"))
        .map(str::to_string)
        .collect()
}

fn fn_name(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix("pub ")?;
    let rest = rest.strip_prefix("const ").unwrap_or(rest);
    let rest = rest.strip_prefix("unsafe ").unwrap_or(rest);
    let rest = rest.strip_prefix("fn ")?;
    rest.split(['(', '<']).next()
}

#[test]
fn guards_are_must_use_and_significant_drop() {
    let mut guards = 0;
    for (path, src) in SOURCES {
        let lines: Vec<&str> = src.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            // `$name`: the `Arc` guards, made by a macro.
            let l = l.trim();
            if l.starts_with("pub struct ") && (l.contains("Guard") || l.contains("$name")) {
                let h = header(&lines, i);
                assert!(h.iter().any(|a| a.starts_with("#[must_use")), "{path}:{}: {l}", i + 1);
                let drop = "#[clippy::has_significant_drop]";
                assert!(h.iter().any(|a| a == drop), "{path}:{}: {l}", i + 1);
                guards += 1;
            }
        }
    }
    assert!(guards >= 15, "{guards} guard types found: the scan lost them");
}

#[test]
fn lock_types_document_their_cost() {
    let types = ["Mutex", "RwSem", "RwLock", "SpinLock", "Condvar", "ReentrantMutex", "TracedRaw"];
    let mut found = 0;
    for (path, src) in SOURCES {
        let lines: Vec<&str> = src.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let Some(name) = l.strip_prefix("pub struct ") else { continue };
            if types.iter().any(|t| name.starts_with(&format!("{t}<")) || name == format!("{t} {{"))
            {
                let h = header(&lines, i);
                assert!(h.iter().any(|d| d == "/// # Cost"), "{path}:{}: {l}", i + 1);
                found += 1;
            }
        }
    }
    assert_eq!(found, 12, "lock types found");
}

#[test]
fn constructors_and_entry_points_are_track_caller() {
    // Where the class or the acquisition site comes from the caller.
    let entry = |name: &str| {
        ["new", "default", "from", "lock", "read", "write", "upgradable_read", "upgrade"]
            .contains(&name)
            || ["try_", "lock_", "read_", "write_", "wait", "const_"]
                .iter()
                .any(|p| name.starts_with(p))
    };
    let mut checked = 0;
    for (path, src) in SOURCES {
        let lines: Vec<&str> = src.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let name = match fn_name(l) {
                Some(n) => n,
                None if l.trim_start().starts_with("fn default(") => "default",
                None if l.trim_start().starts_with("fn from(") => "from",
                None => continue,
            };
            // A traced raw lock's class is its type or key, never a site: `new` needs none.
            if !entry(name)
                || name.starts_with("try_map")
                || (*path == "traced raw.rs" && name == "new")
            {
                continue;
            }
            let h = header(&lines, i);
            assert!(h.iter().any(|a| a == "#[track_caller]"), "{path}:{}: {l}", i + 1);
            checked += 1;
        }
    }
    assert!(checked >= 80, "{checked} entry points found: the scan lost them");
}
