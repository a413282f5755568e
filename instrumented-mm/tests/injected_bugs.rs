//! Each injected bug, run by the torture binary in its own process (the validator's graph is
//! process-wide), must produce the expected report naming the expected classes.

use std::path::PathBuf;
use std::process::Command;

use instrumented_mm::Bug;
use lockdep_core::report::Document;
use lockdep_core::Kind;

fn run_bug(bug: Bug) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("injected-bugs").join(bug.name());
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_instrumented-mm"))
        .args(["torture", "--threads", "4", "--seconds", "20", "--quiet", "--bug", bug.name()])
        .env("LOCKDEP_REPORT_DIR", &dir)
        .env_remove("LOCKDEP")
        .output()
        .expect("run the torture binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{bug}: exit status {:?}\n{stdout}", out.status);
    let mut reports = Vec::new();
    for e in std::fs::read_dir(&dir).expect("report dir") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "json") {
            let doc = Document::from_json(&std::fs::read_to_string(&p).expect("read"))
                .expect("valid report file");
            reports.extend(doc.reports);
        }
    }
    let want = bug.expected();
    let hit = reports
        .iter()
        .find(|r| {
            r.kind == want.kind && want.classes.iter().all(|c| r.classes.iter().any(|x| x == c))
        })
        .unwrap_or_else(|| {
            panic!(
                "{bug}: no {} report naming {:?}; got {:?}\n{stdout}",
                want.kind,
                want.classes,
                reports.iter().map(|r| (r.kind, r.classes.clone())).collect::<Vec<_>>()
            )
        });
    assert!(!hit.message.is_empty(), "{bug}: empty message");
    assert!(!hit.scenario.is_empty(), "{bug}: empty unsafe scenario");
    match want.kind {
        Kind::CircularDependency | Kind::RecursiveLocking => {
            assert!(!hit.scenario.is_empty(), "{bug}: empty unsafe scenario");
            assert!(
                hit.scenario.iter().any(|s| s.action.contains("wait")),
                "{bug}: the scenario shows no waiting step: {:?}",
                hit.scenario
            );
        }
        // The sleeping-under-spinlock bug must also show the deadlock it leads to.
        Kind::InvalidWaitContext => assert!(
            reports.iter().any(|r| r.kind == Kind::CircularDependency && !r.scenario.is_empty()),
            "{bug}: no deadlock scenario"
        ),
        _ => assert!(hit.rule.is_some(), "{bug}: class violation without its rule"),
    }
    assert!(stdout.contains("report file:"), "{bug}: summary without the report file\n{stdout}");
}

macro_rules! bug_tests {
    ($($name:ident => $bug:expr,)*) => {$(
        #[test]
        fn $name() {
            run_bug($bug);
        }
    )*};
}

bug_tests! {
    anon_prepare_mmap_read => Bug::AnonPrepareMmapRead,
    new_vma_i_mmap_first => Bug::NewVmaIMmapFirst,
    khugepaged_retract_vma_write => Bug::KhugepagedRetractVmaWrite,
    driver_mmap_inversion => Bug::DriverMmapInversion,
    uffd_move_no_subclass => Bug::UffdMoveNoSubclass,
    fork_no_nesting => Bug::ForkNoNesting,
    sleep_under_ptl => Bug::SleepUnderPtl,
    fault_under_mmap_write => Bug::FaultUnderMmapWrite,
    reclaim_remote_access => Bug::ReclaimRemoteAccess,
    vma_flags_unlocked => Bug::VmaFlagsUnlocked,
}

#[test]
fn every_bug_has_a_test_and_parses() {
    assert_eq!(Bug::ALL.len(), 10);
    for b in Bug::ALL {
        assert_eq!(b.name().parse::<Bug>(), Ok(b));
    }
    assert!("no-such-bug".parse::<Bug>().is_err());
}

#[test]
fn bad_arguments_exit_2() {
    let st = Command::new(env!("CARGO_BIN_EXE_instrumented-mm"))
        .args(["torture", "--bug", "no-such-bug"])
        .status()
        .expect("run");
    assert_eq!(st.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_instrumented-mm"))
        .arg("--list-bugs")
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("uffd-move-no-subclass"));
}
