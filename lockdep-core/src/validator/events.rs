//! Waits on events as dependencies (the design's "Waits on events"): a wait for event class
//! `E` while holding `L` adds `L -> E`; a signal of `E` adds `E -> L` for every lock `L` in the
//! signaller's event context (held, or acquired since its last wait or start); a thread
//! spawned as a participant has its exit event as its *base*: `exit(T) -> L` for every lock it
//! acquires (and every event it waits for), and a join is a wait for `exit(T)`.
//!
//! Event nodes are nodes of the class graph (marked as events), so a cycle through them is
//! found by the same strong-path search, and reported as a `circular_dependency`.
//!
//! # Fast path
//! A wait (signal) already validated in the same context is skipped like a seen lock chain:
//! its key mixes the held chain key (and, for a signal, the hash of the event context) with
//! the event class, and lives in the chain cache. One hash, one lock-free probe: no lock, no
//! allocation.

use super::*;
use crate::vocab::mix;

const WAIT_TAG: u64 = 0x3c6e_f372_fe94_f82b;
const SIGNAL_TAG: u64 = 0xa54f_f53a_5f1d_36f1;
const ARRIVE_TAG: u64 = 0x510e_527f_ade6_82d1;

/// The chain-cache key of a wait for `event` on a stack whose chain key is `top`.
#[inline]
fn wait_key(top: u64, event: ClassId) -> u64 {
    mix(top.rotate_left(29) ^ mix(event.0 as u64 ^ WAIT_TAG)) | 1
}

/// The chain-cache key of a signal of `event` with chain key `top` and context hash `ctx`.
#[inline]
fn signal_key(top: u64, ctx: u64, event: ClassId) -> u64 {
    mix(top.rotate_left(31) ^ mix(ctx ^ SIGNAL_TAG).rotate_left(7) ^ mix(event.0 as u64)) | 1
}

/// A held-lock-shaped stand-in for one side of an event edge.
fn side(class: ClassId, subclass: u32, mode: Mode, site: SiteRef) -> HeldLock {
    HeldLock {
        instance: 0,
        class,
        subclass,
        mode,
        trylock: false,
        nested: false,
        site,
        trace: None,
        chain_key: 0,
    }
}

impl Validator {
    /// The event class of `desc` (registered on first use).
    pub(crate) fn register_event(&self, desc: ClassDesc) -> ClassId {
        self.lock_state().graph.register_event(desc)
    }

    /// Fast path of a wait: true (and the context reset) if this wait was validated before
    /// with the same held locks.
    #[inline]
    pub(crate) fn wait_seen(&self, stack: &mut HeldStack, event: ClassId) -> bool {
        if self.capture == Capture::Always || !self.cache.contains(wait_key(stack.top_key(), event))
        {
            return false;
        }
        stack.events.clear();
        true
    }

    /// Fast path of a signal: true if this signal was validated before in the same context.
    #[inline]
    pub(crate) fn signal_seen(&self, stack: &HeldStack, event: ClassId) -> bool {
        self.capture != Capture::Always
            && self.cache.contains(signal_key(stack.top_key(), stack.events.key(), event))
    }

    /// A (potential) blocking wait for `event` at `site`: `L -> event` for every held `L`
    /// (and from the thread's exit event), then the event context starts afresh. With
    /// `refuse` (panic mode) a wait with problems is not learnt, as for an acquisition.
    pub(crate) fn wait_event(
        &self,
        stack: &mut HeldStack,
        thread: ThreadName<'_>,
        event: ClassId,
        site: SiteRef,
        refuse: bool,
    ) -> Vec<Report> {
        if self.wait_seen(stack, event) {
            return Vec::new();
        }
        let key = wait_key(stack.top_key(), event);
        let ev = side(event, 0, Mode::Write, site);
        let mut reports = Vec::new();
        let mut st = self.lock_state();
        st.refusing = refuse;
        if let Some((base, at)) = stack.events.base {
            self.event_edge(
                &mut st,
                stack,
                thread,
                &side(base, 0, Mode::Write, at),
                &ev,
                &mut reports,
                false,
            );
        }
        for h in stack.entries() {
            self.event_edge(&mut st, stack, thread, h, &ev, &mut reports, false);
        }
        if !refuse || reports.is_empty() {
            self.cache.insert(key);
        }
        st.refusing = false;
        self.settle(st, &mut reports);
        stack.events.clear();
        reports
    }

    /// A signal of `event` at `site`: `event -> L` for every lock held (not by a trylock) or
    /// acquired since the last wait.
    pub(crate) fn signal_event(
        &self,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        event: ClassId,
        site: SiteRef,
    ) -> Vec<Report> {
        if self.signal_seen(stack, event) {
            return Vec::new();
        }
        let key = signal_key(stack.top_key(), stack.events.key(), event);
        let ev = side(event, 0, Mode::Write, site);
        let mut reports = Vec::new();
        let mut st = self.lock_state();
        let held = stack.entries().iter().filter(|h| !h.trylock).copied();
        let since = stack.events.locks().iter().map(|l| side(l.class, l.subclass, l.mode, l.site));
        for l in held.chain(since) {
            self.event_edge(&mut st, stack, thread, &ev, &l, &mut reports, true);
        }
        self.cache.insert(key);
        self.settle(st, &mut reports);
        reports
    }

    /// A barrier arrival at `site`: a signal of `event` for the locks acquired since the last
    /// wait that the thread no longer holds, then a wait for `event` (the other
    /// participants' arrivals). A lock held across the barrier is not counted as needed for
    /// the arrival: it would close a cycle with the thread's own wait (`L -> event -> L`)
    /// whether or not another participant ever needs `L`; its `L -> event` (the wait) stays.
    pub(crate) fn arrive_event(
        &self,
        stack: &mut HeldStack,
        thread: ThreadName<'_>,
        event: ClassId,
        site: SiteRef,
        refuse: bool,
    ) -> Vec<Report> {
        let key = signal_key(stack.top_key(), stack.events.key(), event) ^ ARRIVE_TAG | 1;
        let mut reports = Vec::new();
        if self.capture == Capture::Always || !self.cache.contains(key) {
            let ev = side(event, 0, Mode::Write, site);
            let mut st = self.lock_state();
            st.refusing = refuse;
            let released = stack.events.locks().iter().filter(|l| {
                !stack.entries().iter().any(|h| h.class == l.class && h.subclass == l.subclass)
            });
            for l in released.map(|l| side(l.class, l.subclass, l.mode, l.site)) {
                self.event_edge(&mut st, stack, thread, &ev, &l, &mut reports, true);
            }
            if !refuse || reports.is_empty() {
                self.cache.insert(key);
            }
            st.refusing = false;
            self.settle(st, &mut reports);
            if refuse && !reports.is_empty() {
                return reports;
            }
        }
        reports.extend(self.wait_event(stack, thread, event, site, refuse));
        reports
    }

    /// Whether class `id` is a lock or an event node.
    pub(crate) fn class_kind(&self, id: ClassId) -> NodeKind {
        self.lock_state().graph.kind(id)
    }

    /// Called for a new chain: the edge from the thread's exit event to the lock `new`.
    pub(super) fn base_edge(
        &self,
        st: &mut State,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        new: &HeldLock,
        reports: &mut Vec<Report>,
    ) {
        if let Some((base, at)) = stack.events.base {
            self.event_edge(
                st,
                stack,
                thread,
                &side(base, 0, Mode::Write, at),
                new,
                reports,
                false,
            );
        }
    }

    /// Adds `from -> to` (one side at least an event), reporting the cycle it closes; with
    /// `signal` the report is triggered by the signal `from`.
    #[expect(clippy::too_many_arguments, reason = "the report needs every part of the acquisition")]
    fn event_edge(
        &self,
        st: &mut State,
        stack: &HeldStack,
        thread: ThreadName<'_>,
        from: &HeldLock,
        to: &HeldLock,
        reports: &mut Vec<Report>,
        signal: bool,
    ) {
        let (a, b) =
            (st.graph.node(from.class, from.subclass), st.graph.node(to.class, to.subclass));
        if a == b {
            return;
        }
        let t = DepType::of(from.mode, to.mode);
        if let Some(e) = st.graph.edge_between(a, b) {
            if st.graph.edges[e as usize].types.contains(t) {
                return;
            }
        }
        if let Some(path) = st.graph.strong_path(b, a, t) {
            let mut r = self.cycle_report(st, stack, thread, from, to, t, &path);
            if signal {
                // The signal triggered the report, not the lock it may need.
                r.acquiring = Some(r.chain[0].from.clone());
            }
            r.message = event_message(&r);
            self.keep(st, r, reports);
            if st.refusing {
                return;
            }
        }
        let witness = || Witness {
            thread: thread(),
            from: WitnessAcq {
                mode: from.mode,
                trylock: from.trylock,
                site: from.site,
                trace: from.trace,
            },
            to: WitnessAcq { mode: to.mode, trylock: to.trylock, site: to.site, trace: to.trace },
        };
        if st.graph.edge_between(a, b).is_none() {
            st.traces.pin(from.trace);
            st.traces.pin(to.trace);
        }
        st.graph.add(a, b, t, witness);
    }
}

/// The explanation of a cycle through events: the cycle, and which lock to release before
/// which wait.
pub(crate) fn event_message(r: &Report) -> String {
    let names: Vec<&str> = r.chain.iter().map(|l| l.from.class.as_str()).collect();
    let cycle = names.iter().chain(names.first()).copied().collect::<Vec<_>>().join(" -> ");
    let advice: Vec<String> = r
        .chain
        .iter()
        .filter(|l| l.from.node == NodeKind::Lock && l.to.node == NodeKind::Event)
        .map(|l| format!("release {} before waiting for {}", l.from.class, l.to.class))
        .collect();
    format!(
        "a wait for an event closes a dependency cycle {cycle}: the signal that would end the \
         wait can itself wait for a lock the waiter holds, so it may never come; {}",
        if advice.is_empty() {
            "break the cycle by signalling without those locks".to_string()
        } else {
            advice.join(", and ")
        }
    )
}
