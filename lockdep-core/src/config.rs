//! Runtime configuration: one [`Config`], resolved once (from the environment, or installed
//! from code before the first lock is taken), then adjustable at run time for the two settings
//! a harness changes (the reaction to reports and the report folder).
//!
//! This module is the bottom layer of the crate: it imports nothing of it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{OnceLock, RwLock};

/// What happens when the validator finds a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnReport {
    /// Print the report, write the report file, then panic in the offending thread
    /// (before it blocks on the lock).
    Panic,
    /// Print the report, write the report file, and go on. Each distinct problem is reported
    /// once.
    Warn,
    /// No validation at all.
    Off,
}

/// When backtraces of acquisitions are captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backtrace {
    /// Never (trace replay, or `LOCKDEP_BACKTRACE=off`).
    Off,
    /// When an acquisition makes a new chain (the slow path only): the default.
    NewChains,
    /// At every acquisition, so both sides of every edge have stacks (diagnostics: every
    /// acquisition takes the slow path).
    Always,
}

/// How two different instances of one lock class nesting each other are judged.
///
/// A class whose key is [`LockClassKey::new_strict`](crate::LockClassKey::new_strict) is
/// strict in both settings; the same lock taken twice is `recursive_locking` in both. A
/// recorded trace starts with the setting, so that replay gives the live verdicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameClass {
    /// Learn an order between the instances of a class that nests itself.
    Instances,
    /// The kernel's rule: nesting without distinct subclasses is `recursive_locking`.
    Strict,
}

/// The validator's configuration.
///
/// Resolved once per process: [`Config::install`] before the first tracked lock, else
/// [`Config::from_env`] on first use. Each field's doc names its environment variable; a bad
/// value warns once, naming the variable and the accepted values, and the default is used.
///
/// # Examples
///
/// ```
/// use lockdep_core::{Backtrace, Config, OnReport};
///
/// let mut c = Config::from_env();
/// c.on_report = OnReport::Warn;
/// c.backtrace = Backtrace::Off;
/// c.install().expect("installed before the first tracked lock");
/// assert_eq!(lockdep_core::on_report(), OnReport::Warn);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// `LOCKDEP` = `panic` | `warn` | `off` (default `warn`).
    pub on_report: OnReport,
    /// `LOCKDEP_REPORT_DIR`: where the process's report file goes, made absolute at
    /// resolution (a later `chdir` does not move it). Default: `lockdep/` in the cargo target
    /// folder that holds the running executable, else `target/lockdep`.
    pub report_dir: PathBuf,
    /// `LOCKDEP_BACKTRACE` = `new` (default) | `always` | `off`.
    pub backtrace: Backtrace,
    /// `LOCKDEP_TRACE`: a file to record every lock event into (JSON Lines, replayable with
    /// `lockdep-report replay`). Default: none.
    pub trace: Option<PathBuf>,
    /// `LOCKDEP_SAME_CLASS` = `instances` (default) | `strict`.
    pub same_class: SameClass,
    /// `LOCKDEP_MAX_CLASSES`: lock classes (graph nodes) the validator keeps (default
    /// 131072). Reaching it is reported once (rule `max_lock_classes`), then validation turns
    /// itself off for the process, like the kernel's `MAX_LOCKDEP_KEYS`.
    pub max_classes: usize,
    /// `LOCKDEP_MAX_CHAINS`: distinct lock chains the validator keeps (default 1048576);
    /// reaching it is reported once (rule `max_lock_chains`), then validation turns off.
    pub max_chains: usize,
    /// `LOCKDEP_MAX_STACKS`: captured backtraces the validator keeps (default 32768), like
    /// the kernel's `MAX_STACK_TRACE_ENTRIES`. Reaching it is said once on stderr; from then
    /// on no new stack is captured (reports say so in their message) and validation goes on.
    pub max_stacks: usize,
}

/// A positive integer variable, or the warning that names it.
fn parse_count(name: &str, default: usize, warnings: &mut Vec<String>) -> usize {
    let Ok(raw) = std::env::var(name) else { return default };
    match raw.trim().parse::<usize>() {
        Ok(n) if n > 0 => n,
        _ if raw.trim().is_empty() => default,
        _ => {
            warnings.push(format!(
                "lockdep: {name}={raw:?} is not a positive integer; using the default {default}"
            ));
            default
        }
    }
}

/// A variable's value, parsed, or the warning that names what is accepted.
fn parse_var<T: Copy>(
    name: &str,
    default: T,
    table: &[(&str, T)],
    warnings: &mut Vec<String>,
) -> T {
    let Ok(raw) = std::env::var(name) else { return default };
    let v = raw.trim().to_ascii_lowercase();
    if v.is_empty() {
        return default;
    }
    match table.iter().find(|(k, _)| *k == v) {
        Some(&(_, t)) => t,
        None => {
            let accepted: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
            warnings.push(format!(
                "lockdep: {name}={raw:?} is not one of {}; using the default",
                accepted.join("|")
            ));
            default
        }
    }
}

impl Config {
    /// The defaults, ignoring the environment.
    pub fn new() -> Config {
        Config {
            on_report: OnReport::Warn,
            report_dir: absolute(&default_report_dir()),
            backtrace: Backtrace::NewChains,
            trace: None,
            same_class: SameClass::Instances,
            max_classes: 1 << 17,
            max_chains: 1 << 20,
            max_stacks: 1 << 15,
        }
    }

    /// Reads the configuration from the environment; bad values are warned about on stderr
    /// (each once per call) and replaced by their defaults.
    pub fn from_env() -> Config {
        let (c, warnings) = Config::from_env_quiet();
        for w in warnings {
            eprintln!("{w}");
        }
        c
    }

    /// [`from_env`](Self::from_env), returning the warnings instead of printing them.
    pub fn from_env_quiet() -> (Config, Vec<String>) {
        let mut w = Vec::new();
        let d = Config::new();
        let on_report = parse_var(
            "LOCKDEP",
            d.on_report,
            &[
                ("panic", OnReport::Panic),
                ("warn", OnReport::Warn),
                ("on", OnReport::Warn),
                ("1", OnReport::Warn),
                ("off", OnReport::Off),
                ("0", OnReport::Off),
            ],
            &mut w,
        );
        let backtrace = parse_var(
            "LOCKDEP_BACKTRACE",
            d.backtrace,
            &[
                ("new", Backtrace::NewChains),
                ("always", Backtrace::Always),
                ("off", Backtrace::Off),
                ("0", Backtrace::Off),
            ],
            &mut w,
        );
        let same_class = parse_var(
            "LOCKDEP_SAME_CLASS",
            d.same_class,
            &[("instances", SameClass::Instances), ("strict", SameClass::Strict)],
            &mut w,
        );
        let report_dir = match std::env::var_os("LOCKDEP_REPORT_DIR") {
            Some(dir) if !dir.is_empty() => absolute(Path::new(&dir)),
            _ => d.report_dir,
        };
        let trace = std::env::var_os("LOCKDEP_TRACE")
            .filter(|p| !p.is_empty())
            .map(|p| absolute(Path::new(&p)));
        let max_classes = parse_count("LOCKDEP_MAX_CLASSES", d.max_classes, &mut w);
        let max_chains = parse_count("LOCKDEP_MAX_CHAINS", d.max_chains, &mut w);
        let max_stacks = parse_count("LOCKDEP_MAX_STACKS", d.max_stacks, &mut w);
        let c = Config {
            on_report,
            report_dir,
            backtrace,
            trace,
            same_class,
            max_classes,
            max_chains,
            max_stacks,
        };
        (c, w)
    }

    /// Makes this the process's configuration, replacing the one read from the environment.
    /// Fails (giving `self` back) once the validator is in use (the first tracked lock made
    /// it, with the backtrace setting of that moment): install it first thing in `main` or a
    /// test harness. The trace file is opened at start-up, so `trace` takes effect only
    /// through `LOCKDEP_TRACE`.
    pub fn install(self) -> Result<(), Config> {
        if SEALED.load(Ordering::SeqCst) {
            return Err(self);
        }
        let mode = encode(self.on_report);
        let mut slot = Some(self);
        let c = RESOLVED.get_or_init(|| RwLock::new(slot.take().expect("taken once")));
        if let Some(new) = slot {
            *c.write().unwrap_or_else(|e| e.into_inner()) = new;
        }
        MODE.store(mode, Ordering::Relaxed);
        changed();
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// `lockdep/` in the cargo target folder that holds the running executable: the nearest
/// ancestor holding cargo's `CACHEDIR.TAG` (so `CARGO_TARGET_DIR`, `build.target-dir` and
/// `--target` triples all work), else the nearest one named `target`, else `target/lockdep`.
fn default_report_dir() -> PathBuf {
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.ancestors().skip(1).find(|d| d.join("CACHEDIR.TAG").is_file()) {
            return dir.join("lockdep");
        }
        if let Some(dir) = exe.ancestors().find(|d| d.file_name().is_some_and(|n| n == "target")) {
            return dir.join("lockdep");
        }
    }
    PathBuf::from("target").join("lockdep")
}

/// The one configuration of the process, once resolved.
static RESOLVED: OnceLock<RwLock<Config>> = OnceLock::new();
/// Mirror of the resolved `on_report` for the hot path: 0 = not read yet, else 1 + variant.
static MODE: AtomicU8 = AtomicU8::new(0);
/// Set when the process-wide validator is made: [`Config::install`] fails from then on.
static SEALED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Marks the configuration as in use by the process-wide validator.
pub(crate) fn seal() {
    SEALED.store(true, Ordering::SeqCst);
}

/// The configuration, resolving it on first use; `None` when called again by this thread
/// while it resolves it (reading the environment allocates, and a lock in a
/// `#[global_allocator]` may then ask whether validation is on: it is not, yet).
fn resolved() -> Option<&'static RwLock<Config>> {
    thread_local! {
        static RESOLVING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if let Some(c) = RESOLVED.get() {
        return Some(c);
    }
    if RESOLVING.try_with(|r| r.replace(true)).unwrap_or(true) {
        return None;
    }
    let c = RESOLVED.get_or_init(|| RwLock::new(Config::from_env()));
    let _ = RESOLVING.try_with(|r| r.set(false));
    Some(c)
}

/// The process configuration (resolved on first use).
pub fn config() -> Config {
    match resolved() {
        Some(c) => c.read().unwrap_or_else(|e| e.into_inner()).clone(),
        None => Config { on_report: OnReport::Off, ..Config::new() },
    }
}

fn update(f: impl FnOnce(&mut Config)) {
    if let Some(c) = resolved() {
        let mut c = c.write().unwrap_or_else(|e| e.into_inner());
        f(&mut c);
        MODE.store(encode(c.on_report), Ordering::Relaxed);
        drop(c);
        changed();
    }
}

/// Called after every change of the configuration (the hot path's "fast path allowed" flag
/// caches the mode: the process-wide instance registers its refresh here, so this bottom
/// layer names nothing above it).
static ON_CHANGE: OnceLock<fn()> = OnceLock::new();

/// Registers `f` to run after every change of the configuration (once per process).
pub(crate) fn on_change(f: fn()) {
    let _ = ON_CHANGE.set(f);
}

fn changed() {
    if let Some(f) = ON_CHANGE.get() {
        f();
    }
}

/// The folder report files go to.
pub fn report_dir() -> PathBuf {
    match resolved() {
        Some(c) => c.read().unwrap_or_else(|e| e.into_inner()).report_dir.clone(),
        None => Config::new().report_dir,
    }
}

/// Sends report files to `dir` from now on (e.g. a command-line `--report-dir`); a relative
/// path is made absolute now.
pub fn set_report_dir(dir: impl Into<PathBuf>) {
    let dir = absolute(&dir.into());
    update(|c| c.report_dir = dir);
}

fn encode(m: OnReport) -> u8 {
    match m {
        OnReport::Panic => 1,
        OnReport::Warn => 2,
        OnReport::Off => 3,
    }
}

/// The current reaction to reports.
#[inline]
pub fn on_report() -> OnReport {
    match MODE.load(Ordering::Relaxed) {
        1 => OnReport::Panic,
        2 => OnReport::Warn,
        3 => OnReport::Off,
        _ => on_report_slow(),
    }
}

#[cold]
fn on_report_slow() -> OnReport {
    let Some(c) = resolved() else { return OnReport::Off };
    let m = c.read().unwrap_or_else(|e| e.into_inner()).on_report;
    let _ = MODE.compare_exchange(0, encode(m), Ordering::Relaxed, Ordering::Relaxed);
    m
}

/// Overrides the reaction to reports for the whole process (e.g. `Panic` in a test harness).
/// Switching to or from `Off` while locks are held is allowed: locks taken while validation
/// was off are not tracked, and releases of tracked locks are recorded even while it is off.
pub fn set_on_report(mode: OnReport) {
    update(|c| c.on_report = mode);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_warn_naming_the_variable_and_the_accepted_values() {
        let mut w = Vec::new();
        let table = [("a", 1), ("b", 2)];
        // No other test of this binary reads this variable.
        std::env::set_var("LOCKDEP_TEST_ONLY_VAR", "zzz");
        assert_eq!(parse_var("LOCKDEP_TEST_ONLY_VAR", 7, &table, &mut w), 7);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("LOCKDEP_TEST_ONLY_VAR=\"zzz\"") && w[0].contains("a|b"), "{w:?}");
        std::env::set_var("LOCKDEP_TEST_ONLY_VAR", " B ");
        assert_eq!(parse_var("LOCKDEP_TEST_ONLY_VAR", 7, &table, &mut w), 2);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn default_report_dir_is_absolute() {
        assert!(Config::new().report_dir.is_absolute());
    }
}
