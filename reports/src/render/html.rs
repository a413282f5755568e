//! One self-contained HTML page (inline CSS and JS, no network): a summary table, every report
//! expanded (chain with sites and stacks, scenario with one column per thread, held locks), and
//! the class graph as inline SVG with cycle edges highlighted. Everything is HTML-escaped.

use std::fmt::Write;

use crate::{Acquisition, Document, Report};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:80em}
h1{font-size:1.4em} h2{font-size:1.2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3} code,pre,.mono{font-family:ui-monospace,monospace;font-size:.9em}
.kind{color:#b00;font-weight:bold} .report{border:1px solid #ddd;border-radius:6px;padding:.2em 1em;margin:1em 0}
.report>summary{cursor:pointer;font-weight:bold;padding:.4em 0} pre.stack{margin:.2em 0 .2em 1.5em;color:#555}
.graph .edge{fill:none;stroke:#777;stroke-width:1.2} .graph .edge.hot{stroke:#c00;stroke-width:3}
.graph .node circle{fill:#fff;stroke:#333;stroke-width:1.5} .graph .node.hot circle{fill:#fdd;stroke:#c00}
.graph text{font:11px ui-monospace,monospace} .graph .elabel{fill:#666;font-size:9px} .graph .elabel.hot{fill:#c00;font-weight:bold}
.ok{color:#070}
"#;

const SCRIPT: &str = r#"
function lockdepToggle(open){document.querySelectorAll('details.report').forEach(function(d){d.open=open;});}
"#;

fn acq(out: &mut String, a: &Acquisition) {
    let _ = write!(out, "<code>{}</code> ({})", escape(&a.class), escape(a.mode.as_str()));
    if a.subclass != 0 {
        let _ = write!(out, " subclass {}", a.subclass);
    }
    if a.trylock {
        out.push_str(" [trylock]");
    }
    if let Some(site) = &a.site {
        let _ = write!(out, " at <span class=\"mono\">{}</span>", escape(&site.to_string()));
    }
    if !a.stack.is_empty() {
        out.push_str("<pre class=\"stack\">");
        for f in &a.stack {
            out.push_str(&escape(&f.function));
            if let (Some(file), Some(line)) = (&f.file, f.line) {
                let _ = write!(out, " ({}:{line})", escape(file));
            }
            out.push('\n');
        }
        out.push_str("</pre>");
    }
}

fn scenario(out: &mut String, r: &Report) {
    let mut threads: Vec<&str> = Vec::new();
    for s in &r.scenario {
        if !threads.contains(&s.thread.as_str()) {
            threads.push(&s.thread);
        }
    }
    out.push_str("<h4>Possible unsafe locking scenario</h4><table class=\"scenario\"><tr>");
    for t in &threads {
        let _ = write!(out, "<th>{}</th>", escape(t));
    }
    out.push_str("</tr>\n");
    for s in &r.scenario {
        out.push_str("<tr>");
        for t in &threads {
            if *t == s.thread {
                let _ = write!(out, "<td class=\"mono\">{}</td>", escape(&s.action));
            } else {
                out.push_str("<td></td>");
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn report(out: &mut String, i: usize, r: &Report) {
    let title = if r.title.is_empty() { r.kind.title() } else { &r.title };
    let _ = writeln!(
        out,
        "<details class=\"report\" id=\"r{i}\" open><summary>#{i} <span class=\"kind\">{}</span>: {}</summary>",
        escape(r.kind.as_str()),
        escape(title)
    );
    let _ = writeln!(out, "<p>{}</p>", escape(&r.message));
    let _ = write!(out, "<p>fingerprint <code>{}</code>", escape(&r.fingerprint()));
    if let Some(rule) = &r.rule {
        let _ = write!(out, ", rule <code>{}</code>", escape(rule));
    }
    out.push_str("</p>\n");
    if let Some(a) = &r.acquiring {
        let _ = write!(out, "<p>thread <code>{}</code>: ", escape(&r.thread));
        acq(out, a);
        out.push_str("</p>\n");
    }
    if !r.chain.is_empty() {
        out.push_str("<h4>Dependency chain</h4><table class=\"chain\"><tr><th>#</th><th>held</th><th>acquired</th><th>types</th><th>thread</th><th>origin</th></tr>\n");
        for (k, l) in r.chain.iter().enumerate() {
            let _ = write!(out, "<tr><td>{k}</td><td>");
            acq(out, &l.from);
            out.push_str("</td><td>");
            acq(out, &l.to);
            let _ = writeln!(
                out,
                "</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
                escape(&l.types.join(",")),
                escape(&l.thread),
                escape(l.origin.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</table>\n");
    }
    if !r.scenario.is_empty() {
        scenario(out, r);
    }
    let _ = write!(out, "<h4>Locks held by <code>{}</code></h4>", escape(&r.thread));
    if r.held.is_empty() {
        out.push_str("<p>none</p>\n");
    } else {
        out.push_str("<ol start=\"0\">");
        for a in &r.held {
            out.push_str("<li>");
            acq(out, a);
            out.push_str("</li>");
        }
        out.push_str("</ol>\n");
    }
    if let Some(rep) = &r.reproduce {
        let _ = writeln!(out, "<p>reproduce: <code>{}</code></p>", escape(rep));
    }
    out.push_str("</details>\n");
}

/// Renders `doc` as a complete HTML page.
pub fn render(doc: &Document) -> String {
    let mut out = String::new();
    let title = format!("lockdep: {}", doc.program);
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>{STYLE}</style>\n<script>{SCRIPT}</script></head><body>",
        escape(&title)
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(&title));
    let _ = writeln!(out, "<h2>Summary</h2>");
    if doc.reports.is_empty() {
        out.push_str("<p class=\"ok\">No lock problems found.</p>\n");
    } else {
        out.push_str("<p><button onclick=\"lockdepToggle(true)\">expand all</button> <button onclick=\"lockdepToggle(false)\">collapse all</button></p>\n");
        out.push_str("<table class=\"summary\"><tr><th>#</th><th>kind</th><th>classes</th><th>program</th></tr>\n");
        for (i, r) in doc.reports.iter().enumerate() {
            let _ = writeln!(
                out,
                "<tr><td><a href=\"#r{i}\">{i}</a></td><td class=\"kind\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
                escape(r.kind.as_str()),
                escape(&r.classes.join(", ")),
                escape(&doc.program)
            );
        }
        out.push_str("</table>\n<h2>Reports</h2>\n");
        for (i, r) in doc.reports.iter().enumerate() {
            report(&mut out, i, r);
        }
    }
    let _ = writeln!(
        out,
        "<h2>Class graph</h2><p>{} classes, {} edges; edges on reported cycles are red.</p>",
        doc.graph.classes.len(),
        doc.graph.edges.len()
    );
    out.push_str(&super::svg::render(doc));
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup() {
        assert_eq!(escape(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
