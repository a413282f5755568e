//! `crossbeam_channel` whose channels are events of the dependency graph (feature
//! `crossbeam`), as `lockdep_core::std::sync::mpsc`: a blocking `recv` is a wait for the
//! channel's messages (class: where `unbounded()` or `bounded()` was called), a `send` a
//! signal of them. A bounded channel also has a *space* event (class `space(site)`): a
//! `send` on it is a wait for space (a potential wait, also when there is room, as a `recv`
//! that finds a message is), and every `recv` a signal of space.
//!
//! ```
//! use lockdep_core::crossbeam_channel::{bounded, unbounded, Select};
//! use std::thread;
//!
//! let (tx, rx) = bounded(1);
//! let (tx2, rx2) = unbounded::<&str>();
//! let t = thread::spawn(move || tx.send(7).unwrap());
//! let mut sel = Select::new();
//! let i = sel.recv(&rx);
//! let j = sel.recv(&rx2);
//! let op = sel.select();
//! assert_eq!(op.index(), i);
//! assert_ne!(i, j);
//! assert_eq!(op.recv(&rx).unwrap(), 7);
//! t.join().unwrap();
//! drop(tx2);
//! ```
//!
//! # Differences from `crossbeam_channel`
//! - `recv`, `Select::select` and a bounded `send` report a wait before blocking, also when
//!   they would not block (potential waits). Timed and `try_` operations add no edge.
//! - A blocking [`Select::select`] waits for *each* of its operations: holding a lock that
//!   any of their signallers needs is reported, even if another operation could have ended
//!   the wait (conservative).
//! - [`select!`] is crossbeam's grammar (`recv(r) -> msg => ..`, `send(s, v) -> res => ..`,
//!   `default => ..`, `default(timeout) => ..`) over [`Select`]: each channel expression is
//!   evaluated once, a send's message only when that send is chosen. `after`, `tick` and `never`
//!   are crossbeam's timer channels; waiting on them is no wait edge (no thread signals them).
//!   `Select` has `send`, `recv`, `select`, `try_select` and `select_timeout`.
//!
//! # Cost
//! - `send`, `recv`: crossbeam's, plus one chain-cache probe per wait or signal when seen
//!   before in the same context (two for a bounded channel's `send` and `recv`).

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use crate::hook::{self, EventId};

pub use ::crossbeam_channel::{
    RecvError, RecvTimeoutError, SelectTimeoutError, SendError, SendTimeoutError, TryRecvError,
    TrySelectError, TrySendError,
};

/// A channel's events: its messages (none for the timer channels, which no thread signals),
/// and a bounded channel's free space.
#[derive(Clone, Copy, Debug)]
struct Events {
    data: Option<EventId>,
    space: Option<EventId>,
}

impl Events {
    /// A timer channel's (`after`, `tick`, `never`): waiting on it waits for time, not for
    /// another thread, so it is no wait edge.
    const TIMER: Events = Events { data: None, space: None };

    /// Signals the channel's messages (a send).
    #[track_caller]
    fn sent(&self) {
        if let Some(data) = self.data {
            hook::event_signal(data, Location::caller());
        }
    }
}

/// A wait for `ev` at the caller, raised in panic mode when it closes a cycle.
#[track_caller]
fn wait(ev: EventId) {
    if let Err(refused) = hook::event_wait(ev, Location::caller()) {
        refused.raise();
    }
}

/// Creates an unbounded channel whose event class is the caller's location.
#[track_caller]
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    let ev = Events { data: Some(hook::event_at(Location::caller())), space: None };
    let (tx, rx) = ::crossbeam_channel::unbounded();
    (Sender { inner: tx, ev }, Receiver { inner: rx, ev })
}

/// Creates a channel of capacity `cap` (0: every send waits for a receiver) whose event
/// classes are the caller's location and `space(` that location `)`.
#[track_caller]
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let site = Location::caller();
    let ev =
        Events { data: Some(hook::event_at(site)), space: Some(hook::event_named("space", site)) };
    let (tx, rx) = ::crossbeam_channel::bounded(cap);
    (Sender { inner: tx, ev }, Receiver { inner: rx, ev })
}

/// A channel that delivers the time once, `duration` from now (crossbeam's `after`). A `recv`
/// on it waits for time, not for another thread: no wait edge.
pub fn after(duration: Duration) -> Receiver<Instant> {
    Receiver { inner: ::crossbeam_channel::after(duration), ev: Events::TIMER }
}

/// A channel that delivers the time every `duration` (crossbeam's `tick`); no wait edge.
pub fn tick(duration: Duration) -> Receiver<Instant> {
    Receiver { inner: ::crossbeam_channel::tick(duration), ev: Events::TIMER }
}

/// A channel that never delivers (crossbeam's `never`), for a `select!` arm turned off; no
/// wait edge (a `recv` on it alone blocks for ever, lock or not).
pub fn never<T>() -> Receiver<T> {
    Receiver { inner: ::crossbeam_channel::never(), ev: Events::TIMER }
}

/// The sending half: a `send` is a signal of the channel's messages (and, bounded, first a
/// wait for space).
pub struct Sender<T> {
    inner: ::crossbeam_channel::Sender<T>,
    ev: Events,
}

impl<T> Sender<T> {
    /// Sends `msg`, blocking while a bounded channel is full (a wait for space, reported
    /// before it blocks); a signal of the channel.
    #[track_caller]
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        if let Some(space) = self.ev.space {
            wait(space);
        }
        self.ev.sent();
        self.inner.send(msg)
    }

    /// Sends `msg` if there is room; a signal when it does; no wait.
    #[track_caller]
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        let r = self.inner.try_send(msg);
        if r.is_ok() {
            self.ev.sent();
        }
        r
    }

    /// [`send`](Self::send) for at most `timeout`: no wait edge (it cannot wait forever); a
    /// signal when it sent.
    #[track_caller]
    pub fn send_timeout(&self, msg: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        let r = self.inner.send_timeout(msg, timeout);
        if r.is_ok() {
            self.ev.sent();
        }
        r
    }

    /// Messages in the channel.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the channel is empty.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Whether the channel is full.
    pub fn is_full(&self) -> bool {
        self.inner.is_full()
    }

    /// The capacity (`None`: unbounded).
    pub fn capacity(&self) -> Option<usize> {
        self.inner.capacity()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender { inner: self.inner.clone(), ev: self.ev }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// The receiving half: a blocking `recv` is a wait for the channel's messages (and, bounded,
/// a signal of space).
pub struct Receiver<T> {
    inner: ::crossbeam_channel::Receiver<T>,
    ev: Events,
}

impl<T> Receiver<T> {
    /// Frees space in a bounded channel: a signal of its space event.
    #[track_caller]
    fn freed(&self) {
        if let Some(space) = self.ev.space {
            hook::event_signal(space, Location::caller());
        }
    }

    /// Blocks for a message; reaching it frees space (a signal, bounded channels), then it
    /// is a wait for the channel, reported before blocking.
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.freed();
        if let Some(data) = self.ev.data {
            wait(data);
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

    /// [`recv`](Self::recv) for at most `timeout`; no wait edge.
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

    /// Messages in the channel.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the channel is empty.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver { inner: self.inner.clone(), ev: self.ev }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

/// crossbeam's `Select` over this module's channels: a blocking
/// [`select`](Self::select) is a wait for each operation that can block (every `recv`, a
/// bounded channel's `send`), reported before it blocks.
pub struct Select<'a> {
    inner: ::crossbeam_channel::Select<'a>,
    waits: Vec<EventId>,
}

impl<'a> Select<'a> {
    /// An empty selection.
    pub fn new() -> Select<'a> {
        Select { inner: ::crossbeam_channel::Select::new(), waits: Vec::new() }
    }

    /// Adds a send on `s`; returns the operation's index.
    pub fn send<T>(&mut self, s: &'a Sender<T>) -> usize {
        self.waits.extend(s.ev.space);
        self.inner.send(&s.inner)
    }

    /// Adds a receive on `r`; returns the operation's index.
    pub fn recv<T>(&mut self, r: &'a Receiver<T>) -> usize {
        self.waits.extend(r.ev.data);
        self.inner.recv(&r.inner)
    }

    /// Blocks until one operation is ready: a wait for each, reported before blocking.
    #[track_caller]
    pub fn select(&mut self) -> SelectedOperation<'a> {
        for &ev in &self.waits {
            wait(ev);
        }
        SelectedOperation { inner: self.inner.select() }
    }

    /// A ready operation, if any; no wait edge.
    pub fn try_select(&mut self) -> Result<SelectedOperation<'a>, TrySelectError> {
        self.inner.try_select().map(|inner| SelectedOperation { inner })
    }

    /// [`select`](Self::select) for at most `timeout`; no wait edge.
    pub fn select_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        self.inner.select_timeout(timeout).map(|inner| SelectedOperation { inner })
    }
}

impl Default for Select<'_> {
    fn default() -> Self {
        Select::new()
    }
}

impl fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select").finish_non_exhaustive()
    }
}

/// The operation a [`Select`] chose; complete it with [`send`](Self::send) or
/// [`recv`](Self::recv) on the channel it was added with.
#[must_use]
pub struct SelectedOperation<'a> {
    inner: ::crossbeam_channel::SelectedOperation<'a>,
}

impl SelectedOperation<'_> {
    /// The index the operation was added with.
    pub fn index(&self) -> usize {
        self.inner.index()
    }

    /// Completes a send: a signal of the channel. Panics on the wrong channel (crossbeam's).
    #[track_caller]
    pub fn send<T>(self, s: &Sender<T>, msg: T) -> Result<(), SendError<T>> {
        s.ev.sent();
        self.inner.send(&s.inner, msg)
    }

    /// Completes a receive (a signal of space on a bounded channel). Panics on the wrong
    /// channel (crossbeam's).
    #[track_caller]
    pub fn recv<T>(self, r: &Receiver<T>) -> Result<T, RecvError> {
        r.freed();
        self.inner.recv(&r.inner)
    }
}

impl fmt::Debug for SelectedOperation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectedOperation").field("index", &self.index()).finish()
    }
}

/// crossbeam's `select!` over this module's channels: blocks until one operation is ready
/// (a validated wait for each, as [`Select::select`]), or, with a `default` arm, tries once
/// (`default => ..`) or for at most a duration (`default(timeout) => ..`) with no wait edge.
///
/// ```
/// use lockdep_core::crossbeam_channel::{bounded, select, unbounded};
/// use std::time::Duration;
///
/// let (s1, r1) = unbounded::<i32>();
/// let (s2, r2) = bounded::<i32>(1);
/// s1.send(10).unwrap();
/// // Both operations are ready: either may run.
/// let got = select! {
///     recv(r1) -> msg => msg.unwrap(),
///     send(s2, 20) -> res => {
///         res.unwrap();
///         r2.recv().unwrap()
///     }
/// };
/// assert!(got == 10 || got == 20);
/// let (_keep, idle) = unbounded::<()>();
/// select! {
///     recv(idle) -> _ => unreachable!(),
///     default(Duration::from_millis(1)) => {}
/// }
/// ```
///
/// An arm outside the grammar is a compile error naming it:
///
/// ```compile_fail
/// use lockdep_core::crossbeam_channel::{select, unbounded};
///
/// let (_s, r) = unbounded::<()>();
/// select! { recv(r) => () } // no `-> pattern`
/// ```
#[doc(inline)]
pub use crate::__crossbeam_select as select;

/// The parser and expansion of [`select!`]: arms are read one by one into a list; each channel
/// is bound once (a `ref` binding, so channels and references to them both work) in a scope
/// of its own, the name passed on so the expansion at the end can use it.
#[doc(hidden)]
#[macro_export]
macro_rules! __crossbeam_select {
    // Parsing: `[arms] [default] tokens`. A block body may go without its comma.
    (@parse [$($arms:tt)*] [$($d:tt)*] recv($r:expr) -> $p:pat => $body:block $(,)? $($rest:tt)*) => {
        $crate::__crossbeam_select!(@parse [$($arms)* (recv ($r) $p => $body)] [$($d)*] $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($d:tt)*] recv($r:expr) -> $p:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__crossbeam_select!(@parse [$($arms)* (recv ($r) $p => $body)] [$($d)*] $($($rest)*)?)
    };
    (@parse [$($arms:tt)*] [$($d:tt)*] send($s:expr, $m:expr) -> $p:pat => $body:block $(,)? $($rest:tt)*) => {
        $crate::__crossbeam_select!(@parse [$($arms)* (send ($s, $m) $p => $body)] [$($d)*] $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($d:tt)*] send($s:expr, $m:expr) -> $p:pat => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__crossbeam_select!(@parse [$($arms)* (send ($s, $m) $p => $body)] [$($d)*] $($($rest)*)?)
    };
    (@parse [$($arms:tt)*] [] default => $body:block $(,)? $($rest:tt)*) => {
        $crate::__crossbeam_select!(@parse [$($arms)*] [(try) $body] $($rest)*)
    };
    (@parse [$($arms:tt)*] [] default => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__crossbeam_select!(@parse [$($arms)*] [(try) $body] $($($rest)*)?)
    };
    (@parse [$($arms:tt)*] [] default($t:expr) => $body:block $(,)? $($rest:tt)*) => {
        $crate::__crossbeam_select!(@parse [$($arms)*] [(timeout $t) $body] $($rest)*)
    };
    (@parse [$($arms:tt)*] [] default($t:expr) => $body:expr $(, $($rest:tt)*)?) => {
        $crate::__crossbeam_select!(@parse [$($arms)*] [(timeout $t) $body] $($($rest)*)?)
    };
    (@parse [$($arms:tt)*] [$($d:tt)*]) => {
        $crate::__crossbeam_select!(@bind [] [$($d)*] $($arms)*)
    };
    (@parse [$($arms:tt)*] [$($d:tt)*] $($bad:tt)+) => {
        ::core::compile_error!(concat!(
            "select!: expected `recv(r) -> pat => body`, `send(s, msg) -> pat => body`, ",
            "`default => body` or `default(timeout) => body` (one default at most), found: ",
            stringify!($($bad)+)
        ))
    };
    // Binding: each channel once, in arm order.
    (@bind [$($done:tt)*] [$($d:tt)*] (recv ($r:expr) $p:pat => $body:expr) $($todo:tt)*) => {
        match $r {
            ref ch => {
                let ch: &$crate::crossbeam_channel::Receiver<_> = ch;
                $crate::__crossbeam_select!(@bind [$($done)* (recv ch () $p => $body)] [$($d)*] $($todo)*)
            }
        }
    };
    (@bind [$($done:tt)*] [$($d:tt)*] (send ($s:expr, $m:expr) $p:pat => $body:expr) $($todo:tt)*) => {
        match $s {
            ref ch => {
                let ch: &$crate::crossbeam_channel::Sender<_> = ch;
                $crate::__crossbeam_select!(@bind [$($done)* (send ch ($m) $p => $body)] [$($d)*] $($todo)*)
            }
        }
    };
    // Every channel bound: build the selection, choose, run the chosen arm.
    (@bind [$(($op:ident $ch:ident ($($m:expr)?) $p:pat => $body:expr))*] [$($d:tt)*]) => {{
        let mut sel = $crate::crossbeam_channel::Select::new();
        $( sel.$op($ch); )*
        $crate::__crossbeam_select!(@choose sel [$($d)*] [$(($op $ch ($($m)?) $p => $body))*])
    }};
    (@choose $sel:ident [] [$($arms:tt)*]) => {{
        let op = $sel.select();
        $crate::__crossbeam_select!(@run op [$($arms)*])
    }};
    (@choose $sel:ident [(try) $default:expr] [$($arms:tt)*]) => {
        match $sel.try_select() {
            ::core::result::Result::Ok(op) => $crate::__crossbeam_select!(@run op [$($arms)*]),
            ::core::result::Result::Err(_) => $default,
        }
    };
    (@choose $sel:ident [(timeout $t:expr) $default:expr] [$($arms:tt)*]) => {
        match $sel.select_timeout($t) {
            ::core::result::Result::Ok(op) => $crate::__crossbeam_select!(@run op [$($arms)*]),
            ::core::result::Result::Err(_) => $default,
        }
    };
    // The chosen operation's arm: operations were added in arm order, so its index counts
    // the arms before it.
    (@run $op:ident [$(($kind:ident $ch:ident ($($m:expr)?) $p:pat => $body:expr))*]) => {{
        let chosen = $op.index();
        let mut index = 0usize;
        $(
            if chosen == { index += 1; index - 1 } {
                #[allow(unreachable_code)]
                match $crate::__crossbeam_select!(@complete $op $kind $ch ($($m)?)) {
                    $p => $body,
                }
            } else
        )*
        {
            let _ = index;
            ::core::unreachable!("select!: no arm for operation {chosen}")
        }
    }};
    (@complete $op:ident recv $ch:ident ()) => { $op.recv($ch) };
    (@complete $op:ident send $ch:ident ($m:expr)) => { $op.send($ch, $m) };
    // Entry.
    () => {
        ::core::compile_error!("select!: no operation")
    };
    ($($tokens:tt)+) => {
        $crate::__crossbeam_select!(@parse [] [] $($tokens)+)
    };
}
