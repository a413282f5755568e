//! `LOCKDEP_TRACE=path`: records every lock event of the process in the JSONL trace format, so
//! `lockdep-report replay path` reproduces the process's verdicts offline.
//!
//! Recording is opt-in and slow (one line per event, written with one `write` call behind a
//! std mutex, unbuffered: an event is in the file before the thread goes on to block, so the
//! trace of a process that deadlocked and was killed replays to the deadlock's report); when
//! it is off the hooks cost one relaxed atomic load. Threads are named `name#n` (unique per
//! process: two threads called `worker` are two threads in the trace).

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use crate::fork_safe::ForkSafeMutex;
use crate::validator::{AcquireReq, Validator};
use crate::vocab::SiteRef;
use crate::vocab::{Mode, WaitKind};

static ON: AtomicBool = AtomicBool::new(false);
static OUT: OnceLock<ForkSafeMutex<File>> = OnceLock::new();
/// Set once a write failed (reported once).
static FAILED: AtomicBool = AtomicBool::new(false);

/// Opens the trace file (the configuration's `trace`), if any. Called once at start-up.
pub(crate) fn init(path: Option<&std::path::Path>) {
    let Some(path) = path else { return };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    match File::create(path) {
        Ok(f) => {
            let _ = OUT.set(ForkSafeMutex::new(f));
            // The setting that decides same-class verdicts, so that replay gives the live ones.
            let same_class = match crate::config::config().same_class {
                crate::config::SameClass::Instances => "instances",
                crate::config::SameClass::Strict => "strict",
            };
            write(
                serde_json::json!({"op": "config", "same_class": same_class, "format": crate::trace::FORMAT}),
            );
            ON.store(true, Ordering::Release);
        }
        Err(e) => eprintln!("lockdep: cannot write LOCKDEP_TRACE={}: {e}", path.display()),
    }
}

#[inline]
pub(crate) fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

fn site(s: SiteRef) -> Option<String> {
    match s {
        SiteRef::Static(l) => Some(format!("{}:{}:{}", l.file(), l.line(), l.column())),
        _ => None,
    }
}

fn write(line: serde_json::Value) {
    let Some(out) = OUT.get() else { return };
    let mut text = line.to_string();
    text.push('\n');
    let mut out = out.lock();
    if let Err(e) = out.write_all(text.as_bytes()) {
        if !FAILED.swap(true, Ordering::Relaxed) {
            eprintln!(
                "lockdep: cannot write the trace (LOCKDEP_TRACE): {e}; later events are lost"
            );
        }
    }
}

/// A thread's name in a trace: its name and its id number (`worker#7`), unique in the
/// process (two threads called `worker` are two threads); `ThreadId(7)` when unnamed.
pub(crate) fn trace_name(t: &std::thread::Thread) -> String {
    let id = format!("{:?}", t.id());
    match t.name() {
        Some(n) => format!("{n}#{}", id.trim_start_matches("ThreadId(").trim_end_matches(')')),
        None => id,
    }
}

thread_local! {
    /// The instrumented task being polled on this thread, by its trace name: its events are
    /// the task's, not the thread's (`lockdep_core::task`).
    static TASK: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The current thread's name in the trace (`name` when it cannot be known: teardown), or
/// the name of the task it polls.
pub(crate) fn trace_thread(name: &str) -> String {
    thread_local! {
        static MINE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    }
    if let Ok(Some(task)) = TASK.try_with(|t| t.borrow().clone()) {
        return task;
    }
    MINE.try_with(|m| {
        m.borrow_mut().get_or_insert_with(|| trace_name(&std::thread::current())).clone()
    })
    .unwrap_or_else(|_| name.to_string())
}

/// A new task's name in the trace, `task@<site>#<n>` (unique in the process), or `None`
/// when not recording.
pub(crate) fn task_name(s: SiteRef) -> Option<String> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    enabled().then(|| {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("task@{}#{n}", site(s).unwrap_or_default())
    })
}

/// Swaps the task polled on this thread with `task` (entering or leaving a poll).
pub(crate) fn swap_task(task: &mut Option<String>) {
    let _ = TASK.try_with(|t| std::mem::swap(&mut *t.borrow_mut(), task));
}

fn lock_name(class: &str, instance: usize) -> String {
    format!("{class}#{instance:x}")
}

/// Records an acquisition (blocking or try).
pub(crate) fn acquire(
    v: &Validator,
    req: &AcquireReq,
    thread: &str,
    nest_class: Option<crate::ClassId>,
) {
    let class = v.class_name(req.class);
    let mut ev = serde_json::json!({
        "thread": trace_thread(thread),
        "op": if req.trylock { "try_acquire" } else { "acquire" },
        "lock": lock_name(&class, req.instance),
        "class": class,
        "mode": match req.mode { Mode::Write | Mode::Downgraded => "write", Mode::Read => "read", Mode::RecursiveRead => "recursive_read" },
    });
    if req.subclass != 0 {
        ev["subclass"] = req.subclass.into();
    }
    if v.class_strict(req.class) {
        ev["strict"] = true.into();
    }
    if v.class_kind(req.class) == crate::report::NodeKind::Event {
        ev["node"] = "event".into();
    }
    if v.class_wait(req.class) == WaitKind::Spinning {
        ev["wait"] = "spinning".into();
    }
    if let (Some(n), Some(c)) = (req.nest_lock, nest_class) {
        ev["nest_lock"] = lock_name(&v.class_name(c), n).into();
    }
    if let Some(s) = site(req.site) {
        ev["site"] = s.into();
    }
    write(ev);
}

/// Records a release, downgrade or free of `instance` (of class `class`).
pub(crate) fn other(
    v: &Validator,
    op: &str,
    instance: usize,
    class: crate::ClassId,
    thread: &str,
    s: SiteRef,
) {
    let event = v.class_kind(class) == crate::report::NodeKind::Event;
    let class = v.class_name(class);
    let mut ev = serde_json::json!({
        "thread": trace_thread(thread),
        "op": op,
        "lock": lock_name(&class, instance),
        "class": class,
    });
    if event {
        ev["node"] = "event".into();
    }
    if let Some(s) = site(s) {
        ev["site"] = s.into();
    }
    write(ev);
}

/// Flushes the trace file to the disk (at exit; every event is in the file already).
pub(crate) fn flush() {
    if let Some(out) = OUT.get() {
        let _ = out.lock().sync_data();
    }
}

/// The trace file's lock, if recording, for `fork()` handling (`fork.rs`).
pub(crate) fn out_lock() -> Option<&'static ForkSafeMutex<File>> {
    OUT.get()
}

/// Records a `wait` or `signal` of the event class `class`.
pub(crate) fn event(v: &Validator, op: &str, class: crate::ClassId, thread: &str, s: SiteRef) {
    let class = v.class_name(class);
    let thread = trace_thread(thread);
    let mut ev = serde_json::json!({ "thread": thread, "op": op, "event": class, "class": class });
    if let Some(s) = site(s) {
        ev["site"] = s.into();
    }
    write(ev);
}

/// Records a `spawn` or `join` of thread `child`, whose exit is the event class `class`
/// (`thread` and `child` are trace names: [`trace_name`]).
pub(crate) fn child(
    v: &Validator,
    op: &str,
    thread: &str,
    child: &str,
    class: crate::ClassId,
    s: SiteRef,
) {
    let class = v.class_name(class);
    let mut ev = serde_json::json!({ "thread": thread, "op": op, "child": child, "class": class });
    if let Some(s) = site(s) {
        ev["site"] = s.into();
    }
    write(ev);
}
