//! Lock identity: two different locks of one class nesting each other.
//!
//! Rust builds many locks at one site (`#[derive(Default)]`, `Arc::default()`, a loop, a
//! constructor), and they share a class. With [`SameClass::Instances`] (the default for the
//! lock types) such nesting is judged by the order of the *instances*: the validator keeps a
//! graph of the instances of each class that nests itself (only those: a class that never
//! nests itself has no instance node), and a cycle among them, under the strong-path rule of
//! the class graph, is a `circular_dependency` naming the instances. Instances always taken in
//! one order (by index, by address) are fine. With [`SameClass::Strict`] (the process setting
//! or a strict class key) any such nesting is `recursive_locking`, as in the kernel.
//!
//! The graph stays acyclic in its strong part: an edge that would close a strong cycle is
//! reported and not learnt, so the topological order (Pearce-Kelly, as in the class graph)
//! keeps answering "no cycle" without a search for instances taken in a consistent order.
//! An instance node is removed when its lock is dropped (the lock types call the hook's `free`
//! from their class's drop while instance nodes exist), so a lock built later at the same
//! address starts fresh.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::explain::WitnessLike;
use super::*;
use crate::config::SameClass;
use crate::strong_path::{DepGraph, Scratch};
use crate::vocab::DepTypes;

/// Instance nodes alive in all validators of the process: while 0, dropping a lock costs one
/// relaxed load.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Whether any validator of the process has an instance node (a lock's drop must then tell
/// the validator, through the hook's `free`).
#[inline]
pub(crate) fn any_instance_nodes() -> bool {
    LIVE.load(Ordering::Relaxed) != 0
}

struct InstNode {
    /// The class node (class and subclass) of the instance.
    class: ClassId,
    /// 1, 2, ... per class node, in the order instances got a node.
    number: u64,
    out: Vec<u32>,
    inn: Vec<u32>,
}

struct InstEdge {
    from: u32,
    to: u32,
    types: DepTypes,
    witness: Witness,
}

/// The instance graph of a validator and its same-class setting.
pub(crate) struct Instances {
    pub mode: SameClass,
    nodes: Vec<Option<InstNode>>,
    free_nodes: Vec<u32>,
    edges: Vec<Option<InstEdge>>,
    free_edges: Vec<u32>,
    by_addr: HashMap<usize, Vec<u32>>,
    by_pair: HashMap<(u32, u32), u32>,
    /// A topological order of the nodes, valid while `!cyclic`.
    ord: Vec<u32>,
    /// Set once a weak cycle (one that is no deadlock) was learnt: searches are then full.
    cyclic: bool,
    numbers: HashMap<ClassId, u64>,
    search: Scratch,
}

impl Default for Instances {
    fn default() -> Instances {
        Instances {
            mode: SameClass::Instances,
            nodes: Vec::new(),
            free_nodes: Vec::new(),
            edges: Vec::new(),
            free_edges: Vec::new(),
            by_addr: HashMap::new(),
            by_pair: HashMap::new(),
            ord: Vec::new(),
            cyclic: false,
            numbers: HashMap::new(),
            search: Scratch::default(),
        }
    }
}

impl Drop for Instances {
    fn drop(&mut self) {
        LIVE.fetch_sub(self.live(), Ordering::Relaxed);
    }
}

struct Walk<'a> {
    nodes: &'a [Option<InstNode>],
    edges: &'a [Option<InstEdge>],
}

impl DepGraph for Walk<'_> {
    fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn for_each_out(&self, node: u32, mut f: impl FnMut(u32, u32, DepTypes)) {
        if let Some(n) = &self.nodes[node as usize] {
            for &e in &n.out {
                if let Some(edge) = &self.edges[e as usize] {
                    f(e, edge.to, edge.types);
                }
            }
        }
    }
}

impl Instances {
    /// Number of instance nodes.
    pub fn live(&self) -> usize {
        self.nodes.len() - self.free_nodes.len()
    }

    fn find(&self, addr: usize, class: ClassId) -> Option<u32> {
        self.by_addr.get(&addr)?.iter().copied().find(|&n| self.node_ref(n).class == class)
    }

    fn node_ref(&self, n: u32) -> &InstNode {
        self.nodes[n as usize].as_ref().expect("live instance node")
    }

    /// The instance number of the lock at `addr` in class node `class`, if it has a node.
    pub fn number(&self, addr: usize, class: ClassId) -> Option<u64> {
        self.find(addr, class).map(|n| self.node_ref(n).number)
    }

    /// The node of the lock at `addr` in class node `class`, made when new.
    fn node(&mut self, addr: usize, class: ClassId) -> u32 {
        if let Some(n) = self.find(addr, class) {
            return n;
        }
        let number = self.numbers.entry(class).or_insert(0);
        *number += 1;
        let node = InstNode { class, number: *number, out: Vec::new(), inn: Vec::new() };
        let id = match self.free_nodes.pop() {
            Some(id) => {
                self.nodes[id as usize] = Some(node);
                id
            }
            None => {
                let id = self.nodes.len() as u32;
                self.nodes.push(Some(node));
                self.ord.push(id);
                id
            }
        };
        self.by_addr.entry(addr).or_default().push(id);
        LIVE.fetch_add(1, Ordering::Relaxed);
        id
    }

    /// Forgets every node of the lock at `addr` (it is dropped), with their edges. Removing
    /// nodes and edges keeps a topological order valid.
    /// Returns whether the lock had a node.
    pub fn forget(&mut self, addr: usize) -> bool {
        let Some(ids) = self.by_addr.remove(&addr) else { return false };
        for id in ids {
            let node = self.nodes[id as usize].take().expect("live instance node");
            for e in node.out.iter().chain(node.inn.iter()).copied() {
                let Some(edge) = self.edges[e as usize].take() else { continue };
                self.by_pair.remove(&(edge.from, edge.to));
                let other = if edge.from == id { edge.to } else { edge.from };
                if let Some(o) = self.nodes[other as usize].as_mut() {
                    o.out.retain(|&x| x != e);
                    o.inn.retain(|&x| x != e);
                }
                self.free_edges.push(e);
            }
            self.free_nodes.push(id);
            LIVE.fetch_sub(1, Ordering::Relaxed);
        }
        true
    }

    fn edge_types(&self, from: u32, to: u32) -> Option<DepTypes> {
        let e = *self.by_pair.get(&(from, to))?;
        self.edges[e as usize].as_ref().map(|e| e.types)
    }

    fn add(&mut self, from: u32, to: u32, t: DepType, witness: Witness) {
        if let Some(&e) = self.by_pair.get(&(from, to)) {
            if let Some(edge) = self.edges[e as usize].as_mut() {
                edge.types.insert(t);
            }
            return;
        }
        let edge = InstEdge { from, to, types: t.into(), witness };
        let e = match self.free_edges.pop() {
            Some(e) => {
                self.edges[e as usize] = Some(edge);
                e
            }
            None => {
                self.edges.push(Some(edge));
                (self.edges.len() - 1) as u32
            }
        };
        self.by_pair.insert((from, to), e);
        self.nodes[from as usize].as_mut().expect("live").out.push(e);
        self.nodes[to as usize].as_mut().expect("live").inn.push(e);
        if !self.cyclic {
            self.keep_order(from, to);
        }
    }

    /// Pearce-Kelly after adding `x -> y` (see the class graph's `keep_order`).
    fn keep_order(&mut self, x: u32, y: u32) {
        let (lb, ub) = (self.ord[y as usize], self.ord[x as usize]);
        if lb > ub {
            return;
        }
        let walk = |n: u32, forward: bool, nodes: &[Option<InstNode>]| -> Vec<u32> {
            let node = nodes[n as usize].as_ref().expect("live");
            let list = if forward { &node.out } else { &node.inn };
            list.iter()
                .filter_map(|&e| self.edges[e as usize].as_ref())
                .map(|e| if forward { e.to } else { e.from })
                .collect()
        };
        let mut forward = Vec::new();
        let mut stack = vec![y];
        let mut seen = std::collections::HashSet::from([y]);
        while let Some(n) = stack.pop() {
            if n == x {
                self.cyclic = true;
                return;
            }
            forward.push(n);
            for w in walk(n, true, &self.nodes) {
                if self.ord[w as usize] <= ub && seen.insert(w) {
                    stack.push(w);
                }
            }
        }
        let mut backward = Vec::new();
        let mut stack = vec![x];
        let mut seen = std::collections::HashSet::from([x]);
        while let Some(n) = stack.pop() {
            backward.push(n);
            for w in walk(n, false, &self.nodes) {
                if self.ord[w as usize] >= lb && seen.insert(w) {
                    stack.push(w);
                }
            }
        }
        backward.sort_by_key(|&n| self.ord[n as usize]);
        forward.sort_by_key(|&n| self.ord[n as usize]);
        let mut slots: Vec<u32> =
            backward.iter().chain(forward.iter()).map(|&n| self.ord[n as usize]).collect();
        slots.sort_unstable();
        for (n, slot) in backward.into_iter().chain(forward).zip(slots) {
            self.ord[n as usize] = slot;
        }
    }

    /// A strong path `start -> ... -> goal` closing a strong cycle with `goal -> start`.
    fn strong_path(&mut self, start: u32, goal: u32, t: DepType) -> Option<Vec<PathStep>> {
        if !self.cyclic && self.ord[goal as usize] < self.ord[start as usize] {
            return None;
        }
        let walk = Walk { nodes: &self.nodes, edges: &self.edges };
        crate::strong_path::strong_path(&walk, &mut self.search, start, goal, t.into())
            .map(|(_, path)| path)
    }
}

impl Validator {
    /// Sets how two different locks of one class nesting each other are judged (the process
    /// setting `LOCKDEP_SAME_CLASS`; trace replay is strict unless the trace says otherwise).
    /// A class made with [`LockClassKey::new_strict`](crate::LockClassKey::new_strict) is
    /// strict in both settings.
    ///
    /// ```
    /// use lockdep_core::{Backtrace, SameClass, Validator};
    ///
    /// let v = Validator::new(Backtrace::Off);
    /// v.set_same_class(SameClass::Strict);
    /// assert_eq!(v.same_class(), SameClass::Strict);
    /// ```
    pub fn set_same_class(&self, mode: SameClass) {
        self.lock_state().instances.mode = mode;
        self.cache.clear();
    }

    /// How two different locks of one class nesting each other are judged.
    pub fn same_class(&self) -> SameClass {
        self.lock_state().instances.mode
    }

    /// Whether class `id` was made with a strict key.
    pub(crate) fn class_strict(&self, id: ClassId) -> bool {
        self.lock_state().graph.nodes[id.0 as usize].strict
    }

    /// Whether `new` nesting in its own class is judged by the kernel's strict rule.
    fn strict_for(st: &State, new: &HeldLock) -> bool {
        st.instances.mode == SameClass::Strict || st.graph.nodes[new.class.0 as usize].strict
    }

    /// Whether the chain ending in `new` must not be cached: it nests `new`'s class (and
    /// subclass) in itself, judged by instances, so the chain key (made of classes only) does
    /// not say whether the order of these instances was seen.
    pub(super) fn nests_instances(st: &State, stack: &HeldStack, new: &HeldLock) -> bool {
        !new.trylock
            && !new.nested
            && !Self::strict_for(st, new)
            && stack.entries().iter().any(|h| h.class == new.class && h.subclass == new.subclass)
    }

    /// The same-class part of a new chain: the same lock again is recursive locking; another
    /// lock of the class is recursive locking when strict, else an edge between the two
    /// instances, checked for a strong cycle among the instances (pushed to `cycles`).
    pub(super) fn check_same_class(
        &self,
        st: &mut State,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        new: &HeldLock,
        reports: &mut Vec<Report>,
        cycles: &mut Vec<Report>,
    ) {
        let strict = Self::strict_for(st, new);
        for h in stack.entries() {
            if h.class != new.class || h.subclass != new.subclass {
                continue;
            }
            if h.instance == new.instance || strict {
                let exempt = new.mode == Mode::RecursiveRead && h.mode.is_shared_holder();
                if !exempt {
                    let r = self.recursive_report(st, stack, thread, h, new);
                    self.keep(st, r, reports);
                }
                continue;
            }
            let class = st.graph.node(new.class, new.subclass);
            let from = st.instances.node(h.instance, class);
            let to = st.instances.node(new.instance, class);
            let t = DepType::of(h.mode, new.mode);
            if st.instances.edge_types(from, to).is_some_and(|ts| ts.contains(t)) {
                continue;
            }
            if let Some(path) = st.instances.strong_path(to, from, t) {
                // Not learnt: the instance graph keeps no strong cycle.
                let r =
                    self.instance_cycle_report(st, stack, thread, (h, from), (new, to), t, &path);
                cycles.push(r);
                continue;
            }
            // Instance witnesses keep sites, not stacks: pinning a stack per instance pair
            // would grow with the instances.
            let witness = Witness {
                thread: thread(),
                from: WitnessAcq { mode: h.mode, trylock: h.trylock, site: h.site, trace: None },
                to: WitnessAcq {
                    mode: new.mode,
                    trylock: new.trylock,
                    site: new.site,
                    trace: None,
                },
            };
            st.instances.add(from, to, t, witness);
        }
    }

    /// Forgets the instance nodes of the lock at `addr` (it is dropped or re-initialised).
    pub(super) fn forget_instance(&self, addr: usize) {
        if any_instance_nodes() {
            let mut st = self.lock_state();
            if st.instances.forget(addr) {
                // Memos of same-class nestings may name this address: a lock built there
                // later starts fresh, so they must not be trusted any more.
                self.cache.bump_epoch();
            }
        }
    }

    #[expect(clippy::too_many_arguments, reason = "the report needs every part of the acquisition")]
    fn instance_cycle_report(
        &self,
        st: &mut State,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        (held, held_node): (&HeldLock, u32),
        (new, new_node): (&HeldLock, u32),
        t: DepType,
        path: &[PathStep],
    ) -> Report {
        let mut r = self.base_report(st, stack, thread, Kind::CircularDependency, new);
        let number = |st: &State, n: u32| st.instances.node_ref(n).number;
        if let Some(a) = r.acquiring.as_mut() {
            a.instance = Some(number(st, new_node));
        }
        for (h, a) in stack.entries().iter().zip(r.held.iter_mut()) {
            let class = st.graph.node(h.class, h.subclass);
            a.instance = st.instances.number(h.instance, class);
        }
        let mut from = self.acquisition(st, &WitnessLike::from(held));
        from.instance = Some(number(st, held_node));
        let mut chain = vec![ChainLink {
            from,
            to: r.acquiring.clone().expect("set by base_report"),
            types: vec![t],
            thread: r.thread.clone(),
            origin: None,
        }];
        for &(e, _) in path {
            let edge = st.instances.edges[e as usize].as_ref().expect("live edge");
            let (a, b, types, w) = (edge.from, edge.to, edge.types, edge.witness.clone());
            let class = st.instances.node_ref(a).class;
            let (base, sub) =
                (st.graph.nodes[class.0 as usize].base, st.graph.nodes[class.0 as usize].subclass);
            let mut from = self.acquisition(st, &WitnessLike::of(base, sub, &w.from));
            from.instance = Some(number(st, a));
            let mut to = self.acquisition(st, &WitnessLike::of(base, sub, &w.to));
            to.instance = Some(number(st, b));
            chain.push(ChainLink {
                from,
                to,
                types: types.to_vec(),
                thread: w.thread.to_string(),
                origin: None,
            });
        }
        let class = st.graph.node(new.class, new.subclass);
        let node = &st.graph.nodes[class.0 as usize];
        let built = match &node.site {
            Some(s) if node.name != s.to_string() => format!(" (built at {s})"),
            _ => String::new(),
        };
        let label = |a: &Acquisition| match a.instance {
            Some(n) => format!("{}#{n}", a.class),
            None => a.class.clone(),
        };
        let names: Vec<String> = chain.iter().map(|l| label(&l.from)).collect();
        r.classes = chain.iter().map(|l| l.from.class.clone()).collect();
        r.message = format!(
            "thread '{}' acquires {} while holding {}, but the order {} was seen before: {} \
             locks of class {}{built} are taken in opposite orders by different threads; take \
             the locks of one class in one global order (by index or address), or give the \
             roles different classes (keys) or subclasses",
            r.thread,
            names[1 % names.len()],
            names[0],
            names[1..]
                .iter()
                .chain(std::iter::once(&names[0]))
                .cloned()
                .collect::<Vec<_>>()
                .join(" -> "),
            names.len(),
            node.name,
        );
        let labelled: Vec<ChainLink> = chain
            .iter()
            .map(|l| {
                let mut l = l.clone();
                l.from.class = label(&l.from);
                l.to.class = label(&l.to);
                l
            })
            .collect();
        r.scenario = report::cycle_scenario(&labelled);
        r.chain = chain;
        r
    }

    /// Keeps one report of the cycles one acquisition closed (as the kernel does): the
    /// shortest not reported before, its message counting the others.
    pub(super) fn keep_one_cycle(
        &self,
        st: &mut State,
        mut cycles: Vec<Report>,
        reports: &mut Vec<Report>,
    ) {
        let n = cycles.len();
        if n == 0 {
            return;
        }
        cycles.sort_by_key(|r| r.chain.len());
        let pick = cycles
            .iter()
            .position(|r| st.refusing || !st.seen.contains(&r.fingerprint()))
            .unwrap_or(0);
        let mut r = cycles.swap_remove(pick);
        if n > 1 {
            r.message.push_str(&format!(
                "; this acquisition closes {} other cycle(s) too, not reported separately (the \
                 shortest new one is shown)",
                n - 1
            ));
        }
        self.keep(st, r, reports);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w() -> Witness {
        let a = WitnessAcq { mode: Mode::Write, trylock: false, site: SiteRef::None, trace: None };
        Witness { thread: "t".into(), from: a, to: a }
    }

    #[test]
    fn forgotten_nodes_start_fresh_and_orders_stay_valid() {
        let mut g = Instances::default();
        let c = ClassId(0);
        let (a, b) = (g.node(0x10, c), g.node(0x20, c));
        g.add(a, b, DepType::EN, w());
        // A new edge b -> a would close a -> b: the search goes from a to b.
        assert!(g.strong_path(a, b, DepType::EN).is_some(), "b -> a closes a -> b");
        g.forget(0x20);
        let b2 = g.node(0x20, c);
        assert_eq!(g.number(0x20, c), Some(3), "a fresh number for a reused address");
        assert!(g.strong_path(a, b2, DepType::EN).is_none());
        g.add(b2, a, DepType::EN, w());
        assert!(!g.cyclic);
        g.forget(0x10);
        g.forget(0x20);
        assert_eq!(g.live(), 0);
        assert!(g.by_pair.is_empty());
    }
}
