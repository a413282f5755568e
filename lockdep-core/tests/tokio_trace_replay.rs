//! A trace of an async program (`LOCKDEP_TRACE`) replays to the same verdicts (feature
//! `tokio`): instrumented tasks are threads of their own in the trace (so tasks migrating
//! between workers replay without `bad_unlock`), and a task yielding while it holds a blocking
//! lock is a `yield` event that replays to the same `held_across_await`.
//!
//! The async program is the test `child_async_program` run again in a child process (the
//! trace file is opened at start-up, so the recording needs a process of its own).
#![cfg(feature = "tokio")]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use lockdep_core::report::{Document, Kind};
use lockdep_core::tokio::sync::{Mutex, Semaphore};

const CHILD: &str = "LOCKDEP_TEST_ASYNC_CHILD";

/// Takes `first` then `second` in a task, yielding between (so the task may migrate).
async fn nest(first: Arc<Mutex<u32>>, second: Arc<Mutex<u32>>) {
    lockdep_core::tokio::spawn(async move {
        let mut g1 = first.lock().await;
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        *g1 += 1;
        *second.lock().await += 1;
    })
    .await
    .unwrap();
}

#[test]
fn child_async_program() {
    if std::env::var_os(CHILD).is_none() {
        return; // only in the child process
    }
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let sem = Arc::new(Semaphore::new(2));
    let std_m = Arc::new(lockdep_core::std::sync::Mutex::new(0));
    rt.block_on(async {
        nest(a.clone(), b.clone()).await; // a -> b
        nest(a.clone(), b.clone()).await; // the legal twin: nothing new
        nest(b.clone(), a.clone()).await; // b -> a: circular_dependency
                                          // Permits and a lock in one order only: nothing.
        for _ in 0..2 {
            let (s, a) = (sem.clone(), a.clone());
            lockdep_core::tokio::spawn(async move {
                let _p = s.acquire().await.unwrap();
                let _p2 = s.acquire().await.unwrap();
                *a.lock().await += 1;
            })
            .await
            .unwrap();
        }
    });
    // A std guard held across a sleep in a local task: held_across_await.
    let m = std_m.clone();
    rt.block_on(lockdep_core::task::instrument(async move {
        let mut g = m.lock().unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        *g += 1;
    }));
    assert_eq!(*std_m.lock().unwrap(), 1);
}

fn verdicts(d: &Document) -> Vec<(Kind, Vec<String>)> {
    let mut v: Vec<_> = d
        .reports
        .iter()
        .map(|r| {
            let mut c = r.classes.clone();
            c.sort();
            (r.kind, c)
        })
        .collect();
    v.sort_by(|x, y| format!("{x:?}").cmp(&format!("{y:?}")));
    v
}

#[test]
fn a_trace_of_an_async_program_replays_to_the_same_verdicts() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tokio_trace_replay");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let trace_path = dir.join("trace.jsonl");
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_async_program", "--test-threads", "1"])
        .env(CHILD, "1")
        .env("LOCKDEP", "warn")
        .env("LOCKDEP_REPORT_DIR", &dir)
        .env("LOCKDEP_TRACE", &trace_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json") && !p.to_string_lossy().contains(".r"))
        .expect("a report file");
    let live = Document::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let kinds: Vec<Kind> = verdicts(&live).into_iter().map(|v| v.0).collect();
    assert_eq!(kinds.len(), 2, "{stderr}");
    assert!(kinds.contains(&Kind::CircularDependency), "{kinds:?}");
    assert!(kinds.contains(&Kind::HeldAcrossAwait), "{kinds:?}");

    let trace = std::fs::read_to_string(&trace_path).unwrap();
    assert!(trace.contains("\"thread\":\"task@"), "tasks are threads of the trace:\n{trace}");
    assert!(trace.contains("\"op\":\"yield\""), "{trace}");
    let replayed = lockdep_core::trace::replay(&trace, "trace.jsonl").unwrap();
    assert_eq!(verdicts(&replayed), verdicts(&live));
    assert!(replayed.reports.iter().all(|r| r.kind != Kind::BadUnlock));
    assert_eq!(replayed.graph.edges.len(), live.graph.edges.len());
}
