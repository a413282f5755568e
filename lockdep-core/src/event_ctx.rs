//! A thread's event context: what a signal (a notify, a send, the thread's exit) may have
//! waited for before it happened.
//!
//! Two parts, both kept in the held-lock stack so that live threads and replayed ones share
//! them:
//! - the lock classes acquired since the thread last waited for an event (or started), with
//!   a running hash of them: a signal of event `E` adds `E -> L` for each (and for each held
//!   lock);
//! - the thread's *base*: for a thread spawned through the drop-in `thread` module (or a
//!   trace's `spawn`), the event class of its exit. Its every acquisition and wait gets an
//!   edge from the base (the joiner cannot go on until the thread got those), and the base
//!   seeds the thread's chain keys so that a seen chain of a spawned thread is seen for its
//!   own base.
//!
//! # Cost
//! On each blocking acquisition, one compare against a small direct-mapped memo of the
//! acquisitions that need nothing done (kept already, or the context was full); on a memo
//! miss, one compare per kept class (at most [`CONTEXT`] of them). No allocation. Classes beyond [`CONTEXT`] since the last wait are not kept (their signal
//! edges are missed: a narrower window, documented in the design's "Waits on events").

use crate::class::ClassId;
use crate::vocab::{Mode, SiteRef};

/// At most this many distinct (class, subclass, mode) acquisitions are kept since the last
/// wait.
pub const CONTEXT: usize = 8;

/// One kept acquisition.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CtxLock {
    pub class: ClassId,
    pub subclass: u32,
    pub mode: Mode,
    pub site: SiteRef,
}

const NONE: CtxLock =
    CtxLock { class: ClassId(0), subclass: 0, mode: Mode::Write, site: SiteRef::None };

/// Slots of the memo in front of the scan (a power of two).
const MEMO: usize = 16;
/// An empty memo slot: no packed acquisition is all ones (the mode takes two bits of the top
/// byte).
const MEMO_EMPTY: u64 = u64::MAX;

/// The locks acquired since the last wait, and the thread's exit class.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EventContext {
    /// Direct-mapped memo of packed acquisitions for which [`note`](Self::note) has nothing
    /// to do until the next [`clear`](Self::clear): kept already, or the context is full.
    /// A miss only sends `note` to the scan.
    memo: [u64; MEMO],
    locks: [CtxLock; CONTEXT],
    len: u8,
    /// Hash of the kept acquisitions, 0 when none (part of a seen-signal key).
    key: u64,
    /// The thread's exit event and where it was spawned, when spawned as a participant.
    pub base: Option<(ClassId, SiteRef)>,
}

#[inline]
fn pack(class: ClassId, subclass: u32, mode: Mode) -> u64 {
    (class.0 as u64) | ((subclass as u64 & 0xff_ffff) << 32) | ((mode as u64) << 56)
}

impl EventContext {
    pub const fn new() -> EventContext {
        EventContext {
            memo: [MEMO_EMPTY; MEMO],
            locks: [NONE; CONTEXT],
            len: 0,
            key: 0,
            base: None,
        }
    }

    /// Notes a blocking acquisition.
    #[inline]
    pub fn note(&mut self, class: ClassId, subclass: u32, mode: Mode, site: SiteRef) {
        if !self.memo_hit(class, subclass, mode) {
            let slot = (class.0 as usize ^ subclass as usize) & (MEMO - 1);
            self.note_scan(pack(class, subclass, mode), slot, class, subclass, mode, site);
        }
    }

    /// Whether [`note`](Self::note) of this acquisition has nothing to do, by the memo
    /// alone (false may still mean nothing to do).
    #[inline(always)]
    pub fn memo_hit(&self, class: ClassId, subclass: u32, mode: Mode) -> bool {
        let slot = (class.0 as usize ^ subclass as usize) & (MEMO - 1);
        // SAFETY: `slot < MEMO` (masked).
        unsafe { *self.memo.get_unchecked(slot) == pack(class, subclass, mode) }
    }

    /// Whether the context is full: [`note`](Self::note) then has nothing to do.
    #[inline(always)]
    pub fn is_full(&self) -> bool {
        self.len as usize == CONTEXT
    }

    /// [`note`](Self::note) past a memo miss: the scan of the kept acquisitions.
    #[inline(never)]
    fn note_scan(
        &mut self,
        p: u64,
        slot: usize,
        class: ClassId,
        subclass: u32,
        mode: Mode,
        site: SiteRef,
    ) {
        let len = self.len as usize;
        if !self.locks[..len].iter().any(|l| pack(l.class, l.subclass, l.mode) == p)
            && len < CONTEXT
        {
            self.locks[len] = CtxLock { class, subclass, mode, site };
            self.len += 1;
            self.key = crate::vocab::mix(self.key.rotate_left(23) ^ p ^ 0x2f3a_9d5b_11c7_e405);
        }
        // Kept now (or before), or the context is full: nothing to do for `p` until `clear`.
        self.memo[slot] = p;
    }

    /// Swaps two contexts moving only the kept acquisitions that are live (a task's and the
    /// thread's, around a poll: `HeldStack::swap_live`).
    pub fn swap_live(&mut self, other: &mut EventContext) {
        let n = self.len.max(other.len) as usize;
        self.locks[..n].swap_with_slice(&mut other.locks[..n]);
        std::mem::swap(&mut self.memo, &mut other.memo);
        std::mem::swap(&mut self.len, &mut other.len);
        std::mem::swap(&mut self.key, &mut other.key);
        std::mem::swap(&mut self.base, &mut other.base);
    }

    /// The thread waited: the context starts afresh (the base stays).
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
        self.key = 0;
        self.memo = [MEMO_EMPTY; MEMO];
    }

    /// The kept acquisitions, oldest first.
    pub fn locks(&self) -> &[CtxLock] {
        &self.locks[..self.len as usize]
    }

    /// Hash of the kept acquisitions.
    #[inline]
    pub fn key(&self) -> u64 {
        self.key
    }

    /// The chain key of an empty stack: 0, or derived from the base.
    #[inline]
    pub fn base_key(&self) -> u64 {
        match self.base {
            None => 0,
            Some((c, _)) => crate::vocab::mix(c.0 as u64 ^ 0x7c1d_52e3_a4f8_9b61) | 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_distinct_acquisitions_up_to_the_bound() {
        let mut c = EventContext::new();
        c.note(ClassId(1), 0, Mode::Write, SiteRef::None);
        let k = c.key();
        c.note(ClassId(1), 0, Mode::Write, SiteRef::None);
        assert_eq!((c.locks().len(), c.key()), (1, k));
        c.note(ClassId(1), 0, Mode::Read, SiteRef::None);
        assert_eq!(c.locks().len(), 2);
        for i in 2..20 {
            c.note(ClassId(i), 0, Mode::Write, SiteRef::None);
        }
        assert_eq!(c.locks().len(), CONTEXT);
        c.clear();
        assert_eq!((c.locks().len(), c.key()), (0, 0));
        // After a clear, an acquisition noted before (and memoised) is kept again.
        c.note(ClassId(1), 0, Mode::Write, SiteRef::None);
        assert_eq!((c.locks().len(), c.key()), (1, k));
    }

    #[test]
    fn memo_collisions_keep_the_same_set_as_the_scan() {
        // Classes 1 and 17 share a memo slot; notes in alternation keep each once.
        let mut c = EventContext::new();
        for _ in 0..3 {
            for class in [1, 17, 33, 1, 2] {
                c.note(ClassId(class), 0, Mode::Write, SiteRef::None);
            }
        }
        let kept: Vec<u32> = c.locks().iter().map(|l| l.class.0).collect();
        assert_eq!(kept, [1, 17, 33, 2]);
    }
}
