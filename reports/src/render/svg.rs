//! The class graph as inline SVG, laid out on a circle, with cycle edges highlighted.
//!
//! Large graphs are cut down to the classes that appear in reports (and their neighbours on
//! reported cycles) so the picture stays readable; the caption says how many were left out.

use std::collections::{HashMap, HashSet};
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

/// The graph's own style sheet, inside the `<svg>` so the picture also renders when the
/// element is saved on its own. Every rule is scoped to `.graph`.
const STYLE: &str = concat!(
    ".graph .edge{fill:none;stroke:#999;stroke-width:1.3}",
    ".graph .edge.hot{stroke:#c00;stroke-width:2.5}",
    ".graph .edge.focus{stroke:#e80;stroke-width:4}",
    ".graph .node circle{fill:#fff;stroke:#333;stroke-width:1.5}",
    ".graph .node.hot circle{fill:#fdd;stroke:#c00;stroke-width:2}",
    ".graph .node.focus circle{fill:#fc6;stroke:#e80;stroke-width:3}",
    ".graph text{font:12px ui-monospace,monospace;fill:#222}",
    ".graph .node.hot text{fill:#a00;font-weight:bold}",
    ".graph .node.event circle{stroke-dasharray:3 2}",
    ".graph .node.event text{font-style:italic}",
    ".graph .elabel{fill:#666;font-size:10px}",
    ".graph .elabel.hot{fill:#c00;font-weight:bold}",
    ".graph .caption{fill:#555}"
);

/// Approximate width of one character of the 12px monospace label font.
const CHAR_W: f64 = 7.3;

/// The order of the classes on the circle: the classes of each reported cycle next to each
/// other (in chain order), then the rest by id, so a cycle is drawn as one arc of the circle.
fn circle_order(doc: &Document, keep: &[u32]) -> Vec<u32> {
    let kept: HashSet<u32> = keep.iter().copied().collect();
    let mut by_name: HashMap<&str, Vec<u32>> = HashMap::new();
    for c in &doc.graph.classes {
        if kept.contains(&c.id) {
            by_name.entry(c.name.as_str()).or_default().push(c.id);
        }
    }
    let mut order = Vec::with_capacity(keep.len());
    let mut placed = HashSet::new();
    for r in &doc.reports {
        for l in &r.chain {
            for id in by_name.get(l.from.class.as_str()).into_iter().flatten() {
                if placed.insert(*id) {
                    order.push(*id);
                }
            }
        }
    }
    order.extend(keep.iter().copied().filter(|id| placed.insert(*id)));
    order
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
    let keep = circle_order(doc, &keep);
    let left_out = doc.graph.classes.len() - keep.len();
    let kept: HashSet<u32> = keep.iter().copied().collect();
    let longest = doc
        .graph
        .classes
        .iter()
        .filter(|c| kept.contains(&c.id))
        .map(|c| short(&c.name).chars().count())
        .max()
        .unwrap_or(0);
    let n = keep.len().max(1) as f64;
    let radius = (60.0 * n / std::f64::consts::TAU).max(110.0);
    let margin = (longest as f64 * CHAR_W + 30.0).max(50.0);
    let size = 2.0 * (radius + margin);
    let c = size / 2.0;
    let mut pos = HashMap::new();
    for (i, id) in keep.iter().enumerate() {
        let a = std::f64::consts::TAU * i as f64 / n - std::f64::consts::FRAC_PI_2;
        pos.insert(*id, (c + radius * a.cos(), c + radius * a.sin(), a));
    }
    let name_of: HashMap<u32, &str> =
        doc.graph.classes.iter().map(|c| (c.id, c.name.as_str())).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="graph" viewBox="0 0 {size:.0} {size:.0}" width="{size:.0}" height="{size:.0}" role="img" aria-label="lock class graph">"#
    );
    let _ = writeln!(out, "<style>{STYLE}</style>");
    out.push_str(concat!(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#999"/></marker>"##,
        r##"<marker id="arrow-hot" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#c00"/></marker></defs>"##,
        "\n"
    ));
    let node_r = 7.0;
    for e in &doc.graph.edges {
        let (Some(&(x1, y1, _)), Some(&(x2, y2, _))) = (pos.get(&e.from), pos.get(&e.to)) else {
            continue;
        };
        let is_hot = hot.contains(&(e.from, e.to));
        let (class, marker) = if is_hot { ("edge hot", "arrow-hot") } else { ("edge", "arrow") };
        let label = escape(&crate::DepType::join(&e.types));
        let from = escape(name_of.get(&e.from).copied().unwrap_or(""));
        let to = escape(name_of.get(&e.to).copied().unwrap_or(""));
        let tip = format!("{from} -> {to}: {label}");
        if e.from == e.to {
            let _ = writeln!(
                out,
                r#"<path class="{class}" data-from="{from}" data-to="{to}" d="M{:.1},{:.1} c-30,-40 30,-40 0,0" marker-end="url(#{marker})"><title>{tip}</title></path>"#,
                x1,
                y1 - node_r
            );
            continue;
        }
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        // Bend each edge slightly so A->B and B->A do not overlap.
        let (mx, my) = ((x1 + x2) / 2.0 - uy * len * 0.15, (y1 + y2) / 2.0 + ux * len * 0.15);
        let (sx, sy) = (x1 + ux * node_r, y1 + uy * node_r);
        let (tx, ty) = (x2 - ux * (node_r + 1.0), y2 - uy * (node_r + 1.0));
        let _ = writeln!(
            out,
            r#"<path class="{class}" data-from="{from}" data-to="{to}" d="M{sx:.1},{sy:.1} Q{mx:.1},{my:.1} {tx:.1},{ty:.1}" marker-end="url(#{marker})"><title>{tip}</title></path>"#
        );
        if is_hot || keep.len() <= 40 {
            // The middle of the quadratic curve, nudged outwards from it.
            let (lx, ly) = (
                0.25 * sx + 0.5 * mx + 0.25 * tx - uy * 8.0,
                0.25 * sy + 0.5 * my + 0.25 * ty + ux * 8.0 + 4.0,
            );
            let _ = writeln!(
                out,
                r#"<text class="elabel{}" x="{lx:.1}" y="{ly:.1}" text-anchor="middle">{label}</text>"#,
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
        let (lx, ly) = (x + 14.0 * a.cos(), y + 14.0 * a.sin() + 4.0);
        let full = escape(&cl.identity());
        let _ = writeln!(
            out,
            r#"<g class="node{}{}" data-class="{}"><title>{full}</title><circle cx="{x:.1}" cy="{y:.1}" r="{node_r}"/><text x="{lx:.1}" y="{ly:.1}" text-anchor="{anchor}">{}</text></g>"#,
            if cl.node == crate::NodeKind::Event { " event" } else { "" },
            if hot_node { " hot" } else { "" },
            escape(&cl.name),
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
