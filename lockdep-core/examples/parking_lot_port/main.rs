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

fn main() {
    // A first run of each (start-up costs: the first panic's backtrace, class registration),
    // then the timed runs.
    assert_eq!(plain::run(), traced::run());
    let start = std::time::Instant::now();
    let plain = plain::run();
    let plain_time = start.elapsed();
    let start = std::time::Instant::now();
    let traced = traced::run();
    let traced_time = start.elapsed();
    for line in &traced {
        println!("{line}");
    }
    assert_eq!(plain, traced, "the port behaves as the original");
    let reports = lockdep_core::reports();
    assert!(reports.is_empty(), "no report on correct code: {reports:?}");
    println!("same output with parking_lot and lockdep_core::parking_lot; no report");
    println!("wall time: plain {plain_time:.2?}, traced {traced_time:.2?} (second runs; noise on a loaded machine)");
}
