//! Reports: the `lockdep-report/1` data model, the kernel-style text rendering, and atomic
//! report-file writing. Other renderers (HTML, DOT, SARIF) live in the `lockdep-reports` crate.

mod adjacency;
mod model;
mod scenario;
mod text;

pub use model::*;
pub use scenario::{cycle_scenario, recursive_scenario, verb};
#[cfg(not(feature = "off"))]
pub(crate) use text::PREDICATE_MESSAGE;
pub use text::{render_document, render_report, NO_DEBUG_INFO_HINT};
pub use text::{render_document_styled, render_report_styled, Ansi, Plain, Role, Style};

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: a uniquely named temp file in the same folder, flushed
/// and synced, then renamed over `path`. Readers see the old file or the new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_replacing(path, bytes, true)
}

/// Writes `bytes` to `path` through a uniquely named temp file in the same folder renamed over
/// `path` (readers see the old file or the new one, never a part); `sync` also flushes the
/// data to the disk before the rename (what survives a machine crash, not only a process's).
pub fn write_replacing(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("report");
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{seq}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if sync {
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
