//! `lockdep-report` on report files written by real processes: `lockdep_demo` runs twice (an
//! ABBA program and a thread exiting with a lock held), and every subcommand reads the folder.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use lockdep_core::report::{Document, Kind};
use lockdep_reports::cli::{run, Io};

fn tool(args: &[&str]) -> (i32, String, String) {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(&args, &mut Io { out: &mut out, err: &mut err, out_is_terminal: false });
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

/// Runs `lockdep_demo what` with its report file in `dir/files`.
fn demo(dir: &Path, what: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lockdep_demo"))
        .arg(what)
        .env("LOCKDEP", "warn")
        .env("LOCKDEP_REPORT_DIR", dir.join("files"))
        .output()
        .unwrap()
}

fn real_reports() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_tool");
    let _ = std::fs::remove_dir_all(&dir);
    for what in ["abba", "exit-holding"] {
        assert!(demo(&dir, what).status.code().is_some(), "{what} ran");
    }
    dir
}

#[test]
fn every_subcommand_reads_real_report_files() {
    let dir = real_reports();
    let files = dir.join("files");
    let f = files.to_str().unwrap();

    let (code, out, _) = tool(&["show", f]);
    assert_eq!(code, 0);
    assert!(out.contains("possible circular locking dependency detected"), "{out}");
    assert!(out.contains("Possible unsafe locking scenario"), "{out}");
    assert!(out.contains("lock held when returning to user space / thread exit"), "{out}");

    let (code, out, _) = tool(&["check", f]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("circular_dependency:demo::accounts,demo::ledger"), "{out}");
    assert!(out.contains("held_at_exit:demo::accounts"), "{out}");

    let sup = dir.join("suppressions.txt");
    std::fs::write(
        &sup,
        "circular_dependency:demo::accounts,demo::ledger\nheld_at_exit:demo::accounts\n",
    )
    .unwrap();
    let (code, out, err) = tool(&["check", f, "--suppressions", sup.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");

    let merged = dir.join("merged.json");
    let (code, _, err) = tool(&["merge", f, "-o", merged.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let doc = Document::from_json(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    let kinds: Vec<Kind> = doc.reports.iter().map(|r| r.kind).collect();
    assert!(
        kinds.contains(&Kind::CircularDependency) && kinds.contains(&Kind::HeldAtExit),
        "{kinds:?}"
    );
    // Both processes used demo::accounts: one class after the merge, not two.
    assert_eq!(doc.graph.classes.iter().filter(|c| c.name == "demo::accounts").count(), 1);

    let (code, dot, _) = tool(&["dot", f]);
    assert_eq!(code, 0);
    assert!(dot.starts_with("digraph"), "{dot}");
    assert!(dot.contains("demo::ledger") && dot.contains("red"), "{dot}");

    let (code, sarif, _) = tool(&["sarif", f]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "circular_dependency"));
    let uri =
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
    assert!(uri.ends_with("lockdep_demo.rs"), "{uri}");

    let html = dir.join("report.html");
    let (code, _, err) = tool(&["html", f, "-o", html.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("demo::ledger") && page.contains("<svg"));
    assert!(!page.contains("http://") || !page.contains("<script src"), "self-contained");
}

/// Two processes, each with one half of a cycle between two classes both named `cache` (two
/// struct fields, two sites): the merge keeps them two classes (a name from the source is
/// followed by its site), finds the cycle no process saw, and its chain carries each edge's
/// first-witness stacks from the documents' graphs.
#[test]
fn merge_keeps_two_caches_apart_and_shows_the_witness_stacks() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_tool_halves");
    let _ = std::fs::remove_dir_all(&dir);
    for what in ["half-ab", "half-ba"] {
        let out = demo(&dir, what);
        assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let files = dir.join("files");
    for entry in std::fs::read_dir(&files).unwrap() {
        let doc = Document::from_json(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
        let doc = doc.unwrap();
        assert!(doc.reports.is_empty(), "one half alone is clean");
        let caches: Vec<&str> = doc
            .graph
            .classes
            .iter()
            .map(|c| c.name.as_str())
            .filter(|n| n.starts_with("cache (tests/src/bin/lockdep_demo.rs:"))
            .collect();
        assert_eq!(caches.len(), 2, "named from the source, with the site: {caches:?}");
        assert_ne!(caches[0], caches[1]);
    }
    let merged = dir.join("merged.json");
    let (code, _, err) = tool(&["merge", files.to_str().unwrap(), "-o", merged.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let doc = Document::from_json(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    let cycles: Vec<_> =
        doc.reports.iter().filter(|r| r.kind == Kind::CircularDependency).collect();
    assert_eq!(cycles.len(), 1, "the cycle only the merge sees: {:#?}", doc.reports);
    let r = cycles[0];
    assert_eq!(r.classes.len(), 2);
    assert!(r.classes.iter().all(|c| c.starts_with("cache (")), "{:?}", r.classes);
    assert_ne!(r.classes[0], r.classes[1], "two caches, not one");
    for link in &r.chain {
        for side in [&link.from, &link.to] {
            let names: Vec<&str> = side.stack.iter().map(|f| f.function.as_str()).collect();
            assert!(names.iter().any(|f| f.ends_with("take_pair")), "{names:?}");
            assert!(names.iter().any(|f| f.ends_with("lockdep_demo::half")), "{names:?}");
        }
    }
    let (code, text, _) = tool(&["show", merged.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        text.contains("lockdep_demo::take_pair (") && text.contains("lockdep_demo.rs:"),
        "{text}"
    );
}
