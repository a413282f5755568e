//! A program with the three event deadlock shapes of issue 14 (condvar, channel, join), each
//! sequenced so that it never hangs; run under `LOCKDEP=warn` with `LOCKDEP_TRACE` by
//! `tests/events.rs` to check that replaying the recorded trace gives the live verdicts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lockdep_core::std::sync::{mpsc, Arc, Condvar, Mutex};
use lockdep_core::std::thread;

fn main() {
    // Condvar: the notifier takes A before notifying; the waiter holds A across its wait.
    let a = Arc::new(Mutex::new(()));
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let (a2, p2) = (Arc::clone(&a), Arc::clone(&pair));
    thread::spawn(move || {
        drop(a2.lock().unwrap());
        *p2.0.lock().unwrap() = true;
        p2.1.notify_all();
    })
    .join()
    .unwrap();
    {
        // A helper that holds no lock wakes the waiter, so the program never hangs.
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, p3) = (Arc::clone(&stop), Arc::clone(&pair));
        let nudge = std::thread::spawn(move || {
            while !s2.load(Ordering::Relaxed) {
                p3.1.notify_all();
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let _ga = a.lock().unwrap();
        let g = pair.0.lock().unwrap();
        // Timed: no edge.
        let (g, _) = pair.1.wait_timeout(g, Duration::from_millis(1)).unwrap();
        drop(pair.1.wait(g).unwrap());
        stop.store(true, Ordering::Relaxed);
        nudge.join().unwrap();
    }
    // Channel: the only sender sends holding B; the receiver holds B.
    let b = Arc::new(Mutex::new(()));
    let (tx, rx) = mpsc::channel();
    let b2 = Arc::clone(&b);
    thread::spawn(move || {
        let _g = b2.lock().unwrap();
        tx.send(1).unwrap();
    })
    .join()
    .unwrap();
    {
        let _g = b.lock().unwrap();
        rx.recv().unwrap();
    }
    // Join: the thread takes C; the joiner holds C.
    let c = Arc::new(Mutex::new(()));
    let c2 = Arc::clone(&c);
    let t = thread::spawn(move || drop(c2.lock().unwrap()));
    while !t.is_finished() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let _g = c.lock().unwrap();
    t.join().unwrap();
}
