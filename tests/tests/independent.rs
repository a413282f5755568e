//! The independent corpus (`tests/independent`): traces and verdicts written from the design
//! document alone by a reviewer who had not read the implementation. `check.sh` does the same
//! through the `lockdep-report` binary.

use std::collections::BTreeSet;
use std::path::Path;

use lockdep_tests::{verdicts, Verdict};

fn expected(text: &str) -> BTreeSet<Verdict> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && *l != "none")
        .map(|l| {
            let (kind, classes) = l.split_once(' ').unwrap_or((l, ""));
            let mut c: Vec<String> =
                classes.split(',').filter(|s| !s.is_empty()).map(String::from).collect();
            c.sort();
            c.dedup();
            (kind.to_string(), c)
        })
        .collect()
}

#[test]
fn independent_traces_get_the_reviewers_verdicts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("independent");
    let mut traces: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    traces.sort();
    assert!(traces.len() >= 80, "{}", traces.len());
    let mut wrong = Vec::new();
    for t in &traces {
        let want = expected(&std::fs::read_to_string(t.with_extension("expect")).unwrap());
        let doc = lockdep_core::trace::replay(&std::fs::read_to_string(t).unwrap(), "t").unwrap();
        let got = verdicts(&doc);
        if want != got {
            wrong.push(format!("{}: want {want:?}, got {got:?}", t.display()));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
