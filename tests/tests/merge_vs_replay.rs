//! `lockdep-report merge` of two half-cycles against `lockdep-report replay` of the joined trace.
//!
//! For every mode combination of a two-lock cycle (each thread holds its first lock in one of
//! write, read, recursive_read or downgraded, and waits for its second in write, read or
//! recursive_read), thread T0 (A then B) goes in one trace file and thread T1 (B then A) in
//! another. Each half is replayed with `--json`, the two documents are merged, and the joined
//! trace is replayed as well. Merge and replay must agree: same verdict, same kind, same
//! classes, same scenario steps (up to which thread the scenario calls `T0`: the two tools may
//! start the cycle at different locks, so threads are named after the lock they hold first).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use lockdep_core::report::{Document, Kind, Report};
use lockdep_reports::cli::{run, Io};

fn tool(args: &[&str]) -> (i32, String, String) {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run(&args, &mut Io { out: &mut out, err: &mut err, out_is_terminal: false });
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

/// How a thread holds its first lock.
#[derive(Clone, Copy, Debug)]
enum Hold {
    Write,
    Read,
    RecursiveRead,
    /// Taken for write, then downgraded.
    Downgraded,
}

const HOLDS: [Hold; 4] = [Hold::Write, Hold::Read, Hold::RecursiveRead, Hold::Downgraded];
/// How a thread waits for its second lock (trace modes).
const WAITS: [&str; 3] = ["write", "read", "recursive_read"];

/// One thread's half of the cycle: holds `first`, takes `second`, releases both.
fn half(thread: &str, first: &str, hold: Hold, second: &str, wait: &str) -> String {
    let acquire = |lock: &str, mode: &str| {
        format!(r#"{{"thread":"{thread}","op":"acquire","lock":"{lock}","mode":"{mode}"}}"#)
    };
    let op =
        |op: &str, lock: &str| format!(r#"{{"thread":"{thread}","op":"{op}","lock":"{lock}"}}"#);
    let mut lines = match hold {
        Hold::Write => vec![acquire(first, "write")],
        Hold::Read => vec![acquire(first, "read")],
        Hold::RecursiveRead => vec![acquire(first, "recursive_read")],
        Hold::Downgraded => vec![acquire(first, "write"), op("downgrade", first)],
    };
    lines.push(acquire(second, wait));
    lines.push(op("release", second));
    lines.push(op("release", first));
    lines.join("\n") + "\n"
}

/// What must agree between the two tools for one cycle report.
#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    kind: Kind,
    classes: Vec<String>,
    /// Per thread (named after the lock it holds first), its scenario actions in order, with
    /// thread references renamed the same way; the queued writers' steps sorted.
    steps: BTreeMap<String, Vec<String>>,
}

fn verdict(r: &Report) -> Verdict {
    let mut classes = r.classes.clone();
    classes.sort();
    // Scenario thread Ti holds chain[i].from.
    let rename = |s: &str| {
        let mut s = s.to_string();
        for (i, link) in r.chain.iter().enumerate() {
            s = s.replace(&format!("T{i}"), &format!("<holder of {}>", link.from.class));
        }
        s
    };
    let mut steps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for step in &r.scenario {
        steps.entry(rename(&step.thread)).or_default().push(rename(&step.action));
    }
    // `TW` names a queued writer per lock, not one thread: its steps have no order.
    if let Some(tw) = steps.get_mut("TW") {
        tw.sort();
    }
    Verdict { kind: r.kind, classes, steps }
}

fn verdicts(doc: &Document) -> Vec<Verdict> {
    doc.reports.iter().map(verdict).collect()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Replays `trace` with `--json`; returns the document (exit code checked against it).
fn replay(trace: &str) -> Document {
    let (code, out, err) = tool(&["replay", trace, "--json"]);
    assert!(code == 0 || code == 1, "replay {trace}: {code} {err}");
    let doc = Document::from_json(&out).unwrap_or_else(|e| panic!("replay {trace}: {e}\n{out}"));
    assert_eq!(code == 1, !doc.reports.is_empty(), "exit code of replay {trace}");
    doc
}

/// A fresh folder per test.
fn dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("merge_vs_replay").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs one combination; returns a description of the disagreement, if any.
fn compare(dir: &Path, t0: (Hold, &str), t1: (Hold, &str)) -> Option<String> {
    let name = format!("{:?}-{}_{:?}-{}", t0.0, t0.1, t1.0, t1.1);
    let first = half("T0", "A", t0.0, "B", t0.1);
    let second = half("T1", "B", t1.0, "A", t1.1);
    let one = write(dir, &format!("{name}.t0.jsonl"), &first);
    let two = write(dir, &format!("{name}.t1.jsonl"), &second);
    let joined = write(dir, &format!("{name}.joined.jsonl"), &(first + &second));

    let one = replay(&one);
    let two = replay(&two);
    assert!(one.reports.is_empty() && two.reports.is_empty(), "{name}: a half reports");
    let one = write(dir, &format!("{name}.t0.json"), &one.to_json());
    let two = write(dir, &format!("{name}.t1.json"), &two.to_json());
    let out = dir.join(format!("{name}.merged.json"));
    let (code, _, err) = tool(&["merge", &one, &two, "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{name}: merge: {err}");
    let merged = Document::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();

    let replayed = replay(&joined);
    let (m, r) = (verdicts(&merged), verdicts(&replayed));
    (m != r).then(|| format!("{name}:\n  merge:  {m:?}\n  replay: {r:?}"))
}

#[test]
fn merge_agrees_with_replay_for_every_two_lock_mode_combination() {
    let dir = dir("every");
    let mut disagree = Vec::new();
    let mut cycles = 0;
    for h0 in HOLDS {
        for w0 in WAITS {
            for h1 in HOLDS {
                for w1 in WAITS {
                    if let Some(d) = compare(&dir, (h0, w0), (h1, w1)) {
                        disagree.push(d);
                    }
                    let joined = dir.join(format!("{h0:?}-{w0}_{h1:?}-{w1}.joined.jsonl"));
                    cycles += !replay(joined.to_str().unwrap()).reports.is_empty() as usize;
                }
            }
        }
    }
    assert!(cycles > 0 && cycles < 144, "some combinations are cycles, some not: {cycles}");
    assert!(disagree.is_empty(), "{} of 144 disagree:\n{}", disagree.len(), disagree.join("\n"));
}

/// The rwsem case merge used to get wrong: T0 holds A for read and waits for B (write); T1
/// holds B for write and waits for A for read. T1's reader blocks only behind a queued writer.
#[test]
fn rwsem_reader_cycle_split_across_documents_has_the_queued_writer() {
    let dir = dir("rwsem");
    assert_eq!(compare(&dir, (Hold::Read, "write"), (Hold::Write, "read")), None);
    let merged = std::fs::read_to_string(dir.join("Read-write_Write-read.merged.json")).unwrap();
    let merged = Document::from_json(&merged).unwrap();
    assert_eq!(merged.reports.len(), 1);
    let actions: Vec<String> =
        merged.reports[0].scenario.iter().map(|s| format!("{}: {}", s.thread, s.action)).collect();
    assert!(actions.iter().any(|a| a.starts_with("TW: lock(A)  <- queued writer")), "{actions:#?}");
    assert!(actions.iter().any(|a| a.contains("read_lock(A)  <- waits behind TW")), "{actions:#?}");
    assert!(!actions.iter().any(|a| a.contains("read_lock(A)  <- waits for")), "{actions:#?}");
}
