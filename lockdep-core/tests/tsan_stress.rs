//! A multi-threaded stress of every lock type with validation on, sized for ThreadSanitizer
//! (`.ci/run` builds it with `-Zsanitizer=thread`; it runs in the normal suite too). Eight
//! threads share mutexes, rw-semaphores (read, write, downgrade), recursive rw-locks, spin
//! locks and a condition variable, always in one order (the seen-chain fast path racing the
//! slow path of new chains, classes registered while others validate, the chain cache
//! growing), then each raises circular dependencies of its own at once (concurrent reports
//! and report-file writes). Checks: exactly the expected reports, the data the locks guard is
//! consistent, nothing held at the end.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use lockdep_core::report::Kind;
use lockdep_core::std::sync::{Arc, Condvar, Mutex as StdMutex};
use lockdep_core::{LockClassKey, Mutex, OnReport, RwLock, RwSem, SpinLock};

const THREADS: usize = 8;
const ROUNDS: usize = 400;

static OUTER: LockClassKey = LockClassKey::new("tsan::outer");
static SEM: LockClassKey = LockClassKey::new("tsan::sem");
static RW: LockClassKey = LockClassKey::new("tsan::rw");
static SPIN: LockClassKey = LockClassKey::new("tsan::spin");
static INV_A: LockClassKey = LockClassKey::new("tsan::inv_a");
static INV_B: LockClassKey = LockClassKey::new("tsan::inv_b");

/// The shared locks, taken in the order of the fields.
struct Shared {
    outer: Mutex<u64>,
    sem: RwSem<u64>,
    rw: RwLock<u64>,
    spin: SpinLock<u64>,
    /// Rounds finished, with a condition variable the threads wait on for each other.
    turn: StdMutex<usize>,
    turned: Condvar,
}

fn round(s: &Shared, t: usize, i: usize) {
    match (t + i) % 4 {
        0 => {
            let mut o = s.outer.lock();
            let mut w = s.sem.write();
            *o += 1;
            *w += 1;
            let r = w.downgrade();
            let _rw = s.rw.read();
            let _again = s.rw.read(); // recursive readers of an RwLock are legal
            *s.spin.lock() += *r & 1;
        }
        1 => {
            let _r = s.sem.read();
            let mut w = s.rw.write();
            *w += 1;
            *s.spin.lock() += 1;
        }
        2 => {
            if let Some(mut o) = s.outer.try_lock() {
                *o += 1;
            }
            let _r = s.rw.read();
            drop(s.spin.lock());
        }
        _ => {
            // A class registered mid-run: a new chain on the slow path while others run the
            // fast path.
            let key: &'static LockClassKey = Box::leak(Box::new(LockClassKey::new(Box::leak(
                format!("tsan::fresh::{t}::{i}").into_boxed_str(),
            ))));
            let fresh = Mutex::with_key(0u64, key);
            let _o = s.outer.lock();
            *fresh.lock() += 1;
        }
    }
}

#[test]
fn every_lock_type_under_eight_threads() {
    lockdep_core::set_on_report(OnReport::Warn);
    let dir = std::env::temp_dir().join(format!("lockdep-tsan-stress-{}", std::process::id()));
    lockdep_core::set_report_dir(&dir);
    let shared = Arc::new(Shared {
        outer: Mutex::with_key(0, &OUTER),
        sem: RwSem::with_key(0, &SEM),
        rw: RwLock::with_key(0, &RW),
        spin: SpinLock::with_key(0, &SPIN),
        turn: StdMutex::new(0),
        turned: Condvar::new(),
    });
    let barrier = Arc::new(Barrier::new(THREADS));
    let waits = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let s = shared.clone();
            let (barrier, waits) = (barrier.clone(), waits.clone());
            lockdep_core::std::thread::spawn(move || {
                barrier.wait();
                for i in 0..ROUNDS {
                    round(&s, t, i);
                    if i % 50 == 49 {
                        // Wait (bounded) until another thread finished a round too.
                        let mut turn = s.turn.lock().unwrap();
                        let seen = *turn;
                        *turn += 1;
                        s.turned.notify_all();
                        let deadline = Instant::now() + Duration::from_millis(20);
                        while *turn == seen + 1 && Instant::now() < deadline {
                            turn = s.turned.wait_timeout(turn, Duration::from_millis(5)).unwrap().0;
                            waits.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                barrier.wait();
                // Each thread its own cycle (subclass t), all found at about the same time, on
                // locks of its own (the classes are shared; the instances are not, so the
                // threads never really deadlock).
                let a = Mutex::with_key((), &INV_A);
                let b = Mutex::with_key((), &INV_B);
                let sub = t as u32 + 1;
                {
                    let _a = a.lock_nested(sub);
                    let _b = b.lock_nested(sub);
                }
                let _b = b.lock_nested(sub);
                let _a = a.lock_nested(sub);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let rs = lockdep_core::reports();
    assert_eq!(rs.len(), THREADS, "{:?}", rs.iter().map(|r| &r.title).collect::<Vec<_>>());
    assert!(rs.iter().all(|r| r.kind == Kind::CircularDependency));
    let rounds0 = (0..THREADS).map(|t| (0..ROUNDS).filter(|i| (t + i) % 4 == 0).count());
    assert_eq!(*shared.sem.read(), rounds0.sum::<usize>() as u64);
    assert_eq!(lockdep_core::held_count(), 0);
    eprintln!(
        "tsan_stress: {:?}, {} condvar waits",
        start.elapsed(),
        waits.load(Ordering::Relaxed)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
