//! Hot-path benchmark: lockdep-core's `Mutex` against `std::sync::Mutex`, `parking_lot::Mutex`
//! and `tracing-mutex` (tracing on), all variants interleaved in one run.
//!
//! ```text
//! cargo bench -p lockdep-core --bench hotpath                  # validation on
//! cargo bench -p lockdep-core --bench hotpath --features off   # tracing compiled out
//! cargo bench -p lockdep-core --bench hotpath -- --instructions  # + callgrind counts
//! cargo bench -p lockdep-core --bench hotpath -- --first-sight-only  # new-edge validation
//! cargo bench -p lockdep-core --bench hotpath --features tokio -- --instructions
//! cargo bench -p lockdep-core --bench hotpath -- --heap --layout  # locks boxed; offsets
//! cargo bench -p lockdep-core --bench hotpath -- --instances 20000  # instance graph
//! ```
//!
//! With the `tokio` feature (the async tasks' feature set), `--instructions` also counts a
//! poll of a task that takes one lock: an instrumented task against the same future not
//! instrumented and against a `parking_lot::Mutex` (`--count poll task|future|plain N`).
//!
//! Harness: every measurement times a loop of many iterations (calibrated to about
//! `LOCKDEP_BENCH_MS` milliseconds, default 15); each round measures every variant once per
//! case, in turn; the tables show min / median / max of `LOCKDEP_BENCH_ROUNDS` rounds
//! (default 9), and the ratios are computed from the medians (and the minima) of this run.
//! The load average (`/proc/loadavg`) and the CPU steal time (`/proc/stat`) are printed
//! before and after: wall-clock figures from a run with load above 0.5 are noisy.
//! `--instructions` also counts instructions per operation under `valgrind --tool=callgrind`
//! (repeatable on a loaded machine). Then the scaling groups (held depth, threads, classes),
//! first-sight validation on a 10,000-class / 100,000-edge graph and memory over 10^8
//! acquisitions. See `lockdep-core/BENCHMARKS.md`.

use std::hint::black_box;
use std::sync::{Arc, Barrier, Mutex as StdMutex};
use std::time::{Duration, Instant};

use lockdep_core::trace::{Event, Op, Replay, TraceMode};
use lockdep_core::LockClassKey;

/// A lock type under test: one case implementation per type.
trait Variant: Send + Sync + Sized + 'static {
    const NAME: &'static str;
    /// Four locks of four distinct classes (the same four classes on every call).
    fn set() -> [Self; 4];
    /// A lock of class number `i` (the same class for the same `i` on every call).
    fn of_class(i: usize) -> Self;
    /// A lock built at one site for every call (a lock made per object): ours names its
    /// class after that site.
    fn at_site() -> Self {
        Self::of_class(0)
    }
    fn lock_unlock(&self);
    fn nest4(s: &[Self; 4]);
    /// Runs `f` while holding this lock.
    fn hold(&self, f: &mut dyn FnMut());
}

static KEYS: [LockClassKey; 4] = [
    LockClassKey::new("bench_a"),
    LockClassKey::new("bench_b"),
    LockClassKey::new("bench_c"),
    LockClassKey::new("bench_d"),
];

/// Leaked keys for the scaling groups, made on first use: class `i` is always `KEYS_N[i]`.
static KEYS_N: StdMutex<Vec<&'static LockClassKey>> = StdMutex::new(Vec::new());

fn key_n(i: usize) -> &'static LockClassKey {
    let mut k = KEYS_N.lock().unwrap();
    while k.len() <= i {
        let name: &'static str = Box::leak(format!("bench_n{}", k.len()).into_boxed_str());
        k.push(Box::leak(Box::new(LockClassKey::new(name))));
    }
    k[i]
}

struct Ours(lockdep_core::Mutex<u64>);
struct Std(std::sync::Mutex<u64>);
struct Pl(parking_lot::Mutex<u64>);
struct Tm(tracing_mutex::stdsync::tracing::Mutex<u64>);

impl Variant for Ours {
    const NAME: &'static str = if cfg!(feature = "off") { "ours (off)" } else { "ours" };
    fn set() -> [Self; 4] {
        std::array::from_fn(|i| Ours(lockdep_core::Mutex::with_key(0, &KEYS[i])))
    }
    fn of_class(i: usize) -> Self {
        Ours(lockdep_core::Mutex::with_key(0, key_n(i)))
    }
    fn at_site() -> Self {
        Ours(lockdep_core::Mutex::new(0))
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
    fn hold(&self, f: &mut dyn FnMut()) {
        let g = self.0.lock();
        f();
        drop(g);
    }
}

impl Variant for Std {
    const NAME: &'static str = "std";
    fn set() -> [Self; 4] {
        std::array::from_fn(|_| Std(std::sync::Mutex::new(0)))
    }
    fn of_class(_: usize) -> Self {
        Std(std::sync::Mutex::new(0))
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
    fn hold(&self, f: &mut dyn FnMut()) {
        let g = self.0.lock().unwrap();
        f();
        drop(g);
    }
}

impl Variant for Pl {
    const NAME: &'static str = "parking_lot";
    fn set() -> [Self; 4] {
        std::array::from_fn(|_| Pl(parking_lot::Mutex::new(0)))
    }
    fn of_class(_: usize) -> Self {
        Pl(parking_lot::Mutex::new(0))
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
    fn hold(&self, f: &mut dyn FnMut()) {
        let g = self.0.lock();
        f();
        drop(g);
    }
}

impl Variant for Tm {
    const NAME: &'static str = "tracing-mutex";
    fn set() -> [Self; 4] {
        std::array::from_fn(|_| Tm(tracing_mutex::stdsync::tracing::Mutex::new(0)))
    }
    fn of_class(_: usize) -> Self {
        Tm(tracing_mutex::stdsync::tracing::Mutex::new(0))
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
    fn hold(&self, f: &mut dyn FnMut()) {
        let g = self.0.lock().unwrap();
        f();
        drop(g);
    }
}

/// The machine's state: load average and CPU time counters (for the steal share).
struct Machine {
    load: [f64; 3],
    /// (steal ticks, all ticks) summed over CPUs, from the `cpu` line of `/proc/stat`.
    ticks: (u64, u64),
}

impl Machine {
    fn now() -> Machine {
        let la = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let mut load = [f64::NAN; 3];
        for (l, v) in load.iter_mut().zip(la.split_whitespace()) {
            *l = v.parse().unwrap_or(f64::NAN);
        }
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let cpu: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal guest guest_nice: guest time is
        // already counted in user.
        let steal = cpu.get(7).copied().unwrap_or(0);
        let all = cpu.iter().take(8).sum();
        Machine { load, ticks: (steal, all) }
    }

    fn print(&self, when: &str, since: Option<&Machine>) {
        let steal = since.map(|b| {
            let (s, a) = (self.ticks.0 - b.ticks.0, self.ticks.1 - b.ticks.1);
            format!(", steal {s} ticks = {:.1}% of CPU time during the run", pct(s, a))
        });
        println!(
            "machine {when}: load average {:.2} {:.2} {:.2} (1/5/15 min){}",
            self.load[0],
            self.load[1],
            self.load[2],
            steal.unwrap_or_default()
        );
        if self.load[0] > 0.5 {
            println!(
                "WARNING: load average {:.2} > 0.5: the machine is NOT quiet; wall-clock figures \
                 are noisy (use --instructions for repeatable counts)",
                self.load[0]
            );
        }
    }
}

fn pct(part: u64, all: u64) -> f64 {
    if all == 0 {
        0.0
    } else {
        100.0 * part as f64 / all as f64
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn target() -> Duration {
    Duration::from_millis(env_or("LOCKDEP_BENCH_MS", 15))
}

/// Iterations of `f` that take about `target` (at least `floor`).
fn calibrate_to(target: Duration, floor: u64, mut f: impl FnMut(u64) -> Duration) -> u64 {
    let mut n = 1_000u64;
    loop {
        let t = f(n);
        if t >= Duration::from_millis(2) || n >= 1 << 30 {
            let per = t.as_nanos() as f64 / n as f64;
            return ((target.as_nanos() as f64 / per.max(0.1)) as u64).max(floor);
        }
        n *= 4;
    }
}

fn calibrate(f: impl FnMut(u64) -> Duration) -> u64 {
    calibrate_to(target(), 1_000, f)
}

fn time_loop(n: u64, mut f: impl FnMut()) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed()
}

/// Min / median / max of a figure's samples.
#[derive(Clone, Copy)]
struct Stat {
    min: f64,
    med: f64,
    max: f64,
}

impl Stat {
    fn of(v: &[f64]) -> Stat {
        let mut v = v.to_vec();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        Stat { min: v[0], med: v[v.len() / 2], max: v[v.len() - 1] }
    }
}

impl std::fmt::Display for Stat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1} / **{:.1}** / {:.1}", self.min, self.med, self.max)
    }
}

/// Where a runner's four locks live: in the runner, on the stack (the default: their
/// offset within a page changes from run to run with the stack's randomised start), or in a
/// box (`--heap`: a heap offset is the same in every run of one binary, as for most locks of a
/// real program, behind an `Arc` or in a struct on the heap).
enum LockSet<V> {
    Inline([V; 4]),
    Boxed(Box<[V; 4]>),
}

impl<V> std::ops::Deref for LockSet<V> {
    type Target = [V; 4];
    fn deref(&self) -> &[V; 4] {
        match self {
            LockSet::Inline(s) => s,
            LockSet::Boxed(s) => s,
        }
    }
}

/// Per-variant state and samples (ns per operation).
struct Runner<V: Variant> {
    set: LockSet<V>,
    n_one: u64,
    n_nest: u64,
    n_two: u64,
    one: Vec<f64>,
    nest: Vec<f64>,
    two: Vec<f64>,
    scaling: Vec<f64>,
}

impl<V: Variant> Runner<V> {
    fn new(heap: bool) -> Runner<V> {
        let set = match heap {
            true => LockSet::Boxed(Box::new(V::set())),
            false => LockSet::Inline(V::set()),
        };
        V::nest4(&set); // warm: first-sight chains are validated here, not in the loop
        set[0].lock_unlock();
        let n_one = calibrate(|n| time_loop(n, || set[0].lock_unlock()));
        let n_nest = calibrate(|n| time_loop(n, || V::nest4(&set)));
        let mut r = Runner {
            set,
            n_one,
            n_nest,
            n_two: 0,
            one: vec![],
            nest: vec![],
            two: vec![],
            scaling: vec![],
        };
        r.n_two = calibrate(|n| Duration::from_nanos((threads::<V>(2, n) * n as f64) as u64));
        r
    }

    fn round(&mut self) {
        let s = &self.set;
        self.one.push(
            time_loop(self.n_one, || s[0].lock_unlock()).as_nanos() as f64 / self.n_one as f64,
        );
        let nest = time_loop(self.n_nest, || V::nest4(s)).as_nanos() as f64 / self.n_nest as f64;
        self.nest.push(nest);
        let two = threads::<V>(2, self.n_two);
        self.two.push(two);
        // Scaling within the round: the one-thread nest just measured, against two threads.
        self.scaling.push(2.0 * nest / two);
    }

    fn result(&self) -> Row {
        Row {
            name: V::NAME,
            one: Stat::of(&self.one),
            nest: Stat::of(&self.nest),
            two: Stat::of(&self.two),
            scaling: Stat::of(&self.scaling),
        }
    }
}

/// `k` threads, each nesting its own four locks (same classes) `n` times; ns per nest per
/// thread (wall time of the slowest thread / n).
fn threads<V: Variant>(k: usize, n: u64) -> f64 {
    let barrier = Arc::new(Barrier::new(k));
    let hs: Vec<_> = (0..k)
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
    Stat::of(v).med
}

struct Row {
    name: &'static str,
    one: Stat,
    nest: Stat,
    two: Stat,
    scaling: Stat,
}

/// Per-acquisition cost at held depth `d`: `d - 1` locks of distinct classes held, then
/// lock + unlock of a `d`-th (ns per lock + unlock).
fn depth_case<V: Variant>(d: usize, rounds: usize) -> Stat {
    let locks: Vec<V> = (0..d).map(|i| V::of_class(100 + i)).collect();
    let (last, outer) = locks.split_last().unwrap();
    let mut samples = Vec::new();
    hold_all(outer, &mut || {
        last.lock_unlock(); // warm: the chain is seen
        let n = calibrate_to(target() / 3, 1_000, |n| time_loop(n, || last.lock_unlock()));
        for _ in 0..rounds {
            samples.push(time_loop(n, || last.lock_unlock()).as_nanos() as f64 / n as f64);
        }
    });
    Stat::of(&samples)
}

/// Per-acquisition cost of the inner lock of a nest of two, seen before: two locks of one
/// class (`same`: a same-class nesting, judged by instances) or of two classes (its twin).
fn nesting_case<V: Variant>(same: bool, rounds: usize) -> Stat {
    let outer = V::of_class(300);
    let inner = V::of_class(if same { 300 } else { 301 });
    let mut samples = Vec::new();
    outer.hold(&mut || {
        inner.lock_unlock(); // warm: the nesting is seen
        let n = calibrate_to(target() / 3, 1_000, |n| time_loop(n, || inner.lock_unlock()));
        for _ in 0..rounds {
            samples.push(time_loop(n, || inner.lock_unlock()).as_nanos() as f64 / n as f64);
        }
    });
    Stat::of(&samples)
}

fn hold_all<V: Variant>(locks: &[V], f: &mut dyn FnMut()) {
    match locks.split_first() {
        None => f(),
        Some((first, rest)) => first.hold(&mut || hold_all(rest, f)),
    }
}

/// Seen-chain cost with `classes` classes in use: one lock per class, each taken once
/// before timing (so each class's one-lock chain is in the chain cache), then lock + unlock
/// of every lock in turn (ns per lock + unlock). The class indices from `base` on.
fn classes_case<V: Variant>(base: usize, classes: usize, rounds: usize) -> Stat {
    let locks: Vec<V> = (0..classes).map(|i| V::of_class(base + i)).collect();
    for l in &locks {
        l.lock_unlock();
    }
    let pass = |n: u64| {
        let t = Instant::now();
        let mut left = n;
        'outer: loop {
            for l in &locks {
                if left == 0 {
                    break 'outer;
                }
                l.lock_unlock();
                left -= 1;
            }
        }
        t.elapsed()
    };
    let n = calibrate_to(target() / 3, classes as u64, pass);
    let samples: Vec<f64> = (0..rounds).map(|_| pass(n).as_nanos() as f64 / n as f64).collect();
    Stat::of(&samples)
}

/// The scaling groups: ours against parking_lot, interleaved.
fn scaling_groups(rounds: usize) {
    println!();
    println!("### Held depth: per-acquisition cost (ns per lock + unlock at depth d)");
    println!();
    println!("| depth | ours min / med / max | parking_lot min / med / max | ours/parking_lot |");
    println!("|---|---|---|---|");
    for d in [1, 2, 4, 8, 16, 32] {
        let o = depth_case::<Ours>(d, rounds);
        let p = depth_case::<Pl>(d, rounds);
        println!("| {d} | {o} | {p} | {:.2} |", o.med / p.med);
    }
    println!();
    println!("### Nest of two, inner lock + unlock (ns): one class (by instances) or two");
    println!();
    println!("| classes | ours min / med / max | parking_lot min / med / max | ours/parking_lot |");
    println!("|---|---|---|---|");
    for (same, what) in [(true, "one (same-class nesting)"), (false, "two")] {
        let o = nesting_case::<Ours>(same, rounds);
        let p = nesting_case::<Pl>(same, rounds);
        println!("| {what} | {o} | {p} | {:.2} |", o.med / p.med);
    }
    println!();
    println!("### Threads on disjoint locks (ns per 4-nest per thread; throughput vs 1 thread)");
    println!();
    println!(
        "| threads | ours min / med / max | parking_lot min / med / max | ours/parking_lot | \
         ours scaling | parking_lot scaling |"
    );
    println!("|---|---|---|---|---|---|");
    let n1o = calibrate_to(target() / 3, 1_000, |n| {
        Duration::from_nanos((threads::<Ours>(1, n) * n as f64) as u64)
    });
    let n1p = calibrate_to(target() / 3, 1_000, |n| {
        Duration::from_nanos((threads::<Pl>(1, n) * n as f64) as u64)
    });
    let (mut base_o, mut base_p) = (0.0, 0.0);
    for k in [1usize, 2, 4, 8] {
        let mut so = Vec::new();
        let mut sp = Vec::new();
        for _ in 0..rounds {
            so.push(threads::<Ours>(k, n1o));
            sp.push(threads::<Pl>(k, n1p));
        }
        let (o, p) = (Stat::of(&so), Stat::of(&sp));
        if k == 1 {
            (base_o, base_p) = (o.med, p.med);
        }
        // Throughput of k threads over one thread's: k * t1 / tk.
        println!(
            "| {k} | {o} | {p} | {:.2} | {:.2} | {:.2} |",
            o.med / p.med,
            k as f64 * base_o / o.med,
            k as f64 * base_p / p.med
        );
    }
    println!();
    println!("### Classes in use: seen-chain cost (ns per lock + unlock, every class in turn)");
    println!();
    println!("| classes | ours min / med / max | parking_lot min / med / max | ours/parking_lot |");
    println!("|---|---|---|---|");
    let mut base = 1_000;
    for c in [10usize, 100, 1_000, 10_000, 100_000] {
        let o = classes_case::<Ours>(base, c, rounds);
        let p = classes_case::<Pl>(base, c, rounds);
        base += c;
        println!("| {c} | {o} | {p} | {:.2} |", o.med / p.med);
    }
}

/// `--layout`: where this run's locks, stack and thread-locals lie within a 4 KiB page. Our
/// fast path stores into the thread's held stack (a thread-local) and then loads the next
/// lock's fields; when the two lie at the same offset within a page, the load waits for the
/// store (4K aliasing), so some address layouts are slower for the whole run
/// (`benches/layout-scan.sh` moves the stack one step at a time, address randomisation off).
fn print_layout(ours: &[Ours; 4], pl: &[Pl; 4]) {
    let page = |p: usize| p % 4096;
    let locks: Vec<usize> = ours.iter().map(|l| page(l as *const Ours as usize)).collect();
    let stack = 0u8;
    print!(
        "layout (offsets within a 4 KiB page): our locks {locks:?}, parking_lot's first lock {}, stack {}",
        page(&pl[0] as *const Pl as usize),
        page(black_box(&stack) as *const u8 as usize)
    );
    #[cfg(target_arch = "x86_64")]
    {
        let tp: usize;
        // SAFETY: reads the thread pointer (`fs:0` holds its own address on x86-64 Linux);
        // no memory is written.
        unsafe { std::arch::asm!("mov {}, fs:0", out(reg) tp, options(nostack, readonly)) };
        print!(", thread pointer {}", page(tp));
    }
    println!();
}

/// Locks taken round-robin by the `classes` count case: one lock per class, each chain seen.
const COUNT_CLASSES: usize = 100_000;

/// `--count CASE VARIANT N`: runs N iterations of one case of one variant after a warm-up,
/// and nothing else (the process `--instructions` runs under callgrind). Cases: `one` (a lock
/// and its unlock), `nest4` (4 locks of 4 classes), `same` (two locks of one class, nested in
/// a fixed order: judged by instances), `pair` (its twin: two locks of two classes, nested
/// the same way), `fresh` (a new lock built at one site each time, under a held lock),
/// `classes` (a lock and unlock of each of 100,000 locks
/// of 100,000 classes in turn, N counting lock and unlock pairs).
fn count_mode(case: &str, variant: &str, n: u64) {
    #[cfg(feature = "tokio")]
    if case == "poll" {
        return count_poll(variant, n);
    }
    if case == "condvar" {
        return count_condvar(variant, n);
    }
    if case == "annotated" {
        return count_annotated(variant, n);
    }
    fn run<V: Variant>(case: &str, n: u64) {
        let set = V::set();
        V::nest4(&set);
        set[0].lock_unlock();
        match case {
            "one" => (0..n).for_each(|_| set[0].lock_unlock()),
            "nest4" => (0..n).for_each(|_| V::nest4(&set)),
            "same" | "pair" => {
                let (a, b) = (V::of_class(0), V::of_class(if case == "same" { 0 } else { 1 }));
                a.hold(&mut || b.lock_unlock());
                (0..n).for_each(|_| a.hold(&mut || b.lock_unlock()));
            }
            "fresh" => {
                // A new lock each time (built at one site), taken under a held one.
                let outer = V::of_class(2);
                outer.hold(&mut || {
                    V::at_site().lock_unlock();
                    (0..n).for_each(|_| black_box(V::at_site()).lock_unlock());
                });
            }
            "classes" => {
                let locks: Vec<V> = (0..COUNT_CLASSES).map(|i| V::of_class(1_000 + i)).collect();
                locks.iter().for_each(V::lock_unlock);
                let mut left = n;
                while left > 0 {
                    for l in locks.iter().take(left as usize) {
                        l.lock_unlock();
                    }
                    left = left.saturating_sub(COUNT_CLASSES as u64);
                }
            }
            _ => panic!("unknown case {case:?} (one | nest4 | same | pair | fresh | classes)"),
        }
    }
    match variant {
        "ours" => run::<Ours>(case, n),
        "std" => run::<Std>(case, n),
        "parking_lot" => run::<Pl>(case, n),
        "tracing-mutex" => run::<Tm>(case, n),
        _ => panic!("unknown variant {variant:?}"),
    }
}

/// `--count poll VARIANT N` (feature `tokio`): N polls of a future that takes one lock and
/// returns `Pending`: `task` an instrumented task (`lockdep_core::task`, its held stack
/// swapped in and out) around our `Mutex`, `future` the same future not instrumented, `plain`
/// the same future around a `parking_lot::Mutex`.
#[cfg(feature = "tokio")]
fn count_poll(variant: &str, n: u64) {
    use std::future::{poll_fn, Future};
    use std::task::{Context, Poll, Waker};
    fn polls(f: impl Future<Output = ()>, n: u64) {
        let mut f = std::pin::pin!(f);
        let mut cx = Context::from_waker(Waker::noop());
        let _ = f.as_mut().poll(&mut cx); // warm-up: the chain is seen from here on
        for _ in 0..n {
            let _ = black_box(f.as_mut().poll(&mut cx));
        }
    }
    let ours = lockdep_core::Mutex::new(0u64);
    let pl = parking_lot::Mutex::new(0u64);
    let take_ours = || {
        poll_fn(|_| {
            *black_box(&ours).lock() += 1;
            Poll::Pending
        })
    };
    match variant {
        "task" => polls(lockdep_core::task::instrument(take_ours()), n),
        "future" => polls(take_ours(), n),
        "plain" => polls(
            poll_fn(|_| {
                *black_box(&pl).lock() += 1;
                Poll::Pending
            }),
            n,
        ),
        _ => panic!("unknown poll variant {variant:?} (task | future | plain)"),
    }
}

/// The condvar round trip with std's types.
mod ping_pong_std {
    use std::sync::{Arc, Condvar, Mutex};
    include!("common/ping_pong.rs");
}

/// The same source with `lockdep_core::std::sync`'s types: every wait is a validated wait for
/// the condvar's event (seen after the first round), every notify a signal.
mod ping_pong_ours {
    use lockdep_core::std::sync::{Arc, Condvar, Mutex};
    include!("common/ping_pong.rs");
}

/// `--count annotated VARIANT N`: N acquire + release pairs of the raw annotation API
/// (`LockMap`, ours only) under a held lock: `seen` (one map, the chain seen) or `fresh` (a
/// new map of a keyed class each time, as a lock built per object: the class id comes from
/// the key).
fn count_annotated(variant: &str, n: u64) {
    let outer = Ours::of_class(0);
    let key = key_n(1);
    let run = |fresh: bool| {
        let map = lockdep_core::LockMap::with_key(key);
        let once = |m: &lockdep_core::LockMap| {
            m.acquire(lockdep_core::Mode::Write);
            m.release();
        };
        outer.hold(&mut || {
            once(&map);
            for _ in 0..n {
                if fresh {
                    let m = black_box(lockdep_core::LockMap::with_key(key));
                    once(&m);
                } else {
                    once(&map);
                }
            }
        });
    };
    match variant {
        "seen" => run(false),
        "fresh" => run(true),
        _ => panic!("unknown variant {variant:?} (seen | fresh)"),
    }
}

/// `--count condvar VARIANT N`: N condvar round trips between two threads (a notify and a
/// wait on each side), `ours` (`lockdep_core::std::sync`), `std` or `parking_lot`.
fn count_condvar(variant: &str, n: u64) {
    match variant {
        "ours" => ping_pong_ours::round_trips(n),
        "std" => ping_pong_std::round_trips(n),
        "parking_lot" => {
            let pair =
                std::sync::Arc::new((parking_lot::Mutex::new(0u64), parking_lot::Condvar::new()));
            let partner = std::sync::Arc::clone(&pair);
            let t = std::thread::spawn(move || {
                let (m, cv) = &*partner;
                let mut g = m.lock();
                for _ in 0..n {
                    while *g % 2 == 0 {
                        cv.wait(&mut g);
                    }
                    *g += 1;
                    cv.notify_one();
                }
            });
            let (m, cv) = &*pair;
            let mut g = m.lock();
            for _ in 0..n {
                *g += 1;
                cv.notify_one();
                while *g % 2 == 1 {
                    cv.wait(&mut g);
                }
            }
            drop(g);
            t.join().unwrap();
        }
        _ => panic!("unknown condvar variant {variant:?} (ours | std | parking_lot)"),
    }
}

/// Instructions of `--count CASE VARIANT n` under callgrind (whole process).
/// Each run gets an empty report folder of its own: at start-up a process removes the report
/// files earlier runs of its program left behind, and that work (hundreds of files after a
/// `layout-scan.sh`) would fall on one run of the pair and not the other.
fn callgrind(case: &str, variant: &str, n: u64) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let dir = std::env::temp_dir().join(format!("lockdep-bench-count-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = std::process::Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(exe)
        .args(["--count", case, variant, &n.to_string()])
        .env("LOCKDEP_REPORT_DIR", &dir)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let out = out.ok()?;
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().find(|l| l.contains("Collected :"))?;
    line.rsplit(':').next()?.trim().parse().ok()
}

/// Instructions per operation: the difference between two runs of different lengths, so
/// start-up and warm-up cancel out. `--instructions-only` runs this alone (no wall clock).
fn instructions() {
    const N1: u64 = 20_000;
    const N2: u64 = 120_000;
    // The classes case: whole passes over the 100,000 locks, so both runs touch every lock.
    const C1: u64 = 100_000;
    const C2: u64 = 300_000;
    println!();
    println!(
        "### Instructions per operation (valgrind --tool=callgrind, ({N2} - {N1}) iterations, \
         ({C2} - {C1}) for 100k classes; load-independent)"
    );
    println!();
    println!(
        "| variant | 1 lock + unlock | 4-nest | per lock + unlock in the 4-nest | same-class \
         nest of 2 | two-class nest of 2 | a new lock each time, under a held one | 1 lock + \
         unlock, 100k classes in turn |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let variants = [Ours::NAME, "std", "parking_lot", "tracing-mutex"];
    for (i, v) in ["ours", "std", "parking_lot", "tracing-mutex"].iter().enumerate() {
        let per = |case: &str, n1: u64, n2: u64| -> Option<f64> {
            let a = callgrind(case, v, n1)?;
            let b = callgrind(case, v, n2)?;
            Some((b as f64 - a as f64) / (n2 - n1) as f64)
        };
        let (Some(one), Some(nest)) = (per("one", N1, N2), per("nest4", N1, N2)) else {
            println!("(valgrind not available or failed: no instruction counts)");
            return;
        };
        let cell = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.1}"));
        let same = per("same", N1, N2);
        let pair = per("pair", N1, N2);
        let fresh = per("fresh", N1, N2);
        let classes = per("classes", C1, C2);
        println!(
            "| {} | {one:.1} | {nest:.1} | {:.1} | {} | {} | {} | {} |",
            variants[i],
            nest / 4.0,
            cell(same),
            cell(pair),
            cell(fresh),
            cell(classes)
        );
    }
    println!();
    println!("| `LockMap` acquire + release under a held lock | instructions |");
    println!("|---|---|");
    for (v, what) in [("seen", "one map, chain seen"), ("fresh", "a new map of a keyed class")] {
        if let (Some(a), Some(b)) = (callgrind("annotated", v, N1), callgrind("annotated", v, N2)) {
            println!("| {what} | {:.1} |", (b as f64 - a as f64) / (N2 - N1) as f64);
        }
    }
    println!();
    println!("| condvar round trip between two threads (2 notifies, 2 waits) | instructions |");
    println!("|---|---|");
    for (v, what) in [
        ("ours", "`lockdep_core::std::sync` (traced: waits and notifies are events)"),
        ("std", "`std::sync`"),
        ("parking_lot", "`parking_lot`"),
    ] {
        const R1: u64 = 2_000;
        const R2: u64 = 12_000;
        if let (Some(a), Some(b)) = (callgrind("condvar", v, R1), callgrind("condvar", v, R2)) {
            println!("| {what} | {:.1} |", (b as f64 - a as f64) / (R2 - R1) as f64);
        }
    }
    #[cfg(feature = "tokio")]
    {
        println!();
        println!("| poll of a task that takes one lock and returns `Pending` | instructions |");
        println!("|---|---|");
        for (v, what) in [
            ("task", "instrumented task, our `Mutex` (traced)"),
            ("future", "plain future, our `Mutex`"),
            ("plain", "plain future, `parking_lot::Mutex`"),
        ] {
            let a = callgrind("poll", v, N1);
            let b = callgrind("poll", v, N2);
            if let (Some(a), Some(b)) = (a, b) {
                println!("| {what} | {:.1} |", (b as f64 - a as f64) / (N2 - N1) as f64);
            }
        }
    }
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
        node: None,
        wait: None,
        site: None,
        strict: false,
    }
}

/// First sight of a new edge on a private validator (trace replay, no backtraces) whose graph
/// is one random DAG: the search from the new edge's target visits most of the graph.
///
/// With `weak_cycle`, the graph also has one legal cycle away from the timed edges: two more
/// classes `w0 -(SR)-> w1 -(SR)-> w0` (read held, recursive read taken: no deadlock, not
/// reported), below the DAG's last class. Returns (random edge, edge into the bottom, edges
/// in the graph, reports).
fn first_sight_random_dag(
    samples: usize,
    weak_cycle: bool,
) -> ((f64, f64), (f64, f64), usize, usize) {
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
    if weak_cycle {
        let with = |op: Op, lock: &str, mode: TraceMode| Event { mode: Some(mode), ..ev(op, lock) };
        let last = &names[CLASSES - 1];
        for (a, b) in [("w0", "w1"), ("w1", "w0")] {
            r.apply(&ev(Op::Acquire, last));
            r.apply(&with(Op::Acquire, a, TraceMode::Read));
            r.apply(&with(Op::Acquire, b, TraceMode::RecursiveRead));
            r.apply(&ev(Op::Release, b));
            r.apply(&ev(Op::Release, a));
            r.apply(&ev(Op::Release, last));
        }
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
    let doc = r.document("bench");
    (typical, worst, doc.graph.edges.len(), doc.reports.len())
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

/// `--footprint N`: the validator's memory per class and per chain, in a process of its own
/// (the parent passes `LOCKDEP_BACKTRACE` through). N locks of N classes are built first,
/// then each is taken once alone (N new classes, N one-lock chains), then each under the
/// previous one (N - 1 new two-lock chains and edges). Prints the VmRSS growth of each step
/// per item, in bytes.
fn footprint(n: usize) {
    let locks: Vec<Ours> = (0..n).map(|i| Ours::of_class(1_000 + i)).collect();
    let r0 = rss_kib();
    locks.iter().for_each(Ours::lock_unlock);
    let r1 = rss_kib();
    for w in locks.windows(2) {
        w[0].hold(&mut || w[1].lock_unlock());
    }
    let r2 = rss_kib();
    // The seen-chain cost with these n classes in use: every lock in turn, 3 passes.
    let t = Instant::now();
    for _ in 0..3 {
        locks.iter().for_each(Ours::lock_unlock);
    }
    let ns = t.elapsed().as_nanos() as f64 / (3 * n) as f64;
    // parking_lot over as many locks, for the cache misses a plain lock pays too.
    let plain: Vec<Pl> = (0..n).map(|_| Pl::of_class(0)).collect();
    plain.iter().for_each(Pl::lock_unlock);
    let t = Instant::now();
    for _ in 0..3 {
        plain.iter().for_each(Pl::lock_unlock);
    }
    let pl_ns = t.elapsed().as_nanos() as f64 / (3 * n) as f64;
    let per = |a: u64, b: u64, k: usize| (b.saturating_sub(a) * 1024) as f64 / k as f64;
    println!(
        "footprint: {n} classes: {:.0} bytes per class (with its one-lock chain); {} two-lock \
         chains: {:.0} bytes per chain (with its edge); chains in the cache: {}; seen-chain \
         lock + unlock with every class in turn: {ns:.1} ns (parking_lot over as many locks: \
         {pl_ns:.1} ns)",
        per(r0, r1, n),
        n - 1,
        per(r1, r2, n - 1),
        lockdep_core::validator().chains()
    );
}

/// The footprint of `n` classes in a child process, with backtraces captured for new chains
/// (the default) and without; the class and chain limits raised to fit.
fn footprints(n: usize) {
    let exe = std::env::current_exe().expect("the bench binary");
    for (bt, what) in [("new", "stacks captured (default)"), ("off", "LOCKDEP_BACKTRACE=off")] {
        let out = std::process::Command::new(&exe)
            .args(["--footprint", &n.to_string()])
            .env("LOCKDEP_BACKTRACE", bt)
            .env("LOCKDEP_MAX_CLASSES", (2 * n).to_string())
            .env("LOCKDEP_MAX_CHAINS", (4 * n).to_string())
            .output()
            .expect("the footprint child");
        let text = String::from_utf8_lossy(&out.stdout);
        match text.lines().find(|l| l.starts_with("footprint:")) {
            Some(l) => println!("{what}: {l}"),
            None => {
                println!("{what}: footprint child failed: {}", String::from_utf8_lossy(&out.stderr))
            }
        }
    }
}

/// First-sight validation: the process-wide validator, then the private random DAG without
/// and with a weak cycle.
fn first_sight() {
    let (fs, build) = first_sight_clustered(201);
    println!(
        "first sight, process-wide validator, 10,000 classes / 100,000 edges in 100 \
         subsystems (built in {build:.1} s): median {:.1} us",
        fs / 1000.0
    );
    let ((fr, reach), (wr, wreach), edges, _) = first_sight_random_dag(101, false);
    println!(
        "first sight, private validator (replay, no backtraces), one random DAG of \
         10,000 classes / {edges} edges: random new edge (median {reach:.0} classes \
         reachable from its target): median {:.1} us; worst case, new edge into the \
         bottom of the DAG (median {wreach:.0} classes reachable): median {:.1} us",
        fr / 1000.0,
        wr / 1000.0
    );
    let ((fr, _), (wr, _), edges, reports) = first_sight_random_dag(101, true);
    println!(
        "first sight, the same DAG with one weak cycle (w0 -(SR)-> w1 -(SR)-> w0 below \
         its last class; {edges} edges, {reports} reports): random new edge: median \
         {:.1} us; worst case, new edge into the bottom of the DAG: median {:.1} us",
        fr / 1000.0,
        wr / 1000.0
    );
}

/// `--instances N`: N mutexes of one class (built at one site), each new pair nested from the
/// last pair down (`N-2 -> N-1`, then `N-3 -> N-2`, ...), after a weak cycle between two
/// reader-writer locks of another class (each read-locked under the other: recursive
/// readers, no deadlock). Each pair is a new edge of the instance graph, checked against its
/// order. Run it alone (the instance nodes make every lock's drop tell the validator).
fn instance_nesting(n: usize) {
    lockdep_core::set_on_report(lockdep_core::OnReport::Warn);
    let rw: Vec<lockdep_core::RwLock<()>> = (0..2).map(|_| lockdep_core::RwLock::new(())).collect();
    for (a, b) in [(0, 1), (1, 0)] {
        let _a = rw[a].read();
        let _b = rw[b].read();
    }
    let locks: Vec<lockdep_core::Mutex<()>> =
        (0..n).map(|_| lockdep_core::Mutex::new(())).collect();
    let t = Instant::now();
    for i in (0..n - 1).rev() {
        let _a = locks[i].lock();
        let _b = locks[i + 1].lock();
    }
    let took = t.elapsed();
    println!(
        "instances: {n} locks of one class, nested pairwise from the last pair down after a weak \
         cycle between two other locks: {:.3} s, {:.2} us per new instance edge; {} reports",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / (n - 1) as f64,
        lockdep_core::reports().len()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--instances") {
        let n = args.get(i + 1).and_then(|v| v.parse().ok()).expect("--instances N");
        return instance_nesting(n);
    }
    if let Some(i) = args.iter().position(|a| a == "--footprint") {
        let n = args.get(i + 1).and_then(|v| v.parse().ok()).expect("--footprint N");
        return footprint(n);
    }
    if let Some(i) = args.iter().position(|a| a == "--count") {
        let n = args.get(i + 3).and_then(|v| v.parse().ok()).expect("--count CASE VARIANT N");
        count_mode(&args[i + 1], &args[i + 2], n);
        return;
    }
    if args.iter().any(|a| a == "--instructions-only") {
        instructions();
        return;
    }
    if args.iter().any(|a| a == "--first-sight-only") {
        let before = Machine::now();
        before.print("before", None);
        first_sight();
        println!();
        Machine::now().print("after", Some(&before));
        return;
    }
    let only = |name: &str| !args.iter().any(|a| *a == format!("--skip-{name}"));
    let rounds = env_or("LOCKDEP_BENCH_ROUNDS", 9) as usize;
    let before = Machine::now();
    println!(
        "lockdep-core hot-path bench: {} rounds, ~{} ms per measurement, on_report={:?}",
        rounds,
        target().as_millis(),
        lockdep_core::on_report()
    );
    before.print("before", None);
    let heap = args.iter().any(|a| a == "--heap");
    let mut ours = Runner::<Ours>::new(heap);
    let mut std_ = Runner::<Std>::new(heap);
    let mut pl = Runner::<Pl>::new(heap);
    let mut tm = Runner::<Tm>::new(heap);
    if args.iter().any(|a| a == "--layout") {
        print_layout(&ours.set, &pl.set);
    }
    // The variants take turns going first: the first one of a round runs right after the
    // previous round's two-thread case (threads spawned and joined, caches cold), and always
    // being that one would count the cost of those against it alone.
    for r in 0..rounds {
        for k in 0..4 {
            match (r + k) % 4 {
                0 => ours.round(),
                1 => std_.round(),
                2 => pl.round(),
                _ => tm.round(),
            }
        }
    }
    let rows = [ours.result(), std_.result(), pl.result(), tm.result()];
    println!();
    println!("ns, min / **median** / max of {rounds} rounds");
    println!();
    println!(
        "| variant | 1 lock (ns) | 4-nest (ns) | 2 threads, per nest per thread (ns) | scaling |"
    );
    println!("|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {:.2} / **{:.2}** / {:.2} |",
            r.name, r.one, r.nest, r.two, r.scaling.min, r.scaling.med, r.scaling.max
        );
    }
    let (o, s, p, t) = (&rows[0], &rows[1], &rows[2], &rows[3]);
    println!();
    println!("ratios of the medians (of the minima in brackets)");
    println!();
    println!("| ratio | 1 lock | 4-nest | 2 threads | scaling |");
    println!("|---|---|---|---|---|");
    let r = |a: Stat, b: Stat| format!("{:.2} ({:.2})", a.med / b.med, a.min / b.min);
    println!(
        "| {0}/std | {1} | {2} | {3} | {4:.0}% of std's |",
        o.name,
        r(o.one, s.one),
        r(o.nest, s.nest),
        r(o.two, s.two),
        100.0 * o.scaling.med / s.scaling.med
    );
    println!(
        "| {0}/parking_lot | {1} | {2} | {3} | {4:.0}% of parking_lot's |",
        o.name,
        r(o.one, p.one),
        r(o.nest, p.nest),
        r(o.two, p.two),
        100.0 * o.scaling.med / p.scaling.med
    );
    println!(
        "| tracing-mutex/{0} | {1} | {2} | {3} | |",
        o.name,
        r(t.one, o.one),
        r(t.nest, o.nest),
        r(t.two, o.two)
    );
    if args.iter().any(|a| a == "--instructions") {
        instructions();
    }
    if only("scaling") {
        scaling_groups(rounds.clamp(1, 5));
    }
    if cfg!(not(feature = "off")) {
        println!();
        if only("first-sight") {
            first_sight();
        }
        if only("memory") {
            let (b, a, c0, c1, secs) = memory(100_000_000);
            println!(
                "memory: 10^8 acquisitions in {secs:.1} s: VmRSS {b} KiB -> {a} KiB \
                 ({:+} KiB), chains {c0} -> {c1}",
                a as i64 - b as i64
            );
            footprints(100_000);
            footprints(1_000_000);
        }
    }
    println!();
    Machine::now().print("after", Some(&before));
}
