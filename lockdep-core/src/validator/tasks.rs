//! Async tasks: a task that yields while it holds a blocking lock (`held_across_await`).

use super::{ThreadName, Validator};
use crate::held::{HeldLock, HeldStack};
use crate::report::{Kind, Report};
use crate::vocab::SiteRef;

impl Validator {
    /// A task (spawned at `task`) returned `Poll::Pending` while `stack` (its own held stack)
    /// holds the blocking lock `at`: reported once per (class, site where the guard was
    /// taken), so two guards of one class taken at two places are two reports.
    pub(crate) fn held_across_await(
        &self,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        at: &HeldLock,
        task: SiteRef,
    ) -> Vec<Report> {
        let mut st = self.lock_state();
        let mut r = self.base_report(&mut st, stack, thread, Kind::HeldAcrossAwait, at);
        let taken = r.acquiring.as_ref().and_then(|a| a.site.as_ref()).map(|s| s.to_string());
        let key = format!("{}@{}", r.fingerprint(), taken.as_deref().unwrap_or("?"));
        if !st.seen.insert(key) && !st.refusing {
            return Vec::new();
        }
        let task = match task {
            SiteRef::Static(l) => {
                format!(" (the task was spawned at {}:{}:{})", l.file(), l.line(), l.column())
            }
            _ => String::new(),
        };
        r.message = format!(
            "an async task returned Poll::Pending (yielded at an .await) while holding the \
             blocking lock {}{}{task}: the lock stays held while other tasks run on this \
             thread, and one of them taking it blocks the whole worker",
            r.classes[0],
            taken.map(|s| format!(" taken at {s}")).unwrap_or_default(),
        );
        let mut out = Vec::new();
        st.fresh.push(0);
        out.push(r);
        self.settle(st, &mut out);
        out
    }
}
