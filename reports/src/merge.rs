//! Merging report documents: the union of their class graphs, and the search for the cycles that
//! no single document saw.
//!
//! Classes are matched by [`Class::identity`] (name + definition site). Each merged edge keeps
//! its first witness (with `origin` = the source file name) and the union of the dependency
//! types seen. Reports are kept and deduplicated by [`Report::fingerprint`].
//!
//! # Cycle search
//! After the union, the graph is split into strongly connected components (petgraph's Tarjan,
//! O(V + E)); only non-trivial components can hold a cycle. Inside each, a breadth-first search
//! over the states (class, "last edge ended in a recursive-read waiter") finds, for each edge not
//! yet covered by a found cycle, the shortest *strong* cycle through it: no edge ending in a
//! recursive waiter (`*R`) followed by an edge starting from a shared holder (`S*`), the
//! wrap-around included. The search is bounded by [`MAX_NEW_CYCLES`] and [`SEARCH_BUDGET`]; when
//! a bound is hit, [`Merged::truncated`] says so.

use std::collections::{HashMap, HashSet};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::{ChainLink, Class, Document, Edge, Graph, Kind, Mode, Report, Step};

/// At most this many new cycles are reported by one merge.
pub const MAX_NEW_CYCLES: usize = 1000;
/// At most this many edge visits are spent on the cycle search.
pub const SEARCH_BUDGET: u64 = 200_000_000;

/// Exclusive holder, non-recursive waiter.
const EN: u8 = 1;
/// Exclusive holder, recursive waiter.
const ER: u8 = 2;
/// Shared holder, non-recursive waiter.
const SN: u8 = 4;
/// Shared holder, recursive waiter.
const SR: u8 = 8;
const TYPE_NAMES: [(u8, &str); 4] = [(EN, "EN"), (ER, "ER"), (SN, "SN"), (SR, "SR")];

fn mask_of(types: &[String]) -> u8 {
    types
        .iter()
        .filter_map(|t| TYPE_NAMES.iter().find(|(_, n)| n == t).map(|(b, _)| *b))
        .fold(0, |m, b| m | b)
}

fn names_of(mask: u8) -> Vec<String> {
    TYPE_NAMES.iter().filter(|(b, _)| mask & b != 0).map(|(_, n)| n.to_string()).collect()
}

/// The result of a merge.
#[derive(Clone, Debug)]
pub struct Merged {
    /// The merged document: union graph, all reports, and the new cycles appended.
    pub document: Document,
    /// How many `circular_dependency` reports the merge added.
    pub new_cycles: usize,
    /// Whether the cycle search stopped early at [`MAX_NEW_CYCLES`] or [`SEARCH_BUDGET`].
    pub truncated: bool,
    /// Where each report of `document.reports` comes from (same index): the `program` of the
    /// document it was read from, or `merge of FILE, FILE` (the edges' origins) for a cycle
    /// the merge found.
    pub sources: Vec<String>,
}

/// Merges documents, each with its origin (a file name), and reports the new cycles.
pub fn merge(inputs: impl IntoIterator<Item = (String, Document)>) -> Merged {
    let mut classes: Vec<Class> = Vec::new();
    let mut class_ids: HashMap<String, u32> = HashMap::new();
    let mut edges: Vec<Edge> = Vec::new();
    let mut masks: Vec<u8> = Vec::new();
    let mut edge_ids: HashMap<(u32, u32), usize> = HashMap::new();
    let mut reports: Vec<Report> = Vec::new();
    let mut fingerprints: HashSet<String> = HashSet::new();
    let mut programs: Vec<String> = Vec::new();
    let mut sources: Vec<String> = Vec::new();

    for (origin, doc) in inputs {
        programs.push(doc.program.clone());
        let mut local: HashMap<u32, u32> = HashMap::with_capacity(doc.graph.classes.len());
        for c in doc.graph.classes {
            let next = classes.len() as u32;
            let id = *class_ids.entry(c.identity()).or_insert(next);
            if id == next {
                classes.push(Class { id, ..c.clone() });
            }
            local.insert(c.id, id);
        }
        for mut e in doc.graph.edges {
            let (Some(&from), Some(&to)) = (local.get(&e.from), local.get(&e.to)) else {
                continue; // an edge to a class the document does not list: ignore it
            };
            let mask = mask_of(&e.types);
            match edge_ids.get(&(from, to)) {
                Some(&i) => {
                    masks[i] |= mask;
                    edges[i].types = names_of(masks[i]);
                }
                None => {
                    e.witness.origin.get_or_insert_with(|| origin.clone());
                    edge_ids.insert((from, to), edges.len());
                    masks.push(mask);
                    edges.push(Edge { from, to, types: names_of(mask), witness: e.witness });
                }
            }
        }
        for mut r in doc.reports {
            if fingerprints.insert(r.fingerprint()) {
                for link in &mut r.chain {
                    link.origin.get_or_insert_with(|| origin.clone());
                }
                reports.push(r);
                sources.push(doc.program.clone());
            }
        }
    }

    let program = match programs.len() {
        1 => programs.pop().unwrap_or_default(),
        n => format!("merge of {n} documents"),
    };
    let (new_cycles, truncated) = {
        let mut search = Search::new(&classes, &edges, &masks);
        search.run(&mut |cycle| {
            let r = cycle_report(cycle, &edges);
            if fingerprints.insert(r.fingerprint()) {
                let mut origins: Vec<&str> =
                    r.chain.iter().filter_map(|l| l.origin.as_deref()).collect();
                origins.sort_unstable();
                origins.dedup();
                sources.push(format!("merge of {}", origins.join(", ")));
                reports.push(r);
                true
            } else {
                false
            }
        });
        (search.found, search.truncated)
    };
    let mut document = Document::new(program);
    document.reports = reports;
    document.graph = Graph { classes, edges };
    Merged { document, new_cycles, truncated, sources }
}

/// One step of a found cycle: a merged edge index and the dependency type used on it.
type CycleEdge = (usize, u8);

struct Search<'a> {
    n_classes: usize,
    edges: &'a [Edge],
    masks: &'a [u8],
    found: usize,
    truncated: bool,
    budget: u64,
}

/// Per-component BFS scratch, reused between searches.
struct Scratch {
    adj: Vec<Vec<(usize, usize)>>,
    stamp: Vec<u32>,
    epoch: u32,
    prev: Vec<(usize, usize, u8)>,
    queue: std::collections::VecDeque<usize>,
}

impl<'a> Search<'a> {
    fn new(classes: &[Class], edges: &'a [Edge], masks: &'a [u8]) -> Search<'a> {
        Search { n_classes: classes.len(), edges, masks, found: 0, truncated: false, budget: 0 }
    }

    /// Calls `emit` with each new strong cycle; `emit` says whether the cycle was new.
    fn run(&mut self, emit: &mut dyn FnMut(&[CycleEdge]) -> bool) {
        let mut g: DiGraph<(), usize> = DiGraph::with_capacity(self.n_classes, self.edges.len());
        for _ in 0..self.n_classes {
            g.add_node(());
        }
        for (i, e) in self.edges.iter().enumerate() {
            if e.from != e.to && self.masks[i] != 0 {
                g.add_edge(NodeIndex::new(e.from as usize), NodeIndex::new(e.to as usize), i);
            }
        }
        let mut covered = vec![false; self.edges.len()];
        let mut pos = vec![usize::MAX; self.n_classes];
        for scc in tarjan_scc(&g) {
            if scc.len() < 2 {
                continue;
            }
            let mut sorted: Vec<usize> = scc.iter().map(|n| n.index()).collect();
            sorted.sort_unstable();
            for (i, &c) in sorted.iter().enumerate() {
                pos[c] = i;
            }
            let mut adj: Vec<Vec<(usize, usize)>> = vec![Vec::new(); sorted.len()];
            for (i, &c) in sorted.iter().enumerate() {
                for er in g.edges(NodeIndex::new(c)) {
                    use petgraph::visit::EdgeRef;
                    let to = er.target().index();
                    if pos[to] != usize::MAX {
                        adj[i].push((pos[to], *er.weight()));
                    }
                }
                adj[i].sort_unstable_by_key(|&(_, e)| e);
            }
            let n = sorted.len();
            let mut s = Scratch {
                adj,
                stamp: vec![0; 2 * n],
                epoch: 0,
                prev: vec![(0, 0, 0); 2 * n],
                queue: Default::default(),
            };
            for u in 0..n {
                for k in 0..s.adj[u].len() {
                    let (w, e) = s.adj[u][k];
                    if covered[e] {
                        continue;
                    }
                    if self.found >= MAX_NEW_CYCLES || self.budget > SEARCH_BUDGET {
                        self.truncated = true;
                        return;
                    }
                    if let Some(cycle) = self.shortest_cycle(&mut s, u, w, e) {
                        for &(ce, _) in &cycle {
                            covered[ce] = true;
                        }
                        if emit(&cycle) {
                            self.found += 1;
                        }
                    }
                    covered[e] = true;
                }
            }
            for &c in &sorted {
                pos[c] = usize::MAX;
            }
        }
    }

    /// The shortest strong cycle that starts with edge `e` = `u -> w` (local indices).
    fn shortest_cycle(
        &mut self,
        s: &mut Scratch,
        u: usize,
        w: usize,
        e: usize,
    ) -> Option<Vec<CycleEdge>> {
        let mask = self.masks[e];
        for flag in [0usize, 1] {
            let first = mask & if flag == 1 { ER | SR } else { EN | SN };
            if first == 0 {
                continue;
            }
            let exclusive_first = first & (EN | ER) != 0;
            s.epoch += 1;
            s.queue.clear();
            let start = 2 * w + flag;
            s.stamp[start] = s.epoch;
            s.queue.push_back(start);
            while let Some(state) = s.queue.pop_front() {
                let (x, r) = (state / 2, state % 2);
                if x == u && (r == 0 || exclusive_first) {
                    // Close the cycle: pick the first edge's type so the wrap-around is strong.
                    let t0 =
                        if r == 1 || first & (EN | ER) != 0 { first & (EN | ER) } else { first };
                    let mut path = Vec::new();
                    let mut cur = state;
                    while cur != start {
                        let (p, pe, pt) = s.prev[cur];
                        path.push((pe, pt));
                        cur = p;
                    }
                    path.push((e, lowest_bit(t0)));
                    path.reverse();
                    return Some(path);
                }
                self.budget += s.adj[x].len() as u64;
                for &(y, e2) in &s.adj[x] {
                    let allowed = self.masks[e2] & if r == 1 { EN | ER } else { 0xf };
                    for (nflag, bits) in [(0usize, allowed & (EN | SN)), (1, allowed & (ER | SR))] {
                        let next = 2 * y + nflag;
                        if bits != 0 && s.stamp[next] != s.epoch {
                            s.stamp[next] = s.epoch;
                            s.prev[next] = (state, e2, lowest_bit(bits));
                            s.queue.push_back(next);
                        }
                    }
                }
            }
        }
        None
    }
}

fn lowest_bit(m: u8) -> u8 {
    m & m.wrapping_neg()
}

fn verb(mode: Mode) -> &'static str {
    match mode {
        Mode::Write | Mode::Downgraded => "lock",
        Mode::Read => "read_lock",
        Mode::RecursiveRead => "recursive_read_lock",
    }
}

fn cycle_report(cycle: &[CycleEdge], edges: &[Edge]) -> Report {
    let chain: Vec<ChainLink> = cycle.iter().map(|&(e, _)| edges[e].witness.clone()).collect();
    let classes: Vec<String> = chain.iter().map(|l| l.from.class.clone()).collect();
    let mut origins: Vec<String> = chain.iter().filter_map(|l| l.origin.clone()).collect();
    origins.sort();
    origins.dedup();
    let mut path = classes.clone();
    path.push(classes[0].clone());
    let message = format!(
        "the {} lock classes {} form a cycle that no single document saw; its edges come from {}",
        classes.len(),
        path.join(" -> "),
        origins.join(", ")
    );
    let mut scenario = Vec::new();
    for (i, l) in chain.iter().enumerate() {
        scenario.push(Step {
            thread: format!("T{i}"),
            action: format!("{}({})", verb(l.from.mode), l.from.class),
        });
    }
    for (i, l) in chain.iter().enumerate() {
        let j = (i + 1) % chain.len();
        scenario.push(Step {
            thread: format!("T{i}"),
            action: format!("{}({})  <- waits for T{j}", verb(l.to.mode), l.to.class),
        });
    }
    // As in the validator's reports, link #0 is the "new" edge: its thread is the one shown
    // acquiring, holding the edge's `from`.
    let first = chain.first().cloned();
    Report {
        kind: Kind::CircularDependency,
        title: Kind::CircularDependency.title().to_string(),
        message,
        rule: None,
        classes,
        thread: first.as_ref().map(|l| l.thread.clone()).unwrap_or_default(),
        acquiring: first.as_ref().map(|l| l.to.clone()),
        held: first.iter().map(|l| l.from.clone()).collect(),
        scenario,
        reproduce: Some(format!("lockdep-report merge {} -o merged.json", origins.join(" "))),
        chain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Acquisition, Edge};

    fn doc(name: &str, edges: &[(&str, &str, &str)]) -> Document {
        let mut d = Document::new(name);
        let mut ids: HashMap<String, u32> = HashMap::new();
        for (a, b, t) in edges {
            for c in [a, b] {
                if !ids.contains_key(*c) {
                    let id = ids.len() as u32;
                    ids.insert(c.to_string(), id);
                    d.graph.classes.push(Class {
                        id,
                        name: c.to_string(),
                        site: None,
                        wait: Default::default(),
                    });
                }
            }
            let acq = |c: &str| Acquisition {
                class: c.into(),
                subclass: 0,
                mode: Mode::Write,
                trylock: false,
                site: None,
                stack: vec![],
            };
            d.graph.edges.push(Edge {
                from: ids[*a],
                to: ids[*b],
                types: vec![t.to_string()],
                witness: ChainLink {
                    from: acq(a),
                    to: acq(b),
                    types: vec![t.to_string()],
                    thread: "t".into(),
                    origin: None,
                },
            });
        }
        d
    }

    fn run(docs: Vec<Document>) -> Merged {
        merge(docs.into_iter().enumerate().map(|(i, d)| (format!("d{i}.json"), d)))
    }

    #[test]
    fn abba_across_two_documents_is_found() {
        let m = run(vec![doc("p", &[("A", "B", "EN")]), doc("q", &[("B", "A", "EN")])]);
        assert_eq!(m.new_cycles, 1);
        let r = &m.document.reports[0];
        assert_eq!(r.fingerprint(), "circular_dependency:A,B");
        let origins: Vec<_> = r.chain.iter().map(|l| l.origin.clone().unwrap()).collect();
        assert_eq!(origins, ["d0.json", "d1.json"]);
    }

    #[test]
    fn recursive_read_then_shared_holder_is_not_strong() {
        // A -(ER)-> B -(SN)-> A: the ER edge ends in a recursive reader, the next starts shared.
        let m = run(vec![doc("p", &[("A", "B", "ER")]), doc("q", &[("B", "A", "SN")])]);
        assert_eq!(m.new_cycles, 0);
        // Wrap-around: A -(SN)-> B -(ER)-> A is also weak (ER followed by SN at the wrap).
        let m = run(vec![doc("p", &[("A", "B", "SN")]), doc("q", &[("B", "A", "ER")])]);
        assert_eq!(m.new_cycles, 0);
        // With an EN sighting on B -> A as well, the cycle is strong.
        let m = run(vec![
            doc("p", &[("A", "B", "ER")]),
            doc("q", &[("B", "A", "SN")]),
            doc("r", &[("B", "A", "EN")]),
        ]);
        assert_eq!(m.new_cycles, 1);
        assert_eq!(m.document.graph.edges[1].types, ["EN", "SN"]);
    }

    #[test]
    fn classes_match_by_identity_and_first_witness_wins() {
        let m = run(vec![
            doc("p", &[("A", "B", "EN")]),
            doc("q", &[("A", "B", "SR"), ("B", "C", "EN")]),
        ]);
        let g = &m.document.graph;
        assert_eq!(g.classes.len(), 3);
        assert_eq!(g.edges.len(), 2);
        assert_eq!(g.edges[0].witness.origin.as_deref(), Some("d0.json"));
        assert_eq!(g.edges[0].types, ["EN", "SR"]);
        assert_eq!(m.new_cycles, 0);
    }

    #[test]
    fn three_way_cycle_and_duplicates_are_reported_once() {
        let m = run(vec![
            doc("p", &[("A", "B", "EN")]),
            doc("q", &[("B", "C", "EN")]),
            doc("r", &[("C", "A", "EN"), ("A", "B", "EN")]),
        ]);
        assert_eq!(m.new_cycles, 1);
        assert_eq!(m.document.reports[0].classes, ["A", "B", "C"]);
        assert_eq!(m.document.reports[0].scenario.len(), 6);
    }
}
