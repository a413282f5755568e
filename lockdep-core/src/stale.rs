//! Files of earlier runs in the report folder: each run of a program replaces its own earlier
//! files, so reports from before a fix do not keep `lockdep-report check` failing, and never
//! touches the files of a process that still runs or of another program.
//!
//! A file is *from an earlier run* when its writer no longer runs (`/proc/<pid>` is gone, or
//! that pid now belongs to a process started after the file was written) and it was last
//! written before this run began: before this process's parent started (the `cargo test` or
//! `cargo nextest run` that runs the test binaries: files of the same run, written by earlier
//! processes of that parent, are kept) or before this executable was built. Linux only
//! (`/proc`); elsewhere nothing is removed.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How far a start time read from `/proc` (boot time in whole seconds plus clock ticks) may be
/// off.
const SLACK: Duration = Duration::from_secs(2);

/// The start time of process `pid`, from `/proc/<pid>/stat` and the boot time.
fn started(pid: u32) -> Option<SystemTime> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces and parentheses): the state is
    // field 3, the start time (clock ticks after boot) field 22.
    let ticks: u64 = stat.rsplit_once(')')?.1.split_whitespace().nth(19)?.parse().ok()?;
    let boot: u64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    // SAFETY: `sysconf` only reads a system constant.
    let hz = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).ok().filter(|&h| h > 0)?;
    Some(UNIX_EPOCH + Duration::from_secs(boot) + Duration::from_millis(ticks * 1000 / hz))
}

/// Whether the process that wrote a file last modified at `written`, `pid`, may still run: the
/// pid runs and did not start after the file was written. When in doubt, yes.
fn may_run(pid: u32, written: SystemTime) -> bool {
    if !Path::new(&format!("/proc/{pid}")).exists() {
        return false;
    }
    started(pid).is_none_or(|s| s <= written + SLACK)
}

/// When this run began: the later of the parent process's start and the executable's build.
fn run_began() -> Option<SystemTime> {
    let parent = started(std::os::unix::process::parent_id());
    let built = std::env::current_exe().and_then(std::fs::metadata).and_then(|m| m.modified()).ok();
    parent.max(built)
}

/// Whether the file at `path`, written by `pid`, is from an earlier run (see the module doc).
fn earlier_run(path: &Path, pid: u32) -> bool {
    if pid == std::process::id() || !Path::new("/proc/self").exists() {
        return false;
    }
    let Some(written) = std::fs::metadata(path).and_then(|m| m.modified()).ok() else {
        return false;
    };
    let Some(began) = run_began() else { return false };
    written + SLACK < began && !may_run(pid, written)
}

/// The pid in a process report file's name, `<program>-<pid>-<start>.json` or
/// `<program>-<pid>-<start>.r<n>.json`, if the file is one of `program`'s.
fn process_file_pid(name: &str, program: &str) -> Option<u32> {
    let stem = name.strip_suffix(".json")?;
    let stem = match stem.rsplit_once(".r") {
        Some((s, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => s,
        _ => stem,
    };
    let mut parts = stem.rsplitn(3, '-');
    let start = parts.next()?;
    let pid = parts.next()?.parse().ok()?;
    (parts.next()? == program && u64::from_str_radix(start, 16).is_ok()).then_some(pid)
}

/// The writer's pid recorded at the head of a report document (`"pid":` comes right after
/// the program's name).
fn document_pid(path: &Path) -> Option<u32> {
    use std::io::Read;
    let mut head = [0u8; 4096];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let head = String::from_utf8_lossy(&head[..n]);
    let rest = &head[head.find("\"pid\":")? + 6..];
    let digits: String = rest.trim_start().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Removes from `dir` the process report files of `program` (main and single-report files)
/// that earlier runs left.
pub(crate) fn remove_earlier_process_files(dir: &Path, program: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = process_file_pid(&name, program) {
            if earlier_run(&e.path(), pid) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Removes from `dir` the per-test report files named `<prefix>*.json` (one test binary's:
/// its package and crate) that earlier runs left.
pub(crate) fn remove_earlier_test_files(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(prefix) && name.ends_with(".json")) {
            continue;
        }
        if let Some(pid) = document_pid(&e.path()) {
            if earlier_run(&e.path(), pid) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_file_names_are_parsed_for_their_program_only() {
        assert_eq!(process_file_pid("t-0a1b-42-5f3a.json", "t-0a1b"), Some(42));
        assert_eq!(process_file_pid("t-0a1b-42-5f3a.r12.json", "t-0a1b"), Some(42));
        assert_eq!(process_file_pid("t-0a1b-42-5f3a.json", "t"), None);
        assert_eq!(process_file_pid("u-0a1b-42-5f3a.json", "t-0a1b"), None);
        assert_eq!(process_file_pid("t-0a1b-42-5f3a.rx.json", "t-0a1b"), None);
        assert_eq!(process_file_pid("pkg.t__a_test.json", "t-0a1b"), None);
    }

    #[test]
    fn this_process_started_before_now() {
        let s = started(std::process::id()).expect("/proc");
        assert!(s <= SystemTime::now() + SLACK);
        assert!(may_run(std::process::id(), SystemTime::now()));
    }
}
