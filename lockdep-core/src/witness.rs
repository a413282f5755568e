//! Acquisition witnesses: sites and backtraces. Backtraces are captured unresolved (only on
//! the slow path of a new chain) and symbolised only when a report needs them.

use crate::held::SiteRef;
use crate::report::{Frame, Site};

/// A captured backtrace, resolved on first use.
pub(crate) struct Trace {
    bt: backtrace::Backtrace,
    frames: Option<Vec<Frame>>,
}

/// Frames kept per stack in a report.
const MAX_FRAMES: usize = 32;

/// Frames of the validator itself (and of the backtrace crate), cut from the top of a stack.
fn is_internal(name: &str) -> bool {
    let n = name.trim_start_matches('<');
    (n.starts_with("lockdep_core::") && !n.contains("::tests::")) || n.starts_with("backtrace::")
}

/// Frames of the runtime below `main` or a thread's entry, cut from the bottom of a stack.
fn is_runtime_root(name: &str) -> bool {
    name.contains("__rust_begin_short_backtrace")
        || name.starts_with("std::rt::lang_start")
        || name.starts_with("test::run_test")
        || name.starts_with("std::thread::Builder::spawn_unchecked")
}

fn is_std(name: &str) -> bool {
    let n = name.trim_start_matches('<');
    n.starts_with("core::")
        || n.starts_with("std::")
        || n.starts_with("alloc::")
        || n.starts_with("fn(")
        || n.contains(" as core::ops::function::Fn")
}

impl Trace {
    pub fn capture() -> Trace {
        Trace { bt: backtrace::Backtrace::new_unresolved(), frames: None }
    }

    /// The resolved frames, without the validator's own frames and the runtime's.
    pub fn frames(&mut self) -> &[Frame] {
        if self.frames.is_none() {
            self.bt.resolve();
            let mut all = Vec::new();
            for frame in self.bt.frames() {
                for sym in frame.symbols() {
                    let name = sym.name().map(|n| format!("{n:#}")).unwrap_or_default();
                    all.push(Frame {
                        function: if name.is_empty() { "??".into() } else { name },
                        file: sym.filename().map(|p| p.display().to_string()),
                        line: sym.lineno(),
                    });
                }
            }
            // Start after the innermost frame of the validator, stop at the runtime's root,
            // and drop the std frames left at the bottom.
            let first = all.iter().rposition(|f| is_internal(&f.function)).map_or(0, |i| i + 1);
            let mut out: Vec<Frame> = all[first..]
                .iter()
                .take_while(|f| !is_runtime_root(&f.function))
                .take(MAX_FRAMES)
                .cloned()
                .collect();
            while out.len() > 1 && out.last().is_some_and(|f| is_std(&f.function)) {
                out.pop();
            }
            self.frames = Some(out);
        }
        self.frames.as_deref().unwrap_or_default()
    }
}

/// Resolves a [`SiteRef`] against the interned sites of a validator.
pub(crate) fn site(r: SiteRef, interned: &[Site]) -> Option<Site> {
    match r {
        SiteRef::None => None,
        SiteRef::Static(loc) => Some(crate::class::site_of(loc)),
        SiteRef::Interned(i) => interned.get(i as usize).cloned(),
    }
}
