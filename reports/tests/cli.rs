//! End-to-end tests of the `lockdep-report` binary, on documents produced for real by
//! `lockdep_core::trace::replay` of small traces.

use std::path::{Path, PathBuf};
use std::process::Command;

use lockdep_reports::{render_report, trace, Document, Kind};

const ABBA: &str = r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write","site":"src/a.rs:10:5"}
{"thread":"T1","op":"acquire","lock":"B","mode":"write","site":"src/a.rs:11:5"}
{"thread":"T1","op":"release","lock":"B"}
{"thread":"T1","op":"release","lock":"A"}
{"thread":"T2","op":"acquire","lock":"B","mode":"write","site":"src/b.rs:20:5"}
{"thread":"T2","op":"acquire","lock":"A","mode":"write","site":"src/b.rs:21:5"}
"#;

/// Thread 1 only: A then B.
const A_THEN_B: &str = r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write","site":"src/one.rs:1:1"}
{"thread":"T1","op":"acquire","lock":"B","mode":"write","site":"src/one.rs:2:1"}
{"thread":"T1","op":"release","lock":"B"}
{"thread":"T1","op":"release","lock":"A"}
"#;

/// Thread 2 only: B then A.
const B_THEN_A: &str = r#"{"thread":"T2","op":"acquire","lock":"B","mode":"write","site":"src/two.rs:1:1"}
{"thread":"T2","op":"acquire","lock":"A","mode":"write","site":"src/two.rs:2:1"}
{"thread":"T2","op":"release","lock":"A"}
{"thread":"T2","op":"release","lock":"B"}
"#;

const CLEAN: &str = r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write"}
{"thread":"T1","op":"release","lock":"A"}
"#;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_lockdep-report"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run lockdep-report");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A fresh private folder per test.
fn tmp(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("lockdep-reports-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn replayed(text: &str, program: &str) -> Document {
    trace::replay(text, program).expect("valid trace")
}

fn write_doc(dir: &Path, name: &str, doc: &Document) -> String {
    write(dir, name, &doc.to_json())
}

fn assert_one_line_error(o: &Out, path: &str, what: &str) {
    assert_eq!(o.code, 2, "{what}: exit code; stderr: {}", o.stderr);
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: expected one line, got {:?}", o.stderr);
    assert!(lines[0].contains(path), "{what}: {:?} does not name {path}", lines[0]);
    assert!(!o.stderr.contains("panicked"), "{what}: {}", o.stderr);
}

// ---- replay ----

#[test]
fn replay_abba_prints_report_and_exits_1() {
    let d = tmp("replay-abba");
    let t = write(&d, "abba.trace", ABBA);
    let o = run(&["replay", &t]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stdout.contains("WARNING: possible circular locking dependency detected"));
    assert!(!o.stdout.contains('\x1b'), "no colour when stdout is a pipe");
}

#[test]
fn replay_clean_trace_exits_0() {
    let d = tmp("replay-clean");
    let t = write(&d, "clean.trace", CLEAN);
    let o = run(&["replay", &t]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("no lock problems found"), "{}", o.stdout);
}

#[test]
fn replay_json_is_the_library_document() {
    let d = tmp("replay-json");
    let t = write(&d, "abba.trace", ABBA);
    let o = run(&["replay", &t, "--json"]);
    assert_eq!(o.code, 1);
    let doc = Document::from_json(&o.stdout).expect("replay --json is a report document");
    assert_eq!(doc, replayed(ABBA, &t));
    assert!(!doc.graph.edges.is_empty(), "graph included");
}

#[test]
fn replay_empty_file_is_a_valid_trace_without_events() {
    let d = tmp("replay-empty");
    let t = write(&d, "empty.trace", "");
    let o = run(&["replay", &t]);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn replay_malformed_line_names_file_and_line() {
    let d = tmp("replay-bad");
    let t = write(
        &d,
        "bad.trace",
        &format!("{CLEAN}{{\"thread\":\"T1\",\"op\":\"jump\",\"lock\":\"A\"}}\n"),
    );
    let o = run(&["replay", &t]);
    assert_one_line_error(&o, &format!("{t}:3: "), "malformed line");
    let t = write(&d, "trunc.trace", "{\"thread\":\"T1\",\"op\":\"acq");
    let o = run(&["replay", &t]);
    assert_one_line_error(&o, &format!("{t}:1: "), "truncated line");
}

#[test]
fn replay_bad_paths_and_usage_exit_2() {
    let d = tmp("replay-usage");
    let missing = d.join("missing.trace").display().to_string();
    assert_one_line_error(&run(&["replay", &missing]), &missing, "missing");
    let dir = d.display().to_string();
    assert_one_line_error(&run(&["replay", &dir]), &dir, "directory");
    let bin = write(&d, "bin.trace", "");
    std::fs::write(&bin, [0xff, 0xfe, 0x00]).unwrap();
    assert_one_line_error(&run(&["replay", &bin]), &bin, "binary");
    assert_eq!(run(&["replay"]).code, 2);
    assert_eq!(run(&["replay", &bin, &bin]).code, 2);
    assert_eq!(run(&["replay", &bin, "--frobnicate"]).code, 2);
    assert_eq!(run(&[]).code, 2);
    assert_eq!(run(&["explode"]).code, 2);
    let help = run(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Usage: lockdep-report"), "{}", help.stdout);
}

// ---- show ----

#[test]
fn show_text_matches_core_renderer_and_has_no_colour_on_a_pipe() {
    let d = tmp("show");
    let doc = replayed(ABBA, "abba");
    let f = write_doc(&d, "abba.json", &doc);
    let o = run(&["show", &f]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let want: String = doc.reports.iter().map(render_report).collect();
    assert_eq!(o.stdout, want, "JSON, re-read and rendered, gives the same text");
}

#[test]
fn show_colour_always_and_never() {
    let d = tmp("show-colour");
    let f = write_doc(&d, "abba.json", &replayed(ABBA, "abba"));
    let o = run(&["show", &f, "--color", "always"]);
    assert!(o.stdout.contains("\x1b[1;31mWARNING"), "{}", o.stdout);
    let o = run(&["show", &f, "--color=never"]);
    assert!(!o.stdout.contains('\x1b'));
    assert_eq!(run(&["show", &f, "--color", "purple"]).code, 2);
}

#[test]
fn show_directory_is_recursive_and_sorted() {
    let d = tmp("show-dir");
    write_doc(&d, "b/z.json", &replayed(ABBA, "second"));
    write_doc(&d, "a.json", &replayed(CLEAN, "first"));
    write(&d, "notes.txt", "ignored");
    write(&d, ".tmp.json", "{partial");
    let o = run(&["show", &d.display().to_string()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let first = o.stdout.find("first: no lock problems found").expect("clean doc listed");
    let second = o.stdout.find("WARNING").expect("abba doc rendered");
    assert!(first < second, "sorted by path");
}

// ---- check ----

#[test]
fn check_lists_reports_and_exits_1() {
    let d = tmp("check");
    let f = write_doc(&d, "abba.json", &replayed(ABBA, "abba-prog"));
    let o = run(&["check", &f]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(o.stdout.trim(), "circular_dependency  circular_dependency:A,B  abba-prog");
}

#[test]
fn check_clean_document_exits_0() {
    let d = tmp("check-clean");
    let f = write_doc(&d, "clean.json", &replayed(CLEAN, "clean"));
    let o = run(&["check", &f]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.is_empty());
}

#[test]
fn check_suppressions_silence_reports_and_warn_when_stale() {
    let d = tmp("check-supp");
    let f = write_doc(&d, "abba.json", &replayed(ABBA, "abba"));
    let s = write(
        &d,
        "supp.txt",
        "# known\ncircular_dependency:A,B  # accepted\n\nrecursive_locking:X\n",
    );
    let o = run(&["check", &f, "--suppressions", &s]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("(suppressed)"));
    assert!(
        o.stderr.contains(&format!("warning: {s}:4: stale suppression 'recursive_locking:X'")),
        "{}",
        o.stderr
    );
    let missing = d.join("nope.txt").display().to_string();
    assert_one_line_error(
        &run(&["check", &f, "--suppressions", &missing]),
        &missing,
        "missing suppressions",
    );
}

#[test]
fn check_merge_gates_on_a_cycle_across_documents_in_one_step() {
    let d = tmp("check-merge");
    write_doc(&d, "docs/one.json", &replayed(A_THEN_B, "one.trace"));
    write_doc(&d, "docs/two.json", &replayed(B_THEN_A, "two.trace"));
    let docs = d.join("docs").display().to_string();
    let plain = run(&["check", &docs]);
    assert_eq!(plain.code, 0, "each document alone is clean: {}", plain.stderr);
    let o = run(&["check", &docs, "--merge"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(
        o.stdout, "circular_dependency  circular_dependency:A,B  merge of one.json, two.json\n",
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("2 document(s), 1 report(s), 0 suppressed"), "{}", o.stderr);
    // The same fingerprint suppresses it; a report both documents carry is listed once.
    let sup = write(&d, "supp.txt", "circular_dependency:A,B\n");
    let o = run(&["check", &docs, "--merge", "--suppressions", &sup]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.ends_with("(suppressed)\n"), "{}", o.stdout);
    write_doc(&d, "docs/abba1.json", &replayed(ABBA, "abba.trace"));
    write_doc(&d, "docs/abba2.json", &replayed(ABBA, "abba.trace"));
    let o = run(&["check", &docs, "--merge"]);
    assert_eq!(o.stdout.lines().count(), 1, "deduplicated by fingerprint: {}", o.stdout);
    let o = run(&["check", &docs, "--merge=yes"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
}

// ---- merge ----

#[test]
fn merge_finds_the_cycle_no_single_process_saw() {
    let d = tmp("merge");
    let t1 = write(&d, "one.trace", A_THEN_B);
    let t2 = write(&d, "two.trace", B_THEN_A);
    for (t, out) in [(&t1, "docs/one.json"), (&t2, "docs/two.json")] {
        let o = run(&["replay", t, "--json"]);
        assert_eq!(o.code, 0, "each trace alone is clean");
        write(&d, out, &o.stdout);
    }
    let merged = d.join("merged.json").display().to_string();
    let o = run(&["merge", &d.join("docs").display().to_string(), "-o", &merged]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("1 new cycle"), "{}", o.stderr);
    let doc = Document::from_json(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    assert_eq!(doc.reports.len(), 1);
    let r = &doc.reports[0];
    assert_eq!(r.kind, Kind::CircularDependency);
    assert_eq!(r.fingerprint(), "circular_dependency:A,B");
    let mut origins: Vec<_> = r.chain.iter().filter_map(|l| l.origin.clone()).collect();
    origins.sort();
    assert_eq!(origins, ["one.json", "two.json"]);
    assert!(!r.scenario.is_empty());
    assert_eq!(doc.graph.classes.len(), 2);
    assert_eq!(doc.graph.edges.len(), 2);
    // The merged document feeds the other subcommands.
    assert_eq!(run(&["check", &merged]).code, 1);
}

#[test]
fn merge_keeps_existing_reports_once() {
    let d = tmp("merge-dedup");
    let a = write_doc(&d, "a.json", &replayed(ABBA, "a"));
    let b = write_doc(&d, "b.json", &replayed(ABBA, "b"));
    let out = d.join("m.json").display().to_string();
    let o = run(&["merge", &a, &b, "-o", &out]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let doc = Document::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc.reports.len(), 1, "same fingerprint kept once, no new cycle");
    assert_eq!(run(&["merge", &a]).code, 2, "-o is required");
}

// ---- dot ----

#[test]
fn dot_highlights_cycle_edges() {
    let d = tmp("dot");
    let f = write_doc(&d, "abba.json", &replayed(ABBA, "abba"));
    let o = run(&["dot", &f]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("digraph lockdep {"));
    assert_eq!(o.stdout.matches("style=bold").count(), 2, "{}", o.stdout);
    assert!(o.stdout.contains("label=\"EN\""));
    let out = d.join("g.dot");
    assert_eq!(run(&["dot", &f, "-o", &out.display().to_string()]).code, 0);
    assert_eq!(std::fs::read_to_string(out).unwrap(), o.stdout);
}

// ---- sarif ----

#[test]
fn sarif_has_the_required_structure() {
    let d = tmp("sarif");
    let f = write_doc(&d, "abba.json", &replayed(ABBA, "abba"));
    let o = run(&["sarif", &f]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("SARIF is JSON");
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run0 = &v["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "lockdep-report");
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        assert!(rules.iter().any(|rule| rule["id"] == id), "ruleId {id} is a declared rule");
        assert!(r["message"]["text"].as_str().unwrap().contains("circular locking"));
        let locs = r["locations"].as_array().unwrap();
        assert!(!locs.is_empty());
        for loc in locs.iter().chain(r["relatedLocations"].as_array().unwrap()) {
            let pl = &loc["physicalLocation"];
            assert!(pl["artifactLocation"]["uri"].is_string());
            assert!(pl["region"]["startLine"].as_u64().unwrap() >= 1);
        }
        assert_eq!(locs[0]["physicalLocation"]["artifactLocation"]["uri"], "src/b.rs");
        assert_eq!(r["relatedLocations"].as_array().unwrap().len(), 4);
    }
}

// ---- html ----

#[test]
fn html_is_self_contained_and_escaped() {
    let d = tmp("html");
    let evil = ABBA.replace("\"lock\":\"A\"", "\"lock\":\"<script>alert(1)</script>&A\"");
    let f = write_doc(&d, "evil.json", &replayed(&evil, "evil <prog>"));
    let out = d.join("r.html").display().to_string();
    let o = run(&["html", &f, "-o", &out]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script>alert"), "class names are escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;A"));
    assert!(html.contains("evil &lt;prog&gt;"));
    assert!(html.contains("<svg") && html.contains("edge hot"), "graph with cycle edges");
    assert!(html.contains("<table class=\"scenario\"><tr><th>T0</th><th>T1</th></tr>"));
    assert!(html.contains("<table class=\"summary\">"));
    for external in ["<link", " src=", "@import", "url(http"] {
        assert!(!html.contains(external), "no network: found {external}");
    }
}

// ---- bad input, for every subcommand ----

#[test]
fn every_subcommand_rejects_bad_input_with_one_line_naming_the_file() {
    let d = tmp("bad");
    let good = write_doc(&d, "good/ok.json", &replayed(CLEAN, "ok"));
    let empty_dir = d.join("nothing");
    std::fs::create_dir_all(&empty_dir).unwrap();
    write(&d, "nothing/readme.txt", "no reports here");
    let cases = [
        ("empty file", write(&d, "empty.json", "")),
        ("truncated JSON", write(&d, "trunc.json", &replayed(ABBA, "x").to_json()[..40])),
        ("other shape", write(&d, "shape.json", r#"{"schema":"lockdep-report/1","reports":7}"#)),
        ("no schema", write(&d, "array.json", "[1, 2, 3]")),
        ("unknown schema", write(&d, "v9.json", r#"{"schema":"lockdep-report/9","program":"p"}"#)),
        ("empty directory", empty_dir.display().to_string()),
        ("missing path", d.join("missing.json").display().to_string()),
    ];
    let out = d.join("out").display().to_string();
    for cmd in ["show", "check", "merge", "dot", "sarif", "html"] {
        for (what, path) in &cases {
            let mut args = vec![cmd, good.as_str(), path.as_str()];
            if cmd == "merge" {
                args.extend(["-o", &out]);
            }
            let o = run(&args);
            assert_one_line_error(&o, path, &format!("{cmd} / {what}"));
            assert!(o.stdout.is_empty(), "{cmd} / {what}: nothing on stdout");
        }
    }
    let o = run(&["check", &d.join("v9.json").display().to_string()]);
    assert!(o.stderr.contains("unknown schema version \"lockdep-report/9\""), "{}", o.stderr);
    let o = run(&["check", &d.join("trunc.json").display().to_string()]);
    assert!(o.stderr.contains("truncated JSON"), "{}", o.stderr);
}

#[test]
fn merge_does_not_report_a_weak_cycle_through_recursive_readers() {
    // T1 holds A (write) and takes B as a recursive reader: A -(ER)-> B.
    // T2 holds B as a reader and takes A: B -(SN)-> A. A recursive reader of B never waits
    // for T2's read hold, so this is no deadlock: ER followed by SN is not a strong path.
    let one = r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write"}
{"thread":"T1","op":"acquire","lock":"B","mode":"recursive_read"}
"#;
    let two = r#"{"thread":"T2","op":"acquire","lock":"B","mode":"read"}
{"thread":"T2","op":"acquire","lock":"A","mode":"write"}
"#;
    let d = tmp("merge-weak");
    let a = write_doc(&d, "one.json", &replayed(one, "one"));
    let b = write_doc(&d, "two.json", &replayed(two, "two"));
    let out = d.join("m.json").display().to_string();
    let o = run(&["merge", &a, &b, "-o", &out]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("0 new cycle"), "{}", o.stderr);
    // The same second trace with a writer on B closes a strong cycle: A -(ER)-> B -(EN)-> A.
    let strong = two.replace("\"mode\":\"read\"", "\"mode\":\"write\"");
    let c = write_doc(&d, "three.json", &replayed(&strong, "three"));
    let o = run(&["merge", &a, &c, "-o", &out]);
    assert!(o.stderr.contains("1 new cycle"), "{}", o.stderr);
}
