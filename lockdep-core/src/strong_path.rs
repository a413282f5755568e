//! The strong-path search: the one place that decides whether a cycle of lock classes is a
//! possible deadlock.
//!
//! A path is *strong* when no edge ending in a recursive-read waiter (`*R`) is followed by an
//! edge starting from a shared holder (`S*`): a recursive reader never waits for a reader. A
//! cycle is a deadlock when it is strong all the way round, the wrap-around included.
//!
//! The search walks any [`DepGraph`]: the live validator's incremental graph, or the `graph`
//! section of a report document ([`Graph::adjacency`](crate::report::Graph::adjacency)), which is how `lockdep-report merge` finds
//! the cycles that no single process saw.
//!
//! ```
//! use lockdep_core::strong_path::{strong_path, Adjacency, Scratch};
//! use lockdep_core::vocab::{DepType, DepTypes};
//!
//! // A -(SR)-> B exists. Closing it with B -(SR)-> A is weak; with B -(EN)-> A it is strong.
//! let mut g = Adjacency::new(2);
//! g.add(0, 0, 1, DepType::SR.into());
//! let mut scratch = Scratch::default();
//! assert!(strong_path(&g, &mut scratch, 0, 1, DepType::SR.into()).is_none());
//! let (closing, path) = strong_path(&g, &mut scratch, 0, 1, DepType::EN.into()).unwrap();
//! assert_eq!((closing, path), (DepType::EN, vec![(0, DepType::SR)]));
//! ```

use std::collections::VecDeque;

use crate::vocab::{DepType, DepTypes};

/// One step of a path: the caller's edge id and the dependency type the path uses on it.
pub type PathStep = (u32, DepType);

/// A dependency graph the search can walk. Nodes are `0..node_count()`; each out edge carries
/// an id that means something to the caller (it comes back in [`PathStep`]s), its target and
/// the set of dependency types seen on it.
pub trait DepGraph {
    /// How many nodes there are.
    fn node_count(&self) -> usize;
    /// Calls `f(edge, to, types)` for each edge out of `node`.
    fn for_each_out(&self, node: u32, f: impl FnMut(u32, u32, DepTypes));
}

/// Reusable bookkeeping of the search, indexed by state (node * 2 + "arrived through a
/// recursive-read waiter"): no hashing and no allocation per search once grown.
#[derive(Default)]
pub struct Scratch {
    /// Generation in which each state was reached; `generation` marks "seen in this search".
    seen: Vec<u32>,
    /// How each state was reached: (previous state, edge, dependency type used).
    parent: Vec<(u32, u32, DepType)>,
    queue: VecDeque<u32>,
    generation: u32,
    /// Edges looked at by every search so far, for callers that bound their work.
    pub visits: u64,
}

impl Scratch {
    fn begin(&mut self, nodes: usize) -> u32 {
        let states = nodes * 2;
        if self.seen.len() < states {
            self.seen.resize(states, 0);
            self.parent.resize(states, (0, 0, DepType::EN));
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.seen.iter_mut().for_each(|g| *g = 0);
            self.generation = 1;
        }
        self.queue.clear();
        self.generation
    }
}

/// A strong path `start -> ... -> goal` that closes a strong cycle with an edge
/// `goal -> start` seen with the types `closing`. Returns the closing edge's type the cycle
/// uses and the path, shortest first.
///
/// Breadth-first over (node, "arrived through a `*R` edge") states; arriving through an `*N`
/// edge dominates arriving through an `*R` one, so it is preferred, and among the types of an
/// edge the search prefers `EN`, then `SN`, `ER`, `SR`. A closing edge that ends in a
/// non-recursive waiter is tried first.
pub fn strong_path<G: DepGraph>(
    g: &G,
    scratch: &mut Scratch,
    start: u32,
    goal: u32,
    closing: DepTypes,
) -> Option<(DepType, Vec<PathStep>)> {
    for recursive in [false, true] {
        let closing = closing.filter(|t| t.recursive_waiter() == recursive);
        if closing.is_empty() {
            continue;
        }
        if let Some(found) = search(g, scratch, start, goal, recursive, closing) {
            return Some(found);
        }
    }
    None
}

fn search<G: DepGraph>(
    g: &G,
    s: &mut Scratch,
    start: u32,
    goal: u32,
    start_recursive: bool,
    closing: DepTypes,
) -> Option<(DepType, Vec<PathStep>)> {
    let generation = s.begin(g.node_count());
    let start_state = start * 2 + start_recursive as u32;
    s.seen[start_state as usize] = generation;
    s.queue.push_back(start_state);
    while let Some(state) = s.queue.pop_front() {
        let node = state / 2;
        let arrived_r = state % 2 == 1;
        if node == goal && state != start_state {
            // The wrap: the closing edge must be allowed after the path's last edge.
            if let Some(t) = closing.iter().find(|t| t.may_follow(arrived_r)) {
                let mut path = Vec::new();
                let mut at = state;
                while at != start_state {
                    let (prev, e, ty) = s.parent[at as usize];
                    path.push((e, ty));
                    at = prev;
                }
                path.reverse();
                return Some((t, path));
            }
            continue;
        }
        g.for_each_out(node, |e, to, types| {
            s.visits += 1;
            let allowed = types.filter(|t| t.may_follow(arrived_r));
            // Preference: EN, SN (arrive non-recursive), then ER, SR.
            let Some(ty) = [DepType::EN, DepType::SN, DepType::ER, DepType::SR]
                .into_iter()
                .find(|&t| allowed.contains(t))
            else {
                return;
            };
            let rec = ty.recursive_waiter();
            let next = to * 2 + rec as u32;
            if s.seen[next as usize] == generation
                || (rec && s.seen[(to * 2) as usize] == generation)
            {
                return;
            }
            s.seen[next as usize] = generation;
            s.parent[next as usize] = (state, e, ty);
            s.queue.push_back(next);
        });
    }
    None
}

/// Out-lists of a dependency graph given as nodes and typed edges: the shape of a report
/// document's `graph` section.
#[derive(Clone, Debug, Default)]
pub struct Adjacency {
    out: Vec<Vec<(u32, u32, DepTypes)>>,
}

impl Adjacency {
    /// A graph of `nodes` nodes and no edge.
    pub fn new(nodes: usize) -> Adjacency {
        Adjacency { out: vec![Vec::new(); nodes] }
    }

    /// Adds edge `edge` = `from -> to` with the types `types`.
    ///
    /// # Panics
    /// When `from` or `to` is not a node.
    pub fn add(&mut self, edge: u32, from: u32, to: u32, types: DepTypes) {
        assert!((to as usize) < self.out.len(), "edge {edge} to missing node {to}");
        self.out[from as usize].push((edge, to, types));
    }
}

impl DepGraph for Adjacency {
    fn node_count(&self) -> usize {
        self.out.len()
    }

    fn for_each_out(&self, node: u32, mut f: impl FnMut(u32, u32, DepTypes)) {
        for &(e, to, types) in &self.out[node as usize] {
            f(e, to, types);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DepType::*;

    fn graph(edges: &[(u32, u32, &[DepType])]) -> Adjacency {
        let n = edges.iter().map(|&(a, b, _)| a.max(b) + 1).max().unwrap_or(0);
        let mut g = Adjacency::new(n as usize);
        for (i, &(a, b, t)) in edges.iter().enumerate() {
            g.add(i as u32, a, b, t.iter().collect());
        }
        g
    }

    #[test]
    fn recursive_then_shared_breaks_a_cycle() {
        let g = graph(&[(0, 1, &[SR])]);
        let mut s = Scratch::default();
        // A -(SR)-> B, closing B -(SR)-> A: *R followed by S* at both joints: weak.
        assert!(strong_path(&g, &mut s, 0, 1, SR.into()).is_none());
        // Closing with EN: SR ends R, EN starts E; EN ends N: strong.
        assert!(strong_path(&g, &mut s, 0, 1, EN.into()).is_some());
    }

    #[test]
    fn prefers_a_strong_alternative() {
        // A -> B has ER and EN; B -(SN)-> C; closing C -(EN)-> A.
        let g = graph(&[(0, 1, &[EN, ER]), (1, 2, &[SN])]);
        let (t, p) = strong_path(&g, &mut Scratch::default(), 0, 2, EN.into()).unwrap();
        assert_eq!(t, EN);
        assert_eq!(p, [(0, EN), (1, SN)]);
    }

    #[test]
    fn picks_a_closing_type_that_keeps_the_wrap_strong() {
        // A -(ER)-> B; closing B -> A seen as SN and EN: only EN may follow the ER edge.
        let g = graph(&[(0, 1, &[ER])]);
        let (t, _) = strong_path(&g, &mut Scratch::default(), 0, 1, [SN, EN].iter().collect())
            .expect("strong through EN");
        assert_eq!(t, EN);
        // Closing B -(ER)-> A: the path starts after a recursive waiter, and ER may follow ER.
        let (t, _) = strong_path(&g, &mut Scratch::default(), 0, 1, ER.into()).unwrap();
        assert_eq!(t, ER);
        // Closing B -(SN)-> A or B -(SR)-> A after ER: weak at the wrap.
        assert!(strong_path(&g, &mut Scratch::default(), 0, 1, SN.into()).is_none());
        assert!(strong_path(&g, &mut Scratch::default(), 0, 1, SR.into()).is_none());
    }
}
