//! Renderers. Each takes a document and returns a `String`: kernel-style text (with optional
//! colour), Graphviz DOT, SARIF 2.1.0, and a self-contained HTML page with an inline SVG graph.

pub mod dot;
pub mod github;
pub mod html;
pub mod junit;
pub mod sarif;
pub mod svg;
pub mod text;

use std::collections::{HashMap, HashSet};

use crate::{Document, Kind};

/// The graph edges `(from id, to id)` that lie on a reported cycle: every chain link of every
/// `circular_dependency` report, matched to the graph by class name.
pub fn cycle_edges(doc: &Document) -> HashSet<(u32, u32)> {
    let mut by_name: HashMap<&str, Vec<u32>> = HashMap::new();
    for c in &doc.graph.classes {
        by_name.entry(c.name.as_str()).or_default().push(c.id);
    }
    let wanted: HashSet<(&str, &str)> = doc
        .reports
        .iter()
        .filter(|r| r.kind == Kind::CircularDependency)
        .flat_map(|r| r.chain.iter().map(|l| (l.from.class.as_str(), l.to.class.as_str())))
        .collect();
    let name_of: HashMap<u32, &str> =
        doc.graph.classes.iter().map(|c| (c.id, c.name.as_str())).collect();
    doc.graph
        .edges
        .iter()
        .filter(|e| match (name_of.get(&e.from), name_of.get(&e.to)) {
            (Some(a), Some(b)) => wanted.contains(&(*a, *b)),
            _ => false,
        })
        .map(|e| (e.from, e.to))
        .collect()
}
