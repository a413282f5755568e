//! Report building: turning held entries, edge witnesses and paths into the explained
//! reports of the `lockdep-report/1` model (sites, resolved stacks, chains, scenarios).

use super::*;
use crate::report::Frame;

impl Validator {
    pub(super) fn acquisition(&self, st: &mut State, e: &WitnessLike) -> Acquisition {
        let node = st.graph.node(e.class, e.subclass);
        let stack = match st.traces.get(e.trace) {
            Some(t) => defer(st, t),
            None => Vec::new(),
        };
        Acquisition {
            class: st.graph.name(node).to_string(),
            subclass: e.subclass,
            mode: e.mode,
            trylock: e.trylock,
            site: stacks::site(e.site, &st.sites),
            stack,
            instance: None,
            node: st.graph.kind(node),
        }
    }

    pub(super) fn base_report(
        &self,
        st: &mut State,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        kind: Kind,
        at: &HeldLock,
    ) -> Report {
        let mut acquiring = self.acquisition(st, &WitnessLike::from(at));
        if acquiring.stack.is_empty() && self.capturing() {
            acquiring.stack = defer(st, Trace::capture());
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

    pub(super) fn violation(
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
            trace: None,
            chain_key: 0,
        };
        let mut r = self.base_report(st, stack, thread, Kind::ClassViolation, &probe);
        r.rule = Some(rule.to_string());
        r.message = message;
        r
    }

    pub(super) fn recursive_report(
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
                "; if they are different locks that share a construction site (a helper, a \
                 loop, `#[derive(Default)]`), give each its own class (a `LockClassKey`, or \
                 `#[track_caller]` on the helper so each caller's line is a class) or judge \
                 them by instance order (`LOCKDEP_SAME_CLASS=instances`); a subclass \
                 (`lock_nested`) only when the order is fixed by design (parent before \
                 child), since it hides an inversion between the two"
                    .into()
            }
        );
        r.chain.push(ChainLink {
            from: first,
            to: r.acquiring.clone().expect("set by base_report"),
            types: vec![DepType::of(held.mode, new.mode)],
            thread: r.thread.clone(),
            origin: None,
        });
        r.scenario = report::recursive_scenario(&r.thread, &name, held.mode, new.mode);
        r
    }

    #[expect(clippy::too_many_arguments, reason = "the report needs every part of the acquisition")]
    pub(super) fn cycle_report(
        &self,
        st: &mut State,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        held: &HeldLock,
        new: &HeldLock,
        t: DepType,
        path: &[PathStep],
    ) -> Report {
        let mut r = self.base_report(st, stack, thread, Kind::CircularDependency, new);
        let first = ChainLink {
            from: self.acquisition(st, &WitnessLike::from(held)),
            to: r.acquiring.clone().expect("set by base_report"),
            types: vec![t],
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
                types: types.to_vec(),
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
        if r.chain.iter().any(|l| l.from.node == NodeKind::Event) {
            // A lock-shaped hold of an event (a once's initialiser): explained as a wait.
            r.message = super::events::event_message(&r);
        }
        r
    }

    /// A snapshot of everything found so far, with the graph, as a report document.
    pub fn document(&self, program: &str) -> Document {
        let mut doc = Document::new(program);
        doc.graph = self.graph_with(|st| doc.reports = st.reports.clone());
        doc
    }

    /// The reports found so far.
    pub fn reports(&self) -> Vec<Report> {
        self.lock_state().reports.clone()
    }

    /// The reports found after the first `skip` (reports are only ever appended).
    pub(crate) fn reports_since(&self, skip: usize) -> Vec<Report> {
        self.lock_state().reports.get(skip..).map(<[Report]>::to_vec).unwrap_or_default()
    }

    /// The class graph learned so far.
    pub(crate) fn graph(&self) -> report::Graph {
        self.graph_with(|_| {})
    }

    /// The class graph, each edge with its first witness's stacks (resolved outside the state
    /// lock), after running `also` under the same lock.
    fn graph_with(&self, also: impl FnOnce(&State)) -> report::Graph {
        let mut st = self.lock_state();
        also(&st);
        let mut graph = export_graph(&mut st);
        let pending = std::mem::take(&mut st.pending);
        drop(st);
        for e in &mut graph.edges {
            fill(&mut e.witness.from, &pending);
            fill(&mut e.witness.to, &pending);
        }
        graph
    }
}

/// The function name of a placeholder frame: the stack is `State::pending[line]`, to be
/// symbolised outside the state lock. A NUL cannot start a real symbol.
const PENDING: &str = "\0lockdep: stack pending";

/// The frames of `t` if it is resolved already, else a placeholder for [`fill_stacks`].
fn defer(st: &mut State, t: Arc<Trace>) -> Vec<Frame> {
    if let Some(f) = t.resolved() {
        return f.to_vec();
    }
    let i = st.pending.len() as u32;
    st.pending.push(t);
    vec![Frame { function: PENDING.into(), file: None, line: Some(i) }]
}

/// Replaces the placeholder stacks of `r` by the resolved frames of `pending` (symbolising
/// them: call it outside the state lock).
pub(super) fn fill_stacks(r: &mut Report, pending: &[Arc<Trace>]) {
    if let Some(a) = r.acquiring.as_mut() {
        fill(a, pending);
    }
    for l in &mut r.chain {
        fill(&mut l.from, pending);
        fill(&mut l.to, pending);
    }
    for h in &mut r.held {
        fill(h, pending);
    }
}

/// Replaces the placeholder stack of `a` (if it has one) by the resolved frames of `pending`.
fn fill(a: &mut Acquisition, pending: &[Arc<Trace>]) {
    if let [Frame { function, line: Some(i), .. }] = a.stack.as_slice() {
        if function == PENDING {
            a.stack = pending.get(*i as usize).map(|t| t.frames().to_vec()).unwrap_or_default();
        }
    }
}

/// The scenario of a broken rule: for a declared order, the ABBA it allows with a thread that
/// follows the order; otherwise the thread's steps up to the offending acquisition.
pub(super) fn rule_scenario(v: &crate::rule_engine::Violation, r: &Report) -> Vec<Step> {
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

pub(super) fn export_graph(st: &mut State) -> report::Graph {
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
            node: st.graph.kind(ClassId(i as u32)),
        })
        .collect();
    let mut edges = Vec::with_capacity(st.graph.edges.len());
    for i in 0..st.graph.edges.len() {
        let e = &st.graph.edges[i];
        let (from, to, types) = (e.from, e.to, e.types);
        let (w_from, w_to, thread) = (e.witness.from, e.witness.to, e.witness.thread.to_string());
        // The first witness's stacks: resolved already, or placeholders filled once the
        // state lock is released.
        let mut side = |id: ClassId, a: &WitnessAcq| Acquisition {
            class: st.graph.nodes[id.0 as usize].name.clone(),
            subclass: st.graph.nodes[id.0 as usize].subclass,
            mode: a.mode,
            trylock: a.trylock,
            site: stacks::site(a.site, &st.sites),
            stack: match st.traces.get(a.trace) {
                Some(t) => defer(st, t),
                None => Vec::new(),
            },
            instance: None,
            node: st.graph.kind(id),
        };
        let witness = ChainLink {
            from: side(from, &w_from),
            to: side(to, &w_to),
            types: types.to_vec(),
            thread,
            origin: None,
        };
        edges.push(report::Edge { from: from.0, to: to.0, types: types.to_vec(), witness });
    }
    report::Graph { classes, edges }
}

/// The fields of an acquisition that reports need, from a held entry or an edge witness.
pub(super) struct WitnessLike {
    class: ClassId,
    subclass: u32,
    mode: Mode,
    trylock: bool,
    site: SiteRef,
    trace: Option<crate::vocab::TraceId>,
}

impl WitnessLike {
    pub(super) fn from(h: &HeldLock) -> WitnessLike {
        WitnessLike {
            class: h.class,
            subclass: h.subclass,
            mode: h.mode,
            trylock: h.trylock,
            site: h.site,
            trace: h.trace,
        }
    }

    pub(super) fn of(base: ClassId, subclass: u32, a: &WitnessAcq) -> WitnessLike {
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
