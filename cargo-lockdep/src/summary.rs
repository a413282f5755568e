//! The terminal summary of `cargo lockdep test`: problems by kind (new / suppressed /
//! baselined), each new one on a line, where the files went, and the verdict.

use std::fmt::Write as _;
use std::path::Path;

use lockdep_reports::colour::{Paint, DIM, ERROR, GOOD, HEADING, WARNING};
use lockdep_reports::gate::{Outcome, Status, Suppressions};

/// Everything the summary shows.
pub struct Summary<'a> {
    /// The gate's verdict.
    pub outcome: &'a Outcome,
    /// Report files the run left.
    pub files: usize,
    /// The run folder.
    pub run_dir: &'a Path,
    /// `(label, path)` of each file written.
    pub outputs: Vec<(&'static str, &'a Path)>,
    /// The suppression file used, if any.
    pub suppressions: Option<&'a Suppressions>,
    /// The baseline used, if any.
    pub baseline: Option<&'a Path>,
    /// `Some(exit code)` when the tests failed.
    pub tests_failed: Option<Option<i32>>,
}

impl Summary<'_> {
    /// The summary text (ends with a newline).
    pub fn render(&self, p: Paint) -> String {
        let o = self.outcome;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "\n{} {} report(s) from {} report file(s)",
            p.paint(HEADING, "lockdep summary:"),
            o.items.len(),
            self.files
        );
        let rows = o.by_kind();
        if !rows.is_empty() {
            let w = rows.keys().map(|k| k.as_str().len()).max().unwrap_or(4).max(5);
            let _ = writeln!(
                s,
                "  {:<w$}  {:>5}  {:>10}  {:>9}",
                "kind", "new", "suppressed", "baselined"
            );
            let mut total = [0usize; 3];
            for (kind, c) in &rows {
                let new = format!("{:>5}", c[0]);
                let new = if c[0] > 0 { p.paint(ERROR, &new) } else { new };
                let _ = writeln!(s, "  {:<w$}  {new}  {:>10}  {:>9}", kind.as_str(), c[1], c[2]);
                for i in 0..3 {
                    total[i] += c[i];
                }
            }
            let _ = writeln!(
                s,
                "  {:<w$}  {:>5}  {:>10}  {:>9}",
                "total", total[0], total[1], total[2]
            );
        }
        for g in o.items.iter().filter(|g| g.status == Status::New) {
            let _ = writeln!(
                s,
                "  {} {}  {}",
                p.paint(ERROR, "new:"),
                g.fingerprint,
                p.paint(DIM, &g.program)
            );
        }
        let _ = writeln!(s, "  {:<13} {}", "report folder", self.run_dir.display());
        for (label, path) in &self.outputs {
            let _ = writeln!(s, "  {label:<13} {}", path.display());
        }
        match self.suppressions {
            Some(sup) => {
                let _ = writeln!(s, "  {:<13} {}", "suppressions", sup.path.display());
                for (line, fp) in &o.stale {
                    let _ = writeln!(
                        s,
                        "  {}: {}:{line}: stale suppression '{fp}' matches no report",
                        p.paint(WARNING, "warning"),
                        sup.path.display()
                    );
                }
            }
            None => {
                let _ = writeln!(s, "  {:<13} none", "suppressions");
            }
        }
        if let Some(b) = self.baseline {
            let _ = writeln!(s, "  {:<13} {}", "baseline", b.display());
        }
        let new = o.count(Status::New);
        let verdict = match (self.tests_failed, new) {
            (Some(code), _) => p.paint(
                ERROR,
                &format!(
                    "FAILED: the tests failed (exit status {}){}",
                    code.map_or("signal".to_string(), |c| c.to_string()),
                    if new > 0 {
                        format!(", and {new} new lock problem(s)")
                    } else {
                        String::new()
                    }
                ),
            ),
            (None, 0) => p.paint(GOOD, "ok: no new lock problems"),
            (None, n) => p.paint(ERROR, &format!("FAILED: {n} new lock problem(s)")),
        };
        let _ = writeln!(s, "lockdep: {verdict}");
        if new > 0 {
            let _ = writeln!(
                s,
                "  (read them: cargo lockdep show {}; accept one: add its fingerprint to lockdep-suppressions.txt)",
                self.run_dir.join("merged.json").display()
            );
        }
        s
    }
}
