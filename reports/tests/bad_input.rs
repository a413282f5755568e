//! Bad input never hangs or explodes `lockdep-report`: special files (a FIFO named `*.json` in
//! a folder, `/dev/zero` as a file) are one-line errors with exit status 2, and the text of a
//! report with thousands of threads in its scenario (and its HTML page) stays linear in the
//! input.
//!
//! Every run is a child process with a deadline: a hang fails the test instead of hanging CI.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lockdep_reports::{Document, Kind, Report, Step};

const DEADLINE: Duration = Duration::from_secs(30);

struct Out {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs the tool; kills it and fails the test when it outlives `DEADLINE`. Output goes to
/// files, so a huge output cannot block the child on a full pipe.
fn run(args: &[&str], dir: &Path) -> Out {
    let out_path = dir.join("stdout.out");
    let err_path = dir.join("stderr.out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lockdep-report"))
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("run lockdep-report");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("lockdep-report {args:?} still running after {DEADLINE:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Out {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read_to_string(&err_path).unwrap(),
    }
}

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bad-input").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn assert_one_line_error(o: &Out, path: &str, what: &str) {
    assert_eq!(o.code, 2, "{what}: exit status; stderr: {}", o.stderr);
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: expected one line, got {:?}", o.stderr);
    assert!(lines[0].contains(path), "{what}: {:?} does not name {path}", lines[0]);
    assert!(lines[0].contains("not a regular file"), "{what}: {:?}", lines[0]);
    assert!(!o.stderr.contains("panicked"), "{what}: {}", o.stderr);
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(st.success(), "mkfifo {}", path.display());
}

#[cfg(unix)]
#[test]
fn a_fifo_named_json_in_a_folder_is_an_error_not_a_hang() {
    let good = lockdep_reports::trace::replay(
        "{\"thread\":\"T1\",\"op\":\"acquire\",\"lock\":\"A\"}\n",
        "clean.trace",
    )
    .unwrap();
    for cmd in ["show", "check", "merge"] {
        let d = tmp(&format!("fifo-{cmd}"));
        let docs = d.join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("a.json"), good.to_json()).unwrap();
        let fifo = docs.join("x.json");
        mkfifo(&fifo);
        let docs_arg = docs.display().to_string();
        let merged = d.join("merged.json").display().to_string();
        let args: Vec<&str> = match cmd {
            "merge" => vec![cmd, &docs_arg, "-o", &merged],
            _ => vec![cmd, &docs_arg],
        };
        let o = run(&args, &d);
        assert_one_line_error(&o, &fifo.display().to_string(), cmd);
        assert!(o.stderr.contains("FIFO"), "{cmd}: {}", o.stderr);
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_given_as_a_file_or_trace_or_suppression_file_is_an_error() {
    let d = tmp("fifo-file");
    let fifo = d.join("y.json");
    mkfifo(&fifo);
    let f = fifo.display().to_string();
    for args in [vec!["show", &f], vec!["replay", &f], vec!["dot", &f]] {
        let o = run(&args, &d);
        assert_one_line_error(&o, &f, args[0]);
    }
    let doc = d.join("doc.json");
    std::fs::write(&doc, Document::new("p").to_json()).unwrap();
    let o = run(&["check", &doc.display().to_string(), "--suppressions", &f], &d);
    assert_one_line_error(&o, &f, "check --suppressions");
}

#[cfg(target_os = "linux")]
#[test]
fn dev_zero_is_an_error_not_an_endless_read() {
    let d = tmp("dev-zero");
    for cmd in ["show", "check", "merge", "replay", "sarif", "html"] {
        let args: Vec<&str> = match cmd {
            "merge" => vec![cmd, "/dev/zero", "-o", "/dev/null"],
            _ => vec![cmd, "/dev/zero"],
        };
        let o = run(&args, &d);
        assert_one_line_error(&o, "/dev/zero", cmd);
        assert!(o.stderr.contains("character device"), "{cmd}: {}", o.stderr);
    }
}

/// A document with one circular-dependency report whose scenario has `n` threads, each with
/// two steps (the shape `cycle_scenario` gives an n-lock cycle).
fn many_threads(n: usize) -> Document {
    let mut scenario = Vec::new();
    for i in 0..n {
        scenario.push(Step { thread: format!("T{i}"), action: format!("lock(L{i})") });
    }
    for i in 0..n {
        let j = (i + 1) % n;
        scenario.push(Step {
            thread: format!("T{i}"),
            action: format!("lock(L{j})  <- waits for T{j}"),
        });
    }
    let mut doc = Document::new("many-threads");
    doc.reports.push(Report {
        kind: Kind::CircularDependency,
        title: String::new(),
        message: format!("a cycle of {n} locks"),
        rule: None,
        classes: (0..n).map(|i| format!("L{i}")).collect(),
        thread: "T0".into(),
        acquiring: None,
        chain: vec![],
        held: vec![],
        scenario,
        reproduce: None,
    });
    doc
}

#[test]
fn text_of_a_scenario_with_thousands_of_threads_is_linear_in_the_input() {
    let d = tmp("many-threads");
    let mut sizes = Vec::new();
    for n in [200, 2_000] {
        let path = d.join(format!("threads-{n}.json"));
        let json = many_threads(n).to_json();
        std::fs::write(&path, &json).unwrap();
        let o = run(&["show", &path.display().to_string()], &d);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let text = String::from_utf8(o.stdout).unwrap();
        assert!(text.contains(&format!("({n} threads, steps in time order)")), "{n}");
        assert!(text.contains(&format!("\n       T{}: lock(L0)  <- waits for T0\n", n - 1)));
        // Not bigger than the document it renders (the table was 2,000 x 4,000 cells).
        assert!(
            text.len() < json.len(),
            "{n} threads: {} bytes of text from {}",
            text.len(),
            json.len()
        );
        let o = run(&["html", &path.display().to_string()], &d);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let html = o.stdout.len();
        assert!(html < 2 * json.len(), "{n} threads: {html} bytes of HTML from {}", json.len());
        sizes.push((text.len(), html));
    }
    // Ten times the threads, about ten times the output (a table would be a hundred times).
    assert!(sizes[1].0 < sizes[0].0 * 12, "200 -> 2,000 threads, text: {sizes:?}");
    assert!(sizes[1].1 < sizes[0].1 * 12, "200 -> 2,000 threads, HTML: {sizes:?}");
}
