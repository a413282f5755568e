//! The JSONL event trace and its replay (`lockdep-report replay`).
//!
//! One event per line, replayed in file order with one held-lock stack per `thread`:
//!
//! ```text
//! {"thread": "T1", "op": "acquire", "lock": "A", "class": "A", "mode": "write"}
//! ```
//!
//! Replay never blocks, so the trace of a real deadlock replays fine.
//!
//! An instrumented async task (`lockdep_core::task`) is a `thread` of its own in a recorded
//! trace, named `task@<spawn site>#<n>`, whichever worker threads polled it; a task that
//! yielded holding a blocking lock is a `yield` event per such lock:
//!
//! ```text
//! {"thread": "task@src/main.rs:9:5#1", "op": "yield", "lock": "m#55d0", "class": "m"}
//! ```
//!
//! A recorded trace starts with the setting it was recorded with,
//! `{"op": "config", "same_class": "instances"}` (or `"strict"`); replay is strict (the
//! kernel's rule for same-class nesting) unless the first line says otherwise.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::class::{ClassDesc, ClassId};
use crate::config::SameClass;
use crate::held::HeldStack;
use crate::report::{Document, NodeKind};
use crate::validator::{AcquireReq, Validator};
use crate::vocab::SiteRef;
use crate::vocab::{Mode, Site, WaitKind};

/// The operation of one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Blocking acquisition.
    Acquire,
    /// Successful trylock.
    TryAcquire,
    /// Release.
    Release,
    /// Write -> downgraded read.
    Downgrade,
    /// The lock instance is dropped or re-initialised.
    Free,
    /// A (potentially) blocking wait for `event`: condvar wait, channel recv, barrier.
    Wait,
    /// A signal of `event`: notify, send.
    Signal,
    /// A barrier arrival at `event`: a signal of it for the locks acquired since the last
    /// wait and released since (a lock held across the barrier is not counted), then a wait
    /// for it.
    Arrive,
    /// The thread starts thread `child`, whose exit it may join.
    Spawn,
    /// A wait for the exit of thread `child`.
    Join,
    /// The task `thread` (an instrumented async task) returned `Poll::Pending` while holding
    /// the blocking lock `lock`: a `held_across_await`; `site` is where the task was spawned.
    Yield,
}

impl Op {
    /// Whether the op names a lock (`lock` is required).
    fn is_lock_op(self) -> bool {
        !matches!(self, Op::Wait | Op::Signal | Op::Arrive | Op::Spawn | Op::Join)
    }
}

/// One trace event.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Thread name; one held-lock stack per thread.
    pub thread: String,
    /// What happens.
    pub op: Op,
    /// Lock instance name (lock ops only).
    #[serde(default)]
    pub lock: String,
    /// Event instance name (`wait` and `signal` only).
    #[serde(default)]
    pub event: Option<String>,
    /// The spawned or joined thread (`spawn` and `join` only).
    #[serde(default)]
    pub child: Option<String>,
    /// Lock class name (defaults to `lock`); for `wait`/`signal` the event class (defaults to
    /// `event`); for `spawn`/`join` the class of the child's exit (defaults to
    /// `exit(CHILD)`).
    #[serde(default)]
    pub class: Option<String>,
    /// Mode (ignored for release, downgrade and free; defaults to write).
    #[serde(default)]
    pub mode: Option<TraceMode>,
    /// Subclass.
    #[serde(default)]
    pub subclass: u32,
    /// A lock instance that must be held (nest lock).
    #[serde(default)]
    pub nest_lock: Option<String>,
    /// `event` for a lock op on an event node held like a lock (a once's initialisation,
    /// and each access to the once: a potential wait for it); default a lock class.
    #[serde(default)]
    pub node: Option<NodeKind>,
    /// `spinning` for a spin lock class (for wait-context checks); default sleeping.
    #[serde(default)]
    pub wait: Option<WaitKind>,
    /// Source site `file:line`, when the recorder knew it.
    #[serde(default)]
    pub site: Option<String>,
    /// The class follows the kernel's strict rule for same-class nesting whatever the trace's
    /// setting (a strict class key); default false.
    #[serde(default)]
    pub strict: bool,
}

/// Modes that may appear in a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceMode {
    /// Exclusive.
    Write,
    /// Non-recursive shared.
    Read,
    /// Recursive shared.
    RecursiveRead,
}

/// A malformed trace line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.line, self.message)
    }
}

/// The `config` line a trace may start with.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigLine {
    #[expect(dead_code, reason = "matched only: it must be \"config\"")]
    op: ConfigOp,
    same_class: TraceSameClass,
    /// The trace format ([`FORMAT`]); absent in traces written before it existed, which
    /// hold only the contract's forms.
    #[serde(default)]
    #[expect(dead_code, reason = "checked by serde: only known formats parse")]
    format: Option<TraceFormat>,
}

/// The trace format the recorder writes on its `config` line: `lockdep-trace/2` is the
/// design's event trace (`acquire` ... `free`, `wait`, `signal`, `spawn`, `join`, `config`)
/// plus two forms: the `arrive` op (a barrier arrival) and `"node": "event"` on lock ops (a
/// once held like a lock). Replay reads both versions; a reader of the design's first
/// version can tell from this field that a trace may hold the two extra forms.
pub const FORMAT: &str = "lockdep-trace/2";

#[derive(Deserialize)]
enum TraceFormat {
    #[serde(rename = "lockdep-trace/1")]
    V1,
    #[serde(rename = "lockdep-trace/2")]
    V2,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ConfigOp {
    Config,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TraceSameClass {
    Instances,
    Strict,
}

fn config_line(t: &str) -> Option<SameClass> {
    if !t.contains("\"config\"") {
        return None;
    }
    serde_json::from_str::<ConfigLine>(t).ok().map(|c| match c.same_class {
        TraceSameClass::Instances => SameClass::Instances,
        TraceSameClass::Strict => SameClass::Strict,
    })
}

/// The same-class setting a trace asks for on its first line (`{"op": "config",
/// "same_class": ...}`); [`SameClass::Strict`] when it has none.
pub fn same_class(text: &str) -> SameClass {
    text.lines()
        .map(str::trim)
        .find(|t| !(t.is_empty() || t.starts_with('#') || t.starts_with("//")))
        .and_then(config_line)
        .unwrap_or(SameClass::Strict)
}

/// Parses a whole trace. Blank lines and lines starting with `#` or `//` are skipped, and so
/// is a `config` line before the first event (see [`same_class`]). A last
/// line that is cut short (no newline after it, and not valid: the recording process was
/// killed while writing it) is ignored with a warning on stderr.
pub fn parse(text: &str) -> Result<Events, TraceError> {
    let (events, cut) = parse_lenient(text)?;
    if let Some(cut) = cut {
        eprintln!("lockdep: trace line {} is cut short ({}); ignored", cut.line, cut.message);
    }
    Ok(events)
}

/// Events with their 1-based line numbers.
pub type Events = Vec<(usize, Event)>;

/// [`parse`], returning the cut-short last line's error instead of printing it. A trace that
/// is nothing but a cut line is an error.
pub fn parse_lenient(text: &str) -> Result<(Events, Option<TraceError>), TraceError> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with("//") {
            continue;
        }
        if config_line(t).is_some() {
            if out.is_empty() {
                continue;
            }
            return Err(TraceError {
                line: i + 1,
                message: "a config line must come before the first event".into(),
            });
        }
        match serde_json::from_str::<Event>(t) {
            Ok(ev) => {
                let missing = match ev.op {
                    op if op.is_lock_op() => ev.lock.is_empty().then_some("lock"),
                    Op::Wait | Op::Signal | Op::Arrive => ev.event.is_none().then_some("event"),
                    _ => ev.child.is_none().then_some("child"),
                };
                if let Some(field) = missing {
                    return Err(TraceError {
                        line: i + 1,
                        message: format!("missing field `{field}`"),
                    });
                }
                out.push((i + 1, ev));
            }
            Err(e) => {
                let err = TraceError { line: i + 1, message: format!("{e}") };
                let last = i + 1 == lines.len() && !text.ends_with('\n');
                if last && e.is_eof() && !out.is_empty() {
                    return Ok((out, Some(err)));
                }
                return Err(err);
            }
        }
    }
    Ok((out, None))
}

fn parse_site(s: &str) -> Site {
    let mut parts = s.rsplitn(3, ':');
    let last = parts.next().unwrap_or_default();
    let mid = parts.next();
    let first = parts.next();
    match (first, mid.and_then(|m| m.parse::<u32>().ok()), last.parse::<u32>()) {
        (Some(file), Some(line), Ok(col)) => Site { file: file.into(), line, column: col },
        _ => match (mid, last.parse::<u32>()) {
            (Some(_), Ok(line)) => {
                Site { file: s[..s.len() - last.len() - 1].into(), line, column: 0 }
            }
            _ => Site { file: s.into(), line: 0, column: 0 },
        },
    }
}

/// Replays a trace on a private validator.
pub struct Replay {
    validator: Validator,
    threads: HashMap<String, (Arc<str>, Box<HeldStack>)>,
    instances: HashMap<String, usize>,
    classes: HashMap<String, ClassId>,
    events: HashMap<String, ClassId>,
    /// The exit event of each spawned thread.
    exits: HashMap<String, ClassId>,
}

impl Default for Replay {
    fn default() -> Self {
        Replay::new()
    }
}

impl Replay {
    /// An empty replay.
    pub fn new() -> Replay {
        Replay {
            validator: strict(Validator::new(crate::stacks::Capture::Off)),
            threads: HashMap::new(),
            instances: HashMap::new(),
            classes: HashMap::new(),
            events: HashMap::new(),
            exits: HashMap::new(),
        }
    }

    /// How two different locks of one class nesting each other are judged (strict unless
    /// set otherwise, or the trace's `config` line says otherwise in [`replay`]).
    pub fn set_same_class(&self, mode: SameClass) {
        self.validator.set_same_class(mode);
    }

    fn instance(&mut self, name: &str) -> usize {
        let n = self.instances.len() + 1;
        *self.instances.entry(name.to_string()).or_insert(n)
    }

    fn class(&mut self, name: &str, wait: Option<WaitKind>, strict: bool) -> ClassId {
        if let Some(&c) = self.classes.get(name) {
            return c;
        }
        let c = self.validator.register_class(ClassDesc {
            name: name.to_string(),
            site: None,
            wait: wait.unwrap_or_default(),
            strict,
        });
        self.classes.insert(name.to_string(), c);
        c
    }

    fn event_class(&mut self, name: &str) -> ClassId {
        if let Some(&c) = self.events.get(name) {
            return c;
        }
        let desc = ClassDesc {
            name: name.to_string(),
            site: None,
            wait: WaitKind::Sleeping,
            strict: false,
        };
        let c = self.validator.register_event(desc);
        self.events.insert(name.to_string(), c);
        c
    }

    /// Applies a `wait`, `signal`, `spawn` or `join` (the design's "Waits on events").
    fn apply_event(&mut self, ev: &Event, site: SiteRef) {
        let child = ev.child.clone().unwrap_or_default();
        let class = match ev.op {
            Op::Wait | Op::Signal | Op::Arrive => {
                let name = ev.class.as_deref().or(ev.event.as_deref()).unwrap_or_default();
                self.event_class(name)
            }
            _ => match (&ev.class, self.exits.get(&child)) {
                (Some(c), _) => self.event_class(c),
                (None, Some(&c)) => c,
                (None, None) => self.event_class(&format!("exit({child})")),
            },
        };
        fn stack_of<'a>(
            threads: &'a mut HashMap<String, (Arc<str>, Box<HeldStack>)>,
            t: &str,
        ) -> (Arc<str>, &'a mut HeldStack) {
            let (name, stack) = threads
                .entry(t.to_string())
                .or_insert_with(|| (t.into(), Box::new(HeldStack::new())));
            (name.clone(), stack)
        }
        if ev.op == Op::Spawn {
            self.exits.insert(child.clone(), class);
            let (_, stack) = stack_of(&mut self.threads, &child);
            stack.events.base = Some((class, site));
            stack.rekey_from(0);
            return;
        }
        let (name, stack) = stack_of(&mut self.threads, &ev.thread);
        let thread = move || name.clone();
        let v = &self.validator;
        match ev.op {
            Op::Signal => v.signal_event(stack, &thread, class, site),
            Op::Arrive => v.arrive_event(stack, &thread, class, site, false),
            _ => v.wait_event(stack, &thread, class, site, false),
        };
    }

    /// Applies one event.
    pub fn apply(&mut self, ev: &Event) {
        if !ev.op.is_lock_op() {
            let site = match &ev.site {
                Some(s) => self.validator.intern_site(parse_site(s)),
                None => SiteRef::None,
            };
            return self.apply_event(ev, site);
        }
        let instance = self.instance(&ev.lock);
        let class_name = ev.class.clone().unwrap_or_else(|| ev.lock.clone());
        let class = match ev.node {
            Some(NodeKind::Event) => self.event_class(&class_name),
            _ => self.class(&class_name, ev.wait, ev.strict),
        };
        let nest = ev.nest_lock.as_deref().map(|n| self.instance(n));
        let site = match &ev.site {
            Some(s) => self.validator.intern_site(parse_site(s)),
            None => SiteRef::None,
        };
        let (name, stack) = self
            .threads
            .entry(ev.thread.clone())
            .or_insert_with(|| (ev.thread.as_str().into(), Box::new(HeldStack::new())));
        let name = name.clone();
        let thread = move || name.clone();
        let mode = match ev.mode {
            None | Some(TraceMode::Write) => Mode::Write,
            Some(TraceMode::Read) => Mode::Read,
            Some(TraceMode::RecursiveRead) => Mode::RecursiveRead,
        };
        match ev.op {
            Op::Acquire | Op::TryAcquire => {
                let req = AcquireReq {
                    instance,
                    class,
                    subclass: ev.subclass,
                    mode,
                    trylock: ev.op == Op::TryAcquire,
                    site,
                    nest_lock: nest,
                };
                self.validator.acquire(stack, &thread, req);
            }
            Op::Release => {
                self.validator.release(stack, &thread, instance, class, site);
            }
            Op::Downgrade => {
                self.validator.downgrade(stack, &thread, instance, class, site);
            }
            Op::Yield => {
                let held = stack.entries().iter().rev().find(|e| e.instance == instance).copied();
                if let Some(e) = held {
                    self.validator.held_across_await(stack, &thread, &e, site, None);
                }
            }
            Op::Free => {
                for (name, stack) in self.threads.values_mut() {
                    let name = name.clone();
                    self.validator.free(stack, &move || name.clone(), instance, site);
                }
            }
            Op::Wait | Op::Signal | Op::Arrive | Op::Spawn | Op::Join => {
                unreachable!("handled above")
            }
        }
    }

    /// The report document of everything replayed so far.
    pub fn document(&self, program: &str) -> Document {
        self.validator.document(program)
    }
}

fn strict(v: Validator) -> Validator {
    v.set_same_class(SameClass::Strict);
    v
}

/// Parses and replays a trace; the document names `program`.
pub fn replay(text: &str, program: &str) -> Result<Document, TraceError> {
    let events = parse(text)?;
    let mut r = Replay::new();
    r.set_same_class(same_class(text));
    for (_, ev) in &events {
        r.apply(ev);
    }
    Ok(r.document(program))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_line_names_a_known_format_or_none() {
        let body = "\n{\"thread\":\"T\",\"op\":\"acquire\",\"lock\":\"A\"}\n";
        for line in [
            r#"{"op": "config", "same_class": "instances"}"#,
            r#"{"op": "config", "same_class": "instances", "format": "lockdep-trace/1"}"#,
            r#"{"op": "config", "same_class": "instances", "format": "lockdep-trace/2"}"#,
        ] {
            assert_eq!(same_class(line), SameClass::Instances, "{line}");
            assert_eq!(parse(&format!("{line}{body}")).unwrap().len(), 1, "{line}");
        }
        let unknown = r#"{"op": "config", "same_class": "instances", "format": "lockdep-trace/9"}"#;
        assert_eq!(same_class(unknown), SameClass::Strict);
        let err = parse(&format!("{unknown}{body}")).unwrap_err();
        assert_eq!(err.line, 1, "an unknown format is bad input at its line: {err:?}");
    }

    #[test]
    fn sites_parse_with_and_without_column() {
        assert_eq!(
            parse_site("src/a.rs:10:5"),
            Site { file: "src/a.rs".into(), line: 10, column: 5 }
        );
        assert_eq!(
            parse_site("src/a.rs:10"),
            Site { file: "src/a.rs".into(), line: 10, column: 0 }
        );
        assert_eq!(parse_site("weird"), Site { file: "weird".into(), line: 0, column: 0 });
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let err = parse("{\"thread\":\"T\",\"op\":\"acquire\",\"lock\":\"A\"}\n\n{\"thread\":1}")
            .unwrap_err();
        assert_eq!(err.line, 3);
        let err = parse("{\"thread\":\"T\",\"op\":\"grab\",\"lock\":\"A\"}").unwrap_err();
        assert_eq!(err.line, 1);
        // A last line cut short by a killed recorder is ignored; the same line in the middle
        // of a trace is an error.
        let cut =
            "{\"thread\":\"T\",\"op\":\"acquire\",\"lock\":\"A\"}\n{\"thread\":\"T\",\"op\":\"acq";
        let (events, warning) = parse_lenient(cut).unwrap();
        assert_eq!((events.len(), warning.map(|w| w.line)), (1, Some(2)));
        assert!(parse(&format!("{cut}\n")).is_err());
        assert!(err.message.contains("grab"), "{err}");
    }
}
