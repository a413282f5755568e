//! A program written for `parking_lot`, ported to lockdep with one import line.
//!
//! `program.rs` (a cache: `upgradable_read` + `upgrade`, `read_recursive`, `Condvar::wait`
//! and `wait_for`, `try_lock_for`, `try_read_for`, `downgrade`) is compiled twice: with
//! `parking_lot`'s types and with `lockdep_core::parking_lot`'s. Both runs must print the
//! same lines, and the traced run must leave no report.
//!
//! ```sh
//! cargo run -p lockdep-core --example parking_lot_port
//! ```

mod plain {
    use parking_lot::{Condvar, Mutex, RwLock, RwLockUpgradableReadGuard, RwLockWriteGuard};
    include!("program.rs");
}

mod traced {
    use lockdep_core::parking_lot::{
        Condvar, Mutex, RwLock, RwLockUpgradableReadGuard, RwLockWriteGuard,
    };
    include!("program.rs");
}

#[path = "../common/compare.rs"]
mod compare;

fn main() {
    compare::compare("parking_lot", "lockdep_core::parking_lot", plain::run, traced::run);
}
