//! Two threads take two mutexes in opposite orders, one after the other (so they never
//! actually deadlock); the validator reports the possible deadlock anyway.
//!
//! `cargo run -p lockdep-core --example abba`

use std::thread;

use lockdep_core::Mutex;

static ACCOUNTS: Mutex<u32> = Mutex::new(0);
static AUDIT_LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn transfer() {
    let mut a = ACCOUNTS.lock();
    *a += 1;
    AUDIT_LOG.lock().push(format!("transfer {}", *a));
}

fn audit() {
    let log = AUDIT_LOG.lock();
    let total = *ACCOUNTS.lock(); // inverse order: possible deadlock with `transfer`
    println!("audit: {} entries, total {total}", log.len());
}

fn main() {
    thread::Builder::new().name("transfer".into()).spawn(transfer).unwrap().join().unwrap();
    thread::Builder::new().name("audit".into()).spawn(audit).unwrap().join().unwrap();
    let reports = lockdep_core::reports();
    println!("{} report(s); file: {}", reports.len(), lockdep_core::report_path().display());
}
