//! The process-wide validator behind the lock types: the instance, the thread-local held-lock
//! stacks, and the start-up / thread-exit / process-exit hooks.
//!
//! Functions here update a thread's stack and return the reports found; they never print or
//! panic. The hook layer ([`crate::hook`]) hands the reports to the sink after the stack's
//! borrow has ended.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, LazyLock};

use crate::class::{ClassDesc, ClassId};
use crate::config;
use crate::held::HeldStack;
use crate::report::Report;
use crate::validator::{AcquireReq, Validator};
use crate::vocab::Mode;
use crate::vocab::SiteRef;

static VALIDATOR: LazyLock<Validator> =
    LazyLock::new(|| Validator::new(config::config().backtrace));

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

/// The class id of `desc` in the process-wide validator (registered on first use).
pub(crate) fn register(desc: ClassDesc) -> ClassId {
    VALIDATOR.register_class(desc)
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

/// Runs `f` on this thread's stack; `None` when re-entered or the thread-local is gone.
#[inline]
fn with_stack<R>(f: impl FnOnce(&mut HeldStack) -> R) -> Option<R> {
    STACK.try_with(|s| s.try_borrow_mut().ok().map(|mut s| f(&mut s))).ok().flatten()
}

thread_local! {
    /// Set once this thread went past the held-lock depth limit (and that was reported):
    /// deeper acquisitions are then simply not tracked, until the stack empties.
    static OVERFLOWED: Cell<bool> = const { Cell::new(false) };
    static EXIT_GUARD_ARMED: Cell<bool> = const { Cell::new(false) };
    static EXIT_GUARD: ExitGuard = ExitGuard { name: thread_name() };
}

/// Dropped when its thread exits: reports locks the thread still holds (`held_at_exit`).
struct ExitGuard {
    name: Arc<str>,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        crate::sink::enter_teardown();
        let name = self.name.clone();
        let reports = with_stack(|s| VALIDATOR.held_at_exit(s, &|| name.clone()));
        crate::sink::emit(&VALIDATOR, &reports.unwrap_or_default());
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

/// Process start-up: reads the configuration and opens the trace file.
#[cfg(not(any(feature = "off", miri)))]
#[ctor::ctor]
fn startup() {
    let c = config::config();
    crate::recorder::init(c.trace.as_deref());
    if crate::recorder::enabled() || c.backtrace == config::Backtrace::Always {
        FORCE_SLOW.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Process exit (also after `std::process::exit` and a panic in `main`): reports locks the
/// exiting thread holds, writes the process's report file, flushes the trace.
#[cfg(not(any(feature = "off", miri)))]
#[ctor::dtor]
fn shutdown() {
    crate::sink::enter_teardown();
    if config::on_report() != config::OnReport::Off {
        let reports = with_stack(|s| VALIDATOR.held_at_exit(s, &thread_name));
        crate::sink::emit(&VALIDATOR, &reports.unwrap_or_default());
        if VALIDATOR.has_classes() {
            if let Err(e) = crate::sink::write_report_file(&VALIDATOR) {
                eprintln!("lockdep: could not write the report file: {e}");
            }
        }
    }
    crate::recorder::flush();
}

/// What an acquisition on the slow path gave: whether it is tracked (pushed on the held
/// stack) and the reports it raised.
pub(crate) struct Acquired {
    pub tracked: bool,
    pub reports: Vec<Report>,
}

/// Validates and records a blocking or try acquisition. With `refuse` (panic mode) an
/// acquisition that raises a report is not kept on the stack: the caller will not take it.
pub(crate) fn acquire(req: AcquireReq, refuse: bool) -> Acquired {
    let r = with_stack(|s| {
        if s.len() == 0 {
            arm_exit_guard();
            let _ = OVERFLOWED.try_with(|o| o.set(false));
        }
        if s.is_full() && OVERFLOWED.try_with(|o| o.replace(true)).unwrap_or(true) {
            return Acquired { tracked: false, reports: Vec::new() };
        }
        if crate::recorder::enabled() {
            let nest = req.nest_lock.and_then(|n| s.find(n).map(|i| s.entries()[i].class));
            crate::recorder::acquire(&VALIDATOR, &req, &thread_name(), nest);
        }
        let before = s.len();
        let reports = VALIDATOR.acquire_as(s, &thread_name, req, refuse);
        let mut tracked = s.len() > before;
        if tracked && refuse && !reports.is_empty() {
            s.pop();
            tracked = false;
        }
        Acquired { tracked, reports }
    });
    r.unwrap_or(Acquired { tracked: false, reports: Vec::new() })
}

/// The hot path of an acquisition: a chain seen before, recording off, the thread's exit
/// check armed. Takes scalars rather than an [`AcquireReq`] so nothing is spilled and
/// re-read. Returns false when not handled here: the caller then takes [`acquire`].
#[inline]
pub(crate) fn acquire_seen(
    instance: usize,
    class: ClassId,
    subclass: u32,
    mode: Mode,
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

/// Runs `f` on this thread's held stack (read-only); `None` when re-entered.
pub(crate) fn inspect<R>(f: impl FnOnce(&HeldStack) -> R) -> Option<R> {
    with_stack(|s| f(s))
}

/// Validates an acquisition that may happen (the kernel's `might_lock`) without keeping it.
pub(crate) fn might_acquire(req: AcquireReq) -> Vec<Report> {
    with_stack(|s| {
        let before = s.len();
        let reports = VALIDATOR.acquire(s, &thread_name, req);
        if s.len() > before {
            s.pop();
        }
        reports
    })
    .unwrap_or_default()
}

/// Records a release, downgrade or free of `instance` (`op` names it in a recorded trace)
/// and runs `check` on this thread's stack.
fn record_and_check(
    op: &str,
    instance: usize,
    class: ClassId,
    site: SiteRef,
    check: impl FnOnce(&mut HeldStack) -> Vec<Report>,
) -> Vec<Report> {
    with_stack(|s| {
        if crate::recorder::enabled() {
            crate::recorder::other(&VALIDATOR, op, instance, class, &thread_name(), site);
        }
        check(s)
    })
    .unwrap_or_default()
}

/// Records a release. During teardown, the release of a lock the exit check already
/// reported (and forgot) is not a second problem.
pub(crate) fn release(instance: usize, class: ClassId, site: SiteRef) -> Vec<Report> {
    record_and_check("release", instance, class, site, |s| {
        if s.find(instance).is_none() && crate::sink::in_teardown() {
            return Vec::new();
        }
        VALIDATOR.release(s, &thread_name, instance, class, site)
    })
}

/// Records a downgrade (write -> downgraded reader).
pub(crate) fn downgrade(instance: usize, class: ClassId, site: SiteRef) -> Vec<Report> {
    record_and_check("downgrade", instance, class, site, |s| {
        VALIDATOR.downgrade(s, &thread_name, instance, class, site)
    })
}

/// Records that a lock instance is freed.
pub(crate) fn free(instance: usize, class: ClassId, site: SiteRef) -> Vec<Report> {
    record_and_check("free", instance, class, site, |s| {
        VALIDATOR.free(s, &thread_name, instance, site)
    })
}

/// Reports locks still held by the current thread (`held_at_exit`) and forgets them.
pub(crate) fn held_at_exit() -> Vec<Report> {
    with_stack(|s| VALIDATOR.held_at_exit(s, &thread_name)).unwrap_or_default()
}

/// Number of locks the current thread holds, as the validator sees them.
pub(crate) fn held_count() -> usize {
    STACK.try_with(|s| s.try_borrow().map(|s| s.len()).unwrap_or(0)).unwrap_or(0)
}

/// The event class of `desc` in the process-wide validator (registered on first use).
pub(crate) fn register_event(desc: ClassDesc) -> ClassId {
    VALIDATOR.register_event(desc)
}

/// A (potential) blocking wait of this thread for `event` (validator/events.rs). A seen
/// wait is one chain-cache probe. With `refuse` (panic mode) a wait with problems is not
/// learnt.
pub(crate) fn wait_event(event: ClassId, site: SiteRef, refuse: bool) -> Vec<Report> {
    with_stack(|s| {
        if crate::recorder::enabled() {
            crate::recorder::event(&VALIDATOR, "wait", event, &thread_name(), site);
        }
        VALIDATOR.wait_event(s, &thread_name, event, site, refuse)
    })
    .unwrap_or_default()
}

/// A signal of `event` by this thread. A seen signal is one chain-cache probe.
pub(crate) fn signal_event(event: ClassId, site: SiteRef) -> Vec<Report> {
    with_stack(|s| {
        if crate::recorder::enabled() {
            crate::recorder::event(&VALIDATOR, "signal", event, &thread_name(), site);
        }
        VALIDATOR.signal_event(s, &thread_name, event, site)
    })
    .unwrap_or_default()
}

/// This thread was spawned by `parent` as a participant whose exit is the event `exit`.
pub(crate) fn thread_start(exit: ClassId, parent: &str, site: SiteRef) {
    with_stack(|s| {
        if crate::recorder::enabled() {
            crate::recorder::child(&VALIDATOR, "spawn", parent, &thread_name(), exit, site);
        }
        s.events.base = Some((exit, site));
        s.rekey_from(0);
    });
}

/// A join of thread `child`: a wait for its exit event `exit`.
pub(crate) fn join(exit: ClassId, child: &str, site: SiteRef, refuse: bool) -> Vec<Report> {
    with_stack(|s| {
        if crate::recorder::enabled() {
            crate::recorder::child(&VALIDATOR, "join", &thread_name(), child, exit, site);
        }
        VALIDATOR.wait_event(s, &thread_name, exit, site, refuse)
    })
    .unwrap_or_default()
}
