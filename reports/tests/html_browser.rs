//! `lockdep-report html` in a real headless browser: the page generated from replayed documents
//! (an ABBA trace and a 3-class cycle) is loaded by Chromium, and the assertions run on the DOM
//! *as rendered* (`--dump-dom`, after the page's script ran) and on a screenshot.
//!
//! Skipped, with a message, when no Chromium is installed (`apt-get install -y chromium`).
//! `LOCKDEP_CHROMIUM=/path/to/chrome` picks the browser; `LOCKDEP_UPDATE_SCREENSHOT=1` also
//! copies the screenshot to `reports/docs/html-report.png`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lockdep_reports::trace;

const ABBA: &str = r#"{"thread":"T1","op":"acquire","lock":"inode_lock","mode":"write","site":"src/fs/inode.rs:10:5"}
{"thread":"T1","op":"acquire","lock":"page_lock","mode":"write","site":"src/mm/page.rs:11:5"}
{"thread":"T1","op":"release","lock":"page_lock"}
{"thread":"T1","op":"release","lock":"inode_lock"}
{"thread":"T2","op":"acquire","lock":"page_lock","mode":"write","site":"src/mm/page.rs:20:5"}
{"thread":"T2","op":"acquire","lock":"inode_lock","mode":"write","site":"src/fs/inode.rs:21:5"}
"#;

/// X -> Y (read), Y -> Z, then Z -> X closes a cycle through three classes and three threads.
const CYCLE3: &str = r#"{"thread":"T1","op":"acquire","lock":"X","mode":"write","site":"src/x.rs:1:1"}
{"thread":"T1","op":"acquire","lock":"Y","mode":"read","site":"src/x.rs:2:1"}
{"thread":"T1","op":"release","lock":"Y"}
{"thread":"T1","op":"release","lock":"X"}
{"thread":"T2","op":"acquire","lock":"Y","mode":"write","site":"src/y.rs:1:1"}
{"thread":"T2","op":"acquire","lock":"Z","mode":"write","site":"src/y.rs:2:1"}
{"thread":"T2","op":"release","lock":"Z"}
{"thread":"T2","op":"release","lock":"Y"}
{"thread":"T3","op":"acquire","lock":"Z","mode":"write","site":"src/z.rs:1:1"}
{"thread":"T3","op":"acquire","lock":"X","mode":"write","site":"src/z.rs:2:1"}
"#;

/// The browser binary, if one is installed.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LOCKDEP_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn tmp(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("lockdep-html-browser-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless Chromium with a fresh profile and a time limit; returns its stdout.
fn run_chromium(browser: &Path, work: &Path, tag: &str, args: &[String]) -> String {
    let profile = work.join(format!("profile-{tag}"));
    let stdout_path = work.join(format!("{tag}.stdout"));
    let stderr_path = work.join(format!("{tag}.stderr"));
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("start chromium");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium ({tag}) did not finish in 90 s; stderr:\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(status.success(), "chromium ({tag}) failed: {status}\n{stderr}");
    std::fs::read_to_string(&stdout_path).unwrap()
}

fn file_url(p: &Path) -> String {
    format!("file://{}", p.canonicalize().unwrap().display())
}

/// The text of the first element that starts with `open` (up to its `close` tag).
fn element<'a>(dom: &'a str, open: &str, close: &str) -> &'a str {
    let start = dom.find(open).unwrap_or_else(|| panic!("no {open} in the rendered DOM"));
    let end = dom[start..].find(close).unwrap_or_else(|| panic!("{open} is not closed"));
    &dom[start..start + end + close.len()]
}

/// `<tr>` rows of a table fragment, header row included.
fn rows(table: &str) -> Vec<&str> {
    table.split("<tr>").skip(1).map(|r| r.split("</tr>").next().unwrap_or("")).collect()
}

fn assert_png(path: &Path, width: u32, height: u32) {
    let png = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&png[12..16], b"IHDR");
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((w, h), (width, height), "screenshot size");
    // A blank page of this size compresses to a few kB; text, tables and a graph do not.
    assert!(png.len() > 30_000, "screenshot is only {} bytes: blank page?", png.len());
    assert!(png.ends_with(b"IEND\xaeB`\x82"), "PNG is complete");
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        // Written to the real stderr (not `eprintln!`, which the test harness captures), so
        // the skip shows in every `cargo test` log.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED html_report_renders_in_headless_chromium: no chromium on PATH \
             (install it with `apt-get install -y chromium`, or set LOCKDEP_CHROMIUM)"
        );
        return;
    };
    let work = tmp("page");
    let docs = work.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    for (name, text, program) in
        [("abba.json", ABBA, "abba.trace"), ("cycle3.json", CYCLE3, "cycle3.trace")]
    {
        let doc = trace::replay(text, program).expect("valid trace");
        assert_eq!(doc.reports.len(), 1, "{program} reports its cycle");
        std::fs::write(docs.join(name), doc.to_json()).unwrap();
    }
    let page = work.join("lockdep.html");
    let out = Command::new(env!("CARGO_BIN_EXE_lockdep-report"))
        .arg("html")
        .arg(&docs)
        .arg("-o")
        .arg(&page)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let raw = std::fs::read_to_string(&page).unwrap();
    let url = file_url(&page);

    // ---- the DOM after the page loaded and its script ran ----
    let dom = run_chromium(&browser, &work, "dom", &["--dump-dom".into(), url.clone()]);
    assert!(dom.contains("<h1>lockdep: merge of 2 documents</h1>"), "{dom}");

    // Summary: one row per report, with kind, classes and the program each report came from.
    let summary = element(&dom, "<table class=\"summary\">", "</table>");
    let summary_rows = rows(summary);
    assert_eq!(summary_rows.len(), 3, "header + 2 reports: {summary}");
    assert!(summary_rows[0].contains("<th>kind</th><th>classes</th><th>program</th>"));
    let abba_row = summary_rows.iter().find(|r| r.contains("inode_lock")).expect("ABBA row");
    assert!(abba_row.contains("circular_dependency") && abba_row.contains("page_lock"));
    assert!(abba_row.contains("<td>abba.trace</td>"), "{abba_row}");
    let c3_row = summary_rows.iter().find(|r| r.contains("X, ")).expect("3-cycle row");
    assert!(["X", "Y", "Z"].iter().all(|c| c3_row.contains(c)), "{c3_row}");
    assert!(c3_row.contains("<td>cycle3.trace</td>"), "{c3_row}");

    // The graph: every cycle edge is drawn highlighted, between the right classes.
    let svg = element(&dom, "<svg", "</svg>");
    for (from, to) in [
        ("inode_lock", "page_lock"),
        ("page_lock", "inode_lock"),
        ("X", "Y"),
        ("Y", "Z"),
        ("Z", "X"),
    ] {
        let edge = format!("<path class=\"edge hot\" data-from=\"{from}\" data-to=\"{to}\"");
        assert!(svg.contains(&edge), "cycle edge {from} -> {to} highlighted: {svg}");
    }
    assert_eq!(svg.matches("class=\"edge hot\"").count(), 5, "exactly the 5 cycle edges");
    for class in ["inode_lock", "page_lock", "X", "Y", "Z"] {
        let node = format!("<g class=\"node hot\" data-class=\"{class}\">");
        assert!(svg.contains(&node), "class {class} drawn as a cycle node");
        assert!(svg.contains(&format!("{class}</text>")), "class {class} labelled");
    }
    assert!(svg.contains("marker-end=\"url(#arrow-hot)\""), "cycle edges carry arrows");

    // Scenario tables: one column per thread (2 for ABBA, 3 for the 3-cycle).
    let scenarios: Vec<&str> = dom.split("<table class=\"scenario\">").skip(1).collect();
    assert_eq!(scenarios.len(), 2);
    let heads: Vec<&str> = scenarios.iter().map(|s| rows(s)[0]).collect();
    assert!(heads.contains(&"<th>T0</th><th>T1</th>"), "{heads:?}");
    assert!(heads.contains(&"<th>T0</th><th>T1</th><th>T2</th>"), "{heads:?}");
    let three = scenarios.iter().find(|s| s.contains("<th>T2</th>")).unwrap();
    let three = &three[..three.find("</table>").unwrap()];
    for row in rows(three).iter().skip(1) {
        assert_eq!(row.matches("<td").count(), 3, "3 columns in every scenario row: {row}");
    }
    assert!(three.contains("waits for T0"), "{three}");
    // Chains: each link with both sites.
    assert!(dom.contains("src/fs/inode.rs:21:5") && dom.contains("src/mm/page.rs:20:5"));

    // Built by the page's script: the expand/collapse buttons exist only in the rendered DOM.
    assert!(!raw.contains("<button"), "the buttons are not in the served HTML");
    let controls = element(&dom, "<p id=\"controls\">", "</p>");
    assert!(controls.contains(">expand all</button>"), "JS added the buttons: {controls}");
    assert!(controls.contains(">collapse all</button>"), "{controls}");
    assert!(!dom.contains("class=\"node hot focus\""), "nothing focused without a fragment");

    // ---- following a summary link (#r1) highlights that report's classes in the graph ----
    let c3_index = usize::from(!summary_rows[1].contains("X, "));
    let focused = run_chromium(
        &browser,
        &work,
        "focus",
        &["--dump-dom".into(), format!("{url}#r{c3_index}")],
    );
    let svg = element(&focused, "<svg", "</svg>");
    for class in ["X", "Y", "Z"] {
        let node = format!("<g class=\"node hot focus\" data-class=\"{class}\">");
        assert!(svg.contains(&node), "JS focused {class}: {svg}");
    }
    assert!(svg.contains("<g class=\"node hot\" data-class=\"inode_lock\">"), "ABBA not focused");
    assert_eq!(svg.matches("class=\"edge hot focus\"").count(), 3, "the 3 edges of the cycle");
    let note = element(&focused, "<p id=\"focus-note\">", "</p>");
    assert!(note.contains(&format!("report #{c3_index} highlighted")), "{note}");

    // ---- a screenshot: the page really paints ----
    let shot = work.join("html-report.png");
    run_chromium(
        &browser,
        &work,
        "shot",
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".into(),
            url.clone(),
        ],
    );
    assert_png(&shot, 1280, 2000);
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report.png");
    std::fs::copy(&shot, &kept).unwrap();
    println!("screenshot: {}", kept.display());
    if std::env::var_os("LOCKDEP_UPDATE_SCREENSHOT").is_some_and(|v| v == "1") {
        // The committed picture: the top of the page (summary, graph, first report).
        let docs_png = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/html-report.png");
        std::fs::create_dir_all(docs_png.parent().unwrap()).unwrap();
        run_chromium(
            &browser,
            &work,
            "docs",
            &[
                format!("--screenshot={}", docs_png.display()),
                "--window-size=1100,1250".into(),
                url,
            ],
        );
        println!("updated {}", docs_png.display());
    }
    let _ = std::fs::remove_dir_all(&work);
}
