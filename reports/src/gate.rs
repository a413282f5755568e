//! The CI gate: which reports are new, which are suppressed (a suppression file of accepted
//! fingerprints) and which were already there (a baseline document from an earlier run).
//!
//! Reports are matched by [`fingerprint::stable`]; a suppression line also matches the core
//! [`Report::fingerprint`](crate::Report::fingerprint) when that differs, so suppression files
//! written before stable fingerprints existed keep working.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::input::{self, InputError};
use crate::{fingerprint, merge, Kind, Report};

/// What the gate decided for one report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Not accepted anywhere: fails the gate.
    New,
    /// Listed in the suppression file.
    Suppressed,
    /// Present in the baseline.
    Baselined,
}

impl Status {
    /// `new`, `suppressed` or `baselined`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Suppressed => "suppressed",
            Status::Baselined => "baselined",
        }
    }
}

/// One gated report.
#[derive(Clone, Debug)]
pub struct Gated {
    /// The report.
    pub report: Report,
    /// The program (or `merge of ...`) it came from.
    pub program: String,
    /// Its stable fingerprint.
    pub fingerprint: String,
    /// The verdict.
    pub status: Status,
}

/// A suppression file: one fingerprint per line, `#` starts a comment.
#[derive(Clone, Debug)]
pub struct Suppressions {
    /// Where it was read from.
    pub path: PathBuf,
    /// `(line number, fingerprint)`.
    pub entries: Vec<(usize, String)>,
}

impl Suppressions {
    /// Reads a suppression file.
    pub fn load(path: &Path) -> Result<Suppressions, InputError> {
        let text = input::read_text(path)?;
        Ok(Suppressions { path: path.to_path_buf(), entries: Self::parse(&text) })
    }

    /// Parses the text of a suppression file.
    pub fn parse(text: &str) -> Vec<(usize, String)> {
        text.lines()
            .enumerate()
            .filter_map(|(i, l)| {
                let l = l.split('#').next().unwrap_or("").trim();
                (!l.is_empty()).then(|| (i + 1, l.to_string()))
            })
            .collect()
    }
}

/// The stable fingerprints of the reports of an earlier run.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    fingerprints: BTreeSet<String>,
}

impl Baseline {
    /// Reads report documents (files or folders, typically one merged file) and merges them,
    /// so a baseline taken from raw per-process files also holds the cross-process cycles.
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<Baseline, InputError> {
        let docs = input::load_all(paths)?;
        let m = merge::merge(docs.into_iter().map(|l| (l.origin(), l.doc)));
        Ok(Baseline::from_reports(&m.document.reports))
    }

    /// The baseline of these reports.
    pub fn from_reports(reports: &[Report]) -> Baseline {
        Baseline { fingerprints: reports.iter().map(fingerprint::stable).collect() }
    }

    /// Whether a fingerprint is in the baseline.
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }
}

/// The gate's verdict on a set of reports.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Every report, in input order.
    pub items: Vec<Gated>,
    /// Suppression lines that matched no report: `(line, fingerprint)`.
    pub stale: Vec<(usize, String)>,
}

/// Per-kind counts: new, suppressed, baselined.
pub type Counts = [usize; 3];

impl Outcome {
    /// How many reports have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.items.iter().filter(|g| g.status == status).count()
    }

    /// Whether the gate fails (any new report).
    pub fn fails(&self) -> bool {
        self.count(Status::New) > 0
    }

    /// Counts by kind, in kind order.
    pub fn by_kind(&self) -> BTreeMap<Kind, Counts> {
        let mut m: BTreeMap<Kind, Counts> = BTreeMap::new();
        for g in &self.items {
            m.entry(g.report.kind).or_default()[g.status as usize] += 1;
        }
        m
    }
}

/// Gates `(report, program)` pairs. A report both suppressed and baselined counts as
/// suppressed.
pub fn gate(
    listed: Vec<(Report, String)>,
    suppressions: Option<&Suppressions>,
    baseline: Option<&Baseline>,
) -> Outcome {
    let entries: &[(usize, String)] = suppressions.map_or(&[], |s| &s.entries);
    let mut used = vec![false; entries.len()];
    let items = listed
        .into_iter()
        .map(|(report, program)| {
            let fp = fingerprint::stable(&report);
            let core = report.fingerprint();
            let hit = entries.iter().position(|(_, s)| *s == fp || *s == core);
            let status = if let Some(i) = hit {
                used[i] = true;
                Status::Suppressed
            } else if baseline.is_some_and(|b| b.contains(&fp)) {
                Status::Baselined
            } else {
                Status::New
            };
            Gated { report, program, fingerprint: fp, status }
        })
        .collect();
    let stale = entries.iter().zip(&used).filter(|(_, u)| !**u).map(|(e, _)| e.clone()).collect();
    Outcome { items, stale }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn abba(a: &str, b: &str) -> Report {
        let t = format!(
            r#"{{"thread":"T1","op":"acquire","lock":"{a}","mode":"write"}}
{{"thread":"T1","op":"acquire","lock":"{b}","mode":"write"}}
{{"thread":"T1","op":"release","lock":"{b}"}}
{{"thread":"T1","op":"release","lock":"{a}"}}
{{"thread":"T2","op":"acquire","lock":"{b}","mode":"write"}}
{{"thread":"T2","op":"acquire","lock":"{a}","mode":"write"}}"#
        );
        crate::trace::replay(&t, "p").unwrap().reports.remove(0)
    }

    #[test]
    fn suppressed_baselined_and_new() {
        let sup = Suppressions {
            path: "s".into(),
            entries: Suppressions::parse("# c\ncircular_dependency:A,B\n\nstale:X # old\n"),
        };
        let base = Baseline::from_reports(&[abba("C", "D")]);
        let out = gate(
            vec![
                (abba("A", "B"), "p".into()),
                (abba("C", "D"), "p".into()),
                (abba("E", "F"), "p".into()),
            ],
            Some(&sup),
            Some(&base),
        );
        let st: Vec<Status> = out.items.iter().map(|g| g.status).collect();
        assert_eq!(st, [Status::Suppressed, Status::Baselined, Status::New]);
        assert_eq!(out.stale, [(4, "stale:X".to_string())]);
        assert!(out.fails());
        assert_eq!(out.by_kind()[&Kind::CircularDependency], [1, 1, 1]);
    }
}
