//! Bounded random-input tests: `Document::from_json` and `trace::parse`/`replay` never panic on
//! truncated, mutated or random input, and the renderers accept whatever parses.

use lockdep_reports::{merge, render, trace, Document};

const ABBA: &str = r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write","site":"src/a.rs:10:5"}
{"thread":"T1","op":"acquire","lock":"B","mode":"read"}
{"thread":"T1","op":"release","lock":"B"}
{"thread":"T1","op":"downgrade","lock":"A"}
{"thread":"T2","op":"acquire","lock":"B","mode":"write","subclass":1}
{"thread":"T2","op":"try_acquire","lock":"A","mode":"recursive_read"}
{"thread":"T2","op":"free","lock":"A"}
"#;

/// A small xorshift generator: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..1 + rng.below(8) {
        let alphabet = b"{}[]\",:0123456789-eE.tfn \n\\ABabwrite";
        match rng.below(4) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = alphabet[rng.below(alphabet.len())];
            }
            1 if !b.is_empty() => {
                let i = rng.below(b.len());
                b.remove(i);
            }
            2 => {
                let i = rng.below(b.len() + 1);
                b.insert(i, (rng.next() & 0xff) as u8);
            }
            _ => {
                let i = rng.below(b.len() + 1);
                b.truncate(i);
            }
        }
    }
    b
}

fn exercise_document(text: &str) {
    if let Ok(doc) = Document::from_json(text) {
        let _ = render::dot::render(&doc);
        let _ = render::html::render(&doc);
        let _ = render::sarif::render(&[&doc]);
        let _ = render::text::render(&doc, true);
        let _ = merge::merge(vec![("x.json".to_string(), doc)]);
    }
}

#[test]
fn from_json_never_panics_on_truncated_or_mutated_documents() {
    let doc = trace::replay(ABBA, "abba").unwrap().to_json();
    for cut in 0..doc.len() {
        if doc.is_char_boundary(cut) {
            assert!(Document::from_json(&doc[..cut]).is_err(), "a cut document is an error");
        }
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let bytes = mutate(&mut rng, doc.as_bytes());
        exercise_document(&String::from_utf8_lossy(&bytes));
    }
    for _ in 0..500 {
        let n = rng.below(64);
        let bytes: Vec<u8> = (0..n).map(|_| (rng.next() & 0xff) as u8).collect();
        exercise_document(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn trace_parse_and_replay_never_panic_on_mutated_traces() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for cut in 0..ABBA.len() {
        let _ = trace::replay(&ABBA[..cut], "cut");
    }
    for _ in 0..3000 {
        let bytes = mutate(&mut rng, ABBA.as_bytes());
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = trace::parse(&text) {
            assert!(
                e.line >= 1 && e.line <= text.lines().count().max(1),
                "line {} in range",
                e.line
            );
        }
        let _ = trace::replay(&text, "mutated");
    }
}
