//! Transfers and cache refreshes from several threads; clean on its own.

use std::sync::Arc;

use user_example::Bank;

#[lockdep_core::test]
fn concurrent_transfers_keep_the_total() {
    let bank = Arc::new(Bank::new(4));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let bank = bank.clone();
            std::thread::spawn(move || {
                for j in 0..100 {
                    bank.transfer(i, (i + j) % 4, 1);
                    bank.refresh_cache();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(bank.total(), 0);
}

#[lockdep_core::test]
fn fixed_audit_follows_the_declared_order() {
    let bank = Bank::new(2);
    bank.transfer(0, 1, 5);
    assert_eq!(bank.audit_fixed(), (1, 0));
}
