//! Class names from the source: a lock built without a key is named after what its
//! construction site initialises, read from the source line (`static ACCOUNTS: Mutex<_> =
//! Mutex::new(..)` -> `ACCOUNTS`, a field `cache: Mutex::new(..)` -> `cache`, `let journal =
//! Mutex::new(..)` -> `journal`), and whether a site lies inside std or a dependency.
//!
//! Only the slow paths call this (class registration, a class's name for a report), never an
//! acquisition; each source file is read once per process and each site parsed once. The
//! file is looked for as the compiler named it, relative to the current folder, then to its
//! ancestors, then to the ancestors of `CARGO_MANIFEST_DIR` (a test runs in its package's
//! folder, and the compiler names files relative to the workspace root).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::fork_safe::ForkSafeMutex;

/// Files read so far (`None`: not found), and the name of each site parsed so far.
#[derive(Default)]
pub(crate) struct Cache {
    files: HashMap<String, Option<Arc<str>>>,
    sites: HashMap<(String, u32, u32), Option<Arc<str>>>,
}

/// The cache, a leaf lock (nothing else is taken while it is held), fork-safe (`fork.rs`).
pub(crate) static CACHE: ForkSafeMutex<Option<Cache>> = ForkSafeMutex::new(None);

/// The name of what the construction site `file:line:column` initialises, when the source
/// line can be read and says so; `None` otherwise.
pub(crate) fn name_at(file: &str, line: u32, column: u32) -> Option<Arc<str>> {
    let key = (file.to_string(), line, column);
    if let Some(known) = CACHE.lock().get_or_insert_with(Cache::default).sites.get(&key) {
        return known.clone();
    }
    // Read and parse without the cache's lock (another thread may race to do the same: both
    // get the same answer).
    let text = source(file);
    let name = text.and_then(|t| {
        let lines: Vec<&str> = t.lines().collect();
        let i = (line as usize).checked_sub(1)?;
        name_in(lines.get(i)?, i.checked_sub(1).and_then(|p| lines.get(p).copied()), column)
            .map(Arc::<str>::from)
    });
    CACHE.lock().get_or_insert_with(Cache::default).sites.insert(key, name.clone());
    name
}

/// The text of source file `file`, read once.
fn source(file: &str) -> Option<Arc<str>> {
    if let Some(known) = CACHE.lock().get_or_insert_with(Cache::default).files.get(file) {
        return known.clone();
    }
    let text = candidates(file).into_iter().find_map(|p| std::fs::read_to_string(p).ok());
    let text = text.map(Arc::<str>::from);
    CACHE.lock().get_or_insert_with(Cache::default).files.insert(file.into(), text.clone());
    text
}

/// Where `file` may be: itself when absolute; else relative to the current folder and its
/// ancestors, then to `CARGO_MANIFEST_DIR` and its ancestors.
fn candidates(file: &str) -> Vec<PathBuf> {
    let path = Path::new(file);
    if path.is_absolute() {
        return vec![path.to_path_buf()];
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    if let Some(manifest) = std::env::var_os("CARGO_MANIFEST_DIR") {
        roots.extend(Path::new(&manifest).ancestors().map(Path::to_path_buf));
    }
    roots.into_iter().map(|r| r.join(path)).collect()
}

/// The name initialised by the expression starting at `column` (1-based) of `line`; `above` is
/// the line before, used when the expression starts its line (`static X: T =` then the
/// constructor on the next line).
fn name_in(line: &str, above: Option<&str>, column: u32) -> Option<String> {
    let col = (column as usize).checked_sub(1)?;
    let before: String = line.chars().take(col).collect();
    let mut before = before.trim_end().to_string();
    if before.trim().is_empty() {
        before = above?.trim_end().to_string();
    }
    // Wrappers around the lock: `Arc::new(Mutex::new(..))`, `Box::new(..)`.
    for _ in 0..3 {
        let Some(open) = before.strip_suffix('(') else { break };
        let callee = open.trim_end();
        let start = callee
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '<' || c == '>'))
            .map_or(0, |i| i + 1);
        let path = &callee[start..];
        if !(path.ends_with("::new") || path == "Some") {
            return None;
        }
        before = callee[..start].trim_end().to_string();
    }
    if let Some(left) = before.strip_suffix('=') {
        // `let x =`, `static X: T =`, `self.x =`; not `==`, `<=`, `>=`, `!=`, `=>`.
        if left.ends_with(['=', '<', '>', '!', '+', '-', '*', '/', '%', '&', '|', '^']) {
            return None;
        }
        return binding(left.trim_end());
    }
    if let Some(left) = before.strip_suffix(':') {
        // A struct field `cache: Mutex::new(..)`; not a path `a::`.
        if left.ends_with(':') {
            return None;
        }
        return ident_at_end(left.trim_end()).filter(|_| struct_field_context(left));
    }
    None
}

/// The name bound by the left side of an `=`: after `let` / `static` / `const` (skipping
/// `mut` / `ref`), up to a type annotation; else the last field of an assigned place.
fn binding(left: &str) -> Option<String> {
    let words: Vec<&str> = left.split_whitespace().collect();
    if let Some(i) = words.iter().rposition(|w| matches!(*w, "let" | "static" | "const")) {
        let rest = words[i + 1..].iter().copied().find(|w| !matches!(*w, "mut" | "ref"))?;
        let name = rest.split(':').next()?;
        return is_ident(name).then(|| name.to_string());
    }
    let last = words.last()?;
    let field = last.rsplit('.').next()?;
    is_ident(field).then(|| field.to_string())
}

/// Whether `left` (the text before a field's `:`) is inside a struct literal or at the start
/// of a line (a field on a line of its own), not a type annotation after `let x`.
fn struct_field_context(left: &str) -> bool {
    let head = left.trim_end();
    let head = &head[..head.len() - ident_at_end(head).map_or(0, |n| n.len())];
    let head = head.trim_end();
    head.is_empty() || head.ends_with('{') || head.ends_with(',')
}

fn ident_at_end(s: &str) -> Option<String> {
    let start = s.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
    let name = &s[start..];
    is_ident(name).then(|| name.to_string())
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
        && s != "_"
        && !matches!(s, "self" | "Self" | "return" | "mut" | "let" | "static" | "const")
}

/// Whether `file` (as the compiler named it; or a class name holding such a site) is inside
/// std or a dependency: the standard library's sources (`/rustc/<hash>/library/...`, a
/// toolchain's `rust-src`) or a crate from the cargo registry or a git checkout. Locks built
/// there share one class for every caller.
pub fn is_foreign_file(file: &str) -> bool {
    let f = file.replace('\\', "/");
    ["/rustc/", "/lib/rustlib/src/", "/.cargo/registry/", "/.cargo/git/checkouts/"]
        .iter()
        .any(|m| f.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(line: &str, above: Option<&str>) -> Option<String> {
        let col = line.find("Mutex::").expect("a constructor on the line") + 1;
        name_in(line, above, col as u32)
    }

    #[test]
    fn names_what_the_site_initialises() {
        let cases = [
            ("static ACCOUNTS: Mutex<u64> = Mutex::new(0);", Some("ACCOUNTS")),
            ("pub(crate) static mut X: Mutex<()> = Mutex::new(());", Some("X")),
            ("    let journal = Mutex::new(Vec::new());", Some("journal")),
            ("    let mut j: Mutex<u8> = Mutex::new(0);", Some("j")),
            ("        cache: Mutex::new(HashMap::new()),", Some("cache")),
            ("Queue { items: Mutex::new(Vec::new()) }", Some("items")),
            ("Pair { a: Mutex::new(1), b: Mutex::new(2) }", Some("a")),
            ("    self.stats = Mutex::new(0);", Some("stats")),
            ("let shared = Arc::new(Mutex::new(0));", Some("shared")),
            ("let (a, b) = (Mutex::new(0), Mutex::new(0));", None),
            ("let forks: Vec<_> = (0..5).map(|_| Mutex::new(())).collect();", None),
            ("    if m == Mutex::new(0) {", None),
            ("    Some(x) => Mutex::new(x),", None),
            ("    return Mutex::new(0);", None),
            ("fn f(m: Mutex::Guard) {}", None),
            ("let v = vec![Mutex::new(0)];", None),
        ];
        for (line, want) in cases {
            assert_eq!(name(line, None).as_deref(), want, "{line}");
        }
        assert_eq!(
            name("    Mutex::new(0);", Some("static TOTAL: Mutex<u64> =")).as_deref(),
            Some("TOTAL")
        );
        assert_eq!(name("    Mutex::new(0);", None), None);
        // The second field of a line: the column picks it.
        let line = "Pair { a: Mutex::new(1), b: Mutex::new(2) }";
        let col = line.rfind("Mutex::").unwrap() + 1;
        assert_eq!(name_in(line, None, col as u32).as_deref(), Some("b"));
    }

    #[test]
    fn reads_this_file_relative_to_the_workspace() {
        // The compiler names this file relative to the workspace root; tests run in the
        // package folder: the ancestors are searched.
        let line = line!() + 1;
        static PROBE: std::sync::Mutex<u8> = std::sync::Mutex::new(0);
        let col = "        static PROBE: std::sync::Mutex<u8> = ".len() as u32 + 1;
        assert_eq!(name_at(file!(), line, col).as_deref(), Some("PROBE"));
        drop(PROBE.lock());
        assert_eq!(name_at("no/such/file.rs", 1, 1), None);
    }

    #[test]
    fn std_and_dependency_sites_are_foreign() {
        assert!(is_foreign_file(
            "/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/alloc/src/sync.rs"
        ));
        assert!(is_foreign_file(
            "/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dep-1.0.0/src/lib.rs"
        ));
        assert!(!is_foreign_file("src/lib.rs"));
        assert!(!is_foreign_file("/home/u/proj/src/lib.rs"));
    }
}
