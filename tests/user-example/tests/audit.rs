//! Audits and statistics; clean on its own (this process never refreshes the cache), but see
//! the crate README: together with `transfers.rs` it shows a cross-binary cycle.

use user_example::Bank;

#[lockdep_core::test]
fn stats_of_an_empty_bank() {
    let bank = Bank::new(3);
    assert_eq!(bank.stats_report(), (0, 0));
}

#[lockdep_core::test]
#[should_panic(expected = "declared_order")]
fn audit_against_the_declared_order_fails_at_once() {
    let bank = Bank::new(3);
    let _ = bank.audit(); // journal, then accounts: against `lock_order!`
}
