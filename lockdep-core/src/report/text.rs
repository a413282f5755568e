//! Kernel-style text rendering of reports, as printed on stderr when a report fires and by
//! `lockdep-report show`.

use super::{Acquisition, DepType, Document, Kind, Report};
use std::fmt::Write;

fn acq_line(out: &mut String, indent: &str, a: &Acquisition) {
    let _ = write!(out, "{indent}{} ({})", a.class, a.mode);
    if a.subclass != 0 && !a.class.ends_with(&format!("/{}", a.subclass)) {
        let _ = write!(out, "/{}", a.subclass);
    }
    if a.trylock {
        out.push_str(" [trylock]");
    }
    if let Some(site) = &a.site {
        let _ = write!(out, ", at: {site}");
    }
    out.push('\n');
}

fn stack(out: &mut String, indent: &str, a: &Acquisition) {
    for f in &a.stack {
        let _ = write!(out, "{indent}  {}", f.function);
        if let (Some(file), Some(line)) = (&f.file, f.line) {
            let _ = write!(out, " ({file}:{line})");
        }
        out.push('\n');
    }
}

/// Renders one report as kernel-style text.
pub fn render_report(r: &Report) -> String {
    let mut out = String::new();
    let title = if r.title.is_empty() { r.kind.title() } else { &r.title };
    let bar = "=".repeat(title.len().max(40));
    let _ = writeln!(out, "\n{bar}\nWARNING: {title}\n{bar}");
    let _ = writeln!(out, "kind: {}", r.kind);
    if let Some(rule) = &r.rule {
        let _ = writeln!(out, "rule: {rule}");
    }
    if !r.message.is_empty() {
        let _ = writeln!(out, "{}", r.message);
    }
    if let Some(a) = &r.acquiring {
        let verb = match r.kind {
            Kind::BadUnlock => "is trying to release",
            Kind::BadDowngrade => "is trying to downgrade",
            Kind::LockFreedWhileHeld => "is freeing",
            Kind::HeldAtExit => "is exiting while holding",
            _ => "is trying to acquire",
        };
        let _ = writeln!(out, "\nthread '{}' {verb}:", r.thread);
        acq_line(&mut out, "  ", a);
        stack(&mut out, "  ", a);
    }
    if !r.chain.is_empty() {
        let _ = writeln!(out, "\nthe dependency chain, edge by edge (#0 is the new one):");
        for (i, link) in r.chain.iter().enumerate() {
            let _ = writeln!(
                out,
                "\n-> #{} ({}) -> ({}) [{}], first seen on thread '{}'{}:",
                i,
                link.from.class,
                link.to.class,
                DepType::join(&link.types),
                link.thread,
                link.origin.as_deref().map(|o| format!(" in {o}")).unwrap_or_default(),
            );
            acq_line(&mut out, "   held:     ", &link.from);
            stack(&mut out, "     ", &link.from);
            acq_line(&mut out, "   acquired: ", &link.to);
            stack(&mut out, "     ", &link.to);
        }
    }
    let sides = r.chain.iter().flat_map(|l| [&l.from, &l.to]);
    let (with, without) =
        sides.fold((0, 0), |(w, wo), a| if a.stack.is_empty() { (w, wo + 1) } else { (w + 1, wo) });
    if with > 0 && without > 0 {
        let _ = writeln!(
            out,
            "\n(an acquisition shown with its site only was a lock chain already known when it \
             happened; run with LOCKDEP_BACKTRACE=always to record every acquisition's stack)"
        );
    }
    if !r.scenario.is_empty() {
        let _ = writeln!(out, "\nother info that might help us debug this:\n");
        let _ = writeln!(out, " Possible unsafe locking scenario:\n");
        let mut threads: Vec<&str> = Vec::new();
        for s in &r.scenario {
            if !threads.contains(&s.thread.as_str()) {
                threads.push(&s.thread);
            }
        }
        let width = r
            .scenario
            .iter()
            .map(|s| s.action.len())
            .chain(threads.iter().map(|t| t.len()))
            .max()
            .unwrap_or(8)
            + 4;
        let mut header = String::from("       ");
        let mut rule = String::from("       ");
        for t in &threads {
            let _ = write!(header, "{t:<width$}");
            let _ = write!(rule, "{:<width$}", "-".repeat(t.len()));
        }
        let _ = writeln!(out, "{}\n{}", header.trim_end(), rule.trim_end());
        for s in &r.scenario {
            let col = threads.iter().position(|t| *t == s.thread).unwrap_or(0);
            let _ = writeln!(out, "       {}{}", " ".repeat(col * width), s.action);
        }
        if r.kind == Kind::CircularDependency || r.kind == Kind::RecursiveLocking {
            let _ = writeln!(out, "\n *** DEADLOCK ***");
        }
    }
    if !r.held.is_empty() {
        let _ = writeln!(out, "\n{} lock(s) held by '{}':", r.held.len(), r.thread);
        for (i, a) in r.held.iter().enumerate() {
            acq_line(&mut out, &format!("  #{i}: "), a);
        }
    } else {
        let _ = writeln!(out, "\nno locks held by '{}'.", r.thread);
    }
    if let Some(rep) = &r.reproduce {
        let _ = writeln!(out, "\nreproduce: {rep}");
    }
    out
}

/// Renders every report of a document, or a one-line "no problems" message.
pub fn render_document(doc: &Document) -> String {
    if doc.reports.is_empty() {
        return format!("{}: no lock problems found\n", doc.program);
    }
    let mut out = String::new();
    for r in &doc.reports {
        out.push_str(&render_report(r));
    }
    out
}
