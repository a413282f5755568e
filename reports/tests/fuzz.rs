//! Property-based fuzzing of the report reader and the trace parser (proptest).
//!
//! Documents start from real replayed documents and are mangled structurally (a value replaced
//! by one of another type, a key removed or added, an array element duplicated, a value wrapped
//! in an array, random unicode, huge numbers, deep nesting) and then textually (truncated, raw
//! tokens such as `1e999999` or a lone surrogate escape inserted). Traces are lines of
//! plausible events with random fields, JSON of other shapes, garbage and comments.
//!
//! Properties: `Document::from_json`, `trace::parse` and `trace::replay` never panic; whatever
//! parses survives a JSON round trip, every renderer and `merge`; the CLI's load path
//! (`cli::run` on a file) returns 0, 1 or 2, and 2 with one line naming the file exactly when
//! the document does not parse.
//!
//! Bounded for `cargo test` (a few seconds); `PROPTEST_CASES=100000 reports/fuzz.sh` runs it
//! longer.

use std::path::{Path, PathBuf};

use lockdep_reports::{cli, merge, render, trace, Document};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn config(default: u32) -> ProptestConfig {
    ProptestConfig { cases: cases(default), max_shrink_iters: 2000, ..ProptestConfig::default() }
}

const TRACES: [&str; 4] = [
    // ABBA
    r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write","site":"src/a.rs:10:5"}
{"thread":"T1","op":"acquire","lock":"B","mode":"read","site":"src/a.rs:11:5"}
{"thread":"T1","op":"release","lock":"B"}
{"thread":"T1","op":"release","lock":"A"}
{"thread":"T2","op":"acquire","lock":"B","mode":"write","site":"src/b.rs:20:5"}
{"thread":"T2","op":"acquire","lock":"A","mode":"write","site":"src/b.rs:21:5"}"#,
    // 3-class cycle
    r#"{"thread":"T1","op":"acquire","lock":"X","mode":"write","site":"src/x.rs:1:1"}
{"thread":"T1","op":"acquire","lock":"Y","mode":"recursive_read","site":"src/x.rs:2:1"}
{"thread":"T1","op":"release","lock":"Y"}
{"thread":"T1","op":"release","lock":"X"}
{"thread":"T2","op":"acquire","lock":"Y","mode":"write"}
{"thread":"T2","op":"acquire","lock":"Z","mode":"write"}
{"thread":"T2","op":"release","lock":"Z"}
{"thread":"T2","op":"release","lock":"Y"}
{"thread":"T3","op":"acquire","lock":"Z","mode":"write"}
{"thread":"T3","op":"acquire","lock":"X","mode":"write","subclass":1}"#,
    // self deadlock, an unheld release, a spinning class taking a sleeping one
    r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write"}
{"thread":"T1","op":"acquire","lock":"A","mode":"write"}
{"thread":"T2","op":"release","lock":"Q"}
{"thread":"T3","op":"acquire","lock":"S","mode":"write","wait":"spinning"}
{"thread":"T3","op":"acquire","lock":"M","mode":"write"}"#,
    // clean
    r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write"}
{"thread":"T1","op":"try_acquire","lock":"B","mode":"read"}
{"thread":"T1","op":"downgrade","lock":"A"}
{"thread":"T1","op":"free","lock":"B"}"#,
];

/// The real documents mutations start from: each trace replayed, plus a merge of all of them
/// (which holds chain origins and merge-found cycles).
fn bases() -> &'static [Value] {
    static BASES: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    BASES.get_or_init(|| {
        let docs: Vec<Document> = TRACES
            .iter()
            .enumerate()
            .map(|(i, t)| trace::replay(t, &format!("t{i}.trace")).expect("valid trace"))
            .collect();
        let merged =
            merge::merge(docs.iter().cloned().enumerate().map(|(i, d)| (format!("{i}.json"), d)));
        docs.iter()
            .chain(std::iter::once(&merged.document))
            .map(|d| serde_json::from_str(&d.to_json()).unwrap())
            .collect()
    })
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (0u64..6).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![Just(u64::MAX), Just(u32::MAX as u64), Just(u32::MAX as u64 + 1)]
            .prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        any::<String>().prop_map(Value::String),
        prop::sample::select(vec![
            "lockdep-report/1",
            "lockdep-report/2",
            "circular_dependency",
            "write",
            "read",
            "recursive_read",
            "EN",
            "SR",
            "spinning",
            "",
            "A",
            "X",
            "<script>",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Clone, Debug)]
enum Mutation {
    Replace(Value),
    Remove,
    AddKey(String, Value),
    DuplicateInArray,
    WrapInArray,
    Nest(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => json().prop_map(Mutation::Replace),
        2 => Just(Mutation::Remove),
        1 => ("[a-z_]{1,8}", json()).prop_map(|(k, v)| Mutation::AddKey(k, v)),
        1 => Just(Mutation::DuplicateInArray),
        1 => Just(Mutation::WrapInArray),
        1 => (1usize..200).prop_map(Mutation::Nest),
    ]
}

/// JSON pointers of every value in `v` (the root excluded).
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        _ => {}
    }
}

fn apply(doc: &mut Value, at: &Index, m: &Mutation) {
    let mut ps = Vec::new();
    pointers(doc, String::new(), &mut ps);
    if ps.is_empty() {
        return;
    }
    let p = ps[at.index(ps.len())].clone();
    let (parent_p, last) = p.rsplit_once('/').unwrap();
    let last = last.replace("~1", "/").replace("~0", "~");
    match m {
        Mutation::Replace(v) => *doc.pointer_mut(&p).unwrap() = v.clone(),
        Mutation::Remove => match doc.pointer_mut(parent_p).unwrap() {
            Value::Object(o) => {
                o.remove(&last);
            }
            Value::Array(a) => {
                a.remove(last.parse::<usize>().unwrap());
            }
            _ => {}
        },
        Mutation::AddKey(k, v) => {
            if let Value::Object(o) = doc.pointer_mut(&p).unwrap() {
                o.insert(k.clone(), v.clone());
            } else if let Value::Object(o) = doc.pointer_mut(parent_p).unwrap() {
                o.insert(k.clone(), v.clone());
            }
        }
        Mutation::DuplicateInArray => {
            if let Value::Array(a) = doc.pointer_mut(parent_p).unwrap() {
                let i = last.parse::<usize>().unwrap();
                let x = a[i].clone();
                a.insert(i, x);
            }
        }
        Mutation::WrapInArray => {
            let slot = doc.pointer_mut(&p).unwrap();
            *slot = Value::Array(vec![slot.take()]);
        }
        Mutation::Nest(depth) => {
            let slot = doc.pointer_mut(&p).unwrap();
            let mut v = slot.take();
            for _ in 0..*depth {
                v = Value::Array(vec![v]);
            }
            *slot = v;
        }
    }
}

/// Text-level damage after serialising.
#[derive(Clone, Debug)]
enum Damage {
    None,
    Truncate(Index),
    Insert(Index, String),
}

fn raw_token() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "1e999999",
            "-1e999999",
            "18446744073709551616",
            "-9223372036854775809",
            "123456789012345678901234567890123456789",
            "0.0000000000000000000000000000001e-400",
            "\"\\ud800\"",
            "\"\\u0000\"",
            "NaN",
            "\u{feff}",
            "\u{0}",
            ",",
            "]",
            "}",
            "[[[[[[[[[[",
            "{\"schema\":",
        ])
        .prop_map(str::to_string),
        any::<String>(),
    ]
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        3 => Just(Damage::None),
        1 => any::<Index>().prop_map(Damage::Truncate),
        2 => (any::<Index>(), raw_token()).prop_map(|(i, s)| Damage::Insert(i, s)),
    ]
}

fn char_boundary(text: &str, at: &Index) -> usize {
    let mut i = at.index(text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn damaged(mut text: String, d: &Damage) -> String {
    match d {
        Damage::None => {}
        Damage::Truncate(at) => {
            let i = char_boundary(&text, at);
            text.truncate(i);
        }
        Damage::Insert(at, s) => {
            let i = char_boundary(&text, at);
            text.insert_str(i, s);
        }
    }
    text
}

fn tmp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("lockdep-reports-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the CLI in process; returns (exit status, stderr).
fn cli(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = {
        let mut io = cli::Io { out: &mut out, err: &mut err, out_is_terminal: false };
        let args: Vec<std::ffi::OsString> = args.iter().map(|a| a.to_os_string()).collect();
        cli::run(&args, &mut io)
    };
    (code, String::from_utf8_lossy(&err).into_owned())
}

/// Everything a parsed document goes through.
fn exercise(doc: &Document) {
    let again = Document::from_json(&doc.to_json()).expect("a parsed document round-trips");
    assert_eq!(again.reports.len(), doc.reports.len());
    let _ = render::text::render(doc, true);
    let _ = render::dot::render(doc);
    let _ = render::sarif::render(&[doc]);
    let _ = render::html::render(doc);
    let base = Document::from_json(&bases()[0].to_string()).unwrap();
    let m = merge::merge(vec![("a.json".to_string(), doc.clone()), ("b.json".to_string(), base)]);
    assert_eq!(m.sources.len(), m.document.reports.len());
    let _ = render::html::render_with_sources(&m.document, &m.sources);
    let _ = render::dot::render(&m.document);
    let _ = render::sarif::render(&[&m.document]);
}

/// The CLI's load path on `text` as a file: 0/1 on a document, 2 with one line naming the file
/// otherwise.
fn check_cli_load(path: &Path, text: &str, parses: bool) {
    std::fs::write(path, text).unwrap();
    let (code, err) = cli(&["check".as_ref(), path.as_os_str()]);
    if parses {
        assert!(code == 0 || code == 1, "check on a valid document: {code}: {err}");
    } else {
        assert_eq!(code, 2, "check on a broken document: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains(&path.display().to_string()), "names the file: {err}");
    }
    let out = path.with_extension("html");
    let (code, err) = cli(&["html".as_ref(), path.as_os_str(), "-o".as_ref(), out.as_os_str()]);
    assert_eq!(code, if parses { 0 } else { 2 }, "html: {err}");
}

fn doc_case() -> impl Strategy<Value = (usize, Vec<(Index, Mutation)>, bool, Damage)> {
    (
        0..bases().len(),
        prop::collection::vec((any::<Index>(), mutation()), 0..4),
        any::<bool>(),
        damage(),
    )
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn mangled_documents_never_panic((base, muts, pretty, dmg) in doc_case()) {
        let mut v = bases()[base].clone();
        for (at, m) in &muts {
            apply(&mut v, at, m);
        }
        let text = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { v.to_string() };
        let text = damaged(text, &dmg);
        let parsed = Document::from_json(&text);
        if let Ok(doc) = &parsed {
            exercise(doc);
        }
        let path = tmp_dir().join("doc.json");
        let parses = parsed.is_ok() && !text.trim().is_empty();
        check_cli_load(&path, &text, parses);
    }

    #[test]
    fn random_json_is_never_a_panic(v in json(), dmg in damage()) {
        let text = damaged(v.to_string(), &dmg);
        if let Ok(doc) = Document::from_json(&text) {
            exercise(&doc);
        }
        let _ = trace::parse(&text);
        let _ = trace::replay(&text, "random");
    }
}

/// One trace line.
fn event_field(name: &'static str) -> impl Strategy<Value = Option<(String, Value)>> {
    let value: BoxedStrategy<Value> = match name {
        "thread" => prop_oneof![
            4 => prop::sample::select(vec!["T1", "T2", "T3"]).prop_map(Value::from),
            1 => leaf(),
        ]
        .boxed(),
        "op" => prop_oneof![
            6 => prop::sample::select(vec!["acquire", "try_acquire", "release", "downgrade", "free"])
                .prop_map(Value::from),
            1 => leaf(),
        ]
        .boxed(),
        "lock" | "class" | "nest_lock" => prop_oneof![
            6 => prop::sample::select(vec!["A", "B", "C", "D"]).prop_map(Value::from),
            1 => leaf(),
        ]
        .boxed(),
        "mode" => prop_oneof![
            6 => prop::sample::select(vec!["write", "read", "recursive_read"]).prop_map(Value::from),
            1 => leaf(),
        ]
        .boxed(),
        "subclass" => prop_oneof![
            6 => (0u64..3).prop_map(Value::from),
            1 => prop_oneof![Just(7u64), Just(8), Just(255), Just(256), Just(u32::MAX as u64)]
                .prop_map(Value::from),
            1 => leaf(),
        ]
        .boxed(),
        "wait" => prop_oneof![
            3 => prop::sample::select(vec!["spinning", "sleeping"]).prop_map(Value::from),
            1 => leaf(),
        ]
        .boxed(),
        _ => prop_oneof![
            3 => ("[a-z/]{0,12}", prop::option::of(any::<u64>()), prop::option::of(any::<u64>()))
                .prop_map(|(f, l, c)| {
                    let mut s = f;
                    if let Some(l) = l { s += &format!(":{l}"); }
                    if let Some(c) = c { s += &format!(":{c}"); }
                    Value::from(s)
                }),
            1 => any::<String>().prop_map(Value::from),
            1 => leaf(),
        ]
        .boxed(),
    };
    let required = matches!(name, "thread" | "op" | "lock");
    let keep = if required { 20u32 } else { 3 };
    prop_oneof![keep => value.prop_map(move |v| Some((name.to_string(), v))), 1 => Just(None)]
}

fn trace_line() -> impl Strategy<Value = String> {
    let event = (
        event_field("thread"),
        event_field("op"),
        event_field("lock"),
        event_field("class"),
        event_field("mode"),
        event_field("subclass"),
        event_field("nest_lock"),
        event_field("wait"),
        event_field("site"),
    )
        .prop_map(|t| {
            let fields = [t.0, t.1, t.2, t.3, t.4, t.5, t.6, t.7, t.8];
            Value::Object(fields.into_iter().flatten().collect()).to_string()
        });
    prop_oneof![
        12 => event,
        1 => json().prop_map(|v| v.to_string()),
        1 => any::<String>().prop_map(|s| s.replace('\n', " ")),
        1 => Just("# a comment".to_string()),
        1 => Just(String::new()),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn mangled_traces_never_panic(
        lines in prop::collection::vec(trace_line(), 0..40),
        dmg in damage(),
    ) {
        let text = damaged(lines.join("\n"), &dmg);
        match trace::parse(&text) {
            Ok(events) => prop_assert!(events.iter().all(|(l, _)| *l >= 1 && *l <= text.lines().count())),
            Err(e) => prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1), "line {} in range", e.line),
        }
        let replayed = trace::replay(&text, "fuzz.trace");
        if let Ok(doc) = &replayed {
            exercise(doc);
        }
        let path = tmp_dir().join("fuzz.trace");
        std::fs::write(&path, &text).unwrap();
        let (code, err) = cli(&["replay".as_ref(), path.as_os_str(), "--json".as_ref()]);
        match &replayed {
            Ok(doc) => prop_assert_eq!(code, if doc.reports.is_empty() { 0 } else { 1 }, "{}", err),
            Err(_) => {
                prop_assert_eq!(code, 2, "{}", err);
                prop_assert_eq!(err.lines().count(), 1, "{}", err);
            }
        }
    }
}

#[test]
fn deep_nesting_and_huge_inputs_are_errors_not_crashes() {
    for depth in [100, 129, 10_000, 200_000] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(Document::from_json(&deep).is_err());
        let inside = format!(
            r#"{{"schema":"lockdep-report/1","program":{}0{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert!(Document::from_json(&inside).is_err());
        let line = format!(
            r#"{{"thread":{}"T1"{},"op":"acquire","lock":"A"}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert!(trace::parse(&line).is_err());
    }
    // A long but valid trace: 20,000 events on one thread.
    let mut t = String::new();
    for i in 0..10_000 {
        t += &format!(
            "{{\"thread\":\"T1\",\"op\":\"acquire\",\"lock\":\"L{}\",\"class\":\"C{}\"}}\n",
            i,
            i % 50
        );
        t += &format!("{{\"thread\":\"T1\",\"op\":\"release\",\"lock\":\"L{i}\"}}\n");
    }
    let doc = trace::replay(&t, "long").unwrap();
    exercise(&doc);
}
