//! A small tokio service ported to lockdep by changing imports: `tokio::sync` becomes
//! `lockdep_core::tokio::sync`, `std::sync::Mutex` becomes `lockdep_core::std::sync::Mutex`,
//! `tokio::spawn` becomes `lockdep_core::tokio::spawn`. It has the two async bugs the
//! validator finds before they bite:
//!
//! - `transfer` and `audit` take the accounts and the audit log in opposite orders, in tasks
//!   that migrate between the two workers: a `circular_dependency`, reported although the
//!   tasks run one after the other and never hang here;
//! - `flush_stats` holds a std mutex's guard across a `sleep().await`: `held_across_await`
//!   (a task that yields holding a blocking lock can block every task on that worker).
//!
//! Connections are limited by a `Semaphore`; a task holding two permits is no report.
//!
//! `cargo run -p lockdep-core --features tokio --example tokio_tasks`

use std::sync::Arc;
use std::time::Duration;

use lockdep_core::std::sync::Mutex as StdMutex;
use lockdep_core::tokio::sync::{Mutex, RwLock, Semaphore};

struct Bank {
    accounts: Mutex<Vec<u64>>,
    audit_log: Mutex<Vec<String>>,
    config: RwLock<u64>,
    connections: Semaphore,
    stats: StdMutex<u64>,
}

async fn transfer(bank: Arc<Bank>, from: usize, to: usize) {
    let _conn = bank.connections.acquire().await.unwrap();
    let fee = *bank.config.read().await;
    let mut accounts = bank.accounts.lock().await;
    tokio::task::yield_now().await; // may resume on the other worker, still holding the lock
    accounts[from] -= 10 + fee;
    accounts[to] += 10;
    bank.audit_log.lock().await.push(format!("{from} -> {to}"));
}

async fn audit(bank: Arc<Bank>) -> u64 {
    let _conns = bank.connections.acquire_many(2).await.unwrap();
    let log = bank.audit_log.lock().await;
    let total: u64 = bank.accounts.lock().await.iter().sum(); // inverse order: reported
    println!("audit: {} transfers, total {total}", log.len());
    total
}

async fn flush_stats(bank: Arc<Bank>) {
    let mut stats = bank.stats.lock().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await; // a blocking guard across an await
    *stats += 1;
}

fn main() {
    lockdep_core::set_on_report(lockdep_core::OnReport::Warn);
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let bank = Arc::new(Bank {
        accounts: Mutex::new(vec![100, 100, 100]),
        audit_log: Mutex::new(Vec::new()),
        config: RwLock::new(1),
        connections: Semaphore::new(4),
        stats: StdMutex::new(0),
    });
    rt.block_on(async {
        for (from, to) in [(0, 1), (1, 2), (2, 0)] {
            lockdep_core::tokio::spawn(transfer(bank.clone(), from, to)).await.unwrap();
        }
        lockdep_core::tokio::spawn(audit(bank.clone())).await.unwrap();
    });
    // A std guard is `!Send`: the stats task runs where it is polled (here, `block_on`).
    rt.block_on(lockdep_core::task::instrument(flush_stats(bank.clone())));
    let reports = lockdep_core::reports();
    for r in &reports {
        println!("{}: {}", r.kind.as_str(), r.classes.join(", "));
    }
    println!("{} report(s); file: {}", reports.len(), lockdep_core::report_path().display());
}
