//! Class violations: declared orders, must-hold / must-not-hold rules, held-lock assertions,
//! lock-state predicates and might-lock annotations. Each rule kind is provoked (and the
//! report's kind, rule, classes and message checked) and its legal twin gives no report.
//! Every test uses class names of its own, since the graph and the rules are process-wide.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use lockdep_core::report::{Kind, Report};
use lockdep_core::rules::{self, ModeSet, Rule, RuleError};
use lockdep_core::{
    assert_exclusive, assert_held, assert_held_read, assert_held_write, assert_not_held,
    assert_state, might_lock, might_lock_read, LockClassKey, LockMap, Mode, Mutex, RwSem,
};

fn reports_with_rule(rule: &str) -> Vec<Report> {
    lockdep_core::reports().into_iter().filter(|r| r.rule.as_deref() == Some(rule)).collect()
}

fn reports_naming(class: &str) -> Vec<Report> {
    lockdep_core::reports().into_iter().filter(|r| r.classes.iter().any(|c| c == class)).collect()
}

static ORD_OUTER: LockClassKey = LockClassKey::new("ord::outer");
static ORD_MIDDLE: LockClassKey = LockClassKey::new("ord::middle");
static ORD_INNER: LockClassKey = LockClassKey::new("ord::inner");
static OK_OUTER: LockClassKey = LockClassKey::new("ordok::outer");
static OK_MIDDLE: LockClassKey = LockClassKey::new("ordok::middle");
static OK_INNER: LockClassKey = LockClassKey::new("ordok::inner");

#[test]
fn declared_order_is_enforced_on_the_first_inversion() {
    rules::declare_order(&["ord::outer", "ord::middle"]).unwrap();
    rules::declare_order(&["ord::middle", "ord::inner"]).unwrap();
    let outer = Mutex::with_key((), &ORD_OUTER);
    let middle = RwSem::with_key((), &ORD_MIDDLE);
    let inner = Mutex::with_key((), &ORD_INNER);
    {
        // Inversion by transitivity (inner before outer), shown before the graph has any
        // other edge between them: no cycle exists, the declared order alone reports it.
        let _i = inner.lock();
        let _o = outer.lock();
    }
    let rs = reports_naming("ord::outer");
    assert_eq!(rs.len(), 1, "{rs:?}");
    assert_eq!(rs[0].kind, Kind::ClassViolation);
    assert_eq!(rs[0].rule.as_deref(), Some("declared_order"));
    assert_eq!(rs[0].classes, vec!["ord::inner", "ord::outer"]);
    assert!(rs[0].message.contains("declared lock order puts ord::outer before ord::inner"));
    assert_eq!(rs[0].held[0].class, "ord::inner");
    // The scenario shows the ABBA that the order exists to prevent.
    let steps: Vec<&str> = rs[0].scenario.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(steps.len(), 4, "{steps:?}");
    assert!(steps[2].starts_with("lock(ord::outer)") && steps[2].contains("against"), "{steps:?}");
    // A trylock against the order never waits: not a violation.
    let _m = middle.write();
    drop(outer.try_lock().expect("free"));
    assert_eq!(reports_naming("ord::outer").len(), 1);
}

#[test]
fn acquisitions_in_the_declared_order_are_silent() {
    rules::declare_order(&["ordok::outer", "ordok::middle", "ordok::inner"]).unwrap();
    let outer = Mutex::with_key((), &OK_OUTER);
    let middle = RwSem::with_key((), &OK_MIDDLE);
    let inner = Mutex::with_key((), &OK_INNER);
    {
        let _o = outer.lock();
        let _m = middle.read();
        let _i = inner.lock();
    }
    {
        let _o = outer.lock(); // skipping a level is in order too
        let _i = inner.lock();
    }
    assert!(reports_naming("ordok::inner").is_empty(), "{:?}", reports_naming("ordok::inner"));
}

#[test]
fn a_cyclic_declared_order_is_refused() {
    rules::declare_order(&["cyc::a", "cyc::b", "cyc::c"]).unwrap();
    let err = rules::declare_order(&["cyc::c", "cyc::a"]).unwrap_err();
    assert!(matches!(&err, RuleError::CyclicOrder(c) if c.contains(&"cyc::a".to_string())));
    assert!(err.to_string().contains("cyclic"), "{err}");
}

static MH_MMAP: LockClassKey = LockClassKey::new("mh::mmap_lock");
static MH_VMA: LockClassKey = LockClassKey::new("mh::vma_lock");

#[test]
fn must_hold_vma_write_needs_mmap_write() {
    Rule::new("vma_write_needs_mmap_write")
        .when_acquiring("mh::vma_lock", ModeSet::WRITE)
        .requires_held("mh::mmap_lock", ModeSet::WRITE)
        .register()
        .unwrap();
    let mmap = RwSem::with_key((), &MH_MMAP);
    let vma = LockMap::with_key(&MH_VMA);
    {
        // Legal twin.
        let _w = mmap.write();
        vma.acquire(Mode::Write);
        vma.release();
        // Reading the VMA needs nothing.
        vma.try_acquire(Mode::Read);
        vma.release();
    }
    assert!(reports_with_rule("vma_write_needs_mmap_write").is_empty());
    {
        let _r = mmap.read(); // read is not enough
        vma.acquire(Mode::Write);
        vma.release();
    }
    let rs = reports_with_rule("vma_write_needs_mmap_write");
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].kind, Kind::ClassViolation);
    assert_eq!(rs[0].classes, vec!["mh::mmap_lock", "mh::vma_lock"]);
    assert_eq!(rs[0].held.len(), 1);
    assert_eq!(rs[0].held[0].mode, Mode::Read);
    assert!(rs[0].message.contains("without holding mh::mmap_lock (write)"), "{}", rs[0].message);
    let last = rs[0].scenario.last().unwrap();
    assert!(
        last.action.starts_with("lock(mh::vma_lock)")
            && last.action.contains("vma_write_needs_mmap_write")
    );
}

static MN_MMAP: LockClassKey = LockClassKey::new("mn::mmap_lock");
static MN_VMA: LockClassKey = LockClassKey::new("mn::vma_lock");

#[test]
fn must_not_hold_blocking_mmap_under_vma_read() {
    Rule::new("no_blocking_mmap_under_vma_read")
        .when_acquiring("mn::mmap_lock", ModeSet::ANY)
        .blocking_only()
        .forbids_held("mn::vma_lock", ModeSet::SHARED)
        .register()
        .unwrap();
    let mmap = RwSem::with_key((), &MN_MMAP);
    let vma = LockMap::with_key(&MN_VMA);
    vma.try_acquire(Mode::Read);
    drop(mmap.try_read().expect("free")); // legal twin: the trylock fallback
    assert!(reports_with_rule("no_blocking_mmap_under_vma_read").is_empty());
    drop(mmap.read()); // blocking: forbidden
    vma.release();
    let rs = reports_with_rule("no_blocking_mmap_under_vma_read");
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].classes, vec!["mn::vma_lock", "mn::mmap_lock"]);
    assert_eq!(rs[0].acquiring.as_ref().unwrap().mode, Mode::Read);
}

static AS_LOCK: LockClassKey = LockClassKey::new("as::mmap_lock");

#[test]
fn held_assertions_fail_and_pass_by_mode() {
    let l = RwSem::with_key((), &AS_LOCK);
    // Legal twins.
    {
        let w = l.write();
        assert_held(&l);
        assert_held_write(&l);
        assert_exclusive(&l);
        let d = w.downgrade();
        assert_exclusive(&l); // D excludes writers and downgraders
        assert_held_read(&l); // and is a shared holder
        drop(d);
        assert_not_held(&l);
    }
    assert!(reports_naming("as::mmap_lock").is_empty(), "{:?}", reports_naming("as::mmap_lock"));
    // Failures, one rule each.
    {
        let _r = l.read();
        assert_exclusive(&l); // a plain reader does not exclude other readers' downgrade... nor writers' waiting
        assert_held_write(&l);
        assert_not_held(&l);
    }
    assert_held(&l);
    assert_held_read(&l);
    let rules: Vec<String> =
        reports_naming("as::mmap_lock").iter().map(|r| r.rule.clone().unwrap()).collect();
    assert_eq!(
        rules,
        vec![
            "assert_exclusive",
            "assert_held_write",
            "assert_not_held",
            "assert_held",
            "assert_held_read"
        ]
    );
    let r = &reports_with_rule("assert_exclusive")[0];
    assert!(r.message.contains("holds it for read"), "{}", r.message);
    let last = r.scenario.last().unwrap();
    assert!(last.action.starts_with("assert_exclusive(...)  <- fails"), "{:?}", r.scenario);
    assert!(r.acquiring.as_ref().unwrap().site.as_ref().unwrap().file.ends_with("rules.rs"));
}

/// A miniature mm: an mmap lock, a VMA lock with a write mark, and the two rmap locks.
struct MiniMm {
    mmap_lock: RwSem<()>,
    lock_seq: AtomicU64,
}

struct MiniVma {
    lock: LockMap,
    vm_lock_seq: AtomicU64,
}

static P_MMAP: LockClassKey = LockClassKey::new("pred::mmap_lock");
static P_VMA: LockClassKey = LockClassKey::new("pred::vma_lock");
static P_I_MMAP: LockClassKey = LockClassKey::new("pred::i_mmap_rwsem");
static P_ANON: LockClassKey = LockClassKey::new("pred::anon_vma");

fn vma_write_locked(mm: &MiniMm, vma: &MiniVma) -> bool {
    assert_state("write-locked VMA", |h| {
        h.holds_write(&mm.mmap_lock)
            && vma.vm_lock_seq.load(Ordering::Relaxed) == mm.lock_seq.load(Ordering::Relaxed)
    })
}

fn vma_read_locked(mm: &MiniMm, vma: &MiniVma) -> bool {
    assert_state("read-locked VMA", |h| h.holds(&mm.mmap_lock) || h.holds_read(&vma.lock))
}

#[test]
fn lock_state_predicates_express_the_kernel_vma_states() {
    let mm =
        Arc::new(MiniMm { mmap_lock: RwSem::with_key((), &P_MMAP), lock_seq: AtomicU64::new(1) });
    let vma = MiniVma { lock: LockMap::with_key(&P_VMA), vm_lock_seq: AtomicU64::new(0) };
    {
        // Write-locked VMA: mmap W and the VMA marked in this write hold.
        let _w = mm.mmap_lock.write();
        vma.lock.acquire(Mode::Write);
        vma.vm_lock_seq.store(mm.lock_seq.load(Ordering::Relaxed), Ordering::Relaxed);
        vma.lock.release();
        assert!(vma_write_locked(&mm, &vma));
        assert!(vma_read_locked(&mm, &vma));
        mm.lock_seq.fetch_add(1, Ordering::Relaxed); // mmap_write_unlock ends every mark
    }
    {
        // Read-locked VMA through the VMA read lock alone.
        vma.lock.try_acquire(Mode::Read);
        assert!(vma_read_locked(&mm, &vma));
        vma.lock.release();
    }
    assert!(reports_naming("pred::mmap_lock").is_empty());
    assert!(reports_with_rule("write-locked VMA").is_empty());
    assert!(reports_with_rule("read-locked VMA").is_empty());
    {
        // mmap W held, but the VMA is not marked in this hold: not write-locked.
        let _w = mm.mmap_lock.write();
        assert!(!vma_write_locked(&mm, &vma));
    }
    assert!(!vma_read_locked(&mm, &vma)); // nothing held: the VMA may vanish
    let w = &reports_with_rule("write-locked VMA")[0];
    assert_eq!(w.kind, Kind::ClassViolation);
    assert_eq!(w.classes, vec!["pred::mmap_lock"]);
    assert!(w.message.contains("write-locked VMA"));
    let r = &reports_with_rule("read-locked VMA")[0];
    assert!(r.held.is_empty());
}

#[test]
fn rmap_lock_predicates() {
    let i_mmap = RwSem::with_key((), &P_I_MMAP);
    let anon = RwSem::with_key((), &P_ANON);
    let rmap_write =
        |h: &lockdep_core::rules::Held<'_>| h.holds_write(&i_mmap) && h.holds_write(&anon);
    let rmap_read =
        |h: &lockdep_core::rules::Held<'_>| h.holds_read(&i_mmap) || h.holds_read(&anon);
    {
        let _i = i_mmap.write();
        let _a = anon.write();
        assert!(assert_state("holding the rmap locks for writing", rmap_write));
    }
    {
        let _a = anon.read();
        assert!(assert_state("holding an rmap lock for reading", rmap_read));
        assert!(!assert_state("holding the rmap locks for writing (rmap test)", rmap_write));
    }
    assert!(reports_with_rule("holding the rmap locks for writing").is_empty());
    assert!(reports_with_rule("holding an rmap lock for reading").is_empty());
    assert_eq!(reports_with_rule("holding the rmap locks for writing (rmap test)").len(), 1);
}

static RC_TARGET: LockClassKey = LockClassKey::new("cond::pte_lock");
static RC_MMAP: LockClassKey = LockClassKey::new("cond::mmap_lock");
static RC_VMA: LockClassKey = LockClassKey::new("cond::vma_lock");

#[test]
fn predicates_as_rule_conditions() {
    Rule::new("pte_needs_read_locked_vma")
        .when_acquiring("cond::pte_lock", ModeSet::ANY)
        .requires(|h| {
            h.holds_class("cond::mmap_lock", ModeSet::ANY)
                || h.holds_class("cond::vma_lock", ModeSet::SHARED)
        })
        .register()
        .unwrap();
    let pte = lockdep_core::SpinLock::with_key((), &RC_TARGET);
    let mmap = RwSem::with_key((), &RC_MMAP);
    let vma = LockMap::with_key(&RC_VMA);
    {
        let _r = mmap.read();
        drop(pte.lock());
    }
    vma.try_acquire(Mode::Read);
    drop(pte.lock());
    vma.release();
    assert!(reports_with_rule("pte_needs_read_locked_vma").is_empty());
    drop(pte.lock()); // nothing held
    let rs = reports_with_rule("pte_needs_read_locked_vma");
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].classes, vec!["cond::pte_lock"]);
}

static ML_FS: LockClassKey = LockClassKey::new("might::fs_lock");
static ML_MMAP: LockClassKey = LockClassKey::new("might::mmap_lock");

#[test]
fn might_lock_records_the_dependency_without_taking_the_lock() {
    let fs = Mutex::with_key((), &ML_FS);
    let mmap = RwSem::with_key((), &ML_MMAP);
    {
        // copy_from_user under the fs lock: may fault and take mmap R. Legal so far.
        let _f = fs.lock();
        might_lock_read(&mmap);
        assert_eq!(lockdep_core::held_count(), 1, "might_lock takes nothing");
    }
    might_lock(&mmap); // nothing held: nothing to record
    assert!(reports_naming("might::fs_lock").is_empty());
    {
        // The mmap hook takes the fs lock under mmap W: closes the cycle that only the
        // annotation had shown (the fault never happened on this run).
        let _w = mmap.write();
        let _f = fs.lock();
    }
    let rs = reports_naming("might::fs_lock");
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].kind, Kind::CircularDependency);
    let old = &rs[0].chain[1];
    assert_eq!(
        (old.from.class.as_str(), old.to.class.as_str()),
        ("might::fs_lock", "might::mmap_lock")
    );
    assert_eq!(old.to.mode, Mode::Read);
}
