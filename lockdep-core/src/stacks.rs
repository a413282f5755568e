//! Captured call stacks of acquisitions (and site resolution). Backtraces are captured unresolved (only on
//! the slow path of a new chain) and symbolised only when a report needs them.

use crate::report::Frame;
use crate::vocab::Site;
use crate::vocab::SiteRef;

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

/// When backtraces are captured: the configuration's [`Backtrace`](crate::Backtrace).
pub(crate) type Capture = crate::config::Backtrace;

/// The captured backtraces of a validator, by index + 1. A trace an edge witness refers to is
/// pinned for good; in `Always` mode the others are freed when their acquisition is released,
/// so memory stays bounded by the edges, not by the acquisitions.
#[derive(Default)]
pub(crate) struct TraceStore {
    slots: Vec<Option<Trace>>,
    pinned: Vec<bool>,
    free: Vec<u32>,
}

impl TraceStore {
    /// Stores `t`; returns its id (never 0).
    pub fn insert(&mut self, t: Trace) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(t);
                self.pinned[i as usize] = false;
                i + 1
            }
            None => {
                self.slots.push(Some(t));
                self.pinned.push(false);
                self.slots.len() as u32
            }
        }
    }

    /// Keeps trace `id` for good (an edge witness refers to it).
    pub fn pin(&mut self, id: u32) {
        if id != 0 {
            self.pinned[id as usize - 1] = true;
        }
    }

    /// Frees trace `id` unless it is pinned.
    pub fn release(&mut self, id: u32) {
        let i = id as usize;
        if id != 0 && !self.pinned[i - 1] && self.slots[i - 1].take().is_some() {
            self.free.push(id - 1);
        }
    }

    /// The resolved frames of trace `id` (empty when none or freed).
    pub fn frames(&mut self, id: u32) -> Vec<Frame> {
        match id.checked_sub(1).and_then(|i| self.slots.get_mut(i as usize)) {
            Some(Some(t)) => t.frames().to_vec(),
            _ => Vec::new(),
        }
    }

    /// Number of traces held.
    #[cfg(test)]
    pub fn live(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpinned_traces_are_recycled_pinned_ones_kept() {
        let mut s = TraceStore::default();
        let a = s.insert(Trace::capture());
        let b = s.insert(Trace::capture());
        s.pin(a);
        s.release(a);
        s.release(b);
        assert_eq!(s.live(), 1);
        let c = s.insert(Trace::capture());
        assert_eq!(c, b, "the freed slot is reused");
        assert!(!s.frames(a).is_empty());
    }
}
