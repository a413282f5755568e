//! The hook layer: the one door between the lock types and user API above it and the
//! validator, the sink and the process-wide instance below it.
//!
//! Every lock type, [`LockMap`](crate::LockMap), downgrade, assertion, rule and predicate goes
//! through these functions. With the `off` feature every body here compiles to nothing: a
//! lock's [`LockClass`] is zero-sized (so each lock type is its raw lock plus its data), an
//! acquisition is untracked, an assertion never fails, a rule registers nothing, and no
//! start-up or exit hook runs. No other file tests the feature.

use std::panic::Location;

use crate::class::{ClassId, LockClassKey};
use crate::report::Report;
use crate::rule_engine::{Held, Rule, RuleError};
use crate::vocab::{Mode, WaitKind};

#[cfg(not(feature = "off"))]
use crate::{
    class::ClassRef,
    config::{self, OnReport},
    global,
    held::HeldLock,
    sink,
    validator::AcquireReq,
    vocab::SiteRef,
};

/// A lock's drop: while instance nodes exist (classes that nest themselves, judged by the
/// order of their locks), the lock is `free`d, so its node is forgotten and a lock built later
/// at the same address starts fresh. Otherwise one relaxed load.
#[cfg(not(feature = "off"))]
impl Drop for LockClass {
    fn drop(&mut self) {
        if crate::validator::instances::any_instance_nodes() {
            free(self, self.instance(), Location::caller());
        }
    }
}

/// The process's start-up hook (configuration, trace file, `fork()` handling): none with the
/// `off` feature, nor under Miri (whose ABI check rejects the start-up shim).
#[cfg(not(any(feature = "off", miri)))]
#[ctor::ctor]
fn startup() {
    global::startup();
}

/// The process's exit hook (also after `std::process::exit` and a panic in `main`): locks
/// the exiting thread holds, the report file, the trace.
#[cfg(not(any(feature = "off", miri)))]
#[ctor::dtor]
fn shutdown() {
    global::shutdown();
}

/// An acquisition or annotation site.
pub(crate) type Site = &'static Location<'static>;

/// A lock's class as the lock stores it: where it was built or its key. Zero-sized with the
/// `off` feature.
pub(crate) struct LockClass {
    #[cfg(not(feature = "off"))]
    class: ClassRef,
    /// The chain key of this lock's last acquisition found in the chain cache, tagged with
    /// the cache's table (`ChainCache::contains_memo`): the same chain again skips the
    /// probe, and with it a cache miss on a large table.
    #[cfg(not(feature = "off"))]
    last: std::sync::atomic::AtomicU64,
}

impl LockClass {
    /// A lock's class `class`, with no last chain yet.
    #[cfg(not(feature = "off"))]
    const fn of(class: ClassRef) -> LockClass {
        LockClass { class, last: std::sync::atomic::AtomicU64::new(0) }
    }

    /// The class of a lock built at the caller's location.
    #[track_caller]
    pub(crate) const fn at_caller(wait: WaitKind) -> LockClass {
        #[cfg(not(feature = "off"))]
        {
            LockClass::of(ClassRef::at_caller(wait))
        }
        #[cfg(feature = "off")]
        {
            let _ = wait;
            LockClass {}
        }
    }

    /// The class of an event-shaped lock (a once) built at the caller's location: an event
    /// node, never shared with the lock classes of that site.
    #[track_caller]
    pub(crate) const fn event_at_caller(wait: WaitKind) -> LockClass {
        #[cfg(not(feature = "off"))]
        {
            LockClass::of(ClassRef::event_at_caller(wait))
        }
        #[cfg(feature = "off")]
        {
            let _ = wait;
            LockClass {}
        }
    }

    /// The class named by `key`.
    pub(crate) const fn keyed(key: &'static LockClassKey, wait: WaitKind) -> LockClass {
        #[cfg(not(feature = "off"))]
        {
            LockClass::of(ClassRef::keyed(key, wait))
        }
        #[cfg(feature = "off")]
        {
            let _ = (key, wait);
            LockClass {}
        }
    }

    /// The class of every lock of one type, named `name()` (a type name), with no
    /// definition site: for raw locks, whose `INIT` is a `const` with no caller location.
    pub(crate) const fn of_type(name: fn() -> String, wait: WaitKind) -> LockClass {
        #[cfg(not(feature = "off"))]
        {
            LockClass::of(ClassRef::of_type(name, wait))
        }
        #[cfg(feature = "off")]
        {
            let _ = (name, wait);
            LockClass {}
        }
    }

    /// The class id in the process-wide validator (registered on first use); `ClassId(0)`
    /// with the `off` feature.
    #[inline]
    pub(crate) fn id(&self) -> ClassId {
        #[cfg(not(feature = "off"))]
        {
            self.class.resolve(global::register)
        }
        #[cfg(feature = "off")]
        {
            ClassId(0)
        }
    }

    /// The identity of the lock that holds this class (the address of this field): the
    /// `instance` of every hook call, so that the drop below names the same instance.
    #[inline(always)]
    pub(crate) fn instance(&self) -> usize {
        self as *const LockClass as usize
    }

    /// The class name (construction site or key name); a fixed text with the `off` feature.
    pub(crate) fn name(&self) -> String {
        #[cfg(not(feature = "off"))]
        {
            self.class.name()
        }
        #[cfg(feature = "off")]
        {
            "(lockdep compiled out)".to_string()
        }
    }
}

/// An acquisition refused in panic mode: the caller leaves its raw lock as it was (releases
/// it if a try took it), then [`raise`](Refused::raise)s.
pub(crate) struct Refused {
    #[cfg(not(feature = "off"))]
    reports: Vec<Report>,
    #[cfg(feature = "off")]
    never: std::convert::Infallible,
}

impl Refused {
    /// Panics with the refusal's first report, at the caller's site.
    #[track_caller]
    pub(crate) fn raise(self) -> ! {
        #[cfg(not(feature = "off"))]
        {
            sink::panic_with(&self.reports)
        }
        #[cfg(feature = "off")]
        {
            match self.never {}
        }
    }
}

#[cfg(not(feature = "off"))]
thread_local! {
    /// Set while this thread is inside the validator's slow paths: a lock taken from there
    /// (a lock in a `#[global_allocator]`, say, when the validator allocates) is not tracked,
    /// so the tracer never re-enters itself.
    static BUSY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` as the validator's slow path; `None` (and `f` is not run) when this thread is in
/// one already, or is being torn down past its thread-locals.
#[cfg(not(feature = "off"))]
fn guarded<R>(f: impl FnOnce() -> R) -> Option<R> {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            let _ = BUSY.try_with(|b| b.set(false));
        }
    }
    if BUSY.try_with(|b| b.replace(true)).unwrap_or(true) {
        return None;
    }
    let _leave = Leave;
    Some(f())
}

/// Whether validation is on right now.
#[cfg(not(feature = "off"))]
#[inline]
fn validating() -> bool {
    config::on_report() != OnReport::Off
}

/// Emits `reports` through the sink; panics when the policy says so (panic mode, not while
/// unwinding or tearing down).
#[cfg(not(feature = "off"))]
#[track_caller]
fn raise(reports: Vec<Report>) {
    if reports.is_empty() {
        return;
    }
    sink::emit(global::validator(), &reports);
    if sink::panics_now() && sink::may_unwind() {
        sink::panic_with(&reports);
    }
}

/// After the reports of an operation checked with `refuse` (panic mode) were emitted: the
/// refusal the caller raises, or `None` to go on (not refused, or a teardown where a panic
/// would abort: the reports stay printed and recorded, and the refused acquisition or wait
/// goes on untracked).
#[cfg(not(feature = "off"))]
fn refusal(refuse: bool, reports: Vec<Report>) -> Option<Refused> {
    (refuse && sink::may_unwind()).then_some(Refused { reports })
}

/// An acquisition of a lock type's lock, reported *before* a blocking caller waits (or just
/// after a try succeeded). `Ok(tracked)`: the guard must call [`release`] iff `tracked`.
#[inline(always)]
pub(crate) fn acquire(
    class: &LockClass,
    instance: usize,
    mode: Mode,
    subclass: u32,
    trylock: bool,
    site: Site,
) -> Result<bool, Refused> {
    #[cfg(not(feature = "off"))]
    {
        if acquire_fast(class, instance, mode, subclass, trylock, site) {
            return Ok(true);
        }
        acquire_miss(class, instance, mode, subclass, trylock, site)
    }
    #[cfg(feature = "off")]
    {
        let _ = (class, instance, mode, subclass, trylock, site);
        Ok(false)
    }
}

/// The seen-chain fast path of [`acquire`]: one flag (validation on, nothing forcing the slow
/// path, validator made), the class id from the lock, one thread-local access, a hash, a
/// probe and a push. False when not handled here (nothing was changed then).
#[cfg(not(feature = "off"))]
#[inline(always)]
fn acquire_fast(
    class: &LockClass,
    instance: usize,
    mode: Mode,
    subclass: u32,
    trylock: bool,
    site: Site,
) -> bool {
    let Some(v) = global::fast_allowed() else { return false };
    match class.class.cached_here() {
        Some(id) => {
            global::acquire_seen_fast(v, &class.last, instance, id, subclass, mode, trylock, site)
        }
        None => false,
    }
}

/// The fast path's second half, for a chain-cache miss: a seen same-class nesting (a chain
/// the cache never holds, judged by instances) is found in the held stack's nesting memo
/// under the fast path's conditions; anything else goes on to [`acquire_cold`]. Out of line
/// but small, so the lock entry points save nothing for it.
#[cfg(not(feature = "off"))]
#[inline(never)]
fn acquire_miss(
    class: &LockClass,
    instance: usize,
    mode: Mode,
    subclass: u32,
    trylock: bool,
    site: Site,
) -> Result<bool, Refused> {
    if miss_fast(class, instance, mode, subclass, trylock, site) {
        return Ok(true);
    }
    acquire_cold(class, instance, mode, subclass, trylock, site)
}

/// The second half of the fast path ([`acquire_miss`], [`lock_miss`], the annotated miss):
/// a lock whose own cell was empty takes its class id from its key or its site's memo and
/// tries the seen-chain path again; then a seen same-class nesting.
#[cfg(not(feature = "off"))]
#[inline(always)]
fn miss_fast(
    class: &LockClass,
    instance: usize,
    mode: Mode,
    subclass: u32,
    trylock: bool,
    site: Site,
) -> bool {
    let Some(v) = global::fast_allowed() else { return false };
    let here = class.class.cached_here();
    let Some(id) = here.or_else(|| class.class.cached()) else { return false };
    let last = &class.last;
    (here.is_none()
        && global::acquire_seen_fast(v, last, instance, id, subclass, mode, trylock, site))
        || global::acquire_seen_nesting_fast(v, instance, id, subclass, mode, trylock, site)
}

/// [`acquire`] past its fast path: every check made again, then the seen-chain path or the
/// validator's slow path. One out-of-line call, so the lock entry points stay small.
#[cfg(not(feature = "off"))]
#[cold]
#[inline(never)]
fn acquire_cold(
    class: &LockClass,
    instance: usize,
    mode: Mode,
    subclass: u32,
    trylock: bool,
    site: Site,
) -> Result<bool, Refused> {
    if !validating() {
        return Ok(false);
    }
    global::heal_fast();
    let id = match class.class.cached() {
        Some(id) => id,
        None => match guarded(|| class.id()) {
            Some(id) => id,
            None => return Ok(false),
        },
    };
    // The site goes down as a thin pointer: a `SiteRef` built here would be stored in two
    // halves and re-read whole (a store-forwarding stall on every acquisition).
    if global::acquire_seen(instance, id, subclass, mode, trylock, site) {
        return Ok(true);
    }
    acquire_slow(AcquireReq {
        instance,
        class: id,
        subclass,
        mode,
        trylock,
        site: SiteRef::Static(site),
        nest_lock: None,
    })
}

/// A blocking acquisition: [`acquire`], panicking at the caller's site when refused (before
/// the caller takes its raw lock). Returns whether the guard is tracked.
#[inline(always)]
#[track_caller]
pub(crate) fn lock(class: &LockClass, instance: usize, mode: Mode, subclass: u32) -> bool {
    #[cfg(not(feature = "off"))]
    {
        let site = Location::caller();
        if acquire_fast(class, instance, mode, subclass, false, site) {
            return true;
        }
        lock_miss(class, instance, mode, subclass, site)
    }
    #[cfg(feature = "off")]
    {
        let _ = (class, instance, mode, subclass);
        false
    }
}

/// [`acquire_miss`] for [`lock`].
#[cfg(not(feature = "off"))]
#[inline(never)]
#[track_caller]
fn lock_miss(class: &LockClass, instance: usize, mode: Mode, subclass: u32, site: Site) -> bool {
    if miss_fast(class, instance, mode, subclass, false, site) {
        return true;
    }
    lock_cold(class, instance, mode, subclass, site)
}

/// [`lock`] past its fast path (out of line): [`acquire_cold`], and the panic of a refusal
/// at the caller's site.
#[cfg(not(feature = "off"))]
#[cold]
#[inline(never)]
#[track_caller]
fn lock_cold(class: &LockClass, instance: usize, mode: Mode, subclass: u32, site: Site) -> bool {
    match acquire_cold(class, instance, mode, subclass, false, site) {
        Ok(tracked) => tracked,
        Err(refused) => refused.raise(),
    }
}

/// A successful try: [`acquire`] after the raw lock was taken; when refused, `undo` releases
/// the raw lock before the panic, so nothing stays locked. Returns whether the guard is
/// tracked.
#[inline(always)]
#[track_caller]
pub(crate) fn locked_by_try(
    class: &LockClass,
    instance: usize,
    mode: Mode,
    undo: impl FnOnce(),
) -> bool {
    match acquire(class, instance, mode, 0, true, Location::caller()) {
        Ok(tracked) => tracked,
        Err(refused) => {
            undo();
            refused.raise()
        }
    }
}

/// [`acquire`] for a chain not seen before (or a full stack, or recording on).
#[cfg(not(feature = "off"))]
#[cold]
#[inline(never)]
fn acquire_slow(req: AcquireReq) -> Result<bool, Refused> {
    let refuse = sink::panics_now();
    let Some(got) = guarded(|| global::acquire(req, refuse)) else { return Ok(false) };
    if got.reports.is_empty() {
        return Ok(got.tracked);
    }
    sink::emit(global::validator(), &got.reports);
    match refusal(refuse, got.reports) {
        Some(refused) => Err(refused),
        None => Ok(got.tracked),
    }
}

/// An annotated acquisition of a home-made lock ([`LockMap`](crate::LockMap)), optionally
/// nested under the held lock `nest`. A seen chain takes the lock types' fast path, inline;
/// anything else one out-of-line call.
#[inline(always)]
#[track_caller]
pub(crate) fn acquire_annotated(
    class: &LockClass,
    instance: usize,
    mode: Mode,
    subclass: u32,
    trylock: bool,
    nest: Option<usize>,
    site: Site,
) {
    #[cfg(not(feature = "off"))]
    {
        if nest.is_none() && acquire_fast(class, instance, mode, subclass, trylock, site) {
            return;
        }
        annotated_miss(class, instance, mode, subclass, trylock, nest, site);
    }
    #[cfg(feature = "off")]
    {
        let _ = (class, instance, mode, subclass, trylock, nest, site);
    }
}

/// [`acquire_annotated`] past its fast path: a seen same-class nesting (not under a nest
/// lock, which always goes the slow way), else the validator's slow path.
#[cfg(not(feature = "off"))]
#[inline(never)]
#[track_caller]
fn annotated_miss(
    class: &LockClass,
    instance: usize,
    mode: Mode,
    subclass: u32,
    trylock: bool,
    nest: Option<usize>,
    site: Site,
) {
    if nest.is_none() && miss_fast(class, instance, mode, subclass, trylock, site) {
        return;
    }
    if !validating() {
        return;
    }
    let req = AcquireReq {
        instance,
        class: class.id(),
        subclass,
        mode,
        trylock,
        site: SiteRef::Static(site),
        nest_lock: nest,
    };
    if let Err(refused) = acquire_slow(req) {
        refused.raise();
    }
}

/// The release of a tracked guard, called after its raw lock was released (so a report that
/// panics here leaves nothing locked).
#[inline(always)]
pub(crate) fn release(class: &LockClass, instance: usize) {
    #[cfg(not(feature = "off"))]
    {
        if !global::release_top(instance) {
            release_slow(class, instance, SiteRef::None);
        }
    }
    #[cfg(feature = "off")]
    {
        let _ = (class, instance);
    }
}

/// Whether this thread's held stack holds `instance` (false when validation is compiled
/// out, or re-entered): for raw locks, whose unlock has no guard to say whether the
/// acquisition was tracked.
pub(crate) fn holds(instance: usize) -> bool {
    #[cfg(not(feature = "off"))]
    {
        matches!(global::held_mode(instance), Some(Some(_)))
    }
    #[cfg(feature = "off")]
    {
        let _ = instance;
        false
    }
}

/// The release of a raw lock's hold: [`release`] when this thread holds `instance` (it was
/// tracked), nothing when it does not (validation was off when it was taken).
#[inline]
pub(crate) fn release_if_held(class: &LockClass, instance: usize) {
    #[cfg(not(feature = "off"))]
    {
        if !global::release_top(instance) && holds(instance) {
            release_slow(class, instance, SiteRef::None);
        }
    }
    #[cfg(feature = "off")]
    {
        let _ = (class, instance);
    }
}

/// [`release`] of a lock that is not the top of the held stack (or recording on).
#[cfg(not(feature = "off"))]
#[cold]
#[inline(never)]
fn release_slow(class: &LockClass, instance: usize, site: SiteRef) {
    if let Some(reports) = guarded(|| global::release(instance, class.id(), site)) {
        raise(reports);
    }
}

/// An annotated release of a home-made lock.
#[inline]
#[track_caller]
pub(crate) fn release_annotated(class: &LockClass, instance: usize, site: Site) {
    #[cfg(not(feature = "off"))]
    {
        // The usual release of the top entry, as for the lock types; anything else (a release
        // out of order, of a lock not held, while recording) goes the slow way.
        if !global::release_top(instance) && validating() {
            release_slow(class, instance, SiteRef::Static(site));
        }
    }
    #[cfg(feature = "off")]
    {
        let _ = (class, instance, site);
    }
}

/// A downgrade of a write hold to a downgraded read hold.
#[track_caller]
pub(crate) fn downgrade(class: &LockClass, instance: usize, site: Site) {
    #[cfg(not(feature = "off"))]
    {
        raise(global::downgrade(instance, class.id(), SiteRef::Static(site)));
    }
    #[cfg(feature = "off")]
    {
        let _ = (class, instance, site);
    }
}

/// An annotated downgrade of a home-made lock (ignored while validation is off).
#[track_caller]
pub(crate) fn downgrade_annotated(class: &LockClass, instance: usize, site: Site) {
    #[cfg(not(feature = "off"))]
    if validating() {
        downgrade(class, instance, site);
    }
    #[cfg(feature = "off")]
    {
        let _ = (class, instance, site);
    }
}

/// A lock instance freed or re-initialised.
#[track_caller]
pub(crate) fn free(class: &LockClass, instance: usize, site: Site) {
    #[cfg(not(feature = "off"))]
    {
        if validating() {
            raise(global::free(instance, class.id(), SiteRef::Static(site)));
        }
    }
    #[cfg(feature = "off")]
    {
        let _ = (class, instance, site);
    }
}

/// An acquisition that may happen (the kernel's `might_lock`): validated, not kept.
#[track_caller]
pub(crate) fn might_acquire(class: &LockClass, instance: usize, mode: Mode, site: Site) {
    #[cfg(not(feature = "off"))]
    {
        if validating() {
            raise(global::might_acquire(AcquireReq {
                instance,
                class: class.id(),
                subclass: 0,
                mode,
                trylock: false,
                site: SiteRef::Static(site),
                nest_lock: None,
            }));
        }
    }
    #[cfg(feature = "off")]
    {
        let _ = (class, instance, mode, site);
    }
}

/// This thread's hold of `instance`: `Some(Some(mode))` when held, `Some(None)` when not,
/// `None` when nothing is being checked (validation off, or compiled out): assertions then
/// pass.
pub(crate) fn hold_of(instance: usize) -> Option<Option<Mode>> {
    #[cfg(not(feature = "off"))]
    {
        if !validating() {
            return None;
        }
        global::held_mode(instance)
    }
    #[cfg(feature = "off")]
    {
        let _ = instance;
        None
    }
}

/// Raises a failed held-lock assertion on `lock` (held in `mode`, or `Write` when not held)
/// as a `class_violation` of rule `rule`; `message` gets the class names.
#[track_caller]
pub(crate) fn assertion_failed(
    lock: (usize, &LockClass),
    mode: Mode,
    rule: &str,
    message: &dyn Fn(&str) -> String,
    site: Site,
) {
    #[cfg(not(feature = "off"))]
    {
        let (instance, class) = lock;
        let at = probe(instance, class.id(), mode, site);
        let reports = global::inspect(|s| {
            global::validator().assertion_failed(s, &global::thread_name, &at, rule, None, message)
        });
        raise(reports.unwrap_or_default());
    }
    #[cfg(feature = "off")]
    {
        let _ = (lock, mode, rule, message, site);
    }
}

#[cfg(not(feature = "off"))]
fn probe(instance: usize, class: ClassId, mode: Mode, site: Site) -> HeldLock {
    HeldLock {
        instance,
        class,
        subclass: 0,
        mode,
        trylock: false,
        nested: false,
        site: SiteRef::Static(site),
        trace: None,
        chain_key: 0,
    }
}

/// Evaluates `f` on a view of this thread's held locks (empty when validation is off or
/// compiled out).
pub(crate) fn with_held<R>(f: impl FnOnce(&Held<'_>) -> R) -> R {
    #[cfg(not(feature = "off"))]
    {
        let v = global::validator();
        let names = |c: ClassId| v.class_name(c);
        let mut f = Some(f);
        if validating() {
            let r = global::inspect(|s| {
                let held = Held { entries: s.entries(), names: &names };
                (f.take().expect("called once"))(&held)
            });
            if let Some(r) = r {
                return r;
            }
        }
        (f.take().expect("not called yet"))(&Held { entries: &[], names: &names })
    }
    #[cfg(feature = "off")]
    {
        f(&Held { entries: &[], names: &|_| String::new() })
    }
}

/// Evaluates the named lock-state predicate `f` and raises a `class_violation` when it is
/// false. Returns its value; `true` without evaluating it when nothing is being checked.
#[track_caller]
pub(crate) fn check_state(name: &str, f: impl FnOnce(&Held<'_>) -> bool, site: Site) -> bool {
    #[cfg(not(feature = "off"))]
    {
        if !validating() {
            return true;
        }
        if with_held(f) {
            return true;
        }
        let reports = global::inspect(|s| {
            let v = global::validator();
            let classes: Vec<String> = s.entries().iter().map(|e| v.class_name(e.class)).collect();
            let at = match s.entries().last() {
                Some(top) => HeldLock { site: SiteRef::Static(site), trace: None, ..*top },
                None => probe(0, ClassId(0), Mode::Write, site),
            };
            let name = name.to_string();
            v.assertion_failed(s, &global::thread_name, &at, &name, Some(classes), &|held| {
                format!("{}{name:?} is false (held: [{held}])", crate::report::PREDICATE_MESSAGE)
            })
        });
        raise(reports.unwrap_or_default());
        false
    }
    #[cfg(feature = "off")]
    {
        let _ = (name, f, site);
        true
    }
}

/// Adds `rule` to the process-wide validator.
pub(crate) fn add_rule(rule: Rule) -> Result<(), RuleError> {
    #[cfg(not(feature = "off"))]
    {
        global::validator().add_rule(rule)
    }
    #[cfg(feature = "off")]
    {
        let _ = rule;
        Ok(())
    }
}

/// Declares a lock order in the process-wide validator.
pub(crate) fn add_order(chain: &[&str]) -> Result<(), RuleError> {
    #[cfg(not(feature = "off"))]
    {
        global::validator().add_order(chain)
    }
    #[cfg(feature = "off")]
    {
        let _ = chain;
        Ok(())
    }
}

/// Reports (and forgets) the locks this thread still holds, as `held_at_exit`; never panics.
pub(crate) fn check_held_at_exit() {
    #[cfg(not(feature = "off"))]
    {
        sink::emit(global::validator(), &global::held_at_exit());
    }
}

/// Number of locks this thread holds, as the validator sees them (0 when compiled out).
pub(crate) fn held_count() -> usize {
    #[cfg(not(feature = "off"))]
    {
        global::held_count()
    }
    #[cfg(feature = "off")]
    {
        0
    }
}

/// Every report the process-wide validator has produced so far (none when compiled out).
pub(crate) fn reports() -> Vec<Report> {
    #[cfg(not(feature = "off"))]
    {
        global::validator().reports()
    }
    #[cfg(feature = "off")]
    {
        Vec::new()
    }
}

/// Writes the process's report file now; an error when compiled out (no file is written).
pub(crate) fn write_report_file() -> std::io::Result<std::path::PathBuf> {
    #[cfg(not(feature = "off"))]
    {
        sink::write_report_file(global::validator())
    }
    #[cfg(feature = "off")]
    {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "lockdep is compiled out (the `off` feature): no report file",
        ))
    }
}

/// Where this process writes its report file.
pub(crate) fn report_path() -> std::path::PathBuf {
    #[cfg(not(feature = "off"))]
    {
        sink::report_path()
    }
    #[cfg(feature = "off")]
    {
        crate::config::report_dir()
    }
}

/// Whether acquisitions are being validated (false when compiled out).
pub(crate) fn tracing() -> bool {
    #[cfg(not(feature = "off"))]
    {
        validating()
    }
    #[cfg(feature = "off")]
    {
        false
    }
}

/// This thread's name as reports give it.
pub(crate) fn thread_name() -> String {
    #[cfg(not(feature = "off"))]
    {
        global::thread_name().to_string()
    }
    #[cfg(feature = "off")]
    {
        String::new()
    }
}

/// Writes a test's report file at `path`: the process's graph with `reports`.
pub(crate) fn write_test_report(
    path: &std::path::Path,
    name: &str,
    reports: &[Report],
) -> std::io::Result<()> {
    #[cfg(not(feature = "off"))]
    {
        sink::write_test_report(global::validator(), path, name, reports)
    }
    #[cfg(feature = "off")]
    {
        let _ = (path, name, reports);
        Ok(())
    }
}

// ---- Waits on events (validator/events.rs): condvars, channels, thread exits. ----

/// An event's class as a participant stores it (a condition variable's, a channel's): its
/// construction site. Zero-sized with the `off` feature.
pub(crate) struct EventClass {
    #[cfg(not(feature = "off"))]
    class: ClassRef,
}

/// A resolved event class, to copy into the halves of a channel or a join handle.
/// Zero-sized with the `off` feature.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EventId {
    #[cfg(not(feature = "off"))]
    id: ClassId,
}

impl EventClass {
    /// The event class of a participant built at the caller's location.
    #[track_caller]
    pub(crate) const fn at_caller() -> EventClass {
        #[cfg(not(feature = "off"))]
        {
            EventClass { class: ClassRef::event_at_caller(WaitKind::Sleeping) }
        }
        #[cfg(feature = "off")]
        {
            EventClass {}
        }
    }

    /// The class in the process-wide validator (registered on first use).
    #[inline]
    pub(crate) fn id(&self) -> EventId {
        #[cfg(not(feature = "off"))]
        {
            EventId { id: self.class.resolve(global::register_event) }
        }
        #[cfg(feature = "off")]
        {
            EventId {}
        }
    }
}

/// The event class of a participant built at `site`, resolved now (for participants made by
/// a function, such as `channel()`).
pub(crate) fn event_at(site: Site) -> EventId {
    #[cfg(not(feature = "off"))]
    {
        let desc = crate::class::ClassDesc {
            name: crate::class::site_class_name(site),
            site: Some(crate::class::site_of(site)),
            wait: WaitKind::Sleeping,
            strict: false,
        };
        EventId { id: global::register_event(desc) }
    }
    #[cfg(feature = "off")]
    {
        let _ = site;
        EventId {}
    }
}

/// The outcome of a validated wait: its reports emitted, and `Err` (the caller puts its
/// state back, then raises) when `refuse` (panic mode) and there are any.
#[cfg(not(feature = "off"))]
fn waited(reports: Vec<Report>, refuse: bool) -> Result<(), Refused> {
    if reports.is_empty() {
        return Ok(());
    }
    sink::emit(global::validator(), &reports);
    refusal(refuse, reports).map_or(Ok(()), Err)
}

/// The event class `what(file:line:col)` of a participant made at `site` (a bounded
/// channel's free space, `space(...)`, beside its messages' class at `site` itself).
pub(crate) fn event_named(what: &str, site: Site) -> EventId {
    #[cfg(not(feature = "off"))]
    {
        let desc = crate::class::ClassDesc {
            name: format!("{what}({}:{}:{})", site.file(), site.line(), site.column()),
            site: Some(crate::class::site_of(site)),
            wait: WaitKind::Sleeping,
            strict: false,
        };
        EventId { id: global::register_event(desc) }
    }
    #[cfg(feature = "off")]
    {
        let _ = (what, site);
        EventId {}
    }
}

/// A (potentially) blocking wait for `event` at `site`, reported before the caller blocks
/// (after it released, in the held stack, what the wait releases). `Err` in panic mode when
/// it closes a cycle: the caller puts its state back, then raises.
#[inline]
pub(crate) fn event_wait(event: EventId, site: Site) -> Result<(), Refused> {
    #[cfg(not(feature = "off"))]
    {
        if !validating() {
            return Ok(());
        }
        let refuse = sink::panics_now();
        let reports = global::wait_event(event.id, SiteRef::Static(site), refuse);
        waited(reports, refuse)
    }
    #[cfg(feature = "off")]
    {
        let _ = (event, site);
        Ok(())
    }
}

/// A signal of `event` at `site` (a notify, a send); panics at the caller in panic mode when
/// it closes a cycle.
#[inline]
#[track_caller]
pub(crate) fn event_signal(event: EventId, site: Site) {
    #[cfg(not(feature = "off"))]
    {
        if validating() {
            raise(global::signal_event(event.id, SiteRef::Static(site)));
        }
    }
    #[cfg(feature = "off")]
    {
        let _ = (event, site);
    }
}

/// A barrier arrival at `site`: a signal of `event` (the locks taken and released since the
/// last wait), then a wait for it, reported before the caller blocks; `Err` in panic mode
/// when it closes a cycle.
pub(crate) fn event_arrive(event: EventId, site: Site) -> Result<(), Refused> {
    #[cfg(not(feature = "off"))]
    {
        if !validating() {
            return Ok(());
        }
        let refuse = sink::panics_now();
        let reports = global::arrive_event(event.id, SiteRef::Static(site), refuse);
        waited(reports, refuse)
    }
    #[cfg(feature = "off")]
    {
        let _ = (event, site);
        Ok(())
    }
}

/// A once's class (`Once`, `OnceLock`, `LazyLock`): an event node that its initialiser holds
/// like a lock (so the locks the initialiser takes get edges from it), and that every access
/// acquires and releases at once (a potential wait for the initialisation, so a lock held
/// while touching the once gets an edge to it). Zero-sized with the `off` feature.
pub(crate) struct OnceClass {
    lock: LockClass,
}

impl OnceClass {
    /// The class of a once built at the caller's location.
    #[track_caller]
    pub(crate) const fn at_caller() -> OnceClass {
        OnceClass { lock: LockClass::event_at_caller(WaitKind::Sleeping) }
    }

    /// The lock-shaped class, registered as an event node on first use.
    #[inline]
    fn resolved(&self) -> &LockClass {
        #[cfg(not(feature = "off"))]
        if self.lock.class.cached().is_none() && validating() {
            let _ = guarded(|| self.lock.class.resolve(global::register_event));
        }
        &self.lock
    }
}

/// The once's initialisation starts on this thread (or, with `init` false, an access that may
/// wait for it): validated like a blocking acquisition, panicking at the caller in panic mode
/// when it closes a cycle. Returns whether [`once_leave`] must be called.
#[track_caller]
pub(crate) fn once_enter(c: &OnceClass) -> bool {
    let class = c.resolved();
    lock(class, class.instance(), Mode::Write, 0)
}

/// The initialisation (or access) begun by [`once_enter`] is over.
pub(crate) fn once_leave(c: &OnceClass, tracked: bool) {
    if tracked {
        release(&c.lock, c.lock.instance());
    }
}

/// A thread about to be spawned at `site` as a participant: its exit event and its parent.
/// Zero-sized with the `off` feature.
pub(crate) struct Spawning {
    #[cfg(not(feature = "off"))]
    parent: std::sync::Arc<str>,
    #[cfg(not(feature = "off"))]
    site: Site,
    exit: EventId,
}

impl Spawning {
    /// The spawned thread's exit event (what a join waits for).
    pub(crate) fn exit(&self) -> EventId {
        self.exit
    }
}

/// Called by the parent before it spawns a thread at `site`.
pub(crate) fn spawning(site: Site) -> Spawning {
    #[cfg(not(feature = "off"))]
    {
        let desc = crate::class::ClassDesc {
            name: format!("exit({}:{}:{})", site.file(), site.line(), site.column()),
            site: Some(crate::class::site_of(site)),
            wait: WaitKind::Sleeping,
            strict: false,
        };
        let exit = EventId { id: global::register_event(desc) };
        // The parent as a trace names it (the spawn is recorded on the child thread).
        let parent = crate::recorder::trace_name(&std::thread::current());
        Spawning { parent: parent.into(), site, exit }
    }
    #[cfg(feature = "off")]
    {
        let _ = site;
        Spawning { exit: EventId {} }
    }
}

/// Called first thing on the spawned thread: its every acquisition and wait is now something
/// its exit (and so a join) waits for.
pub(crate) fn thread_start(s: &Spawning) {
    #[cfg(not(feature = "off"))]
    {
        if validating() {
            global::thread_start(s.exit.id, &s.parent, SiteRef::Static(s.site));
        }
    }
    #[cfg(feature = "off")]
    {
        let _ = s;
    }
}

/// A join of the thread `child` whose exit is `exit`: a wait, reported before the caller
/// blocks; `Err` in panic mode when it closes a cycle.
pub(crate) fn thread_join(
    exit: EventId,
    child: &std::thread::Thread,
    site: Site,
) -> Result<(), Refused> {
    #[cfg(not(feature = "off"))]
    {
        if !validating() {
            return Ok(());
        }
        let refuse = sink::panics_now();
        let name = crate::recorder::trace_name(child);
        let reports = global::join(exit.id, &name, SiteRef::Static(site), refuse);
        waited(reports, refuse)
    }
    #[cfg(feature = "off")]
    {
        let _ = (exit, child, site);
        Ok(())
    }
}

// ---- Async tasks (task.rs) and async locks (`lockdep_core::tokio::sync`). ----

/// A task's own held-lock stack, swapped in as the thread's stack while the task is polled.
/// Zero-sized with the `off` feature.
pub(crate) struct TaskStack {
    #[cfg(not(feature = "off"))]
    stack: Box<crate::held::HeldStack>,
    #[cfg(not(feature = "off"))]
    site: Site,
    /// The task's name in the trace (`None` when not recording); while the task is polled, the
    /// thread's previous one.
    #[cfg(not(feature = "off"))]
    trace_name: Option<String>,
}

impl TaskStack {
    /// An empty stack for a task made at the caller's location.
    #[track_caller]
    pub(crate) fn new() -> TaskStack {
        #[cfg(not(feature = "off"))]
        {
            let site = Location::caller();
            TaskStack {
                stack: Box::new(crate::held::HeldStack::new()),
                site,
                trace_name: global::trace_task_name(SiteRef::Static(site)),
            }
        }
        #[cfg(feature = "off")]
        {
            TaskStack {}
        }
    }
}

/// Swaps `task`'s stack in as this thread's (entering a poll, or the drop of the task's
/// future). Returns whether it did: pass that to [`task_leave`].
#[inline]
pub(crate) fn task_enter(task: &mut TaskStack) -> bool {
    #[cfg(not(feature = "off"))]
    {
        let entered = global::swap_stack(&mut task.stack);
        if entered && crate::recorder::enabled() {
            global::swap_trace_task(&mut task.trace_name);
        }
        entered
    }
    #[cfg(feature = "off")]
    {
        let _ = task;
        false
    }
}

/// Swaps the thread's own stack back after [`task_enter`] returned `entered`.
#[inline]
pub(crate) fn task_leave(task: &mut TaskStack, entered: bool) {
    #[cfg(not(feature = "off"))]
    if entered {
        global::swap_stack(&mut task.stack);
        if crate::recorder::enabled() {
            global::swap_trace_task(&mut task.trace_name);
        }
    }
    #[cfg(feature = "off")]
    {
        let _ = (task, entered);
    }
}

/// The task returned `Poll::Pending` (after [`task_leave`]): every blocking lock its stack
/// still holds is a `held_across_await` report.
#[track_caller]
pub(crate) fn task_pending(task: &TaskStack, awaited: Option<&AwaitTrace>) {
    #[cfg(not(feature = "off"))]
    {
        if task.stack.len() == 0 || !validating() {
            return;
        }
        let site = SiteRef::Static(task.site);
        // Recorded as the task's event: its name is the trace thread while the check runs.
        let mut name = task.trace_name.clone();
        let named = name.is_some();
        if named {
            global::swap_trace_task(&mut name);
        }
        #[cfg(not(feature = "off"))]
        let awaited = awaited.map(|a| &*a.0);
        let reports = guarded(|| global::task_yielded(&task.stack, site, awaited));
        if named {
            global::swap_trace_task(&mut name);
        }
        if let Some(reports) = reports {
            raise(reports);
        }
    }
    #[cfg(feature = "off")]
    {
        let _ = (task, awaited);
    }
}

/// The stack of a waker clone made by a task while it held a blocking lock: where it is
/// about to yield (`task.rs`'s waker probe). Empty with the `off` feature.
pub(crate) struct AwaitTrace(#[cfg(not(feature = "off"))] std::sync::Arc<crate::stacks::Trace>);

/// Called when the polled task clones its waker (a leaf future registering it, before it
/// returns `Pending`): the stack, if the task holds a blocking lock now.
#[inline]
pub(crate) fn waker_cloned() -> Option<AwaitTrace> {
    #[cfg(not(feature = "off"))]
    {
        if !validating() || !global::holds_blocking() {
            return None;
        }
        guarded(crate::stacks::Trace::capture).map(AwaitTrace)
    }
    #[cfg(feature = "off")]
    {
        None
    }
}

/// An async lock's class: a [`LockClass`] that, on its first acquisition, marks its class as
/// async (held across an `.await` without a report). Zero-sized with the `off` feature.
#[cfg(feature = "tokio")]
pub(crate) struct AsyncClass {
    class: LockClass,
    #[cfg(not(feature = "off"))]
    marked: std::sync::atomic::AtomicBool,
}

#[cfg(feature = "tokio")]
impl AsyncClass {
    /// The class of an async lock built at the caller's location.
    #[track_caller]
    pub(crate) const fn at_caller() -> AsyncClass {
        AsyncClass {
            class: LockClass::at_caller(WaitKind::Sleeping),
            #[cfg(not(feature = "off"))]
            marked: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The lock's class, for the other hooks.
    #[inline]
    pub(crate) fn class(&self) -> &LockClass {
        &self.class
    }
}

/// An acquisition of an async lock at `site`, called before the task waits for it (or just
/// after a try succeeded): [`acquire`] after marking the class async.
#[cfg(feature = "tokio")]
#[inline]
pub(crate) fn acquire_async(
    c: &AsyncClass,
    mode: Mode,
    trylock: bool,
    site: Site,
) -> Result<bool, Refused> {
    #[cfg(not(feature = "off"))]
    {
        use std::sync::atomic::Ordering;
        if !c.marked.load(Ordering::Relaxed) && validating() {
            if let Some(id) = guarded(|| c.class.id()) {
                global::mark_async(id);
                c.marked.store(true, Ordering::Relaxed);
            }
        }
    }
    acquire(&c.class, c.class.instance(), mode, 0, trylock, site)
}
