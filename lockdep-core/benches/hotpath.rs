//! Hot-path benchmark: lockdep-core's `Mutex` against `std::sync::Mutex`, `parking_lot::Mutex`
//! and `tracing-mutex` (tracing on), all variants interleaved in one run.
//!
//! ```text
//! cargo bench -p lockdep-core --bench hotpath                  # validation on
//! cargo bench -p lockdep-core --bench hotpath --features off   # tracing compiled out
//! ```
//!
//! Harness: every measurement times a loop of many iterations (calibrated to about
//! `LOCKDEP_BENCH_MS` milliseconds, default 15); each round measures every variant once per
//! case, in turn; the table shows the median of `LOCKDEP_BENCH_ROUNDS` rounds (default 9).
//! Then first-sight validation on a 10,000-class / 100,000-edge graph and memory over 10^8
//! acquisitions. See `lockdep-core/BENCHMARKS.md`.

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use lockdep_core::trace::{Event, Op, Replay};
use lockdep_core::LockClassKey;

/// A lock type under test: one case implementation per type.
trait Variant: Send + Sync + Sized + 'static {
    const NAME: &'static str;
    /// Four locks of four distinct classes (the same four classes on every call).
    fn set() -> [Self; 4];
    fn lock_unlock(&self);
    fn nest4(s: &[Self; 4]);
}

static KEYS: [LockClassKey; 4] = [
    LockClassKey::new("bench_a"),
    LockClassKey::new("bench_b"),
    LockClassKey::new("bench_c"),
    LockClassKey::new("bench_d"),
];

struct Ours(lockdep_core::Mutex<u64>);
struct Std(std::sync::Mutex<u64>);
struct Pl(parking_lot::Mutex<u64>);
struct Tm(tracing_mutex::stdsync::tracing::Mutex<u64>);

impl Variant for Ours {
    const NAME: &'static str = if cfg!(feature = "off") { "ours (off)" } else { "ours" };
    fn set() -> [Self; 4] {
        std::array::from_fn(|i| Ours(lockdep_core::Mutex::with_key(0, &KEYS[i])))
    }
    #[inline(never)]
    fn lock_unlock(&self) {
        let g = self.0.lock();
        black_box(&*g);
    }
    #[inline(never)]
    fn nest4(s: &[Self; 4]) {
        let a = s[0].0.lock();
        let b = s[1].0.lock();
        let c = s[2].0.lock();
        let d = s[3].0.lock();
        black_box((&*a, &*b, &*c, &*d));
    }
}

impl Variant for Std {
    const NAME: &'static str = "std";
    fn set() -> [Self; 4] {
        std::array::from_fn(|_| Std(std::sync::Mutex::new(0)))
    }
    #[inline(never)]
    fn lock_unlock(&self) {
        let g = self.0.lock().unwrap();
        black_box(&*g);
    }
    #[inline(never)]
    fn nest4(s: &[Self; 4]) {
        let a = s[0].0.lock().unwrap();
        let b = s[1].0.lock().unwrap();
        let c = s[2].0.lock().unwrap();
        let d = s[3].0.lock().unwrap();
        black_box((&*a, &*b, &*c, &*d));
    }
}

impl Variant for Pl {
    const NAME: &'static str = "parking_lot";
    fn set() -> [Self; 4] {
        std::array::from_fn(|_| Pl(parking_lot::Mutex::new(0)))
    }
    #[inline(never)]
    fn lock_unlock(&self) {
        let g = self.0.lock();
        black_box(&*g);
    }
    #[inline(never)]
    fn nest4(s: &[Self; 4]) {
        let a = s[0].0.lock();
        let b = s[1].0.lock();
        let c = s[2].0.lock();
        let d = s[3].0.lock();
        black_box((&*a, &*b, &*c, &*d));
    }
}

impl Variant for Tm {
    const NAME: &'static str = "tracing-mutex";
    fn set() -> [Self; 4] {
        std::array::from_fn(|_| Tm(tracing_mutex::stdsync::tracing::Mutex::new(0)))
    }
    #[inline(never)]
    fn lock_unlock(&self) {
        let g = self.0.lock().unwrap();
        black_box(&*g);
    }
    #[inline(never)]
    fn nest4(s: &[Self; 4]) {
        let a = s[0].0.lock().unwrap();
        let b = s[1].0.lock().unwrap();
        let c = s[2].0.lock().unwrap();
        let d = s[3].0.lock().unwrap();
        black_box((&*a, &*b, &*c, &*d));
    }
}

fn target() -> Duration {
    let ms = std::env::var("LOCKDEP_BENCH_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(15);
    Duration::from_millis(ms)
}

/// Iterations of `f` that take about `target()`.
fn calibrate(mut f: impl FnMut(u64) -> Duration) -> u64 {
    let mut n = 1_000u64;
    loop {
        let t = f(n);
        if t >= Duration::from_millis(2) || n >= 1 << 30 {
            let per = t.as_nanos() as f64 / n as f64;
            return ((target().as_nanos() as f64 / per.max(0.1)) as u64).max(1_000);
        }
        n *= 4;
    }
}

fn time_loop(n: u64, mut f: impl FnMut()) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed()
}

/// Per-variant state and samples (ns per operation).
struct Runner<V: Variant> {
    set: [V; 4],
    n_one: u64,
    n_nest: u64,
    n_two: u64,
    one: Vec<f64>,
    nest: Vec<f64>,
    two: Vec<f64>,
}

impl<V: Variant> Runner<V> {
    fn new() -> Runner<V> {
        let set = V::set();
        V::nest4(&set); // warm: first-sight chains are validated here, not in the loop
        set[0].lock_unlock();
        let n_one = calibrate(|n| time_loop(n, || set[0].lock_unlock()));
        let n_nest = calibrate(|n| time_loop(n, || V::nest4(&set)));
        let mut r = Runner { set, n_one, n_nest, n_two: 0, one: vec![], nest: vec![], two: vec![] };
        r.n_two = calibrate(|n| Duration::from_nanos((two_threads::<V>(n) * n as f64) as u64));
        r
    }

    fn round(&mut self) {
        let s = &self.set;
        self.one.push(
            time_loop(self.n_one, || s[0].lock_unlock()).as_nanos() as f64 / self.n_one as f64,
        );
        self.nest
            .push(time_loop(self.n_nest, || V::nest4(s)).as_nanos() as f64 / self.n_nest as f64);
        self.two.push(two_threads::<V>(self.n_two));
    }

    fn result(&self) -> Row {
        let one = median(&self.one);
        let nest = median(&self.nest);
        let two = median(&self.two);
        Row { name: V::NAME, one, nest, two, scaling: 2.0 * nest / two }
    }
}

/// Two threads, each nesting its own four locks (same classes) `n` times; ns per nest per
/// thread (wall time of the slower thread / n).
fn two_threads<V: Variant>(n: u64) -> f64 {
    let barrier = Arc::new(Barrier::new(2));
    let hs: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let set = V::set();
                V::nest4(&set);
                barrier.wait();
                time_loop(n, || V::nest4(&set))
            })
        })
        .collect();
    let worst = hs.into_iter().map(|h| h.join().unwrap()).max().unwrap();
    worst.as_nanos() as f64 / n as f64
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

struct Row {
    name: &'static str,
    one: f64,
    nest: f64,
    two: f64,
    scaling: f64,
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A tiny deterministic generator (no extra dependency).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const CLASSES: usize = 10_000;
const EDGES: usize = 100_000;
const CLUSTER: usize = 100;

/// First sight of a new edge on the process-wide validator, through real `Mutex`es:
/// 100 subsystems of 100 classes, 1,000 random order-consistent edges inside each. Returns
/// (median ns, build seconds).
fn first_sight_clustered(samples: usize) -> (f64, f64) {
    let t0 = Instant::now();
    let keys: Vec<&'static LockClassKey> = (0..CLASSES)
        .map(|i| {
            &*Box::leak(Box::new(LockClassKey::new(Box::leak(format!("fs{i}").into_boxed_str()))))
        })
        .collect();
    let locks: Vec<lockdep_core::Mutex<()>> =
        keys.iter().map(|k| lockdep_core::Mutex::with_key((), k)).collect();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut edges = std::collections::HashSet::new();
    for c in 0..CLASSES / CLUSTER {
        let base = c * CLUSTER;
        let mut pairs = Vec::new();
        while pairs.len() < EDGES / (CLASSES / CLUSTER) {
            let i = rng.below(CLUSTER as u64) as usize;
            let j = rng.below(CLUSTER as u64) as usize;
            let (i, j) = (i.min(j), i.max(j));
            if i != j && edges.insert((base + i, base + j)) {
                pairs.push((base + i, base + j));
            }
        }
        // Ascending sources: the target of each new edge has no out-edges yet.
        pairs.sort();
        for (i, j) in pairs {
            let a = locks[i].lock();
            let b = locks[j].lock();
            drop(b);
            drop(a);
        }
    }
    let build = t0.elapsed().as_secs_f64();
    let mut ts = Vec::new();
    while ts.len() < samples {
        let c = rng.below((CLASSES / CLUSTER) as u64) as usize * CLUSTER;
        let i = c + rng.below(CLUSTER as u64 / 2) as usize;
        let j = c + CLUSTER / 2 + rng.below(CLUSTER as u64 / 2) as usize;
        if !edges.insert((i, j)) {
            continue;
        }
        let a = locks[i].lock();
        let t = Instant::now();
        let b = locks[j].lock();
        ts.push(t.elapsed().as_nanos() as f64);
        drop(b);
        drop(a);
    }
    std::mem::forget(locks);
    (median(&ts), build)
}

fn ev(op: Op, lock: &str) -> Event {
    Event {
        thread: "T".into(),
        op,
        lock: lock.into(),
        event: None,
        child: None,
        class: None,
        mode: None,
        subclass: 0,
        nest_lock: None,
        wait: None,
        site: None,
    }
}

/// First sight of a new edge on a private validator (trace replay, no backtraces) whose graph
/// is one random DAG: the search from the new edge's target visits most of the graph.
fn first_sight_random_dag(samples: usize) -> ((f64, f64), (f64, f64), usize) {
    let names: Vec<String> = (0..CLASSES).map(|i| format!("c{i}")).collect();
    let mut r = Replay::new();
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mut edges = std::collections::HashSet::new();
    let mut pairs = Vec::new();
    while pairs.len() < EDGES {
        let i = rng.below(CLASSES as u64) as usize;
        let j = rng.below(CLASSES as u64) as usize;
        let (i, j) = (i.min(j), i.max(j));
        if i != j && edges.insert((i, j)) {
            pairs.push((i, j));
        }
    }
    pairs.sort();
    let mut out = vec![Vec::new(); CLASSES];
    for &(i, j) in &pairs {
        out[i].push(j);
    }
    for (i, j) in pairs {
        r.apply(&ev(Op::Acquire, &names[i]));
        r.apply(&ev(Op::Acquire, &names[j]));
        r.apply(&ev(Op::Release, &names[j]));
        r.apply(&ev(Op::Release, &names[i]));
    }
    let mut sample = |lo: usize, mid: usize, hi: usize, samples: usize| {
        let mut ts = Vec::new();
        let mut reach = Vec::new();
        while ts.len() < samples {
            let i = lo + rng.below((mid - lo) as u64) as usize;
            let j = mid + rng.below((hi - mid) as u64) as usize;
            if !edges.insert((i, j)) {
                continue;
            }
            reach.push(reachable(&out, j) as f64);
            let (ai, aj) = (ev(Op::Acquire, &names[i]), ev(Op::Acquire, &names[j]));
            r.apply(&ai);
            let t = Instant::now();
            r.apply(&aj);
            ts.push(t.elapsed().as_nanos() as f64);
            r.apply(&ev(Op::Release, &names[j]));
            r.apply(&ev(Op::Release, &names[i]));
        }
        (median(&ts), median(&reach))
    };
    let typical = sample(0, CLASSES / 2, CLASSES, samples);
    let worst = sample(0, 50, 100, samples / 4);
    let edges = r.document("bench").graph.edges.len();
    (typical, worst, edges)
}

/// Classes reachable from `from` (what a full search must visit when there is no cycle).
fn reachable(out: &[Vec<usize>], from: usize) -> usize {
    let mut seen = vec![false; out.len()];
    let mut stack = vec![from];
    seen[from] = true;
    let mut n = 0;
    while let Some(x) = stack.pop() {
        n += 1;
        for &y in &out[x] {
            if !seen[y] {
                seen[y] = true;
                stack.push(y);
            }
        }
    }
    n
}

/// 10^8 acquisitions (2.5 * 10^7 nests of four) on one thread: RSS before and after.
fn memory(acquisitions: u64) -> (u64, u64, usize, usize, f64) {
    let set = Ours::set();
    Ours::nest4(&set);
    let chains0 = lockdep_core::validator().chains();
    let before = rss_kib();
    let t = Instant::now();
    for _ in 0..acquisitions / 4 {
        Ours::nest4(&set);
    }
    let secs = t.elapsed().as_secs_f64();
    (before, rss_kib(), chains0, lockdep_core::validator().chains(), secs)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let only = |name: &str| !args.iter().any(|a| *a == format!("--skip-{name}"));
    let rounds =
        std::env::var("LOCKDEP_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(9);
    println!(
        "lockdep-core hot-path bench: {} rounds, ~{} ms per measurement, on_report={:?}",
        rounds,
        target().as_millis(),
        lockdep_core::on_report()
    );
    let mut ours = Runner::<Ours>::new();
    let mut std_ = Runner::<Std>::new();
    let mut pl = Runner::<Pl>::new();
    let mut tm = Runner::<Tm>::new();
    for _ in 0..rounds {
        ours.round();
        std_.round();
        pl.round();
        tm.round();
    }
    let rows = [ours.result(), std_.result(), pl.result(), tm.result()];
    println!();
    println!(
        "| variant | 1 lock (ns) | 4-nest (ns) | 2 threads, per nest per thread (ns) | scaling |"
    );
    println!("|---|---|---|---|---|");
    for r in &rows {
        println!("| {} | {:.1} | {:.1} | {:.1} | {:.2} |", r.name, r.one, r.nest, r.two, r.scaling);
    }
    let (o, s, p, t) = (&rows[0], &rows[1], &rows[2], &rows[3]);
    println!();
    println!("| ratio | 1 lock | 4-nest | 2 threads | scaling |");
    println!("|---|---|---|---|---|");
    println!(
        "| {0}/std | {1:.2} | {2:.2} | {3:.2} | {4:.0}% of std's |",
        o.name,
        o.one / s.one,
        o.nest / s.nest,
        o.two / s.two,
        100.0 * o.scaling / s.scaling
    );
    println!(
        "| {0}/parking_lot | {1:.2} | {2:.2} | {3:.2} | {4:.0}% of parking_lot's |",
        o.name,
        o.one / p.one,
        o.nest / p.nest,
        o.two / p.two,
        100.0 * o.scaling / p.scaling
    );
    println!(
        "| tracing-mutex/{0} | {1:.2} | {2:.2} | {3:.2} | |",
        o.name,
        t.one / o.one,
        t.nest / o.nest,
        t.two / o.two
    );
    if cfg!(not(feature = "off")) {
        println!();
        if only("first-sight") {
            let (fs, build) = first_sight_clustered(201);
            println!(
                "first sight, process-wide validator, 10,000 classes / 100,000 edges in 100 \
                 subsystems (built in {build:.1} s): median {:.1} us",
                fs / 1000.0
            );
            let ((fr, reach), (wr, wreach), edges) = first_sight_random_dag(101);
            println!(
                "first sight, private validator (replay, no backtraces), one random DAG of \
                 10,000 classes / {edges} edges: random new edge (median {reach:.0} classes \
                 reachable from its target): median {:.1} us; worst case, new edge into the \
                 bottom of the DAG (median {wreach:.0} classes reachable): median {:.1} us",
                fr / 1000.0,
                wr / 1000.0
            );
        }
        if only("memory") {
            let (b, a, c0, c1, secs) = memory(100_000_000);
            println!(
                "memory: 10^8 acquisitions in {secs:.1} s: VmRSS {b} KiB -> {a} KiB \
                 ({:+} KiB), chains {c0} -> {c1}",
                a as i64 - b as i64
            );
        }
    }
}
