//! `lockdep-reports`: reading, merging and rendering `lockdep-report/1` documents, and the
//! `lockdep-report` command-line tool.
//!
//! The data model itself lives in `lockdep_core::report` and is re-exported here, so users of
//! this crate see one model. Each renderer takes a document and returns a `String`, so tests can
//! render without touching files.
//!
//! ```
//! use lockdep_reports::{merge, render, trace, Kind};
//!
//! let a = trace::replay(
//!     r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write"}
//! {"thread":"T1","op":"acquire","lock":"B","mode":"write"}"#,
//!     "one.trace",
//! )
//! .unwrap();
//! let b = trace::replay(
//!     r#"{"thread":"T2","op":"acquire","lock":"B","mode":"write"}
//! {"thread":"T2","op":"acquire","lock":"A","mode":"write"}"#,
//!     "two.trace",
//! )
//! .unwrap();
//! assert!(a.reports.is_empty() && b.reports.is_empty());
//! let merged = merge::merge(vec![("one.json".to_string(), a), ("two.json".to_string(), b)]).document;
//! assert_eq!(merged.reports[0].kind, Kind::CircularDependency);
//! let dot = render::dot::render(&merged);
//! assert!(dot.contains("color=red"));
//! ```

pub use lockdep_core::report::*;
pub use lockdep_core::trace;

pub mod cli;
pub mod colour;
pub mod declare;
pub mod fingerprint;
pub mod gate;
pub mod input;
pub mod merge;
pub mod render;
