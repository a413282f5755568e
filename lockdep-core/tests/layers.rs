//! The dependency direction of lockdep-core, checked from the sources: every file of `src/`
//! has a layer in the workspace README's ARCHITECTURE table, and no file names a module of a
//! higher layer (`crate::module` paths, `use crate::{...}` groups included). A new file must be
//! added to the table; a new import that points up fails here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `src/...rs` -> layer, from the README table of lockdep-core (rows `| \`src/x.rs\` | N |`).
fn layers() -> BTreeMap<String, u32> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let start = readme.find("### `lockdep-core/`").expect("the lockdep-core table");
    let mut map = BTreeMap::new();
    for line in readme[start..].lines().skip(1) {
        if line.starts_with("### ") {
            break;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 || !cells[1].starts_with("`src/") {
            continue;
        }
        let file = cells[1].trim_matches('`').to_string();
        if let Ok(n) = cells[2].parse::<u32>() {
            map.insert(file, n);
        }
    }
    map
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a `src/` file belongs to (`validator/events.rs` -> `validator`).
fn module_of(rel: &str) -> &str {
    let rel = rel.strip_prefix("src/").unwrap();
    rel.split(['/', '.']).next().unwrap()
}

/// The top-level modules a source text names through `crate::`.
fn imports(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `crate::{a, b::c, d}`: the group may span lines; take what is on this line
                // and the following ones up to the closing brace.
                let whole = &text[text.find(line).unwrap()..];
                let open = whole.find("crate::{").unwrap() + "crate::{".len();
                let mut depth = 1;
                let mut item = String::new();
                for ch in whole[open..].chars() {
                    match ch {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        ',' if depth == 1 => {
                            push_head(&item, &mut out);
                            item.clear();
                            continue;
                        }
                        _ => {}
                    }
                    if depth == 1 {
                        item.push(ch);
                    }
                }
                push_head(&item, &mut out);
                rest = group;
            } else {
                push_head(rest, &mut out);
            }
        }
    }
    out
}

fn push_head(path: &str, out: &mut Vec<String>) {
    let head: String =
        path.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if !head.is_empty() {
        out.push(head);
    }
}

#[test]
fn every_source_file_has_a_layer_and_imports_only_downwards() {
    let layers = layers();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut module_layer: BTreeMap<String, u32> = BTreeMap::new();
    let mut missing = Vec::new();
    for f in &files {
        let rel = format!("src/{}", f.strip_prefix(src()).unwrap().display());
        if rel == "src/lib.rs" {
            continue;
        }
        match layers.get(&rel) {
            Some(&n) => {
                let m = module_of(&rel).to_string();
                let e = module_layer.entry(m).or_insert(n);
                *e = (*e).min(n);
            }
            None => missing.push(rel),
        }
    }
    assert!(missing.is_empty(), "files without a layer in the README table: {missing:?}");
    assert!(module_layer.len() > 20, "the table was read: {module_layer:?}");

    let mut upward = Vec::new();
    for f in &files {
        let rel = format!("src/{}", f.strip_prefix(src()).unwrap().display());
        let Some(&own) = layers.get(&rel) else { continue };
        let text = std::fs::read_to_string(f).unwrap();
        for m in imports(&text) {
            // `crate::std` (the drop-in module path) is lib.rs's; macros' `$crate` paths and
            // names that are not modules (re-exported items used through the root) are skipped.
            let Some(&theirs) = module_layer.get(&m) else { continue };
            if theirs > own {
                upward.push(format!("{rel} (layer {own}) imports crate::{m} (layer {theirs})"));
            }
        }
    }
    upward.sort();
    upward.dedup();
    assert!(upward.is_empty(), "imports that point up:\n{}", upward.join("\n"));
}

#[test]
fn the_import_reader_sees_groups_and_paths() {
    let text = "use crate::{class::ClassId, held::{A, B},\n    vocab};\nfn f() { crate::global::x(); }\n// crate::hook is a comment\n";
    assert_eq!(imports(text), ["class", "held", "vocab", "global"]);
}
