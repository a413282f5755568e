//! The validator's vocabulary, downstream of nothing: lock modes, wait kinds, source sites and
//! dependency types, with the semantics the engine gives them (which holders exclude each
//! other, which waiters are recursive, which dependency types break a strong path).
//!
//! Everything else builds on this module: the graph, the validator, the lock types and the
//! report model (which re-exports these types under its old paths, `crate::report::Mode` and
//! so on). The serde forms are part of the `lockdep-report/1` contract and must not change.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::panic::Location;

/// How a lock is (or was) held or wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Exclusive.
    Write,
    /// Shared, non-recursive: blocks behind a queued writer (an rwsem reader).
    Read,
    /// Shared, recursive: never blocks on other readers.
    RecursiveRead,
    /// A write hold turned into a reader by downgrade.
    Downgraded,
}

impl Mode {
    /// The snake_case name used in JSON and traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Write => "write",
            Mode::Read => "read",
            Mode::RecursiveRead => "recursive_read",
            Mode::Downgraded => "downgraded",
        }
    }

    /// One-letter form used in compact renderings: W, R, RR, D.
    pub fn short(self) -> &'static str {
        match self {
            Mode::Write => "W",
            Mode::Read => "R",
            Mode::RecursiveRead => "RR",
            Mode::Downgraded => "D",
        }
    }

    /// Whether a holder in this mode shares the lock with readers (deadlock-search view).
    pub fn is_shared_holder(self) -> bool {
        !matches!(self, Mode::Write)
    }

    /// Whether a waiter in this mode is a recursive reader (never blocks on readers).
    pub fn is_recursive_waiter(self) -> bool {
        matches!(self, Mode::RecursiveRead)
    }

    /// Whether a waiter in this mode, facing a holder in mode `holder`, blocks only because a
    /// writer is queued between them: a non-recursive reader behind a shared holder.
    pub fn waits_behind_queued_writer(self, holder: Mode) -> bool {
        self == Mode::Read && holder.is_shared_holder()
    }

    /// Whether holders in modes `self` and `other` exclude each other (assertion view).
    ///
    /// R-R no, R-D no, R-W yes, D-D yes, D-W yes, W-W yes. Recursive readers behave as R.
    pub fn excludes(self, other: Mode) -> bool {
        use Mode::*;
        let norm = |m: Mode| if m == RecursiveRead { Read } else { m };
        !matches!((norm(self), norm(other)), (Read, Read) | (Read, Downgraded) | (Downgraded, Read))
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a lock class sleeps or spins while waiting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitKind {
    /// Blocks the thread (mutex, rwsem).
    #[default]
    Sleeping,
    /// Busy-waits (spinlock).
    Spinning,
}

/// What a node of the dependency graph stands for: a lock class, or an event class (a
/// condition variable, a channel, a thread's exit) that a thread can wait for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A lock class.
    #[default]
    Lock,
    /// An event class: waited for (condvar wait, channel recv, join), signalled (notify,
    /// send, thread exit).
    Event,
}

impl NodeKind {
    /// Whether this is [`NodeKind::Lock`] (the default, not written to JSON).
    pub fn is_lock(&self) -> bool {
        *self == NodeKind::Lock
    }
}

/// A source location.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Site {
    /// Source file as the compiler saw it.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (0 when unknown).
    #[serde(default)]
    pub column: u32,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column == 0 {
            write!(f, "{}:{}", self.file, self.line)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

/// Where an acquisition happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SiteRef {
    /// Unknown.
    None,
    /// A `#[track_caller]` location.
    Static(&'static Location<'static>),
    /// A site interned by the validator (trace replay).
    Interned(u32),
}

/// The type of one sighting of a dependency `A -> B` (kernel lockdep's `-(EN)->` and so on):
/// an exclusive or shared holder of A, times a non-recursive or recursive-read waiter on B.
/// Serialised as `"EN"`, `"ER"`, `"SN"`, `"SR"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DepType {
    /// Exclusive holder, non-recursive waiter.
    EN,
    /// Exclusive holder, recursive-read waiter.
    ER,
    /// Shared holder, non-recursive waiter.
    SN,
    /// Shared holder, recursive-read waiter.
    SR,
}

impl DepType {
    /// Every type, in the canonical (serialised) order.
    pub const ALL: [DepType; 4] = [DepType::EN, DepType::ER, DepType::SN, DepType::SR];

    /// The type of "a waiter in mode `waiter` acquired while a holder in mode `holder` held".
    pub fn of(holder: Mode, waiter: Mode) -> DepType {
        match (holder.is_shared_holder(), waiter.is_recursive_waiter()) {
            (false, false) => DepType::EN,
            (false, true) => DepType::ER,
            (true, false) => DepType::SN,
            (true, true) => DepType::SR,
        }
    }

    /// Whether the holder side is shared (`S*`).
    pub fn shared_holder(self) -> bool {
        matches!(self, DepType::SN | DepType::SR)
    }

    /// Whether the waiter side is a recursive reader (`*R`).
    pub fn recursive_waiter(self) -> bool {
        matches!(self, DepType::ER | DepType::SR)
    }

    /// The strong-path rule: whether an edge of this type may follow one that ended in a
    /// recursive-read waiter (`after_recursive`). A recursive reader does not wait for a
    /// shared holder, so `*R` followed by `S*` breaks the path.
    pub fn may_follow(self, after_recursive: bool) -> bool {
        !(after_recursive && self.shared_holder())
    }

    /// The name used in JSON: `EN`, `ER`, `SN` or `SR`.
    pub fn as_str(self) -> &'static str {
        match self {
            DepType::EN => "EN",
            DepType::ER => "ER",
            DepType::SN => "SN",
            DepType::SR => "SR",
        }
    }

    /// The types' names joined with commas, as renderings show them: `EN,SN`.
    pub fn join(types: &[DepType]) -> String {
        types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(",")
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for DepType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of dependency types, as one edge accumulates them (a byte; no allocation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DepTypes(u8);

impl DepTypes {
    /// No type.
    pub const EMPTY: DepTypes = DepTypes(0);

    /// Whether the set holds `t`.
    pub fn contains(self, t: DepType) -> bool {
        self.0 & t.bit() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Adds `t`.
    pub fn insert(&mut self, t: DepType) {
        self.0 |= t.bit();
    }

    /// The union of two sets.
    pub fn union(self, other: DepTypes) -> DepTypes {
        DepTypes(self.0 | other.0)
    }

    /// The types of the set, in canonical order.
    pub fn iter(self) -> impl Iterator<Item = DepType> {
        DepType::ALL.into_iter().filter(move |&t| self.contains(t))
    }

    /// The types of the set that satisfy `keep`.
    pub fn filter(self, keep: impl Fn(DepType) -> bool) -> DepTypes {
        self.iter().filter(|&t| keep(t)).collect()
    }

    /// The types in canonical order, as the report model lists them.
    pub fn to_vec(self) -> Vec<DepType> {
        self.iter().collect()
    }
}

impl From<DepType> for DepTypes {
    fn from(t: DepType) -> DepTypes {
        DepTypes(t.bit())
    }
}

impl FromIterator<DepType> for DepTypes {
    fn from_iter<I: IntoIterator<Item = DepType>>(iter: I) -> DepTypes {
        let mut set = DepTypes::EMPTY;
        iter.into_iter().for_each(|t| set.insert(t));
        set
    }
}

impl<'a> FromIterator<&'a DepType> for DepTypes {
    fn from_iter<I: IntoIterator<Item = &'a DepType>>(iter: I) -> DepTypes {
        iter.into_iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusion_matrix_matches_design() {
        use Mode::*;
        let cases = [
            (Read, Read, false),
            (Read, Downgraded, false),
            (Read, Write, true),
            (Downgraded, Downgraded, true),
            (Downgraded, Write, true),
            (Write, Write, true),
        ];
        for (a, b, want) in cases {
            assert_eq!(a.excludes(b), want, "{a}-{b}");
            assert_eq!(b.excludes(a), want, "{b}-{a}");
        }
        assert!(Downgraded.is_shared_holder(), "D is shared for deadlock search");
        assert_eq!(DepType::of(Downgraded, Write), DepType::SN);
    }

    #[test]
    fn dependency_types_serialise_as_their_kernel_names() {
        let all = serde_json::to_string(&DepType::ALL).unwrap();
        assert_eq!(all, r#"["EN","ER","SN","SR"]"#);
        let back: Vec<DepType> = serde_json::from_str(&all).unwrap();
        assert_eq!(back, DepType::ALL);
        for t in DepType::ALL {
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{t}\""));
        }
    }

    #[test]
    fn sets_list_types_in_canonical_order() {
        let set: DepTypes = [DepType::SR, DepType::EN, DepType::SR].iter().collect();
        assert_eq!(set.to_vec(), [DepType::EN, DepType::SR]);
        assert!(set.contains(DepType::SR) && !set.contains(DepType::SN));
        assert_eq!(set.filter(|t| !t.shared_holder()).to_vec(), [DepType::EN]);
    }

    #[test]
    fn recursive_waiter_then_shared_holder_breaks_a_path() {
        for t in DepType::ALL {
            assert!(t.may_follow(false));
            assert_eq!(t.may_follow(true), !t.shared_holder(), "{t}");
        }
    }
}

/// The id of a kept stack trace (a slot of the stack store, `stacks::TraceStore`), stored
/// non-zero so that an `Option<TraceId>` (a held entry's or an edge witness's stack, if any)
/// takes no extra room. Here, below the held stack and the graph that carry it, so neither
/// imports the stack store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TraceId(std::num::NonZeroU32);

impl TraceId {
    /// The id of slot `slot`.
    pub(crate) fn of_slot(slot: usize) -> TraceId {
        TraceId(std::num::NonZeroU32::MIN.saturating_add(slot as u32))
    }

    /// The slot this id names.
    pub(crate) fn slot(self) -> usize {
        self.0.get() as usize - 1
    }
}

/// A 64-bit finaliser (splitmix64): the mixing step of chain keys, event-context keys and
/// event keys.
#[inline]
pub(crate) fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
