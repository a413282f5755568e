//! Async tasks: a task that yields while it holds a blocking lock (`held_across_await`).

use super::{ThreadName, Validator};
use crate::held::{HeldLock, HeldStack};
use crate::report::{Kind, Report};
use crate::vocab::SiteRef;

impl Validator {
    /// A task (spawned or instrumented at `task`) returned `Poll::Pending` while `stack` (its
    /// own held stack) holds the blocking lock `at`: reported once per site pair, (where the
    /// guard was taken, the task's site). `awaited` is the stack of a waker clone the task made
    /// while holding it, if any: the message then names the `.await` where it yielded.
    pub(crate) fn held_across_await(
        &self,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        at: &HeldLock,
        task: SiteRef,
        awaited: Option<&crate::stacks::Trace>,
    ) -> Vec<Report> {
        // Symbolised before the state lock is taken (`Trace::frames`).
        let awaited = awaited.and_then(|t| await_point(t.frames()));
        let mut st = self.lock_state();
        let mut r = self.base_report(&mut st, stack, thread, Kind::HeldAcrossAwait, at);
        let taken = r.acquiring.as_ref().and_then(|a| a.site.as_ref()).map(|s| s.to_string());
        let yielded = crate::stacks::site(task, &st.sites).map_or("?".into(), |s| s.to_string());
        let key = format!("{}@{}@{yielded}", r.fingerprint(), taken.as_deref().unwrap_or("?"));
        if !st.seen.insert(key) && !st.refusing {
            return Vec::new();
        }
        r.message = format!(
            "an async task returned Poll::Pending (yielded at an .await) while holding the \
             blocking lock {}{} (it yielded{} from the poll of the task spawned or \
             instrumented at {yielded}): the lock stays held while other tasks run on this \
             thread, and one of them taking it blocks the whole worker",
            r.classes[0],
            taken.map(|s| format!(" taken at {s}")).unwrap_or_default(),
            awaited.map(|a| format!(" at {a}")).unwrap_or_default(),
        );
        let mut out = Vec::new();
        st.fresh.push(0);
        out.push(r);
        self.settle(st, &mut out);
        out
    }
}

/// The await point in the stack of the waker clone a task made before it yielded (the frames
/// between the clone and the task's poll, innermost first): the innermost async body
/// (`{{closure}}`) with a source line outside the toolchain and cargo's registry, as
/// `file:line`. `None` without debug info.
fn await_point(frames: &[crate::report::Frame]) -> Option<String> {
    frames.iter().find_map(|f| {
        let file = f.file.as_deref()?;
        let foreign = file.contains("/.cargo/registry/")
            || file.contains("/rustc/")
            || file.contains("/.cargo/git/");
        let line = f.line?;
        (f.function.contains("{{closure}}") && !foreign).then(|| format!("{file}:{line}"))
    })
}
