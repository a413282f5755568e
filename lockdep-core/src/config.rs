//! Runtime configuration, read once from the environment.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

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

impl OnReport {
    fn parse(s: &str) -> Option<OnReport> {
        match s.trim().to_ascii_lowercase().as_str() {
            "panic" => Some(OnReport::Panic),
            "warn" | "on" | "1" | "" => Some(OnReport::Warn),
            "off" | "0" => Some(OnReport::Off),
            _ => None,
        }
    }
}

/// The validator's configuration.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// `LOCKDEP` = `panic` | `warn` | `off` (default `warn`).
    pub on_report: OnReport,
    /// `LOCKDEP_REPORT_DIR`: where the process's report file goes. Default: `lockdep/` in
    /// the cargo target folder that holds the running executable, else `target/lockdep`.
    pub report_dir: PathBuf,
    /// `LOCKDEP_BACKTRACE` = `new` (default: capture a backtrace only when an acquisition
    /// makes a new chain) | `always` (at every acquisition, so every edge's held side has its
    /// stack too; slow: every acquisition takes the validator's lock) | `off`.
    pub backtraces: bool,
    /// `LOCKDEP_BACKTRACE=always`.
    pub backtraces_always: bool,
}

impl Config {
    /// Reads the configuration from the environment.
    pub fn from_env() -> Config {
        let on_report = match std::env::var("LOCKDEP") {
            Ok(v) => OnReport::parse(&v).unwrap_or_else(|| {
                eprintln!("lockdep: LOCKDEP={v:?} is not one of panic|warn|off; using warn");
                OnReport::Warn
            }),
            Err(_) => OnReport::Warn,
        };
        let report_dir = match std::env::var_os("LOCKDEP_REPORT_DIR") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => default_report_dir(),
        };
        let bt = std::env::var("LOCKDEP_BACKTRACE").unwrap_or_default();
        let backtraces = !matches!(bt.as_str(), "off" | "0");
        let backtraces_always = bt == "always";
        Config { on_report, report_dir, backtraces, backtraces_always }
    }
}

fn default_report_dir() -> PathBuf {
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors() {
            if dir.file_name().is_some_and(|n| n == "target") {
                return dir.join("lockdep");
            }
        }
    }
    PathBuf::from("target").join("lockdep")
}

static CONFIG: OnceLock<Config> = OnceLock::new();
static REPORT_DIR: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

/// The folder report files go to: [`set_report_dir`]'s, else `LOCKDEP_REPORT_DIR`'s, else
/// the default.
pub fn report_dir() -> PathBuf {
    let overridden = REPORT_DIR.lock().unwrap_or_else(|e| e.into_inner()).clone();
    overridden.unwrap_or_else(|| config().report_dir.clone())
}

/// Sends report files to `dir` from now on (e.g. a command-line `--report-dir`).
pub fn set_report_dir(dir: impl Into<PathBuf>) {
    *REPORT_DIR.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir.into());
}
/// 0 = not yet read, else OnReport as 1 + index.
static MODE: AtomicU8 = AtomicU8::new(0);

/// The process configuration (read from the environment on first use).
pub fn config() -> &'static Config {
    CONFIG.get_or_init(Config::from_env)
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
        _ => {
            let m = config().on_report;
            let _ = MODE.compare_exchange(0, encode(m), Ordering::Relaxed, Ordering::Relaxed);
            on_report()
        }
    }
}

/// Overrides the reaction to reports for the whole process (e.g. `Panic` in a test harness).
/// Switching to or from `Off` while locks are held is allowed: a release of a lock that was
/// acquired while validation was off is ignored.
pub fn set_on_report(mode: OnReport) {
    MODE.store(encode(mode), Ordering::Relaxed);
}
