//! CI-native output of `lockdep-report check` (GitHub annotations, JUnit XML, baselines) and
//! the command-line conventions (`--version`, typo suggestions, colour variables, `--help`
//! snapshots).

use std::path::{Path, PathBuf};
use std::process::Command;

use lockdep_reports::trace;

/// `first` then `second` on T1, the inverse on T2: a circular dependency between the two.
fn abba(first: &str, second: &str) -> String {
    format!(
        r#"{{"thread":"T1","op":"acquire","lock":"{first}","mode":"write","site":"src/one.rs:10:5"}}
{{"thread":"T1","op":"acquire","lock":"{second}","mode":"write","site":"src/one.rs:11:5"}}
{{"thread":"T1","op":"release","lock":"{second}"}}
{{"thread":"T1","op":"release","lock":"{first}"}}
{{"thread":"T2","op":"acquire","lock":"{second}","mode":"write","site":"src/two.rs:20:5"}}
{{"thread":"T2","op":"acquire","lock":"{first}","mode":"write","site":"src/two.rs:21:9"}}
"#
    )
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_env(args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lockdep-report"));
    c.args(args).env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE").env_remove("CLICOLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run lockdep-report");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(args: &[&str]) -> Out {
    run_env(args, &[])
}

fn tmp(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("lockdep-reports-ci-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Replays `trace` and writes the document as `dir/name`.
fn doc(dir: &Path, name: &str, trace: &str) -> String {
    let d = trace::replay(trace, name).unwrap();
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, d.to_json()).unwrap();
    p.display().to_string()
}

#[test]
fn github_format_is_one_error_annotation_per_report_at_the_closing_acquisition() {
    let d = tmp("github");
    let f = doc(&d, "abba.json", &abba("A", "B"));
    let o = run(&["check", &f, "--format", "github"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", o.stdout);
    let line = lines[0];
    // ::error file=F,line=L,col=C,title=T::MESSAGE
    let rest = line.strip_prefix("::error ").expect(line);
    let (props, message) = rest.split_once("::").expect(line);
    let props: Vec<(&str, &str)> = props.split(',').map(|p| p.split_once('=').expect(p)).collect();
    let names: Vec<&str> = props.iter().map(|p| p.0).collect();
    assert_eq!(names, ["file", "line", "col", "title"], "{line}");
    assert_eq!(props[0].1, "src/two.rs", "the acquisition that closed the cycle");
    assert_eq!(props[1].1, "21");
    assert_eq!(props[2].1, "9");
    assert!(props[3].1.starts_with("lockdep%3A "), "':' is escaped in properties: {line}");
    assert!(message.contains("circular_dependency:A,B"), "{message}");
    assert!(!message.contains('\n'));
    // Suppressed: no annotation, exit 0.
    let s = d.join("supp.txt");
    std::fs::write(&s, "circular_dependency:A,B\n").unwrap();
    let o = run(&["check", &f, "--format=github", "--suppressions", &s.display().to_string()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.is_empty(), "{}", o.stdout);
}

#[test]
fn junit_format_has_the_required_elements_and_attributes() {
    let d = tmp("junit");
    doc(&d, "docs/one.json", &abba("A", "B"));
    doc(&d, "docs/two.json", &abba("C", "D"));
    let s = d.join("supp.txt");
    std::fs::write(&s, "circular_dependency:C,D\n").unwrap();
    let out = d.join("junit.xml");
    let o = run(&[
        "check",
        &d.join("docs").display().to_string(),
        "--format",
        "junit",
        "--suppressions",
        &s.display().to_string(),
        "-o",
        &out.display().to_string(),
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stdout.is_empty(), "-o takes the output");
    let xml = std::fs::read_to_string(&out).unwrap();
    let tree = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = tree.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.has_tag_name("testsuite")).collect();
    assert_eq!(suites.len(), 1);
    let suite = suites[0];
    assert_eq!(suite.attribute("name"), Some("lockdep"));
    assert_eq!(suite.attribute("tests"), Some("2"));
    assert_eq!(suite.attribute("failures"), Some("1"));
    assert_eq!(suite.attribute("skipped"), Some("1"));
    let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), 2, "one test case per report");
    for c in &cases {
        assert!(c.attribute("name").is_some() && c.attribute("classname").is_some());
    }
    let failing: Vec<_> = cases
        .iter()
        .filter_map(|c| c.children().find(|n| n.has_tag_name("failure")).map(|f| (c, f)))
        .collect();
    assert_eq!(failing.len(), 1);
    let (case, failure) = failing[0];
    assert_eq!(case.attribute("name"), Some("circular_dependency:A,B"));
    assert_eq!(case.attribute("classname"), Some("circular_dependency"));
    assert_eq!(case.attribute("file"), Some("src/two.rs"));
    assert_eq!(failure.attribute("type"), Some("circular_dependency"));
    assert!(failure.attribute("message").is_some_and(|m| !m.is_empty()));
    assert!(failure.text().unwrap_or("").contains("possible circular locking dependency"));
    let skipped = cases.iter().filter(|c| c.children().any(|n| n.has_tag_name("skipped")));
    assert_eq!(skipped.count(), 1, "the suppressed report is skipped");
}

#[test]
fn baseline_fails_only_on_the_new_problem() {
    let d = tmp("baseline");
    // The earlier run had A/B; this run has A/B (old) and C/D (new).
    let before = doc(&d, "before/one.json", &abba("A", "B"));
    let o = run(&["merge", &before, "-o", &d.join("merged-before.json").display().to_string()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    doc(&d, "now/one.json", &abba("A", "B"));
    doc(&d, "now/two.json", &abba("C", "D"));
    let base = d.join("merged-before.json").display().to_string();
    let now = d.join("now").display().to_string();
    let o = run(&["check", &now, "--baseline", &base]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(
        o.stdout,
        "circular_dependency  circular_dependency:A,B  now/one.json  (baselined)\n\
         circular_dependency  circular_dependency:C,D  now/two.json\n"
    );
    assert!(o.stderr.contains("1 report(s), 0 suppressed, 1 baselined"), "{}", o.stderr);
    // GitHub annotations only for the new one.
    let o = run(&["check", &now, "--baseline", &base, "--format", "github"]);
    assert_eq!(o.stdout.lines().count(), 1, "{}", o.stdout);
    assert!(o.stdout.contains("circular_dependency:C,D"));
    // A baseline taken from this run passes.
    let o = run(&["check", &now, "--baseline", &now]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    // A missing baseline is bad input, one line naming it.
    let missing = d.join("nope.json").display().to_string();
    let o = run(&["check", &now, "--baseline", &missing]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.lines().count() == 1 && o.stderr.contains(&missing), "{}", o.stderr);
}

#[test]
fn version_and_typo_suggestions() {
    let o = run(&["--version"]);
    assert_eq!(o.code, 0);
    assert_eq!(o.stdout.trim(), format!("lockdep-report {}", env!("CARGO_PKG_VERSION")));
    let o = run(&["chek", "x.json"]);
    assert_eq!(o.code, 2, "usage errors exit 2");
    assert!(o.stderr.contains("similar subcommand exists: 'check'"), "{}", o.stderr);
    let o = run(&["check", "x.json", "--supressions", "s"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("--suppressions"), "{}", o.stderr);
    let o = run(&["check", "x.json", "--format", "xml"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("[possible values: text, github, junit]"), "{}", o.stderr);
    let o = run(&["check", "--help"]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("--baseline"));
}

#[test]
fn colour_honours_no_color_and_clicolor_force() {
    let d = tmp("colour");
    let f = doc(&d, "abba.json", &abba("A", "B"));
    let esc = |o: &Out| o.stdout.contains('\x1b');
    assert!(!esc(&run(&["show", &f])), "a pipe is not coloured");
    assert!(esc(&run_env(&["show", &f], &[("CLICOLOR_FORCE", "1")])));
    assert!(!esc(&run_env(&["show", &f], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])));
    assert!(esc(&run_env(&["show", &f, "--color", "always"], &[("NO_COLOR", "1")])));
    assert!(!esc(&run_env(&["--color=never", "show", &f], &[("CLICOLOR_FORCE", "1")])));
    // clap's own output follows the same choice.
    let o = run_env(&["--help", "--color", "always"], &[]);
    assert!(esc(&o), "{}", o.stdout);
    assert!(!esc(&run_env(&["--help"], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])));
}

/// `--help` texts against checked-in snapshots; `UPDATE_SNAPSHOTS=1` rewrites them.
#[test]
fn help_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/help");
    let cases: &[(&str, &[&str])] = &[
        ("lockdep-report", &["--help"]),
        ("lockdep-report-check", &["check", "--help"]),
        ("lockdep-report-replay", &["replay", "--help"]),
        ("lockdep-report-merge", &["merge", "--help"]),
    ];
    let mut bad = Vec::new();
    for (name, args) in cases {
        let o = run(args);
        assert_eq!(o.code, 0, "{name}: {}", o.stderr);
        let path = dir.join(format!("{name}.txt"));
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &o.stdout).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(o.stdout.as_str()) {
            bad.push(format!("{}:\n{}", path.display(), o.stdout));
        }
    }
    assert!(
        bad.is_empty(),
        "help differs from the snapshots (UPDATE_SNAPSHOTS=1):\n{}",
        bad.join("\n")
    );
}

#[test]
fn declare_writes_an_order_that_check_declared_accepts_on_its_own_workload() {
    let d = tmp("declare");
    let nested = r#"{"thread":"T1","op":"acquire","lock":"a","class":"bank::accounts","mode":"write"}
{"thread":"T1","op":"acquire","lock":"j","class":"bank::journal","mode":"write"}
{"thread":"T1","op":"release","lock":"j"}
{"thread":"T1","op":"release","lock":"a"}"#;
    let f = doc(&d, "run.json", nested);
    let rs = d.join("order.rs").display().to_string();
    let o = run(&["declare", &f, "-o", &rs]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let text = std::fs::read_to_string(&rs).unwrap();
    assert!(text.contains("order ACCOUNTS => JOURNAL;"), "{text}");
    let o = run(&["check", &f, "--declared", &rs]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("0 contradicting, 0 undeclared, 0 unobserved"), "{}", o.stderr);
    // The inverse observation contradicts the declaration.
    let inverse = doc(
        &d,
        "inverse.json",
        &nested
            .replace("\"a\"", "\"t\"")
            .replace("\"j\"", "\"a\"")
            .replace("\"t\"", "\"j\"")
            .replace("bank::accounts", "TMP")
            .replace("bank::journal", "bank::accounts")
            .replace("TMP", "bank::journal"),
    );
    let o = run(&["check", &inverse, "--declared", &rs]);
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("contradicts  bank::journal -> bank::accounts"), "{}", o.stdout);
    assert!(o.stdout.contains("unobserved  ACCOUNTS => JOURNAL"), "{}", o.stdout);
    let o = run(&["check", &f, "--declared", &f]);
    assert_eq!(o.code, 2, "a file without a declaration is bad input: {}", o.stderr);
}
