static NOT_A_KEY: u32 = 3;
static A: lockdep_core::LockClassKey = lockdep_core::LockClassKey::new("a");

fn main() {
    let _ = lockdep_core::lock_order! { A => NOT_A_KEY };
}
