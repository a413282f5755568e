//! Kernel-style text with optional ANSI colour. The text and its colour both come from the
//! core renderer (`lockdep_core::report::render_report_styled`), which marks banners, chain
//! links and headings while it renders them; this module only decides whether to colour.

use crate::{render_report_styled, Ansi, Document, Plain, Style};

/// Whether to colour text for a stream under `--color auto`: a terminal, unless `NO_COLOR` is
/// set; a non-empty `CLICOLOR_FORCE` forces colour (see [`crate::colour::ColorChoice`]).
pub fn want_colour(is_terminal: bool) -> bool {
    crate::colour::ColorChoice::Auto.enabled(is_terminal)
}

/// The style for `colour`: [`Ansi`] or [`Plain`].
pub fn style(colour: bool) -> &'static dyn Style {
    if colour {
        &Ansi
    } else {
        &Plain
    }
}

/// Renders every report of `doc` (nothing for a document without reports), coloured on request.
pub fn render(doc: &Document, colour: bool) -> String {
    let style = style(colour);
    let mut out = String::new();
    for r in &doc.reports {
        out.push_str(&render_report_styled(r, style));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{render_report, trace, Role};

    const ABBA: &str = r#"{"thread":"T1","op":"acquire","lock":"A"}
{"thread":"T1","op":"acquire","lock":"B"}
{"thread":"T1","op":"release","lock":"B"}
{"thread":"T1","op":"release","lock":"A"}
{"thread":"T2","op":"acquire","lock":"B"}
{"thread":"T2","op":"acquire","lock":"A"}
"#;

    fn strip(s: &str) -> String {
        let mut s = s.replace(Ansi::RESET, "");
        for role in [Role::Banner, Role::ChainLink, Role::Heading, Role::Deadlock] {
            s = s.replace(Ansi::start(role), "");
        }
        s
    }

    #[test]
    fn plain_is_the_core_text_and_colour_only_adds_escapes() {
        let doc = trace::replay(ABBA, "abba").unwrap();
        let plain = render(&doc, false);
        assert_eq!(plain, render_report(&doc.reports[0]));
        assert!(!plain.contains('\x1b'));
        let coloured = render(&doc, true);
        assert_eq!(strip(&coloured), plain);
        assert!(coloured.contains("\x1b[1;31mWARNING: possible circular locking dependency"));
        assert!(
            coloured.contains("\n\x1b[33m-> #0 (A) -> (B)") || coloured.contains("\x1b[33m-> #0")
        );
        assert!(coloured.contains(" \x1b[1;31m*** DEADLOCK ***\x1b[0m\n"));
        assert!(coloured.contains("\x1b[1mthe existing dependency chain (in reverse order) is:"));
        assert!(coloured.contains(" \x1b[1mPossible unsafe locking scenario:\x1b[0m\n"));
        // Colour never spans a newline.
        for l in coloured.lines() {
            assert_eq!(l.matches("\x1b[").count() % 2, 0, "{l:?}");
        }
    }
}
