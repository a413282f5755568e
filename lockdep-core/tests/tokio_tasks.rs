//! Async tasks (feature `tokio`): task-owned held stacks (`lockdep_core::task`,
//! `lockdep_core::tokio::spawn`), blocking locks held across an `.await`
//! (`held_across_await`), and `lockdep_core::tokio::sync`'s locks.
//!
//! The graph is process-wide and the tests share one process: each test builds its own locks
//! (distinct construction sites, hence distinct classes) and looks only at reports naming
//! them.
#![cfg(feature = "tokio")]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use lockdep_core::report::{Kind, Report};
use lockdep_core::task::instrument;
use lockdep_core::{LockMap, Mode, OnReport};

fn reports_naming(class: &str) -> Vec<Report> {
    lockdep_core::reports().into_iter().filter(|r| r.classes.iter().any(|c| c == class)).collect()
}

fn kinds_naming(class: &str) -> Vec<Kind> {
    reports_naming(class).iter().map(|r| r.kind).collect()
}

fn warn() {
    lockdep_core::set_on_report(OnReport::Warn);
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn multi_thread(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}

/// Yields once (`Poll::Pending`, waking itself at once).
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

// ---- 1. Task-owned held stacks. ----

#[test]
fn a_lock_taken_on_one_thread_and_released_on_another_by_one_task_is_no_bad_unlock() {
    warn();
    let l: &'static LockMap = Box::leak(Box::new(LockMap::new()));
    let mut task = Box::pin(instrument(async move {
        l.acquire(Mode::Write);
        YieldOnce(false).await;
        let held = lockdep_core::held_count();
        l.release();
        (held, lockdep_core::held_count())
    }));
    let mut cx = Context::from_waker(Waker::noop());
    // First poll on this thread: takes the lock and yields.
    assert!(task.as_mut().poll(&mut cx).is_pending());
    assert_eq!(lockdep_core::held_count(), 0, "the task's lock is not the thread's");
    // Second poll on another thread: releases it there.
    let got = std::thread::spawn(move || {
        let mut cx = Context::from_waker(Waker::noop());
        let r = task.as_mut().poll(&mut cx);
        (r, lockdep_core::held_count())
    })
    .join()
    .unwrap();
    assert_eq!(got, (Poll::Ready((1, 0)), 0));
    let kinds = kinds_naming(&l.class_name());
    assert!(!kinds.contains(&Kind::BadUnlock), "{kinds:?}");
}

#[test]
fn two_tasks_on_one_thread_do_not_see_each_others_locks() {
    warn();
    let a: &'static LockMap = Box::leak(Box::new(LockMap::new()));
    let b: &'static LockMap = Box::leak(Box::new(LockMap::new()));
    let mut ta = Box::pin(instrument(async move {
        a.acquire(Mode::Write);
        YieldOnce(false).await;
        a.release();
    }));
    let mut tb = Box::pin(instrument(async move {
        let seen = lockdep_core::held_count();
        b.acquire(Mode::Write);
        YieldOnce(false).await;
        b.release();
        seen
    }));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(ta.as_mut().poll(&mut cx).is_pending());
    assert!(tb.as_mut().poll(&mut cx).is_pending());
    assert!(ta.as_mut().poll(&mut cx).is_ready());
    assert_eq!(tb.as_mut().poll(&mut cx), Poll::Ready(0), "task b saw task a's lock");
    // a and b were never held together: no edge between them, no bad unlock.
    for l in [a, b] {
        let kinds = kinds_naming(&l.class_name());
        assert!(!kinds.contains(&Kind::BadUnlock), "{kinds:?}");
        assert!(!kinds.contains(&Kind::CircularDependency), "{kinds:?}");
    }
}

#[test]
fn a_task_dropped_while_holding_releases_into_its_own_stack() {
    warn();
    let l: &'static LockMap = Box::leak(Box::new(LockMap::new()));
    struct Release(&'static LockMap);
    impl Drop for Release {
        fn drop(&mut self) {
            self.0.release();
        }
    }
    let mut task = Box::pin(instrument(async move {
        l.acquire(Mode::Write);
        let _r = Release(l);
        YieldOnce(false).await;
    }));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(task.as_mut().poll(&mut cx).is_pending());
    drop(task);
    assert_eq!(lockdep_core::held_count(), 0);
    assert!(!kinds_naming(&l.class_name()).contains(&Kind::BadUnlock));
}

#[test]
fn spawned_tasks_migrate_with_their_locks() {
    warn();
    let rt = multi_thread(2);
    let l: &'static LockMap = Box::leak(Box::new(LockMap::new()));
    let migrated = rt.block_on(async move {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                lockdep_core::tokio::spawn(async move {
                    l.acquire(Mode::RecursiveRead);
                    let first = std::thread::current().id();
                    let mut migrated = false;
                    for _ in 0..200 {
                        tokio::task::yield_now().await;
                        if std::thread::current().id() != first {
                            migrated = true;
                            break;
                        }
                    }
                    assert_eq!(lockdep_core::held_count(), 1);
                    l.release();
                    assert_eq!(lockdep_core::held_count(), 0);
                    migrated
                })
            })
            .collect();
        let mut any = false;
        for h in handles {
            any |= h.await.unwrap();
        }
        any
    });
    eprintln!("a task migrated between workers: {migrated}");
    let kinds = kinds_naming(&l.class_name());
    assert!(!kinds.contains(&Kind::BadUnlock), "{kinds:?}");
}

// ---- 2. Blocking locks held across an `.await`. ----

#[test]
fn a_std_guard_held_across_a_sleep_is_held_across_await() {
    warn();
    let m = lockdep_core::std::sync::Mutex::new(0);
    current_thread().block_on(instrument(async {
        let mut g = m.lock().unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        *g += 1;
    }));
    let rs = reports_naming(&m.class_name());
    assert_eq!(rs.iter().map(|r| r.kind).collect::<Vec<_>>(), vec![Kind::HeldAcrossAwait]);
    let r = &rs[0];
    assert_eq!(r.title, "blocking lock held across an await");
    assert!(r.message.contains("tests/tokio_tasks.rs"), "{}", r.message);
    let taken = r.acquiring.as_ref().and_then(|a| a.site.as_ref()).expect("guard site");
    assert!(taken.file.ends_with("tokio_tasks.rs"), "{taken}");
}

#[test]
fn held_across_await_is_reported_once_per_class_and_site() {
    warn();
    let m = lockdep_core::std::sync::Mutex::new(0);
    let rt = current_thread();
    for _ in 0..3 {
        rt.block_on(instrument(async {
            let _g = m.lock().unwrap();
            tokio::task::yield_now().await;
        }));
    }
    rt.block_on(instrument(async {
        let _g = m.lock().unwrap(); // a second site of the same class
        tokio::task::yield_now().await;
    }));
    assert_eq!(kinds_naming(&m.class_name()), vec![Kind::HeldAcrossAwait; 2]);
}

#[test]
fn a_std_guard_dropped_before_the_await_is_fine() {
    warn();
    let m = lockdep_core::std::sync::Mutex::new(0);
    current_thread().block_on(instrument(async {
        {
            let mut g = m.lock().unwrap();
            *g += 1;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        *m.lock().unwrap() += 1;
    }));
    assert_eq!(kinds_naming(&m.class_name()), vec![]);
}

#[test]
fn a_std_guard_used_in_spawn_blocking_is_fine() {
    warn();
    // A std guard is `!Send`: it cannot move into the closure, so the closure takes it (on a
    // blocking-pool thread, with that thread's own stack) while the task awaits the closure.
    let m = Arc::new(lockdep_core::std::sync::Mutex::new(0));
    let m2 = m.clone();
    current_thread().block_on(instrument(async move {
        tokio::task::spawn_blocking(move || {
            let mut g = m2.lock().unwrap();
            std::thread::sleep(Duration::from_millis(1));
            *g += 1;
        })
        .await
        .unwrap();
    }));
    assert_eq!(*m.lock().unwrap(), 1);
    assert_eq!(kinds_naming(&m.class_name()), vec![]);
}

// ---- 3. `lockdep_core::tokio::sync`. ----

use lockdep_core::tokio::sync::{Mutex as AsyncMutex, RwLock as AsyncRwLock};

/// Takes `first` then `second` in a task spawned on `rt`, yielding between (so the task may
/// migrate while it holds `first`), and waits for the task to end.
fn nest(rt: &tokio::runtime::Runtime, first: &Arc<AsyncMutex<u32>>, second: &Arc<AsyncMutex<u32>>) {
    let (first, second) = (first.clone(), second.clone());
    rt.block_on(async move {
        lockdep_core::tokio::spawn(async move {
            let mut g1 = first.lock().await;
            for _ in 0..20 {
                tokio::task::yield_now().await;
            }
            let mut g2 = second.lock().await;
            tokio::task::yield_now().await;
            *g1 += 1;
            *g2 += 1;
        })
        .await
        .unwrap();
    });
}

#[test]
fn an_abba_between_two_tasks_on_async_mutexes_is_a_circular_dependency() {
    warn();
    let rt = multi_thread(2);
    let a = Arc::new(AsyncMutex::new(0));
    let b = Arc::new(AsyncMutex::new(0));
    nest(&rt, &a, &b); // a -> b
    assert!(reports_naming(&a.class_name()).is_empty());
    nest(&rt, &b, &a); // b -> a: reported before it could wait, never a real deadlock
    let kinds = kinds_naming(&a.class_name());
    assert_eq!(kinds, vec![Kind::CircularDependency], "{kinds:?}");
    assert!(!kinds_naming(&b.class_name()).contains(&Kind::BadUnlock));
}

#[test]
fn the_legal_twin_on_async_mutexes_is_silent() {
    warn();
    let rt = multi_thread(2);
    let a = Arc::new(AsyncMutex::new(0));
    let b = Arc::new(AsyncMutex::new(0));
    nest(&rt, &a, &b);
    nest(&rt, &a, &b);
    assert_eq!(kinds_naming(&a.class_name()), vec![]);
    assert_eq!(kinds_naming(&b.class_name()), vec![]);
}

/// A task takes the async mutex, then (inside its critical section) a sync mutex: AM -> S.
fn sync_under_async(
    rt: &tokio::runtime::Runtime,
    am: &Arc<AsyncMutex<u32>>,
    s: &Arc<lockdep_core::Mutex<u32>>,
) {
    let (am, s) = (am.clone(), s.clone());
    rt.block_on(async move {
        lockdep_core::tokio::spawn(async move {
            let mut g = am.lock().await;
            tokio::task::yield_now().await;
            *g += *s.lock();
        })
        .await
        .unwrap();
    });
}

#[test]
fn a_sync_lock_inside_an_async_critical_section_cycles_with_a_sync_thread() {
    warn();
    let rt = multi_thread(2);
    let am = Arc::new(AsyncMutex::new(0));
    let s = Arc::new(lockdep_core::Mutex::new(0));
    sync_under_async(&rt, &am, &s);
    // A plain thread holding S blocks on the async mutex: S -> AM closes the cycle.
    let (am2, s2) = (am.clone(), s.clone());
    std::thread::spawn(move || {
        let _s = s2.lock();
        *am2.blocking_lock() += 1;
    })
    .join()
    .unwrap();
    let rs = reports_naming(&am.class_name());
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
    assert!(rs[0].classes.contains(&s.class_name()), "{:?}", rs[0].classes);
}

#[test]
fn a_sync_thread_that_releases_first_is_the_legal_twin() {
    warn();
    let rt = multi_thread(2);
    let am = Arc::new(AsyncMutex::new(0));
    let s = Arc::new(lockdep_core::Mutex::new(0));
    sync_under_async(&rt, &am, &s);
    let (am2, s2) = (am.clone(), s.clone());
    std::thread::spawn(move || {
        let v = *s2.lock();
        *am2.blocking_lock() += v;
    })
    .join()
    .unwrap();
    assert_eq!(kinds_naming(&am.class_name()), vec![]);
    assert_eq!(kinds_naming(&s.class_name()), vec![]);
}

#[test]
fn async_mutex_api_and_send_guards() {
    fn send<T: Send>(_: &T) {}
    warn();
    let rt = current_thread();
    let m = Arc::new(AsyncMutex::new(1));
    let rw = AsyncRwLock::new(1);
    rt.block_on(instrument(async {
        let g = m.lock().await;
        send(&g);
        assert_eq!(lockdep_core::held_count(), 1);
        assert!(m.try_lock().is_err());
        drop(g);
        assert_eq!(lockdep_core::held_count(), 0);
        *m.try_lock().unwrap() += 1;
        let mut og = m.clone().lock_owned().await;
        *og += 1;
        tokio::task::yield_now().await; // an async lock across an await: no report
        drop(og);
        {
            let r1 = rw.read().await;
            let r2 = rw.try_read().unwrap();
            assert!(rw.try_write().is_err());
            assert_eq!(*r1 + *r2, 2);
            assert_eq!(lockdep_core::held_count(), 2);
        }
        *rw.write().await += 1;
        *rw.try_write().unwrap() += 1;
        assert_eq!(lockdep_core::held_count(), 0);
    }));
    assert_eq!(*m.blocking_lock(), 3);
    assert_eq!(*rw.try_read().unwrap(), 3);
    assert_eq!(kinds_naming(&m.class_name()), vec![]);
    assert_eq!(kinds_naming(&rw.class_name()), vec![]);
}

#[test]
fn owned_rwlock_guards_try_lock_owned_and_blocking_reads_and_writes() {
    fn send<T: Send>(_: &T) {}
    warn();
    let rw = Arc::new(AsyncRwLock::new(1));
    let m = Arc::new(AsyncMutex::new(1));
    current_thread().block_on(instrument(async {
        let r1 = rw.clone().read_owned().await;
        let r2 = rw.clone().try_read_owned().unwrap();
        send(&r1);
        assert!(rw.clone().try_write_owned().is_err());
        assert_eq!(*r1 + *r2, 2);
        assert_eq!(lockdep_core::held_count(), 2);
        tokio::task::yield_now().await; // async guards across an await: no report
        drop((r1, r2));
        let mut w = rw.clone().write_owned().await;
        send(&w);
        *w += 1;
        assert!(rw.try_read().is_err());
        drop(w);
        *rw.clone().try_write_owned().unwrap() += 1;
        let mut og = m.clone().try_lock_owned().unwrap();
        send(&og);
        *og += 1;
        assert!(m.clone().try_lock_owned().is_err());
        drop(og);
        assert_eq!(lockdep_core::held_count(), 0);
    }));
    // Outside async code: tokio's blocking_read / blocking_write.
    assert_eq!(*rw.blocking_read(), 3);
    *rw.blocking_write() += 1;
    assert_eq!(*rw.blocking_read(), 4);
    assert_eq!(*m.blocking_lock(), 2);
    assert_eq!(lockdep_core::held_count(), 0);
    assert_eq!(kinds_naming(&rw.class_name()), vec![]);
    assert_eq!(kinds_naming(&m.class_name()), vec![]);
}

#[test]
fn an_owned_read_under_a_write_of_the_same_lock_is_recursive_locking() {
    warn();
    let rw = Arc::new(AsyncRwLock::new(0));
    current_thread().block_on(instrument(async {
        let _w = rw.clone().write_owned().await;
        // Reported before it waits; tokio would hang here, so only validate and drop.
        let fut = rw.clone().read_owned();
        let mut fut = std::pin::pin!(fut);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
    }));
    assert_eq!(kinds_naming(&rw.class_name()), vec![Kind::RecursiveLocking]);
}

#[test]
fn a_cancelled_lock_future_leaves_nothing_held() {
    warn();
    let m = AsyncMutex::new(0);
    current_thread().block_on(instrument(async {
        let g = m.lock().await;
        let mut fut = Box::pin(m.lock());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert_eq!(lockdep_core::held_count(), 2);
        drop(fut);
        assert_eq!(lockdep_core::held_count(), 1);
        drop(g);
    }));
}
