//! Replays every trace of `tests/corpus` and checks the verdicts written in its `# expect:`
//! lines (each derived by hand from the design's rules, explained in the file's comments).

use lockdep_core::report::{DepType, Kind};
use lockdep_core::trace;
use lockdep_tests::{corpus_dir, expectations, verdicts};

#[test]
fn every_corpus_trace_gives_its_expected_verdict() {
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    assert!(files.len() >= 25, "corpus went missing: {files:?}");
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(text.contains("# expect:"), "{} has no expectation", f.display());
        let doc = trace::replay(&text, &f.display().to_string()).unwrap();
        let (want, got) = (expectations(&text), verdicts(&doc));
        if want != got {
            failures.push(format!("{}: want {want:?}, got {got:?}", f.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn replay(name: &str) -> lockdep_core::report::Document {
    let text = std::fs::read_to_string(corpus_dir().join(name)).unwrap();
    trace::replay(&text, name).unwrap()
}

#[test]
fn abba_report_explains_both_sides() {
    let doc = replay("abba.jsonl");
    assert_eq!(doc.reports.len(), 1);
    let r = &doc.reports[0];
    assert_eq!(r.kind, Kind::CircularDependency);
    assert_eq!(r.thread, "T2");
    // The new edge first (B held, A acquired, on T2), then the existing A -> B seen on T1.
    assert_eq!(r.chain.len(), 2);
    assert_eq!((r.chain[0].from.class.as_str(), r.chain[0].to.class.as_str()), ("B", "A"));
    assert_eq!(r.chain[0].thread, "T2");
    assert_eq!((r.chain[1].from.class.as_str(), r.chain[1].to.class.as_str()), ("A", "B"));
    assert_eq!(r.chain[1].thread, "T1");
    assert_eq!(r.chain[1].types, vec![DepType::EN]);
    assert_eq!(r.held.iter().map(|h| h.class.as_str()).collect::<Vec<_>>(), vec!["B"]);
    // Scenario: T0 and T1 each take one lock, then each waits for the other's.
    let actions: Vec<(&str, &str)> =
        r.scenario.iter().map(|s| (s.thread.as_str(), s.action.as_str())).collect();
    assert_eq!(actions.len(), 4, "{actions:?}");
    assert_eq!(actions[0], ("T0", "lock(B)"));
    assert_eq!(actions[1], ("T1", "lock(A)"));
    assert!(actions[2].0 == "T0" && actions[2].1.starts_with("lock(A)"), "{actions:?}");
    assert!(actions[3].0 == "T1" && actions[3].1.starts_with("lock(B)"), "{actions:?}");
    // The graph section carries both edges.
    assert_eq!(doc.graph.edges.len(), 2);
}

#[test]
fn four_long_cycle_lists_every_edge_in_order() {
    let doc = replay("indirect_four_one_thread.jsonl");
    let r = &doc.reports[0];
    let edges: Vec<(String, String)> =
        r.chain.iter().map(|l| (l.from.class.clone(), l.to.class.clone())).collect();
    let want = [("D", "A"), ("A", "B"), ("B", "C"), ("C", "D")];
    assert_eq!(edges, want.map(|(a, b)| (a.to_string(), b.to_string())));
    assert_eq!(r.scenario.iter().filter(|s| s.action.contains("waits for")).count(), 4);
}

#[test]
fn seed_case_names_modes_on_both_sides() {
    let doc = replay("vma_read_then_mmap_read.jsonl");
    let r = &doc.reports[0];
    use lockdep_core::Mode;
    // New edge: mmap (write) held, vma (write) acquired; existing: vma (read, trylock) held
    // while mmap (read) acquired.
    assert_eq!(r.chain[0].from.mode, Mode::Write);
    assert_eq!(r.chain[1].from.class, "vma");
    assert_eq!(r.chain[1].from.mode, Mode::Read);
    assert!(r.chain[1].from.trylock);
    assert_eq!(r.chain[1].to.mode, Mode::Read);
    assert_eq!(r.chain[1].types, vec![DepType::SN]);
}

#[test]
fn recursive_read_deadlock_scenario_involves_a_queued_writer() {
    let doc = replay("aa_read_read.jsonl");
    let r = &doc.reports[0];
    assert_eq!(r.kind, Kind::RecursiveLocking);
    assert!(r.scenario.iter().any(|s| s.action.contains("queued writer")), "{:?}", r.scenario);
}

#[test]
fn each_problem_is_reported_once() {
    let mut text = String::new();
    for _ in 0..50 {
        text.push_str(
            "{\"thread\":\"T1\",\"op\":\"acquire\",\"lock\":\"A\",\"mode\":\"write\"}\n\
             {\"thread\":\"T1\",\"op\":\"acquire\",\"lock\":\"B\",\"mode\":\"write\"}\n\
             {\"thread\":\"T1\",\"op\":\"release\",\"lock\":\"B\"}\n\
             {\"thread\":\"T1\",\"op\":\"release\",\"lock\":\"A\"}\n\
             {\"thread\":\"T2\",\"op\":\"acquire\",\"lock\":\"B\",\"mode\":\"write\"}\n\
             {\"thread\":\"T2\",\"op\":\"acquire\",\"lock\":\"A\",\"mode\":\"write\"}\n\
             {\"thread\":\"T2\",\"op\":\"release\",\"lock\":\"A\"}\n\
             {\"thread\":\"T2\",\"op\":\"release\",\"lock\":\"B\"}\n\
             {\"thread\":\"T3\",\"op\":\"release\",\"lock\":\"C\"}\n",
        );
    }
    let doc = trace::replay(&text, "repeat").unwrap();
    let kinds: Vec<Kind> = doc.reports.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, vec![Kind::CircularDependency, Kind::BadUnlock]);
}

#[test]
fn chain_cache_does_not_hide_a_new_edge_after_many_repeats() {
    let mut text = String::new();
    let ev = |t: &str, op: &str, l: &str| {
        format!("{{\"thread\":\"{t}\",\"op\":\"{op}\",\"lock\":\"{l}\",\"mode\":\"write\"}}\n")
    };
    for _ in 0..10_000 {
        for (op, l) in [("acquire", "A"), ("acquire", "B"), ("release", "B"), ("release", "A")] {
            text.push_str(&ev("T1", op, l));
        }
    }
    // A new chain [A, B, C]: B -> C (and A -> C) are new edges behind a cached prefix.
    for (op, l) in [("acquire", "A"), ("acquire", "B"), ("acquire", "C")] {
        text.push_str(&ev("T1", op, l));
    }
    text.push_str(&ev("T2", "acquire", "C"));
    text.push_str(&ev("T2", "acquire", "B"));
    let doc = trace::replay(&text, "repeat").unwrap();
    let v = verdicts(&doc);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v.contains(&("circular_dependency".into(), vec!["B".into(), "C".into()])), "{v:?}");
}

#[test]
fn malformed_trace_lines_are_errors_with_line_numbers() {
    let bad = "{\"thread\":\"T1\",\"op\":\"acquire\",\"lock\":\"A\",\"mode\":\"write\"}\n\
               {\"thread\":\"T1\",\"op\":\"acquire\",\"lock\":\"A\",\"mode\":\"sideways\"}\n";
    let err = trace::replay(bad, "bad").unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.message.contains("sideways"), "{err}");
    let err = trace::replay("{\"thread\":\"T1\",\"op\":\"acquire\"", "t").unwrap_err();
    assert_eq!(err.line, 1);
    let err =
        trace::replay("{\"thread\":\"T1\",\"op\":\"acquire\",\"lock\":\"A\",\"colour\":1}", "t")
            .unwrap_err();
    assert!(err.message.contains("colour"), "{err}");
}

#[test]
fn out_of_order_release_drops_only_the_released_lock() {
    let doc = replay("out_of_order_release.jsonl");
    let name = |id: u32| doc.graph.classes[id as usize].name.clone();
    let mut edges: Vec<(String, String)> =
        doc.graph.edges.iter().map(|e| (name(e.from), name(e.to))).collect();
    edges.sort();
    assert_eq!(edges, vec![("A".into(), "B".into()), ("B".into(), "C".into())]);
}

#[test]
fn once_and_barrier_traces_mark_their_event_nodes() {
    use lockdep_core::report::NodeKind;
    // The lazy, held like a lock by its initialiser, stays an event node in replay.
    let doc = replay("event_lazy_init_takes_held_lock.jsonl");
    let r = &doc.reports[0];
    let to_lazy = r.chain.iter().find(|l| l.to.class == "LAZY").expect("L -> LAZY");
    assert_eq!((to_lazy.from.node, to_lazy.to.node), (NodeKind::Lock, NodeKind::Event));
    assert!(r.message.contains("release L before waiting for LAZY"), "{}", r.message);
    assert!(doc.graph.classes.iter().any(|c| c.name == "LAZY" && c.node == NodeKind::Event));
    // The barrier: T1 waits at `bar` holding L; T2's arrival, which needs L, never comes.
    let doc = replay("event_barrier_holding_lock.jsonl");
    let r = &doc.reports[0];
    assert_eq!(r.thread, "T1");
    let actions: Vec<&str> = r.scenario.iter().map(|s| s.action.as_str()).collect();
    assert!(actions.contains(&"lock(L)"), "{actions:?}");
    assert!(actions.iter().any(|a| a.starts_with("wait(bar)")), "{actions:?}");
    assert!(actions.iter().any(|a| a.starts_with("notify(bar)  <- never reached")), "{actions:?}");
}
