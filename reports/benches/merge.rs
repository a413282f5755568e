//! Merge benchmark: 100,000 edges across 200 documents, timed with `std::time::Instant`.
//!
//! Run with `cargo bench -p lockdep-reports --bench merge`. Two workloads:
//! - `layered`: each document is a subsystem with its own classes plus shared ones, all edges
//!   follow one global order (a DAG), and 20 lock-order inversions are split across pairs of
//!   documents, so the merge must find 20 cycles that no single document saw.
//! - `random`: 100,000 random edges over 5,000 classes: one giant strongly connected
//!   component, the worst case for the cycle search (bounded by `MAX_NEW_CYCLES`).

use std::time::{Duration, Instant};

use lockdep_reports::{merge, Acquisition, ChainLink, Class, DepType, Document, Edge, Mode};

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Builds one document from `(from, to)` global class numbers.
fn document(name: &str, pairs: &[(u64, u64)]) -> Document {
    let mut doc = Document::new(name);
    let mut ids = std::collections::HashMap::new();
    let mut id_of = |doc: &mut Document, c: u64| -> u32 {
        *ids.entry(c).or_insert_with(|| {
            let id = doc.graph.classes.len() as u32;
            doc.graph.classes.push(Class {
                id,
                name: format!("class_{c}"),
                site: None,
                wait: Default::default(),
                node: Default::default(),
            });
            id
        })
    };
    let acq = |c: u64| Acquisition {
        class: format!("class_{c}"),
        subclass: 0,
        mode: Mode::Write,
        trylock: false,
        site: None,
        stack: vec![],
        instance: None,
        node: Default::default(),
    };
    for &(a, b) in pairs {
        let (from, to) = (id_of(&mut doc, a), id_of(&mut doc, b));
        doc.graph.edges.push(Edge {
            from,
            to,
            types: vec![DepType::EN],
            witness: ChainLink {
                from: acq(a),
                to: acq(b),
                types: vec![DepType::EN],
                thread: "t".into(),
                origin: None,
            },
        });
    }
    doc
}

fn layered(files: u64, edges_per_file: u64, inversions: u64) -> Vec<Document> {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let shared = 50;
    let per_file = 400;
    let mut per: Vec<Vec<(u64, u64)>> = (0..files)
        .map(|f| {
            // Global order: shared classes 0..50 first, then each file's own block.
            let base = shared + f * per_file;
            let mut v = Vec::new();
            while (v.len() as u64) < edges_per_file {
                let pick = |r: &mut Rng| {
                    if r.below(5) == 0 {
                        r.below(shared)
                    } else {
                        base + r.below(per_file)
                    }
                };
                let (a, b) = (pick(&mut rng), pick(&mut rng));
                if a != b {
                    v.push((a.min(b), a.max(b)));
                }
            }
            v
        })
        .collect();
    // Inversions: file i takes x -> y, file i + 1 takes y -> x, on fresh classes.
    let fresh = shared + files * per_file;
    for k in 0..inversions {
        let (x, y) = (fresh + 2 * k, fresh + 2 * k + 1);
        let i = (k * 7) % files;
        per[i as usize].push((x, y));
        per[((i + 1) % files) as usize].push((y, x));
    }
    per.iter().enumerate().map(|(i, p)| document(&format!("layered-{i}"), p)).collect()
}

fn random(files: u64, edges_per_file: u64, classes: u64) -> Vec<Document> {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    (0..files)
        .map(|f| {
            let mut v = Vec::new();
            while (v.len() as u64) < edges_per_file {
                let (a, b) = (rng.below(classes), rng.below(classes));
                if a != b {
                    v.push((a, b));
                }
            }
            document(&format!("random-{f}"), &v)
        })
        .collect()
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

fn bench(name: &str, docs: Vec<Document>) {
    let edges: usize = docs.iter().map(|d| d.graph.edges.len()).sum();
    let texts: Vec<String> = docs.iter().map(Document::to_json).collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut best_merge = Duration::MAX;
    let mut best_total = Duration::MAX;
    let mut last = None;
    for _ in 0..3 {
        let (parsed, parse) = time(|| {
            texts.iter().map(|t| Document::from_json(t).expect("valid")).collect::<Vec<_>>()
        });
        let (m, merge_time) = time(|| {
            merge::merge(parsed.into_iter().enumerate().map(|(i, d)| (format!("{i}.json"), d)))
        });
        best_merge = best_merge.min(merge_time);
        best_total = best_total.min(parse + merge_time);
        last = Some(m);
    }
    let m = last.expect("ran");
    println!(
        "{name:8} {} files, {edges} edges ({:.1} MB JSON) -> {} classes, {} edges, {} new cycles{}: \
         merge {:.0} ms, parse+merge {:.0} ms",
        docs.len(),
        bytes as f64 / 1e6,
        m.document.graph.classes.len(),
        m.document.graph.edges.len(),
        m.new_cycles,
        if m.truncated { " (truncated)" } else { "" },
        best_merge.as_secs_f64() * 1e3,
        best_total.as_secs_f64() * 1e3,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: keep that run quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (files, per) = if quick { (10, 100) } else { (200, 500) };
    bench("layered", layered(files, per, 20.min(files)));
    bench("random", random(files, per, if quick { 300 } else { 5000 }));
}
