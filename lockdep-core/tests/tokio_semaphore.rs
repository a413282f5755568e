//! `lockdep_core::tokio::sync::Semaphore` (feature `tokio`): a permit held is an exclusive
//! hold of the semaphore's class; several permits in one task are one hold; tokio's API.
//!
//! Each test builds its own semaphore and locks (distinct classes) and looks only at reports
//! naming them.
#![cfg(feature = "tokio")]

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Waker};

use lockdep_core::report::Kind;
use lockdep_core::task::instrument;
use lockdep_core::tokio::sync::{Mutex, Semaphore, TryAcquireError};
use lockdep_core::OnReport;

fn kinds_naming(class: &str) -> Vec<Kind> {
    lockdep_core::reports()
        .into_iter()
        .filter(|r| r.classes.iter().any(|c| c == class))
        .map(|r| r.kind)
        .collect()
}

fn rt() -> tokio::runtime::Runtime {
    lockdep_core::set_on_report(OnReport::Warn);
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn waiting_on_a_semaphore_held_by_a_task_that_waits_for_my_lock_is_a_cycle() {
    let rt = rt();
    let sem = Arc::new(Semaphore::new(1));
    let l = Arc::new(Mutex::new(0));
    let (s1, l1) = (sem.clone(), l.clone());
    // Task 1: holds a permit, then takes L (S -> L).
    let _enter = rt.enter();
    rt.block_on(lockdep_core::tokio::spawn(async move {
        let _p = s1.acquire().await.unwrap();
        tokio::task::yield_now().await;
        *l1.lock().await += 1;
    }))
    .unwrap();
    assert_eq!(kinds_naming(&sem.class_name()), vec![]);
    // Task 2: holds L, then waits for a permit (L -> S): task 1 could hold the permit and wait
    // for L. Reported before it waits.
    let (s2, l2) = (sem.clone(), l.clone());
    rt.block_on(lockdep_core::tokio::spawn(async move {
        let _g = l2.lock().await;
        let _p = s2.acquire().await.unwrap();
    }))
    .unwrap();
    let kinds = kinds_naming(&sem.class_name());
    assert_eq!(kinds, vec![Kind::CircularDependency]);
    let r = lockdep_core::reports()
        .into_iter()
        .find(|r| r.classes.contains(&sem.class_name()))
        .unwrap();
    assert!(r.classes.contains(&l.class_name()), "{:?}", r.classes);
}

#[test]
fn one_task_taking_two_permits_is_one_hold_and_no_recursive_report() {
    let rt = rt();
    let sem = Semaphore::new(4);
    let inner = Mutex::new(0);
    rt.block_on(instrument(async {
        let a = sem.acquire().await.unwrap();
        assert_eq!(lockdep_core::held_count(), 1);
        let b = sem.acquire().await.unwrap();
        let c = sem.acquire_many(2).await.unwrap();
        assert_eq!((a.num_permits(), c.num_permits()), (1, 2));
        assert_eq!(sem.available_permits(), 0);
        assert!(matches!(sem.try_acquire(), Err(TryAcquireError::NoPermits)));
        assert_eq!(lockdep_core::held_count(), 1, "later permits are not pushed");
        *inner.lock().await += 1; // S -> inner
        drop(b);
        drop(a); // the permit that pushed the hold: it ends here
        assert_eq!(lockdep_core::held_count(), 0);
        drop(c); // releases nothing in the validator
    }));
    assert_eq!(sem.available_permits(), 4);
    assert_eq!(kinds_naming(&sem.class_name()), vec![]);
}

#[test]
fn semaphore_api_close_add_forget_try_and_owned_permits() {
    fn send<T: Send>(_: &T) {}
    let rt = rt();
    let sem = Arc::new(Semaphore::new(1));
    rt.block_on(instrument(async {
        let p = sem.try_acquire().unwrap();
        send(&p);
        sem.add_permits(2);
        assert_eq!(sem.available_permits(), 2);
        p.forget(); // not returned: 2 left
        assert_eq!(lockdep_core::held_count(), 0);
        let owned = sem.clone().acquire_owned().await.unwrap();
        send(&owned);
        assert!(Arc::ptr_eq(owned.semaphore(), &sem));
        assert_eq!(lockdep_core::held_count(), 1);
        // Moved into another task and dropped there: no bad_unlock.
        lockdep_core::tokio::spawn(async move {
            tokio::task::yield_now().await;
            drop(owned);
        })
        .await
        .unwrap();
        assert_eq!(sem.available_permits(), 2);
        let two = sem.clone().try_acquire_owned().unwrap();
        let more = sem.clone().acquire_many_owned(1).await.unwrap();
        assert_eq!(sem.available_permits(), 0);
        drop((two, more));
        sem.close();
        assert!(sem.is_closed());
        assert!(sem.acquire().await.is_err());
        assert!(matches!(sem.try_acquire(), Err(TryAcquireError::Closed)));
        assert!(sem.clone().acquire_owned().await.is_err());
    }));
    let kinds = kinds_naming(&sem.class_name());
    assert!(!kinds.contains(&Kind::BadUnlock), "{kinds:?}");
    assert_eq!(kinds, vec![]);
}

#[test]
fn a_cancelled_acquire_and_a_closed_semaphore_leave_nothing_held() {
    let rt = rt();
    let sem = Semaphore::new(1);
    rt.block_on(instrument(async {
        let p = sem.acquire().await.unwrap();
        {
            // Another task's wait, cancelled: polled here only to show the stack unwinds.
            let other = Semaphore::new(0);
            let mut fut = Box::pin(other.acquire());
            let mut cx = Context::from_waker(Waker::noop());
            assert!(fut.as_mut().poll(&mut cx).is_pending());
            assert_eq!(lockdep_core::held_count(), 2);
        }
        assert_eq!(lockdep_core::held_count(), 1);
        drop(p);
        let closed = Semaphore::new(0);
        closed.close();
        assert!(closed.acquire().await.is_err());
        assert_eq!(lockdep_core::held_count(), 0);
    }));
}

/// Polls `fut` once: a wait that would never end is only started.
fn poll_once<F: Future>(fut: F) -> bool {
    let mut fut = Box::pin(fut);
    fut.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending()
}

#[test]
fn a_second_permit_of_a_one_permit_semaphore_in_one_task_is_recursive_locking() {
    let rt = rt();
    let one = Semaphore::new(1);
    let two = Semaphore::new(2);
    let grown = Semaphore::new(1);
    let many = Semaphore::new(2);
    let shrunk = Semaphore::new(2);
    rt.block_on(instrument(async {
        let _p = one.acquire().await.unwrap();
        // The only permit is this task's: the wait cannot end. Reported before it waits.
        assert!(poll_once(one.acquire()));
        assert_eq!(lockdep_core::held_count(), 1, "the cancelled wait left nothing held");

        // Twins: a second permit of a two-permit semaphore, and of a one-permit semaphore
        // that got a permit more, can come: no report.
        let _q = two.acquire().await.unwrap();
        let _q2 = two.acquire().await.unwrap();
        grown.add_permits(1);
        let _g = grown.acquire().await.unwrap();
        let _g2 = grown.acquire().await.unwrap();

        // Two permits wanted of two, holding one: the wait cannot end either. So too a
        // second permit of two once the other one was forgotten.
        let _m = many.acquire().await.unwrap();
        assert!(poll_once(many.acquire_many(2)));
        let _s = shrunk.acquire().await.unwrap();
        shrunk.try_acquire().unwrap().forget();
        assert!(poll_once(shrunk.acquire()));
    }));
    assert_eq!(kinds_naming(&one.class_name()), vec![Kind::RecursiveLocking]);
    assert_eq!(kinds_naming(&two.class_name()), vec![]);
    assert_eq!(kinds_naming(&grown.class_name()), vec![]);
    assert_eq!(kinds_naming(&many.class_name()), vec![Kind::RecursiveLocking]);
    assert_eq!(kinds_naming(&shrunk.class_name()), vec![Kind::RecursiveLocking]);
}
