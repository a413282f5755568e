//! A tiny bank whose locks are validated by lockdep.

use lockdep_core::{Mutex, RwSem};

lockdep_core::define_lock_class!(pub static ACCOUNTS = "bank::accounts");
lockdep_core::define_lock_class!(pub static JOURNAL = "bank::journal");
lockdep_core::define_lock_class!(pub static CACHE = "bank::cache");
lockdep_core::define_lock_class!(pub static STATS = "bank::stats");

/// Balances and a journal of every transfer.
pub struct Bank {
    accounts: Mutex<Vec<i64>>,
    journal: RwSem<Vec<String>>,
    cache: Mutex<Vec<i64>>,
    stats: Mutex<u64>,
}

impl Bank {
    /// A bank with `n` empty accounts. Declares the lock order once.
    pub fn new(n: usize) -> Bank {
        static ORDER: std::sync::Once = std::sync::Once::new();
        ORDER.call_once(|| lockdep_core::lock_order! { ACCOUNTS => JOURNAL }.expect("acyclic"));
        Bank {
            accounts: Mutex::with_key(vec![0; n], &ACCOUNTS),
            journal: RwSem::with_key(Vec::new(), &JOURNAL),
            cache: Mutex::with_key(Vec::new(), &CACHE),
            stats: Mutex::with_key(0, &STATS),
        }
    }

    /// Moves `amount` from `from` to `to` and journals it (accounts, then journal).
    pub fn transfer(&self, from: usize, to: usize, amount: i64) {
        let mut acc = self.accounts.lock();
        acc[from] -= amount;
        acc[to] += amount;
        self.journal.write().push(format!("{from}->{to}:{amount}"));
    }

    /// Total of all balances.
    pub fn total(&self) -> i64 {
        self.accounts.lock().iter().sum()
    }

    /// Audits: reads the journal, then checks the balances under it. This nests the two
    /// locks in the order opposite to `transfer`.
    pub fn audit(&self) -> (usize, i64) {
        let journal = self.journal.read();
        let total = self.total();
        (journal.len(), total)
    }

    /// Audits in the declared order (the fix).
    pub fn audit_fixed(&self) -> (usize, i64) {
        let acc = self.accounts.lock();
        let journal = self.journal.read();
        (journal.len(), acc.iter().sum())
    }

    /// Caches the balances and counts the refresh (cache, then stats).
    pub fn refresh_cache(&self) {
        let mut cache = self.cache.lock();
        *cache = self.accounts.lock().clone();
        *self.stats.lock() += 1;
    }

    /// Reports the refresh count with the cached total (stats, then cache): the inverse of
    /// `refresh_cache`. No lock order is declared for these two, so only a graph that has seen
    /// both functions can tell.
    pub fn stats_report(&self) -> (u64, i64) {
        let stats = self.stats.lock();
        let total = self.cache.lock().iter().sum();
        (*stats, total)
    }
}
