//! One self-contained HTML page (inline CSS and JS, no network): a summary table, every report
//! expanded (chain with sites and stacks, scenario with one column per thread or, beyond 4
//! threads, one row per step, held locks), and
//! the class graph as inline SVG with cycle edges highlighted. Everything is HTML-escaped.

use std::collections::HashMap;
use std::fmt::Write;

use crate::{Acquisition, Document, NodeKind, Report};

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
.report:target{border-color:#e80;box-shadow:0 0 0 2px #fc6}
.ok{color:#070} .note{color:#555;font-size:.9em} #focus-note{color:#a50;font-weight:bold}
.graph-box{border:1px solid #ddd;border-radius:6px;display:inline-block;background:#fff}
.event{font-style:italic;color:#05a} code.event{border-bottom:1px dashed #05a}
"#;

/// Progressive enhancement only: the page reads completely without JS. With JS, the
/// expand/collapse buttons are added, and the report named by the URL fragment (`#r1`, the
/// summary links) has its classes and cycle edges highlighted in the graph.
const SCRIPT: &str = r#"
function lockdepToggle(open){document.querySelectorAll('details.report').forEach(function(d){d.open=open;});}
function lockdepFocus(){
  document.querySelectorAll('.graph .focus').forEach(function(e){e.classList.remove('focus');});
  var note=document.getElementById('focus-note'); if(note){note.textContent='';}
  var m=/^#r(\d+)$/.exec(location.hash); if(!m){return;}
  var rep=document.getElementById('r'+m[1]); if(!rep){return;}
  var classes=JSON.parse(rep.getAttribute('data-classes')||'[]');
  var links=JSON.parse(rep.getAttribute('data-links')||'[]');
  var n=0;
  document.querySelectorAll('.graph .node').forEach(function(g){
    if(classes.indexOf(g.getAttribute('data-class'))>=0){g.classList.add('focus');n++;}
  });
  document.querySelectorAll('.graph .edge').forEach(function(e){
    var f=e.getAttribute('data-from'),t=e.getAttribute('data-to');
    if(links.some(function(l){return l[0]===f&&l[1]===t;})){e.classList.add('focus');}
  });
  if(note){note.textContent='graph: report #'+m[1]+' highlighted ('+classes.join(', ')+'; '+n+' of them drawn)';}
}
document.addEventListener('DOMContentLoaded',function(){
  var c=document.getElementById('controls');
  if(c){
    [['expand all',true],['collapse all',false]].forEach(function(b){
      var e=document.createElement('button'); e.type='button'; e.textContent=b[0];
      e.addEventListener('click',function(){lockdepToggle(b[1]);}); c.appendChild(e); c.appendChild(document.createTextNode(' '));
    });
  }
  lockdepFocus();
});
window.addEventListener('hashchange',lockdepFocus);
"#;

/// One side of a chain link or a held lock; an event node (what a wait waits for) is marked
/// `class="event"` and named as an event, with no mode.
fn acq(out: &mut String, a: &Acquisition) {
    match a.node {
        NodeKind::Lock => {
            let _ = write!(out, "<code>{}</code> ({})", escape(&a.class), escape(a.mode.as_str()));
        }
        NodeKind::Event => {
            let _ = write!(
                out,
                "<span class=\"event\">event</span> <code class=\"event\">{}</code>",
                escape(&a.class)
            );
        }
    }
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

/// A scenario of more threads is a list of steps, not a table with a column per thread (as in
/// the text rendering), so the page grows linearly with the report.
const SCENARIO_TABLE_MAX_THREADS: usize = 4;

fn scenario(out: &mut String, r: &Report) {
    let mut threads: Vec<&str> = Vec::new();
    let mut column: HashMap<&str, usize> = HashMap::new();
    for s in &r.scenario {
        column.entry(s.thread.as_str()).or_insert_with(|| {
            threads.push(&s.thread);
            threads.len() - 1
        });
    }
    out.push_str("<h4>Possible unsafe locking scenario</h4>");
    if threads.len() > SCENARIO_TABLE_MAX_THREADS {
        // A column per thread would make a table of threads x steps: list the steps instead.
        out.push_str("<table class=\"scenario-steps\"><tr><th>thread</th><th>step</th></tr>\n");
        for s in &r.scenario {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"mono\">{}</td></tr>",
                escape(&s.thread),
                escape(&s.action)
            );
        }
        out.push_str("</table>\n");
        return;
    }
    out.push_str("<table class=\"scenario\"><tr>");
    for t in &threads {
        let _ = write!(out, "<th>{}</th>", escape(t));
    }
    out.push_str("</tr>\n");
    for s in &r.scenario {
        out.push_str("<tr>");
        let col = column.get(s.thread.as_str()).copied().unwrap_or(0);
        for i in 0..threads.len() {
            if i == col {
                let _ = write!(out, "<td class=\"mono\">{}</td>", escape(&s.action));
            } else {
                out.push_str("<td></td>");
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn report(out: &mut String, i: usize, r: &Report, source: &str) {
    let title = if r.title.is_empty() { r.kind.title() } else { &r.title };
    let links: Vec<[&str; 2]> =
        r.chain.iter().map(|l| [l.from.class.as_str(), l.to.class.as_str()]).collect();
    let _ = writeln!(
        out,
        "<details class=\"report\" id=\"r{i}\" data-classes=\"{}\" data-links=\"{}\" open><summary>#{i} <span class=\"kind\">{}</span>: {}</summary>",
        escape(&serde_json::to_string(&r.classes).unwrap_or_default()),
        escape(&serde_json::to_string(&links).unwrap_or_default()),
        escape(r.kind.as_str()),
        escape(title)
    );
    let _ = writeln!(out, "<p class=\"note\">from <code>{}</code></p>", escape(source));
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
                escape(&crate::DepType::join(&l.types)),
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

/// Renders `doc` as a complete HTML page; each report's source is the document's `program`.
pub fn render(doc: &Document) -> String {
    render_with_sources(doc, &[])
}

/// Renders `doc` as a complete HTML page, with `sources[i]` shown as where report `i` comes
/// from (`merge::Merged::sources`); a missing entry falls back to `doc.program`.
pub fn render_with_sources(doc: &Document, sources: &[String]) -> String {
    let source = |i: usize| sources.get(i).map(String::as_str).unwrap_or(&doc.program);
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
        let _ = writeln!(out, "<p>{} report(s).</p>", doc.reports.len());
        out.push_str("<table class=\"summary\"><tr><th>#</th><th>kind</th><th>classes</th><th>program</th></tr>\n");
        for (i, r) in doc.reports.iter().enumerate() {
            let _ = writeln!(
                out,
                "<tr><td><a href=\"#r{i}\">{i}</a></td><td class=\"kind\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
                escape(r.kind.as_str()),
                escape(&r.classes.join(", ")),
                escape(source(i))
            );
        }
        out.push_str("</table>\n");
    }
    let _ = writeln!(
        out,
        "<h2>Class graph</h2><p>{} classes, {} edges; edges on reported cycles are red. Follow a report link above to highlight its classes.</p><p id=\"focus-note\"></p>",
        doc.graph.classes.len(),
        doc.graph.edges.len()
    );
    out.push_str("<div class=\"graph-box\">");
    out.push_str(&super::svg::render(doc));
    out.push_str("</div>\n");
    if !doc.reports.is_empty() {
        out.push_str("<h2>Reports</h2>\n<p id=\"controls\"></p>\n");
        for (i, r) in doc.reports.iter().enumerate() {
            report(&mut out, i, r, source(i));
        }
    }
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
