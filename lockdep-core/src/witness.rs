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

fn is_internal(name: &str) -> bool {
    let n = name.trim_start_matches('<');
    n.starts_with("backtrace::")
        || n.starts_with("lockdep_core::")
        || n.starts_with("core::ops::function")
        || n.starts_with("std::thread::local")
}

fn is_runtime_root(name: &str) -> bool {
    name.contains("__rust_begin_short_backtrace")
        || name.starts_with("std::rt::lang_start")
        || name.starts_with("test::run_test")
}

impl Trace {
    pub fn capture() -> Trace {
        Trace { bt: backtrace::Backtrace::new_unresolved(), frames: None }
    }

    /// The resolved frames, without the validator's own frames and the runtime's.
    pub fn frames(&mut self) -> &[Frame] {
        if self.frames.is_none() {
            self.bt.resolve();
            let mut out = Vec::new();
            let mut leading = true;
            'frames: for frame in self.bt.frames() {
                for sym in frame.symbols() {
                    let name = sym.name().map(|n| format!("{n:#}")).unwrap_or_default();
                    if leading && (name.is_empty() || is_internal(&name)) {
                        continue;
                    }
                    leading = false;
                    if is_runtime_root(&name) || out.len() == MAX_FRAMES {
                        break 'frames;
                    }
                    out.push(Frame {
                        function: if name.is_empty() { "??".into() } else { name },
                        file: sym.filename().map(|p| p.display().to_string()),
                        line: sym.lineno(),
                    });
                }
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
