//! Declared lock order from observation, and the diff between a declared order and the
//! observed graph.
//!
//! [`declaration`] writes a `lock_rules!` block (see `lockdep-macros`) with one `order` chain
//! per connected component of the (merged) class graph, in topological order, so it holds on
//! the workload it came from. A class is named in Rust by its static key; the document does
//! not hold the key's Rust name, so it is derived from the class name (`bank::accounts` ->
//! `ACCOUNTS`: the last `::` segment, upper snake case; the whole name when two classes share
//! a last segment), listed in a comment for the user to adjust. Classes without a key (named
//! after their site, `file:line:col`) and subclass nodes (`name/N`) cannot be declared and
//! are left out; a component with a cycle cannot be ordered and is listed as such.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::Document;

/// Whether a class can be named by a key in a declaration.
fn declarable(name: &str) -> bool {
    !name.contains(".rs:") && name.rsplit_once('/').is_none_or(|(_, n)| n.parse::<u32>().is_err())
}

fn upper_snake(s: &str) -> String {
    let mut o: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
        .collect();
    if o.is_empty() || o.starts_with(|c: char| c.is_ascii_digit()) {
        o.insert(0, '_');
    }
    o
}

/// The key identifier of each declarable class name.
pub fn identifiers<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, String> {
    let names: BTreeSet<&str> = names.into_iter().filter(|n| declarable(n)).collect();
    let short = |n: &str| upper_snake(n.rsplit("::").next().unwrap_or(n));
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for n in &names {
        *count.entry(short(n)).or_default() += 1;
    }
    names
        .into_iter()
        .map(|n| {
            let s = short(n);
            let id = if count[&s] > 1 { upper_snake(n) } else { s };
            (n.to_string(), id)
        })
        .collect()
}

/// The observed edges between declarable classes, by name.
fn edges(doc: &Document) -> BTreeSet<(String, String)> {
    let name: BTreeMap<u32, &str> =
        doc.graph.classes.iter().map(|c| (c.id, c.name.as_str())).collect();
    doc.graph
        .edges
        .iter()
        .filter_map(|e| Some((name.get(&e.from)?.to_string(), name.get(&e.to)?.to_string())))
        .filter(|(a, b)| a != b && declarable(a) && declarable(b))
        .collect()
}

/// Chains (topological order per weakly connected component) and cyclic components.
pub fn chains(doc: &Document) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let edges = edges(doc);
    let mut nodes: BTreeSet<&str> = BTreeSet::new();
    let mut adj: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (a, b) in &edges {
        nodes.insert(a);
        nodes.insert(b);
        adj.entry(a).or_default().insert(b);
        adj.entry(b).or_default().insert(a);
    }
    let (mut ordered, mut cyclic) = (Vec::new(), Vec::new());
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for &start in &nodes {
        if !seen.insert(start) {
            continue;
        }
        let mut comp = vec![start];
        let mut i = 0;
        while i < comp.len() {
            for &n in adj.get(comp[i]).into_iter().flatten() {
                if seen.insert(n) {
                    comp.push(n);
                }
            }
            i += 1;
        }
        let set: BTreeSet<&str> = comp.iter().copied().collect();
        let mut indeg: BTreeMap<&str, usize> = set.iter().map(|&n| (n, 0)).collect();
        for (a, b) in &edges {
            if set.contains(a.as_str()) {
                *indeg.get_mut(b.as_str()).expect("same component") += 1;
            }
        }
        // Kahn's algorithm, smallest name first, for a deterministic order.
        let mut ready: BTreeSet<&str> =
            indeg.iter().filter(|(_, d)| **d == 0).map(|(n, _)| *n).collect();
        let mut order = Vec::new();
        while let Some(n) = ready.pop_first() {
            order.push(n.to_string());
            for (_, b) in edges.iter().filter(|(a, _)| a == n) {
                let d = indeg.get_mut(b.as_str()).expect("same component");
                *d -= 1;
                if *d == 0 {
                    ready.insert(b.as_str());
                }
            }
        }
        if order.len() == set.len() {
            ordered.push(order);
        } else {
            cyclic.push(set.iter().map(|s| s.to_string()).collect());
        }
    }
    (ordered, cyclic)
}

/// A Rust declaration of the observed order (a function calling `lock_rules!`).
pub fn declaration(doc: &Document, source: &str) -> String {
    let (ordered, cyclic) = chains(doc);
    let ids = identifiers(ordered.iter().flatten().map(String::as_str));
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Lock order observed by lockdep in {source} (`lockdep-report declare`): one chain"
    );
    let _ = writeln!(
        s,
        "// per connected component of the class graph, in topological order. Each name is the"
    );
    let _ = writeln!(
        s,
        "// static `LockClassKey` of the class (derived from its name; bring them into scope):"
    );
    for (name, id) in &ids {
        let _ = writeln!(s, "//   {id} = {name:?}");
    }
    for c in &cyclic {
        let _ =
            writeln!(s, "// not declared, the observed graph has a cycle among: {}", c.join(", "));
    }
    let _ = writeln!(
        s,
        "\n/// Declares the observed lock order; call it once, before the locks are used."
    );
    let _ = writeln!(s, "pub fn declare_observed_lock_order() {{");
    if ordered.is_empty() {
        let _ = writeln!(s, "    // nothing to declare");
    } else {
        let _ = writeln!(s, "    lockdep_core::lock_rules! {{");
        for chain in &ordered {
            let names: Vec<&str> = chain.iter().map(|n| ids[n].as_str()).collect();
            let _ = writeln!(s, "        order {};", names.join(" => "));
        }
        let _ = writeln!(s, "    }}");
        let _ = writeln!(s, "    .expect(\"the observed order is acyclic\");");
    }
    let _ = writeln!(s, "}}");
    s
}

/// The chains of key names declared in Rust source: `order A => B;` items of `lock_rules!`
/// and the `;`-separated chains of `lock_order!`. Paths are reduced to their last segment.
pub fn parse_declared(src: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let key = |t: &str| t.trim().rsplit("::").next().unwrap_or("").trim().to_string();
    let chain = |body: &str| -> Vec<String> { body.split("=>").map(key).collect() };
    for (macro_name, is_rules) in [("lock_rules!", true), ("lock_order!", false)] {
        let mut rest = src;
        while let Some(i) = rest.find(macro_name) {
            rest = &rest[i + macro_name.len()..];
            let Some(open) = rest.find(['{', '(', '[']) else { break };
            // The matching close bracket: rule items hold parentheses (`A(write)`).
            let mut depth = 0usize;
            let close = rest[open..]
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '{' | '(' | '[' => depth += 1,
                        '}' | ')' | ']' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(rest.len(), |(j, _)| open + j);
            for item in rest[open + 1..close].split(';') {
                let item = item.trim();
                let body = if is_rules { item.strip_prefix("order ") } else { Some(item) };
                if let Some(b) = body.filter(|b| b.contains("=>")) {
                    out.push(chain(b));
                }
            }
            rest = &rest[close..];
        }
    }
    out
}

/// The diff between a declared order and the observed graph.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Observed `a -> b` where the declaration orders `b` before `a`.
    pub contradicting: Vec<(String, String)>,
    /// Observed `a -> b` between declarable classes that the declaration does not order.
    pub undeclared: Vec<(String, String)>,
    /// Declared `x => y` (consecutive in a chain) never observed as an edge.
    pub unobserved: Vec<(String, String)>,
}

/// Compares the declared chains (key names) with the observed graph.
pub fn diff(doc: &Document, declared: &[Vec<String>]) -> Diff {
    let observed = edges(doc);
    let names = observed.iter().flat_map(|(a, b)| [a.as_str(), b.as_str()]);
    let ids = identifiers(names);
    let id = |n: &str| ids.get(n).cloned().unwrap_or_default();
    // Reachability over the declared order (transitive).
    let mut succ: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for c in declared {
        for w in c.windows(2) {
            succ.entry(&w[0]).or_default().insert(&w[1]);
        }
    }
    let before = |x: &str, y: &str| {
        let mut stack = vec![x];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            for &m in succ.get(n).into_iter().flatten() {
                if m == y {
                    return true;
                }
                if seen.insert(m) {
                    stack.push(m);
                }
            }
        }
        false
    };
    let mut d = Diff::default();
    let mut observed_ids = BTreeSet::new();
    for (a, b) in &observed {
        let (ia, ib) = (id(a), id(b));
        observed_ids.insert((ia.clone(), ib.clone()));
        if before(&ib, &ia) {
            d.contradicting.push((a.clone(), b.clone()));
        } else if !before(&ia, &ib) {
            d.undeclared.push((a.clone(), b.clone()));
        }
    }
    for c in declared {
        for w in c.windows(2) {
            if !observed_ids.contains(&(w[0].clone(), w[1].clone())) {
                d.unobserved.push((w[0].clone(), w[1].clone()));
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(trace: &str) -> Document {
        crate::trace::replay(trace, "t").unwrap()
    }

    const NESTED: &str = r#"{"thread":"T1","op":"acquire","lock":"a","class":"bank::accounts","mode":"write"}
{"thread":"T1","op":"acquire","lock":"j","class":"bank::journal","mode":"write"}
{"thread":"T1","op":"acquire","lock":"s","class":"bank::stats","mode":"write"}
{"thread":"T2","op":"acquire","lock":"x","class":"other::x","mode":"write"}
{"thread":"T2","op":"acquire","lock":"y","class":"y","mode":"write"}"#;

    #[test]
    fn one_chain_per_component_in_topological_order() {
        let d = doc(NESTED);
        let (ordered, cyclic) = chains(&d);
        assert!(cyclic.is_empty());
        assert_eq!(
            ordered,
            [vec!["bank::accounts", "bank::journal", "bank::stats"], vec!["other::x", "y"]]
        );
        let text = declaration(&d, "t");
        assert!(text.contains("order ACCOUNTS => JOURNAL => STATS;"), "{text}");
        assert!(text.contains("order X => Y;"), "{text}");
        assert!(text.contains(r#"//   ACCOUNTS = "bank::accounts""#), "{text}");
        // What it declares reads back as the same chains, and matches what was observed.
        let declared = parse_declared(&text);
        assert_eq!(declared.len(), 2);
        let diff = diff(&d, &declared);
        assert!(diff.contradicting.is_empty() && diff.undeclared.is_empty(), "{diff:?}");
    }

    #[test]
    fn diff_both_ways() {
        let d = doc(NESTED);
        let declared = parse_declared(
            "lockdep_core::lock_order! { crate::JOURNAL => ACCOUNTS; STATS => QUEUE }",
        );
        let diff = diff(&d, &declared);
        assert_eq!(diff.contradicting, [("bank::accounts".into(), "bank::journal".into())]);
        assert!(diff.undeclared.contains(&("bank::journal".into(), "bank::stats".into())));
        assert_eq!(
            diff.unobserved,
            [("JOURNAL".into(), "ACCOUNTS".into()), ("STATS".into(), "QUEUE".into())]
        );
    }

    #[test]
    fn rules_with_parentheses_do_not_end_the_block() {
        let src = r#"lockdep_core::lock_rules! {
            rule "r": B(write) requires A(write);
            order A => B => C;
        }"#;
        assert_eq!(parse_declared(src), [vec!["A", "B", "C"]]);
    }

    #[test]
    fn cycles_and_site_classes_are_not_declared() {
        let d = doc(r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write"}
{"thread":"T1","op":"acquire","lock":"B","mode":"write"}
{"thread":"T1","op":"release","lock":"B"}
{"thread":"T1","op":"release","lock":"A"}
{"thread":"T2","op":"acquire","lock":"B","mode":"write"}
{"thread":"T2","op":"acquire","lock":"A","mode":"write"}"#);
        let (ordered, cyclic) = chains(&d);
        assert!(ordered.is_empty());
        assert_eq!(cyclic, [vec!["A", "B"]]);
        assert!(declaration(&d, "t").contains("cycle among: A, B"));
        assert!(!declarable("src/lib.rs:3:5") && !declarable("mm/1") && declarable("a/b"));
    }
}
