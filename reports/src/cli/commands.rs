//! The subcommands of `lockdep-report`. Each returns its exit status, or a one-line error
//! (exit status 2) that names the file.

use std::io::Write;
use std::path::Path;

use super::{CheckArgs, ColorChoice, Command, Format, Io, EXIT_OK, EXIT_REPORTS};
use crate::colour::{Paint, WARNING};
use crate::gate::{self, Baseline, Status, Suppressions};
use crate::input::{self, InputError, Loaded};
use crate::{merge, render};

/// A failure that ends the command with exit status 2.
pub(super) type Fail = String;

fn fail(e: InputError) -> Fail {
    e.to_string()
}

pub(super) fn dispatch(cmd: Command, color: ColorChoice, io: &mut Io<'_>) -> Result<i32, Fail> {
    match cmd {
        Command::Replay(a) => replay(&a.trace, a.json, color, io),
        Command::Show(a) => show(&a.paths, color, io),
        Command::Check(a) => check(&a, color, io),
        Command::Merge(a) => merge_cmd(&a.inputs.paths, &a.output, io),
        Command::Dot(a) => {
            emit(&a.inputs.paths, a.output.as_deref(), io, |m| render::dot::render(&m.document))
        }
        Command::Sarif(a) => emit(&a.inputs.paths, a.output.as_deref(), io, |m| {
            render::sarif::render(&[&m.document])
        }),
        Command::Html(a) => emit(&a.inputs.paths, a.output.as_deref(), io, |m| {
            render::html::render_with_sources(&m.document, &m.sources)
        }),
        Command::Declare(a) => {
            let source: Vec<String> =
                a.inputs.paths.iter().map(|p| p.display().to_string()).collect();
            emit(&a.inputs.paths, a.output.as_deref(), io, |m| {
                crate::declare::declaration(&m.document, &source.join(", "))
            })
        }
    }
}

/// Writes to stdout, treating a closed pipe (`| head`) as success.
fn put(io: &mut Io<'_>, text: &str) -> Result<(), Fail> {
    match io.out.write_all(text.as_bytes()).and_then(|_| io.out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("<stdout>: cannot write: {e}"))
        }
        _ => Ok(()),
    }
}

fn write_out(path: &Path, text: &str) -> Result<(), Fail> {
    crate::write_atomic(path, text.as_bytes())
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

fn replay(path: &Path, json: bool, color: ColorChoice, io: &mut Io<'_>) -> Result<i32, Fail> {
    let text = input::read_text(path).map_err(fail)?;
    let program = path.display().to_string();
    let doc = crate::trace::replay(&text, &program)
        .map_err(|e| format!("{}:{}: {}", path.display(), e.line, e.message))?;
    if json {
        put(io, &(doc.to_json() + "\n"))?;
    } else if doc.reports.is_empty() {
        put(io, &crate::render_document(&doc))?;
    } else {
        put(io, &render::text::render(&doc, color.enabled(io.out_is_terminal)))?;
    }
    Ok(if doc.reports.is_empty() { EXIT_OK } else { EXIT_REPORTS })
}

fn show(paths: &[std::path::PathBuf], color: ColorChoice, io: &mut Io<'_>) -> Result<i32, Fail> {
    let docs = input::load_all(paths).map_err(fail)?;
    let c = color.enabled(io.out_is_terminal);
    let mut out = String::new();
    for l in &docs {
        if l.doc.reports.is_empty() {
            out.push_str(&format!(
                "{}: {}: no lock problems found\n",
                l.path.display(),
                l.doc.program
            ));
        } else {
            out.push_str(&render::text::render(&l.doc, c));
        }
    }
    put(io, &out)?;
    Ok(EXIT_OK)
}

/// Reads the documents and lists `(report, program)`: each document's own reports, or with
/// `merge` the merged set (deduplicated by fingerprint, plus the cycles no single document
/// saw). Returns the list and the number of documents.
pub fn listed(
    paths: &[std::path::PathBuf],
    merge: bool,
    err: &mut dyn Write,
) -> Result<(Vec<(crate::Report, String)>, usize), Fail> {
    let docs = input::load_all(paths).map_err(fail)?;
    let n_docs = docs.len();
    let listed = if merge {
        let m = merged(docs);
        if m.truncated {
            let _ = writeln!(
                err,
                "warning: cycle search stopped early (limit reached); some cycles may be missing"
            );
        }
        m.document.reports.into_iter().zip(m.sources).collect()
    } else {
        docs.into_iter()
            .flat_map(|l| {
                let program = l.doc.program;
                l.doc.reports.into_iter().map(move |r| (r, program.clone()))
            })
            .collect()
    };
    Ok((listed, n_docs))
}

fn check(a: &CheckArgs, color: ColorChoice, io: &mut Io<'_>) -> Result<i32, Fail> {
    let sup = a.suppressions.as_deref().map(Suppressions::load).transpose().map_err(fail)?;
    let base = a.baseline.as_deref().map(|p| Baseline::load(&[p])).transpose().map_err(fail)?;
    let (listed, n_docs) = listed(&a.inputs.paths, a.merge, io.err)?;
    let outcome = gate::gate(listed, sup.as_ref(), base.as_ref());
    let text = match a.format {
        Format::Text => {
            let mut out = String::new();
            for g in &outcome.items {
                let note = match g.status {
                    Status::New => String::new(),
                    s => format!("  ({})", s.as_str()),
                };
                out.push_str(&format!(
                    "{}  {}  {}{note}\n",
                    g.report.kind, g.fingerprint, g.program
                ));
            }
            out
        }
        Format::Github => render::github::render(&outcome.items),
        Format::Junit => render::junit::render(&outcome.items),
    };
    match &a.output {
        Some(p) => write_out(p, &text)?,
        None => put(io, &text)?,
    }
    let paint = Paint::new(color.enabled(super::err_is_terminal()));
    if let Some(s) = &sup {
        for (line, fp) in &outcome.stale {
            let _ = writeln!(
                io.err,
                "{}: {}:{line}: stale suppression '{fp}' matches no report",
                paint.paint(WARNING, "warning"),
                s.path.display()
            );
        }
    }
    let mut summary = format!(
        "{n_docs} document(s), {} report(s), {} suppressed",
        outcome.count(Status::New),
        outcome.count(Status::Suppressed)
    );
    if base.is_some() {
        summary.push_str(&format!(", {} baselined", outcome.count(Status::Baselined)));
    }
    let _ = writeln!(io.err, "{summary}");
    let declared_fails = match &a.declared {
        Some(p) => declared_diff(a, p, io)?,
        None => false,
    };
    Ok(if outcome.fails() || declared_fails { EXIT_REPORTS } else { EXIT_OK })
}

/// Prints the diff between the declared order in `path` and the merged observed graph;
/// returns whether observed edges contradict it or are missing from it.
fn declared_diff(a: &CheckArgs, path: &Path, io: &mut Io<'_>) -> Result<bool, Fail> {
    let src = input::read_text(path).map_err(fail)?;
    let declared = crate::declare::parse_declared(&src);
    if declared.is_empty() {
        return Err(format!(
            "{}: no `lock_rules!` order or `lock_order!` chain found",
            path.display()
        ));
    }
    let m = merged(input::load_all(&a.inputs.paths).map_err(fail)?);
    let d = crate::declare::diff(&m.document, &declared);
    let mut out = String::new();
    for (x, y) in &d.contradicting {
        out.push_str(&format!("contradicts  {x} -> {y}  (declared the other way)\n"));
    }
    for (x, y) in &d.undeclared {
        out.push_str(&format!("undeclared  {x} -> {y}  (observed, not in the declared order)\n"));
    }
    for (x, y) in &d.unobserved {
        out.push_str(&format!("unobserved  {x} => {y}  (declared, never observed)\n"));
    }
    put(io, &out)?;
    let _ = writeln!(
        io.err,
        "declared order {}: {} contradicting, {} undeclared, {} unobserved",
        path.display(),
        d.contradicting.len(),
        d.undeclared.len(),
        d.unobserved.len()
    );
    Ok(!d.contradicting.is_empty() || !d.undeclared.is_empty())
}

fn merged(docs: Vec<Loaded>) -> merge::Merged {
    merge::merge(docs.into_iter().map(|l| (l.origin(), l.doc)))
}

fn merge_cmd(paths: &[std::path::PathBuf], out: &Path, io: &mut Io<'_>) -> Result<i32, Fail> {
    let docs = input::load_all(paths).map_err(fail)?;
    let n = docs.len();
    let m = merged(docs);
    write_out(out, &(m.document.to_json() + "\n"))?;
    let _ = writeln!(
        io.err,
        "merged {n} document(s) into {}: {} classes, {} edges, {} report(s), {} new cycle(s)",
        out.display(),
        m.document.graph.classes.len(),
        m.document.graph.edges.len(),
        m.document.reports.len(),
        m.new_cycles
    );
    if m.truncated {
        let _ = writeln!(
            io.err,
            "warning: cycle search stopped early (limit reached); some cycles may be missing"
        );
    }
    Ok(EXIT_OK)
}

fn emit(
    paths: &[std::path::PathBuf],
    output: Option<&Path>,
    io: &mut Io<'_>,
    f: impl Fn(&merge::Merged) -> String,
) -> Result<i32, Fail> {
    let docs = input::load_all(paths).map_err(fail)?;
    let m = merged(docs);
    let text = f(&m);
    match output {
        Some(p) => write_out(p, &text)?,
        None => put(io, &text)?,
    }
    Ok(EXIT_OK)
}
