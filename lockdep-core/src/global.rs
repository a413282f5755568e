//! The process-wide validator behind the lock types: the instance, the thread-local held-lock
//! stacks, and the start-up / thread-exit / process-exit hooks.
//!
//! Functions here update a thread's stack and return the reports found; they never print or
//! panic. The hook layer ([`crate::hook`]) hands the reports to the sink after the stack's
//! borrow has ended.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::sync::{Arc, OnceLock};

use crate::class::{ClassDesc, ClassId};
use crate::config;
use crate::held::HeldStack;
use crate::report::Report;
use crate::validator::{AcquireReq, Validator};
use crate::vocab::Mode;
use crate::vocab::SiteRef;

/// The process-wide validator, made on first use (so a process that takes no tracked lock,
/// or a global allocator's lock during start-up, never builds it).
struct Instance(OnceLock<Validator>);

impl std::ops::Deref for Instance {
    type Target = Validator;

    #[inline]
    fn deref(&self) -> &Validator {
        match self.0.get() {
            Some(v) => v,
            None => self.make(),
        }
    }
}

impl Instance {
    /// Makes the validator (or waits for another thread making it), then lets the fast path
    /// run if everything else allows it.
    #[cold]
    #[inline(never)]
    fn make(&self) -> &Validator {
        let v = self.0.get_or_init(|| {
            config::seal();
            config::on_change(refresh_fast);
            let c = config::config();
            let v = Validator::new(c.backtrace);
            v.set_same_class(c.same_class);
            v.set_max_stacks(c.max_stacks);
            v
        });
        refresh_fast();
        v
    }
}

static VALIDATOR: Instance = Instance(OnceLock::new());

/// The process-wide validator if it was made already.
fn existing() -> Option<&'static Validator> {
    VALIDATOR.0.get()
}

/// Set when every acquisition and release must take the slow path (trace recording, or a
/// backtrace at every acquisition).
static FORCE_SLOW: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[inline]
fn force_slow() -> bool {
    FORCE_SLOW.load(std::sync::atomic::Ordering::Relaxed)
}

/// Every acquisition and release takes the slow path from now on.
fn set_force_slow() {
    FORCE_SLOW.store(true, std::sync::atomic::Ordering::Relaxed);
    refresh_fast();
}

/// The process-wide validator while the seen-chain fast path of an acquisition may run, else
/// null: validation on (the configured `on_report` is not `Off`), nothing forces the slow
/// path ([`FORCE_SLOW`]), and the validator is made. One load on the hot path gives both the
/// permission and the validator, instead of three checks.
///
/// # Invariants
/// A cache of those three conditions, recomputed by [`refresh_fast`] after any of them
/// changes (`config::set_on_report` and every other configuration update, [`set_force_slow`],
/// the validator's making). When not null it points to the made process-wide validator,
/// which lives as long as the process. A stale null only sends acquisitions to the slow
/// path, which heals it ([`heal_fast`]).
static FAST: std::sync::atomic::AtomicPtr<Validator> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

/// The validator if the seen-chain fast path may run (see [`FAST`]).
#[inline(always)]
pub(crate) fn fast_allowed() -> Option<&'static Validator> {
    let v = FAST.load(std::sync::atomic::Ordering::Acquire);
    // SAFETY: not null, `FAST` points to the process-wide validator (see its invariants),
    // made before the pointer was stored (the `Acquire` above pairs with that store).
    unsafe { v.as_ref() }
}

/// The conditions [`FAST`] caches, read now.
fn fast_conditions() -> bool {
    config::on_report() != config::OnReport::Off && !force_slow() && existing().is_some()
}

/// Recomputes [`FAST`]; called after any of its conditions changed. Lock-free: after its
/// store it reads the conditions again and repeats while they disagree, so of two racing
/// refreshes the last store always agrees with the conditions as the later one saw them
/// (a refresh that computed `true` before another thread turned validation off sees that
/// change on its re-read, after its store, and stores `false` again).
pub(crate) fn refresh_fast() {
    use std::sync::atomic::{fence, Ordering::SeqCst};
    loop {
        fence(SeqCst);
        let on = fast_conditions();
        let v = if on {
            existing().map_or(std::ptr::null(), |v| v as *const Validator)
        } else {
            std::ptr::null()
        };
        FAST.store(v.cast_mut(), SeqCst);
        fence(SeqCst);
        if fast_conditions() == on {
            return;
        }
    }
}

/// Called on the slow path of an acquisition while validation is on: sets [`FAST`] if it is
/// clear although its conditions hold (it was computed while the configuration was being
/// resolved, say).
#[inline]
pub(crate) fn heal_fast() {
    if FAST.load(std::sync::atomic::Ordering::Relaxed).is_null()
        && !force_slow()
        && existing().is_some()
    {
        refresh_fast();
    }
}

/// This thread's state on the hot path, in one thread-local so an acquisition touches
/// thread-local storage once: the held stack, and in one byte its re-entrancy flag
/// ([`BUSY`]) and whether the thread's exit check is armed ([`ARMED`]), so the fast path tests
/// both with one compare.
///
/// # Invariants
/// A `&mut` to `stack` exists only while `BUSY` is set (taken by [`with_stack`]), or inside
/// [`acquire_seen`] / [`release_top`] while `BUSY` is clear, which call nothing that could
/// reach this thread-local again. So no two references to the stack are ever live at once.
struct Local {
    flags: Cell<u8>,
    stack: UnsafeCell<HeldStack>,
}

/// [`Local::flags`]: the thread is inside the validator's slow path (its stack is borrowed).
const BUSY: u8 = 1;
/// [`Local::flags`]: the thread's exit check is armed.
const ARMED: u8 = 2;

impl Local {
    #[inline(always)]
    fn busy(&self) -> bool {
        self.flags.get() & BUSY != 0
    }

    #[inline(always)]
    fn armed(&self) -> bool {
        self.flags.get() & ARMED != 0
    }
}

thread_local! {
    // Const-initialised and no destructor: no lazy-init check on access, and usable while the
    // thread's other thread-locals are torn down.
    static LOCAL: Local = const {
        Local {
            flags: Cell::new(0),
            stack: UnsafeCell::new(HeldStack::new()),
        }
    };
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

/// Clears the re-entrancy flag when a [`with_stack`] section ends (also by unwinding).
struct Unbusy<'a>(&'a Cell<u8>);

impl Drop for Unbusy<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() & !BUSY);
    }
}

/// Runs `f` on this thread's stack; `None` when re-entered or the thread-local is gone.
#[inline]
fn with_stack<R>(f: impl FnOnce(&mut HeldStack) -> R) -> Option<R> {
    LOCAL
        .try_with(|l| {
            if l.busy() {
                return None;
            }
            l.flags.set(l.flags.get() | BUSY);
            let _unbusy = Unbusy(&l.flags);
            // SAFETY: `busy` was clear and is now set: no other reference to the stack is
            // live, and none is made until `_unbusy` clears it (see `Local`'s invariants).
            Some(f(unsafe { &mut *l.stack.get() }))
        })
        .ok()
        .flatten()
}

thread_local! {
    /// Set once this thread went past the held-lock depth limit (and that was reported):
    /// deeper acquisitions are then simply not tracked, until the stack empties.
    static OVERFLOWED: Cell<bool> = const { Cell::new(false) };
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
    let _ = LOCAL.try_with(|l| {
        l.flags.set(l.flags.get() | ARMED);
        let _ = EXIT_GUARD.try_with(|_| ());
    });
}

#[inline]
fn arm_exit_guard() {
    if !LOCAL.try_with(|l| l.armed()).unwrap_or(true) {
        arm_once();
    }
}

/// Process start-up: reads the configuration, opens the trace file, installs `fork()`
/// handling. Run by the hook layer's start-up hook.
#[cfg_attr(miri, expect(dead_code, reason = "no start-up hook under Miri"))]
pub(crate) fn startup() {
    let c = config::config();
    crate::sink::clean_report_dir();
    crate::fork::install(validator);
    crate::recorder::init(c.trace.as_deref());
    if crate::recorder::enabled() || c.backtrace == config::Backtrace::Always {
        set_force_slow();
    }
}

/// Process exit (also after `std::process::exit` and a panic in `main`): reports locks the
/// exiting thread holds, writes the process's report file, flushes the trace. Run by the hook
/// layer's exit hook.
#[cfg_attr(miri, expect(dead_code, reason = "no exit hook under Miri"))]
pub(crate) fn shutdown() {
    crate::sink::enter_teardown();
    if config::on_report() != config::OnReport::Off {
        let reports = with_stack(|s| VALIDATOR.held_at_exit(s, &thread_name));
        crate::sink::emit(&VALIDATOR, &reports.unwrap_or_default());
        if let Some(v) = existing().filter(|v| v.has_classes()) {
            if let Err(e) = crate::sink::write_report_file(v) {
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
/// Set once a capacity limit was reached: validation is off for good in this process.
static LIMITED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The capacity limit the validator is over, if any: its rule and message.
fn over_limit() -> Option<(&'static str, String)> {
    static LIMITS: OnceLock<(usize, usize)> = OnceLock::new();
    let &(classes, chains) = LIMITS.get_or_init(|| {
        let c = config::config();
        (c.max_classes, c.max_chains)
    });
    if VALIDATOR.class_count() >= classes {
        return Some((
            "max_lock_classes",
            format!(
                "{classes} lock classes reached (LOCKDEP_MAX_CLASSES): validation is now off for \
                 this process; raise the limit, or give locks built in a loop one class"
            ),
        ));
    }
    if VALIDATOR.chains() >= chains {
        return Some((
            "max_lock_chains",
            format!(
                "{chains} lock chains reached (LOCKDEP_MAX_CHAINS): validation is now off for \
                 this process; raise the limit"
            ),
        ));
    }
    None
}

pub(crate) fn acquire(req: AcquireReq, refuse: bool) -> Acquired {
    if LIMITED.load(std::sync::atomic::Ordering::Relaxed) {
        return Acquired { tracked: false, reports: Vec::new() };
    }
    let r = with_stack(|s| {
        if let Some((rule, message)) = over_limit() {
            let reports = VALIDATOR.limit_reached(s, &thread_name, &req, rule, message);
            LIMITED.store(true, std::sync::atomic::Ordering::Relaxed);
            config::set_on_report(config::OnReport::Off);
            return Acquired { tracked: false, reports };
        }
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

/// This thread's [`Local`], without a closure on the hot path (a closure passed to
/// `try_with` is compiled as an out-of-line call with its captures spilled to the stack).
/// `None` only if the thread-local were gone, which a const-initialised thread-local
/// without destructor never is.
#[inline(always)]
fn local() -> Option<*const Local> {
    LOCAL.try_with(|l| l as *const Local).ok()
}

/// The hot path of an acquisition: a chain seen before, recording off, the thread's exit
/// check armed. Takes scalars rather than an [`AcquireReq`] so nothing is spilled and
/// re-read; one thread-local access, no borrow flag written. Returns false when not handled
/// here: the caller then takes [`acquire`].
#[inline(always)]
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
    let v: &Validator = &VALIDATOR;
    let Some(l) = local() else { return false };
    // SAFETY: the pointer is this thread's `LOCAL`, which has no destructor and lives as
    // long as the thread, so it is valid for this call.
    let l = unsafe { &*l };
    if l.busy() {
        return false;
    }
    // SAFETY: `BUSY` is clear, so no other reference to the stack is live; this one ends
    // before we return, and `Validator::acquire_seen` (a hash, a lock-free probe and a push)
    // and `acquire_seen_nesting` (a scan of the stack and a push) cannot reach this
    // thread-local again.
    let s = unsafe { &mut *l.stack.get() };
    let site = SiteRef::Static(site);
    (s.len() != 0 || l.armed())
        && (v.acquire_seen(s, None, instance, class, subclass, mode, trylock, site)
            || v.acquire_seen_nesting(s, instance, class, subclass, mode, trylock, site))
}

/// [`acquire_seen`] when [`fast_allowed`] gave the validator `v`: nothing forces the slow
/// path, so that is not checked again.
#[inline(always)]
#[expect(clippy::too_many_arguments, reason = "scalars, so nothing is spilled and re-read")]
pub(crate) fn acquire_seen_fast(
    v: &Validator,
    last: &std::sync::atomic::AtomicU64,
    instance: usize,
    class: ClassId,
    subclass: u32,
    mode: Mode,
    trylock: bool,
    site: &'static std::panic::Location<'static>,
) -> bool {
    let Some(s) = armed_stack() else { return false };
    // SAFETY: see `armed_stack`; the reference ends with this call.
    let s = unsafe { &mut *s };
    v.acquire_seen(s, Some(last), instance, class, subclass, mode, trylock, SiteRef::Static(site))
}

/// The seen same-class nesting path, right after [`acquire_seen_fast`] missed the chain
/// cache (such a chain is never in it): the same conditions (`v` from [`fast_allowed`], the
/// thread armed and not busy), then this stack's nesting memo. No lock, no allocation, no
/// backtrace.
#[inline(always)]
pub(crate) fn acquire_seen_nesting_fast(
    v: &Validator,
    instance: usize,
    class: ClassId,
    subclass: u32,
    mode: Mode,
    trylock: bool,
    site: &'static std::panic::Location<'static>,
) -> bool {
    let Some(s) = armed_stack() else { return false };
    // SAFETY: see `armed_stack`; the reference ends with this call.
    let s = unsafe { &mut *s };
    v.acquire_seen_nesting(s, instance, class, subclass, mode, trylock, SiteRef::Static(site))
}

/// This thread's held stack, for a seen-chain fast path, if the thread is armed and not
/// busy. The caller may make one `&mut` of it for a call that cannot reach this thread-local
/// again: `BUSY` is clear, so no other reference to the stack is live (see `Local`).
#[inline(always)]
fn armed_stack() -> Option<*mut HeldStack> {
    let l = local()?;
    // SAFETY: as in `acquire_seen`: this thread's `LOCAL`, valid for this call.
    let l = unsafe { &*l };
    // Not busy and armed, in one compare. (A thread not armed yet, holding locks only
    // through a task's swapped-in stack, takes the slow path, which is correct, only slower.)
    (l.flags.get() == ARMED).then(|| l.stack.get())
}

/// The hot path of a release: the lock is the top of the held stack (LIFO release), recording
/// off. Returns false when not handled here: the caller then takes [`release`].
#[inline(always)]
pub(crate) fn release_top(instance: usize) -> bool {
    if force_slow() {
        return false;
    }
    let Some(l) = local() else { return false };
    // SAFETY: as in `acquire_seen`: this thread's `LOCAL`, valid for this call.
    let l = unsafe { &*l };
    // SAFETY: `BUSY` is clear, so no other reference to the stack is live; this one lives
    // for one `pop_if_top`, which calls nothing.
    !l.busy() && unsafe { &mut *l.stack.get() }.pop_if_top(instance)
}

/// Runs `f` on this thread's held stack (read-only); `None` when re-entered.
pub(crate) fn inspect<R>(f: impl FnOnce(&HeldStack) -> R) -> Option<R> {
    with_stack(|s| f(s))
}

/// The mode this thread holds `instance` in (`Some(None)`: not held; `None` when
/// re-entered): the assertions' question, answered with a scan of the held stack and
/// nothing written (no busy flag set and cleared, as [`inspect`] does).
#[inline]
pub(crate) fn held_mode(instance: usize) -> Option<Option<Mode>> {
    let l = local()?;
    // SAFETY: as in `acquire_seen`: this thread's `LOCAL`, valid for this call.
    let l = unsafe { &*l };
    if l.busy() {
        return None;
    }
    // SAFETY: `BUSY` is clear, so no `&mut` of the stack is live; this shared reference
    // lives for one scan, which calls nothing.
    let s = unsafe { &*l.stack.get() };
    Some(s.entries().iter().rev().find(|e| e.instance == instance).map(|e| e.mode))
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
    with_stack(|s| s.len()).unwrap_or(0)
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

/// A barrier arrival of this thread at `event` (validator/events.rs): a signal of the locks
/// it took and released since its last wait, then a wait.
pub(crate) fn arrive_event(event: ClassId, site: SiteRef, refuse: bool) -> Vec<Report> {
    with_stack(|s| {
        if crate::recorder::enabled() {
            crate::recorder::event(&VALIDATOR, "arrive", event, &thread_name(), site);
        }
        VALIDATOR.arrive_event(s, &thread_name, event, site, refuse)
    })
    .unwrap_or_default()
}

/// This thread was spawned by `parent` as a participant whose exit is the event `exit`.
pub(crate) fn thread_start(exit: ClassId, parent: &str, site: SiteRef) {
    with_stack(|s| {
        if crate::recorder::enabled() {
            let me = crate::recorder::trace_thread(&thread_name());
            crate::recorder::child(&VALIDATOR, "spawn", parent, &me, exit, site);
        }
        s.events.base = Some((exit, site));
        s.rekey_from(0);
    });
}

/// A join of thread `child`: a wait for its exit event `exit`.
pub(crate) fn join(exit: ClassId, child: &str, site: SiteRef, refuse: bool) -> Vec<Report> {
    with_stack(|s| {
        if crate::recorder::enabled() {
            let me = crate::recorder::trace_thread(&thread_name());
            crate::recorder::child(&VALIDATOR, "join", &me, child, exit, site);
        }
        VALIDATOR.wait_event(s, &thread_name, exit, site, refuse)
    })
    .unwrap_or_default()
}

// ---- Async tasks (task.rs): task-owned held stacks. ----

/// Swaps this thread's held stack with `other` (a task's stack, around a poll of the task on
/// this thread). Returns false, swapping nothing, when re-entered from the validator.
pub(crate) fn swap_stack(other: &mut HeldStack) -> bool {
    with_stack(|s| s.swap_live(other)).is_some()
}

/// Whether the polled task (this thread's stack) holds a blocking lock: a waker cloned now
/// may be where the task will yield holding it.
pub(crate) fn holds_blocking() -> bool {
    with_stack(|s| {
        s.len() > 0 && {
            let a = ASYNC_CLASSES.read().unwrap_or_else(|e| e.into_inner());
            s.entries().iter().any(|e| !a.contains(&e.class))
        }
    })
    .unwrap_or(false)
}

/// A task's name in the trace, for a task made at `site` (`None` when not recording).
pub(crate) fn trace_task_name(site: SiteRef) -> Option<String> {
    crate::recorder::task_name(site)
}

/// Swaps the recorder's notion of the task polled on this thread with `task` (beside
/// [`swap_stack`], when recording).
pub(crate) fn swap_trace_task(task: &mut Option<String>) {
    crate::recorder::swap_task(task);
}

/// Classes of async locks (`lockdep_core::tokio::sync`): holding one across an `.await` is
/// normal, so `held_across_await` skips them.
static ASYNC_CLASSES: std::sync::RwLock<Vec<ClassId>> = std::sync::RwLock::new(Vec::new());

/// Marks `class` as an async lock's class.
#[cfg(feature = "tokio")]
pub(crate) fn mark_async(class: ClassId) {
    let mut a = ASYNC_CLASSES.write().unwrap_or_else(|e| e.into_inner());
    if !a.contains(&class) {
        a.push(class);
    }
}

/// A task spawned at `task` yielded (`Poll::Pending`) with `stack` as its held stack: one
/// `held_across_await` report per blocking lock held (each once per taken site and yield site).
pub(crate) fn task_yielded(
    stack: &HeldStack,
    task: SiteRef,
    awaited: Option<&crate::stacks::Trace>,
) -> Vec<Report> {
    let blocking: Vec<_> = {
        let a = ASYNC_CLASSES.read().unwrap_or_else(|e| e.into_inner());
        stack.entries().iter().filter(|e| !a.contains(&e.class)).copied().collect()
    };
    let mut out = Vec::new();
    for e in &blocking {
        if crate::recorder::enabled() {
            crate::recorder::other(&VALIDATOR, "yield", e.instance, e.class, &thread_name(), task);
        }
        out.extend(VALIDATOR.held_across_await(stack, &thread_name, e, task, awaited));
    }
    out
}
