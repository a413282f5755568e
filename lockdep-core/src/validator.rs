//! The validator: checks each acquisition, release and downgrade against the graph and
//! produces reports.
//!
//! A [`Validator`] is an instance: the process-wide one behind the lock types lives in
//! `global`, and trace replay (and tests) create private ones. Held-lock stacks are passed
//! in by the caller, so the same code serves thread-locals and replayed threads.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::chain_cache::ChainCache;
use crate::class::{ClassDesc, ClassId};
use crate::graph::{dep_type, type_names, Graph, PathStep, Witness, WitnessAcq};
use crate::held::{chain_key, HeldLock, HeldStack, SiteRef};
use crate::report::{self, verb, Acquisition, ChainLink, Document, Kind, Mode, Report, Site, Step};
use crate::rules::{Held, Rule, RuleError, Rules};
use crate::witness::{self, Trace};

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
    traces: Vec<Trace>,
    sites: Vec<Site>,
    site_ids: HashMap<Site, u32>,
    seen: HashSet<String>,
    pub reports: Vec<Report>,
    rules: Rules,
}

/// A lock-dependency validator: a class graph, a chain cache and the reports found so far.
pub struct Validator {
    cache: ChainCache,
    state: Mutex<State>,
    capture_traces: bool,
}

/// Who is acting: the thread's name, computed only on slow paths.
pub(crate) type ThreadName<'a> = &'a dyn Fn() -> Arc<str>;

impl Validator {
    /// A validator with an empty graph. `capture_traces` enables backtrace capture on the
    /// slow path (off for replay, where there is no real stack).
    pub(crate) fn new(capture_traces: bool) -> Validator {
        Validator {
            cache: ChainCache::new(),
            state: Mutex::new(State {
                graph: Graph::default(),
                traces: Vec::new(),
                sites: Vec::new(),
                site_ids: HashMap::new(),
                seen: HashSet::new(),
                reports: Vec::new(),
                rules: Rules::default(),
            }),
            capture_traces,
        }
    }

    pub(crate) fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
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
        if req.nest_lock.is_none()
            && self.acquire_seen(
                stack,
                req.instance,
                req.class,
                req.subclass,
                req.mode,
                req.trylock,
                req.site,
            )
        {
            return Vec::new();
        }
        self.acquire_slow(stack, thread, req)
    }

    /// Fast path: pushes the acquisition if its chain was seen before and returns true. One
    /// hash, one lock-free probe, one push: no lock, no allocation, no shared write.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) fn acquire_seen(
        &self,
        stack: &mut HeldStack,
        instance: usize,
        class: ClassId,
        subclass: u32,
        mode: Mode,
        trylock: bool,
        site: SiteRef,
    ) -> bool {
        if stack.is_full() {
            return false;
        }
        let key = chain_key(stack.top_key(), class, subclass, mode, trylock, false);
        if !self.cache.contains(key) {
            return false;
        }
        stack.push(HeldLock {
            instance,
            class,
            subclass,
            mode,
            trylock,
            nested: false,
            site,
            trace: 0,
            chain_key: key,
        });
        true
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
    ) -> Vec<Report> {
        let mut reports = Vec::new();
        if stack.is_full() {
            let mut st = self.lock_state();
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
            return reports;
        }
        let mut nested = false;
        if let Some(n) = req.nest_lock {
            if stack.find(n).is_some() {
                nested = true;
            } else {
                let mut st = self.lock_state();
                let r = self.violation(
                    &mut st,
                    stack,
                    thread,
                    &req,
                    "nest_lock_not_held",
                    "a nested acquisition names a nest lock that this thread does not hold".into(),
                );
                self.keep(&mut st, r, &mut reports);
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
            trace: 0,
            chain_key: key,
        };
        if self.cache.contains(key) {
            stack.push(entry);
            return reports;
        }
        let trace = self.capture_traces.then(Trace::capture);
        let mut st = self.lock_state();
        if let Some(t) = trace {
            st.traces.push(t);
            entry.trace = st.traces.len() as u32;
        }
        if !self.cache.contains(key) {
            if !req.trylock && !nested {
                self.check_new(&mut st, stack, thread, &entry, &mut reports);
            }
            if !st.rules.is_empty() {
                self.check_rules(&mut st, stack, thread, &entry, &mut reports);
            }
            self.cache.insert(key);
        }
        drop(st);
        stack.push(entry);
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
        // Same-class recursion.
        for h in stack.entries() {
            if h.class == new.class && h.subclass == new.subclass {
                let exempt = new.mode == Mode::RecursiveRead && h.mode.is_shared_holder();
                if !exempt {
                    let r = self.recursive_report(st, stack, thread, h, new);
                    self.keep(st, r, reports);
                }
            }
        }
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
            let t = dep_type(h.mode, new.mode);
            if let Some(e) = st.graph.edge_between(from, new_node) {
                if st.graph.edges[e as usize].types & t != 0 {
                    continue;
                }
            }
            if let Some(path) = st.graph.strong_path(new_node, from, t) {
                let r = self.cycle_report(st, stack, thread, h, new, t, &path);
                self.keep(st, r, reports);
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
            st.graph.add(from, new_node, t, witness);
        }
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

    pub(crate) fn add_rule(&self, rule: Rule) -> Result<(), RuleError> {
        let mut st = self.lock_state();
        st.rules.add(rule)?;
        self.cache.clear();
        Ok(())
    }

    pub(crate) fn add_order(&self, chain: &[&str]) -> Result<(), RuleError> {
        let mut st = self.lock_state();
        st.rules.add_order(chain)?;
        self.cache.clear();
        Ok(())
    }

    /// Reports a failed held-lock assertion or lock-state predicate as a `class_violation`.
    #[allow(clippy::too_many_arguments)]
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
        let mut out = Vec::new();
        self.keep(&mut st, r, &mut out);
        out
    }

    /// Whether any class was registered (the process used a tracked lock).
    pub(crate) fn has_classes(&self) -> bool {
        !self.lock_state().graph.nodes.is_empty()
    }

    /// Whether waiters of class `id` spin or sleep.
    pub(crate) fn class_wait(&self, id: ClassId) -> crate::report::WaitKind {
        self.lock_state().graph.nodes[id.0 as usize].wait
    }

    /// The class name of `id`.
    pub(crate) fn class_name(&self, id: ClassId) -> String {
        self.lock_state().graph.name(id).to_string()
    }

    /// Records `r` unless an equal problem (same fingerprint) was reported before.
    fn keep(&self, st: &mut State, r: Report, out: &mut Vec<Report>) {
        if st.seen.insert(r.fingerprint()) {
            st.reports.push(r.clone());
            out.push(r);
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
            stack.remove(i);
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
        let mut st = self.lock_state();
        let probe = self.probe(class, Mode::Write, site);
        let mut r = self.base_report(&mut st, stack, thread, Kind::BadUnlock, &probe);
        let name = r.classes[0].clone();
        r.message = format!(
            "thread '{}' releases a lock of class {name} that it does not hold \
             (never acquired, already released, or acquired by another thread)",
            r.thread
        );
        let mut out = Vec::new();
        self.keep(&mut st, r, &mut out);
        out
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
        let mut st = self.lock_state();
        let probe = self.probe(class, Mode::Downgraded, site);
        let mut r = self.base_report(&mut st, stack, thread, Kind::BadDowngrade, &probe);
        let name = r.classes[0].clone();
        r.message = match held {
            Some(i) => format!(
                "downgrade of {name}, which this thread holds for {}, not for write",
                stack.entries()[i].mode
            ),
            None => format!("downgrade of {name}, which this thread does not hold"),
        };
        let mut out = Vec::new();
        self.keep(&mut st, r, &mut out);
        out
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
        let Some(i) = stack.find(instance) else { return Vec::new() };
        let held = stack.entries()[i];
        let mut st = self.lock_state();
        let mut probe = held;
        probe.site = site;
        let mut r = self.base_report(&mut st, stack, thread, Kind::LockFreedWhileHeld, &probe);
        r.message =
            format!("lock of class {} freed while thread '{}' holds it", r.classes[0], r.thread);
        let mut out = Vec::new();
        self.keep(&mut st, r, &mut out);
        // The holder keeps its entry: its own release later is not a second problem.
        out
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
        let mut st = self.lock_state();
        let top = stack.entries()[stack.len() - 1];
        let mut r = self.base_report(&mut st, stack, thread, Kind::HeldAtExit, &top);
        r.classes = r.held.iter().map(|a| a.class.clone()).collect();
        r.message = format!("thread '{}' exits holding {} lock(s)", r.thread, stack.len());
        let mut out = Vec::new();
        self.keep(&mut st, r, &mut out);
        stack.clear();
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
            trace: 0,
            chain_key: 0,
        }
    }

    // ---- report building -------------------------------------------------------------

    fn acquisition(&self, st: &mut State, e: &WitnessLike) -> Acquisition {
        let node = st.graph.node(e.class, e.subclass);
        let stack = if e.trace > 0 {
            st.traces[e.trace as usize - 1].frames().to_vec()
        } else {
            Vec::new()
        };
        Acquisition {
            class: st.graph.name(node).to_string(),
            subclass: e.subclass,
            mode: e.mode,
            trylock: e.trylock,
            site: witness::site(e.site, &st.sites),
            stack,
        }
    }

    fn base_report(
        &self,
        st: &mut State,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        kind: Kind,
        at: &HeldLock,
    ) -> Report {
        let mut acquiring = self.acquisition(st, &WitnessLike::from(at));
        if acquiring.stack.is_empty() && self.capture_traces {
            let mut t = Trace::capture();
            acquiring.stack = t.frames().to_vec();
        }
        let held =
            stack.entries().iter().map(|h| self.acquisition(st, &WitnessLike::from(h))).collect();
        Report {
            kind,
            title: kind.title().to_string(),
            message: String::new(),
            rule: None,
            classes: vec![acquiring.class.clone()],
            thread: thread().to_string(),
            acquiring: Some(acquiring),
            chain: Vec::new(),
            held,
            scenario: Vec::new(),
            reproduce: None,
        }
    }

    fn violation(
        &self,
        st: &mut State,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        req: &AcquireReq,
        rule: &str,
        message: String,
    ) -> Report {
        let probe = HeldLock {
            instance: req.instance,
            class: req.class,
            subclass: req.subclass,
            mode: req.mode,
            trylock: req.trylock,
            nested: false,
            site: req.site,
            trace: 0,
            chain_key: 0,
        };
        let mut r = self.base_report(st, stack, thread, Kind::ClassViolation, &probe);
        r.rule = Some(rule.to_string());
        r.message = message;
        r
    }

    fn recursive_report(
        &self,
        st: &mut State,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        held: &HeldLock,
        new: &HeldLock,
    ) -> Report {
        let mut r = self.base_report(st, stack, thread, Kind::RecursiveLocking, new);
        let name = r.classes[0].clone();
        let first = self.acquisition(st, &WitnessLike::from(held));
        let same_instance = held.instance == new.instance;
        r.message = format!(
            "thread '{}' acquires {name} ({}) while already holding {} of the same class ({}){}",
            r.thread,
            new.mode,
            if same_instance { "it" } else { "another lock" },
            held.mode,
            if same_instance {
                String::new()
            } else {
                "; if the nesting is deliberate, give the inner acquisition a subclass".into()
            }
        );
        r.chain.push(ChainLink {
            from: first,
            to: r.acquiring.clone().expect("set by base_report"),
            types: type_names(dep_type(held.mode, new.mode)),
            thread: r.thread.clone(),
            origin: None,
        });
        let t0 = r.thread.clone();
        let mut steps =
            vec![Step { thread: t0.clone(), action: format!("{}({name})", verb(held.mode)) }];
        if held.mode.is_shared_holder() && new.mode == Mode::Read {
            steps.push(Step {
                thread: "another thread".into(),
                action: format!("lock({name})  <- queued writer, waits for {t0}"),
            });
            steps.push(Step {
                thread: t0,
                action: format!("read_lock({name})  <- waits behind the queued writer"),
            });
        } else {
            steps.push(Step {
                thread: t0,
                action: format!("{}({name})  <- waits for itself", verb(new.mode)),
            });
        }
        r.scenario = steps;
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn cycle_report(
        &self,
        st: &mut State,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        held: &HeldLock,
        new: &HeldLock,
        t: u8,
        path: &[PathStep],
    ) -> Report {
        let mut r = self.base_report(st, stack, thread, Kind::CircularDependency, new);
        let first = ChainLink {
            from: self.acquisition(st, &WitnessLike::from(held)),
            to: r.acquiring.clone().expect("set by base_report"),
            types: type_names(t),
            thread: r.thread.clone(),
            origin: None,
        };
        let mut chain = vec![first];
        for &(e, _) in path {
            let edge = &st.graph.edges[e as usize];
            let (from, to, types, w) = (edge.from, edge.to, edge.types, edge.witness.clone());
            let (fb, fs) =
                (st.graph.nodes[from.0 as usize].base, st.graph.nodes[from.0 as usize].subclass);
            let (tb, ts) =
                (st.graph.nodes[to.0 as usize].base, st.graph.nodes[to.0 as usize].subclass);
            chain.push(ChainLink {
                from: self.acquisition(st, &WitnessLike::of(fb, fs, &w.from)),
                to: self.acquisition(st, &WitnessLike::of(tb, ts, &w.to)),
                types: type_names(types),
                thread: w.thread.to_string(),
                origin: None,
            });
        }
        r.classes = chain.iter().map(|l| l.from.class.clone()).collect();
        let names: Vec<String> = chain.iter().map(|l| l.from.class.clone()).collect();
        r.message = format!(
            "thread '{}' acquires {} while holding {}, but the graph already has the dependency \
             {}: the {} locks can be taken in opposite orders by different threads",
            r.thread,
            names[1 % names.len()],
            names[0],
            names[1..]
                .iter()
                .chain(std::iter::once(&names[0]))
                .cloned()
                .collect::<Vec<_>>()
                .join(" -> "),
            names.len()
        );
        r.scenario = report::cycle_scenario(&chain);
        r.chain = chain;
        r
    }

    /// A snapshot of everything found so far, with the graph, as a report document.
    pub fn document(&self, program: &str) -> Document {
        let mut st = self.lock_state();
        let mut doc = Document::new(program);
        doc.reports = st.reports.clone();
        doc.graph = export_graph(&mut st);
        doc
    }

    /// The reports found so far.
    pub fn reports(&self) -> Vec<Report> {
        self.lock_state().reports.clone()
    }
}

/// The scenario of a broken rule: for a declared order, the ABBA it allows with a thread that
/// follows the order; otherwise the thread's steps up to the offending acquisition.
fn rule_scenario(v: &crate::rules::Violation, r: &Report) -> Vec<Step> {
    let step = |t: &str, a: String| Step { thread: t.into(), action: a };
    let new = r.acquiring.as_ref().map(|a| (a.class.clone(), a.mode));
    if v.rule == "declared_order" && v.classes.len() == 2 {
        let (held, taken) = (&v.classes[0], &v.classes[1]);
        let mode = new.map_or(Mode::Write, |n| n.1);
        return vec![
            step("T0", format!("lock({held})")),
            step("T1", format!("lock({taken})  <- follows the declared order")),
            step(
                "T0",
                format!("{}({taken})  <- against the declared order, waits for T1", verb(mode)),
            ),
            step("T1", format!("lock({held})  <- waits for T0")),
        ];
    }
    let mut steps: Vec<Step> =
        r.held.iter().map(|h| step("T0", format!("{}({})", verb(h.mode), h.class))).collect();
    if let Some((class, mode)) = new {
        steps.push(step("T0", format!("{}({class})  <- breaks rule {:?}", verb(mode), v.rule)));
    }
    steps
}

fn export_graph(st: &mut State) -> report::Graph {
    let classes = st
        .graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| report::Class {
            id: i as u32,
            name: n.name.clone(),
            site: n.site.clone(),
            wait: n.wait,
        })
        .collect();
    let mut edges = Vec::with_capacity(st.graph.edges.len());
    for e in &st.graph.edges {
        let side = |id: ClassId, a: &WitnessAcq| Acquisition {
            class: st.graph.nodes[id.0 as usize].name.clone(),
            subclass: st.graph.nodes[id.0 as usize].subclass,
            mode: a.mode,
            trylock: a.trylock,
            site: witness::site(a.site, &st.sites),
            stack: Vec::new(),
        };
        edges.push(report::Edge {
            from: e.from.0,
            to: e.to.0,
            types: type_names(e.types),
            witness: ChainLink {
                from: side(e.from, &e.witness.from),
                to: side(e.to, &e.witness.to),
                types: type_names(e.types),
                thread: e.witness.thread.to_string(),
                origin: None,
            },
        });
    }
    report::Graph { classes, edges }
}

/// The fields of an acquisition that reports need, from a held entry or an edge witness.
struct WitnessLike {
    class: ClassId,
    subclass: u32,
    mode: Mode,
    trylock: bool,
    site: SiteRef,
    trace: u32,
}

impl WitnessLike {
    fn from(h: &HeldLock) -> WitnessLike {
        WitnessLike {
            class: h.class,
            subclass: h.subclass,
            mode: h.mode,
            trylock: h.trylock,
            site: h.site,
            trace: h.trace,
        }
    }

    fn of(base: ClassId, subclass: u32, a: &WitnessAcq) -> WitnessLike {
        WitnessLike {
            class: base,
            subclass,
            mode: a.mode,
            trylock: a.trylock,
            site: a.site,
            trace: a.trace,
        }
    }
}
