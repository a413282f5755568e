//! `std::sync::mpsc` whose channels are events of the dependency graph: a blocking `recv`
//! is a wait for the channel (its class: where `channel()` or `sync_channel()` was called),
//! a `send` a signal of it.
//!
//! ```
//! use lockdep_core::std::sync::mpsc;
//! use std::thread;
//!
//! let (tx, rx) = mpsc::channel();
//! let t = thread::spawn(move || tx.send(7).unwrap());
//! assert_eq!(rx.recv().unwrap(), 7);
//! t.join().unwrap();
//! ```
//!
//! # Differences from `std::sync::mpsc`
//! - `recv` (and the blocking iterators) report a wait before blocking, also when a message
//!   is already there (a potential wait). `recv_timeout` and `try_recv` add no edge: they
//!   cannot wait forever.
//! - A `sync_channel` also has a *space* event (class `space(site)`): `SyncSender::send` is a
//!   wait for space (a potential wait, also when there is room), and each `recv` that takes
//!   a message a signal of space, so a sender blocked on a full channel while holding a lock
//!   the receiver needs is reported.
//!
//! # Cost
//! - `send`, `recv`: std's, plus one chain-cache probe when the same wait or signal was
//!   validated before in the same context.

use std::panic::Location;
use std::time::Duration;

use crate::hook::{self, EventId};

pub use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

/// Creates an unbounded channel whose event class is the caller's location.
#[track_caller]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let ev = hook::event_at(Location::caller());
    let (tx, rx) = std::sync::mpsc::channel();
    (Sender { inner: tx, ev }, Receiver { inner: rx, ev, space: None })
}

/// Creates a bounded channel whose event class is the caller's location.
#[track_caller]
pub fn sync_channel<T>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    let site = Location::caller();
    let (ev, space) = (hook::event_at(site), hook::event_named("space", site));
    let (tx, rx) = std::sync::mpsc::sync_channel(bound);
    (SyncSender { inner: tx, ev, space }, Receiver { inner: rx, ev, space: Some(space) })
}

/// The sending half of [`channel`]: each `send` is a signal of the channel's event.
pub struct Sender<T> {
    inner: std::sync::mpsc::Sender<T>,
    ev: EventId,
}

impl<T> Sender<T> {
    /// Sends `t` (std's `send`); a signal of the channel.
    #[track_caller]
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        hook::event_signal(self.ev, Location::caller());
        self.inner.send(t)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender { inner: self.inner.clone(), ev: self.ev }
    }
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// The sending half of [`sync_channel`]: each `send` or successful `try_send` is a signal.
pub struct SyncSender<T> {
    inner: std::sync::mpsc::SyncSender<T>,
    ev: EventId,
    space: EventId,
}

impl<T> SyncSender<T> {
    /// Sends `t`, blocking while the channel is full: a wait for space (reported before it
    /// blocks; in panic mode a wait that closes a cycle panics here), then a signal of the
    /// channel.
    #[track_caller]
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        if let Err(refused) = hook::event_wait(self.space, Location::caller()) {
            refused.raise();
        }
        hook::event_signal(self.ev, Location::caller());
        self.inner.send(t)
    }

    /// Sends `t` if there is room; a signal of the channel when it does.
    #[track_caller]
    pub fn try_send(&self, t: T) -> Result<(), TrySendError<T>> {
        let r = self.inner.try_send(t);
        if r.is_ok() {
            hook::event_signal(self.ev, Location::caller());
        }
        r
    }
}

impl<T> Clone for SyncSender<T> {
    fn clone(&self) -> Self {
        SyncSender { inner: self.inner.clone(), ev: self.ev, space: self.space }
    }
}

impl<T> std::fmt::Debug for SyncSender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncSender").finish_non_exhaustive()
    }
}

/// The receiving half: a blocking `recv` is a wait for the channel's event.
pub struct Receiver<T> {
    inner: std::sync::mpsc::Receiver<T>,
    ev: EventId,
    /// A `sync_channel`'s space event: each receive signals it.
    space: Option<EventId>,
}

impl<T> Receiver<T> {
    /// Frees space in a `sync_channel`: a signal of its space event.
    #[track_caller]
    fn freed(&self) {
        if let Some(space) = self.space {
            hook::event_signal(space, Location::caller());
        }
    }

    /// Blocks for a message (std's `recv`); a wait for the channel, reported before blocking
    /// (in panic mode a wait that closes a cycle panics here instead of blocking).
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.freed();
        if let Err(refused) = hook::event_wait(self.ev, Location::caller()) {
            refused.raise();
        }
        self.inner.recv()
    }

    /// A message if one is there; no wait edge (a signal of space when it took one).
    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let r = self.inner.try_recv();
        if r.is_ok() {
            self.freed();
        }
        r
    }

    /// [`recv`](Self::recv) for at most `timeout`; no wait edge (it cannot wait forever).
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let r = self.inner.recv_timeout(timeout);
        if r.is_ok() {
            self.freed();
        }
        r
    }

    /// The messages, each received with [`recv`](Self::recv), until every sender is gone.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// The messages already there; no edge.
    pub fn try_iter(&self) -> std::sync::mpsc::TryIter<'_, T> {
        self.inner.try_iter()
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

/// The blocking iterator of [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// The owning blocking iterator of a [`Receiver`].
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}
