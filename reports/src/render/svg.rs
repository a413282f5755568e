//! The class graph as inline SVG, laid out on a circle, with cycle edges highlighted.
//!
//! Large graphs are cut down to the classes that appear in reports (and their neighbours on
//! reported cycles) so the picture stays readable; the caption says how many were left out.

use std::collections::HashSet;
use std::fmt::Write;

use super::cycle_edges;
use super::html::escape;
use crate::Document;

/// The most classes drawn; beyond this only classes named by reports are drawn.
pub const MAX_NODES: usize = 120;

fn short(name: &str) -> String {
    let n = name.chars().count();
    if n <= 28 {
        name.to_string()
    } else {
        let tail: String = name.chars().skip(n - 27).collect();
        format!("…{tail}")
    }
}

/// Renders the class graph of `doc` as an `<svg>` element.
pub fn render(doc: &Document) -> String {
    let hot = cycle_edges(doc);
    let mut keep: Vec<u32> = doc.graph.classes.iter().map(|c| c.id).collect();
    if keep.len() > MAX_NODES {
        let named: HashSet<&str> =
            doc.reports.iter().flat_map(|r| r.classes.iter().map(String::as_str)).collect();
        let on_cycle: HashSet<u32> = hot.iter().flat_map(|&(a, b)| [a, b]).collect();
        keep = doc
            .graph
            .classes
            .iter()
            .filter(|c| on_cycle.contains(&c.id) || named.contains(c.name.as_str()))
            .map(|c| c.id)
            .take(MAX_NODES)
            .collect();
    }
    let left_out = doc.graph.classes.len() - keep.len();
    let n = keep.len().max(1) as f64;
    let radius = (60.0 * n / std::f64::consts::TAU).max(120.0);
    let margin = 190.0;
    let size = 2.0 * (radius + margin);
    let c = size / 2.0;
    let mut pos = std::collections::HashMap::new();
    for (i, id) in keep.iter().enumerate() {
        let a = std::f64::consts::TAU * i as f64 / n - std::f64::consts::FRAC_PI_2;
        pos.insert(*id, (c + radius * a.cos(), c + radius * a.sin(), a));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="graph" viewBox="0 0 {size:.0} {size:.0}" width="{size:.0}" height="{size:.0}" role="img" aria-label="lock class graph">"#
    );
    out.push_str(concat!(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>"##,
        r##"<marker id="arrow-hot" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c00"/></marker></defs>"##,
        "\n"
    ));
    let node_r = 6.0;
    for e in &doc.graph.edges {
        let (Some(&(x1, y1, _)), Some(&(x2, y2, _))) = (pos.get(&e.from), pos.get(&e.to)) else {
            continue;
        };
        let is_hot = hot.contains(&(e.from, e.to));
        let (class, marker) = if is_hot { ("edge hot", "arrow-hot") } else { ("edge", "arrow") };
        let label = escape(&e.types.join(","));
        if e.from == e.to {
            let _ = writeln!(
                out,
                r#"<path class="{class}" d="M{:.1},{:.1} c-30,-40 30,-40 0,0" marker-end="url(#{marker})"><title>{label}</title></path>"#,
                x1,
                y1 - node_r
            );
            continue;
        }
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        // Bend each edge slightly so A->B and B->A do not overlap.
        let (mx, my) = ((x1 + x2) / 2.0 - uy * len * 0.12, (y1 + y2) / 2.0 + ux * len * 0.12);
        let (sx, sy) = (x1 + ux * node_r, y1 + uy * node_r);
        let (tx, ty) = (x2 - ux * (node_r + 2.0), y2 - uy * (node_r + 2.0));
        let _ = writeln!(
            out,
            r#"<path class="{class}" d="M{sx:.1},{sy:.1} Q{mx:.1},{my:.1} {tx:.1},{ty:.1}" marker-end="url(#{marker})"><title>{label}</title></path>"#
        );
        if is_hot || keep.len() <= 40 {
            let _ = writeln!(
                out,
                r#"<text class="elabel{}" x="{mx:.1}" y="{my:.1}">{label}</text>"#,
                if is_hot { " hot" } else { "" }
            );
        }
    }
    for cl in &doc.graph.classes {
        let Some(&(x, y, a)) = pos.get(&cl.id) else { continue };
        let hot_node = hot.iter().any(|&(f, t)| f == cl.id || t == cl.id);
        let anchor = if a.cos() < -0.1 {
            "end"
        } else if a.cos() > 0.1 {
            "start"
        } else {
            "middle"
        };
        let (lx, ly) = (x + 12.0 * a.cos(), y + 12.0 * a.sin() + 4.0);
        let full = escape(&cl.identity());
        let _ = writeln!(
            out,
            r#"<g class="node{}"><title>{full}</title><circle cx="{x:.1}" cy="{y:.1}" r="{node_r}"/><text x="{lx:.1}" y="{ly:.1}" text-anchor="{anchor}">{}</text></g>"#,
            if hot_node { " hot" } else { "" },
            escape(&short(&cl.name))
        );
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            r#"<text class="caption" x="10" y="{:.0}">{left_out} classes not on a report are not drawn</text>"#,
            size - 10.0
        );
    }
    out.push_str("</svg>\n");
    out
}
