//! The chain cache: a set of 64-bit chain keys that readers query without locks.
//!
//! # Invariants
//! Only one writer at a time (the validator inserts while holding its state lock). Readers
//! load the current table pointer and probe it; a grown table is published with `Release`
//! after it is fully filled, and old tables are kept alive until the cache is dropped, so a
//! reader that still probes an old table reads valid (if stale) memory. A stale miss only
//! sends the reader to the slow path, which re-checks under the lock.

use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

struct Table {
    slots: Box<[AtomicU64]>,
    /// `64 - log2(slots.len())`: a key's home slot is its top bits (`key >> shift`), the bits
    /// a multiplicative hash mixes best.
    shift: u32,
}

impl Table {
    fn new(capacity: usize) -> Table {
        debug_assert!(capacity.is_power_of_two() && capacity > 1);
        Table {
            slots: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
            shift: 64 - capacity.trailing_zeros(),
        }
    }

    #[inline(always)]
    fn home(&self, key: u64) -> usize {
        (key >> self.shift) as usize
    }

    #[inline(always)]
    fn contains(&self, key: u64) -> bool {
        let i = self.home(key);
        // SAFETY: `key >> shift < 2^(64 - shift) = slots.len()`.
        let v = unsafe { self.slots.get_unchecked(i) }.load(Ordering::Acquire);
        v == key || (v != 0 && self.probe_on(key, i))
    }

    /// [`contains`](Self::contains) past an occupied home slot holding another key (inline: a
    /// call here would make the lock entry points save and restore registers).
    #[inline(always)]
    fn probe_on(&self, key: u64, mut i: usize) -> bool {
        let mask = self.slots.len() - 1;
        loop {
            i = (i + 1) & mask;
            // SAFETY: `i <= mask < slots.len()`.
            let v = unsafe { self.slots.get_unchecked(i) }.load(Ordering::Acquire);
            if v == key {
                return true;
            }
            if v == 0 {
                return false;
            }
        }
    }

    /// Inserts `key`; returns false when already present. Single writer only.
    fn insert(&self, key: u64) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let v = self.slots[i].load(Ordering::Relaxed);
            if v == key {
                return false;
            }
            if v == 0 {
                self.slots[i].store(key, Ordering::Release);
                return true;
            }
            i = (i + 1) & mask;
        }
    }
}

/// A grow-only concurrent set of non-zero `u64` keys with lock-free lookups. A key's home
/// slot is its top bits, so keys must be well mixed there (chain keys are products, event
/// keys are `mix`ed); keys that differ only in their low bits all probe from one slot.
pub(crate) struct ChainCache {
    current: AtomicPtr<Table>,
    len: AtomicUsize,
    /// Bumped by [`clear`](Self::clear) and [`bump_epoch`](Self::bump_epoch): per-thread
    /// memos of what the validator learnt (the held stack's same-class nesting memo) are
    /// valid only for the epoch they were made in.
    epoch: AtomicU64,
    /// Every table ever published (the current one last), freed on drop.
    tables: Mutex<Vec<*mut Table>>,
}

// SAFETY: the raw table pointers are only created from `Box::into_raw`, are never freed
// before drop, and all shared access to table contents goes through atomics.
unsafe impl Send for ChainCache {}
// SAFETY: as above; mutation of `tables` is behind a mutex.
unsafe impl Sync for ChainCache {}

const INITIAL: usize = 1 << 12;

impl ChainCache {
    pub fn new() -> ChainCache {
        let t = Box::into_raw(Box::new(Table::new(INITIAL)));
        ChainCache {
            current: AtomicPtr::new(t),
            len: AtomicUsize::new(0),
            epoch: AtomicU64::new(0),
            tables: Mutex::new(vec![t]),
        }
    }

    /// Whether `key` was inserted before. Lock-free; never allocates.
    #[inline(always)]
    pub fn contains(&self, key: u64) -> bool {
        let t = self.current.load(Ordering::Acquire);
        // SAFETY: tables are never freed while the cache lives (see # Invariants).
        unsafe { &*t }.contains(key)
    }

    /// [`contains`](Self::contains) with a memo of the caller's (a lock's last chain): the
    /// memo holds a key found before, tagged with the table it was found in, so the same key
    /// again is answered without probing (no cache miss on a large table). A table is never
    /// freed or reused while the cache lives, and `clear` and growth publish a new one, so a
    /// tag made before a `clear` never matches after it. Lock-free; never allocates.
    #[inline(always)]
    pub fn contains_memo(&self, key: u64, memo: &AtomicU64) -> bool {
        let t = self.current.load(Ordering::Acquire);
        let tag = key ^ t as u64;
        if memo.load(Ordering::Relaxed) == tag {
            return true;
        }
        // SAFETY: tables are never freed while the cache lives (see # Invariants).
        let found = unsafe { &*t }.contains(key);
        if found {
            memo.store(tag, Ordering::Relaxed);
        }
        found
    }

    /// Inserts `key` (non-zero). Callers must serialise inserts (single writer).
    pub fn insert(&self, key: u64) {
        debug_assert_ne!(key, 0);
        let t = self.current.load(Ordering::Acquire);
        // SAFETY: as in `contains`.
        let table = unsafe { &*t };
        if !table.insert(key) {
            return;
        }
        let len = self.len.fetch_add(1, Ordering::Relaxed) + 1;
        if len * 2 > table.slots.len() {
            let bigger = Table::new(table.slots.len() * 4);
            for s in table.slots.iter() {
                let v = s.load(Ordering::Relaxed);
                if v != 0 {
                    bigger.insert(v);
                }
            }
            let p = Box::into_raw(Box::new(bigger));
            let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
            tables.push(p);
            self.current.store(p, Ordering::Release);
        }
    }

    /// Forgets every key (e.g. when a rule is added, so seen chains are checked again).
    /// Callers must serialise this with inserts.
    pub fn clear(&self) {
        let p = Box::into_raw(Box::new(Table::new(INITIAL)));
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        tables.push(p);
        self.current.store(p, Ordering::Release);
        self.len.store(0, Ordering::Relaxed);
        self.bump_epoch();
    }

    /// The current epoch (see `epoch`).
    #[inline]
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Ends the current epoch: something learnt outside the cache was forgotten (an instance
    /// node, say), so memos made before must not be trusted. Callers serialise it with
    /// inserts, like `clear`.
    pub fn bump_epoch(&self) {
        self.epoch.fetch_add(1, Ordering::Release);
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }
}

impl Drop for ChainCache {
    fn drop(&mut self) {
        let tables = self.tables.get_mut().unwrap_or_else(|e| e.into_inner());
        for &t in tables.iter() {
            // SAFETY: each pointer came from `Box::into_raw` and is freed exactly once, here,
            // when no reader can exist any more (`&mut self`).
            drop(unsafe { Box::from_raw(t) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "grows the table to 2^18 slots: hours under Miri")]
    fn grows_and_keeps_every_key() {
        // Enough keys to grow the table several times.
        let n: u64 = 100_000;
        let c = ChainCache::new();
        for k in 1..n {
            c.insert(k.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        }
        for k in 1..n {
            assert!(c.contains(k.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1));
        }
        assert!(!c.contains(2));
        assert_eq!(c.len(), n as usize - 1);
    }

    /// Distinct non-zero keys mixed in their top bits, as chain keys are.
    fn spread(k: u64) -> u64 {
        k.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1
    }

    #[test]
    fn a_memo_answers_its_key_until_the_cache_is_cleared() {
        let c = ChainCache::new();
        let memo = AtomicU64::new(0);
        let (k, other) = (spread(1), spread(2));
        assert!(!c.contains_memo(k, &memo), "not inserted yet");
        assert_eq!(memo.load(Ordering::Relaxed), 0, "a miss leaves the memo alone");
        c.insert(k);
        assert!(c.contains_memo(k, &memo));
        let tag = memo.load(Ordering::Relaxed);
        assert_ne!(tag, 0, "a hit is memoised");
        // Answered from the memo: no probe needed, and another key is not.
        assert!(c.contains_memo(k, &memo));
        assert!(!c.contains_memo(other, &memo));
        assert_eq!(memo.load(Ordering::Relaxed), tag);
        // After a clear the memo's tag names the old table: the key is probed, and is gone.
        c.clear();
        assert!(!c.contains_memo(k, &memo));
        c.insert(k);
        assert!(c.contains_memo(k, &memo));
        assert_ne!(memo.load(Ordering::Relaxed), tag, "re-tagged with the new table");
    }

    #[test]
    fn lookups_race_with_inserts_and_growth() {
        // Readers probe without locks while a writer inserts and grows the table: every key
        // inserted before a reader looks is found (run under Miri for data races).
        let c = std::sync::Arc::new(ChainCache::new());
        let n: u64 = if cfg!(miri) { 300 } else { 20_000 };
        std::thread::scope(|s| {
            let w = c.clone();
            s.spawn(move || {
                for k in 1..n {
                    w.insert(spread(k));
                }
            });
            for _ in 0..2 {
                let r = c.clone();
                s.spawn(move || {
                    let mut seen = 0;
                    for k in 1..n {
                        seen += r.contains(spread(k)) as u64;
                    }
                    assert!(seen <= n);
                });
            }
        });
        assert_eq!(c.len(), n as usize - 1);
    }
}
