//! The per-thread held-lock stack and chain keys.
//!
//! Each entry records one held lock: instance, class, subclass, mode, whether it was a
//! trylock, where it was acquired, and the chain key of the stack up to and including it.
//! The stack is a fixed array of `Copy` entries, so it needs no allocation and no destructor
//! (it stays usable while a thread's other thread-locals are being destroyed).

use crate::class::ClassId;
use crate::event_ctx::EventContext;
use crate::vocab::{Mode, SiteRef, TraceId};

/// Held locks beyond this depth are reported (`max_lock_depth`) and not tracked.
pub const MAX_DEPTH: usize = 48;

/// One held lock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeldLock {
    pub instance: usize,
    pub class: ClassId,
    pub subclass: u32,
    pub mode: Mode,
    pub trylock: bool,
    /// Taken under a nest lock: adds no edges from the other held locks.
    pub nested: bool,
    pub site: SiteRef,
    /// The backtrace captured at acquisition (slow path only), if any.
    pub trace: Option<TraceId>,
    /// Chain key of the stack up to and including this entry.
    pub chain_key: u64,
}

impl HeldLock {
    /// The entry of a seen acquisition (the fast paths): not nested, no stack kept.
    #[inline(always)]
    pub fn seen(
        instance: usize,
        class: ClassId,
        subclass: u32,
        mode: Mode,
        trylock: bool,
        site: SiteRef,
        chain_key: u64,
    ) -> HeldLock {
        HeldLock {
            instance,
            class,
            subclass,
            mode,
            trylock,
            nested: false,
            site,
            trace: None,
            chain_key,
        }
    }
}

const EMPTY: HeldLock = HeldLock {
    instance: 0,
    class: ClassId(0),
    subclass: 0,
    mode: Mode::Write,
    trylock: false,
    nested: false,
    site: SiteRef::None,
    trace: None,
    chain_key: 0,
};

/// A thread's held locks, outermost first.
///
/// # Invariants
/// `len <= MAX_DEPTH`; the held locks are `entries[1..=len]`, so every index up to `len` is
/// in bounds. `entries[0]` is a sentinel whose `chain_key` is the key of the empty stack
/// (`events.base_key()`, kept by [`rekey_from`](HeldStack::rekey_from)`(0)`), so the top key
/// is `entries[len].chain_key` with no test for an empty stack.
#[derive(Clone, Copy)]
pub(crate) struct HeldStack {
    entries: [HeldLock; MAX_DEPTH + 1],
    len: usize,
    /// Locks acquired since the last wait, and the thread's exit event (`event_ctx`).
    pub events: EventContext,
    /// Direct-mapped memo of same-class nestings judged by instances that the validator
    /// learnt from this stack (see [`nesting_key`](Self::nesting_key)); 0 is an empty slot.
    /// Valid only while the chain cache's epoch is `nesting_epoch`.
    nesting: [u64; NESTING_MEMO],
    nesting_epoch: u64,
}

/// Slots of the same-class nesting memo (a power of two).
const NESTING_MEMO: usize = 8;

/// The odd multiplier of a nesting key's fold (not the chain key's, so the two differ).
const NESTING_MUL: u64 = 0xbf58_476d_1ce4_e5b9;

/// A nesting key's memo slot: its top bits, which its last multiply mixes best.
#[inline(always)]
fn nesting_slot(nkey: u64) -> usize {
    (nkey >> (64 - NESTING_MEMO.trailing_zeros())) as usize
}

/// Chain key of `prev` extended by one acquisition. Never 0.
///
/// One multiply per link: the previous key, rotated, is xored with the link's word (class,
/// subclass, mode and flags), and the result multiplied by an odd constant. Both steps are
/// bijections, so for one `prev` two different links (subclass below 2^28) never give the
/// same key; across prefixes a collision needs `rot(prev1) ^ rot(prev2)` to equal a
/// link-word difference, as unlikely as for random 64-bit values since each `prev` is itself
/// such a product. The product mixes every input bit into its *top* bits only, so the chain
/// cache takes a key's home slot from its top bits, and the rotation brings the previous
/// key's top bits down into the next link's low ones.
#[inline(always)]
pub(crate) fn chain_key(
    prev: u64,
    class: ClassId,
    subclass: u32,
    mode: Mode,
    trylock: bool,
    nested: bool,
) -> u64 {
    let m = match mode {
        Mode::Write => 0u64,
        Mode::Read => 1,
        Mode::RecursiveRead => 2,
        Mode::Downgraded => 3,
    };
    // Class and subclass whole in one word; the mode and flags in its top four bits.
    let flags = m | ((trylock as u64) << 2) | ((nested as u64) << 3);
    let word = (class.0 as u64) ^ ((subclass as u64) << 32) ^ (flags << 60);
    let k = (prev.rotate_left(29) ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    // 0 only for the one input 0 (an odd multiplier is a bijection), made 1 (the key of one
    // other input): 0 is the chain cache's empty slot.
    k.max(1)
}

impl HeldStack {
    pub const fn new() -> HeldStack {
        HeldStack {
            entries: [EMPTY; MAX_DEPTH + 1],
            len: 0,
            events: EventContext::new(),
            nesting: [0; NESTING_MEMO],
            nesting_epoch: 0,
        }
    }

    /// Swaps this stack with `other` (a task's and the thread's, around a poll of the task),
    /// moving only the live entries: a poll costs the tasks' depth, not `MAX_DEPTH` entries.
    pub fn swap_live(&mut self, other: &mut HeldStack) {
        // The live entries are the sentinel (`entries[0]`, the empty stack's key) and
        // `entries[1..=len]`.
        let n = self.len.max(other.len) + 1;
        self.entries[..n].swap_with_slice(&mut other.entries[..n]);
        std::mem::swap(&mut self.len, &mut other.len);
        self.events.swap_live(&mut other.events);
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == MAX_DEPTH
    }

    #[inline]
    pub fn entries(&self) -> &[HeldLock] {
        &self.entries[1..=self.len]
    }

    /// Chain key of the whole stack (when empty: 0, or the key of the thread's exit event).
    #[inline(always)]
    pub fn top_key(&self) -> u64 {
        // SAFETY: len <= MAX_DEPTH < entries.len() (the type's invariant); entry 0 is the
        // sentinel holding the empty stack's key.
        unsafe { self.entries.get_unchecked(self.len) }.chain_key
    }

    #[inline]
    pub fn push(&mut self, e: HeldLock) {
        debug_assert!(self.len < MAX_DEPTH);
        if !e.trylock {
            self.events.note(e.class, e.subclass, e.mode, e.site);
        }
        self.entries[self.len + 1] = e;
        self.len += 1;
    }

    /// Pushes `e` unless the stack is full; returns whether it did.
    #[inline(always)]
    pub fn try_push(&mut self, e: HeldLock) -> bool {
        match self.entries.get_mut(self.len + 1) {
            Some(slot) => {
                *slot = e;
                self.len += 1;
                // The memo is tested inline; the site is read back from the entry only when
                // the context may change (not full), so it is never built on the caller's
                // stack.
                if !e.trylock
                    && !self.events.memo_hit(e.class, e.subclass, e.mode)
                    && !self.events.is_full()
                {
                    self.note_top();
                }
                true
            }
            None => false,
        }
    }

    /// Notes the top entry in the event context (the memo missed).
    #[inline(never)]
    fn note_top(&mut self) {
        let e = self.entries[self.len];
        self.events.note(e.class, e.subclass, e.mode, e.site);
    }

    /// The key of a blocking acquisition of `instance` (class `class`, subclass `subclass`,
    /// chain key `key` once pushed) that nests its class in itself, made of the chain key and
    /// the instances of every held lock of that class and subclass (in stack order) and of
    /// `instance`; `None` when no held lock has that class and subclass. Never 0.
    ///
    /// Such a chain is never put in the chain cache (its key says nothing of the instances'
    /// order), so without this memo every such acquisition took the validator's lock.
    pub fn nesting_key(
        &self,
        key: u64,
        class: ClassId,
        subclass: u32,
        instance: usize,
    ) -> Option<u64> {
        // One multiply per lock, as for chain keys (a bijection of `k ^ i` for each `k`).
        let fold = |k: u64, i: usize| (k.rotate_left(23) ^ i as u64).wrapping_mul(NESTING_MUL);
        let mut k = key;
        let mut any = false;
        for h in self.entries() {
            if h.class == class && h.subclass == subclass {
                any = true;
                k = fold(k, h.instance);
            }
        }
        any.then(|| fold(k, instance).max(1))
    }

    /// Whether the nesting `nkey` ([`nesting_key`](Self::nesting_key)) was learnt from this
    /// stack in the chain cache's current epoch `epoch`.
    #[inline]
    pub fn nesting_seen(&self, nkey: u64, epoch: u64) -> bool {
        self.nesting_epoch == epoch && self.nesting[nesting_slot(nkey)] == nkey
    }

    /// Notes that the validator learnt the nesting `nkey` in epoch `epoch` (read while it held
    /// its state lock): a later acquisition with the same key in the same epoch would find
    /// every instance edge known and add nothing.
    pub fn note_nesting(&mut self, nkey: u64, epoch: u64) {
        if epoch < self.nesting_epoch {
            return;
        }
        if epoch != self.nesting_epoch {
            self.nesting = [0; NESTING_MEMO];
            self.nesting_epoch = epoch;
        }
        self.nesting[nesting_slot(nkey)] = nkey;
    }

    /// Index of the most recent entry for `instance`.
    #[inline]
    pub fn find(&self, instance: usize) -> Option<usize> {
        self.entries().iter().rposition(|e| e.instance == instance)
    }

    /// Pops the top entry if it is `instance` and keeps no stack (the usual, LIFO release of
    /// a seen chain); O(1).
    #[inline(always)]
    pub fn pop_if_top(&mut self, instance: usize) -> bool {
        // SAFETY: len <= MAX_DEPTH < entries.len() (the type's invariant).
        let top = unsafe { self.entries.get_unchecked(self.len) };
        // An entry with a stack (pushed by the slow path: a new chain) goes the slow way, so
        // that its stack is freed unless an edge pinned it.
        if top.instance == instance && self.len != 0 && top.trace.is_none() {
            self.len -= 1;
            true
        } else {
            false
        }
    }

    /// Removes entry `i` (out-of-order release is legal) and re-keys the entries above it.
    #[inline]
    pub fn remove(&mut self, i: usize) -> HeldLock {
        let e = self.entries()[i];
        if i + 1 == self.len {
            self.len -= 1;
            return e;
        }
        self.entries.copy_within(i + 2..self.len + 1, i + 1);
        self.len -= 1;
        self.rekey_from(i);
        e
    }

    /// Recomputes chain keys from entry `i` upwards (after a removal or a mode change); from
    /// 0, also the empty stack's key (after the thread's base was set).
    pub fn rekey_from(&mut self, i: usize) {
        if i == 0 {
            self.entries[0].chain_key = self.events.base_key();
        }
        let mut prev = self.entries[i].chain_key;
        for e in &mut self.entries[i + 1..=self.len] {
            e.chain_key = chain_key(prev, e.class, e.subclass, e.mode, e.trylock, e.nested);
            prev = e.chain_key;
        }
    }

    pub fn get_mut(&mut self, i: usize) -> &mut HeldLock {
        &mut self.entries[1..=self.len][i]
    }

    /// Pops the top entry (used to undo a push when a report panics).
    pub fn pop(&mut self) -> Option<HeldLock> {
        if self.len == 0 {
            None
        } else {
            self.len -= 1;
            Some(self.entries[self.len + 1])
        }
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(instance: usize, class: u32, prev: u64) -> HeldLock {
        HeldLock {
            instance,
            class: ClassId(class),
            chain_key: chain_key(prev, ClassId(class), 0, Mode::Write, false, false),
            ..EMPTY
        }
    }

    #[test]
    fn out_of_order_release_rekeys_like_a_fresh_stack() {
        let mut s = HeldStack::new();
        let a = entry(1, 1, 0);
        let b = entry(2, 2, a.chain_key);
        let c = entry(3, 3, b.chain_key);
        s.push(a);
        s.push(b);
        s.push(c);
        s.remove(s.find(2).unwrap());
        let fresh = entry(3, 3, a.chain_key);
        assert_eq!(s.len(), 2);
        assert_eq!(s.top_key(), fresh.chain_key);
    }

    #[test]
    fn swap_live_moves_every_entry_and_the_top_key() {
        let mut thread = HeldStack::new();
        let mut task = HeldStack::new();
        let a = entry(1, 1, 0);
        let b = entry(2, 2, a.chain_key);
        thread.push(a);
        thread.push(b);
        let c = entry(3, 3, 0);
        task.push(c);
        let (thread_key, task_key) = (thread.top_key(), task.top_key());
        thread.swap_live(&mut task);
        assert_eq!((thread.len(), task.len()), (1, 2));
        assert_eq!(thread.entries().iter().map(|e| e.instance).collect::<Vec<_>>(), [3]);
        assert_eq!(task.entries().iter().map(|e| e.instance).collect::<Vec<_>>(), [1, 2]);
        assert_eq!((thread.top_key(), task.top_key()), (task_key, thread_key));
        thread.swap_live(&mut task);
        assert_eq!(thread.entries().iter().map(|e| e.instance).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(thread.top_key(), thread_key);
    }

    #[test]
    #[cfg_attr(miri, ignore = "two million keys: hours under Miri (pure arithmetic, no unsafe)")]
    fn no_collisions_among_short_chains() {
        // Every chain of up to three links over 48 classes x 2 subclasses x 4 modes x trylock
        // (768 links): all 768 + 768^2 chains of one and two links, and 48 x 48 x 768 of three, all
        // distinct and never 0.
        let links: Vec<(u32, u32, Mode, bool)> = (0..48u32)
            .flat_map(|c| (0..2u32).map(move |s| (c, s)))
            .flat_map(|(c, s)| {
                [Mode::Write, Mode::Read, Mode::RecursiveRead, Mode::Downgraded]
                    .into_iter()
                    .flat_map(move |m| [(c, s, m, false), (c, s, m, true)])
            })
            .collect();
        let key = |prev: u64, l: &(u32, u32, Mode, bool)| {
            chain_key(prev, ClassId(l.0), l.1, l.2, l.3, false)
        };
        let mut seen = std::collections::HashSet::new();
        for a in &links {
            let ka = key(0, a);
            assert!(ka != 0 && seen.insert(ka));
            for b in &links {
                let kb = key(ka, b);
                assert!(kb != 0 && seen.insert(kb));
            }
        }
        for a in links.iter().step_by(16) {
            for b in links.iter().step_by(16) {
                let kb = key(key(0, a), b);
                for c in &links {
                    let kc = key(kb, c);
                    assert!(kc != 0 && seen.insert(kc));
                }
            }
        }
    }

    #[test]
    fn keys_depend_on_mode_and_order() {
        let k1 = chain_key(0, ClassId(1), 0, Mode::Write, false, false);
        let k2 = chain_key(0, ClassId(1), 0, Mode::Read, false, false);
        assert_ne!(k1, k2);
        let ab = chain_key(
            chain_key(0, ClassId(1), 0, Mode::Write, false, false),
            ClassId(2),
            0,
            Mode::Write,
            false,
            false,
        );
        let ba = chain_key(
            chain_key(0, ClassId(2), 0, Mode::Write, false, false),
            ClassId(1),
            0,
            Mode::Write,
            false,
            false,
        );
        assert_ne!(ab, ba);
    }
}
