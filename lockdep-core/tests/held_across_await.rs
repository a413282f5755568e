//! `held_across_await` (feature `tokio`): the report names where the guard was taken and
//! where the task yielded (its instrumented future), once per site pair; and the twins that
//! give nothing: the four shapes clippy's static `await_holding_lock` flags wrongly
//! (rust-clippy #8777, #9683, #9208, #13075, each reduced here to its shape), and a lock used
//! by a `spawn_blocking` closure while the task awaits it.
//!
//! Each test builds its own locks (distinct classes) and looks only at reports naming them.
#![cfg(feature = "tokio")]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lockdep_core::report::{Kind, Report};
use lockdep_core::task::instrument;
use lockdep_core::OnReport;

fn reports_naming(class: &str) -> Vec<Report> {
    lockdep_core::reports().into_iter().filter(|r| r.classes.iter().any(|c| c == class)).collect()
}

fn kinds_naming(class: &str) -> Vec<Kind> {
    reports_naming(class).iter().map(|r| r.kind).collect()
}

fn rt() -> tokio::runtime::Runtime {
    lockdep_core::set_on_report(OnReport::Warn);
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Really yields (`Poll::Pending` for a millisecond).
async fn nap() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

// ---- The report: both sites, once per pair. ----

#[test]
fn the_report_names_the_guard_site_and_the_yield_site_once_per_pair() {
    let rt = rt();
    let m = lockdep_core::std::sync::Mutex::new(0);
    let yielding = |_: u32| async {
        let mut g = m.lock().unwrap(); // one guard site for every task below
        nap().await; // first yield
        nap().await; // second yield of the same task: same pair
        *g += 1;
    };
    for i in 1..=2 {
        rt.block_on(instrument(yielding(i))); // the second run: the same pair, nothing new
    }
    let task_a = line!() - 2;
    let task_b = line!() + 1;
    rt.block_on(instrument(yielding(3)));
    let rs = reports_naming(&m.class_name());
    assert_eq!(rs.iter().map(|r| r.kind).collect::<Vec<_>>(), vec![Kind::HeldAcrossAwait; 2]);
    let guard_site = rs[0].acquiring.as_ref().and_then(|a| a.site.clone()).unwrap();
    assert!(guard_site.file.ends_with("held_across_await.rs"), "{guard_site}");
    for (r, line) in rs.iter().zip([task_a, task_b]) {
        assert_eq!(r.acquiring.as_ref().and_then(|a| a.site.clone()).unwrap(), guard_site);
        let yield_site = format!("held_across_await.rs:{line}:");
        assert!(r.message.contains(&yield_site), "{yield_site} not in {}", r.message);
        assert!(r.message.contains(&format!("taken at {guard_site}")), "{}", r.message);
    }
    assert_eq!(*m.lock().unwrap(), 3);
}

#[test]
fn a_parking_lot_guard_across_a_yield_in_a_local_task_names_its_instrument_site() {
    // Blocking guards are `!Send`, so a task holding one across an `.await` is a local task
    // (`spawn_local`, a current-thread `block_on`): `tokio::spawn` refuses it at compile time.
    let rt = rt();
    let m = Arc::new(lockdep_core::parking_lot::Mutex::new(0));
    let m2 = m.clone();
    let local = tokio::task::LocalSet::new();
    let task_line = line!() + 1;
    let task = instrument(async move {
        let mut g = m2.lock();
        nap().await;
        *g += 1;
    });
    local.block_on(&rt, async move { tokio::task::spawn_local(task).await.unwrap() });
    let rs = reports_naming(&m.class_name());
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].kind, Kind::HeldAcrossAwait);
    assert!(rs[0].message.contains(&format!("held_across_await.rs:{task_line}:")));
    assert_eq!(*m.lock(), 1);
}

#[test]
fn the_report_names_the_await_point_where_the_task_yielded() {
    let rt = rt();
    let m = lockdep_core::std::sync::Mutex::new(0);
    let await_line = line!() + 3;
    rt.block_on(instrument(async {
        let mut g = m.lock().unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        *g += 1;
    }));
    let rs = reports_naming(&m.class_name());
    assert_eq!(rs.len(), 1);
    // The source path is the debug info's (absolute); the line is the `.await`'s.
    let msg = &rs[0].message;
    let at = msg.split("(it yielded at ").nth(1).expect(msg);
    let at = at.split(" from the poll of the task").next().unwrap();
    assert!(at.ends_with(&format!("tests/held_across_await.rs:{await_line}")), "{msg}");
}

// ---- The twins: clippy's false positives give nothing here. ----

#[test]
fn clippy_8777_guard_in_a_while_let_condition_block_then_await_in_the_body() {
    let rt = rt();
    let queue = lockdep_core::std::sync::Mutex::new(vec![1, 2, 3]);
    let mut seen = Vec::new();
    rt.block_on(instrument(async {
        // The guard lives in the condition's block and is gone before the body runs.
        while let Some(item) = {
            let mut g = queue.lock().unwrap();
            g.pop()
        } {
            nap().await;
            seen.push(item);
        }
    }));
    assert_eq!(seen, vec![3, 2, 1]);
    assert_eq!(kinds_naming(&queue.class_name()), vec![]);
}

#[test]
fn clippy_9683_guard_dropped_by_hand_right_before_the_await() {
    let rt = rt();
    let m = lockdep_core::std::sync::Mutex::new(0);
    rt.block_on(instrument(async {
        let mut g = m.lock().unwrap();
        *g += 1;
        drop(g);
        nap().await;
        *m.lock().unwrap() += 1;
    }));
    assert_eq!(*m.lock().unwrap(), 2);
    assert_eq!(kinds_naming(&m.class_name()), vec![]);
}

#[test]
fn clippy_9208_guard_borrowed_by_a_match_dropped_in_each_arm_before_its_await() {
    let rt = rt();
    let cache = lockdep_core::std::sync::RwLock::new(HashMap::from([(1, 10)]));
    let lookup = |key: u32| {
        let cache = &cache;
        async move {
            let g = cache.read().unwrap();
            match g.get(&key) {
                Some(v) => {
                    let v = *v;
                    drop(g);
                    nap().await;
                    v
                }
                None => {
                    drop(g);
                    nap().await;
                    let mut w = cache.write().unwrap();
                    *w.entry(key).or_insert(key * 10)
                }
            }
        }
    };
    let got = rt.block_on(instrument(async { (lookup(1).await, lookup(2).await) }));
    assert_eq!(got, (10, 20));
    assert_eq!(cache.read().unwrap().len(), 2);
    assert_eq!(kinds_naming(&cache.class_name()), vec![]);
}

/// An async condition-variable wait (the shape of async-condvar-fair's): takes the guard by
/// value, unlocks before it yields, and locks again after.
async fn wait_unlocked<'a>(
    m: &'a lockdep_core::parking_lot::Mutex<u32>,
    guard: lockdep_core::parking_lot::MutexGuard<'a, u32>,
    notify: &tokio::sync::Notify,
) -> lockdep_core::parking_lot::MutexGuard<'a, u32> {
    let notified = notify.notified();
    drop(guard);
    notified.await;
    m.lock()
}

#[test]
fn clippy_13075_guard_moved_into_an_awaited_future_that_unlocks_before_yielding() {
    let rt = rt();
    let m = Arc::new(lockdep_core::parking_lot::Mutex::new(0));
    let notify = Arc::new(tokio::sync::Notify::new());
    let (m2, n2) = (m.clone(), notify.clone());
    let rounds = rt.block_on(instrument(async move {
        let producer = lockdep_core::tokio::spawn(async move {
            for _ in 0..3 {
                nap().await;
                *m2.lock() += 1;
                n2.notify_one();
            }
        });
        let mut guard = m.lock();
        let mut rounds = 0;
        while *guard < 3 {
            guard = wait_unlocked(&m, guard, &notify).await;
            rounds += 1;
        }
        drop(guard);
        producer.await.unwrap();
        (rounds, m)
    }));
    let (rounds, m) = rounds;
    assert!((1..=3).contains(&rounds), "{rounds}");
    assert_eq!(*m.lock(), 3);
    assert_eq!(kinds_naming(&m.class_name()), vec![]);
}

#[test]
fn a_lock_taken_by_a_spawn_blocking_closure_the_task_awaits_gives_nothing() {
    // Blocking guards are `!Send` (moving one into the closure does not compile; see the
    // `compile_fail` example in `lockdep_core::task`): the closure takes the lock on a
    // blocking-pool thread, with that thread's stack, while the task awaits it.
    let rt = rt();
    let m = Arc::new(lockdep_core::parking_lot::Mutex::new(0));
    let m2 = m.clone();
    let held_in_task = rt.block_on(instrument(async move {
        let h = tokio::task::spawn_blocking(move || {
            let mut g = m2.lock();
            std::thread::sleep(Duration::from_millis(2));
            *g += 1;
            lockdep_core::held_count()
        });
        let in_closure = h.await.unwrap();
        (in_closure, lockdep_core::held_count())
    }));
    assert_eq!(held_in_task, (1, 0));
    assert_eq!(*m.lock(), 1);
    assert_eq!(kinds_naming(&m.class_name()), vec![]);
}
