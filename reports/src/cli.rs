//! The `lockdep-report` command line: argument parsing and the subcommands.
//!
//! Exit codes: 0 = success and (for `replay` and `check`) no reports; 1 = reports found
//! (`replay`, `check`); 2 = bad input or usage. Every error is one line on stderr that names
//! the file.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::input::{self, InputError, Loaded};
use crate::{merge, render};

/// The usage text printed by `--help` and on usage errors.
pub const USAGE: &str = "\
usage: lockdep-report <command> [options]

commands:
  replay TRACE [--json]                       replay a JSONL event trace, print its reports
  show FILE|DIR... [--color auto|always|never] kernel-style text of every report
  check FILE|DIR... [--suppressions FILE] [--merge]
                                              one line per report; exit 1 if any unsuppressed;
                                              --merge: also cycles across the documents
  merge FILE|DIR... -o OUT                    union the graphs, find cross-document cycles
  dot FILE|DIR... [-o OUT]                    Graphviz DOT of the (merged) class graph
  sarif FILE|DIR... [-o OUT]                  SARIF 2.1.0 log, one result per report
  html FILE|DIR... [-o OUT.html]              self-contained HTML page

exit status: 0 = no reports / success, 1 = reports found (replay, check), 2 = bad input or usage
";

/// Exit status: success, no reports.
pub const EXIT_OK: i32 = 0;
/// Exit status: reports found.
pub const EXIT_REPORTS: i32 = 1;
/// Exit status: bad input or usage.
pub const EXIT_ERROR: i32 = 2;

/// Where the tool writes, and whether stdout is a terminal (for colour).
pub struct Io<'a> {
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
    /// Whether `out` is a terminal.
    pub out_is_terminal: bool,
}

#[derive(Default)]
struct Args {
    paths: Vec<PathBuf>,
    json: bool,
    merge: bool,
    output: Option<PathBuf>,
    suppressions: Option<PathBuf>,
    colour: Option<String>,
}

/// A failure that ends the command with exit status 2.
enum Fail {
    Usage(String),
    Input(String),
}

impl From<InputError> for Fail {
    fn from(e: InputError) -> Fail {
        Fail::Input(e.to_string())
    }
}

fn parse_args(cmd: &str, rest: &[OsString]) -> Result<Args, Fail> {
    let allowed: &[&str] = match cmd {
        "replay" => &["--json"],
        "show" => &["--color"],
        "check" => &["--suppressions", "--merge"],
        "merge" | "dot" | "sarif" | "html" => &["-o"],
        _ => return Err(Fail::Usage(format!("unknown command '{cmd}'"))),
    };
    let mut a = Args::default();
    let mut it = rest.iter();
    let mut flags_done = false;
    while let Some(raw) = it.next() {
        let Some(s) = raw.to_str() else {
            a.paths.push(PathBuf::from(raw));
            continue;
        };
        if flags_done || !s.starts_with('-') || s == "-" {
            a.paths.push(PathBuf::from(raw));
            continue;
        }
        if s == "--" {
            flags_done = true;
            continue;
        }
        let (name, inline) = match s.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (s, None),
        };
        let name = match name {
            "--output" => "-o",
            "--colour" => "--color",
            n => n,
        };
        if !allowed.contains(&name) {
            return Err(Fail::Usage(format!("'{cmd}' does not take option '{s}'")));
        }
        if name == "--json" || name == "--merge" {
            if inline.is_some() {
                return Err(Fail::Usage(format!("option '{name}' takes no value")));
            }
            a.json |= name == "--json";
            a.merge |= name == "--merge";
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => match it.next().and_then(|v| v.to_str()) {
                Some(v) => v.to_string(),
                None => return Err(Fail::Usage(format!("option '{name}' needs a value"))),
            },
        };
        match name {
            "-o" => a.output = Some(PathBuf::from(value)),
            "--suppressions" => a.suppressions = Some(PathBuf::from(value)),
            "--color" => {
                if !["auto", "always", "never"].contains(&value.as_str()) {
                    return Err(Fail::Usage(format!(
                        "--color takes auto, always or never, not '{value}'"
                    )));
                }
                a.colour = Some(value)
            }
            _ => unreachable!("option list checked above"),
        }
    }
    if a.paths.is_empty() {
        return Err(Fail::Usage(format!("'{cmd}' needs at least one file")));
    }
    if cmd == "replay" && a.paths.len() != 1 {
        return Err(Fail::Usage("'replay' takes exactly one trace file".into()));
    }
    if cmd == "merge" && a.output.is_none() {
        return Err(Fail::Usage("'merge' needs -o OUT".into()));
    }
    Ok(a)
}

/// Runs the tool on `args` (without the program name) and returns the exit status.
pub fn run(args: &[OsString], io: &mut Io<'_>) -> i32 {
    let Some(cmd) = args.first() else {
        let _ = write!(io.err, "lockdep-report: missing command\n{USAGE}");
        return EXIT_ERROR;
    };
    let cmd = cmd.to_string_lossy().into_owned();
    if cmd == "-h" || cmd == "--help" || cmd == "help" {
        let _ = io.out.write_all(USAGE.as_bytes());
        return EXIT_OK;
    }
    if args[1..].iter().any(|a| a == "-h" || a == "--help") {
        let _ = io.out.write_all(USAGE.as_bytes());
        return EXIT_OK;
    }
    let result = parse_args(&cmd, &args[1..]).and_then(|a| dispatch(&cmd, &a, io));
    match result {
        Ok(code) => code,
        Err(Fail::Usage(m)) => {
            let _ =
                writeln!(io.err, "lockdep-report: {m}\n(run 'lockdep-report --help' for usage)");
            EXIT_ERROR
        }
        Err(Fail::Input(m)) => {
            let _ = writeln!(io.err, "lockdep-report: {m}");
            EXIT_ERROR
        }
    }
}

fn dispatch(cmd: &str, a: &Args, io: &mut Io<'_>) -> Result<i32, Fail> {
    match cmd {
        "replay" => replay(a, io),
        "show" => show(a, io),
        "check" => check(a, io),
        "merge" => merge_cmd(a, io),
        "dot" => emit(a, io, |m| render::dot::render(&m.document)),
        "sarif" => emit(a, io, |m| render::sarif::render(&[&m.document])),
        "html" => emit(a, io, |m| render::html::render_with_sources(&m.document, &m.sources)),
        _ => Err(Fail::Usage(format!("unknown command '{cmd}'"))),
    }
}

/// Writes to stdout, treating a closed pipe (`| head`) as success.
fn put(io: &mut Io<'_>, text: &str) -> Result<(), Fail> {
    match io.out.write_all(text.as_bytes()).and_then(|_| io.out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Fail::Input(format!("<stdout>: cannot write: {e}")))
        }
        _ => Ok(()),
    }
}

fn write_out(path: &Path, text: &str) -> Result<(), Fail> {
    crate::write_atomic(path, text.as_bytes())
        .map_err(|e| Fail::Input(format!("{}: cannot write: {e}", path.display())))
}

fn colour(a: &Args, io: &Io<'_>) -> bool {
    match a.colour.as_deref() {
        Some("always") => true,
        Some("never") => false,
        _ => render::text::want_colour(io.out_is_terminal),
    }
}

fn replay(a: &Args, io: &mut Io<'_>) -> Result<i32, Fail> {
    let path = &a.paths[0];
    let text = input::read_text(path)?;
    let program = path.display().to_string();
    let doc = crate::trace::replay(&text, &program)
        .map_err(|e| Fail::Input(format!("{}:{}: {}", path.display(), e.line, e.message)))?;
    if a.json {
        put(io, &(doc.to_json() + "\n"))?;
    } else if doc.reports.is_empty() {
        put(io, &crate::render_document(&doc))?;
    } else {
        put(io, &render::text::render(&doc, colour(a, io)))?;
    }
    Ok(if doc.reports.is_empty() { EXIT_OK } else { EXIT_REPORTS })
}

fn show(a: &Args, io: &mut Io<'_>) -> Result<i32, Fail> {
    let docs = input::load_all(&a.paths)?;
    let c = colour(a, io);
    let mut out = String::new();
    for l in &docs {
        if l.doc.reports.is_empty() {
            out.push_str(&format!(
                "{}: {}: no lock problems found\n",
                l.path.display(),
                l.doc.program
            ));
        } else {
            out.push_str(&render::text::render(&l.doc, c));
        }
    }
    put(io, &out)?;
    Ok(EXIT_OK)
}

/// A parsed suppression file: fingerprints with the line they came from.
fn suppressions(path: &Path) -> Result<Vec<(usize, String)>, Fail> {
    let text = input::read_text(path)?;
    Ok(text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let l = l.split('#').next().unwrap_or("").trim();
            (!l.is_empty()).then(|| (i + 1, l.to_string()))
        })
        .collect())
}

fn check(a: &Args, io: &mut Io<'_>) -> Result<i32, Fail> {
    let sup = match &a.suppressions {
        Some(p) => suppressions(p)?,
        None => Vec::new(),
    };
    let docs = input::load_all(&a.paths)?;
    let n_docs = docs.len();
    // (report, where it comes from): each document's own, or with --merge the merged set
    // (deduplicated by fingerprint, plus the cycles no single document saw).
    let listed: Vec<(crate::Report, String)> = if a.merge {
        let m = merged(docs);
        if m.truncated {
            let _ = writeln!(
                io.err,
                "warning: cycle search stopped early (limit reached); some cycles may be missing"
            );
        }
        m.document.reports.into_iter().zip(m.sources).collect()
    } else {
        docs.into_iter()
            .flat_map(|l| {
                let program = l.doc.program;
                l.doc.reports.into_iter().map(move |r| (r, program.clone()))
            })
            .collect()
    };
    let mut used = vec![false; sup.len()];
    let (mut open, mut suppressed) = (0usize, 0usize);
    let mut out = String::new();
    {
        for (r, program) in &listed {
            let fp = r.fingerprint();
            let hit = sup.iter().position(|(_, s)| *s == fp);
            if let Some(i) = hit {
                used[i] = true;
                suppressed += 1;
                out.push_str(&format!("{}  {fp}  {program}  (suppressed)\n", r.kind));
            } else {
                open += 1;
                out.push_str(&format!("{}  {fp}  {program}\n", r.kind));
            }
        }
    }
    put(io, &out)?;
    if let Some(p) = &a.suppressions {
        for ((line, fp), used) in sup.iter().zip(&used) {
            if !used {
                let _ = writeln!(
                    io.err,
                    "warning: {}:{line}: stale suppression '{fp}' matches no report",
                    p.display()
                );
            }
        }
    }
    let _ = writeln!(io.err, "{n_docs} document(s), {open} report(s), {suppressed} suppressed");
    Ok(if open > 0 { EXIT_REPORTS } else { EXIT_OK })
}

fn merged(docs: Vec<Loaded>) -> merge::Merged {
    merge::merge(docs.into_iter().map(|l| (l.origin(), l.doc)))
}

fn merge_cmd(a: &Args, io: &mut Io<'_>) -> Result<i32, Fail> {
    let docs = input::load_all(&a.paths)?;
    let n = docs.len();
    let m = merged(docs);
    let out = a.output.as_deref().unwrap_or(Path::new("merged.json"));
    write_out(out, &(m.document.to_json() + "\n"))?;
    let _ = writeln!(
        io.err,
        "merged {n} document(s) into {}: {} classes, {} edges, {} report(s), {} new cycle(s)",
        out.display(),
        m.document.graph.classes.len(),
        m.document.graph.edges.len(),
        m.document.reports.len(),
        m.new_cycles
    );
    if m.truncated {
        let _ = writeln!(
            io.err,
            "warning: cycle search stopped early (limit reached); some cycles may be missing"
        );
    }
    Ok(EXIT_OK)
}

fn emit(a: &Args, io: &mut Io<'_>, f: impl Fn(&merge::Merged) -> String) -> Result<i32, Fail> {
    let docs = input::load_all(&a.paths)?;
    let m = merged(docs);
    let text = f(&m);
    match &a.output {
        Some(p) => write_out(p, &text)?,
        None => put(io, &text)?,
    }
    Ok(EXIT_OK)
}
