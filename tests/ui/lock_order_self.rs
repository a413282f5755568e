use lockdep_core::LockClassKey;

static A: LockClassKey = LockClassKey::new("a");

fn main() {
    let _ = lockdep_core::lock_order! { A => A };
}
