//! Lock identity (issue 11): many locks built at one site share a class, and nesting two of
//! them is judged by the order of the instances (`LOCKDEP_SAME_CLASS=instances`, the
//! default), or as `recursive_locking` under the kernel's strict rule (a strict key, or
//! `LOCKDEP_SAME_CLASS=strict`).
//!
//! The graph is process-wide: each test builds its own locks (its own construction sites,
//! hence classes) and looks only at the reports naming them. Threads run one after the other,
//! so nothing really deadlocks. The strict process setting and trace recording are read at
//! start-up: those tests re-run one test of this binary in a child process.

use std::process::Command;
use std::sync::Arc;
use std::thread;

use lockdep_core::report::{Document, Kind, Report};
use lockdep_core::{LockClassKey, Mutex};

const CHILD: &str = "LOCKDEP_IDENTITY_CHILD";

fn reports_naming(class: &str) -> Vec<Report> {
    lockdep_core::reports().into_iter().filter(|r| r.classes.iter().any(|c| c == class)).collect()
}

/// Runs `f` on a thread of its own, to its end.
fn on_thread(name: &str, f: impl FnOnce() + Send + 'static) {
    thread::Builder::new().name(name.into()).spawn(f).unwrap().join().unwrap();
}

/// Philosopher `i` of `forks.len()` takes their left fork, then their right one.
fn philosophers(forks: &[Arc<Mutex<()>>]) {
    let n = forks.len();
    for i in 0..n {
        let (left, right) = (forks[i].clone(), forks[(i + 1) % n].clone());
        on_thread(&format!("philosopher{i}"), move || {
            let _l = left.lock();
            let _r = right.lock();
        });
    }
}

fn assert_instance_cycle(r: &Report, class: &str, len: usize) {
    assert_eq!(r.kind, Kind::CircularDependency, "{r:?}");
    assert_eq!(r.chain.len(), len, "{r:?}");
    assert!(r.classes.iter().all(|c| c == class), "{:?}", r.classes);
    let mut numbers: Vec<u64> = r.chain.iter().map(|l| l.from.instance.unwrap()).collect();
    for (i, l) in r.chain.iter().enumerate() {
        // Each link ends where the next one starts: the instances form the cycle.
        assert_eq!(l.to.instance, r.chain[(i + 1) % len].from.instance, "{r:?}");
        assert_eq!(l.from.class, class);
        assert!(l.to.site.as_ref().unwrap().file.ends_with("identity.rs"), "{l:?}");
    }
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), len, "distinct instances: {r:?}");
    assert!(r.message.contains(&format!("{class}#")), "{}", r.message);
}

#[test]
fn arc_default_ring_of_three_is_a_cycle_among_instances() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    // `Arc::default()` builds every mutex inside std: one class for all of them.
    let locks: Vec<Arc<Mutex<()>>> = (0..3).map(|_| Arc::default()).collect();
    let class = locks[0].class_name();
    assert_eq!(class, locks[2].class_name());
    philosophers(&locks);
    let rs = reports_naming(&class);
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_instance_cycle(&rs[0], &class, 3);
    assert_eq!(rs[0].thread, "philosopher2");
    // The class is a site inside std: no name to read, and the text says how to give one.
    assert!(class.contains("alloc/src/sync.rs") || class.contains("library/"), "{class}");
    let text = lockdep_core::report::render_report(&rs[0]);
    assert!(text.contains("is built inside std or a dependency"), "{text}");
}

static ACCOUNTS_LIVE: Mutex<u32> = Mutex::new(0);

struct Shop {
    cache: Mutex<u32>,
}

#[test]
fn classes_are_named_after_what_their_site_initialises() {
    let shop = Shop { cache: Mutex::new(0) };
    let journal_line = line!() + 1;
    let journal = Mutex::new(0u32);
    for (lock, name) in
        [(&ACCOUNTS_LIVE, "ACCOUNTS_LIVE"), (&shop.cache, "cache"), (&journal, "journal")]
    {
        let class = lock.class_name();
        assert!(class.starts_with(&format!("{name} (")), "{class}");
        assert!(class.contains("identity.rs:"), "the site is kept in the name: {class}");
    }
    assert!(journal.class_name().contains(&format!("identity.rs:{journal_line}:")));
    // A class without a readable source line keeps the bare site, and a key its own name.
    static KEYED: LockClassKey = LockClassKey::new("shop::keyed");
    assert_eq!(Mutex::with_key(0, &KEYED).class_name(), "shop::keyed");
    // A report prints both: the name and the site of each lock.
    let _a = journal.lock();
    let _b = shop.cache.lock();
    drop((_a, _b));
    let _b = shop.cache.lock();
    let _a = journal.lock();
    let rs = reports_naming(&journal.class_name());
    assert_eq!(rs.len(), 1, "{rs:#?}");
    let text = lockdep_core::report::render_report(&rs[0]);
    assert!(text.contains("journal (") && text.contains("cache ("), "{text}");
}

#[derive(Default)]
struct Accounts {
    checking: Mutex<u64>,
    savings: Mutex<u64>,
}

#[test]
fn derive_default_fields_inverted_is_a_cycle_and_consistent_order_is_not() {
    let ordered = Arc::new(Accounts::default());
    for t in 0..2 {
        let a = ordered.clone();
        on_thread(&format!("ordered{t}"), move || {
            let _c = a.checking.lock();
            let _s = a.savings.lock();
        });
    }
    let inverted = Arc::new(Accounts::default());
    let a = inverted.clone();
    on_thread("checking_first", move || {
        let _c = a.checking.lock();
        let _s = a.savings.lock();
    });
    let class_of_checking = inverted.checking.class_name();
    assert!(
        reports_naming(&class_of_checking).is_empty(),
        "one order, no report: {:#?}",
        reports_naming(&class_of_checking)
    );
    let a = inverted.clone();
    on_thread("savings_first", move || {
        let _s = a.savings.lock();
        let _c = a.checking.lock();
    });
    let mut rs = reports_naming(&class_of_checking);
    rs.extend(reports_naming(&inverted.savings.class_name()));
    rs.dedup();
    assert_eq!(rs.len(), 1, "{rs:#?}");
    let r = &rs[0];
    assert_eq!(r.kind, Kind::CircularDependency, "{r:#?}");
    assert_eq!(r.thread, "savings_first");
    assert_eq!(r.chain.len(), 2);
    if inverted.checking.class_name() == inverted.savings.class_name() {
        // The derive gave both fields one site: the chain names the two instances.
        assert_instance_cycle(r, &class_of_checking, 2);
    }
}

#[test]
fn dining_philosophers_with_forks_built_in_a_loop() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let forks: Vec<Arc<Mutex<()>>> = (0..5).map(|_| Arc::new(Mutex::new(()))).collect();
    let class = forks[0].class_name();
    philosophers(&forks);
    let rs = reports_naming(&class);
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_instance_cycle(&rs[0], &class, 5);
    assert_eq!(rs[0].thread, "philosopher4");
    // The scenario names the instances, not only their class.
    assert!(rs[0].scenario.iter().any(|s| s.action.contains(&format!("{class}#"))));
}

#[test]
fn a_hundred_thousand_locks_taken_in_index_order_give_nothing() {
    let locks: Vec<Mutex<u32>> = (0..100_000).map(Mutex::new).collect();
    let class = locks[0].class_name();
    let chains = lockdep_core::validator().chains();
    for round in 0..2 {
        for w in locks.windows(2) {
            let _a = w[0].lock();
            let _b = w[1].lock();
        }
        // Also by address, in one pass of three.
        if round == 1 {
            for w in locks.windows(3).step_by(1000) {
                let _a = w[0].lock();
                let _b = w[1].lock();
                let _c = w[2].lock();
            }
        }
    }
    assert!(reports_naming(&class).is_empty(), "{:#?}", reports_naming(&class));
    // Same-class chains are not cached one per pair: the cache stays small.
    // (Other tests of this process add their own chains meanwhile.)
    assert!(lockdep_core::validator().chains() < chains + 1000);
    drop(locks);
    // Dropped locks forget their order: new locks at reused addresses start fresh.
    let again: Vec<Mutex<u32>> = (0..1000).map(Mutex::new).collect();
    for w in again.windows(2).rev() {
        let _b = w[1].lock();
        let _a = w[0].lock();
    }
    assert!(reports_naming(&again[0].class_name()).is_empty());
}

static STRICT_SLOTS: LockClassKey = LockClassKey::new_strict("strict_slots");

#[test]
fn the_same_with_a_strict_key_is_recursive_locking() {
    let locks: Vec<Mutex<u32>> = (0..100_000).map(|i| Mutex::with_key(i, &STRICT_SLOTS)).collect();
    for w in locks.windows(2) {
        let _a = w[0].lock();
        let _b = w[1].lock();
    }
    let rs = reports_naming("strict_slots");
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::RecursiveLocking);
    assert_eq!(rs[0].classes, ["strict_slots"]);
    assert!(rs[0].message.contains("another lock"), "{}", rs[0].message);
    // The advice for two locks of one site: their own classes (a key, or #[track_caller] on
    // the helper) or instance order; a subclass only for an order fixed by design.
    for fix in
        ["LockClassKey", "#[track_caller]", "LOCKDEP_SAME_CLASS=instances", "hides an inversion"]
    {
        assert!(rs[0].message.contains(fix), "{fix}: {}", rs[0].message);
    }
}

#[test]
fn the_same_lock_twice_is_still_recursive_locking() {
    let items: Vec<Mutex<()>> = (0..2).map(|_| Mutex::new(())).collect();
    let _a = items[0].lock();
    let _b = items[1].lock(); // two instances, one order: fine
    assert!(reports_naming(&items[0].class_name()).is_empty());
    // `lock()` of a held instance would deadlock for real; LockMap says the same thing.
    static K: LockClassKey = LockClassKey::new("identity_map");
    let map = lockdep_core::LockMap::with_key(&K);
    map.acquire(lockdep_core::Mode::Write);
    map.acquire(lockdep_core::Mode::Write);
    map.release();
    map.release();
    let rs = reports_naming("identity_map");
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::RecursiveLocking);
    // One lock taken twice: a real self-deadlock, no advice about classes.
    assert!(!rs[0].message.contains("LockClassKey"), "{}", rs[0].message);
}

/// Runs the test `name` of this binary in a child with `env`; returns the report document it
/// wrote and the trace it recorded.
fn child(name: &str, same_class: &str) -> (Document, String) {
    let dir = std::env::temp_dir().join(format!("lockdep-identity-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let trace = dir.join("trace.jsonl");
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--test-threads", "1"])
        .env(CHILD, "1")
        .env("LOCKDEP", "warn")
        .env("LOCKDEP_SAME_CLASS", same_class)
        .env("LOCKDEP_REPORT_DIR", dir.join("reports"))
        .env("LOCKDEP_TRACE", &trace)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let file = std::fs::read_dir(dir.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a report file");
    let doc: Document = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let trace = std::fs::read_to_string(&trace).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (doc, trace)
}

/// The body the child runs: philosophers, a ring through `Arc::default()`, and locks always
/// taken in index order.
#[test]
fn child_program() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let forks: Vec<Arc<Mutex<()>>> = (0..5).map(|_| Arc::new(Mutex::new(()))).collect();
    philosophers(&forks);
    let ordered: Vec<Mutex<()>> = (0..50).map(|_| Mutex::new(())).collect();
    for w in ordered.windows(2) {
        let _a = w[0].lock();
        let _b = w[1].lock();
    }
}

fn verdicts(doc: &Document) -> Vec<(Kind, Vec<String>)> {
    let mut v: Vec<(Kind, Vec<String>)> = doc
        .reports
        .iter()
        .map(|r| {
            let mut c = r.classes.clone();
            c.sort();
            c.dedup();
            (r.kind, c)
        })
        .collect();
    v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    v
}

#[test]
fn traces_recorded_in_each_mode_replay_to_the_live_verdicts() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    for (mode, kind, count) in
        [("instances", Kind::CircularDependency, 1), ("strict", Kind::RecursiveLocking, 2)]
    {
        let (live, trace) = child("child_program", mode);
        let first = trace.lines().next().unwrap();
        let config: serde_json::Value = serde_json::from_str(first).unwrap();
        assert_eq!(
            config,
            serde_json::json!({"op": "config", "same_class": mode, "format": "lockdep-trace/2"})
        );
        let lv = verdicts(&live);
        assert_eq!(lv.len(), count, "{mode}: {lv:?}");
        assert!(lv.iter().all(|(k, _)| *k == kind), "{mode}: {lv:?}");
        let replayed = lockdep_core::trace::replay(&trace, "replay").unwrap();
        assert_eq!(verdicts(&replayed), lv, "{mode}: replay gives the live verdicts");
        // Without its config line the trace replays strict.
        let rest: String = trace.lines().skip(1).map(|l| format!("{l}\n")).collect();
        let strict = verdicts(&lockdep_core::trace::replay(&rest, "replay").unwrap());
        assert!(strict.iter().all(|(k, _)| *k == Kind::RecursiveLocking), "{strict:?}");
    }
}

/// A trace of `n` locks of `n` classes, taken all nested by `n` threads, each starting one
/// further round the ring.
fn rotations(n: usize) -> String {
    let mut t = String::new();
    for k in 0..n {
        let order: Vec<usize> = (0..n).map(|j| (k + j) % n).collect();
        for &l in &order {
            t += &format!("{{\"thread\":\"T{k}\",\"op\":\"acquire\",\"lock\":\"L{l}\"}}\n");
        }
        for &l in order.iter().rev() {
            t += &format!("{{\"thread\":\"T{k}\",\"op\":\"release\",\"lock\":\"L{l}\"}}\n");
        }
    }
    t
}

#[test]
fn one_acquisition_closing_many_cycles_gives_one_report() {
    for (n, expected) in [(5, 4), (45, 44)] {
        let doc = lockdep_core::trace::replay(&rotations(n), "flood").unwrap();
        assert_eq!(doc.reports.len(), expected, "{n} rotating locks");
        for r in &doc.reports {
            assert_eq!(r.kind, Kind::CircularDependency);
            // The shortest cycle: two locks, and the count of the others.
            assert_eq!(r.chain.len(), 2, "{r:#?}");
        }
        let first = &doc.reports[0];
        let mut classes = first.classes.clone();
        classes.sort();
        assert_eq!(classes, ["L0", "L1"], "{first:#?}");
        assert!(
            first.message.contains(&format!("closes {} other cycle(s)", n - 2)),
            "{}",
            first.message
        );
    }
}

#[test]
fn strict_process_setting_makes_the_philosophers_recursive_locking() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let (live, _) = child("child_program", "strict");
    let forks = live.reports.iter().find(|r| r.thread == "philosopher0").expect("reported");
    assert_eq!(forks.kind, Kind::RecursiveLocking, "{forks:#?}");
}
