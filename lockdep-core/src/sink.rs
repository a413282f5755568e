//! Where reports go: the emission policy (print, write the report file, panic or not) and the
//! report file itself.
//!
//! Everything here runs outside the validator's state lock and outside any thread's
//! held-stack borrow: printing and file I/O never make another thread's new chain wait.

use std::cell::Cell;
use std::path::PathBuf;

use crate::config::{self, OnReport};
use crate::fork_safe::ForkSafeMutex;
use crate::report::{self, Report};
use crate::validator::Validator;

thread_local! {
    /// Set while this thread is being torn down (thread-local destructors, process exit):
    /// a panic there would abort the process.
    static IN_TEARDOWN: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as being torn down: reports are still printed and written, never
/// turned into a panic.
pub(crate) fn enter_teardown() {
    let _ = IN_TEARDOWN.try_with(|f| f.set(true));
}

/// Whether this thread is being torn down.
pub(crate) fn in_teardown() -> bool {
    IN_TEARDOWN.try_with(|f| f.get()).unwrap_or(true)
}

/// Whether a report found now must panic the current thread: panic mode, and not while
/// unwinding or tearing the thread down (where a panic would abort the process). Cheap: it
/// knows of a teardown the validator's own exit hooks marked; [`may_unwind`] looks further,
/// once a report is about to panic.
pub(crate) fn panics_now() -> bool {
    config::on_report() == OnReport::Panic && !std::thread::panicking() && !in_teardown()
}

/// Whether a panic may unwind from here, asked once a report is about to panic: not below
/// a thread-local destructor, `exit` or an `atexit` handler of a teardown that the
/// validator's own hooks have not seen yet (a user's thread-local registered after the
/// thread's first tracked lock is destroyed before the validator's exit check; see
/// [`stacks::below_teardown`](crate::stacks::below_teardown)). When not, the thread is marked
/// as torn down: its reports are printed and recorded, never a panic.
pub(crate) fn may_unwind() -> bool {
    if in_teardown() || crate::stacks::below_teardown() {
        enter_teardown();
        return false;
    }
    true
}

fn program() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "process".into())
}

/// What makes this process run's file names unique: the pid, and the start time (pids are
/// reused, and repeat across pid namespaces).
fn run_id() -> String {
    static ID: std::sync::Mutex<Option<(u32, String)>> = std::sync::Mutex::new(None);
    let pid = std::process::id();
    let mut id = ID.lock().unwrap_or_else(|e| e.into_inner());
    match &*id {
        // A forked child has a pid of its own, and a run of its own.
        Some((p, s)) if *p == pid => s.clone(),
        _ => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            let s = format!("{pid}-{:x}", nanos & 0xffff_ffff_ffff);
            *id = Some((pid, s.clone()));
            s
        }
    }
}

/// Where this process writes its report file: `<program>-<pid>-<start>.json`.
pub(crate) fn report_path() -> PathBuf {
    config::report_dir().join(format!("{}-{}.json", program(), run_id()))
}

/// The process's report files. The main file (every report and the graph) is replaced
/// atomically whenever the number of reports has doubled since it was last written, and at
/// exit; a report found in between is written at once, as a document of its own beside it
/// (`<main stem>.r<n>.json`, removed when the main file takes it in). So every report is on
/// disk before it is printed, each write is atomic, and the total bytes written stay linear in
/// the reports (the main file's rewrites are geometric). Behind one lock, so an older snapshot
/// is never renamed over a newer one.
struct FileState {
    /// Number of reports serialised into `reports_json`.
    count: usize,
    /// Their JSON, comma-separated (each report is serialised once).
    reports_json: Vec<u8>,
    /// Number of reports in the main file as last written.
    in_main: usize,
    /// The single-report files written since.
    singles: Vec<PathBuf>,
    /// The folder cleaned of stale temp files and of this program's earlier runs' files.
    cleaned: Option<PathBuf>,
}

static FILE: ForkSafeMutex<FileState> = ForkSafeMutex::new(FileState {
    count: 0,
    reports_json: Vec::new(),
    in_main: 0,
    singles: Vec::new(),
    cleaned: None,
});

/// The report-file lock, for `fork()` handling (`fork.rs`).
pub(crate) fn file_lock() -> &'static ForkSafeMutex<impl Sized> {
    &FILE
}

/// In a forked child: forgets the parent's report file (the child writes one of its own).
///
/// # Safety
/// Only in the child of a `fork()`, after `fork.rs` took the lock before it.
pub(crate) unsafe fn fork_release_child() {
    // SAFETY: the caller's contract.
    unsafe {
        FILE.fork_release_child(|file| {
            *file = FileState {
                count: 0,
                reports_json: Vec::new(),
                in_main: 0,
                singles: Vec::new(),
                cleaned: Some(config::report_dir()),
            }
        })
    };
}

fn head() -> String {
    let head =
        serde_json::json!({ "schema": report::SCHEMA, "program": program(), "pid": std::process::id() })
            .to_string();
    head[..head.len() - 1].to_string()
}

fn document_bytes(reports_json: &[u8], graph: &[u8]) -> Vec<u8> {
    let head = head();
    let mut bytes = Vec::with_capacity(head.len() + reports_json.len() + graph.len() + 32);
    bytes.extend_from_slice(head.as_bytes());
    bytes.extend_from_slice(b",\"reports\":[");
    bytes.extend_from_slice(reports_json);
    bytes.extend_from_slice(b"],\"graph\":");
    bytes.extend_from_slice(graph);
    bytes.extend_from_slice(b"}\n");
    bytes
}

/// Removes temp files that killed processes left in `dir` (a temp file names its writer's pid;
/// only files of pids that no longer run, and older than a minute, are removed).
fn clean_stale_temps(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.starts_with('.') && name.ends_with(".tmp")) {
            continue;
        }
        let pid = name.rsplit('.').nth(2).and_then(|p| p.parse::<u32>().ok());
        let dead = pid.is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists());
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(60));
        if dead && old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Cleans `dir` of stale temp files and of the files of this program's earlier runs
/// (`stale.rs`), unless it was already.
fn clean_once(file: &mut FileState, dir: &std::path::Path) {
    if file.cleaned.as_deref() != Some(dir) {
        file.cleaned = Some(dir.to_path_buf());
        clean_stale_temps(dir);
        crate::stale::remove_earlier_process_files(dir, &program());
    }
}

/// At start-up: this run replaces the report files its program's earlier runs left in the
/// report folder (a later `set_report_dir` folder is cleaned at the first write there).
pub(crate) fn clean_report_dir() {
    let mut file = FILE.lock();
    clean_once(&mut file, &config::report_dir());
}

/// Brings the process's report files up to date with `v`; returns where the newest report
/// is (the main file, or its own file). `finish` (at exit) writes everything into the main
/// file, flushed to the disk, and removes the single-report files.
pub(crate) fn write_report_file_as(v: &Validator, finish: bool) -> std::io::Result<PathBuf> {
    let mut file = FILE.lock();
    let path = report_path();
    if let Some(dir) = path.parent() {
        clean_once(&mut file, dir);
    }
    let new = v.reports_since(file.count);
    let mut singles = Vec::new();
    for mut r in new {
        r.reproduce.get_or_insert_with(|| format!("lockdep-report show {}", path.display()));
        let json = serde_json::to_vec(&r).map_err(std::io::Error::other)?;
        if file.count > 0 {
            file.reports_json.push(b',');
        }
        file.reports_json.extend_from_slice(&json);
        file.count += 1;
        singles.push((file.count, json));
    }
    if finish || file.count >= 2 * file.in_main || file.count == 0 {
        let graph = serde_json::to_vec(&v.graph()).map_err(std::io::Error::other)?;
        report::write_replacing(&path, &document_bytes(&file.reports_json, &graph), finish)?;
        file.in_main = file.count;
        for p in std::mem::take(&mut file.singles) {
            let _ = std::fs::remove_file(p);
        }
        return Ok(path);
    }
    let mut last = path.clone();
    for (n, json) in singles {
        let one = path.with_extension(format!("r{n}.json"));
        report::write_replacing(&one, &document_bytes(&json, b"{}"), false)?;
        file.singles.push(one.clone());
        last = one;
    }
    Ok(last)
}

/// Writes everything into the process's main report file, flushed to the disk.
pub(crate) fn write_report_file(v: &Validator) -> std::io::Result<PathBuf> {
    write_report_file_as(v, true)
}

/// Writes the report file of one test at `path`: the graph of `v` with `reports`.
pub(crate) fn write_test_report(
    v: &Validator,
    path: &std::path::Path,
    name: &str,
    reports: &[Report],
) -> std::io::Result<()> {
    let mut doc = v.document(name);
    doc.pid = Some(std::process::id());
    doc.reports = reports.to_vec();
    for r in &mut doc.reports {
        r.reproduce = Some(format!("lockdep-report show {}", path.display()));
    }
    doc.write_atomic(path)
}

/// Prints `reports` on stderr and updates the report file of `v`.
pub(crate) fn emit(v: &Validator, reports: &[Report]) {
    if reports.is_empty() {
        return;
    }
    let path = write_report_file_as(v, false);
    for r in reports {
        let mut text = report::render_report(r);
        match &path {
            Ok(p) => text.push_str(&format!("report file: {}\n", p.display())),
            Err(e) => text.push_str(&format!("lockdep: could not write the report file: {e}\n")),
        }
        eprint!("{text}");
    }
}

/// Panics with the first of `reports` (panic mode), at the caller's site (`#[track_caller]`
/// all the way from the lock type's method), with the user's acquisition site first in the
/// message.
#[track_caller]
pub(crate) fn panic_with(reports: &[Report]) -> ! {
    panic!("{}", panic_message(&reports[0]))
}

/// The panic message of a refused acquisition: `lockdep: <site>: <title> (<fingerprint>):
/// <message>`, the site being the offending acquisition's (or assertion's) in the user's code.
pub(crate) fn panic_message(r: &Report) -> String {
    let site = r.acquiring.as_ref().and_then(|a| a.site.as_ref());
    let at = site.map(|s| format!("{s}: ")).unwrap_or_default();
    format!("lockdep: {at}{} ({}): {}", r.title, r.fingerprint(), r.message)
}
