//! SARIF 2.1.0 output for code-scanning dashboards: one result per report.
//!
//! `ruleId` is the report kind, the message is the title plus the explanation, `locations` are
//! the sites of the triggering acquisition (or, failing that, of the first known chain or held
//! site, or else the program itself), and `relatedLocations` are the sites of every chain link.
//! An event node of a chain (what a wait waits for) is named as one: `#0 waits for event
//! `ready``, `#1 event `ready` is signalled after ...`, and the result's `properties.events`
//! lists the events of the chain.

use serde_json::{json, Value};

use crate::{Acquisition, Document, Kind, NodeKind, Report, Site};

/// The `$schema` URI written in every log.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The SARIF version written in every log.
pub const VERSION: &str = "2.1.0";

fn physical(uri: &str, line: u32, column: u32) -> Value {
    let mut loc = json!({ "artifactLocation": { "uri": uri } });
    if line > 0 {
        let mut region = json!({ "startLine": line });
        if column > 0 {
            region["startColumn"] = json!(column);
        }
        loc["region"] = region;
    }
    loc
}

fn location(site: &Site) -> Value {
    json!({ "physicalLocation": physical(&site.file, site.line, site.column) })
}

fn first_site(r: &Report) -> Option<&Site> {
    let chain = r.chain.iter().flat_map(|l| [&l.to, &l.from]);
    r.acquiring.iter().chain(chain).chain(r.held.iter()).find_map(|a: &Acquisition| a.site.as_ref())
}

fn result(r: &Report, program: &str) -> Value {
    let title = if r.title.is_empty() { r.kind.title() } else { &r.title };
    let text =
        if r.message.is_empty() { title.to_string() } else { format!("{title}: {}", r.message) };
    let locations = match first_site(r) {
        Some(site) => vec![location(site)],
        None => vec![json!({ "physicalLocation": physical(program, 0, 0) })],
    };
    let mut related = Vec::new();
    for (i, link) in r.chain.iter().enumerate() {
        for (acq, role) in [(&link.from, "held"), (&link.to, "acquired")] {
            if let Some(site) = &acq.site {
                let mut loc = location(site);
                loc["id"] = json!(related.len());
                let text = match (acq.node, role) {
                    (NodeKind::Lock, _) => {
                        format!(
                            "#{i} {role} {} ({}) on thread '{}'",
                            acq.class, acq.mode, link.thread
                        )
                    }
                    (NodeKind::Event, "held") => format!(
                        "#{i} event `{}` is signalled only after {} is taken, on thread '{}'",
                        acq.class, link.to.class, link.thread
                    ),
                    (NodeKind::Event, _) => {
                        format!("#{i} waits for event `{}` on thread '{}'", acq.class, link.thread)
                    }
                };
                loc["message"] = json!({ "text": text });
                related.push(loc);
            }
        }
    }
    let mut v = json!({
        "ruleId": r.kind.as_str(),
        "level": "error",
        "message": { "text": text },
        "locations": locations,
        "partialFingerprints": { "lockdepFingerprint/v1": r.fingerprint() },
        "properties": { "classes": r.classes, "thread": r.thread, "program": program },
    });
    if !related.is_empty() {
        v["relatedLocations"] = Value::Array(related);
    }
    let mut events: Vec<&str> = r
        .chain
        .iter()
        .flat_map(|l| [&l.from, &l.to])
        .filter(|a| a.node == NodeKind::Event)
        .map(|a| a.class.as_str())
        .collect();
    if !events.is_empty() {
        events.sort_unstable();
        events.dedup();
        v["properties"]["events"] = json!(events);
    }
    v
}

/// Renders the reports of the documents as one SARIF log with one run.
pub fn render(docs: &[&Document]) -> String {
    let rules: Vec<Value> = Kind::ALL
        .iter()
        .map(|k| {
            json!({
                "id": k.as_str(),
                "name": k.as_str(),
                "shortDescription": { "text": k.title() },
                "defaultConfiguration": { "level": "error" },
            })
        })
        .collect();
    let results: Vec<Value> =
        docs.iter().flat_map(|d| d.reports.iter().map(|r| result(r, &d.program))).collect();
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": VERSION,
        "runs": [{
            "tool": { "driver": {
                "name": "lockdep-report",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://www.kernel.org/doc/html/latest/locking/lockdep-design.html",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}
