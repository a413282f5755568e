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
//! reported and not learnt. Weak cycles (through recursive readers) are learnt, and the graph
//! keeps its components and their topological order as the class graph does (`scc_order.rs`),
//! so an edge between instances taken in a consistent order is judged without a search, cycles
//! elsewhere or not. An instance node is removed when its lock is dropped (the lock types call
//! the hook's `free` from their class's drop while instance nodes exist), so a lock built
//! later at the same address starts fresh; its component's other nodes stay one component.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::explain::WitnessLike;
use super::*;
use crate::config::SameClass;
use crate::scc_order::{Links, SccOrder};
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
    /// The components of the nodes and their topological order, the shortcut before the
    /// strong-path search.
    order: SccOrder,
    numbers: HashMap<ClassId, u64>,
    search: Scratch,
    /// Full searches run, for the tests of the shortcut.
    #[cfg(test)]
    searches: u64,
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
            order: SccOrder::default(),
            numbers: HashMap::new(),
            search: Scratch::default(),
            #[cfg(test)]
            searches: 0,
        }
    }
}

impl Drop for Instances {
    fn drop(&mut self) {
        LIVE.fetch_sub(self.live(), Ordering::Relaxed);
    }
}

/// What the strong-path search and the order maintenance walk: the live nodes and edges.
struct Walk<'a> {
    nodes: &'a [Option<InstNode>],
    edges: &'a [Option<InstEdge>],
}

impl Walk<'_> {
    /// The live edges of `node`'s list `out` or `inn`.
    fn edges_of(
        &self,
        node: u32,
        list: impl Fn(&InstNode) -> &[u32],
    ) -> impl Iterator<Item = (u32, &InstEdge)> {
        let ids = self.nodes[node as usize].as_ref().map_or(&[][..], list);
        ids.iter().filter_map(|&e| Some((e, self.edges[e as usize].as_ref()?)))
    }
}

impl Links for Walk<'_> {
    fn for_each_succ(&self, node: u32, mut f: impl FnMut(u32)) {
        self.edges_of(node, |n| &n.out).for_each(|(_, edge)| f(edge.to));
    }

    fn for_each_pred(&self, node: u32, mut f: impl FnMut(u32)) {
        self.edges_of(node, |n| &n.inn).for_each(|(_, edge)| f(edge.from));
    }
}

impl DepGraph for Walk<'_> {
    fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn for_each_out(&self, node: u32, mut f: impl FnMut(u32, u32, DepTypes)) {
        self.edges_of(node, |n| &n.out).for_each(|(e, edge)| f(e, edge.to, edge.types));
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

    /// The node of the lock at `addr` in class node `class`, made when new (ordered after
    /// every other node).
    fn node(&mut self, addr: usize, class: ClassId) -> u32 {
        self.node_at(addr, class, false)
    }

    /// The node of the held lock at `addr` in class node `class`, the source of the edge about
    /// to be added; made when new, ordered before every other node, so that the edge agrees
    /// with the order (locks first nested against the order they got nodes in, as a loop from
    /// the last one down, cost no reordering).
    fn held_node(&mut self, addr: usize, class: ClassId) -> u32 {
        self.node_at(addr, class, true)
    }

    /// The node of the lock at `addr` in class node `class`, made when new, ordered after
    /// every other node or before (`first`).
    fn node_at(&mut self, addr: usize, class: ClassId, first: bool) -> u32 {
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
                id
            }
        };
        match first {
            true => self.order.add_node_first(id),
            false => self.order.add_node(id),
        }
        self.by_addr.entry(addr).or_default().push(id);
        LIVE.fetch_add(1, Ordering::Relaxed);
        id
    }

    /// Forgets every node of the lock at `addr` (it is dropped), with their edges. Removing
    /// nodes and edges keeps the order valid.
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
            self.order.remove(id);
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
        let walk = Walk { nodes: &self.nodes, edges: &self.edges };
        self.order.keep_order(&walk, from, to);
    }

    /// A strong path `start -> ... -> goal` closing a strong cycle with `goal -> start`;
    /// skipped when the order says no path `start ->* goal` can exist.
    fn strong_path(&mut self, start: u32, goal: u32, t: DepType) -> Option<Vec<PathStep>> {
        if !self.order.may_reach(start, goal) {
            return None;
        }
        #[cfg(test)]
        {
            self.searches += 1;
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
            let from = st.instances.held_node(h.instance, class);
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
    use crate::scc_order::rng;

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
        assert_ne!(g.order.comp(a), g.order.comp(b2), "no cycle");
        g.check();
        g.forget(0x10);
        g.forget(0x20);
        assert_eq!(g.live(), 0);
        assert!(g.by_pair.is_empty());
    }

    impl Instances {
        /// The order is sound for the live nodes and edges (`SccOrder::assert_sound`).
        fn check(&self) {
            let live: Vec<u32> = (0..self.nodes.len() as u32)
                .filter(|&n| self.nodes[n as usize].is_some())
                .collect();
            let edges: Vec<(u32, u32)> =
                self.edges.iter().flatten().map(|e| (e.from, e.to)).collect();
            self.order.assert_sound(&live, &edges);
        }

        /// What `check_same_class` does for lock `from` held, then lock `to` taken (one
        /// class): a nesting closing a strong cycle is refused, any other learnt. Returns
        /// whether it was refused.
        fn nest(&mut self, from: usize, to: usize, t: DepType) -> bool {
            let (from, to) = (self.held_node(from, ClassId(0)), self.node(to, ClassId(0)));
            if self.edge_types(from, to).is_some_and(|ts| ts.contains(t)) {
                return false;
            }
            let refused = self.strong_path(to, from, t).is_some();
            let walk = Walk { nodes: &self.nodes, edges: &self.edges };
            let full = crate::strong_path::strong_path(&walk, &mut self.search, to, from, t.into());
            assert_eq!(refused, full.is_some(), "the shortcut agrees with the full search");
            if !refused {
                self.add(from, to, t, w());
            }
            refused
        }
    }

    #[test]
    fn the_order_stays_valid_as_instances_come_and_go() {
        // Locks at 24 addresses nest each other, mostly by address and some against it, often
        // as recursive readers (weak cycles form and stay) and else as writers (strong cycles
        // are refused); dropped locks are forgotten and their node ids reused. The shortcut
        // agrees with the full search and the order stays sound after every step.
        let mut rnd = rng(0x9e37_79b9_7f4a_7c15);
        let types = [DepType::SR, DepType::SR, DepType::ER, DepType::SN, DepType::EN];
        let (mut refused, mut reused) = (0, 0);
        for round in 0..if cfg!(miri) { 1 } else { 30 } {
            let mut g = Instances::default();
            // From 0% to 45% of the nestings against the order of the addresses.
            let backward = round % 10 * 5;
            for step in 0..200 {
                let (a, b) = (rnd(24) as usize + 1, rnd(24) as usize + 1);
                let (a, b) = if rnd(100) < backward { (a, b) } else { (a.min(b), a.max(b)) };
                if rnd(8) == 0 {
                    g.forget(a);
                } else if a != b {
                    reused += g.free_nodes.len().min(1);
                    refused += g.nest(a, b, types[rnd(5) as usize]) as u32;
                }
                if !cfg!(miri) || step % 25 == 0 {
                    g.check();
                }
            }
        }
        assert!(refused > 0 && reused > 0, "{refused} refused, {reused} with free ids");
    }

    #[test]
    fn an_edge_along_the_order_skips_the_search_after_a_weak_cycle() {
        let mut g = Instances::default();
        // Instances 1 -(SR)-> 2 -(SR)-> 1: a weak cycle, learnt; 3 -> 4 elsewhere.
        assert!(!g.nest(1, 2, DepType::SR));
        assert!(!g.nest(2, 1, DepType::SR));
        let [n1, n2, n3, n4] = [1, 2, 3, 4].map(|a| g.node(a, ClassId(0)));
        assert_eq!(g.order.comp(n1), g.order.comp(n2));
        assert!(!g.nest(3, 4, DepType::EN));
        assert!(!g.nest(2, 3, DepType::EN));
        g.check();
        // 1 -> 4 along the order: no path 4 ->* 1 can exist, and no search runs.
        let before = g.searches;
        assert!(g.strong_path(n4, n1, DepType::EN).is_none());
        assert_eq!(g.searches, before, "the order answered");
        // Against the order (4 -> 1) the search runs, and finds 1 -> 2 -> 3 -> 4.
        assert!(g.strong_path(n1, n4, DepType::EN).is_some());
        // Within the cycle's component it runs too (2 -(SR)-> 1 closed by 1 -(EN)-> 2 is strong).
        assert!(g.strong_path(n2, n1, DepType::EN).is_some());
        assert_eq!(g.searches, before + 2);
        // With 3 forgotten, its id reused by a new lock 5: along the order again, no search.
        g.forget(3);
        let n5 = g.node(5, ClassId(0));
        assert_eq!(n5, n3, "the id is reused");
        assert!(!g.nest(4, 5, DepType::EN));
        assert!(g.strong_path(n4, n1, DepType::EN).is_none());
        assert_eq!(g.searches, before + 2, "the order answered for 4 -> 5 and 1 -> 4");
        g.check();
    }
}
