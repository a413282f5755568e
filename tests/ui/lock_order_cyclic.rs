use lockdep_core::LockClassKey;

static A: LockClassKey = LockClassKey::new("a");
static B: LockClassKey = LockClassKey::new("b");
static C: LockClassKey = LockClassKey::new("c");

fn main() {
    let _ = lockdep_core::lock_order! {
        A => B => C;
        C => A;
    };
}
