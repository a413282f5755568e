//! JUnit XML (the de-facto schema read by Jenkins, GitLab, GitHub test reporters): one
//! `<testsuites>` holding one `<testsuite name="lockdep">`, one `<testcase>` per report
//! (`classname` = kind, `name` = stable fingerprint, `file`/`line` = the triggering site when
//! known). A new report has a `<failure>` (with `message` and `type` = kind, its body the
//! kernel-style text); a suppressed or baselined one is `<skipped>`.

use std::fmt::Write as _;

use crate::gate::{Gated, Status};
use crate::render::github::site_of;

/// The JUnit XML document for gated reports.
pub fn render(items: &[Gated]) -> String {
    let failures = items.iter().filter(|g| g.status == Status::New).count();
    let skipped = items.len() - failures;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let counts = format!(
        "tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\"",
        items.len()
    );
    let _ = writeln!(out, "<testsuites name=\"lockdep\" {counts}>");
    let _ = writeln!(out, "  <testsuite name=\"lockdep\" {counts}>");
    for g in items {
        let r = &g.report;
        let mut attrs = format!(
            "name=\"{}\" classname=\"{}\"",
            escape(&g.fingerprint),
            escape(r.kind.as_str())
        );
        if let Some(site) = site_of(r) {
            let _ = write!(attrs, " file=\"{}\" line=\"{}\"", escape(&site.file), site.line);
        }
        let _ = writeln!(out, "    <testcase {attrs} time=\"0\">");
        match g.status {
            Status::New => {
                let message = format!("{}: {}", r.title, r.message);
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                    escape(&message),
                    escape(r.kind.as_str()),
                    escape(&lockdep_core::report::render_report(r))
                );
            }
            s => {
                let _ = writeln!(out, "      <skipped message=\"{}\"/>", s.as_str());
            }
        }
        let _ = writeln!(out, "      <system-out>program: {}</system-out>", escape(&g.program));
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// XML-escapes text and attribute values; characters XML 1.0 forbids become `?`.
fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => o.push('?'),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&apos;?");
    }

    #[test]
    fn empty_run_is_a_valid_empty_suite() {
        let x = render(&[]);
        assert!(x.contains("<testsuite name=\"lockdep\" tests=\"0\" failures=\"0\""), "{x}");
    }
}
