//! The report model's graph section as a [`DepGraph`], so the one strong-path search runs
//! over merged documents too (`lockdep-report merge`).

use std::collections::HashMap;

use super::Graph;
use crate::strong_path::Adjacency;

impl Graph {
    /// This graph as an [`Adjacency`]: node `i` is `self.classes[i]`, and each edge's id is
    /// its index in `self.edges`. Edges naming a class id the document does not list are left
    /// out.
    pub fn adjacency(&self) -> Adjacency {
        let pos: HashMap<u32, u32> =
            self.classes.iter().enumerate().map(|(i, c)| (c.id, i as u32)).collect();
        let mut adj = Adjacency::new(self.classes.len());
        for (i, e) in self.edges.iter().enumerate() {
            if let (Some(&from), Some(&to)) = (pos.get(&e.from), pos.get(&e.to)) {
                adj.add(i as u32, from, to, e.types.iter().collect());
            }
        }
        adj
    }
}

#[cfg(test)]
mod tests {
    use crate::report;
    use crate::strong_path::{strong_path, DepGraph, Scratch};
    use crate::vocab::DepType::EN;

    #[test]
    fn reads_a_report_graph_by_class_id() {
        let acq = |c: &str| report::Acquisition {
            class: c.into(),
            subclass: 0,
            mode: crate::vocab::Mode::Write,
            trylock: false,
            site: None,
            stack: vec![],
            instance: None,
            node: Default::default(),
        };
        let class = |id: u32, name: &str| report::Class {
            id,
            name: name.into(),
            site: None,
            wait: Default::default(),
            node: Default::default(),
        };
        let edge = |from: u32, to: u32, a: &str, b: &str| report::Edge {
            from,
            to,
            types: vec![EN],
            witness: report::ChainLink {
                from: acq(a),
                to: acq(b),
                types: vec![EN],
                thread: "t".into(),
                origin: None,
            },
        };
        let g = report::Graph {
            classes: vec![class(7, "A"), class(3, "B")],
            edges: vec![edge(7, 3, "A", "B"), edge(3, 99, "B", "?")],
        };
        let adj = g.adjacency();
        assert_eq!(adj.node_count(), 2);
        // Closing B -> A with EN: the path A -> B is edge 0.
        let (_, p) = strong_path(&adj, &mut Scratch::default(), 0, 1, EN.into()).unwrap();
        assert_eq!(p, [(0, EN)]);
    }
}
