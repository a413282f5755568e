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

#[path = "../common/compare.rs"]
mod compare;

fn main() {
    compare::compare("std::sync", "lockdep_core::std::sync", plain::run, traced::run);
}
