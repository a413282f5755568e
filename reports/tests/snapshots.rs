//! Snapshot tests of the kernel-style text of every report kind, as `lockdep-report show`
//! prints it: each kind is provoked for real (a trace replayed on a private validator; for
//! `held_at_exit`, which a trace cannot express, a thread of this process exits holding a lock)
//! and its text is compared with `tests/snapshots/<name>.txt`.
//!
//! `UPDATE_SNAPSHOTS=1 cargo test -p lockdep-reports --test snapshots` rewrites the files;
//! read the diff before committing it. The text is normalised so that a snapshot holds nothing
//! machine-specific (see [`normalise`]).

use std::path::{Path, PathBuf};

use lockdep_reports::{render, trace, Document, Kind, Report};

fn snapshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(format!("{name}.txt"))
}

/// Compares `text` with the snapshot `name`, or rewrites it under `UPDATE_SNAPSHOTS=1`.
fn check_snapshot(name: &str, text: &str) {
    let path = snapshot_path(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{}: {e}; run with UPDATE_SNAPSHOTS=1 to create it", path.display())
    });
    if want != text {
        let (i, (w, g)) = want
            .lines()
            .chain(std::iter::repeat("<end of text>"))
            .zip(text.lines().chain(std::iter::repeat("<end of text>")))
            .enumerate()
            .find(|(_, (w, g))| w != g)
            .unwrap_or((0, ("", "")));
        panic!(
            "{name}: the text differs from {} at line {}:\n  snapshot: {w:?}\n  now:      {g:?}\n\
             whole text now:\n{text}\n(run with UPDATE_SNAPSHOTS=1 to accept it)",
            path.display(),
            i + 1
        );
    }
}

/// Replays `trace` and returns its document, checking it holds exactly one report, of `kind`.
fn replay_one(trace: &str, kind: Kind) -> Document {
    let doc = trace::replay(trace, "snapshot.trace").expect("valid trace");
    let kinds: Vec<Kind> = doc.reports.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, vec![kind], "{}", lockdep_reports::render_document(&doc));
    doc
}

/// What `lockdep-report show` prints for `doc` (no colour).
fn text(doc: &Document) -> String {
    render::text::render(doc, false)
}

/// Removes what differs between machines and runs: the line and column of a site in this file
/// (they move whenever the file is edited) become `LINE:COL`.
fn normalise(text: &str) -> String {
    let marker = "tests/snapshots.rs:";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        let (head, tail) = rest.split_at(i + marker.len());
        out.push_str(head);
        let digits = tail.find(|c: char| !(c.is_ascii_digit() || c == ':')).unwrap_or(tail.len());
        out.push_str("LINE:COL");
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

#[test]
fn circular_dependency() {
    let doc = replay_one(
        r#"{"thread":"transfer","op":"acquire","lock":"A","mode":"write","site":"src/bank.rs:10:5"}
{"thread":"transfer","op":"acquire","lock":"B","mode":"read","site":"src/bank.rs:11:5"}
{"thread":"transfer","op":"release","lock":"B"}
{"thread":"transfer","op":"release","lock":"A"}
{"thread":"audit","op":"acquire","lock":"B","mode":"write","site":"src/audit.rs:20:5"}
{"thread":"audit","op":"acquire","lock":"A","mode":"write","site":"src/audit.rs:21:5"}
"#,
        Kind::CircularDependency,
    );
    check_snapshot("circular_dependency", &text(&doc));
}

/// The same report in colour (`show --color always`), escapes spelled out as tags so the
/// snapshot can be read: every role is marked while rendering, around its text only.
#[test]
fn circular_dependency_in_colour() {
    let doc = replay_one(
        r#"{"thread":"transfer","op":"acquire","lock":"A","mode":"write","site":"src/bank.rs:10:5"}
{"thread":"transfer","op":"acquire","lock":"B","mode":"write","site":"src/bank.rs:11:5"}
{"thread":"transfer","op":"release","lock":"B"}
{"thread":"transfer","op":"release","lock":"A"}
{"thread":"audit","op":"acquire","lock":"B","mode":"write","site":"src/audit.rs:20:5"}
{"thread":"audit","op":"acquire","lock":"A","mode":"write","site":"src/audit.rs:21:5"}
"#,
        Kind::CircularDependency,
    );
    let coloured = render::text::render(&doc, true);
    let tagged = coloured
        .replace("\x1b[1;31m", "<red-bold>")
        .replace("\x1b[33m", "<yellow>")
        .replace("\x1b[1m", "<bold>")
        .replace("\x1b[0m", "</>");
    assert!(!tagged.contains('\x1b'), "an escape without a tag: {tagged:?}");
    check_snapshot("circular_dependency.colour", &tagged);
}

/// A cycle of five locks, thread `wI` taking `LI` then `LI+1`: the scenario (threads `T0`..`T4`,
/// `T0` being the thread that closed the cycle) has five threads, so it is listed step by step.
#[test]
fn circular_dependency_five_threads() {
    let mut trace = String::new();
    for i in 0..5 {
        let (a, b) = (i, (i + 1) % 5);
        trace.push_str(&format!(
            "{{\"thread\":\"w{i}\",\"op\":\"acquire\",\"lock\":\"L{a}\",\"mode\":\"write\"}}\n\
             {{\"thread\":\"w{i}\",\"op\":\"acquire\",\"lock\":\"L{b}\",\"mode\":\"write\"}}\n\
             {{\"thread\":\"w{i}\",\"op\":\"release\",\"lock\":\"L{b}\"}}\n\
             {{\"thread\":\"w{i}\",\"op\":\"release\",\"lock\":\"L{a}\"}}\n"
        ));
    }
    let doc = replay_one(&trace, Kind::CircularDependency);
    check_snapshot("circular_dependency_five_threads", &text(&doc));
}

#[test]
fn recursive_locking() {
    let doc = replay_one(
        r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write","site":"src/cache.rs:5:9"}
{"thread":"T1","op":"acquire","lock":"A","mode":"write","site":"src/cache.rs:9:9"}
"#,
        Kind::RecursiveLocking,
    );
    check_snapshot("recursive_locking", &text(&doc));
}

#[test]
fn bad_unlock() {
    let doc = replay_one(
        r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write","site":"src/q.rs:3:5"}
{"thread":"T1","op":"release","lock":"A","site":"src/q.rs:4:5"}
{"thread":"T1","op":"release","lock":"A","site":"src/q.rs:8:5"}
"#,
        Kind::BadUnlock,
    );
    check_snapshot("bad_unlock", &text(&doc));
}

#[test]
fn bad_downgrade() {
    let doc = replay_one(
        r#"{"thread":"T1","op":"acquire","lock":"sem","mode":"read","site":"src/sem.rs:3:5"}
{"thread":"T1","op":"downgrade","lock":"sem","site":"src/sem.rs:4:5"}
"#,
        Kind::BadDowngrade,
    );
    check_snapshot("bad_downgrade", &text(&doc));
}

#[test]
fn class_violation() {
    let doc = replay_one(
        r#"{"thread":"T1","op":"acquire","lock":"vma1","class":"vma","mode":"write","nest_lock":"mm_all_locks","site":"src/mm.rs:40:9"}
"#,
        Kind::ClassViolation,
    );
    check_snapshot("class_violation", &text(&doc));
}

#[test]
fn invalid_wait_context() {
    let doc = replay_one(
        r#"{"thread":"walker","op":"acquire","lock":"ptl","mode":"write","wait":"spinning","site":"src/pt.rs:7:5"}
{"thread":"walker","op":"acquire","lock":"mutex","mode":"write","site":"src/pt.rs:8:5"}
"#,
        Kind::InvalidWaitContext,
    );
    check_snapshot("invalid_wait_context", &text(&doc));
}

#[test]
fn lock_freed_while_held() {
    let doc = replay_one(
        r#"{"thread":"user","op":"acquire","lock":"A","mode":"write","site":"src/obj.rs:3:5"}
{"thread":"reaper","op":"free","lock":"A","site":"src/obj.rs:30:5"}
"#,
        Kind::LockFreedWhileHeld,
    );
    check_snapshot("lock_freed_while_held", &text(&doc));
}

static ACCOUNTS: lockdep_core::LockClassKey = lockdep_core::LockClassKey::new("demo::accounts");

/// A thread of this process exits holding a lock (a trace has no "exit" event). The only test
/// here that uses the process-wide validator. Its stacks are dropped: they name the toolchain's
/// and this machine's files.
#[test]
fn held_at_exit() {
    lockdep_core::set_on_report(lockdep_core::OnReport::Warn);
    lockdep_core::set_report_dir(Path::new(env!("CARGO_TARGET_TMPDIR")).join("snapshots"));
    std::thread::Builder::new()
        .name("leaker".into())
        .spawn(|| {
            let m = Box::leak(Box::new(lockdep_core::Mutex::with_key(0, &ACCOUNTS)));
            std::mem::forget(m.lock());
        })
        .unwrap()
        .join()
        .unwrap();
    let mut reports: Vec<Report> = lockdep_core::reports();
    assert_eq!(reports.iter().map(|r| r.kind).collect::<Vec<_>>(), vec![Kind::HeldAtExit]);
    for r in &mut reports {
        for a in r.acquiring.iter_mut().chain(r.held.iter_mut()) {
            a.stack.clear();
        }
        assert_eq!(r.reproduce, None, "a path would make the snapshot machine-specific");
    }
    let mut doc = Document::new("snapshots");
    doc.reports = reports;
    check_snapshot("held_at_exit", &normalise(&text(&doc)));
    held_across_await();
    assertions();
}

static SESSIONS: lockdep_core::LockClassKey = lockdep_core::LockClassKey::new("demo::sessions");

/// An instrumented task yields holding a blocking lock's guard (run by `held_at_exit`, the
/// other user of the process-wide validator, so the two never see each other's reports).
fn held_across_await() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let m = lockdep_core::LockMap::with_key(&SESSIONS);
    let mut yielded = false;
    let mut task = Box::pin(lockdep_core::task::instrument(std::future::poll_fn(|_| {
        if yielded {
            m.release();
            return Poll::Ready(());
        }
        yielded = true;
        m.acquire(lockdep_core::Mode::Write);
        Poll::Pending
    })));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(task.as_mut().poll(&mut cx).is_pending());
    assert!(task.as_mut().poll(&mut cx).is_ready());
    let mut reports: Vec<Report> =
        lockdep_core::reports().into_iter().filter(|r| r.kind == Kind::HeldAcrossAwait).collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    for r in &mut reports {
        for a in r.acquiring.iter_mut().chain(r.held.iter_mut()) {
            a.stack.clear();
        }
    }
    let mut doc = Document::new("snapshots");
    doc.reports = reports;
    check_snapshot("held_across_await", &normalise(&text(&doc)));
}

static LEDGER: lockdep_core::LockClassKey = lockdep_core::LockClassKey::new("demo::ledger");

/// A failed assertion and a false lock-state predicate, worded as what they are (run by
/// `held_at_exit`, with the process-wide validator).
fn assertions() {
    let skip = lockdep_core::reports().len();
    let ledger = lockdep_core::Mutex::with_key(0, &LEDGER);
    lockdep_core::assert_held(&ledger);
    {
        let _g = ledger.lock();
        lockdep_core::assert_not_held(&ledger);
        lockdep_core::assert_state("ledger balanced", |_| false);
    }
    let mut reports: Vec<Report> = lockdep_core::reports().split_off(skip);
    let rules: Vec<Option<&str>> = reports.iter().map(|r| r.rule.as_deref()).collect();
    assert_eq!(rules, [Some("assert_held"), Some("assert_not_held"), Some("ledger balanced")]);
    for r in &mut reports {
        for a in r.acquiring.iter_mut().chain(r.held.iter_mut()) {
            a.stack.clear();
        }
    }
    let mut doc = Document::new("snapshots");
    doc.reports = reports;
    let text = normalise(&text(&doc));
    assert!(!text.contains("trying to acquire"), "{text}");
    check_snapshot("assertions", &text);
}

#[test]
fn normalise_hides_the_line_and_column_of_this_file_only() {
    assert_eq!(
        normalise("at: reports/tests/snapshots.rs:172:13\nat: src/a.rs:1:2\n"),
        "at: reports/tests/snapshots.rs:LINE:COL\nat: src/a.rs:1:2\n"
    );
}

/// Every kind has a snapshot.
#[test]
fn every_kind_has_a_snapshot() {
    for kind in Kind::ALL {
        assert!(snapshot_path(kind.as_str()).exists(), "no snapshot for {kind}");
    }
}

/// A cycle through an event (issue 14): the waiter holds `queue` across its condvar wait for
/// `ready`; the notifier takes `queue` before it notifies. The chain names the event as one,
/// and the scenario shows the wait and the notify that is never reached.
const EVENT_CYCLE: &str = r#"{"thread":"notifier","op":"acquire","lock":"queue","mode":"write","site":"src/queue.rs:30:9"}
{"thread":"notifier","op":"release","lock":"queue"}
{"thread":"notifier","op":"signal","event":"ready","site":"src/queue.rs:32:9"}
{"thread":"worker","op":"acquire","lock":"queue","mode":"write","site":"src/queue.rs:12:9"}
{"thread":"worker","op":"wait","event":"ready","site":"src/queue.rs:13:9"}
"#;

#[test]
fn circular_dependency_through_an_event() {
    let doc = replay_one(EVENT_CYCLE, Kind::CircularDependency);
    check_snapshot("circular_dependency_event", &text(&doc));
}

/// DOT, HTML (its chain and its SVG graph) and SARIF mark the event node distinctly.
#[test]
fn event_nodes_are_marked_in_dot_html_and_sarif() {
    let doc = replay_one(EVENT_CYCLE, Kind::CircularDependency);
    let ready = doc.graph.classes.iter().find(|c| c.name == "ready").expect("the event");
    let queue = doc.graph.classes.iter().find(|c| c.name == "queue").expect("the lock");

    let dot = render::dot::render(&doc);
    let node = |id: u32| {
        dot.lines().find(|l| l.trim_start().starts_with(&format!("c{id} ["))).unwrap().to_string()
    };
    assert!(
        node(ready.id).contains(r#"label="event ready", shape=ellipse, style=dashed"#),
        "{dot}"
    );
    assert!(node(queue.id).contains(r#"label="queue""#), "{dot}");
    assert!(!node(queue.id).contains("ellipse"), "{dot}");

    let html = render::html::render(&doc);
    assert!(html.contains(r#"<span class="event">event</span> <code class="event">ready</code>"#));
    assert!(html.contains("<code>queue</code> (write)"), "locks keep their mode");
    assert!(html.contains(r#"<g class="node event hot" data-class="ready">"#), "the SVG node");
    assert!(html.contains(r#"<g class="node hot" data-class="queue">"#));

    let sarif: serde_json::Value =
        serde_json::from_str(&render::sarif::render(&[&doc])).expect("valid JSON");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["properties"]["events"], serde_json::json!(["ready"]));
    let texts: Vec<&str> = result["relatedLocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"]["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"#0 waits for event `ready` on thread 'worker'"), "{texts:?}");
    assert!(
        texts.contains(
            &"#1 event `ready` is signalled only after queue is taken, on thread 'notifier'"
        ),
        "{texts:?}"
    );
    assert!(texts.contains(&"#0 held queue (write) on thread 'worker'"), "{texts:?}");
    let message = result["message"]["text"].as_str().unwrap();
    assert!(message.contains("release queue before waiting for ready"), "{message}");
}
