//! `LOCKDEP_TRACE=path`: records every lock event of the process in the JSONL trace format, so
//! `lockdep-report replay path` reproduces the process's verdicts offline.
//!
//! Recording is opt-in and slow (one line per event, behind a std mutex); when it is off the
//! hooks cost one relaxed atomic load.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::validator::{AcquireReq, Validator};
use crate::vocab::SiteRef;
use crate::vocab::{Mode, WaitKind};

static ON: AtomicBool = AtomicBool::new(false);
static OUT: OnceLock<Mutex<BufWriter<File>>> = OnceLock::new();

/// Opens the trace file (the configuration's `trace`), if any. Called once at start-up.
#[cfg_attr(miri, expect(dead_code, reason = "no start-up hook under Miri"))]
pub(crate) fn init(path: Option<&std::path::Path>) {
    let Some(path) = path else { return };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    match File::create(path) {
        Ok(f) => {
            let _ = OUT.set(Mutex::new(BufWriter::new(f)));
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
    if let Some(out) = OUT.get() {
        let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "{line}");
    }
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
        "thread": thread,
        "op": if req.trylock { "try_acquire" } else { "acquire" },
        "lock": lock_name(&class, req.instance),
        "class": class,
        "mode": match req.mode { Mode::Write | Mode::Downgraded => "write", Mode::Read => "read", Mode::RecursiveRead => "recursive_read" },
    });
    if req.subclass != 0 {
        ev["subclass"] = req.subclass.into();
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
    let class = v.class_name(class);
    let mut ev = serde_json::json!({
        "thread": thread,
        "op": op,
        "lock": lock_name(&class, instance),
        "class": class,
    });
    if let Some(s) = site(s) {
        ev["site"] = s.into();
    }
    write(ev);
}

/// Flushes the trace file (at exit).
#[cfg_attr(miri, expect(dead_code, reason = "no exit hook under Miri"))]
pub(crate) fn flush() {
    if let Some(out) = OUT.get() {
        let _ = out.lock().unwrap_or_else(|e| e.into_inner()).flush();
    }
}

/// Records a `wait` or `signal` of the event class `class`.
pub(crate) fn event(v: &Validator, op: &str, class: crate::ClassId, thread: &str, s: SiteRef) {
    let class = v.class_name(class);
    let mut ev = serde_json::json!({ "thread": thread, "op": op, "event": class, "class": class });
    if let Some(s) = site(s) {
        ev["site"] = s.into();
    }
    write(ev);
}

/// Records a `spawn` or `join` of thread `child`, whose exit is the event class `class`.
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
