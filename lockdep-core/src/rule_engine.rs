//! The rule engine: declared lock orders, must-hold / must-not-hold rules and rule conditions
//! written as lock-state predicates, checked against a held stack. Broken rules become
//! `class_violation` reports. The user-facing API is [`crate::rules`].

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::held::HeldLock;
use crate::vocab::Mode;

/// A set of modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModeSet(u8);

impl ModeSet {
    /// Exclusive.
    pub const WRITE: ModeSet = ModeSet(1);
    /// Non-recursive read.
    pub const READ: ModeSet = ModeSet(2);
    /// Recursive read.
    pub const RECURSIVE_READ: ModeSet = ModeSet(4);
    /// Downgraded write.
    pub const DOWNGRADED: ModeSet = ModeSet(8);
    /// Any shared hold: R, RR or D.
    pub const SHARED: ModeSet = ModeSet(2 | 4 | 8);
    /// A hold that excludes writers and downgraders: W or D.
    pub const EXCLUSIVE: ModeSet = ModeSet(1 | 8);
    /// Any mode.
    pub const ANY: ModeSet = ModeSet(15);

    /// The set holding just `mode`.
    pub const fn of(mode: Mode) -> ModeSet {
        match mode {
            Mode::Write => ModeSet::WRITE,
            Mode::Read => ModeSet::READ,
            Mode::RecursiveRead => ModeSet::RECURSIVE_READ,
            Mode::Downgraded => ModeSet::DOWNGRADED,
        }
    }

    /// Whether `mode` is in the set.
    pub const fn contains(self, mode: Mode) -> bool {
        self.0 & ModeSet::of(mode).0 != 0
    }

    /// Union.
    pub const fn or(self, other: ModeSet) -> ModeSet {
        ModeSet(self.0 | other.0)
    }
}

impl fmt::Display for ModeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == ModeSet::ANY {
            return f.write_str("any mode");
        }
        let names: Vec<&str> = [Mode::Write, Mode::Read, Mode::RecursiveRead, Mode::Downgraded]
            .into_iter()
            .filter(|m| self.contains(*m))
            .map(Mode::as_str)
            .collect();
        f.write_str(&names.join("|"))
    }
}

/// Why a rule was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// The declared order contradicts itself (or an earlier declaration): the cycle, by name.
    CyclicOrder(Vec<String>),
    /// A rule without a target (`when_acquiring`) or without a condition.
    Incomplete(String),
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleError::CyclicOrder(c) => {
                write!(f, "declared lock order is cyclic: {}", c.join(" -> "))
            }
            RuleError::Incomplete(n) => write!(f, "rule {n:?} needs a target and a condition"),
        }
    }
}

impl std::error::Error for RuleError {}

/// A read-only view of a thread's held locks, for predicates and assertions.
pub struct Held<'a> {
    pub(crate) entries: &'a [HeldLock],
    pub(crate) names: &'a dyn Fn(crate::ClassId) -> String,
}

impl Held<'_> {
    /// Number of held locks.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether some lock of the class named `class` is held in a mode of `modes`.
    pub fn holds_class(&self, class: &str, modes: ModeSet) -> bool {
        self.entries.iter().any(|e| modes.contains(e.mode) && (self.names)(e.class) == class)
    }
}

type Condition = Arc<dyn Fn(&Held<'_>) -> bool + Send + Sync>;

#[derive(Clone)]
enum Check {
    RequiresHeld(String, ModeSet),
    ForbidsHeld(String, ModeSet),
    Requires(Condition),
}

/// A rule on acquisitions of one class. Build with [`Rule::new`], then
/// [`register`](Rule::register) (or [`Validator::add_rule`](crate::Validator::add_rule)).
#[derive(Clone)]
pub struct Rule {
    name: String,
    target: Option<(String, ModeSet)>,
    blocking_only: bool,
    checks: Vec<Check>,
}

impl Rule {
    /// A rule named `name` (the name appears in reports and suppressions).
    pub fn new(name: impl Into<String>) -> Rule {
        Rule { name: name.into(), target: None, blocking_only: false, checks: Vec::new() }
    }

    /// The rule applies to acquisitions of class `class` in a mode of `modes`.
    pub fn when_acquiring(mut self, class: impl Into<String>, modes: ModeSet) -> Rule {
        self.target = Some((class.into(), modes));
        self
    }

    /// The rule ignores trylocks (which never wait).
    pub fn blocking_only(mut self) -> Rule {
        self.blocking_only = true;
        self
    }

    /// A lock of class `class` must be held, in a mode of `modes`.
    pub fn requires_held(mut self, class: impl Into<String>, modes: ModeSet) -> Rule {
        self.checks.push(Check::RequiresHeld(class.into(), modes));
        self
    }

    /// No lock of class `class` may be held in a mode of `modes`.
    pub fn forbids_held(mut self, class: impl Into<String>, modes: ModeSet) -> Rule {
        self.checks.push(Check::ForbidsHeld(class.into(), modes));
        self
    }

    /// A named lock-state predicate over the held classes and modes must be true.
    pub fn requires(
        mut self,
        condition: impl Fn(&Held<'_>) -> bool + Send + Sync + 'static,
    ) -> Rule {
        self.checks.push(Check::Requires(Arc::new(condition)));
        self
    }
}

/// The rules of one validator.
#[derive(Default)]
pub(crate) struct Rules {
    /// Class name -> index in `before`.
    names: HashMap<String, usize>,
    order_names: Vec<String>,
    /// `before[a]` = the set of classes that must come after `a` (transitive).
    after: Vec<Vec<bool>>,
    rules: Vec<Rule>,
}

/// One broken rule.
pub(crate) struct Violation {
    pub rule: String,
    pub classes: Vec<String>,
    pub message: String,
}

impl Rules {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.order_names.is_empty()
    }

    fn index(&mut self, name: &str) -> usize {
        if let Some(&i) = self.names.get(name) {
            return i;
        }
        let i = self.order_names.len();
        self.names.insert(name.to_string(), i);
        self.order_names.push(name.to_string());
        for row in &mut self.after {
            row.push(false);
        }
        self.after.push(vec![false; i + 1]);
        i
    }

    /// Adds `chain[0] < chain[1] < ...`, keeping the relation transitive; refuses a cycle.
    pub fn add_order(&mut self, chain: &[&str]) -> Result<(), RuleError> {
        let mut trial_names = self.names.clone();
        let mut trial = Rules {
            names: std::mem::take(&mut trial_names),
            order_names: self.order_names.clone(),
            after: self.after.clone(),
            rules: Vec::new(),
        };
        for pair in chain.windows(2) {
            let (a, b) = (trial.index(pair[0]), trial.index(pair[1]));
            if a == b || trial.after[b][a] {
                let mut cycle = vec![pair[0].to_string(), pair[1].to_string()];
                if a != b {
                    cycle.push(pair[0].to_string());
                }
                return Err(RuleError::CyclicOrder(cycle));
            }
            // Everything before-or-equal a now precedes everything after-or-equal b.
            let n = trial.order_names.len();
            let preds: Vec<usize> = (0..n).filter(|&x| x == a || trial.after[x][a]).collect();
            let succs: Vec<usize> = (0..n).filter(|&y| y == b || trial.after[b][y]).collect();
            for &x in &preds {
                for &y in &succs {
                    trial.after[x][y] = true;
                }
            }
        }
        self.names = trial.names;
        self.order_names = trial.order_names;
        self.after = trial.after;
        Ok(())
    }

    pub fn add(&mut self, rule: Rule) -> Result<(), RuleError> {
        if rule.target.is_none() || rule.checks.is_empty() {
            return Err(RuleError::Incomplete(rule.name));
        }
        self.rules.push(rule);
        Ok(())
    }

    /// Whether the declared order puts `a` strictly before `b`.
    fn before(&self, a: &str, b: &str) -> bool {
        match (self.names.get(a), self.names.get(b)) {
            (Some(&a), Some(&b)) => self.after[a][b],
            _ => false,
        }
    }

    /// The rules broken by acquiring `new` (class `new_name`) while `held` is held.
    pub fn check(
        &self,
        held: &Held<'_>,
        new_name: &str,
        new: &HeldLock,
        name_of: &dyn Fn(crate::ClassId) -> String,
    ) -> Vec<Violation> {
        let mut out = Vec::new();
        if !new.trylock {
            for h in held.entries {
                let h_name = name_of(h.class);
                if self.before(new_name, &h_name) {
                    out.push(Violation {
                        rule: "declared_order".into(),
                        classes: vec![h_name.clone(), new_name.to_string()],
                        message: format!(
                            "{new_name} acquired while holding {h_name}, but the declared lock \
                             order puts {new_name} before {h_name}"
                        ),
                    });
                }
            }
        }
        for rule in &self.rules {
            let Some((target, modes)) = &rule.target else { continue };
            if target != new_name
                || !modes.contains(new.mode)
                || (rule.blocking_only && new.trylock)
            {
                continue;
            }
            for check in &rule.checks {
                let broken = match check {
                    Check::RequiresHeld(c, m) => (!held.holds_class(c, *m)).then(|| {
                        (
                            vec![c.clone(), new_name.to_string()],
                            format!("{new_name} ({}) acquired without holding {c} ({m})", new.mode),
                        )
                    }),
                    Check::ForbidsHeld(c, m) => held.holds_class(c, *m).then(|| {
                        (
                            vec![c.clone(), new_name.to_string()],
                            format!(
                                "{new_name} ({}){} acquired while holding {c} ({m})",
                                new.mode,
                                if new.trylock { " [trylock]" } else { "" }
                            ),
                        )
                    }),
                    Check::Requires(cond) => (!cond(held)).then(|| {
                        (
                            vec![new_name.to_string()],
                            format!(
                            "{new_name} ({}) acquired while the lock-state predicate {:?} is false",
                            new.mode, rule.name
                        ),
                        )
                    }),
                };
                if let Some((classes, message)) = broken {
                    out.push(Violation { rule: rule.name.clone(), classes, message });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_transitive_and_refuses_cycles() {
        let mut r = Rules::default();
        r.add_order(&["a", "b"]).unwrap();
        r.add_order(&["b", "c"]).unwrap();
        assert!(r.before("a", "c"));
        assert!(!r.before("c", "a"));
        let err = r.add_order(&["c", "a"]).unwrap_err();
        assert_eq!(err, RuleError::CyclicOrder(vec!["c".into(), "a".into(), "c".into()]));
        // The refused declaration left nothing behind.
        assert!(!r.before("c", "a"));
        assert!(r.add_order(&["x", "x"]).is_err());
    }

    #[test]
    fn mode_sets() {
        assert!(ModeSet::EXCLUSIVE.contains(Mode::Downgraded));
        assert!(!ModeSet::EXCLUSIVE.contains(Mode::Read));
        assert!(ModeSet::SHARED.contains(Mode::Downgraded));
        assert_eq!(ModeSet::WRITE.or(ModeSet::READ).to_string(), "write|read");
    }
}
