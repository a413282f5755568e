//! [`Once`], [`OnceLock`] and [`LazyLock`]: std's, as participants of the dependency graph
//! (`crate::dropin::once`: the initialiser holds the once like a lock; every access that may
//! wait for it acquires it).

use std::fmt;
use std::ops::Deref;

pub use std::sync::OnceState;

use crate::dropin::once::enter;
use crate::hook::OnceClass;

/// `std::sync::Once` whose initialisation takes part in validation: the closure of
/// [`call_once`](Self::call_once) runs holding the once (its locks get edges from the once),
/// and every `call_once` (also after the initialisation) is a potential wait for it (the
/// locks held by the caller get edges to the once).
///
/// # Examples
///
/// ```
/// use lockdep_core::std::sync::Once;
///
/// static INIT: Once = Once::new();
/// let mut ran = 0;
/// INIT.call_once(|| ran += 1);
/// INIT.call_once(|| ran += 1);
/// assert_eq!(ran, 1);
/// assert!(INIT.is_completed());
/// ```
///
/// # Differences from `std::sync::Once`
/// - A `call_once` while holding a lock `L` that the initialiser takes is reported (a
///   `circular_dependency` through the once's event node), before the call may block.
/// - A `call_once` from inside its own initialiser is `recursive_locking`.
///
/// # Cost
/// - `call_once`, `wait`: std's, plus a validated acquisition and a release of the once
///   (a chain-cache probe when seen before with the same held locks).
/// - `is_completed`: std's.
pub struct Once {
    inner: std::sync::Once,
    class: OnceClass,
}

impl Once {
    /// A new once; its class is the caller's location.
    #[must_use]
    #[track_caller]
    pub const fn new() -> Once {
        Once { inner: std::sync::Once::new(), class: OnceClass::at_caller() }
    }

    /// Runs `f` once (std's `call_once`): the first caller runs it, holding the once; the
    /// others wait for it to finish. Panics if a previous initialiser panicked.
    #[track_caller]
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        let _held = enter(&self.class);
        self.inner.call_once(f);
    }

    /// [`call_once`](Self::call_once) that also runs after a panicked initialiser; `f` is
    /// told whether the once is poisoned.
    #[track_caller]
    pub fn call_once_force<F: FnOnce(&OnceState)>(&self, f: F) {
        let _held = enter(&self.class);
        self.inner.call_once_force(f);
    }

    /// Whether an initialisation completed (no wait, no edge).
    pub fn is_completed(&self) -> bool {
        self.inner.is_completed()
    }

    /// Blocks until an initialisation completed (std's `wait`): a wait for the once.
    #[track_caller]
    pub fn wait(&self) {
        let _held = enter(&self.class);
        self.inner.wait();
    }

    /// [`wait`](Self::wait) that also returns after a panicked initialiser.
    #[track_caller]
    pub fn wait_force(&self) {
        let _held = enter(&self.class);
        self.inner.wait_force();
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
        f.debug_struct("Once").finish_non_exhaustive()
    }
}

/// `std::sync::OnceLock` whose initialisation takes part in validation, like [`Once`]:
/// [`get_or_init`](Self::get_or_init), [`set`](Self::set) and [`wait`](Self::wait) may
/// wait for another thread's initialiser and are acquisitions of the once; the initialiser
/// runs holding it. [`get`](Self::get) never waits and adds no edge.
///
/// # Examples
///
/// ```
/// use lockdep_core::std::sync::OnceLock;
///
/// static NAME: OnceLock<String> = OnceLock::new();
/// assert_eq!(NAME.get(), None);
/// assert_eq!(NAME.get_or_init(|| "lockdep".into()), "lockdep");
/// assert_eq!(NAME.set("other".into()), Err("other".to_string()));
///
/// let mut cell = OnceLock::from(3);
/// *cell.get_mut().unwrap() += 1;
/// assert_eq!(cell.take(), Some(4));
/// assert_eq!(cell.into_inner(), None);
/// ```
///
/// # Differences from `std::sync::OnceLock`
/// - Reports as for [`Once`]; a clone's class is where it was cloned.
///
/// # Cost
/// - `get_or_init`, `set`, `wait`: std's, plus a validated acquisition and release of the
///   once. `get`, `get_mut`, `take`, `into_inner`: std's.
pub struct OnceLock<T> {
    inner: std::sync::OnceLock<T>,
    class: OnceClass,
}

impl<T> OnceLock<T> {
    /// An empty cell; its class is the caller's location.
    #[must_use]
    #[track_caller]
    pub const fn new() -> OnceLock<T> {
        OnceLock { inner: std::sync::OnceLock::new(), class: OnceClass::at_caller() }
    }

    /// The value, if initialised (never waits).
    pub fn get(&self) -> Option<&T> {
        self.inner.get()
    }

    /// The value, mutably, if initialised.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.inner.get_mut()
    }

    /// Initialises the cell with `value` if it was empty (waiting for an initialiser in
    /// progress); `Err(value)` if it was full.
    #[track_caller]
    pub fn set(&self, value: T) -> Result<(), T> {
        let _held = enter(&self.class);
        self.inner.set(value)
    }

    /// The value, running `f` to initialise it if the cell is empty (the initialiser holds
    /// the once; other callers wait for it).
    #[track_caller]
    pub fn get_or_init<F: FnOnce() -> T>(&self, f: F) -> &T {
        let _held = enter(&self.class);
        self.inner.get_or_init(f)
    }

    /// Blocks until the cell is initialised (std's `wait`): a wait for the once.
    #[track_caller]
    pub fn wait(&self) -> &T {
        let _held = enter(&self.class);
        self.inner.wait()
    }

    /// The value, consuming the cell.
    pub fn into_inner(self) -> Option<T> {
        let OnceLock { inner, class: _ } = self;
        inner.into_inner()
    }

    /// Takes the value out, leaving the cell empty.
    pub fn take(&mut self) -> Option<T> {
        self.inner.take()
    }
}

impl<T> Default for OnceLock<T> {
    #[track_caller]
    fn default() -> OnceLock<T> {
        OnceLock::new()
    }
}

impl<T> From<T> for OnceLock<T> {
    #[track_caller]
    fn from(value: T) -> OnceLock<T> {
        OnceLock { inner: std::sync::OnceLock::from(value), class: OnceClass::at_caller() }
    }
}

impl<T: Clone> Clone for OnceLock<T> {
    #[track_caller]
    fn clone(&self) -> OnceLock<T> {
        OnceLock { inner: self.inner.clone(), class: OnceClass::at_caller() }
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("OnceLock");
        match self.get() {
            Some(v) => d.field(v),
            None => d.field(&format_args!("<uninit>")),
        };
        d.finish()
    }
}

impl<T: PartialEq> PartialEq for OnceLock<T> {
    fn eq(&self, other: &OnceLock<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceLock<T> {}

/// `std::sync::LazyLock` whose initialisation takes part in validation: the initialiser runs
/// holding the lazy's once, and every deref (also after the initialisation) is a potential
/// wait for it. A lazy whose initialiser takes lock `L`, touched while holding `L`, is
/// reported even on a run where the initialisation happened elsewhere, long before.
///
/// # Examples
///
/// ```
/// use lockdep_core::std::sync::{LazyLock, Mutex};
///
/// static TABLE: LazyLock<Mutex<Vec<u32>>> = LazyLock::new(|| Mutex::new(vec![1, 2]));
/// TABLE.lock().unwrap().push(3);
/// assert_eq!(TABLE.lock().unwrap().len(), 3);
/// assert_eq!(*LazyLock::force(&TABLE).lock().unwrap(), [1, 2, 3]);
/// ```
///
/// # Differences from `std::sync::LazyLock`
/// - Reports as for [`Once`].
/// - The initialiser is kept behind a small std mutex until it runs (std keeps it in a
///   union); a panicked initialiser poisons the lazy as std's does (later derefs panic).
///
/// # Cost
/// - Each deref: a validated acquisition and release of the once (a chain-cache probe when
///   seen before with the same held locks), plus std's `OnceLock::get_or_init`.
pub struct LazyLock<T, F = fn() -> T> {
    cell: OnceLock<T>,
    init: std::sync::Mutex<Option<F>>,
}

impl<T, F: FnOnce() -> T> LazyLock<T, F> {
    /// A lazy value initialised by `f` on first use; its class is the caller's location.
    #[track_caller]
    pub const fn new(f: F) -> LazyLock<T, F> {
        LazyLock { cell: OnceLock::new(), init: std::sync::Mutex::new(Some(f)) }
    }

    /// The value, initialising it on first use (std's `force`).
    #[track_caller]
    pub fn force(this: &LazyLock<T, F>) -> &T {
        this.cell.get_or_init(|| {
            let f = this.init.lock().unwrap_or_else(|e| e.into_inner()).take();
            match f {
                Some(f) => f(),
                None => panic!("LazyLock instance has previously been poisoned"),
            }
        })
    }
}

impl<T, F: FnOnce() -> T> Deref for LazyLock<T, F> {
    type Target = T;

    #[track_caller]
    fn deref(&self) -> &T {
        LazyLock::force(self)
    }
}

impl<T: Default> Default for LazyLock<T> {
    #[track_caller]
    fn default() -> LazyLock<T> {
        LazyLock::new(T::default)
    }
}

impl<T: fmt::Debug, F> fmt::Debug for LazyLock<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("LazyLock");
        match self.cell.get() {
            Some(v) => d.field(v),
            None => d.field(&format_args!("<uninit>")),
        };
        d.finish()
    }
}
