//! A program written for `std::sync`, ported to lockdep with one import line.
//!
//! `program.rs` (a job queue: `Mutex` + `Condvar::wait_while`, an `RwLock` config,
//! `try_lock` with `TryLockError`, `wait_timeout`, poisoning) is compiled twice: with
//! `std::sync`'s types and with `lockdep_core::std::sync`'s. Both runs must print the same
//! lines, and the traced run must leave no report.
//!
//! ```sh
//! cargo run -p lockdep-core --example std_port
//! ```

mod plain {
    use std::sync::{Arc, Condvar, Mutex, RwLock, TryLockError};
    include!("program.rs");
}

mod traced {
    use lockdep_core::std::sync::{Arc, Condvar, Mutex, RwLock, TryLockError};
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
    println!("same output with std::sync and lockdep_core::std::sync; no report");
    println!("wall time: plain {plain_time:.2?}, traced {traced_time:.2?} (second runs; noise on a loaded machine)");
}
