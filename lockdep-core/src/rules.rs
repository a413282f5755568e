//! Class rules: declared lock orders, must-hold / must-not-hold rules and rule conditions
//! written as lock-state predicates. Broken rules are reported as `class_violation`.
//!
//! Rules name classes by their class name (a [`LockClassKey`](crate::LockClassKey)'s name, or
//! `file:line:column` for a class named by its construction site); a rule applies to every
//! class of that name. Rules are checked when a thread shows a new lock chain; adding a rule
//! forgets the chains seen so far, so they are checked again. A rule condition must depend
//! only on the classes and modes held (never on instance state), since its verdict is cached
//! per chain.
//!
//! # Examples
//!
//! ```
//! use lockdep_core::rules::{self, ModeSet, Rule};
//!
//! rules::declare_order(&["doc::outer", "doc::middle", "doc::inner"]).unwrap();
//! Rule::new("doc_inner_needs_outer")
//!     .when_acquiring("doc::inner", ModeSet::ANY)
//!     .requires_held("doc::outer", ModeSet::WRITE)
//!     .register()
//!     .unwrap();
//! // A cyclic declaration is refused at once:
//! assert!(rules::declare_order(&["doc::inner", "doc::outer"]).is_err());
//! ```

pub use crate::rule_engine::{Held, ModeSet, Rule, RuleError};

impl Rule {
    /// Adds the rule to the process-wide validator. With the `off` feature it does nothing.
    pub fn register(self) -> Result<(), RuleError> {
        crate::hook::add_rule(self)
    }
}

/// Declares that the classes named in `chain` are taken in this order (outer first), like the
/// kernel's lock-ordering comments. Several chains make a partial order. An acquisition
/// against the order is a `class_violation` (rule `declared_order`) on the first inversion,
/// before any cycle exists. A declaration that makes the order cyclic is refused. With the
/// `off` feature it does nothing.
pub fn declare_order(chain: &[&str]) -> Result<(), RuleError> {
    crate::hook::add_order(chain)
}

/// [`declare_order`] over class keys, one slice per chain (the `lock_order!` expansion).
pub fn declare_order_keys(chains: &[&[&'static crate::LockClassKey]]) -> Result<(), RuleError> {
    for chain in chains {
        let names: Vec<&str> = chain.iter().map(|k| k.name()).collect();
        declare_order(&names)?;
    }
    Ok(())
}
