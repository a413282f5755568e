//! The validator never harms the program it checks: panic mode leaves no lock locked and
//! refuses every occurrence of a refused acquisition, the depth limit is one report and then
//! silence, switching validation off and on keeps the held stack right, teardown never turns a
//! report into an abort, and subclasses are never aliased.
//!
//! Each scenario runs in a child process of its own (this binary re-run with one test
//! selected), since panic mode and the report list are process-wide and a fault may kill or
//! hang the process.

use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lockdep_core::report::{Kind, Report};
use lockdep_core::rules::{ModeSet, Rule};
use lockdep_core::{LockClassKey, Mutex, OnReport, RwSem};

const CHILD: &str = "LOCKDEP_FAULTS_CHILD";

fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Runs the test `name` of this binary in a child process with `LOCKDEP=mode`; kills it after
/// 60 s (a hang fails the test instead of hanging CI).
fn child(name: &str, mode: &str) -> Output {
    let dir = std::env::temp_dir().join(format!("lockdep-faults-{}-{name}", std::process::id()));
    let out = child_in(name, mode, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// [`child`] with the report files in `dir` (kept).
fn child_in(name: &str, mode: &str, dir: &std::path::Path) -> Output {
    child_with(name, mode, dir, &[])
}

/// [`child_in`] with extra environment variables.
fn child_with(name: &str, mode: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .env("LOCKDEP", mode)
        .env("LOCKDEP_REPORT_DIR", dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    c.envs(env.iter().copied());
    let p = c.spawn().unwrap();
    let pid = p.id();
    // Read the output while the child runs (a full pipe would block it).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(p.wait_with_output()));
    let out = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("child {name} hung");
        }
    };
    out
}

/// A child's stdout and stderr.
fn text_of(out: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// An empty folder for the report files of the children of test `tag`.
fn fresh_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lockdep-faults-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn assert_ok(out: &Output) -> String {
    let text = text_of(out);
    assert!(out.status.success(), "child failed ({:?}):\n{text}", out.status);
    text
}

fn kinds(reports: &[Report]) -> Vec<Kind> {
    reports.iter().map(|r| r.kind).collect()
}

/// Runs `f`, which must panic (panic mode refusing an acquisition); returns the message.
fn must_panic(f: impl FnOnce()) -> String {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(prev);
    match r {
        Ok(()) => panic!("expected a refusal"),
        Err(p) => p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    }
}

static TRY_A: LockClassKey = LockClassKey::new("faults::try_a");
static TRY_B: LockClassKey = LockClassKey::new("faults::try_b");

/// Item 1: a refused try (a rule broken) panics, and the raw lock it took is released: the
/// lock can be taken again at once.
#[test]
fn refused_try_locks_leave_the_lock_unlocked() {
    if !in_child() {
        assert_ok(&child("refused_try_locks_leave_the_lock_unlocked", "panic"));
        return;
    }
    Rule::new("faults_try_needs_b")
        .when_acquiring("faults::try_a", ModeSet::ANY)
        .requires_held("faults::try_b", ModeSet::ANY)
        .register()
        .unwrap();
    let a = Mutex::with_key((), &TRY_A);
    let b = Mutex::with_key((), &TRY_B);
    let sem = RwSem::with_key((), &TRY_A);
    let msg = must_panic(|| drop(a.try_lock()));
    assert!(msg.contains("faults_try_needs_b"), "{msg}");
    {
        let _b = b.lock();
        assert!(a.try_lock().is_some(), "a refused try_lock left the mutex locked");
    }
    must_panic(|| drop(sem.try_write()));
    must_panic(|| drop(sem.try_read()));
    let _b = b.lock();
    assert!(sem.try_write().is_some(), "a refused try left the rwsem locked");
    drop(_b);
    assert_eq!(lockdep_core::held_count(), 0);
}

/// Item 2: past the depth limit, one report; deeper locks are not tracked, their releases are
/// no `bad_unlock`, and 10,000 nested acquisitions run at full speed.
#[test]
fn past_the_depth_limit_one_report_then_untracked() {
    if !in_child() {
        assert_ok(&child("past_the_depth_limit_one_report_then_untracked", "warn"));
        return;
    }
    let locks: Vec<Mutex<()>> = (0..10_000).map(|_| Mutex::new(())).collect();
    let start = Instant::now();
    {
        let guards: Vec<_> = locks.iter().map(|l| l.lock()).collect();
        assert_eq!(lockdep_core::held_count(), lockdep_core::MAX_DEPTH);
        drop(guards);
    }
    let took = start.elapsed();
    assert_eq!(lockdep_core::held_count(), 0);
    let rs = lockdep_core::reports();
    let depth = rs.iter().filter(|r| r.rule.as_deref() == Some("max_lock_depth")).count();
    assert_eq!(depth, 1, "{:?}", kinds(&rs));
    // The locks share one class (built in a loop): nesting them is also one recursive_locking
    // report under the strict same-class rule; nothing else, no bad_unlock.
    assert!(
        rs.iter().all(|r| r.rule.is_some() || r.kind == Kind::RecursiveLocking),
        "{:?}",
        kinds(&rs)
    );
    // Generous: the tracked part is 48 acquisitions; the rest must be plain locking (before
    // the fix this took minutes).
    assert!(took < Duration::from_secs(20), "10,000 nested acquisitions took {took:?}");
}

/// Item 2 in panic mode: the acquisition past the limit is refused before it takes the lock,
/// and the 48 held locks release without a `bad_unlock`.
#[test]
fn past_the_depth_limit_in_panic_mode() {
    if !in_child() {
        assert_ok(&child("past_the_depth_limit_in_panic_mode", "panic"));
        return;
    }
    let locks: Vec<Mutex<()>> = (0..=lockdep_core::MAX_DEPTH).map(|_| Mutex::new(())).collect();
    let last = locks.last().unwrap();
    // Distinct subclasses: nesting them is legal, only the depth is a problem.
    let guards: Vec<_> = locks[..lockdep_core::MAX_DEPTH]
        .iter()
        .enumerate()
        .map(|(i, l)| l.lock_nested(i as u32))
        .collect();
    let msg = must_panic(|| drop(last.lock_nested(1000)));
    assert!(msg.contains("max_lock_depth") || msg.contains("locks held"), "{msg}");
    assert_eq!(lockdep_core::held_count(), lockdep_core::MAX_DEPTH);
    drop(guards);
    assert_eq!(lockdep_core::held_count(), 0);
    assert!(last.try_lock().is_some(), "the refused lock was left locked");
    drop(locks);
    let rs = lockdep_core::reports();
    assert!(rs.iter().all(|r| r.kind != Kind::BadUnlock), "{rs:?}");
}

static REF_A: LockClassKey = LockClassKey::new("faults::refuse_a");
static REF_B: LockClassKey = LockClassKey::new("faults::refuse_b");
static REF_C: LockClassKey = LockClassKey::new("faults::refuse_c");

/// Item 4: panic mode refuses every occurrence of an inversion, in any thread and under any
/// outer lock, not only the first one.
#[test]
fn panic_mode_refuses_every_occurrence() {
    if !in_child() {
        assert_ok(&child("panic_mode_refuses_every_occurrence", "panic"));
        return;
    }
    let a = Arc::new(Mutex::with_key((), &REF_A));
    let b = Arc::new(Mutex::with_key((), &REF_B));
    let c = Arc::new(Mutex::with_key((), &REF_C));
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    for round in 0..3 {
        let (a2, b2, c2) = (a.clone(), b.clone(), c.clone());
        let refused = std::thread::spawn(move || {
            let outer = (round == 2).then(|| c2.lock());
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _b = b2.lock();
                let _a = a2.lock();
            }));
            drop(outer);
            r.is_err()
        })
        .join()
        .unwrap();
        assert!(refused, "occurrence {round} of the inversion went through");
    }
    assert!(a.try_lock().is_some() && b.try_lock().is_some());
}

static OFF_A: LockClassKey = LockClassKey::new("faults::switch_a");

/// Item 5: releases while validation is off keep the held stack right: no stale entry, so no
/// false `recursive_locking` or `held_at_exit` later.
#[test]
fn switching_off_and_on_keeps_the_stack_right() {
    if !in_child() {
        assert_ok(&child("switching_off_and_on_keeps_the_stack_right", "warn"));
        return;
    }
    let a = Mutex::with_key((), &OFF_A);
    let g = a.lock();
    lockdep_core::set_on_report(OnReport::Off);
    drop(g);
    let untracked = a.lock(); // taken while off: not tracked
    lockdep_core::set_on_report(OnReport::Warn);
    drop(untracked); // its release is not a bad_unlock
    assert_eq!(lockdep_core::held_count(), 0);
    drop(a.lock());
    lockdep_core::check_held_at_exit();
    let rs = lockdep_core::reports();
    assert!(rs.is_empty(), "{rs:?}");
}

static TLS_A: LockClassKey = LockClassKey::new("faults::tls_a");

thread_local! {
    static KEPT: std::cell::RefCell<Option<lockdep_core::MutexGuard<'static, ()>>> =
        const { std::cell::RefCell::new(None) };
}

/// Item 6: a guard kept in a `thread_local!` is one `held_at_exit`, with no follow-on
/// `bad_unlock` when the thread-local is destroyed; in panic mode the process survives.
#[test]
fn a_guard_in_a_thread_local_is_one_report() {
    if !in_child() {
        let text = assert_ok(&child("a_guard_in_a_thread_local_is_one_report", "panic"));
        assert!(!text.contains("bad_unlock"), "{text}");
        return;
    }
    static LOCK: Mutex<()> = Mutex::with_key((), &TLS_A);
    std::thread::spawn(|| {
        // The thread-local is registered before the thread's first lock, so the exit check
        // runs before the guard's destructor.
        KEPT.with(|k| *k.borrow_mut() = Some(LOCK.lock()));
    })
    .join()
    .unwrap();
    let rs = lockdep_core::reports();
    assert_eq!(kinds(&rs), vec![Kind::HeldAtExit], "{rs:?}");
    assert!(LOCK.try_lock().is_some(), "the thread-local's guard released the lock");
}

static SUB_A: LockClassKey = LockClassKey::new("faults::sub_a");
static SUB_B: LockClassKey = LockClassKey::new("faults::sub_b");

/// Item 9: subclass 65536 is not subclass 0 in chain keys: the cycle between B and A/65536 is
/// found although the chain "B, A/0" was seen before.
#[test]
fn large_subclasses_are_not_aliased() {
    if !in_child() {
        assert_ok(&child("large_subclasses_are_not_aliased", "warn"));
        return;
    }
    let a = Mutex::with_key((), &SUB_A);
    let b = Mutex::with_key((), &SUB_B);
    {
        let _b = b.lock();
        let _a = a.lock(); // B -> A/0: legal alone
    }
    {
        let _a = a.lock_nested(65536);
        let _b = b.lock(); // A/65536 -> B
    }
    {
        let _b = b.lock();
        let _a = a.lock_nested(65536); // B -> A/65536: closes the cycle
    }
    let rs = lockdep_core::reports();
    assert_eq!(kinds(&rs), vec![Kind::CircularDependency], "{rs:?}");
    assert!(rs[0].classes.iter().any(|c| c.ends_with("/65536")), "{:?}", rs[0].classes);
}

/// Every report in the documents of `dir` (the main report file and single-report files).
fn reports_in(dir: &std::path::Path) -> Vec<Report> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") && !name.starts_with('.') {
            let text = std::fs::read_to_string(e.path()).unwrap();
            let doc = lockdep_core::report::Document::from_json(&text)
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            all.extend(doc.reports);
        }
    }
    all
}

/// `n` distinct circular dependencies, found one after the other by this thread.
fn distinct_cycles(a: &Mutex<()>, b: &Mutex<()>, from: u32, n: u32) {
    for i in from..from + n {
        {
            let _a = a.lock_nested(i);
            let _b = b.lock_nested(i);
        }
        let _b = b.lock_nested(i);
        let _a = a.lock_nested(i);
    }
}

static FILE_A: LockClassKey = LockClassKey::new("faults::file_a");
static FILE_B: LockClassKey = LockClassKey::new("faults::file_b");

/// Items 13 and 15: eight threads reporting at once lose nothing (the files on disk hold
/// every report while the process runs, and the main file all of them after exit); the main
/// file's name is unique per run; temp files of dead processes are cleaned up.
#[test]
fn concurrent_reports_are_all_on_disk() {
    if !in_child() {
        let dir = std::env::temp_dir().join(format!("lockdep-faults-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // A temp file that a killed process (a pid that does not run) left a while ago.
        let stale = dir.join(".x.json.999999999.0.tmp");
        let f = std::fs::File::create(&stale).unwrap();
        f.set_modified(std::time::SystemTime::now() - Duration::from_secs(3600)).unwrap();
        drop(f);
        for _ in 0..2 {
            assert_ok(&child_in("concurrent_reports_are_all_on_disk", "warn", &dir));
        }
        assert!(!stale.exists(), "the stale temp file was not cleaned up");
        let files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(files.len(), 2, "one main file per run, no single-report file left: {files:?}");
        assert_eq!(reports_in(&dir).len(), 2 * 32);
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let dir = lockdep_core::report_dir();
    let barrier = Arc::new(std::sync::Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                // Locks of the shared classes, instances of this thread's own (so the threads
                // never really deadlock), each thread with subclasses of its own.
                let a = Mutex::with_key((), &FILE_A);
                let b = Mutex::with_key((), &FILE_B);
                barrier.wait();
                distinct_cycles(&a, &b, 1 + t * 4, 4);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(lockdep_core::reports().len(), 32);
    // Before exit, the files on disk already hold every report printed.
    let own: Vec<Report> = reports_in(&dir)
        .into_iter()
        .filter(|r| {
            r.reproduce.as_deref().is_some_and(|p| p.contains(&std::process::id().to_string()))
        })
        .collect();
    assert_eq!(own.len(), 32, "reports missing from the files on disk");
}

/// Item 13: a process that dies right after its reports (abort: no exit hook) leaves every one
/// of them on disk.
#[test]
fn reports_survive_an_abort() {
    if !in_child() {
        let dir = std::env::temp_dir().join(format!("lockdep-faults-abort-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let out = child_in("reports_survive_an_abort", "warn", &dir);
        assert!(!out.status.success(), "the child aborts");
        assert_eq!(reports_in(&dir).len(), 7);
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let a = Mutex::with_key((), &FILE_A);
    let b = Mutex::with_key((), &FILE_B);
    distinct_cycles(&a, &b, 100, 7);
    std::process::abort();
}

static DL_A: LockClassKey = LockClassKey::new("faults::deadlock_a");
static DL_B: LockClassKey = LockClassKey::new("faults::deadlock_b");

/// Item 11: the trace of a process that really deadlocks, killed with SIGKILL, holds every
/// event up to the deadlock and replays to the deadlock's report.
#[test]
fn the_trace_of_a_killed_deadlocked_process_replays_to_the_report() {
    if !in_child() {
        let dir = std::env::temp_dir().join(format!("lockdep-faults-dl-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let trace = dir.join("trace.jsonl");
        let mut p = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "the_trace_of_a_killed_deadlocked_process_replays_to_the_report"])
            .env(CHILD, "1")
            .env("LOCKDEP", "warn")
            .env("LOCKDEP_REPORT_DIR", &dir)
            .env("LOCKDEP_TRACE", &trace)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Both threads hold their first lock and wait for the other's: four acquisitions.
        let start = Instant::now();
        let acquisitions = || {
            std::fs::read_to_string(&trace).map(|t| t.matches("\"acquire\"").count()).unwrap_or(0)
        };
        while acquisitions() < 4 && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(200));
        assert!(p.try_wait().unwrap().is_none(), "the child deadlocks");
        p.kill().unwrap();
        p.wait().unwrap();
        let text = std::fs::read_to_string(&trace).unwrap();
        let doc = lockdep_core::trace::replay(&text, "killed").expect("the trace parses");
        assert_eq!(kinds(&doc.reports), vec![Kind::CircularDependency], "{text}");
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let a = Arc::new(Mutex::with_key((), &DL_A));
    let b = Arc::new(Mutex::with_key((), &DL_B));
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let (a2, b2, bar2) = (a.clone(), b.clone(), barrier.clone());
    let t = std::thread::spawn(move || {
        let _b = b2.lock();
        bar2.wait();
        let _a = a2.lock(); // blocks for ever: the other thread holds a
    });
    let _a = a.lock();
    barrier.wait();
    let _b = b.lock(); // blocks for ever
    drop(t);
}

static W: LockClassKey = LockClassKey::new("faults::worker_lock");

/// Item 12: two threads with the same name are two threads in a recorded trace: replay gives
/// no false `recursive_locking` for their overlapping holds.
#[test]
fn threads_with_one_name_are_distinct_in_a_trace() {
    if !in_child() {
        let dir = std::env::temp_dir().join(format!("lockdep-faults-names-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let trace = dir.join("trace.jsonl");
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "threads_with_one_name_are_distinct_in_a_trace"])
            .env(CHILD, "1")
            .env("LOCKDEP", "warn")
            .env("LOCKDEP_REPORT_DIR", &dir)
            .env("LOCKDEP_TRACE", &trace)
            .output()
            .unwrap();
        assert_ok(&out);
        let text = std::fs::read_to_string(&trace).unwrap();
        let doc = lockdep_core::trace::replay(&text, "names").unwrap();
        assert!(doc.reports.is_empty(), "{:?}\n{text}", kinds(&doc.reports));
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::Builder::new()
                .name("worker".into())
                .spawn(move || {
                    let lock = Mutex::with_key((), &W);
                    let _g = lock.lock();
                    barrier.wait(); // both hold their own lock of the class at once
                    barrier.wait();
                })
                .unwrap()
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert!(lockdep_core::reports().is_empty());
}

static FORK_A: LockClassKey = LockClassKey::new("faults::fork_a");
static FORK_B: LockClassKey = LockClassKey::new("faults::fork_b");

/// Item 8: `fork()` while other threads are inside the validator: every child can still take
/// locks (new chains, the validator's slow path) and exit.
#[test]
fn forked_children_can_lock() {
    if !in_child() {
        assert_ok(&child("forked_children_can_lock", "warn"));
        return;
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hammers: Vec<_> = (0..3u32)
        .map(|t| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let a = Mutex::with_key((), &FORK_A);
                let b = Mutex::with_key((), &FORK_B);
                let mut i = 1 + t * 1_000_000;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _a = a.lock_nested(i); // a new chain each time: the slow path
                    let _b = b.lock_nested(i);
                    i += 1;
                }
            })
        })
        .collect();
    let mut hung = 0;
    for n in 0..50u32 {
        // SAFETY: the child only takes locks (which the test is about), then `_exit`s.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let a = Mutex::with_key((), &FORK_A);
            let b = Mutex::with_key((), &FORK_B);
            let _a = a.lock_nested(4_000_000 + n);
            let _b = b.lock_nested(4_000_000 + n);
            // SAFETY: ends the child at once, without running the parent's exit hooks.
            unsafe { libc::_exit(0) };
        }
        assert!(pid > 0, "fork failed");
        let start = Instant::now();
        loop {
            let mut status = 0;
            // SAFETY: waits for our own child.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r == pid {
                break;
            }
            if start.elapsed() > Duration::from_secs(5) {
                hung += 1;
                // SAFETY: kills and reaps our own hung child.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for h in hammers {
        h.join().unwrap();
    }
    assert_eq!(hung, 0, "{hung} of 50 forked children hung");
}

/// Item 10: memory is bounded: past `LOCKDEP_MAX_CLASSES` classes (or `LOCKDEP_MAX_CHAINS`
/// chains) the validator reports it once and turns itself off; the program's locks go on
/// working.
#[test]
fn past_the_class_and_chain_limits_one_report_then_off() {
    if !in_child() {
        let dir = std::env::temp_dir().join(format!("lockdep-faults-lim-{}", std::process::id()));
        let name = "past_the_class_and_chain_limits_one_report_then_off";
        assert_ok(&child_with(name, "warn", &dir, &[("LOCKDEP_MAX_CLASSES", "100")]));
        assert_ok(&child_with(name, "warn", &dir, &[("LOCKDEP_MAX_CHAINS", "50")]));
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let rule = if std::env::var_os("LOCKDEP_MAX_CLASSES").is_some() {
        "max_lock_classes"
    } else {
        "max_lock_chains"
    };
    for i in 0..1_000u32 {
        // A class of its own per lock (a leaked key with a name of its own).
        let key: &'static LockClassKey =
            Box::leak(Box::new(LockClassKey::new(Box::leak(format!("lim::{i}").into_boxed_str()))));
        let m = Mutex::with_key(i, key);
        assert_eq!(*m.lock(), i, "the lock works");
    }
    let rs = lockdep_core::reports();
    assert_eq!(rs.len(), 1, "{:?}", kinds(&rs));
    assert_eq!(rs[0].rule.as_deref(), Some(rule));
    assert_eq!(lockdep_core::on_report(), OnReport::Off);
    assert_eq!(lockdep_core::held_count(), 0);
}

static TD_A: LockClassKey = LockClassKey::new("faults::teardown_a");
static TD_B: LockClassKey = LockClassKey::new("faults::teardown_b");
static TD_C: LockClassKey = LockClassKey::new("faults::teardown_c");
static TD_D: LockClassKey = LockClassKey::new("faults::teardown_d");
static TD_E: LockClassKey = LockClassKey::new("faults::teardown_e");
static TD_F: LockClassKey = LockClassKey::new("faults::teardown_f");
static TD_G: LockClassKey = LockClassKey::new("faults::teardown_g");
static TD_H: LockClassKey = LockClassKey::new("faults::teardown_h");
static TD_LOCKS: [Mutex<()>; 8] = [
    Mutex::with_key((), &TD_A),
    Mutex::with_key((), &TD_B),
    Mutex::with_key((), &TD_C),
    Mutex::with_key((), &TD_D),
    Mutex::with_key((), &TD_E),
    Mutex::with_key((), &TD_F),
    Mutex::with_key((), &TD_G),
    Mutex::with_key((), &TD_H),
];

/// Learns the order `TD_LOCKS[pair]` -> `TD_LOCKS[pair + 1]` (legal alone).
fn learn_pair(pair: usize) {
    let _first = TD_LOCKS[pair].lock();
    let _second = TD_LOCKS[pair + 1].lock();
}

/// Takes `TD_LOCKS[pair + 1]` then `TD_LOCKS[pair]`: the inversion of [`learn_pair`], a
/// circular dependency.
fn invert_pair(pair: usize) {
    let _second = TD_LOCKS[pair + 1].lock();
    let _first = TD_LOCKS[pair].lock();
}

/// A thread-local whose destructor inverts a pair of locks learnt before.
struct InvertsOnDrop(usize);

impl Drop for InvertsOnDrop {
    fn drop(&mut self) {
        invert_pair(self.0);
    }
}

thread_local! {
    static INVERT_AB: InvertsOnDrop = const { InvertsOnDrop(0) };
    static INVERT_CD: InvertsOnDrop = const { InvertsOnDrop(2) };
    static INVERT_EF: InvertsOnDrop = const { InvertsOnDrop(4) };
}

/// Item 3: in panic mode, a report raised in a user's `thread_local!` destructor is recorded
/// and printed, never a panic there (which std turns into an abort): whether the thread-local
/// was registered after the thread's first tracked lock (its destructor then runs before the
/// validator's own exit check) or before it (after the exit check).
#[test]
fn a_report_in_a_thread_local_destructor_is_no_abort() {
    if !in_child() {
        let text = assert_ok(&child("a_report_in_a_thread_local_destructor_is_no_abort", "panic"));
        assert_eq!(text.matches("circular_dependency").count(), 2, "{text}");
        return;
    }
    learn_pair(0);
    learn_pair(2);
    std::thread::spawn(|| {
        drop(TD_LOCKS[6].lock()); // the thread's first tracked lock
        INVERT_AB.with(|_| ()); // registered after it
    })
    .join()
    .unwrap();
    std::thread::spawn(|| {
        INVERT_CD.with(|_| ()); // registered before the thread's first tracked lock
        drop(TD_LOCKS[6].lock());
    })
    .join()
    .unwrap();
    let rs = lockdep_core::reports();
    assert_eq!(kinds(&rs), vec![Kind::CircularDependency; 2], "{rs:?}");
    assert_eq!(lockdep_core::held_count(), 0);
}

/// A process-exit handler that inverts the pair G/H.
extern "C" fn invert_gh_at_exit() {
    invert_pair(6);
}

/// Item 3 during process exit: in panic mode, a report raised by a thread-local destructor
/// that `exit` runs and by an `atexit` handler (both before the validator's exit hook) is
/// printed and lands in the report file; the process exits with its own status.
#[test]
fn a_report_during_process_exit_is_no_abort() {
    if !in_child() {
        let dir = fresh_dir("exit");
        let out = child_in("a_report_during_process_exit_is_no_abort", "panic", &dir);
        let text = text_of(&out);
        assert_eq!(out.status.code(), Some(7), "{text}");
        assert_eq!(text.matches("circular_dependency").count(), 2, "{text}");
        let rs = reports_in(&dir);
        assert_eq!(kinds(&rs), vec![Kind::CircularDependency; 2], "{rs:?}");
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    learn_pair(4);
    learn_pair(6);
    INVERT_EF.with(|_| ());
    // SAFETY: registers a function with no arguments that only takes locks.
    assert_eq!(unsafe { libc::atexit(invert_gh_at_exit) }, 0);
    std::process::exit(7);
}

static STK_A: LockClassKey = LockClassKey::new("faults::stacks_a");
static STK_B: LockClassKey = LockClassKey::new("faults::stacks_b");

/// Item 10, kept stacks: past `LOCKDEP_MAX_STACKS` captured stacks the limit is said once on
/// stderr (naming the variable and the `Config` field); validation goes on, and a report
/// found since says its stacks are missing.
#[test]
fn past_the_stack_limit_one_notice_then_reports_without_stacks() {
    if !in_child() {
        let dir = fresh_dir("stk");
        let name = "past_the_stack_limit_one_notice_then_reports_without_stacks";
        let out = child_with(name, "warn", &dir, &[("LOCKDEP_MAX_STACKS", "4")]);
        let text = assert_ok(&out);
        let notices: Vec<&str> =
            text.lines().filter(|l| l.contains("kept stacks reached")).collect();
        assert_eq!(notices.len(), 1, "{text}");
        // Chains with no edge keep no stack once released: 200 of them stay under a limit
        // of 4; the limit is reached only by the nestings after them (edges pin stacks).
        let stderr = String::from_utf8_lossy(&out.stderr);
        let marker = stderr.find("stk: single chains done").expect("the child's marker");
        let notice = stderr.find("kept stacks reached").unwrap();
        assert!(marker < notice, "reached by chains that no edge needs:\n{stderr}");
        assert!(notices[0].contains("LOCKDEP_MAX_STACKS"), "{}", notices[0]);
        assert!(notices[0].contains("Config::max_stacks"), "{}", notices[0]);
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let leak_key = |name: String| -> &'static LockClassKey {
        Box::leak(Box::new(LockClassKey::new(Box::leak(name.into_boxed_str()))))
    };
    for i in 0..200u32 {
        // New chains, each captures a stack, freed at the release: no edge needs it.
        drop(Mutex::with_key((), leak_key(format!("stk::single{i}"))).lock());
    }
    eprintln!("stk: single chains done");
    for i in 0..20u32 {
        // New edges: each pins the stacks of both its acquisitions, until the limit.
        let outer = Mutex::with_key((), leak_key(format!("stk::outer{i}")));
        let inner = Mutex::with_key((), leak_key(format!("stk::inner{i}")));
        let _o = outer.lock();
        drop(inner.lock());
    }
    let a = Mutex::with_key((), &STK_A);
    let b = Mutex::with_key((), &STK_B);
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    let _b = b.lock();
    let _a = a.lock();
    let rs = lockdep_core::reports();
    assert_eq!(kinds(&rs), vec![Kind::CircularDependency], "validation goes on: {rs:?}");
    assert!(rs[0].message.contains("LOCKDEP_MAX_STACKS"), "{}", rs[0].message);
    let acquiring = rs[0].acquiring.as_ref().unwrap();
    assert!(acquiring.stack.is_empty(), "a stack captured past the limit: {acquiring:?}");
    assert!(rs[0].chain.iter().all(|l| l.from.stack.is_empty() && l.to.stack.is_empty()));
    assert_eq!(lockdep_core::on_report(), OnReport::Warn);
}
