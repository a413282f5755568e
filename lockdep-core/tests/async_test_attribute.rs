//! `#[lockdep_core::test] async fn` (feature `tokio`): the test's future runs on a tokio
//! runtime as an instrumented task, with the report file and the failure of sync tests.
//! (Without the feature the attribute on an `async fn` is a compile error: `tests/ui`.)
#![cfg(feature = "tokio")]

use std::sync::Arc;

use lockdep_core::report::{Document, Kind};
use lockdep_core::tokio::sync::Mutex;

#[lockdep_core::test]
async fn a_clean_async_test_passes_on_the_current_thread_runtime() {
    let flavor = tokio::runtime::Handle::current().runtime_flavor();
    assert_eq!(flavor, tokio::runtime::RuntimeFlavor::CurrentThread);
    let a = Mutex::new(1);
    let b = Mutex::new(2);
    let ga = a.lock().await;
    tokio::task::yield_now().await; // an async guard across an await: no report
    let gb = b.lock().await;
    assert_eq!(lockdep_core::held_count(), 2, "the test's future is a task with its own stack");
    assert_eq!(*ga + *gb, 3);
}

#[lockdep_core::test]
async fn an_async_test_may_return_a_result() -> Result<(), String> {
    let m = Mutex::new(0);
    *m.lock().await += 1;
    let v: u32 = "41".parse().map_err(|e| format!("{e}"))?;
    assert_eq!(v + *m.lock().await, 42);
    Ok(())
}

#[lockdep_core::test]
#[should_panic(expected = "circular_dependency")]
async fn an_abba_in_an_async_test_fails_it_before_the_task_waits() {
    let a = Mutex::new(());
    let b = Mutex::new(());
    {
        let _a = a.lock().await;
        let _b = b.lock().await;
    }
    let _b = b.lock().await;
    let _a = a.lock().await; // panics here (panic mode), before waiting
}

#[lockdep_core::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_multi_thread_flavor_runs_on_its_workers() {
    let h = tokio::runtime::Handle::current();
    assert_eq!(h.runtime_flavor(), tokio::runtime::RuntimeFlavor::MultiThread);
    assert_eq!(h.metrics().num_workers(), 2);
    let m = Arc::new(Mutex::new(0));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let m = m.clone();
            lockdep_core::tokio::spawn(async move {
                let mut g = m.lock().await;
                tokio::task::yield_now().await;
                *g += 1;
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*m.lock().await, 4);
}

#[lockdep_core::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "lockdep found 1 problem(s)")]
async fn an_abba_between_tasks_on_workers_fails_the_multi_thread_test() {
    let a = Arc::new(Mutex::new(()));
    let b = Arc::new(Mutex::new(()));
    let (a1, b1) = (a.clone(), b.clone());
    lockdep_core::tokio::spawn(async move {
        let _a = a1.lock().await;
        let _b = b1.lock().await;
    })
    .await
    .unwrap();
    // The inverse, on a worker: that task panics (panic mode) and the test fails with the
    // report, which a worker thread (not the test's) raised.
    let inverse = lockdep_core::tokio::spawn(async move {
        let _b = b.lock().await;
        let _a = a.lock().await;
    });
    assert!(inverse.await.unwrap_err().is_panic());
}

#[test]
fn the_async_runner_writes_the_test_report_file() {
    // The function behind the attribute, called directly so the outcome can be inspected.
    let name = "async_test_attribute::direct_probe";
    let failed = std::panic::catch_unwind(|| {
        lockdep_core::__private::run_async_test(
            name,
            lockdep_core::__private::Flavor::CurrentThread,
            async {
                let p = Mutex::new(());
                let q = Mutex::new(());
                drop((p.lock().await, q.lock().await));
                let _q = q.lock().await;
                let _p = p.lock().await;
            },
        )
    });
    assert!(failed.is_err());
    let file = lockdep_core::test_report_path(name);
    let doc = Document::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(doc.reports.len(), 1);
    assert_eq!(doc.reports[0].kind, Kind::CircularDependency);
    assert!(doc.reports[0].classes.iter().all(|c| c.contains("async_test_attribute.rs")));

    let clean = "async_test_attribute::clean_probe";
    let v = lockdep_core::__private::run_async_test(
        clean,
        lockdep_core::__private::Flavor::MultiThread(Some(1)),
        async { *Mutex::new(7).lock().await },
    );
    assert_eq!(v, 7);
    let doc = Document::from_json(
        &std::fs::read_to_string(lockdep_core::test_report_path(clean)).unwrap(),
    )
    .unwrap();
    assert!(doc.reports.is_empty(), "a passing test leaves a clean file");
}
