//! Lock classes: what the dependency graph is made of.
//!
//! A lock's class is, by default, the source location where the lock was constructed
//! (`#[track_caller]`), like the kernel's static key per init site, named after what the site
//! initialises when the source says so (`ACCOUNTS (src/lib.rs:4:35)`, see
//! [`site_class_name`]). A [`LockClassKey`] declared
//! as a `static` (see [`static_lock_class!`](crate::static_lock_class)) gives a class a name and
//! lets locks built inside a generic helper have distinct classes.

use std::panic::Location;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use crate::vocab::{Site, WaitKind};

/// Index of a lock class (a graph node) in a validator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassId(pub u32);

/// A [`ClassId`] resolved once and then read with one atomic load; empty until set. The
/// empty state is `u32::MAX`, an id the class limit (`Config::max_classes`) never reaches.
pub(crate) struct ClassIdCell(AtomicU32);

impl ClassIdCell {
    const UNSET: u32 = u32::MAX;

    /// A cell holding no id.
    pub(crate) const fn empty() -> ClassIdCell {
        ClassIdCell(AtomicU32::new(Self::UNSET))
    }

    /// The id, if set.
    #[inline(always)]
    pub(crate) fn get(&self) -> Option<ClassId> {
        match self.0.load(Ordering::Acquire) {
            Self::UNSET => None,
            id => Some(ClassId(id)),
        }
    }

    /// Sets the id (the same one whoever races to set it: the registry is idempotent).
    pub(crate) fn set(&self, id: ClassId) {
        debug_assert_ne!(id.0, Self::UNSET);
        self.0.store(id.0, Ordering::Release);
    }
}

/// A named lock class, declared once as a `static`.
///
/// # Examples
///
/// ```
/// use lockdep_core::{LockClassKey, Mutex};
///
/// static CACHE_LOCK: LockClassKey = LockClassKey::new("cache_lock");
///
/// fn make() -> Mutex<Vec<u8>> {
///     // Without the key, every mutex made here would share this line as its class.
///     Mutex::with_key(Vec::new(), &CACHE_LOCK)
/// }
/// let a = make();
/// drop(a.lock());
/// ```
pub struct LockClassKey {
    name: &'static str,
    site: &'static Location<'static>,
    /// Same-class nesting of this class follows the kernel's strict rule.
    strict: bool,
    /// The class id resolved in the global validator, once.
    cached: ClassIdCell,
}

impl LockClassKey {
    /// A key named `name`, defined at the caller's location.
    #[track_caller]
    pub const fn new(name: &'static str) -> LockClassKey {
        LockClassKey { name, site: Location::caller(), strict: false, cached: ClassIdCell::empty() }
    }

    /// A key named `name` whose class follows the kernel's strict rule for same-class nesting
    /// ([`SameClass::Strict`](crate::SameClass::Strict)) whatever the process setting: two
    /// different locks of this class nested without distinct subclasses (or a nest lock) are
    /// `recursive_locking`, as in the kernel.
    ///
    /// ```
    /// use lockdep_core::LockClassKey;
    ///
    /// static MMAP_LOCK: LockClassKey = LockClassKey::new_strict("mmap_lock");
    /// assert!(MMAP_LOCK.is_strict());
    /// ```
    #[track_caller]
    pub const fn new_strict(name: &'static str) -> LockClassKey {
        LockClassKey { name, site: Location::caller(), strict: true, cached: ClassIdCell::empty() }
    }

    /// Whether the class follows the strict rule for same-class nesting.
    pub const fn is_strict(&self) -> bool {
        self.strict
    }

    /// The class name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Where the key was defined.
    pub fn site(&self) -> &'static Location<'static> {
        self.site
    }
}

impl std::fmt::Debug for LockClassKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockClassKey").field("name", &self.name).field("site", &self.site).finish()
    }
}

/// Declares a `static` [`LockClassKey`] at the call site and evaluates to a reference to it.
///
/// ```
/// let key: &'static lockdep_core::LockClassKey = lockdep_core::static_lock_class!("my_lock");
/// assert_eq!(key.name(), "my_lock");
/// ```
#[macro_export]
macro_rules! static_lock_class {
    ($name:expr) => {{
        static KEY: $crate::LockClassKey = $crate::LockClassKey::new($name);
        &KEY
    }};
}

/// Defines a named `static` [`LockClassKey`] (the kernel's `DEFINE_MUTEX`-style static key):
///
/// ```
/// lockdep_core::define_lock_class!(pub static MMAP_LOCK = "mmap_lock");
/// assert_eq!(MMAP_LOCK.name(), "mmap_lock");
/// ```
#[macro_export]
macro_rules! define_lock_class {
    ($(#[$meta:meta])* $vis:vis static $name:ident = $class:expr) => {
        $(#[$meta])*
        #[doc = concat!("Lock class key `", $class, "`.")]
        $vis static $name: $crate::LockClassKey = $crate::LockClassKey::new($class);
    };
}

/// Everything needed to register a class: its identity and how its waiters wait.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ClassDesc {
    pub name: String,
    pub site: Option<Site>,
    pub wait: WaitKind,
    /// Same-class nesting follows the kernel's strict rule for this class.
    pub strict: bool,
}

/// The name of a class without a key: what its construction site initialises, read from the
/// source (`ACCOUNTS`, `cache`, `journal`), followed by the site, `ACCOUNTS
/// (src/lib.rs:4:35)`, so that two sites initialising a `cache` stay two classes by name too
/// (fingerprints, suppressions and merged documents name classes); `file:line:col` alone when
/// the source cannot be read or says nothing. Reads the source (once per file and site): call
/// it only on slow paths, never under the validator's state lock.
pub(crate) fn site_class_name(loc: &'static Location<'static>) -> String {
    let site = format!("{}:{}:{}", loc.file(), loc.line(), loc.column());
    match crate::source_name::name_at(loc.file(), loc.line(), loc.column()) {
        Some(name) => format!("{name} ({site})"),
        None => site,
    }
}

pub(crate) fn site_of(loc: &'static Location<'static>) -> Site {
    Site { file: loc.file().to_string(), line: loc.line(), column: loc.column() }
}

enum Source {
    Site(&'static Location<'static>),
    Key(&'static LockClassKey),
    /// A class per type (a raw lock's `INIT` is a `const`, with no caller location): the name
    /// is this function's result (a type name), with no definition site.
    Type(fn() -> String),
}

/// A site class's id, memoised for every lock built at that site.
struct SiteEntry {
    loc: &'static Location<'static>,
    id: ClassId,
}

/// Slots of [`SITE_MEMO`] (a power of two).
const SITE_SLOTS: usize = 2048;

/// The process-wide memo of site classes of lock types: a lock built at a site whose class
/// was registered before (a lock made per object, in a constructor or a loop) takes its id
/// from here, lock-free, instead of registering again (naming the site, taking the
/// validator's lock). Direct-mapped by the location's address; a slot is filled once and
/// never replaced, so at most `SITE_SLOTS` entries are ever allocated (a site whose slot is
/// taken by another registers each new lock, as without the memo).
static SITE_MEMO: [AtomicPtr<SiteEntry>; SITE_SLOTS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; SITE_SLOTS];

fn site_slot(loc: &'static Location<'static>) -> &'static AtomicPtr<SiteEntry> {
    let h = (loc as *const Location<'static> as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    &SITE_MEMO[(h >> (64 - SITE_SLOTS.trailing_zeros())) as usize]
}

/// The memoised id of the site class at `loc`, if any.
fn site_memo_get(loc: &'static Location<'static>) -> Option<ClassId> {
    let e = site_slot(loc).load(Ordering::Acquire);
    // SAFETY: a non-null slot points to a leaked (never freed) entry, published with
    // `Release` after it was written.
    let e = unsafe { e.as_ref() }?;
    std::ptr::eq(e.loc, loc).then_some(e.id)
}

/// Memoises `id` as the class of `loc` if `loc`'s slot is empty.
fn site_memo_put(loc: &'static Location<'static>, id: ClassId) {
    let slot = site_slot(loc);
    if !slot.load(Ordering::Relaxed).is_null() {
        return;
    }
    let e = Box::into_raw(Box::new(SiteEntry { loc, id }));
    if slot.compare_exchange(std::ptr::null_mut(), e, Ordering::Release, Ordering::Relaxed).is_err()
    {
        // SAFETY: `e` came from `Box::into_raw` above and was not published.
        drop(unsafe { Box::from_raw(e) });
    }
}

/// How a lock instance names its class; resolves (once) to a [`ClassId`] of the global
/// validator and caches the result, so the hot path is one atomic load.
pub(crate) struct ClassRef {
    source: Source,
    wait: WaitKind,
    /// A lock type's site class, shared through [`SITE_MEMO`] (not an event's, or a once's:
    /// those are event nodes, which a lock built at the same site must not share).
    memo: bool,
    cached: ClassIdCell,
}

impl ClassRef {
    #[track_caller]
    pub const fn at_caller(wait: WaitKind) -> ClassRef {
        let source = Source::Site(Location::caller());
        ClassRef { source, wait, memo: true, cached: ClassIdCell::empty() }
    }

    /// The class of an event (or a once) built at the caller's location: never memoised
    /// with the lock classes of that site.
    #[track_caller]
    pub const fn event_at_caller(wait: WaitKind) -> ClassRef {
        let source = Source::Site(Location::caller());
        ClassRef { source, wait, memo: false, cached: ClassIdCell::empty() }
    }

    pub const fn keyed(key: &'static LockClassKey, wait: WaitKind) -> ClassRef {
        ClassRef { source: Source::Key(key), wait, memo: false, cached: ClassIdCell::empty() }
    }

    pub const fn of_type(name: fn() -> String, wait: WaitKind) -> ClassRef {
        ClassRef { source: Source::Type(name), wait, memo: false, cached: ClassIdCell::empty() }
    }

    pub fn desc(&self) -> ClassDesc {
        match self.source {
            Source::Site(loc) => ClassDesc {
                name: site_class_name(loc),
                site: Some(site_of(loc)),
                wait: self.wait,
                strict: false,
            },
            Source::Key(k) => ClassDesc {
                name: k.name.to_string(),
                site: Some(site_of(k.site)),
                wait: self.wait,
                strict: k.strict,
            },
            Source::Type(name) => {
                ClassDesc { name: name(), site: None, wait: self.wait, strict: false }
            }
        }
    }

    /// The class id if it was registered already: one atomic load from the lock; for a
    /// lock not acquired before whose class was (a new instance of a keyed class, or of a
    /// site class in [`SITE_MEMO`]), that id, then cached in the lock too.
    #[inline]
    pub fn cached(&self) -> Option<ClassId> {
        match self.cached.get() {
            Some(id) => Some(id),
            None => self.cached_shared(),
        }
    }

    /// The id cached in this lock: one atomic load (the inline fast path; a miss goes on to
    /// [`cached`](Self::cached) out of line).
    #[inline(always)]
    pub fn cached_here(&self) -> Option<ClassId> {
        self.cached.get()
    }

    #[cold]
    #[inline(never)]
    fn cached_shared(&self) -> Option<ClassId> {
        let id = match self.source {
            Source::Key(k) => k.cached.get()?,
            Source::Site(loc) if self.memo => site_memo_get(loc)?,
            Source::Site(_) | Source::Type(_) => return None,
        };
        self.cached.set(id);
        Some(id)
    }

    /// The class id, registering the class with `register` on first use (the id is cached
    /// in the lock, and in its key, for one validator: the process-wide one). Once resolved,
    /// one load from the lock itself, whatever the source.
    #[inline(always)]
    pub fn resolve(&self, register: impl FnOnce(ClassDesc) -> ClassId) -> ClassId {
        match self.cached.get() {
            Some(id) => id,
            None => self.resolve_slow(register),
        }
    }

    #[cold]
    #[inline(never)]
    fn resolve_slow(&self, register: impl FnOnce(ClassDesc) -> ClassId) -> ClassId {
        let id = match self.source {
            Source::Site(loc) if self.memo => match site_memo_get(loc) {
                Some(id) => id,
                None => {
                    let id = register(self.desc());
                    site_memo_put(loc, id);
                    id
                }
            },
            Source::Site(_) | Source::Type(_) => register(self.desc()),
            Source::Key(k) => match k.cached.get() {
                Some(id) => id,
                None => {
                    let id = register(self.desc());
                    k.cached.set(id);
                    id
                }
            },
        };
        self.cached.set(id);
        id
    }

    pub fn name(&self) -> String {
        self.desc().name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lock class and an event class built at one caller location, as a `#[track_caller]`
    /// constructor of a struct holding a mutex and a once does.
    #[track_caller]
    fn both() -> (ClassRef, ClassRef) {
        (ClassRef::at_caller(WaitKind::Sleeping), ClassRef::event_at_caller(WaitKind::Sleeping))
    }

    #[test]
    fn locks_built_at_a_registered_site_share_its_id_and_events_do_not() {
        let make = || both();
        let (lock, event) = make();
        assert_eq!(lock.cached(), None, "nothing registered yet");
        assert_eq!(lock.resolve(|_| ClassId(7)), ClassId(7));
        assert_eq!(event.resolve(|_| ClassId(9)), ClassId(9));

        // A new lock at the same site: its id from the memo, without registering.
        let (lock2, event2) = make();
        assert_eq!(lock2.cached_here(), None);
        assert_eq!(lock2.cached(), Some(ClassId(7)));
        assert_eq!(lock2.cached_here(), Some(ClassId(7)), "cached in the lock too");
        // A lock built at another site (this line) does not.
        assert_eq!(ClassRef::at_caller(WaitKind::Sleeping).cached(), None);
        // A new event at the same site never takes the lock's id.
        assert_eq!(event2.cached(), None);
        assert_eq!(event2.resolve(|_| ClassId(9)), ClassId(9));
    }
}
