//! The dependency graph of lock classes and the strong-path search.
//!
//! Nodes are lock classes (a class with a non-zero subclass is a node of its own, as in the
//! kernel). An edge A -> B records that B was acquired (blocking) while A was held, with the
//! set of dependency types seen and the witness of its first sighting.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::class::{ClassDesc, ClassId};
use crate::held::SiteRef;
use crate::report::{Mode, Site, WaitKind};

/// Exclusive holder, non-recursive waiter.
pub(crate) const EN: u8 = 1;
/// Exclusive holder, recursive-read waiter.
pub(crate) const ER: u8 = 2;
/// Shared holder, non-recursive waiter.
pub(crate) const SN: u8 = 4;
/// Shared holder, recursive-read waiter.
pub(crate) const SR: u8 = 8;

/// The dependency type of "`waiter` acquired while `holder` held".
pub(crate) fn dep_type(holder: Mode, waiter: Mode) -> u8 {
    match (holder.is_shared_holder(), waiter.is_recursive_waiter()) {
        (false, false) => EN,
        (false, true) => ER,
        (true, false) => SN,
        (true, true) => SR,
    }
}

pub(crate) fn type_names(bits: u8) -> Vec<String> {
    [(EN, "EN"), (ER, "ER"), (SN, "SN"), (SR, "SR")]
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| n.to_string())
        .collect()
}

fn ends_recursive(t: u8) -> bool {
    t & (ER | SR) != 0
}

fn starts_shared(t: u8) -> bool {
    t & (SN | SR) != 0
}

/// One side of an edge's first sighting.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WitnessAcq {
    pub mode: Mode,
    pub trylock: bool,
    pub site: SiteRef,
    pub trace: u32,
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
}

pub(crate) struct EdgeData {
    pub from: ClassId,
    pub to: ClassId,
    pub types: u8,
    pub witness: Witness,
}

/// Index of an edge.
pub(crate) type EdgeId = u32;

/// A path step chosen by the search: the edge and the dependency type used.
pub(crate) type PathStep = (EdgeId, u8);

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
    search: Search,
}

/// Reusable bookkeeping of the strong-path search, indexed by state (node * 2 + "arrived
/// through a recursive-read waiter"): no hashing and no allocation per search once grown.
#[derive(Default)]
struct Search {
    /// Generation in which each state was reached; `generation` marks "seen in this search".
    seen: Vec<u32>,
    /// How each state was reached: (previous state, edge, dependency type used).
    parent: Vec<(u32, EdgeId, u8)>,
    queue: VecDeque<u32>,
    generation: u32,
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
        };
        let id = self.push_node(node);
        self.subclasses.insert((base, subclass), id);
        id
    }

    pub fn name(&self, id: ClassId) -> &str {
        &self.nodes[id.0 as usize].name
    }

    pub fn edge_between(&self, from: ClassId, to: ClassId) -> Option<EdgeId> {
        self.by_pair.get(&(from.0, to.0)).copied()
    }

    /// Adds dependency type `t` to edge `from -> to`, creating the edge with `witness`.
    pub fn add(&mut self, from: ClassId, to: ClassId, t: u8, witness: impl FnOnce() -> Witness) {
        match self.by_pair.get(&(from.0, to.0)) {
            Some(&e) => self.edges[e as usize].types |= t,
            None => {
                let e = self.edges.len() as EdgeId;
                self.edges.push(EdgeData { from, to, types: t, witness: witness() });
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
    /// `goal -> start` of dependency type `t`.
    ///
    /// A path is strong when no edge ending in a recursive-read waiter (`*R`) is followed by
    /// an edge starting from a shared holder (`S*`); the check wraps around the new edge.
    /// Breadth-first over (class, "arrived through a `*R` edge") states; arriving through an
    /// `*N` edge dominates, so it is preferred.
    pub fn strong_path(&mut self, start: ClassId, goal: ClassId, t: u8) -> Option<Vec<PathStep>> {
        if !self.cyclic && self.ord[goal.0 as usize] < self.ord[start.0 as usize] {
            // A path start -> goal would go against a valid topological order.
            return None;
        }
        let states = self.nodes.len() * 2;
        let search = &mut self.search;
        if search.seen.len() < states {
            search.seen.resize(states, 0);
            search.parent.resize(states, (0, 0, 0));
        }
        search.generation = search.generation.wrapping_add(1);
        if search.generation == 0 {
            search.seen.iter_mut().for_each(|g| *g = 0);
            search.generation = 1;
        }
        let generation = search.generation;
        let start_state = start.0 * 2 + ends_recursive(t) as u32;
        search.seen[start_state as usize] = generation;
        search.queue.clear();
        search.queue.push_back(start_state);
        while let Some(state) = search.queue.pop_front() {
            let node = state / 2;
            let arrived_r = state % 2 == 1;
            if node == goal.0 && state != start_state {
                // The wrap: the new edge starts from `goal`; if it starts shared, the path
                // must not arrive through a recursive-read waiter.
                if !(arrived_r && starts_shared(t)) {
                    let mut path = Vec::new();
                    let mut s = state;
                    while s != start_state {
                        let (p, e, ty) = search.parent[s as usize];
                        path.push((e, ty));
                        s = p;
                    }
                    path.reverse();
                    return Some(path);
                }
                continue;
            }
            for &e in &self.out[node as usize] {
                let edge = &self.edges[e as usize];
                let allowed = if arrived_r { edge.types & (EN | ER) } else { edge.types };
                if allowed == 0 {
                    continue;
                }
                let to = edge.to.0;
                let (ty, rec) = if allowed & EN != 0 {
                    (EN, false)
                } else if allowed & SN != 0 {
                    (SN, false)
                } else if allowed & ER != 0 {
                    (ER, true)
                } else {
                    (SR, true)
                };
                let next = to * 2 + rec as u32;
                // Arriving through an `*N` edge dominates arriving through an `*R` one.
                if search.seen[next as usize] == generation
                    || (rec && search.seen[(to * 2) as usize] == generation)
                {
                    continue;
                }
                search.seen[next as usize] = generation;
                search.parent[next as usize] = (state, e, ty);
                search.queue.push_back(next);
            }
        }
        None
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
                })
            })
            .collect();
        (g, ids)
    }

    fn w() -> Witness {
        let a = WitnessAcq { mode: Mode::Write, trylock: false, site: SiteRef::None, trace: 0 };
        Witness { thread: "t".into(), from: a, to: a }
    }

    #[test]
    fn recursive_then_shared_breaks_a_cycle() {
        let (mut g, c) = graph(2);
        // A -(SR)-> B exists; new edge B -(SR)-> A: *R followed by S* at both joints: weak.
        g.add(c[0], c[1], SR, w);
        assert!(g.strong_path(c[0], c[1], SR).is_none());
        // New edge B -(EN)-> A closes a strong cycle: A -(SR)-> B -(EN)-> A? SR ends R, EN
        // starts E: fine; EN ends N: fine.
        assert!(g.strong_path(c[0], c[1], EN).is_some());
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
        for _ in 0..30 {
            let (mut g, c) = graph(40);
            for _ in 0..120 {
                let (a, b) = (rnd(40) as usize, rnd(40) as usize);
                if a == b {
                    continue;
                }
                let (a, b) = if rnd(10) < 8 { (a.min(b), a.max(b)) } else { (a, b) };
                let fast = g.strong_path(c[b], c[a], EN).is_some();
                let cyclic = std::mem::replace(&mut g.cyclic, true);
                let full = g.strong_path(c[b], c[a], EN).is_some();
                g.cyclic = cyclic;
                assert_eq!(fast, full, "edge {a}->{b}");
                g.add(c[a], c[b], EN, w);
                if !g.cyclic {
                    for e in &g.edges {
                        assert!(g.ord[e.from.0 as usize] < g.ord[e.to.0 as usize]);
                    }
                }
            }
        }
    }

    #[test]
    fn prefers_a_strong_alternative() {
        let (mut g, c) = graph(3);
        // A -> B has both ER and EN; B -(SN)-> C; new C -(EN)-> A.
        g.add(c[0], c[1], ER | EN, w);
        g.add(c[1], c[2], SN, w);
        let p = g.strong_path(c[0], c[2], EN).expect("strong via EN");
        assert_eq!(p.iter().map(|s| s.1).collect::<Vec<_>>(), vec![EN, SN]);
    }
}
