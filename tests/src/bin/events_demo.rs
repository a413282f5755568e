//! A program with the six event deadlock shapes of issue 14 (condvar, channel, join, lazy,
//! barrier, scope end), each sequenced so that it never hangs; run under `LOCKDEP=warn` with `LOCKDEP_TRACE` by
//! `tests/events.rs` to check that replaying the recorded trace gives the live verdicts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lockdep_core::std::sync::{mpsc, Arc, Barrier, Condvar, LazyLock, Mutex};
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
    let g = c.lock().unwrap();
    t.join().unwrap();
    drop(g);
    // Lazy: its initialiser (run on another thread) takes D; this thread touches it holding D.
    static D: Mutex<u32> = Mutex::new(4);
    static LAZY: LazyLock<u32> = LazyLock::new(|| *D.lock().unwrap());
    thread::spawn(|| assert_eq!(*LAZY, 4)).join().unwrap();
    {
        let _g = D.lock().unwrap();
        assert_eq!(*LAZY, 4);
    }
    // Barrier: the other participant needs E before it arrives; this one arrives holding E.
    let e = Arc::new(Mutex::new(()));
    let barrier = Arc::new(Barrier::new(2));
    let arrived = Arc::new(AtomicBool::new(false));
    let (e2, b2, a2) = (Arc::clone(&e), Arc::clone(&barrier), Arc::clone(&arrived));
    let t = thread::spawn(move || {
        drop(e2.lock().unwrap());
        a2.store(true, Ordering::Release);
        b2.wait();
    });
    while !arrived.load(Ordering::Acquire) {
        std::thread::sleep(Duration::from_millis(1));
    }
    {
        let _g = e.lock().unwrap();
        barrier.wait();
    }
    t.join().unwrap();
    // Scope end: the un-joined scoped thread takes F; the scope returns a guard of F.
    let f = Mutex::new(());
    let g = thread::scope(|s| {
        let h = s.spawn(|| drop(f.lock().unwrap()));
        while !h.is_finished() {
            std::thread::sleep(Duration::from_millis(1));
        }
        f.lock().unwrap()
    });
    drop(g);
}
