//! Waits on events (issue 14) across the process boundary: a live program with the condvar,
//! channel, join, lazy, barrier and scope-end deadlock shapes (`events_demo`, run with `LOCKDEP=warn` and
//! `LOCKDEP_TRACE`) reports each, and replaying its recorded trace gives the same verdicts;
//! `merge` finds an event cycle that spans two documents.

use std::path::Path;
use std::process::Command;

use lockdep_core::report::{Document, Kind, NodeKind};
use lockdep_tests::verdicts;

#[test]
fn live_event_cycles_and_their_replay_agree() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("events").join("round_trip");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_events_demo"))
        .env("LOCKDEP", "warn")
        .env("LOCKDEP_REPORT_DIR", &dir)
        .env("LOCKDEP_TRACE", dir.join("trace.jsonl"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a report file");
    let live = Document::from_json(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(live.reports.len(), 6, "{stderr}");
    for r in &live.reports {
        assert_eq!(r.kind, Kind::CircularDependency);
        assert!(r.chain.iter().any(|l| l.to.node == NodeKind::Event), "{r:#?}");
    }
    assert!(stderr.contains("waits for event `"), "{stderr}");
    let trace = std::fs::read_to_string(dir.join("trace.jsonl")).unwrap();
    for op in
        ["\"wait\"", "\"signal\"", "\"spawn\"", "\"join\"", "\"arrive\"", "\"node\":\"event\""]
    {
        assert!(trace.contains(op), "{op} recorded:\n{trace}");
    }
    let replayed = lockdep_core::trace::replay(&trace, "trace.jsonl").unwrap();
    assert_eq!(verdicts(&replayed), verdicts(&live));
    assert_eq!(replayed.graph.edges.len(), live.graph.edges.len());
}

#[test]
fn merge_finds_an_event_cycle_that_spans_two_processes() {
    // One process waits for `ready` holding A; another signals `ready` after taking A.
    let waiter = r#"{"thread":"T1","op":"acquire","lock":"A"}
{"thread":"T1","op":"wait","event":"ready"}"#;
    let signaller = r#"{"thread":"T2","op":"acquire","lock":"A"}
{"thread":"T2","op":"release","lock":"A"}
{"thread":"T2","op":"signal","event":"ready"}"#;
    let d1 = lockdep_core::trace::replay(waiter, "waiter").unwrap();
    let d2 = lockdep_core::trace::replay(signaller, "signaller").unwrap();
    assert!(d1.reports.is_empty() && d2.reports.is_empty());
    assert!(d1.graph.classes.iter().any(|c| c.node == NodeKind::Event));
    // The event node survives a JSON round trip; an old document without it reads as locks.
    let d1 = Document::from_json(&d1.to_json()).unwrap();
    let merged = lockdep_reports::merge::merge([("w".into(), d1), ("s".into(), d2)]);
    assert_eq!(merged.new_cycles, 1);
    let r = &merged.document.reports[0];
    assert!(r.chain.iter().any(|l| l.from.node == NodeKind::Event), "{r:#?}");
    assert!(r.scenario.iter().any(|s| s.action.contains("never reached")), "{:?}", r.scenario);
}
