//! Shared helpers of the integration tests: corpus loading and expectation checks.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use lockdep_core::report::Document;

/// The trace corpus folder.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// One expected report: kind and sorted class names.
pub type Verdict = (String, Vec<String>);

/// The `# expect:` lines of a trace: `none`, or `KIND CLASS,CLASS...` (one line per report).
pub fn expectations(text: &str) -> BTreeSet<Verdict> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("# expect:") else { continue };
        let rest = rest.trim();
        if rest == "none" {
            continue;
        }
        let (kind, classes) = rest.split_once(' ').unwrap_or((rest, ""));
        let mut classes: Vec<String> =
            classes.split(',').map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect();
        classes.sort();
        out.insert((kind.to_string(), classes));
    }
    out
}

/// The verdicts of a document, in the same shape as [`expectations`].
pub fn verdicts(doc: &Document) -> BTreeSet<Verdict> {
    doc.reports
        .iter()
        .map(|r| {
            let mut classes = r.classes.clone();
            classes.sort();
            classes.dedup();
            (r.kind.to_string(), classes)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectation_lines_parse() {
        let e = expectations("# expect: circular_dependency B,A\n# expect: bad_unlock C\n");
        assert!(e.contains(&("circular_dependency".into(), vec!["A".into(), "B".into()])));
        assert_eq!(e.len(), 2);
        assert!(expectations("# expect: none").is_empty());
    }
}
