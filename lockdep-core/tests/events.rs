//! Waits on events (issue 14) on live programs: each participant's deadlock shape is reported
//! and its legal twin is not. Every program is sequenced so that it never really hangs: the
//! side that closes the cycle runs last, and its wait is reported before it blocks (warn
//! mode), then ends because the other side already finished (or a helper wakes it).
//!
//! The graph is process-wide and the tests share one process: each test builds its own locks
//! and participants (distinct construction sites, hence distinct classes) and looks only at
//! reports naming its locks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lockdep_core::report::{Kind, NodeKind, Report};
use lockdep_core::std::sync::{mpsc, Arc, Condvar, Mutex};
use lockdep_core::std::thread;

#[expect(dead_code, reason = "each test binary uses part of the shared helpers")]
mod common;
use common::{reports_naming, warn};

/// The one report naming `class`: a cycle through an event node.
fn event_cycle(class: &str) -> Report {
    let rs = reports_naming(class);
    assert_eq!(rs.len(), 1, "{rs:#?}");
    let r = rs.into_iter().next().unwrap();
    assert_eq!(r.kind, Kind::CircularDependency);
    assert!(r.chain.iter().any(|l| l.to.node == NodeKind::Event), "{r:#?}");
    assert!(r.message.contains(&format!("release {class} before waiting")), "{}", r.message);
    r
}

/// Notifies `cv` every few milliseconds until dropped (so a wait never hangs), from a thread
/// that holds no lock.
struct Nudge(Arc<AtomicBool>, Option<std::thread::JoinHandle<()>>);

fn nudge(notify: impl Fn() + Send + 'static) -> Nudge {
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    let t = std::thread::spawn(move || {
        while !s.load(Ordering::Relaxed) {
            notify();
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    Nudge(stop, Some(t))
}

impl Drop for Nudge {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        self.1.take().unwrap().join().unwrap();
    }
}

#[test]
fn condvar_wait_holding_a_lock_the_notifier_takes_is_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let (a2, p2) = (Arc::clone(&a), Arc::clone(&pair));
    // The notifier takes A (and the condvar's mutex) before it notifies.
    thread::spawn(move || {
        drop(a2.lock().unwrap());
        *p2.0.lock().unwrap() = true;
        p2.1.notify_all();
    })
    .join()
    .unwrap();
    let p3 = Arc::clone(&pair);
    let _n = nudge(move || p3.1.notify_all());
    // The waiter holds A across the wait: A -> cv, and cv -> A from the notifier.
    let _ga = a.lock().unwrap();
    let g = pair.0.lock().unwrap();
    let g = pair.1.wait(g).unwrap();
    drop(g);
    let r = event_cycle(&a.class_name());
    let actions: Vec<&str> = r.scenario.iter().map(|s| s.action.as_str()).collect();
    assert!(actions.iter().any(|s| s.starts_with("wait(")), "{actions:?}");
    assert!(actions.iter().any(|s| s.contains("never reached")), "{actions:?}");
}

#[test]
fn condvar_with_its_own_mutex_and_timed_waits_are_not_reported() {
    warn();
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
    let p3 = Arc::clone(&pair);
    let n = nudge(move || p3.1.notify_all());
    // The usual pattern: only the condvar's own mutex, which the wait releases.
    let g = pair.0.lock().unwrap();
    drop(pair.1.wait(g).unwrap());
    drop(n);
    // A timed wait holding A cannot wait forever: no edge.
    let _ga = a.lock().unwrap();
    let g = pair.0.lock().unwrap();
    let (g, _) = pair.1.wait_timeout(g, Duration::from_millis(1)).unwrap();
    drop(g);
    assert!(reports_naming(&a.class_name()).is_empty());
    assert!(reports_naming(&pair.0.class_name()).is_empty());
}

#[test]
fn parking_lot_condvar_wait_holding_a_lock_the_notifier_takes_is_reported() {
    use lockdep_core::parking_lot as pl;
    warn();
    let a = Arc::new(pl::Mutex::new(()));
    let pair = Arc::new((pl::Mutex::new(false), pl::Condvar::new()));
    let (a2, p2) = (Arc::clone(&a), Arc::clone(&pair));
    thread::spawn(move || {
        let _ga = a2.lock();
        *p2.0.lock() = true;
        p2.1.notify_one();
    })
    .join()
    .unwrap();
    let p3 = Arc::clone(&pair);
    let _n = nudge(move || {
        p3.1.notify_all();
    });
    let _ga = a.lock();
    let mut g = pair.0.lock();
    // A timed wait first: no edge.
    pair.1.wait_for(&mut g, Duration::from_millis(1));
    assert!(reports_naming(&a.class_name()).is_empty());
    pair.1.wait(&mut g);
    drop(g);
    event_cycle(&a.class_name());
}

#[test]
fn recv_while_holding_a_lock_the_only_sender_holds_is_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let (tx, rx) = mpsc::channel();
    let a2 = Arc::clone(&a);
    thread::spawn(move || {
        let _g = a2.lock().unwrap();
        tx.send(1).unwrap();
    })
    .join()
    .unwrap();
    // The message is there already: the recv does not block, and is still a potential wait.
    let _g = a.lock().unwrap();
    assert_eq!(rx.recv().unwrap(), 1);
    event_cycle(&a.class_name());
}

#[test]
fn bounded_send_while_holding_a_lock_the_receiver_takes_is_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let (tx, rx) = mpsc::sync_channel(1);
    tx.send(1).unwrap();
    let a2 = Arc::clone(&a);
    // The receiver takes A, then receives: the space it makes comes after A (space -> A).
    let rx = thread::spawn(move || {
        drop(a2.lock().unwrap());
        assert_eq!(rx.recv().unwrap(), 1);
        rx
    })
    .join()
    .unwrap();
    // The buffer has room, so this send does not block; it is still a potential wait for
    // space, while holding A (A -> space).
    let _g = a.lock().unwrap();
    tx.send(2).unwrap();
    event_cycle(&a.class_name());
    assert_eq!(rx.recv().unwrap(), 2);
}

#[test]
fn bounded_send_when_the_receiver_needs_no_lock_of_the_sender_is_not_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let b = Arc::new(Mutex::new(()));
    let (tx, rx) = mpsc::sync_channel(1);
    tx.send(1).unwrap();
    let b2 = Arc::clone(&b);
    let rx = thread::spawn(move || {
        drop(b2.lock().unwrap());
        assert_eq!(rx.recv().unwrap(), 1);
        rx
    })
    .join()
    .unwrap();
    let g = a.lock().unwrap();
    tx.send(2).unwrap();
    // A try_send cannot block: no edge.
    assert!(tx.try_send(3).is_err());
    drop(g);
    assert_eq!(rx.recv().unwrap(), 2);
    let rs = reports_naming(&a.class_name());
    assert!(rs.is_empty(), "{rs:#?}");
    assert!(reports_naming(&b.class_name()).is_empty());
}

#[test]
fn recv_when_the_sender_needs_no_lock_of_the_receiver_is_not_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let b = Arc::new(Mutex::new(()));
    let (tx, rx) = mpsc::channel();
    let (tx2, b2) = (tx.clone(), Arc::clone(&b));
    thread::spawn(move || {
        let _g = b2.lock().unwrap();
        tx2.send(1).unwrap();
    })
    .join()
    .unwrap();
    let _g = a.lock().unwrap();
    assert_eq!(rx.recv().unwrap(), 1);
    // Timed and try receives add no edge, even with a sender that held A.
    let (tx3, rx3) = mpsc::channel();
    let a3 = Arc::clone(&a);
    drop(_g);
    thread::spawn(move || {
        let _g = a3.lock().unwrap();
        tx3.send(2).unwrap();
        tx3.send(3).unwrap();
    })
    .join()
    .unwrap();
    let _g = a.lock().unwrap();
    assert_eq!(rx3.recv_timeout(Duration::from_millis(100)).unwrap(), 2);
    assert_eq!(rx3.try_recv().unwrap(), 3);
    drop(tx);
    assert!(reports_naming(&a.class_name()).is_empty());
    assert!(reports_naming(&b.class_name()).is_empty());
}

#[test]
fn join_while_holding_a_lock_the_thread_takes_is_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let a2 = Arc::clone(&a);
    let t = thread::spawn(move || drop(a2.lock().unwrap()));
    while !t.is_finished() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let _g = a.lock().unwrap();
    t.join().unwrap();
    let r = event_cycle(&a.class_name());
    assert!(r.scenario.iter().any(|s| s.action.starts_with("join(")), "{:?}", r.scenario);
}

#[test]
fn join_of_a_thread_that_needs_none_of_the_joiners_locks_is_not_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let b = Arc::new(Mutex::new(()));
    let b2 = Arc::clone(&b);
    let _g = a.lock().unwrap();
    let t = thread::spawn(move || drop(b2.lock().unwrap()));
    t.join().unwrap();
    // Scoped threads too.
    let b3 = Arc::clone(&b);
    thread::scope(|s| {
        let h = s.spawn(|| drop(b3.lock().unwrap()));
        h.join().unwrap();
    });
    assert!(reports_naming(&a.class_name()).is_empty());
    assert!(reports_naming(&b.class_name()).is_empty());
}

#[test]
fn scoped_join_while_holding_a_lock_the_thread_takes_is_reported() {
    warn();
    let a = Mutex::new(());
    thread::scope(|s| {
        let h = s.spawn(|| drop(a.lock().unwrap()));
        while !h.is_finished() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let _g = a.lock().unwrap();
        h.join().unwrap();
    });
    event_cycle(&a.class_name());
}

#[test]
fn scope_ending_while_holding_a_lock_a_scoped_thread_takes_is_reported() {
    warn();
    let a = Mutex::new(0);
    // The scoped thread takes A and is never joined explicitly; the scope's closure returns
    // a guard of A, so A is held when the scope's end joins the thread: A -> exit(t), and
    // exit(t) -> A from the thread.
    let g = thread::scope(|s| {
        let h = s.spawn(|| *a.lock().unwrap() += 1);
        while !h.is_finished() {
            std::thread::sleep(Duration::from_millis(1));
        }
        a.lock().unwrap()
    });
    assert_eq!(*g, 1);
    drop(g);
    let r = event_cycle(&a.class_name());
    assert!(r.scenario.iter().any(|s| s.action.starts_with("join(")), "{:?}", r.scenario);
    let exit = r.chain.iter().find(|l| l.to.node == NodeKind::Event).unwrap();
    assert!(exit.to.class.starts_with("exit("), "{r:#?}");
}

#[test]
fn scope_ending_with_no_lock_held_or_after_explicit_joins_is_not_reported() {
    warn();
    let a = Mutex::new(0);
    let b = Mutex::new(0);
    // The scope's end joins threads that take A while this thread holds nothing.
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| *a.lock().unwrap() += 1);
        }
    });
    // B is held at the end of this scope, but its only thread was joined explicitly before
    // B was taken, and takes A only.
    let g = thread::scope(|s| {
        let h = s.spawn(|| *a.lock().unwrap() += 1);
        h.join().unwrap();
        b.lock().unwrap()
    });
    drop(g);
    assert_eq!(*a.lock().unwrap(), 3);
    assert!(reports_naming(&a.class_name()).is_empty(), "{:#?}", lockdep_core::reports());
    assert!(reports_naming(&b.class_name()).is_empty());
}
