//! The process integration, on a real program (`lockdep_demo`) run as a child process with
//! its own `LOCKDEP_REPORT_DIR` and `LOCKDEP_TRACE`: the report file written at exit (also
//! after `process::exit` and a panic in main), `held_at_exit`, and the trace round trip
//! (replaying the recorded trace gives the process's verdicts).

use std::path::{Path, PathBuf};
use std::process::Command;

use lockdep_core::report::{Document, Kind};
use lockdep_tests::verdicts;

fn run(what: &str, dir: &Path) -> (std::process::Output, Document) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lockdep_demo"))
        .arg(what)
        .env("LOCKDEP", "warn")
        .env("LOCKDEP_REPORT_DIR", dir)
        .env("LOCKDEP_TRACE", dir.join("trace.jsonl"))
        .output()
        .unwrap();
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(
        files.len(),
        1,
        "one report file per process: {files:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = Document::from_json(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    (out, doc)
}

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("process").join(name)
}

#[test]
fn abba_program_writes_its_report_and_the_trace_replays_to_the_same_verdicts() {
    let d = dir("abba");
    let (out, doc) = run("abba", &d);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("possible circular locking dependency detected"), "{stderr}");
    let kinds: Vec<Kind> = doc.reports.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, vec![Kind::CircularDependency]);
    let r = &doc.reports[0];
    let mut classes = r.classes.clone();
    classes.sort();
    assert_eq!(classes, vec!["demo::accounts", "demo::ledger"]);
    assert_eq!(r.thread, "audit");
    // The new edge holds the ledger for read (audit); the old one, accounts -> ledger, was
    // seen on `transfer`.
    assert_eq!(r.chain[0].from.mode, lockdep_core::Mode::Read);
    assert_eq!(r.chain[1].thread, "transfer");
    assert!(doc.graph.classes.len() >= 3);

    let trace = std::fs::read_to_string(d.join("trace.jsonl")).unwrap();
    assert!(trace.lines().count() >= 100 * 6, "every event is recorded");
    let replayed = lockdep_core::trace::replay(&trace, "trace.jsonl").unwrap();
    assert_eq!(verdicts(&replayed), verdicts(&doc));
    assert_eq!(replayed.graph.edges.len(), doc.graph.edges.len());
}

#[test]
fn a_clean_program_leaves_a_clean_report_file() {
    let (out, doc) = run("clean", &dir("clean"));
    assert!(out.status.success());
    assert!(doc.reports.is_empty());
    assert_eq!(doc.graph.classes.len(), 1);
}

#[test]
fn thread_exiting_with_a_lock_held_and_process_exit_still_write_the_file() {
    let (out, doc) = run("exit-holding", &dir("exit"));
    assert_eq!(out.status.code(), Some(3));
    let r = doc.reports.iter().find(|r| r.kind == Kind::HeldAtExit).expect("held_at_exit");
    assert_eq!(r.thread, "leaker");
    assert_eq!(r.classes, vec!["demo::accounts"]);
    assert_eq!(r.held.len(), 1);
}

#[test]
fn panic_in_main_still_writes_the_file() {
    let (out, doc) = run("panic-main", &dir("panic"));
    assert_eq!(out.status.code(), Some(101));
    assert_eq!(doc.reports.len(), 1);
    assert_eq!(doc.reports[0].kind, Kind::CircularDependency);
}

fn warm_abba(backtrace: &str) -> lockdep_core::report::Report {
    let d = dir(&format!("warm-{backtrace}"));
    let _ = std::fs::remove_dir_all(&d);
    let out = Command::new(env!("CARGO_BIN_EXE_lockdep_demo"))
        .arg("warm-abba")
        .env("LOCKDEP", "warn")
        .env("LOCKDEP_REPORT_DIR", &d)
        .env("LOCKDEP_BACKTRACE", backtrace)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let file = std::fs::read_dir(&d).unwrap().next().unwrap().unwrap().path();
    let doc = Document::from_json(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(doc.reports.len(), 1);
    doc.reports[0].clone()
}

#[test]
fn held_side_stack_needs_a_new_chain_by_default_and_is_always_there_with_backtrace_always() {
    // The older edge accounts -> config was shown by thread 'warm', whose `lock(accounts)` was
    // a chain already known: by default only its site is kept...
    let r = warm_abba("new");
    let old = &r.chain[1];
    assert_eq!(old.thread, "warm");
    assert!(old.from.site.is_some());
    assert!(old.from.stack.is_empty(), "{:?}", old.from.stack);
    assert!(!old.to.stack.is_empty());
    // The rendering says how to get the missing stack.
    assert!(lockdep_core::report::render_report(&r).contains("LOCKDEP_BACKTRACE=always"));
    // ...and with LOCKDEP_BACKTRACE=always both sides have their stacks.
    let r = warm_abba("always");
    let old = &r.chain[1];
    assert!(
        old.from.stack.iter().any(|f| f.function.contains("warm_abba")),
        "{:?}",
        old.from.stack
    );
    assert!(!old.to.stack.is_empty());
    for link in &r.chain {
        assert!(!link.from.stack.is_empty() && !link.to.stack.is_empty());
    }
}
