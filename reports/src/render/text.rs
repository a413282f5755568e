//! Kernel-style text (from `lockdep_core::report::render_report`) with optional ANSI colour.

use crate::{render_report, Document};

/// Whether to colour text for a stream: `NO_COLOR` (non-empty) turns colour off, and so does a
/// stream that is not a terminal.
pub fn want_colour(is_terminal: bool) -> bool {
    let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    is_terminal && !no_colour
}

const RED_BOLD: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Adds ANSI colour to kernel-style text: the banner and `*** DEADLOCK ***` in bold red, chain
/// links in yellow, section headings in bold.
pub fn colourise(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let nl = &line[body.len()..];
        let colour = if body.starts_with("WARNING:")
            || body.contains("*** DEADLOCK ***")
            || (!body.is_empty() && body.chars().all(|c| c == '='))
        {
            Some(RED_BOLD)
        } else if body.starts_with("-> #") {
            Some(YELLOW)
        } else if body.starts_with("the existing dependency chain")
            || body.trim_start().starts_with("Possible unsafe locking scenario")
            || body.starts_with("thread '")
        {
            Some(BOLD)
        } else {
            None
        };
        match colour {
            Some(c) => {
                out.push_str(c);
                out.push_str(body);
                out.push_str(RESET);
                out.push_str(nl);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Renders every report of `doc` (nothing for a document without reports), coloured on request.
pub fn render(doc: &Document, colour: bool) -> String {
    let mut out = String::new();
    for r in &doc.reports {
        out.push_str(&render_report(r));
    }
    if colour {
        colourise(&out)
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_wraps_banner_only_when_asked() {
        let text = "\n====\nWARNING: x\n====\nkind: k\n";
        let c = colourise(text);
        assert!(c.contains("\x1b[1;31mWARNING: x\x1b[0m\n"));
        assert!(c.contains("kind: k\n"));
        assert_eq!(c.replace(RED_BOLD, "").replace(RESET, ""), text);
    }
}
