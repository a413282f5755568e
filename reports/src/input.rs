//! Loading report documents from files and directories, with one-line errors naming the file.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::Document;

/// A document and the file it was read from.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The file, as found (a directory argument is expanded to its `*.json` files).
    pub path: PathBuf,
    /// The parsed document.
    pub doc: Document,
}

impl Loaded {
    /// The file name (without folders), used as the `origin` of merged edges.
    pub fn origin(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }
}

/// Why an input could not be loaded. Its `Display` is one line that names the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The offending path.
    pub path: PathBuf,
    /// What is wrong with it.
    pub message: String,
}

impl InputError {
    /// An error about `path`.
    pub fn new(path: &Path, message: impl Into<String>) -> InputError {
        InputError { path: path.to_path_buf(), message: message.into() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for InputError {}

/// Reads a text file; directories, missing and non-UTF-8 files are errors, and so is anything
/// but a regular file (a FIFO would block the read forever, `/dev/zero` would never end).
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if meta.is_dir() {
        return Err(InputError::new(path, "is a directory, expected a file"));
    }
    regular(path, &meta)?;
    let mut file = std::fs::File::open(path).map_err(|e| io_error(path, &e))?;
    // The path may have been replaced since it was looked at: check what was opened.
    regular(path, &file.metadata().map_err(|e| io_error(path, &e))?)?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(|e| io_error(path, &e))?;
    String::from_utf8(bytes).map_err(|e| {
        InputError::new(
            path,
            format!("not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()),
        )
    })
}

/// Accepts a regular file only, naming what `path` is otherwise.
fn regular(path: &Path, meta: &std::fs::Metadata) -> Result<(), InputError> {
    if meta.is_file() {
        return Ok(());
    }
    let ft = meta.file_type();
    let what = if ft.is_dir() { "a directory" } else { special_kind(&ft) };
    Err(InputError::new(path, format!("not a regular file ({what}); only regular files are read")))
}

#[cfg(unix)]
fn special_kind(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

fn io_error(path: &Path, e: &std::io::Error) -> InputError {
    let what = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => format!("cannot read: {e}"),
    };
    InputError::new(path, what)
}

/// Parses one report file.
pub fn load_file(path: &Path) -> Result<Loaded, InputError> {
    let text = read_text(path)?;
    if text.trim().is_empty() {
        return Err(InputError::new(path, "empty file, expected a lockdep report document"));
    }
    let doc = Document::from_json(&text).map_err(|e| InputError::new(path, e.to_string()))?;
    Ok(Loaded { path: path.to_path_buf(), doc })
}

/// Every `*.json` file under `dir`, recursively, sorted by path. Hidden files (such as the
/// temp files of an atomic write in progress) are skipped.
pub fn json_files(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| io_error(&d, &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&d, &e))?;
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if hidden {
                continue;
            }
            let ft = entry.file_type().map_err(|e| io_error(&path, &e))?;
            if ft.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Loads every argument: a file is parsed, a directory contributes its `*.json` files. A
/// directory without report files is an error, so a CI gate cannot pass by reading nothing.
pub fn load_all<P: AsRef<Path>>(args: &[P]) -> Result<Vec<Loaded>, InputError> {
    let mut out = Vec::new();
    for arg in args {
        let path = arg.as_ref();
        let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
        if meta.is_dir() {
            let files = json_files(path)?;
            if files.is_empty() {
                return Err(InputError::new(path, "directory holds no report files (*.json)"));
            }
            for f in files {
                out.push(load_file(&f)?);
            }
        } else {
            out.push(load_file(path)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file() {
        let e = load_all(&["/definitely/not/here.json"]).unwrap_err();
        assert_eq!(e.to_string(), "/definitely/not/here.json: no such file or directory");
    }
}
