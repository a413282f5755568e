//! The validator: checks each acquisition, release and downgrade against the graph and
//! produces reports.
//!
//! A [`Validator`] is an instance: the process-wide one behind the lock types lives in
//! `global`, and trace replay (and tests) create private ones. Held-lock stacks are passed
//! in by the caller, so the same code serves thread-locals and replayed threads.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::fork_safe::{ForkSafeGuard as MutexGuard, ForkSafeMutex as Mutex};

use crate::chain_cache::ChainCache;
use crate::class::{ClassDesc, ClassId};
use crate::graph::{Graph, PathStep, Witness, WitnessAcq};
use crate::held::{chain_key, HeldLock, HeldStack};
use crate::report::{self, verb, Acquisition, ChainLink, Document, Kind, Report, Step};
use crate::rule_engine::{Held, Rule, RuleError, Rules};
use crate::stacks::{self, Capture, Trace, TraceStore};
use crate::vocab::DepType;
use crate::vocab::SiteRef;
use crate::vocab::{Mode, NodeKind, Site};

mod events;
mod explain;
pub(crate) mod instances;
mod tasks;
use explain::rule_scenario;

/// One acquisition request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AcquireReq {
    pub instance: usize,
    pub class: ClassId,
    pub subclass: u32,
    pub mode: Mode,
    pub trylock: bool,
    pub site: SiteRef,
    /// A lock instance that must be held; acquisitions under it add no edges.
    pub nest_lock: Option<usize>,
}

pub(crate) struct State {
    pub graph: Graph,
    traces: TraceStore,
    sites: Vec<Site>,
    site_ids: HashMap<Site, u32>,
    seen: HashSet<String>,
    pub reports: Vec<Report>,
    rules: Rules,
    /// The same-class setting and the order learnt among locks of classes that nest
    /// themselves.
    instances: instances::Instances,
    /// Set for the duration of a refusing acquisition (panic mode): every problem found is
    /// returned, even one reported before, and nothing of it is learnt (no cached chain, no
    /// cycle-closing edge), so every later occurrence is refused too.
    refusing: bool,
    /// Stacks that reports built in this locked section need, still unresolved: a report's
    /// stack holds a placeholder frame naming its index here until [`Validator::settle`]
    /// symbolises them outside the lock.
    pending: Vec<Arc<Trace>>,
    /// Positions (in the caller's output) of the new reports of this locked section, stored
    /// into `reports` by [`Validator::settle`] once their stacks are resolved.
    fresh: Vec<usize>,
    /// Problems found so far (each [`Validator::keep`], new or not): an acquisition that
    /// found none may be memoised as a seen same-class nesting.
    problems: u64,
}

/// A lock-dependency validator: a class graph, a chain cache and the reports found so far.
pub struct Validator {
    cache: ChainCache,
    state: Mutex<State>,
    capture: Capture,
    /// Set for good once the trace store reached its limit: no stack is captured since.
    stacks_full: std::sync::atomic::AtomicBool,
}

/// Who is acting: the thread's name, computed only on slow paths.
pub(crate) type ThreadName<'a> = &'a dyn Fn() -> Arc<str>;

impl Validator {
    /// A validator with an empty graph, of its own (tests and tools can own one; the lock
    /// types use the process-wide instance). `capture` says when backtraces are captured
    /// (never for replay, where there is no real stack).
    ///
    /// ```
    /// use lockdep_core::{Backtrace, Validator};
    ///
    /// let v = Validator::new(Backtrace::Off);
    /// v.add_order(&["outer", "inner"]).unwrap();
    /// assert!(v.reports().is_empty());
    /// ```
    pub fn new(capture: crate::config::Backtrace) -> Validator {
        Validator {
            cache: ChainCache::new(),
            state: Mutex::new(State {
                graph: Graph::default(),
                traces: TraceStore::default(),
                sites: Vec::new(),
                site_ids: HashMap::new(),
                seen: HashSet::new(),
                reports: Vec::new(),
                rules: Rules::default(),
                instances: instances::Instances::default(),
                refusing: false,
                pending: Vec::new(),
                fresh: Vec::new(),
                problems: 0,
            }),
            capture,
            stacks_full: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Keeps at most `limit` captured stacks ([`Config::max_stacks`](crate::Config::max_stacks);
    /// unlimited by default).
    pub(crate) fn set_max_stacks(&self, limit: usize) {
        self.lock_state().traces.set_limit(limit);
    }

    /// Whether a stack is captured now: capture is on and the limit was not reached.
    fn capturing(&self) -> bool {
        self.capture != Capture::Off && !self.stacks_full.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// The state lock, for `fork()` handling (`fork.rs`).
    pub(crate) fn state_lock(&self) -> &Mutex<State> {
        &self.state
    }

    pub(crate) fn register_class(&self, desc: ClassDesc) -> ClassId {
        self.lock_state().graph.register(desc)
    }

    pub(crate) fn intern_site(&self, site: Site) -> SiteRef {
        let mut st = self.lock_state();
        if let Some(&i) = st.site_ids.get(&site) {
            return SiteRef::Interned(i);
        }
        let i = st.sites.len() as u32;
        st.sites.push(site.clone());
        st.site_ids.insert(site, i);
        SiteRef::Interned(i)
    }

    /// Number of distinct validated chains.
    pub fn chains(&self) -> usize {
        self.cache.len()
    }

    /// Validates `req` against `stack` and pushes it. Returns the new reports (each distinct
    /// problem once); the entry is pushed even when a report is returned.
    #[inline]
    pub(crate) fn acquire(
        &self,
        stack: &mut HeldStack,
        thread: ThreadName<'_>,
        req: AcquireReq,
    ) -> Vec<Report> {
        self.acquire_as(stack, thread, req, false)
    }

    /// [`acquire`](Self::acquire) that, with `refuse` (panic mode), returns every problem of
    /// this acquisition, also those reported before, and learns nothing from an acquisition
    /// with problems: the caller will not take the lock, and every later occurrence is
    /// refused again. The entry is pushed either way (the caller pops a refused one).
    #[inline]
    pub(crate) fn acquire_as(
        &self,
        stack: &mut HeldStack,
        thread: ThreadName<'_>,
        req: AcquireReq,
        refuse: bool,
    ) -> Vec<Report> {
        if req.nest_lock.is_none()
            && self.capture != Capture::Always
            && (self.acquire_seen(
                stack,
                None,
                req.instance,
                req.class,
                req.subclass,
                req.mode,
                req.trylock,
                req.site,
            ) || self.acquire_seen_nesting(
                stack,
                req.instance,
                req.class,
                req.subclass,
                req.mode,
                req.trylock,
                req.site,
            ))
        {
            return Vec::new();
        }
        self.acquire_slow(stack, thread, req, refuse)
    }

    /// Fast path: pushes the acquisition if its chain was seen before and returns true. One
    /// hash, one lock-free probe (none when the lock's `last` memo holds this chain), one
    /// push: no lock, no allocation, no shared write but the lock's own memo.
    #[expect(clippy::too_many_arguments, reason = "the report needs every part of the acquisition")]
    #[inline(always)]
    pub(crate) fn acquire_seen(
        &self,
        stack: &mut HeldStack,
        last: Option<&std::sync::atomic::AtomicU64>,
        instance: usize,
        class: ClassId,
        subclass: u32,
        mode: Mode,
        trylock: bool,
        site: SiteRef,
    ) -> bool {
        let key = chain_key(stack.top_key(), class, subclass, mode, trylock, false);
        let seen = match last {
            Some(last) => self.cache.contains_memo(key, last),
            None => self.cache.contains(key),
        };
        // A full stack fails the push: the slow path reports it.
        seen && stack.try_push(HeldLock::seen(instance, class, subclass, mode, trylock, site, key))
    }

    /// The fast path of a same-class nesting judged by instances (a chain the cache never
    /// holds): pushes the acquisition if this stack's nesting memo says the validator learnt
    /// this chain with these instances in the cache's current epoch, and returns true. No
    /// lock, no allocation, no backtrace; a scan of the held stack.
    #[expect(clippy::too_many_arguments, reason = "the report needs every part of the acquisition")]
    #[inline]
    pub(crate) fn acquire_seen_nesting(
        &self,
        stack: &mut HeldStack,
        instance: usize,
        class: ClassId,
        subclass: u32,
        mode: Mode,
        trylock: bool,
        site: SiteRef,
    ) -> bool {
        if trylock || self.capture == Capture::Always {
            return false;
        }
        let key = chain_key(stack.top_key(), class, subclass, mode, trylock, false);
        let epoch = self.cache.epoch();
        match stack.nesting_key(key, class, subclass, instance) {
            Some(nkey) if stack.nesting_seen(nkey, epoch) => {
                stack.try_push(HeldLock::seen(instance, class, subclass, mode, trylock, site, key))
            }
            _ => false,
        }
    }

    /// [`acquire`](Self::acquire) for a chain not (yet) in the cache, a nested acquisition or
    /// a full stack.
    #[cold]
    #[inline(never)]
    fn acquire_slow(
        &self,
        stack: &mut HeldStack,
        thread: ThreadName<'_>,
        req: AcquireReq,
        refuse: bool,
    ) -> Vec<Report> {
        let mut reports = Vec::new();
        if stack.is_full() {
            let mut st = self.lock_state();
            st.refusing = refuse;
            let r = self.violation(
                &mut st,
                stack,
                thread,
                &req,
                "max_lock_depth",
                format!(
                    "more than {} locks held at once; deeper acquisitions are not tracked",
                    crate::held::MAX_DEPTH
                ),
            );
            self.keep(&mut st, r, &mut reports);
            st.refusing = false;
            self.settle(st, &mut reports);
            return reports;
        }
        let mut nested = false;
        if let Some(n) = req.nest_lock {
            if stack.find(n).is_some() {
                nested = true;
            } else {
                let mut st = self.lock_state();
                st.refusing = refuse;
                let r = self.violation(
                    &mut st,
                    stack,
                    thread,
                    &req,
                    "nest_lock_not_held",
                    "a nested acquisition names a nest lock that this thread does not hold".into(),
                );
                self.keep(&mut st, r, &mut reports);
                st.refusing = false;
                self.settle(st, &mut reports);
            }
        }
        let key =
            chain_key(stack.top_key(), req.class, req.subclass, req.mode, req.trylock, nested);
        let mut entry = HeldLock {
            instance: req.instance,
            class: req.class,
            subclass: req.subclass,
            mode: req.mode,
            trylock: req.trylock,
            nested,
            site: req.site,
            trace: None,
            chain_key: key,
        };
        if self.cache.contains(key) && self.capture != Capture::Always {
            stack.push(entry);
            return reports;
        }
        let trace = self.capturing().then(Trace::capture);
        let mut st = self.lock_state();
        st.refusing = refuse;
        let mut limit_reached = None;
        if let Some(t) = trace {
            entry.trace = Some(st.traces.insert(t));
            if st.traces.full()
                && !self.stacks_full.swap(true, std::sync::atomic::Ordering::Relaxed)
            {
                limit_reached = Some(st.traces.limit());
            }
        }
        if !self.cache.contains(key) {
            let before = reports.len();
            let problems = st.problems;
            if !req.trylock && !nested {
                self.check_new(&mut st, stack, thread, &entry, &mut reports);
            }
            if !st.rules.is_empty() {
                self.check_rules(&mut st, stack, thread, &entry, &mut reports);
            }
            let by_instances = Self::nests_instances(&st, stack, &entry);
            if by_instances && entry.trace.is_some() {
                // Never cached, so taken again and again: keep its stack only if an edge
                // needs it.
                st.traces.release(entry.trace);
                if st.traces.get(entry.trace).is_none() {
                    entry.trace = None;
                }
            }
            let learnt = !(refuse && reports.len() > before);
            if learnt && !by_instances {
                self.cache.insert(key);
            } else if by_instances && st.problems == problems {
                // No problem, and every edge of this nesting is known now: the same chain
                // with the same instances, in this epoch, finds nothing and adds nothing
                // (`acquire_seen_nesting`). (A nesting that found a problem, even one
                // reported before, is not memoised: refused in panic mode, it must be
                // refused again.)
                if let Some(nkey) =
                    stack.nesting_key(key, entry.class, entry.subclass, entry.instance)
                {
                    stack.note_nesting(nkey, self.cache.epoch());
                }
            }
        }
        st.refusing = false;
        self.settle(st, &mut reports);
        stack.push(entry);
        if let Some(limit) = limit_reached {
            // Said once, with no lock of ours held.
            eprintln!("{}", stacks::limit_notice(limit));
        }
        reports
    }

    fn check_new(
        &self,
        st: &mut State,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        new: &HeldLock,
        reports: &mut Vec<Report>,
    ) {
        let new_node = st.graph.node(new.class, new.subclass);
        // Same-class nesting: recursion, or the order of two instances (instances.rs). The
        // cycles this acquisition closes are collected, and one is reported.
        let mut cycles = Vec::new();
        self.check_same_class(st, stack, thread, new, reports, &mut cycles);
        // Wait context: a sleeping lock under a spinning one.
        let new_wait = st.graph.nodes[new_node.0 as usize].wait;
        if new_wait == report::WaitKind::Sleeping {
            if let Some(h) = stack
                .entries()
                .iter()
                .find(|h| st.graph.nodes[h.class.0 as usize].wait == report::WaitKind::Spinning)
            {
                let spin = st.graph.nodes[h.class.0 as usize].name.clone();
                let name = st.graph.nodes[new_node.0 as usize].name.clone();
                let mut r = self.base_report(st, stack, thread, Kind::InvalidWaitContext, new);
                r.message = format!(
                    "sleeping lock {name} acquired while spinning lock {spin} is held: a \
                     spinning holder must never wait for a lock that may sleep"
                );
                r.rule = Some("sleeping_under_spinning".into());
                r.scenario = vec![
                    Step { thread: "T0".into(), action: format!("spin_lock({spin})") },
                    Step {
                        thread: "T1".into(),
                        action: format!("spin_lock({spin})  <- spins, waiting for T0"),
                    },
                    Step {
                        thread: "T0".into(),
                        action: format!(
                            "{}({name})  <- may sleep while T1 spins; if {name}'s holder needs \
                             T1's CPU or {spin}, nothing progresses",
                            verb(new.mode)
                        ),
                    },
                ];
                r.classes = vec![spin, name];
                self.keep(st, r, reports);
            }
        }
        // Edges from every held lock, each checked for a strong cycle.
        for h in stack.entries() {
            let from = st.graph.node(h.class, h.subclass);
            if from == new_node {
                continue;
            }
            let t = DepType::of(h.mode, new.mode);
            if let Some(e) = st.graph.edge_between(from, new_node) {
                if st.graph.edges[e as usize].types.contains(t) {
                    continue;
                }
            }
            if let Some(path) = st.graph.strong_path(new_node, from, t) {
                let r = self.cycle_report(st, stack, thread, h, new, t, &path);
                cycles.push(r);
                if st.refusing {
                    continue;
                }
            }
            let witness = || Witness {
                thread: thread(),
                from: WitnessAcq { mode: h.mode, trylock: h.trylock, site: h.site, trace: h.trace },
                to: WitnessAcq {
                    mode: new.mode,
                    trylock: new.trylock,
                    site: new.site,
                    trace: new.trace,
                },
            };
            if st.graph.edge_between(from, new_node).is_none() {
                st.traces.pin(h.trace);
                st.traces.pin(new.trace);
            }
            st.graph.add(from, new_node, t, witness);
        }
        self.keep_one_cycle(st, cycles, reports);
        // A spawned thread's exit waits for every lock it takes (validator/events.rs).
        self.base_edge(st, stack, thread, new, reports);
    }

    fn check_rules(
        &self,
        st: &mut State,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        new: &HeldLock,
        reports: &mut Vec<Report>,
    ) {
        let names: Vec<String> = st.graph.nodes.iter().map(|n| n.name.clone()).collect();
        let name_of = |c: ClassId| names[c.0 as usize].clone();
        let held = Held { entries: stack.entries(), names: &name_of };
        let violations = st.rules.check(&held, &names[new.class.0 as usize], new, &name_of);
        for v in violations {
            let mut r = self.base_report(st, stack, thread, Kind::ClassViolation, new);
            r.scenario = rule_scenario(&v, &r);
            r.rule = Some(v.rule);
            r.classes = v.classes;
            r.message = v.message;
            self.keep(st, r, reports);
        }
    }

    /// Adds a lock-class rule to this validator.
    pub fn add_rule(&self, rule: Rule) -> Result<(), RuleError> {
        let mut st = self.lock_state();
        st.rules.add(rule)?;
        self.cache.clear();
        Ok(())
    }

    /// Declares a lock order (`chain[0]` before `chain[1]` before ...) in this validator.
    pub fn add_order(&self, chain: &[&str]) -> Result<(), RuleError> {
        let mut st = self.lock_state();
        st.rules.add_order(chain)?;
        self.cache.clear();
        Ok(())
    }

    /// Reports a failed held-lock assertion or lock-state predicate as a `class_violation`.
    pub(crate) fn assertion_failed(
        &self,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        at: &HeldLock,
        rule: &str,
        classes: Option<Vec<String>>,
        message: &dyn Fn(&str) -> String,
    ) -> Vec<Report> {
        let mut st = self.lock_state();
        let mut r = self.base_report(&mut st, stack, thread, Kind::ClassViolation, at);
        r.rule = Some(rule.to_string());
        if let Some(c) = classes {
            r.classes = c;
        }
        r.message = message(&r.classes.join(", "));
        r.scenario = r
            .held
            .iter()
            .map(|h| Step {
                thread: r.thread.clone(),
                action: format!("{}({})", verb(h.mode), h.class),
            })
            .chain(std::iter::once(Step {
                thread: r.thread.clone(),
                action: format!("{rule}(...)  <- fails: {}", r.message),
            }))
            .collect();
        let mut out = Vec::new();
        self.keep(&mut st, r, &mut out);
        self.settle(st, &mut out);
        out
    }

    /// Whether any class was registered (the process used a tracked lock).
    pub(crate) fn has_classes(&self) -> bool {
        !self.lock_state().graph.nodes.is_empty()
    }

    /// Number of graph nodes (classes, subclass nodes and event nodes).
    pub(crate) fn class_count(&self) -> usize {
        self.lock_state().graph.nodes.len()
    }

    /// Reports that a capacity limit of this validator was reached (rule `rule`), at the
    /// acquisition `req`; each rule once.
    pub(crate) fn limit_reached(
        &self,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        req: &AcquireReq,
        rule: &str,
        message: String,
    ) -> Vec<Report> {
        let mut st = self.lock_state();
        let r = self.violation(&mut st, stack, thread, req, rule, message);
        let mut out = Vec::new();
        self.keep(&mut st, r, &mut out);
        self.settle(st, &mut out);
        out
    }

    /// Whether waiters of class `id` spin or sleep.
    pub(crate) fn class_wait(&self, id: ClassId) -> crate::vocab::WaitKind {
        self.lock_state().graph.nodes[id.0 as usize].wait
    }

    /// The class name of `id`.
    pub(crate) fn class_name(&self, id: ClassId) -> String {
        self.lock_state().graph.name(id).to_string()
    }

    /// Records `r` unless an equal problem (same fingerprint) was reported before.
    /// Adds `r` to `out` unless an equal problem (same fingerprint) was reported before (a
    /// refusing acquisition gets it anyway). New reports are stored by [`settle`](Self::settle).
    fn keep(&self, st: &mut State, mut r: Report, out: &mut Vec<Report>) {
        st.problems += 1;
        if self.stacks_full.load(std::sync::atomic::Ordering::Relaxed) {
            r.message.push_str(&stacks::limit_note(st.traces.limit()));
        }
        if st.seen.insert(r.fingerprint()) {
            st.fresh.push(out.len());
            out.push(r);
        } else if st.refusing {
            out.push(r);
        }
    }

    /// Ends a locked section that may have built reports into `out`: symbolises their pending
    /// stacks with the lock released (so no other thread's new chain waits behind it), then
    /// stores the new reports.
    fn settle<'a>(&'a self, mut st: MutexGuard<'a, State>, out: &mut [Report]) {
        let pending = std::mem::take(&mut st.pending);
        let fresh = std::mem::take(&mut st.fresh);
        if fresh.is_empty() && pending.is_empty() {
            return;
        }
        if !pending.is_empty() {
            drop(st);
            for r in out.iter_mut() {
                explain::fill_stacks(r, &pending);
            }
            st = self.lock_state();
        }
        for i in fresh {
            st.reports.push(out[i].clone());
        }
    }

    #[inline]
    pub(crate) fn release(
        &self,
        stack: &mut HeldStack,
        thread: ThreadName<'_>,
        instance: usize,
        class: ClassId,
        site: SiteRef,
    ) -> Vec<Report> {
        if let Some(i) = stack.find(instance) {
            let e = stack.remove(i);
            // Only an entry pushed by the slow path (a new chain) has a stack: free it unless
            // an edge pinned it while the lock was held, so kept stacks stay bounded by the
            // edges (a new chain per acquisition, such as a fresh class each time, would
            // otherwise keep one stack each until the limit).
            if e.trace.is_some() {
                self.lock_state().traces.release(e.trace);
            }
            return Vec::new();
        }
        self.bad_unlock(stack, thread, class, site)
    }

    #[cold]
    #[inline(never)]
    fn bad_unlock(
        &self,
        stack: &mut HeldStack,
        thread: ThreadName<'_>,
        class: ClassId,
        site: SiteRef,
    ) -> Vec<Report> {
        let probe = self.probe(class, Mode::Write, site);
        self.report_once(stack, thread, Kind::BadUnlock, &probe, |r| {
            format!(
                "thread '{}' releases a lock of class {} that it does not hold \
                 (never acquired, already released, or acquired by another thread)",
                r.thread, r.classes[0]
            )
        })
    }

    pub(crate) fn downgrade(
        &self,
        stack: &mut HeldStack,
        thread: ThreadName<'_>,
        instance: usize,
        class: ClassId,
        site: SiteRef,
    ) -> Vec<Report> {
        let held = stack.find(instance);
        if let Some(i) = held {
            if stack.entries()[i].mode == Mode::Write {
                stack.get_mut(i).mode = Mode::Downgraded;
                stack.rekey_from(i);
                return Vec::new();
            }
        }
        let probe = self.probe(class, Mode::Downgraded, site);
        let held_mode = held.map(|i| stack.entries()[i].mode);
        self.report_once(stack, thread, Kind::BadDowngrade, &probe, |r| match held_mode {
            Some(m) => {
                format!(
                    "downgrade of {}, which this thread holds for {m}, not for write",
                    r.classes[0]
                )
            }
            None => format!("downgrade of {}, which this thread does not hold", r.classes[0]),
        })
    }

    /// A lock instance is freed: reports `lock_freed_while_held` if `stack` holds it. The
    /// entry stays, so the holder's own release later is not reported again as `bad_unlock`.
    pub(crate) fn free(
        &self,
        stack: &mut HeldStack,
        thread: ThreadName<'_>,
        instance: usize,
        site: SiteRef,
    ) -> Vec<Report> {
        self.forget_instance(instance);
        let Some(i) = stack.find(instance) else { return Vec::new() };
        let probe = HeldLock { site, ..stack.entries()[i] };
        // The holder keeps its entry: its own release later is not a second problem.
        self.report_once(stack, thread, Kind::LockFreedWhileHeld, &probe, |r| {
            format!("lock of class {} freed while thread '{}' holds it", r.classes[0], r.thread)
        })
    }

    /// Reports every lock still held by an exiting thread.
    pub(crate) fn held_at_exit(
        &self,
        stack: &mut HeldStack,
        thread: ThreadName<'_>,
    ) -> Vec<Report> {
        if stack.len() == 0 {
            return Vec::new();
        }
        let top = stack.entries()[stack.len() - 1];
        let out = self.report_once(stack, thread, Kind::HeldAtExit, &top, |r| {
            format!("thread '{}' exits holding {} lock(s)", r.thread, r.held.len())
        });
        let mut st = self.lock_state();
        for e in stack.entries() {
            st.traces.release(e.trace);
        }
        drop(st);
        stack.clear();
        out
    }

    /// Builds a report of `kind` at `at`, explained by `message`, and keeps it unless the same
    /// problem was reported before. A `held_at_exit` report names every held class.
    fn report_once(
        &self,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        kind: Kind,
        at: &HeldLock,
        message: impl FnOnce(&Report) -> String,
    ) -> Vec<Report> {
        let mut st = self.lock_state();
        let mut r = self.base_report(&mut st, stack, thread, kind, at);
        if kind == Kind::HeldAtExit {
            r.classes = r.held.iter().map(|a| a.class.clone()).collect();
        }
        r.message = message(&r);
        let mut out = Vec::new();
        self.keep(&mut st, r, &mut out);
        self.settle(st, &mut out);
        out
    }

    fn probe(&self, class: ClassId, mode: Mode, site: SiteRef) -> HeldLock {
        HeldLock {
            instance: 0,
            class,
            subclass: 0,
            mode,
            trylock: false,
            nested: false,
            site,
            trace: None,
            chain_key: 0,
        }
    }
}
