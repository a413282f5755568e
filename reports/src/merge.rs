//! Merging report documents: the union of their class graphs, and the search for the cycles that
//! no single document saw.
//!
//! Classes are matched by [`Class::identity`] (name + definition site). Each merged edge keeps
//! its first witness (with `origin` = the source file name) and the union of the dependency
//! types seen. Reports are kept and deduplicated by [`Report::fingerprint`].
//!
//! # Cycle search
//! After the union, the graph is split into strongly connected components (petgraph's Tarjan,
//! O(V + E)); only non-trivial components can hold a cycle. Inside each, for each edge not yet
//! covered by a found cycle, the validator's own strong-path search
//! ([`lockdep_core::strong_path`]) finds the shortest *strong* cycle through it, so merge and
//! the live validator (and `lockdep-report replay`) apply one rule; the report's scenario comes
//! from the validator's builder too ([`lockdep_core::report::cycle_scenario`]). The search is
//! bounded by [`MAX_NEW_CYCLES`] and [`SEARCH_BUDGET`]; when a bound is hit,
//! [`Merged::truncated`] says so.

use std::collections::{HashMap, HashSet};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use lockdep_core::strong_path::{strong_path, Adjacency, PathStep, Scratch};

use crate::{cycle_scenario, ChainLink, Class, DepTypes, Document, Edge, Graph, Kind, Report};

/// At most this many new cycles are reported by one merge.
pub const MAX_NEW_CYCLES: usize = 1000;
/// At most this many edge visits are spent on the cycle search.
pub const SEARCH_BUDGET: u64 = 200_000_000;

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
    let mut masks: Vec<DepTypes> = Vec::new();
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
            let mask: DepTypes = e.types.iter().collect();
            match edge_ids.get(&(from, to)) {
                Some(&i) => {
                    masks[i] = masks[i].union(mask);
                    edges[i].types = masks[i].to_vec();
                }
                None => {
                    e.witness.origin.get_or_insert_with(|| origin.clone());
                    edge_ids.insert((from, to), edges.len());
                    masks.push(mask);
                    edges.push(Edge { from, to, types: mask.to_vec(), witness: e.witness });
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

struct Search<'a> {
    n_classes: usize,
    edges: &'a [Edge],
    masks: &'a [DepTypes],
    found: usize,
    truncated: bool,
}

impl<'a> Search<'a> {
    fn new(classes: &[Class], edges: &'a [Edge], masks: &'a [DepTypes]) -> Search<'a> {
        Search { n_classes: classes.len(), edges, masks, found: 0, truncated: false }
    }

    /// Calls `emit` with each new strong cycle (merged edge indices and the dependency type
    /// used on each); `emit` says whether the cycle was new.
    fn run(&mut self, emit: &mut dyn FnMut(&[PathStep]) -> bool) {
        let mut g: DiGraph<(), usize> = DiGraph::with_capacity(self.n_classes, self.edges.len());
        for _ in 0..self.n_classes {
            g.add_node(());
        }
        for (i, e) in self.edges.iter().enumerate() {
            if e.from != e.to && !self.masks[i].is_empty() {
                g.add_edge(NodeIndex::new(e.from as usize), NodeIndex::new(e.to as usize), i);
            }
        }
        let mut covered = vec![false; self.edges.len()];
        let mut pos = vec![u32::MAX; self.n_classes];
        let mut scratch = Scratch::default();
        for scc in tarjan_scc(&g) {
            if scc.len() < 2 {
                continue;
            }
            let mut sorted: Vec<usize> = scc.iter().map(|n| n.index()).collect();
            sorted.sort_unstable();
            for (i, &c) in sorted.iter().enumerate() {
                pos[c] = i as u32;
            }
            // The component alone, in local indices, edges in index order.
            let mut adj = Adjacency::new(sorted.len());
            let mut local: Vec<(u32, u32, usize)> = Vec::new();
            for (i, &c) in sorted.iter().enumerate() {
                let mut out: Vec<(u32, usize)> = g
                    .edges(NodeIndex::new(c))
                    .filter_map(|er| {
                        use petgraph::visit::EdgeRef;
                        let to = pos[er.target().index()];
                        (to != u32::MAX).then_some((to, *er.weight()))
                    })
                    .collect();
                out.sort_unstable_by_key(|&(_, e)| e);
                for (to, e) in out {
                    adj.add(e as u32, i as u32, to, self.masks[e]);
                    local.push((i as u32, to, e));
                }
            }
            for (u, w, e) in local {
                if covered[e] {
                    continue;
                }
                if self.found >= MAX_NEW_CYCLES || scratch.visits > SEARCH_BUDGET {
                    self.truncated = true;
                    return;
                }
                // A strong path w -> ... -> u closed by e = u -> w.
                if let Some((t, path)) = strong_path(&adj, &mut scratch, w, u, self.masks[e]) {
                    let cycle: Vec<PathStep> = std::iter::once((e as u32, t)).chain(path).collect();
                    for &(ce, _) in &cycle {
                        covered[ce as usize] = true;
                    }
                    if emit(&cycle) {
                        self.found += 1;
                    }
                }
                covered[e] = true;
            }
            for &c in &sorted {
                pos[c] = u32::MAX;
            }
        }
    }
}

fn cycle_report(cycle: &[PathStep], edges: &[Edge]) -> Report {
    let chain: Vec<ChainLink> =
        cycle.iter().map(|&(e, _)| edges[e as usize].witness.clone()).collect();
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
    let scenario = cycle_scenario(&chain);
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
    use crate::{Acquisition, DepType, Edge, Mode};

    fn doc(name: &str, edges: &[(&str, &str, DepType)]) -> Document {
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
                        node: Default::default(),
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
                instance: None,
                node: Default::default(),
            };
            d.graph.edges.push(Edge {
                from: ids[*a],
                to: ids[*b],
                types: vec![*t],
                witness: ChainLink {
                    from: acq(a),
                    to: acq(b),
                    types: vec![*t],
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
        let m =
            run(vec![doc("p", &[("A", "B", DepType::EN)]), doc("q", &[("B", "A", DepType::EN)])]);
        assert_eq!(m.new_cycles, 1);
        let r = &m.document.reports[0];
        assert_eq!(r.fingerprint(), "circular_dependency:A,B");
        let origins: Vec<_> = r.chain.iter().map(|l| l.origin.clone().unwrap()).collect();
        assert_eq!(origins, ["d0.json", "d1.json"]);
    }

    #[test]
    fn recursive_read_then_shared_holder_is_not_strong() {
        // A -(ER)-> B -(SN)-> A: the ER edge ends in a recursive reader, the next starts shared.
        let m =
            run(vec![doc("p", &[("A", "B", DepType::ER)]), doc("q", &[("B", "A", DepType::SN)])]);
        assert_eq!(m.new_cycles, 0);
        // Wrap-around: A -(SN)-> B -(ER)-> A is also weak (ER followed by SN at the wrap).
        let m =
            run(vec![doc("p", &[("A", "B", DepType::SN)]), doc("q", &[("B", "A", DepType::ER)])]);
        assert_eq!(m.new_cycles, 0);
        // With an EN sighting on B -> A as well, the cycle is strong.
        let m = run(vec![
            doc("p", &[("A", "B", DepType::ER)]),
            doc("q", &[("B", "A", DepType::SN)]),
            doc("r", &[("B", "A", DepType::EN)]),
        ]);
        assert_eq!(m.new_cycles, 1);
        assert_eq!(m.document.graph.edges[1].types, [DepType::EN, DepType::SN]);
    }

    #[test]
    fn classes_match_by_identity_and_first_witness_wins() {
        let m = run(vec![
            doc("p", &[("A", "B", DepType::EN)]),
            doc("q", &[("A", "B", DepType::SR), ("B", "C", DepType::EN)]),
        ]);
        let g = &m.document.graph;
        assert_eq!(g.classes.len(), 3);
        assert_eq!(g.edges.len(), 2);
        assert_eq!(g.edges[0].witness.origin.as_deref(), Some("d0.json"));
        assert_eq!(g.edges[0].types, [DepType::EN, DepType::SR]);
        assert_eq!(m.new_cycles, 0);
    }

    #[test]
    fn three_way_cycle_and_duplicates_are_reported_once() {
        let m = run(vec![
            doc("p", &[("A", "B", DepType::EN)]),
            doc("q", &[("B", "C", DepType::EN)]),
            doc("r", &[("C", "A", DepType::EN), ("A", "B", DepType::EN)]),
        ]);
        assert_eq!(m.new_cycles, 1);
        assert_eq!(m.document.reports[0].classes, ["A", "B", "C"]);
        assert_eq!(m.document.reports[0].scenario.len(), 6);
    }
}
