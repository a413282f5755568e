//! The dependency graph of lock classes and the strong-path search.
//!
//! Nodes are lock classes (a class with a non-zero subclass is a node of its own, as in the
//! kernel). An edge A -> B records that B was acquired (blocking) while A was held, with the
//! set of dependency types seen and the witness of its first sighting.
//!
//! Next to the edges the graph keeps its strongly connected components and a topological order
//! of them (Pearce-Kelly on the condensation, in `scc_order.rs`): a new edge `a -> b` whose components are
//! ordered `a`'s before `b`'s cannot close a cycle, so the strong-path search is skipped. Cycles
//! stay in the graph (weak ones, through recursive readers, are legal; a reported edge is learnt
//! too unless the validator refuses it): an edge that closes one merges the components on it,
//! and the shortcut keeps working for every edge between two components. The graph only
//! grows (no class or edge is ever removed), so the components stay exactly the classes of
//! mutual reachability.

use std::collections::HashMap;
use std::sync::Arc;

use crate::class::{ClassDesc, ClassId};
use crate::scc_order::{Links, SccOrder};
use crate::strong_path::{self, DepGraph, Scratch};
use crate::vocab::SiteRef;
use crate::vocab::{DepType, DepTypes, Mode, NodeKind, Site, WaitKind};

/// One side of an edge's first sighting.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WitnessAcq {
    pub mode: Mode,
    pub trylock: bool,
    pub site: SiteRef,
    pub trace: Option<crate::vocab::TraceId>,
}

/// First sighting of an edge.
#[derive(Clone, Debug)]
pub(crate) struct Witness {
    pub thread: Arc<str>,
    pub from: WitnessAcq,
    pub to: WitnessAcq,
}

pub(crate) struct Node {
    pub name: String,
    pub site: Option<Site>,
    pub wait: WaitKind,
    pub base: ClassId,
    pub subclass: u32,
    /// Same-class nesting follows the kernel's strict rule (a strict class key).
    pub strict: bool,
}

pub(crate) struct EdgeData {
    pub from: ClassId,
    pub to: ClassId,
    pub types: DepTypes,
    pub witness: Witness,
}

/// Index of an edge.
pub(crate) type EdgeId = u32;

pub(crate) use strong_path::PathStep;

#[derive(Default)]
pub(crate) struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<EdgeData>,
    out: Vec<Vec<EdgeId>>,
    /// Incoming edges, for the topological-order maintenance.
    inn: Vec<Vec<EdgeId>>,
    /// The strongly connected components and their topological order (nothing removes nodes
    /// or edges, so the components are exactly the classes of mutual reachability).
    order: SccOrder,
    by_pair: HashMap<(u32, u32), EdgeId>,
    by_identity: HashMap<(String, Option<Site>), ClassId>,
    subclasses: HashMap<(ClassId, u32), ClassId>,
    search: Scratch,
    /// The event nodes (condvars, channels, thread exits), apart from the lock classes.
    events: EventNodes,
    /// Full searches run, for the tests of the shortcut.
    #[cfg(test)]
    searches: u64,
}

/// The events section of the graph: which nodes are events, by identity.
#[derive(Default)]
struct EventNodes {
    by_identity: HashMap<(String, Option<Site>), ClassId>,
    is_event: std::collections::HashSet<u32>,
}

/// What the strong-path search walks: the out-lists and the edges, apart from the scratch.
struct Walk<'a> {
    out: &'a [Vec<EdgeId>],
    edges: &'a [EdgeData],
}

/// What the order maintenance walks: the edges both ways.
struct Adjacent<'a> {
    out: &'a [Vec<EdgeId>],
    inn: &'a [Vec<EdgeId>],
    edges: &'a [EdgeData],
}

impl Links for Adjacent<'_> {
    fn for_each_succ(&self, node: u32, mut f: impl FnMut(u32)) {
        for &e in &self.out[node as usize] {
            f(self.edges[e as usize].to.0);
        }
    }

    fn for_each_pred(&self, node: u32, mut f: impl FnMut(u32)) {
        for &e in &self.inn[node as usize] {
            f(self.edges[e as usize].from.0);
        }
    }
}

impl DepGraph for Walk<'_> {
    fn node_count(&self) -> usize {
        self.out.len()
    }

    fn for_each_out(&self, node: u32, mut f: impl FnMut(u32, u32, DepTypes)) {
        for &e in &self.out[node as usize] {
            let edge = &self.edges[e as usize];
            f(e, edge.to.0, edge.types);
        }
    }
}

impl Graph {
    fn push_node(&mut self, node: Node) -> ClassId {
        let id = ClassId(self.nodes.len() as u32);
        self.nodes.push(node);
        self.out.push(Vec::new());
        self.inn.push(Vec::new());
        self.order.add_node(id.0);
        id
    }

    /// The class for `desc` (subclass 0), registering it when new.
    pub fn register(&mut self, desc: ClassDesc) -> ClassId {
        let key = (desc.name.clone(), desc.site.clone());
        if let Some(&id) = self.by_identity.get(&key) {
            return id;
        }
        let id = ClassId(self.nodes.len() as u32);
        self.push_node(Node {
            name: desc.name,
            site: desc.site,
            wait: desc.wait,
            base: id,
            subclass: 0,
            strict: desc.strict,
        });
        self.by_identity.insert(key, id);
        id
    }

    /// The node of `(base, subclass)`.
    pub fn node(&mut self, base: ClassId, subclass: u32) -> ClassId {
        if subclass == 0 {
            return base;
        }
        if let Some(&id) = self.subclasses.get(&(base, subclass)) {
            return id;
        }
        let b = &self.nodes[base.0 as usize];
        let node = Node {
            name: format!("{}/{}", b.name, subclass),
            site: b.site.clone(),
            wait: b.wait,
            base,
            subclass,
            strict: b.strict,
        };
        let id = self.push_node(node);
        self.subclasses.insert((base, subclass), id);
        id
    }

    /// The event node for `desc`, registering it when new (an event and a lock of one name
    /// are distinct nodes).
    pub fn register_event(&mut self, desc: ClassDesc) -> ClassId {
        let key = (desc.name.clone(), desc.site.clone());
        if let Some(&id) = self.events.by_identity.get(&key) {
            return id;
        }
        let id = ClassId(self.nodes.len() as u32);
        self.push_node(Node {
            name: desc.name,
            site: desc.site,
            wait: desc.wait,
            base: id,
            subclass: 0,
            strict: false,
        });
        self.events.by_identity.insert(key, id);
        self.events.is_event.insert(id.0);
        id
    }

    /// Whether node `id` is a lock class or an event.
    pub fn kind(&self, id: ClassId) -> NodeKind {
        if self.events.is_event.contains(&id.0) {
            NodeKind::Event
        } else {
            NodeKind::Lock
        }
    }

    pub fn name(&self, id: ClassId) -> &str {
        &self.nodes[id.0 as usize].name
    }

    pub fn edge_between(&self, from: ClassId, to: ClassId) -> Option<EdgeId> {
        self.by_pair.get(&(from.0, to.0)).copied()
    }

    /// Adds dependency type `t` to edge `from -> to`, creating the edge with `witness`.
    pub fn add(
        &mut self,
        from: ClassId,
        to: ClassId,
        t: DepType,
        witness: impl FnOnce() -> Witness,
    ) {
        match self.by_pair.get(&(from.0, to.0)) {
            Some(&e) => self.edges[e as usize].types.insert(t),
            None => {
                let e = self.edges.len() as EdgeId;
                self.edges.push(EdgeData { from, to, types: t.into(), witness: witness() });
                self.out[from.0 as usize].push(e);
                self.inn[to.0 as usize].push(e);
                self.by_pair.insert((from.0, to.0), e);
                let links = Adjacent { out: &self.out, inn: &self.inn, edges: &self.edges };
                self.order.keep_order(&links, from.0, to.0);
            }
        }
    }

    /// Whether a path `start ->* goal` may exist: false when the two are in different
    /// components and the order puts `goal`'s before `start`'s (a path would go against it).
    fn may_reach(&self, start: ClassId, goal: ClassId) -> bool {
        self.order.may_reach(start.0, goal.0)
    }

    /// A strong path `start -> ... -> goal` that closes a strong cycle with a new edge
    /// `goal -> start` of dependency type `t` (the rule: [`strong_path::strong_path`]).
    ///
    /// A path against the topological order of the components cannot exist, and then the
    /// search is skipped; this holds whether or not the graph has cycles (weak ones through
    /// recursive readers are legal and kept). Within one component, or along the order, the
    /// search runs.
    pub fn strong_path(
        &mut self,
        start: ClassId,
        goal: ClassId,
        t: DepType,
    ) -> Option<Vec<PathStep>> {
        if !self.may_reach(start, goal) {
            return None;
        }
        #[cfg(test)]
        {
            self.searches += 1;
        }
        let walk = Walk { out: &self.out, edges: &self.edges };
        strong_path::strong_path(&walk, &mut self.search, start.0, goal.0, t.into())
            .map(|(_, path)| path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scc_order::rng;

    fn graph(n: usize) -> (Graph, Vec<ClassId>) {
        let mut g = Graph::default();
        let ids = graph_nodes(&mut g, 0, n);
        (g, ids)
    }

    /// Registers classes `c{from}` .. `c{from + n - 1}`.
    fn graph_nodes(g: &mut Graph, from: usize, n: usize) -> Vec<ClassId> {
        (from..from + n)
            .map(|i| {
                g.register(ClassDesc {
                    name: format!("c{i}"),
                    site: None,
                    wait: WaitKind::Sleeping,
                    strict: false,
                })
            })
            .collect()
    }

    fn w() -> Witness {
        let a = WitnessAcq { mode: Mode::Write, trylock: false, site: SiteRef::None, trace: None };
        Witness { thread: "t".into(), from: a, to: a }
    }

    /// The strong-path search without the shortcut.
    fn full_search(g: &mut Graph, start: ClassId, goal: ClassId, t: DepType) -> bool {
        let walk = Walk { out: &g.out, edges: &g.edges };
        strong_path::strong_path(&walk, &mut g.search, start.0, goal.0, t.into()).is_some()
    }

    /// `reach[a][b]`: a plain path `a ->* b` (of any types, at least one edge or a == b).
    fn reachability(g: &Graph) -> Vec<Vec<bool>> {
        let n = g.nodes.len();
        (0..n)
            .map(|a| {
                let mut seen = vec![false; n];
                seen[a] = true;
                let mut stack = vec![a];
                while let Some(x) = stack.pop() {
                    for &e in &g.out[x] {
                        let y = g.edges[e as usize].to.0 as usize;
                        if !seen[y] {
                            seen[y] = true;
                            stack.push(y);
                        }
                    }
                }
                seen
            })
            .collect()
    }

    /// The component structure is sound: members and representatives agree, the order values
    /// of the components are distinct and below the node count, every edge between two
    /// components agrees with the order, and the components are exactly the classes of mutual
    /// reachability. Whenever the shortcut says "no path", there is none.
    fn check_components(g: &Graph) {
        let n = g.nodes.len();
        let reach = reachability(g);
        let mut used = std::collections::HashSet::new();
        for v in 0..n as u32 {
            let c = g.order.comp(v);
            assert_eq!(g.order.comp(c), c, "{c} represents itself");
            assert!(g.order.members(c).contains(&v), "{v} among the members of {c}");
            if c == v {
                assert!((g.order.ord(c) as usize) < n);
                assert!(used.insert(g.order.ord(c)), "order values are distinct");
            } else {
                assert!(g.order.member_list(v).is_empty(), "{v} represents nothing");
            }
        }
        for e in &g.edges {
            let (cu, cv) = (g.order.comp(e.from.0), g.order.comp(e.to.0));
            if cu != cv {
                assert!(g.order.ord(cu) < g.order.ord(cv), "{cu} -> {cv} against the order");
            }
        }
        for (a, from_a) in reach.iter().enumerate() {
            for (b, &a_to_b) in from_a.iter().enumerate() {
                let same = g.order.comp(a as u32) == g.order.comp(b as u32);
                assert_eq!(same, a_to_b && reach[b][a], "{a} and {b}: one component");
                if !g.may_reach(ClassId(a as u32), ClassId(b as u32)) {
                    assert!(!a_to_b, "shortcut hides the path {a} ->* {b}");
                }
            }
        }
    }

    #[test]
    fn topological_shortcut_agrees_with_the_full_search() {
        // Random graphs, mostly forward edges with some backward ones, of all dependency types
        // (so both weak and strong cycles form, and stay): the answer with the shortcut is the
        // full search's, and the components and their order stay sound after every edge.
        let mut rnd = rng(0x2545_f491_4f6c_dd1d);
        let types = [DepType::EN, DepType::SN, DepType::ER, DepType::SR];
        // Fewer rounds under Miri (an interpreter), which checks the same code for UB.
        for round in 0..if cfg!(miri) { 2 } else { 60 } {
            let (mut g, c) = graph(40);
            // From 0% to 29% backward edges.
            let backward = round % 30;
            for _ in 0..120 {
                let (a, b) = (rnd(40) as usize, rnd(40) as usize);
                if a == b {
                    continue;
                }
                let (a, b) = if rnd(100) < backward { (a, b) } else { (a.min(b), a.max(b)) };
                let t = types[rnd(4) as usize];
                let fast = g.strong_path(c[b], c[a], t);
                let full = full_search(&mut g, c[b], c[a], t);
                assert_eq!(fast.is_some(), full, "edge {a}->{b}");
                g.add(c[a], c[b], t, w);
                if !cfg!(miri) || g.edges.len() % 16 == 0 {
                    check_components(&g);
                }
            }
        }
    }

    #[test]
    fn components_merge_exactly_the_cycles() {
        // Denser graphs, half the edges random: large components form and merge further, and
        // nodes are added as the graph grows (as classes are registered while locks are taken).
        let mut rnd = rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..if cfg!(miri) { 1 } else { 20 } {
            let (mut g, mut c) = graph(8);
            for i in 0..150 {
                if i % 5 == 0 && c.len() < 40 {
                    let n = c.len();
                    c.extend(graph_nodes(&mut g, n, 1));
                }
                let n = c.len() as u64;
                let (a, b) = (rnd(n) as usize, rnd(n) as usize);
                if a == b {
                    continue;
                }
                let (a, b) = if rnd(2) == 0 { (a, b) } else { (a.min(b), a.max(b)) };
                g.add(c[a], c[b], DepType::SR, w);
                if !cfg!(miri) || i % 25 == 0 {
                    check_components(&g);
                }
            }
        }
    }

    #[test]
    fn an_edge_along_the_order_skips_the_search_after_a_cycle() {
        // A -(SR)-> B -(SR)-> A is a weak cycle (legal, learnt); C -> D elsewhere.
        let (mut g, c) = graph(4);
        let [a, b, cc, d] = [c[0], c[1], c[2], c[3]];
        g.add(a, b, DepType::SR, w);
        assert!(g.strong_path(a, b, DepType::SR).is_none(), "weak");
        g.add(b, a, DepType::SR, w);
        assert_eq!(g.order.comp(a.0), g.order.comp(b.0));
        g.add(cc, d, DepType::EN, w);
        g.add(b, cc, DepType::EN, w);
        check_components(&g);
        // A new edge A -> D along the order: no path D ->* A can exist, and no search runs.
        let before = g.searches;
        assert!(g.strong_path(d, a, DepType::EN).is_none());
        assert_eq!(g.searches, before, "the order answered");
        // Against the order (D -> A) the search runs, and finds A -> B -> C -> D.
        assert!(g.strong_path(a, d, DepType::EN).is_some());
        assert_eq!(g.searches, before + 1);
        // Within the cycle's component the search runs too.
        // (B -(SR)-> A closed by A -(EN)-> B is strong: a recursive reader waits, then a writer.)
        assert!(g.strong_path(b, a, DepType::EN).is_some());
        assert_eq!(g.searches, before + 2);
    }
}
