//! `lockdep_core::crossbeam_channel` (feature `crossbeam`) on live programs: a `recv` or a
//! `Select` while holding a lock a sender needs, and a bounded `send` while holding a lock
//! the receiver needs, are reported; their legal twins are not. Sequenced so nothing really
//! hangs: the side that closes the cycle runs last, after the other no longer needs the lock.
#![cfg(feature = "crossbeam")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lockdep_core::crossbeam_channel::{bounded, unbounded, Select};
use lockdep_core::report::{Kind, NodeKind, Report};
use lockdep_core::std::sync::{Arc, Mutex};
use lockdep_core::std::thread;

#[expect(dead_code, reason = "each test binary uses part of the shared helpers")]
mod common;
use common::{reports_naming, warn};

/// The one report naming `class`: a cycle through the event class starting with `event`.
fn event_cycle(class: &str, event: &str) -> Report {
    let rs = reports_naming(class);
    assert_eq!(rs.len(), 1, "{rs:#?}");
    let r = rs.into_iter().next().unwrap();
    assert_eq!(r.kind, Kind::CircularDependency);
    let link = r.chain.iter().find(|l| l.to.node == NodeKind::Event).expect("an event node");
    assert_eq!(link.from.class, class);
    assert!(link.to.class.starts_with(event), "{r:#?}");
    assert!(r.message.contains(&format!("release {class} before waiting")), "{}", r.message);
    r
}

#[test]
fn recv_while_holding_the_lock_the_only_sender_holds_is_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let (tx, rx) = unbounded();
    let site = format!("{}:{}:", file!(), line!() - 1);
    let a2 = Arc::clone(&a);
    thread::spawn(move || {
        let _g = a2.lock().unwrap();
        tx.send(1).unwrap();
    })
    .join()
    .unwrap();
    let _g = a.lock().unwrap();
    assert_eq!(rx.recv().unwrap(), 1);
    event_cycle(&a.class_name(), &site);
}

#[test]
fn recv_whose_sender_needs_none_of_the_receivers_locks_and_timed_receives_are_not_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let b = Arc::new(Mutex::new(()));
    let (tx, rx) = unbounded();
    let (a2, b2, tx2) = (Arc::clone(&a), Arc::clone(&b), tx.clone());
    thread::spawn(move || {
        let _g = b2.lock().unwrap();
        tx2.send(1).unwrap();
        drop(_g);
        // A sender that holds A, for the timed receive below.
        let _g = a2.lock().unwrap();
        tx2.send(2).unwrap();
        tx2.send(3).unwrap();
    })
    .join()
    .unwrap();
    let _g = a.lock().unwrap();
    // A recv holding A, of a channel whose sender held A: only timed / try receives, no edge.
    assert_eq!(rx.recv_timeout(Duration::from_millis(100)).unwrap(), 1);
    assert_eq!(rx.try_recv().unwrap(), 2);
    drop(_g);
    assert_eq!(rx.recv().unwrap(), 3);
    drop(tx);
    assert_eq!(rx.iter().count(), 0);
    assert!(reports_naming(&a.class_name()).is_empty(), "{:#?}", lockdep_core::reports());
    assert!(reports_naming(&b.class_name()).is_empty());
}

#[test]
fn bounded_send_while_holding_a_lock_the_receiver_needs_is_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let (tx, rx) = bounded(1);
    let site = format!("space({}:{}:", file!(), line!() - 1);
    let (a2, ready) = (Arc::clone(&a), Arc::new(AtomicBool::new(false)));
    let r2 = Arc::clone(&ready);
    // The receiver needs A before it receives (frees space): space -> A.
    let t = thread::spawn(move || {
        drop(a2.lock().unwrap());
        r2.store(true, Ordering::Release);
        rx.recv().unwrap()
    });
    while !ready.load(Ordering::Acquire) {
        std::thread::sleep(Duration::from_millis(1));
    }
    // The sender holds A while it may wait for space: A -> space.
    let g = a.lock().unwrap();
    assert_eq!(tx.capacity(), Some(1));
    tx.send(5).unwrap();
    drop(g);
    assert_eq!(t.join().unwrap(), 5);
    event_cycle(&a.class_name(), &site);
}

#[test]
fn unbounded_send_while_holding_a_lock_the_receiver_needs_is_not_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let (tx, rx) = unbounded();
    let a2 = Arc::clone(&a);
    let t = thread::spawn(move || {
        drop(a2.lock().unwrap());
        rx.recv().unwrap()
    });
    // An unbounded send never waits.
    let g = a.lock().unwrap();
    tx.send(5).unwrap();
    drop(g);
    assert_eq!(t.join().unwrap(), 5);
    assert!(reports_naming(&a.class_name()).is_empty(), "{:#?}", lockdep_core::reports());
}

/// Sends 2 on `tx` from another thread holding `a` (the signal edge `channel -> a`), and
/// waits for that thread to end.
fn sends_under(a: &Arc<Mutex<()>>, tx: lockdep_core::crossbeam_channel::Sender<u32>) {
    let a2 = Arc::clone(a);
    thread::spawn(move || {
        let _g = a2.lock().unwrap();
        tx.send(2).unwrap();
    })
    .join()
    .unwrap();
}

#[test]
fn select_over_two_receivers_holding_a_lock_one_sender_needs_is_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let (tx1, rx1) = unbounded::<u32>();
    let (tx2, rx2) = unbounded::<u32>();
    let site = format!("{}:{}:", file!(), line!() - 1);
    sends_under(&a, tx2);
    let g = a.lock().unwrap();
    let mut sel = Select::new();
    let i1 = sel.recv(&rx1);
    let i2 = sel.recv(&rx2);
    let op = sel.select();
    assert_eq!(op.index(), i2);
    assert_ne!(i1, i2);
    assert_eq!(op.recv(&rx2).unwrap(), 2);
    drop(g);
    drop(tx1);
    event_cycle(&a.class_name(), &site);
}

#[test]
fn select_with_no_lock_held_is_not_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let (tx1, rx1) = bounded::<u32>(0);
    let (tx2, rx2) = unbounded::<u32>();
    let a2 = Arc::clone(&a);
    let t = thread::spawn(move || {
        let _g = a2.lock().unwrap();
        tx2.send(2).unwrap();
    });
    let mut sel = Select::new();
    sel.recv(&rx1);
    let i2 = sel.recv(&rx2);
    let op = sel.select();
    assert_eq!(op.index(), i2);
    assert_eq!(op.recv(&rx2).unwrap(), 2);
    t.join().unwrap();
    // A select that times out adds no edge either, lock held or not.
    let _g = a.lock().unwrap();
    let mut sel = Select::new();
    sel.recv(&rx1);
    assert!(sel.select_timeout(Duration::from_millis(1)).is_err());
    assert!(sel.try_select().is_err());
    drop(tx1);
    assert!(reports_naming(&a.class_name()).is_empty(), "{:#?}", lockdep_core::reports());
}

#[test]
fn select_macro_holding_a_lock_one_sender_needs_is_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let (tx1, rx1) = unbounded::<u32>();
    let (tx2, rx2) = unbounded::<u32>();
    let site = format!("{}:{}:", file!(), line!() - 1);
    sends_under(&a, tx2);
    let g = a.lock().unwrap();
    let got = lockdep_core::crossbeam_channel::select! {
        recv(rx1) -> _ => unreachable!("nothing was sent on rx1"),
        recv(&rx2) -> msg => msg.unwrap(),
    };
    assert_eq!(got, 2);
    drop(g);
    drop(tx1);
    event_cycle(&a.class_name(), &site);
}

#[test]
fn select_macro_grammar_and_its_default_arms_are_crossbeams() {
    use lockdep_core::crossbeam_channel::select;
    warn();
    let a = Arc::new(Mutex::new(()));
    let (tx1, rx1) = unbounded::<u32>();
    let (tx2, rx2) = bounded::<u32>(1);
    // A default arm: a try (no wait edge), with the lock held.
    let g = a.lock().unwrap();
    let none = select! {
        recv(rx1) -> msg => msg.ok(),
        default => None,
    };
    assert_eq!(none, None);
    let timed = select! {
        recv(rx1) -> msg => { msg.ok() }
        default(Duration::from_millis(1)) => { Some(7) }
    };
    assert_eq!(timed, Some(7));
    drop(g);
    // A send arm's message is evaluated only when that send is chosen: rx1 is ready, and
    // the full channel's send is not.
    tx2.send(0).unwrap();
    tx1.send(1).unwrap();
    let evaluated = AtomicBool::new(false);
    let message = || {
        evaluated.store(true, Ordering::Relaxed);
        9
    };
    let which = select! {
        send(tx2, message()) -> res => { res.unwrap(); "send" }
        recv(rx1) -> msg => { assert_eq!(msg, Ok(1)); "recv" }
    };
    assert_eq!(which, "recv");
    assert!(!evaluated.load(Ordering::Relaxed));
    assert_eq!(rx2.recv(), Ok(0));
    // Now the send is the only ready one, the channel expression a reference.
    let sent = select! { send(&tx2, message()) -> res => res.is_ok() };
    assert!(sent && evaluated.load(Ordering::Relaxed));
    assert_eq!(rx2.recv(), Ok(9));
    assert!(reports_naming(&a.class_name()).is_empty(), "{:#?}", lockdep_core::reports());
}

#[test]
fn timer_channels_in_a_select_loop_with_a_lock_held() {
    use lockdep_core::crossbeam_channel::{after, never, select, tick};
    warn();
    let a = Arc::new(Mutex::new(()));
    // With the lock held: a loop over a ticker, an arm turned off and a deadline.
    let g = a.lock().unwrap();
    let ticks = tick(Duration::from_millis(1));
    let deadline = after(Duration::from_millis(5));
    let off = never::<u32>();
    let mut ticked = 0;
    loop {
        select! {
            recv(ticks) -> t => { assert!(t.is_ok()); ticked += 1; }
            recv(off) -> _ => unreachable!("never delivers"),
            recv(deadline) -> t => { assert!(t.is_ok()); break; }
        }
    }
    assert!(after(Duration::from_millis(1)).recv().is_ok());
    drop(g);
    assert!(ticked < 1_000);
    assert!(reports_naming(&a.class_name()).is_empty(), "{:#?}", lockdep_core::reports());
}
