//! GitHub Actions workflow commands: one `::error` annotation per new report, placed at the
//! acquisition that closes the problem (the report's `acquiring` site, else the first known
//! chain or held site; without any site the annotation has no file).
//!
//! Format (GitHub's "workflow commands"): `::error file=F,line=L,col=C,title=T::MESSAGE`;
//! in property values `%`, CR, LF, `:` and `,` are percent-encoded, in the message `%`, CR
//! and LF.

use crate::gate::{Gated, Status};
use crate::{Report, Site};

/// The annotation lines for the new reports (suppressed and baselined ones get none).
pub fn render(items: &[Gated]) -> String {
    let mut out = String::new();
    for g in items.iter().filter(|g| g.status == Status::New) {
        out.push_str(&annotation(g));
        out.push('\n');
    }
    out
}

fn annotation(g: &Gated) -> String {
    let r = &g.report;
    let mut props = Vec::new();
    if let Some(site) = site_of(r) {
        props.push(format!("file={}", property(&site.file)));
        props.push(format!("line={}", site.line));
        if site.column > 0 {
            props.push(format!("col={}", site.column));
        }
    }
    let title = if r.title.is_empty() { r.kind.title() } else { r.title.as_str() };
    props.push(format!("title={}", property(&format!("lockdep: {title}"))));
    let mut message = format!("{} [{}]", r.message, g.fingerprint);
    if !r.classes.is_empty() {
        message = format!("{} ({}): {message}", r.kind, r.classes.join(" -> "));
    }
    if let Some(rep) = &r.reproduce {
        message.push_str(&format!("\nreproduce: {rep}"));
    }
    format!("::error {}::{}", props.join(","), data(&message))
}

/// Where the annotation goes: the triggering acquisition, else the first chain or held site.
pub fn site_of(r: &Report) -> Option<&Site> {
    r.acquiring
        .as_ref()
        .and_then(|a| a.site.as_ref())
        .or_else(|| r.chain.iter().find_map(|l| l.to.site.as_ref().or(l.from.site.as_ref())))
        .or_else(|| r.held.iter().find_map(|h| h.site.as_ref()))
}

fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate;

    #[test]
    fn one_error_line_per_new_report_with_escaped_properties() {
        let doc = crate::trace::replay(
            r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write","site":"src/a,b.rs:3:7"}
{"thread":"T1","op":"acquire","lock":"A","mode":"write","site":"src/a,b.rs:4:9"}"#,
            "p",
        )
        .unwrap();
        let out =
            gate::gate(doc.reports.into_iter().map(|r| (r, "p".into())).collect(), None, None);
        let text = render(&out.items);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with("::error "), "{text}");
        assert!(text.contains("title=lockdep%3A "), "{text}");
        assert!(!text.trim_end().contains('\n'));
    }
}
