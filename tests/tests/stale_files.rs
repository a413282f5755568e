//! Each run of a test binary replaces its own earlier report files: at start-up the process
//! files of its program's earlier runs are removed, and at its first `#[lockdep_core::test]`
//! the per-test files of its package and crate; the files of a process that still runs and of
//! other programs are kept. Per-test file names carry the package, so two crates whose test
//! files share a name never share report files.
//!
//! Each scenario runs this binary again as a child, with the report folder of the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use lockdep_core::Mutex;

const CHILD: &str = "LOCKDEP_STALE_CHILD";

fn program() -> String {
    std::env::current_exe().unwrap().file_stem().unwrap().to_string_lossy().into_owned()
}

/// A small report document by `pid`, last modified `age` ago.
fn plant(dir: &Path, name: &str, pid: u32, age: Duration) -> PathBuf {
    let path = dir.join(name);
    let doc = format!(
        r#"{{"schema":"lockdep-report/1","program":"old","pid":{pid},"reports":[],"graph":{{}}}}"#
    );
    std::fs::write(&path, doc).unwrap();
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
    path
}

/// Runs `test` of this binary as a child writing into `dir`; through `sh` when `via_shell`
/// (so the child's parent starts now, as a new `cargo test` would).
fn run_child(test: &str, dir: &Path, via_shell: bool) {
    let exe = std::env::current_exe().unwrap();
    let mut c = if via_shell {
        let mut c = Command::new("sh");
        c.args(["-c", "\"$0\" \"$@\"; exit $?"]).arg(exe);
        c
    } else {
        Command::new(exe)
    };
    let out = c
        .args(["--exact", test, "--test-threads", "1"])
        .env(CHILD, "1")
        .env("LOCKDEP", "warn")
        .env("LOCKDEP_REPORT_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lockdep-stale-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A pid no process has (above the kernel's `pid_max` limit).
const DEAD: u32 = 999_999_999;

/// The child: one tracked lock (so it writes a process file), as a lockdep test.
#[lockdep_core::test]
fn takes_a_lock() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let m = Mutex::new(1);
    *m.lock() += 1;
}

#[test]
fn an_earlier_runs_files_are_gone_after_a_new_run() {
    let dir = fresh_dir("earlier");
    let hour = Duration::from_secs(3600);
    let program = program();
    let main = plant(&dir, &format!("{program}-{DEAD}-1f2e.json"), DEAD, hour);
    let single = plant(&dir, &format!("{program}-{DEAD}-1f2e.r3.json"), DEAD, hour);
    let per_test = plant(&dir, "lockdep-tests.stale_files__renamed_test.json", DEAD, hour);
    let other_program = plant(&dir, &format!("other-{DEAD}-1f2e.json"), DEAD, hour);
    let other_crate = plant(&dir, "lockdep-tests.faults__some_test.json", DEAD, hour);
    // Written during this test's run (after this process, the child's parent, started).
    let this_run = plant(&dir, &format!("{program}-{DEAD}-2f2e.json"), DEAD, Duration::ZERO);
    run_child("takes_a_lock", &dir, false);
    for gone in [&main, &single, &per_test] {
        assert!(!gone.exists(), "{} of an earlier run is left", gone.display());
    }
    for kept in [&other_program, &other_crate, &this_run] {
        assert!(kept.exists(), "{} was removed", kept.display());
    }
    // The new run's own files: its process file, and the per-test file named with the package.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "lockdep-tests.stale_files__takes_a_lock.json"), "{names:?}");
    assert_eq!(names.iter().filter(|n| n.starts_with(&format!("{program}-"))).count(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_running_process_keeps_its_files() {
    let dir = fresh_dir("live");
    // A process that runs on, with files written after it started.
    let mut live = Command::new("sleep").arg("60").spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let program = program();
    let main =
        plant(&dir, &format!("{program}-{}-1f2e.json", live.id()), live.id(), Duration::ZERO);
    let per_test =
        plant(&dir, "lockdep-tests.stale_files__running_test.json", live.id(), Duration::ZERO);
    // A new run whose parent (`sh`) starts after those files were written: by age alone they
    // would be an earlier run's.
    std::thread::sleep(Duration::from_millis(3500));
    run_child("takes_a_lock", &dir, true);
    let _ = live.kill();
    let _ = live.wait();
    assert!(main.exists(), "the running process's file was removed");
    assert!(per_test.exists(), "the running process's per-test file was removed");
    let _ = std::fs::remove_dir_all(&dir);
}
