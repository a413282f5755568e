//! Graphviz DOT of a document's class graph; edges on reported cycles are red and bold, and
//! every edge is labelled with its dependency types. Event nodes (a condvar, a channel, a
//! thread's exit, a barrier, a once: what a wait waits for) are dashed ellipses labelled
//! `event <name>`, locks are boxes.

use std::fmt::Write;

use super::cycle_edges;
use crate::{Document, NodeKind};

/// Quotes a string as a DOT ID.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Renders the class graph of `doc` as a DOT digraph.
pub fn render(doc: &Document) -> String {
    let hot = cycle_edges(doc);
    let hot_nodes: std::collections::HashSet<u32> = hot.iter().flat_map(|&(a, b)| [a, b]).collect();
    let mut out = String::new();
    let _ = writeln!(out, "digraph lockdep {{");
    let _ = writeln!(out, "  label={};", quote(&doc.program));
    let _ = writeln!(out, "  labelloc=t;");
    let _ = writeln!(out, "  node [shape=box, fontname=\"monospace\"];");
    let _ = writeln!(out, "  edge [fontname=\"monospace\", fontsize=10];");
    for c in &doc.graph.classes {
        let mut attrs = match c.node {
            NodeKind::Lock => format!("label={}", quote(&c.name)),
            NodeKind::Event => {
                format!(
                    "label={}, shape=ellipse, style=dashed",
                    quote(&format!("event {}", c.name))
                )
            }
        };
        if let Some(site) = &c.site {
            let _ = write!(attrs, ", tooltip={}", quote(&site.to_string()));
        }
        if hot_nodes.contains(&c.id) {
            attrs.push_str(", color=red, penwidth=2");
        }
        let _ = writeln!(out, "  c{} [{attrs}];", c.id);
    }
    for e in &doc.graph.edges {
        let mut attrs = format!("label={}", quote(&crate::DepType::join(&e.types)));
        if hot.contains(&(e.from, e.to)) {
            attrs.push_str(", color=red, fontcolor=red, style=bold, penwidth=2");
        }
        let _ = writeln!(out, "  c{} -> c{} [{attrs}];", e.from, e.to);
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_quotes_and_backslashes() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
