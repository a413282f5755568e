//! The per-thread held-lock stack and chain keys.
//!
//! Each entry records one held lock: instance, class, subclass, mode, whether it was a
//! trylock, where it was acquired, and the chain key of the stack up to and including it.
//! The stack is a fixed array of `Copy` entries, so it needs no allocation and no destructor
//! (it stays usable while a thread's other thread-locals are being destroyed).

use crate::class::ClassId;
use crate::event_ctx::EventContext;
use crate::vocab::{Mode, SiteRef};

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
    pub trace: Option<crate::stacks::TraceId>,
    /// Chain key of the stack up to and including this entry.
    pub chain_key: u64,
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
/// `len <= MAX_DEPTH`: every entry index below `len` is in bounds.
#[derive(Clone, Copy)]
pub(crate) struct HeldStack {
    entries: [HeldLock; MAX_DEPTH],
    len: usize,
    /// Locks acquired since the last wait, and the thread's exit event (`event_ctx`).
    pub events: EventContext,
}

#[inline]
pub(crate) fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Chain key of `prev` extended by one acquisition. Never 0.
///
/// One multiply per link: the previous key, rotated, is xored with the link's word (class,
/// subclass, mode and flags), then put through xorshift-multiply-xorshift. Each of those
/// steps is a bijection, so for one `prev` two different links (subclass below 2^28) never
/// give the same key; across prefixes a collision needs two keys whose difference is a
/// link-word difference, which the multiply makes as unlikely as for a random 64-bit value.
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
    let x = prev.rotate_left(29) ^ word;
    let x = (x ^ (x >> 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let k = x ^ (x >> 29);
    if k == 0 {
        1
    } else {
        k
    }
}

impl HeldStack {
    pub const fn new() -> HeldStack {
        HeldStack { entries: [EMPTY; MAX_DEPTH], len: 0, events: EventContext::new() }
    }

    /// Swaps this stack with `other` (a task's and the thread's, around a poll of the task),
    /// moving only the live entries: a poll costs the tasks' depth, not `MAX_DEPTH` entries.
    pub fn swap_live(&mut self, other: &mut HeldStack) {
        let n = self.len.max(other.len);
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
        &self.entries[..self.len]
    }

    /// Chain key of the whole stack (when empty: 0, or the key of the thread's exit event).
    #[inline(always)]
    pub fn top_key(&self) -> u64 {
        if self.len == 0 {
            self.events.base_key()
        } else {
            // SAFETY: 0 < len <= MAX_DEPTH (the type's invariant).
            unsafe { self.entries.get_unchecked(self.len - 1) }.chain_key
        }
    }

    #[inline]
    pub fn push(&mut self, e: HeldLock) {
        debug_assert!(self.len < MAX_DEPTH);
        if !e.trylock {
            self.events.note(e.class, e.subclass, e.mode, e.site);
        }
        self.entries[self.len] = e;
        self.len += 1;
    }

    /// Pushes `e` unless the stack is full; returns whether it did.
    #[inline(always)]
    pub fn try_push(&mut self, e: HeldLock) -> bool {
        match self.entries.get_mut(self.len) {
            Some(slot) => {
                *slot = e;
                self.len += 1;
                // The memo is tested inline; the site is read back from the entry only when
                // the context may change, so it is never built on the caller's stack.
                if !e.trylock && !self.events.memo_hit(e.class, e.subclass, e.mode) {
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
        let e = self.entries[self.len - 1];
        self.events.note(e.class, e.subclass, e.mode, e.site);
    }

    /// Index of the most recent entry for `instance`.
    #[inline]
    pub fn find(&self, instance: usize) -> Option<usize> {
        self.entries[..self.len].iter().rposition(|e| e.instance == instance)
    }

    /// Pops the top entry if it is `instance` (the usual, LIFO release); O(1).
    #[inline(always)]
    pub fn pop_if_top(&mut self, instance: usize) -> bool {
        if self.len == 0 {
            return false;
        }
        // SAFETY: 0 < len <= MAX_DEPTH (the type's invariant).
        let top = unsafe { self.entries.get_unchecked(self.len - 1) };
        if top.instance == instance {
            self.len -= 1;
            true
        } else {
            false
        }
    }

    /// Removes entry `i` (out-of-order release is legal) and re-keys the entries above it.
    #[inline]
    pub fn remove(&mut self, i: usize) -> HeldLock {
        let e = self.entries[i];
        if i + 1 == self.len {
            self.len -= 1;
            return e;
        }
        self.entries.copy_within(i + 1..self.len, i);
        self.len -= 1;
        self.rekey_from(i);
        e
    }

    /// Recomputes chain keys from entry `i` upwards (after a removal or a mode change).
    pub fn rekey_from(&mut self, i: usize) {
        let mut prev = if i == 0 { self.events.base_key() } else { self.entries[i - 1].chain_key };
        for e in &mut self.entries[i..self.len] {
            e.chain_key = chain_key(prev, e.class, e.subclass, e.mode, e.trylock, e.nested);
            prev = e.chain_key;
        }
    }

    pub fn get_mut(&mut self, i: usize) -> &mut HeldLock {
        &mut self.entries[i]
    }

    /// Pops the top entry (used to undo a push when a report panics).
    pub fn pop(&mut self) -> Option<HeldLock> {
        if self.len == 0 {
            None
        } else {
            self.len -= 1;
            Some(self.entries[self.len])
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
