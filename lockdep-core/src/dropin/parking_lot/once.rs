//! [`Once`]: parking_lot's, as a participant of the dependency graph (like
//! `lockdep_core::std::sync::Once`: the initialiser holds the once like a lock; every
//! `call_once` is a potential wait for it).

use std::fmt;

use crate::dropin::once::enter;
use crate::hook::OnceClass;

pub use ::parking_lot::OnceState;

/// `parking_lot::Once` whose initialisation takes part in validation: the closure of
/// [`call_once`](Self::call_once) runs holding the once (its locks get edges from it), and
/// every `call_once`, also after the initialisation, is a potential wait for it.
///
/// # Examples
///
/// ```
/// use lockdep_core::parking_lot::{Once, OnceState};
///
/// static INIT: Once = Once::new();
/// assert_eq!(INIT.state(), OnceState::New);
/// INIT.call_once(|| {});
/// assert!(INIT.state().done());
/// ```
///
/// # Differences from `parking_lot::Once`
/// - A `call_once` while holding a lock that the initialiser takes is reported (a
///   `circular_dependency` through the once's event node) before it may block; a
///   `call_once` from its own initialiser is `recursive_locking`.
///
/// # Cost
/// - `call_once`: parking_lot's, plus a validated acquisition and a release of the once (a
///   chain-cache probe when seen before with the same held locks). `state`: parking_lot's.
pub struct Once {
    inner: ::parking_lot::Once,
    class: OnceClass,
}

impl Once {
    /// A new once; its class is the caller's location.
    #[must_use]
    #[track_caller]
    pub const fn new() -> Once {
        Once { inner: ::parking_lot::Once::new(), class: OnceClass::at_caller() }
    }

    /// The once's state (no wait, no edge).
    pub fn state(&self) -> OnceState {
        self.inner.state()
    }

    /// Runs `f` once: the first caller runs it holding the once, the others wait for it.
    /// Panics if a previous initialiser panicked.
    #[track_caller]
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        let _held = enter(&self.class);
        self.inner.call_once(f);
    }

    /// [`call_once`](Self::call_once) that also runs after a panicked initialiser; `f` is
    /// given the state.
    #[track_caller]
    pub fn call_once_force<F: FnOnce(OnceState)>(&self, f: F) {
        let _held = enter(&self.class);
        self.inner.call_once_force(f);
    }
}

impl Default for Once {
    #[track_caller]
    fn default() -> Once {
        Once::new()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once").field("state", &self.state()).finish()
    }
}
