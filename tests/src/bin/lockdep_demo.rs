//! A small program used by the integration tests as a real process: it provokes problems with
//! real threads and locks, then ends in the way its argument says.
//!
//! `lockdep_demo abba|warm-abba|half-ab|half-ba|exit-holding|panic-main|clean`

use std::sync::{Arc, Barrier};
use std::thread;

use lockdep_core::{LockClassKey, Mutex, RwSem};

static ACCOUNTS: LockClassKey = LockClassKey::new("demo::accounts");
static LEDGER: LockClassKey = LockClassKey::new("demo::ledger");
static CONFIG: LockClassKey = LockClassKey::new("demo::config");

fn abba() {
    let a = Arc::new(Mutex::with_key(0u64, &ACCOUNTS));
    let b = Arc::new(RwSem::with_key(0u64, &LEDGER));
    let c = Arc::new(Mutex::with_key((), &CONFIG));
    let barrier = Arc::new(Barrier::new(2));
    let (a1, b1, c1, bar1) = (a.clone(), b.clone(), c.clone(), barrier.clone());
    let t1 = thread::Builder::new()
        .name("transfer".into())
        .spawn(move || {
            for _ in 0..100 {
                let _c = c1.lock();
                let mut ga = a1.lock();
                *ga += 1;
                let mut w = b1.write();
                *w += 1;
                let _d = w.downgrade();
            }
            bar1.wait();
        })
        .unwrap();
    let t2 = thread::Builder::new()
        .name("audit".into())
        .spawn(move || {
            barrier.wait(); // never concurrent with `transfer`: no real deadlock
            let _r = b.read();
            let _ga = a.lock();
            let _c = c.try_lock(); // a trylock: no edge, no report
        })
        .unwrap();
    t1.join().unwrap();
    t2.join().unwrap();
}

/// A cycle whose older edge starts from an acquisition whose chain was already known (a plain
/// `lock(A)` seen before on another thread), so by default only its site is recorded, and with
/// `LOCKDEP_BACKTRACE=always` its stack too.
fn warm_abba() {
    let a = Arc::new(Mutex::with_key((), &ACCOUNTS));
    let b = Arc::new(Mutex::with_key((), &CONFIG));
    let a1 = a.clone();
    thread::spawn(move || drop(a1.lock())).join().unwrap(); // chain [accounts] now known
    let (a2, b2) = (a.clone(), b.clone());
    thread::Builder::new()
        .name("warm".into())
        .spawn(move || {
            let _a = a2.lock(); // known chain: no backtrace by default
            let _b = b2.lock(); // new chain: accounts -> config
        })
        .unwrap()
        .join()
        .unwrap();
    let _b = b.lock();
    let _a = a.lock();
}

/// Two structs, each with a field `cache`: two classes named `cache` (from the source), at
/// two sites.
struct Shop {
    cache: Mutex<()>,
}

struct Depot {
    cache: Mutex<()>,
}

/// Takes `first`, then `second` under it (the frame the merged report's stacks show).
#[inline(never)]
fn take_pair(first: &Mutex<()>, second: &Mutex<()>) {
    let _first = first.lock();
    let _second = second.lock();
}

/// One half of a cycle between the two `cache` classes: the shop's before the depot's, or
/// (`reverse`) the other way; only a merge of both processes' documents sees the cycle.
fn half(reverse: bool) {
    let shop = Shop { cache: Mutex::new(()) };
    let depot = Depot { cache: Mutex::new(()) };
    if reverse {
        take_pair(&depot.cache, &shop.cache);
    } else {
        take_pair(&shop.cache, &depot.cache);
    }
}

fn main() {
    let what = std::env::args().nth(1).unwrap_or_default();
    match what.as_str() {
        "abba" => abba(),
        "warm-abba" => warm_abba(),
        "half-ab" => half(false),
        "half-ba" => half(true),
        "clean" => {
            let a = Mutex::with_key(0, &ACCOUNTS);
            *a.lock() += 1;
        }
        "exit-holding" => {
            thread::Builder::new()
                .name("leaker".into())
                .spawn(|| {
                    let m = Box::leak(Box::new(Mutex::with_key(0, &ACCOUNTS)));
                    std::mem::forget(m.lock()); // the thread exits holding it
                })
                .unwrap()
                .join()
                .unwrap();
            std::process::exit(3);
        }
        "panic-main" => {
            abba();
            panic!("main panics after the ABBA");
        }
        other => {
            eprintln!(
                "usage: lockdep_demo abba|warm-abba|exit-holding|panic-main|clean (got {other:?})"
            );
            std::process::exit(2);
        }
    }
}
