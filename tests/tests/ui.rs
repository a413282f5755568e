//! Compile-time checks of the macros, of the guards' `!Send` and that a guard of one lock
//! family cannot be given to another family's `Condvar`: each file in `tests/ui` that
//! must not compile has its expected compiler message next to it (`.stderr`).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/lock_order_cyclic.rs");
    t.compile_fail("ui/lock_order_unknown.rs");
    t.compile_fail("ui/lock_order_self.rs");
    t.compile_fail("ui/lock_order_not_a_key.rs");
    t.compile_fail("ui/guard_not_send.rs");
    t.compile_fail("ui/condvar_std_with_parking_lot_guard.rs");
    t.compile_fail("ui/condvar_parking_lot_with_std_guard.rs");
    t.compile_fail("ui/condvar_parking_lot_with_core_guard.rs");
    t.compile_fail("ui/test_attribute_args.rs");
    t.compile_fail("ui/test_attribute_async_needs_tokio.rs");
    t.compile_fail("ui/test_attribute_async_args.rs");
    t.compile_fail("ui/lock_rules_unknown_mode.rs");
    t.compile_fail("ui/lock_rules_same_class.rs");
    t.compile_fail("ui/lock_rules_cyclic.rs");
    t.pass("ui/lock_order_ok.rs");
    t.pass("ui/lock_rules_ok.rs");
}
