//! `declare` round trip on a real program: a small crate (written here, built by a nested
//! cargo with lockdep-core from this workspace) runs a workload and leaves its report file;
//! `lockdep-report declare` turns the observed order into a `lock_rules!` declaration, which is
//! compiled into the same crate; the workload then runs under the declaration with no report,
//! and one inverted acquisition breaks the declared order (a `class_violation`).
//!
//! The nested build uses its own target folder beside the outer one
//! (`TARGET_DIR/declare-it`), so it never waits on the outer build's lock and is reused
//! between runs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (this crate's parent).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// `TARGET_DIR/declare-it` (the report tool is `TARGET_DIR/<profile>/lockdep-report`).
fn nested_dir() -> PathBuf {
    let exe = Path::new(env!("CARGO_BIN_EXE_lockdep-report"));
    exe.parent().unwrap().parent().unwrap().join("declare-it")
}

const MAIN_RS: &str = r#"//! A bank with two independent groups of locks.
use lockdep_core::{LockClassKey, Mutex};

pub static ACCOUNTS: LockClassKey = LockClassKey::new("bank::accounts");
pub static JOURNAL: LockClassKey = LockClassKey::new("bank::journal");
pub static AUDIT: LockClassKey = LockClassKey::new("bank::audit");
pub static CACHE: LockClassKey = LockClassKey::new("bank::cache");
pub static STATS: LockClassKey = LockClassKey::new("bank::stats");

include!("order.rs");

fn main() {
    let mode = std::env::args().nth(1).expect("observe | declared | inverted | inverted-undeclared");
    if mode == "declared" || mode == "inverted" {
        declare_observed_lock_order();
    }
    // The inverted runs take journal then accounts and nothing in the other order: the only
    // thing that can object is the declaration.
    let inverted = mode.starts_with("inverted");
    let accounts = Mutex::with_key(100u64, &ACCOUNTS);
    let journal = Mutex::with_key(Vec::<u64>::new(), &JOURNAL);
    let audit = Mutex::with_key(0u64, &AUDIT);
    let cache = Mutex::with_key(0u64, &CACHE);
    let stats = Mutex::with_key(0u64, &STATS);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut a = accounts.lock();
            *a -= 1;
            if !inverted {
                journal.lock().push(1);
            }
            *audit.lock() += 1;
        });
    });
    {
        let j = journal.lock();
        *audit.lock() += j.len() as u64;
    }
    {
        let _c = cache.lock();
        *stats.lock() += 1;
    }
    if inverted {
        let j = journal.lock();
        *accounts.lock() += j.len() as u64;
    }
    for r in lockdep_core::reports() {
        println!("report {} {}", r.kind, r.classes.join(","));
    }
    println!("reports {}", lockdep_core::reports().len());
}
"#;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cargo_run(krate: &Path, mode: &str, report_dir: &Path) -> Run {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["run", "-q", "--manifest-path"])
        .arg(krate.join("Cargo.toml"))
        .args(["--", mode])
        .env("CARGO_TARGET_DIR", nested_dir().join("target"))
        .env("LOCKDEP", "warn")
        .env("LOCKDEP_REPORT_DIR", report_dir)
        .env_remove("LOCKDEP_TRACE")
        .output()
        .expect("run cargo");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn fresh(dir: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    dir.to_path_buf()
}

#[test]
fn a_declared_order_compiles_holds_on_its_workload_and_catches_an_inversion() {
    let base = nested_dir();
    let krate = base.join("bank");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    let core = workspace().join("lockdep-core");
    std::fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"bank\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nlockdep-core = {{ path = {:?} }}\n\n\
             # Not a member of the outer workspace.\n[workspace]\n",
            core.display().to_string()
        ),
    )
    .unwrap();
    // The outer workspace's lock file: the same dependency versions, nothing to resolve anew.
    std::fs::copy(workspace().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    std::fs::write(krate.join("src/main.rs"), MAIN_RS).unwrap();
    let order = krate.join("src/order.rs");
    std::fs::write(&order, "fn declare_observed_lock_order() {}\n").unwrap();

    // 1. Observe: the workload alone, no declaration, no report; its report file has the graph.
    let observed = fresh(&base.join("observed"));
    let o = cargo_run(&krate, "observe", &observed);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("reports 0"), "{}", o.stdout);

    // 2. Declare: the observed order as Rust source, written into the crate.
    let o = Command::new(env!("CARGO_BIN_EXE_lockdep-report"))
        .arg("declare")
        .arg(&observed)
        .arg("-o")
        .arg(&order)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&order).unwrap();
    assert!(text.contains("order ACCOUNTS => JOURNAL => AUDIT;"), "{text}");
    assert!(text.contains("order CACHE => STATS;"), "{text}");

    // 3. The declaration compiles into the crate and holds on the workload it came from.
    let declared = fresh(&base.join("declared"));
    let o = cargo_run(&krate, "declared", &declared);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("reports 0"),
        "declared order broken on its own workload: {}",
        o.stdout
    );
    let o = Command::new(env!("CARGO_BIN_EXE_lockdep-report"))
        .arg("check")
        .arg(&declared)
        .arg("--declared")
        .arg(&order)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("0 contradicting, 0 undeclared"), "{stderr}");

    // 4. Without the declaration the inverted workload is clean (journal -> accounts alone is
    // no cycle)...
    let undeclared = fresh(&base.join("inverted-undeclared"));
    let o = cargo_run(&krate, "inverted-undeclared", &undeclared);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("reports 0"), "{}", o.stdout);
    // ...and under it the inverted acquisition breaks the declared order.
    let inverted = fresh(&base.join("inverted"));
    let o = cargo_run(&krate, "inverted", &inverted);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("report class_violation bank::journal,bank::accounts")
            || o.stdout.contains("report class_violation bank::accounts,bank::journal"),
        "{}\n{}",
        o.stdout,
        o.stderr
    );
    assert!(o.stdout.contains("reports 1"), "one report, no follow-on: {}", o.stdout);
}
