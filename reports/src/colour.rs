//! Colour for the command-line tools: the `--color auto|always|never` choice, resolved with
//! the `NO_COLOR` / `CLICOLOR_FORCE` / `CLICOLOR` conventions (through `anstyle-query`), and
//! the styles of the tools' own messages (through `anstyle`; no escape code is written by
//! hand here). Report text keeps its own style value, `lockdep_core::report::{Ansi, Plain}`.

use anstyle::{AnsiColor, Effects, Style};

/// The `--color` choice. `auto` colours a terminal whose `TERM` is not `dumb`, unless
/// `NO_COLOR` is set and non-empty; a non-empty `CLICOLOR_FORCE` (other than `0`) forces
/// colour; `NO_COLOR` wins over it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour a terminal (honours NO_COLOR, CLICOLOR_FORCE)
    #[default]
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream that is (or is not) a terminal.
    pub fn enabled(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                if anstyle_query::no_color() {
                    false
                } else if anstyle_query::clicolor_force() {
                    true
                } else {
                    is_terminal
                        && anstyle_query::clicolor().unwrap_or(true)
                        && anstyle_query::term_supports_color()
                }
            }
        }
    }

    /// The choice given on a command line (`--color WHEN`, `--color=WHEN`, `--colour`), read
    /// before parsing so that usage errors and `--help` are coloured (or not) as asked; the
    /// last one wins, an invalid one is left to the parser's error.
    pub fn prescan<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> ColorChoice {
        let mut choice = ColorChoice::Auto;
        let mut it = args.iter().map(|a| a.as_ref().to_str().unwrap_or(""));
        while let Some(a) = it.next() {
            if a == "--" {
                break;
            }
            let value = match a.split_once('=') {
                Some(("--color" | "--colour", v)) => Some(v),
                None if a == "--color" || a == "--colour" => it.next(),
                _ => None,
            };
            choice = match value {
                Some("always") => ColorChoice::Always,
                Some("never") => ColorChoice::Never,
                Some("auto") => ColorChoice::Auto,
                _ => choice,
            };
        }
        choice
    }
}

/// Paints the tools' own messages, or leaves them plain.
#[derive(Clone, Copy, Debug)]
pub struct Paint {
    on: bool,
}

/// Style of error labels.
pub const ERROR: Style = AnsiColor::Red.on_default().effects(Effects::BOLD);
/// Style of warning labels.
pub const WARNING: Style = AnsiColor::Yellow.on_default().effects(Effects::BOLD);
/// Style of success labels.
pub const GOOD: Style = AnsiColor::Green.on_default().effects(Effects::BOLD);
/// Style of headings.
pub const HEADING: Style = Style::new().effects(Effects::BOLD.insert(Effects::UNDERLINE));
/// Style of secondary text (paths, notes).
pub const DIM: Style = Style::new().effects(Effects::DIMMED);

impl Paint {
    /// Paints when `on`.
    pub fn new(on: bool) -> Paint {
        Paint { on }
    }

    /// Whether painting is on.
    pub fn is_on(self) -> bool {
        self.on
    }

    /// `text` in `style`, or `text` alone when painting is off.
    pub fn paint(self, style: Style, text: &str) -> String {
        if self.on && !text.is_empty() {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prescan_takes_the_last_valid_choice() {
        assert_eq!(ColorChoice::prescan(&["show", "x"]), ColorChoice::Auto);
        assert_eq!(ColorChoice::prescan(&["--color", "never", "show"]), ColorChoice::Never);
        assert_eq!(ColorChoice::prescan(&["show", "--colour=always"]), ColorChoice::Always);
        assert_eq!(ColorChoice::prescan(&["--color=always", "--color=bad"]), ColorChoice::Always);
        assert_eq!(ColorChoice::prescan(&["--", "--color=always"]), ColorChoice::Auto);
    }

    #[test]
    fn explicit_choices_ignore_the_terminal() {
        assert!(ColorChoice::Always.enabled(false));
        assert!(!ColorChoice::Never.enabled(true));
    }

    #[test]
    fn plain_paint_is_the_text() {
        assert_eq!(Paint::new(false).paint(ERROR, "error"), "error");
        let on = Paint::new(true).paint(ERROR, "error");
        assert!(on.contains("error") && on.len() > "error".len());
    }
}
