//! The `lockdep-report/1` data model: plain serde types, no behaviour beyond small helpers.
//!
//! This is the contract between the validator (which writes report files), the
//! `lockdep-report` tool (which reads, merges and renders them) and CI scripts. Unknown fields
//! are ignored on read; an unknown `schema` is rejected by [`Document::from_json`].

use serde::{Deserialize, Serialize};
use std::fmt;

pub use crate::vocab::{DepType, DepTypes, Mode, NodeKind, Site, WaitKind};

/// The schema tag every report document carries.
pub const SCHEMA: &str = "lockdep-report/1";

/// One report file: everything one process (or one test, or one replay) found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Always [`SCHEMA`] for this version.
    pub schema: String,
    /// The program (test binary, test name or trace file) that produced the document.
    pub program: String,
    /// The process id, when the document comes from a live process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The problems found, in the order they were found, each reported once.
    #[serde(default)]
    pub reports: Vec<Report>,
    /// The lock-class dependency graph learned by the process.
    #[serde(default)]
    pub graph: Graph,
}

/// The kinds of problem the validator reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A cycle of lock classes along a strong path: a possible deadlock.
    CircularDependency,
    /// A lock class acquired while a lock of the same class is held.
    RecursiveLocking,
    /// A release of a lock the thread does not hold.
    BadUnlock,
    /// A downgrade of a lock the thread does not hold for write.
    BadDowngrade,
    /// A declared rule (lock order, must-hold, assertion) was broken.
    ClassViolation,
    /// A sleeping lock taken while a spinning lock is held.
    InvalidWaitContext,
    /// A thread exited while holding locks.
    HeldAtExit,
    /// A lock instance was freed or re-initialised while held.
    LockFreedWhileHeld,
    /// An async task yielded (`Poll::Pending`) while holding a blocking lock's guard.
    HeldAcrossAwait,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 9] = [
        Kind::CircularDependency,
        Kind::RecursiveLocking,
        Kind::BadUnlock,
        Kind::BadDowngrade,
        Kind::ClassViolation,
        Kind::InvalidWaitContext,
        Kind::HeldAtExit,
        Kind::LockFreedWhileHeld,
        Kind::HeldAcrossAwait,
    ];

    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CircularDependency => "circular_dependency",
            Kind::RecursiveLocking => "recursive_locking",
            Kind::BadUnlock => "bad_unlock",
            Kind::BadDowngrade => "bad_downgrade",
            Kind::ClassViolation => "class_violation",
            Kind::InvalidWaitContext => "invalid_wait_context",
            Kind::HeldAtExit => "held_at_exit",
            Kind::LockFreedWhileHeld => "lock_freed_while_held",
            Kind::HeldAcrossAwait => "held_across_await",
        }
    }

    /// The kernel-style title line of a report of this kind.
    pub fn title(self) -> &'static str {
        match self {
            Kind::CircularDependency => "possible circular locking dependency detected",
            Kind::RecursiveLocking => "possible recursive locking detected",
            Kind::BadUnlock => "bad unlock balance detected",
            Kind::BadDowngrade => "bad downgrade detected",
            Kind::ClassViolation => "lock class violation detected",
            Kind::InvalidWaitContext => "invalid wait context",
            Kind::HeldAtExit => "lock held when returning to user space / thread exit",
            Kind::LockFreedWhileHeld => "held lock freed",
            Kind::HeldAcrossAwait => "blocking lock held across an await",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One resolved stack frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// Demangled function name, when known.
    #[serde(default)]
    pub function: String,
    /// Source file, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Source line, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// One acquisition: which lock class, how, and where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acquisition {
    /// Class name.
    pub class: String,
    /// Subclass (0 unless annotated).
    #[serde(default)]
    pub subclass: u32,
    /// Mode of the acquisition.
    pub mode: Mode,
    /// Whether it was a trylock.
    #[serde(default)]
    pub trylock: bool,
    /// Where it happened, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Site>,
    /// Resolved stack of the acquisition; empty when no backtrace was captured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stack: Vec<Frame>,
    /// Which lock of its class this is (1, 2, ... in the order the validator first saw them
    /// nest), when the report is about the order of locks of one class (`same_class =
    /// instances`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<u64>,
    /// `event` when this side is an event (a wait or a signal), not a lock; absent for a
    /// lock (older documents read as locks).
    #[serde(default, skip_serializing_if = "NodeKind::is_lock")]
    pub node: NodeKind,
}

/// One dependency edge of a chain: `from` was held (in `from.mode`) when `to` was acquired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    /// The held lock.
    pub from: Acquisition,
    /// The lock acquired while `from` was held.
    pub to: Acquisition,
    /// Dependency types of the edge: `EN`, `ER`, `SN`, `SR` (exclusive/shared holder x
    /// non-recursive/recursive waiter).
    #[serde(default)]
    pub types: Vec<DepType>,
    /// Thread that first showed the dependency.
    #[serde(default)]
    pub thread: String,
    /// Where the edge came from when it was merged from another document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// One step of the "possible unsafe locking scenario".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Thread column (e.g. `T0`, `T1` or a real thread name).
    pub thread: String,
    /// What the thread does, e.g. `lock(A)`, `read_lock(B)`, `*** blocks on A ***`.
    pub action: String,
}

/// One problem found by the validator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// What went wrong.
    pub kind: Kind,
    /// Kernel-style title line.
    #[serde(default)]
    pub title: String,
    /// One-sentence explanation.
    #[serde(default)]
    pub message: String,
    /// For `class_violation`: the name of the broken rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Names of the lock classes involved, in chain order.
    #[serde(default)]
    pub classes: Vec<String>,
    /// Thread on which the problem was detected.
    #[serde(default)]
    pub thread: String,
    /// The acquisition (or release/downgrade) that triggered the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquiring: Option<Acquisition>,
    /// For cycles: the existing dependency chain plus the new edge, edge by edge.
    #[serde(default)]
    pub chain: Vec<ChainLink>,
    /// Locks held by the reporting thread at the time.
    #[serde(default)]
    pub held: Vec<Acquisition>,
    /// The possible unsafe scenario, as per-thread steps in time order.
    #[serde(default)]
    pub scenario: Vec<Step>,
    /// How to reproduce or re-render this report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
}

impl Report {
    /// A stable identity for suppressions and deduplication: the kind, the rule, and the
    /// sorted class names; no line numbers, so it survives unrelated edits.
    pub fn fingerprint(&self) -> String {
        let mut classes = self.classes.clone();
        classes.sort();
        classes.dedup();
        match &self.rule {
            Some(rule) => format!("{}[{}]:{}", self.kind, rule, classes.join(",")),
            None => format!("{}:{}", self.kind, classes.join(",")),
        }
    }
}

/// One lock class of the graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Class {
    /// Index of the class in this document's graph.
    pub id: u32,
    /// Name: an explicit name, or the construction site `file:line:column`.
    pub name: String,
    /// Definition site, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Site>,
    /// Whether waiters sleep or spin.
    #[serde(default)]
    pub wait: WaitKind,
    /// `event` for an event class; absent for a lock class.
    #[serde(default, skip_serializing_if = "NodeKind::is_lock")]
    pub node: NodeKind,
}

impl Class {
    /// Stable identity across processes: name plus definition site.
    pub fn identity(&self) -> String {
        match &self.site {
            Some(site) => format!("{}@{}", self.name, site),
            None => self.name.clone(),
        }
    }
}

/// One dependency edge of the graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// Held class id.
    pub from: u32,
    /// Acquired class id.
    pub to: u32,
    /// Dependency types seen: `EN`, `ER`, `SN`, `SR`.
    pub types: Vec<DepType>,
    /// First sighting.
    pub witness: ChainLink,
}

/// The lock-class dependency graph.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    /// Classes, indexed by their `id`.
    #[serde(default)]
    pub classes: Vec<Class>,
    /// Edges between classes.
    #[serde(default)]
    pub edges: Vec<Edge>,
}

/// Why a document could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The text is not JSON, or not a JSON of the report shape.
    Json(serde_json::Error),
    /// The text is a JSON object without a `schema` field.
    MissingSchema,
    /// The `schema` is not one this version reads.
    UnknownSchema(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Json(e) if e.is_eof() => write!(f, "truncated JSON ({e})"),
            ReadError::Json(e) => write!(f, "not a lockdep report document ({e})"),
            ReadError::MissingSchema => {
                write!(f, "not a lockdep report document (no \"schema\" field)")
            }
            ReadError::UnknownSchema(s) => {
                write!(f, "unknown schema version {s:?} (this tool reads {SCHEMA:?})")
            }
        }
    }
}

impl std::error::Error for ReadError {}

impl Document {
    /// An empty document for `program`.
    pub fn new(program: impl Into<String>) -> Document {
        Document { schema: SCHEMA.to_string(), program: program.into(), ..Document::default() }
    }

    /// Parses a document, checking the schema tag before the shape.
    pub fn from_json(text: &str) -> Result<Document, ReadError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(ReadError::Json)?;
        match value.get("schema") {
            None => return Err(ReadError::MissingSchema),
            Some(serde_json::Value::String(s)) if s == SCHEMA => {}
            Some(other) => {
                let s = other.as_str().map(str::to_string).unwrap_or_else(|| other.to_string());
                return Err(ReadError::UnknownSchema(s));
            }
        }
        serde_json::from_value(value).map_err(ReadError::Json)
    }

    /// Serialises the document as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report model serialises")
    }

    /// Writes the document to `path` atomically: a temp file in the same folder, then rename.
    pub fn write_atomic(&self, path: &std::path::Path) -> std::io::Result<()> {
        crate::report::write_atomic(path, self.to_json().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_schema_is_a_clear_error() {
        let err = Document::from_json(r#"{"schema":"lockdep-report/9"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown schema version"), "{err}");
        let err = Document::from_json(r#"{"schema":"lockdep-re"#).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        let err = Document::from_json(r#"[1,2]"#).unwrap_err();
        assert!(err.to_string().contains("no \"schema\""), "{err}");
    }

    #[test]
    fn fingerprint_ignores_order_and_sites() {
        let mut r = Report {
            kind: Kind::CircularDependency,
            title: String::new(),
            message: String::new(),
            rule: None,
            classes: vec!["b".into(), "a".into()],
            thread: "t".into(),
            acquiring: None,
            chain: vec![],
            held: vec![],
            scenario: vec![],
            reproduce: None,
        };
        let f1 = r.fingerprint();
        r.classes.reverse();
        assert_eq!(f1, r.fingerprint());
        assert_eq!(f1, "circular_dependency:a,b");
    }
}
