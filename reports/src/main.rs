//! `lockdep-report`: replay traces, check, merge and render lockdep report documents.
//! See `lockdep-report --help` and the crate README.

use std::io::IsTerminal;

fn main() {
    // Never show a backtrace to a user: an internal error is one line and exit status 2.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("lockdep-report: internal error: {msg}");
    }));
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let code = std::panic::catch_unwind(|| {
        let stdout = std::io::stdout();
        let out_is_terminal = stdout.is_terminal();
        let mut out = stdout.lock();
        let mut err = std::io::stderr().lock();
        let mut io = lockdep_reports::cli::Io { out: &mut out, err: &mut err, out_is_terminal };
        lockdep_reports::cli::run(&args, &mut io)
    })
    .unwrap_or(lockdep_reports::cli::EXIT_ERROR);
    std::process::exit(code);
}
