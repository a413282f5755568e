//! The process-wide validator behind the lock types: thread-local held-lock stacks, report
//! emission (stderr, report file, panic).

use std::cell::RefCell;
use std::sync::{Arc, LazyLock};

use crate::class::ClassId;
use crate::config::{self, OnReport};
use crate::held::{HeldStack, SiteRef};
use crate::report::{self, Report};
use crate::validator::{AcquireReq, Validator};
use crate::witness::Capture;

static VALIDATOR: LazyLock<Validator> = LazyLock::new(|| {
    let c = config::config();
    Validator::new(match (c.backtraces, c.backtraces_always) {
        (false, _) => Capture::Off,
        (true, false) => Capture::NewChains,
        (true, true) => Capture::Always,
    })
});

/// Set when every acquisition and release must take the slow path (trace recording, or a
/// backtrace at every acquisition).
static FORCE_SLOW: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[inline]
fn force_slow() -> bool {
    FORCE_SLOW.load(std::sync::atomic::Ordering::Relaxed)
}

thread_local! {
    // No destructor: usable while the thread's other thread-locals are torn down.
    static STACK: RefCell<HeldStack> = const { RefCell::new(HeldStack::new()) };
    static NAME: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// The process-wide validator.
#[inline]
pub fn validator() -> &'static Validator {
    &VALIDATOR
}

pub(crate) fn thread_name() -> Arc<str> {
    let fresh = || -> Arc<str> {
        let t = std::thread::current();
        match t.name() {
            Some(n) => n.into(),
            None => format!("{:?}", t.id()).into(),
        }
    };
    NAME.try_with(|n| {
        if let Ok(mut n) = n.try_borrow_mut() {
            n.get_or_insert_with(fresh).clone()
        } else {
            fresh()
        }
    })
    .unwrap_or_else(|_| "<exiting thread>".into())
}

/// Runs `f` on this thread's stack; `None` when re-entered or validation is off.
#[inline]
fn with_stack<R>(f: impl FnOnce(&mut HeldStack) -> R) -> Option<R> {
    if config::on_report() == OnReport::Off {
        return None;
    }
    STACK.try_with(|s| s.try_borrow_mut().ok().map(|mut s| f(&mut s))).ok().flatten()
}

thread_local! {
    static EXIT_GUARD_ARMED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static IN_THREAD_EXIT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static EXIT_GUARD: ExitGuard = ExitGuard { name: thread_name() };
}

/// Dropped when its thread exits: reports locks the thread still holds (`held_at_exit`).
struct ExitGuard {
    name: Arc<str>,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        let _ = IN_THREAD_EXIT.try_with(|f| f.set(true));
        let name = self.name.clone();
        let _ = with_stack(|s| {
            let reports = VALIDATOR.held_at_exit(s, &|| name.clone());
            emit(&reports);
        });
    }
}

/// Registers the thread-exit check once per thread (on its first outermost acquisition).
#[cold]
fn arm_once() {
    let _ = EXIT_GUARD_ARMED.try_with(|a| {
        a.set(true);
        let _ = EXIT_GUARD.try_with(|_| ());
    });
}

#[inline]
fn arm_exit_guard() {
    if !EXIT_GUARD_ARMED.try_with(|a| a.get()).unwrap_or(true) {
        arm_once();
    }
}

/// Whether reports should panic the current thread now (never while unwinding or inside a
/// thread-exit destructor, where a panic would abort).
fn should_panic() -> bool {
    config::on_report() == OnReport::Panic
        && !std::thread::panicking()
        && !IN_THREAD_EXIT.try_with(|f| f.get()).unwrap_or(true)
}

/// Process start-up: reads the configuration and opens the trace file.
#[ctor::ctor]
fn startup() {
    let c = config::config();
    crate::recorder::init();
    if crate::recorder::enabled() || (c.backtraces && c.backtraces_always) {
        FORCE_SLOW.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Process exit (also after `std::process::exit` and a panic in `main`): reports locks the
/// exiting thread holds, writes the process's report file, flushes the trace.
#[ctor::dtor]
fn shutdown() {
    let _ = IN_THREAD_EXIT.try_with(|f| f.set(true));
    if config::on_report() != OnReport::Off {
        let _ = with_stack(|s| {
            let reports = VALIDATOR.held_at_exit(s, &thread_name);
            emit(&reports);
        });
        if VALIDATOR.has_classes() {
            if let Err(e) = write_report_file() {
                eprintln!("lockdep: could not write the report file: {e}");
            }
        }
    }
    crate::recorder::flush();
}

fn program() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "process".into())
}

/// Where this process writes its report file.
pub fn report_path() -> std::path::PathBuf {
    config::report_dir().join(format!("{}-{}.json", program(), std::process::id()))
}

/// Writes the process's report document atomically; returns where.
pub fn write_report_file() -> std::io::Result<std::path::PathBuf> {
    let path = report_path();
    let mut doc = VALIDATOR.document(&program());
    doc.pid = Some(std::process::id());
    for r in &mut doc.reports {
        r.reproduce.get_or_insert_with(|| format!("lockdep-report show {}", path.display()));
    }
    doc.write_atomic(&path)?;
    Ok(path)
}

/// Prints reports and updates the report file. Returns true when the caller must panic.
fn emit(reports: &[Report]) -> bool {
    if reports.is_empty() {
        return false;
    }
    let path = write_report_file();
    for r in reports {
        let mut text = report::render_report(r);
        match &path {
            Ok(p) => text.push_str(&format!("report file: {}\n", p.display())),
            Err(e) => text.push_str(&format!("lockdep: could not write the report file: {e}\n")),
        }
        eprint!("{text}");
    }
    should_panic()
}

fn panic_with(reports: &[Report]) -> ! {
    let first = &reports[0];
    panic!("lockdep: {} ({}): {}", first.title, first.fingerprint(), first.message)
}

/// Validates and records a blocking or try acquisition; panics (in panic mode) before the
/// caller takes the lock. Returns whether the acquisition is tracked.
#[inline]
pub(crate) fn acquire(req: AcquireReq) -> bool {
    let r = with_stack(|s| {
        if s.len() == 0 {
            arm_exit_guard();
        }
        if crate::recorder::enabled() {
            crate::recorder::acquire(
                &req,
                &thread_name(),
                req.nest_lock.and_then(|n| s.find(n).map(|i| s.entries()[i].class)),
            );
        }
        let reports = VALIDATOR.acquire(s, &thread_name, req);
        if !reports.is_empty() && emit(&reports) {
            s.pop();
            return Err(reports);
        }
        Ok(())
    });
    match r {
        None => false,
        Some(Ok(())) => true,
        Some(Err(reports)) => panic_with(&reports),
    }
}

/// The hot path of an acquisition: a chain seen before, recording off, the thread's exit
/// check armed. Takes scalars rather than an [`AcquireReq`] so nothing is spilled and
/// re-read. Returns false when not handled here: the caller then takes [`acquire`]. The
/// caller has checked that validation is on.
#[inline]
#[cfg_attr(feature = "off", allow(dead_code))]
pub(crate) fn acquire_seen(
    instance: usize,
    class: ClassId,
    subclass: u32,
    mode: crate::report::Mode,
    trylock: bool,
    site: &'static std::panic::Location<'static>,
) -> bool {
    if force_slow() {
        return false;
    }
    STACK
        .try_with(|s| match s.try_borrow_mut() {
            Ok(mut s) => {
                (s.len() != 0 || EXIT_GUARD_ARMED.try_with(|a| a.get()).unwrap_or(false))
                    && VALIDATOR.acquire_seen(
                        &mut s,
                        instance,
                        class,
                        subclass,
                        mode,
                        trylock,
                        SiteRef::Static(site),
                    )
            }
            Err(_) => false,
        })
        .unwrap_or(false)
}

/// The hot path of a release: the lock is the top of the held stack (LIFO release), recording
/// off. Returns false when not handled here: the caller then takes [`release`].
#[inline]
#[cfg_attr(feature = "off", allow(dead_code))]
pub(crate) fn release_top(instance: usize) -> bool {
    if force_slow() {
        return false;
    }
    STACK
        .try_with(|s| match s.try_borrow_mut() {
            Ok(mut s) => s.pop_if_top(instance),
            Err(_) => false,
        })
        .unwrap_or(false)
}

/// Runs `f` on this thread's held stack (read-only); `None` when validation is off.
pub(crate) fn inspect<R>(f: impl FnOnce(&HeldStack) -> R) -> Option<R> {
    with_stack(|s| f(s))
}

/// Emits `reports` and panics when the configuration says so.
pub(crate) fn raise(reports: Vec<Report>) {
    if emit(&reports) {
        panic_with(&reports);
    }
}

/// Validates an acquisition that may happen (the kernel's `might_lock`) without keeping it.
pub(crate) fn might_acquire(req: AcquireReq) {
    let r = with_stack(|s| {
        let before = s.len();
        let reports = VALIDATOR.acquire(s, &thread_name, req);
        if s.len() > before {
            s.pop();
        }
        reports
    });
    if let Some(reports) = r {
        raise(reports);
    }
}

/// Records a release, downgrade or free of `instance` (`op` names it in a recorded trace):
/// `check` runs on this thread's stack, and its reports are raised with this thread's own
/// reports (emitted, then a panic when the configuration says so).
fn record_and_check(
    op: &str,
    instance: usize,
    class: ClassId,
    site: SiteRef,
    check: impl FnOnce(&mut HeldStack) -> Vec<Report>,
) {
    let reports = with_stack(|s| {
        if crate::recorder::enabled() {
            crate::recorder::other(op, instance, class, &thread_name(), site);
        }
        check(s)
    });
    if let Some(reports) = reports.filter(|r| !r.is_empty()) {
        raise(reports);
    }
}

/// Records a release.
#[inline]
pub(crate) fn release(instance: usize, class: ClassId, site: SiteRef) {
    record_and_check("release", instance, class, site, |s| {
        VALIDATOR.release(s, &thread_name, instance, class, site)
    });
}

/// Records a downgrade (write -> downgraded reader).
pub(crate) fn downgrade(instance: usize, class: ClassId, site: SiteRef) {
    record_and_check("downgrade", instance, class, site, |s| {
        VALIDATOR.downgrade(s, &thread_name, instance, class, site)
    });
}

/// Records that a lock instance is freed.
pub(crate) fn free(instance: usize, class: ClassId, site: SiteRef) {
    record_and_check("free", instance, class, site, |s| {
        VALIDATOR.free(s, &thread_name, instance, site)
    });
}

/// Reports locks still held by the current thread (`held_at_exit`) and forgets them. Called
/// by the test harness at the end of a test thread; safe during thread exit.
pub fn check_held_at_exit() {
    let _ = with_stack(|s| {
        let reports = VALIDATOR.held_at_exit(s, &thread_name);
        emit(&reports);
    });
}

/// Number of locks the current thread holds, as the validator sees them.
pub fn held_count() -> usize {
    STACK.try_with(|s| s.try_borrow().map(|s| s.len()).unwrap_or(0)).unwrap_or(0)
}

/// Every report the process-wide validator has produced so far.
pub fn reports() -> Vec<Report> {
    VALIDATOR.reports()
}
