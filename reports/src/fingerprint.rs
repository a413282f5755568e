//! Fingerprints that are stable across runs and machines, for suppression files and
//! baselines.
//!
//! [`Report::fingerprint`] is the kind, the rule and the sorted class names: no pid, address
//! or line of the acquisition. A class without a key is named after its construction site,
//! `file:line:col` (or `NAME (file:line:col)` when its source line says what it
//! initialises), where `file` is what the compiler saw: relative to the workspace for the
//! workspace's own crates, but an absolute path for a dependency (the cargo registry or a git
//! checkout under the user's home) or for std (`/rustc/<hash>/library/...`). [`stable`]
//! replaces such absolute paths by a machine-independent tail (`crate-1.2.3/src/lib.rs`,
//! `library/std/src/...`, else the package folder and what follows), and is otherwise the
//! same string as [`Report::fingerprint`], so existing suppression files keep matching.

use std::borrow::Cow;

use crate::Report;

/// The report's fingerprint with machine-specific paths removed from its class names.
pub fn stable(r: &Report) -> String {
    let mut classes: Vec<String> =
        r.classes.iter().map(|c| normalize_class(c).into_owned()).collect();
    classes.sort();
    classes.dedup();
    match &r.rule {
        Some(rule) => format!("{}[{}]:{}", r.kind, rule, classes.join(",")),
        None => format!("{}:{}", r.kind, classes.join(",")),
    }
}

/// A class name without machine-specific path prefixes; unchanged when it holds none. A
/// class named from its source, `NAME (site)`, keeps its name and has its site normalised.
pub fn normalize_class(name: &str) -> Cow<'_, str> {
    if let Some((named, site)) = name.strip_suffix(')').and_then(|n| n.split_once(" (")) {
        return match normalize_class(site) {
            Cow::Borrowed(_) => Cow::Borrowed(name),
            Cow::Owned(site) => Cow::Owned(format!("{named} ({site})")),
        };
    }
    if !is_absolute(name) {
        return Cow::Borrowed(name);
    }
    let unix = name.replace('\\', "/");
    // Drop a Windows drive (`C:`), keep the leading slash.
    let path = if unix.as_bytes().get(1) == Some(&b':') { &unix[2..] } else { &unix[..] };
    let after = |marker: &str, skip: usize| -> Option<String> {
        let i = path.find(marker)?;
        let rest = &path[i + marker.len()..];
        let mut parts = rest.splitn(skip + 1, '/');
        for _ in 0..skip {
            parts.next()?;
        }
        parts.next().map(str::to_string)
    };
    let tail = after("/registry/src/", 1)
        .or_else(|| after("/git/checkouts/", 2))
        .or_else(|| {
            path.strip_prefix("/rustc/").and_then(|r| r.split_once('/')).map(|x| x.1.into())
        })
        .or_else(|| package_tail(path))
        .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path).to_string());
    Cow::Owned(tail)
}

fn is_absolute(name: &str) -> bool {
    let b = name.as_bytes();
    name.starts_with('/')
        || (b.len() > 2
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && matches!(b[2], b'\\' | b'/'))
}

/// `/home/me/proj/foo/src/lib.rs:3:5` -> `foo/src/lib.rs:3:5`: the folder holding the last
/// `src`, `tests`, `benches` or `examples` folder, and what follows.
fn package_tail(path: &str) -> Option<String> {
    let i = ["/src/", "/tests/", "/benches/", "/examples/"]
        .iter()
        .filter_map(|m| path.rfind(m))
        .max()?;
    let start = path[..i].rfind('/').map_or(0, |j| j + 1);
    Some(path[start..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_named_classes_are_unchanged() {
        assert_eq!(normalize_class("bank::cache"), "bank::cache");
        assert_eq!(normalize_class("src/lib.rs:3:5"), "src/lib.rs:3:5");
        assert_eq!(normalize_class("&mm->mmap_lock/1"), "&mm->mmap_lock/1");
    }

    #[test]
    fn absolute_paths_lose_their_machine_prefix() {
        assert_eq!(
            normalize_class(
                "/home/ci/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dep-1.2.3/src/a.rs:7:9"
            ),
            "dep-1.2.3/src/a.rs:7:9"
        );
        assert_eq!(
            normalize_class("/root/.cargo/git/checkouts/dep-0123/abcdef0/src/a.rs:1:1"),
            "src/a.rs:1:1"
        );
        assert_eq!(
            normalize_class("/rustc/59807616e/library/std/src/sync/once.rs:10:2"),
            "library/std/src/sync/once.rs:10:2"
        );
        assert_eq!(normalize_class("/home/me/work/foo/src/lib.rs:3:5"), "foo/src/lib.rs:3:5");
        assert_eq!(normalize_class("/tmp/x/y.rs:3:5"), "y.rs:3:5");
        assert_eq!(normalize_class(r"C:\Users\me\foo\src\lib.rs:3:5"), "foo/src/lib.rs:3:5");
        // A class named from its source keeps the name, and its site loses the prefix.
        assert_eq!(
            normalize_class("cache (/home/ci/.cargo/registry/src/index-1/dep-1.2.3/src/a.rs:7:9)"),
            "cache (dep-1.2.3/src/a.rs:7:9)"
        );
        assert_eq!(normalize_class("cache (src/a.rs:4:12)"), "cache (src/a.rs:4:12)");
    }

    #[test]
    fn stable_equals_the_core_fingerprint_without_absolute_paths() {
        let doc = crate::trace::replay(
            r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write"}
{"thread":"T1","op":"acquire","lock":"A","mode":"write"}"#,
            "t",
        )
        .unwrap();
        let r = &doc.reports[0];
        assert_eq!(stable(r), r.fingerprint());
        let mut moved = r.clone();
        moved.classes = vec!["/home/a/p/x/src/lib.rs:1:1".into()];
        let mut other = r.clone();
        other.classes = vec!["/builds/b/x/src/lib.rs:1:1".into()];
        assert_eq!(stable(&moved), stable(&other), "same on two machines");
    }
}
