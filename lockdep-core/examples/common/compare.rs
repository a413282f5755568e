// What both ported examples do with their program compiled twice: a first run of each
// (start-up costs: the first panic's backtrace, class registration), then one timed run of
// each; the outputs must match and the traced run must leave no report.

/// Runs `plain` and `traced` (the same program on the original family and on ours), prints
/// the traced output, checks it equals the plain one and that no report was made.
pub fn compare(
    original: &str,
    ours: &str,
    plain: fn() -> Vec<String>,
    traced: fn() -> Vec<String>,
) {
    assert_eq!(plain(), traced());
    let start = std::time::Instant::now();
    let plain_out = plain();
    let plain_time = start.elapsed();
    let start = std::time::Instant::now();
    let traced_out = traced();
    let traced_time = start.elapsed();
    for line in &traced_out {
        println!("{line}");
    }
    assert_eq!(plain_out, traced_out, "the port behaves as the original");
    let reports = lockdep_core::reports();
    assert!(reports.is_empty(), "no report on correct code: {reports:?}");
    println!("same output with {original} and {ours}; no report");
    println!(
        "wall time: plain {plain_time:.2?}, traced {traced_time:.2?} (second runs; noise on a \
         loaded machine)"
    );
}
