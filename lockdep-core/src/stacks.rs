//! Captured call stacks of acquisitions (and site resolution). Backtraces are captured
//! unresolved (only on the slow path of a new chain) and symbolised only when a report needs
//! them, outside the validator's state lock (a [`Trace`] is shared, and resolves itself once).

pub(crate) use crate::vocab::TraceId;
use std::sync::{Arc, Mutex, OnceLock};

use crate::fork_safe::ForkSafeMutex;
use crate::report::Frame;
use crate::vocab::Site;
use crate::vocab::SiteRef;

/// A captured backtrace, resolved on first use (by whichever thread needs it first).
pub(crate) struct Trace {
    raw: Mutex<Option<Vec<backtrace::Frame>>>,
    frames: OnceLock<Vec<Frame>>,
}

/// Serialises stack walking and symbolisation (the unsynchronised entry points of the
/// `backtrace` crate, behind a lock of ours that `fork()` handling can take: a lock held by
/// another thread at a fork would otherwise hang the child's first capture).
pub(crate) static UNWIND: ForkSafeMutex<()> = ForkSafeMutex::new(());

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
    pub fn capture() -> Arc<Trace> {
        let mut raw = Vec::with_capacity(64);
        {
            let _one_at_a_time = UNWIND.lock();
            // SAFETY: walks are serialised by `UNWIND`.
            unsafe {
                backtrace::trace_unsynchronized(|f| {
                    raw.push(f.clone());
                    true
                })
            };
        }
        Arc::new(Trace { raw: Mutex::new(Some(raw)), frames: OnceLock::new() })
    }

    /// The frames, if resolved already (never symbolises).
    pub fn resolved(&self) -> Option<&[Frame]> {
        self.frames.get().map(Vec::as_slice)
    }

    /// The resolved frames: the user's frames between lockdep's own frames at the top and the
    /// runtime's root (a test harness's lockdep frames at the bottom are cut too). Symbolises
    /// on first use: call it outside the validator's state lock.
    pub fn frames(&self) -> &[Frame] {
        self.frames.get_or_init(|| {
            let raw = self.raw.lock().unwrap_or_else(|e| e.into_inner()).take();
            let mut all = Vec::new();
            let _one_at_a_time = UNWIND.lock();
            for frame in raw.iter().flatten() {
                // SAFETY: symbolisation is serialised by `UNWIND`.
                unsafe {
                    backtrace::resolve_frame_unsynchronized(frame, |sym| {
                        let name = sym.name().map(|n| format!("{n:#}")).unwrap_or_default();
                        all.push(Frame {
                            function: if name.is_empty() { "??".into() } else { name },
                            file: sym.filename().map(|p| p.display().to_string()),
                            line: sym.lineno(),
                        });
                    })
                };
            }
            cut(&all)
        })
    }
}

/// The user's part of a captured stack: start after the validator's frames at the top (the
/// innermost, with the std frames between them), stop at the next validator frame (e.g. the
/// test attribute's harness) or the runtime's root, and drop the std frames left at the bottom.
fn cut(all: &[Frame]) -> Vec<Frame> {
    let top = all.iter().position(|f| is_internal(&f.function)).unwrap_or(0);
    let user = top
        + all[top..]
            .iter()
            .position(|f| !is_internal(&f.function) && !is_std(&f.function) && f.function != "??")
            .unwrap_or(all.len() - top);
    let first = all[..user].iter().rposition(|f| is_internal(&f.function)).map_or(top, |i| i + 1);
    let mut out: Vec<Frame> = all[first..]
        .iter()
        .take_while(|f| !is_runtime_root(&f.function) && !is_internal(&f.function))
        .take(MAX_FRAMES)
        .cloned()
        .collect();
    while out.len() > 1 && out.last().is_some_and(|f| is_std(&f.function)) {
        out.pop();
    }
    out
}

/// Functions of the C library whose callees run while a thread or the process is torn down:
/// thread-local destructors (`__call_tls_dtors`, at thread exit and in `exit`), `pthread_key`
/// destructors, `exit` itself (`atexit` handlers, static destructors) and the dynamic linker's
/// finaliser. A panic below one of them cannot unwind: std aborts when a thread-local
/// destructor panics, and an `extern "C"` handler aborts too.
#[cfg(all(unix, not(miri)))]
const TEARDOWN_ROOTS: [&[u8]; 5] =
    [b"__call_tls_dtors", b"__nptl_deallocate_tsd", b"exit", b"__cxa_finalize", b"_dl_fini"];

/// Whether the calling thread runs below the C library's teardown ([`TEARDOWN_ROOTS`]), so
/// that a panic here would abort the process. Walks the stack and names each frame from the
/// dynamic symbol tables (`dladdr`: no debug info needed, no allocation); only called when a
/// report is about to panic, never on an acquisition's path. False when it cannot tell
/// (another platform, Miri, a statically linked C library).
pub(crate) fn below_teardown() -> bool {
    #[cfg(all(unix, not(miri)))]
    {
        let mut found = false;
        let mut visit = |f: &backtrace::Frame| {
            // A return address: the call is the byte before it.
            let ip = (f.ip() as usize).saturating_sub(1);
            // SAFETY: zeroes are a valid `Dl_info` (a plain struct of pointers and integers).
            let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
            // SAFETY: `dladdr` only reads the loaded objects' symbol tables and writes `info`.
            let named = unsafe { libc::dladdr(ip as *const libc::c_void, &mut info) } != 0;
            if named && !info.dli_sname.is_null() {
                // SAFETY: `dladdr` set `dli_sname` to the NUL-terminated name of a symbol of
                // a loaded object.
                let name = unsafe { std::ffi::CStr::from_ptr(info.dli_sname) }.to_bytes();
                found = TEARDOWN_ROOTS.contains(&name);
            }
            !found
        };
        let _one_at_a_time = UNWIND.lock();
        // SAFETY: walks are serialised by `UNWIND`.
        unsafe { backtrace::trace_unsynchronized(&mut visit) };
        found
    }
    #[cfg(not(all(unix, not(miri))))]
    {
        false
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
/// so memory stays bounded by the edges, not by the acquisitions. At most `limit` are kept
/// ([`Config::max_stacks`](crate::Config::max_stacks)): the validator captures none once
/// the store was full.
pub(crate) struct TraceStore {
    slots: Vec<Option<Arc<Trace>>>,
    pinned: Vec<bool>,
    free: Vec<u32>,
    /// Traces held (slots that are `Some`).
    live: usize,
    limit: usize,
}

impl Default for TraceStore {
    fn default() -> TraceStore {
        TraceStore {
            slots: Vec::new(),
            pinned: Vec::new(),
            free: Vec::new(),
            live: 0,
            limit: usize::MAX,
        }
    }
}

/// The one line on stderr when the store of a validator first reached its `limit`.
pub(crate) fn limit_notice(limit: usize) -> String {
    format!(
        "lockdep: {limit} kept stacks reached (LOCKDEP_MAX_STACKS, Config::max_stacks): no new \
         stack is captured from now on; reports go on without them; raise the limit to keep more"
    )
}

/// What a report found once the limit was reached says about its missing stacks.
pub(crate) fn limit_note(limit: usize) -> String {
    format!(
        " (stacks: the limit of {limit} kept stacks was reached, LOCKDEP_MAX_STACKS; stacks \
         captured since are missing)"
    )
}

impl TraceStore {
    /// Keeps at most `limit` traces.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// The most traces kept.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether as many traces as the limit allows are held.
    pub fn full(&self) -> bool {
        self.live >= self.limit
    }

    /// Stores `t`; returns its id.
    pub fn insert(&mut self, t: Arc<Trace>) -> TraceId {
        self.live += 1;
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(t);
                self.pinned[i as usize] = false;
                TraceId::of_slot(i as usize)
            }
            None => {
                self.slots.push(Some(t));
                self.pinned.push(false);
                TraceId::of_slot(self.slots.len() - 1)
            }
        }
    }

    /// Keeps trace `id` for good (an edge witness refers to it).
    pub fn pin(&mut self, id: Option<TraceId>) {
        if let Some(id) = id {
            self.pinned[id.slot()] = true;
        }
    }

    /// Frees trace `id` unless it is pinned.
    pub fn release(&mut self, id: Option<TraceId>) {
        if let Some(id) = id {
            let i = id.slot();
            if !self.pinned[i] && self.slots[i].take().is_some() {
                self.live -= 1;
                self.free.push(i as u32);
            }
        }
    }

    /// Trace `id` (none when `None` or freed).
    pub fn get(&self, id: Option<TraceId>) -> Option<Arc<Trace>> {
        id.and_then(|id| self.slots.get(id.slot())).and_then(Clone::clone)
    }

    /// Number of traces held.
    #[cfg(test)]
    pub fn live(&self) -> usize {
        debug_assert_eq!(self.live, self.slots.iter().filter(|s| s.is_some()).count());
        self.live
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
        s.pin(Some(a));
        s.release(Some(a));
        s.release(Some(b));
        assert_eq!(s.live(), 1);
        let c = s.insert(Trace::capture());
        assert_eq!(c, b, "the freed slot is reused");
        assert!(!s.get(Some(a)).unwrap().frames().is_empty());
    }
}
