//! Kernel-style text rendering of reports, as printed on stderr when a report fires and by
//! `lockdep-report show`.
//!
//! The renderer takes a [`Style`]: [`Plain`] gives the kernel-style text ([`render_report`] is
//! that), [`Ansi`] adds terminal colour while rendering (the renderer knows which line is a
//! banner or a chain link, so nothing re-parses the text to colour it).

use super::{Acquisition, ChainLink, DepType, Document, Kind, NodeKind, Report, Step};
use crate::source_name::is_foreign_file;
use std::collections::HashMap;
use std::fmt::Write;

/// The parts of a report's text that a [`Style`] may set off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// The `=====` bars around the title, and the `WARNING: ...` title line.
    Banner,
    /// The heading of one edge of the dependency chain: `-> #0 (A) -> (B) [EN], ...`.
    ChainLink,
    /// A section heading: `thread 'T' is trying to acquire lock:`, `but task is already
    /// holding lock:`, the chain heading, `Possible unsafe locking scenario:`, the held-locks
    /// heading.
    Heading,
    /// The `*** DEADLOCK ***` line under a scenario.
    Deadlock,
}

/// How the text renderer marks the [`Role`]s of a report. The renderer calls
/// [`paint`](Style::paint) with the text of each such part (never with its indentation or the
/// line's newline); everything else is copied as is.
pub trait Style {
    /// Appends `text`, in the role `role`, to `out`. The default appends it unchanged.
    fn paint(&self, role: Role, text: &str, out: &mut String) {
        let _ = role;
        out.push_str(text);
    }
}

/// No marking at all: the kernel-style text of [`render_report`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Plain;

impl Style for Plain {}

/// ANSI terminal colour: the banner and `*** DEADLOCK ***` in bold red, chain links in yellow,
/// section headings in bold. Removing the escapes gives back the [`Plain`] text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ansi;

impl Ansi {
    /// The escape that starts `role`.
    pub fn start(role: Role) -> &'static str {
        match role {
            Role::Banner | Role::Deadlock => "\x1b[1;31m",
            Role::ChainLink => "\x1b[33m",
            Role::Heading => "\x1b[1m",
        }
    }

    /// The escape that ends every role.
    pub const RESET: &'static str = "\x1b[0m";
}

impl Style for Ansi {
    fn paint(&self, role: Role, text: &str, out: &mut String) {
        out.push_str(Ansi::start(role));
        out.push_str(text);
        out.push_str(Ansi::RESET);
    }
}

/// Appends `text` in `role`, then a newline.
fn line(out: &mut String, style: &dyn Style, role: Role, text: &str) {
    style.paint(role, text, out);
    out.push('\n');
}

fn acq_line(out: &mut String, indent: &str, a: &Acquisition) {
    if a.node == NodeKind::Event {
        let _ = write!(out, "{indent}event `{}`", a.class);
        if let Some(site) = &a.site {
            let _ = write!(out, " ({site})");
        }
        out.push('\n');
        return;
    }
    let _ = write!(out, "{indent}{} ({})", a.class, a.mode);
    if a.subclass != 0 && !a.class.ends_with(&format!("/{}", a.subclass)) {
        let _ = write!(out, "/{}", a.subclass);
    }
    if a.trylock {
        out.push_str(" [trylock]");
    }
    if let Some(site) = &a.site {
        let _ = write!(out, ", at: {site}");
    }
    out.push('\n');
}

fn stack(out: &mut String, indent: &str, a: &Acquisition) {
    for f in &a.stack {
        let _ = write!(out, "{indent}  {}", f.function);
        if let (Some(file), Some(line)) = (&f.file, f.line) {
            let _ = write!(out, " ({file}:{line})");
        }
        out.push('\n');
    }
}

/// Renders one report as kernel-style text.
pub fn render_report(r: &Report) -> String {
    render_report_styled(r, &Plain)
}

/// Renders one report as kernel-style text in `style`.
///
/// The layout follows the kernel's lockdep splat, so that people who read those read this
/// fluently: the title between bars, the acquisition (`is trying to acquire lock:`), the lock
/// already held (`but task is already holding lock:`), `which lock already depends on the new
/// lock.`, `the existing dependency chain (in reverse order) is:`, the `Possible unsafe locking
/// scenario:` table (one column per thread), `*** DEADLOCK ***` and the held locks. What ours
/// adds comes after the kernel's part it belongs to: both sites (and stacks) of every edge, the
/// `<- waits for` marks of the scenario, the fix hint in the message, and how to get stacks.
///
/// The text grows linearly with the report: a scenario of many threads (or very long steps),
/// which a column per thread would turn into a table of threads x steps, is listed step by
/// step instead (beyond 4 threads, or a step longer than 160 characters).
pub fn render_report_styled(r: &Report, style: &dyn Style) -> String {
    let mut out = String::new();
    let title = if r.title.is_empty() { r.kind.title() } else { &r.title };
    let width = title.len().max(40) + "WARNING: ".len();
    out.push('\n');
    line(&mut out, style, Role::Banner, &"=".repeat(width));
    line(&mut out, style, Role::Banner, &format!("WARNING: {title}"));
    line(&mut out, style, Role::Banner, &"-".repeat(width));
    let _ = writeln!(out, "kind: {}", r.kind);
    if let Some(rule) = &r.rule {
        let _ = writeln!(out, "rule: {rule}");
    }
    if !r.message.is_empty() {
        let _ = writeln!(out, "{}", r.message);
    }
    for class in r.classes.iter().filter(|c| is_foreign_file(c)) {
        let _ = writeln!(out, "{}", foreign_class_note(class));
    }
    let check = check_of(r);
    if let Some(a) = &r.acquiring {
        let t = &r.thread;
        let heading = match r.kind {
            Kind::BadUnlock => format!("thread '{t}' is trying to release lock:"),
            Kind::BadDowngrade => format!("thread '{t}' is trying to downgrade lock:"),
            // The report's thread is the holder; the free may come from another thread (a
            // replayed trace), so the heading does not say who frees it.
            Kind::LockFreedWhileHeld => format!("a lock that thread '{t}' holds is freed here:"),
            Kind::HeldAtExit => format!("thread '{t}' is exiting while holding lock:"),
            Kind::HeldAcrossAwait => format!("a task on thread '{t}' yielded while holding lock:"),
            _ if check == Some(Check::Assertion) => {
                format!("thread '{t}' failed an assertion on lock:")
            }
            _ if check == Some(Check::Predicate) => {
                format!("thread '{t}' failed a lock-state predicate, at:")
            }
            _ if a.node == NodeKind::Event && r.chain.first().is_some_and(|l| &l.from == a) => {
                format!("thread '{t}' signals:")
            }
            _ if a.node == NodeKind::Event => format!("thread '{t}' is about to wait for:"),
            _ => format!("thread '{t}' is trying to acquire lock:"),
        };
        out.push('\n');
        line(&mut out, style, Role::Heading, &heading);
        match check {
            // The probe's mode is not something the thread did: name the lock and the site.
            Some(Check::Assertion) => {
                let _ = write!(out, "  {}", a.class);
                if let Some(site) = &a.site {
                    let _ = write!(out, ", asserted at: {site}");
                }
                out.push('\n');
            }
            Some(Check::Predicate) => {
                if let Some(site) = &a.site {
                    let _ = writeln!(out, "  {site}");
                }
            }
            None => acq_line(&mut out, "  ", a),
        }
        stack(&mut out, "  ", a);
    }
    let closes_cycle = matches!(r.kind, Kind::CircularDependency | Kind::RecursiveLocking);
    if let (true, Some(first)) = (closes_cycle, r.chain.first()) {
        if first.from.node == NodeKind::Lock {
            out.push('\n');
            line(&mut out, style, Role::Heading, "but task is already holding lock:");
            acq_line(&mut out, "  ", &first.from);
            stack(&mut out, "  ", &first.from);
        }
    }
    if r.kind == Kind::CircularDependency && r.chain.len() > 1 {
        let _ = writeln!(out, "\nwhich lock already depends on the new lock.\n");
        out.push('\n');
        line(
            &mut out,
            style,
            Role::Heading,
            "the existing dependency chain (in reverse order) is:",
        );
        for i in (1..r.chain.len()).rev() {
            chain_link(&mut out, style, i, &r.chain[i], "first seen on thread");
        }
        out.push('\n');
        line(&mut out, style, Role::Heading, "and the new dependency, which closes the cycle:");
        chain_link(&mut out, style, 0, &r.chain[0], "on thread");
    } else if !r.chain.is_empty() {
        out.push('\n');
        line(&mut out, style, Role::Heading, "the dependency, edge by edge:");
        for (i, link) in r.chain.iter().enumerate() {
            chain_link(&mut out, style, i, link, "first seen on thread");
        }
    }
    let sides = r.chain.iter().flat_map(|l| [&l.from, &l.to]);
    let (with, without) =
        sides.fold((0, 0), |(w, wo), a| if a.stack.is_empty() { (w, wo + 1) } else { (w + 1, wo) });
    if with > 0 && without > 0 {
        let _ = writeln!(
            out,
            "\n(an acquisition shown with its site only was a lock chain already known when it \
             happened; run with LOCKDEP_BACKTRACE=always to record every acquisition's stack)"
        );
    }
    if lacks_debug_info(r) {
        let _ = writeln!(out, "\n{NO_DEBUG_INFO_HINT}");
    }
    if !r.scenario.is_empty() {
        let _ = writeln!(out, "\nother info that might help us debug this:\n");
        out.push(' ');
        line(&mut out, style, Role::Heading, "Possible unsafe locking scenario:");
        out.push('\n');
        scenario(&mut out, &r.scenario);
        if closes_cycle {
            out.push_str("\n ");
            line(&mut out, style, Role::Deadlock, "*** DEADLOCK ***");
        }
    }
    if !r.held.is_empty() {
        out.push('\n');
        let n = r.held.len();
        let heading = format!("{n} lock{} held by '{}':", if n == 1 { "" } else { "s" }, r.thread);
        line(&mut out, style, Role::Heading, &heading);
        for (i, a) in r.held.iter().enumerate() {
            acq_line(&mut out, &format!(" #{i}: "), a);
        }
    } else {
        let _ = writeln!(out, "\nno locks held by '{}'.", r.thread);
    }
    if let Some(rep) = &r.reproduce {
        let _ = writeln!(out, "\nreproduce: {rep}");
    }
    out
}

/// One edge of a chain: its heading (`-> #i (A) -> (B) [EN], <seen> 'T':`), then both sides
/// with their sites and stacks.
fn chain_link(out: &mut String, style: &dyn Style, i: usize, link: &ChainLink, seen: &str) {
    let heading = format!(
        "-> #{} ({}) -> ({}) [{}], {seen} '{}'{}:",
        i,
        link.from.class,
        link.to.class,
        DepType::join(&link.types),
        link.thread,
        link.origin.as_deref().map(|o| format!(" in {o}")).unwrap_or_default(),
    );
    out.push('\n');
    line(out, style, Role::ChainLink, &heading);
    let (held, acquired) = match (link.from.node, link.to.node) {
        (NodeKind::Event, _) => ("   signal of ", "   needs:    "),
        (_, NodeKind::Event) => ("   held:     ", "   waits for "),
        _ => ("   held:     ", "   acquired: "),
    };
    acq_line(out, held, &link.from);
    stack(out, "     ", &link.from);
    acq_line(out, acquired, &link.to);
    stack(out, "     ", &link.to);
}

/// The note under a report's message for a class whose construction site is inside std or a
/// dependency (`Arc::default()`, a `#[derive(Default)]` through a non-`#[track_caller]`
/// path): every lock built there shares that class, and how to split them.
pub fn foreign_class_note(class: &str) -> String {
    format!(
        "note: class {class} is built inside std or a dependency, so every lock built there \
         shares it whoever asked for it; give those locks a key (`Mutex::with_key(.., &KEY)`), \
         build them with `Mutex::new` in your own code, or make your helper that builds them \
         `#[track_caller]` (then each call site of the helper is a class)"
    )
}

/// What a `class_violation` checked, when it is not an acquisition that broke a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    /// `assert_held`, `assert_not_held`, ...: the rule is the assertion's name.
    Assertion,
    /// `assert_state(name, ..)`: the rule is the predicate's name, the message says so.
    Predicate,
}

/// The assertion rules (`lockdep_core::assert_*`) and the message prefix of a false
/// predicate, as the assertions and the validator write them.
const ASSERTION_RULES: [&str; 5] =
    ["assert_held", "assert_held_write", "assert_held_read", "assert_not_held", "assert_exclusive"];
/// How the message of a false lock-state predicate starts.
pub(crate) const PREDICATE_MESSAGE: &str = "lock-state predicate ";

fn check_of(r: &Report) -> Option<Check> {
    if r.kind != Kind::ClassViolation {
        return None;
    }
    let rule = r.rule.as_deref()?;
    if ASSERTION_RULES.contains(&rule) {
        Some(Check::Assertion)
    } else if r.message.starts_with(PREDICATE_MESSAGE) {
        Some(Check::Predicate)
    } else {
        None
    }
}

/// What the text says when a report's stacks were captured but hold no file and line.
pub const NO_DEBUG_INFO_HINT: &str = "(these stacks have no file and line: the binary has no \
debug info. To get them, build with debug info: `[profile.test] debug = true` (or \
`[profile.release] debug = true`) in Cargo.toml, or CARGO_PROFILE_TEST_DEBUG=true / \
CARGO_PROFILE_RELEASE_DEBUG=true in the environment for `cargo test --release`)";

/// Whether some stack of `r` was captured but none of its frames has a file and line (a
/// build without debug info: a release build by default).
fn lacks_debug_info(r: &Report) -> bool {
    let mut sides = r
        .acquiring
        .iter()
        .chain(r.chain.iter().flat_map(|l| [&l.from, &l.to]))
        .chain(r.held.iter())
        .filter(|a| !a.stack.is_empty());
    let mut any = false;
    let none_located = sides.all(|a| {
        any = true;
        a.stack.iter().all(|f| f.file.is_none() || f.line.is_none())
    });
    any && none_located
}

/// A scenario of at most this many threads is drawn as a table, one column per thread, as the
/// kernel does; a larger one is a list of `thread: action` lines, since a table would grow as
/// threads x steps.
const TABLE_MAX_THREADS: usize = 4;

/// A scenario whose longest step (or thread name) is longer than this is listed, not drawn as
/// a table: a table line is padded to its column, so with at most [`TABLE_MAX_THREADS`]
/// columns of at most this width every step costs a bounded number of bytes.
const TABLE_MAX_COLUMN: usize = 160;

fn scenario(out: &mut String, steps: &[Step]) {
    let mut threads: Vec<&str> = Vec::new();
    let mut column: HashMap<&str, usize> = HashMap::new();
    for s in steps {
        column.entry(s.thread.as_str()).or_insert_with(|| {
            threads.push(&s.thread);
            threads.len() - 1
        });
    }
    let widest = steps.iter().map(|s| s.action.len()).chain(threads.iter().map(|t| t.len())).max();
    let widest = widest.unwrap_or(8);
    if threads.len() > TABLE_MAX_THREADS || widest > TABLE_MAX_COLUMN {
        let _ = writeln!(out, "       ({} threads, steps in time order)", threads.len());
        for s in steps {
            let _ = writeln!(out, "       {}: {}", s.thread, s.action);
        }
        return;
    }
    let width = widest + 4;
    let mut header = String::from("       ");
    let mut rule = String::from("       ");
    for t in &threads {
        let _ = write!(header, "{t:<width$}");
        let _ = write!(rule, "{:<width$}", "-".repeat(t.len()));
    }
    let _ = writeln!(out, "{}\n{}", header.trim_end(), rule.trim_end());
    for s in steps {
        let col = column.get(s.thread.as_str()).copied().unwrap_or(0);
        let _ = writeln!(out, "       {}{}", " ".repeat(col * width), s.action);
    }
}

/// Renders every report of a document, or a one-line "no problems" message.
pub fn render_document(doc: &Document) -> String {
    render_document_styled(doc, &Plain)
}

/// Renders every report of a document in `style`, or a one-line "no problems" message.
pub fn render_document_styled(doc: &Document, style: &dyn Style) -> String {
    if doc.reports.is_empty() {
        return format!("{}: no lock problems found\n", doc.program);
    }
    let mut out = String::new();
    for r in &doc.reports {
        out.push_str(&render_report_styled(r, style));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(steps: Vec<Step>) -> Report {
        Report {
            kind: Kind::CircularDependency,
            title: String::new(),
            message: String::new(),
            rule: None,
            classes: vec![],
            thread: "T0".into(),
            acquiring: None,
            chain: vec![],
            held: vec![],
            scenario: steps,
            reproduce: None,
        }
    }

    fn steps(threads: usize) -> Vec<Step> {
        let mut out = Vec::new();
        for i in 0..threads {
            out.push(Step { thread: format!("T{i}"), action: format!("lock(L{i})") });
        }
        for i in 0..threads {
            let j = (i + 1) % threads;
            out.push(Step { thread: format!("T{i}"), action: format!("lock(L{j})") });
        }
        out
    }

    #[test]
    fn few_threads_are_a_table_many_are_a_list() {
        let table = render_report(&report(steps(2)));
        assert!(table.contains("       T0          T1\n       --          --\n"), "{table}");
        assert!(table.contains(&format!("\n{}lock(L0)\n", " ".repeat(7 + 12))), "{table}");
        let list = render_report(&report(steps(TABLE_MAX_THREADS + 1)));
        assert!(list.contains("       (5 threads, steps in time order)\n       T0: lock(L0)\n"));
        assert!(list.contains("\n       T4: lock(L0)\n"), "{list}");
    }

    #[test]
    fn text_grows_linearly_with_the_threads_of_a_scenario() {
        let small = render_report(&report(steps(100))).len();
        let big = render_report(&report(steps(1000))).len();
        assert!(big < small * 12, "{small} -> {big}");
    }

    #[test]
    fn ansi_only_adds_escapes_around_whole_parts() {
        let r = report(steps(2));
        let plain = render_report(&r);
        let ansi = render_report_styled(&r, &Ansi);
        assert!(ansi.contains(" \x1b[1;31m*** DEADLOCK ***\x1b[0m\n"));
        let mut stripped = ansi.replace(Ansi::RESET, "");
        for role in [Role::Banner, Role::ChainLink, Role::Heading, Role::Deadlock] {
            stripped = stripped.replace(Ansi::start(role), "");
        }
        assert_eq!(stripped, plain);
    }
    fn acquisition(frames: Vec<super::super::Frame>) -> Acquisition {
        Acquisition {
            class: "A".into(),
            subclass: 0,
            mode: crate::vocab::Mode::Write,
            trylock: false,
            site: None,
            stack: frames,
            instance: None,
            node: NodeKind::Lock,
        }
    }

    #[test]
    fn stacks_without_file_and_line_get_the_debug_info_hint() {
        use super::super::Frame;
        let bare = |f: &str| Frame { function: f.into(), file: None, line: None };
        let mut r = report(steps(2));
        r.acquiring = Some(acquisition(vec![bare("core::ops::function::FnOnce::call_once")]));
        let text = render_report(&r);
        assert!(text.contains(NO_DEBUG_INFO_HINT), "{text}");
        assert!(text.contains("CARGO_PROFILE_RELEASE_DEBUG=true"), "{text}");

        let located = Frame {
            function: "bank::transfer".into(),
            file: Some("src/bank.rs".into()),
            line: Some(12),
        };
        r.acquiring = Some(acquisition(vec![bare("??"), located]));
        let text = render_report(&r);
        assert!(!text.contains("debug info"), "{text}");
        // No stack captured at all (LOCKDEP_BACKTRACE=off) is not a missing-debug-info case.
        r.acquiring = Some(acquisition(Vec::new()));
        assert!(!render_report(&r).contains("debug info"));
    }

    #[test]
    fn assertions_are_worded_as_assertions() {
        let mut r = report(Vec::new());
        r.kind = Kind::ClassViolation;
        r.rule = Some("assert_held".into());
        r.acquiring = Some(acquisition(Vec::new()));
        let text = render_report(&r);
        assert!(text.contains("thread 'T0' failed an assertion on lock:\n  A\n"), "{text}");
        assert!(!text.contains("trying to acquire"), "{text}");
        r.rule = Some("write-locked VMA".into());
        r.message = format!("{PREDICATE_MESSAGE}\"write-locked VMA\" is false");
        let text = render_report(&r);
        assert!(text.contains("failed a lock-state predicate"), "{text}");
        r.message = "a nested acquisition names a nest lock that this thread does not hold".into();
        assert!(render_report(&r).contains("is trying to acquire lock:"));
    }
    #[test]
    fn a_class_built_inside_std_is_flagged_with_the_fix() {
        let std_site =
            "/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/alloc/src/sync.rs:3588:18";
        let mut r = report(steps(2));
        r.classes = vec![format!("{std_site}#1"), "src/lib.rs:4:35".into()];
        let text = render_report(&r);
        let note = format!("note: class {std_site}#1 is built inside std or a dependency");
        assert!(text.contains(&note), "{text}");
        assert!(text.contains("`#[track_caller]`"), "{text}");
        assert_eq!(text.matches("note: class").count(), 1, "only the std class: {text}");
    }
}
