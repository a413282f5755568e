//! The dependency graph of lock classes and the strong-path search.
//!
//! Nodes are lock classes (a class with a non-zero subclass is a node of its own, as in the
//! kernel). An edge A -> B records that B was acquired (blocking) while A was held, with the
//! set of dependency types seen and the witness of its first sighting.

use std::collections::HashMap;
use std::sync::Arc;

use crate::class::{ClassDesc, ClassId};
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
    /// A topological order of the nodes (Pearce-Kelly), valid while `acyclic`.
    ord: Vec<u32>,
    /// Whether the graph has no cycle at all (not even a weak one); while it holds, a new edge
    /// that agrees with `ord` cannot close a cycle and needs no search.
    cyclic: bool,
    by_pair: HashMap<(u32, u32), EdgeId>,
    by_identity: HashMap<(String, Option<Site>), ClassId>,
    subclasses: HashMap<(ClassId, u32), ClassId>,
    search: Scratch,
    /// The event nodes (condvars, channels, thread exits), apart from the lock classes.
    events: EventNodes,
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
        self.ord.push(id.0);
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
                if !self.cyclic {
                    self.keep_order(from.0, to.0);
                }
            }
        }
    }

    /// Restores the topological order after adding edge `x -> y` (Pearce-Kelly): only the
    /// nodes whose order lies between `ord[y]` and `ord[x]` move. Finding `x` from `y` means the
    /// graph now has a cycle, and the order is given up for good.
    fn keep_order(&mut self, x: u32, y: u32) {
        let (lb, ub) = (self.ord[y as usize], self.ord[x as usize]);
        if lb > ub {
            return;
        }
        let mut forward = Vec::new();
        let mut stack = vec![y];
        let mut seen = std::collections::HashSet::from([y]);
        while let Some(n) = stack.pop() {
            if n == x {
                self.cyclic = true;
                return;
            }
            forward.push(n);
            for &e in &self.out[n as usize] {
                let w = self.edges[e as usize].to.0;
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
            for &e in &self.inn[n as usize] {
                let w = self.edges[e as usize].from.0;
                if self.ord[w as usize] >= lb && seen.insert(w) {
                    stack.push(w);
                }
            }
        }
        let by_ord = |v: &mut Vec<u32>, ord: &[u32]| v.sort_by_key(|&n| ord[n as usize]);
        by_ord(&mut backward, &self.ord);
        by_ord(&mut forward, &self.ord);
        let mut slots: Vec<u32> =
            backward.iter().chain(forward.iter()).map(|&n| self.ord[n as usize]).collect();
        slots.sort_unstable();
        for (n, slot) in backward.into_iter().chain(forward).zip(slots) {
            self.ord[n as usize] = slot;
        }
    }

    /// A strong path `start -> ... -> goal` that closes a strong cycle with a new edge
    /// `goal -> start` of dependency type `t` (the rule: [`strong_path::strong_path`]).
    ///
    /// While the graph is acyclic, a path against the topological order cannot exist, and the
    /// search is skipped.
    pub fn strong_path(
        &mut self,
        start: ClassId,
        goal: ClassId,
        t: DepType,
    ) -> Option<Vec<PathStep>> {
        if !self.cyclic && self.ord[goal.0 as usize] < self.ord[start.0 as usize] {
            return None;
        }
        let walk = Walk { out: &self.out, edges: &self.edges };
        strong_path::strong_path(&walk, &mut self.search, start.0, goal.0, t.into())
            .map(|(_, path)| path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(n: usize) -> (Graph, Vec<ClassId>) {
        let mut g = Graph::default();
        let ids = (0..n)
            .map(|i| {
                g.register(ClassDesc {
                    name: format!("c{i}"),
                    site: None,
                    wait: WaitKind::Sleeping,
                    strict: false,
                })
            })
            .collect();
        (g, ids)
    }

    fn w() -> Witness {
        let a = WitnessAcq { mode: Mode::Write, trylock: false, site: SiteRef::None, trace: None };
        Witness { thread: "t".into(), from: a, to: a }
    }

    #[test]
    fn topological_shortcut_agrees_with_the_full_search() {
        // Random graphs, mostly forward edges with some backward ones: whenever the order says
        // "no path", the full search must agree.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        // Fewer rounds under Miri (an interpreter), which checks the same code for UB.
        for _ in 0..if cfg!(miri) { 2 } else { 30 } {
            let (mut g, c) = graph(40);
            for _ in 0..120 {
                let (a, b) = (rnd(40) as usize, rnd(40) as usize);
                if a == b {
                    continue;
                }
                let (a, b) = if rnd(10) < 8 { (a.min(b), a.max(b)) } else { (a, b) };
                let fast = g.strong_path(c[b], c[a], DepType::EN).is_some();
                let cyclic = std::mem::replace(&mut g.cyclic, true);
                let full = g.strong_path(c[b], c[a], DepType::EN).is_some();
                g.cyclic = cyclic;
                assert_eq!(fast, full, "edge {a}->{b}");
                g.add(c[a], c[b], DepType::EN, w);
                if !g.cyclic {
                    for e in &g.edges {
                        assert!(g.ord[e.from.0 as usize] < g.ord[e.to.0 as usize]);
                    }
                }
            }
        }
    }
}
